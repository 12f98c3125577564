//! SMS (and MMS) through Twilio: a business's Twilio phone number, or a Messaging Service
//! holding several. No reply window; customers opt out with STOP and back in with START, and
//! while they are out Twilio refuses to text them (21610). Each segment of a text is billed,
//! so the composer shows the encoding and the segment count (`crate::sms`).

use super::{Account, Connect, FormField, Ink, ParentAccount, Platform, Shape, WindowRule};
use crate::attachments::{MB, MediaRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "SMS (Twilio)",
    short_name: "SMS",
    attachment_subject: "MMS",
    accounts_heading: "Twilio numbers",
    account: Account {
        id_title: "Twilio phone number SID or Messaging Service SID",
        id_prefix: "",
        handle_name: false,
        parent: Some(ParentAccount {
            title: "Twilio account SID",
            prefix: "Account ",
        }),
    },
    badge: "#f22f46",
    icon: &[
        Shape::Rect {
            ink: Ink::Stroke,
            x: "4",
            y: "5",
            width: "16",
            height: "12",
            rx: "3",
        },
        Shape::Path {
            ink: Ink::Stroke,
            d: "M8 17l-2 3.5 5-3.5",
        },
        Shape::Circle {
            ink: Ink::Fill,
            cx: "9",
            cy: "11",
            r: "1.1",
        },
        Shape::Circle {
            ink: Ink::Fill,
            cx: "12",
            cy: "11",
            r: "1.1",
        },
        Shape::Circle {
            ink: Ink::Fill,
            cx: "15",
            cy: "11",
            r: "1.1",
        },
    ],
    // Texting has no platform window; opt-outs are the customer's STOP, not a clock.
    window: WindowRule::Always,
    media: MEDIA,
    // An MMS carries its text beside the media in one message.
    captions: &[AttachmentKind::Image, AttachmentKind::Video, AttachmentKind::File],
    uses_templates: false,
    // POST /2010-04-01/Accounts/{Sid}/Messages.json takes no idempotency key: a repeated
    // request texts the customer twice. https://www.twilio.com/docs/messaging/api/message-resource
    idempotent_send: false,
    receives_webhooks: true,
    has_poller: false,
    imports_history: false,
    edits_sent: false,
    deletes_sent: false,
    receives_reactions: false,
    // A text is only text.
    reply_buttons: 0,
    connect: &[Connect::Form(TWILIO_FORM)],
};

/// `POST /api/channels/sms {accountSid, authToken, phoneNumber}`.
const TWILIO_FORM: &[FormField] = &[
    FormField {
        name: "account_sid",
        label: "Account SID",
        secret: false,
        hint: "On the Twilio Console's home page (starts with AC).",
    },
    FormField {
        name: "auth_token",
        label: "Auth Token",
        secret: true,
        hint: "Beside the Account SID in the Twilio Console. Stored encrypted.",
    },
    FormField {
        name: "phone_number",
        label: "Phone number or Messaging Service SID",
        secret: false,
        hint: "A number of this account in international format (+15017122661), or a Messaging Service SID (MG…). Messio points its incoming texts here; nothing to configure at Twilio.",
    },
];

/// What carriers reliably deliver by MMS, within Twilio's 5 MB per message.
const MEDIA: &[MediaRule] = &[
    MediaRule {
        kind: AttachmentKind::Image,
        types: &["image/jpeg", "image/png", "image/gif"],
        max_bytes: 5 * MB,
    },
    MediaRule {
        kind: AttachmentKind::Video,
        types: &["video/mp4", "video/3gpp"],
        max_bytes: 5 * MB,
    },
    MediaRule {
        kind: AttachmentKind::File,
        types: &["application/pdf", "text/vcard", "text/plain"],
        max_bytes: 5 * MB,
    },
];
