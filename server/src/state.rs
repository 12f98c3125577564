//! The one state every route shares.

use crate::channels::ChannelAdapter;
use crate::channels::demo::DemoAdapter;
use crate::channels::gateway::{PendingLogins, PlatformGateway};
use crate::channels::instagram::InstagramAdapter;
use crate::channels::messenger::MessengerAdapter;
use crate::channels::whatsapp::WhatsAppAdapter;
use crate::config::Config;
use crate::crypto::SecretBox;
use app::model::ChannelKind;
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
    pub adapters: Adapters,
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

/// Picks the adapter for a channel kind; shared by the outbox and the gateway.
#[derive(Clone)]
pub struct Adapters {
    pub messenger: Arc<MessengerAdapter>,
    pub instagram: Arc<InstagramAdapter>,
    pub whatsapp: Arc<WhatsAppAdapter>,
    pub demo: Arc<DemoAdapter>,
}

impl Adapters {
    pub fn get(&self, kind: ChannelKind) -> Arc<dyn ChannelAdapter> {
        match kind {
            ChannelKind::Messenger => self.messenger.clone(),
            ChannelKind::Instagram => self.instagram.clone(),
            ChannelKind::WhatsApp => self.whatsapp.clone(),
            ChannelKind::Demo => self.demo.clone(),
        }
    }
}
