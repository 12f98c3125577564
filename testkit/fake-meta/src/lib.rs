//! A local stand-in for Meta's Graph API, as used by the Facebook Messenger
//! (Pages), WhatsApp Business (Cloud API) and Instagram Messaging channels.
//!
//! Real Meta cannot be reached from the test machines, so the channel
//! adapters are exercised against this fake instead. It speaks Meta's
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
//!   Attachments sent by URL are downloaded before the send is accepted,
//!   as Meta does (`(#100) Failed to fetch the file from the url`,
//!   100/2018008, when that fails; size limits 8 MB for images, 25 MB
//!   otherwise), and what was downloaded is recorded
//!   ([`SentMessage::attachment`]); WhatsApp media links likewise (131053).
//! * **User Profile API** (`GET /v21.0/{psid}?fields=…`).
//! * **WhatsApp Business Platform**: business and WABA discovery
//!   (`/me/businesses`, `/{business-id}/owned_whatsapp_business_accounts`,
//!   `/{waba-id}/phone_numbers`), WABA webhook subscriptions, the Cloud API
//!   (`POST /{phone-number-id}/messages` with Meta's error codes — 190,
//!   100, 131008, 131009, 131047, 132000, 132001…), media upload, URL
//!   retrieval, download and deletion, and message templates (create,
//!   list with cursor paging, delete, review webhooks). Signed `messages`
//!   (inbound and `statuses`) and `message_template_status_update`
//!   webhooks go to the WhatsApp webhook URL.
//! * **Instagram Messaging** (Messenger API for Instagram): Instagram
//!   accounts linked to Pages (`/me/accounts?fields=…instagram_business_account{…}`),
//!   the Instagram profile API for IGSIDs, sending with the Page token and
//!   Instagram's 24-hour / 7-day `HUMAN_AGENT` window (code 10, subcode
//!   2534022), and signed `object: "instagram"` webhooks to the Instagram
//!   webhook URL.
//! * A **control API** under `/_fake/` that tests use to play the customer
//!   (send a message, a delivery or read receipt) and to inspect or bend the
//!   fake (what was sent, expire a token, close a customer's window). The
//!   WhatsApp and Instagram routes are listed in `wa_control.rs` and
//!   `ig_control.rs`.
//!
//! Webhook URLs: Messenger webhooks go to `webhook_url`; WhatsApp and
//! Instagram ones to `whatsapp_webhook_url` / `instagram_webhook_url`, which
//! default to `webhook_url` with its last path segment replaced
//! (`…/api/webhooks/messenger` → `…/api/webhooks/whatsapp`, `…/instagram`).
//!
//! Rust tests use [`FakeMeta::spawn`]; browser tests run the `fake-meta`
//! binary. The payload builders and [`sign`] work without a running fake,
//! for tests and benchmarks that post webhooks themselves.

mod control;
mod errors;
mod fetch;
mod graph;
mod ig_control;
mod ig_payloads;
mod ig_state;
mod instagram;
mod media;
mod payloads;
mod resumable;
mod state;
mod templates;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_instagram;
#[cfg(test)]
mod tests_whatsapp;
mod wa_control;
mod wa_payloads;
mod wa_state;
mod webhook;
mod whatsapp;
mod world;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use serde::Serialize;
use serde_json::Value;

pub use ig_control::{IgAttachmentSpec, IgReactionSpec, IgStorySpec, InstagramMessageRequest};
pub use ig_payloads::{
    ig_attachment, ig_echo, ig_message, ig_reaction, ig_read, ig_reply_to, ig_story_mention, ig_story_reply, ig_text,
    ig_unsupported, instagram_webhook, new_ig_mid,
};
pub use payloads::{
    SIGNATURE_HEADER, attachment, delivery_event, echo_event, encode_body, image_message_event, message_event, now_ms,
    page_webhook, read_event, sign, text_message_event,
};
pub use wa_control::{WhatsAppInbound, WhatsAppMessageRequest};
pub use wa_payloads::{
    new_wamid, now_secs, template_status_webhook, wa_button, wa_contacts, wa_error, wa_error_for_code,
    wa_interactive_button_reply, wa_interactive_list_reply, wa_location, wa_media, wa_reaction, wa_reply, wa_status,
    wa_text, wa_unsupported, wa_with_context, whatsapp_webhook,
};
pub use wa_state::{WhatsAppMedia, WhatsAppSent, WhatsAppTemplate, WindowErrorMode};
pub use webhook::Delivery;
pub use world::{
    FakeBusiness, FakeIgCustomer, FakeInstagramAccount, FakePhoneNumber, FakeTemplate, FakeWaCustomer, FakeWaba,
};

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
/// "Acme Shoes" (`101`, linked to Instagram account `17841400000000101`
/// "acme.shoes") and "Acme Support" (`102`), each with customers; and
/// business `301` "Acme Group" owning WABA `401` "Acme WhatsApp" (system
/// user token `wa-token-401`) with phone numbers `501` and `502`, customers
/// and templates (see [`FakeBusiness`] and `world.rs` for the details).
#[derive(Clone, Debug)]
pub struct FakeMetaConfig {
    pub app_id: String,
    pub app_secret: String,
    /// Where webhooks are POSTed (the app's Messenger webhook endpoint).
    pub webhook_url: Option<String>,
    /// Where WhatsApp webhooks go; `None`: `webhook_url` with its last path
    /// segment replaced by `whatsapp`.
    pub whatsapp_webhook_url: Option<String>,
    /// Where Instagram webhooks go; `None`: `webhook_url` with its last path
    /// segment replaced by `instagram`.
    pub instagram_webhook_url: Option<String>,
    pub user_name: String,
    pub pages: Vec<FakePage>,
    /// Businesses the user belongs to, with their WhatsApp Business Accounts.
    pub businesses: Vec<FakeBusiness>,
    /// Instagram professional accounts linked to pages.
    pub instagram_accounts: Vec<FakeInstagramAccount>,
}

impl Default for FakeMetaConfig {
    fn default() -> Self {
        Self {
            app_id: "1234567890".to_owned(),
            app_secret: "fake-app-secret".to_owned(),
            webhook_url: None,
            whatsapp_webhook_url: None,
            instagram_webhook_url: None,
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
            businesses: world::default_businesses(),
            instagram_accounts: world::default_instagram_accounts(),
        }
    }
}

/// Which product a Send API call was for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Messenger,
    Instagram,
}

/// One Send API call the fake accepted (Messenger, or Instagram Messaging
/// through the Page).
#[derive(Clone, Debug, Serialize)]
pub struct SentMessage {
    pub platform: Platform,
    pub page_id: String,
    /// The Instagram account, for Instagram sends.
    pub instagram_id: Option<String>,
    pub recipient_id: String,
    /// The request body as the app sent it (`recipient`, `messaging_type`,
    /// `tag`, `message`, ...).
    pub body: Value,
    /// The `message_id` the fake answered with (also the echo's `mid`).
    pub message_id: String,
    pub timestamp_ms: i64,
    /// The file the customer got, for `message.attachment` sends by
    /// `payload.url` (which the fake downloaded before accepting). `None`
    /// for text and for attachments without a URL (`attachment_id`,
    /// templates).
    pub attachment: Option<SentAttachment>,
}

/// The file behind an accepted media send, as the fake obtained it: fetched
/// from the message's link, or the stored WhatsApp media object it named.
/// Lets tests check that the customer got exactly the bytes the app meant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentAttachment {
    /// The attachment type as sent: `image`, `video`, `audio`, `file`
    /// (Send API) or `document`, `sticker` (WhatsApp).
    pub kind: String,
    /// `link` (downloaded from a URL) or `media_id` (a WhatsApp media
    /// object uploaded before).
    pub source: String,
    /// The `Content-Type` the link answered with, or the media object's
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
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

    /// Every Send API call accepted so far (Messenger and Instagram), oldest
    /// first. See [`SentMessage::platform`].
    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    /// Every request the fake received, as `METHOD /path?query`, oldest first: lets tests
    /// check what travelled in URLs (Meta takes an access token in the query string or in
    /// the `Authorization` header alike, so only the request shows which one the app used).
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }

    /// Whether `token` came from exchanging a login for a long-lived token.
    pub fn is_long_lived(&self, token: &str) -> bool {
        self.shared.lock().long_lived_tokens.contains(token)
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

    /// Forgets everything that happened (sends, requests seen, subscriptions, codes, tokens,
    /// expiries, windows, customers added on the fly, WhatsApp media and
    /// templates created since). Keeps the webhook URLs and switches.
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

    // -----------------------------------------------------------------------
    // WhatsApp
    // -----------------------------------------------------------------------

    /// Plays a WhatsApp customer: posts the signed `messages` webhook for
    /// `request` to the WhatsApp webhook URL and opens the customer's
    /// 24-hour window. Errors on an unknown phone number or an incomplete
    /// request.
    pub async fn whatsapp_message(&self, request: WhatsAppMessageRequest) -> Result<WhatsAppInbound, String> {
        wa_control::customer_message(&self.shared, request).await
    }

    /// `from` writes `text` to business number `phone_number_id`; returns
    /// the wamid and what the app answered.
    pub async fn whatsapp_text(&self, phone_number_id: &str, from: &str, text: &str) -> (String, Delivery) {
        let request = WhatsAppMessageRequest {
            phone_number_id: phone_number_id.to_owned(),
            from: from.to_owned(),
            text: Some(text.to_owned()),
            ..Default::default()
        };
        match self.whatsapp_message(request).await {
            Ok(inbound) => (inbound.id, inbound.delivery),
            Err(error) => (String::new(), Delivery::failed(error)),
        }
    }

    /// Posts a `statuses` webhook (`sent`, `delivered`, `read` or `failed`
    /// with `error_code`, default 131026) for a message the app sent.
    pub async fn whatsapp_status(
        &self,
        phone_number_id: &str,
        message_id: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> Result<Delivery, String> {
        let request = wa_control::StatusRequest {
            phone_number_id: phone_number_id.to_owned(),
            message_id: message_id.to_owned(),
            status: status.to_owned(),
            error_code,
            recipient_id: None,
        };
        wa_control::message_status(&self.shared, request).await
    }

    /// Every accepted `POST /{phone-number-id}/messages`, oldest first.
    pub fn whatsapp_sent(&self) -> Vec<WhatsAppSent> {
        self.shared.lock().wa.sent.clone()
    }

    /// Every template, with its current status.
    pub fn whatsapp_templates(&self) -> Vec<WhatsAppTemplate> {
        self.shared.lock().wa.templates.clone()
    }

    /// Reviews a template (by id, or by name): sets `status` (`APPROVED`,
    /// `REJECTED`, `PAUSED`, `DISABLED`, …) with `reason`, and posts the
    /// signed `message_template_status_update` webhook.
    pub async fn review_template(
        &self,
        template_id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(WhatsAppTemplate, Delivery), String> {
        wa_control::review(&self.shared, template_id, status, reason).await
    }

    /// Templates created through the API get approved (with webhook) this
    /// long after creation; `None` (the default) leaves them `PENDING`.
    pub fn set_template_auto_approve(&self, after: Option<std::time::Duration>) {
        let ms = after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.shared.lock().wa.auto_approve_after_ms = ms;
    }

    /// Ids of the WABAs the app is subscribed to.
    pub fn whatsapp_subscriptions(&self) -> Vec<String> {
        self.shared.lock().wa.subscriptions.keys().cloned().collect()
    }

    /// Media objects: uploaded by the app and sent by customers.
    pub fn whatsapp_media(&self) -> Vec<WhatsAppMedia> {
        self.shared.lock().wa.media.iter().map(WhatsAppMedia::from).collect()
    }

    /// The bytes of a media object (`None` if unknown or deleted).
    pub fn whatsapp_media_bytes(&self, media_id: &str) -> Option<Vec<u8>> {
        self.shared.lock().wa.media(media_id).map(|m| m.bytes.clone())
    }

    /// Expires `token` (any token the fake issued), or with `None` every
    /// WABA system-user token and every user token: they then fail with
    /// Graph error 190. Expired WABA tokens are replaced by new ones (see
    /// [`whatsapp_token`](Self::whatsapp_token)). Returns the expired tokens.
    pub fn expire_whatsapp_token(&self, token: Option<&str>) -> Vec<String> {
        self.shared.lock().expire_whatsapp_tokens(token)
    }

    /// The current system-user token of a WABA.
    pub fn whatsapp_token(&self, waba_id: &str) -> Option<String> {
        self.shared.lock().wa.waba(waba_id).map(|w| w.token.clone())
    }

    /// Closes `wa_id`'s 24-hour window with every number they talk to (or
    /// only `phone_number_id`).
    pub fn close_whatsapp_window(&self, wa_id: &str, phone_number_id: Option<&str>) {
        wa_control::set_window(&self.shared, wa_id, phone_number_id, false);
    }

    /// Opens `wa_id`'s 24-hour window, as if they had just written.
    pub fn open_whatsapp_window(&self, wa_id: &str, phone_number_id: Option<&str>) {
        wa_control::set_window(&self.shared, wa_id, phone_number_id, true);
    }

    /// How error 131047 is reported: a `failed` status webhook after an
    /// accepted send (the default), or synchronously.
    pub fn set_whatsapp_window_errors(&self, mode: WindowErrorMode) {
        self.shared.lock().wa.window_errors = mode;
    }

    /// Whether each accepted send is followed by a `sent` status webhook
    /// (on by default).
    pub fn set_whatsapp_auto_status(&self, enabled: bool) {
        self.shared.lock().wa.auto_status = enabled;
    }

    pub fn set_whatsapp_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().whatsapp_webhook_url = Some(url.into());
    }

    /// Where WhatsApp webhooks currently go.
    pub fn whatsapp_webhook_url(&self) -> Option<String> {
        self.shared.lock().whatsapp_url()
    }

    // -----------------------------------------------------------------------
    // Instagram
    // -----------------------------------------------------------------------

    /// Plays an Instagram customer: posts the signed `object: "instagram"`
    /// webhook for `request` and (for messages) reopens their window.
    /// Returns the mid and what the app answered.
    pub async fn instagram_message(&self, request: InstagramMessageRequest) -> Result<(String, Delivery), String> {
        ig_control::customer_message(&self.shared, request).await
    }

    /// `igsid` writes `text` to Instagram account `ig_id`.
    pub async fn instagram_text(&self, ig_id: &str, igsid: &str, text: &str) -> (String, Delivery) {
        let request = InstagramMessageRequest {
            ig_id: ig_id.to_owned(),
            igsid: igsid.to_owned(),
            text: Some(text.to_owned()),
            ..Default::default()
        };
        match self.instagram_message(request).await {
            Ok(answer) => answer,
            Err(error) => (String::new(), Delivery::failed(error)),
        }
    }

    /// Posts a `messaging_seen` webhook: `igsid` read message `mid`.
    pub async fn instagram_read(&self, ig_id: &str, igsid: &str, mid: &str) -> Delivery {
        let payload = instagram_webhook(ig_id, vec![ig_read(igsid, ig_id, mid, now_ms())]);
        webhook::deliver_instagram(&self.shared, &payload).await
    }

    /// Send API calls accepted for Instagram recipients, oldest first.
    pub fn instagram_sent(&self) -> Vec<SentMessage> {
        self.sent()
            .into_iter()
            .filter(|s| s.platform == Platform::Instagram)
            .collect()
    }

    /// Places `igsid`'s last message `hours` ago (`None`: they never
    /// wrote). Over 24 hours only `HUMAN_AGENT`-tagged sends pass; over 7
    /// days none do.
    pub fn set_instagram_window(&self, igsid: &str, hours_since_last_message: Option<f64>) {
        ig_control::set_window(&self.shared, igsid, hours_since_last_message);
    }

    pub fn set_instagram_webhook_url(&self, url: impl Into<String>) {
        self.shared.lock().instagram_webhook_url = Some(url.into());
    }

    /// Where Instagram webhooks currently go.
    pub fn instagram_webhook_url(&self) -> Option<String> {
        self.shared.lock().instagram_url()
    }
}

/// The whole fake as an axum router: Graph API under `/v21.0`, control API
/// under `/_fake`, WhatsApp media downloads under `/whatsapp_business/`.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest(&format!("/{GRAPH_VERSION}"), graph::routes())
        .route(media::DOWNLOAD_PATH, axum::routing::get(media::download))
        .merge(control::routes())
        .merge(wa_control::routes())
        .merge(ig_control::routes())
        .layer(axum::middleware::from_fn_with_state(shared.clone(), record_request))
        .with_state(shared)
}

/// Notes each request in [`FakeMeta::requests`] before it is answered.
async fn record_request(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let seen = format!(
        "{} {}",
        request.method(),
        request.uri().path_and_query().map_or("", |p| p.as_str())
    );
    {
        let mut world = shared.lock();
        if world.requests.len() >= state::MAX_REQUESTS_SEEN {
            world.requests.drain(..state::MAX_REQUESTS_SEEN / 2);
        }
        world.requests.push(seen);
    }
    next.run(request).await
}
