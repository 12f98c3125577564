//! The server side of `ChannelGateway`, on behalf of the web app's server functions and the
//! REST API: what does not depend on the platform — health checks, disconnecting (keeping a
//! platform subscription another channel still needs), status changes — and the dispatch to
//! what does: connecting Meta accounts (`meta/connect.rs`) and WhatsApp templates
//! (`whatsapp/templates.rs`).

use super::SendError;
use super::meta::login::PendingLogins;
use crate::channels::poller::Pollers;
use crate::channels::registry::Registry;
use crate::crypto::SecretBox;
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::events::bus::EventBus;
use app::model::{Channel, ChannelKind, ChannelStatus, Id, Message, PageCandidate, User};
use app::services::{ChannelGateway, ConnectFields};
use app::store::{ChannelRecord, DynStore, NewChannel};
use app::templates::{SyncReport, TemplateDraft, WhatsAppTemplate};
use async_trait::async_trait;
use std::sync::Arc;

pub struct PlatformGateway {
    pub store: DynStore,
    pub events: EventBus,
    pub secrets: SecretBox,
    pub adapters: Registry,
    pub pending: Arc<PendingLogins>,
    pub pollers: Arc<Pollers>,
    /// Where platforms reach us: channels' own webhook routes are under it.
    pub public_url: String,
}

pub fn upstream(error: SendError) -> AppError {
    match error {
        SendError::Auth(m) => AppError::Invalid(format!("Meta refused the access token: {m}")),
        SendError::Unavailable(m) | SendError::RateLimited { reason: m, .. } => AppError::Upstream(m),
        SendError::OutsideWindow(m) | SendError::Rejected(m) | SendError::Unreachable(m) => AppError::Upstream(m),
    }
}

impl PlatformGateway {
    pub(crate) async fn store_channel(&self, user: &User, new: NewChannel) -> AppResult<Channel> {
        let written = self.store.connect_channel(user.organization_id, new).await?;
        self.events.publish(&written.events);
        Ok(written.value)
    }

    /// Whether another live channel of the organization still needs the platform
    /// subscription this one would drop (a page serves Messenger and Instagram; a WABA
    /// serves all its numbers).
    async fn subscription_shared(&self, record: &ChannelRecord) -> AppResult<bool> {
        let others = self.store.channels(record.organization_id).await?;
        let me = &record.channel;
        let adapter = self.adapters.get(me.kind);
        Ok(others
            .iter()
            .filter(|c| c.id != me.id && c.status != ChannelStatus::Disconnected)
            .any(|other| adapter.shares_subscription(me, other)))
    }

    async fn set_status(&self, channel_id: Id, status: ChannelStatus, error: Option<&str>) -> AppResult<Channel> {
        let written = self.store.set_channel_status(channel_id, status, error).await?;
        self.events.publish(&written.events);
        Ok(written.value)
    }
}

#[async_trait]
impl ChannelGateway for PlatformGateway {
    async fn facebook_candidates(&self, user: &User, pick_id: &str) -> AppResult<Vec<PageCandidate>> {
        self.login_candidates(user, pick_id).await
    }

    async fn connect_facebook_pages(&self, user: &User, pick_id: &str, keys: &[String]) -> AppResult<Vec<Channel>> {
        self.connect_login_picks(user, pick_id, keys).await
    }

    async fn connect_whatsapp(
        &self,
        user: &User,
        phone_number_id: &str,
        access_token: &str,
        waba_id: &str,
    ) -> AppResult<Channel> {
        self.connect_whatsapp_by_token(user, phone_number_id, access_token, waba_id)
            .await
    }

    async fn connect_instagram(&self, user: &User, page_id: &str, access_token: &str) -> AppResult<Channel> {
        self.connect_instagram_by_page(user, page_id, access_token).await
    }

    async fn revise_message(&self, user: &User, message_id: Id, revision: Option<String>) -> AppResult<Message> {
        self.revise_sent(user, message_id, revision).await
    }

    async fn connect_with_form(&self, user: &User, kind: ChannelKind, fields: &ConnectFields) -> AppResult<Channel> {
        self.connect_by_form(user, kind, fields).await
    }

    async fn submit_template(&self, user: &User, draft: TemplateDraft) -> AppResult<WhatsAppTemplate> {
        self.submit_whatsapp_template(user, draft).await
    }

    async fn refresh_template(&self, user: &User, template_id: Id) -> AppResult<WhatsAppTemplate> {
        self.refresh_whatsapp_template(user, template_id).await
    }

    async fn sync_templates(&self, user: &User, channel_id: Option<Id>) -> AppResult<SyncReport> {
        self.sync_whatsapp_templates(user, channel_id).await
    }

    async fn delete_template(&self, user: &User, template_id: Id) -> AppResult<()> {
        self.delete_whatsapp_template(user, template_id).await
    }

    async fn disconnect(&self, user: &User, channel_id: Id) -> AppResult<Channel> {
        require_manager(user)?;
        let record = self.store.channel(user.organization_id, channel_id).await?;
        if self.subscription_shared(&record).await? {
            tracing::info!(
                channel_id,
                "keeping the platform subscription: another channel still uses it"
            );
        } else if let Ok(credentials) = self.secrets.open(&record.credentials)
            && let Err(error) = self
                .adapters
                .get(record.channel.kind)
                .disconnect(&record, &credentials)
                .await
        {
            // The platform may already have revoked us; the channel is disconnected here regardless.
            tracing::warn!(%error, channel_id, "could not unsubscribe from the platform");
        }
        self.set_status(channel_id, ChannelStatus::Disconnected, None).await
    }

    async fn health(&self, user: &User, channel_id: Id) -> AppResult<Channel> {
        let record = self.store.channel(user.organization_id, channel_id).await?;
        if record.channel.status == ChannelStatus::Disconnected {
            return Ok(record.channel);
        }
        let check = match self.secrets.open(&record.credentials) {
            Ok(credentials) => {
                self.adapters
                    .get(record.channel.kind)
                    .health(&record, &credentials)
                    .await
            }
            Err(e) => Err(SendError::Auth(e.to_string())),
        };
        // A channel that polls is only as healthy as its last run.
        let check = check.and_then(|warning| match self.pollers.health(channel_id) {
            Some(health) => health
                .last_error
                .map_or(Ok(warning), |error| Err(SendError::Unavailable(error))),
            None => Ok(warning),
        });
        match check {
            // Working, perhaps with a problem the platform reports: shown on the card.
            Ok(warning) if record.channel.status != ChannelStatus::Active || record.channel.last_error != warning => {
                self.set_status(channel_id, ChannelStatus::Active, warning.as_deref())
                    .await
            }
            Ok(_) => Ok(record.channel),
            Err(SendError::Auth(reason)) => {
                self.set_status(channel_id, ChannelStatus::NeedsReconnect, Some(&reason))
                    .await
            }
            Err(other) => Err(upstream(other)),
        }
    }
}
