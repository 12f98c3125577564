//! Playing the customer: the Updates a Telegram user's actions cause, built in
//! Telegram's shapes and delivered to the bot's webhook.
//!
//! Every helper stores what it creates (messages get the chat's next
//! `message_id`, media bytes become files that getFile and the download route
//! serve) and answers with the [`Delivery`]. Bad input (an unknown bot,
//! customer or message) is reported in `Delivery::error`, never by panicking.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Value, json};

use super::FakeTelegram;
use super::botapi::{MediaKind, media_json};
use super::state::{ChatState, State as World, now_secs, private_chat_json, random_string, user_json};
use super::webhook::{Delivery, deliver_new};

/// A 1×1 PNG, the default picture for photos.
const PLACEHOLDER_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d,
    0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// What a customer sends. Also the JSON body of the generic control route
/// (`{"type":"location","latitude":…}`); byte fields are arrays of numbers
/// there and default to small placeholder files.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inbound {
    Text {
        text: String,
        /// `MessageEntity` objects, as Telegram attaches them.
        #[serde(default)]
        entities: Option<Vec<Value>>,
    },
    Photo {
        #[serde(default)]
        bytes: Option<Vec<u8>>,
        #[serde(default)]
        caption: Option<String>,
    },
    /// With `bytes: None` and a `size`, only metadata is registered: getFile
    /// then answers as for a file the fake cannot serve (over 20 MB: "file is too big").
    Document {
        file_name: String,
        mime_type: String,
        #[serde(default)]
        bytes: Option<Vec<u8>>,
        #[serde(default)]
        size: Option<u64>,
        #[serde(default)]
        caption: Option<String>,
    },
    Video {
        #[serde(default)]
        bytes: Option<Vec<u8>>,
        #[serde(default)]
        caption: Option<String>,
    },
    Voice {
        #[serde(default)]
        bytes: Option<Vec<u8>>,
    },
    Audio {
        file_name: String,
        #[serde(default)]
        bytes: Option<Vec<u8>>,
    },
    /// A regular `.webp` sticker.
    Sticker {
        #[serde(default)]
        emoji: Option<String>,
    },
    Location {
        latitude: f64,
        longitude: f64,
    },
    /// Telegram sets `location` too whenever `venue` is set.
    Venue {
        latitude: f64,
        longitude: f64,
        title: String,
        address: String,
    },
    Contact {
        phone_number: String,
        first_name: String,
        #[serde(default)]
        last_name: Option<String>,
        #[serde(default)]
        user_id: Option<i64>,
    },
}

impl Inbound {
    pub fn text(text: &str) -> Self {
        Inbound::Text {
            text: text.to_owned(),
            entities: None,
        }
    }

    pub fn photo(bytes: Vec<u8>, caption: Option<&str>) -> Self {
        Inbound::Photo {
            bytes: Some(bytes),
            caption: caption.map(str::to_owned),
        }
    }

    pub fn document(file_name: &str, mime_type: &str, bytes: Vec<u8>) -> Self {
        Inbound::Document {
            file_name: file_name.to_owned(),
            mime_type: mime_type.to_owned(),
            bytes: Some(bytes),
            size: None,
            caption: None,
        }
    }

    /// A document known by its size only (e.g. 25 MB, beyond getFile's limit).
    pub fn large_document(file_name: &str, mime_type: &str, size: u64) -> Self {
        Inbound::Document {
            file_name: file_name.to_owned(),
            mime_type: mime_type.to_owned(),
            bytes: None,
            size: Some(size),
            caption: None,
        }
    }
}

/// Registers `bytes` as a file of `kind` and returns the media field.
fn file_field(world: &mut World, kind: MediaKind, bytes: Vec<u8>, mime_type: &str, file_name: Option<&str>) -> Value {
    let size = bytes.len() as u64;
    let file = world.register_file(kind.field(), size, Some(Arc::new(bytes)), mime_type, file_name);
    media_json(world, kind, &file, file_name)
}

/// The content fields of a message for `inbound`.
fn content_fields(world: &mut World, inbound: Inbound) -> Value {
    let with_caption = |mut fields: Value, caption: Option<String>| {
        if let Some(caption) = caption.filter(|c| !c.is_empty()) {
            fields["caption"] = json!(caption);
        }
        fields
    };
    match inbound {
        Inbound::Text { text, entities } => {
            let mut fields = json!({ "text": text });
            if let Some(entities) = entities.filter(|e| !e.is_empty()) {
                fields["entities"] = json!(entities);
            }
            fields
        }
        Inbound::Photo { bytes, caption } => {
            let bytes = bytes.unwrap_or_else(|| PLACEHOLDER_PNG.to_vec());
            let photo = file_field(world, MediaKind::Photo, bytes, "image/jpeg", None);
            with_caption(json!({ "photo": photo }), caption)
        }
        Inbound::Document {
            file_name,
            mime_type,
            bytes,
            size,
            caption,
        } => {
            let document = match (bytes, size) {
                (None, Some(size)) => {
                    let file = world.register_file("document", size, None, &mime_type, Some(&file_name));
                    media_json(world, MediaKind::Document, &file, Some(&file_name))
                }
                (bytes, _) => {
                    let bytes = bytes.unwrap_or_else(|| format!("Contents of {file_name}\n").into_bytes());
                    file_field(world, MediaKind::Document, bytes, &mime_type, Some(&file_name))
                }
            };
            with_caption(json!({ "document": document }), caption)
        }
        Inbound::Video { bytes, caption } => {
            let bytes = bytes.unwrap_or_else(|| b"\0\0\0\x18ftypmp42fake-video".to_vec());
            let video = file_field(world, MediaKind::Video, bytes, "video/mp4", Some("video.mp4"));
            with_caption(json!({ "video": video }), caption)
        }
        Inbound::Voice { bytes } => {
            let bytes = bytes.unwrap_or_else(|| b"OggS\0fake-opus-voice".to_vec());
            json!({ "voice": file_field(world, MediaKind::Voice, bytes, "audio/ogg", None) })
        }
        Inbound::Audio { file_name, bytes } => {
            let bytes = bytes.unwrap_or_else(|| b"ID3\x03fake-mp3-audio".to_vec());
            let mime_type = mime_guess::from_path(&file_name)
                .first_raw()
                .unwrap_or("audio/mpeg")
                .to_owned();
            json!({ "audio": file_field(world, MediaKind::Audio, bytes, &mime_type, Some(&file_name)) })
        }
        Inbound::Sticker { emoji } => {
            let bytes = b"RIFF\x14\0\0\0WEBPVP8 fake-sticker".to_vec();
            let size = bytes.len() as u64;
            let file = world.register_file(
                "sticker",
                size,
                Some(Arc::new(bytes)),
                "image/webp",
                Some("sticker.webp"),
            );
            json!({"sticker": {
                "file_id": file.file_id,
                "file_unique_id": file.file_unique_id,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": false,
                "is_video": false,
                "emoji": emoji.unwrap_or_else(|| "👍".to_owned()),
                "file_size": size,
            }})
        }
        Inbound::Location { latitude, longitude } => {
            json!({"location": {"latitude": latitude, "longitude": longitude}})
        }
        Inbound::Venue {
            latitude,
            longitude,
            title,
            address,
        } => {
            let location = json!({"latitude": latitude, "longitude": longitude});
            json!({
                "location": location,
                "venue": {"location": location, "title": title, "address": address},
            })
        }
        Inbound::Contact {
            phone_number,
            first_name,
            last_name,
            user_id,
        } => {
            let mut contact = json!({"phone_number": phone_number, "first_name": first_name});
            if let Some(last_name) = last_name {
                contact["last_name"] = json!(last_name);
            }
            if let Some(user_id) = user_id {
                contact["user_id"] = json!(user_id);
            }
            json!({ "contact": contact })
        }
    }
}

/// Stores a new message from `from` in `chat_id` and returns it.
fn new_message(
    world: &mut World,
    bot_id: i64,
    chat_id: i64,
    from: Option<Value>,
    inbound: Inbound,
    reply_to_message_id: Option<i64>,
) -> Result<Value, String> {
    let content = content_fields(world, inbound);
    let chat = world
        .chat_mut(bot_id, chat_id)
        .ok_or_else(|| format!("bot {bot_id} has no chat {chat_id}"))?;
    let reply_to = match reply_to_message_id {
        Some(id) => {
            let mut original = chat
                .messages
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("no message {id} in chat {chat_id}"))?;
            if let Some(object) = original.as_object_mut() {
                object.remove("reply_to_message");
            }
            Some(original)
        }
        None => None,
    };
    let message_id = chat.take_message_id();
    let mut message = json!({"message_id": message_id});
    if let Some(from) = from {
        message["from"] = from;
    }
    message["chat"] = chat.chat.clone();
    message["date"] = json!(now_secs());
    if let Some(reply_to) = reply_to {
        message["reply_to_message"] = reply_to;
    }
    if let (Some(object), Value::Object(fields)) = (message.as_object_mut(), content) {
        object.extend(fields);
    }
    chat.messages.insert(message_id, message.clone());
    Ok(message)
}

fn customer_json(world: &World, user_id: i64) -> Result<Value, String> {
    world
        .customer(user_id)
        .map(user_json)
        .ok_or_else(|| format!("unknown customer {user_id}"))
}

impl FakeTelegram {
    async fn deliver_built(&self, bot_id: i64, built: Result<Value, String>) -> Delivery {
        match built {
            Ok(update) => deliver_new(&self.shared, bot_id, update, None).await,
            Err(error) => Delivery::failed(Value::Null, error),
        }
    }

    /// The customer sends `inbound` to the bot in their private chat.
    pub async fn customer_send(&self, bot_id: i64, user_id: i64, inbound: Inbound) -> Delivery {
        self.customer_reply(bot_id, user_id, None, inbound).await
    }

    /// The customer sends `inbound` as a reply to an earlier message of the
    /// chat (theirs or the bot's); `None` sends it as a plain message.
    pub async fn customer_reply(
        &self,
        bot_id: i64,
        user_id: i64,
        reply_to_message_id: Option<i64>,
        inbound: Inbound,
    ) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            customer_json(&world, user_id)
                .and_then(|from| new_message(&mut world, bot_id, user_id, Some(from), inbound, reply_to_message_id))
                .map(|message| json!({ "message": message }))
        };
        self.deliver_built(bot_id, built).await
    }

    pub async fn customer_text(&self, bot_id: i64, user_id: i64, text: &str) -> Delivery {
        self.customer_send(bot_id, user_id, Inbound::text(text)).await
    }

    pub async fn customer_photo(&self, bot_id: i64, user_id: i64, bytes: Vec<u8>, caption: Option<&str>) -> Delivery {
        self.customer_send(bot_id, user_id, Inbound::photo(bytes, caption))
            .await
    }

    pub async fn customer_document(
        &self,
        bot_id: i64,
        user_id: i64,
        file_name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Delivery {
        self.customer_send(bot_id, user_id, Inbound::document(file_name, mime_type, bytes))
            .await
    }

    /// The customer edits one of their earlier messages: an `edited_message`
    /// update with the new text and an `edit_date`.
    pub async fn customer_edit(&self, bot_id: i64, user_id: i64, message_id: i64, new_text: &str) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            edit_customer_message(&mut world, bot_id, user_id, message_id, new_text)
        };
        self.deliver_built(bot_id, built).await
    }

    /// The customer presses an inline button with `data` on a message the bot
    /// sent: a `callback_query` update whose id answerCallbackQuery accepts once.
    pub async fn customer_press_button(&self, bot_id: i64, user_id: i64, message_id: i64, data: &str) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            press_button(&mut world, bot_id, user_id, message_id, data)
        };
        self.deliver_built(bot_id, built).await
    }

    /// The customer blocks the bot: later sends fail with 403 and a
    /// `my_chat_member` update (`new_chat_member.status` "kicked") is delivered.
    pub async fn customer_block(&self, bot_id: i64, user_id: i64) -> Delivery {
        self.member_change(bot_id, user_id, true).await
    }

    /// The customer unblocks (restarts) the bot: `my_chat_member` "member".
    pub async fn customer_unblock(&self, bot_id: i64, user_id: i64) -> Delivery {
        self.member_change(bot_id, user_id, false).await
    }

    async fn member_change(&self, bot_id: i64, user_id: i64, blocked: bool) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            member_update(&mut world, bot_id, user_id, blocked)
        };
        self.deliver_built(bot_id, built).await
    }

    /// A customer writes in a group the bot is in (`chat.type` "group"; give a
    /// negative `group_id`, as Telegram's group ids are).
    pub async fn group_message(
        &self,
        bot_id: i64,
        group_id: i64,
        title: &str,
        user_id: i64,
        inbound: Inbound,
    ) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            ensure_chat(
                &mut world,
                bot_id,
                group_id,
                json!({"id": group_id, "title": title, "type": "group"}),
            );
            customer_json(&world, user_id)
                .and_then(|from| new_message(&mut world, bot_id, group_id, Some(from), inbound, None))
                .map(|message| json!({ "message": message }))
        };
        self.deliver_built(bot_id, built).await
    }

    /// A post in a channel the bot administers: a `channel_post` update
    /// without `from`, with `sender_chat` = the channel.
    pub async fn channel_post(&self, bot_id: i64, channel_id: i64, title: &str, text: &str) -> Delivery {
        let built = {
            let mut world = self.shared.lock();
            let chat = json!({"id": channel_id, "title": title, "type": "channel"});
            ensure_chat(&mut world, bot_id, channel_id, chat.clone());
            new_message(&mut world, bot_id, channel_id, None, Inbound::text(text), None).map(|mut message| {
                message["sender_chat"] = chat;
                json!({ "channel_post": message })
            })
        };
        self.deliver_built(bot_id, built).await
    }
}

fn ensure_chat(world: &mut World, bot_id: i64, chat_id: i64, chat: Value) {
    if let Some(bot) = world.bot_mut(bot_id) {
        bot.chats.entry(chat_id).or_insert_with(|| ChatState::new(chat));
    }
}

fn edit_customer_message(
    world: &mut World,
    bot_id: i64,
    user_id: i64,
    message_id: i64,
    new_text: &str,
) -> Result<Value, String> {
    let chat = world
        .chat_mut(bot_id, user_id)
        .ok_or_else(|| format!("bot {bot_id} has no chat {user_id}"))?;
    let message = chat
        .messages
        .get_mut(&message_id)
        .ok_or_else(|| format!("no message {message_id} in chat {user_id}"))?;
    if message.pointer("/from/id").and_then(Value::as_i64) != Some(user_id) {
        return Err(format!("message {message_id} was not written by {user_id}"));
    }
    message["text"] = json!(new_text);
    message["edit_date"] = json!(now_secs());
    if let Some(object) = message.as_object_mut() {
        object.remove("entities");
    }
    Ok(json!({ "edited_message": message.clone() }))
}

fn press_button(world: &mut World, bot_id: i64, user_id: i64, message_id: i64, data: &str) -> Result<Value, String> {
    let from = customer_json(world, user_id)?;
    let chat = world
        .chat_mut(bot_id, user_id)
        .ok_or_else(|| format!("bot {bot_id} has no chat {user_id}"))?;
    let message = chat
        .messages
        .get(&message_id)
        .cloned()
        .ok_or_else(|| format!("no message {message_id} in chat {user_id}"))?;
    let has_button = message
        .pointer("/reply_markup/inline_keyboard")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .any(|button| button.get("callback_data").and_then(Value::as_str) == Some(data));
    if !has_button {
        return Err(format!(
            "message {message_id} has no button with callback_data {data:?}"
        ));
    }
    // Real ids are long decimal strings; chat_instance is stable per chat.
    let id: String = format!("{}{}", bot_id % 1000, rand_digits(16));
    let chat_instance = format!(
        "-{}",
        (bot_id.unsigned_abs() ^ user_id.unsigned_abs()).wrapping_mul(2_654_435_761)
    );
    let bot = world.bot_mut(bot_id).ok_or_else(|| format!("unknown bot {bot_id}"))?;
    bot.callback_queries.insert(id.clone(), false);
    Ok(json!({"callback_query": {
        "id": id,
        "from": from,
        "message": message,
        "chat_instance": chat_instance,
        "data": data,
    }}))
}

fn rand_digits(count: usize) -> String {
    random_string(count * 2)
        .bytes()
        .map(|b| char::from(b'0' + b % 10))
        .take(count)
        .collect()
}

fn member_update(world: &mut World, bot_id: i64, user_id: i64, blocked: bool) -> Result<Value, String> {
    let user = world
        .customer(user_id)
        .cloned()
        .ok_or_else(|| format!("unknown customer {user_id}"))?;
    let bot = world.bot_mut(bot_id).ok_or_else(|| format!("unknown bot {bot_id}"))?;
    let bot_user = bot.user_json();
    if blocked {
        bot.blocked_by.insert(user_id);
    } else {
        bot.blocked_by.remove(&user_id);
    }
    let member = json!({"user": bot_user, "status": "member"});
    let kicked = json!({"user": bot_user, "status": "kicked", "until_date": 0});
    let (old, new) = if blocked { (member, kicked) } else { (kicked, member) };
    Ok(json!({"my_chat_member": {
        "chat": private_chat_json(&user),
        "from": user_json(&user),
        "date": now_secs(),
        "old_chat_member": old,
        "new_chat_member": new,
    }}))
}
