//! "Connect Facebook": the OAuth dialog (oauth2 crate), the code exchange (then a long-lived
//! token, sent in a form body, never a URL), and what the user manages — pages, the
//! Instagram accounts linked to them, WhatsApp numbers — kept for 30 minutes while the
//! Settings page offers them to pick from (`connect.rs` connects the picks).

use super::graph::Graph;
use crate::channels::SendError;
use crate::channels::gateway::upstream;
use crate::channels::instagram::{INSTAGRAM_ACCOUNT_FIELDS, InstagramAccount};
use crate::channels::whatsapp::ManagedNumber;
use crate::state::AppState;
use app::auth::ssr::{authenticate, require_manager};
use app::error::{AppError, AppResult};
use app::model::{Id, User};
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
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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
    let graph = &state.adapters.messenger.graph;
    let user_token = match long_lived_user_token(graph, &short_lived).await {
        Ok(long_lived) => long_lived,
        Err(error) => {
            tracing::warn!(%error, "could not exchange the Facebook login for a long-lived token");
            short_lived
        }
    };
    let pages = match managed_pages(graph, &user_token).await {
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

/// A page listed by `/me/accounts` after Facebook login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedPage {
    pub id: String,
    pub name: String,
    pub access_token: String,
    #[serde(default)]
    pub category: Option<String>,
    /// The Instagram professional account linked to the page, when there is one.
    #[serde(default)]
    pub instagram_business_account: Option<InstagramAccount>,
}

/// Pages listed 100 at a time; 20 pages of them is more than anyone manages.
const MAX_PAGE_LISTS: usize = 20;

/// Exchanges a login's short-lived user token for a long-lived one (about 60 days); page
/// tokens read with it do not expire, and WhatsApp numbers keep working. The app secret and
/// the token go in the form body, where Graph reads parameters as it does from a query.
pub async fn long_lived_user_token(graph: &Graph, user_token: &str) -> Result<String, SendError> {
    let config = graph.config();
    let body = graph
        .call_as_app(graph.post("oauth/access_token").form(&[
            ("grant_type", "fb_exchange_token"),
            ("client_id", config.app_id.as_str()),
            ("client_secret", config.app_secret.as_str()),
            ("fb_exchange_token", user_token),
        ]))
        .await?;
    body.get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .ok_or_else(|| SendError::Rejected("Meta returned no long-lived token".into()))
}

/// The pages the logged-in user manages, with a page token and linked Instagram account
/// each (follows paging).
pub async fn managed_pages(graph: &Graph, user_token: &str) -> Result<Vec<ManagedPage>, SendError> {
    let fields = format!("id,name,access_token,category,tasks,{INSTAGRAM_ACCOUNT_FIELDS}");
    let query = [("fields", fields.as_str()), ("limit", "100")];
    let items = graph.collect("me/accounts", &query, user_token, MAX_PAGE_LISTS).await?;
    Ok(items
        .into_iter()
        .filter_map(|page| serde_json::from_value(page).ok())
        .collect())
}

const LOGIN_TTL: Duration = Duration::from_secs(30 * 60);

/// A Facebook login in progress: the OAuth `state` we sent, then the pages it found.
struct Pending<T> {
    organization_id: Id,
    user_id: Id,
    created: Instant,
    value: T,
}

/// What a finished Facebook login found, waiting to be picked.
#[derive(Debug, Clone, Default)]
pub struct LoginFindings {
    /// Pages, each with its page token and linked Instagram account (if any).
    pub pages: Vec<ManagedPage>,
    /// WhatsApp phone numbers of the businesses the user manages.
    pub numbers: Vec<ManagedNumber>,
    /// The user's token: WhatsApp numbers picked from this login are reached with it.
    pub user_token: String,
}

/// Short-lived Facebook-login state, kept in memory for 30 minutes.
#[derive(Default)]
pub struct PendingLogins {
    states: Mutex<HashMap<String, Pending<()>>>,
    picks: Mutex<HashMap<String, Pending<LoginFindings>>>,
}

impl PendingLogins {
    pub fn remember_state(&self, state: &str, user: &User) {
        if let Ok(mut states) = self.states.lock() {
            states.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
            states.insert(
                state.to_string(),
                Pending {
                    organization_id: user.organization_id,
                    user_id: user.id,
                    created: Instant::now(),
                    value: (),
                },
            );
        }
    }

    /// Takes the OAuth state back (once); returns who started the login.
    pub fn take_state(&self, state: &str) -> Option<(Id, Id)> {
        let mut states = self.states.lock().ok()?;
        let pending = states.remove(state)?;
        (pending.created.elapsed() < LOGIN_TTL).then_some((pending.organization_id, pending.user_id))
    }

    pub fn remember_findings(&self, organization_id: Id, user_id: Id, findings: LoginFindings) -> String {
        let pick_id = app::auth::ssr::new_token().0;
        if let Ok(mut picks) = self.picks.lock() {
            picks.retain(|_, p| p.created.elapsed() < LOGIN_TTL);
            picks.insert(
                pick_id.clone(),
                Pending {
                    organization_id,
                    user_id,
                    created: Instant::now(),
                    value: findings,
                },
            );
        }
        pick_id
    }

    pub(crate) fn findings(&self, pick_id: &str, user: &User) -> AppResult<LoginFindings> {
        let picks = self.picks.lock().map_err(|_| AppError::Internal)?;
        match picks.get(pick_id) {
            Some(p)
                if p.organization_id == user.organization_id
                    && p.user_id == user.id
                    && p.created.elapsed() < LOGIN_TTL =>
            {
                Ok(p.value.clone())
            }
            _ => Err(AppError::invalid(
                "this Facebook login has expired; please connect again",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn managed_pages_carry_their_instagram_account() {
        // Shape of `GET /me/accounts?fields=…,instagram_business_account{…}`: the linked
        // account is nested under the page, absent when none is linked.
        let pages: Vec<ManagedPage> = serde_json::from_value(json!([
            { "id": "134895793791914", "name": "Acme Shoes", "access_token": "EAAB", "category": "Shoes",
              "instagram_business_account": { "id": "17841405822304914", "username": "acmeshoes",
                "name": "Acme Shoes", "profile_picture_url": "https://scontent.xx.fbcdn.net/p.jpg" } },
            { "id": "101", "name": "No Instagram", "access_token": "EAAC" }
        ]))
        .expect("pages");
        assert_eq!(
            pages[0]
                .instagram_business_account
                .as_ref()
                .map(|a| (a.id.as_str(), a.username.as_deref())),
            Some(("17841405822304914", Some("acmeshoes")))
        );
        assert_eq!(pages[1].instagram_business_account, None);
    }

    #[tokio::test]
    async fn a_login_becomes_a_long_lived_token_and_its_pages() {
        let fake = fake_meta::FakeMeta::spawn(fake_meta::FakeMetaConfig::default())
            .await
            .expect("fake Meta");
        let graph = Graph::new(
            crate::config::MetaConfig {
                app_id: fake.app_id(),
                app_secret: fake.app_secret(),
                verify_token: "verify".into(),
                graph_url: fake.graph_url(),
                dialog_url: fake.dialog_url(),
            },
            super::super::errors::Wording::Pages,
        );
        let short_lived = fake.issue_user_token();
        let long_lived = long_lived_user_token(&graph, &short_lived).await.expect("exchange");
        assert!(fake.is_long_lived(&long_lived));
        assert!(matches!(
            long_lived_user_token(&graph, "stale").await,
            Err(SendError::Auth(_))
        ));
        let pages = managed_pages(&graph, &long_lived).await.expect("pages");
        let found: Vec<_> = pages
            .iter()
            .map(|p| {
                (
                    p.id.as_str(),
                    p.access_token.as_str(),
                    p.instagram_business_account.as_ref().map(|a| a.id.as_str()),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                ("101", "page-token-101", Some("17841400000000101")),
                ("102", "page-token-102", None)
            ]
        );
        super::super::graph::assert_no_token_in_urls(&fake);
    }
}
