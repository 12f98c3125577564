//! The fake's memory: bots with their webhooks, chats and messages, stored
//! files, flood-control and block switches, and everything that was sent.
//!
//! One mutex guards it all; handlers take the lock for short, synchronous
//! steps and never hold it across an `.await` (network calls happen between
//! two lock sections).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde_json::{Value, json};

use super::errors::{self, ApiError};
use super::{ApiRequest, CallbackAnswer, FakeBot, FakeTelegramConfig, FakeUser, SentRecord, WebhookConfig};

/// Telegram's getFile limit: "bots can download files of up to 20MB in size".
pub(crate) const MAX_DOWNLOAD_BYTES: u64 = 20 * 1024 * 1024;
/// How many requests the fake remembers; the binary may serve for a long while.
const MAX_REQUESTS_SEEN: usize = 10_000;

pub(crate) struct Shared {
    state: Mutex<State>,
    pub addr: SocketAddr,
    pub base_url: String,
    pub http: reqwest::Client,
}

impl Shared {
    pub fn new(config: FakeTelegramConfig, addr: SocketAddr) -> Self {
        Self {
            state: Mutex::new(State::new(config)),
            addr,
            base_url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    /// A panicking test thread must not wedge the whole fake, so a poisoned
    /// lock is taken over as is.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A file the fake can hand out through getFile and the download route.
#[derive(Clone, Debug)]
pub(crate) struct StoredFile {
    pub file_id: String,
    pub file_unique_id: String,
    pub file_path: String,
    pub size: u64,
    /// `None` for files registered by size only (too big to download anyway).
    pub bytes: Option<Arc<Vec<u8>>>,
    pub content_type: String,
}

pub(crate) struct Flood {
    pub retry_after: u64,
    pub remaining: u32,
}

pub(crate) struct ChatState {
    /// The `Chat` object as messages carry it.
    pub chat: Value,
    /// Message ids are per chat and shared by both sides, as in Telegram.
    pub next_message_id: i64,
    pub messages: BTreeMap<i64, Value>,
}

pub(crate) struct WebhookHealth {
    pub last_error_date: Option<i64>,
    pub last_error_message: Option<String>,
    /// Updates not (yet) acknowledged with a 2xx.
    pub pending: BTreeSet<i64>,
}

pub(crate) struct BotState {
    pub bot: FakeBot,
    pub webhook: Option<WebhookConfig>,
    /// Survives deleteWebhook: "If not specified, the previous setting will be used."
    pub allowed_updates: Option<Vec<String>>,
    pub health: WebhookHealth,
    pub next_update_id: i64,
    pub updates: HashMap<i64, Value>,
    pub chats: HashMap<i64, ChatState>,
    pub blocked_by: HashSet<i64>,
    pub flood: HashMap<i64, Flood>,
    /// Callback query id → already answered.
    pub callback_queries: HashMap<String, bool>,
}

pub(crate) struct State {
    pub bots: BTreeMap<i64, BotState>,
    pub customers: Vec<FakeUser>,
    pub files: HashMap<String, StoredFile>,
    pub next_file_number: u64,
    pub sent: Vec<SentRecord>,
    pub callback_answers: Vec<CallbackAnswer>,
    pub requests: Vec<ApiRequest>,
    config: FakeTelegramConfig,
}

impl State {
    fn new(config: FakeTelegramConfig) -> Self {
        let bots = config
            .bots
            .iter()
            .enumerate()
            .map(|(index, bot)| {
                // Distinct, realistic-looking starting points per bot make
                // mixed-up bots visible in test failures.
                let first_update_id = 800_000_001 + (index as i64) * 100_000_000;
                (bot.id, BotState::new(bot.clone(), first_update_id))
            })
            .collect();
        Self {
            bots,
            customers: config.customers.clone(),
            files: HashMap::new(),
            next_file_number: 1,
            sent: Vec::new(),
            callback_answers: Vec::new(),
            requests: Vec::new(),
            config,
        }
    }

    pub fn reset(&mut self) {
        *self = State::new(self.config.clone());
    }

    pub fn record_request(&mut self, request: ApiRequest) {
        if self.requests.len() >= MAX_REQUESTS_SEEN {
            self.requests.drain(..MAX_REQUESTS_SEEN / 2);
        }
        self.requests.push(request);
    }

    pub fn bot_id_by_token(&self, token: &str) -> Option<i64> {
        self.bots.values().find(|b| b.bot.token == token).map(|b| b.bot.id)
    }

    pub fn bot(&self, bot_id: i64) -> Option<&BotState> {
        self.bots.get(&bot_id)
    }

    pub fn bot_mut(&mut self, bot_id: i64) -> Option<&mut BotState> {
        self.bots.get_mut(&bot_id)
    }

    pub fn customer(&self, user_id: i64) -> Option<&FakeUser> {
        self.customers.iter().find(|c| c.id == user_id)
    }

    /// The chat, creating a customer's private chat on first use. `None` for
    /// chats the bot has never been in.
    pub fn chat_mut(&mut self, bot_id: i64, chat_id: i64) -> Option<&mut ChatState> {
        let customer_chat = self.customer(chat_id).map(private_chat_json);
        let bot = self.bots.get_mut(&bot_id)?;
        match bot.chats.entry(chat_id) {
            std::collections::hash_map::Entry::Occupied(entry) => Some(entry.into_mut()),
            std::collections::hash_map::Entry::Vacant(entry) => Some(entry.insert(ChatState::new(customer_chat?))),
        }
    }

    /// `chat_id` as the Bot API takes it: an integer, or `@username`, which a
    /// bot cannot use for private chats (so the fake never resolves one).
    pub fn resolve_chat(&mut self, bot_id: i64, chat_id: Option<String>) -> Result<i64, ApiError> {
        let raw = chat_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::bad_request("Bad Request: chat_id is empty"))?;
        let id: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::bad_request(errors::CHAT_NOT_FOUND))?;
        self.chat_mut(bot_id, id)
            .map(|_| id)
            .ok_or_else(|| ApiError::bad_request(errors::CHAT_NOT_FOUND))
    }

    /// Flood control, then the block switch, for a send to `chat_id`. A flood
    /// entry is used up by each call that reaches it.
    pub fn check_deliverable(&mut self, bot_id: i64, chat_id: i64) -> Result<(), ApiError> {
        let Some(bot) = self.bots.get_mut(&bot_id) else {
            return Err(ApiError::unauthorized());
        };
        if let Some(flood) = bot.flood.get_mut(&chat_id) {
            let retry_after = flood.retry_after;
            flood.remaining = flood.remaining.saturating_sub(1);
            if flood.remaining == 0 {
                bot.flood.remove(&chat_id);
            }
            return Err(ApiError::too_many_requests(retry_after));
        }
        if bot.blocked_by.contains(&chat_id) {
            return Err(ApiError::new(403, errors::BOT_BLOCKED));
        }
        Ok(())
    }

    /// Registers bytes (or, with `bytes: None`, just a size) as a file and
    /// returns its ids. `kind` picks the file-id prefix and download folder.
    pub fn register_file(
        &mut self,
        kind: &str,
        size: u64,
        bytes: Option<Arc<Vec<u8>>>,
        content_type: &str,
        file_name: Option<&str>,
    ) -> StoredFile {
        let number = self.next_file_number;
        self.next_file_number += 1;
        let (prefix, folder) = match kind {
            "photo" => ("AgACAgIAAxkBAAI", "photos"),
            "video" => ("BAACAgIAAxkBAAI", "videos"),
            "audio" => ("CQACAgIAAxkBAAI", "music"),
            "voice" => ("AwACAgIAAxkBAAI", "voice"),
            "sticker" => ("CAACAgIAAxkBAAI", "stickers"),
            _ => ("BQACAgIAAxkBAAI", "documents"),
        };
        let extension = file_name
            .and_then(|name| name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()))
            .filter(|ext| !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
            .or_else(|| {
                mime_guess::get_mime_extensions_str(content_type)
                    .and_then(|exts| exts.first())
                    .map(|ext| (*ext).to_owned())
            })
            .unwrap_or_else(|| "bin".to_owned());
        let file = StoredFile {
            file_id: format!("{prefix}{number:05}{}", random_string(40)),
            file_unique_id: format!("AgAD{}", random_string(12)),
            file_path: format!("{folder}/file_{number}.{extension}"),
            size,
            bytes,
            content_type: content_type.to_owned(),
        };
        self.files.insert(file.file_id.clone(), file.clone());
        file
    }

    pub fn file_by_path(&self, path: &str) -> Option<&StoredFile> {
        self.files.values().find(|f| f.file_path == path)
    }
}

impl BotState {
    fn new(bot: FakeBot, first_update_id: i64) -> Self {
        Self {
            bot,
            webhook: None,
            allowed_updates: None,
            health: WebhookHealth {
                last_error_date: None,
                last_error_message: None,
                pending: BTreeSet::new(),
            },
            next_update_id: first_update_id,
            updates: HashMap::new(),
            chats: HashMap::new(),
            blocked_by: HashSet::new(),
            flood: HashMap::new(),
            callback_queries: HashMap::new(),
        }
    }

    /// The bot as a `User` object (what getMe answers and `from` carries).
    pub fn user_json(&self) -> Value {
        json!({
            "id": self.bot.id,
            "is_bot": true,
            "first_name": self.bot.first_name,
            "username": self.bot.username,
        })
    }

    /// WebhookInfo; optional fields are left out when unset, as Telegram does.
    pub fn webhook_info(&self) -> Value {
        let Some(webhook) = &self.webhook else {
            return json!({"url": "", "has_custom_certificate": false, "pending_update_count": self.health.pending.len()});
        };
        let mut info = json!({
            "url": webhook.url,
            "has_custom_certificate": false,
            "pending_update_count": self.health.pending.len(),
            "max_connections": webhook.max_connections,
        });
        if let Some(date) = self.health.last_error_date {
            info["last_error_date"] = json!(date);
        }
        if let Some(message) = &self.health.last_error_message {
            info["last_error_message"] = json!(message);
        }
        if let Some(allowed) = self.allowed_updates.as_ref().filter(|list| !list.is_empty()) {
            info["allowed_updates"] = json!(allowed);
        }
        info
    }
}

impl ChatState {
    pub fn new(chat: Value) -> Self {
        Self {
            chat,
            next_message_id: 1,
            messages: BTreeMap::new(),
        }
    }

    pub fn take_message_id(&mut self) -> i64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }
}

/// A customer as a `User` object.
pub(crate) fn user_json(user: &FakeUser) -> Value {
    let mut value = json!({"id": user.id, "is_bot": false, "first_name": user.first_name});
    if let Some(last_name) = &user.last_name {
        value["last_name"] = json!(last_name);
    }
    if let Some(username) = &user.username {
        value["username"] = json!(username);
    }
    if let Some(language_code) = &user.language_code {
        value["language_code"] = json!(language_code);
    }
    value
}

/// The private chat with a customer; its id is the user's id.
pub(crate) fn private_chat_json(user: &FakeUser) -> Value {
    let mut value = json!({"id": user.id, "first_name": user.first_name, "type": "private"});
    if let Some(last_name) = &user.last_name {
        value["last_name"] = json!(last_name);
    }
    if let Some(username) = &user.username {
        value["username"] = json!(username);
    }
    value
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

pub(crate) fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
