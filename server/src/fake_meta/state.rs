//! The fake's in-memory world: pages, tokens, codes, subscriptions and what
//! was sent. One `Mutex` guards it all; it is never held across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::Rng;
use rand::distributions::Alphanumeric;

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
    /// Whether a successful send is followed by a `message_echoes` webhook.
    pub echo: bool,
    pub pages: Vec<PageState>,
    pub codes: HashMap<String, CodeGrant>,
    pub user_tokens: HashSet<String>,
    /// Expired tokens and when they expired.
    pub expired_tokens: HashMap<String, i64>,
    /// page id → subscribed webhook fields.
    pub subscriptions: BTreeMap<String, Vec<String>>,
    /// PSIDs whose 24-hour standard messaging window is closed.
    pub outside_window: HashSet<String>,
    pub sent: Vec<SentMessage>,
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
            echo: true,
            pages,
            codes: HashMap::new(),
            user_tokens: HashSet::new(),
            expired_tokens: HashMap::new(),
            subscriptions: BTreeMap::new(),
            outside_window: HashSet::new(),
            sent: Vec::new(),
            initial: config,
        }
    }

    /// Back to the initial configuration, keeping the wiring (webhook URL,
    /// echo switch) that a test or the binary may have changed.
    pub fn reset(&mut self) {
        let webhook_url = self.webhook_url.take();
        let echo = self.echo;
        *self = State::new(self.initial.clone());
        self.webhook_url = webhook_url;
        self.echo = echo;
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

/// Random alphanumeric string, for codes, tokens, mids and trace ids.
pub(crate) fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
