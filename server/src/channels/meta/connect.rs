//! Connecting Meta accounts: what a Facebook login found (pages, the Instagram accounts
//! linked to them, WhatsApp numbers; offered as candidates, connected when picked) or what an
//! admin pasted (a page token, a WhatsApp number with its token). Each is subscribed to our
//! webhook at Meta first, then stored with its credentials encrypted. The gateway's
//! `ChannelGateway` impl dispatches here.

use crate::channels::StoredCredentials;
use crate::channels::gateway::{PlatformGateway, upstream};
use crate::channels::instagram::{InstagramAccount, InstagramCredentials};
use crate::channels::messenger::PageCredentials;
use crate::channels::meta::pages;
use crate::channels::whatsapp::{PhoneNumberInfo, WhatsAppCredentials};
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{Channel, ChannelKind, ChannelStatus, PageCandidate, User};
use app::store::NewChannel;

impl PlatformGateway {
    /// Subscribes a page to our webhook, then stores it with its token encrypted.
    pub async fn connect_page(&self, user: &User, page_id: &str, name: &str, page_token: &str) -> AppResult<Channel> {
        require_manager(user)?;
        pages::subscribe(&self.adapters.messenger.graph, page_id, page_token)
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
        account: &InstagramAccount,
        page_id: &str,
        page_token: &str,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        pages::subscribe(&self.adapters.instagram.graph, page_id, page_token)
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
        number: &PhoneNumberInfo,
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

    pub(crate) async fn login_candidates(&self, user: &User, pick_id: &str) -> AppResult<Vec<PageCandidate>> {
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

    pub(crate) async fn connect_login_picks(
        &self,
        user: &User,
        pick_id: &str,
        keys: &[String],
    ) -> AppResult<Vec<Channel>> {
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
                ChannelKind::Telegram | ChannelKind::Sms | ChannelKind::Demo => return Err(not_offered(id)),
            };
            channels.push(channel);
        }
        Ok(channels)
    }

    pub(crate) async fn connect_whatsapp_by_token(
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

    pub(crate) async fn connect_instagram_by_page(
        &self,
        user: &User,
        page_id: &str,
        access_token: &str,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        let (page_id, access_token) = (page_id.trim(), access_token.trim());
        if page_id.is_empty() || access_token.is_empty() {
            return Err(AppError::invalid("pageId and accessToken are required"));
        }
        let account = self
            .adapters
            .instagram
            .linked_account(page_id, access_token)
            .await
            .map_err(upstream)?
            .ok_or_else(|| AppError::invalid("this page has no Instagram professional account linked to it"))?;
        self.connect_instagram_account(user, &account, page_id, access_token)
            .await
    }
}
