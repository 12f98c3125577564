//! Customers and their platform identities. A contact is a person; an identity is who they
//! are on one channel (a page-scoped id, a phone number). The first message from an unknown
//! identity creates both, once, even when two deliveries race.

use super::backend::{Backend, SqlStore};
use super::events::append;
use super::sql::{Conn, parse};
use super::{StoreError, StoreResult, Written};
use crate::domain::contact::{learned_name, placeholder_name};
use crate::events::DomainEvent;
use crate::model::{Contact, ContactIdentity, Id, Millis};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
pub trait ContactStore: Send + Sync {
    async fn contact(&self, org_id: Id, contact_id: Id) -> StoreResult<Contact>;
    /// Sets what the platform's profile tells about a contact (name, picture).
    async fn update_contact(
        &self,
        org_id: Id,
        contact_id: Id,
        name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> StoreResult<Written<Contact>>;
    /// Marks a customer as unreachable on a channel (`Some(why)`: they blocked the bot) or
    /// reachable again (`None`). Unchanged, it writes nothing; an unknown identity is
    /// `NotFound`.
    async fn set_reachability(
        &self,
        channel_id: Id,
        external_id: &str,
        unreachable: Option<&str>,
    ) -> StoreResult<Written<Contact>>;
}

pub(super) async fn contact_in(conn: &mut Conn, org_id: Id, contact_id: Id) -> StoreResult<Contact> {
    let row = sqlx::query("SELECT id, name, avatar_url FROM contacts WHERE organization_id = $1 AND id = $2")
        .bind(org_id)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let identities = sqlx::query(
        "SELECT i.channel_id, ch.kind, i.external_id, i.unreachable FROM contact_identities i \
         JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id = $1 ORDER BY i.id",
    )
    .bind(contact_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ContactIdentity {
            channel_id: r.try_get("channel_id")?,
            channel_kind: parse(&r.try_get::<String, _>("kind")?, "channel kind")?,
            external_id: r.try_get("external_id")?,
            unreachable: r.try_get("unreachable")?,
        })
    })
    .collect::<StoreResult<Vec<_>>>()?;
    Ok(Contact {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        avatar_url: row.try_get("avatar_url")?,
        identities,
    })
}

/// The contact behind a platform identity on a channel, created with it when unknown;
/// `true` when this call created it. A name the delivery tells replaces a placeholder.
/// Names a contact we knew only by their platform id, once a delivery tells their name.
pub(super) async fn learn_name(
    conn: &mut Conn,
    contact_id: Id,
    current: &str,
    offered: Option<&str>,
) -> StoreResult<()> {
    if let Some(name) = learned_name(current, offered) {
        sqlx::query("UPDATE contacts SET name = $1 WHERE id = $2")
            .bind(name)
            .bind(contact_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub(super) async fn resolve_identity(
    conn: &mut Conn,
    org_id: Id,
    channel_id: Id,
    external_user_id: &str,
    contact_name: Option<&str>,
    now: Millis,
) -> StoreResult<(Id, bool)> {
    let find = "SELECT c.id, c.name FROM contact_identities i JOIN contacts c ON c.id = i.contact_id \
        WHERE i.channel_id = $1 AND i.external_id = $2";
    let known: Option<(Id, String)> = sqlx::query_as(find)
        .bind(channel_id)
        .bind(external_user_id)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((contact_id, current)) = known {
        learn_name(conn, contact_id, &current, contact_name).await?;
        return Ok((contact_id, false));
    }
    let name = contact_name
        .map(str::to_string)
        .unwrap_or_else(|| placeholder_name(external_user_id));
    let new_contact: Id =
        sqlx::query_scalar("INSERT INTO contacts (organization_id, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(org_id)
            .bind(&name)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
    let linked: Option<Id> = sqlx::query_scalar(
        "INSERT INTO contact_identities (organization_id, contact_id, channel_id, external_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING contact_id",
    )
    .bind(org_id)
    .bind(new_contact)
    .bind(channel_id)
    .bind(external_user_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(contact_id) = linked {
        return Ok((contact_id, true));
    }
    // A concurrent delivery created this identity first: use its contact.
    sqlx::query("DELETE FROM contacts WHERE id = $1")
        .bind(new_contact)
        .execute(&mut *conn)
        .await?;
    let (contact_id, _): (Id, String) = sqlx::query_as(find)
        .bind(channel_id)
        .bind(external_user_id)
        .fetch_one(&mut *conn)
        .await?;
    Ok((contact_id, false))
}

#[async_trait]
impl<B: Backend> ContactStore for SqlStore<B> {
    async fn contact(&self, org_id: Id, contact_id: Id) -> StoreResult<Contact> {
        let mut conn = self.reader.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        let contact = contact_in(&mut tx, org_id, contact_id).await?;
        tx.commit().await?;
        Ok(contact)
    }

    async fn update_contact(
        &self,
        org_id: Id,
        contact_id: Id,
        name: Option<&str>,
        avatar_url: Option<&str>,
    ) -> StoreResult<Written<Contact>> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE contacts SET name = COALESCE($1, name), avatar_url = COALESCE($2, avatar_url) \
             WHERE organization_id = $3 AND id = $4",
        )
        .bind(name)
        .bind(avatar_url)
        .bind(org_id)
        .bind(contact_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let contact = contact_in(&mut tx, org_id, contact_id).await?;
        let event = append(&mut tx, org_id, DomainEvent::contact(contact.clone())).await?;
        tx.commit().await?;
        Ok(Written::one(contact, event))
    }

    async fn set_reachability(
        &self,
        channel_id: Id,
        external_id: &str,
        unreachable: Option<&str>,
    ) -> StoreResult<Written<Contact>> {
        let mut tx = self.writer.begin().await?;
        let row = sqlx::query(
            "SELECT organization_id, contact_id, unreachable FROM contact_identities \
             WHERE channel_id = $1 AND external_id = $2",
        )
        .bind(channel_id)
        .bind(external_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let org_id: Id = row.try_get("organization_id")?;
        let contact_id: Id = row.try_get("contact_id")?;
        if row.try_get::<Option<String>, _>("unreachable")?.as_deref() == unreachable {
            let contact = contact_in(&mut tx, org_id, contact_id).await?;
            tx.rollback().await?;
            return Ok(Written::unchanged(contact));
        }
        sqlx::query("UPDATE contact_identities SET unreachable = $1 WHERE channel_id = $2 AND external_id = $3")
            .bind(unreachable)
            .bind(channel_id)
            .bind(external_id)
            .execute(&mut *tx)
            .await?;
        let contact = contact_in(&mut tx, org_id, contact_id).await?;
        let event = append(&mut tx, org_id, DomainEvent::contact(contact.clone())).await?;
        tx.commit().await?;
        Ok(Written::one(contact, event))
    }
}
