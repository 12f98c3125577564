//! Messenger webhook deliveries (`object: "page"`) turned into normalized events: customer
//! messages (a reply names the message it quotes; a sticker is one `Sticker` attachment
//! however many forms Meta sends it in), postbacks, echoes of what the page sent (ours are
//! matched by their `metadata`), deliveries and reads.

use crate::channels::meta::pages::{Party, our_message_id, webhook_entries};
use crate::channels::{InboundEvent, NormalizedEvent, Rejection};
use app::model::{Attachment, AttachmentKind, MessageKind, MessageStatus};
use app::store::{EchoMessage, InboundMessage, StatusUpdate};
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
    delivery: Option<DeliveryPayload>,
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
    app_id: Option<Value>,
    #[serde(default)]
    metadata: Option<String>,
    /// `reply_to: {mid}` when the customer answered an earlier message; read loosely,
    /// since a quote we cannot read should not cost the message itself.
    #[serde(default)]
    reply_to: Option<Value>,
}

impl MessagePayload {
    fn reply_to_mid(&self) -> Option<String> {
        self.reply_to
            .as_ref()?
            .get("mid")
            .and_then(Value::as_str)
            .filter(|mid| !mid.is_empty())
            .map(str::to_string)
    }
}

#[derive(Debug, Deserialize)]
struct AttachmentPayload {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    payload: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct DeliveryPayload {
    #[serde(default)]
    mids: Vec<String>,
    #[serde(default)]
    watermark: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ReadPayload {
    watermark: i64,
}

#[derive(Debug, Deserialize)]
struct PostbackPayload {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    payload: Option<String>,
    #[serde(default)]
    mid: Option<String>,
}

/// Meta's `sticker_id`: a number in its examples; a string is read the same way.
fn sticker_id(payload: &Value) -> Option<String> {
    match payload.get("sticker_id")? {
        Value::Number(id) => Some(id.to_string()),
        Value::String(id) if !id.trim().is_empty() => Some(id.trim().to_string()),
        _ => None,
    }
}

/// One webhook attachment, with the sticker it shows when it is one.
struct Parsed {
    attachment: Attachment,
    sticker_id: Option<String>,
}

impl Parsed {
    /// Stickers follow Meta's `messages` webhook reference (developers.facebook.com/
    /// documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages)
    /// and the Messenger Platform changelog of June 1, 2026: a sticker is a `type: "sticker"`
    /// attachment "with `sticker_id` metadata" next to its `payload.url`, and until August 30,
    /// 2026 the same sticker also comes as the older `type: "image"` attachment ("image with
    /// a sticker" in the reference); echoes change the same way. That image form carries
    /// `payload.sticker_id` in payloads captured from Meta (e.g. uniericuni/
    /// Facebook-Chatbot-Blueprint, test/curl-tests/testThumbUpMessage.sh), so it is a sticker too.
    fn read(a: AttachmentPayload) -> Self {
        let payload = a.payload.unwrap_or(Value::Null);
        let sticker_id = sticker_id(&payload);
        let kind = match a.kind.as_str() {
            "sticker" => AttachmentKind::Sticker,
            "image" if sticker_id.is_some() => AttachmentKind::Sticker,
            "image" => AttachmentKind::Image,
            "video" => AttachmentKind::Video,
            "audio" => AttachmentKind::Audio,
            "file" => AttachmentKind::File,
            _ => AttachmentKind::Other,
        };
        let url = payload
            .get("url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = payload.get("title").and_then(Value::as_str).map(str::to_string);
        Self {
            attachment: Attachment {
                kind,
                url,
                name: name.or_else(|| (kind == AttachmentKind::Other).then(|| a.kind.clone())),
                mime_type: None,
                size: None,
                unavailable: None,
            },
            sticker_id,
        }
    }

    /// Whether both are the same sticker sent twice (the transition above): one is a
    /// sticker, the other a sticker or an image, and they share the sticker id or the
    /// link. Two plain images are never merged: the customer may mean both.
    fn same_sticker(&self, other: &Parsed) -> bool {
        let (a, b) = (&self.attachment, &other.attachment);
        let picture = |kind| matches!(kind, AttachmentKind::Sticker | AttachmentKind::Image);
        let one_is_sticker = a.kind == AttachmentKind::Sticker || b.kind == AttachmentKind::Sticker;
        if !(one_is_sticker && picture(a.kind) && picture(b.kind)) {
            return false;
        }
        let same_id = matches!((&self.sticker_id, &other.sticker_id), (Some(x), Some(y)) if x == y);
        let same_url = !a.url.is_empty() && a.url == b.url;
        same_id || same_url
    }

    /// Folds a second copy of the same sticker in: the copies may differ in what they
    /// carry (a link on one only), and the one kept should have all of it.
    fn absorb(&mut self, copy: Parsed) {
        self.attachment.kind = AttachmentKind::Sticker;
        if self.attachment.url.is_empty() {
            self.attachment.url = copy.attachment.url;
        }
        if self.attachment.name.is_none() {
            self.attachment.name = copy.attachment.name;
        }
        if self.sticker_id.is_none() {
            self.sticker_id = copy.sticker_id;
        }
    }
}

/// A message's attachments, each sticker once, in the order Meta listed them.
fn attachments(payloads: Vec<AttachmentPayload>) -> Vec<Attachment> {
    let mut kept: Vec<Parsed> = Vec::new();
    for payload in payloads {
        let next = Parsed::read(payload);
        match kept.iter_mut().find(|seen| seen.same_sticker(&next)) {
            Some(seen) => seen.absorb(next),
            None => kept.push(next),
        }
    }
    kept.into_iter().map(|parsed| parsed.attachment).collect()
}

/// Turns one webhook delivery into normalized events, in the order Meta listed them.
pub fn normalize(body: &[u8], our_app_id: &str) -> Result<Vec<NormalizedEvent>, Rejection> {
    let mut events = Vec::new();
    for entry in webhook_entries::<Messaging>(body, "page")? {
        for item in entry.messaging {
            let at = item.timestamp.unwrap_or_else(app::store::now_millis);
            let page = entry.id.clone();
            if let Some(message) = item.message {
                let reply_to_platform_id = message.reply_to_mid();
                let body = message.text.unwrap_or_default();
                let attachments = attachments(message.attachments);
                let kind = if attachments.is_empty() {
                    MessageKind::Text
                } else {
                    MessageKind::Media
                };
                if message.is_echo {
                    let ours = our_message_id(message.metadata.as_deref());
                    let from_our_app = message
                        .app_id
                        .as_ref()
                        .map(|v| v.to_string().trim_matches('"').to_string())
                        .as_deref()
                        == Some(our_app_id);
                    if ours.is_none() && from_our_app {
                        // Sent by Messio without our marker: the send path records it.
                        continue;
                    }
                    events.push(NormalizedEvent {
                        account_id: page,
                        event: InboundEvent::Echo(EchoMessage {
                            external_user_id: item.recipient.id,
                            platform_message_id: message.mid,
                            body,
                            attachments,
                            kind,
                            sent_at: at,
                            our_message_id: ours,
                        }),
                    });
                } else {
                    events.push(NormalizedEvent {
                        account_id: page,
                        event: InboundEvent::Message(InboundMessage {
                            external_user_id: item.sender.id,
                            contact_name: None,
                            platform_message_id: message.mid,
                            body,
                            attachments,
                            kind,
                            reply_to_platform_id,
                            sent_at: at,
                        }),
                    });
                }
            } else if let Some(postback) = item.postback {
                let mid = postback
                    .mid
                    .unwrap_or_else(|| format!("postback-{}-{at}", item.sender.id));
                let body = postback.title.or(postback.payload).unwrap_or_default();
                events.push(NormalizedEvent {
                    account_id: page,
                    event: InboundEvent::Message(InboundMessage {
                        external_user_id: item.sender.id,
                        contact_name: None,
                        platform_message_id: mid,
                        body,
                        attachments: vec![],
                        kind: MessageKind::Text,
                        reply_to_platform_id: None,
                        sent_at: at,
                    }),
                });
            } else if let Some(delivery) = item.delivery {
                let update = if delivery.mids.is_empty() {
                    StatusUpdate::Watermark {
                        external_user_id: item.sender.id,
                        watermark: delivery.watermark.unwrap_or(at),
                        status: MessageStatus::Delivered,
                    }
                } else {
                    StatusUpdate::Messages {
                        platform_message_ids: delivery.mids,
                        status: MessageStatus::Delivered,
                        error: None,
                    }
                };
                events.push(NormalizedEvent {
                    account_id: page,
                    event: InboundEvent::Status(update),
                });
            } else if let Some(read) = item.read {
                events.push(NormalizedEvent {
                    account_id: page,
                    event: InboundEvent::Status(StatusUpdate::Watermark {
                        external_user_id: item.sender.id,
                        watermark: read.watermark,
                        status: MessageStatus::Read,
                    }),
                });
            }
        }
    }
    Ok(events)
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_and_image_messages() {
        let body = json!({
            "object": "page",
            "entry": [{ "id": "101", "time": 1700000000000_i64, "messaging": [
                { "sender": {"id": "U1"}, "recipient": {"id": "101"}, "timestamp": 1700000000001_i64,
                  "message": { "mid": "m_1", "text": "hello" } },
                { "sender": {"id": "U1"}, "recipient": {"id": "101"}, "timestamp": 1700000000002_i64,
                  "message": { "mid": "m_2", "attachments": [{ "type": "image", "payload": { "url": "https://x/y.png" } }] } }
            ]}]
        });
        let events = normalize(body.to_string().as_bytes(), "1").expect("normalize");
        assert_eq!(events.len(), 2);
        let InboundEvent::Message(first) = &events[0].event else {
            panic!("not a message")
        };
        assert_eq!(
            (first.external_user_id.as_str(), first.body.as_str(), first.sent_at),
            ("U1", "hello", 1700000000001)
        );
        let InboundEvent::Message(second) = &events[1].event else {
            panic!("not a message")
        };
        assert_eq!(second.attachments[0].kind, AttachmentKind::Image);
        assert_eq!(second.attachments[0].url, "https://x/y.png");
    }

    /// One customer `message` in the envelope of Meta's `messages` webhook reference.
    fn inbound(message: Value) -> InboundMessage {
        let body = json!({
            "object": "page",
            "entry": [{ "id": "682498302938465", "time": 1518479195594_i64, "messaging": [{
                "sender": { "id": "PSID" }, "recipient": { "id": "682498302938465" },
                "timestamp": 1518479195308_i64, "message": message
            }]}]
        });
        let events = normalize(body.to_string().as_bytes(), "1").expect("normalize");
        assert_eq!(events.len(), 1, "{events:?}");
        match &events[0].event {
            InboundEvent::Message(m) => m.clone(),
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn replies_name_the_quoted_message() {
        // Meta's "Reply Message" example: "reply_to": { "mid": "m_1fTq…", "is_self_reply": false }.
        let quoted = "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU";
        let cases = [
            (json!({ "mid": quoted }), Some(quoted)),
            (json!({ "mid": quoted, "is_self_reply": false }), Some(quoted)),
            (json!({ "mid": quoted, "is_self_reply": true }), Some(quoted)),
            // Unreadable quotes: the message is kept, unlinked.
            (json!({ "is_self_reply": false }), None),
            (json!({ "mid": "" }), None),
            (json!({ "mid": 42 }), None),
            (json!("m_not_an_object"), None),
            (Value::Null, None),
        ];
        for (reply_to, expected) in cases {
            let m = inbound(
                json!({ "mid": "m_1457764197618:41d102a3e1ae206a38", "text": "hello, world!", "reply_to": reply_to.clone() }),
            );
            assert_eq!(m.reply_to_platform_id.as_deref(), expected, "{reply_to}");
            assert_eq!(
                (m.body.as_str(), m.kind),
                ("hello, world!", MessageKind::Text),
                "{reply_to}"
            );
        }
        let plain = inbound(json!({ "mid": "m_2", "text": "no quote" }));
        assert_eq!(plain.reply_to_platform_id, None);
    }

    #[test]
    fn stickers_arrive_once() {
        // Meta's `messages` reference: `{"type": "sticker", "payload": {"url", "sticker_id"}}`,
        // during the transition alongside the older image form of the same sticker.
        let cdn = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png";
        let other_cdn = "https://scontent.xx.fbcdn.net/v/t39.1997-6/p100x100/851557_369239266556155_759568595_n.png";
        let sticker = json!({ "type": "sticker", "payload": { "url": cdn, "sticker_id": 369239263222822_i64 } });
        let image_of_sticker = json!({ "type": "image", "payload": { "url": cdn, "sticker_id": 369239263222822_i64 } });
        let photo = "https://scontent.xx.fbcdn.net/v/t1.15752-9/photo.jpg";
        let image = json!({ "type": "image", "payload": { "url": photo } });
        let sticker_only = [(AttachmentKind::Sticker, cdn)];
        type Seen<'a> = Vec<(AttachmentKind, &'a str)>;
        let cases: Vec<(&str, Vec<Value>, Seen)> = vec![
            ("sticker type alone", vec![sticker.clone()], sticker_only.to_vec()),
            (
                "image with a sticker_id alone",
                vec![image_of_sticker.clone()],
                sticker_only.to_vec(),
            ),
            (
                "both, as in the transition",
                vec![sticker.clone(), image_of_sticker.clone()],
                sticker_only.to_vec(),
            ),
            (
                "both, image first",
                vec![image_of_sticker.clone(), sticker.clone()],
                sticker_only.to_vec(),
            ),
            (
                "same sticker_id, different links",
                vec![
                    sticker.clone(),
                    json!({ "type": "image", "payload": { "url": other_cdn, "sticker_id": "369239263222822" } }),
                ],
                sticker_only.to_vec(),
            ),
            (
                "a sticker and an image of the same link, without sticker_id",
                vec![json!({ "type": "image", "payload": { "url": cdn } }), sticker.clone()],
                sticker_only.to_vec(),
            ),
            (
                "the sticker's link is on the image copy only",
                vec![
                    json!({ "type": "sticker", "payload": { "sticker_id": 369239263222822_i64 } }),
                    image_of_sticker.clone(),
                ],
                sticker_only.to_vec(),
            ),
            (
                "a normal image",
                vec![image.clone()],
                vec![(AttachmentKind::Image, photo)],
            ),
            (
                "a photo next to a sticker",
                vec![image.clone(), sticker.clone(), image_of_sticker.clone()],
                vec![(AttachmentKind::Image, photo), (AttachmentKind::Sticker, cdn)],
            ),
            (
                "two different stickers",
                vec![
                    sticker.clone(),
                    json!({ "type": "sticker", "payload": { "url": other_cdn, "sticker_id": 1_i64 } }),
                ],
                vec![(AttachmentKind::Sticker, cdn), (AttachmentKind::Sticker, other_cdn)],
            ),
            (
                "the same photo twice stays twice",
                vec![image.clone(), image.clone()],
                vec![(AttachmentKind::Image, photo), (AttachmentKind::Image, photo)],
            ),
            (
                "a sticker without its payload",
                vec![json!({ "type": "sticker" })],
                vec![(AttachmentKind::Sticker, "")],
            ),
        ];
        for (case, attachments, expected) in cases {
            let m = inbound(json!({ "mid": "m_sticker", "attachments": attachments }));
            let seen: Vec<_> = m.attachments.iter().map(|a| (a.kind, a.url.as_str())).collect();
            assert_eq!(seen, expected, "{case}");
            assert_eq!(m.kind, MessageKind::Media, "{case}");
            assert!(
                m.attachments.iter().all(|a| a.name.is_none() && a.mime_type.is_none()),
                "{case}: {:?}",
                m.attachments
            );
        }
    }

    #[test]
    fn echoed_stickers_arrive_once() {
        // "The same change applies to message echoes."
        let url = "https://scontent.xx.fbcdn.net/v/t39.1997-6/sticker.png";
        let body = json!({
            "object": "page",
            "entry": [{ "id": "101", "messaging": [{
                "sender": { "id": "101" }, "recipient": { "id": "U1" }, "timestamp": 5,
                "message": { "mid": "m_e", "is_echo": true, "app_id": 999, "attachments": [
                    { "type": "sticker", "payload": { "url": url, "sticker_id": 7 } },
                    { "type": "image", "payload": { "url": url, "sticker_id": 7 } }
                ] }
            }]}]
        });
        let events = normalize(body.to_string().as_bytes(), "1").expect("normalize");
        let InboundEvent::Echo(echo) = &events[0].event else {
            panic!("not an echo")
        };
        assert_eq!(
            echo.attachments
                .iter()
                .map(|a| (a.kind, a.url.as_str()))
                .collect::<Vec<_>>(),
            [(AttachmentKind::Sticker, url)]
        );
    }

    #[test]
    fn echoes_deliveries_and_reads() {
        let body = json!({
            "object": "page",
            "entry": [{ "id": "101", "messaging": [
                { "sender": {"id": "101"}, "recipient": {"id": "U1"}, "timestamp": 5,
                  "message": { "mid": "m_e", "text": "from the page", "is_echo": true, "app_id": 999 } },
                { "sender": {"id": "101"}, "recipient": {"id": "U1"}, "timestamp": 6,
                  "message": { "mid": "m_o", "text": "ours", "is_echo": true, "app_id": 1, "metadata": "messio:42" } },
                { "sender": {"id": "U1"}, "recipient": {"id": "101"}, "delivery": { "mids": ["m_o"], "watermark": 7 } },
                { "sender": {"id": "U1"}, "recipient": {"id": "101"}, "timestamp": 9, "read": { "watermark": 8 } }
            ]}]
        });
        let events = normalize(body.to_string().as_bytes(), "1").expect("normalize");
        assert_eq!(events.len(), 4);
        assert!(
            matches!(&events[0].event, InboundEvent::Echo(e) if e.our_message_id.is_none() && e.external_user_id == "U1")
        );
        assert!(matches!(&events[1].event, InboundEvent::Echo(e) if e.our_message_id == Some(42)));
        assert!(matches!(
            &events[2].event,
            InboundEvent::Status(StatusUpdate::Messages {
                status: MessageStatus::Delivered,
                ..
            })
        ));
        assert!(matches!(
            &events[3].event,
            InboundEvent::Status(StatusUpdate::Watermark {
                watermark: 8,
                status: MessageStatus::Read,
                ..
            })
        ));
    }

    #[test]
    fn malformed_and_foreign_objects_are_rejected() {
        assert!(matches!(normalize(b"{not json", "1"), Err(Rejection::Malformed(_))));
        assert!(matches!(
            normalize(br#"{"object":"instagram","entry":[]}"#, "1"),
            Err(Rejection::Malformed(_))
        ));
    }
}
