//! Instagram webhook deliveries (`object: "instagram"`) turned into normalized events:
//! messages with their files, shares, reels, story mentions and replies (CDN links swapped
//! for our media route, which keeps a copy), echoes, reactions, reads and postbacks.
//! Messages Instagram does not pass on to apps are kept as "unsupported" so agents see that
//! the customer wrote.

use super::{EPHEMERAL_BODY, UNSUPPORTED_BODY, kept_media_url};
use crate::channels::meta::pages::{Party, our_message_id, webhook_entries};
use crate::channels::{InboundEvent, NormalizedEvent, Rejection};
use app::model::{Attachment, AttachmentKind, MessageKind, MessageStatus};
use app::store::{EchoMessage, InboundMessage, ReactionUpdate, StatusUpdate, now_millis};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct Messaging {
    sender: Party,
    recipient: Party,
    #[serde(default)]
    timestamp: Option<i64>,
    #[serde(default)]
    message: Option<MessagePayload>,
    #[serde(default)]
    reaction: Option<ReactionPayload>,
    #[serde(default)]
    read: Option<ReadPayload>,
    #[serde(default)]
    postback: Option<PostbackPayload>,
}

#[derive(Debug, Deserialize)]
struct MessagePayload {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    attachments: Vec<AttachmentPayload>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default)]
    is_deleted: bool,
    #[serde(default)]
    is_unsupported: bool,
    #[serde(default)]
    metadata: Option<String>,
    #[serde(default)]
    reply_to: Option<ReplyToPayload>,
}

#[derive(Debug, Deserialize)]
struct AttachmentPayload {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ReplyToPayload {
    #[serde(default)]
    mid: Option<String>,
    #[serde(default)]
    story: Option<StoryPayload>,
}

#[derive(Debug, Deserialize)]
struct StoryPayload {
    #[serde(default)]
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ReactionPayload {
    mid: String,
    action: String,
    #[serde(default)]
    reaction: Option<String>,
    #[serde(default)]
    emoji: Option<String>,
}

/// `read: {mid}`: only its presence matters, the event's timestamp is the watermark.
#[derive(Debug, Deserialize)]
struct ReadPayload {}

#[derive(Debug, Deserialize)]
struct PostbackPayload {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    mid: Option<String>,
}

/// The emoji for a reaction Meta names but sends without its `emoji`.
fn reaction_emoji(name: &str) -> Option<&'static str> {
    Some(match name {
        "love" => "❤️",
        "like" => "👍",
        "dislike" => "👎",
        "laugh" | "smile" => "😆",
        "wow" => "😮",
        "sad" => "😢",
        "angry" => "😠",
        _ => return None,
    })
}

fn url_of(payload: Option<&Value>) -> String {
    payload
        .and_then(|p| p.get("url"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// What one Instagram message becomes: its text, files and kind.
struct Content {
    body: String,
    attachments: Vec<Attachment>,
    kind: MessageKind,
}

fn content(message: &MessagePayload) -> Content {
    let text = message.text.clone().unwrap_or_default();
    if message.is_unsupported {
        return Content {
            body: UNSUPPORTED_BODY.into(),
            attachments: vec![],
            kind: MessageKind::Unsupported,
        };
    }
    let mut attachments = Vec::new();
    let mut kind = MessageKind::Text;
    if let Some(story) = message.reply_to.as_ref().and_then(|r| r.story.as_ref()) {
        kind = MessageKind::StoryReply;
        attachments.push(Attachment {
            kind: AttachmentKind::Other,
            url: story.url.clone().unwrap_or_default(),
            name: Some("Story".into()),
            mime_type: None,
            size: None,
            unavailable: None,
        });
    }
    for a in &message.attachments {
        let url = url_of(a.payload.as_ref());
        let (attachment_kind, name) = match a.kind.as_str() {
            "image" => (AttachmentKind::Image, None),
            "video" => (AttachmentKind::Video, None),
            "audio" => (AttachmentKind::Audio, None),
            "file" => (AttachmentKind::File, None),
            "share" => (AttachmentKind::Other, Some("Shared post")),
            "ig_reel" | "reel" => (AttachmentKind::Other, Some("Reel")),
            "story_mention" => {
                kind = MessageKind::StoryMention;
                (AttachmentKind::Other, Some("Story mention"))
            }
            "ephemeral" => {
                return Content {
                    body: EPHEMERAL_BODY.into(),
                    attachments: vec![],
                    kind: MessageKind::Unsupported,
                };
            }
            other => (AttachmentKind::Other, Some(other)),
        };
        if kind == MessageKind::Text {
            kind = MessageKind::Media;
        }
        attachments.push(Attachment {
            kind: attachment_kind,
            url,
            name: name.map(str::to_string),
            mime_type: None,
            size: None,
            unavailable: None,
        });
    }
    let body = if kind == MessageKind::StoryMention {
        String::new()
    } else {
        text
    };
    Content {
        body,
        attachments,
        kind,
    }
}

/// Files and stories live on the CDN; shared posts and reels are links to their pages.
fn is_cdn_file(attachment: &Attachment) -> bool {
    attachment.kind != AttachmentKind::Other || matches!(attachment.name.as_deref(), Some("Story" | "Story mention"))
}

/// Turns one webhook delivery into normalized events, in the order Meta listed them.
pub fn normalize(body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
    let mut events = Vec::new();
    for entry in webhook_entries::<Messaging>(body, "instagram")? {
        for item in entry.messaging {
            let at = item.timestamp.unwrap_or_else(now_millis);
            let event = if let Some(message) = item.message {
                if message.is_deleted {
                    // Unsends are handled separately; the original stays as it was.
                    tracing::info!(account = %entry.id, mid = %message.mid, "instagram message deleted by its sender");
                    continue;
                }
                let Content {
                    body,
                    mut attachments,
                    kind,
                } = content(&message);
                for attachment in attachments.iter_mut().filter(|a| is_cdn_file(a)) {
                    if let Some(ours) = kept_media_url(&entry.id, &attachment.url) {
                        attachment.url = ours;
                    }
                }
                if message.is_echo {
                    let ours = our_message_id(message.metadata.as_deref());
                    InboundEvent::Echo(EchoMessage {
                        external_user_id: item.recipient.id,
                        platform_message_id: message.mid,
                        body,
                        attachments,
                        kind,
                        sent_at: at,
                        our_message_id: ours,
                    })
                } else {
                    InboundEvent::Message(InboundMessage {
                        external_user_id: item.sender.id,
                        contact_name: None,
                        platform_message_id: message.mid,
                        body,
                        attachments,
                        kind,
                        reply_to_platform_id: message.reply_to.and_then(|r| r.mid),
                        sent_at: at,
                    })
                }
            } else if let Some(reaction) = item.reaction {
                let emoji = if reaction.action == "unreact" {
                    None
                } else {
                    let named = reaction.reaction.as_deref().and_then(reaction_emoji);
                    match reaction.emoji.filter(|e| !e.is_empty()).or(named.map(str::to_string)) {
                        Some(emoji) => Some(emoji),
                        None => {
                            tracing::debug!(account = %entry.id, "instagram reaction without an emoji we can show");
                            continue;
                        }
                    }
                };
                InboundEvent::Reaction(ReactionUpdate {
                    platform_message_id: format!("reaction:{}:{}:{at}", reaction.mid, item.sender.id),
                    external_user_id: item.sender.id,
                    target_platform_message_id: reaction.mid,
                    emoji,
                    sent_at: at,
                })
            } else if item.read.is_some() {
                // Instagram names the last message seen rather than a watermark; everything
                // sent before the event was seen with it.
                InboundEvent::Status(StatusUpdate::Watermark {
                    external_user_id: item.sender.id,
                    watermark: at,
                    status: MessageStatus::Read,
                })
            } else if let Some(postback) = item.postback {
                let mid = postback
                    .mid
                    .unwrap_or_else(|| format!("postback-{}-{at}", item.sender.id));
                InboundEvent::Message(InboundMessage {
                    external_user_id: item.sender.id,
                    contact_name: None,
                    platform_message_id: mid,
                    body: postback.title.or(postback.payload).unwrap_or_default(),
                    attachments: vec![],
                    kind: MessageKind::Text,
                    reply_to_platform_id: None,
                    sent_at: at,
                })
            } else {
                continue;
            };
            events.push(NormalizedEvent {
                account_id: entry.id.clone(),
                event,
            });
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // Payloads below follow Meta's "Webhooks for Instagram Messaging" examples
    // (developers.facebook.com/docs/instagram-messaging/webhooks, "Example Notifications"),
    // with the placeholders filled in and the `//` comments removed so they parse.

    /// The published envelope around one `messaging` item of type `key`.
    fn webhook(sender: &str, recipient: &str, key: &str, value: Value) -> Value {
        let mut item = json!({
            "sender": { "id": sender },
            "recipient": { "id": recipient },
            "timestamp": 1569262485349_i64,
        });
        item[key] = value;
        json!({
            "object": "instagram",
            "entry": [{ "id": "IGID", "time": 1569262486134_i64, "messaging": [item] }],
        })
    }

    fn events(body: Value) -> Vec<NormalizedEvent> {
        normalize(body.to_string().as_bytes()).expect("normalize")
    }

    /// The published "Messages" envelope around one `message` object.
    fn message_webhook(message: Value) -> Value {
        webhook("IGSID", "IGID", "message", message)
    }

    fn inbound(body: Value) -> InboundMessage {
        let events = events(body);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].account_id, "IGID");
        match &events[0].event {
            InboundEvent::Message(m) => m.clone(),
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn text_message() {
        let m = inbound(message_webhook(json!({ "mid": "MESSAGE-ID", "text": "MESSAGE-TEXT" })));
        assert_eq!(m.external_user_id, "IGSID");
        assert_eq!(m.platform_message_id, "MESSAGE-ID");
        assert_eq!(m.body, "MESSAGE-TEXT");
        assert_eq!(m.kind, MessageKind::Text);
        assert_eq!(m.sent_at, 1569262485349);
        assert!(m.attachments.is_empty());
        assert_eq!(m.reply_to_platform_id, None);
    }

    #[test]
    fn media_attachments() {
        // "attachments": [{ "type":"image", "payload":{ "url":"LINK" } }, { "type":"video", … }]
        let m = inbound(message_webhook(json!({
            "mid": "MESSAGE-ID",
            "attachments": [
                { "type": "image", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1" } },
                { "type": "video", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=2" } },
                { "type": "audio", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=3" } },
                { "type": "file", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=4" } }
            ]
        })));
        assert_eq!(m.kind, MessageKind::Media);
        assert_eq!(m.body, "");
        let kinds: Vec<_> = m.attachments.iter().map(|a| a.kind).collect();
        assert_eq!(
            kinds,
            [
                AttachmentKind::Image,
                AttachmentKind::Video,
                AttachmentKind::Audio,
                AttachmentKind::File
            ]
        );
        // Kept through our media route: CDN links expire.
        assert_eq!(
            Some(m.attachments[0].url.clone()),
            kept_media_url("IGID", "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1")
        );
        assert!(m.attachments[0].url.starts_with("/api/media/instagram/IGID/"));
        assert!(m.attachments.iter().all(|a| a.name.is_none() && a.mime_type.is_none()));
    }

    #[test]
    fn shares_and_reels() {
        // "type": "Can be audio, file, image (image or sticker), share, story_mention, video, ig_reel or reel"
        let m = inbound(message_webhook(json!({
            "mid": "MESSAGE-ID",
            "attachments": [
                { "type": "share", "payload": { "url": "https://www.instagram.com/p/POST" } },
                { "type": "ig_reel", "payload": { "url": "https://www.instagram.com/reel/ONE" } },
                { "type": "reel", "payload": { "url": "https://www.instagram.com/reel/TWO" } }
            ]
        })));
        assert_eq!(m.kind, MessageKind::Media);
        let seen: Vec<_> = m
            .attachments
            .iter()
            .map(|a| (a.kind, a.name.as_deref(), a.url.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (
                    AttachmentKind::Other,
                    Some("Shared post"),
                    "https://www.instagram.com/p/POST"
                ),
                (
                    AttachmentKind::Other,
                    Some("Reel"),
                    "https://www.instagram.com/reel/ONE"
                ),
                (
                    AttachmentKind::Other,
                    Some("Reel"),
                    "https://www.instagram.com/reel/TWO"
                ),
            ]
        );
    }

    #[test]
    fn story_mention() {
        // Meta's "Story Mention" page (developers.facebook.com/docs/messenger-platform/
        // instagram/features/story-mention), "Example webhook", placeholders filled in.
        let body = json!({
            "object": "instagram",
            "entry": [{
                "id": "17841400000000000",
                "time": 1569262486134_i64,
                "messaging": [{
                    "sender": { "id": "6543210987654321" },
                    "recipient": { "id": "17841400000000000" },
                    "timestamp": 1569262485349_i64,
                    "message": {
                        "mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQx",
                        "attachments": [{ "type": "story_mention", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=9" } }]
                    }
                }]
            }]
        });
        let events = events(body);
        assert_eq!(events[0].account_id, "17841400000000000");
        let InboundEvent::Message(m) = &events[0].event else {
            panic!("not a message")
        };
        assert_eq!(m.kind, MessageKind::StoryMention);
        assert_eq!(m.body, "");
        assert_eq!(m.external_user_id, "6543210987654321");
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].name.as_deref(), Some("Story mention"));
        assert_eq!(
            Some(m.attachments[0].url.clone()),
            kept_media_url(
                "17841400000000000",
                "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=9"
            )
        );
    }

    #[test]
    fn story_reply_and_inline_reply() {
        // "reply_to": { "story": { "url":"CDN-URL", "id":"STORY-ID" } }
        let story = inbound(message_webhook(json!({
            "mid": "MESSAGE-ID",
            "text": "Love this!",
            "reply_to": { "story": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=5", "id": "STORY-ID" } }
        })));
        assert_eq!(story.kind, MessageKind::StoryReply);
        assert_eq!(story.body, "Love this!");
        assert_eq!(story.reply_to_platform_id, None);
        assert_eq!(story.attachments.len(), 1);
        assert_eq!(story.attachments[0].name.as_deref(), Some("Story"));
        assert_eq!(
            Some(story.attachments[0].url.clone()),
            kept_media_url("IGID", "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=5")
        );

        // "reply_to": { "mid": "MESSAGE-ID" }: an inline reply to an earlier message.
        let inline = inbound(message_webhook(json!({
            "mid": "MESSAGE-ID-2",
            "text": "yes, that one",
            "reply_to": { "mid": "MESSAGE-ID" }
        })));
        assert_eq!(inline.kind, MessageKind::Text);
        assert_eq!(inline.reply_to_platform_id.as_deref(), Some("MESSAGE-ID"));
    }

    #[test]
    fn unsupported_deleted_and_ephemeral() {
        // "is_unsupported": true: the customer sent media Instagram does not pass on.
        let m = inbound(message_webhook(json!({ "mid": "MESSAGE-ID", "is_unsupported": true })));
        assert_eq!(m.kind, MessageKind::Unsupported);
        assert_eq!(m.body, UNSUPPORTED_BODY);

        // "is_deleted": true: an unsend creates nothing.
        assert!(events(message_webhook(json!({ "mid": "MESSAGE-ID", "is_deleted": true }))).is_empty());

        // "Disappearing Media": { "type":"ephemeral" }, "no URL is included for ephemeral media".
        let m = inbound(message_webhook(
            json!({ "mid": "MESSAGE-ID", "attachments": [{ "type": "ephemeral" }] }),
        ));
        assert_eq!(m.kind, MessageKind::Unsupported);
        assert_eq!(m.body, EPHEMERAL_BODY);
        assert!(m.attachments.is_empty());
    }

    /// An echo: `is_echo` "included when your business sends a message to the customer";
    /// sender and recipient are swapped, as on Messenger's `message_echoes`.
    fn echo_webhook(message: Value) -> Value {
        webhook("IGID", "IGSID", "message", message)
    }

    #[test]
    fn echoes_with_and_without_our_metadata() {
        let ours = events(echo_webhook(json!({
            "mid": "MESSAGE-ID", "text": "Thanks!", "is_echo": true, "metadata": "messio:42"
        })));
        let InboundEvent::Echo(echo) = &ours[0].event else {
            panic!("not an echo")
        };
        assert_eq!(echo.our_message_id, Some(42));
        assert_eq!(echo.external_user_id, "IGSID");
        assert_eq!(echo.platform_message_id, "MESSAGE-ID");
        assert_eq!(echo.body, "Thanks!");
        assert_eq!(echo.kind, MessageKind::Text);

        // Written in the Instagram app: no metadata, or someone else's.
        for message in [
            json!({ "mid": "MESSAGE-ID", "text": "from the phone", "is_echo": true }),
            json!({ "mid": "MESSAGE-ID", "text": "from another tool", "is_echo": true, "metadata": "other:7" }),
        ] {
            let theirs = events(echo_webhook(message));
            let InboundEvent::Echo(echo) = &theirs[0].event else {
                panic!("not an echo")
            };
            assert_eq!(echo.our_message_id, None);
            assert_eq!(echo.external_user_id, "IGSID");
        }

        let media = events(echo_webhook(json!({
            "mid": "MESSAGE-ID", "is_echo": true,
            "attachments": [{ "type": "image", "payload": { "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=7" } }]
        })));
        let InboundEvent::Echo(echo) = &media[0].event else {
            panic!("not an echo")
        };
        assert_eq!(echo.kind, MessageKind::Media);
        assert_eq!(echo.attachments[0].kind, AttachmentKind::Image);
    }

    fn reaction_webhook(reaction: Value) -> Value {
        // The published "Message Reactions" example.
        webhook("IGSID", "IGID", "reaction", reaction)
    }

    fn reaction(body: Value) -> ReactionUpdate {
        match &events(body)[0].event {
            InboundEvent::Reaction(r) => r.clone(),
            other => panic!("not a reaction: {other:?}"),
        }
    }

    #[test]
    fn reactions_react_and_unreact() {
        // "emoji": "\u{2764}\u{FE0F}" in Meta's notation.
        let r = reaction(reaction_webhook(json!({
            "mid": "MESSAGE-ID", "action": "react", "reaction": "love", "emoji": "\u{2764}\u{FE0F}"
        })));
        assert_eq!(r.emoji.as_deref(), Some("❤️"));
        assert_eq!(r.external_user_id, "IGSID");
        assert_eq!(r.target_platform_message_id, "MESSAGE-ID");
        assert_eq!(r.platform_message_id, "reaction:MESSAGE-ID:IGSID:1569262485349");
        assert_eq!(r.sent_at, 1569262485349);

        // "emoji" is optional: the reaction's name is mapped instead.
        let named = reaction(reaction_webhook(
            json!({ "mid": "MESSAGE-ID", "action": "react", "reaction": "like" }),
        ));
        assert_eq!(named.emoji.as_deref(), Some("👍"));

        // "optional, to unreact if there is no reaction field".
        let gone = reaction(reaction_webhook(json!({ "mid": "MESSAGE-ID", "action": "unreact" })));
        assert_eq!(gone.emoji, None);
        assert_eq!(gone.target_platform_message_id, "MESSAGE-ID");

        // Nothing to show: dropped rather than stored as an empty reaction.
        assert!(
            events(reaction_webhook(
                json!({ "mid": "MESSAGE-ID", "action": "react", "reaction": "other" })
            ))
            .is_empty()
        );
    }

    #[test]
    fn read_receipts_become_watermarks() {
        // The published "Messaging Seen" example.
        let body = webhook("IGSID", "IGID", "read", json!({ "mid": "MESSAGE-ID" }));
        assert_eq!(
            events(body)[0].event,
            InboundEvent::Status(StatusUpdate::Watermark {
                external_user_id: "IGSID".into(),
                watermark: 1569262485349,
                status: MessageStatus::Read,
            })
        );
    }

    #[test]
    fn postbacks_become_messages() {
        // The published "Messaging Postbacks" example.
        let body = json!({
            "object": "instagram",
            "entry": [{
                "id": "IGID",
                "time": 1502905976963_i64,
                "messaging": [{
                    "sender": { "id": "IGSID" },
                    "recipient": { "id": "IGID" },
                    "timestamp": 1502905976377_i64,
                    "postback": {
                        "mid": "MESSAGE-ID",
                        "title": "SELECTED-ICEBREAKER-REPLY-OR-CTA-BUTTON",
                        "payload": "CUSTOMER-RESPONSE-PAYLOAD"
                    }
                }]
            }]
        });
        let m = inbound(body);
        assert_eq!(m.body, "SELECTED-ICEBREAKER-REPLY-OR-CTA-BUTTON");
        assert_eq!(m.platform_message_id, "MESSAGE-ID");
        assert_eq!(m.sent_at, 1502905976377);
    }

    #[test]
    fn referrals_are_ignored() {
        // The published "Messaging Referral" example carries no message.
        let body = webhook(
            "IGSID",
            "IGID",
            "referral",
            json!({ "ref": "REF", "source": "IGME-SOURCE-LINK", "type": "OPEN_THREAD" }),
        );
        assert!(events(body).is_empty());
    }

    #[test]
    fn malformed_and_foreign_objects_are_rejected() {
        assert!(matches!(normalize(b"{not json"), Err(Rejection::Malformed(_))));
        assert!(matches!(
            normalize(br#"{"object":"page","entry":[]}"#),
            Err(Rejection::Malformed(_))
        ));
        assert!(matches!(normalize(br#"{"entry":[]}"#), Err(Rejection::Malformed(_))));
        assert_eq!(normalize(br#"{"object":"instagram","entry":[]}"#), Ok(vec![]));
    }
}
