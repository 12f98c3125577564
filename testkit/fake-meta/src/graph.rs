//! The Graph API routes, mounted under `/v21.0`.
//!
//! | Route | Imitates |
//! | --- | --- |
//! | `GET /dialog/oauth` | Facebook Login dialog (manual login flow) |
//! | `GET, POST /oauth/access_token` | code → user token exchange (and `fb_exchange_token`) |
//! | `GET /me` | the token's owner (user or page) |
//! | `GET /me/accounts` | Pages the user manages, with Page tokens |
//! | `GET, POST, DELETE /{page-id}/subscribed_apps` (and `/me/…`) | Page webhook subscription |
//! | `POST /{page-id}/messages`, `POST /me/messages` | Messenger Send API; Instagram Messaging when the recipient is an IGSID |
//! | `POST /{ig-id}/messages` | the same, addressed to the Instagram account (Page token) |
//! | `GET /{id}` | User Profile API for a PSID or IGSID, a Page or Instagram account node, or a WhatsApp node |
//! | `GET /me/businesses` | businesses the user belongs to (WhatsApp) |
//! | `GET /{business-id}/owned_whatsapp_business_accounts` | WABAs of a business |
//! | `GET /{waba-id}/phone_numbers` | a WABA's phone numbers |
//! | `GET, POST, DELETE /{waba-id}/subscribed_apps` | WABA webhook subscription |
//! | `GET, POST, DELETE /{waba-id}/message_templates` | message templates (Business Management API) |
//! | `POST /{phone-number-id}/messages` | WhatsApp Cloud API messages (and mark-as-read) |
//! | `POST /{phone-number-id}/media` | media upload (multipart) |
//! | `DELETE /{media-id}` | media deletion |
//!
//! `/{id}` routes are shared by Pages, Instagram and WhatsApp objects, as on
//! `graph.facebook.com`: the handler looks at what the id is. The WhatsApp
//! logic lives in `whatsapp.rs`, `templates.rs` and `media.rs`, the
//! Instagram logic in `instagram.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::errors::GraphError;
use super::payloads::{echo_of, now_ms};
use super::state::{Shared, State as World, TokenKind, random_string};
use super::webhook::deliver;
use super::{Platform, SentMessage, fetch, instagram, media, resumable, templates, whatsapp};

type AppState = State<Arc<Shared>>;
pub(crate) type GraphResult = Result<Json<Value>, GraphError>;

/// The largest media upload accepted (the Cloud API's document limit).
const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// Lifetime Meta reports for long-lived user tokens (about 60 days).
const USER_TOKEN_EXPIRES_IN: u64 = 5_183_944;

/// How long after answering a Send API call the echo webhook goes out, so
/// the app normally sees its HTTP response before the echo.
const ECHO_DELAY: Duration = Duration::from_millis(30);

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/dialog/oauth", get(oauth_dialog))
        .route("/oauth/access_token", get(access_token).post(access_token))
        .route("/me", get(me))
        .route("/me/accounts", get(me_accounts))
        .route("/me/businesses", get(me_businesses))
        .route("/me/messages", post(send_as_me))
        .route(
            "/me/subscribed_apps",
            get(list_subscribed_as_me)
                .post(subscribe_as_me)
                .delete(unsubscribe_as_me),
        )
        .route("/{id}/messages", post(send_for_id))
        .route(
            "/{id}/subscribed_apps",
            get(list_subscribed).post(subscribe).delete(unsubscribe),
        )
        .route("/{id}/owned_whatsapp_business_accounts", get(owned_wabas))
        .route("/{id}/phone_numbers", get(phone_numbers))
        .route(
            "/{id}/message_templates",
            get(list_templates).post(create_template).delete(delete_templates),
        )
        .route(
            "/{id}/media",
            post(media::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route("/{id}/uploads", post(start_upload))
        .route(
            "/{id}",
            post(transfer_upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
                .get(node)
                .delete(delete_node),
        )
        .fallback(unknown_path)
}

// ---------------------------------------------------------------------------
// Request parameters
// ---------------------------------------------------------------------------

/// A Graph request's inputs. Graph takes parameters from the query string or
/// a form-encoded body alike, and the access token also from an
/// `Authorization: Bearer …` (or `OAuth …`) header.
pub(crate) struct GraphRequest {
    params: HashMap<String, String>,
    body: Bytes,
    is_form: bool,
}

impl<S: Send + Sync> FromRequest<S> for GraphRequest {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 4 * 1024 * 1024)
            .await
            .map_err(|_| GraphError::param("(#100) Request body too large or unreadable").into_response())?;
        let is_form = content_type(&parts.headers).starts_with("application/x-www-form-urlencoded");
        let mut params = HashMap::new();
        if let Some(query) = parts.uri.query() {
            params.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        }
        if is_form {
            for (key, value) in url::form_urlencoded::parse(&body).into_owned() {
                params.entry(key).or_insert(value);
            }
        }
        if !params.contains_key("access_token")
            && let Some(token) = authorization_token(&parts.headers)
        {
            params.insert("access_token".to_owned(), token);
        }
        Ok(Self { params, body, is_form })
    }
}

impl GraphRequest {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    pub(crate) fn access_token(&self) -> Option<&str> {
        self.get("access_token")
    }

    /// Every parameter: query string, form body, and a header token as
    /// `access_token` (Graph repeats them in `paging.next` URLs).
    pub(crate) fn params(&self) -> &HashMap<String, String> {
        &self.params
    }

    /// `fields=a,b{c,d},e` as the top-level names (`a`, `b`, `e`); `None`
    /// when absent.
    pub(crate) fn fields(&self) -> Option<Vec<&str>> {
        self.get("fields")
            .map(|f| parse_fields(f).into_iter().map(|(name, _)| name).collect())
    }

    /// The nested field list of a field expansion, e.g. for
    /// `instagram_business_account{id,username}`: `Some(["id", "username"])`.
    /// `Some([])` when the field is asked for without a list, `None` when it
    /// is not asked for.
    pub(crate) fn subfields(&self, name: &str) -> Option<Vec<&str>> {
        let (_, nested) = parse_fields(self.get("fields")?)
            .into_iter()
            .find(|(field, _)| *field == name)?;
        Some(
            nested
                .map(|n| parse_fields(n).into_iter().map(|(f, _)| f).collect())
                .unwrap_or_default(),
        )
    }

    /// The Send API body. Usually JSON; Meta's own curl examples instead pass
    /// `recipient={'id':'…'}&message={'text':'…'}` as parameters, so that
    /// form is accepted too.
    pub(crate) fn send_api_body(&self) -> Result<Value, GraphError> {
        if !self.body.is_empty() && !self.is_form {
            return serde_json::from_slice(&self.body)
                .map_err(|_| GraphError::param("(#100) Could not parse the request body as JSON"));
        }
        let mut body = serde_json::Map::new();
        for (key, raw) in &self.params {
            if key == "access_token" {
                continue;
            }
            let value = serde_json::from_str(raw)
                .or_else(|_| serde_json::from_str(&raw.replace('\'', "\"")))
                .unwrap_or_else(|_| Value::String(raw.clone()));
            body.insert(key.clone(), value);
        }
        Ok(Value::Object(body))
    }
}

/// Splits a `fields` value at top-level commas: `a,b{c,d}` →
/// `[("a", None), ("b", Some("c,d"))]`.
pub(crate) fn parse_fields(raw: &str) -> Vec<(&str, Option<&str>)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in raw.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                split_field(&raw[start..i], &mut out);
                start = i + 1;
            }
            _ => {}
        }
    }
    split_field(&raw[start..], &mut out);
    out
}

fn split_field<'a>(part: &'a str, out: &mut Vec<(&'a str, Option<&'a str>)>) {
    let part = part.trim();
    if part.is_empty() {
        return;
    }
    match part.split_once('{') {
        Some((name, rest)) => out.push((name.trim(), Some(rest.strip_suffix('}').unwrap_or(rest)))),
        None => out.push((part, None)),
    }
}

/// The access token of a request whose body is not read as a Graph
/// request (multipart uploads): `access_token` in the query string, else
/// the `Authorization` header.
pub(crate) fn token_of(uri: &Uri, headers: &HeaderMap) -> Option<String> {
    uri.query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        })
        .or_else(|| authorization_token(headers))
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub(crate) fn authorization_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth");
    known.then(|| token.trim().to_owned())
}

/// The Graph error for a token that is not what the endpoint needs.
pub(crate) fn token_error(kind: TokenKind) -> GraphError {
    match kind {
        TokenKind::Missing => GraphError::missing_token(),
        TokenKind::Expired { at_ms } => GraphError::expired_token(at_ms),
        TokenKind::Invalid | TokenKind::User | TokenKind::Page(_) | TokenKind::Waba(_) => GraphError::invalid_token(),
    }
}

/// The page a Page token acts for. With `expected` (the page id in the URL)
/// the token must belong to that page.
fn page_for_token(world: &World, token: Option<&str>, expected: Option<&str>) -> Result<String, GraphError> {
    match world.classify_token(token) {
        TokenKind::Page(id) if expected.is_none_or(|e| e == id) => Ok(id),
        other => Err(token_error(other)),
    }
}

/// Keeps only the requested fields (plus `id`, which Graph always returns).
pub(crate) fn select_fields(full: Value, fields: Option<&[&str]>) -> Value {
    let (Some(fields), Value::Object(map)) = (fields, &full) else {
        return full;
    };
    let kept = map
        .iter()
        .filter(|(key, _)| key.as_str() == "id" || fields.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    Value::Object(kept)
}

// ---------------------------------------------------------------------------
// Facebook Login
// ---------------------------------------------------------------------------

/// The login dialog. Meta shows the person's account and asks them to
/// continue; continuing redirects to `redirect_uri?code=…&state=…`,
/// cancelling to `redirect_uri?error_reason=user_denied&error=access_denied
/// &error_code=200&error_description=Permissions+error&state=…`.
async fn oauth_dialog(State(shared): AppState, Query(q): Query<HashMap<String, String>>) -> Response {
    let client_id = q.get("client_id").map(String::as_str).unwrap_or("");
    let state = q.get("state").map(String::as_str);
    let (app_id, user_name) = {
        let world = shared.lock();
        (world.app_id.clone(), world.user_name.clone())
    };
    if client_id != app_id {
        return dialog_error(
            "Invalid App ID",
            "The provided app ID does not look like a valid app ID.",
        );
    }
    let raw_redirect = q.get("redirect_uri").map(String::as_str).unwrap_or("");
    let Ok(redirect) = url::Url::parse(raw_redirect) else {
        return dialog_error(
            "Invalid redirect_uri",
            "The redirect_uri parameter is missing or is not a URL.",
        );
    };
    // The exchange must repeat redirect_uri exactly as sent here.
    let code = shared.lock().issue_code(raw_redirect);

    let mut continue_url = redirect.clone();
    continue_url.query_pairs_mut().append_pair("code", &code);
    let mut cancel_url = redirect;
    cancel_url
        .query_pairs_mut()
        .append_pair("error_reason", "user_denied")
        .append_pair("error", "access_denied")
        .append_pair("error_code", "200")
        .append_pair("error_description", "Permissions error");
    if let Some(state) = state {
        continue_url.query_pairs_mut().append_pair("state", state);
        cancel_url.query_pairs_mut().append_pair("state", state);
    }

    let scopes = q.get("scope").map(String::as_str).unwrap_or("public_profile");
    let scope_items: String = scopes
        // Meta accepts comma- or space-separated permissions.
        .split([',', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("<li><code>{}</code></li>", escape_html(s.trim())))
        .collect();
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in to Facebook (fake)</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #f0f2f5; display: grid; place-items: center; min-height: 100vh; margin: 0; }}
 main {{ background: #fff; border-radius: 8px; box-shadow: 0 2px 12px #0002; padding: 24px 32px; max-width: 420px; }}
 h1 {{ color: #1877f2; font-size: 22px; }}
 a.button {{ display: block; text-align: center; background: #1877f2; color: #fff; padding: 10px; border-radius: 6px; text-decoration: none; font-weight: 600; margin-top: 16px; }}
 a.cancel {{ display: block; text-align: center; color: #65676b; margin-top: 10px; }}
</style></head>
<body><main>
 <h1>Log in to Facebook (fake)</h1>
 <p>App <code>{app_id}</code> is requesting access to:</p>
 <ul>{scope_items}</ul>
 <a class="button" id="fake-fb-continue" href="{continue_href}">Continue as {user}</a>
 <a class="cancel" id="fake-fb-cancel" href="{cancel_href}">Cancel</a>
</main></body></html>"#,
        app_id = escape_html(&app_id),
        user = escape_html(&user_name),
        continue_href = escape_html(continue_url.as_str()),
        cancel_href = escape_html(cancel_url.as_str()),
    ))
    .into_response()
}

fn dialog_error(title: &str, detail: &str) -> Response {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error (fake Facebook)</title></head>\
         <body><h1 id=\"fake-fb-error\">{}</h1><p>{}</p></body></html>",
        escape_html(title),
        escape_html(detail)
    );
    (StatusCode::BAD_REQUEST, Html(page)).into_response()
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Exchanges a login code for a user access token. Codes are single use and
/// the `redirect_uri` must repeat the dialog's exactly, as on Meta. Also
/// handles `grant_type=fb_exchange_token` (short- to long-lived token).
async fn access_token(State(shared): AppState, req: GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    if req.get("client_id") != Some(world.app_id.as_str()) {
        return Err(GraphError::new(
            101,
            "Error validating application. Invalid application ID.",
        ));
    }
    if req.get("client_secret") != Some(world.app_secret.as_str()) {
        return Err(GraphError::new(1, "Error validating client secret."));
    }

    if req.get("grant_type") == Some("fb_exchange_token") {
        return match world.classify_token(req.get("fb_exchange_token")) {
            TokenKind::User => {
                let token = world.issue_user_token();
                world.long_lived_tokens.insert(token.clone());
                Ok(user_token_response(token))
            }
            other => Err(token_error(other)),
        };
    }

    let code = req.get("code").unwrap_or("");
    let Some(grant) = world.codes.get_mut(code) else {
        return Err(GraphError::param("Invalid verification code format."));
    };
    if grant.used {
        return Err(GraphError::param("This authorization code has been used.").subcode(36009));
    }
    if req.get("redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(GraphError::param(
            "Error validating verification code. Please make sure your redirect_uri is identical \
             to the one you used in the OAuth dialog request",
        )
        .subcode(36008));
    }
    grant.used = true;
    Ok(user_token_response(world.issue_user_token()))
}

fn user_token_response(token: String) -> Json<Value> {
    Json(json!({ "access_token": token, "token_type": "bearer", "expires_in": USER_TOKEN_EXPIRES_IN }))
}

// ---------------------------------------------------------------------------
// Users and Pages
// ---------------------------------------------------------------------------

/// `/me`: the user behind a user token, or the page behind a Page token.
async fn me(State(shared): AppState, req: GraphRequest) -> GraphResult {
    let world = shared.lock();
    let full = match world.classify_token(req.access_token()) {
        TokenKind::User => json!({ "name": world.user_name, "id": world.user_id }),
        TokenKind::Page(id) => match world.page(&id) {
            Some(page) => json!({ "name": page.name, "id": page.id }),
            None => return Err(GraphError::invalid_token()),
        },
        // A WABA token belongs to a system user of the business.
        TokenKind::Waba(id) => json!({
            "name": format!("{} System User", world.wa.waba(&id).map_or("WhatsApp", |w| w.name.as_str())),
            "id": format!("61{id:0>12}"),
        }),
        other => return Err(token_error(other)),
    };
    Ok(Json(select_fields(full, req.fields().as_deref())))
}

/// `GET /me/businesses` (WhatsApp onboarding).
async fn me_businesses(State(shared): AppState, req: GraphRequest) -> GraphResult {
    whatsapp::my_businesses(&shared, &req)
}

/// `/me/accounts`: the Pages the user manages, each with a Page access
/// token. Expired Page tokens are replaced here, like logging in again.
async fn me_accounts(State(shared): AppState, req: GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    match world.classify_token(req.access_token()) {
        TokenKind::User => {}
        // Meta: a Page node has no `accounts` edge.
        TokenKind::Page(_) => {
            return Err(GraphError::param(
                "(#100) Tried accessing nonexisting field (accounts) on node type (Page)",
            ));
        }
        other => return Err(token_error(other)),
    }
    world.renew_expired_page_tokens();
    let fields = req.fields();
    // `fields=…,instagram_business_account{id,username,…}` expands the
    // linked Instagram professional account; pages without one leave the
    // field out, as Graph does.
    let ig_fields = req.subfields("instagram_business_account");
    let data: Vec<Value> = world
        .pages
        .iter()
        .map(|page| {
            let mut full = json!({
                "access_token": page.token,
                "category": page.category,
                "category_list": [{ "id": "2500", "name": page.category }],
                "name": page.name,
                "id": page.id,
                "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            });
            if let (Some(sub), Some(account)) = (&ig_fields, world.ig.account_for_page(&page.id)) {
                full["instagram_business_account"] = instagram::account_node(&shared.base_url, account, sub);
            }
            select_fields(full, fields.as_deref())
        })
        .collect();
    let first = world.pages.first().map(|p| p.id.as_str()).unwrap_or("");
    let last = world.pages.last().map(|p| p.id.as_str()).unwrap_or("");
    Ok(Json(json!({
        "data": data,
        "paging": { "cursors": { "before": format!("cursor-{first}"), "after": format!("cursor-{last}") } },
    })))
}

/// `GET /{id}` with a Page token: a customer's profile (User Profile API) or
/// the page itself. With a user token: a page the user manages. WhatsApp
/// objects (business, WABA, phone number, template, media) and Instagram
/// accounts and customers are answered by their own modules.
async fn start_upload(State(shared): AppState, Path(app_id): Path<String>, req: GraphRequest) -> GraphResult {
    resumable::start(&shared, &app_id, &req)
}

/// `POST /upload:{session}` (Resumable Upload API); no other node takes a POST.
async fn transfer_upload(
    State(shared): AppState,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> GraphResult {
    if !id.starts_with("upload:") {
        return Err(GraphError::unsupported("post", &id));
    }
    resumable::transfer(&shared, &id, &headers, &body)
}

async fn node(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    if id.starts_with("upload:") {
        return resumable::status(&shared, &id)
            .map(Json)
            .ok_or_else(|| GraphError::unsupported("get", &id));
    }
    if let Some(answer) = whatsapp::node(&shared, &id, &req) {
        return answer;
    }
    if let Some(answer) = instagram::node(&shared, &id, &req) {
        return answer;
    }
    let world = shared.lock();
    let fields = req.fields();
    let full = match world.classify_token(req.access_token()) {
        TokenKind::Page(page_id) if page_id == id => page_node(&world, &shared.base_url, &id, false, &req),
        TokenKind::Page(page_id) => world.customer(&page_id, &id).map(|c| {
            let pic = c
                .profile_pic
                .clone()
                .unwrap_or_else(|| format!("{}/_fake/avatar/{}.svg", shared.base_url, c.psid));
            json!({
                "first_name": c.first_name,
                "last_name": c.last_name,
                "name": format!("{} {}", c.first_name, c.last_name),
                "profile_pic": pic,
                "id": c.psid,
            })
        }),
        // A user token can read a managed page, including its Page token
        // (`GET /{page-id}?fields=access_token`).
        TokenKind::User => page_node(&world, &shared.base_url, &id, true, &req),
        TokenKind::Waba(_) => None,
        other => return Err(token_error(other)),
    };
    let Some(full) = full else {
        return Err(GraphError::unsupported_get(&id));
    };
    let default_fields: &[&str] = if full.get("first_name").is_some() {
        &["first_name", "last_name", "profile_pic"]
    } else {
        &["name"]
    };
    Ok(Json(select_fields(
        full,
        Some(fields.as_deref().unwrap_or(default_fields)),
    )))
}

fn page_node(world: &World, base_url: &str, id: &str, with_token: bool, req: &GraphRequest) -> Option<Value> {
    let page = world.page(id)?;
    let mut node = json!({ "name": page.name, "category": page.category, "id": page.id });
    if with_token {
        node["access_token"] = json!(page.token);
    }
    if let (Some(sub), Some(account)) = (
        req.subfields("instagram_business_account"),
        world.ig.account_for_page(id),
    ) {
        node["instagram_business_account"] = instagram::account_node(base_url, account, &sub);
    }
    Some(node)
}

/// `DELETE /{id}`: only media objects can be deleted.
async fn delete_node(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    media::delete(&shared, &id, &req)
}

async fn owned_wabas(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    whatsapp::owned_wabas(&shared, &id, &req)
}

async fn phone_numbers(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    whatsapp::phone_numbers(&shared, &id, &req)
}

async fn list_templates(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    templates::list(&shared, &id, &req)
}

async fn create_template(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    templates::create(&shared, &id, &req)
}

async fn delete_templates(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    templates::delete(&shared, &id, &req)
}

// ---------------------------------------------------------------------------
// Page webhook subscriptions
// ---------------------------------------------------------------------------

async fn list_subscribed(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    if whatsapp::is_waba(&shared, &id) {
        return whatsapp::list_subscribed(&shared, &id, &req);
    }
    list_subscribed_apps(&shared, Some(&id), &req)
}

async fn list_subscribed_as_me(State(shared): AppState, req: GraphRequest) -> GraphResult {
    list_subscribed_apps(&shared, None, &req)
}

async fn subscribe(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    if whatsapp::is_waba(&shared, &id) {
        return whatsapp::subscribe(&shared, &id, &req);
    }
    subscribe_app(&shared, Some(&id), &req)
}

async fn subscribe_as_me(State(shared): AppState, req: GraphRequest) -> GraphResult {
    subscribe_app(&shared, None, &req)
}

async fn unsubscribe(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    if whatsapp::is_waba(&shared, &id) {
        return whatsapp::unsubscribe(&shared, &id, &req);
    }
    unsubscribe_app(&shared, Some(&id), &req)
}

async fn unsubscribe_as_me(State(shared): AppState, req: GraphRequest) -> GraphResult {
    unsubscribe_app(&shared, None, &req)
}

/// `GET /{page-id}/subscribed_apps`: `{"data":[{app…, "subscribed_fields"}]}`.
fn list_subscribed_apps(shared: &Shared, path_page: Option<&str>, req: &GraphRequest) -> GraphResult {
    let world = shared.lock();
    let page_id = page_for_token(&world, req.access_token(), path_page)?;
    let data: Vec<Value> = world
        .subscriptions
        .get(&page_id)
        .map(|fields| {
            vec![json!({
                "category": "Business",
                "link": "https://messio.example/",
                "name": "Messio",
                "id": world.app_id,
                "subscribed_fields": fields,
            })]
        })
        .unwrap_or_default();
    Ok(Json(json!({ "data": data })))
}

/// `POST /{page-id}/subscribed_apps?subscribed_fields=messages,…`: the app
/// starts receiving the page's webhooks. Meta requires `subscribed_fields`.
fn subscribe_app(shared: &Shared, path_page: Option<&str>, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    let page_id = page_for_token(&world, req.access_token(), path_page)?;
    let fields: Vec<String> = req
        .get("subscribed_fields")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if fields.is_empty() {
        return Err(GraphError::param("(#100) The parameter subscribed_fields is required"));
    }
    tracing::info!(page_id, ?fields, "fake-meta: app subscribed to page");
    world.subscriptions.insert(page_id, fields);
    Ok(Json(json!({ "success": true })))
}

/// `DELETE /{page-id}/subscribed_apps`: the app stops receiving webhooks.
fn unsubscribe_app(shared: &Shared, path_page: Option<&str>, req: &GraphRequest) -> GraphResult {
    let mut world = shared.lock();
    let page_id = page_for_token(&world, req.access_token(), path_page)?;
    world.subscriptions.remove(&page_id);
    Ok(Json(json!({ "success": true })))
}

// ---------------------------------------------------------------------------
// Send API
// ---------------------------------------------------------------------------

/// `POST /{id}/messages`: the Cloud API for a WhatsApp phone number id, the
/// Send API for a Page (or for the Page behind an Instagram account id).
///
/// A message that points at a file by URL gets the file fetched here,
/// before the world is locked (see `fetch.rs`).
async fn send_for_id(State(shared): AppState, Path(id): Path<String>, req: GraphRequest) -> GraphResult {
    if whatsapp::is_phone(&shared, &id) {
        let prefetched = match req.send_api_body() {
            Ok(body) if whatsapp::may_send(&shared, &id, &req) => fetch::whatsapp_link(&shared.http, &body).await,
            _ => None,
        };
        return whatsapp::send_message(&shared, &id, &req, prefetched);
    }
    let ig_page = shared.lock().ig.account(&id).map(|a| a.page_id.clone());
    let page_id = ig_page.unwrap_or(id);
    let body = req.send_api_body()?;
    let prefetched = prefetch_send_api(&shared, Some(&page_id), &req, &body).await;
    send_message(&shared, Some(&page_id), &req, &body, prefetched)
}

async fn send_as_me(State(shared): AppState, req: GraphRequest) -> GraphResult {
    let body = req.send_api_body()?;
    let prefetched = prefetch_send_api(&shared, None, &req, &body).await;
    send_message(&shared, None, &req, &body, prefetched)
}

/// Fetches the Send API message's attachment URL, if it has one and the
/// token may send for the page (a request that fails its token check is
/// answered without fetching anything).
async fn prefetch_send_api(
    shared: &Shared,
    path_page: Option<&str>,
    req: &GraphRequest,
    body: &Value,
) -> fetch::Prefetched {
    let authorized = page_for_token(&shared.lock(), req.access_token(), path_page).is_ok();
    if !authorized {
        return None;
    }
    fetch::send_api_link(&shared.http, body).await
}

/// The Send API. Checks run in Meta's order of concern: token, recipient,
/// message, then policy (the 24-hour standard messaging window), then the
/// attachment download (`prefetched`, done by the caller).
fn send_message(
    shared: &Arc<Shared>,
    path_page: Option<&str>,
    req: &GraphRequest,
    body: &Value,
    prefetched: fetch::Prefetched,
) -> GraphResult {
    let mut world = shared.lock();
    let page_id = page_for_token(&world, req.access_token(), path_page)?;

    let recipient = match body.pointer("/recipient/id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => {
            return Err(GraphError::param("(#100) The parameter recipient is required"));
        }
    };

    // A sender action (typing_on, mark_seen…) has no message and no mid.
    if body.get("message").is_none() && body.get("sender_action").is_some() {
        return Ok(Json(json!({ "recipient_id": recipient })));
    }
    let message = body.get("message").cloned().unwrap_or(Value::Null);
    let has_text = message
        .get("text")
        .and_then(Value::as_str)
        .is_some_and(|t| !t.is_empty());
    if !has_text && message.get("attachment").is_none() {
        return Err(
            GraphError::param("(#100) Message cannot be empty, must provide valid attachment or text")
                .subcode(2_018_034),
        );
    }

    // An Instagram-scoped id of the Page's Instagram account: Messenger API
    // for Instagram, same endpoint and answer.
    if world.customer(&page_id, &recipient).is_none()
        && let Some(ig_id) = world
            .ig
            .account_for_page(&page_id)
            .filter(|a| a.customers.iter().any(|c| c.igsid == recipient))
            .map(|a| a.id.clone())
    {
        drop(world);
        return instagram::send(shared, &page_id, &ig_id, &recipient, body, prefetched);
    }

    if world.customer(&page_id, &recipient).is_none() {
        return Err(GraphError::param("(#100) No matching user found").subcode(2_018_001));
    }

    // Outside the 24-hour window only tagged messages
    // (`messaging_type: MESSAGE_TAG` + `tag`, e.g. HUMAN_AGENT) may be sent.
    let tagged = body.get("messaging_type").and_then(Value::as_str) == Some("MESSAGE_TAG")
        && body.get("tag").and_then(Value::as_str).is_some_and(|t| !t.is_empty());
    if world.outside_window.contains(&recipient) && !tagged {
        return Err(GraphError::new(
            10,
            "(#10) This message is sent outside of allowed window. Learn more about the new policy \
             here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        )
        .subcode(2_018_278));
    }

    let attachment = prefetched.transpose()?;

    let message_id = format!("m_{}", random_string(40));
    let timestamp_ms = now_ms();
    tracing::info!(page_id, recipient, message_id, "fake-meta: Send API accepted a message");
    world.sent.push(SentMessage {
        platform: Platform::Messenger,
        page_id: page_id.clone(),
        instagram_id: None,
        recipient_id: recipient.clone(),
        body: body.clone(),
        message_id: message_id.clone(),
        timestamp_ms,
        attachment,
    });

    // Meta then notifies the app of its own message (`message_echoes`).
    if let (true, Some(url)) = (world.echo, world.webhook_url.clone()) {
        let echo = echo_of(&page_id, &recipient, &message_id, &message, &world.app_id, timestamp_ms);
        let secret = world.app_secret.clone();
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            tokio::time::sleep(ECHO_DELAY).await;
            deliver(&shared.http, &url, &secret, &echo).await;
        });
    }

    Ok(Json(json!({ "recipient_id": recipient, "message_id": message_id })))
}

/// Any other path: Graph's "Unknown path components" (code 2500).
async fn unknown_path(uri: Uri) -> GraphError {
    GraphError::new(2500, format!("Unknown path components: {}", uri.path()))
}
