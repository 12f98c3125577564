//! The one Graph API client Messenger, Instagram and WhatsApp call Meta with. An access
//! token travels only in the `Authorization: Bearer` header, never in a URL: URLs end up in
//! logs, proxies and error texts. That holds for the paging `next` links Meta hands back
//! too (it repeats the token in them; we strip it, and never follow one to another host),
//! and a transport error is reported without its URL.
//!
//! What each product asks of the Graph API lives with the product (`meta/pages.rs` for what
//! Messenger and Instagram share, `whatsapp/cloud.rs`); errors are classified once, in
//! `errors.rs`, and worded the way the product the client serves has always worded them.

use super::errors::{self, Wording};
use crate::channels::SendError;
use crate::config::MetaConfig;
use reqwest::RequestBuilder;
use serde_json::Value;
use std::time::Duration;

/// Graph calls are small; a slow answer is better reported than waited for.
const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
    config: MetaConfig,
    wording: Wording,
}

impl Graph {
    pub fn new(config: MetaConfig, wording: Wording) -> Self {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A redirect would carry the Authorization header to wherever it points.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, config, wording }
    }

    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    /// For requests that are not Graph calls (the OAuth code exchange, CDN downloads).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.config.graph_url, path.trim_start_matches('/'))
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http.get(self.url(path))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.http.post(self.url(path))
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.http.delete(self.url(path))
    }

    /// Sends a Graph call as the holder of `token` and reads Meta's answer.
    pub async fn call(&self, request: RequestBuilder, token: &str) -> Result<Value, SendError> {
        self.send(request.bearer_auth(token)).await
    }

    /// Sends a call that authenticates otherwise (the app's id and secret in a form body).
    pub async fn call_as_app(&self, request: RequestBuilder) -> Result<Value, SendError> {
        self.send(request).await
    }

    async fn send(&self, request: RequestBuilder) -> Result<Value, SendError> {
        let response = request.send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        self.answer(status, body)
    }

    /// Meta's answer: its body, or the error it describes.
    pub fn answer(&self, status: u16, body: Value) -> Result<Value, SendError> {
        if let Some(error) = body.get("error") {
            return Err(self.error(error, Some(status)));
        }
        let status_text = reqwest::StatusCode::from_u16(status)
            .map(|s| s.to_string())
            .unwrap_or_else(|_| status.to_string());
        match status {
            500.. => Err(SendError::Unavailable(format!("Meta answered {status_text}"))),
            401 => Err(SendError::Auth(format!("Meta answered {status_text}"))),
            200..=299 => Ok(body),
            _ => Err(SendError::Rejected(format!("Meta answered {status_text}"))),
        }
    }

    /// Classifies one Meta error object in this client's wording; `http_status` is `None`
    /// for errors that came in a webhook.
    pub fn error(&self, error: &Value, http_status: Option<u16>) -> SendError {
        errors::classify(error, self.wording, http_status)
    }

    /// Reads one Graph node with the given fields.
    pub async fn node(&self, id: &str, fields: &str, token: &str) -> Result<Value, SendError> {
        self.call(self.get(id).query(&[("fields", fields)]), token).await
    }

    /// Every item of a Graph list (`data`), following `paging.next` up to `max_pages` pages.
    pub async fn collect(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, SendError> {
        let mut items = Vec::new();
        let mut next: Option<url::Url> = None;
        for _ in 0..max_pages {
            let request = match next.take() {
                Some(url) => self.http.get(url),
                None => self.get(path).query(query),
            };
            let body = self.call(request, token).await?;
            if let Some(data) = body.get("data").and_then(Value::as_array) {
                items.extend(data.iter().cloned());
            }
            match self.next_page(&body, path, query) {
                Some(url) => next = Some(url),
                None => return Ok(items),
            }
        }
        tracing::warn!(
            path,
            max_pages,
            "stopped following Meta's paging; the list may be incomplete"
        );
        Ok(items)
    }

    /// The next page of a list: Meta includes `paging.next` only when there is one.
    fn next_page(&self, body: &Value, path: &str, query: &[(&str, &str)]) -> Option<url::Url> {
        let next = body.pointer("/paging/next").and_then(Value::as_str)?;
        let base = url::Url::parse(&self.config.graph_url).ok()?;
        if let Some(mut url) = url::Url::parse(next).ok().filter(|u| u.origin() == base.origin()) {
            // Meta repeats the token in `next`; ours travels in the header only.
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "access_token")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            return Some(url);
        }
        // A `next` on another host would take the bearer token with it: continue from the
        // cursor on our own Graph host instead.
        let after = body.pointer("/paging/cursors/after").and_then(Value::as_str)?;
        let mut url = url::Url::parse(&self.url(path)).ok()?;
        url.query_pairs_mut().extend_pairs(query).append_pair("after", after);
        Some(url)
    }
}

/// A transport failure. Its message leaves the URL out, in case one ever carries a secret.
pub fn unreachable(error: reqwest::Error) -> SendError {
    SendError::Unavailable(format!("Meta could not be reached: {}", error.without_url()))
}

/// `{"success": false}` is Meta declining without an error object.
pub fn success(body: &Value, action: &str) -> Result<(), SendError> {
    match body.get("success").and_then(Value::as_bool) {
        Some(false) => Err(SendError::Rejected(format!("Meta did not {action}"))),
        _ => Ok(()),
    }
}

// ---- Reading Graph's JSON, which is loose about types ----

/// Ids arrive as strings, some (template ids) as numbers.
pub fn str_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Timestamps, sizes and codes arrive as numbers or as strings of digits.
pub fn int_of(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The trimmed, non-empty string at `pointer`.
pub fn text_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Every request the fake got so far carried its token in a header, none in its URL.
#[cfg(test)]
pub(crate) fn assert_no_token_in_urls(fake: &fake_meta::FakeMeta) {
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for request in requests {
        let query = request.split_once('?').map_or("", |(_, query)| query);
        let mut keys = url::form_urlencoded::parse(query.as_bytes()).map(|(key, _)| key);
        assert!(
            !keys.any(|key| key == "access_token" || key == "fb_exchange_token"),
            "{request}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn graph(wording: Wording) -> Graph {
        Graph::new(
            MetaConfig {
                app_id: "1".into(),
                app_secret: "secret".into(),
                verify_token: "verify".into(),
                graph_url: "https://graph.facebook.com/v21.0".into(),
                dialog_url: String::new(),
            },
            wording,
        )
    }

    #[test]
    fn answers_become_results() {
        let graph = graph(Wording::WhatsApp);
        let ok = json!({ "messaging_product": "whatsapp", "messages": [{ "id": "wamid.X" }] });
        assert_eq!(graph.answer(200, ok.clone()), Ok(ok));
        // A body that was not JSON reads as null.
        assert_eq!(graph.answer(204, Value::Null), Ok(Value::Null));
        assert_eq!(
            graph.answer(500, Value::Null),
            Err(SendError::Unavailable("Meta answered 500 Internal Server Error".into()))
        );
        assert_eq!(
            graph.answer(401, Value::Null),
            Err(SendError::Auth("Meta answered 401 Unauthorized".into()))
        );
        assert_eq!(
            graph.answer(404, Value::Null),
            Err(SendError::Rejected("Meta answered 404 Not Found".into()))
        );
        // Meta's answers to a Cloud API send: re-engagement, throughput, undeliverable.
        let error = |code: i64, message: &str, details: &str| {
            json!({ "error": { "message": format!("(#{code}) {message}"), "type": "OAuthException", "code": code,
                "error_data": { "messaging_product": "whatsapp", "details": details }, "fbtrace_id": "A1b2" } })
        };
        assert_eq!(
            graph.answer(400, error(131047, "Re-engagement message", "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")),
            Err(SendError::OutsideWindow(errors::WHATSAPP_OUTSIDE_WINDOW.into()))
        );
        assert!(matches!(
            graph.answer(
                400,
                error(
                    130429,
                    "Rate limit hit",
                    "Cloud API message throughput has been reached."
                )
            ),
            Err(SendError::Unavailable(_))
        ));
        assert_eq!(
            graph.answer(400, error(131026, "Message Undeliverable", "Message Undeliverable.")),
            Err(SendError::Rejected(
                "Message Undeliverable (131026): Message Undeliverable.".into()
            ))
        );
        // An error object wins over a 2xx status, and a codeless one on a 5xx is temporary.
        assert!(matches!(
            graph.answer(
                200,
                json!({ "error": { "message": "Invalid OAuth access token.", "code": 190 } })
            ),
            Err(SendError::Auth(_))
        ));
        assert!(matches!(
            graph.answer(
                503,
                json!({ "error": { "message": "Service temporarily unavailable" } })
            ),
            Err(SendError::Unavailable(_))
        ));
    }

    #[test]
    fn paging_keeps_the_token_out_of_next_links() {
        let graph = graph(Wording::Pages);
        let query = [("fields", "id,name"), ("limit", "100")];
        let page = |next: &str| json!({ "data": [], "paging": { "cursors": { "before": "QVFI", "after": "QVFIb" }, "next": next } });
        let cases = [
            (
                // Meta's `next` repeats the token: it is dropped, the rest kept.
                page(
                    "https://graph.facebook.com/v21.0/401/phone_numbers?access_token=EAAG-secret&fields=id&limit=1&after=QVFIb",
                ),
                Some("https://graph.facebook.com/v21.0/401/phone_numbers?fields=id&limit=1&after=QVFIb"),
            ),
            (
                page("https://graph.facebook.com/v21.0/401/phone_numbers?fields=id&after=QVFIb"),
                Some("https://graph.facebook.com/v21.0/401/phone_numbers?fields=id&after=QVFIb"),
            ),
            (
                // Another host: continue from the cursor on ours.
                page("https://elsewhere.example/v21.0/401/phone_numbers?access_token=EAAG-secret&after=QVFIb"),
                Some("https://graph.facebook.com/v21.0/401/phone_numbers?fields=id%2Cname&limit=100&after=QVFIb"),
            ),
            (
                json!({ "data": [], "paging": { "cursors": { "before": "QVFI", "after": "QVFIb" } } }),
                None,
            ),
            (json!({ "data": [] }), None),
        ];
        for (body, expected) in cases {
            assert_eq!(
                graph
                    .next_page(&body, "401/phone_numbers", &query)
                    .map(|u| u.to_string())
                    .as_deref(),
                expected,
                "{body}"
            );
        }
    }

    #[test]
    fn loose_json() {
        let value = json!({ "id": 1689556908129832_i64, "name": "  x ", "empty": " ", "size": "8", "n": 8 });
        assert_eq!(value.get("id").and_then(str_of).as_deref(), Some("1689556908129832"));
        assert_eq!(value.get("empty").and_then(str_of), None);
        assert_eq!(
            (value.get("size").and_then(int_of), value.get("n").and_then(int_of)),
            (Some(8), Some(8))
        );
        assert_eq!((text_at(&value, "/name"), text_at(&value, "/empty")), (Some("x"), None));
        assert_eq!(success(&json!({ "success": true }), "x"), Ok(()));
        assert!(success(&json!({ "success": false }), "x").is_err());
    }
}
