//! Delivering updates to a bot's webhook as Telegram does: a JSON `POST` of the
//! `Update`, with `X-Telegram-Bot-Api-Secret-Token` when the bot set a secret.
//!
//! `update_id` grows by one per bot. A non-2xx answer or an unreachable server
//! is recorded the way `getWebhookInfo` reports it (`last_error_date`,
//! `last_error_message` "Wrong response from the webhook: 401 Unauthorized",
//! `pending_update_count`). Telegram would retry on its own; the fake does not,
//! and offers [`crate::FakeTelegram::redeliver`] instead so tests decide when
//! the duplicate arrives.

use std::time::Duration;

use serde::Serialize;
use serde_json::{Value, json};

use super::state::{Shared, now_secs};

/// The header Telegram puts the webhook's `secret_token` in.
pub const SECRET_TOKEN_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

/// Update types left out when `allowed_updates` is empty or unset: "all update
/// types except chat_member, message_reaction, and message_reaction_count".
const OPT_IN_UPDATES: &[&str] = &["chat_member", "message_reaction", "message_reaction_count"];

/// What happened to one update.
#[derive(Clone, Debug, Serialize)]
pub struct Delivery {
    /// The Update as POSTed (with its `update_id`).
    pub update: Value,
    /// The bot server's HTTP status; `None` when nothing answered.
    pub status: Option<u16>,
    /// The bot server's response body (or an empty string).
    pub body: String,
    /// Why there was no answer (no webhook set, connection refused, update
    /// type not in `allowed_updates`, unknown bot, …).
    pub error: Option<String>,
}

impl Delivery {
    pub(crate) fn failed(update: Value, error: impl Into<String>) -> Self {
        Self {
            update,
            status: None,
            body: String::new(),
            error: Some(error.into()),
        }
    }

    pub fn is_success(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    pub fn update_id(&self) -> Option<i64> {
        self.update.get("update_id").and_then(Value::as_i64)
    }

    /// The `message_id` of the message the update carries, whatever its kind.
    pub fn message_id(&self) -> Option<i64> {
        let object = self.update.as_object()?;
        object
            .values()
            .find_map(|v| v.get("message_id").or_else(|| v.pointer("/message/message_id")))
            .and_then(Value::as_i64)
    }
}

/// Assigns the next `update_id`, stores the update for redelivery and POSTs
/// it. `secret_override` replaces the bot's secret in the header.
pub(crate) async fn deliver_new(
    shared: &Shared,
    bot_id: i64,
    update: Value,
    secret_override: Option<String>,
) -> Delivery {
    let Value::Object(mut fields) = update else {
        return Delivery::failed(update, "an update must be a JSON object");
    };
    let update = {
        let mut world = shared.lock();
        let Some(bot) = world.bot_mut(bot_id) else {
            return Delivery::failed(Value::Object(fields), format!("unknown bot {bot_id}"));
        };
        let update_id = bot.next_update_id;
        bot.next_update_id += 1;
        fields.remove("update_id");
        let mut ordered = serde_json::Map::new();
        ordered.insert("update_id".to_owned(), json!(update_id));
        ordered.extend(fields);
        let update = Value::Object(ordered);
        bot.updates.insert(update_id, update.clone());
        update
    };
    post_update(shared, bot_id, update, secret_override).await
}

pub(crate) async fn redeliver(shared: &Shared, bot_id: i64, update_id: i64) -> Delivery {
    let stored = shared
        .lock()
        .bot(bot_id)
        .and_then(|bot| bot.updates.get(&update_id).cloned());
    match stored {
        Some(update) => post_update(shared, bot_id, update, None).await,
        None => Delivery::failed(json!({"update_id": update_id}), format!("unknown update {update_id}")),
    }
}

fn update_type(update: &Value) -> Option<&str> {
    update
        .as_object()?
        .keys()
        .find(|k| *k != "update_id")
        .map(String::as_str)
}

async fn post_update(shared: &Shared, bot_id: i64, update: Value, secret_override: Option<String>) -> Delivery {
    let update_id = update.get("update_id").and_then(Value::as_i64).unwrap_or_default();
    let webhook = {
        let mut world = shared.lock();
        let Some(bot) = world.bot_mut(bot_id) else {
            return Delivery::failed(update, format!("unknown bot {bot_id}"));
        };
        let kind = update_type(&update).unwrap_or_default().to_owned();
        let allowed = match bot.allowed_updates.as_ref().filter(|list| !list.is_empty()) {
            Some(list) => list.contains(&kind),
            None => !OPT_IN_UPDATES.contains(&kind.as_str()),
        };
        if !allowed {
            return Delivery::failed(update, format!("{kind} is not in allowed_updates"));
        }
        match bot.webhook.clone() {
            Some(webhook) => webhook,
            None => {
                // Without a webhook Telegram keeps the update for getUpdates.
                bot.health.pending.insert(update_id);
                return Delivery::failed(update, "no webhook is set");
            }
        }
    };
    let secret = secret_override.or(webhook.secret_token);
    let mut request = shared
        .http
        .post(&webhook.url)
        .timeout(Duration::from_secs(20))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(update.to_string());
    if let Some(secret) = secret {
        request = request.header(SECRET_TOKEN_HEADER, secret);
    }
    let outcome = request.send().await;
    let (delivery, error_message) = match outcome {
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            let error = (!status.is_success()).then(|| {
                format!(
                    "Wrong response from the webhook: {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default()
                )
            });
            let delivery = Delivery {
                update,
                status: Some(status.as_u16()),
                body,
                error: None,
            };
            (delivery, error)
        }
        Err(error) => {
            let message = if error.is_timeout() {
                "Read timeout expired"
            } else if error.is_connect() {
                "Connection refused"
            } else {
                "Failed to connect"
            };
            (Delivery::failed(update, error.to_string()), Some(message.to_owned()))
        }
    };
    tracing::info!(bot_id, update_id, status = ?delivery.status, "fake-telegram: update delivered");
    let mut world = shared.lock();
    if let Some(bot) = world.bot_mut(bot_id) {
        match error_message {
            Some(message) => {
                bot.health.pending.insert(update_id);
                bot.health.last_error_date = Some(now_secs());
                bot.health.last_error_message = Some(message);
            }
            None => {
                bot.health.pending.remove(&update_id);
            }
        }
    }
    delivery
}
