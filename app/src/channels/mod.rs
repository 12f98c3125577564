//! Server functions behind Settings → Channels: list, connect through Facebook login, a
//! WhatsApp number by hand or any kind's declared connect form, health, disconnect. Platform calls happen in the server's
//! adapters (`ChannelGateway`).

#[cfg(feature = "ssr")]
use crate::auth::context;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[server(prefix = "/rpc")]
pub async fn list_channels() -> Result<Vec<Channel>, AppError> {
    let user = context::user().await?;
    context::services()?.channels(&user).await
}

#[server(prefix = "/rpc")]
pub async fn facebook_login_available() -> Result<bool, AppError> {
    Ok(context::services()?.facebook_login)
}

#[server(prefix = "/rpc")]
pub async fn facebook_candidates(pick: String) -> Result<Vec<PageCandidate>, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.facebook_candidates(&user, &pick).await
}

#[server(prefix = "/rpc")]
pub async fn connect_facebook_pages(pick: String, page_ids: Vec<String>) -> Result<Vec<Channel>, AppError> {
    let user = context::user().await?;
    crate::auth::ssr::require_manager(&user)?;
    let services = context::services()?;
    let channels = services.gateway.connect_facebook_pages(&user, &pick, &page_ids).await?;
    Ok(channels)
}

/// Connects a WhatsApp number with credentials pasted from Meta's WhatsApp Manager (for
/// businesses that don't go through Facebook login, e.g. with a system-user token).
#[server(prefix = "/rpc")]
pub async fn connect_whatsapp_number(
    phone_number_id: String,
    access_token: String,
    waba_id: String,
) -> Result<Channel, AppError> {
    let user = context::user().await?;
    crate::auth::ssr::require_manager(&user)?;
    let (phone_number_id, waba_id, access_token) = (phone_number_id.trim(), waba_id.trim(), access_token.trim());
    if phone_number_id.is_empty() || waba_id.is_empty() || access_token.is_empty() {
        return Err(AppError::invalid(
            "Phone number ID, WhatsApp Business Account ID and access token are all required.",
        ));
    }
    context::services()?
        .gateway
        .connect_whatsapp(&user, phone_number_id, access_token, waba_id)
        .await
}

/// Connects an account of a kind that connects with a form (a Telegram bot's token…): the
/// fields are the ones the kind declares (`Platform::connect_form`), by name.
#[server(prefix = "/rpc")]
pub async fn connect_channel_form(
    kind: ChannelKind,
    fields: std::collections::BTreeMap<String, String>,
) -> Result<Channel, AppError> {
    let user = context::user().await?;
    let fields = fields
        .into_iter()
        .map(|(name, value)| (name, value.trim().to_string()))
        .collect();
    context::services()?
        .gateway
        .connect_with_form(&user, kind, &fields)
        .await
}

#[server(prefix = "/rpc")]
pub async fn disconnect_channel(id: Id) -> Result<Channel, AppError> {
    let user = context::user().await?;
    crate::auth::ssr::require_manager(&user)?;
    context::services()?.gateway.disconnect(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn check_channel_health(id: Id) -> Result<Channel, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.health(&user, id).await
}
