//! The fake's in-memory state and the rules that read it (who owns which
//! number, opt-outs, message status progression). One `Mutex` guards it all
//! and is never held across an `.await`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::Rng as _;

use super::time::now_secs;
use super::world::{
    FakeNumber, FakeService, FakeTwilioConfig, InboundMessage, OptOut, Outcome, SentMessage, StatusCallbackRecord,
    StatusMode,
};

/// How many requests the fake remembers; the binary may serve for a long while.
pub(crate) const MAX_REQUESTS_SEEN: usize = 10_000;

/// Twilio's default opt-out keywords for long codes and toll-free numbers
/// (Advanced Opt-Out tutorial, twilio.com/docs/messaging/tutorials/advanced-opt-out).
pub const OPT_OUT_KEYWORDS: [&str; 8] = [
    "STOP",
    "UNSUBSCRIBE",
    "END",
    "QUIT",
    "STOPALL",
    "REVOKE",
    "OPTOUT",
    "CANCEL",
];

/// Keywords that opt a customer back in (Twilio support, "Error 21610").
pub const OPT_IN_KEYWORDS: [&str; 3] = ["START", "UNSTOP", "YES"];

/// State shared by every handler (behind an `Arc`).
pub(crate) struct Shared {
    state: Mutex<State>,
    /// For webhooks and `MediaUrl` downloads.
    pub http: reqwest::Client,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

impl Shared {
    pub fn new(config: FakeTwilioConfig, addr: SocketAddr) -> Self {
        Self {
            state: Mutex::new(State::new(config)),
            http: reqwest::Client::new(),
            addr,
            base_url: format!("http://{addr}"),
        }
    }

    /// A panic in another handler must not wedge the fake, so a poisoned
    /// lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Inbound media bytes, kept for the media route.
pub(crate) struct StoredMedia {
    pub message_sid: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub created_secs: i64,
}

pub(crate) struct State {
    config: FakeTwilioConfig,
    pub account_sid: String,
    pub auth_token: String,
    pub friendly_name: String,
    pub created_secs: i64,
    pub numbers: Vec<FakeNumber>,
    pub number_updated_secs: HashMap<String, i64>,
    pub services: Vec<FakeService>,
    pub service_updated_secs: HashMap<String, i64>,
    pub messages: Vec<SentMessage>,
    pub inbound: Vec<InboundMessage>,
    pub media: HashMap<String, StoredMedia>,
    pub opt_outs: Vec<OptOut>,
    pub callbacks: Vec<StatusCallbackRecord>,
    pub requests: Vec<String>,
    pub status_mode: StatusMode,
    pub outcomes: HashMap<String, Outcome>,
    pub invalid: HashSet<String>,
    pub unreachable: HashSet<String>,
}

impl State {
    fn new(config: FakeTwilioConfig) -> Self {
        let now = now_secs();
        Self {
            account_sid: config.account_sid.clone(),
            auth_token: config.auth_token.clone(),
            friendly_name: config.friendly_name.clone(),
            created_secs: now,
            numbers: config.numbers.clone(),
            number_updated_secs: HashMap::new(),
            services: config.services.clone(),
            service_updated_secs: HashMap::new(),
            messages: Vec::new(),
            inbound: Vec::new(),
            media: HashMap::new(),
            opt_outs: Vec::new(),
            callbacks: Vec::new(),
            requests: Vec::new(),
            status_mode: StatusMode::default(),
            outcomes: HashMap::new(),
            invalid: HashSet::new(),
            unreachable: HashSet::new(),
            config,
        }
    }

    /// Back to the configured world, keeping the current Auth Token (a test
    /// that rotated it has handed the new one out already).
    pub fn reset(&mut self) {
        let token = self.auth_token.clone();
        let config = self.config.clone();
        *self = State::new(config);
        self.auth_token = token;
    }

    pub fn number(&self, e164: &str) -> Option<&FakeNumber> {
        self.numbers.iter().find(|n| n.phone_number == e164)
    }

    pub fn number_by_sid_mut(&mut self, sid: &str) -> Option<&mut FakeNumber> {
        self.numbers.iter_mut().find(|n| n.sid == sid)
    }

    pub fn service(&self, sid: &str) -> Option<&FakeService> {
        self.services.iter().find(|s| s.sid == sid)
    }

    /// The Messaging Service whose pool holds `e164`.
    pub fn service_of(&self, e164: &str) -> Option<&FakeService> {
        self.services.iter().find(|s| s.phone_numbers.iter().any(|n| n == e164))
    }

    /// Whether `customer` opted out of every sender in `senders` — Twilio
    /// applies an opt-out from one pool number to the whole service.
    pub fn is_opted_out(&self, customer: &str, senders: &[String]) -> bool {
        self.opt_outs
            .iter()
            .any(|o| o.customer == customer && senders.contains(&o.number))
    }

    /// The numbers that share opt-outs with `number`: its whole service
    /// pool, or just itself.
    pub fn opt_out_scope(&self, number: &str) -> Vec<String> {
        match self.service_of(number) {
            Some(service) => service.phone_numbers.clone(),
            None => vec![number.to_owned()],
        }
    }

    /// Applies an inbound keyword: opt-out or opt-in keywords (whole body,
    /// trimmed, any case) change the customer's standing with `number`.
    pub fn apply_keyword(&mut self, number: &str, customer: &str, body: &str) {
        let word = body.trim().to_ascii_uppercase();
        if OPT_OUT_KEYWORDS.contains(&word.as_str()) {
            if !self
                .opt_outs
                .iter()
                .any(|o| o.number == number && o.customer == customer)
            {
                self.opt_outs.push(OptOut {
                    number: number.to_owned(),
                    customer: customer.to_owned(),
                });
            }
        } else if OPT_IN_KEYWORDS.contains(&word.as_str()) {
            let scope = self.opt_out_scope(number);
            self.opt_outs
                .retain(|o| !(o.customer == customer && scope.contains(&o.number)));
        }
    }

    pub fn outcome_for(&self, to: &str) -> Outcome {
        self.outcomes.get(to).copied().unwrap_or_default()
    }

    pub fn record_request(&mut self, seen: String) {
        if self.requests.len() >= MAX_REQUESTS_SEEN {
            self.requests.drain(..MAX_REQUESTS_SEEN / 2);
        }
        self.requests.push(seen);
    }
}

/// `prefix` + 32 lowercase hex digits: the shape of every Twilio SID.
pub(crate) fn new_sid(prefix: &str) -> String {
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    format!("{prefix}{}", hex::encode(bytes))
}

/// How far along a status is; a message's stored status never moves back
/// (callbacks may arrive out of order, the resource does not).
pub(crate) fn status_rank(status: &str) -> u8 {
    match status {
        "accepted" | "scheduled" => 0,
        "queued" => 1,
        "sending" => 2,
        "sent" => 3,
        "failed" | "undelivered" | "delivered" | "read" => 4,
        _ => 0,
    }
}

/// Whether `number` is E.164: `+`, a non-zero digit, 7 to 15 digits in all.
pub(crate) fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
    })
}

/// ISO country of a number, for `FromCountry`/`ToCountry` (only the
/// prefixes the default world uses; others are left empty).
pub(crate) fn country_of(e164: &str) -> &'static str {
    if e164.starts_with("+1") {
        "US"
    } else if e164.starts_with("+44") {
        "GB"
    } else if e164.starts_with("+33") {
        "FR"
    } else if e164.starts_with("+49") {
        "DE"
    } else {
        ""
    }
}
