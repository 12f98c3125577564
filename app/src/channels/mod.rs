//! Server functions behind Settings → Channels: list, connect through Facebook login,
//! health, disconnect. Platform calls happen in the server's adapters (`ChannelGateway`).

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
