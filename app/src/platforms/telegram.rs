//! Telegram: a bot an admin created with @BotFather, reached through the Bot API. Customers
//! write to the bot in a private chat; there is no reply window, and the bot may write again
//! at any time unless the customer blocked it.

use super::{Account, Connect, FormField, Ink, Platform, Shape, WindowRule};
use crate::attachments::{MB, MediaRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "Telegram",
    short_name: "Telegram",
    attachment_subject: "Telegram",
    accounts_heading: "Telegram bots",
    account: Account {
        id_title: "Bot id",
        id_prefix: "Bot ",
        // Channels are named "Acme Support (@acme_support_bot)": the bot's name and the
        // @username people find it by; the card's id slot keeps the numeric bot id.
        handle_name: false,
        parent: None,
    },
    badge: "#229ed9",
    icon: &[
        Shape::Path {
            ink: Ink::Stroke,
            d: "M20.2 4.6L3.6 11c-.9.4-.9 1 0 1.3l4.1 1.3 1.6 4.9c.2.6.4.7.9.3l2.3-1.9 4.3 3.2c.6.4 1.1.2 1.3-.6l2.9-13.6c.3-1.1-.3-1.6-.8-1.3z",
        },
        Shape::Path {
            ink: Ink::Fill,
            d: "M9.2 13.9l7.4-6.6c.4-.3-.1-.5-.6-.2l-8.3 5.2z",
        },
    ],
    // The Bot API has no customer-service window: a bot may message a user who started it
    // at any time (until they block it).
    window: WindowRule::Always,
    media: MEDIA,
    // sendPhoto, sendVideo, sendAudio and sendDocument all take a `caption` (0-1024 chars).
    captions: &[
        AttachmentKind::Image,
        AttachmentKind::Video,
        AttachmentKind::Audio,
        AttachmentKind::File,
    ],
    uses_templates: false,
    // sendMessage and the send-file methods take no idempotency key: a repeated call sends
    // the message twice. https://core.telegram.org/bots/api#sendmessage
    idempotent_send: false,
    receives_webhooks: true,
    has_poller: false,
    // getUpdates and webhooks only deliver what arrives after the bot is set up; the Bot API
    // has no method to read a chat's history.
    imports_history: false,
    // editMessageText and deleteMessage, on the bot's own messages (deleting within 48 hours).
    edits_sent: true,
    deletes_sent: true,
    // message_reaction updates need the bot to be an administrator of the chat, which it
    // cannot be in a private chat.
    receives_reactions: false,
    // An inline keyboard under the reply; presses come back as callback queries. Telegram
    // takes many more, but a customer scanning a chat does not.
    reply_buttons: 8,
    connect: &[Connect::Form(BOT_TOKEN_FORM)],
};

/// `POST /api/channels/telegram {botToken}`.
const BOT_TOKEN_FORM: &[FormField] = &[FormField {
    name: "bot_token",
    label: "Bot token",
    secret: true,
    hint: "Ask @BotFather on Telegram: /newbot creates a bot and gives its token (123456:ABC…).",
}];

/// What the Bot API takes by multipart upload ("Sending files": 10 MB for photos, 50 MB for
/// other files). sendPhoto takes JPEG, PNG and WebP; sendAudio MP3 and M4A; sendVoice OGG
/// with Opus; sendVideo MP4; sendDocument anything.
const MEDIA: &[MediaRule] = &[
    MediaRule {
        kind: AttachmentKind::Image,
        types: &["image/jpeg", "image/png", "image/webp"],
        max_bytes: 10 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Video,
        types: &["video/mp4"],
        max_bytes: 50 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Audio,
        types: &["audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/ogg"],
        max_bytes: 50 * MB,
    },
    MediaRule {
        kind: AttachmentKind::File,
        types: &[],
        max_bytes: 50 * MB,
    },
];
