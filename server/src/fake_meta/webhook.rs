//! Delivering signed webhook notifications to the app, as Meta does: a JSON
//! `POST` with the `X-Hub-Signature-256` header computed over the exact
//! bytes sent.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::payloads::{SIGNATURE_HEADER, encode_body, sign};

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
