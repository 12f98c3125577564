//! What Messenger and Instagram share because Instagram Direct also goes through a Facebook
//! page (the Messenger Platform): the page's webhook subscription, the Send API with the
//! page's token, the `{recipient, message}` body with the `metadata` that lets an echo be
//! matched to the reply we stored, and the envelope both platforms' webhooks come in
//! (`object: "page"` or `"instagram"`, `entry[].messaging[]`).

use super::graph::Graph;
use crate::channels::{Rejection, SendError};
use app::model::AttachmentKind;
use app::store::OutboundJob;
use serde::Deserialize;
use serde_json::{Value, json};

/// Webhook fields a page is subscribed to when it is connected.
pub const SUBSCRIBED_FIELDS: &str = "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes";
/// Marks the messages Messio sends, so their echoes are matched to the stored copy.
pub const METADATA_PREFIX: &str = "messio:";

/// Makes Meta deliver the page's events (and its Instagram account's) to our app.
pub async fn subscribe(graph: &Graph, page_id: &str, page_token: &str) -> Result<(), SendError> {
    graph
        .call(
            graph
                .post(&format!("{page_id}/subscribed_apps"))
                .query(&[("subscribed_fields", SUBSCRIBED_FIELDS)]),
            page_token,
        )
        .await
        .map(|_| ())
}

pub async fn unsubscribe(graph: &Graph, page_id: &str, page_token: &str) -> Result<(), SendError> {
    graph
        .call(graph.delete(&format!("{page_id}/subscribed_apps")), page_token)
        .await
        .map(|_| ())
}

/// `POST /{page-id}/messages`; returns Meta's `message_id`.
pub async fn send(graph: &Graph, page_id: &str, page_token: &str, body: &Value) -> Result<String, SendError> {
    let answer = graph
        .call(graph.post(&format!("{page_id}/messages")).json(body), page_token)
        .await?;
    answer
        .get("message_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| SendError::Rejected("Meta accepted the message but returned no message id".into()))
}

/// `{recipient, message}` for the Send API (Messenger and Instagram alike): the reply's
/// file, which Meta fetches from its link, or else its text; `metadata` matches the echo.
pub fn send_api_body(job: &OutboundJob) -> Value {
    let metadata = format!("{METADATA_PREFIX}{}", job.message.id);
    let attachment = job
        .message
        .attachments
        .iter()
        .find(|a| a.url.starts_with("https://") || a.url.starts_with("http://"));
    let message = match attachment {
        Some(a) => json!({
            "attachment": { "type": attachment_type(a.kind), "payload": { "url": a.url, "is_reusable": true } },
            "metadata": metadata,
        }),
        None => json!({ "text": job.message.body, "metadata": metadata }),
    };
    json!({ "recipient": { "id": job.recipient_external_id }, "message": message })
}

/// The Send API's attachment types (Messenger and Instagram take the same four).
fn attachment_type(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image | AttachmentKind::Sticker => "image",
        AttachmentKind::Video => "video",
        AttachmentKind::Audio => "audio",
        AttachmentKind::File | AttachmentKind::Location | AttachmentKind::Other => "file",
    }
}

/// The envelope Messenger-platform webhooks share (`page` for Messenger, `instagram` for Instagram).
#[derive(Debug, Deserialize)]
struct WebhookBody<M> {
    object: String,
    #[serde(default = "Vec::new")]
    entry: Vec<WebhookEntry<M>>,
}

#[derive(Debug, Deserialize)]
pub struct WebhookEntry<M> {
    /// The page (or Instagram account) the events are for.
    pub id: String,
    #[serde(default = "Vec::new")]
    pub messaging: Vec<M>,
}

#[derive(Debug, Deserialize)]
pub struct Party {
    pub id: String,
}

/// Parses a delivery's envelope and checks it is for `object`.
pub fn webhook_entries<M: serde::de::DeserializeOwned>(
    body: &[u8],
    object: &str,
) -> Result<Vec<WebhookEntry<M>>, Rejection> {
    let parsed: WebhookBody<M> = serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if parsed.object != object {
        return Err(Rejection::Malformed(format!(
            "expected object \"{object}\", got \"{}\"",
            parsed.object
        )));
    }
    Ok(parsed.entry)
}

/// Our message id, from the `metadata` an echo carries back.
pub fn our_message_id(metadata: Option<&str>) -> Option<app::model::Id> {
    metadata?.strip_prefix(METADATA_PREFIX)?.parse().ok()
}
