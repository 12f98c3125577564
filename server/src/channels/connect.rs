//! Connecting a channel with a form (a bot token, an account id and secret): one path for
//! every kind that connects that way, so a new platform brings only its adapter's
//! `connect_form` and `on_connected`. The adapter checks the values with the platform before
//! anything is stored; the channel is stored with its credentials sealed; then the adapter
//! points the platform at the channel's own webhook route. If that last step fails, the
//! channel is marked as needing a reconnect with the platform's reason, rather than left
//! looking healthy while nothing arrives.

use super::gateway::PlatformGateway;
use super::{ConnectFields, SendError};
use app::auth::ssr::require_manager;
use app::error::{AppError, AppResult};
use app::model::{Channel, ChannelKind, ChannelStatus, User};
use app::store::NewChannel;

impl PlatformGateway {
    pub(crate) async fn connect_by_form(
        &self,
        user: &User,
        kind: ChannelKind,
        fields: &ConnectFields,
    ) -> AppResult<Channel> {
        require_manager(user)?;
        let platform = kind.platform();
        let Some(form) = platform.connect_form() else {
            return Err(AppError::invalid(format!(
                "{} channels are not connected with a form",
                platform.short_name
            )));
        };
        if let Some(missing) = form
            .iter()
            .find(|field| fields.get(field.name).is_none_or(|v| v.trim().is_empty()))
        {
            return Err(AppError::invalid(format!("{} is required", missing.label)));
        }
        let adapter = self.adapters.get(kind);
        let account = adapter.connect_form(fields).await.map_err(refused)?;
        let written = self
            .store
            .connect_channel(
                user.organization_id,
                NewChannel {
                    kind,
                    external_id: account.external_id,
                    name: account.name,
                    credentials: self.secrets.seal(&account.credentials),
                    parent_account_id: account.parent_account_id,
                },
            )
            .await?;
        self.events.publish(&written.events);
        let record = self.store.channel(user.organization_id, written.value.id).await?;
        let url = crate::webhooks::channel_webhook_url(&self.public_url, &record);
        match adapter.on_connected(&record, &account.credentials, &url).await {
            Ok(()) => Ok(written.value),
            Err(error) => {
                tracing::warn!(%error, channel_id = record.channel.id, "the platform was not told where to deliver");
                let written = self
                    .store
                    .set_channel_status(
                        record.channel.id,
                        ChannelStatus::NeedsReconnect,
                        Some(&error.to_string()),
                    )
                    .await?;
                self.events.publish(&written.events);
                Ok(written.value)
            }
        }
    }
}

/// The platform's answer to the form, in the admin's terms: 422 for what they can fix.
fn refused(error: SendError) -> AppError {
    match error {
        SendError::Auth(m) | SendError::Rejected(m) | SendError::OutsideWindow(m) | SendError::Unreachable(m) => {
            AppError::Invalid(m)
        }
        SendError::Unavailable(m) | SendError::RateLimited { reason: m, .. } => AppError::Upstream(m),
    }
}
