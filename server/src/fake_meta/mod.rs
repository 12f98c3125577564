//! A local stand-in for Meta's Graph API, as used by the Facebook Messenger
//! (Pages) channel.
//!
//! Real Meta cannot be reached from the test machines, so the Messenger
//! adapter is exercised against this fake instead. It speaks Meta's
//! *published* wire formats — the same URLs, parameters, JSON bodies, error
//! objects and signed webhooks — so an adapter that works here should work
//! against `graph.facebook.com` unchanged. Where a shape is imitated, the
//! comment next to it says which Meta behaviour it copies.
//!
//! What it covers:
//!
//! * **Facebook Login** (`/v21.0/dialog/oauth`, `/v21.0/oauth/access_token`):
//!   a one-button "Continue as …" page and single-use codes.
//! * **Pages** (`/v21.0/me/accounts`, `/v21.0/{page-id}/subscribed_apps`).
//! * **Send API** (`/v21.0/{page-id}/messages`, `/v21.0/me/messages`) with
//!   Meta's error objects for expired tokens, the 24-hour window and bad
//!   parameters, and a signed `message_echoes` webhook after each send.
//! * **User Profile API** (`GET /v21.0/{psid}?fields=…`).
//! * A **control API** under `/_fake/` that tests use to play the customer
//!   (send a message, a delivery or read receipt) and to inspect or bend the
//!   fake (what was sent, expire a token, close a customer's window).
//!
//! Rust tests use [`FakeMeta::spawn`]; browser tests run the `fake-meta`
//! binary. The payload builders and [`sign`] work without a running fake,
//! for tests and benchmarks that post webhooks themselves.

mod control;
mod errors;
mod graph;
mod payloads;
mod state;
#[cfg(test)]
mod tests;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use serde::Serialize;
use serde_json::Value;

pub use payloads::{
    SIGNATURE_HEADER, attachment, delivery_event, echo_event, encode_body, image_message_event, message_event, now_ms,
    page_webhook, read_event, sign, text_message_event,
};
pub use webhook::Delivery;

use state::Shared;

/// The Graph API version the fake serves; every Graph route lives under
/// `/{GRAPH_VERSION}`, like `https://graph.facebook.com/v21.0/...`.
pub const GRAPH_VERSION: &str = "v21.0";

/// A Facebook Page the fake user manages.
#[derive(Clone, Debug)]
pub struct FakePage {
    pub id: String,
    pub name: String,
    /// The Page access token `/me/accounts` hands out (until it is expired
    /// with [`FakeMeta::expire_page_token`], after which a fresh one is issued).
    pub access_token: String,
    pub category: String,
    /// People who have messaged this Page. PSIDs are page-scoped, so each
    /// page has its own list.
    pub customers: Vec<FakeCustomer>,
}

/// A person who has talked to a Page, as the User Profile API describes them.
#[derive(Clone, Debug)]
pub struct FakeCustomer {
    /// Page-scoped ID.
    pub psid: String,
    pub first_name: String,
    pub last_name: String,
    /// `None`: the fake serves a generated avatar at `/_fake/avatar/{psid}.svg`.
    pub profile_pic: Option<String>,
}

impl FakeCustomer {
    pub fn new(psid: &str, first_name: &str, last_name: &str) -> Self {
        Self {
            psid: psid.to_owned(),
            first_name: first_name.to_owned(),
            last_name: last_name.to_owned(),
            profile_pic: None,
        }
    }
}

/// How a fake is set up. `Default` gives a ready-made world: app
/// `1234567890` with secret `fake-app-secret`, user "Test Owner" managing
/// "Acme Shoes" (`101`) and "Acme Support" (`102`), each with customers.
#[derive(Clone, Debug)]
pub struct FakeMetaConfig {
    pub app_id: String,
    pub app_secret: String,
    /// Where webhooks are POSTed (the app's Messenger webhook endpoint).
    pub webhook_url: Option<String>,
    pub user_name: String,
    pub pages: Vec<FakePage>,
}

impl Default for FakeMetaConfig {
    fn default() -> Self {
        Self {
            app_id: "1234567890".to_owned(),
            app_secret: "fake-app-secret".to_owned(),
            webhook_url: None,
            user_name: "Test Owner".to_owned(),
            pages: vec![
                FakePage {
                    id: "101".to_owned(),
                    name: "Acme Shoes".to_owned(),
                    access_token: "page-token-101".to_owned(),
                    category: "Shopping & Retail".to_owned(),
                    customers: vec![
                        FakeCustomer::new("7001001", "Alice", "Johnson"),
                        FakeCustomer::new("7001002", "Bob", "Smith"),
                        FakeCustomer::new("7001003", "Chloé", "Durand"),
                    ],
                },
                FakePage {
                    id: "102".to_owned(),
                    name: "Acme Support".to_owned(),
                    access_token: "page-token-102".to_owned(),
                    category: "Product/service".to_owned(),
                    customers: vec![
                        FakeCustomer::new("7002001", "Carol", "White"),
                        FakeCustomer::new("7002002", "Dmitri", "Ivanov"),
                    ],
                },
            ],
        }
    }
}

/// One Send API call the fake accepted.
#[derive(Clone, Debug, Serialize)]
pub struct SentMessage {
    pub page_id: String,
    pub recipient_id: String,
    /// The request body as the app sent it (`recipient`, `messaging_type`,
    /// `tag`, `message`, ...).
    pub body: Value,
    /// The `message_id` the fake answered with (also the echo's `mid`).
    pub message_id: String,
    pub timestamp_ms: i64,
}

impl SentMessage {
    /// `message.text`, if the message had text.
    pub fn text(&self) -> Option<&str> {
        self.body.pointer("/message/text").and_then(Value::as_str)
    }

    /// `message.metadata`, the string Meta copies into the echo.
    pub fn metadata(&self) -> Option<&str> {
        self.body.pointer("/message/metadata").and_then(Value::as_str)
    }

    pub fn messaging_type(&self) -> Option<&str> {
        self.body.get("messaging_type").and_then(Value::as_str)
    }

    pub fn tag(&self) -> Option<&str> {
        self.body.get("tag").and_then(Value::as_str)
    }
}

/// A running fake. Cheap to clone; every clone talks to the same server.
/// The server lives as long as the tokio runtime it was spawned on.
#[derive(Clone)]
pub struct FakeMeta {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl FakeMeta {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    pub async fn spawn(config: FakeMetaConfig) -> std::io::Result<FakeMeta> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::spawn_on(listener, config).await
    }

    /// Serves the fake on an already bound listener, in a background task.
    pub async fn spawn_on(listener: tokio::net::TcpListener, config: FakeMetaConfig) -> std::io::Result<FakeMeta> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake-meta server stopped");
            }
        });
        Ok(FakeMeta { shared, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `http://127.0.0.1:PORT/v21.0` — what the app takes as `META_GRAPH_URL`.
    pub fn graph_url(&self) -> String {
        format!("{}/{GRAPH_VERSION}", self.shared.base_url)
    }

    /// `http://127.0.0.1:PORT/v21.0/dialog/oauth` — the app's `META_DIALOG_URL`.
    pub fn dialog_url(&self) -> String {
        format!("{}/dialog/oauth", self.graph_url())
    }

    pub fn app_id(&self) -> String {
        self.shared.lock().app_id.clone()
    }

    pub fn app_secret(&self) -> String {
        self.shared.lock().app_secret.clone()
    }

    /// Every Send API call accepted so far, oldest first.
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Ids of the pages the app is currently subscribed to.
    pub fn subscriptions(&self) -> Vec<String> {
        self.shared.lock().subscriptions.keys().cloned().collect()
    }

    /// The Page's current token stops working (Graph error 190/463). The next
    /// `/me/accounts` call hands out a new one, as re-connecting would.
    /// Returns false for an unknown page.
    pub fn expire_page_token(&self, page_id: &str) -> bool {
        self.shared.lock().expire_page_token(page_id)
    }

    /// The page's current access token (changes after expiry + `/me/accounts`).
    pub fn page_token(&self, page_id: &str) -> Option<String> {
        self.shared.lock().page(page_id).map(|p| p.token.clone())
    }

    /// Sends to this customer without a message tag now fail with Meta's
    /// "outside of allowed window" error, until the customer writes again.
    pub fn mark_outside_window(&self, psid: &str) {
        self.shared.lock().outside_window.insert(psid.to_owned());
    }

    pub fn set_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().webhook_url = Some(url.into());
    }

    /// Echo webhooks after each send are on by default, as on Meta when the
    /// app subscribes to `message_echoes`.
    pub fn set_echo(&self, enabled: bool) {
        self.shared.lock().echo = enabled;
    }

    /// Forgets everything that happened (sends, subscriptions, codes, tokens,
    /// expiries, windows, customers added on the fly). Keeps the webhook URL.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }

    /// What clicking "Continue" on the login dialog would hand the app: a
    /// fresh single-use code bound to `redirect_uri`. For tests that skip
    /// the browser.
    pub fn issue_code(&self, redirect_uri: &str) -> String {
        self.shared.lock().issue_code(redirect_uri)
    }

    /// A valid user access token, as if the OAuth flow had completed.
    pub fn issue_user_token(&self) -> String {
        self.shared.lock().issue_user_token()
    }

    /// Plays the customer: `psid` sends `text` to the page. The signed
    /// `messages` webhook is POSTed to the webhook URL; returns the `mid`
    /// and what the app answered.
    pub async fn customer_message(&self, page_id: &str, psid: &str, text: &str) -> (String, Delivery) {
        let request = control::CustomerMessage {
            page_id: page_id.to_owned(),
            psid: psid.to_owned(),
            text: Some(text.to_owned()),
            ..Default::default()
        };
        control::customer_message(&self.shared, request).await
    }
}

/// The whole fake as an axum router: Graph API under `/v21.0`, control API
/// under `/_fake`.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest(&format!("/{GRAPH_VERSION}"), graph::routes())
        .merge(control::routes())
        .with_state(shared)
}
