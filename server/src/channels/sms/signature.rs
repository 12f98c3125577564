//! `X-Twilio-Signature` (https://www.twilio.com/docs/usage/security): base64 of HMAC-SHA1,
//! keyed with the account's Auth Token, over the full URL Twilio called (with its query)
//! followed by every POST parameter, sorted by name, as name then value (a repeated name
//! contributes each of its values, sorted). Checked in constant time. Twilio signs the URL
//! as it called it, which behind a proxy is our public URL, not the one we listen on; it may
//! add or drop the scheme's default port, so both spellings are tried.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use std::collections::BTreeMap;

pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The string Twilio signs.
fn signed_text(url: &str, params: &[(String, String)]) -> String {
    let mut grouped: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, value) in params {
        grouped.entry(name).or_default().push(value);
    }
    let mut text = url.to_string();
    for (name, mut values) in grouped {
        values.sort_unstable();
        values.dedup();
        for value in values {
            text.push_str(name);
            text.push_str(value);
        }
    }
    text
}

/// The signature of a request to `url` with form `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<String> {
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(signed_text(url, params).as_bytes());
    Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

/// `https://host/path` ⇄ `https://host:443/path` (and 80 for http). A port that is not the
/// scheme's default is part of the address and has no other spelling.
fn with_port_toggled(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    // `Url` elides a default port, so `port()` is only set for another one.
    if parsed.port().is_some() {
        return None;
    }
    let host = parsed.host_str()?;
    let written = format!("{host}:{}", parsed.port_or_known_default()?);
    Some(if url.contains(&written) {
        url.replacen(&written, host, 1)
    } else {
        url.replacen(host, &written, 1)
    })
}

/// Whether `presented` is Twilio's signature of this request, in constant time.
pub fn verify(auth_token: &str, url: &str, params: &[(String, String)], presented: &str) -> bool {
    let Ok(presented) = base64::engine::general_purpose::STANDARD.decode(presented.trim()) else {
        return false;
    };
    if auth_token.is_empty() {
        return false;
    }
    std::iter::once(url.to_string())
        .chain(with_port_toggled(url))
        .any(|candidate| {
            let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
                return false;
            };
            mac.update(signed_text(&candidate, params).as_bytes());
            mac.verify_slice(&presented).is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    /// twilio-python `tests/unit/test_request_validator.py`, `test_compute_signature`.
    #[test]
    fn the_published_vector() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(
            signature("12345", URL, &params).as_deref(),
            Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=")
        );
        assert!(verify("12345", URL, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(
            !verify("12346", URL, &params, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            "another token"
        );
        let mut altered = params.clone();
        altered[1].1 = "9999".into();
        assert!(
            !verify("12345", URL, &altered, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
            "an altered parameter"
        );
        assert!(
            !verify(
                "12345",
                "https://mycompany.com/myapp.php",
                &params,
                "RSOYDt4T1cUTdK1PDd93/VVr8B8="
            ),
            "the query is signed"
        );
        assert!(!verify("12345", URL, &params, "not base64!"));
    }

    /// twilio-python `test_compute_signature_duplicate_multi_dict`.
    #[test]
    fn repeated_parameters_each_count() {
        let params = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(
            signature("12345", URL, &params).as_deref(),
            Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
        );
    }

    #[test]
    fn the_default_port_may_be_written_or_not() {
        let params = pairs(&[("Body", "hi")]);
        let with_port = signature("t", "https://mycompany.com:443/hook?x=1", &params).expect("signed");
        assert!(verify("t", "https://mycompany.com/hook?x=1", &params, &with_port));
        let without = signature("t", "https://mycompany.com/hook", &params).expect("signed");
        assert!(verify("t", "https://mycompany.com:443/hook", &params, &without));
        assert!(
            !verify("t", "https://mycompany.com:8443/hook", &params, &without),
            "another port is another URL"
        );
    }
}
