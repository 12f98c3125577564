//! Instagram Direct through the Messenger API for Instagram: the professional account is
//! reached through the Facebook page it is linked to, with that page's token. Webhooks
//! arrive as `object: "instagram"` with the Instagram account id as `entry[].id`.

use super::messenger::{GraphClient, METADATA_PREFIX, Party, send_api_body, webhook_entries};
use super::{
    ChannelAdapter, CustomerProfile, InboundEvent, MediaFile, NormalizedEvent, Rejection, SendError, StoredCredentials,
    media_url,
};
use crate::channels::meta::webhook as meta_webhook;
use crate::channels::webhook::{Handshake, RoutedChannel, WebhookReceiver, WebhookRequest};
use crate::config::MetaConfig;
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind, MessageStatus};
use app::store::{ChannelRecord, EchoMessage, InboundMessage, OutboundJob, ReactionUpdate, StatusUpdate, now_millis};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the thread shows for a message Instagram does not pass on to apps.
pub const UNSUPPORTED_BODY: &str = "Unsupported Instagram message";
/// Disappearing photos and videos arrive without a URL, so only the app can show them.
pub const EPHEMERAL_BODY: &str = "Disappearing photo or video (open Instagram to view it)";

/// What is stored (encrypted) for a connected Instagram account: it is reached through its linked page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstagramCredentials {
    pub page_id: String,
    pub page_access_token: String,
}

impl StoredCredentials for InstagramCredentials {
    const ACCOUNT: &'static str = "Instagram account";
}

pub struct InstagramAdapter {
    pub graph: GraphClient,
}

impl InstagramAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            graph: GraphClient::new(config),
        }
    }

    /// The Send API body for one queued reply. Instagram takes either text or one
    /// attachment per message, so a reply with a linkable file sends the file.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = send_api_body(job);
        if job.message.tag.as_deref() == Some("HUMAN_AGENT") {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        } else {
            // CONFIRMED_EVENT_UPDATE and the other Messenger tags do not exist on Instagram.
            body["messaging_type"] = json!("RESPONSE");
        }
        if let Some(reply_to) = &job.message.reply_to {
            body["reply_to"] = json!({ "mid": reply_to.platform_message_id });
        }
        body
    }
}

/// Reads the User Profile API's answer: the name, or `@username` when the customer set none.
fn profile_from(body: &Value) -> CustomerProfile {
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    CustomerProfile {
        name: text("name").or_else(|| text("username").map(|u| format!("@{u}"))),
        avatar_url: text("profile_pic"),
    }
}

/// Meta's app-level webhook: every account of the app posts to one URL.
impl WebhookReceiver for InstagramAdapter {
    fn handshake(&self, request: &WebhookRequest) -> Handshake {
        meta_webhook::handshake(&self.graph.config().verify_token, request)
    }

    fn verify(&self, request: &WebhookRequest, _channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        meta_webhook::verify_hub_signature(&self.graph.config().app_secret, &request.headers, &request.body)
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        _channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(&request.body)
    }
}

#[async_trait]
impl ChannelAdapter for InstagramAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Instagram
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = InstagramCredentials::parse(credentials)?;
        self.graph
            .send_text(&creds.page_id, &creds.page_access_token, Self::send_body(job))
            .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = InstagramCredentials::parse(credentials)?;
        self.graph
            .instagram_account(&channel.channel.external_id, &creds.page_access_token)
            .await
            .map(|_| ())
    }

    /// Downloads an attachment from Meta's CDN while its link still works.
    async fn fetch_media(&self, _credentials: &str, media_id: &str) -> Result<MediaFile, SendError> {
        let link = cdn_link(media_id, &self.graph.config().graph_url)
            .ok_or_else(|| SendError::Rejected("(100) not an Instagram media link".into()))?;
        let response = self
            .graph
            .http()
            .get(&link)
            .send()
            .await
            .map_err(|e| SendError::Unavailable(format!("Instagram's media could not be reached: {e}")))?;
        if !response.status().is_success() {
            // Expired CDN links answer 403/404: the file is gone at Meta.
            return Err(SendError::Rejected(format!(
                "(100) Instagram answered {}",
                response.status()
            )));
        }
        let mime_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SendError::Unavailable(format!("Instagram's media could not be read: {e}")))?;
        if bytes.len() > MAX_MEDIA_BYTES {
            return Err(SendError::Rejected(
                "the media file is larger than Instagram allows".into(),
            ));
        }
        Ok(MediaFile {
            bytes: bytes.to_vec(),
            mime_type,
        })
    }

    async fn disconnect(&self, _channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        // Instagram events come through the page's app subscription, which a Messenger
        // channel on the same page also needs: the gateway decides whether to call this.
        let creds = InstagramCredentials::parse(credentials)?;
        self.graph
            .unsubscribe_page(&creds.page_id, &creds.page_access_token)
            .await
    }

    async fn customer_profile(&self, credentials: &str, external_user_id: &str) -> Option<CustomerProfile> {
        let creds = InstagramCredentials::parse(credentials).ok()?;
        let body = self
            .graph
            .node(external_user_id, "name,username,profile_pic", &creds.page_access_token)
            .await
            .ok()?;
        Some(profile_from(&body))
    }
}

// ---- Webhook payloads (Messenger API for Instagram, "instagram" object) ----

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

/// Hosts Instagram attachments are served from (Meta's CDNs).
const CDN_HOSTS: &[&str] = &["fbcdn.net", "fbsbx.com", "cdninstagram.com"];
/// Instagram attachments are at most 25 MB.
const MAX_MEDIA_BYTES: usize = 25 * 1024 * 1024;

/// Instagram attachments are links to Meta's CDN that stop working after a while (a
/// story's after a day), so agents see them through our media route, which keeps a copy;
/// the media id there is the link itself (base64url).
pub fn kept_media_url(account_id: &str, link: &str) -> Option<String> {
    (link.starts_with("https://") || link.starts_with("http://"))
        .then(|| media_url(ChannelKind::Instagram, account_id, &URL_SAFE_NO_PAD.encode(link)))
}

/// Files and stories live on the CDN; shared posts and reels are links to their pages.
fn is_cdn_file(attachment: &Attachment) -> bool {
    attachment.kind != AttachmentKind::Other || matches!(attachment.name.as_deref(), Some("Story" | "Story mention"))
}

/// The CDN link behind a kept media id, when it is one of Meta's (or the configured Graph
/// API's own host, as with a local fake): our route never fetches other addresses.
fn cdn_link(media_id: &str, graph_url: &str) -> Option<String> {
    let link = String::from_utf8(URL_SAFE_NO_PAD.decode(media_id).ok()?).ok()?;
    let parsed = url::Url::parse(&link).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let graph_host = url::Url::parse(graph_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    let meta = CDN_HOSTS
        .iter()
        .any(|cdn| host == *cdn || host.ends_with(&format!(".{cdn}")));
    (meta || graph_host.as_deref() == Some(host.as_str())).then_some(link)
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
                    let ours = message
                        .metadata
                        .as_deref()
                        .and_then(|m| m.strip_prefix(METADATA_PREFIX))
                        .and_then(|id| id.parse().ok());
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
    use app::model::{Channel, ChannelStatus, Direction, Message, ReplyTo};
    use app::store::ChannelRecord;

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
    fn kept_media_is_fetched_only_from_meta() {
        let graph = "http://127.0.0.1:4000/v21.0";
        let id = |link: &str| {
            kept_media_url("IGID", link)
                .expect("a link")
                .rsplit('/')
                .next()
                .expect("id")
                .to_string()
        };
        let cdn = "https://scontent-iad3-1.cdninstagram.com/v/t51/1.jpg?oh=x";
        assert_eq!(cdn_link(&id(cdn), graph).as_deref(), Some(cdn));
        let local = "http://127.0.0.1:4000/_fake/media/a.png";
        assert_eq!(
            cdn_link(&id(local), graph).as_deref(),
            Some(local),
            "the configured Graph host"
        );
        for elsewhere in [
            "http://169.254.169.254/latest/meta-data",
            "https://evilfbcdn.net/x",
            "http://localhost/x",
        ] {
            assert_eq!(cdn_link(&id(elsewhere), graph), None, "{elsewhere}");
        }
        assert_eq!(cdn_link("not base64!", graph), None);
        assert_eq!(kept_media_url("IGID", ""), None);
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

    fn job(body: &str, tag: Option<&str>, attachments: Vec<Attachment>, reply_to: Option<&str>) -> OutboundJob {
        OutboundJob {
            message: Message {
                id: 77,
                conversation_id: 5,
                direction: Direction::Outbound,
                sender_user_id: Some(1),
                sender_name: Some("Ana".into()),
                body: body.into(),
                attachments,
                kind: MessageKind::Text,
                reply_to: reply_to.map(|mid| ReplyTo {
                    message_id: None,
                    platform_message_id: mid.into(),
                    preview: None,
                }),
                reactions: vec![],
                status: MessageStatus::Sending,
                error: None,
                platform_message_id: None,
                client_id: None,
                tag: tag.map(str::to_string),
                created_at: 0,
                edited_at: None,
                deleted_at: None,
            },
            channel: ChannelRecord {
                webhook_key: String::new(),
                organization_id: 1,
                channel: Channel {
                    id: 3,
                    kind: ChannelKind::Instagram,
                    external_id: "17841400000000000".into(),
                    name: "@acmeshoes".into(),
                    status: ChannelStatus::Active,
                    last_error: None,
                    parent_account_id: Some("134895793791914".into()),
                    created_at: 0,
                },
                credentials: String::new(),
            },
            recipient_external_id: "IGSID".into(),
            payload: None,
        }
    }

    #[test]
    fn send_body_for_text_with_and_without_the_human_agent_tag() {
        // Send a Message (developers.facebook.com/docs/messenger-platform/instagram/features/
        // send-message): recipient={"id":"IGSID"}&message={"text":"TEXT-OR-LINK"}.
        assert_eq!(
            InstagramAdapter::send_body(&job("Hi there", None, vec![], None)),
            json!({
                "recipient": { "id": "IGSID" },
                "message": { "text": "Hi there", "metadata": "messio:77" },
                "messaging_type": "RESPONSE"
            })
        );
        assert_eq!(
            InstagramAdapter::send_body(&job("Following up", Some("HUMAN_AGENT"), vec![], None)),
            json!({
                "recipient": { "id": "IGSID" },
                "message": { "text": "Following up", "metadata": "messio:77" },
                "messaging_type": "MESSAGE_TAG",
                "tag": "HUMAN_AGENT"
            })
        );
        // Messenger-only tags are not passed to Instagram.
        let other = InstagramAdapter::send_body(&job("x", Some("ACCOUNT_UPDATE"), vec![], None));
        assert_eq!(other["messaging_type"], "RESPONSE");
        assert!(other.get("tag").is_none());
    }

    #[test]
    fn send_body_for_an_attachment_and_a_reply() {
        let image = Attachment {
            kind: AttachmentKind::Image,
            url: "https://cdn.example.com/a.png".into(),
            name: Some("a.png".into()),
            mime_type: Some("image/png".into()),
        };
        let local = Attachment {
            kind: AttachmentKind::File,
            url: "/api/media/x".into(),
            name: None,
            mime_type: None,
        };
        // "message":{ "attachment": { "type":"image", "payload":{ "url":"<IMAGE_URL>" } } }
        assert_eq!(
            InstagramAdapter::send_body(&job("caption", None, vec![local.clone(), image], None)),
            json!({
                "recipient": { "id": "IGSID" },
                "message": {
                    "attachment": { "type": "image", "payload": { "url": "https://cdn.example.com/a.png", "is_reusable": true } },
                    "metadata": "messio:77"
                },
                "messaging_type": "RESPONSE"
            })
        );
        // Without a URL Meta can fetch, the text goes instead.
        let text_only = InstagramAdapter::send_body(&job("see attached", None, vec![local], None));
        assert_eq!(text_only["message"]["text"], "see attached");
        // "Send a reply": a top-level "reply_to": { "mid": "<MESSAGE_ID>" }.
        let reply = InstagramAdapter::send_body(&job("yes", None, vec![], Some("MESSAGE-ID")));
        assert_eq!(reply["reply_to"], json!({ "mid": "MESSAGE-ID" }));
    }

    #[test]
    fn credentials_round_trip() {
        let creds = InstagramCredentials {
            page_id: "134895793791914".into(),
            page_access_token: "EAAB".into(),
        };
        let back = InstagramCredentials::parse(&creds.to_json()).expect("parse");
        assert_eq!(
            (back.page_id.as_str(), back.page_access_token.as_str()),
            ("134895793791914", "EAAB")
        );
        assert!(matches!(InstagramCredentials::parse("{}"), Err(SendError::Auth(_))));
    }

    #[test]
    fn customer_profiles() {
        // User Profile API (developers.facebook.com/docs/messenger-platform/instagram/
        // features/user-profile), sample response.
        let published = json!({
            "name": "Peter Chang",
            "username": "peter_chang_live",
            "profile_pic": "https://fbcdn-profile-...",
            "follower_count": 1234,
            "is_user_follow_business": false,
            "is_business_follow_user": true
        });
        assert_eq!(
            profile_from(&published),
            CustomerProfile {
                name: Some("Peter Chang".into()),
                avatar_url: Some("https://fbcdn-profile-...".into()),
            }
        );
        // "name … can be null if name not set": the username stands in.
        assert_eq!(
            profile_from(&json!({ "name": null, "username": "peter_chang_live", "profile_pic": null })),
            CustomerProfile {
                name: Some("@peter_chang_live".into()),
                avatar_url: None,
            }
        );
    }
}
