//! A local stand-in for Twilio Programmable Messaging (SMS/MMS), for tests
//! of Messio's SMS channel.
//!
//! Real Twilio cannot be reached from the test machines, so the adapter is
//! pointed at this fake (its API base URL is configuration). The fake speaks
//! Twilio's *published* wire formats — the same paths, form parameters,
//! HTTP Basic auth, JSON resources (snake_case, RFC 2822 dates, string
//! `num_segments`), error bodies (`{code, message, more_info, status}`) and
//! `X-Twilio-Signature`-signed form webhooks — so an adapter that works here
//! should work against `api.twilio.com` unchanged. Comments next to each
//! imitation name the Twilio behaviour and documentation it copies.
//!
//! What it covers:
//!
//! * **REST API** (`api.rs`): Account fetch, IncomingPhoneNumbers (list with
//!   `PhoneNumber` filter, fetch, update of `SmsUrl`/`StatusCallback`…),
//!   Messages (create with Twilio's validation errors 21211, 21602, 21604,
//!   21606, 21610, 21612, 21617; fetch), inbound media behind Basic auth, and
//!   the v1 Messaging Service (`/v1/Services/{MG}`, its `PhoneNumbers`) that
//!   real Twilio serves from `messaging.twilio.com` — here on the same
//!   address. Bad credentials: 401/20003; unknown resources: 404/20404.
//! * **Outbound media**: every `MediaUrl` is downloaded and recorded (size,
//!   content type, SHA-256); one that cannot be fetched fails the message
//!   with 11200, as Twilio does.
//! * **Webhooks** (`webhook.rs`): the fake plays the customer (inbound
//!   SMS/MMS to the number's `SmsUrl`, or its Messaging Service's inbound
//!   request URL) and the carrier (status callbacks `sent` → `delivered`,
//!   or per-recipient `undelivered`/`failed` with `ErrorCode`; off, or out
//!   of order on request). Deliveries can be replayed unchanged (a retry,
//!   same `I-Twilio-Idempotency-Token`) or with a wrong signature.
//! * **Opt-out**: an inbound body that is exactly one of Twilio's default
//!   opt-out keywords opts the sender out of that number (and its Messaging
//!   Service); later sends fail with 21610 until START/UNSTOP/YES. The
//!   keyword message is still delivered to the webhook.
//! * **Control API** under `/_fake/` (see `control.rs`) mirroring the Rust
//!   helpers, for browser tests that run the `fake-twilio` binary.
//!
//! Rust tests use [`FakeTwilio::spawn`]; [`signature`] works without a
//! running fake.

mod api;
mod control;
mod errors;
mod resources;
mod segments;
mod signature;
mod state;
#[cfg(test)]
mod tests;
mod time;
mod webhook;
mod world;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;

pub use signature::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, encode_form, signature};
pub use state::{OPT_IN_KEYWORDS, OPT_OUT_KEYWORDS};
pub use world::{
    CUSTOMER_UK, CUSTOMER_US, Capabilities, DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, DEFAULT_NUMBER,
    DEFAULT_NUMBER_SID, DEFAULT_SERVICE_SID, Delivery, FakeNumber, FakeService, FakeTwilioConfig, InboundMedia,
    InboundMessage, OptOut, Outcome, SERVICE_NUMBER, SERVICE_NUMBER_SID, SentMedia, SentMessage, StatusCallbackRecord,
    StatusMode,
};

use state::{Shared, new_sid};

/// A running fake. Cheap to clone; every clone talks to the same server,
/// which lives as long as the tokio runtime it was spawned on.
#[derive(Clone)]
pub struct FakeTwilio {
    shared: Arc<Shared>,
}

impl FakeTwilio {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    pub async fn spawn(config: FakeTwilioConfig) -> std::io::Result<FakeTwilio> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::spawn_on(listener, config).await
    }

    /// Serves the fake on an already bound listener, in a background task.
    pub async fn spawn_on(listener: tokio::net::TcpListener, config: FakeTwilioConfig) -> std::io::Result<FakeTwilio> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, addr));
        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake-twilio server stopped");
            }
        });
        Ok(FakeTwilio { shared })
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT`: the API base the adapter takes (it appends
    /// `/2010-04-01/…`), and also its Messaging API base (`/v1/…`).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    pub fn account_sid(&self) -> String {
        self.shared.lock().account_sid.clone()
    }

    /// The Auth Token the API currently accepts and webhooks are signed with.
    pub fn auth_token(&self) -> String {
        self.shared.lock().auth_token.clone()
    }

    /// Replaces the Auth Token with a fresh random one (the old one stops
    /// working at once) and returns it.
    pub fn rotate_auth_token(&self) -> String {
        let token = new_sid("");
        self.set_auth_token(&token);
        token
    }

    pub fn set_auth_token(&self, token: &str) {
        self.shared.lock().auth_token = token.to_owned();
    }

    /// The account's numbers with their current webhooks.
    pub fn numbers(&self) -> Vec<FakeNumber> {
        self.shared.lock().numbers.clone()
    }

    /// The account's number `e164`, as currently configured.
    pub fn number(&self, e164: &str) -> Option<FakeNumber> {
        self.shared.lock().number(e164).cloned()
    }

    /// Sets a number's `SmsUrl`, as configuring it in the console would.
    /// Returns false for a number the account does not own.
    pub fn set_sms_url(&self, e164: &str, url: Option<&str>) -> bool {
        let mut world = self.shared.lock();
        match world.numbers.iter_mut().find(|n| n.phone_number == e164) {
            Some(number) => {
                number.sms_url = url.map(str::to_owned);
                true
            }
            None => false,
        }
    }

    pub fn services(&self) -> Vec<FakeService> {
        self.shared.lock().services.clone()
    }

    /// Every message the app created, oldest first, with its current status.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.lock().messages.clone()
    }

    pub fn message(&self, sid: &str) -> Option<SentMessage> {
        self.shared.lock().messages.iter().find(|m| m.sid == sid).cloned()
    }

    /// Messages customers sent, oldest first.
    pub fn inbound(&self) -> Vec<InboundMessage> {
        self.shared.lock().inbound.clone()
    }

    /// The content type and bytes of inbound media `media_sid`.
    pub fn media_bytes(&self, media_sid: &str) -> Option<(String, Vec<u8>)> {
        self.shared
            .lock()
            .media
            .get(media_sid)
            .map(|m| (m.content_type.clone(), m.bytes.clone()))
    }

    /// Customers currently opted out, per number.
    pub fn opted_out(&self) -> Vec<OptOut> {
        self.shared.lock().opt_outs.clone()
    }

    /// Status callbacks sent so far, with the app's answers.
    pub fn callbacks(&self) -> Vec<StatusCallbackRecord> {
        self.shared.lock().callbacks.clone()
    }

    /// Every request the fake received, as `METHOD /path?query`, oldest
    /// first. Credentials travel in the `Authorization` header, which is not
    /// recorded, so the Auth Token only shows up here if the app put it in a
    /// URL.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }

    /// Plays the customer: `from` texts `body` to the account's number `to`.
    pub async fn customer_sms(&self, to: &str, from: &str, body: &str) -> Delivery {
        webhook::customer_message(&self.shared, to, from, body, Vec::new()).await
    }

    /// As [`customer_sms`](Self::customer_sms) with media `(content type,
    /// bytes)`, served at the webhook's `MediaUrl{N}` behind Basic auth.
    pub async fn customer_mms(&self, to: &str, from: &str, body: &str, media: Vec<(String, Vec<u8>)>) -> Delivery {
        webhook::customer_message(&self.shared, to, from, body, media).await
    }

    /// Sends `delivery`'s request again, byte for byte (a Twilio retry).
    pub async fn redeliver(&self, delivery: &Delivery) -> Delivery {
        webhook::redeliver(&self.shared, delivery, None).await
    }

    /// Sends `delivery`'s request again with `signature` as
    /// `X-Twilio-Signature` (empty: no header) — a forged request.
    pub async fn redeliver_with_signature(&self, delivery: &Delivery, signature: &str) -> Delivery {
        webhook::redeliver(&self.shared, delivery, Some(signature)).await
    }

    /// Posts one status callback for message `sid` by hand (`sent`,
    /// `delivered`, `undelivered`, `failed`, …; `error_code` is sent for the
    /// last two) and moves the message to that status unless it is already
    /// further along. Errors for an unknown message or one without a
    /// status callback URL.
    pub async fn status_callback(&self, sid: &str, status: &str, error_code: Option<u32>) -> Result<Delivery, String> {
        webhook::status_callback(&self.shared, sid, status, error_code).await
    }

    /// What happens after each send (default [`StatusMode::Auto`]).
    pub fn set_status_mode(&self, mode: StatusMode) {
        self.shared.lock().status_mode = mode;
    }

    /// How messages to `to` end from now on.
    pub fn set_outcome(&self, to: &str, outcome: Outcome) {
        self.shared.lock().outcomes.insert(to.to_owned(), outcome);
    }

    pub fn clear_outcome(&self, to: &str) {
        self.shared.lock().outcomes.remove(to);
    }

    /// Sends to `number` fail with 21211 while `on`.
    pub fn set_invalid(&self, number: &str, on: bool) {
        let mut world = self.shared.lock();
        if on {
            world.invalid.insert(number.to_owned());
        } else {
            world.invalid.remove(number);
        }
    }

    /// Sends to `number` fail with 21612 while `on`.
    pub fn set_unreachable(&self, number: &str, on: bool) {
        let mut world = self.shared.lock();
        if on {
            world.unreachable.insert(number.to_owned());
        } else {
            world.unreachable.remove(number);
        }
    }

    /// Back to the configured world: forgets messages, media, opt-outs,
    /// callbacks, requests, webhook settings and controls. Keeps the current
    /// Auth Token.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }
}

/// The whole fake as an axum router: control routes under `/_fake`, every
/// other path through the Twilio API dispatcher.
fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(control::routes())
        .fallback(api::dispatch)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), record_request))
        .with_state(shared)
}

/// Notes each API request in [`FakeTwilio::requests`] before it is answered.
async fn record_request(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path_and_query().map_or("", |p| p.as_str());
    if !path.starts_with("/_fake/") {
        let seen = format!("{} {path}", request.method());
        shared.lock().record_request(seen);
    }
    next.run(request).await
}
