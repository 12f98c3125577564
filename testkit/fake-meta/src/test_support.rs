//! Helpers for the fake's own tests: a webhook receiver that records which
//! endpoint got what, and small HTTP helpers.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use serde_json::Value;

use super::{FakeMeta, FakeMetaConfig, SIGNATURE_HEADER, sign};

/// One webhook the receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Hook {
    /// The last path segment: `messenger`, `whatsapp`, `instagram`, …
    pub channel: String,
    pub signature: String,
    pub raw: Vec<u8>,
}

impl Hook {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw).unwrap()
    }

    /// Whether the signature is the app secret's HMAC of the raw body.
    pub fn signed_with(&self, secret: &str) -> bool {
        self.signature == sign(secret, &self.raw)
    }
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Receiver {
    /// Starts a receiver answering 200 on `/api/webhooks/{channel}`; returns
    /// it and the Messenger URL (`…/api/webhooks/messenger`).
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let sink = receiver.hooks.clone();
        let app = Router::new().route(
            "/api/webhooks/{channel}",
            post(move |Path(channel): Path<String>, headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    let signature = headers
                        .get(SIGNATURE_HEADER)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_owned();
                    sink.lock().unwrap().push(Hook {
                        channel,
                        signature,
                        raw: body.to_vec(),
                    });
                    StatusCode::OK
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/api/webhooks/messenger", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    pub fn all(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }

    /// Webhooks that reached `/api/webhooks/{channel}`.
    pub fn on(&self, channel: &str) -> Vec<Hook> {
        self.all().into_iter().filter(|h| h.channel == channel).collect()
    }

    /// Waits (up to ~3 s) until `channel` got at least `count` webhooks.
    pub async fn wait(&self, channel: &str, count: usize) -> Vec<Hook> {
        for _ in 0..150 {
            if self.on(channel).len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.on(channel)
    }

    /// Waits until a webhook on `channel` satisfies `pred`.
    pub async fn wait_for(&self, channel: &str, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        for _ in 0..150 {
            if let Some(hook) = self.on(channel).iter().map(Hook::json).find(|v| pred(v)) {
                return Some(hook);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    pub fn clear(&self) {
        self.hooks.lock().unwrap().clear();
    }
}

/// A fake whose webhooks go to a fresh receiver.
pub(crate) async fn fake_with_receiver() -> (FakeMeta, Receiver) {
    let (receiver, url) = Receiver::start().await;
    let fake = FakeMeta::spawn(FakeMetaConfig {
        webhook_url: Some(url),
        ..Default::default()
    })
    .await
    .unwrap();
    (fake, receiver)
}

/// Serves `files` (path, content type, bytes) on a local port, the way
/// Messio serves its signed media links; other paths answer 404. Returns
/// `http://127.0.0.1:PORT`.
pub(crate) async fn file_server(files: Vec<(&'static str, &'static str, Vec<u8>)>) -> String {
    let mut app = Router::new();
    for (path, content_type, bytes) in files {
        app = app.route(
            path,
            get(move || {
                let bytes = bytes.clone();
                async move { ([(header::CONTENT_TYPE, content_type)], bytes) }
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Lowercase hex SHA-256, as [`SentAttachment::sha256`](super::SentAttachment) reports it.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// `GET url` and its JSON body (the control API's listings).
pub(crate) async fn get_json(http: &reqwest::Client, url: String) -> Value {
    http.get(url)
        .send()
        .await
        .expect("the fake answers")
        .json()
        .await
        .expect("a JSON body")
}

pub(crate) async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
