//! Telegram bots, through the Bot API (`api.rs`). An admin pastes a bot token from @BotFather;
//! `connect_form` checks it (`getMe`) and names the channel after the bot, `on_connected`
//! points the bot's webhook at the channel's own route with a random secret of ours and the
//! updates we handle. Each delivery must carry that secret in
//! `X-Telegram-Bot-Api-Secret-Token` (compared in constant time) before `normalize.rs` reads
//! it. Replies go out as plain text (`sendMessage`) or as a file uploaded by multipart with
//! the text as its caption, quoting the customer's message when the agent replied to one.
//! Files customers sent are fetched with `getFile` through our media route. The token lives
//! only in the sealed credentials and in Bot API URLs, which `api.rs` never shows.

mod api;
mod normalize;

pub use api::{BotApi, MAX_DOWNLOAD_BYTES};
pub use normalize::{CALLBACK_KEY_PREFIX, message_key, normalize};

use super::webhook::{RoutedChannel, WebhookReceiver, WebhookRequest};
use super::{
    ChannelAdapter, ConnectFields, ConnectedAccount, MediaFile, OutgoingFile, Rejection, SendError, StoredCredentials,
};
use app::model::{AttachmentKind, ChannelKind, Message};
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The header Telegram puts our `secret_token` in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The updates a support inbox handles. Always sent: without it, Telegram keeps whatever the
/// token's previous owner configured.
pub const ALLOWED_UPDATES: &[&str] = &["message", "edited_message", "callback_query", "my_chat_member"];

/// How a job's attachment names a file uploaded with the reply (by `place_media`): the path
/// of the agent's upload, read when the reply is sent.
const LOCAL_FILE: &str = "telegram-upload:";

/// Captions longer than this are refused by the Bot API ("0-1024 characters").
const MAX_CAPTION: usize = 1024;

/// What is stored (encrypted) for a connected bot.
#[derive(Clone, Serialize, Deserialize)]
pub struct TelegramCredentials {
    pub bot_token: String,
    /// Ours, given to `setWebhook`; Telegram sends it back with every update.
    pub secret_token: String,
}

impl std::fmt::Debug for TelegramCredentials {
    // Neither secret may reach logs through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramCredentials").finish_non_exhaustive()
    }
}

impl StoredCredentials for TelegramCredentials {
    const ACCOUNT: &'static str = "Telegram bot";
}

pub struct TelegramAdapter {
    pub api: BotApi,
}

impl TelegramAdapter {
    pub fn new(api_url: &str) -> Self {
        Self {
            api: BotApi::new(api_url),
        }
    }

    /// `sendMessage` for text, or the send method of the reply's file with the text as its
    /// caption (sent after it instead when too long for one).
    async fn send_reply(&self, token: &str, job: &OutboundJob) -> Result<String, SendError> {
        let chat_id = &job.recipient_external_id;
        let reply = reply_parameters(job);
        let keyboard = inline_keyboard(&job.message.buttons);
        let text = job.message.body.trim();
        let Some(attachment) = job.message.attachments.first() else {
            let mut params = json!({ "chat_id": chat_id, "text": job.message.body });
            if let Some(reply) = &reply {
                params["reply_parameters"] = reply.clone();
            }
            if let Some(keyboard) = &keyboard {
                params["reply_markup"] = keyboard.clone();
            }
            let sent: api::Sent = self.api.call(token, "sendMessage", &params).await?;
            return Ok(message_key(sent.chat.id, sent.message_id));
        };
        let (method, field) = send_method(attachment.kind, attachment.mime_type.as_deref());
        let caption_fits = text.chars().count() <= MAX_CAPTION;
        let caption = if caption_fits { text } else { "" };
        let sent: api::Sent = match attachment.url.strip_prefix(LOCAL_FILE) {
            Some(path) => {
                let bytes = tokio::fs::read(path).await.map_err(|_| {
                    SendError::Rejected(format!(
                        "the attached file {} is no longer available",
                        attachment.name.as_deref().unwrap_or("")
                    ))
                })?;
                let mut file = Part::bytes(bytes).file_name(attachment.name.clone().unwrap_or_else(|| "file".into()));
                if let Some(mime) = &attachment.mime_type {
                    file = file
                        .mime_str(mime)
                        .map_err(|_| SendError::Rejected(format!("the file's type {mime} is not valid")))?;
                }
                let mut form = Form::new().text("chat_id", chat_id.clone()).part(field, file);
                if !caption.is_empty() {
                    form = form.text("caption", caption.to_string());
                }
                if let Some(reply) = &reply {
                    form = form.text("reply_parameters", reply.to_string());
                }
                // Multipart fields are text: the keyboard goes as its JSON.
                if let Some(keyboard) = &keyboard {
                    form = form.text("reply_markup", keyboard.to_string());
                }
                self.api.upload(token, method, form).await?
            }
            // A file already on the web (or a Telegram file id): Telegram fetches it itself.
            None => {
                let mut params = json!({ "chat_id": chat_id, field: attachment.url });
                if !caption.is_empty() {
                    params["caption"] = json!(caption);
                }
                if let Some(reply) = &reply {
                    params["reply_parameters"] = reply.clone();
                }
                if let Some(keyboard) = &keyboard {
                    params["reply_markup"] = keyboard.clone();
                }
                self.api.call(token, method, &params).await?
            }
        };
        if caption_fits {
            return Ok(message_key(sent.chat.id, sent.message_id));
        }
        let params = json!({ "chat_id": chat_id, "text": job.message.body });
        let text_sent: api::Sent = self.api.call(token, "sendMessage", &params).await?;
        Ok(message_key(text_sent.chat.id, text_sent.message_id))
    }
}

/// The Bot API method and form field for a file: photos, videos, voice notes (OGG) and other
/// audio have their own, anything else goes as a document.
fn send_method(kind: AttachmentKind, mime: Option<&str>) -> (&'static str, &'static str) {
    match kind {
        AttachmentKind::Image => ("sendPhoto", "photo"),
        AttachmentKind::Video => ("sendVideo", "video"),
        AttachmentKind::Audio if mime.is_some_and(|m| m.starts_with("audio/ogg")) => ("sendVoice", "voice"),
        AttachmentKind::Audio => ("sendAudio", "audio"),
        AttachmentKind::File | AttachmentKind::Sticker | AttachmentKind::Location | AttachmentKind::Other => {
            ("sendDocument", "document")
        }
    }
}

/// An inline keyboard of the reply's buttons, two to a row. Each button's `callback_data`
/// (1-64 bytes) is its position and label, so two labels never answer alike; a press is read
/// back as the pressed button's text.
fn inline_keyboard(buttons: &[String]) -> Option<Value> {
    if buttons.is_empty() {
        return None;
    }
    let rows: Vec<Vec<Value>> = buttons
        .iter()
        .enumerate()
        .map(|(index, label)| {
            let mut data = format!("{index}:{label}");
            while data.len() > 64 {
                data.pop();
            }
            json!({ "text": label, "callback_data": data })
        })
        .collect::<Vec<_>>()
        .chunks(2)
        .map(<[Value]>::to_vec)
        .collect();
    Some(json!({ "inline_keyboard": rows }))
}

/// `reply_parameters` quoting the customer's message, when the agent replied to one of this
/// chat (stored as `"{chat}:{message}"`). If the quoted message was deleted meanwhile, the
/// reply still goes out, unquoted.
fn reply_parameters(job: &OutboundJob) -> Option<Value> {
    let quoted = job.message.reply_to.as_ref()?;
    let (chat, message_id) = quoted.platform_message_id.split_once(':')?;
    if chat != job.recipient_external_id {
        return None;
    }
    let message_id: i64 = message_id.parse().ok()?;
    Some(json!({ "message_id": message_id, "allow_sending_without_reply": true }))
}

/// `"{chat}:{message}"`, as our sends are keyed, back into the Bot API's two ids.
fn chat_and_message(platform_message_id: &str) -> Result<(i64, i64), SendError> {
    platform_message_id
        .split_once(':')
        .and_then(|(chat, message)| Some((chat.parse().ok()?, message.parse().ok()?)))
        .ok_or_else(|| SendError::Rejected("this message has no Telegram id to change".into()))
}

/// `123456789:AAE…`: the bot's id, a colon, and the secret part.
fn looks_like_bot_token(token: &str) -> bool {
    let Some((id, secret)) = token.split_once(':') else {
        return false;
    };
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_digit())
        && secret.len() >= 20
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// 48 characters from the alphabet `setWebhook` allows for `secret_token` (A-Z a-z 0-9 _ -).
fn new_secret_token() -> String {
    hex::encode(rand::random::<[u8; 24]>())
}

/// The channel's name: "Acme Support (@acme_support_bot)".
fn bot_name(bot: &api::Bot) -> String {
    match &bot.username {
        Some(username) => format!("{} (@{username})", bot.first_name),
        None => bot.first_name.clone(),
    }
}

impl WebhookReceiver for TelegramAdapter {
    /// The secret we gave `setWebhook`, in constant time. Telegram only calls per-channel
    /// routes, so a delivery without a channel is refused.
    fn verify(&self, request: &WebhookRequest, channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        let channel = channel.ok_or(Rejection::BadSignature)?;
        let credentials = TelegramCredentials::parse(channel.credentials).map_err(|_| Rejection::BadSignature)?;
        let presented = request
            .headers
            .get(SECRET_HEADER)
            .map(|v| v.as_bytes())
            .ok_or(Rejection::BadSignature)?;
        let expected = credentials.secret_token.as_bytes();
        if expected.is_empty() || !bool::from(subtle::ConstantTimeEq::ct_eq(presented, expected)) {
            return Err(Rejection::BadSignature);
        }
        Ok(())
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<app::inbound::NormalizedEvent>, Rejection> {
        let channel = channel.ok_or(Rejection::BadSignature)?;
        normalize(&request.body, &channel.record.channel.external_id)
    }
}

/// Telegram sends each update's sender's name, so the default `customer_profile` (none) is
/// kept: names are learned from the messages themselves.
#[async_trait]
impl ChannelAdapter for TelegramAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Telegram
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn connect_form(&self, fields: &ConnectFields) -> Result<ConnectedAccount, SendError> {
        let token = fields.get("bot_token").map(|t| t.trim()).unwrap_or_default();
        if !looks_like_bot_token(token) {
            return Err(SendError::Rejected(
                "That is not a bot token. @BotFather gives it as digits, a colon and a long code (123456789:AAE…)."
                    .into(),
            ));
        }
        let bot: api::Bot = self.api.call(token, "getMe", &json!({})).await?;
        let credentials = TelegramCredentials {
            bot_token: token.to_string(),
            secret_token: new_secret_token(),
        };
        Ok(ConnectedAccount {
            external_id: bot.id.to_string(),
            name: bot_name(&bot),
            credentials: credentials.to_json(),
            parent_account_id: None,
        })
    }

    async fn on_connected(
        &self,
        _channel: &ChannelRecord,
        credentials: &str,
        webhook_url: &str,
    ) -> Result<(), SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let params = json!({
            "url": webhook_url,
            "secret_token": creds.secret_token,
            "allowed_updates": ALLOWED_UPDATES,
            "max_connections": 40,
            "drop_pending_updates": false,
        });
        let _: bool = self.api.call(&creds.bot_token, "setWebhook", &params).await?;
        Ok(())
    }

    /// Keeps the agent's file where it is; `send` uploads it with the reply (the Bot API
    /// takes the file and the message in one request).
    async fn place_media(
        &self,
        _credentials: &str,
        _job: &OutboundJob,
        file: &OutgoingFile,
    ) -> Result<String, SendError> {
        Ok(format!("{LOCAL_FILE}{}", file.path.display()))
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        self.send_reply(&creds.bot_token, job).await
    }

    /// The token still works (`getMe`), and Telegram's last attempt to deliver to us, if it
    /// failed in the last day, is shown to the admin as the platform worded it.
    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let _: api::Bot = self.api.call(&creds.bot_token, "getMe", &json!({})).await?;
        let info: api::WebhookInfo = self.api.call(&creds.bot_token, "getWebhookInfo", &json!({})).await?;
        let route = format!("/api/webhooks/telegram/{}", channel.webhook_key);
        if !info.url.ends_with(&route) {
            return Ok(Some(
                "Telegram is not delivering this bot's messages to Messio (its webhook points elsewhere). Disconnect and connect the bot again."
                    .into(),
            ));
        }
        let now = app::store::now_millis() / 1000;
        Ok(match (info.last_error_message, info.last_error_date) {
            (Some(message), Some(at)) if now - at < 24 * 3600 => Some(format!(
                "Telegram could not deliver to Messio {} ago: {message} ({} waiting)",
                ago(now - at),
                plural(info.pending_update_count, "update")
            )),
            _ => None,
        })
    }

    async fn disconnect(&self, _channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let _: bool = self
            .api
            .call(
                &creds.bot_token,
                "deleteWebhook",
                &json!({ "drop_pending_updates": false }),
            )
            .await?;
        Ok(())
    }

    /// `editMessageText`. Telegram refuses an edit that changes nothing ("message is not
    /// modified"), which is what the agent wanted anyway.
    async fn edit_sent(
        &self,
        credentials: &str,
        _channel: &ChannelRecord,
        platform_message_id: &str,
        text: &str,
    ) -> Result<(), SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let (chat_id, message_id) = chat_and_message(platform_message_id)?;
        let params = json!({ "chat_id": chat_id, "message_id": message_id, "text": text });
        match self
            .api
            .call::<Value>(&creds.bot_token, "editMessageText", &params)
            .await
        {
            Ok(_) => Ok(()),
            Err(SendError::Rejected(reason)) if reason.contains("message is not modified") => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// `deleteMessage` (bots may delete their own messages for 48 hours).
    async fn delete_sent(
        &self,
        credentials: &str,
        _channel: &ChannelRecord,
        platform_message_id: &str,
    ) -> Result<(), SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let (chat_id, message_id) = chat_and_message(platform_message_id)?;
        let params = json!({ "chat_id": chat_id, "message_id": message_id });
        let _: bool = self.api.call(&creds.bot_token, "deleteMessage", &params).await?;
        Ok(())
    }

    /// `answerCallbackQuery`, which stops the spinner on the button the customer pressed.
    async fn answer_interaction(&self, credentials: &str, message: &Message) -> Result<(), SendError> {
        let Some(query_id) = message
            .platform_message_id
            .as_deref()
            .and_then(|id| id.strip_prefix(CALLBACK_KEY_PREFIX))
        else {
            return Ok(());
        };
        let creds = TelegramCredentials::parse(credentials)?;
        let _: bool = self
            .api
            .call(
                &creds.bot_token,
                "answerCallbackQuery",
                &json!({ "callback_query_id": query_id }),
            )
            .await?;
        Ok(())
    }

    /// `getFile`, then the download. Telegram serves files without a reliable type, so the
    /// type is read from the bytes.
    async fn fetch_media(&self, credentials: &str, file_id: &str) -> Result<MediaFile, SendError> {
        let creds = TelegramCredentials::parse(credentials)?;
        let file: api::File = self
            .api
            .call(&creds.bot_token, "getFile", &json!({ "file_id": file_id }))
            .await?;
        let path = file
            .file_path
            .ok_or_else(|| SendError::Rejected("Telegram has no download for this file".into()))?;
        let (bytes, served_as) = self.api.download(&creds.bot_token, &path).await?;
        let mime_type = infer::get(&bytes)
            .map(|t| t.mime_type().to_string())
            .or(served_as.filter(|m| m != "application/octet-stream"))
            .or_else(|| {
                mime_guess::from_path(&path)
                    .first()
                    .map(|m| m.essence_str().to_string())
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(MediaFile { bytes, mime_type })
    }
}

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 90 => plural(s.max(1) as u64, "second"),
        s if s < 90 * 60 => plural((s / 60) as u64, "minute"),
        s => plural((s / 3600) as u64, "hour"),
    }
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_job;
    use app::model::ReplyTo;

    #[test]
    fn bot_tokens_are_recognised_before_asking_telegram() {
        assert!(looks_like_bot_token("7000000001:AAFakeTokenForAcmeSupportBot000000000"));
        assert!(looks_like_bot_token("123:ABCdef_ghi-JKLmnoPQRstu"));
        for bad in [
            "",
            "abc",
            "123:",
            ":AAAAAAAAAAAAAAAAAAAAAAAA",
            "12a:AAAAAAAAAAAAAAAAAAAAAAAA",
            "123:short",
            "123:AAAAAAAAAAAA AAAAAAAAAAAA",
        ] {
            assert!(!looks_like_bot_token(bad), "{bad}");
        }
    }

    #[test]
    fn secrets_use_the_alphabet_telegram_allows() {
        let secret = new_secret_token();
        assert_eq!(secret.len(), 48);
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        assert_ne!(secret, new_secret_token());
    }

    #[test]
    fn files_go_by_their_own_method() {
        assert_eq!(
            send_method(AttachmentKind::Image, Some("image/png")),
            ("sendPhoto", "photo")
        );
        assert_eq!(send_method(AttachmentKind::Video, None), ("sendVideo", "video"));
        assert_eq!(
            send_method(AttachmentKind::Audio, Some("audio/ogg; codecs=opus")),
            ("sendVoice", "voice")
        );
        assert_eq!(
            send_method(AttachmentKind::Audio, Some("audio/mpeg")),
            ("sendAudio", "audio")
        );
        assert_eq!(
            send_method(AttachmentKind::File, Some("application/pdf")),
            ("sendDocument", "document")
        );
    }

    #[test]
    fn replies_quote_only_messages_of_the_same_chat() {
        let mut job = test_job(ChannelKind::Telegram, "7000000001", "5550001", "Yes");
        assert_eq!(reply_parameters(&job), None);
        job.message.reply_to = Some(ReplyTo {
            message_id: Some(1),
            platform_message_id: "5550001:17".into(),
            preview: None,
        });
        assert_eq!(
            reply_parameters(&job),
            Some(json!({"message_id": 17, "allow_sending_without_reply": true}))
        );
        job.message.reply_to = Some(ReplyTo {
            message_id: None,
            platform_message_id: "999:17".into(),
            preview: None,
        });
        assert_eq!(reply_parameters(&job), None, "another chat's message");
    }

    #[test]
    fn buttons_become_an_inline_keyboard_two_to_a_row() {
        assert_eq!(inline_keyboard(&[]), None);
        let long = "é".repeat(40);
        let keyboard = inline_keyboard(&["Small".into(), "Medium".into(), long.clone()]).expect("a keyboard");
        assert_eq!(
            keyboard["inline_keyboard"][0],
            json!([{"text": "Small", "callback_data": "0:Small"}, {"text": "Medium", "callback_data": "1:Medium"}])
        );
        let data = keyboard["inline_keyboard"][1][0]["callback_data"]
            .as_str()
            .expect("callback data");
        assert!(data.len() <= 64 && data.starts_with("2:é"), "{data}");
        assert_eq!(keyboard["inline_keyboard"][1][0]["text"], long);
    }

    #[test]
    fn the_channel_is_named_after_the_bot() {
        let bot = api::Bot {
            id: 1,
            first_name: "Acme Support".into(),
            username: Some("acme_support_bot".into()),
        };
        assert_eq!(bot_name(&bot), "Acme Support (@acme_support_bot)");
    }

    #[test]
    fn credentials_never_print_their_secrets() {
        let creds = TelegramCredentials {
            bot_token: "7000000001:AAFakeTokenForAcmeSupportBot000000000".into(),
            secret_token: "s3cret".into(),
        };
        let printed = format!("{creds:?}");
        assert!(!printed.contains("AAFake") && !printed.contains("s3cret"), "{printed}");
    }
}
