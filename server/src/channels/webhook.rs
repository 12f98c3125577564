//! What a channel that receives webhooks implements. The route (`crate::webhooks`) hands the
//! receiver the whole request — method, the public URL the platform called with its query,
//! headers and the raw body — because platforms sign different things: Meta the body, Twilio
//! the URL and the form parameters, Telegram a per-bot secret header. When the route carries a
//! per-channel key (`/api/webhooks/{kind}/{key}`), the receiver also gets that channel's record
//! and its opened credentials, which hold the secret to check against. Nothing is parsed
//! before `verify` accepted the delivery.

use super::Rejection;
use app::inbound::NormalizedEvent;
use app::store::ChannelRecord;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method};

/// A webhook delivery as it reached us.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    pub method: Method,
    /// The URL the platform called: `MESSIO_PUBLIC_URL` + path + query, as a platform that
    /// signs URLs computed it (behind a proxy our own host and port differ from it).
    pub url: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl WebhookRequest {
    /// The query string's parameters, decoded, in the order they came.
    pub fn query(&self) -> Vec<(String, String)> {
        let query = self.url.split_once('?').map(|(_, q)| q).unwrap_or_default();
        url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }
}

/// The channel a per-channel route names, with its credentials opened.
#[derive(Debug, Clone, Copy)]
pub struct RoutedChannel<'a> {
    pub record: &'a ChannelRecord,
    pub credentials: &'a str,
}

/// How a platform's subscription check (a `GET` to the webhook URL) was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// The platform does no such check: `GET` is not allowed on the route.
    NotOffered,
    /// Answer 200 with this body (Meta's `hub.challenge`).
    Accepted(String),
    /// The check failed: 403.
    Refused,
}

pub trait WebhookReceiver: Send + Sync {
    /// Whether the platform calls one app-level URL for every account (Meta's
    /// `/api/webhooks/{kind}`). Platforms that call each channel's own route answer `false`,
    /// and their app-level route does not exist.
    fn app_level(&self) -> bool {
        false
    }

    /// Answers a subscription check; most platforms do none.
    fn handshake(&self, _request: &WebhookRequest) -> Handshake {
        Handshake::NotOffered
    }

    /// Checks, in constant time, that the delivery comes from the platform.
    fn verify(&self, request: &WebhookRequest, channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection>;

    /// What the delivery says, for the pipeline. Runs only after `verify` accepted it.
    fn normalize(
        &self,
        request: &WebhookRequest,
        channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<NormalizedEvent>, Rejection>;

    /// The body of the 200 that acknowledges a stored delivery, and its content type.
    fn acknowledgement(&self) -> (&'static str, &'static str) {
        ("text/plain; charset=utf-8", "EVENT_RECEIVED")
    }
}
