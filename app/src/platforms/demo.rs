//! The demo channel `messio demo` seeds: simulated customers on our own server, so the
//! inbox can be tried without a Meta app. It behaves like an easy-going Messenger page.

use super::{Account, Connect, Ink, Platform, Shape, WindowRule};
use crate::model::AttachmentKind;

pub const PLATFORM: Platform = Platform {
    name: "Demo channel",
    short_name: "Demo",
    attachment_subject: "This channel",
    accounts_heading: "Demo channels",
    account: Account {
        id_title: "Account id on the platform",
        id_prefix: "",
        handle_name: false,
        parent: None,
    },
    badge: "#8b93a5",
    icon: &[Shape::Path {
        ink: Ink::Fill,
        d: "M12 4.5l1.9 4.6 4.6 1.9-4.6 1.9L12 17.5l-1.9-4.6L5.5 11l4.6-1.9z",
    }],
    // Nobody enforces a window on our own simulated customers.
    window: WindowRule::Always,
    // Messenger's rules, so trying the composer here shows what a real page would refuse.
    media: super::messenger::MEDIA,
    // The demo thread shows text under any file.
    captions: AttachmentKind::ALL,
    uses_templates: false,
    // Ours: a send has no effect beyond its id, which is derived from the message id.
    idempotent_send: true,
    receives_webhooks: false,
    // The simulated customers (server/src/demo.rs) read replies and write again on a timer.
    has_poller: true,
    imports_history: false,
    edits_sent: false,
    deletes_sent: false,
    receives_reactions: false,
    // The simulated customers do not press buttons.
    reply_buttons: 0,
    connect: &[Connect::Seeded],
};
