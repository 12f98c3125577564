//! Messenger webhook payloads and their signature, usable without a running
//! fake (tests and benchmarks can POST them to the app directly).
//!
//! Shapes follow Meta's Messenger Platform "Webhook Events Reference":
//! every notification is `{"object":"page","entry":[{"id":PAGE_ID,"time":…,
//! "messaging":[event]}]}` and each event carries `sender`, `recipient`,
//! `timestamp` plus one of `message`, `delivery` or `read`.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// The header Meta puts the payload signature in.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// The `X-Hub-Signature-256` value for a webhook body: `sha256=` followed by
/// the lowercase hex HMAC-SHA256 of the raw body, keyed with the app secret
/// (Graph API Webhooks, "Validating Payloads").
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Serializes a webhook payload the way Meta does on the wire: non-ASCII
/// characters as lowercase `\uXXXX` escapes and `/` as `\/` (see `"https:\/\/…"`
/// in Meta's echo example; the Webhooks guide notes the signature is computed
/// over "an escaped unicode version of the payload, with lowercase hex
/// digits"). An app that verifies the signature over a re-serialized body
/// instead of the raw bytes fails on such payloads — as it would in production.
pub fn encode_body(payload: &Value) -> Vec<u8> {
    let plain = payload.to_string();
    let mut out = String::with_capacity(plain.len() + 16);
    // Outside strings, JSON text is pure ASCII without '/', so escaping
    // everywhere only touches string contents.
    for c in plain.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.into_bytes()
}

/// Milliseconds since the Unix epoch, the unit of Messenger timestamps and
/// watermarks.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Wraps messaging events for one page into a webhook notification.
pub fn page_webhook(page_id: &str, time_ms: i64, messaging: Vec<Value>) -> Value {
    json!({
        "object": "page",
        "entry": [{ "id": page_id, "time": time_ms, "messaging": messaging }],
    })
}

/// An attachment as Messenger webhooks carry it: `{"type", "payload":{"url"}}`.
/// `kind` is one of `image`, `video`, `audio`, `file`.
pub fn attachment(kind: &str, url: &str) -> Value {
    json!({ "type": kind, "payload": { "url": url } })
}

/// A `messages` webhook: the customer `psid` wrote to the page. Text,
/// attachments, or both.
pub fn message_event(
    page_id: &str,
    psid: &str,
    mid: &str,
    text: Option<&str>,
    attachments: &[Value],
    timestamp_ms: i64,
) -> Value {
    let mut message = json!({ "mid": mid });
    if let Some(text) = text {
        message["text"] = json!(text);
    }
    if !attachments.is_empty() {
        message["attachments"] = Value::Array(attachments.to_vec());
    }
    let event = json!({
        "sender": { "id": psid },
        "recipient": { "id": page_id },
        "timestamp": timestamp_ms,
        "message": message,
    });
    page_webhook(page_id, timestamp_ms, vec![event])
}

/// A `messages` webhook carrying text.
pub fn text_message_event(page_id: &str, psid: &str, mid: &str, text: &str, timestamp_ms: i64) -> Value {
    message_event(page_id, psid, mid, Some(text), &[], timestamp_ms)
}

/// A `messages` webhook carrying one image.
pub fn image_message_event(page_id: &str, psid: &str, mid: &str, image_url: &str, timestamp_ms: i64) -> Value {
    message_event(
        page_id,
        psid,
        mid,
        None,
        &[attachment("image", image_url)],
        timestamp_ms,
    )
}

/// A `message_deliveries` webhook: the page's messages `mids` reached the
/// customer, and everything sent before `watermark` was delivered.
pub fn delivery_event<I, S>(page_id: &str, psid: &str, mids: I, watermark: i64) -> Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mids: Vec<String> = mids.into_iter().map(|m| m.as_ref().to_owned()).collect();
    let event = json!({
        "sender": { "id": psid },
        "recipient": { "id": page_id },
        "timestamp": watermark,
        "delivery": { "mids": mids, "watermark": watermark },
    });
    page_webhook(page_id, watermark, vec![event])
}

/// A `message_reads` webhook: the customer read everything the page sent up
/// to and including `watermark`.
pub fn read_event(page_id: &str, psid: &str, watermark: i64) -> Value {
    let event = json!({
        "sender": { "id": psid },
        "recipient": { "id": page_id },
        "timestamp": watermark,
        "read": { "watermark": watermark },
    });
    page_webhook(page_id, watermark, vec![event])
}

/// A `message_echoes` webhook for a text message the page sent: sender and
/// recipient are swapped compared to a customer message, and `message`
/// carries `is_echo: true`, the sending `app_id` and its `metadata`.
pub fn echo_event(
    page_id: &str,
    psid: &str,
    mid: &str,
    text: &str,
    app_id: &str,
    metadata: Option<&str>,
    timestamp_ms: i64,
) -> Value {
    let message = json!({ "text": text, "metadata": metadata });
    echo_of(page_id, psid, mid, &message, app_id, timestamp_ms)
}

/// The echo of a Send API `message` object: text, attachment and metadata
/// are carried over. The attachment comes back in the webhook's list form.
pub(crate) fn echo_of(page_id: &str, psid: &str, mid: &str, sent: &Value, app_id: &str, timestamp_ms: i64) -> Value {
    // Meta's example shows app_id as a JSON number.
    let app_id = app_id.parse::<u64>().map_or_else(|_| json!(app_id), |n| json!(n));
    let mut message = json!({ "mid": mid, "is_echo": true, "app_id": app_id });
    if let Some(metadata) = sent.get("metadata").and_then(Value::as_str) {
        message["metadata"] = json!(metadata);
    }
    if let Some(text) = sent.get("text").and_then(Value::as_str) {
        message["text"] = json!(text);
    }
    if let Some(att) = sent.get("attachment") {
        let kind = att.get("type").and_then(Value::as_str).unwrap_or("file");
        let payload = att.get("payload").cloned().unwrap_or_else(|| json!({}));
        message["attachments"] = json!([{ "type": kind, "payload": payload }]);
    }
    let event = json!({
        "sender": { "id": page_id },
        "recipient": { "id": psid },
        "timestamp": timestamp_ms,
        "message": message,
    });
    page_webhook(page_id, timestamp_ms, vec![event])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_sha256_hmac_of_raw_body() {
        // RFC 4231 test case 2.
        let sig = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn body_escapes_unicode_and_slashes_like_meta() {
        let body = encode_body(&json!({ "t": "Chloé 👋", "u": "https://x/y" }));
        let text = String::from_utf8(body).unwrap();
        assert_eq!(text, r#"{"t":"Chlo\u00e9 \ud83d\udc4b","u":"https:\/\/x\/y"}"#);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["t"], "Chloé 👋");
    }

    #[test]
    fn text_message_has_messenger_shape() {
        let v = text_message_event("101", "7001001", "m_1", "hi", 1_700_000_000_000);
        assert_eq!(v["object"], "page");
        assert_eq!(v["entry"][0]["id"], "101");
        let ev = &v["entry"][0]["messaging"][0];
        assert_eq!(ev["sender"]["id"], "7001001");
        assert_eq!(ev["recipient"]["id"], "101");
        assert_eq!(ev["message"]["mid"], "m_1");
        assert_eq!(ev["message"]["text"], "hi");
    }

    #[test]
    fn echo_swaps_sender_and_carries_app_id_and_metadata() {
        let v = echo_event("101", "7001001", "m_2", "hello", "1234567890", Some("msg-42"), 5);
        let ev = &v["entry"][0]["messaging"][0];
        assert_eq!(ev["sender"]["id"], "101");
        assert_eq!(ev["recipient"]["id"], "7001001");
        assert_eq!(ev["message"]["is_echo"], true);
        assert_eq!(ev["message"]["app_id"], 1_234_567_890_u64);
        assert_eq!(ev["message"]["metadata"], "msg-42");
        let none = echo_event("101", "7001001", "m_3", "x", "1", None, 5);
        assert!(none["entry"][0]["messaging"][0]["message"].get("metadata").is_none());
    }

    #[test]
    fn receipts_have_watermarks() {
        let d = delivery_event("101", "7001001", ["m_1", "m_2"], 9);
        assert_eq!(d["entry"][0]["messaging"][0]["delivery"]["mids"][1], "m_2");
        assert_eq!(d["entry"][0]["messaging"][0]["delivery"]["watermark"], 9);
        let r = read_event("101", "7001001", 10);
        assert_eq!(r["entry"][0]["messaging"][0]["read"]["watermark"], 10);
    }
}
