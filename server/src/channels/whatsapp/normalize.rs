//! WhatsApp webhook deliveries (`object: "whatsapp_business_account"`) turned into
//! normalized events: customer messages of every type (media point at our media route;
//! what Messio cannot show is kept as an "unsupported" line, so nothing the customer sends
//! is dropped), reactions, delivery statuses with Meta's error for failures, and template
//! review results.

use crate::channels::meta::errors::{self, MetaError, Wording};
use crate::channels::meta::graph::{int_of, str_of, text_at};
use crate::channels::{InboundEvent, NormalizedEvent, Rejection, TemplateStatusUpdate, media_url};
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind, MessageStatus};
use app::store::{InboundMessage, ReactionUpdate, StatusUpdate};
use app::templates::TemplateStatus;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
struct WebhookBody {
    object: String,
    #[serde(default)]
    entry: Vec<Value>,
}

fn float_of(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|f| f.is_finite())
}

pub(super) fn reason_of(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("NONE"))
        .map(str::to_string)
}

/// Turns one webhook delivery into normalized events, in the order Meta listed them.
pub fn normalize(body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
    let parsed: WebhookBody = serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if parsed.object != "whatsapp_business_account" {
        return Err(Rejection::Malformed(format!(
            "expected object \"whatsapp_business_account\", got \"{}\"",
            parsed.object
        )));
    }
    let mut events = Vec::new();
    for entry in &parsed.entry {
        let waba_id = entry.get("id").and_then(str_of).unwrap_or_default();
        for change in entry.get("changes").and_then(Value::as_array).into_iter().flatten() {
            let value = change.get("value").unwrap_or(&Value::Null);
            match change.get("field").and_then(Value::as_str) {
                Some("messages") => messages_change(value, &mut events),
                Some("message_template_status_update") => template_change(&waba_id, value, &mut events),
                other => tracing::debug!(field = ?other, "ignoring a WhatsApp webhook field"),
            }
        }
    }
    Ok(events)
}

fn messages_change(value: &Value, events: &mut Vec<NormalizedEvent>) {
    let Some(phone_number_id) = value.pointer("/metadata/phone_number_id").and_then(str_of) else {
        tracing::warn!("a WhatsApp messages webhook without metadata.phone_number_id was ignored");
        return;
    };
    let contacts: &[Value] = value
        .get("contacts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let list = |key: &str| value.get(key).and_then(Value::as_array).into_iter().flatten();
    for message in list("messages") {
        if let Some(event) = message_event(&phone_number_id, message, contacts) {
            events.push(NormalizedEvent {
                account_id: phone_number_id.clone(),
                event,
            });
        }
    }
    for status in list("statuses") {
        if let Some(update) = status_update(status) {
            events.push(NormalizedEvent {
                account_id: phone_number_id.clone(),
                event: InboundEvent::Status(update),
            });
        }
    }
    // System- or account-level problems (no message attached): nothing to store, but worth seeing.
    for error in list("errors") {
        tracing::warn!(%phone_number_id, error = %MetaError::from_value(error).text(Wording::WhatsApp), "WhatsApp reported an error");
    }
}

/// The sender's WhatsApp profile name. `from` and `wa_id` may differ in formatting (`+`).
fn contact_name(contacts: &[Value], from: &str) -> Option<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = digits(from);
    let name = |c: &Value| text_at(c, "/profile/name").map(str::to_string);
    let matching = contacts.iter().find(|c| {
        c.get("wa_id")
            .and_then(Value::as_str)
            .is_some_and(|id| id == from || (!wanted.is_empty() && digits(id) == wanted))
    });
    match (matching, contacts) {
        (Some(contact), _) => name(contact),
        (None, [only]) => name(only),
        _ => None,
    }
}

const KNOWN_TYPES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
];

/// `type`, or for older payloads without it (Meta's location example has none), the key
/// that holds the content.
fn message_type(message: &Value) -> &str {
    text_at(message, "/type")
        .or_else(|| KNOWN_TYPES.iter().copied().find(|key| message.get(*key).is_some()))
        .unwrap_or("unknown")
}

fn message_event(phone_number_id: &str, m: &Value, contacts: &[Value]) -> Option<InboundEvent> {
    let Some(id) = m.get("id").and_then(str_of) else {
        tracing::warn!("a WhatsApp message without an id was ignored");
        return None;
    };
    let from = m
        .get("from")
        .and_then(str_of)
        .or_else(|| contacts.first().and_then(|c| c.get("wa_id")).and_then(str_of));
    let Some(from) = from else {
        tracing::warn!(%id, "a WhatsApp message without a sender was ignored");
        return None;
    };
    let sent_at = m
        .get("timestamp")
        .and_then(int_of)
        .map(|seconds| seconds.saturating_mul(1000))
        .unwrap_or_else(app::store::now_millis);
    let kind = message_type(m);

    if kind == "reaction"
        && let Some(target) = text_at(m, "/reaction/message_id")
    {
        return Some(InboundEvent::Reaction(ReactionUpdate {
            external_user_id: from,
            platform_message_id: id,
            target_platform_message_id: target.to_string(),
            // Meta omits the emoji (or sends it empty) when the reaction is taken back.
            emoji: text_at(m, "/reaction/emoji").map(str::to_string),
            sent_at,
        }));
    }

    let mut msg = InboundMessage {
        contact_name: contact_name(contacts, &from),
        external_user_id: from,
        platform_message_id: id,
        // A forwarded message has `context.forwarded` but no id: only replies quote one.
        reply_to_platform_id: text_at(m, "/context/id").map(str::to_string),
        sent_at,
        ..InboundMessage::default()
    };
    let handled = match kind {
        "text" => {
            msg.body = m
                .pointer("/text/body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            msg.kind = MessageKind::Text;
            true
        }
        "image" | "video" | "audio" | "document" | "sticker" => media_message(&mut msg, phone_number_id, m, kind),
        "location" => location_message(&mut msg, m),
        "interactive" => interactive_message(&mut msg, m),
        "button" => match text_at(m, "/button/text").or_else(|| text_at(m, "/button/payload")) {
            Some(text) => {
                msg.body = text.to_string();
                msg.kind = MessageKind::Interactive;
                true
            }
            None => false,
        },
        "contacts" => contacts_message(&mut msg, m),
        _ => false,
    };
    if !handled {
        unsupported_message(&mut msg, m, kind);
    }
    Some(InboundEvent::Message(msg))
}

fn media_message(msg: &mut InboundMessage, phone_number_id: &str, m: &Value, kind: &str) -> bool {
    let media = m.get(kind).unwrap_or(&Value::Null);
    let Some(media_id) = media.get("id").and_then(str_of) else {
        return false;
    };
    let attachment_kind = match kind {
        "image" => AttachmentKind::Image,
        "video" => AttachmentKind::Video,
        // Voice notes are `audio` with `voice: true`.
        "audio" => AttachmentKind::Audio,
        "document" => AttachmentKind::File,
        _ => AttachmentKind::Sticker,
    };
    msg.attachments = vec![Attachment {
        kind: attachment_kind,
        url: media_url(ChannelKind::WhatsApp, phone_number_id, &media_id),
        name: text_at(media, "/filename").map(str::to_string),
        mime_type: text_at(media, "/mime_type").map(str::to_string),
        size: None,
        unavailable: None,
    }];
    msg.body = media
        .get("caption")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    msg.kind = MessageKind::Media;
    true
}

fn location_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let location = m.get("location").unwrap_or(&Value::Null);
    let (Some(lat), Some(lon)) = (
        location.get("latitude").and_then(float_of),
        location.get("longitude").and_then(float_of),
    ) else {
        return false;
    };
    let label = match (text_at(location, "/name"), text_at(location, "/address")) {
        (Some(name), Some(address)) => format!("{name}, {address}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => format!("{lat}, {lon}"),
    };
    msg.attachments = vec![Attachment {
        kind: AttachmentKind::Location,
        url: format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"),
        name: Some(label),
        mime_type: None,
        size: None,
        unavailable: None,
    }];
    msg.kind = MessageKind::Location;
    true
}

fn interactive_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let interactive = m.get("interactive").unwrap_or(&Value::Null);
    let sub_type = text_at(interactive, "/type").or_else(|| {
        ["button_reply", "list_reply"]
            .into_iter()
            .find(|key| interactive.get(*key).is_some())
    });
    let body = match sub_type {
        Some("button_reply") => text_at(interactive, "/button_reply/title").map(str::to_string),
        Some("list_reply") => text_at(interactive, "/list_reply/title").map(|title| {
            match text_at(interactive, "/list_reply/description") {
                Some(description) => format!("{title}\n{description}"),
                None => title.to_string(),
            }
        }),
        _ => None,
    };
    match body {
        Some(body) => {
            msg.body = body;
            msg.kind = MessageKind::Interactive;
            true
        }
        None => false,
    }
}

fn contacts_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let lines: Vec<String> = m
        .get("contacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|contact| {
            let name = text_at(contact, "/name/formatted_name")
                .map(str::to_string)
                .or_else(|| {
                    let parts: Vec<&str> = ["/name/first_name", "/name/last_name"]
                        .into_iter()
                        .filter_map(|p| text_at(contact, p))
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                })
                .unwrap_or_else(|| "(no name)".into());
            let phones: Vec<&str> = contact
                .get("phones")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| text_at(p, "/phone"))
                .collect();
            if phones.is_empty() {
                format!("Shared contact: {name}")
            } else {
                format!("Shared contact: {name}, {}", phones.join(", "))
            }
        })
        .collect();
    if lines.is_empty() {
        return false;
    }
    msg.body = lines.join("\n");
    msg.kind = MessageKind::Contacts;
    true
}

/// Kept as a message of its own so agents see that the customer wrote something.
fn unsupported_message(msg: &mut InboundMessage, m: &Value, kind: &str) {
    let shown = match text_at(m, "/unsupported/type") {
        Some(inner) if kind == "unsupported" => format!("{kind}/{inner}"),
        _ => kind.to_string(),
    };
    let detail = m
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .map(|error| MetaError::from_value(error).headline().to_string())
        .or_else(|| text_at(m, "/system/body").map(str::to_string))
        .or_else(|| text_at(m, "/order/text").map(str::to_string));
    msg.body = match detail {
        Some(detail) => format!("Unsupported WhatsApp message (type: {shown}): {detail}"),
        None => format!("Unsupported WhatsApp message (type: {shown})"),
    };
    msg.attachments.clear();
    msg.kind = MessageKind::Unsupported;
}

fn status_update(status: &Value) -> Option<StatusUpdate> {
    let id = status.get("id").and_then(str_of)?;
    let value = status.get("status").and_then(Value::as_str).unwrap_or_default();
    let status_kind = match value {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        // A voice message that was played has been read.
        "read" | "played" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        other => {
            tracing::info!(%id, status = other, "ignoring a WhatsApp status Messio does not track");
            return None;
        }
    };
    let error = (status_kind == MessageStatus::Failed).then(|| {
        let texts: Vec<String> = status
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|error| errors::classify(error, Wording::WhatsApp, None).to_string())
            .collect();
        if texts.is_empty() {
            "WhatsApp could not deliver the message".to_string()
        } else {
            texts.join("; ")
        }
    });
    Some(StatusUpdate::Messages {
        platform_message_ids: vec![id],
        status: status_kind,
        error,
    })
}

fn template_change(waba_id: &str, value: &Value, events: &mut Vec<NormalizedEvent>) {
    let Some(template_id) = value.get("message_template_id").and_then(str_of) else {
        tracing::warn!(
            waba_id,
            "a template status webhook without message_template_id was ignored"
        );
        return;
    };
    let event = value.get("event").and_then(Value::as_str).unwrap_or_default();
    let Some(status) = TemplateStatus::from_meta(event) else {
        tracing::info!(waba_id, %template_id, event, "ignoring a template event that is not a status");
        return;
    };
    events.push(NormalizedEvent {
        account_id: waba_id.to_string(),
        event: InboundEvent::TemplateStatus(TemplateStatusUpdate {
            platform_template_id: template_id,
            status,
            reason: reason_of(value.get("reason")),
        }),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::meta::errors::WHATSAPP_OUTSIDE_WINDOW;
    use serde_json::json;

    const PHONE: &str = "106540352242922";
    const WABA: &str = "102290129340398";

    fn events_of(body: &Value) -> Vec<NormalizedEvent> {
        normalize(body.to_string().as_bytes()).expect("normalize")
    }

    fn only_message(body: &Value) -> InboundMessage {
        let events = events_of(body);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].account_id, PHONE);
        match &events[0].event {
            InboundEvent::Message(m) => m.clone(),
            other => panic!("not a message: {other:?}"),
        }
    }

    /// Wraps one `value` in the envelope every messages webhook shares (Meta's "messages
    /// webhook reference": object, entry[].id = WABA, changes[].field = "messages").
    fn envelope(value: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": WABA, "changes": [{ "value": value, "field": "messages" }] }]
        })
    }

    fn incoming(message: Value) -> Value {
        envelope(json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
            "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
            "messages": [message]
        }))
    }

    #[test]
    fn text_message_with_contact_name_and_time() {
        // The complete example of Meta's "messages webhook reference" (incoming text message).
        let body = json!({
          "object": "whatsapp_business_account",
          "entry": [{
              "id": "102290129340398",
              "changes": [{
                  "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
                    "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
                    "messages": [{
                        "from": "16505551234",
                        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                        "timestamp": "1749416383",
                        "type": "text",
                        "text": { "body": "Does it come in another color?" }
                    }]
                  },
                  "field": "messages"
              }]
          }]
        });
        let m = only_message(&body);
        assert_eq!(m.external_user_id, "16505551234");
        assert_eq!(m.contact_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(
            m.platform_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        );
        assert_eq!(m.body, "Does it come in another color?");
        assert_eq!(m.kind, MessageKind::Text);
        assert_eq!(m.sent_at, 1_749_416_383_000);
        assert_eq!(m.reply_to_platform_id, None);
    }

    #[test]
    fn media_messages_point_at_the_media_route() {
        // Image: the example of the Cloud API "Webhooks payload examples" (media messages).
        let image = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "image",
            "image": { "caption": "CAPTION", "mime_type": "image/jpeg", "sha256": "IMAGE_HASH", "id": "2754859441498128" }
        })));
        assert_eq!(image.kind, MessageKind::Media);
        assert_eq!(image.body, "CAPTION");
        assert_eq!(
            image.attachments,
            vec![Attachment {
                kind: AttachmentKind::Image,
                url: media_url(ChannelKind::WhatsApp, PHONE, "2754859441498128"),
                name: None,
                mime_type: Some("image/jpeg".into()),
                size: None,
                unavailable: None,
            }]
        );

        // Sticker: same page, "For Stickers".
        let sticker = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "sticker",
            "sticker": { "mime_type": "image/webp", "sha256": "HASH", "id": "ID" }
        })));
        assert_eq!(sticker.attachments[0].kind, AttachmentKind::Sticker);
        assert_eq!(sticker.attachments[0].url, "/api/media/whatsapp/106540352242922/ID");
        assert_eq!(sticker.body, "");

        // Voice note: "Audio messages webhook reference" (`voice: true`, Opus in Ogg).
        let voice = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "audio",
            "audio": { "mime_type": "audio/ogg; codecs=opus", "sha256": "HASH", "id": "1003383421387256", "voice": true }
        })));
        assert_eq!(voice.attachments[0].kind, AttachmentKind::Audio);
        assert_eq!(
            voice.attachments[0].mime_type.as_deref(),
            Some("audio/ogg; codecs=opus")
        );

        // Document and video: "Document/Video messages webhook reference" syntax.
        let document = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "document",
            "document": { "caption": "Lucky Shrub Invoice", "filename": "lucky-shrub-invoice.pdf",
                          "mime_type": "application/pdf", "sha256": "HASH", "id": "1003383421387256" }
        })));
        assert_eq!(document.attachments[0].kind, AttachmentKind::File);
        assert_eq!(document.attachments[0].name.as_deref(), Some("lucky-shrub-invoice.pdf"));
        assert_eq!(document.body, "Lucky Shrub Invoice");
        let video = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "video",
            "video": { "mime_type": "video/mp4", "sha256": "HASH", "id": "1003383421387256" }
        })));
        assert_eq!(video.attachments[0].kind, AttachmentKind::Video);
    }

    #[test]
    fn location_becomes_a_map_link() {
        // "Location Messages" of the Cloud API payload examples; that example has no `type`.
        let m = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201",
            "location": { "latitude": 37.483307, "longitude": -122.148981,
                          "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301" }
        })));
        assert_eq!(m.kind, MessageKind::Location);
        assert_eq!(
            m.attachments,
            vec![Attachment {
                kind: AttachmentKind::Location,
                url: "https://www.openstreetmap.org/?mlat=37.483307&mlon=-122.148981#map=16/37.483307/-122.148981"
                    .into(),
                name: Some("Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301".into()),
                mime_type: None,
                size: None,
                unavailable: None,
            }]
        );
        let bare = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID2", "timestamp": "1603059201", "type": "location",
            "location": { "latitude": 1.5, "longitude": 2.25 }
        })));
        assert_eq!(bare.attachments[0].name.as_deref(), Some("1.5, 2.25"));
    }

    #[test]
    fn shared_contacts_are_summarized() {
        // "Contacts Messages" of the Cloud API payload examples.
        let m = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "contacts",
            "contacts": [{
                "addresses": [{ "city": "Menlo Park", "country": "United States", "type": "HOME" }],
                "emails": [{ "email": "kfish@fb.com", "type": "WORK" }],
                "name": { "formatted_name": "Kerry Fisher", "first_name": "Kerry", "last_name": "Fisher" },
                "org": { "company": "Meta" },
                "phones": [{ "phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "WORK" }],
                "urls": [{ "url": "https://www.facebook.com", "type": "WORK" }]
            }]
        })));
        assert_eq!(m.kind, MessageKind::Contacts);
        assert_eq!(m.body, "Shared contact: Kerry Fisher, +1 (650) 555-1234");
    }

    #[test]
    fn interactive_replies_and_template_buttons() {
        // "Interactive messages webhook reference": list reply, with the documented example values.
        let list = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=" },
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1739321024", "type": "interactive",
            "interactive": { "type": "list_reply",
                             "list_reply": { "id": "priority_express", "title": "Priority Mail Express",
                                             "description": "Next Day to 2 Days" } }
        })));
        assert_eq!(list.kind, MessageKind::Interactive);
        assert_eq!(list.body, "Priority Mail Express\nNext Day to 2 Days");
        assert_eq!(
            list.reply_to_platform_id.as_deref(),
            Some("wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=")
        );
        // Same page: reply button.
        let button = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.CTX" },
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1739321024", "type": "interactive",
            "interactive": { "type": "button_reply", "button_reply": { "id": "cancel-button", "title": "Cancel" } }
        })));
        assert_eq!(
            (button.body.as_str(), button.kind),
            ("Cancel", MessageKind::Interactive)
        );
        // "Received Callback from a Quick Reply Button" (template quick reply) of the payload examples.
        let quick = only_message(&incoming(json!({
            "context": { "from": "16315558007", "id": "gBGGFmkiWVVPAgkgQkwi7IORac0" },
            "from": "16505551234", "id": "ABGGFmkiWVVPAgo-sKD87hgxPHdF", "timestamp": "1591210827",
            "type": "button", "button": { "text": "No", "payload": "No-Button-Payload" }
        })));
        assert_eq!((quick.body.as_str(), quick.kind), ("No", MessageKind::Interactive));
        assert_eq!(
            quick.reply_to_platform_id.as_deref(),
            Some("gBGGFmkiWVVPAgkgQkwi7IORac0")
        );
    }

    #[test]
    fn replies_quote_but_forwards_do_not() {
        // "Text messages webhook reference": `context` of a reply, and of a forwarded message.
        let reply = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3RjE2OTM2QkQ0QjlCMEFEQkEA" },
            "from": "16505551234", "id": "wamid.R", "timestamp": "1739321024", "type": "text",
            "text": { "body": "Yes, the blue one" }
        })));
        assert_eq!(
            reply.reply_to_platform_id.as_deref(),
            Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3RjE2OTM2QkQ0QjlCMEFEQkEA")
        );
        let forwarded = only_message(&incoming(json!({
            "context": { "forwarded": true },
            "from": "16505551234", "id": "wamid.F", "timestamp": "1739321024", "type": "text",
            "text": { "body": "look at this" }
        })));
        assert_eq!(forwarded.reply_to_platform_id, None);
        assert_eq!(forwarded.body, "look at this");
    }

    #[test]
    fn reactions_and_their_removal() {
        // "Reaction messages webhook reference", example values; removal omits `emoji`.
        let body = incoming(json!({
            "from": "16505551234",
            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
            "timestamp": "1739321024", "type": "reaction",
            "reaction": { "message_id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=", "emoji": "👍" }
        }));
        let events = events_of(&body);
        assert_eq!(
            events[0].event,
            InboundEvent::Reaction(ReactionUpdate {
                external_user_id: "16505551234".into(),
                platform_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=".into(),
                target_platform_message_id: "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=".into(),
                emoji: Some("👍".into()),
                sent_at: 1_739_321_024_000,
            })
        );
        let removed = events_of(&incoming(json!({
            "from": "16505551234", "id": "wamid.X", "timestamp": "1739321025", "type": "reaction",
            "reaction": { "message_id": "wamid.T" }
        })));
        assert!(matches!(&removed[0].event, InboundEvent::Reaction(r) if r.emoji.is_none()));
        let emptied = events_of(&incoming(json!({
            "from": "16505551234", "id": "wamid.Y", "timestamp": "1739321026", "type": "reaction",
            "reaction": { "message_id": "wamid.T", "emoji": "" }
        })));
        assert!(matches!(&emptied[0].event, InboundEvent::Reaction(r) if r.emoji.is_none()));
    }

    #[test]
    fn nothing_the_customer_sends_is_dropped() {
        // "Unsupported messages webhook reference" syntax with its example values.
        let unsupported = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.U", "timestamp": "1739321024",
            "errors": [{ "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                         "error_data": { "details": "Message type is currently not supported." } }],
            "type": "unsupported", "unsupported": { "type": "poll_update" }
        })));
        assert_eq!(unsupported.kind, MessageKind::Unsupported);
        assert_eq!(
            unsupported.body,
            "Unsupported WhatsApp message (type: unsupported/poll_update): Message type unknown"
        );
        // "Unknown Messages" of the older payload examples (`details` beside `title`).
        let unknown = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.K", "timestamp": "1603059201",
            "errors": [{ "code": 131051, "details": "Message type is not currently supported",
                         "title": "Unsupported message type" }],
            "type": "unknown"
        })));
        assert_eq!(
            unknown.body,
            "Unsupported WhatsApp message (type: unknown): Unsupported message type"
        );
        // "Order messages webhook reference".
        let order = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.O", "timestamp": "1739321024", "type": "order",
            "order": { "catalog_id": "194836987003835", "text": "Three of each please",
                       "product_items": [{ "product_retailer_id": "di9ozbzfi4", "quantity": 3,
                                           "item_price": 30, "currency": "USD" }] }
        })));
        assert_eq!(order.kind, MessageKind::Unsupported);
        assert_eq!(
            order.body,
            "Unsupported WhatsApp message (type: order): Three of each please"
        );
        // "User Changed Number Notification" of the payload examples (no `contacts`).
        let system = normalize(
            envelope(json!({
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
                "messages": [{ "from": "16505551234", "id": "wamid.S",
                               "system": { "body": "NAME changed from 16505551234 to 16505559999",
                                           "new_wa_id": "16505559999", "type": "user_changed_number" },
                               "timestamp": "1603059201", "type": "system" }]
            }))
            .to_string()
            .as_bytes(),
        )
        .expect("normalize");
        let InboundEvent::Message(system) = &system[0].event else {
            panic!("not a message")
        };
        assert_eq!(system.kind, MessageKind::Unsupported);
        assert_eq!(system.contact_name, None);
        assert!(
            system
                .body
                .starts_with("Unsupported WhatsApp message (type: system): NAME changed")
        );
        // A type Meta adds later.
        let future = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.N", "timestamp": "1739321024", "type": "hologram",
            "hologram": { "id": "1" }
        })));
        assert_eq!(future.body, "Unsupported WhatsApp message (type: hologram)");
    }

    #[test]
    fn statuses_including_failures() {
        // "Message Status Updates" of the payload examples (sent, with conversation and pricing),
        // then read, then failed with the 131047 error object Meta sends for a closed window.
        let body = envelope(json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
            "statuses": [
                { "id": "wamid.A", "status": "sent", "timestamp": "1750857384", "recipient_id": "16505551234",
                  "conversation": { "id": "a75d17ad06104c51166f948319b03c6a", "expiration_timestamp": "1750943820",
                                    "origin": { "type": "service" } },
                  "pricing": { "billable": true, "pricing_model": "CBP", "category": "service" } },
                { "id": "wamid.A", "status": "read", "timestamp": "1750857390", "recipient_id": "16505551234" },
                { "id": "wamid.B", "status": "failed", "timestamp": "1750857391", "recipient_id": "16505551234",
                  "errors": [{ "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                               "error_data": { "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
                               "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" }] },
                { "id": "wamid.C", "status": "failed", "timestamp": "1750857392", "recipient_id": "16505551234",
                  "errors": [{ "code": 131026, "title": "Message Undeliverable", "message": "Message Undeliverable",
                               "error_data": { "details": "Message Undeliverable." } }] },
                { "id": "wamid.D", "status": "deleted", "timestamp": "1750857393", "recipient_id": "16505551234" }
            ]
        }));
        let events = events_of(&body);
        let updates: Vec<StatusUpdate> = events
            .into_iter()
            .map(|e| match e.event {
                InboundEvent::Status(update) => update,
                other => panic!("not a status: {other:?}"),
            })
            .collect();
        assert_eq!(updates.len(), 4, "the unknown status is ignored");
        assert_eq!(
            updates[0],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.A".into()],
                status: MessageStatus::Sent,
                error: None
            }
        );
        assert!(matches!(
            &updates[1],
            StatusUpdate::Messages {
                status: MessageStatus::Read,
                ..
            }
        ));
        assert_eq!(
            updates[2],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.B".into()],
                status: MessageStatus::Failed,
                error: Some(WHATSAPP_OUTSIDE_WINDOW.into()),
            }
        );
        assert_eq!(
            updates[3],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.C".into()],
                status: MessageStatus::Failed,
                error: Some("Message Undeliverable (131026): Message Undeliverable.".into()),
            }
        );
    }

    #[test]
    fn value_level_errors_produce_no_events() {
        // "Errors messages webhooks reference" example (rate limit, no message attached).
        let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "102290129340398", "changes": [{
            "value": { "messaging_product": "whatsapp",
                       "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
                       "errors": [{ "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
                                    "error_data": { "details": "Message failed to send because there were too many messages sent from this phone number in a short period of time" },
                                    "href": "/documentation/business-messaging/whatsapp/support/error-codes" }] },
            "field": "messages" }] }] });
        assert!(events_of(&body).is_empty());
    }

    #[test]
    fn template_status_updates() {
        // "message_template_status_update webhook reference" syntax with its example values.
        let body = json!({
          "entry": [{ "id": "102290129340398", "time": 1739321024, "changes": [
              { "value": { "event": "APPROVED", "message_template_id": 1689556908129832_i64,
                           "message_template_name": "order_confirmation", "message_template_language": "en-US",
                           "reason": "NONE", "message_template_category": "UTILITY" },
                "field": "message_template_status_update" },
              { "value": { "event": "REJECTED", "message_template_id": 1689556908129835_i64,
                           "message_template_name": "abandoned_cart", "message_template_language": "en",
                           "reason": "INVALID_FORMAT", "message_template_category": "MARKETING" },
                "field": "message_template_status_update" },
              { "value": { "event": "PENDING_DELETION", "message_template_id": 1689556908129836_i64,
                           "message_template_name": "old", "message_template_language": "en", "reason": null },
                "field": "message_template_status_update" },
              { "value": { "event": "LOCKED", "message_template_id": 1689556908129837_i64,
                           "message_template_name": "x", "message_template_language": "en", "reason": "NONE" },
                "field": "message_template_status_update" },
              { "value": { "phone_number": "15550783881", "event": "FLAGGED" }, "field": "phone_number_quality_update" }
          ]}],
          "object": "whatsapp_business_account"
        });
        let events = events_of(&body);
        assert_eq!(events.len(), 3, "LOCKED is not a status, other fields are ignored");
        assert_eq!(
            events[0],
            NormalizedEvent {
                account_id: WABA.into(),
                event: InboundEvent::TemplateStatus(TemplateStatusUpdate {
                    platform_template_id: "1689556908129832".into(),
                    status: TemplateStatus::Approved,
                    reason: None,
                }),
            }
        );
        assert!(matches!(&events[1].event,
            InboundEvent::TemplateStatus(t) if t.status == TemplateStatus::Rejected && t.reason.as_deref() == Some("INVALID_FORMAT")));
        assert!(matches!(&events[2].event,
            InboundEvent::TemplateStatus(t) if t.status == TemplateStatus::Deleted && t.reason.is_none()));
    }

    #[test]
    fn malformed_and_foreign_objects_are_rejected() {
        assert!(matches!(normalize(b"{not json"), Err(Rejection::Malformed(_))));
        assert!(matches!(normalize(br#"{"entry":[]}"#), Err(Rejection::Malformed(_))));
        assert!(matches!(
            normalize(br#"{"object":"page","entry":[]}"#),
            Err(Rejection::Malformed(_))
        ));
        assert_eq!(
            normalize(br#"{"object":"whatsapp_business_account","entry":[]}"#),
            Ok(vec![])
        );
    }
}
