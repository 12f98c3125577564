//! The channel registry: which adapter serves each platform. The webhook routes, the outbox,
//! the gateway, the pollers and the media route all find a kind's adapter here, and read
//! what the kind can do from the adapter (`webhook()`, `poller()`) and from the kind's facts
//! (`app::model::ChannelKind`). Adding a platform is its folder under `channels/`, one field
//! and one arm here, and its fake in `testkit/`.

use super::ChannelAdapter;
use super::demo::DemoAdapter;
use super::instagram::InstagramAdapter;
use super::messenger::MessengerAdapter;
use super::sms::SmsAdapter;
use super::telegram::TelegramAdapter;
use super::whatsapp::WhatsAppAdapter;
use crate::config::{MetaConfig, PlatformApis};
use app::model::ChannelKind;
use std::sync::Arc;

/// One adapter per kind. The Meta adapters are also reached by type, for what only Meta has
/// (Facebook login, WhatsApp templates).
#[derive(Clone)]
pub struct Registry {
    pub messenger: Arc<MessengerAdapter>,
    pub instagram: Arc<InstagramAdapter>,
    pub whatsapp: Arc<WhatsAppAdapter>,
    pub telegram: Arc<TelegramAdapter>,
    pub sms: Arc<SmsAdapter>,
    pub demo: Arc<DemoAdapter>,
}

impl Registry {
    /// `public_url` is where platforms reach us back (Twilio's per-message status callbacks).
    pub fn new(meta: &MetaConfig, apis: &PlatformApis, public_url: &str) -> Self {
        Self {
            messenger: Arc::new(MessengerAdapter::new(meta.clone())),
            instagram: Arc::new(InstagramAdapter::new(meta.clone())),
            whatsapp: Arc::new(WhatsAppAdapter::new(meta.clone())),
            telegram: Arc::new(TelegramAdapter::new(&apis.telegram_url)),
            sms: Arc::new(SmsAdapter::new(
                &apis.twilio_url,
                &apis.twilio_messaging_url,
                public_url,
            )),
            demo: Arc::new(DemoAdapter),
        }
    }

    pub fn get(&self, kind: ChannelKind) -> Arc<dyn ChannelAdapter> {
        match kind {
            ChannelKind::Messenger => self.messenger.clone(),
            ChannelKind::Instagram => self.instagram.clone(),
            ChannelKind::WhatsApp => self.whatsapp.clone(),
            ChannelKind::Telegram => self.telegram.clone(),
            ChannelKind::Sms => self.sms.clone(),
            ChannelKind::Demo => self.demo.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> MetaConfig {
        MetaConfig {
            app_id: String::new(),
            app_secret: String::new(),
            verify_token: String::new(),
            graph_url: "http://127.0.0.1:9/v21.0".into(),
            dialog_url: "http://127.0.0.1:9/dialog".into(),
        }
    }

    fn apis() -> PlatformApis {
        PlatformApis {
            telegram_url: "http://127.0.0.1:9".into(),
            twilio_url: "http://127.0.0.1:9".into(),
            twilio_messaging_url: "http://127.0.0.1:9".into(),
        }
    }

    #[test]
    fn every_kind_is_served_by_its_own_adapter() {
        let registry = Registry::new(&meta(), &apis(), "http://127.0.0.1:3000");
        for kind in ChannelKind::ALL {
            assert_eq!(registry.get(*kind).kind(), *kind);
        }
    }

    #[test]
    fn what_a_kind_declares_is_what_its_adapter_does() {
        let registry = Registry::new(&meta(), &apis(), "http://127.0.0.1:3000");
        for kind in ChannelKind::ALL {
            let adapter = registry.get(*kind);
            let platform = kind.platform();
            assert_eq!(
                platform.receives_webhooks,
                adapter.webhook().is_some(),
                "{kind}: webhook routes follow the facts the settings page shows"
            );
            assert_eq!(platform.has_poller, adapter.poller().is_some(), "{kind}: poller");
        }
    }
}
