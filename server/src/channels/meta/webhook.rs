//! Meta's app-level webhooks. Every delivery is signed: `X-Hub-Signature-256: sha256=<hex
//! HMAC-SHA256 of the raw body, keyed with the app secret>`, checked in constant time. Meta
//! subscribes a URL by calling it with `GET ?hub.mode=subscribe&hub.verify_token=…&
//! hub.challenge=…` and expects the challenge back when the token is ours.

use crate::channels::Rejection;
use crate::channels::webhook::{Handshake, RoutedChannel, WebhookReceiver, WebhookRequest};
use crate::config::MetaConfig;
use app::inbound::NormalizedEvent;
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

/// What a Meta platform's adapter tells the app-level webhook: the app it belongs to, and how
/// to read a delivery's body. The rest (handshake, signature) is the same for all three.
pub trait MetaWebhook: Send + Sync {
    fn meta_config(&self) -> &MetaConfig;
    fn normalize_body(&self, body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection>;
}

impl<T: MetaWebhook> WebhookReceiver for T {
    fn app_level(&self) -> bool {
        true
    }

    fn handshake(&self, request: &WebhookRequest) -> Handshake {
        handshake(&self.meta_config().verify_token, request)
    }

    /// Meta signs with the app secret; a per-channel route changes nothing about that.
    fn verify(&self, request: &WebhookRequest, _channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        verify_hub_signature(&self.meta_config().app_secret, &request.headers, &request.body)
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        _channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<NormalizedEvent>, Rejection> {
        self.normalize_body(&request.body)
    }
}

/// Meta's subscription handshake: echo `hub.challenge` when the verify token matches.
pub fn handshake(verify_token: &str, request: &WebhookRequest) -> Handshake {
    let query = request.query();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let token_ok = !verify_token.is_empty()
        && param("hub.verify_token")
            .is_some_and(|t| subtle::ConstantTimeEq::ct_eq(t.as_bytes(), verify_token.as_bytes()).into());
    match (param("hub.mode"), token_ok, param("hub.challenge")) {
        (Some("subscribe"), true, Some(challenge)) => Handshake::Accepted(challenge.to_string()),
        _ => Handshake::Refused,
    }
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
