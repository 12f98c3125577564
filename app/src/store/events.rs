//! The per-organization event log. Each change that agents see appends its events here in
//! the transaction that makes the change; realtime clients that missed some read them back
//! in order (`events_since`), so nothing is lost across a disconnect.

use super::backend::{Backend, SqlStore};
use super::sql::Conn;
use super::{StoreResult, now_millis};
use crate::events::DomainEvent;
use crate::model::{Event, Id};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// The organization's events after `after_seq`, oldest first.
    async fn events_since(&self, org_id: Id, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>>;
    /// The `seq` of the organization's newest event (0 before the first).
    async fn latest_seq(&self, org_id: Id) -> StoreResult<i64>;
}

/// Numbers `event` and appends it to the organization's log, in the caller's transaction.
/// The `UPDATE … RETURNING` both numbers the event and, on PostgreSQL, locks the organization
/// row until commit, so events become visible in `seq` order and a catching-up client never
/// skips one.
pub(super) async fn append(conn: &mut Conn, org_id: Id, event: DomainEvent) -> StoreResult<Event> {
    let seq: i64 =
        sqlx::query_scalar("UPDATE organizations SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq")
            .bind(org_id)
            .fetch_one(&mut *conn)
            .await?;
    let logged = event.logged(org_id, seq);
    sqlx::query("INSERT INTO events (organization_id, seq, name, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(org_id)
        .bind(seq)
        .bind(&logged.name)
        .bind(logged.payload.to_string())
        .bind(now_millis())
        .execute(&mut *conn)
        .await?;
    Ok(logged)
}

/// Appends several events in order.
pub(super) async fn append_all(
    conn: &mut Conn,
    org_id: Id,
    events: impl IntoIterator<Item = DomainEvent>,
) -> StoreResult<Vec<Event>> {
    let mut logged = Vec::new();
    for event in events {
        logged.push(append(conn, org_id, event).await?);
    }
    Ok(logged)
}

#[async_trait]
impl<B: Backend> EventStore for SqlStore<B> {
    async fn events_since(&self, org_id: Id, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT seq, name, payload FROM events WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(org_id)
        .bind(after_seq)
        .bind(limit.clamp(1, 10_000))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: String = r.try_get("payload")?;
                Ok(Event {
                    seq: r.try_get("seq")?,
                    organization_id: org_id,
                    name: r.try_get("name")?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                })
            })
            .collect()
    }

    async fn latest_seq(&self, org_id: Id) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT event_seq FROM organizations WHERE id = $1")
            .bind(org_id)
            .fetch_optional(&self.reader)
            .await?
            .unwrap_or(0))
    }
}
