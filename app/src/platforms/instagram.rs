//! Instagram Direct: a professional account's messages, reached through the Facebook page
//! it is linked to (Meta's Messenger Platform for Instagram), so it shares Messenger's
//! Send API and window.

use super::{Account, Connect, FormField, Ink, ParentAccount, Platform, Shape, WindowRule};
use crate::attachments::{MB, MediaRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "Instagram Direct",
    short_name: "Instagram",
    attachment_subject: "Instagram",
    accounts_heading: "Instagram accounts",
    account: Account {
        id_title: "Instagram account id",
        id_prefix: "",
        // The gateway names Instagram channels after the account's @username when it has one.
        handle_name: true,
        parent: Some(ParentAccount {
            title: "The Facebook page it is linked to",
            prefix: "via page ",
        }),
    },
    badge: "radial-gradient(circle at 30% 107%, #fdf497 0%, #fdf497 5%, #fd5949 45%, #d6249f 60%, #285aeb 90%)",
    icon: &[
        Shape::Rect {
            ink: Ink::Stroke,
            x: "4.5",
            y: "4.5",
            width: "15",
            height: "15",
            rx: "4.2",
        },
        Shape::Circle {
            ink: Ink::Stroke,
            cx: "12",
            cy: "12",
            r: "3.4",
        },
        Shape::Circle {
            ink: Ink::Fill,
            cx: "16.4",
            cy: "7.6",
            r: "1",
        },
    ],
    // As Messenger: 24 hours free, then 7 days with HUMAN_AGENT.
    window: WindowRule::StandardThenHumanAgent,
    media: MEDIA,
    // The Send API takes a message's text or one attachment, never both.
    captions: &[],
    uses_templates: false,
    // Sent through Meta's Send API like Messenger, which takes no idempotency key:
    // https://developers.facebook.com/docs/messenger-platform/reference/send-api
    idempotent_send: false,
    receives_webhooks: true,
    has_poller: false,
    imports_history: false,
    edits_sent: false,
    deletes_sent: false,
    receives_reactions: true,
    // Instagram has quick replies, but our Send API body does not offer them yet.
    reply_buttons: 0,
    connect: &[Connect::FacebookLogin, Connect::Form(LINKED_PAGE_FORM)],
};

/// What `POST /api/inbox/channels/social` takes with `platform: "instagram"` (as `pageId`
/// and `accessToken`): the account is found through the page it is linked to.
const LINKED_PAGE_FORM: &[FormField] = &[
    FormField {
        name: "page_id",
        label: "Facebook page ID",
        secret: false,
        hint: "The numeric id of the Facebook page the Instagram account is linked to.",
    },
    FormField {
        name: "access_token",
        label: "Page access token",
        secret: true,
        hint: "A page access token with the instagram_manage_messages permission.",
    },
];

/// Instagram's published types and sizes for files a business sends.
const MEDIA: &[MediaRule] = &[
    MediaRule {
        kind: AttachmentKind::Image,
        types: &["image/png", "image/jpeg", "image/gif"],
        max_bytes: 8 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Video,
        types: &[
            "video/mp4",
            "video/ogg",
            "video/x-msvideo",
            "video/quicktime",
            "video/webm",
        ],
        max_bytes: 25 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Audio,
        types: &["audio/aac", "audio/mp4", "audio/x-m4a", "audio/wav", "audio/x-wav"],
        max_bytes: 25 * MB,
    },
    MediaRule {
        kind: AttachmentKind::File,
        types: &["application/pdf"],
        max_bytes: 25 * MB,
    },
];
