//! Login sessions: a session is the hash of its token (the token itself is never stored),
//! the user it belongs to and when it expires.

use super::backend::{Backend, SqlStore};
use super::organizations::{USER_SELECT, user_from_row};
use super::{StoreResult, now_millis};
use crate::model::{Id, Millis, User};
use async_trait::async_trait;

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, token_hash: &str, user_id: Id, expires_at: Millis) -> StoreResult<()>;
    /// The user behind a session that has not expired at `now`.
    async fn session_user(&self, token_hash: &str, now: Millis) -> StoreResult<Option<User>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
}

#[async_trait]
impl<B: Backend> SessionStore for SqlStore<B> {
    async fn create_session(&self, token_hash: &str, user_id: Id, expires_at: Millis) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(user_id)
            .bind(now_millis())
            .bind(expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: Millis) -> StoreResult<Option<User>> {
        let sql =
            format!("{USER_SELECT} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > $2");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(|r| user_from_row(r).map(|c| c.user)).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
