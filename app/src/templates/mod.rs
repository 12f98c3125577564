//! WhatsApp message templates: what admins author and submit to Meta on the Templates
//! settings page, and what agents send from the composer once Meta approved them.
//! The REST API offers the same operations (server crate, `api/templates.rs`).

mod content;

pub use content::*;

#[cfg(feature = "ssr")]
use crate::auth::context;
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

/// Which templates to list: one channel's WhatsApp Business Account, or all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateFilter {
    #[serde(default)]
    pub channel_id: Option<Id>,
    #[serde(default)]
    pub status: Option<TemplateStatus>,
}

#[server(prefix = "/rpc")]
pub async fn list_templates(#[server(default)] filter: TemplateFilter) -> Result<Vec<WhatsAppTemplate>, AppError> {
    let user = context::user().await?;
    context::services()?.templates(&user, &filter).await
}

#[server(prefix = "/rpc")]
pub async fn submit_template(draft: TemplateDraft) -> Result<WhatsAppTemplate, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.submit_template(&user, draft).await
}

#[server(prefix = "/rpc")]
pub async fn refresh_template(id: Id) -> Result<WhatsAppTemplate, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.refresh_template(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn sync_templates(channel_id: Option<Id>) -> Result<SyncReport, AppError> {
    let user = context::user().await?;
    context::services()?.gateway.sync_templates(&user, channel_id).await
}

#[server(prefix = "/rpc")]
pub async fn delete_template(id: Id) -> Result<(), AppError> {
    let user = context::user().await?;
    context::services()?.gateway.delete_template(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn send_template(request: TemplateSendRequest) -> Result<Message, AppError> {
    let user = context::user().await?;
    context::services()?.send_template(&user, request).await
}
