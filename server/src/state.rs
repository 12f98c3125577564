//! The one state every route shares.

use crate::channels::gateway::PlatformGateway;
use crate::channels::meta::login::PendingLogins;
use crate::channels::poller::Pollers;
use crate::channels::registry::Registry;
use crate::config::Config;
use crate::crypto::SecretBox;
use app::services::SharedServices;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub config: Arc<Config>,
    pub services: SharedServices,
    pub secrets: SecretBox,
    pub adapters: Registry,
    pub pollers: Arc<Pollers>,
    pub gateway: Arc<PlatformGateway>,
    pub pending_logins: Arc<PendingLogins>,
    pub media: crate::media::MediaCache,
    pub uploads: crate::uploads::Uploads,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
