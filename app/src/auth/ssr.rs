//! Passwords, session tokens and the request authentication shared by the web app
//! (HttpOnly cookie) and the API and socket (bearer token).

use crate::error::{AppError, AppResult};
use crate::model::{Millis, User};
use crate::store::Store;
use crate::store::now_millis;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::{HeaderMap, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "messio_session";
pub const SESSION_TTL_MS: Millis = 30 * 24 * 60 * 60 * 1000;
pub const MIN_PASSWORD_LEN: usize = 8;

pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            AppError::Internal
        })
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash that takes as long to check as a real one, so a login for an unknown email
/// costs the same time as a wrong password and does not reveal which emails exist.
pub fn dummy_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("not-a-real-password").ok()) {
        let _ = verify_password(password, hash);
    }
}

/// A new random token (given to the client) and its hash (the only thing stored).
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub async fn start_session(store: &dyn Store, user: &User) -> AppResult<String> {
    let (token, hash) = new_token();
    store
        .create_session(&hash, user.id, now_millis() + SESSION_TTL_MS)
        .await?;
    Ok(token)
}

pub fn session_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        SESSION_TTL_MS / 1000
    )
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// The session token a request carries: `Authorization: Bearer …` first, then the cookie.
pub fn request_token(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))
    {
        return Some(token.trim().to_string());
    }
    cookie_token(headers)
}

pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

pub async fn user_for_token(store: &dyn Store, token: &str) -> AppResult<Option<User>> {
    Ok(store.session_user(&hash_token(token), now_millis()).await?)
}

pub async fn authenticate(store: &dyn Store, headers: &HeaderMap) -> AppResult<User> {
    let token = request_token(headers).ok_or(AppError::Unauthorized)?;
    user_for_token(store, &token).await?.ok_or(AppError::Unauthorized)
}

pub fn require_manager(user: &User) -> AppResult<()> {
    if user.role.can_manage() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only an owner or admin may do this".into()))
    }
}

pub fn validate_signup(name: &str, email: &str, password: &str) -> AppResult<()> {
    if name.trim().is_empty() {
        return Err(AppError::invalid("please enter your name"));
    }
    let email = email.trim();
    let valid_email = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.'));
    if !valid_email {
        return Err(AppError::invalid("please enter a valid email address"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(format!(
            "the password needs at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

/// Limits login attempts per email and per client address.
pub struct LoginLimiter {
    limiter: governor::DefaultKeyedRateLimiter<String>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(10)
    }
}

impl LoginLimiter {
    /// `per_minute` attempts per key, with the same burst.
    pub fn new(per_minute: u32) -> Self {
        let n = std::num::NonZeroU32::new(per_minute.max(1)).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(n)),
        }
    }

    pub fn check(&self, keys: &[String]) -> AppResult<()> {
        for key in keys {
            if self.limiter.check_key(key).is_err() {
                return Err(AppError::RateLimited);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse").expect("hash");
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=b; messio_session=cookie-token".parse().expect("header"),
        );
        assert_eq!(request_token(&headers).as_deref(), Some("cookie-token"));
        headers.insert(header::AUTHORIZATION, "Bearer api-token".parse().expect("header"));
        assert_eq!(request_token(&headers).as_deref(), Some("api-token"));
    }

    #[test]
    fn limiter_stops_a_burst() {
        let limiter = LoginLimiter::new(3);
        let key = vec!["a@example.com".to_string()];
        for _ in 0..3 {
            assert!(limiter.check(&key).is_ok());
        }
        assert_eq!(limiter.check(&key), Err(AppError::RateLimited));
    }
}
