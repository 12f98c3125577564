//! Delivering signed webhook notifications to the app, as Meta does: a JSON
//! `POST` with the `X-Hub-Signature-256` header computed over the exact
//! bytes sent.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::payloads::{SIGNATURE_HEADER, encode_body, sign};
use super::state::Shared;

/// What happened when a webhook was POSTed to the app.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// The app's HTTP status; `None` when no response came back.
    pub status: Option<u16>,
    /// The app's response body (or an empty string).
    pub body: String,
    /// Why there was no response (no webhook URL, connection refused, ...).
    pub error: Option<String>,
}

impl Delivery {
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            status: None,
            body: String::new(),
            error: Some(error.into()),
        }
    }

    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// POSTs `payload` to `url`, signed with `app_secret`.
pub(crate) async fn deliver(http: &reqwest::Client, url: &str, app_secret: &str, payload: &Value) -> Delivery {
    let body = encode_body(payload);
    let signature = sign(app_secret, &body);
    let result = http
        .post(url)
        .timeout(Duration::from_secs(20))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await;
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            tracing::debug!(url, status, "fake-meta webhook delivered");
            Delivery {
                status: Some(status),
                body,
                error: None,
            }
        }
        Err(error) => {
            tracing::warn!(url, %error, "fake-meta webhook delivery failed");
            Delivery::failed(error.to_string())
        }
    }
}

/// POSTs a WhatsApp webhook for WABA `waba_id`: to the WABA's
/// `override_callback_uri` if the app subscribed with one, else to the
/// WhatsApp webhook URL.
pub(crate) async fn deliver_whatsapp(shared: &Shared, waba_id: &str, payload: &Value) -> Delivery {
    let (url, secret) = {
        let world = shared.lock();
        let url = world
            .wa
            .subscriptions
            .get(waba_id)
            .and_then(|s| s.override_callback_uri.clone())
            .or_else(|| world.whatsapp_url());
        (url, world.app_secret.clone())
    };
    match url {
        Some(url) => deliver(&shared.http, &url, &secret, payload).await,
        None => Delivery::failed(
            "no WhatsApp webhook URL configured (FAKE_META_WHATSAPP_WEBHOOK_URL / FAKE_META_WEBHOOK_URL / POST /_fake/whatsapp/webhook-url)",
        ),
    }
}

/// POSTs an Instagram webhook to the Instagram webhook URL.
pub(crate) async fn deliver_instagram(shared: &Shared, payload: &Value) -> Delivery {
    let (url, secret) = {
        let world = shared.lock();
        (world.instagram_url(), world.app_secret.clone())
    };
    match url {
        Some(url) => deliver(&shared.http, &url, &secret, payload).await,
        None => Delivery::failed(
            "no Instagram webhook URL configured (FAKE_META_INSTAGRAM_WEBHOOK_URL / FAKE_META_WEBHOOK_URL / POST /_fake/instagram/webhook-url)",
        ),
    }
}

/// Delivers a WhatsApp webhook a little later, in the background, so the
/// app normally sees its HTTP response first (as with Meta's status
/// webhooks).
pub(crate) fn deliver_whatsapp_later(shared: &Arc<Shared>, waba_id: &str, payload: Value) {
    let shared = Arc::clone(shared);
    let waba_id = waba_id.to_owned();
    tokio::spawn(async move {
        tokio::time::sleep(FOLLOW_UP_DELAY).await;
        deliver_whatsapp(&shared, &waba_id, &payload).await;
    });
}

/// How long after answering an API call its follow-up webhook goes out.
pub(crate) const FOLLOW_UP_DELAY: Duration = Duration::from_millis(30);
