//! Instagram Direct through the Messenger API for Instagram: the professional account is
//! reached through the Facebook page it is linked to, with that page's token (what the two
//! share is in `meta/pages.rs`). Webhooks arrive as `object: "instagram"` with the Instagram
//! account id as `entry[].id` and are normalized in `normalize.rs`; attachments are links to
//! Meta's CDN, kept through our media route before they expire.

mod normalize;

pub use normalize::normalize;

use super::meta::errors::Wording;
use super::meta::graph::Graph;
use super::meta::pages;
use super::{
    ChannelAdapter, CustomerProfile, MediaFile, NormalizedEvent, Rejection, SendError, StoredCredentials, media_url,
};
use crate::channels::meta::webhook::MetaWebhook;
use crate::channels::webhook::WebhookReceiver;
use crate::config::MetaConfig;
use app::model::ChannelKind;
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What `/me/accounts` and `/{page-id}` are asked about a page's linked Instagram account.
pub const INSTAGRAM_ACCOUNT_FIELDS: &str = "instagram_business_account{id,username,name,profile_picture_url}";

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

pub struct InstagramAdapter {
    pub graph: Graph,
}

impl InstagramAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            graph: Graph::new(config, Wording::Pages),
        }
    }

    /// The Send API body for one queued reply. Instagram takes either text or one
    /// attachment per message, so a reply with a linkable file sends the file.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = pages::send_api_body(job);
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

    /// The Instagram professional account linked to a page, if any.
    pub async fn linked_account(&self, page_id: &str, page_token: &str) -> Result<Option<InstagramAccount>, SendError> {
        let body = self.graph.node(page_id, INSTAGRAM_ACCOUNT_FIELDS, page_token).await?;
        Ok(body
            .get("instagram_business_account")
            .cloned()
            .and_then(|account| serde_json::from_value(account).ok()))
    }

    /// Reads an Instagram professional account through its page's token: proves both still work.
    pub async fn account(&self, ig_id: &str, page_token: &str) -> Result<InstagramAccount, SendError> {
        let body = self
            .graph
            .node(ig_id, "id,username,name,profile_picture_url", page_token)
            .await?;
        serde_json::from_value(body).map_err(|e| {
            SendError::Rejected(format!(
                "Meta described the Instagram account in an unexpected way: {e}"
            ))
        })
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

/// Meta's app-level webhook (`meta::webhook`): every account of the app posts to one URL.
impl MetaWebhook for InstagramAdapter {
    fn meta_config(&self) -> &MetaConfig {
        self.graph.config()
    }

    fn normalize_body(&self, body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(body)
    }
}

#[async_trait]
impl ChannelAdapter for InstagramAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Instagram
    }

    /// An Instagram account is delivered through its linked page's subscription.
    fn shares_subscription(&self, account: &app::model::Channel, other: &app::model::Channel) -> bool {
        other.kind == ChannelKind::Messenger && Some(other.external_id.as_str()) == account.parent_account_id.as_deref()
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = InstagramCredentials::parse(credentials)?;
        pages::send(
            &self.graph,
            &creds.page_id,
            &creds.page_access_token,
            &Self::send_body(job),
        )
        .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError> {
        let creds = InstagramCredentials::parse(credentials)?;
        self.account(&channel.channel.external_id, &creds.page_access_token)
            .await
            .map(|_| None)
    }

    /// Downloads an attachment from Meta's CDN while its link still works.
    async fn fetch_media(&self, _credentials: &str, media_id: &str) -> Result<MediaFile, SendError> {
        let link = cdn_link(media_id, &self.graph.config().graph_url)
            .ok_or_else(|| SendError::Rejected("(100) not an Instagram media link".into()))?;
        let response = self.graph.http().get(&link).send().await.map_err(|e| {
            SendError::Unavailable(format!("Instagram's media could not be reached: {}", e.without_url()))
        })?;
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
            .map_err(|e| SendError::Unavailable(format!("Instagram's media could not be read: {}", e.without_url())))?;
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
        pages::unsubscribe(&self.graph, &creds.page_id, &creds.page_access_token).await
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

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Attachment, AttachmentKind, ReplyTo};

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

    fn job(body: &str, tag: Option<&str>, attachments: Vec<Attachment>, reply_to: Option<&str>) -> OutboundJob {
        let mut job = crate::channels::test_job(ChannelKind::Instagram, "17841400000000000", "IGSID", body);
        job.message.id = 77;
        job.message.tag = tag.map(str::to_string);
        job.message.attachments = attachments;
        job.message.reply_to = reply_to.map(|mid| ReplyTo {
            message_id: None,
            platform_message_id: mid.into(),
            preview: None,
        });
        job.channel.channel.parent_account_id = Some("134895793791914".into());
        job
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
            size: None,
            unavailable: None,
        };
        let local = Attachment {
            kind: AttachmentKind::File,
            url: "/api/media/x".into(),
            name: None,
            mime_type: None,
            size: None,
            unavailable: None,
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
