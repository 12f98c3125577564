//! WhatsApp templates at Meta: the Business Management API calls (submit for review, read
//! one or all, delete, upload a header's sample) and what the gateway does with them —
//! submitting drafts, asking how a review went (on demand and by a background poll, besides
//! the template-status webhook), importing templates created elsewhere, and deleting them.

use super::WhatsAppCredentials;
use super::cloud::{CloudApi, UPLOAD_TIMEOUT};
use super::normalize::reason_of;
use crate::channels::gateway::{PlatformGateway, upstream};
use crate::channels::meta::graph::{str_of, success, text_at, unreachable};
use crate::channels::{SendError, StoredCredentials};
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{ChannelKind, ChannelStatus, Id, User};
use app::store::{ChannelRecord, TemplateRecord};
use app::templates::{self, SyncReport, TemplateCategory, TemplateDraft, TemplateStatus, WhatsAppTemplate};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Templates are listed 100 at a time; 50 pages is far above Meta's per-WABA limit.
const MAX_TEMPLATE_PAGES: usize = 50;
const TEMPLATE_FIELDS: &str = "id,name,language,category,status,rejected_reason,components";

/// A message template as the Business Management API describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: Option<TemplateCategory>,
    pub status: TemplateStatus,
    /// `None` when Meta says `NONE`.
    pub rejected_reason: Option<String>,
    /// Meta's `components` array, as given.
    pub components: Value,
}

impl MetaTemplate {
    fn from_graph(value: &Value) -> Option<Self> {
        let id = value.get("id").and_then(str_of)?;
        let name = value.get("name").and_then(Value::as_str)?.to_string();
        let status = match value.get("status").and_then(Value::as_str) {
            Some(meta) => TemplateStatus::from_meta(meta).unwrap_or_else(|| {
                // Sendability is what matters downstream: an unknown state must not be offered to agents.
                tracing::warn!(template = %id, status = meta, "unknown WhatsApp template status; treating it as pending");
                TemplateStatus::Pending
            }),
            None => TemplateStatus::Pending,
        };
        Some(Self {
            id,
            name,
            language: value
                .get("language")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            category: value
                .get("category")
                .and_then(Value::as_str)
                .and_then(TemplateCategory::from_meta),
            status,
            rejected_reason: reason_of(value.get("rejected_reason")),
            components: value.get("components").cloned().unwrap_or_else(|| json!([])),
        })
    }
}

impl CloudApi {
    /// Meta's Resumable Upload API, in one piece: opens a session on the app
    /// (`POST /{app-id}/uploads`), sends the bytes (`POST /upload:…`, `file_offset: 0`) and
    /// returns the file handle a template header's example takes.
    pub async fn upload_header_sample(
        &self,
        token: &str,
        name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, SendError> {
        let length = bytes.len().to_string();
        let session = self
            .graph
            .call(
                self.graph
                    .post(&format!("{}/uploads", self.graph.config().app_id))
                    .query(&[
                        ("file_name", name),
                        ("file_length", length.as_str()),
                        ("file_type", mime_type),
                    ]),
                token,
            )
            .await?;
        let session_id = text_at(&session, "/id")
            .filter(|id| id.starts_with("upload:"))
            .ok_or_else(|| SendError::Rejected("Meta opened no upload session".into()))?;
        let response = self
            .graph
            .post(session_id)
            .header(reqwest::header::AUTHORIZATION, format!("OAuth {token}"))
            .header("file_offset", "0")
            .timeout(UPLOAD_TIMEOUT)
            .body(bytes)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(error) = answer.get("error") {
            return Err(self.graph.error(error, Some(status.as_u16())));
        }
        text_at(&answer, "/h")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected(format!("Meta answered {status} without a file handle")))
    }

    /// Submits a template for review. Meta answers with id, status and category only; the rest
    /// is what was submitted.
    pub async fn create_template(
        &self,
        waba_id: &str,
        token: &str,
        name: &str,
        language: &str,
        category: TemplateCategory,
        components: &Value,
    ) -> Result<MetaTemplate, SendError> {
        let request = json!({
            "name": name,
            "language": language,
            "category": category.meta(),
            "components": components,
        });
        let answer = self
            .graph
            .call(
                self.graph.post(&format!("{waba_id}/message_templates")).json(&request),
                token,
            )
            .await?;
        let id = answer
            .get("id")
            .and_then(str_of)
            .ok_or_else(|| SendError::Rejected("Meta accepted the template but returned no id".into()))?;
        Ok(MetaTemplate {
            id,
            name: name.to_string(),
            language: language.to_string(),
            category: text_at(&answer, "/category")
                .and_then(TemplateCategory::from_meta)
                .or(Some(category)),
            status: text_at(&answer, "/status")
                .and_then(TemplateStatus::from_meta)
                .unwrap_or(TemplateStatus::Pending),
            rejected_reason: None,
            components: components.clone(),
        })
    }

    pub async fn template(&self, template_id: &str, token: &str) -> Result<MetaTemplate, SendError> {
        let body = self
            .graph
            .call(self.graph.get(template_id).query(&[("fields", TEMPLATE_FIELDS)]), token)
            .await?;
        MetaTemplate::from_graph(&body)
            .ok_or_else(|| SendError::Rejected("Meta's answer does not describe a template".into()))
    }

    /// All templates of a WABA, every language and status.
    pub async fn templates(&self, waba_id: &str, token: &str) -> Result<Vec<MetaTemplate>, SendError> {
        let items = self
            .graph
            .collect(
                &format!("{waba_id}/message_templates"),
                &[("fields", TEMPLATE_FIELDS), ("limit", "100")],
                token,
                MAX_TEMPLATE_PAGES,
            )
            .await?;
        Ok(items.iter().filter_map(MetaTemplate::from_graph).collect())
    }

    /// Deletes a template by name: Meta deletes every language of it.
    pub async fn delete_template(&self, waba_id: &str, token: &str, name: &str) -> Result<(), SendError> {
        let body = self
            .graph
            .call(
                self.graph
                    .delete(&format!("{waba_id}/message_templates"))
                    .query(&[("name", name)]),
                token,
            )
            .await?;
        success(&body, "delete the template")
    }
}

impl PlatformGateway {
    /// A WhatsApp channel of the organization on this WABA, with its credentials; an active
    /// one when there is one.
    async fn waba_access(&self, org_id: Id, waba_id: &str) -> AppResult<(ChannelRecord, WhatsAppCredentials)> {
        let mut candidates: Vec<_> = self
            .store
            .channels(org_id)
            .await?
            .into_iter()
            .filter(|c| c.kind == ChannelKind::WhatsApp && c.parent_account_id.as_deref() == Some(waba_id))
            .filter(|c| c.status != ChannelStatus::Disconnected)
            .collect();
        candidates.sort_by_key(|c| c.status != ChannelStatus::Active);
        let channel = candidates.first().ok_or_else(|| {
            AppError::invalid("no connected WhatsApp number belongs to this WhatsApp Business Account")
        })?;
        let record = self.store.channel(org_id, channel.id).await?;
        let plain = self
            .secrets
            .open(&record.credentials)
            .map_err(|_| AppError::invalid("the channel's credentials are unreadable; reconnect it"))?;
        let credentials = WhatsAppCredentials::parse(&plain).map_err(upstream)?;
        Ok((record, credentials))
    }

    fn record_from_meta(waba_id: &str, meta: MetaTemplate, created_by: Option<Id>) -> TemplateRecord {
        TemplateRecord {
            waba_id: waba_id.to_string(),
            platform_template_id: Some(meta.id),
            name: meta.name,
            language: meta.language,
            category: meta.category.unwrap_or(TemplateCategory::Utility),
            status: meta.status,
            rejected_reason: meta.rejected_reason,
            content: templates::from_meta_components(&meta.components),
            created_by,
        }
    }

    /// Uploads a media header's sample to Meta for review; returns the handle to submit.
    pub async fn upload_header_sample(
        &self,
        user: &User,
        waba_id: &str,
        name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> AppResult<String> {
        require_manager(user)?;
        let (_, credentials) = self.waba_access(user.organization_id, waba_id).await?;
        self.adapters
            .whatsapp
            .cloud
            .upload_header_sample(&credentials.access_token, name, mime_type, bytes)
            .await
            .map_err(upstream)
    }

    pub async fn submit_whatsapp_template(&self, user: &User, draft: TemplateDraft) -> AppResult<WhatsAppTemplate> {
        require_manager(user)?;
        if let Err(problems) = templates::validate(&draft) {
            let text: Vec<String> = problems
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            return Err(AppError::invalid(text.join("; ")));
        }
        let channel = self.store.channel(user.organization_id, draft.channel_id).await?;
        let waba_id = match (channel.channel.kind, &channel.channel.parent_account_id) {
            (ChannelKind::WhatsApp, Some(waba_id)) => waba_id.clone(),
            _ => return Err(AppError::invalid("templates belong to a WhatsApp number; pick one")),
        };
        let (_, credentials) = self.waba_access(user.organization_id, &waba_id).await?;
        let components = templates::to_meta_components(&draft.content);
        let created = self
            .adapters
            .whatsapp
            .cloud
            .create_template(
                &waba_id,
                &credentials.access_token,
                &draft.name,
                &draft.language,
                draft.category,
                &components,
            )
            .await
            .map_err(upstream)?;
        let record = TemplateRecord {
            waba_id,
            platform_template_id: Some(created.id),
            name: draft.name,
            language: draft.language,
            category: created.category.unwrap_or(draft.category),
            status: created.status,
            rejected_reason: created.rejected_reason,
            content: draft.content,
            created_by: Some(user.id),
        };
        let written = self.store.upsert_template(user.organization_id, record).await?;
        self.events.publish(&written.events);
        Ok(written.value.0)
    }

    /// Asks Meta for one template's review state and records it.
    async fn refresh_from_meta(&self, org_id: Id, template: &WhatsAppTemplate) -> AppResult<()> {
        let Some(platform_id) = &template.platform_template_id else {
            return Ok(());
        };
        let (_, credentials) = self.waba_access(org_id, &template.waba_id).await?;
        let meta = self
            .adapters
            .whatsapp
            .cloud
            .template(platform_id, &credentials.access_token)
            .await
            .map_err(upstream)?;
        let written = self
            .store
            .set_template_status(
                &template.waba_id,
                platform_id,
                meta.status,
                meta.rejected_reason.as_deref(),
            )
            .await?;
        self.events.publish(&written.events);
        Ok(())
    }

    pub async fn refresh_whatsapp_template(&self, user: &User, template_id: Id) -> AppResult<WhatsAppTemplate> {
        let template = self.store.template(user.organization_id, template_id).await?;
        self.refresh_from_meta(user.organization_id, &template).await?;
        Ok(self.store.template(user.organization_id, template_id).await?)
    }

    pub async fn sync_whatsapp_templates(&self, user: &User, channel_id: Option<Id>) -> AppResult<SyncReport> {
        let wabas: BTreeSet<String> = match channel_id {
            Some(id) => {
                let record = self.store.channel(user.organization_id, id).await?;
                record.channel.parent_account_id.into_iter().collect()
            }
            None => self
                .store
                .channels(user.organization_id)
                .await?
                .into_iter()
                .filter(|c| c.kind == ChannelKind::WhatsApp && c.status != ChannelStatus::Disconnected)
                .filter_map(|c| c.parent_account_id)
                .collect(),
        };
        if wabas.is_empty() {
            return Err(AppError::invalid("connect a WhatsApp number first"));
        }
        let (mut imported, mut updated) = (0, 0);
        for waba_id in &wabas {
            let (_, credentials) = self.waba_access(user.organization_id, waba_id).await?;
            let found = self
                .adapters
                .whatsapp
                .cloud
                .templates(waba_id, &credentials.access_token)
                .await
                .map_err(upstream)?;
            for meta in found {
                let record = Self::record_from_meta(waba_id, meta, None);
                let written = self.store.upsert_template(user.organization_id, record).await?;
                self.events.publish(&written.events);
                if written.value.1 {
                    imported += 1;
                } else {
                    updated += 1;
                }
            }
        }
        let mut all = Vec::new();
        for waba_id in &wabas {
            all.extend(self.store.templates(user.organization_id, Some(waba_id), None).await?);
        }
        Ok(SyncReport {
            imported,
            updated,
            templates: all,
        })
    }

    pub async fn delete_whatsapp_template(&self, user: &User, template_id: Id) -> AppResult<()> {
        require_manager(user)?;
        let template = self.store.template(user.organization_id, template_id).await?;
        if template.platform_template_id.is_some() && template.status != TemplateStatus::Deleted {
            let (_, credentials) = self.waba_access(user.organization_id, &template.waba_id).await?;
            self.adapters
                .whatsapp
                .cloud
                .delete_template(&template.waba_id, &credentials.access_token, &template.name)
                .await
                .map_err(upstream)?;
        }
        let written = self.store.delete_template(user.organization_id, template_id).await?;
        self.events.publish(&written.events);
        Ok(())
    }
}

/// Polls Meta for templates still in review, in case a template-status webhook is lost.
pub fn spawn_review_poller(
    gateway: Arc<PlatformGateway>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.changed() => return,
            }
            let waiting = match gateway.store.templates_in_review(50).await {
                Ok(waiting) => waiting,
                Err(error) => {
                    tracing::warn!(%error, "could not list templates in review");
                    continue;
                }
            };
            for (org_id, template) in waiting {
                if let Err(error) = gateway.refresh_from_meta(org_id, &template).await {
                    tracing::info!(%error, template = template.id, "template review state not refreshed");
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::cloud::fake_cloud;
    use super::*;
    use crate::channels::meta::graph::assert_no_token_in_urls;
    use fake_meta::{FakeMetaConfig, FakeTemplate};

    const TOKEN: &str = "wa-token-401";
    const WABA: &str = "401";

    #[tokio::test]
    async fn templates_follow_paging_next() {
        // More templates than one page of 100 holds, so the list takes Meta's `next` link.
        let mut config = FakeMetaConfig::default();
        let waba = &mut config.businesses[0].whatsapp_accounts[0];
        for i in 0..120 {
            waba.templates.push(FakeTemplate {
                name: format!("bulk_{i:03}"),
                language: "en_US".into(),
                category: "UTILITY".into(),
                status: "APPROVED".into(),
                components: json!([{ "type": "BODY", "text": format!("Message {i}") }]),
                rejected_reason: None,
            });
        }
        let (fake, api) = fake_cloud(config).await;
        let templates = api.templates(WABA, TOKEN).await.expect("templates");
        assert_eq!(templates.len(), 123);
        let known = fake.whatsapp_templates();
        let order_update = known.iter().find(|t| t.name == "order_update").expect("order_update");
        assert_eq!(
            templates[0],
            MetaTemplate {
                id: order_update.id.clone(),
                name: "order_update".into(),
                language: "en_US".into(),
                category: Some(TemplateCategory::Utility),
                status: TemplateStatus::Approved,
                rejected_reason: None,
                components: order_update.components.clone(),
            }
        );
        let old_promo = templates.iter().find(|t| t.name == "old_promo").expect("old_promo");
        assert_eq!(old_promo.status, TemplateStatus::Rejected);
        assert!(old_promo.rejected_reason.is_some());
        assert_eq!(templates[122].name, "bulk_119");

        let one = api.template(&old_promo.id, TOKEN).await.expect("template");
        assert_eq!(&one, old_promo);
        assert!(matches!(api.templates(WABA, "stale").await, Err(SendError::Auth(_))));
        // Two pages: the second from Meta's `next`, which repeated the token; it was dropped.
        let lists: Vec<String> = fake
            .requests()
            .into_iter()
            .filter(|r| r.starts_with("GET /v21.0/401/message_templates"))
            .collect();
        assert_eq!(lists.len(), 3, "{lists:?}");
        assert!(lists[1].contains("after="), "{lists:?}");
        assert_no_token_in_urls(&fake);
    }

    #[tokio::test]
    async fn templates_are_created_and_deleted() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        let components = json!([{ "type": "BODY", "text": "Hi {{1}}", "example": { "body_text": [["Maria"]] } }]);
        let created = api
            .create_template(WABA, TOKEN, "hello", "en_US", TemplateCategory::Marketing, &components)
            .await
            .expect("create");
        let at_meta = fake
            .whatsapp_templates()
            .into_iter()
            .find(|t| t.name == "hello")
            .expect("created at Meta");
        assert_eq!(
            (
                created.id.as_str(),
                created.status,
                created.category,
                &created.components
            ),
            (
                at_meta.id.as_str(),
                TemplateStatus::Pending,
                Some(TemplateCategory::Marketing),
                &components
            )
        );
        // Meta refuses a template whose variables have no example, in its own words.
        let bare = json!([{ "type": "BODY", "text": "Hi {{1}}" }]);
        assert!(matches!(
            api.create_template(WABA, TOKEN, "bare", "en_US", TemplateCategory::Marketing, &bare)
                .await,
            Err(SendError::Rejected(_))
        ));
        api.delete_template(WABA, TOKEN, "hello").await.expect("delete");
        assert!(!fake.whatsapp_templates().iter().any(|t| t.name == "hello"));
        assert_no_token_in_urls(&fake);
    }

    #[tokio::test]
    async fn header_samples_go_through_the_resumable_upload_api() {
        let (fake, api) = fake_cloud(FakeMetaConfig::default()).await;
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        let handle = api
            .upload_header_sample(&fake.issue_user_token(), "header.png", "image/png", png.clone())
            .await
            .expect("handle");
        assert!(!handle.is_empty());
        assert!(matches!(
            api.upload_header_sample("stale", "header.png", "image/png", png).await,
            Err(SendError::Auth(_))
        ));
        assert_no_token_in_urls(&fake);
    }
}
