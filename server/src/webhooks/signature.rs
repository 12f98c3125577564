//! Meta signs every webhook delivery: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
//! the raw body, keyed with the app secret>`. The check is constant-time.

use crate::channels::Rejection;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const HUB_SIGNATURE_HEADER: &str = "x-hub-signature-256";

pub fn verify_hub_signature(app_secret: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
    if app_secret.is_empty() {
        // Without a secret nothing can be verified, so nothing is accepted.
        return Err(Rejection::BadSignature);
    }
    let header = headers
        .get(HUB_SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Rejection::BadSignature)?;
    let hex_sig = header.trim().strip_prefix("sha256=").ok_or(Rejection::BadSignature)?;
    let expected = hex::decode(hex_sig).map_err(|_| Rejection::BadSignature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).map_err(|_| Rejection::BadSignature)?;
    mac.update(body);
    mac.verify_slice(&expected).map_err(|_| Rejection::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, body: &[u8]) -> HeaderMap {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(body);
        let mut headers = HeaderMap::new();
        let value = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        headers.insert(HUB_SIGNATURE_HEADER, value.parse().expect("header"));
        headers
    }

    #[test]
    fn accepts_only_the_right_signature() {
        let body = br#"{"object":"page"}"#;
        assert_eq!(verify_hub_signature("s3cret", &signed("s3cret", body), body), Ok(()));
        assert_eq!(
            verify_hub_signature("s3cret", &signed("other", body), body),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify_hub_signature("s3cret", &signed("s3cret", body), b"{}"),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify_hub_signature("s3cret", &HeaderMap::new(), body),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify_hub_signature("", &signed("", body), body),
            Err(Rejection::BadSignature)
        );
    }
}
