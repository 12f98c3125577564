//! The fake's world: configuration and the public records tests read back
//! (numbers, Messaging Services, sent and received messages, opt-outs,
//! webhook deliveries). Pure data; behaviour lives in `state.rs`, `api.rs`
//! and `webhook.rs`.

use serde::Serialize;

/// The fixed default account SID (`AC` + 32 hex digits).
pub const DEFAULT_ACCOUNT_SID: &str = "ACa1b2c3d4e5f60718293a4b5c6d7e8f90";
/// The default Auth Token (32 hex digits).
pub const DEFAULT_AUTH_TOKEN: &str = "f3e2d1c0b9a8978695a4b3c2d1e0f9a8";
/// First default number: a plain phone number.
pub const DEFAULT_NUMBER: &str = "+15017122661";
pub const DEFAULT_NUMBER_SID: &str = "PN3f9a1c2b4d5e6f708192a3b4c5d6e7f8";
/// Second default number: the sender of [`DEFAULT_SERVICE_SID`].
pub const SERVICE_NUMBER: &str = "+15017122662";
pub const SERVICE_NUMBER_SID: &str = "PN4a0b1c2d3e4f5061728394a5b6c7d8e9";
pub const DEFAULT_SERVICE_SID: &str = "MG5b6c7d8e9f0a1b2c3d4e5f60718293a4";
/// Customers who text the business in the default world.
pub const CUSTOMER_US: &str = "+14155550100";
pub const CUSTOMER_UK: &str = "+447700900123";

/// What a number can do (`capabilities` on the IncomingPhoneNumber resource).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    pub sms: bool,
    pub mms: bool,
    pub voice: bool,
}

/// A phone number the account owns (an IncomingPhoneNumber), with its
/// current messaging configuration.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FakeNumber {
    /// `PN` + 32 hex digits.
    pub sid: String,
    /// E.164.
    pub phone_number: String,
    pub friendly_name: String,
    /// Where inbound messages are sent ("A message comes in").
    pub sms_url: Option<String>,
    pub sms_method: String,
    pub sms_fallback_url: Option<String>,
    pub status_callback: Option<String>,
    pub status_callback_method: String,
    pub capabilities: Capabilities,
}

impl FakeNumber {
    /// An SMS+MMS+voice number with no webhooks configured.
    pub fn new(sid: &str, phone_number: &str) -> Self {
        Self {
            sid: sid.to_owned(),
            phone_number: phone_number.to_owned(),
            friendly_name: friendly_phone(phone_number),
            sms_url: None,
            sms_method: "POST".to_owned(),
            sms_fallback_url: None,
            status_callback: None,
            status_callback_method: "POST".to_owned(),
            capabilities: Capabilities {
                sms: true,
                mms: true,
                voice: true,
            },
        }
    }
}

/// `(501) 712-2661` for a NANP number, the E.164 form otherwise — the
/// default `friendly_name` Twilio gives a number.
fn friendly_phone(e164: &str) -> String {
    match e164.strip_prefix("+1") {
        Some(rest) if rest.len() == 10 && rest.bytes().all(|b| b.is_ascii_digit()) => {
            format!("({}) {}-{}", &rest[..3], &rest[3..6], &rest[6..])
        }
        _ => e164.to_owned(),
    }
}

/// A Messaging Service (`MG…`) and its sender pool.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FakeService {
    pub sid: String,
    pub friendly_name: String,
    /// E.164 numbers in the sender pool (must be account numbers).
    pub phone_numbers: Vec<String>,
    /// Where inbound messages to pool numbers go (unless
    /// `use_inbound_webhook_on_number`).
    pub inbound_request_url: Option<String>,
    pub inbound_method: String,
    pub fallback_url: Option<String>,
    /// Service-level delivery status callback, used when a message has none.
    pub status_callback: Option<String>,
    /// Inbound messages use the number's own `sms_url` instead.
    pub use_inbound_webhook_on_number: bool,
}

impl FakeService {
    pub fn new(sid: &str, friendly_name: &str, phone_numbers: &[&str]) -> Self {
        Self {
            sid: sid.to_owned(),
            friendly_name: friendly_name.to_owned(),
            phone_numbers: phone_numbers.iter().map(|n| (*n).to_owned()).collect(),
            inbound_request_url: None,
            inbound_method: "POST".to_owned(),
            fallback_url: None,
            status_callback: None,
            use_inbound_webhook_on_number: false,
        }
    }
}

/// How a fake is set up. `Default`: account [`DEFAULT_ACCOUNT_SID`] "Acme
/// Twilio" with token [`DEFAULT_AUTH_TOKEN`], numbers `+15017122661` and
/// `+15017122662` (SMS, MMS, voice), and Messaging Service
/// [`DEFAULT_SERVICE_SID`] "Acme Support" whose pool is `+15017122662`.
#[derive(Clone, Debug)]
pub struct FakeTwilioConfig {
    pub account_sid: String,
    pub auth_token: String,
    pub friendly_name: String,
    pub numbers: Vec<FakeNumber>,
    pub services: Vec<FakeService>,
}

impl Default for FakeTwilioConfig {
    fn default() -> Self {
        Self {
            account_sid: DEFAULT_ACCOUNT_SID.to_owned(),
            auth_token: DEFAULT_AUTH_TOKEN.to_owned(),
            friendly_name: "Acme Twilio".to_owned(),
            numbers: vec![
                FakeNumber::new(DEFAULT_NUMBER_SID, DEFAULT_NUMBER),
                FakeNumber::new(SERVICE_NUMBER_SID, SERVICE_NUMBER),
            ],
            services: vec![FakeService::new(DEFAULT_SERVICE_SID, "Acme Support", &[SERVICE_NUMBER])],
        }
    }
}

/// A file attached to an outbound message by `MediaUrl`, as the fake
/// downloaded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentMedia {
    pub url: String,
    /// The `Content-Type` the URL answered with.
    pub content_type: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// Why the download failed (the message then fails with 11200).
    pub error: Option<String>,
}

/// A message created through `POST …/Messages.json`, with its current state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    /// `SM` + 32 hex digits.
    pub sid: String,
    /// The `From` parameter, or the pool number picked for a Messaging
    /// Service send once it leaves the queue.
    pub from: Option<String>,
    pub messaging_service_sid: Option<String>,
    pub to: String,
    pub body: String,
    pub media: Vec<SentMedia>,
    /// The `StatusCallback` parameter.
    pub status_callback: Option<String>,
    /// `accepted`, `queued`, `sent`, `delivered`, `undelivered`, `failed`.
    pub status: String,
    pub error_code: Option<u32>,
    pub num_segments: usize,
    pub(crate) created_secs: i64,
    pub(crate) sent_secs: Option<i64>,
    pub(crate) updated_secs: i64,
}

/// A media item of an inbound MMS, served at its `MediaUrl{N}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundMedia {
    /// `ME` + 32 hex digits.
    pub sid: String,
    pub content_type: String,
    pub url: String,
    pub size: u64,
}

/// A message a customer sent to one of the account's numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InboundMessage {
    /// `SM…` for SMS, `MM…` when it carries media.
    pub sid: String,
    pub from: String,
    pub to: String,
    pub body: String,
    pub messaging_service_sid: Option<String>,
    pub media: Vec<InboundMedia>,
    pub num_segments: usize,
    pub(crate) created_secs: i64,
}

/// A customer who replied with an opt-out keyword to `number`. Sends from
/// that number — or from any number of its Messaging Service — fail with
/// 21610 until they opt back in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OptOut {
    pub number: String,
    pub customer: String,
}

/// What happened when the fake sent a webhook (inbound message or status
/// callback) to the app. Keeps the exact request so it can be replayed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Delivery {
    pub url: String,
    /// `POST` (form body) or `GET` (parameters in the query string).
    pub method: String,
    /// The form parameters, in the order sent.
    pub params: Vec<(String, String)>,
    /// The `X-Twilio-Signature` header sent (empty: none).
    pub signature: String,
    /// The `I-Twilio-Idempotency-Token` header, repeated on redelivery.
    pub idempotency_token: String,
    /// The app's HTTP status; `None` when no response came back.
    pub status: Option<u16>,
    /// The app's response body.
    pub body: String,
    /// Why nothing was delivered (no URL configured, connection refused…).
    pub error: Option<String>,
}

impl Delivery {
    pub(crate) fn failed(error: impl Into<String>) -> Self {
        Self {
            url: String::new(),
            method: String::new(),
            params: Vec::new(),
            signature: String::new(),
            idempotency_token: String::new(),
            status: None,
            body: String::new(),
            error: Some(error.into()),
        }
    }

    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    /// The first value of form parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One status callback the fake sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusCallbackRecord {
    pub message_sid: String,
    pub message_status: String,
    pub error_code: Option<u32>,
    pub delivery: Delivery,
}

/// Whether and how status callbacks follow a send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusMode {
    /// `sent` then the final status, shortly after the send (default).
    #[default]
    Auto,
    /// Nothing happens after a send: the message stays `queued`/`accepted`
    /// until [`crate::FakeTwilio::status_callback`] is called.
    Off,
    /// As `Auto` but the final status callback arrives before `sent`, as
    /// Twilio warns can happen.
    OutOfOrder,
}

/// How messages to a recipient end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// `sent`, `delivered`.
    #[default]
    Delivered,
    /// `sent`, then `undelivered` with `ErrorCode` (30003 unreachable
    /// handset, 30006 landline or unreachable carrier, …).
    Undelivered { error_code: u32 },
    /// `failed` with `ErrorCode` (30008 unknown error, …), never sent.
    Failed { error_code: u32 },
}

impl Outcome {
    /// The statuses a message goes through after `queued`, in true order.
    pub(crate) fn steps(self) -> Vec<(&'static str, Option<u32>)> {
        match self {
            Outcome::Delivered => vec![("sent", None), ("delivered", None)],
            Outcome::Undelivered { error_code } => vec![("sent", None), ("undelivered", Some(error_code))],
            Outcome::Failed { error_code } => vec![("failed", Some(error_code))],
        }
    }
}
