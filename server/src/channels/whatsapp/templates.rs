//! WhatsApp templates at Meta: submitting drafts for review, asking how a review went
//! (on demand and by a background poll, besides the template-status webhook), importing
//! templates created elsewhere, and deleting them.

use super::{MetaTemplate, WhatsAppCredentials};
use crate::channels::StoredCredentials;
use crate::channels::gateway::{PlatformGateway, upstream};
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{ChannelKind, ChannelStatus, Id, User};
use app::store::{ChannelRecord, TemplateRecord};
use app::templates::{self, SyncReport, TemplateCategory, TemplateDraft, TemplateStatus, WhatsAppTemplate};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
