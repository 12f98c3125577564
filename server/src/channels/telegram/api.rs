//! The Bot API client: every call to `{TELEGRAM_API_URL}/bot<token>/<method>` goes through
//! here. The token is part of each URL (that is how the Bot API names the bot), so no URL
//! leaves this file: transport errors are reported without it, and nothing here logs one.
//! Answers are Telegram's envelope, `{"ok":true,"result":…}` or
//! `{"ok":false,"error_code","description","parameters"}`; [`refusal`] turns a refusal into
//! the terms the inbox acts on, from one table.

use crate::channels::SendError;
use reqwest::multipart::Form;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;

/// The Bot API's published limit for `getFile` downloads.
pub const MAX_DOWNLOAD_BYTES: u64 = 20 * 1024 * 1024;

#[derive(Clone)]
pub struct BotApi {
    base: String,
    http: reqwest::Client,
}

/// Telegram's answer to every method.
#[derive(Debug, Deserialize)]
struct Envelope {
    ok: bool,
    #[serde(default)]
    result: Value,
    error_code: Option<u16>,
    #[serde(default)]
    description: String,
    parameters: Option<ResponseParameters>,
}

#[derive(Debug, Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

/// A refusal as the Bot API worded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub description: String,
    pub retry_after: Option<u64>,
}

/// `getMe`: the bot itself.
#[derive(Debug, Clone, Deserialize)]
pub struct Bot {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub username: Option<String>,
}

/// `getWebhookInfo`.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookInfo {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub pending_update_count: u64,
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
}

/// `getFile`: where a file can be downloaded for the next hour.
#[derive(Debug, Clone, Deserialize)]
pub struct File {
    pub file_path: Option<String>,
}

/// A message the bot sent, as the send methods answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Sent {
    pub message_id: i64,
    pub chat: SentChat,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SentChat {
    pub id: i64,
}

impl BotApi {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
        }
    }

    fn method_url(&self, token: &str, method: &str) -> String {
        format!("{}/bot{token}/{method}", self.base)
    }

    /// Calls `method` with JSON parameters.
    pub async fn call<T: DeserializeOwned>(&self, token: &str, method: &str, params: &Value) -> Result<T, SendError> {
        let response = self.http.post(self.method_url(token, method)).json(params).send().await;
        answer(method, response).await
    }

    /// Calls a send method with a file in a multipart form ("Sending files": up to 50 MB).
    pub async fn upload<T: DeserializeOwned>(&self, token: &str, method: &str, form: Form) -> Result<T, SendError> {
        let response = self
            .http
            .post(self.method_url(token, method))
            .multipart(form)
            .timeout(Duration::from_secs(300))
            .send()
            .await;
        answer(method, response).await
    }

    /// Downloads a file `getFile` pointed at: `{base}/file/bot<token>/<file_path>`.
    pub async fn download(&self, token: &str, file_path: &str) -> Result<(Vec<u8>, Option<String>), SendError> {
        let url = format!("{}/file/bot{token}/{file_path}", self.base);
        let response = self.http.get(url).send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(if status.is_server_error() {
                SendError::Unavailable(format!("Telegram answered {status} to a file download"))
            } else {
                SendError::Rejected(format!("Telegram refused the file download ({status})"))
            });
        }
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((bytes.to_vec(), mime))
    }
}

/// Reads the envelope. A body that is not Telegram's envelope (a proxy's error page) is the
/// platform being unavailable.
async fn answer<T: DeserializeOwned>(
    method: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, SendError> {
    let response = response.map_err(transport)?;
    let status = response.status();
    let envelope: Envelope = match response.json().await {
        Ok(envelope) => envelope,
        Err(_) => {
            return Err(SendError::Unavailable(format!(
                "Telegram answered {status} to {method} with something other than the Bot API's JSON"
            )));
        }
    };
    if envelope.ok {
        return serde_json::from_value(envelope.result).map_err(|error| {
            SendError::Unavailable(format!("Telegram's answer to {method} was not understood: {error}"))
        });
    }
    Err(refusal(Refusal {
        code: envelope.error_code.unwrap_or(status.as_u16()),
        description: envelope.description,
        retry_after: envelope.parameters.and_then(|p| p.retry_after),
    }))
}

/// A transport failure, without the URL (it holds the token).
fn transport(error: reqwest::Error) -> SendError {
    SendError::Unavailable(format!("Telegram could not be reached: {}", error.without_url()))
}

/// What a refusal means for the inbox. `error_code` comes first; the description decides
/// within a code, because the Bot API documents codes as "subject to change" and words
/// the reason in `description`.
pub fn refusal(refusal: Refusal) -> SendError {
    let Refusal {
        code,
        description,
        retry_after,
    } = refusal;
    let said = description.trim();
    match code {
        401 | 404 => SendError::Auth(format!(
            "Telegram no longer accepts this bot token ({said}). Revoked in @BotFather? Connect the bot again with its current token."
        )),
        403 => SendError::Unreachable(unreachable_reason(said)),
        429 => SendError::RateLimited {
            retry_after: Duration::from_secs(retry_after.unwrap_or(1).max(1)),
            reason: format!("Telegram asked to slow down: {said}"),
        },
        code if code >= 500 => SendError::Unavailable(format!("Telegram is unavailable ({code}): {said}")),
        _ => SendError::Rejected(format!("Telegram refused it: {}", plain_description(said))),
    }
}

/// "Forbidden: bot was blocked by the user" → the line the inbox shows.
fn unreachable_reason(description: &str) -> String {
    let reason = description.strip_prefix("Forbidden: ").unwrap_or(description);
    match reason {
        "bot was blocked by the user" => {
            "The customer blocked this bot on Telegram: nothing reaches them until they unblock it.".into()
        }
        "user is deactivated" => "This Telegram account was deleted: messages cannot reach it.".into(),
        "bot can't initiate conversation with a user" => {
            "The customer has not started this bot on Telegram, so it cannot write to them first.".into()
        }
        other => format!("Telegram will not deliver to this customer: {other}."),
    }
}

/// "Bad Request: message is too long" → "message is too long".
fn plain_description(description: &str) -> &str {
    description.strip_prefix("Bad Request: ").unwrap_or(description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, description: &str, retry_after: Option<u64>) -> SendError {
        refusal(Refusal {
            code,
            description: description.into(),
            retry_after,
        })
    }

    #[test]
    fn refusals_map_to_what_the_inbox_does() {
        assert!(matches!(refused(401, "Unauthorized", None), SendError::Auth(_)));
        assert!(matches!(refused(404, "Not Found", None), SendError::Auth(_)));
        match refused(403, "Forbidden: bot was blocked by the user", None) {
            SendError::Unreachable(reason) => assert!(reason.contains("blocked this bot"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            refused(403, "Forbidden: user is deactivated", None),
            SendError::Unreachable(r) if r.contains("deleted")
        ));
        assert!(matches!(
            refused(403, "Forbidden: bot can't initiate conversation with a user", None),
            SendError::Unreachable(r) if r.contains("not started")
        ));
        match refused(429, "Too Many Requests: retry after 5", Some(5)) {
            SendError::RateLimited { retry_after, .. } => assert_eq!(retry_after, Duration::from_secs(5)),
            other => panic!("{other:?}"),
        }
        match refused(400, "Bad Request: message is too long", None) {
            SendError::Rejected(reason) => assert_eq!(reason, "Telegram refused it: message is too long"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(refused(502, "Bad Gateway", None), SendError::Unavailable(_)));
        assert!(matches!(
            refused(409, "Conflict: terminated by other getUpdates request", None),
            SendError::Rejected(_)
        ));
    }

    #[test]
    fn a_rate_limit_without_a_wait_still_waits() {
        match refused(429, "Too Many Requests", None) {
            SendError::RateLimited { retry_after, .. } => assert_eq!(retry_after, Duration::from_secs(1)),
            other => panic!("{other:?}"),
        }
    }
}
