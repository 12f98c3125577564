//! Instagram Messaging (Messenger API for Instagram) webhook payloads,
//! usable without a running fake.
//!
//! Shapes follow Meta's "Webhooks for Instagram Messaging": every
//! notification is `{"object":"instagram","entry":[{"time","id":IG_ID,
//! "messaging":[event]}]}` where each event has `sender`, `recipient`,
//! `timestamp` (milliseconds) and one of `message` (with `mid`, `text`,
//! `attachments`, `reply_to`, `is_echo`, `is_unsupported`…), `reaction` or
//! `read`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A fresh Instagram message id. Real ones are base64 of
/// `ig_item:1:IGMessageID:…` (e.g. `aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlE…`).
pub fn new_ig_mid() -> String {
    let bytes: [u8; 30] = rand::random();
    format!("aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Wraps messaging events for one Instagram professional account. `time`
/// is the first event's `timestamp` (or now).
pub fn instagram_webhook(ig_id: &str, messaging: Vec<Value>) -> Value {
    let time = messaging
        .first()
        .and_then(|e| e.get("timestamp"))
        .and_then(Value::as_i64)
        .unwrap_or_else(super::payloads::now_ms);
    json!({
        "object": "instagram",
        "entry": [{ "time": time, "id": ig_id, "messaging": messaging }],
    })
}

/// An attachment as Instagram webhooks carry it: `{"type", "payload":{"url"}}`,
/// `kind` one of `image`, `video`, `audio`, `file`, `share`, `story_mention`…
pub fn ig_attachment(kind: &str, url: &str) -> Value {
    json!({ "type": kind, "payload": { "url": url } })
}

fn event(igsid: &str, ig_id: &str, ts_ms: i64, key: &str, body: Value) -> Value {
    let mut e = json!({
        "sender": { "id": igsid },
        "recipient": { "id": ig_id },
        "timestamp": ts_ms,
    });
    e[key] = body;
    e
}

/// A message event from customer `igsid` to account `ig_id`: text,
/// attachments, or both.
pub fn ig_message(igsid: &str, ig_id: &str, mid: &str, text: Option<&str>, attachments: &[Value], ts_ms: i64) -> Value {
    let mut message = json!({ "mid": mid });
    if let Some(text) = text {
        message["text"] = json!(text);
    }
    if !attachments.is_empty() {
        message["attachments"] = Value::Array(attachments.to_vec());
    }
    event(igsid, ig_id, ts_ms, "message", message)
}

/// A text message event.
pub fn ig_text(igsid: &str, ig_id: &str, mid: &str, text: &str, ts_ms: i64) -> Value {
    ig_message(igsid, ig_id, mid, Some(text), &[], ts_ms)
}

/// A reply to the account's story: `message.reply_to.story: {url, id}`.
pub fn ig_story_reply(
    igsid: &str,
    ig_id: &str,
    mid: &str,
    text: &str,
    story_id: &str,
    story_url: &str,
    ts_ms: i64,
) -> Value {
    let mut e = ig_text(igsid, ig_id, mid, text, ts_ms);
    e["message"]["reply_to"] = json!({ "story": { "url": story_url, "id": story_id } });
    e
}

/// The customer mentioned the account in their story: an attachment of
/// type `story_mention` whose `payload.url` is the story's CDN URL.
pub fn ig_story_mention(igsid: &str, ig_id: &str, mid: &str, story_url: &str, ts_ms: i64) -> Value {
    ig_message(
        igsid,
        ig_id,
        mid,
        None,
        &[ig_attachment("story_mention", story_url)],
        ts_ms,
    )
}

/// Marks a message event as a reply to (quote of) message `mid`:
/// `message.reply_to: {mid}`.
pub fn ig_reply_to(mut message_event: Value, mid: &str) -> Value {
    if message_event.get("message").is_some() {
        message_event["message"]["reply_to"] = json!({ "mid": mid });
    }
    message_event
}

/// A `message_reactions` event: `reaction: {mid, action, reaction, emoji}`.
/// `action` is `react` or `unreact`; an `unreact` carries only `mid` and
/// `action`.
pub fn ig_reaction(igsid: &str, ig_id: &str, target_mid: &str, action: &str, emoji: Option<&str>, ts_ms: i64) -> Value {
    let mut reaction = json!({ "mid": target_mid, "action": action });
    if action != "unreact" {
        let emoji = emoji.unwrap_or("\u{2764}\u{FE0F}");
        reaction["reaction"] = json!(reaction_name(emoji));
        reaction["emoji"] = json!(emoji);
    }
    event(igsid, ig_id, ts_ms, "reaction", reaction)
}

/// The `reaction` name Meta reports for an emoji (`love`, `like`, `wow`,
/// `sad`, `angry`, `laugh`, or `other`).
fn reaction_name(emoji: &str) -> &'static str {
    match emoji.trim_end_matches('\u{FE0F}') {
        "\u{2764}" => "love",
        "\u{1F44D}" => "like",
        "\u{1F62E}" => "wow",
        "\u{1F622}" => "sad",
        "\u{1F620}" => "angry",
        "\u{1F602}" | "\u{1F606}" => "laugh",
        _ => "other",
    }
}

/// The echo of a message the account sent: sender and recipient swapped,
/// `message.is_echo: true`.
pub fn ig_echo(ig_id: &str, igsid: &str, mid: &str, text: &str, ts_ms: i64) -> Value {
    let message = json!({ "mid": mid, "text": text, "is_echo": true });
    event(ig_id, igsid, ts_ms, "message", message)
}

/// The echo of a Send API `message` object (text and/or attachment).
pub(crate) fn ig_echo_of(ig_id: &str, igsid: &str, mid: &str, sent: &Value, ts_ms: i64) -> Value {
    let mut message = json!({ "mid": mid, "is_echo": true });
    if let Some(text) = sent.get("text").and_then(Value::as_str) {
        message["text"] = json!(text);
    }
    if let Some(att) = sent.get("attachment") {
        let kind = att.get("type").and_then(Value::as_str).unwrap_or("file");
        let payload = att.get("payload").cloned().unwrap_or_else(|| json!({}));
        message["attachments"] = json!([{ "type": kind, "payload": payload }]);
    }
    event(ig_id, igsid, ts_ms, "message", message)
}

/// A `messaging_seen` event: the customer read message `mid`
/// (`read: {mid}` on Instagram, rather than Messenger's watermark).
pub fn ig_read(igsid: &str, ig_id: &str, mid: &str, ts_ms: i64) -> Value {
    event(igsid, ig_id, ts_ms, "read", json!({ "mid": mid }))
}

/// A message the API cannot show (GIFs, stickers, …): `message.is_unsupported: true`.
pub fn ig_unsupported(igsid: &str, ig_id: &str, mid: &str, ts_ms: i64) -> Value {
    event(
        igsid,
        ig_id,
        ts_ms,
        "message",
        json!({ "mid": mid, "is_unsupported": true }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instagram_shapes() {
        let v = instagram_webhook("17841", vec![ig_text("91", "17841", "mid.1", "hi", 1_700_000_000_000)]);
        assert_eq!(v["object"], "instagram");
        assert_eq!(v["entry"][0]["id"], "17841");
        assert_eq!(v["entry"][0]["time"], 1_700_000_000_000_i64);
        let e = &v["entry"][0]["messaging"][0];
        assert_eq!(e["sender"]["id"], "91");
        assert_eq!(e["recipient"]["id"], "17841");
        assert_eq!(e["message"]["text"], "hi");

        let story = ig_story_reply("91", "17841", "m", "nice", "st1", "https://cdn/x", 1);
        assert_eq!(story["message"]["reply_to"]["story"]["id"], "st1");
        let mention = ig_story_mention("91", "17841", "m", "https://cdn/s", 1);
        assert_eq!(mention["message"]["attachments"][0]["type"], "story_mention");
        let reply = ig_reply_to(ig_text("91", "17841", "m2", "yes", 1), "m1");
        assert_eq!(reply["message"]["reply_to"]["mid"], "m1");
        let love = ig_reaction("91", "17841", "m1", "react", Some("\u{2764}\u{FE0F}"), 1);
        assert_eq!(love["reaction"]["reaction"], "love");
        let un = ig_reaction("91", "17841", "m1", "unreact", None, 1);
        assert!(un["reaction"].get("emoji").is_none());
        let echo = ig_echo("17841", "91", "m3", "hello", 1);
        assert_eq!(echo["sender"]["id"], "17841");
        assert_eq!(echo["message"]["is_echo"], true);
        assert_eq!(ig_read("91", "17841", "m3", 1)["read"]["mid"], "m3");
        assert_eq!(
            ig_unsupported("91", "17841", "m4", 1)["message"]["is_unsupported"],
            true
        );
        assert_eq!(ig_attachment("image", "u")["payload"]["url"], "u");
    }
}
