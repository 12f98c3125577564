//! WhatsApp Business Platform (Cloud API): the adapter that sends replies (text, media
//! uploaded to the number's media store, templates), checks the number, drops the WABA's
//! subscription and fetches media customers sent. The Cloud API calls are in `cloud.rs` and
//! `media.rs`, webhook normalization in `normalize.rs`, templates in `templates.rs`; every
//! call goes through `meta::graph`, with the token in the `Authorization` header only.

pub mod cloud;
mod media;
mod normalize;
pub mod templates;

pub use cloud::{CloudApi, ManagedNumber, PhoneNumberInfo};
pub use media::MAX_MEDIA_BYTES;
pub use normalize::normalize;
pub use templates::MetaTemplate;

use super::{ChannelAdapter, MediaFile, NormalizedEvent, Rejection, SendError, StoredCredentials};
use crate::channels::meta::webhook::MetaWebhook;
use crate::channels::webhook::WebhookReceiver;
use crate::config::MetaConfig;
use app::model::{AttachmentKind, ChannelKind};
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a job's attachment URL names media uploaded to the Cloud API (by `place_media`).
const UPLOADED_MEDIA: &str = "whatsapp-media:";

/// What is stored (encrypted) for a connected phone number.
#[derive(Clone, Serialize, Deserialize)]
pub struct WhatsAppCredentials {
    pub access_token: String,
    pub waba_id: String,
}

impl std::fmt::Debug for WhatsAppCredentials {
    // The token must not reach logs through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppCredentials")
            .field("access_token", &"<redacted>")
            .field("waba_id", &self.waba_id)
            .finish()
    }
}

impl StoredCredentials for WhatsAppCredentials {
    const ACCOUNT: &'static str = "WhatsApp number";
}

pub struct WhatsAppAdapter {
    pub cloud: CloudApi,
}

impl WhatsAppAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            cloud: CloudApi::new(config),
        }
    }

    /// The Cloud API body for one queued reply: a template when the payload names one, else
    /// the first linkable attachment, else text.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": job.recipient_external_id,
        });
        let template = job
            .payload
            .as_ref()
            .and_then(|p| p.get("template"))
            .filter(|t| t.is_object());
        let media = job.message.attachments.iter().find_map(|a| {
            let reference = match a.url.strip_prefix(UPLOADED_MEDIA) {
                Some(id) => json!({ "id": id }),
                None if a.url.starts_with("https://") || a.url.starts_with("http://") => json!({ "link": a.url }),
                None => return None,
            };
            media_type(a.kind).map(|kind| (kind, a, reference))
        });
        if let Some(template) = template {
            body["type"] = json!("template");
            body["template"] = template.clone();
        } else if let Some((kind, attachment, mut object)) = media {
            // Audio and stickers take no caption on WhatsApp.
            if matches!(kind, "image" | "video" | "document") && !job.message.body.trim().is_empty() {
                object["caption"] = json!(job.message.body);
            }
            if kind == "document"
                && let Some(name) = &attachment.name
            {
                object["filename"] = json!(name);
            }
            body["type"] = json!(kind);
            body[kind] = object;
        } else {
            let text = &job.message.body;
            body["type"] = json!("text");
            body["text"] = json!({
                "preview_url": text.contains("http://") || text.contains("https://"),
                "body": text,
            });
        }
        if let Some(reply) = job
            .message
            .reply_to
            .as_ref()
            .map(|r| r.platform_message_id.as_str())
            .filter(|id| !id.is_empty())
        {
            body["context"] = json!({ "message_id": reply });
        }
        body
    }
}

fn media_type(kind: AttachmentKind) -> Option<&'static str> {
    match kind {
        AttachmentKind::Image => Some("image"),
        AttachmentKind::Video => Some("video"),
        AttachmentKind::Audio => Some("audio"),
        AttachmentKind::Sticker => Some("sticker"),
        AttachmentKind::File | AttachmentKind::Other => Some("document"),
        // A location's link is a map page, not a file.
        AttachmentKind::Location => None,
    }
}

/// Meta's app-level webhook (`meta::webhook`): every account of the app posts to one URL.
impl MetaWebhook for WhatsAppAdapter {
    fn meta_config(&self) -> &MetaConfig {
        self.cloud.config()
    }

    fn normalize_body(&self, body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(body)
    }
}

/// Customer names arrive with every webhook (`contacts[].profile.name`), so the default
/// `customer_profile` (none) is kept.
#[async_trait]
impl ChannelAdapter for WhatsAppAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    /// The subscription belongs to the WhatsApp Business Account, shared by all its numbers.
    fn shares_subscription(&self, number: &app::model::Channel, other: &app::model::Channel) -> bool {
        other.kind == ChannelKind::WhatsApp && other.parent_account_id == number.parent_account_id
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    /// Uploads the file to the number's media store, so Meta never has to reach us for it.
    async fn place_media(
        &self,
        credentials: &str,
        job: &OutboundJob,
        file: &crate::channels::OutgoingFile,
    ) -> Result<String, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        let id = self
            .cloud
            .upload_media(&job.channel.channel.external_id, &creds.access_token, file)
            .await?;
        Ok(format!("{UPLOADED_MEDIA}{id}"))
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud
            .send(
                &job.channel.channel.external_id,
                &creds.access_token,
                &Self::send_body(job),
            )
            .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud
            .phone_number(&channel.channel.external_id, &creds.access_token)
            .await
            .map(|_| None)
    }

    async fn disconnect(&self, _channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud.unsubscribe_waba(&creds.waba_id, &creds.access_token).await
    }

    async fn fetch_media(&self, credentials: &str, media_id: &str) -> Result<MediaFile, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud.media(media_id, &creds.access_token).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Attachment, ReplyTo};

    const PHONE: &str = "106540352242922";
    const WABA: &str = "102290129340398";

    fn job(body: &str, payload: Option<Value>, reply_to: Option<&str>, attachments: Vec<Attachment>) -> OutboundJob {
        let mut job = crate::channels::test_job(ChannelKind::WhatsApp, PHONE, "16505551234", body);
        job.message.id = 7;
        job.message.attachments = attachments;
        job.message.reply_to = reply_to.map(|id| ReplyTo {
            message_id: Some(5),
            platform_message_id: id.into(),
            preview: None,
        });
        job.channel.channel.parent_account_id = Some(WABA.into());
        job.payload = payload;
        job
    }

    #[test]
    fn send_bodies() {
        // Request bodies as in Meta's "Text messages" / "Template messages" / "Image messages" pages.
        assert_eq!(
            WhatsAppAdapter::send_body(&job("Hello", None, None, vec![])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "text", "text": { "preview_url": false, "body": "Hello" } })
        );
        assert_eq!(
            WhatsAppAdapter::send_body(&job("See https://example.com", None, Some("wamid.Q"), vec![])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "text", "text": { "preview_url": true, "body": "See https://example.com" },
                    "context": { "message_id": "wamid.Q" } })
        );
        let template = json!({ "name": "order_update", "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "Maria" }] }] });
        assert_eq!(
            WhatsAppAdapter::send_body(&job(
                "Hi Maria",
                Some(json!({ "template": template.clone() })),
                None,
                vec![]
            )),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "template", "template": template })
        );
        let image = Attachment {
            kind: AttachmentKind::Image,
            url: "https://www.luckyshrub.com/assets/succulents/aloe.png".into(),
            name: None,
            mime_type: Some("image/png".into()),
            size: None,
            unavailable: None,
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("The best succulent ever?", None, None, vec![image])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "image", "image": { "link": "https://www.luckyshrub.com/assets/succulents/aloe.png",
                                                "caption": "The best succulent ever?" } })
        );
        let file = Attachment {
            kind: AttachmentKind::File,
            url: "https://example.com/invoice.pdf".into(),
            name: Some("invoice.pdf".into()),
            mime_type: None,
            size: None,
            unavailable: None,
        };
        let body = WhatsAppAdapter::send_body(&job("", None, None, vec![file]));
        assert_eq!(
            body["document"],
            json!({ "link": "https://example.com/invoice.pdf", "filename": "invoice.pdf" })
        );
        // An attachment Messio serves itself (no public link) cannot be linked: text goes out.
        let local = Attachment {
            kind: AttachmentKind::Image,
            url: "/api/media/whatsapp/1/2".into(),
            name: None,
            mime_type: None,
            size: None,
            unavailable: None,
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("hi", None, None, vec![local]))["type"],
            "text"
        );
        // A file placed in the number's media store goes by its id.
        let uploaded = Attachment {
            kind: AttachmentKind::Video,
            url: format!("{UPLOADED_MEDIA}1037543291543636"),
            name: Some("demo.mp4".into()),
            mime_type: Some("video/mp4".into()),
            size: None,
            unavailable: None,
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("Watch this", None, None, vec![uploaded]))["video"],
            json!({ "id": "1037543291543636", "caption": "Watch this" })
        );
    }

    #[test]
    fn credentials_round_trip_and_hide_the_token() {
        let creds = WhatsAppCredentials {
            access_token: "EAAG-secret".into(),
            waba_id: WABA.into(),
        };
        let parsed = WhatsAppCredentials::parse(&creds.to_json()).expect("parse");
        assert_eq!(
            (parsed.access_token.as_str(), parsed.waba_id.as_str()),
            ("EAAG-secret", WABA)
        );
        assert!(!format!("{creds:?}").contains("EAAG-secret"));
        assert!(matches!(WhatsAppCredentials::parse("{}"), Err(SendError::Auth(_))));
    }

    #[tokio::test]
    async fn adapter_checks_health_and_disconnects() {
        let (fake, cloud) = cloud::fake_cloud(fake_meta::FakeMetaConfig::default()).await;
        let adapter = WhatsAppAdapter { cloud };
        let creds = WhatsAppCredentials {
            access_token: "wa-token-401".into(),
            waba_id: "401".into(),
        }
        .to_json();
        let mut channel = job("", None, None, vec![]).channel;
        channel.channel.external_id = "501".into();
        adapter
            .cloud
            .subscribe_waba("401", "wa-token-401")
            .await
            .expect("subscribe");
        adapter.health(&channel, &creds).await.expect("health");
        adapter.disconnect(&channel, &creds).await.expect("disconnect");
        assert!(!fake.whatsapp_subscriptions().contains(&"401".to_string()));
        let stale = WhatsAppCredentials {
            access_token: "stale".into(),
            waba_id: "401".into(),
        }
        .to_json();
        assert!(matches!(
            adapter.health(&channel, &stale).await,
            Err(SendError::Auth(_))
        ));
        assert!(matches!(adapter.health(&channel, "{").await, Err(SendError::Auth(_))));
        crate::channels::meta::graph::assert_no_token_in_urls(&fake);
    }
}
