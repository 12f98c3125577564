//! The WhatsApp Cloud API and WhatsApp Business Management API calls, made through the one
//! Graph client (`meta::graph`, token in the `Authorization` header only): reading a phone
//! number and its WhatsApp Business Account (WABA), subscribing the WABA to our webhook,
//! finding the numbers a Facebook-login user may connect, sending messages and uploading the
//! files they carry. Media downloads are in `media.rs`, template calls in `templates.rs`.

use crate::channels::meta::errors::Wording;
use crate::channels::meta::graph::{Graph, str_of, success, text_at};
use crate::channels::{OutgoingFile, SendError};
use crate::config::MetaConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

const MAX_LIST_PAGES: usize = 20;
const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating";
/// A media upload may take longer than an API call (files up to 100 MB).
pub(super) const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// A business phone number as `GET /{phone-number-id}` and `/{waba-id}/phone_numbers` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberInfo {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: String,
    #[serde(default)]
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED`, `NA` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
}

/// A phone number the logged-in user may connect, with the WhatsApp Business Account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedNumber {
    pub waba_id: String,
    pub waba_name: String,
    pub number: PhoneNumberInfo,
}

/// WhatsApp's calls on the Graph API, worded as WhatsApp errors always were.
#[derive(Clone)]
pub struct CloudApi {
    pub(super) graph: Graph,
}

impl CloudApi {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            graph: Graph::new(config, Wording::WhatsApp),
        }
    }

    pub fn config(&self) -> &MetaConfig {
        self.graph.config()
    }

    /// Reads the phone number itself: proves the token works for it, and names it.
    pub async fn phone_number(&self, phone_number_id: &str, token: &str) -> Result<PhoneNumberInfo, SendError> {
        let body = self
            .graph
            .call(
                self.graph.get(phone_number_id).query(&[("fields", PHONE_FIELDS)]),
                token,
            )
            .await?;
        serde_json::from_value(body)
            .map_err(|_| SendError::Rejected("Meta's answer does not describe a phone number".into()))
    }

    pub async fn waba_name(&self, waba_id: &str, token: &str) -> Result<String, SendError> {
        let body = self
            .graph
            .call(self.graph.get(waba_id).query(&[("fields", "id,name")]), token)
            .await?;
        Ok(text_at(&body, "/name").unwrap_or(waba_id).to_string())
    }

    /// Makes Meta deliver the WABA's webhooks (messages, statuses, template reviews) to our app.
    pub async fn subscribe_waba(&self, waba_id: &str, token: &str) -> Result<(), SendError> {
        let body = self
            .graph
            .call(self.graph.post(&format!("{waba_id}/subscribed_apps")), token)
            .await?;
        success(&body, "subscribe the WhatsApp Business Account")
    }

    pub async fn unsubscribe_waba(&self, waba_id: &str, token: &str) -> Result<(), SendError> {
        let body = self
            .graph
            .call(self.graph.delete(&format!("{waba_id}/subscribed_apps")), token)
            .await?;
        success(&body, "unsubscribe the WhatsApp Business Account")
    }

    /// Every phone number of every WABA the user's businesses own (`/me/businesses` →
    /// `/{business}/owned_whatsapp_business_accounts` → `/{waba}/phone_numbers`).
    pub async fn managed_numbers(&self, user_token: &str) -> Result<Vec<ManagedNumber>, SendError> {
        let list = [("fields", "id,name"), ("limit", "100")];
        let businesses = self
            .graph
            .collect("me/businesses", &list, user_token, MAX_LIST_PAGES)
            .await?;
        let mut numbers: Vec<ManagedNumber> = Vec::new();
        let mut seen_wabas: Vec<String> = Vec::new();
        for business in &businesses {
            let Some(business_id) = business.get("id").and_then(str_of) else {
                continue;
            };
            let path = format!("{business_id}/owned_whatsapp_business_accounts");
            let wabas = match self.graph.collect(&path, &list, user_token, MAX_LIST_PAGES).await {
                Ok(wabas) => wabas,
                Err(error) => {
                    skip_or_fail(error, "business", &business_id)?;
                    continue;
                }
            };
            for waba in &wabas {
                let Some(waba_id) = waba.get("id").and_then(str_of) else {
                    continue;
                };
                if seen_wabas.contains(&waba_id) {
                    continue;
                }
                seen_wabas.push(waba_id.clone());
                let waba_name = text_at(waba, "/name").unwrap_or(&waba_id).to_string();
                let path = format!("{waba_id}/phone_numbers");
                let query = [("fields", PHONE_FIELDS), ("limit", "100")];
                let phones = match self.graph.collect(&path, &query, user_token, MAX_LIST_PAGES).await {
                    Ok(phones) => phones,
                    Err(error) => {
                        skip_or_fail(error, "WhatsApp Business Account", &waba_id)?;
                        continue;
                    }
                };
                numbers.extend(
                    phones
                        .into_iter()
                        .filter_map(|phone| serde_json::from_value::<PhoneNumberInfo>(phone).ok())
                        .map(|number| ManagedNumber {
                            waba_id: waba_id.clone(),
                            waba_name: waba_name.clone(),
                            number,
                        }),
                );
            }
        }
        Ok(numbers)
    }

    /// `POST /{phone-number-id}/messages`; returns the `wamid`.
    pub async fn send(&self, phone_number_id: &str, token: &str, body: &Value) -> Result<String, SendError> {
        let answer = self
            .graph
            .call(
                self.graph.post(&format!("{phone_number_id}/messages")).json(body),
                token,
            )
            .await?;
        text_at(&answer, "/messages/0/id")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta accepted the message but returned no message id".into()))
    }

    /// `POST /{phone-number-id}/media` (multipart `messaging_product`, `type`, `file`);
    /// returns the media id a message can refer to for 30 days.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        token: &str,
        file: &OutgoingFile,
    ) -> Result<String, SendError> {
        let bytes = tokio::fs::read(&file.path)
            .await
            .map_err(|_| SendError::Rejected(format!("the attached file {} could not be read", file.name)))?;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file.name.clone())
            .mime_str(&file.mime_type)
            .map_err(|_| SendError::Rejected(format!("{} is not a media type", file.mime_type)))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.mime_type.clone())
            .part("file", part);
        let answer = self
            .graph
            .call(
                self.graph
                    .post(&format!("{phone_number_id}/media"))
                    .timeout(UPLOAD_TIMEOUT)
                    .multipart(form),
                token,
            )
            .await?;
        text_at(&answer, "/id")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta accepted the file but returned no media id".into()))
    }
}

/// A failure listing one business or WABA only hides that one, unless the token itself is bad
/// or Meta is unreachable.
fn skip_or_fail(error: SendError, what: &str, id: &str) -> Result<(), SendError> {
    match error {
        SendError::Rejected(reason) | SendError::OutsideWindow(reason) => {
            tracing::warn!(%reason, %id, "skipping a {what} Meta would not list");
            Ok(())
        }
        other => Err(other),
    }
}

/// A small JPEG kept as an agent's upload would be (`name` keeps tests' files apart): its
/// bytes and the file as the outbox hands it over.
#[cfg(test)]
pub(super) fn jpeg_upload(name: &str) -> (Vec<u8>, OutgoingFile) {
    let path = std::env::temp_dir().join(format!("messio-{name}-{}.jpg", std::process::id()));
    let bytes = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00".to_vec();
    std::fs::write(&path, &bytes).expect("write");
    let file = OutgoingFile {
        kind: app::model::AttachmentKind::Image,
        name: "photo.jpg".into(),
        mime_type: "image/jpeg".into(),
        path,
        public_url: String::new(),
    };
    (bytes, file)
}

/// A fake Meta (`testkit/fake-meta`) and a client pointed at it, for the WhatsApp tests:
/// WABA `401` (system-user token `wa-token-401`) with numbers `501` and `502`.
#[cfg(test)]
pub(super) async fn fake_cloud(config: fake_meta::FakeMetaConfig) -> (fake_meta::FakeMeta, CloudApi) {
    let fake = fake_meta::FakeMeta::spawn(config).await.expect("fake Meta");
    let api = CloudApi::new(MetaConfig {
        app_id: fake.app_id(),
        app_secret: fake.app_secret(),
        verify_token: "verify".into(),
        graph_url: fake.graph_url(),
        dialog_url: fake.dialog_url(),
    });
    (fake, api)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::meta::errors::WHATSAPP_OUTSIDE_WINDOW;
    use crate::channels::meta::graph::assert_no_token_in_urls;
    use fake_meta::{FakeMetaConfig, WindowErrorMode};
    use serde_json::json;

    const TOKEN: &str = "wa-token-401";
    const PHONE: &str = "501";
    const CUSTOMER: &str = "15550001111";

    fn text(to: &str) -> Value {
        json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "text", "text": { "preview_url": false, "body": "hi" } })
    }

    #[tokio::test]
    async fn send_returns_the_wamid_or_a_classified_error() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        fake.open_whatsapp_window(CUSTOMER, None);
        let wamid = api.send(PHONE, TOKEN, &text(CUSTOMER)).await.expect("sent");
        let sent = fake.whatsapp_sent();
        assert_eq!(
            (sent.len(), sent[0].wamid.as_str(), &sent[0].body),
            (1, wamid.as_str(), &text(CUSTOMER))
        );

        fake.set_whatsapp_window_errors(WindowErrorMode::Sync);
        fake.close_whatsapp_window(CUSTOMER, None);
        assert_eq!(
            api.send(PHONE, TOKEN, &text(CUSTOMER)).await,
            Err(SendError::OutsideWindow(WHATSAPP_OUTSIDE_WINDOW.into()))
        );
        assert!(matches!(
            api.send(PHONE, TOKEN, &text("15559990000")).await,
            Err(SendError::Rejected(reason)) if reason.contains("not a WhatsApp user")
        ));
        assert!(matches!(
            api.send(PHONE, "stale", &text(CUSTOMER)).await,
            Err(SendError::Auth(_))
        ));
        fake.expire_whatsapp_token(Some(TOKEN));
        assert!(matches!(
            api.send(PHONE, TOKEN, &text(CUSTOMER)).await,
            Err(SendError::Auth(_))
        ));

        // Nothing listens on a port that was just released.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let mut config = api.config().clone();
        config.graph_url = format!("http://{addr}/v21.0");
        let offline = CloudApi::new(config);
        assert!(matches!(
            offline.send(PHONE, TOKEN, &text(CUSTOMER)).await,
            Err(SendError::Unavailable(reason)) if !reason.contains(&addr.to_string())
        ));
        assert_no_token_in_urls(&fake);
    }

    #[tokio::test]
    async fn managed_numbers_walk_businesses_wabas_and_numbers() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        let numbers = api.managed_numbers(&fake.issue_user_token()).await.expect("numbers");
        let ids: Vec<(&str, &str, &str)> = numbers
            .iter()
            .map(|n| (n.waba_id.as_str(), n.waba_name.as_str(), n.number.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![("401", "Acme WhatsApp", "501"), ("401", "Acme WhatsApp", "502")]
        );
        assert_eq!(
            (
                numbers[0].number.verified_name.as_str(),
                numbers[0].number.display_phone_number.as_str(),
                numbers[0].number.quality_rating.as_deref()
            ),
            ("Acme Shoes", "+1 555-010-0501", Some("GREEN"))
        );
        assert!(matches!(api.managed_numbers("stale").await, Err(SendError::Auth(_))));
        assert_no_token_in_urls(&fake);
    }

    #[test]
    fn one_business_or_waba_meta_will_not_list_is_skipped() {
        let cases = [
            (SendError::Rejected("(#200) Permissions error".into()), true),
            (SendError::OutsideWindow("odd".into()), true),
            (SendError::Auth("expired".into()), false),
            (SendError::Unavailable("down".into()), false),
        ];
        for (error, skipped) in cases {
            assert_eq!(
                skip_or_fail(error.clone(), "business", "302").is_ok(),
                skipped,
                "{error:?}"
            );
        }
    }

    #[tokio::test]
    async fn numbers_and_wabas_are_read_and_subscribed() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        let info = api.phone_number(PHONE, TOKEN).await.expect("phone");
        assert_eq!((info.id.as_str(), info.verified_name.as_str()), (PHONE, "Acme Shoes"));
        assert_eq!(api.waba_name("401", TOKEN).await.as_deref(), Ok("Acme WhatsApp"));
        assert_eq!(api.waba_name("unknown", TOKEN).await.ok(), None);
        api.subscribe_waba("401", TOKEN).await.expect("subscribe");
        assert_eq!(fake.whatsapp_subscriptions(), vec!["401".to_string()]);
        api.unsubscribe_waba("401", TOKEN).await.expect("unsubscribe");
        assert!(fake.whatsapp_subscriptions().is_empty());
        assert_no_token_in_urls(&fake);
    }

    #[tokio::test]
    async fn files_are_uploaded_to_the_numbers_media_store() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        let (bytes, file) = jpeg_upload("cloud-upload");
        let id = api.upload_media(PHONE, TOKEN, &file).await.expect("upload");
        assert_eq!(fake.whatsapp_media_bytes(&id), Some(bytes));
        assert!(matches!(
            api.upload_media(PHONE, "stale", &file).await,
            Err(SendError::Auth(_))
        ));
        std::fs::remove_file(&file.path).ok();
        assert!(matches!(
            api.upload_media(PHONE, TOKEN, &file).await,
            Err(SendError::Rejected(_))
        ));
        assert_no_token_in_urls(&fake);
    }
}
