//! Facebook Messenger (Pages) through Meta's Graph API: webhook verification and
//! normalization (a reply names the message it quotes; a sticker is one `Sticker`
//! attachment however many forms Meta sends it in), the Send API, page subscription, and
//! the Graph calls behind Facebook login (long-lived token, managed pages).

use super::{ChannelAdapter, CustomerProfile, InboundEvent, NormalizedEvent, Rejection, SendError, StoredCredentials};
use crate::channels::meta::webhook as meta_webhook;
use crate::channels::webhook::{Handshake, RoutedChannel, WebhookReceiver, WebhookRequest};
use crate::config::MetaConfig;
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind, MessageStatus};
use app::store::{ChannelRecord, EchoMessage, InboundMessage, OutboundJob, StatusUpdate};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Webhook fields a page is subscribed to when it is connected.
pub const SUBSCRIBED_FIELDS: &str = "messages,messaging_postbacks,message_deliveries,message_reads,message_echoes";
/// Marks the messages Messio sends, so their echoes are matched to the stored copy.
pub(crate) const METADATA_PREFIX: &str = "messio:";
/// What `/me/accounts` and `/{page-id}` are asked about a page's linked Instagram account.
const INSTAGRAM_ACCOUNT_FIELDS: &str = "instagram_business_account{id,username,name,profile_picture_url}";

/// What is stored (encrypted) for a connected page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageCredentials {
    pub page_access_token: String,
}

impl StoredCredentials for PageCredentials {
    const ACCOUNT: &'static str = "page";
}

/// A page listed by `/me/accounts` after Facebook login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPage {
    pub id: String,
    pub name: String,
    pub access_token: String,
    #[serde(default)]
    pub category: Option<String>,
    /// The Instagram professional account linked to the page, when there is one.
    #[serde(default)]
    pub instagram_business_account: Option<InstagramAccount>,
}

/// An Instagram professional account as Graph describes it (`instagram_business_account`
/// of a page, or the IG user node itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstagramAccount {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
}

/// Meta's error object: `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
#[derive(Debug, Clone, Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
}

impl GraphError {
    fn into_send_error(self) -> SendError {
        let text = format!("{} (code {})", self.message, self.code);
        match (self.code, self.error_subcode) {
            // 190: invalid/expired access token; 102: session expired.
            (190 | 102, _) => SendError::Auth(text),
            (10, Some(2018278)) => SendError::OutsideWindow(
                "the customer's last message is more than 24 hours old; this reply needs the HUMAN_AGENT tag".into(),
            ),
            // Instagram's variant covers both limits: untagged after 24 hours, tagged after 7 days.
            (10, Some(2534022)) => SendError::OutsideWindow(
                "Instagram refused the reply: it is outside the messaging window (24 hours, or 7 days with the HUMAN_AGENT tag)"
                    .into(),
            ),
            (551, _) => SendError::Rejected(format!(
                "the customer can't receive messages right now (they may have blocked the account or turned messages off): {text}"
            )),
            (200 | 10, _) => SendError::Rejected(format!("permission missing: {text}")),
            _ => SendError::Rejected(text),
        }
    }
}

#[derive(Clone)]
pub struct GraphClient {
    http: reqwest::Client,
    config: MetaConfig,
}

impl GraphClient {
    pub fn new(config: MetaConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, config }
    }

    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.config.graph_url, path.trim_start_matches('/'))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let response = request
            .send()
            .await
            .map_err(|e| SendError::Unavailable(format!("Meta could not be reached: {e}")))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(error) = body.get("error") {
            let error: GraphError = serde_json::from_value(error.clone()).unwrap_or(GraphError {
                message: error.to_string(),
                code: 0,
                error_subcode: None,
            });
            if status.is_server_error() && error.code == 0 {
                return Err(SendError::Unavailable(error.message));
            }
            return Err(error.into_send_error());
        }
        if status.is_server_error() {
            return Err(SendError::Unavailable(format!("Meta answered {status}")));
        }
        if !status.is_success() {
            return Err(SendError::Rejected(format!("Meta answered {status}")));
        }
        Ok(body)
    }

    /// The pages the logged-in user manages, with a page token each (follows paging).
    /// Exchanges a login's short-lived user token for a long-lived one (about 60 days);
    /// page tokens read with it do not expire, and WhatsApp numbers keep working.
    pub async fn long_lived_user_token(&self, user_token: &str) -> Result<String, SendError> {
        let body = self
            .call(self.http.get(self.url("oauth/access_token")).query(&[
                ("grant_type", "fb_exchange_token"),
                ("client_id", self.config.app_id.as_str()),
                ("client_secret", self.config.app_secret.as_str()),
                ("fb_exchange_token", user_token),
            ]))
            .await?;
        body.get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta returned no long-lived token".into()))
    }

    pub async fn managed_pages(&self, user_token: &str) -> Result<Vec<ManagedPage>, SendError> {
        let mut pages = Vec::new();
        let fields = format!("id,name,access_token,category,tasks,{INSTAGRAM_ACCOUNT_FIELDS}");
        let mut request = self.http.get(self.url("me/accounts")).query(&[
            ("fields", fields.as_str()),
            ("limit", "100"),
            ("access_token", user_token),
        ]);
        for _ in 0..20 {
            let body = self.call(request).await?;
            let data = body.get("data").cloned().unwrap_or(Value::Array(vec![]));
            pages.extend(serde_json::from_value::<Vec<ManagedPage>>(data).unwrap_or_default());
            match body.pointer("/paging/next").and_then(Value::as_str) {
                Some(next) => request = self.http.get(next),
                None => break,
            }
        }
        Ok(pages)
    }

    pub async fn subscribe_page(&self, page_id: &str, page_token: &str) -> Result<(), SendError> {
        self.call(
            self.http
                .post(self.url(&format!("{page_id}/subscribed_apps")))
                .query(&[("subscribed_fields", SUBSCRIBED_FIELDS), ("access_token", page_token)]),
        )
        .await
        .map(|_| ())
    }

    pub async fn unsubscribe_page(&self, page_id: &str, page_token: &str) -> Result<(), SendError> {
        self.call(
            self.http
                .delete(self.url(&format!("{page_id}/subscribed_apps")))
                .query(&[("access_token", page_token)]),
        )
        .await
        .map(|_| ())
    }

    /// Reads the page itself: proves the token works, and gives the page's name.
    pub async fn page(&self, page_id: &str, page_token: &str) -> Result<(String, String), SendError> {
        let body = self
            .call(
                self.http
                    .get(self.url(page_id))
                    .query(&[("fields", "id,name"), ("access_token", page_token)]),
            )
            .await?;
        let id = body.get("id").and_then(Value::as_str).unwrap_or(page_id).to_string();
        let name = body.get("name").and_then(Value::as_str).unwrap_or(page_id).to_string();
        Ok((id, name))
    }

    /// Reads one Graph node with the given fields.
    pub(crate) async fn node(&self, id: &str, fields: &str, token: &str) -> Result<Value, SendError> {
        self.call(
            self.http
                .get(self.url(id))
                .query(&[("fields", fields), ("access_token", token)]),
        )
        .await
    }

    /// The Instagram professional account linked to a page, if any.
    pub async fn linked_instagram(
        &self,
        page_id: &str,
        page_token: &str,
    ) -> Result<Option<InstagramAccount>, SendError> {
        let body = self.node(page_id, INSTAGRAM_ACCOUNT_FIELDS, page_token).await?;
        Ok(body
            .get("instagram_business_account")
            .cloned()
            .and_then(|account| serde_json::from_value(account).ok()))
    }

    /// Reads an Instagram professional account through its page's token: proves both still work.
    pub async fn instagram_account(&self, ig_id: &str, page_token: &str) -> Result<InstagramAccount, SendError> {
        let body = self
            .node(ig_id, "id,username,name,profile_picture_url", page_token)
            .await?;
        serde_json::from_value(body).map_err(|e| {
            SendError::Rejected(format!(
                "Meta described the Instagram account in an unexpected way: {e}"
            ))
        })
    }

    /// The customer's name and picture as the page sees them (User Profile API).
    pub async fn customer_profile(&self, psid: &str, page_token: &str) -> Option<CustomerProfile> {
        let body = self
            .call(self.http.get(self.url(psid)).query(&[
                ("fields", "first_name,last_name,profile_pic"),
                ("access_token", page_token),
            ]))
            .await
            .ok()?;
        let first = body.get("first_name").and_then(Value::as_str).unwrap_or_default();
        let last = body.get("last_name").and_then(Value::as_str).unwrap_or_default();
        let name = format!("{first} {last}").trim().to_string();
        Some(CustomerProfile {
            name: (!name.is_empty()).then_some(name),
            avatar_url: body.get("profile_pic").and_then(Value::as_str).map(str::to_string),
        })
    }

    pub async fn send_text(&self, page_id: &str, page_token: &str, body: Value) -> Result<String, SendError> {
        let answer = self
            .call(
                self.http
                    .post(self.url(&format!("{page_id}/messages")))
                    .query(&[("access_token", page_token)])
                    .json(&body),
            )
            .await?;
        answer
            .get("message_id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta accepted the message but returned no message id".into()))
    }
}

pub struct MessengerAdapter {
    pub graph: GraphClient,
}

impl MessengerAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            graph: GraphClient::new(config),
        }
    }

    /// The Send API body for one queued reply. Messenger shows no caption, so a reply's
    /// text is queued as a message of its own after the file.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = send_api_body(job);
        match job.message.tag.as_deref() {
            Some(tag) => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!(tag);
            }
            None => body["messaging_type"] = json!("RESPONSE"),
        }
        body
    }
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

/// Meta's app-level webhook: every account of the app posts to one URL.
impl WebhookReceiver for MessengerAdapter {
    fn handshake(&self, request: &WebhookRequest) -> Handshake {
        meta_webhook::handshake(&self.graph.config.verify_token, request)
    }

    fn verify(&self, request: &WebhookRequest, _channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        meta_webhook::verify_hub_signature(&self.graph.config.app_secret, &request.headers, &request.body)
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        _channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(&request.body, &self.graph.config.app_id)
    }
}

#[async_trait]
impl ChannelAdapter for MessengerAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Messenger
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = PageCredentials::parse(credentials)?;
        self.graph
            .send_text(
                &job.channel.channel.external_id,
                &creds.page_access_token,
                Self::send_body(job),
            )
            .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = PageCredentials::parse(credentials)?;
        self.graph
            .page(&channel.channel.external_id, &creds.page_access_token)
            .await
            .map(|_| ())
    }

    async fn disconnect(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = PageCredentials::parse(credentials)?;
        self.graph
            .unsubscribe_page(&channel.channel.external_id, &creds.page_access_token)
            .await
    }

    async fn customer_profile(&self, credentials: &str, external_user_id: &str) -> Option<CustomerProfile> {
        let creds = PageCredentials::parse(credentials).ok()?;
        self.graph
            .customer_profile(external_user_id, &creds.page_access_token)
            .await
    }
}

// ---- Webhook payloads (Messenger Platform "page" object) ----

/// The envelope Messenger-platform webhooks share (`page` here, `instagram` for Instagram).
#[derive(Debug, Deserialize)]
struct WebhookBody<M> {
    object: String,
    #[serde(default = "Vec::new")]
    entry: Vec<WebhookEntry<M>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WebhookEntry<M> {
    /// The page (or Instagram account) the events are for.
    pub id: String,
    #[serde(default = "Vec::new")]
    pub messaging: Vec<M>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Party {
    pub id: String,
}

/// Parses a delivery's envelope and checks it is for `object`.
pub(crate) fn webhook_entries<M: serde::de::DeserializeOwned>(
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
                    let ours = message
                        .metadata
                        .as_deref()
                        .and_then(|m| m.strip_prefix(METADATA_PREFIX))
                        .and_then(|id| id.parse().ok());
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

    #[test]
    fn graph_errors_are_classified() {
        let expired = GraphError {
            message: "Session has expired".into(),
            code: 190,
            error_subcode: Some(463),
        };
        assert!(matches!(expired.into_send_error(), SendError::Auth(_)));
        let window = GraphError {
            message: "outside window".into(),
            code: 10,
            error_subcode: Some(2018278),
        };
        assert!(matches!(window.into_send_error(), SendError::OutsideWindow(_)));
    }

    #[test]
    fn instagram_graph_errors_are_classified() {
        // The error body as Meta returned it, quoted in ComposioHQ/composio#3604; the
        // subcode is the one Meta documents for Instagram's "outside of allowed window".
        let window: GraphError = serde_json::from_value(json!({
            "message": "This message is sent outside of allowed window.",
            "type": "IGApiException",
            "code": 10,
            "error_subcode": 2534022,
            "fbtrace_id": "A9C5BFZGYCvRghcFEHTjgpC"
        }))
        .expect("error body");
        assert!(matches!(window.into_send_error(), SendError::OutsideWindow(_)));
        // Messenger Platform error codes list 551 "This person isn't available right now";
        // 1545041 is the subcode it arrives with in practice.
        let unavailable: GraphError = serde_json::from_value(json!({
            "message": "(#551) This person isn't available right now.",
            "type": "OAuthException",
            "code": 551,
            "error_subcode": 1545041
        }))
        .expect("error body");
        assert!(matches!(unavailable.into_send_error(), SendError::Rejected(_)));
        // Other code-10 errors stay permission problems, as before.
        let permission = GraphError {
            message: "Application does not have permission for this action".into(),
            code: 10,
            error_subcode: None,
        };
        assert!(matches!(permission.into_send_error(), SendError::Rejected(m) if m.starts_with("permission missing")));
    }

    #[test]
    fn managed_pages_carry_their_instagram_account() {
        // Shape of `GET /me/accounts?fields=…,instagram_business_account{…}`: the linked
        // account is nested under the page, absent when none is linked.
        let pages: Vec<ManagedPage> = serde_json::from_value(json!([
            { "id": "134895793791914", "name": "Acme Shoes", "access_token": "EAAB", "category": "Shoes",
              "instagram_business_account": { "id": "17841405822304914", "username": "acmeshoes",
                "name": "Acme Shoes", "profile_picture_url": "https://scontent.xx.fbcdn.net/p.jpg" } },
            { "id": "101", "name": "No Instagram", "access_token": "EAAC" }
        ]))
        .expect("pages");
        assert_eq!(
            pages[0]
                .instagram_business_account
                .as_ref()
                .map(|a| (a.id.as_str(), a.username.as_deref())),
            Some(("17841405822304914", Some("acmeshoes")))
        );
        assert_eq!(pages[1].instagram_business_account, None);
    }
}
