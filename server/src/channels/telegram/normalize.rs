//! Telegram `Update`s → the inbound pipeline's events. Pure: it reads the JSON the Bot API
//! posts to our webhook (https://core.telegram.org/bots/api#update) and says what the
//! customer did, for the bot `bot_id`.
//!
//! - Only private chats are an inbox's conversations: group, supergroup and channel posts
//!   are acknowledged and stored nowhere (the bot is there for customers who write to it).
//! - A message's key is `"{chat id}:{message id}"`: Telegram numbers messages per chat, so a
//!   message id alone is not unique for a bot. Our own sends are keyed the same way, so a
//!   customer's reply to one of them is linked.
//! - Media point at our media route (`/api/media/telegram/{bot id}/{file id}`): the files
//!   are fetched with the bot token, which must never reach a browser. A file over the Bot
//!   API's 20 MB download limit is kept as its name and size with the reason it is not
//!   shown.
//! - A button press (`callback_query`) is a message of its own: the pressed button's text,
//!   replying to the message that carried the keyboard, keyed by the query id.
//! - `my_chat_member` in a private chat says the customer blocked ("kicked") or unblocked
//!   ("member") the bot.

use super::api::MAX_DOWNLOAD_BYTES;
use crate::channels::{NormalizedEvent, Rejection, media_url};
use app::attachments::human_size;
use app::inbound::{InboundEvent, ReachabilityChange};
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind};
use app::store::{InboundMessage, MessageEdit};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Update {
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    edited_message: Option<Message>,
    #[serde(default)]
    callback_query: Option<CallbackQuery>,
    #[serde(default)]
    my_chat_member: Option<ChatMemberUpdated>,
}

#[derive(Debug, Deserialize)]
struct Message {
    message_id: i64,
    #[serde(default)]
    from: Option<User>,
    chat: Chat,
    #[serde(default)]
    date: i64,
    #[serde(default)]
    edit_date: Option<i64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    entities: Vec<Entity>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(default)]
    caption_entities: Vec<Entity>,
    #[serde(default)]
    photo: Vec<PhotoSize>,
    #[serde(default)]
    animation: Option<FileRef>,
    #[serde(default)]
    document: Option<FileRef>,
    #[serde(default)]
    video: Option<FileRef>,
    #[serde(default)]
    video_note: Option<FileRef>,
    #[serde(default)]
    voice: Option<FileRef>,
    #[serde(default)]
    audio: Option<FileRef>,
    #[serde(default)]
    sticker: Option<Sticker>,
    #[serde(default)]
    venue: Option<Venue>,
    #[serde(default)]
    location: Option<Location>,
    #[serde(default)]
    contact: Option<SharedContact>,
    #[serde(default)]
    reply_to_message: Option<Box<Message>>,
    #[serde(default)]
    reply_markup: Option<InlineKeyboard>,
}

#[derive(Debug, Deserialize)]
struct User {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
}

impl User {
    fn name(&self) -> Option<String> {
        let name = match &self.last_name {
            Some(last) if !last.trim().is_empty() => format!("{} {}", self.first_name.trim(), last.trim()),
            _ => self.first_name.trim().to_string(),
        };
        (!name.is_empty()).then_some(name)
    }
}

#[derive(Debug, Deserialize)]
struct Chat {
    id: i64,
    #[serde(rename = "type", default)]
    kind: String,
}

impl Chat {
    fn is_private(&self) -> bool {
        self.kind == "private"
    }
}

/// A `MessageEntity`; only links whose address is not in the text matter here.
#[derive(Debug, Deserialize)]
struct Entity {
    #[serde(rename = "type")]
    kind: String,
    offset: usize,
    length: usize,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PhotoSize {
    file_id: String,
    #[serde(default)]
    file_size: Option<u64>,
}

/// A document, video, voice note or audio file.
#[derive(Debug, Deserialize)]
struct FileRef {
    file_id: String,
    #[serde(default)]
    file_name: Option<String>,
    #[serde(default)]
    mime_type: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Sticker {
    file_id: String,
    #[serde(default)]
    is_animated: bool,
    #[serde(default)]
    is_video: bool,
    #[serde(default)]
    emoji: Option<String>,
    #[serde(default)]
    file_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Debug, Deserialize)]
struct Venue {
    location: Location,
    #[serde(default)]
    title: String,
    #[serde(default)]
    address: String,
}

#[derive(Debug, Deserialize)]
struct SharedContact {
    phone_number: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct InlineKeyboard {
    #[serde(default)]
    inline_keyboard: Vec<Vec<Button>>,
}

#[derive(Debug, Deserialize)]
struct Button {
    text: String,
    #[serde(default)]
    callback_data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    id: String,
    from: User,
    /// The message with the keyboard; `date` 0 marks one too old to be shown in full.
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    data: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChatMemberUpdated {
    chat: Chat,
    new_chat_member: ChatMember,
}

#[derive(Debug, Deserialize)]
struct ChatMember {
    status: String,
}

/// The platform id under which a message of `chat` is stored.
pub fn message_key(chat_id: i64, message_id: i64) -> String {
    format!("{chat_id}:{message_id}")
}

/// The prefix of a stored button press's platform id; the rest is the callback query's id.
pub const CALLBACK_KEY_PREFIX: &str = "callback:";

/// What one update says, for the bot `bot_id`.
pub fn normalize(body: &[u8], bot_id: &str) -> Result<Vec<NormalizedEvent>, Rejection> {
    let update: Update =
        serde_json::from_slice(body).map_err(|e| Rejection::Malformed(format!("not a Telegram update: {e}")))?;
    let event = if let Some(message) = update.message {
        message.chat.is_private().then(|| {
            let inbound = inbound(&message, bot_id);
            InboundEvent::Message(inbound)
        })
    } else if let Some(message) = update.edited_message {
        message.chat.is_private().then(|| {
            InboundEvent::Edit(MessageEdit {
                edited_at: message.edit_date.unwrap_or(message.date) * 1000,
                message: inbound(&message, bot_id),
            })
        })
    } else if let Some(query) = update.callback_query {
        button_press(query)
    } else if let Some(member) = update.my_chat_member {
        reachability(member)
    } else {
        // Updates the bot did not ask for (allowed_updates applies only to updates created
        // after setWebhook) are acknowledged and ignored.
        None
    };
    Ok(event
        .map(|event| NormalizedEvent {
            account_id: bot_id.to_string(),
            event,
        })
        .into_iter()
        .collect())
}

fn inbound(message: &Message, bot_id: &str) -> InboundMessage {
    let (body, attachments, kind) = content(message, bot_id);
    InboundMessage {
        external_user_id: message.chat.id.to_string(),
        contact_name: message.from.as_ref().and_then(User::name),
        platform_message_id: message_key(message.chat.id, message.message_id),
        body,
        attachments,
        kind,
        reply_to_platform_id: message
            .reply_to_message
            .as_ref()
            .map(|quoted| message_key(quoted.chat.id, quoted.message_id)),
        sent_at: message.date * 1000,
    }
}

/// The message's text, files and kind. `venue` and `animation` come with `location` and
/// `document` set too (for older clients), so they are read first.
fn content(message: &Message, bot_id: &str) -> (String, Vec<Attachment>, MessageKind) {
    let caption = || {
        with_links(
            message.caption.as_deref().unwrap_or_default(),
            &message.caption_entities,
        )
    };
    let file = |kind: AttachmentKind, file: &FileRef, fallback_name: Option<String>| {
        attachment(
            bot_id,
            kind,
            &file.file_id,
            file.file_name.clone().or(fallback_name),
            file.mime_type.clone(),
            file.file_size,
        )
    };
    let media = |attachment: Attachment| (caption(), vec![attachment], MessageKind::Media);
    if let Some(text) = &message.text {
        return (with_links(text, &message.entities), vec![], MessageKind::Text);
    }
    if let Some(largest) = message.photo.last() {
        return media(attachment(
            bot_id,
            AttachmentKind::Image,
            &largest.file_id,
            None,
            Some("image/jpeg".into()),
            largest.file_size,
        ));
    }
    if let Some(animation) = &message.animation {
        return media(file(AttachmentKind::Video, animation, None));
    }
    if let Some(video) = &message.video {
        return media(file(AttachmentKind::Video, video, None));
    }
    if let Some(note) = &message.video_note {
        return media(file(AttachmentKind::Video, note, Some("Video message".into())));
    }
    if let Some(voice) = &message.voice {
        return media(file(AttachmentKind::Audio, voice, Some("Voice message".into())));
    }
    if let Some(audio) = &message.audio {
        return media(file(AttachmentKind::Audio, audio, audio.title.clone()));
    }
    if let Some(document) = &message.document {
        return media(file(AttachmentKind::File, document, None));
    }
    if let Some(sticker) = &message.sticker {
        // .tgs (animated) and .webm (video) stickers need Telegram's own player; a WebP one
        // is an image.
        let (kind, mime) = if sticker.is_animated {
            (AttachmentKind::File, "application/x-tgsticker")
        } else if sticker.is_video {
            (AttachmentKind::Video, "video/webm")
        } else {
            (AttachmentKind::Sticker, "image/webp")
        };
        let label = sticker.emoji.as_ref().map(|emoji| format!("Sticker {emoji}"));
        return (
            String::new(),
            vec![attachment(
                bot_id,
                kind,
                &sticker.file_id,
                label,
                Some(mime.into()),
                sticker.file_size,
            )],
            MessageKind::Media,
        );
    }
    if let Some(venue) = &message.venue {
        let label = [venue.title.trim(), venue.address.trim()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        return place(&venue.location, Some(label));
    }
    if let Some(location) = &message.location {
        return place(location, None);
    }
    if let Some(contact) = &message.contact {
        let name = match &contact.last_name {
            Some(last) => format!("{} {last}", contact.first_name),
            None => contact.first_name.clone(),
        };
        let body = format!("Shared contact: {}, {}", name.trim(), contact.phone_number);
        return (body, vec![], MessageKind::Contacts);
    }
    // A poll, a dice, a game, a story…: the customer did write something.
    (
        "The customer sent something the inbox cannot show yet (a poll, a game or a story). Open Telegram to see it."
            .into(),
        vec![],
        MessageKind::Unsupported,
    )
}

fn place(location: &Location, label: Option<String>) -> (String, Vec<Attachment>, MessageKind) {
    let (lat, lon) = (location.latitude, location.longitude);
    let label = label
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| format!("{lat}, {lon}"));
    let attachment = Attachment {
        kind: AttachmentKind::Location,
        url: format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"),
        name: Some(label),
        mime_type: None,
        size: None,
        unavailable: None,
    };
    (String::new(), vec![attachment], MessageKind::Location)
}

/// A file the bot can fetch, served through our media route; one over the download limit is
/// kept as its name and size with the reason.
fn attachment(
    bot_id: &str,
    kind: AttachmentKind,
    file_id: &str,
    name: Option<String>,
    mime_type: Option<String>,
    size: Option<u64>,
) -> Attachment {
    let too_large = size.is_some_and(|size| size > MAX_DOWNLOAD_BYTES);
    Attachment {
        kind,
        url: if too_large {
            String::new()
        } else {
            media_url(ChannelKind::Telegram, bot_id, file_id)
        },
        name,
        mime_type,
        size,
        unavailable: too_large.then(|| {
            format!(
                "Too large to fetch: Telegram lets bots download files up to {}. Open Telegram to see it.",
                human_size(MAX_DOWNLOAD_BYTES)
            )
        }),
    }
}

/// The text with the address of each hidden link (`text_link`) written after its words, so
/// an agent sees where the link goes. Offsets count UTF-16 code units.
fn with_links(text: &str, entities: &[Entity]) -> String {
    let mut links: Vec<(usize, &str)> = entities
        .iter()
        .filter(|e| e.kind == "text_link")
        .filter_map(|e| e.url.as_deref().map(|url| (e.offset + e.length, url)))
        .collect();
    if links.is_empty() {
        return text.to_string();
    }
    links.sort_by_key(|(end, _)| *end);
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for (end, url) in links {
        let end = end.min(units.len());
        if end < at {
            continue;
        }
        out.push_str(&String::from_utf16_lossy(&units[at..end]));
        out.push_str(&format!(" ({url})"));
        at = end;
    }
    out.push_str(&String::from_utf16_lossy(&units[at..]));
    out
}

fn button_press(query: CallbackQuery) -> Option<InboundEvent> {
    let keyboard_message = query.message?;
    if !keyboard_message.chat.is_private() {
        return None;
    }
    let data = query.data.unwrap_or_default();
    let pressed = keyboard_message
        .reply_markup
        .iter()
        .flat_map(|markup| markup.inline_keyboard.iter().flatten())
        .find(|button| button.callback_data.as_deref() == Some(data.as_str()))
        .map(|button| button.text.clone())
        .unwrap_or_else(|| data.clone());
    Some(InboundEvent::Message(InboundMessage {
        external_user_id: keyboard_message.chat.id.to_string(),
        contact_name: query.from.name(),
        platform_message_id: format!("{CALLBACK_KEY_PREFIX}{}", query.id),
        body: pressed,
        attachments: vec![],
        kind: MessageKind::Interactive,
        reply_to_platform_id: Some(message_key(keyboard_message.chat.id, keyboard_message.message_id)),
        // A button press carries no time of its own; the keyboard's message does (0 when it is
        // too old to be sent in full), and the pipeline's clock stands in for both.
        sent_at: app::store::now_millis(),
    }))
}

fn reachability(update: ChatMemberUpdated) -> Option<InboundEvent> {
    if !update.chat.is_private() {
        return None;
    }
    let unreachable = match update.new_chat_member.status.as_str() {
        "kicked" => {
            Some("The customer blocked this bot on Telegram: nothing reaches them until they unblock it.".into())
        }
        "member" => None,
        _ => return None,
    };
    Some(InboundEvent::Reachability(ReachabilityChange {
        external_user_id: update.chat.id.to_string(),
        unreachable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const BOT: &str = "7000000001";

    fn private_message(content: Value) -> Value {
        let mut message = json!({
            "message_id": 17,
            "from": {"id": 5550001, "is_bot": false, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "language_code": "en"},
            "chat": {"id": 5550001, "first_name": "Ada", "last_name": "Lovelace", "username": "ada", "type": "private"},
            "date": 1_765_000_000,
        });
        if let (Some(message), Some(content)) = (message.as_object_mut(), content.as_object()) {
            message.extend(content.clone());
        }
        message
    }

    fn one(update: Value) -> InboundEvent {
        let events = normalize(update.to_string().as_bytes(), BOT).expect("an update");
        assert_eq!(events.len(), 1, "{update}");
        assert_eq!(events[0].account_id, BOT);
        events.into_iter().next().expect("one event").event
    }

    fn message(content: Value) -> InboundMessage {
        match one(json!({"update_id": 1, "message": private_message(content)})) {
            InboundEvent::Message(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_is_keyed_by_chat_and_message_and_names_the_customer() {
        let m = message(json!({"text": "Hello, is my order shipped?"}));
        assert_eq!(m.external_user_id, "5550001");
        assert_eq!(m.platform_message_id, "5550001:17");
        assert_eq!(m.contact_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(m.body, "Hello, is my order shipped?");
        assert_eq!(m.kind, MessageKind::Text);
        assert_eq!(m.sent_at, 1_765_000_000_000);
        assert_eq!(m.reply_to_platform_id, None);
    }

    #[test]
    fn hidden_links_are_spelled_out_with_utf16_offsets() {
        // "📦 track it": the emoji is two UTF-16 units, so "track it" starts at 3.
        let m = message(json!({
            "text": "📦 track it please",
            "entities": [
                {"type": "bold", "offset": 0, "length": 2},
                {"type": "text_link", "offset": 3, "length": 8, "url": "https://t.example/42"}
            ]
        }));
        assert_eq!(m.body, "📦 track it (https://t.example/42) please");
    }

    #[test]
    fn files_point_at_our_media_route() {
        let table: Vec<(Value, AttachmentKind, Option<&str>, Option<&str>)> = vec![
            (
                json!({"photo": [
                    {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 1200},
                    {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 1280, "file_size": 120_000}
                ], "caption": "this one"}),
                AttachmentKind::Image,
                None,
                Some("image/jpeg"),
            ),
            (
                json!({"document": {"file_id": "doc", "file_unique_id": "d", "file_name": "invoice.pdf", "mime_type": "application/pdf", "file_size": 5000}}),
                AttachmentKind::File,
                Some("invoice.pdf"),
                Some("application/pdf"),
            ),
            (
                json!({"video": {"file_id": "vid", "file_unique_id": "v", "width": 1, "height": 1, "duration": 3, "mime_type": "video/mp4"}}),
                AttachmentKind::Video,
                None,
                Some("video/mp4"),
            ),
            (
                json!({"voice": {"file_id": "voi", "file_unique_id": "vo", "duration": 2, "mime_type": "audio/ogg"}}),
                AttachmentKind::Audio,
                Some("Voice message"),
                Some("audio/ogg"),
            ),
            (
                json!({"audio": {"file_id": "aud", "file_unique_id": "a", "duration": 200, "title": "Jingle", "mime_type": "audio/mpeg"}}),
                AttachmentKind::Audio,
                Some("Jingle"),
                Some("audio/mpeg"),
            ),
            (
                json!({"sticker": {"file_id": "stk", "file_unique_id": "st", "type": "regular", "width": 512, "height": 512, "is_animated": false, "is_video": false, "emoji": "👍"}}),
                AttachmentKind::Sticker,
                Some("Sticker 👍"),
                Some("image/webp"),
            ),
            (
                // An animation also sets `document`, for older clients: it is a video.
                json!({"animation": {"file_id": "gif", "file_unique_id": "g", "width": 1, "height": 1, "duration": 1, "mime_type": "video/mp4"},
                       "document": {"file_id": "gif", "file_unique_id": "g", "mime_type": "video/mp4"}}),
                AttachmentKind::Video,
                None,
                Some("video/mp4"),
            ),
        ];
        for (content, kind, name, mime) in table {
            let m = message(content.clone());
            assert_eq!(m.kind, MessageKind::Media, "{content}");
            assert_eq!(m.attachments.len(), 1);
            let a = &m.attachments[0];
            assert_eq!(a.kind, kind, "{content}");
            assert_eq!(a.name.as_deref(), name, "{content}");
            assert_eq!(a.mime_type.as_deref(), mime, "{content}");
            assert!(a.url.starts_with("/api/media/telegram/7000000001/"), "{}", a.url);
            assert_eq!(a.unavailable, None);
        }
        let photo = message(
            json!({"photo": [{"file_id": "small", "file_unique_id": "s", "width": 9, "height": 9}, {"file_id": "large", "file_unique_id": "l", "width": 99, "height": 99}], "caption": "this one"}),
        );
        assert_eq!(
            photo.attachments[0].url, "/api/media/telegram/7000000001/large",
            "the largest size"
        );
        assert_eq!(photo.body, "this one", "the caption is the text");
    }

    #[test]
    fn a_file_over_the_download_limit_keeps_its_name_and_size() {
        let m = message(
            json!({"document": {"file_id": "big", "file_unique_id": "b", "file_name": "backup.zip", "mime_type": "application/zip", "file_size": 25 * 1024 * 1024}}),
        );
        let a = &m.attachments[0];
        assert_eq!(a.url, "");
        assert_eq!(a.name.as_deref(), Some("backup.zip"));
        assert_eq!(a.size, Some(25 * 1024 * 1024));
        assert!(a.unavailable.as_deref().is_some_and(|r| r.contains("20 MB")), "{a:?}");
    }

    #[test]
    fn places_and_contacts() {
        let venue = message(json!({
            "location": {"latitude": 48.8584, "longitude": 2.2945},
            "venue": {"location": {"latitude": 48.8584, "longitude": 2.2945}, "title": "Eiffel Tower", "address": "Champ de Mars"}
        }));
        assert_eq!(venue.kind, MessageKind::Location);
        assert_eq!(
            venue.attachments[0].name.as_deref(),
            Some("Eiffel Tower, Champ de Mars")
        );
        assert!(venue.attachments[0].url.contains("mlat=48.8584"));
        let location = message(json!({"location": {"latitude": 1.5, "longitude": -2.25}}));
        assert_eq!(location.attachments[0].name.as_deref(), Some("1.5, -2.25"));
        let contact = message(
            json!({"contact": {"phone_number": "+4477009001", "first_name": "Grace", "last_name": "Hopper", "user_id": 42}}),
        );
        assert_eq!(contact.kind, MessageKind::Contacts);
        assert_eq!(contact.body, "Shared contact: Grace Hopper, +4477009001");
        let poll = message(json!({"poll": {"id": "1", "question": "?", "options": []}}));
        assert_eq!(poll.kind, MessageKind::Unsupported);
    }

    #[test]
    fn replies_link_to_the_quoted_message_in_the_same_chat() {
        let m = message(json!({
            "text": "yes, that one",
            "reply_to_message": {"message_id": 9, "chat": {"id": 5550001, "type": "private"}, "date": 1, "text": "Which size?"}
        }));
        assert_eq!(m.reply_to_platform_id.as_deref(), Some("5550001:9"));
    }

    #[test]
    fn an_edit_is_the_new_version_under_the_same_key() {
        let mut edited = private_message(json!({"text": "Hello, is my order shipped yet?"}));
        edited["edit_date"] = json!(1_765_000_100);
        match one(json!({"update_id": 2, "edited_message": edited})) {
            InboundEvent::Edit(edit) => {
                assert_eq!(edit.message.platform_message_id, "5550001:17");
                assert_eq!(edit.message.body, "Hello, is my order shipped yet?");
                assert_eq!(edit.edited_at, 1_765_000_100_000);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_button_press_is_the_buttons_text_replying_to_the_keyboard() {
        let update = json!({"update_id": 3, "callback_query": {
            "id": "4382bfdwdsb323b2d9",
            "from": {"id": 5550001, "is_bot": false, "first_name": "Ada"},
            "chat_instance": "-123",
            "data": "size_m",
            "message": {
                "message_id": 30,
                "from": {"id": 7000000001u64, "is_bot": true, "first_name": "Acme Support", "username": "acme_support_bot"},
                "chat": {"id": 5550001, "type": "private"},
                "date": 1_765_000_000,
                "text": "Which size?",
                "reply_markup": {"inline_keyboard": [[{"text": "Small", "callback_data": "size_s"}, {"text": "Medium", "callback_data": "size_m"}]]}
            }
        }});
        match one(update) {
            InboundEvent::Message(m) => {
                assert_eq!(m.kind, MessageKind::Interactive);
                assert_eq!(m.body, "Medium");
                assert_eq!(m.platform_message_id, "callback:4382bfdwdsb323b2d9");
                assert_eq!(m.reply_to_platform_id.as_deref(), Some("5550001:30"));
                assert_eq!(m.external_user_id, "5550001");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn blocking_and_unblocking_the_bot() {
        let member = |status: &str| {
            json!({"update_id": 4, "my_chat_member": {
                "chat": {"id": 5550001, "type": "private"},
                "from": {"id": 5550001, "is_bot": false, "first_name": "Ada"},
                "date": 1_765_000_000,
                "old_chat_member": {"status": "member", "user": {"id": 7000000001u64, "is_bot": true, "first_name": "Acme"}},
                "new_chat_member": {"status": status, "user": {"id": 7000000001u64, "is_bot": true, "first_name": "Acme"}, "until_date": 0}
            }})
        };
        match one(member("kicked")) {
            InboundEvent::Reachability(change) => {
                assert_eq!(change.external_user_id, "5550001");
                assert!(change.unreachable.is_some_and(|why| why.contains("blocked")));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(one(member("member")), InboundEvent::Reachability(c) if c.unreachable.is_none()));
    }

    #[test]
    fn groups_channels_and_other_updates_are_not_the_inbox() {
        let group = json!({"update_id": 5, "message": {"message_id": 1, "chat": {"id": -100123, "type": "supergroup", "title": "Fans"}, "date": 1, "text": "hi all",
            "from": {"id": 5550001, "is_bot": false, "first_name": "Ada"}}});
        let post = json!({"update_id": 6, "channel_post": {"message_id": 1, "chat": {"id": -100999, "type": "channel", "title": "News"}, "date": 1, "text": "news"}});
        let poll = json!({"update_id": 7, "poll": {"id": "1", "question": "?", "options": []}});
        for update in [group, post, poll] {
            assert!(
                normalize(update.to_string().as_bytes(), BOT)
                    .expect("an update")
                    .is_empty(),
                "{update}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_an_update_is_refused() {
        assert!(matches!(normalize(b"not json", BOT), Err(Rejection::Malformed(_))));
        assert!(matches!(
            normalize(br#"{"message": {"text": "no ids"}}"#, BOT),
            Err(Rejection::Malformed(_))
        ));
    }
}
