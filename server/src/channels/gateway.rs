//! The server side of `ChannelGateway`: connecting what a Facebook login found (pages,
//! their Instagram accounts, WhatsApp numbers) or what an admin pasted, health checks,
//! disconnecting, and WhatsApp templates (`whatsapp_templates.rs`), on behalf of the web
//! app's server functions and the REST API.

use super::instagram::InstagramCredentials;
use super::messenger::{ManagedPage, PageCredentials};
use super::whatsapp::{ManagedNumber, WhatsAppCredentials};
use super::{SendError, StoredCredentials};
use crate::channels::poller::Pollers;
use crate::channels::registry::Registry;
use crate::crypto::SecretBox;
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::events::bus::EventBus;
use app::model::{Channel, ChannelKind, ChannelStatus, Id, PageCandidate, User};
use app::services::ChannelGateway;
use app::store::{ChannelRecord, DynStore, NewChannel};
use app::templates::{SyncReport, TemplateDraft, WhatsAppTemplate};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LOGIN_TTL: Duration = Duration::from_secs(30 * 60);

/// A Facebook login in progress: the OAuth `state` we sent, then the pages it found.
struct Pending<T> {
    organization_id: Id,
    user_id: Id,
    created: Instant,
    value: T,
}

/// What a finished Facebook login found, waiting to be picked.
#[derive(Debug, Clone, Default)]
pub struct LoginFindings {
    /// Pages, each with its page token and linked Instagram account (if any).
    pub pages: Vec<ManagedPage>,
    /// WhatsApp phone numbers of the businesses the user manages.
    pub numbers: Vec<ManagedNumber>,
    /// The user's token: WhatsApp numbers picked from this login are reached with it.
    pub user_token: String,
}

/// Short-lived Facebook-login state, kept in memory for 30 minutes.
#[derive(Default)]
pub struct PendingLogins {
    states: Mutex<HashMap<String, Pending<()>>>,
    picks: Mutex<HashMap<String, Pending<LoginFindings>>>,
}

impl PendingLogins {
    pub fn remember_state(&self, state: &str, user: &User) {
        if let Ok(mut states) = self.states.lock() {
            states.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
            states.insert(
                state.to_string(),
                Pending {
                    organization_id: user.organization_id,
                    user_id: user.id,
                    created: Instant::now(),
                    value: (),
                },
            );
        }
    }

    /// Takes the OAuth state back (once); returns who started the login.
    pub fn take_state(&self, state: &str) -> Option<(Id, Id)> {
        let mut states = self.states.lock().ok()?;
        let pending = states.remove(state)?;
        (pending.created.elapsed() < LOGIN_TTL).then_some((pending.organization_id, pending.user_id))
    }

    pub fn remember_findings(&self, organization_id: Id, user_id: Id, findings: LoginFindings) -> String {
        let pick_id = app::auth::ssr::new_token().0;
        if let Ok(mut picks) = self.picks.lock() {
            picks.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
            picks.insert(
                pick_id.clone(),
                Pending {
                    organization_id,
                    user_id,
                    created: Instant::now(),
                    value: findings,
                },
            );
        }
        pick_id
    }

    fn findings(&self, pick_id: &str, user: &User) -> AppResult<LoginFindings> {
        let picks = self.picks.lock().map_err(|_| AppError::Internal)?;
        match picks.get(pick_id) {
            Some(p)
                if p.organization_id == user.organization_id
                    && p.user_id == user.id
                    && p.created.elapsed() < LOGIN_TTL =>
            {
                Ok(p.value.clone())
            }
            _ => Err(AppError::invalid(
                "this Facebook login has expired; please connect again",
            )),
        }
    }
}

pub struct PlatformGateway {
    pub store: DynStore,
    pub events: EventBus,
    pub secrets: SecretBox,
    pub adapters: Registry,
    pub pending: Arc<PendingLogins>,
    pub pollers: Arc<Pollers>,
}

pub fn upstream(error: SendError) -> AppError {
    match error {
        SendError::Auth(m) => AppError::Invalid(format!("Meta refused the access token: {m}")),
        SendError::Unavailable(m) => AppError::Upstream(m),
        SendError::OutsideWindow(m) | SendError::Rejected(m) => AppError::Upstream(m),
    }
}

impl PlatformGateway {
    async fn store_channel(&self, user: &User, new: NewChannel) -> AppResult<Channel> {
        let written = self.store.connect_channel(user.organization_id, new).await?;
        self.events.publish(&written.events);
        Ok(written.value)
    }

    /// Subscribes a page to our webhook, then stores it with its token encrypted.
    pub async fn connect_page(&self, user: &User, page_id: &str, name: &str, page_token: &str) -> AppResult<Channel> {
        require_manager(user)?;
        self.adapters
            .messenger
            .graph
            .subscribe_page(page_id, page_token)
            .await
            .map_err(upstream)?;
        let credentials = PageCredentials {
            page_access_token: page_token.to_string(),
        };
        self.store_channel(
            user,
            NewChannel {
                kind: ChannelKind::Messenger,
                external_id: page_id.to_string(),
                name: name.to_string(),
                credentials: self.secrets.seal(&credentials.to_json()),
                parent_account_id: None,
            },
        )
        .await
    }

    /// Instagram DMs reach us through the linked page's subscription.
    pub async fn connect_instagram_account(
        &self,
        user: &User,
        account: &super::messenger::InstagramAccount,
        page_id: &str,
        page_token: &str,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        self.adapters
            .messenger
            .graph
            .subscribe_page(page_id, page_token)
            .await
            .map_err(upstream)?;
        let name = match (&account.username, &account.name) {
            (Some(username), _) => format!("@{username}"),
            (None, Some(name)) => name.clone(),
            (None, None) => account.id.clone(),
        };
        let credentials = InstagramCredentials {
            page_id: page_id.to_string(),
            page_access_token: page_token.to_string(),
        };
        self.store_channel(
            user,
            NewChannel {
                kind: ChannelKind::Instagram,
                external_id: account.id.clone(),
                name,
                credentials: self.secrets.seal(&credentials.to_json()),
                parent_account_id: Some(page_id.to_string()),
            },
        )
        .await
    }

    /// Subscribes the number's WhatsApp Business Account to our webhook and stores the number.
    pub async fn connect_number(
        &self,
        user: &User,
        number: &super::whatsapp::PhoneNumberInfo,
        waba_id: &str,
        token: &str,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        let cloud = &self.adapters.whatsapp.cloud;
        cloud.subscribe_waba(waba_id, token).await.map_err(upstream)?;
        let name = if number.verified_name.is_empty() {
            number.display_phone_number.clone()
        } else {
            format!("{} ({})", number.verified_name, number.display_phone_number)
        };
        let credentials = WhatsAppCredentials {
            access_token: token.to_string(),
            waba_id: waba_id.to_string(),
        };
        self.store_channel(
            user,
            NewChannel {
                kind: ChannelKind::WhatsApp,
                external_id: number.id.clone(),
                name,
                credentials: self.secrets.seal(&credentials.to_json()),
                parent_account_id: Some(waba_id.to_string()),
            },
        )
        .await
    }

    /// Whether another live channel of the organization still needs the platform
    /// subscription this one would drop (a page serves Messenger and Instagram; a WABA
    /// serves all its numbers).
    async fn subscription_shared(&self, record: &ChannelRecord) -> AppResult<bool> {
        let others = self.store.channels(record.organization_id).await?;
        let me = &record.channel;
        Ok(others
            .iter()
            .filter(|c| c.id != me.id && c.status != ChannelStatus::Disconnected)
            .any(|c| match me.kind {
                ChannelKind::Messenger => {
                    c.kind == ChannelKind::Instagram && c.parent_account_id.as_deref() == Some(me.external_id.as_str())
                }
                ChannelKind::Instagram => {
                    c.kind == ChannelKind::Messenger && Some(c.external_id.as_str()) == me.parent_account_id.as_deref()
                }
                ChannelKind::WhatsApp => c.kind == ChannelKind::WhatsApp && c.parent_account_id == me.parent_account_id,
                ChannelKind::Demo => false,
            }))
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
        let findings = self.pending.findings(pick_id, user)?;
        let connected = self.store.channels(user.organization_id).await?;
        let is_connected = |kind: ChannelKind, id: &str| {
            connected
                .iter()
                .any(|c| c.kind == kind && c.external_id == id && c.status == ChannelStatus::Active)
        };
        let mut candidates = Vec::new();
        for page in &findings.pages {
            candidates.push(PageCandidate {
                kind: ChannelKind::Messenger,
                connected: is_connected(ChannelKind::Messenger, &page.id),
                id: page.id.clone(),
                name: page.name.clone(),
                category: page.category.clone(),
                detail: page.category.clone(),
            });
        }
        for page in &findings.pages {
            if let Some(account) = &page.instagram_business_account {
                candidates.push(PageCandidate {
                    kind: ChannelKind::Instagram,
                    connected: is_connected(ChannelKind::Instagram, &account.id),
                    id: account.id.clone(),
                    name: account
                        .username
                        .as_ref()
                        .map(|u| format!("@{u}"))
                        .or_else(|| account.name.clone())
                        .unwrap_or_else(|| account.id.clone()),
                    category: None,
                    detail: Some(format!("Linked to the page {}", page.name)),
                });
            }
        }
        for managed in &findings.numbers {
            candidates.push(PageCandidate {
                kind: ChannelKind::WhatsApp,
                connected: is_connected(ChannelKind::WhatsApp, &managed.number.id),
                id: managed.number.id.clone(),
                name: managed.number.verified_name.clone(),
                category: None,
                detail: Some(format!(
                    "{} · {}",
                    managed.number.display_phone_number, managed.waba_name
                )),
            });
        }
        Ok(candidates)
    }

    async fn connect_facebook_pages(&self, user: &User, pick_id: &str, keys: &[String]) -> AppResult<Vec<Channel>> {
        require_manager(user)?;
        if keys.is_empty() {
            return Err(AppError::invalid("pick at least one account"));
        }
        let findings = self.pending.findings(pick_id, user)?;
        let not_offered = |id: &str| AppError::invalid(format!("{id} was not offered by Facebook"));
        let mut channels = Vec::new();
        for key in keys {
            let (kind, id) = PageCandidate::parse_key(key);
            let channel = match kind {
                ChannelKind::Messenger => {
                    let page = findings
                        .pages
                        .iter()
                        .find(|p| p.id == id)
                        .ok_or_else(|| not_offered(id))?;
                    self.connect_page(user, &page.id, &page.name, &page.access_token)
                        .await?
                }
                ChannelKind::Instagram => {
                    let (page, account) = findings
                        .pages
                        .iter()
                        .find_map(|p| {
                            p.instagram_business_account
                                .as_ref()
                                .filter(|a| a.id == id)
                                .map(|a| (p, a))
                        })
                        .ok_or_else(|| not_offered(id))?;
                    self.connect_instagram_account(user, account, &page.id, &page.access_token)
                        .await?
                }
                ChannelKind::WhatsApp => {
                    let managed = findings
                        .numbers
                        .iter()
                        .find(|n| n.number.id == id)
                        .ok_or_else(|| not_offered(id))?;
                    self.connect_number(user, &managed.number, &managed.waba_id, &findings.user_token)
                        .await?
                }
                ChannelKind::Demo => return Err(not_offered(id)),
            };
            channels.push(channel);
        }
        Ok(channels)
    }

    async fn connect_whatsapp(
        &self,
        user: &User,
        phone_number_id: &str,
        access_token: &str,
        waba_id: &str,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        let (phone_number_id, access_token, waba_id) = (phone_number_id.trim(), access_token.trim(), waba_id.trim());
        if phone_number_id.is_empty() || access_token.is_empty() || waba_id.is_empty() {
            return Err(AppError::invalid("phoneNumberId, accessToken and wabaId are required"));
        }
        let cloud = &self.adapters.whatsapp.cloud;
        let number = cloud
            .phone_number(phone_number_id, access_token)
            .await
            .map_err(upstream)?;
        // Proves the token reaches this WABA too, before we subscribe it.
        cloud.waba_name(waba_id, access_token).await.map_err(upstream)?;
        self.connect_number(user, &number, waba_id, access_token).await
    }

    async fn connect_instagram(&self, user: &User, page_id: &str, access_token: &str) -> AppResult<Channel> {
        require_manager(user)?;
        let (page_id, access_token) = (page_id.trim(), access_token.trim());
        if page_id.is_empty() || access_token.is_empty() {
            return Err(AppError::invalid("pageId and accessToken are required"));
        }
        let account = self
            .adapters
            .messenger
            .graph
            .linked_instagram(page_id, access_token)
            .await
            .map_err(upstream)?
            .ok_or_else(|| AppError::invalid("this page has no Instagram professional account linked to it"))?;
        self.connect_instagram_account(user, &account, page_id, access_token)
            .await
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
        let check = check.and_then(|()| match self.pollers.health(channel_id) {
            Some(health) => health
                .last_error
                .map_or(Ok(()), |error| Err(SendError::Unavailable(error))),
            None => Ok(()),
        });
        match check {
            Ok(()) if record.channel.status != ChannelStatus::Active => {
                self.set_status(channel_id, ChannelStatus::Active, None).await
            }
            Ok(()) => Ok(record.channel),
            Err(SendError::Auth(reason)) => {
                self.set_status(channel_id, ChannelStatus::NeedsReconnect, Some(&reason))
                    .await
            }
            Err(other) => Err(upstream(other)),
        }
    }
}
