//! WhatsApp Cloud API webhook payloads, usable without a running fake.
//!
//! Shapes follow Meta's "messages webhook reference" (WhatsApp Business
//! Platform): every notification is
//! `{"object":"whatsapp_business_account","entry":[{"id":WABA_ID,"changes":
//! [{"value":{"messaging_product":"whatsapp","metadata":{…},"contacts":[…],
//! "messages":[…]|"statuses":[…]},"field":"messages"}]}]}`. Timestamps are
//! Unix **seconds as strings**; `metadata.display_phone_number` is digits
//! only (`"15550783881"` in Meta's examples).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Seconds since the Unix epoch, the unit of WhatsApp timestamps.
pub fn now_secs() -> i64 {
    super::payloads::now_ms() / 1000
}

/// A fresh WhatsApp message id. Real ones are `wamid.` followed by base64
/// (e.g. `wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=`).
pub fn new_wamid() -> String {
    let bytes: [u8; 27] = rand::random();
    format!("wamid.HBgL{}", STANDARD.encode(bytes))
}

/// Wraps messages and/or statuses of one business phone number into a
/// `messages` webhook. `contacts` are `(wa_id, profile name)` pairs; empty
/// `contacts`, `messages` or `statuses` are left out, as Meta does.
pub fn whatsapp_webhook(
    waba_id: &str,
    phone_number_id: &str,
    display_phone: &str,
    contacts: &[(&str, &str)],
    messages: Vec<Value>,
    statuses: Vec<Value>,
) -> Value {
    let mut value = json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": display_phone, "phone_number_id": phone_number_id },
    });
    if !contacts.is_empty() {
        let contacts: Vec<Value> = contacts
            .iter()
            .map(|(wa_id, name)| json!({ "profile": { "name": name }, "wa_id": wa_id }))
            .collect();
        value["contacts"] = Value::Array(contacts);
    }
    if !messages.is_empty() {
        value["messages"] = Value::Array(messages);
    }
    if !statuses.is_empty() {
        value["statuses"] = Value::Array(statuses);
    }
    waba_change(waba_id, value, "messages", None)
}

/// `{"object":"whatsapp_business_account","entry":[{"id","changes":[{value,field}]}]}`,
/// with `entry.time` when given (the template webhooks carry it).
fn waba_change(waba_id: &str, value: Value, field: &str, time_secs: Option<i64>) -> Value {
    let mut entry = json!({ "id": waba_id, "changes": [{ "value": value, "field": field }] });
    if let Some(time) = time_secs {
        entry["time"] = json!(time);
    }
    json!({ "object": "whatsapp_business_account", "entry": [entry] })
}

fn base_message(from: &str, id: &str, ts_secs: i64, kind: &str) -> Value {
    json!({ "from": from, "id": id, "timestamp": ts_secs.to_string(), "type": kind })
}

/// A text message (`type: "text"`, `text: {body}`).
pub fn wa_text(from: &str, id: &str, ts_secs: i64, body: &str) -> Value {
    let mut m = base_message(from, id, ts_secs, "text");
    m["text"] = json!({ "body": body });
    m
}

/// A text message that quotes another one (`context: {from, id}`).
/// `context_from` is the business number (digits) when quoting its message.
pub fn wa_reply(from: &str, id: &str, ts_secs: i64, body: &str, context_from: &str, context_id: &str) -> Value {
    wa_with_context(wa_text(from, id, ts_secs, body), context_from, context_id)
}

/// Adds `context: {from, id}` to any inbound message, as WhatsApp does when
/// the customer replies to (quotes) a message.
pub fn wa_with_context(mut message: Value, context_from: &str, context_id: &str) -> Value {
    message["context"] = json!({ "from": context_from, "id": context_id });
    message
}

/// A media message. `kind` is `image`, `video`, `audio`, `document` or
/// `sticker`; the media object carries `mime_type`, `sha256` and `id` (plus
/// `caption` for image/video/document, `filename` for documents, `voice`
/// for audio and `animated` for stickers), as in Meta's examples. The
/// `sha256` here is derived from `media_id`; the fake's control API puts the
/// real file hash in.
#[allow(clippy::too_many_arguments)]
pub fn wa_media(
    from: &str,
    id: &str,
    ts_secs: i64,
    kind: &str,
    media_id: &str,
    mime: &str,
    caption: Option<&str>,
    filename: Option<&str>,
) -> Value {
    let sha = STANDARD.encode(Sha256::digest(media_id.as_bytes()));
    wa_media_with_sha(from, id, ts_secs, kind, media_id, mime, &sha, caption, filename)
}

/// [`wa_media`] with an explicit `sha256` (base64, as in inbound webhooks).
#[allow(clippy::too_many_arguments)]
pub(crate) fn wa_media_with_sha(
    from: &str,
    id: &str,
    ts_secs: i64,
    kind: &str,
    media_id: &str,
    mime: &str,
    sha256: &str,
    caption: Option<&str>,
    filename: Option<&str>,
) -> Value {
    let mut media = json!({ "mime_type": mime, "sha256": sha256, "id": media_id });
    if let Some(caption) = caption.filter(|_| matches!(kind, "image" | "video" | "document")) {
        media["caption"] = json!(caption);
    }
    if kind == "document"
        && let Some(filename) = filename
    {
        media["filename"] = json!(filename);
    }
    if kind == "audio" {
        media["voice"] = json!(mime.starts_with("audio/ogg"));
    }
    if kind == "sticker" {
        media["animated"] = json!(false);
    }
    let mut m = base_message(from, id, ts_secs, kind);
    m[kind] = media;
    m
}

/// A location message (`location: {latitude, longitude, name?, address?}`).
#[allow(clippy::too_many_arguments)]
pub fn wa_location(
    from: &str,
    id: &str,
    ts_secs: i64,
    latitude: f64,
    longitude: f64,
    name: Option<&str>,
    address: Option<&str>,
) -> Value {
    let mut location = json!({ "latitude": latitude, "longitude": longitude });
    if let Some(name) = name {
        location["name"] = json!(name);
    }
    if let Some(address) = address {
        location["address"] = json!(address);
    }
    let mut m = base_message(from, id, ts_secs, "location");
    m["location"] = location;
    m
}

/// A reaction to a business message (`reaction: {message_id, emoji}`). An
/// empty `emoji` means the reaction was removed: Meta then sends the
/// webhook without the `emoji` field.
pub fn wa_reaction(from: &str, id: &str, ts_secs: i64, target_wamid: &str, emoji: &str) -> Value {
    let mut reaction = json!({ "message_id": target_wamid });
    if !emoji.is_empty() {
        reaction["emoji"] = json!(emoji);
    }
    let mut m = base_message(from, id, ts_secs, "reaction");
    m["reaction"] = reaction;
    m
}

/// A tap on a reply button of an interactive message
/// (`interactive: {type: "button_reply", button_reply: {id, title}}`).
pub fn wa_interactive_button_reply(from: &str, id: &str, ts_secs: i64, button_id: &str, title: &str) -> Value {
    let mut m = base_message(from, id, ts_secs, "interactive");
    m["interactive"] = json!({ "type": "button_reply", "button_reply": { "id": button_id, "title": title } });
    m
}

/// A choice from an interactive list message
/// (`interactive: {type: "list_reply", list_reply: {id, title, description?}}`).
pub fn wa_interactive_list_reply(
    from: &str,
    id: &str,
    ts_secs: i64,
    row_id: &str,
    title: &str,
    description: Option<&str>,
) -> Value {
    let mut reply = json!({ "id": row_id, "title": title });
    if let Some(description) = description {
        reply["description"] = json!(description);
    }
    let mut m = base_message(from, id, ts_secs, "interactive");
    m["interactive"] = json!({ "type": "list_reply", "list_reply": reply });
    m
}

/// A tap on a template's quick-reply button (`type: "button"`,
/// `button: {payload, text}`). Meta adds `context` with the template
/// message; use [`wa_with_context`].
pub fn wa_button(from: &str, id: &str, ts_secs: i64, payload: &str, text: &str) -> Value {
    let mut m = base_message(from, id, ts_secs, "button");
    m["button"] = json!({ "payload": payload, "text": text });
    m
}

/// A message type the Cloud API does not support (`type: "unsupported"`
/// with error 131051 "Message type unknown").
pub fn wa_unsupported(from: &str, id: &str, ts_secs: i64) -> Value {
    let mut m = base_message(from, id, ts_secs, "unsupported");
    m["errors"] = json!([wa_error(
        131_051,
        "Message type unknown",
        "Message type is currently not supported."
    )]);
    m["unsupported"] = json!({ "type": "unknown" });
    m
}

/// Shared contact cards (`type: "contacts"`): each `(formatted name,
/// phone)` becomes `{name: {formatted_name, first_name}, phones: [{phone,
/// wa_id, type: "CELL"}]}`.
pub fn wa_contacts(from: &str, id: &str, ts_secs: i64, contacts: &[(&str, &str)]) -> Value {
    let cards: Vec<Value> = contacts
        .iter()
        .map(|(name, phone)| {
            let first = name.split_whitespace().next().unwrap_or(name);
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            json!({
                "name": { "formatted_name": name, "first_name": first },
                "phones": [{ "phone": phone, "wa_id": digits, "type": "CELL" }],
            })
        })
        .collect();
    let mut m = base_message(from, id, ts_secs, "contacts");
    m["contacts"] = Value::Array(cards);
    m
}

/// An error object as Cloud API webhooks carry it (`statuses[].errors`,
/// `messages[].errors`): `{code, title, message, error_data: {details}, href}`.
pub fn wa_error(code: u32, title: &str, details: &str) -> Value {
    json!({
        "code": code,
        "title": title,
        "message": title,
        "error_data": { "details": details },
        "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
    })
}

/// The error a `failed` status carries for a known Cloud API code (the
/// titles and details of Meta's error-codes page).
pub fn wa_error_for_code(code: u32) -> Value {
    let (title, details) = match code {
        131_047 => (
            "Re-engagement message",
            "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
        ),
        131_026 => ("Message undeliverable", "Message Undeliverable."),
        131_049 => (
            "This message was not delivered to maintain healthy ecosystem engagement.",
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
        ),
        131_000 => (
            "Something went wrong",
            "Message failed to send due to an unknown error.",
        ),
        131_053 => ("Media upload error", "Unable to upload the media used in the message."),
        131_048 => (
            "Spam rate limit hit",
            "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
        ),
        130_472 => (
            "User's number is part of an experiment",
            "Failed to send message because this user's phone number is part of an experiment",
        ),
        _ => ("Message failed to send", "Message failed to send."),
    };
    wa_error(code, title, details)
}

/// A status of a message the business sent: `sent`, `delivered`, `read` or
/// `failed`. `sent` and `delivered` carry `conversation` and `pricing` (a
/// `service` conversation; see [`wa_status_priced`] for other categories),
/// `read` carries neither, `failed` carries `errors`.
pub fn wa_status(wamid: &str, status: &str, ts_secs: i64, recipient_id: &str, errors: Option<Value>) -> Value {
    let conversation_id = hex::encode(&Sha256::digest(format!("conversation:{recipient_id}"))[..16]);
    let pricing = matches!(status, "sent" | "delivered").then(|| Pricing {
        conversation_id,
        expiration_secs: (status == "sent").then_some(ts_secs + 24 * 3600),
        category: "service".to_owned(),
    });
    wa_status_priced(wamid, status, ts_secs, recipient_id, pricing, errors)
}

/// The conversation and pricing objects of a status (conversation-based
/// pricing, as in Meta's status webhook examples).
#[derive(Clone, Debug)]
pub(crate) struct Pricing {
    pub conversation_id: String,
    /// Only on the first (`sent`) status of a conversation.
    pub expiration_secs: Option<i64>,
    /// `service`, `utility`, `marketing` or `authentication`.
    pub category: String,
}

pub(crate) fn wa_status_priced(
    wamid: &str,
    status: &str,
    ts_secs: i64,
    recipient_id: &str,
    pricing: Option<Pricing>,
    errors: Option<Value>,
) -> Value {
    let mut value = json!({
        "id": wamid,
        "status": status,
        "timestamp": ts_secs.to_string(),
        "recipient_id": recipient_id,
    });
    if let Some(p) = pricing {
        let mut conversation = json!({ "id": p.conversation_id, "origin": { "type": p.category } });
        if let Some(expiration) = p.expiration_secs {
            conversation["expiration_timestamp"] = json!(expiration.to_string());
        }
        value["conversation"] = conversation;
        value["pricing"] = json!({ "billable": true, "pricing_model": "CBP", "category": p.category });
    }
    if let Some(errors) = errors {
        value["errors"] = match errors {
            Value::Array(_) => errors,
            single => Value::Array(vec![single]),
        };
    }
    value
}

/// A `message_template_status_update` webhook (Meta's "message_template_status_update
/// webhook reference"): `entry[].changes[].value` is `{event,
/// message_template_id, message_template_name, message_template_language,
/// reason}`; `reason` is `"NONE"` unless given (e.g. `INVALID_FORMAT` for a
/// rejection). `template_id` is sent as a JSON number when numeric, as in
/// Meta's syntax.
pub fn template_status_webhook(
    waba_id: &str,
    template_id: &str,
    name: &str,
    language: &str,
    event: &str,
    reason: Option<&str>,
) -> Value {
    template_status_webhook_full(waba_id, template_id, name, language, event, reason, None)
}

pub(crate) fn template_status_webhook_full(
    waba_id: &str,
    template_id: &str,
    name: &str,
    language: &str,
    event: &str,
    reason: Option<&str>,
    category: Option<&str>,
) -> Value {
    let id = template_id
        .parse::<u64>()
        .map_or_else(|_| json!(template_id), |n| json!(n));
    let mut value = json!({
        "event": event,
        "message_template_id": id,
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason.unwrap_or("NONE"),
    });
    if let Some(category) = category {
        value["message_template_category"] = json!(category);
    }
    if event == "DISABLED" {
        value["disable_info"] = json!({ "disable_date": now_secs() });
    }
    waba_change(waba_id, value, "message_template_status_update", Some(now_secs()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_webhook_has_cloud_api_shape() {
        let v = whatsapp_webhook(
            "401",
            "501",
            "15550100501",
            &[("15550001111", "Maria Garcia")],
            vec![wa_text("15550001111", "wamid.X", 1_700_000_000, "hola")],
            vec![],
        );
        assert_eq!(v["object"], "whatsapp_business_account");
        let change = &v["entry"][0]["changes"][0];
        assert_eq!(v["entry"][0]["id"], "401");
        assert_eq!(change["field"], "messages");
        let value = &change["value"];
        assert_eq!(value["messaging_product"], "whatsapp");
        assert_eq!(value["metadata"]["phone_number_id"], "501");
        assert_eq!(value["contacts"][0]["profile"]["name"], "Maria Garcia");
        assert_eq!(value["messages"][0]["timestamp"], "1700000000");
        assert_eq!(value["messages"][0]["text"]["body"], "hola");
        assert!(value.get("statuses").is_none());
    }

    #[test]
    fn message_builders_follow_meta_examples() {
        let doc = wa_media(
            "1",
            "w",
            5,
            "document",
            "m1",
            "application/pdf",
            Some("c"),
            Some("a.pdf"),
        );
        assert_eq!(doc["document"]["filename"], "a.pdf");
        assert_eq!(doc["document"]["caption"], "c");
        let audio = wa_media(
            "1",
            "w",
            5,
            "audio",
            "m2",
            "audio/ogg; codecs=opus",
            Some("ignored"),
            None,
        );
        assert_eq!(audio["audio"]["voice"], true);
        assert!(audio["audio"].get("caption").is_none());
        let removed = wa_reaction("1", "w", 5, "wamid.T", "");
        assert!(removed["reaction"].get("emoji").is_none());
        assert_eq!(wa_reaction("1", "w", 5, "wamid.T", "👍")["reaction"]["emoji"], "👍");
        let reply = wa_reply("1", "w", 5, "yes", "15550100501", "wamid.T");
        assert_eq!(reply["context"]["id"], "wamid.T");
        assert_eq!(wa_button("1", "w", 5, "p", "Stop")["button"]["payload"], "p");
        let list = wa_interactive_list_reply("1", "w", 5, "r1", "Row", Some("d"));
        assert_eq!(list["interactive"]["list_reply"]["description"], "d");
        assert_eq!(wa_unsupported("1", "w", 5)["errors"][0]["code"], 131_051);
        let cards = wa_contacts("1", "w", 5, &[("Ana Pérez", "+1 555 000 9999")]);
        assert_eq!(cards["contacts"][0]["phones"][0]["wa_id"], "15550009999");
        let loc = wa_location("1", "w", 5, 1.5, 2.5, Some("Shop"), None);
        assert_eq!(loc["location"]["name"], "Shop");
    }

    #[test]
    fn statuses_carry_pricing_or_errors() {
        let sent = wa_status("wamid.A", "sent", 10, "1555", None);
        assert_eq!(sent["conversation"]["origin"]["type"], "service");
        assert_eq!(sent["conversation"]["expiration_timestamp"], "86410");
        assert_eq!(sent["pricing"]["pricing_model"], "CBP");
        let read = wa_status("wamid.A", "read", 11, "1555", None);
        assert!(read.get("pricing").is_none());
        let failed = wa_status("wamid.A", "failed", 12, "1555", Some(wa_error_for_code(131_047)));
        assert_eq!(failed["errors"][0]["code"], 131_047);
        assert_eq!(failed["errors"][0]["title"], "Re-engagement message");
        assert!(new_wamid().starts_with("wamid."));
    }

    #[test]
    fn template_status_update_shape() {
        let v = template_status_webhook("401", "123", "promo", "en_US", "REJECTED", Some("INVALID_FORMAT"));
        let change = &v["entry"][0]["changes"][0];
        assert_eq!(change["field"], "message_template_status_update");
        assert_eq!(change["value"]["message_template_id"], 123);
        assert_eq!(change["value"]["reason"], "INVALID_FORMAT");
        let approved = template_status_webhook("401", "123", "promo", "en_US", "APPROVED", None);
        assert_eq!(approved["entry"][0]["changes"][0]["value"]["reason"], "NONE");
    }
}
