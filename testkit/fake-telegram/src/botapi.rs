//! The Bot API itself: `/bot{token}/{method}` calls and
//! `/file/bot{token}/{file_path}` downloads.
//!
//! Checks run in Telegram's order as far as it is observable: the token
//! first (401 `Unauthorized`), then the method (404 `Not Found`), then the
//! parameters (400), then flood control (429) and blocks (403) for sends.
//! Every call is recorded in [`crate::FakeTelegram::requests`] by method name
//! and bot id only; the token is never recorded or logged.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::errors::{self, ApiError, ok, ok_described};
use super::html::{finish_entities, parse_html};
use super::params::{Params, Upload};
use super::state::{MAX_DOWNLOAD_BYTES, Shared, State as World, StoredFile, now_secs, sha256_hex};
use super::{ApiRequest, CallbackAnswer, SentFile, SentRecord, WebhookConfig};

const MAX_TEXT_UTF16: usize = 4096;
const MAX_CAPTION_UTF16: usize = 1024;
const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// Everything that is not a `/_fake/` route lands here.
pub(crate) async fn entry(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let http_method = request.method().as_str().to_owned();
    if let Some(rest) = path.strip_prefix("/file/bot") {
        return download(&shared, http_method, rest);
    }
    let Some((token, method)) = path.strip_prefix("/bot").and_then(|rest| rest.split_once('/')) else {
        return ApiError::not_found().into_response();
    };
    let bot_id = shared.lock().bot_id_by_token(token);
    shared.lock().record_request(ApiRequest {
        http_method,
        method: method.to_owned(),
        bot_id,
    });
    let Some(bot_id) = bot_id else {
        tracing::info!(method, "fake-telegram: unknown bot token");
        return ApiError::unauthorized().into_response();
    };
    tracing::info!(bot_id, method, "fake-telegram: Bot API call");
    let method = method.to_ascii_lowercase();
    if !KNOWN_METHODS.contains(&method.as_str()) {
        return ApiError::not_found().into_response();
    }
    let params = match Params::from_request(request).await {
        Ok(params) => params,
        Err(error) => return error.into_response(),
    };
    let result = match method.as_str() {
        "getme" => get_me(&shared, bot_id),
        "setwebhook" => return set_webhook(&shared, bot_id, &params).unwrap_or_else(IntoResponse::into_response),
        "deletewebhook" => return delete_webhook(&shared, bot_id, &params),
        "getwebhookinfo" => get_webhook_info(&shared, bot_id),
        "sendmessage" => send_message(&shared, bot_id, &params),
        "sendphoto" => send_media(&shared, bot_id, &params, MediaKind::Photo).await,
        "senddocument" => send_media(&shared, bot_id, &params, MediaKind::Document).await,
        "sendvideo" => send_media(&shared, bot_id, &params, MediaKind::Video).await,
        "sendaudio" => send_media(&shared, bot_id, &params, MediaKind::Audio).await,
        "sendvoice" => send_media(&shared, bot_id, &params, MediaKind::Voice).await,
        "editmessagetext" => edit_message_text(&shared, bot_id, &params),
        "deletemessage" => delete_message(&shared, bot_id, &params),
        "answercallbackquery" => answer_callback_query(&shared, bot_id, &params),
        "getfile" => get_file(&shared, &params),
        _ => Err(ApiError::not_found()),
    };
    match result {
        Ok(value) => ok(value),
        Err(error) => {
            tracing::info!(bot_id, code = error.code, description = %error.description, "fake-telegram: call refused");
            error.into_response()
        }
    }
}

const KNOWN_METHODS: &[&str] = &[
    "getme",
    "setwebhook",
    "deletewebhook",
    "getwebhookinfo",
    "sendmessage",
    "sendphoto",
    "senddocument",
    "sendvideo",
    "sendaudio",
    "sendvoice",
    "editmessagetext",
    "deletemessage",
    "answercallbackquery",
    "getfile",
];

fn get_me(shared: &Shared, bot_id: i64) -> Result<Value, ApiError> {
    let state = shared.lock();
    let bot = state.bot(bot_id).ok_or_else(ApiError::unauthorized)?;
    let mut me = bot.user_json();
    me["can_join_groups"] = json!(true);
    me["can_read_all_group_messages"] = json!(false);
    me["supports_inline_queries"] = json!(false);
    me["can_connect_to_business"] = json!(false);
    me["has_main_web_app"] = json!(false);
    Ok(me)
}

fn set_webhook(shared: &Shared, bot_id: i64, params: &Params) -> Result<Response, ApiError> {
    let url = params.text("url").unwrap_or_default();
    let secret_token = params.text("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret_token
        && (secret.len() > 256
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return Err(ApiError::bad_request(errors::SECRET_TOKEN_CHARS));
    }
    let allowed_updates = match params.json("allowed_updates") {
        Ok(None) => None,
        Ok(Some(Value::Array(items))) => Some(items.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()),
        _ => {
            return Err(ApiError::bad_request(
                "Bad Request: can't parse allowed updates JSON object",
            ));
        }
    };
    let max_connections = params.integer("max_connections")?.unwrap_or(40).clamp(1, 100) as u32;
    let drop_pending = params.flag("drop_pending_updates");
    if !url.is_empty() {
        // Real Telegram insists on HTTPS; the fake also takes http so that a
        // local test server can receive updates.
        let parsed = url::Url::parse(&url).map_err(|_| ApiError::bad_request(errors::WEBHOOK_NEEDS_HTTP_URL))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(ApiError::bad_request(errors::WEBHOOK_NEEDS_HTTP_URL));
        }
    }
    let mut state = shared.lock();
    let bot = state.bot_mut(bot_id).ok_or_else(ApiError::unauthorized)?;
    if allowed_updates.is_some() {
        bot.allowed_updates = allowed_updates;
    }
    if drop_pending {
        bot.health.pending.clear();
    }
    if url.is_empty() {
        let had_webhook = bot.webhook.take().is_some();
        let description = if had_webhook {
            "Webhook was deleted"
        } else {
            "Webhook is already deleted"
        };
        return Ok(ok_described(json!(true), description));
    }
    let config = WebhookConfig {
        url,
        secret_token,
        allowed_updates: bot.allowed_updates.clone(),
        max_connections,
    };
    let unchanged = bot.webhook.as_ref() == Some(&config);
    if bot.webhook.as_ref().map(|w| &w.url) != Some(&config.url) {
        bot.health.last_error_date = None;
        bot.health.last_error_message = None;
    }
    bot.webhook = Some(config);
    let description = if unchanged {
        "Webhook is already set"
    } else {
        "Webhook was set"
    };
    Ok(ok_described(json!(true), description))
}

fn delete_webhook(shared: &Shared, bot_id: i64, params: &Params) -> Response {
    let mut state = shared.lock();
    let Some(bot) = state.bot_mut(bot_id) else {
        return ApiError::unauthorized().into_response();
    };
    if params.flag("drop_pending_updates") {
        bot.health.pending.clear();
    }
    let description = if bot.webhook.take().is_some() {
        "Webhook was deleted"
    } else {
        "Webhook is already deleted"
    };
    ok_described(json!(true), description)
}

fn get_webhook_info(shared: &Shared, bot_id: i64) -> Result<Value, ApiError> {
    let state = shared.lock();
    Ok(state.bot(bot_id).ok_or_else(ApiError::unauthorized)?.webhook_info())
}

/// Text or caption after `parse_mode`/`entities` are applied.
struct Content {
    text: String,
    entities: Vec<Value>,
}

fn format_content(raw: &str, parse_mode: Option<&str>, explicit_entities: Option<Value>) -> Result<Content, ApiError> {
    match parse_mode.map(str::to_ascii_lowercase).as_deref() {
        Some("html") => {
            let mut parsed = parse_html(raw)
                .map_err(|reason| ApiError::bad_request(format!("{}{reason}", errors::CANT_PARSE_ENTITIES_PREFIX)))?;
            finish_entities(&mut parsed.entities);
            Ok(Content {
                text: parsed.text,
                entities: parsed.entities,
            })
        }
        // Markdown parsing is not imitated: the text is kept as given.
        Some("markdown" | "markdownv2") | None => Ok(Content {
            text: raw.to_owned(),
            entities: match explicit_entities {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
        }),
        Some(_) => Err(ApiError::bad_request("Bad Request: unsupported parse_mode")),
    }
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

fn entities_param(params: &Params, name: &str) -> Result<Option<Value>, ApiError> {
    params
        .json(name)
        .map_err(|()| ApiError::bad_request("Bad Request: can't parse entities JSON object"))
}

/// `reply_markup`, validated as Telegram validates inline keyboards. Returns
/// the markup as given and whether it is an inline keyboard (only those are
/// echoed back in the Message).
fn reply_markup_param(params: &Params) -> Result<Option<(Value, bool)>, ApiError> {
    let markup = params
        .json("reply_markup")
        .map_err(|()| ApiError::bad_request("Bad Request: can't parse reply keyboard markup JSON object"))?;
    let Some(markup) = markup else { return Ok(None) };
    if !markup.is_object() {
        return Err(ApiError::bad_request(
            "Bad Request: can't parse reply keyboard markup JSON object",
        ));
    }
    let Some(rows) = markup.get("inline_keyboard") else {
        return Ok(Some((markup, false)));
    };
    let rows = rows.as_array().ok_or_else(|| {
        ApiError::bad_request("Bad Request: can't parse inline keyboard: field \"inline_keyboard\" must be an Array")
    })?;
    for row in rows {
        let buttons = row
            .as_array()
            .ok_or_else(|| ApiError::bad_request("Bad Request: can't parse inline keyboard: row must be an Array"))?;
        for button in buttons {
            if button.get("text").and_then(Value::as_str).is_none() {
                return Err(ApiError::bad_request(
                    "Bad Request: can't parse inline keyboard button: Text must be a String",
                ));
            }
            if let Some(data) = button.get("callback_data") {
                let length = data.as_str().map_or(0, str::len);
                if length == 0 || length > MAX_CALLBACK_DATA_BYTES {
                    return Err(ApiError::bad_request(errors::BUTTON_DATA_INVALID));
                }
            } else if button.as_object().is_some_and(|b| b.len() == 1) {
                return Err(ApiError::bad_request(errors::TEXT_BUTTONS_UNALLOWED));
            }
        }
    }
    Ok(Some((markup, true)))
}

/// The message being replied to (one level deep, as Telegram nests it), from
/// `reply_parameters` or the older `reply_to_message_id`.
fn reply_target(
    world: &mut World,
    bot_id: i64,
    chat_id: i64,
    params: &Params,
) -> Result<(Option<Value>, Option<Value>), ApiError> {
    let reply_parameters = params
        .json("reply_parameters")
        .map_err(|()| ApiError::bad_request("Bad Request: can't parse reply parameters JSON object"))?;
    let (message_id, allow_without) = match &reply_parameters {
        Some(rp) => (
            rp.get("message_id").and_then(Value::as_i64),
            rp.get("allow_sending_without_reply")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        None => (
            params.integer("reply_to_message_id")?,
            params.flag("allow_sending_without_reply"),
        ),
    };
    let Some(message_id) = message_id else {
        return Ok((reply_parameters, None));
    };
    let found = world
        .chat_mut(bot_id, chat_id)
        .and_then(|chat| chat.messages.get(&message_id).cloned());
    match found {
        Some(mut message) => {
            if let Some(object) = message.as_object_mut() {
                object.remove("reply_to_message");
            }
            Ok((reply_parameters, Some(message)))
        }
        None if allow_without => Ok((reply_parameters, None)),
        None => Err(ApiError::bad_request(errors::REPLY_NOT_FOUND)),
    }
}

/// The parts every send shares, validated before anything is stored.
struct Outgoing {
    chat_id: i64,
    reply_parameters: Option<Value>,
    reply_to: Option<Value>,
    markup: Option<(Value, bool)>,
    parse_mode: Option<String>,
}

fn prepare_outgoing(world: &mut World, bot_id: i64, params: &Params) -> Result<Outgoing, ApiError> {
    let chat_id = world.resolve_chat(bot_id, params.text("chat_id"))?;
    let markup = reply_markup_param(params)?;
    let (reply_parameters, reply_to) = reply_target(world, bot_id, chat_id, params)?;
    Ok(Outgoing {
        chat_id,
        reply_parameters,
        reply_to,
        markup,
        parse_mode: params.text("parse_mode").filter(|s| !s.is_empty()),
    })
}

/// Stores a message the bot sent and records the send.
fn store_outgoing(
    world: &mut World,
    bot_id: i64,
    method: &str,
    outgoing: Outgoing,
    content: Value,
    params: &Params,
    file: Option<SentFile>,
) -> Result<Value, ApiError> {
    let from = world.bot(bot_id).ok_or_else(ApiError::unauthorized)?.user_json();
    let chat = world
        .chat_mut(bot_id, outgoing.chat_id)
        .ok_or_else(|| ApiError::bad_request(errors::CHAT_NOT_FOUND))?;
    let message_id = chat.take_message_id();
    let mut message = json!({
        "message_id": message_id,
        "from": from,
        "chat": chat.chat,
        "date": now_secs(),
    });
    if let Some(reply_to) = outgoing.reply_to {
        message["reply_to_message"] = reply_to;
    }
    if let (Some(object), Value::Object(fields)) = (message.as_object_mut(), content) {
        object.extend(fields);
    }
    if let Some((markup, true)) = &outgoing.markup {
        message["reply_markup"] = markup.clone();
    }
    chat.messages.insert(message_id, message.clone());
    world.sent.push(SentRecord {
        method: method.to_owned(),
        bot_id,
        chat_id: outgoing.chat_id,
        message_id,
        text: params.text("text"),
        caption: params.text("caption"),
        parse_mode: outgoing.parse_mode,
        reply_parameters: outgoing.reply_parameters,
        reply_markup: outgoing.markup.map(|(markup, _)| markup),
        file,
        params: params.to_json(),
    });
    Ok(message)
}

fn send_message(shared: &Shared, bot_id: i64, params: &Params) -> Result<Value, ApiError> {
    let mut world = shared.lock();
    let outgoing = prepare_outgoing(&mut world, bot_id, params)?;
    let raw = params.text("text").unwrap_or_default();
    let content = format_content(
        &raw,
        outgoing.parse_mode.as_deref(),
        entities_param(params, "entities")?,
    )?;
    if content.text.trim().is_empty() {
        return Err(ApiError::bad_request(errors::TEXT_EMPTY));
    }
    if utf16_len(&content.text) > MAX_TEXT_UTF16 {
        return Err(ApiError::bad_request(errors::TEXT_TOO_LONG));
    }
    world.check_deliverable(bot_id, outgoing.chat_id)?;
    let mut fields = json!({"text": content.text});
    if !content.entities.is_empty() {
        fields["entities"] = json!(content.entities);
    }
    if let Ok(Some(options)) = params.json("link_preview_options") {
        fields["link_preview_options"] = options;
    }
    store_outgoing(&mut world, bot_id, "sendMessage", outgoing, fields, params, None)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MediaKind {
    Photo,
    Document,
    Video,
    Audio,
    Voice,
}

impl MediaKind {
    /// The parameter and Message field name (`photo`, `document`, …).
    pub fn field(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Document => "document",
            MediaKind::Video => "video",
            MediaKind::Audio => "audio",
            MediaKind::Voice => "voice",
        }
    }

    fn method(self) -> &'static str {
        match self {
            MediaKind::Photo => "sendPhoto",
            MediaKind::Document => "sendDocument",
            MediaKind::Video => "sendVideo",
            MediaKind::Audio => "sendAudio",
            MediaKind::Voice => "sendVoice",
        }
    }
}

/// Where a send's file came from.
enum MediaSource {
    /// Bytes the bot uploaded or the fake downloaded from a URL.
    Bytes {
        source: &'static str,
        file_name: Option<String>,
        content_type: String,
        bytes: Vec<u8>,
    },
    /// A file the fake already holds.
    Existing(StoredFile),
}

async fn resolve_media(shared: &Shared, params: &Params, kind: MediaKind) -> Result<MediaSource, ApiError> {
    let field = kind.field();
    if let Some(upload) = params.upload(field) {
        return Ok(uploaded(upload));
    }
    let Some(value) = params.text(field).filter(|s| !s.is_empty()) else {
        return Err(ApiError::bad_request(format!(
            "Bad Request: there is no {field} in the request"
        )));
    };
    // `attach://<name>` points at another multipart part.
    if let Some(part) = value.strip_prefix("attach://") {
        return params
            .upload(part)
            .map(uploaded)
            .ok_or_else(|| ApiError::bad_request(errors::WRONG_FILE_ID_OR_URL));
    }
    if value.starts_with("http://") || value.starts_with("https://") {
        return download_url(shared, &value).await;
    }
    shared
        .lock()
        .files
        .get(&value)
        .cloned()
        .map(MediaSource::Existing)
        .ok_or_else(|| ApiError::bad_request(errors::WRONG_FILE_ID_OR_URL))
}

fn uploaded(upload: &Upload) -> MediaSource {
    MediaSource::Bytes {
        source: "upload",
        file_name: upload.file_name.clone(),
        content_type: media_type(upload.content_type.as_deref(), upload.file_name.as_deref()),
        bytes: upload.bytes.clone(),
    }
}

/// The part's own type unless it is the generic one, else a guess from the
/// name (Telegram itself goes by the file name).
fn media_type(declared: Option<&str>, file_name: Option<&str>) -> String {
    declared
        .filter(|t| !t.is_empty() && *t != "application/octet-stream")
        .map(str::to_owned)
        .or_else(|| file_name.and_then(|name| mime_guess::from_path(name).first_raw().map(str::to_owned)))
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

async fn download_url(shared: &Shared, url: &str) -> Result<MediaSource, ApiError> {
    let failed = || ApiError::bad_request(errors::URL_CONTENT_FAILED);
    let response = shared
        .http
        .get(url)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|_| failed())?;
    if !response.status().is_success() {
        return Err(failed());
    }
    let declared = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
    let file_name = url::Url::parse(url)
        .ok()
        .and_then(|u| u.path_segments().and_then(|mut s| s.next_back().map(str::to_owned)))
        .filter(|name| !name.is_empty());
    let bytes = response.bytes().await.map_err(|_| failed())?.to_vec();
    Ok(MediaSource::Bytes {
        source: "url",
        content_type: media_type(declared.as_deref(), file_name.as_deref()),
        file_name,
        bytes,
    })
}

/// The Message field for a media send, registering new bytes as files.
fn media_field(world: &mut World, kind: MediaKind, source: MediaSource) -> (Value, SentFile) {
    let (file, file_name, sent_source, sha256) = match source {
        MediaSource::Bytes {
            source,
            file_name,
            content_type,
            bytes,
        } => {
            let sha256 = sha256_hex(&bytes);
            let size = bytes.len() as u64;
            let file = world.register_file(
                kind.field(),
                size,
                Some(Arc::new(bytes)),
                &content_type,
                file_name.as_deref(),
            );
            (file, file_name, source, sha256)
        }
        MediaSource::Existing(file) => {
            let sha256 = file.bytes.as_deref().map(|b| sha256_hex(b)).unwrap_or_default();
            (file, None, "file_id", sha256)
        }
    };
    let sent = SentFile {
        source: sent_source.to_owned(),
        file_name: file_name.clone(),
        content_type: file.content_type.clone(),
        size: file.size,
        sha256,
        file_id: file.file_id.clone(),
    };
    (media_json(world, kind, &file, file_name.as_deref()), sent)
}

/// The media object as Telegram describes it. Photos come in two sizes, the
/// last one the largest, as `Message.photo` lists them.
pub(crate) fn media_json(world: &mut World, kind: MediaKind, file: &StoredFile, file_name: Option<&str>) -> Value {
    let mut object = json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.size,
    });
    match kind {
        MediaKind::Photo => {
            let thumbnail = world.register_file("photo", file.size, file.bytes.clone(), &file.content_type, None);
            return json!([
                {"file_id": thumbnail.file_id, "file_unique_id": thumbnail.file_unique_id, "file_size": thumbnail.size, "width": 90, "height": 68},
                {"file_id": file.file_id, "file_unique_id": file.file_unique_id, "file_size": file.size, "width": 1280, "height": 960},
            ]);
        }
        MediaKind::Document => {}
        MediaKind::Video => {
            object["width"] = json!(1280);
            object["height"] = json!(720);
            object["duration"] = json!(3);
        }
        MediaKind::Audio | MediaKind::Voice => object["duration"] = json!(3),
    }
    if kind != MediaKind::Voice
        && let Some(name) = file_name
    {
        object["file_name"] = json!(name);
    }
    object["mime_type"] = json!(file.content_type);
    object
}

async fn send_media(shared: &Shared, bot_id: i64, params: &Params, kind: MediaKind) -> Result<Value, ApiError> {
    // The chat is checked before any URL is fetched.
    shared.lock().resolve_chat(bot_id, params.text("chat_id"))?;
    let source = resolve_media(shared, params, kind).await?;
    let mut world = shared.lock();
    let outgoing = prepare_outgoing(&mut world, bot_id, params)?;
    let raw_caption = params.text("caption").unwrap_or_default();
    let caption = format_content(
        &raw_caption,
        outgoing.parse_mode.as_deref(),
        entities_param(params, "caption_entities")?,
    )?;
    if utf16_len(&caption.text) > MAX_CAPTION_UTF16 {
        return Err(ApiError::bad_request("Bad Request: message caption is too long"));
    }
    world.check_deliverable(bot_id, outgoing.chat_id)?;
    let (media, sent_file) = media_field(&mut world, kind, source);
    let mut fields = json!({ kind.field(): media });
    if !caption.text.is_empty() {
        fields["caption"] = json!(caption.text);
        if !caption.entities.is_empty() {
            fields["caption_entities"] = json!(caption.entities);
        }
    }
    store_outgoing(
        &mut world,
        bot_id,
        kind.method(),
        outgoing,
        fields,
        params,
        Some(sent_file),
    )
}

fn message_id_param(params: &Params) -> Result<i64, ApiError> {
    params
        .integer("message_id")?
        .ok_or_else(|| ApiError::bad_request(errors::MESSAGE_ID_MISSING))
}

fn edit_message_text(shared: &Shared, bot_id: i64, params: &Params) -> Result<Value, ApiError> {
    let mut world = shared.lock();
    if params.text("inline_message_id").is_some() {
        // Inline-mode messages are out of the fake's scope.
        return Err(ApiError::bad_request(errors::EDIT_NOT_FOUND));
    }
    let chat_id = world.resolve_chat(bot_id, params.text("chat_id"))?;
    let message_id = message_id_param(params)?;
    let markup = reply_markup_param(params)?;
    let parse_mode = params.text("parse_mode").filter(|s| !s.is_empty());
    let raw = params.text("text").unwrap_or_default();
    let content = format_content(&raw, parse_mode.as_deref(), entities_param(params, "entities")?)?;
    if content.text.trim().is_empty() {
        return Err(ApiError::bad_request(errors::TEXT_EMPTY));
    }
    if utf16_len(&content.text) > MAX_TEXT_UTF16 {
        // teloxide's `EditedMessageIsTooLong`: edits use the raw MTProto name.
        return Err(ApiError::bad_request("Bad Request: MESSAGE_TOO_LONG"));
    }
    let chat = world
        .chat_mut(bot_id, chat_id)
        .ok_or_else(|| ApiError::bad_request(errors::CHAT_NOT_FOUND))?;
    let message = chat
        .messages
        .get_mut(&message_id)
        .ok_or_else(|| ApiError::bad_request(errors::EDIT_NOT_FOUND))?;
    if message.pointer("/from/id").and_then(Value::as_i64) != Some(bot_id) || message.get("text").is_none() {
        return Err(ApiError::bad_request(errors::CANT_BE_EDITED));
    }
    let new_markup = markup.as_ref().filter(|(_, inline)| *inline).map(|(m, _)| m.clone());
    let new_entities = (!content.entities.is_empty()).then(|| json!(content.entities));
    if message.get("text") == Some(&json!(content.text))
        && message.get("entities") == new_entities.as_ref()
        && message.get("reply_markup") == new_markup.as_ref()
    {
        return Err(ApiError::bad_request(errors::NOT_MODIFIED));
    }
    let Some(object) = message.as_object_mut() else {
        return Err(ApiError::bad_request(errors::CANT_BE_EDITED));
    };
    object.insert("text".to_owned(), json!(content.text));
    object.insert("edit_date".to_owned(), json!(now_secs()));
    match new_entities {
        Some(entities) => object.insert("entities".to_owned(), entities),
        None => object.remove("entities"),
    };
    // An edit without reply_markup removes the inline keyboard, as on Telegram.
    match new_markup {
        Some(markup) => object.insert("reply_markup".to_owned(), markup),
        None => object.remove("reply_markup"),
    };
    let edited = message.clone();
    world.sent.push(SentRecord {
        method: "editMessageText".to_owned(),
        bot_id,
        chat_id,
        message_id,
        text: Some(raw),
        caption: None,
        parse_mode,
        reply_parameters: None,
        reply_markup: markup.map(|(m, _)| m),
        file: None,
        params: params.to_json(),
    });
    Ok(edited)
}

fn delete_message(shared: &Shared, bot_id: i64, params: &Params) -> Result<Value, ApiError> {
    let mut world = shared.lock();
    let chat_id = world.resolve_chat(bot_id, params.text("chat_id"))?;
    let message_id = message_id_param(params)?;
    let chat = world
        .chat_mut(bot_id, chat_id)
        .ok_or_else(|| ApiError::bad_request(errors::CHAT_NOT_FOUND))?;
    if chat.messages.remove(&message_id).is_none() {
        return Err(ApiError::bad_request(errors::DELETE_NOT_FOUND));
    }
    world.sent.push(SentRecord {
        method: "deleteMessage".to_owned(),
        bot_id,
        chat_id,
        message_id,
        text: None,
        caption: None,
        parse_mode: None,
        reply_parameters: None,
        reply_markup: None,
        file: None,
        params: params.to_json(),
    });
    Ok(json!(true))
}

fn answer_callback_query(shared: &Shared, bot_id: i64, params: &Params) -> Result<Value, ApiError> {
    let id = params.text("callback_query_id").unwrap_or_default();
    let mut world = shared.lock();
    let bot = world.bot_mut(bot_id).ok_or_else(ApiError::unauthorized)?;
    match bot.callback_queries.get_mut(&id) {
        Some(answered) if !*answered => *answered = true,
        _ => return Err(ApiError::bad_request(errors::QUERY_TOO_OLD)),
    }
    world.callback_answers.push(CallbackAnswer {
        bot_id,
        callback_query_id: id,
        text: params.text("text").filter(|s| !s.is_empty()),
        show_alert: params.flag("show_alert"),
        url: params.text("url").filter(|s| !s.is_empty()),
    });
    Ok(json!(true))
}

fn get_file(shared: &Shared, params: &Params) -> Result<Value, ApiError> {
    let file_id = params.text("file_id").unwrap_or_default();
    let world = shared.lock();
    let file = world
        .files
        .get(&file_id)
        .ok_or_else(|| ApiError::bad_request(errors::INVALID_FILE_ID))?;
    if file.size > MAX_DOWNLOAD_BYTES || file.bytes.is_none() {
        return Err(ApiError::bad_request(errors::FILE_TOO_BIG));
    }
    Ok(json!({
        "file_id": file.file_id,
        "file_unique_id": file.file_unique_id,
        "file_size": file.size,
        "file_path": file.file_path,
    }))
}

/// `GET /file/bot<token>/<file_path>`: the raw bytes with their type.
fn download(shared: &Shared, http_method: String, rest: &str) -> Response {
    let Some((token, file_path)) = rest.split_once('/') else {
        return ApiError::not_found().into_response();
    };
    let mut world = shared.lock();
    let bot_id = world.bot_id_by_token(token);
    world.record_request(ApiRequest {
        http_method,
        method: format!("file/{file_path}"),
        bot_id,
    });
    if bot_id.is_none() {
        return ApiError::unauthorized().into_response();
    }
    match world
        .file_by_path(file_path)
        .and_then(|f| f.bytes.clone().map(|b| (f.content_type.clone(), b)))
    {
        Some((content_type, bytes)) => ([(header::CONTENT_TYPE, content_type)], bytes.as_ref().clone()).into_response(),
        None => ApiError::not_found().into_response(),
    }
}
