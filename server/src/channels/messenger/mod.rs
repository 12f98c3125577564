//! Facebook Messenger (Pages) through Meta's Graph API: the adapter that sends replies with
//! the Send API, checks and drops the page's subscription, and reads customers' names.
//! Webhook deliveries are normalized in `normalize.rs`; what Instagram shares with
//! Messenger (page subscription, Send API body, webhook envelope) is in `meta/pages.rs`.

mod normalize;

pub use normalize::normalize;

use super::meta::errors::Wording;
use super::meta::graph::Graph;
use super::meta::pages;
use super::{ChannelAdapter, CustomerProfile, NormalizedEvent, Rejection, SendError, StoredCredentials};
use crate::channels::meta::webhook::MetaWebhook;
use crate::channels::webhook::WebhookReceiver;
use crate::config::MetaConfig;
use app::model::ChannelKind;
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What is stored (encrypted) for a connected page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageCredentials {
    pub page_access_token: String,
}

impl StoredCredentials for PageCredentials {
    const ACCOUNT: &'static str = "page";
}

pub struct MessengerAdapter {
    pub graph: Graph,
}

impl MessengerAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            graph: Graph::new(config, Wording::Pages),
        }
    }

    /// The Send API body for one queued reply. Messenger shows no caption, so a reply's
    /// text is queued as a message of its own after the file.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = pages::send_api_body(job);
        match job.message.tag.as_deref() {
            Some(tag) => {
                body["messaging_type"] = json!("MESSAGE_TAG");
                body["tag"] = json!(tag);
            }
            None => body["messaging_type"] = json!("RESPONSE"),
        }
        body
    }

    /// Reads the page itself: proves the token works, and gives the page's id and name.
    pub async fn page(&self, page_id: &str, page_token: &str) -> Result<(String, String), SendError> {
        let body = self.graph.node(page_id, "id,name", page_token).await?;
        let id = body.get("id").and_then(Value::as_str).unwrap_or(page_id).to_string();
        let name = body.get("name").and_then(Value::as_str).unwrap_or(page_id).to_string();
        Ok((id, name))
    }
}

/// Reads the User Profile API's answer: first and last name, and the picture.
fn profile_from(body: &Value) -> CustomerProfile {
    let first = body.get("first_name").and_then(Value::as_str).unwrap_or_default();
    let last = body.get("last_name").and_then(Value::as_str).unwrap_or_default();
    let name = format!("{first} {last}").trim().to_string();
    CustomerProfile {
        name: (!name.is_empty()).then_some(name),
        avatar_url: body.get("profile_pic").and_then(Value::as_str).map(str::to_string),
    }
}

/// Meta's app-level webhook (`meta::webhook`): every account of the app posts to one URL.
impl MetaWebhook for MessengerAdapter {
    fn meta_config(&self) -> &MetaConfig {
        self.graph.config()
    }

    fn normalize_body(&self, body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(body, &self.graph.config().app_id)
    }
}

#[async_trait]
impl ChannelAdapter for MessengerAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Messenger
    }

    /// The page's subscription also feeds the Instagram account linked to it.
    fn shares_subscription(&self, page: &app::model::Channel, other: &app::model::Channel) -> bool {
        other.kind == ChannelKind::Instagram && other.parent_account_id.as_deref() == Some(page.external_id.as_str())
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = PageCredentials::parse(credentials)?;
        pages::send(
            &self.graph,
            &job.channel.channel.external_id,
            &creds.page_access_token,
            &Self::send_body(job),
        )
        .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError> {
        let creds = PageCredentials::parse(credentials)?;
        self.page(&channel.channel.external_id, &creds.page_access_token)
            .await
            .map(|_| None)
    }

    async fn disconnect(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = PageCredentials::parse(credentials)?;
        pages::unsubscribe(&self.graph, &channel.channel.external_id, &creds.page_access_token).await
    }

    /// The customer's name and picture as the page sees them (User Profile API).
    async fn customer_profile(&self, credentials: &str, external_user_id: &str) -> Option<CustomerProfile> {
        let creds = PageCredentials::parse(credentials).ok()?;
        let body = self
            .graph
            .node(
                external_user_id,
                "first_name,last_name,profile_pic",
                &creds.page_access_token,
            )
            .await
            .ok()?;
        Some(profile_from(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fake_meta::{FakeMeta, FakeMetaConfig};

    const PAGE: &str = "101";
    const PAGE_TOKEN: &str = "page-token-101";
    const CUSTOMER: &str = "7001001";

    async fn fake_adapter() -> (FakeMeta, MessengerAdapter) {
        let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.expect("fake Meta");
        let adapter = MessengerAdapter::new(MetaConfig {
            app_id: fake.app_id(),
            app_secret: fake.app_secret(),
            verify_token: "verify".into(),
            graph_url: fake.graph_url(),
            dialog_url: fake.dialog_url(),
        });
        (fake, adapter)
    }

    fn job(body: &str, tag: Option<&str>) -> OutboundJob {
        let mut job = crate::channels::test_job(ChannelKind::Messenger, PAGE, CUSTOMER, body);
        job.message.tag = tag.map(str::to_string);
        job
    }

    #[test]
    fn send_bodies_carry_the_tag_and_our_metadata() {
        assert_eq!(
            MessengerAdapter::send_body(&job("Hello", None)),
            json!({ "recipient": { "id": CUSTOMER }, "messaging_type": "RESPONSE",
                    "message": { "text": "Hello", "metadata": "messio:42" } })
        );
        assert_eq!(
            MessengerAdapter::send_body(&job("Still there?", Some("HUMAN_AGENT"))),
            json!({ "recipient": { "id": CUSTOMER }, "messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT",
                    "message": { "text": "Still there?", "metadata": "messio:42" } })
        );
    }

    #[tokio::test]
    async fn the_page_token_works_from_the_authorization_header() {
        let (fake, adapter) = fake_adapter().await;
        fake.set_echo(false);
        let creds = PageCredentials {
            page_access_token: PAGE_TOKEN.into(),
        }
        .to_json();
        let job = job("Hello", None);
        assert_eq!(
            adapter.page(PAGE, PAGE_TOKEN).await,
            Ok((PAGE.to_string(), "Acme Shoes".to_string()))
        );
        let mid = adapter.send(&job, &creds).await.expect("sent");
        let sent = fake.sent();
        assert_eq!(
            (
                sent.len(),
                sent[0].message_id.as_str(),
                sent[0].text(),
                sent[0].metadata()
            ),
            (1, mid.as_str(), Some("Hello"), Some("messio:42"))
        );
        assert_eq!(
            adapter.customer_profile(&creds, CUSTOMER).await.and_then(|p| p.name),
            Some("Alice Johnson".to_string())
        );
        pages::subscribe(&adapter.graph, PAGE, PAGE_TOKEN)
            .await
            .expect("subscribe");
        assert_eq!(fake.subscriptions(), vec![PAGE.to_string()]);
        adapter.disconnect(&job.channel, &creds).await.expect("disconnect");
        assert!(fake.subscriptions().is_empty());

        fake.expire_page_token(PAGE);
        assert!(matches!(
            adapter.health(&job.channel, &creds).await,
            Err(SendError::Auth(_))
        ));
        assert!(matches!(adapter.send(&job, &creds).await, Err(SendError::Auth(_))));
        crate::channels::meta::graph::assert_no_token_in_urls(&fake);
    }
}
