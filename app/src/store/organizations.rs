//! Organizations and the people in them: the owner who signed up, the admins and agents
//! added or invited later, and their roles. A user belongs to one organization here; every
//! other concern is scoped by that organization.

use super::backend::{Backend, SqlStore};
use super::sql::{Conn, map_unique, parse};
use super::{StoreError, StoreResult, now_millis};
use crate::model::{Id, Millis, Organization, Role, User};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A user row with the password hash, for login only.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Creates an organization with its owner.
    async fn create_organization(
        &self,
        org_name: &str,
        owner_name: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<(Organization, User)>;
    async fn organization(&self, org_id: Id) -> StoreResult<Organization>;
    async fn add_user(&self, org_id: Id, name: &str, email: &str, password_hash: &str, role: Role)
    -> StoreResult<User>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>>;
    async fn users(&self, org_id: Id) -> StoreResult<Vec<User>>;
    async fn create_invite(
        &self,
        org_id: Id,
        token_hash: &str,
        role: Role,
        created_by: Id,
        expires_at: Millis,
    ) -> StoreResult<()>;
    /// Uses an invite once, creating the invited user.
    async fn accept_invite(
        &self,
        token_hash: &str,
        name: &str,
        email: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User>;
}

pub(super) const USER_SELECT: &str = "SELECT u.id, m.organization_id, u.name, u.email, m.role, u.password_hash \
    FROM users u JOIN memberships m ON m.user_id = u.id";

pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<Credentials> {
    Ok(Credentials {
        user: User {
            id: row.try_get("id")?,
            organization_id: row.try_get("organization_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            role: parse(&row.try_get::<String, _>("role")?, "role")?,
        },
        password_hash: row.try_get("password_hash")?,
    })
}

/// An agent of the organization by id, with their name.
pub(super) async fn member_name(conn: &mut Conn, org_id: Id, user_id: Id) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT u.name FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organization_id = $1 AND u.id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?)
}

async fn insert_user(
    conn: &mut Conn,
    org_id: Id,
    name: &str,
    email: &str,
    password_hash: &str,
    role: Role,
    now: Millis,
) -> StoreResult<User> {
    let email = email.trim().to_lowercase();
    let user_id: Id = sqlx::query_scalar(
        "INSERT INTO users (name, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(&email)
    .bind(password_hash)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| map_unique(e, "an account with this email already exists"))?;
    sqlx::query("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(User {
        id: user_id,
        organization_id: org_id,
        name: name.to_string(),
        email,
        role,
    })
}

#[async_trait]
impl<B: Backend> OrganizationStore for SqlStore<B> {
    async fn create_organization(
        &self,
        org_name: &str,
        owner_name: &str,
        email: &str,
        password_hash: &str,
    ) -> StoreResult<(Organization, User)> {
        let now = now_millis();
        let mut tx = self.writer.begin().await?;
        let org_id: Id =
            sqlx::query_scalar("INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(org_name)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        let user = insert_user(&mut tx, org_id, owner_name, email, password_hash, Role::Owner, now).await?;
        tx.commit().await?;
        Ok((
            Organization {
                id: org_id,
                name: org_name.to_string(),
            },
            user,
        ))
    }

    async fn organization(&self, org_id: Id) -> StoreResult<Organization> {
        let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(&self.reader)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(Organization {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
        })
    }

    async fn add_user(
        &self,
        org_id: Id,
        name: &str,
        email: &str,
        password_hash: &str,
        role: Role,
    ) -> StoreResult<User> {
        let mut tx = self.writer.begin().await?;
        let user = insert_user(&mut tx, org_id, name, email, password_hash, role, now_millis()).await?;
        tx.commit().await?;
        Ok(user)
    }

    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let sql = format!("{USER_SELECT} WHERE u.email = $1");
        let row = sqlx::query(&sql)
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn users(&self, org_id: Id) -> StoreResult<Vec<User>> {
        let sql = format!("{USER_SELECT} WHERE m.organization_id = $1 ORDER BY u.name, u.id");
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.reader).await?;
        rows.iter().map(|r| user_from_row(r).map(|c| c.user)).collect()
    }

    async fn create_invite(
        &self,
        org_id: Id,
        token_hash: &str,
        role: Role,
        created_by: Id,
        expires_at: Millis,
    ) -> StoreResult<()> {
        if role == Role::Owner {
            return Err(StoreError::Invalid("an invite is for an admin or an agent".into()));
        }
        sqlx::query(
            "INSERT INTO invites (token_hash, organization_id, role, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(org_id)
        .bind(role.as_str())
        .bind(created_by)
        .bind(now_millis())
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    async fn accept_invite(
        &self,
        token_hash: &str,
        name: &str,
        email: &str,
        password_hash: &str,
        now: Millis,
    ) -> StoreResult<User> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "UPDATE invites SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING organization_id, role",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let org_id: Id = row.try_get("organization_id")?;
        let role: Role = parse(&row.try_get::<String, _>("role")?, "role")?;
        let user = insert_user(&mut tx, org_id, name, email, password_hash, role, now).await?;
        tx.commit().await?;
        Ok(user)
    }
}
