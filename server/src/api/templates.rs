//! WhatsApp templates: `/api/templates/whatsapp/*` (the brief's endpoints) plus listing,
//! reading and deleting. Meta's review happens asynchronously: submit answers with the
//! template `pending`, and `template:updated` events follow.

use super::{ApiJson, ApiPath, ApiQuery, CurrentUser};
use crate::state::AppState;
use app::attachments::human_size;
use app::error::{AppError, AppResult};
use app::model::{ChannelKind, ChannelStatus, Id, User};
use app::services::ChannelGateway;
use app::templates::HeaderSample;
use app::templates::{
    self, SyncReport, TemplateCategory, TemplateContent, TemplateDraft, TemplateFilter, WhatsAppTemplate,
};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/templates/whatsapp", get(list))
        .route("/api/templates/whatsapp/submit", post(submit))
        .route(
            templates::HEADER_SAMPLE_ROUTE,
            post(header_sample).layer(DefaultBodyLimit::max(MAX_SAMPLE_BYTES as usize + 64 * 1024)),
        )
        .route("/api/templates/whatsapp/sync", post(sync))
        .route("/api/templates/whatsapp/{id}/status", get(status))
        .route("/api/templates/whatsapp/{id}", get(one).delete(remove))
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiQuery(filter): ApiQuery<TemplateFilter>,
) -> AppResult<Json<Vec<WhatsAppTemplate>>> {
    Ok(Json(state.services.templates(&user, &filter).await?))
}

async fn one(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<WhatsAppTemplate>> {
    Ok(Json(state.services.store.template(user.organization_id, id).await?))
}

/// `{ name, category, language, components }` as Meta takes them (or `content` as the web
/// app writes it), plus which WhatsApp Business Account: `channelId` or `wabaId`, optional
/// when the organization has one.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubmitBody {
    name: String,
    category: String,
    language: String,
    #[serde(default)]
    components: Option<Value>,
    #[serde(default)]
    content: Option<TemplateContent>,
    #[serde(default)]
    channel_id: Option<Id>,
    #[serde(default)]
    waba_id: Option<String>,
}

/// The WhatsApp channel a request means, by id, by WABA, or the only one there is.
async fn whatsapp_channel(
    state: &AppState,
    user: &User,
    channel_id: Option<Id>,
    waba_id: Option<&str>,
) -> AppResult<Id> {
    if let Some(id) = channel_id {
        return Ok(id);
    }
    let numbers: Vec<_> = state
        .services
        .channels(user)
        .await?
        .into_iter()
        .filter(|c| c.kind == ChannelKind::WhatsApp && c.status != ChannelStatus::Disconnected)
        .filter(|c| waba_id.is_none_or(|w| c.parent_account_id.as_deref() == Some(w)))
        .collect();
    let wabas: std::collections::BTreeSet<_> = numbers.iter().filter_map(|c| c.parent_account_id.clone()).collect();
    match (numbers.first(), wabas.len()) {
        (None, _) => Err(AppError::invalid(match waba_id {
            Some(w) => format!("no connected WhatsApp number belongs to the WhatsApp Business Account {w}"),
            None => "connect a WhatsApp number first".into(),
        })),
        (Some(channel), 1) => Ok(channel.id),
        _ => Err(AppError::invalid(
            "several WhatsApp Business Accounts are connected: give wabaId or channelId",
        )),
    }
}

async fn submit(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiJson(body): ApiJson<SubmitBody>,
) -> AppResult<(StatusCode, Json<WhatsAppTemplate>)> {
    let category = TemplateCategory::from_meta(&body.category)
        .ok_or_else(|| AppError::invalid("category must be MARKETING, UTILITY or AUTHENTICATION"))?;
    let content = match (body.content, body.components) {
        (Some(content), _) => content,
        (None, Some(components)) if components.is_array() => templates::from_meta_components(&components),
        _ => return Err(AppError::invalid("components (an array) is required")),
    };
    let channel_id = whatsapp_channel(&state, &user, body.channel_id, body.waba_id.as_deref()).await?;
    let draft = TemplateDraft {
        channel_id,
        name: body.name.trim().to_string(),
        language: body.language.trim().to_string(),
        category,
        content,
    };
    let template = state.gateway.submit_template(&user, draft).await?;
    Ok((StatusCode::CREATED, Json(template)))
}

/// The largest header sample Meta reviews (a video).
const MAX_SAMPLE_BYTES: u64 = 16 * 1024 * 1024;

/// `POST /api/templates/whatsapp/header-sample` (multipart `file`, and `wabaId` or
/// `channelId` unless the organization has one WhatsApp Business Account) → 201
/// `HeaderSample`: the file goes to Meta's Resumable Upload API.
async fn header_sample(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    mut form: Multipart,
) -> AppResult<(StatusCode, Json<HeaderSample>)> {
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::TooLarge(format!(
                "a header sample can be at most {}",
                human_size(MAX_SAMPLE_BYTES)
            ))
        } else {
            AppError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
        }
    };
    let (mut waba_id, mut channel_id, mut file) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("wabaId") => waba_id = Some(field.text().await.map_err(unreadable)?.trim().to_string()),
            Some("channelId") => {
                let text = field.text().await.map_err(unreadable)?;
                channel_id = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| AppError::invalid("channelId must be a channel's id"))?,
                );
            }
            Some("file") => {
                let name = crate::uploads::clean_name(field.file_name());
                let declared = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((name, declared, bytes));
            }
            _ => {}
        }
    }
    let (name, declared, bytes) =
        file.ok_or_else(|| AppError::invalid("choose a file to upload (form field `file`)"))?;
    let mime_type = crate::uploads::detect_type(&bytes, &name, declared.as_deref());
    let (format, max) = templates::header_sample_format(&mime_type).ok_or_else(|| {
        AppError::invalid(format!(
            "a header sample must be a JPEG or PNG image, an MP4 video or a PDF document, not {mime_type}"
        ))
    })?;
    let size = bytes.len() as u64;
    if size == 0 {
        return Err(AppError::invalid("the file is empty"));
    }
    if size > max {
        return Err(AppError::TooLarge(format!(
            "a {format} header sample can be at most {}; this one is {}",
            human_size(max),
            human_size(size)
        )));
    }
    let channel_id = whatsapp_channel(&state, &user, channel_id, waba_id.as_deref()).await?;
    let channel = state.services.store.channel(user.organization_id, channel_id).await?;
    let waba_id = channel
        .channel
        .parent_account_id
        .ok_or_else(|| AppError::invalid("this channel has no WhatsApp Business Account"))?;
    let handle = state
        .gateway
        .upload_header_sample(&user, &waba_id, &name, &mime_type, bytes.to_vec())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(HeaderSample {
            handle,
            format,
            name,
            mime_type,
            size,
        }),
    ))
}

/// Asks Meta where the review stands (the webhook usually tells us first).
async fn status(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<Json<WhatsAppTemplate>> {
    Ok(Json(state.gateway.refresh_template(&user, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SyncBody {
    #[serde(default)]
    waba_id: Option<String>,
    #[serde(default)]
    channel_id: Option<Id>,
}

async fn sync(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    body: axum::body::Bytes,
) -> AppResult<Json<SyncReport>> {
    // The body is optional: an empty POST syncs every WhatsApp Business Account.
    let body: SyncBody = if body.iter().all(u8::is_ascii_whitespace) {
        SyncBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(format!("invalid JSON body: {e}")))?
    };
    let channel_id = match (body.channel_id, body.waba_id.as_deref()) {
        (None, None) => None,
        (channel_id, waba_id) => Some(whatsapp_channel(&state, &user, channel_id, waba_id).await?),
    };
    Ok(Json(state.gateway.sync_templates(&user, channel_id).await?))
}

async fn remove(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ApiPath(id): ApiPath<Id>,
) -> AppResult<StatusCode> {
    state.gateway.delete_template(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
