//! Connected platform accounts. A platform account feeds at most one organization at a
//! time; reconnecting one brings back its old channel row, and with it the history.
//! Credentials are kept encrypted (the server seals them before they get here).

use super::backend::{Backend, SqlStore};
use super::events::append;
use super::sql::{Conn, map_unique, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::events::DomainEvent;
use crate::model::{Channel, ChannelKind, ChannelStatus, Id};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A channel as the server needs it: with its owner and its (encrypted) credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelRecord {
    pub organization_id: Id,
    pub channel: Channel,
    pub credentials: String,
    /// Names the channel in its own webhook route, `/api/webhooks/{kind}/{webhook_key}`.
    pub webhook_key: String,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub kind: ChannelKind,
    pub external_id: String,
    pub name: String,
    pub credentials: String,
    /// The WhatsApp Business Account of a phone number; the page of an Instagram account.
    pub parent_account_id: Option<String>,
}

#[async_trait]
pub trait ChannelStore: Send + Sync {
    /// Connects (or reconnects) a platform account to an organization.
    async fn connect_channel(&self, org_id: Id, new: NewChannel) -> StoreResult<Written<Channel>>;
    async fn channels(&self, org_id: Id) -> StoreResult<Vec<Channel>>;
    async fn channel(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRecord>;
    /// The live channel that receives a platform account's webhooks, whatever organization owns it.
    async fn channel_by_account(&self, kind: ChannelKind, external_id: &str) -> StoreResult<Option<ChannelRecord>>;
    /// The live channel a per-channel webhook route names, whatever organization owns it.
    async fn channel_by_webhook_key(&self, kind: ChannelKind, key: &str) -> StoreResult<Option<ChannelRecord>>;
    /// Every live channel of some kinds, across organizations: what the pollers run for.
    async fn live_channels(&self, kinds: &[ChannelKind]) -> StoreResult<Vec<ChannelRecord>>;
    async fn set_channel_status(
        &self,
        channel_id: Id,
        status: ChannelStatus,
        last_error: Option<&str>,
    ) -> StoreResult<Written<Channel>>;
}

const CHANNEL_SELECT: &str = "SELECT id, organization_id, kind, external_id, name, credentials, \
    status, last_error, parent_account_id, created_at, webhook_key FROM channels";

fn channel_from_row(row: &AnyRow) -> StoreResult<ChannelRecord> {
    Ok(ChannelRecord {
        organization_id: row.try_get("organization_id")?,
        credentials: row.try_get("credentials")?,
        webhook_key: row.try_get::<Option<String>, _>("webhook_key")?.unwrap_or_default(),
        channel: Channel {
            id: row.try_get("id")?,
            kind: parse(&row.try_get::<String, _>("kind")?, "channel kind")?,
            external_id: row.try_get("external_id")?,
            name: row.try_get("name")?,
            status: parse(&row.try_get::<String, _>("status")?, "channel status")?,
            last_error: row.try_get("last_error")?,
            parent_account_id: row.try_get("parent_account_id")?,
            created_at: row.try_get("created_at")?,
        },
    })
}

/// 128 random bits, hex: unguessable, so a route cannot be found by counting.
fn new_webhook_key() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub(super) async fn channel_in(conn: &mut Conn, channel_id: Id) -> StoreResult<ChannelRecord> {
    let sql = format!("{CHANNEL_SELECT} WHERE id = $1");
    let row = sqlx::query(&sql).bind(channel_id).fetch_optional(&mut *conn).await?;
    channel_from_row(&row.ok_or(StoreError::NotFound)?)
}

#[async_trait]
impl<B: Backend> ChannelStore for SqlStore<B> {
    async fn connect_channel(&self, org_id: Id, new: NewChannel) -> StoreResult<Written<Channel>> {
        let now = now_millis();
        let mut tx = self.writer.begin().await?;
        let live: Option<(Id, Id)> = sqlx::query_as(
            "SELECT id, organization_id FROM channels WHERE kind = $1 AND external_id = $2 AND status <> 'disconnected'",
        )
        .bind(new.kind.as_str())
        .bind(&new.external_id)
        .fetch_optional(&mut *tx)
        .await?;
        let reusable = match live {
            Some((_, owner)) if owner != org_id => {
                return Err(StoreError::Conflict(format!(
                    "{} is already connected to another organization",
                    new.name
                )));
            }
            Some((id, _)) => Some(id),
            // Reconnecting brings back the old channel row, and with it the history.
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM channels WHERE organization_id = $1 AND kind = $2 AND external_id = $3 \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(org_id)
                .bind(new.kind.as_str())
                .bind(&new.external_id)
                .fetch_optional(&mut *tx)
                .await?
            }
        };
        let id: Id = match reusable {
            Some(id) => {
                sqlx::query(
                    "UPDATE channels SET name = $1, credentials = $2, status = 'active', last_error = NULL, \
                     updated_at = $3, parent_account_id = $4 WHERE id = $5",
                )
                .bind(&new.name)
                .bind(&new.credentials)
                .bind(now)
                .bind(new.parent_account_id.as_deref())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_unique(e, "this account is already connected"))?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO channels (organization_id, kind, external_id, name, credentials, status, created_at, \
                 updated_at, parent_account_id, webhook_key) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6, $7, $8) \
                 RETURNING id",
            )
            .bind(org_id)
            .bind(new.kind.as_str())
            .bind(&new.external_id)
            .bind(&new.name)
            .bind(&new.credentials)
            .bind(now)
            .bind(new.parent_account_id.as_deref())
            .bind(new_webhook_key())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| map_unique(e, "this account is already connected"))?,
        };
        let channel = channel_in(&mut tx, id).await?.channel;
        let event = append(&mut tx, org_id, DomainEvent::channel(channel.clone())).await?;
        tx.commit().await?;
        Ok(Written::one(channel, event))
    }

    async fn channels(&self, org_id: Id) -> StoreResult<Vec<Channel>> {
        let sql = format!("{CHANNEL_SELECT} WHERE organization_id = $1 ORDER BY status = 'disconnected', name, id");
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&self.reader).await?;
        rows.iter().map(|r| channel_from_row(r).map(|c| c.channel)).collect()
    }

    async fn channel(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRecord> {
        let sql = format!("{CHANNEL_SELECT} WHERE organization_id = $1 AND id = $2");
        let row = sqlx::query(&sql)
            .bind(org_id)
            .bind(channel_id)
            .fetch_optional(&self.reader)
            .await?;
        channel_from_row(&row.ok_or(StoreError::NotFound)?)
    }

    async fn channel_by_account(&self, kind: ChannelKind, external_id: &str) -> StoreResult<Option<ChannelRecord>> {
        let sql = format!("{CHANNEL_SELECT} WHERE kind = $1 AND external_id = $2 AND status <> 'disconnected'");
        let row = sqlx::query(&sql)
            .bind(kind.as_str())
            .bind(external_id)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(channel_from_row).transpose()
    }

    async fn channel_by_webhook_key(&self, kind: ChannelKind, key: &str) -> StoreResult<Option<ChannelRecord>> {
        let sql = format!("{CHANNEL_SELECT} WHERE kind = $1 AND webhook_key = $2 AND status <> 'disconnected'");
        let row = sqlx::query(&sql)
            .bind(kind.as_str())
            .bind(key)
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(channel_from_row).transpose()
    }

    async fn live_channels(&self, kinds: &[ChannelKind]) -> StoreResult<Vec<ChannelRecord>> {
        let mut found = Vec::new();
        for kind in kinds {
            let sql = format!("{CHANNEL_SELECT} WHERE kind = $1 AND status <> 'disconnected' ORDER BY id");
            let rows = sqlx::query(&sql).bind(kind.as_str()).fetch_all(&self.reader).await?;
            for row in &rows {
                found.push(channel_from_row(row)?);
            }
        }
        Ok(found)
    }

    async fn set_channel_status(
        &self,
        channel_id: Id,
        status: ChannelStatus,
        last_error: Option<&str>,
    ) -> StoreResult<Written<Channel>> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query("UPDATE channels SET status = $1, last_error = $2, updated_at = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(last_error)
            .bind(now_millis())
            .bind(channel_id)
            .execute(&mut *tx)
            .await
            // Reviving a disconnected channel fails once another organization has the account.
            .map_err(|e| map_unique(e, "this account is already connected to another organization"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let record = channel_in(&mut tx, channel_id).await?;
        let event = append(
            &mut tx,
            record.organization_id,
            DomainEvent::channel(record.channel.clone()),
        )
        .await?;
        tx.commit().await?;
        Ok(Written::one(record.channel, event))
    }
}
