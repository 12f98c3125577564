//! Twilio's webhook signature (`X-Twilio-Signature`), per "Webhooks
//! security" (twilio.com/docs/usage/webhooks/webhooks-security) and the
//! official helper libraries (twilio-python `RequestValidator.compute_signature`):
//!
//! 1. start from the full URL Twilio requested, query string included;
//! 2. sort the POST parameters by name and append each name immediately
//!    followed by its value (no separators); a repeated name contributes
//!    every value, values in sorted order;
//! 3. HMAC-SHA1 that string with the account's Auth Token as key and
//!    base64-encode the digest.
//!
//! GET webhooks carry their parameters in the URL and sign it with no POST
//! parameters.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The header Twilio puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The header Twilio repeats unchanged on retries of one webhook, so a
/// receiver can drop duplicates.
pub const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// `X-Twilio-Signature` for a request to `url` with form parameters `params`.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // Byte order of UTF-8 equals code-point order, which is what the SDKs sort by.
    sorted.sort();
    let mut data = String::with_capacity(url.len() + params.len() * 24);
    data.push_str(url);
    for (key, value) in sorted {
        data.push_str(key);
        data.push_str(value);
    }
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) else {
        return String::new();
    };
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `application/x-www-form-urlencoded` body for `params`, in their order.
pub fn encode_form(params: &[(String, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in params {
        serializer.append_pair(key, value);
    }
    serializer.finish()
}

/// Parses a form body (or query string) into ordered pairs, keeping repeats.
pub(crate) fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    /// twilio-python tests/unit/test_request_validator.py (`test_compute_signature`).
    #[test]
    fn matches_twilio_python_vector() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(signature("12345", URL, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    /// The same example with the numbers of the security page's current
    /// sample (`+12349013030`), as quoted alongside its expected value.
    #[test]
    fn matches_security_page_vector() {
        let params = pairs(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        assert_eq!(signature("12345", URL, &params), "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
    }

    /// twilio-python `test_compute_signature_duplicate_multi_dict`: a
    /// repeated name contributes each value, sorted.
    #[test]
    fn repeated_parameters_are_each_included() {
        let params = pairs(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        assert_eq!(signature("12345", URL, &params), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn form_round_trip_keeps_order_and_repeats() {
        let params = pairs(&[("To", "+1 555"), ("MediaUrl", "a&b"), ("MediaUrl", "c")]);
        let body = encode_form(&params);
        assert_eq!(body, "To=%2B1+555&MediaUrl=a%26b&MediaUrl=c");
        assert_eq!(parse_form(body.as_bytes()), params);
    }
}
