//! Facebook Messenger: a Facebook page's conversations, through Meta's Messenger Platform.
//! Instagram shares its Send API and window; the demo channel borrows its file rules.

use super::{Account, Connect, FormField, Ink, Platform, Shape, WindowRule};
use crate::attachments::{MB, MediaRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "Facebook Messenger",
    short_name: "Messenger",
    attachment_subject: "Messenger",
    accounts_heading: "Facebook pages (Messenger)",
    account: Account {
        id_title: "Account id on the platform",
        id_prefix: "",
        handle_name: false,
        parent: None,
    },
    badge: "linear-gradient(135deg, #00b2ff, #006aff)",
    icon: &[
        Shape::Path {
            ink: Ink::Stroke,
            d: "M12 3.6c-4.7 0-8.4 3.5-8.4 7.9 0 2.4 1.1 4.6 3 6.1v3l2.8-1.5c.8.2 1.7.3 2.6.3 4.7 0 8.4-3.5 8.4-7.9S16.7 3.6 12 3.6z",
        },
        Shape::Path {
            ink: Ink::Fill,
            d: "M7.4 13.9l3.1-3.3 1.9 1.9 3.3-1.9-3.1 3.3-1.9-1.9z",
        },
    ],
    // 24 hours of free-form replies, then 7 days for replies tagged HUMAN_AGENT.
    window: WindowRule::StandardThenHumanAgent,
    media: MEDIA,
    // The Send API takes a message's text or one attachment, never both.
    captions: &[],
    uses_templates: false,
    // Meta's Send API (Messenger, and Instagram through the linked page) takes
    // `recipient`, `messaging_type`, `message`, `notification_type`, `sender_action`,
    // `tag` and `reply_to`, but no idempotency key; `message.metadata` only comes back
    // in the echo webhook. https://developers.facebook.com/docs/messenger-platform/reference/send-api
    // and https://developers.facebook.com/docs/graph-api/reference/page/messages
    idempotent_send: false,
    receives_webhooks: true,
    has_poller: false,
    imports_history: false,
    edits_sent: false,
    deletes_sent: false,
    // Meta can deliver `message_reactions` for pages, but our Messenger webhook reader
    // (server/src/channels/messenger/normalize.rs) does not take them yet: set this when it does.
    receives_reactions: false,
    // Messenger has quick replies, but our Send API body does not offer them yet.
    reply_buttons: 0,
    connect: &[Connect::FacebookLogin, Connect::Form(PAGE_TOKEN_FORM)],
};

/// What `POST /api/inbox/channels/social` takes with `platform: "messenger"` (as `pageId`
/// and `accessToken`), for admins who already hold a page access token.
const PAGE_TOKEN_FORM: &[FormField] = &[
    FormField {
        name: "page_id",
        label: "Page ID",
        secret: false,
        hint: "The Facebook page's numeric id.",
    },
    FormField {
        name: "access_token",
        label: "Page access token",
        secret: true,
        hint: "A page access token with the pages_messaging permission.",
    },
];

/// Messenger's published types and sizes for files a page sends. The demo channel uses
/// these too, so demo replies behave like a real page's.
pub const MEDIA: &[MediaRule] = &[
    MediaRule {
        kind: AttachmentKind::Image,
        types: &["image/jpeg", "image/png", "image/gif"],
        max_bytes: 8 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Video,
        types: &[
            "video/mp4",
            "video/ogg",
            "video/quicktime",
            "video/webm",
            "video/x-msvideo",
        ],
        max_bytes: 25 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Audio,
        types: &[
            "audio/aac",
            "audio/mp4",
            "audio/x-m4a",
            "audio/mpeg",
            "audio/wav",
            "audio/x-wav",
            "audio/ogg",
        ],
        max_bytes: 25 * MB,
    },
    MediaRule {
        kind: AttachmentKind::File,
        types: &[],
        max_bytes: 25 * MB,
    },
];
