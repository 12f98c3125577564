//! The fake's in-memory world: pages, tokens, codes, subscriptions and what
//! was sent. One `Mutex` guards it all; it is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::Rng;
use rand::distributions::Alphanumeric;

use super::ig_state::IgState;
use super::wa_state::WaState;
use super::{FakeCustomer, FakeMetaConfig, SentMessage};

/// State shared by every request handler (behind an `Arc`).
pub(crate) struct Shared {
    state: Mutex<State>,
    /// For POSTing webhooks to the app.
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`, used to build avatar URLs.
    pub base_url: String,
}

impl Shared {
    pub fn new(config: FakeMetaConfig, base_url: String) -> Self {
        Self {
            state: Mutex::new(State::new(config)),
            http: reqwest::Client::new(),
            base_url,
        }
    }

    /// Locks the state. A panic in another handler must not wedge the fake,
    /// so a poisoned lock is simply taken over.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many requests the fake remembers; the binary may serve for a long while.
pub(crate) const MAX_REQUESTS_SEEN: usize = 10_000;

/// A page as the fake currently sees it.
#[derive(Clone, Debug)]
pub(crate) struct PageState {
    pub id: String,
    pub name: String,
    pub category: String,
    /// The token `/me/accounts` currently hands out for this page.
    pub token: String,
    /// The configured token; re-issued tokens are `{base_token}-{n}`.
    base_token: String,
    generation: u32,
    pub customers: Vec<FakeCustomer>,
}

/// An authorization code handed out by the login dialog.
#[derive(Clone, Debug)]
pub(crate) struct CodeGrant {
    /// Meta requires the exchange to repeat the dialog's `redirect_uri`.
    pub redirect_uri: String,
    pub used: bool,
}

/// What an access token turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TokenKind {
    Missing,
    /// Not a token this fake ever issued.
    Invalid,
    /// Issued, then expired (`expire_page_token`, or replaced since).
    Expired {
        at_ms: i64,
    },
    User,
    Page(String),
    /// A WhatsApp Business Account's system-user token.
    Waba(String),
}

pub(crate) struct State {
    /// The configuration the fake started with, for `reset`.
    initial: FakeMetaConfig,
    pub app_id: String,
    pub app_secret: String,
    pub user_name: String,
    /// The fake user's (app-scoped) id, for `/me`.
    pub user_id: String,
    pub webhook_url: Option<String>,
    /// Where WhatsApp webhooks go; `None`: derived from `webhook_url`.
    pub whatsapp_webhook_url: Option<String>,
    /// Where Instagram webhooks go; `None`: derived from `webhook_url`.
    pub instagram_webhook_url: Option<String>,
    /// Whether a successful send is followed by a `message_echoes` webhook.
    pub echo: bool,
    pub pages: Vec<PageState>,
    pub codes: HashMap<String, CodeGrant>,
    pub user_tokens: HashSet<String>,
    /// Resumable Upload API sessions in progress, and the handles of finished uploads.
    pub upload_sessions: HashMap<String, super::resumable::UploadSession>,
    pub file_handles: HashMap<String, super::resumable::FileHandle>,
    /// User tokens handed out by `fb_exchange_token` (long-lived, about 60 days at Meta).
    pub long_lived_tokens: HashSet<String>,
    /// Expired tokens and when they expired.
    pub expired_tokens: HashMap<String, i64>,
    /// page id → subscribed webhook fields.
    pub subscriptions: BTreeMap<String, Vec<String>>,
    /// PSIDs whose 24-hour standard messaging window is closed.
    pub outside_window: HashSet<String>,
    /// Send API calls (Messenger and Instagram).
    pub sent: Vec<SentMessage>,
    /// Every request received, as `METHOD /path?query`, oldest first (the newest
    /// `MAX_REQUESTS_SEEN`).
    pub requests: Vec<String>,
    pub wa: WaState,
    pub ig: IgState,
}

impl State {
    pub fn new(config: FakeMetaConfig) -> Self {
        let pages = config
            .pages
            .iter()
            .map(|p| PageState {
                id: p.id.clone(),
                name: p.name.clone(),
                category: p.category.clone(),
                token: p.access_token.clone(),
                base_token: p.access_token.clone(),
                generation: 1,
                customers: p.customers.clone(),
            })
            .collect();
        Self {
            app_id: config.app_id.clone(),
            app_secret: config.app_secret.clone(),
            user_name: config.user_name.clone(),
            user_id: "5550001".to_owned(),
            webhook_url: config.webhook_url.clone(),
            whatsapp_webhook_url: config.whatsapp_webhook_url.clone(),
            instagram_webhook_url: config.instagram_webhook_url.clone(),
            echo: true,
            pages,
            codes: HashMap::new(),
            user_tokens: HashSet::new(),
            long_lived_tokens: HashSet::new(),
            upload_sessions: HashMap::new(),
            file_handles: HashMap::new(),
            expired_tokens: HashMap::new(),
            subscriptions: BTreeMap::new(),
            outside_window: HashSet::new(),
            sent: Vec::new(),
            requests: Vec::new(),
            wa: WaState::new(&config.businesses),
            ig: IgState::new(&config.instagram_accounts),
            initial: config,
        }
    }

    /// Back to the initial configuration, keeping the wiring (webhook URLs,
    /// echo, WhatsApp auto-status, window-error mode and auto-approval
    /// switches) that a test or the binary may have changed.
    pub fn reset(&mut self) {
        let webhook_url = self.webhook_url.take();
        let whatsapp_webhook_url = self.whatsapp_webhook_url.take();
        let instagram_webhook_url = self.instagram_webhook_url.take();
        let echo = self.echo;
        let (window_errors, auto_status, auto_approve) = (
            self.wa.window_errors,
            self.wa.auto_status,
            self.wa.auto_approve_after_ms,
        );
        *self = State::new(self.initial.clone());
        self.webhook_url = webhook_url;
        self.whatsapp_webhook_url = whatsapp_webhook_url;
        self.instagram_webhook_url = instagram_webhook_url;
        self.echo = echo;
        self.wa.window_errors = window_errors;
        self.wa.auto_status = auto_status;
        self.wa.auto_approve_after_ms = auto_approve;
    }

    /// Where WhatsApp webhooks go: the explicit URL, else the Messenger
    /// webhook URL with its last path segment replaced by `whatsapp`.
    pub fn whatsapp_url(&self) -> Option<String> {
        self.whatsapp_webhook_url
            .clone()
            .or_else(|| self.webhook_url.as_deref().map(|u| sibling_url(u, "whatsapp")))
    }

    /// Where Instagram webhooks go: the explicit URL, else the Messenger
    /// webhook URL with its last path segment replaced by `instagram`.
    pub fn instagram_url(&self) -> Option<String> {
        self.instagram_webhook_url
            .clone()
            .or_else(|| self.webhook_url.as_deref().map(|u| sibling_url(u, "instagram")))
    }

    /// Expires a token (any kind the fake issued), or — with `None` — every
    /// WABA system-user token and every user token. Expired WABA tokens are
    /// replaced by fresh ones, as an admin would generate. Returns the
    /// tokens that expired.
    pub fn expire_whatsapp_tokens(&mut self, token: Option<&str>) -> Vec<String> {
        let now = super::now_ms();
        let mut expired = Vec::new();
        match token {
            Some(token) => {
                if matches!(
                    self.classify_token(Some(token)),
                    TokenKind::Missing | TokenKind::Invalid
                ) {
                    return expired;
                }
                if let Some(waba_id) = self.wa.waba_for_token(token).map(|w| w.id.clone()) {
                    self.wa.rotate_token(&waba_id);
                }
                expired.push(token.to_owned());
            }
            None => {
                let waba_ids: Vec<String> = self.wa.wabas.iter().map(|w| w.id.clone()).collect();
                expired.extend(waba_ids.iter().filter_map(|id| self.wa.rotate_token(id)));
                expired.extend(
                    self.user_tokens
                        .iter()
                        .filter(|t| !self.expired_tokens.contains_key(*t))
                        .cloned(),
                );
            }
        }
        for token in &expired {
            self.expired_tokens.entry(token.clone()).or_insert(now);
        }
        expired
    }

    pub fn page(&self, page_id: &str) -> Option<&PageState> {
        self.pages.iter().find(|p| p.id == page_id)
    }

    pub fn page_mut(&mut self, page_id: &str) -> Option<&mut PageState> {
        self.pages.iter_mut().find(|p| p.id == page_id)
    }

    pub fn classify_token(&self, token: Option<&str>) -> TokenKind {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return TokenKind::Missing;
        };
        if let Some(at_ms) = self.expired_tokens.get(token) {
            return TokenKind::Expired { at_ms: *at_ms };
        }
        if let Some(page) = self.pages.iter().find(|p| p.token == token) {
            return TokenKind::Page(page.id.clone());
        }
        if self.user_tokens.contains(token) {
            return TokenKind::User;
        }
        if let Some(waba) = self.wa.waba_for_token(token) {
            return TokenKind::Waba(waba.id.clone());
        }
        TokenKind::Invalid
    }

    pub fn expire_page_token(&mut self, page_id: &str) -> bool {
        let Some(page) = self.page(page_id) else {
            return false;
        };
        let token = page.token.clone();
        self.expired_tokens.insert(token, super::now_ms());
        true
    }

    /// Pages whose token has expired get a new one, the way logging in again
    /// yields fresh Page tokens. Called when `/me/accounts` is read.
    pub fn renew_expired_page_tokens(&mut self) {
        let expired = &self.expired_tokens;
        for page in self.pages.iter_mut().filter(|p| expired.contains_key(&p.token)) {
            page.generation += 1;
            page.token = format!("{}-{}", page.base_token, page.generation);
        }
    }

    pub fn issue_code(&mut self, redirect_uri: &str) -> String {
        let code = format!("fake-code-{}", random_string(24));
        let grant = CodeGrant {
            redirect_uri: redirect_uri.to_owned(),
            used: false,
        };
        self.codes.insert(code.clone(), grant);
        code
    }

    pub fn issue_user_token(&mut self) -> String {
        let token = format!("user-token-{}", random_string(24));
        self.user_tokens.insert(token.clone());
        token
    }

    pub fn customer(&self, page_id: &str, psid: &str) -> Option<&FakeCustomer> {
        self.page(page_id)?.customers.iter().find(|c| c.psid == psid)
    }

    /// A customer messaging a page they have never messaged becomes known to
    /// it (gets a PSID profile), as on Messenger.
    pub fn ensure_customer(&mut self, page_id: &str, psid: &str, first: Option<&str>, last: Option<&str>) {
        let Some(page) = self.page_mut(page_id) else {
            return;
        };
        if page.customers.iter().any(|c| c.psid == psid) {
            return;
        }
        let suffix: String = psid
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let first = first.map_or_else(|| "Customer".to_owned(), str::to_owned);
        let last = last.map_or_else(|| suffix, str::to_owned);
        page.customers.push(FakeCustomer::new(psid, &first, &last));
    }
}

/// `…/api/webhooks/messenger` → `…/api/webhooks/{segment}`: the URL with its
/// last path segment replaced.
pub(crate) fn sibling_url(url: &str, segment: &str) -> String {
    if let Ok(mut parsed) = url::Url::parse(url) {
        let replaced = match parsed.path_segments_mut() {
            Ok(mut segments) => {
                segments.pop_if_empty().pop().push(segment);
                true
            }
            Err(()) => false,
        };
        if replaced {
            return parsed.to_string();
        }
    }
    match url.rsplit_once('/') {
        Some((head, _)) => format!("{head}/{segment}"),
        None => segment.to_owned(),
    }
}

/// Random alphanumeric string, for codes, tokens, mids and trace ids.
pub(crate) fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
