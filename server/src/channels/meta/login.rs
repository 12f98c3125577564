//! "Connect Facebook": the OAuth dialog (oauth2 crate), the code exchange, and what the
//! user manages — pages, the Instagram accounts linked to them, WhatsApp numbers — which
//! the Settings page then offers to pick from.

use crate::channels::gateway::{LoginFindings, upstream};
use crate::state::AppState;
use app::auth::ssr::{authenticate, require_manager};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Redirect;
use axum::routing::get;
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, RedirectUrl, Scope, TokenResponse,
    TokenUrl,
};
use serde::Deserialize;

pub const START_PATH: &str = "/connect/facebook";
/// Permissions asked for in the Facebook login dialog: pages (Messenger), their Instagram
/// accounts, and the WhatsApp Business Accounts of the user's businesses.
pub const LOGIN_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
    "instagram_basic",
    "instagram_manage_messages",
    "business_management",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
];
pub const CALLBACK_PATH: &str = "/connect/facebook/callback";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(START_PATH, get(start))
        .route(CALLBACK_PATH, get(callback))
}

fn back_with_error(message: &str) -> Redirect {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("error", message)
        .finish();
    Redirect::to(&format!("/settings/channels?{query}"))
}

type ConfiguredClient = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn oauth_client(state: &AppState) -> Result<ConfiguredClient, String> {
    let meta = &state.config.meta;
    let bad = |e: url::ParseError| format!("the Meta URLs are misconfigured: {e}");
    Ok(BasicClient::new(ClientId::new(meta.app_id.clone()))
        .set_client_secret(ClientSecret::new(meta.app_secret.clone()))
        .set_auth_uri(AuthUrl::new(meta.dialog_url.clone()).map_err(bad)?)
        .set_token_uri(TokenUrl::new(format!("{}/oauth/access_token", meta.graph_url)).map_err(bad)?)
        .set_redirect_uri(RedirectUrl::new(format!("{}{CALLBACK_PATH}", state.config.public_url)).map_err(bad)?)
        // Meta expects the client id and secret as parameters, not HTTP Basic auth.
        .set_auth_type(AuthType::RequestBody))
}

async fn start(State(state): State<AppState>, headers: HeaderMap) -> Redirect {
    let user = match authenticate(state.services.store.as_ref(), &headers).await {
        Ok(user) => user,
        Err(_) => return Redirect::to("/login"),
    };
    if require_manager(&user).is_err() {
        return back_with_error("Only an owner or admin can connect channels.");
    }
    if !state.config.meta.login_available() {
        return back_with_error("Facebook login is not configured on this server (META_APP_ID / META_APP_SECRET).");
    }
    let client = match oauth_client(&state) {
        Ok(client) => client,
        Err(message) => return back_with_error(&message),
    };
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(LOGIN_SCOPES.iter().map(|s| Scope::new((*s).to_string())))
        .url();
    state.pending_logins.remember_state(csrf.secret(), &user);
    Redirect::to(url.as_str())
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(state): State<AppState>, Query(query): Query<CallbackQuery>) -> Redirect {
    if let Some(error) = query.error {
        let reason = query.error_description.unwrap_or(error);
        return back_with_error(&format!("Facebook login was cancelled: {reason}"));
    }
    let Some((organization_id, user_id)) = query.state.as_deref().and_then(|s| state.pending_logins.take_state(s))
    else {
        return back_with_error("This Facebook login expired or did not start here. Please try again.");
    };
    let Some(code) = query.code else {
        return back_with_error("Facebook did not return an authorization code.");
    };
    let client = match oauth_client(&state) {
        Ok(client) => client,
        Err(message) => return back_with_error(&message),
    };
    let http = state.adapters.messenger.graph.http().clone();
    let token = match client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
    {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(%error, "Facebook code exchange failed");
            return back_with_error("Facebook did not accept the login. Please try again.");
        }
    };
    let short_lived = token.access_token().secret().clone();
    let user_token = match state.adapters.messenger.graph.long_lived_user_token(&short_lived).await {
        Ok(long_lived) => long_lived,
        Err(error) => {
            tracing::warn!(%error, "could not exchange the Facebook login for a long-lived token");
            short_lived
        }
    };
    let pages = match state.adapters.messenger.graph.managed_pages(&user_token).await {
        Ok(pages) => pages,
        Err(error) => return back_with_error(&upstream(error).to_string()),
    };
    // A user without a business (or who declined the WhatsApp permissions) still connects pages.
    let numbers = match state.adapters.whatsapp.cloud.managed_numbers(&user_token).await {
        Ok(numbers) => numbers,
        Err(error) => {
            tracing::info!(%error, "no WhatsApp numbers from this Facebook login");
            Vec::new()
        }
    };
    if pages.is_empty() && numbers.is_empty() {
        return back_with_error(
            "This Facebook account manages no pages or WhatsApp numbers, or did not grant access to any.",
        );
    }
    let findings = LoginFindings {
        pages,
        numbers,
        user_token,
    };
    let pick = state
        .pending_logins
        .remember_findings(organization_id, user_id, findings);
    Redirect::to(&format!("/settings/channels/facebook?pick={pick}"))
}
