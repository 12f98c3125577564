//! Accounts and sessions: signup creates an organization and its owner; login, logout,
//! invites and team members. Server functions for the web app; `ssr` holds the helpers.

use crate::error::AppError;
use crate::model::{Organization, Role, User};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod ssr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignupRequest {
    pub organization: String,
    pub name: String,
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub user: User,
    pub organization: Organization,
    /// Past how many segments the composer warns that an SMS is long (each is billed);
    /// `MESSIO_SMS_SEGMENT_WARNING`.
    #[serde(default = "default_sms_segment_warning")]
    pub sms_segment_warning: usize,
}

pub const DEFAULT_SMS_SEGMENT_WARNING: usize = 3;

fn default_sms_segment_warning() -> usize {
    DEFAULT_SMS_SEGMENT_WARNING
}

/// The REST answer to signup and login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub token: String,
    pub user: User,
    pub organization: Organization,
}

#[cfg(feature = "ssr")]
pub(crate) mod context {
    //! What a server function needs from the request it runs in.
    use crate::error::{AppError, AppResult};
    use crate::model::User;
    use crate::services::SharedServices;
    use axum::http::{HeaderMap, HeaderValue, header};
    use leptos::prelude::*;

    pub fn services() -> AppResult<SharedServices> {
        use_context::<SharedServices>().ok_or_else(|| {
            tracing::error!("services missing from the server function context");
            AppError::Internal
        })
    }

    pub async fn headers() -> AppResult<HeaderMap> {
        leptos_axum::extract::<HeaderMap>()
            .await
            .map_err(|_| AppError::Internal)
    }

    pub async fn user() -> AppResult<User> {
        let services = services()?;
        super::ssr::authenticate(services.store.as_ref(), &headers().await?).await
    }

    pub fn set_cookie(value: &str) {
        if let (Some(response), Ok(value)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            HeaderValue::from_str(value),
        ) {
            response.append_header(header::SET_COOKIE, value);
        }
    }

    pub fn client_address(headers: &HeaderMap) -> Option<String> {
        headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
    }
}

/// The signed-in user, or `None` for a visitor.
#[server(prefix = "/rpc")]
pub async fn get_session() -> Result<Option<SessionInfo>, AppError> {
    let services = context::services()?;
    match context::user().await {
        Ok(user) => Ok(Some(services.session(user).await?)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(other) => Err(other),
    }
}

#[server(prefix = "/rpc")]
pub async fn signup(
    organization: String,
    name: String,
    email: String,
    password: String,
) -> Result<SessionInfo, AppError> {
    let services = context::services()?;
    let (token, session) = services
        .signup(SignupRequest {
            organization,
            name,
            email,
            password,
        })
        .await?;
    context::set_cookie(&ssr::session_cookie(&token, services.secure_cookies));
    leptos_axum::redirect("/inbox");
    Ok(session)
}

#[server(prefix = "/rpc")]
pub async fn login(email: String, password: String) -> Result<SessionInfo, AppError> {
    let services = context::services()?;
    let client = context::client_address(&context::headers().await?);
    let (token, session) = services.login(LoginRequest { email, password }, client).await?;
    context::set_cookie(&ssr::session_cookie(&token, services.secure_cookies));
    leptos_axum::redirect("/inbox");
    Ok(session)
}

#[server(prefix = "/rpc")]
pub async fn logout() -> Result<(), AppError> {
    let services = context::services()?;
    if let Some(token) = ssr::cookie_token(&context::headers().await?) {
        services.logout(&token).await?;
    }
    context::set_cookie(&ssr::clear_session_cookie());
    leptos_axum::redirect("/login");
    Ok(())
}

/// Creates a one-time invite link for a new admin or agent; returns its token.
#[server(prefix = "/rpc")]
pub async fn create_invite(role: Role) -> Result<String, AppError> {
    let user = context::user().await?;
    context::services()?.create_invite(&user, role).await
}

#[server(prefix = "/rpc")]
pub async fn accept_invite(
    token: String,
    name: String,
    email: String,
    password: String,
) -> Result<SessionInfo, AppError> {
    let services = context::services()?;
    let (session_token, session) = services.accept_invite(&token, &name, &email, &password).await?;
    context::set_cookie(&ssr::session_cookie(&session_token, services.secure_cookies));
    leptos_axum::redirect("/inbox");
    Ok(session)
}

#[server(prefix = "/rpc")]
pub async fn list_team() -> Result<Vec<User>, AppError> {
    let user = context::user().await?;
    context::services()?.team(&user).await
}

#[server(prefix = "/rpc")]
pub async fn add_member(name: String, email: String, password: String, role: Role) -> Result<User, AppError> {
    let user = context::user().await?;
    context::services()?
        .add_member(&user, &name, &email, &password, role)
        .await
}
