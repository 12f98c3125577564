//! What each channel kind is, declared in one place: its names, its icon, its reply window,
//! the files it takes, what it can do and how it is connected. Every reader (the model's
//! reply window, attachment checks, the icon, the settings pages, delivery recovery) asks
//! `kind.platform()` rather than matching on the kind itself.
//!
//! Guarantees: `ChannelKind::platform` below is the only `match` over kinds for these facts,
//! and it has no catch-all arm, so a new kind does not compile until it has its own file
//! here; and `Platform` has no defaults, so that file must state every fact, not inherit a
//! guess. Where code genuinely serves one platform's own feature (WhatsApp templates, the
//! WhatsApp token form), it still names the kind.

mod demo;
mod instagram;
mod messenger;
mod sms;
mod telegram;
mod whatsapp;

use crate::attachments::MediaRule;
use crate::model::{AttachmentKind, ChannelKind};

/// The facts about one channel kind.
#[derive(Debug)]
pub struct Platform {
    /// The full name: channel cards, the icon's accessible label, the reply-window hint
    /// ("Facebook Messenger").
    pub name: &'static str,
    /// For tight spots such as the conversation filter's option groups ("Messenger").
    pub short_name: &'static str,
    /// The subject of attachment refusals: "<subject> does not accept image/tiff files".
    pub attachment_subject: &'static str,
    /// The heading over a list of this kind's accounts, as on the Facebook account picker
    /// ("Facebook pages (Messenger)").
    pub accounts_heading: &'static str,
    /// How the channel card describes the account.
    pub account: Account,
    /// The mark, drawn in a 24×24 box with the platform's colours (see `ChannelIcon`).
    pub icon: &'static [Shape],
    /// The badge behind the mark: a CSS `background` in the platform's own colours.
    pub badge: &'static str,
    /// When an agent may still reply after the customer's last message.
    pub window: WindowRule,
    /// What an agent may attach, in the order the composer lists it. A type no rule names
    /// is refused, so an empty table means the kind takes no files at all.
    pub media: &'static [MediaRule],
    /// The attachment kinds under which the platform shows a reply's text as a caption;
    /// with any other the text goes as a message of its own after the file.
    pub captions: &'static [AttachmentKind],
    /// Whether a business may write first (or late) only with approved templates.
    pub uses_templates: bool,
    /// Whether the platform drops a repeated send of the same reply, so a send cut off
    /// before its answer was recorded can simply be sent again without the customer
    /// getting it twice. Where it does not, such a send ends `failed` for an agent to check.
    pub idempotent_send: bool,
    /// Whether the platform pushes messages and statuses to our webhook.
    pub receives_webhooks: bool,
    /// Whether something of ours fetches (or, for the demo, makes up) new messages on a
    /// timer instead of, or besides, webhooks.
    pub has_poller: bool,
    /// Whether past conversations can be brought in when the channel is connected.
    pub imports_history: bool,
    /// Whether an agent can change a reply after it was sent.
    pub edits_sent: bool,
    /// Whether an agent can take back a reply after it was sent.
    pub deletes_sent: bool,
    /// Whether customers' emoji reactions reach the inbox.
    pub receives_reactions: bool,
    /// How many buttons a reply may offer the customer to press (0: none).
    pub reply_buttons: usize,
    /// The ways an admin can connect an account of this kind, the usual one first.
    pub connect: &'static [Connect],
}

impl Platform {
    /// Whether `kind` of file goes with the reply's text as its caption.
    pub fn takes_caption(&self, kind: AttachmentKind) -> bool {
        self.captions.contains(&kind)
    }

    /// Whether accounts of this kind are connected, and an expired one renewed, through
    /// Facebook login.
    pub fn connects_by_facebook_login(&self) -> bool {
        self.connect.iter().any(|c| matches!(c, Connect::FacebookLogin))
    }

    /// The fields an admin types in to connect an account by hand, if that is possible.
    pub fn connect_form(&self) -> Option<&'static [FormField]> {
        self.connect.iter().find_map(|c| match c {
            Connect::Form(fields) => Some(*fields),
            Connect::FacebookLogin | Connect::Seeded => None,
        })
    }
}

impl ChannelKind {
    /// Everything Messio knows about this kind of channel.
    pub fn platform(self) -> &'static Platform {
        match self {
            ChannelKind::Messenger => &messenger::PLATFORM,
            ChannelKind::Instagram => &instagram::PLATFORM,
            ChannelKind::WhatsApp => &whatsapp::PLATFORM,
            ChannelKind::Telegram => &telegram::PLATFORM,
            ChannelKind::Sms => &sms::PLATFORM,
            ChannelKind::Demo => &demo::PLATFORM,
        }
    }
}

/// How long after the customer's last message an agent may still reply, and with what.
/// The lengths are `model::STANDARD_WINDOW_MS` and `model::HUMAN_AGENT_WINDOW_MS`;
/// `model::ReplyWindow::at` applies the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRule {
    /// No window: a reply may go out at any time, even before the customer wrote.
    Always,
    /// Free-form replies during the standard window, then only replies tagged HUMAN_AGENT
    /// until the human-agent window ends, then none until the customer writes again.
    StandardThenHumanAgent,
    /// Free-form replies during the standard window, then only approved templates.
    StandardThenTemplates,
}

/// How the card's second line describes an account ("Number 1065… · WABA 1022…").
#[derive(Debug, Clone, Copy)]
pub struct Account {
    /// What the platform calls the account's id: the tooltip over it.
    pub id_title: &'static str,
    /// Written before the id ("Number "); empty for none.
    pub id_prefix: &'static str,
    /// Whether a channel named "@…" is named after the account's handle, which then stands
    /// in for the id (people know their handle, not their numeric id).
    pub handle_name: bool,
    /// The account above this one, when the platform has one.
    pub parent: Option<ParentAccount>,
}

/// The account a channel hangs under: a WhatsApp number's business account, the Facebook
/// page an Instagram account is linked to (`Channel::parent_account_id`).
#[derive(Debug, Clone, Copy)]
pub struct ParentAccount {
    /// The tooltip over the parent's id.
    pub title: &'static str,
    /// Written before the parent's id ("WABA ").
    pub prefix: &'static str,
}

/// Which of the icon's two inks a shape is drawn with: the stylesheet colours each
/// platform's `.cb-stroke` and `.cb-fill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ink {
    Stroke,
    Fill,
}

impl Ink {
    pub fn class(self) -> &'static str {
        match self {
            Ink::Stroke => "cb-stroke",
            Ink::Fill => "cb-fill",
        }
    }
}

/// One element of an icon, with its SVG attributes written as they go into the markup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Path {
        ink: Ink,
        d: &'static str,
    },
    Rect {
        ink: Ink,
        x: &'static str,
        y: &'static str,
        width: &'static str,
        height: &'static str,
        rx: &'static str,
    },
    Circle {
        ink: Ink,
        cx: &'static str,
        cy: &'static str,
        r: &'static str,
    },
}

/// One way to connect an account.
#[derive(Debug, Clone, Copy)]
pub enum Connect {
    /// Facebook login, then the account picker (`/settings/channels/facebook`).
    FacebookLogin,
    /// An admin types these in, e.g. ids and a token from the platform's own console.
    Form(&'static [FormField]),
    /// Created by `messio demo`; nobody connects it.
    Seeded,
}

/// A field of a by-hand connect form.
#[derive(Debug, Clone, Copy)]
pub struct FormField {
    /// The field's name as the settings page submits it (snake_case, as server functions
    /// name their arguments).
    pub name: &'static str,
    pub label: &'static str,
    /// A credential: typed into a password input and stored encrypted, never shown again.
    pub secret: bool,
    /// Where to find the value.
    pub hint: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DAY_MS, ReplyWindow};

    fn kinds() -> impl Iterator<Item = (ChannelKind, &'static Platform)> {
        ChannelKind::ALL.iter().map(|k| (*k, k.platform()))
    }

    #[test]
    fn every_kind_has_names_and_a_visible_icon() {
        for (kind, p) in kinds() {
            for (what, text) in [
                ("name", p.name),
                ("short name", p.short_name),
                ("attachment subject", p.attachment_subject),
                ("accounts heading", p.accounts_heading),
                ("account id title", p.account.id_title),
            ] {
                assert!(!text.trim().is_empty(), "{kind}: empty {what}");
            }
            assert!(
                p.short_name.len() <= p.name.len(),
                "{kind}: short name longer than the name"
            );
            assert!(!p.icon.is_empty(), "{kind}: no icon");
            for shape in p.icon {
                let attrs: &[&str] = match shape {
                    Shape::Path { d, .. } => &[d],
                    Shape::Rect {
                        x,
                        y,
                        width,
                        height,
                        rx,
                        ..
                    } => &[x, y, width, height, rx],
                    Shape::Circle { cx, cy, r, .. } => &[cx, cy, r],
                };
                assert!(
                    attrs.iter().all(|a| !a.is_empty()),
                    "{kind}: {shape:?} lacks an attribute"
                );
                assert!(
                    attrs.iter().all(|a| !a.contains(['"', '<', '&'])),
                    "{kind}: {shape:?} would need escaping"
                );
            }
        }
    }

    #[test]
    fn names_tell_kinds_apart() {
        let all: Vec<_> = kinds().collect();
        for (i, (a, pa)) in all.iter().enumerate() {
            for (b, pb) in &all[i + 1..] {
                assert_ne!(pa.name, pb.name, "{a} and {b} share a name");
                assert_ne!(pa.short_name, pb.short_name, "{a} and {b} share a short name");
                assert_ne!(pa.icon, pb.icon, "{a} and {b} share an icon");
            }
        }
    }

    #[test]
    fn templates_go_with_the_window_that_falls_back_to_them() {
        for (kind, p) in kinds() {
            assert_eq!(
                p.uses_templates,
                p.window == WindowRule::StandardThenTemplates,
                "{kind}: templates are how a reply goes out after the window, and only then"
            );
        }
    }

    #[test]
    fn a_kind_without_a_window_takes_replies_any_time() {
        for (kind, _) in kinds().filter(|(_, p)| p.window == WindowRule::Always) {
            assert_eq!(
                ReplyWindow::at(kind, None, 0),
                ReplyWindow::Open { closes_at: i64::MAX },
                "{kind}"
            );
            assert!(matches!(
                ReplyWindow::at(kind, Some(0), 30 * DAY_MS),
                ReplyWindow::Open { .. }
            ));
        }
    }

    #[test]
    fn media_tables_are_usable() {
        for (kind, p) in kinds() {
            // The composer always offers its attach button, and an empty table would leave
            // the file picker's `accept` open while every file is refused: a kind that takes
            // no files must first hide the button.
            assert!(!p.media.is_empty(), "{kind}: takes no files");
            let mut seen = Vec::new();
            for rule in p.media {
                assert!(rule.max_bytes > 0, "{kind}: {:?} takes nothing", rule.kind);
                assert!(
                    rule.max_bytes <= crate::attachments::MAX_UPLOAD_BYTES,
                    "{kind}: {:?} allows more than an upload may be",
                    rule.kind
                );
                for t in rule.types {
                    assert!(
                        !seen.contains(t),
                        "{kind}: {t} listed twice, the later rule never applies"
                    );
                    seen.push(*t);
                }
            }
            // A kind that takes any file shows that in its accepted types: the picker's
            // `accept` is then left open rather than listing types.
            let open = p.media.iter().any(|r| r.types.is_empty());
            assert_eq!(crate::attachments::accept_attribute(kind).is_empty(), open, "{kind}");
        }
    }

    #[test]
    fn captions_are_only_promised_for_files_the_kind_takes() {
        for (kind, p) in kinds() {
            // The demo shows text under anything; elsewhere a caption belongs to an
            // attachment kind the platform accepts.
            if p.captions == AttachmentKind::ALL {
                continue;
            }
            for caption in p.captions {
                assert!(
                    p.media.iter().any(|r| r.kind == *caption),
                    "{kind}: captions {caption} files it never takes"
                );
            }
        }
    }

    #[test]
    fn every_kind_can_be_connected_and_reached() {
        for (kind, p) in kinds() {
            assert!(!p.connect.is_empty(), "{kind}: no way to connect it");
            let seeded = p.connect.iter().any(|c| matches!(c, Connect::Seeded));
            assert!(
                !seeded || p.connect.len() == 1,
                "{kind}: seeded kinds are not connected any other way"
            );
            // Messages arrive by webhook or by a poller; otherwise the inbox stays empty.
            assert!(
                p.receives_webhooks || p.has_poller,
                "{kind}: nothing brings messages in"
            );
            if let Some(fields) = p.connect_form() {
                assert!(!fields.is_empty(), "{kind}: an empty form");
                for f in fields {
                    assert!(
                        !f.name.is_empty() && !f.label.is_empty() && !f.hint.is_empty(),
                        "{kind}: {f:?}"
                    );
                }
                assert!(
                    fields.iter().any(|f| f.secret),
                    "{kind}: a form connects with a credential, which must be typed into a secret field"
                );
            }
        }
    }
}
