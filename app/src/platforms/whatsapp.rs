//! WhatsApp: a business phone number, through Meta's WhatsApp Cloud API. The one kind with
//! approved templates, which are all it may send outside the 24-hour window.

use super::{Account, Connect, FormField, Ink, ParentAccount, Platform, Shape, WindowRule};
use crate::attachments::{MB, MediaRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "WhatsApp",
    short_name: "WhatsApp",
    attachment_subject: "WhatsApp",
    accounts_heading: "WhatsApp numbers",
    account: Account {
        id_title: "Phone number ID",
        id_prefix: "Number ",
        handle_name: false,
        parent: Some(ParentAccount {
            title: "WhatsApp Business Account",
            prefix: "WABA ",
        }),
    },
    badge: "#25d366",
    icon: &[
        Shape::Path {
            ink: Ink::Stroke,
            d: "M12 3.8a8.2 8.2 0 0 0-7 12.5l-1.2 4 4.1-1.1A8.2 8.2 0 1 0 12 3.8z",
        },
        Shape::Path {
            ink: Ink::Fill,
            d: "M9.3 7.9c.2-.3.4-.3.6-.3h.5c.2 0 .3 0 .5.4l.7 1.6c.1.2 0 .4-.1.5l-.5.6c-.1.1-.2.3 0 .5.6 1 1.4 1.8 2.5 2.3.2.1.4.1.5-.1l.6-.7c.2-.2.3-.2.5-.1l1.5.7c.3.1.4.2.4.4 0 .5-.2 1.1-.7 1.4-.5.4-1.3.6-2.3.2-2.2-.8-3.8-2.4-4.6-4.3-.5-1.1-.4-1.9.1-2.5z",
        },
    ],
    // 24 hours of free-form replies, then (and before the customer ever wrote) templates only.
    window: WindowRule::StandardThenTemplates,
    media: MEDIA,
    // Image, video and document messages carry a `caption`; audio (and stickers) do not.
    captions: &[AttachmentKind::Image, AttachmentKind::Video, AttachmentKind::File],
    uses_templates: true,
    // The Cloud API's POST /{phone-number-id}/messages takes `messaging_product`, `to`,
    // `recipient_type`, `type`, `context` and the content, but no idempotency key;
    // `biz_opaque_callback_data` is only handed back in status webhooks, never used to
    // drop a repeat. https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
    idempotent_send: false,
    receives_webhooks: true,
    has_poller: false,
    imports_history: false,
    edits_sent: false,
    deletes_sent: false,
    receives_reactions: true,
    // Interactive reply buttons exist in the Cloud API, but our send body does not offer them yet.
    reply_buttons: 0,
    connect: &[Connect::FacebookLogin, Connect::Form(SYSTEM_USER_FORM)],
};

/// The settings page's "Connect a WhatsApp number by hand" form (`connect_whatsapp_number`),
/// for businesses that manage WhatsApp outside Facebook login, or to replace an expired token.
const SYSTEM_USER_FORM: &[FormField] = &[
    FormField {
        name: "phone_number_id",
        label: "Phone number ID",
        secret: false,
        hint: "Meta's WhatsApp Manager → Account tools → Phone numbers.",
    },
    FormField {
        name: "waba_id",
        label: "WhatsApp Business Account ID",
        secret: false,
        hint: "Shown next to the phone number ID in WhatsApp Manager.",
    },
    FormField {
        name: "access_token",
        label: "Access token",
        secret: true,
        hint: "A system user's token with whatsapp_business_messaging and whatsapp_business_management.",
    },
];

/// The Cloud API's published types and sizes for media a business sends.
const MEDIA: &[MediaRule] = &[
    MediaRule {
        kind: AttachmentKind::Image,
        types: &["image/jpeg", "image/png"],
        max_bytes: 5 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Video,
        types: &["video/mp4", "video/3gpp"],
        max_bytes: 16 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Audio,
        types: &["audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"],
        max_bytes: 16 * MB,
    },
    MediaRule {
        kind: AttachmentKind::File,
        types: &[
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.ms-excel",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ],
        max_bytes: 100 * MB,
    },
];
