//! A local stand-in for Telegram's Bot API, for testing Messio's Telegram
//! channel adapter without reaching `api.telegram.org`.
//!
//! It speaks the *published* wire format (<https://core.telegram.org/bots/api>):
//! `{base}/bot{token}/{method}` with GET or POST and parameters in the query
//! string, JSON, form or multipart bodies; `{"ok":true,"result":…}` answers and
//! `{"ok":false,"error_code":N,"description":…}` failures with HTTP status `N`
//! and Telegram's own description strings (see `errors.rs` for where each was
//! checked). File downloads live at `{base}/file/bot{token}/{file_path}`.
//!
//! Methods: `getMe`, `setWebhook`, `deleteWebhook`, `getWebhookInfo`,
//! `sendMessage`, `sendPhoto`, `sendDocument`, `sendVideo`, `sendAudio`,
//! `sendVoice`, `editMessageText`, `deleteMessage`, `answerCallbackQuery`,
//! `getFile`. Method names match case-insensitively, as on Telegram; any
//! other method is a 404 `Not Found`.
//!
//! The fake also plays the customers: [`FakeTelegram::customer_text`] and
//! friends build the `Update` a real user's action would cause and POST it to
//! the bot's webhook with the `X-Telegram-Bot-Api-Secret-Token` header, and
//! webhook failures show up in `getWebhookInfo` as on Telegram. A JSON control
//! API under `/_fake/` (see `control.rs`) offers the same to browser tests.
//!
//! Rust tests use [`FakeTelegram::spawn`]; browser tests run the
//! `fake-telegram` binary. Tokens never appear in what the fake records or logs.

mod botapi;
mod control;
mod customer;
mod errors;
mod html;
mod params;
mod state;
#[cfg(test)]
mod tests;
mod webhook;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use serde::Serialize;
use serde_json::Value;

pub use customer::Inbound;
pub use errors::ApiError;
pub use webhook::{Delivery, SECRET_TOKEN_HEADER};

use state::Shared;

/// The default world's support bot.
pub const SUPPORT_BOT_ID: i64 = 7_000_000_001;
/// `<bot_id>:<35 characters>`, the shape of a real token.
pub const SUPPORT_BOT_TOKEN: &str = "7000000001:AAFakeTokenForAcmeSupportBot0000000";
/// The default world's second bot, to test several channels at once.
pub const SALES_BOT_ID: i64 = 7_000_000_002;
pub const SALES_BOT_TOKEN: &str = "7000000002:AAFakeTokenForAcmeSalesBot000000000";
/// Ada Lovelace (@ada): a customer with every optional field set.
pub const ADA_ID: i64 = 5_550_001;
/// Linus: a customer with no last name and no username.
pub const LINUS_ID: i64 = 5_550_002;

/// A bot the fake serves.
#[derive(Clone, Debug, Serialize)]
pub struct FakeBot {
    pub id: i64,
    /// `<id>:<secret>`; the Bot API path segment is `bot<token>`.
    pub token: String,
    pub first_name: String,
    pub username: String,
}

/// A Telegram user who talks to the bots. Their private chat with a bot has
/// the same id as the user.
#[derive(Clone, Debug, Serialize)]
pub struct FakeUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

/// How a fake is set up. `Default` gives the two Acme bots and the customers
/// Ada (5550001) and Linus (5550002); see the constants above.
#[derive(Clone, Debug)]
pub struct FakeTelegramConfig {
    pub bots: Vec<FakeBot>,
    pub customers: Vec<FakeUser>,
}

impl Default for FakeTelegramConfig {
    fn default() -> Self {
        Self {
            bots: vec![
                FakeBot {
                    id: SUPPORT_BOT_ID,
                    token: SUPPORT_BOT_TOKEN.to_owned(),
                    first_name: "Acme Support".to_owned(),
                    username: "acme_support_bot".to_owned(),
                },
                FakeBot {
                    id: SALES_BOT_ID,
                    token: SALES_BOT_TOKEN.to_owned(),
                    first_name: "Acme Sales".to_owned(),
                    username: "acme_sales_bot".to_owned(),
                },
            ],
            customers: vec![
                FakeUser {
                    id: ADA_ID,
                    first_name: "Ada".to_owned(),
                    last_name: Some("Lovelace".to_owned()),
                    username: Some("ada".to_owned()),
                    language_code: Some("en".to_owned()),
                },
                FakeUser {
                    id: LINUS_ID,
                    first_name: "Linus".to_owned(),
                    last_name: None,
                    username: None,
                    language_code: Some("fi".to_owned()),
                },
            ],
        }
    }
}

/// The webhook a bot set with `setWebhook`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebhookConfig {
    pub url: String,
    pub secret_token: Option<String>,
    /// As last given (setWebhook keeps the previous list when it is omitted).
    pub allowed_updates: Option<Vec<String>>,
    pub max_connections: u32,
}

/// The file of an accepted media send, as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SentFile {
    /// `upload` (multipart), `url` (downloaded by the fake) or `file_id`.
    pub source: String,
    pub file_name: Option<String>,
    pub content_type: String,
    pub size: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
    /// The id the customer's copy got (reuse it with getFile).
    pub file_id: String,
}

/// One send, edit or delete the fake accepted.
#[derive(Clone, Debug, Serialize)]
pub struct SentRecord {
    /// The Bot API method as Telegram spells it (`sendMessage`, …).
    pub method: String,
    pub bot_id: i64,
    pub chat_id: i64,
    /// The message sent, edited or deleted.
    pub message_id: i64,
    /// `text` as the bot passed it (before entity parsing).
    pub text: Option<String>,
    pub caption: Option<String>,
    pub parse_mode: Option<String>,
    pub reply_parameters: Option<Value>,
    pub reply_markup: Option<Value>,
    pub file: Option<SentFile>,
    /// Every scalar parameter of the call (uploads are only in `file`).
    pub params: Value,
}

/// One accepted answerCallbackQuery call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallbackAnswer {
    pub bot_id: i64,
    pub callback_query_id: String,
    pub text: Option<String>,
    pub show_alert: bool,
    pub url: Option<String>,
}

/// A Bot API call as the fake recorded it: never with the token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiRequest {
    /// `GET` or `POST`.
    pub http_method: String,
    /// The Bot API method as requested (`sendMessage`), or `file/<file_path>`
    /// for downloads.
    pub method: String,
    /// `None` when the token was not a known bot's.
    pub bot_id: Option<i64>,
}

/// A running fake. Cheap to clone; every clone talks to the same server. The
/// server lives as long as the tokio runtime it was spawned on.
#[derive(Clone)]
pub struct FakeTelegram {
    shared: Arc<Shared>,
}

impl FakeTelegram {
    /// Binds `127.0.0.1:0` and serves the fake in a background task.
    pub async fn spawn(config: FakeTelegramConfig) -> std::io::Result<FakeTelegram> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::spawn_on(listener, config).await
    }

    /// Serves the fake on an already bound listener, in a background task.
    pub async fn spawn_on(
        listener: tokio::net::TcpListener,
        config: FakeTelegramConfig,
    ) -> std::io::Result<FakeTelegram> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, addr));
        let app = router(shared.clone());
        tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "fake-telegram server stopped");
            }
        });
        Ok(FakeTelegram { shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// `http://127.0.0.1:PORT`: the adapter's API base; it calls
    /// `{base}/bot{token}/getMe` and downloads from `{base}/file/bot{token}/…`.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The bots of the configured world.
    pub fn bots(&self) -> Vec<FakeBot> {
        self.shared.lock().bots.values().map(|b| b.bot.clone()).collect()
    }

    /// A bot's token, for building the adapter's credentials.
    pub fn token(&self, bot_id: i64) -> Option<String> {
        self.shared.lock().bot(bot_id).map(|b| b.bot.token.clone())
    }

    /// Every accepted send, edit and delete, oldest first.
    pub fn sent(&self) -> Vec<SentRecord> {
        self.shared.lock().sent.clone()
    }

    /// Every accepted answerCallbackQuery, oldest first.
    pub fn callback_answers(&self) -> Vec<CallbackAnswer> {
        self.shared.lock().callback_answers.clone()
    }

    /// The webhook the bot set, `None` when it has none.
    pub fn webhook(&self, bot_id: i64) -> Option<WebhookConfig> {
        self.shared.lock().bot(bot_id).and_then(|b| b.webhook.clone())
    }

    /// What `getWebhookInfo` answers for the bot right now.
    pub fn webhook_info(&self, bot_id: i64) -> Option<Value> {
        self.shared.lock().bot(bot_id).map(state::BotState::webhook_info)
    }

    /// Every Bot API call and download, oldest first, without tokens.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.shared.lock().requests.clone()
    }

    /// The Bot API methods called so far, in order (`["getMe", "setWebhook", …]`).
    pub fn methods_called(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.method).collect()
    }

    /// The messages of a chat as the fake holds them now (edits applied,
    /// deleted ones gone), oldest first.
    pub fn messages(&self, bot_id: i64, chat_id: i64) -> Vec<Value> {
        let state = self.shared.lock();
        state
            .bot(bot_id)
            .and_then(|b| b.chats.get(&chat_id))
            .map(|chat| chat.messages.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Later sends from this bot to the user fail with 403 "bot was blocked by
    /// the user". No update is delivered; [`FakeTelegram::customer_block`]
    /// also delivers the `my_chat_member` update. False for an unknown bot.
    pub fn block(&self, bot_id: i64, user_id: i64) -> bool {
        self.shared
            .lock()
            .bot_mut(bot_id)
            .map(|bot| bot.blocked_by.insert(user_id))
            .is_some()
    }

    /// Undoes [`FakeTelegram::block`] silently.
    pub fn unblock(&self, bot_id: i64, user_id: i64) -> bool {
        self.shared
            .lock()
            .bot_mut(bot_id)
            .map(|bot| bot.blocked_by.remove(&user_id))
            .is_some()
    }

    /// The next `times` send calls from the bot to `chat_id` fail with 429
    /// "Too Many Requests: retry after {retry_after_secs}" and
    /// `parameters.retry_after`. False for an unknown bot.
    pub fn flood(&self, bot_id: i64, chat_id: i64, retry_after_secs: u64, times: u32) -> bool {
        let mut state = self.shared.lock();
        let Some(bot) = state.bot_mut(bot_id) else {
            return false;
        };
        if times == 0 {
            bot.flood.remove(&chat_id);
        } else {
            bot.flood.insert(
                chat_id,
                state::Flood {
                    retry_after: retry_after_secs,
                    remaining: times,
                },
            );
        }
        true
    }

    /// The bytes of a file the fake holds (what the download route serves).
    pub fn file_bytes(&self, file_id: &str) -> Option<Vec<u8>> {
        let state = self.shared.lock();
        state.files.get(file_id)?.bytes.as_deref().cloned()
    }

    /// Forgets everything that happened: webhooks, chats, files, records.
    pub fn reset(&self) {
        self.shared.lock().reset();
    }

    /// Delivers a hand-made update (everything but `update_id`, which the
    /// fake assigns) to the bot's webhook with its secret-token header.
    pub async fn deliver(&self, bot_id: i64, update: Value) -> Delivery {
        webhook::deliver_new(&self.shared, bot_id, update, None).await
    }

    /// Like [`FakeTelegram::deliver`] but with `secret` in the header instead
    /// of the one the bot set, to test that a wrong secret is refused.
    pub async fn deliver_with_secret(&self, bot_id: i64, update: Value, secret: &str) -> Delivery {
        webhook::deliver_new(&self.shared, bot_id, update, Some(secret.to_owned())).await
    }

    /// POSTs an earlier update again, byte for byte the same JSON (same
    /// `update_id`), as Telegram's retries do.
    pub async fn redeliver(&self, bot_id: i64, update_id: i64) -> Delivery {
        webhook::redeliver(&self.shared, bot_id, update_id).await
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .merge(control::routes())
        // Bot API paths carry the token inside a segment (`/bot<token>/…`),
        // which route patterns cannot split, so they are parsed by hand.
        .fallback(botapi::entry)
        // Telegram takes multipart uploads of up to 50 MB.
        .layer(axum::extract::DefaultBodyLimit::max(60 * 1024 * 1024))
        .with_state(shared)
}
