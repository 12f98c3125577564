//! WhatsApp message templates (Business Management API):
//! `POST/GET/DELETE /{waba-id}/message_templates`, `GET /{template-id}`,
//! the checks a `template` message goes through on the Cloud API, and
//! template review (status changes with their
//! `message_template_status_update` webhook).
//!
//! Creation is validated the way Meta documents it ("Template management"):
//! names are lowercase alphanumerics and underscores, at most 512
//! characters; a name already used in that language is error 100 with
//! subcode 2388024 ("Content in this language already exists"); a BODY is
//! required and holds at most 1024 characters; variables (`{{1}}`, `{{2}}`…)
//! need sample values (`example`), otherwise error 100 with subcode 2388043
//! ("… is missing expected field(s) (example)"). Errors carry Meta's
//! `error_user_title` / `error_user_msg`.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::errors::GraphError;
use super::graph::{GraphRequest, GraphResult, select_fields};
use super::state::{Shared, State as World};
use super::wa_payloads::template_status_webhook_full;
use super::wa_state::{WhatsAppTemplate, new_numeric_id};
use super::whatsapp::{invalid, missing, waba_access};
use super::{GRAPH_VERSION, webhook};

/// Subcode of "Content in this language already exists".
const SUBCODE_ALREADY_EXISTS: u32 = 2_388_024;
/// Subcode of "… is missing expected field(s) (example)".
const SUBCODE_MISSING_EXAMPLE: u32 = 2_388_043;

const CATEGORIES: &[&str] = &["AUTHENTICATION", "MARKETING", "UTILITY"];

/// An opaque paging cursor for an id, like Graph's base64 cursors.
pub(crate) fn cursor(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("cursor:{id}"))
}

fn cursor_id(cursor: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim_end_matches('=')).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("cursor:")
        .map(str::to_owned)
}

/// The distinct `{{n}}` variables of a template text, in order of first use.
pub(crate) fn variables(text: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("}}") else { break };
        if let Ok(n) = rest[..end].trim().parse::<u32>()
            && !found.contains(&n)
        {
            found.push(n);
        }
        rest = &rest[end + 2..];
    }
    found
}

/// A template-creation error the way the Business Management API answers
/// them: `message: "Invalid parameter"`, `error_user_title`, `error_user_msg`.
fn template_error(title: &str, msg: impl Into<String>) -> GraphError {
    GraphError::new(100, "Invalid parameter").user(title, msg)
}

/// A media header's sample must be a handle from the Resumable Upload API, not a link.
fn check_header_handles(world: &super::state::State, components: &[Value]) -> Result<(), GraphError> {
    for component in components {
        let media = component.get("type").and_then(Value::as_str) == Some("HEADER")
            && matches!(
                component.get("format").and_then(Value::as_str),
                Some("IMAGE" | "VIDEO" | "DOCUMENT")
            );
        let handle = component.pointer("/example/header_handle/0").and_then(Value::as_str);
        if let (true, Some(handle)) = (media, handle)
            && !world.file_handles.contains_key(handle)
        {
            return Err(template_error(
                "Invalid media handle",
                "The header example must be a file handle returned by the Resumable Upload API.",
            ));
        }
    }
    Ok(())
}

fn missing_example(component: &str) -> GraphError {
    template_error(
        "Message template \"components\" param is missing expected field(s)",
        format!("component of type {component} is missing expected field(s) (example)"),
    )
    .subcode(SUBCODE_MISSING_EXAMPLE)
}

/// The language's name as Meta writes it in "There is already English
/// content for this template".
fn language_name(code: &str) -> String {
    let base = code.split('_').next().unwrap_or(code);
    let name = match base {
        "en" => "English",
        "es" => "Spanish",
        "pt" => "Portuguese",
        "fr" => "French",
        "de" => "German",
        "it" => "Italian",
        "nl" => "Dutch",
        "ja" => "Japanese",
        "ar" => "Arabic",
        "hi" => "Hindi",
        "id" => "Indonesian",
        "tr" => "Turkish",
        _ => return code.to_owned(),
    };
    name.to_owned()
}

fn well_formed_language(code: &str) -> bool {
    let (base, region) = code.split_once('_').map_or((code, None), |(b, r)| (b, Some(r)));
    let base_ok = (2..=3).contains(&base.len()) && base.chars().all(|c| c.is_ascii_lowercase());
    let region_ok = region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
    base_ok && region_ok
}

fn component_type(c: &Value) -> String {
    c.get("type").and_then(Value::as_str).unwrap_or("").to_ascii_uppercase()
}

/// Checks the `components` of a template being created.
fn validate_components(components: &[Value]) -> Result<(), GraphError> {
    let mut seen = Vec::new();
    for (i, component) in components.iter().enumerate() {
        let kind = component_type(component);
        if !["HEADER", "BODY", "FOOTER", "BUTTONS"].contains(&kind.as_str()) {
            return Err(GraphError::param(format!(
                "(#100) Param components[{i}]['type'] must be one of {{HEADER, BODY, FOOTER, BUTTONS}} - got \"{kind}\"."
            )));
        }
        if seen.contains(&kind) {
            return Err(template_error(
                "Invalid components",
                format!("A template can have only one component of type {kind}."),
            ));
        }
        seen.push(kind.clone());
        let text = component.get("text").and_then(Value::as_str);
        match kind.as_str() {
            "BODY" => {
                let text = text.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
                    template_error(
                        "Message template \"components\" param is missing expected field(s)",
                        "component of type BODY is missing expected field(s) (text)",
                    )
                })?;
                if text.chars().count() > 1024 {
                    return Err(template_error(
                        "Message template body is too long",
                        "The body text of a template can have at most 1024 characters.",
                    ));
                }
                check_variables("BODY", text)?;
                let vars = variables(text).len();
                if vars > 0 {
                    let examples = component
                        .pointer("/example/body_text/0")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len);
                    if examples != vars {
                        return Err(missing_example("BODY"));
                    }
                }
            }
            "HEADER" => {
                let format = component
                    .get("format")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_uppercase)
                    .ok_or_else(|| missing_param(&format!("components[{i}]['format']")))?;
                match format.as_str() {
                    "TEXT" => {
                        let text = text.filter(|t| !t.is_empty()).ok_or_else(|| {
                            template_error(
                                "Message template \"components\" param is missing expected field(s)",
                                "component of type HEADER is missing expected field(s) (text)",
                            )
                        })?;
                        if text.chars().count() > 60 {
                            return Err(template_error(
                                "Message template header is too long",
                                "The header text of a template can have at most 60 characters.",
                            ));
                        }
                        check_variables("HEADER", text)?;
                        let vars = variables(text).len();
                        if vars > 1 {
                            return Err(template_error(
                                "Too many variables in header",
                                "A text header can have at most one variable.",
                            ));
                        }
                        if vars == 1 && component.pointer("/example/header_text/0").is_none() {
                            return Err(missing_example("HEADER"));
                        }
                    }
                    "IMAGE" | "VIDEO" | "DOCUMENT" => {
                        if component.pointer("/example/header_handle/0").is_none() {
                            return Err(missing_example("HEADER"));
                        }
                    }
                    "LOCATION" => {}
                    other => {
                        return Err(GraphError::param(format!(
                            "(#100) Param components[{i}]['format'] must be one of {{TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION}} - got \"{other}\"."
                        )));
                    }
                }
            }
            "FOOTER" => {
                let text = text.unwrap_or("");
                if text.chars().count() > 60 {
                    return Err(template_error(
                        "Message template footer is too long",
                        "The footer text of a template can have at most 60 characters.",
                    ));
                }
            }
            "BUTTONS" => validate_buttons(i, component)?,
            _ => {}
        }
    }
    if !seen.iter().any(|k| k == "BODY") {
        return Err(template_error(
            "Message template \"components\" param is missing expected field(s)",
            "A message template needs a component of type BODY.",
        ));
    }
    Ok(())
}

fn missing_param(name: &str) -> GraphError {
    GraphError::param(format!("(#100) The parameter {name} is required."))
}

/// Variables must be numbered `{{1}}`, `{{2}}`… without gaps.
fn check_variables(component: &str, text: &str) -> Result<(), GraphError> {
    let mut vars = variables(text);
    vars.sort_unstable();
    let sequential = vars
        .iter()
        .enumerate()
        .all(|(i, n)| usize::try_from(*n).is_ok_and(|n| n == i + 1));
    if sequential {
        Ok(())
    } else {
        Err(template_error(
            "Variable parameters are not sequential",
            format!("The variables of the {component} must be numbered {{{{1}}}}, {{{{2}}}}… in sequence."),
        ))
    }
}

fn validate_buttons(i: usize, component: &Value) -> Result<(), GraphError> {
    let buttons = component
        .get("buttons")
        .and_then(Value::as_array)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| missing_param(&format!("components[{i}]['buttons']")))?;
    if buttons.len() > 10 {
        return Err(template_error(
            "Too many buttons",
            "A template can have at most 10 buttons.",
        ));
    }
    for (j, button) in buttons.iter().enumerate() {
        let kind = button
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_uppercase();
        let text = button.get("text").and_then(Value::as_str).unwrap_or("");
        match kind.as_str() {
            "QUICK_REPLY" | "URL" | "PHONE_NUMBER" => {
                if text.is_empty() {
                    return Err(missing_param(&format!("components[{i}]['buttons'][{j}]['text']")));
                }
                if text.chars().count() > 25 {
                    return Err(template_error(
                        "Button text is too long",
                        "The text of a button can have at most 25 characters.",
                    ));
                }
            }
            "COPY_CODE" | "OTP" | "FLOW" | "CATALOG" | "MPM" | "VOICE_CALL" => {}
            other => {
                return Err(GraphError::param(format!(
                    "(#100) Param components[{i}]['buttons'][{j}]['type'] must be one of {{QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE, OTP, FLOW, CATALOG, MPM, VOICE_CALL}} - got \"{other}\"."
                )));
            }
        }
        if kind == "URL" {
            let url = button
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| missing_param(&format!("components[{i}]['buttons'][{j}]['url']")))?;
            if !variables(url).is_empty() && button.pointer("/example/0").is_none() {
                return Err(missing_example("BUTTONS"));
            }
        }
        if kind == "PHONE_NUMBER" {
            let phone = button.get("phone_number").and_then(Value::as_str).unwrap_or("");
            let digits = phone.chars().filter(char::is_ascii_digit).count();
            if digits < 7 {
                return Err(GraphError::new(
                    192,
                    format!(
                        "(#192) Param components[{i}]['buttons'][{j}]['phone_number'] is not a valid phone number."
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `POST /{waba-id}/message_templates` → `{"id","status":"PENDING","category"}`.
pub(crate) fn create(shared: &Arc<Shared>, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    if world.wa.waba(waba_id).is_none() {
        return Err(GraphError::unsupported("post", waba_id));
    }
    waba_access(&world, req.access_token(), waba_id, waba_id, "post")?;
    let body = req.send_api_body()?;
    // Form-encoded requests carry `components` as a JSON string.
    let components = match body.get("components") {
        Some(Value::String(raw)) => serde_json::from_str(raw).unwrap_or(Value::Null),
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing_param("name"))?
        .to_owned();
    if name.len() > 512
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(template_error(
            "Invalid template name",
            "Template names can only contain lowercase alphanumeric characters and underscores, and can be at most 512 characters long.",
        ));
    }
    let language = body
        .get("language")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| missing_param("language"))?
        .to_owned();
    if !well_formed_language(&language) {
        return Err(template_error(
            "Language not supported",
            format!("The language code \"{language}\" is not supported. Use a code such as en_US."),
        ));
    }
    let category = body
        .get("category")
        .and_then(Value::as_str)
        .ok_or_else(|| missing_param("category"))?
        .to_ascii_uppercase();
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(GraphError::param(format!(
            "(#100) Param category must be one of {{AUTHENTICATION, MARKETING, UTILITY}} - got \"{category}\"."
        )));
    }
    let list = components.as_array().ok_or_else(|| missing_param("components"))?;
    validate_components(list)?;
    check_header_handles(&world, list)?;
    if world
        .wa
        .templates
        .iter()
        .any(|t| t.waba_id == waba_id && t.name == name && t.language == language)
    {
        return Err(template_error(
            "Content in this language already exists",
            format!(
                "There is already {} content for this template. You can create a new template and try again.",
                language_name(&language)
            ),
        )
        .subcode(SUBCODE_ALREADY_EXISTS));
    }
    let id = new_numeric_id();
    tracing::info!(waba_id, name, language, id, "fake-meta: template created (PENDING)");
    world.wa.templates.push(WhatsAppTemplate {
        id: id.clone(),
        waba_id: waba_id.to_owned(),
        name,
        language,
        category: category.clone(),
        status: "PENDING".to_owned(),
        components,
        rejected_reason: None,
    });
    let auto_approve = world.wa.auto_approve_after_ms;
    drop(world);
    if let Some(after_ms) = auto_approve {
        schedule_auto_approval(shared, &id, after_ms);
    }
    Ok(Json(json!({ "id": id, "status": "PENDING", "category": category })))
}

fn schedule_auto_approval(shared: &Arc<Shared>, template_id: &str, after_ms: u64) {
    let shared = Arc::clone(shared);
    let template_id = template_id.to_owned();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(after_ms)).await;
        let reviewed = {
            let mut world = shared.lock();
            let pending = world.wa.template(&template_id).is_some_and(|t| t.status == "PENDING");
            if pending {
                review(&mut world, &template_id, "APPROVED", None).ok()
            } else {
                None
            }
        };
        if let Some((template, payload)) = reviewed {
            webhook::deliver_whatsapp(&shared, &template.waba_id, &payload).await;
        }
    });
}

/// `GET /{waba-id}/message_templates`: `fields`, `limit`, `after`/`before`
/// cursors and `name` (substring), `status`, `category`, `language`
/// filters. Answers `{"data":[…],"paging":{"cursors":{"before","after"},
/// "next"?,"previous"?}}`, oldest template first.
pub(crate) fn list(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    if world.wa.waba(waba_id).is_none() {
        return Err(GraphError::unsupported_get(waba_id));
    }
    waba_access(&world, req.access_token(), waba_id, waba_id, "get")?;
    let upper_list = |key: &str| -> Option<Vec<String>> {
        req.get(key).map(|v| {
            v.split(',')
                .map(|s| s.trim().to_ascii_uppercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
    };
    let statuses = upper_list("status");
    let categories = upper_list("category");
    let name = req.get("name").map(str::to_ascii_lowercase);
    let language = req.get("language");
    let matching: Vec<&WhatsAppTemplate> = world
        .wa
        .templates
        .iter()
        .filter(|t| t.waba_id == waba_id)
        .filter(|t| name.as_ref().is_none_or(|n| t.name.contains(n.as_str())))
        .filter(|t| statuses.as_ref().is_none_or(|s| s.contains(&t.status)))
        .filter(|t| categories.as_ref().is_none_or(|c| c.contains(&t.category)))
        .filter(|t| language.is_none_or(|l| t.language == l))
        .collect();
    let limit = match req.get("limit") {
        None => 25,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| GraphError::param("(#100) Param limit must be a positive integer"))?,
    };
    let position = |cursor_param: &str| -> Result<Option<usize>, GraphError> {
        let Some(raw) = req.get(cursor_param) else {
            return Ok(None);
        };
        let id = cursor_id(raw).ok_or_else(|| GraphError::param(format!("(#100) Invalid {cursor_param} cursor")))?;
        Ok(matching.iter().position(|t| t.id == id))
    };
    let (start, end) = if let Some(after) = position("after")? {
        (after + 1, (after + 1 + limit).min(matching.len()))
    } else if let Some(before) = position("before")? {
        (before.saturating_sub(limit), before)
    } else {
        (0, limit.min(matching.len()))
    };
    let start = start.min(end);
    let page = &matching[start..end];
    let fields = req.fields();
    let data: Vec<Value> = page
        .iter()
        .map(|t| select_fields(t.to_graph(), fields.as_deref()))
        .collect();
    let mut body = json!({ "data": data });
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        let mut paging = json!({ "cursors": { "before": cursor(&first.id), "after": cursor(&last.id) } });
        // Graph's `next`/`previous` links repeat the query (access token
        // included) with the new cursor.
        let link = |key: &str, value: &str| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            let mut params: Vec<(&String, &String)> = req.params().iter().collect();
            params.sort();
            for (k, v) in params {
                if !matches!(k.as_str(), "after" | "before" | "limit") {
                    query.append_pair(k, v);
                }
            }
            query.append_pair("limit", &limit.to_string());
            query.append_pair(key, value);
            format!(
                "{}/{GRAPH_VERSION}/{waba_id}/message_templates?{}",
                shared.base_url,
                query.finish()
            )
        };
        if end < matching.len() {
            paging["next"] = json!(link("after", &cursor(&last.id)));
        }
        if start > 0 {
            paging["previous"] = json!(link("before", &cursor(&first.id)));
        }
        body["paging"] = paging;
    }
    Ok(Json(body))
}

/// `DELETE /{waba-id}/message_templates?name=…[&hsm_id=…]`: deletes the
/// template in every language (or just the one with `hsm_id`).
pub(crate) fn delete(shared: &Shared, waba_id: &str, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    if world.wa.waba(waba_id).is_none() {
        return Err(GraphError::unsupported("delete", waba_id));
    }
    waba_access(&world, req.access_token(), waba_id, waba_id, "delete")?;
    let name = req
        .get("name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing_param("name"))?
        .to_owned();
    let hsm_id = req.get("hsm_id").map(str::to_owned);
    let before = world.wa.templates.len();
    world
        .wa
        .templates
        .retain(|t| !(t.waba_id == waba_id && t.name == name && hsm_id.as_ref().is_none_or(|id| *id == t.id)));
    if world.wa.templates.len() == before {
        return Err(template_error(
            "Message template not found",
            format!("Message template \"{name}\" can't be deleted because it doesn't exist."),
        ));
    }
    Ok(Json(json!({ "success": true })))
}

/// The checks a `type: "template"` message goes through. Returns its
/// pricing category (`utility`, `marketing`, `authentication`).
pub(crate) fn check_send(world: &World, waba_id: &str, template: Option<&Value>) -> Result<String, GraphError> {
    let template = template.ok_or_else(|| missing("template"))?;
    let name = template
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("template['name']"))?;
    let language = template
        .pointer("/language/code")
        .and_then(Value::as_str)
        .filter(|l| !l.is_empty())
        .ok_or_else(|| missing("template['language']['code']"))?;
    let not_found = || {
        GraphError::cloud(
            132_001,
            "Template name does not exist in the translation",
            format!("template name ({name}) does not exist in {language}"),
        )
    };
    let found = world
        .wa
        .templates
        .iter()
        .find(|t| t.waba_id == waba_id && t.name == name && t.language == language)
        .ok_or_else(not_found)?;
    match found.status.as_str() {
        "APPROVED" => {}
        "PAUSED" => {
            return Err(GraphError::cloud(
                132_015,
                "Template is Paused",
                format!("Template {name} is paused due to low quality so it cannot be sent in a template message."),
            ));
        }
        "DISABLED" => {
            return Err(GraphError::cloud(
                132_016,
                "Template is disabled",
                format!(
                    "Template {name} has been paused too many times due to low quality and is now permanently disabled."
                ),
            ));
        }
        _ => return Err(not_found()),
    }

    let sent_components: Vec<&Value> = match template.get("components") {
        None => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(_) => return Err(invalid("Param template['components'] must be an array.")),
    };
    let sent_params = |kind: &str| -> Vec<&Value> {
        sent_components
            .iter()
            .filter(|c| {
                c.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.eq_ignore_ascii_case(kind))
            })
            .flat_map(|c| c.get("parameters").and_then(Value::as_array).into_iter().flatten())
            .collect()
    };
    for param in sent_params("body").into_iter().chain(sent_params("header")) {
        if param.get("type").and_then(Value::as_str) == Some("text")
            && param.get("text").and_then(Value::as_str).is_none_or(str::is_empty)
        {
            return Err(missing("text"));
        }
    }
    let components = found.components.as_array().cloned().unwrap_or_default();
    for component in &components {
        let kind = component_type(component);
        let text = component.get("text").and_then(Value::as_str).unwrap_or("");
        let format = component
            .get("format")
            .and_then(Value::as_str)
            .unwrap_or("TEXT")
            .to_ascii_uppercase();
        match (kind.as_str(), format.as_str()) {
            ("BODY", _) | ("HEADER", "TEXT") => {
                let lower = kind.to_ascii_lowercase();
                let expected = variables(text).len();
                let given = sent_params(&lower).len();
                if given != expected {
                    return Err(GraphError::cloud(
                        132_000,
                        "Number of parameters does not match the expected number of params",
                        format!(
                            "{lower}: number of localizable_params ({given}) does not match the expected number of params ({expected})"
                        ),
                    ));
                }
            }
            ("HEADER", "IMAGE" | "VIDEO" | "DOCUMENT" | "LOCATION") => {
                let params = sent_params("header");
                let got = params
                    .first()
                    .and_then(|p| p.get("type"))
                    .and_then(Value::as_str)
                    .map_or_else(|| "UNKNOWN".to_owned(), str::to_ascii_uppercase);
                if got != format {
                    return Err(GraphError::cloud(
                        132_012,
                        "Parameter format does not match format in the created template",
                        format!("header: Format mismatch, expected {format}, received {got}"),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(found.category.to_ascii_lowercase())
}

/// `GET /{template-id}` is answered by `whatsapp::node`; this is the
/// control API's review: sets the status (`APPROVED`, `REJECTED`, `PAUSED`,
/// `DISABLED`, `PENDING`, `FLAGGED`, `IN_APPEAL`, `REINSTATED` → approved)
/// and builds the `message_template_status_update` webhook. `id` may also
/// be a template name (its first language).
pub(crate) fn review(
    world: &mut World,
    id: &str,
    event: &str,
    reason: Option<&str>,
) -> Result<(WhatsAppTemplate, Value), String> {
    let event = event.to_ascii_uppercase();
    let status = match event.as_str() {
        "APPROVED" | "REJECTED" | "PAUSED" | "DISABLED" | "PENDING" | "FLAGGED" | "IN_APPEAL" => event.clone(),
        "REINSTATED" => "APPROVED".to_owned(),
        other => return Err(format!("unknown template status {other}")),
    };
    let index = world
        .wa
        .templates
        .iter()
        .position(|t| t.id == id)
        .or_else(|| world.wa.templates.iter().position(|t| t.name == id))
        .ok_or_else(|| format!("unknown template {id}"))?;
    let reason = match (event.as_str(), reason) {
        (_, Some(reason)) => Some(reason.to_owned()),
        ("REJECTED", None) => Some("INVALID_FORMAT".to_owned()),
        _ => None,
    };
    let template = &mut world.wa.templates[index];
    template.status = status;
    template.rejected_reason = (event == "REJECTED").then(|| reason.clone().unwrap_or_default());
    let template = template.clone();
    let payload = template_status_webhook_full(
        &template.waba_id,
        &template.id,
        &template.name,
        &template.language,
        &event,
        reason.as_deref(),
        Some(&template.category),
    );
    tracing::info!(id = template.id, event, "fake-meta: template reviewed");
    Ok((template, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables() {
        assert_eq!(variables("Hi {{1}}, order {{2}} {{1}}"), vec![1, 2]);
        assert!(variables("no vars {{x}}").is_empty());
        assert!(cursor_id(&cursor("123")).is_some_and(|id| id == "123"));
        assert!(well_formed_language("en_US"));
        assert!(well_formed_language("pt"));
        assert!(!well_formed_language("English"));
    }
}
