//! The server side of `ChannelGateway`: connecting picked Facebook pages, health checks
//! and disconnecting, on behalf of the web app's server functions and the REST API.

use super::SendError;
use super::messenger::{ManagedPage, MessengerAdapter, PageCredentials};
use crate::crypto::SecretBox;
use crate::state::Adapters;
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{Channel, ChannelKind, ChannelStatus, Id, PageCandidate, User};
use app::services::{ChannelGateway, EventSink};
use app::store::{DynStore, NewChannel};
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

/// Short-lived Facebook-login state, kept in memory for 30 minutes.
#[derive(Default)]
pub struct PendingLogins {
    states: Mutex<HashMap<String, Pending<()>>>,
    picks: Mutex<HashMap<String, Pending<Vec<ManagedPage>>>>,
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

    pub fn remember_pages(&self, organization_id: Id, user_id: Id, pages: Vec<ManagedPage>) -> String {
        let pick_id = app::auth::ssr::new_token().0;
        if let Ok(mut picks) = self.picks.lock() {
            picks.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
            picks.insert(
                pick_id.clone(),
                Pending {
                    organization_id,
                    user_id,
                    created: Instant::now(),
                    value: pages,
                },
            );
        }
        pick_id
    }

    fn pages(&self, pick_id: &str, user: &User) -> AppResult<Vec<ManagedPage>> {
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
    pub events: Arc<dyn EventSink>,
    pub secrets: SecretBox,
    pub adapters: Adapters,
    pub pending: Arc<PendingLogins>,
}

pub fn upstream(error: SendError) -> AppError {
    match error {
        SendError::Auth(m) => AppError::Invalid(format!("Meta refused the access token: {m}")),
        SendError::Unavailable(m) => AppError::Upstream(m),
        SendError::OutsideWindow(m) | SendError::Rejected(m) => AppError::Upstream(m),
    }
}

impl PlatformGateway {
    fn messenger(&self) -> &MessengerAdapter {
        &self.adapters.messenger
    }

    /// Subscribes a page to our webhook, then stores it with its token encrypted.
    pub async fn connect_page(&self, user: &User, page_id: &str, name: &str, page_token: &str) -> AppResult<Channel> {
        require_manager(user)?;
        self.messenger()
            .graph
            .subscribe_page(page_id, page_token)
            .await
            .map_err(upstream)?;
        let credentials = self.secrets.seal(
            &PageCredentials {
                page_access_token: page_token.to_string(),
            }
            .to_json(),
        );
        let written = self
            .store
            .connect_channel(
                user.organization_id,
                NewChannel {
                    kind: ChannelKind::Messenger,
                    external_id: page_id.to_string(),
                    name: name.to_string(),
                    credentials,
                },
            )
            .await?;
        self.events.publish(&written.events);
        Ok(written.value)
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
        let pages = self.pending.pages(pick_id, user)?;
        let connected = self.store.channels(user.organization_id).await?;
        Ok(pages
            .into_iter()
            .map(|p| PageCandidate {
                connected: connected.iter().any(|c| {
                    c.kind == ChannelKind::Messenger && c.external_id == p.id && c.status == ChannelStatus::Active
                }),
                id: p.id,
                name: p.name,
                category: p.category,
            })
            .collect())
    }

    async fn connect_facebook_pages(&self, user: &User, pick_id: &str, page_ids: &[String]) -> AppResult<Vec<Channel>> {
        require_manager(user)?;
        if page_ids.is_empty() {
            return Err(AppError::invalid("pick at least one page"));
        }
        let pages = self.pending.pages(pick_id, user)?;
        let mut channels = Vec::new();
        for id in page_ids {
            let page = pages
                .iter()
                .find(|p| &p.id == id)
                .ok_or_else(|| AppError::invalid(format!("page {id} was not offered by Facebook")))?;
            channels.push(
                self.connect_page(user, &page.id, &page.name, &page.access_token)
                    .await?,
            );
        }
        Ok(channels)
    }

    async fn disconnect(&self, user: &User, channel_id: Id) -> AppResult<Channel> {
        require_manager(user)?;
        let record = self.store.channel(user.organization_id, channel_id).await?;
        if let Ok(credentials) = self.secrets.open(&record.credentials)
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
