//! The per-organization event log. Each change that agents see appends its events here in
//! the transaction that makes the change; realtime clients that missed some read them back
//! in order (`events_since`), so nothing is lost across a disconnect.
//!
//! Numbering: an organization's events are numbered in commit order, with no gaps. A
//! transaction takes its numbers as its **last** statement before commit, all at once per
//! organization (`event_seq = event_seq + n`). On PostgreSQL that update holds the
//! organization's row until commit, so a second transaction writing for the same
//! organization numbers its events only after the first committed: what a client reads is
//! always a prefix of the final log, never a log with a hole that a later commit fills. The
//! row is held for the insert of the events and the commit only, never for the work that
//! decided them, and a group commit takes one set of numbers for all its deliveries. A
//! rolled-back transaction gives its numbers back with it.

use super::backend::{Backend, SqlStore};
use super::sql::Conn;
use super::{StoreResult, Written, now_millis};
use crate::events::DomainEvent;
use crate::model::{Event, Id};
use async_trait::async_trait;
use sqlx::Row;
use std::collections::BTreeMap;

#[async_trait]
pub trait EventStore: Send + Sync {
    /// The organization's events after `after_seq`, oldest first.
    async fn events_since(&self, org_id: Id, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>>;
    /// The `seq` of the organization's newest event (0 before the first).
    async fn latest_seq(&self, org_id: Id) -> StoreResult<i64>;
}

/// What a write decided inside its transaction: the value, and the events to number and log
/// when it commits.
pub(super) struct Decided<T> {
    pub value: T,
    pub events: Vec<DomainEvent>,
}

impl<T> Decided<T> {
    pub fn new(value: T, events: Vec<DomainEvent>) -> Self {
        Self { value, events }
    }
}

/// Numbers and logs one event; the caller commits next.
pub(super) async fn append(conn: &mut Conn, org_id: Id, event: DomainEvent) -> StoreResult<Event> {
    let mut logged = append_all(conn, org_id, [event]).await?;
    logged.pop().ok_or(super::StoreError::NotFound)
}

/// Numbers and logs one organization's events in order; the caller commits next.
pub(super) async fn append_all(
    conn: &mut Conn,
    org_id: Id,
    events: impl IntoIterator<Item = DomainEvent>,
) -> StoreResult<Vec<Event>> {
    append_batch(conn, events.into_iter().map(|event| (org_id, event)).collect()).await
}

/// Finishes a decided write: logs its events and returns them with the value. The caller
/// commits next.
pub(super) async fn log_decided<T>(conn: &mut Conn, org_id: Id, decided: Decided<T>) -> StoreResult<Written<T>> {
    let events = append_all(conn, org_id, decided.events).await?;
    Ok(Written {
        value: decided.value,
        events,
    })
}

/// Numbers and logs events of any organizations, returned in the order given. Each
/// organization's numbers are taken with one statement, organizations in id order so that
/// two batches never wait for each other's rows in a cycle.
pub(super) async fn append_batch(conn: &mut Conn, events: Vec<(Id, DomainEvent)>) -> StoreResult<Vec<Event>> {
    if events.is_empty() {
        return Ok(vec![]);
    }
    let mut counts: BTreeMap<Id, i64> = BTreeMap::new();
    for (org_id, _) in &events {
        *counts.entry(*org_id).or_default() += 1;
    }
    // The next number to hand out, per organization.
    let mut next: BTreeMap<Id, i64> = BTreeMap::new();
    for (org_id, count) in counts {
        let last: i64 =
            sqlx::query_scalar("UPDATE organizations SET event_seq = event_seq + $2 WHERE id = $1 RETURNING event_seq")
                .bind(org_id)
                .bind(count)
                .fetch_one(&mut *conn)
                .await?;
        next.insert(org_id, last - count + 1);
    }
    let logged: Vec<Event> = events
        .into_iter()
        .map(|(org_id, event)| {
            let seq = next.entry(org_id).or_default();
            let logged = event.logged(org_id, *seq);
            *seq += 1;
            logged
        })
        .collect();
    insert_rows(conn, &logged).await?;
    Ok(logged)
}

/// Inserts log rows a few statements at a time. Chunks come in four fixed sizes, so the
/// connection's statement cache holds four shapes of the insert, not one per batch size.
async fn insert_rows(conn: &mut Conn, logged: &[Event]) -> StoreResult<()> {
    const CHUNKS: [usize; 4] = [64, 16, 4, 1];
    let now = now_millis();
    let mut rest = logged;
    while !rest.is_empty() {
        let size = CHUNKS.into_iter().find(|size| *size <= rest.len()).unwrap_or(1);
        let (chunk, tail) = rest.split_at(size);
        let values: Vec<String> = (0..size)
            .map(|row| {
                let p = row * 5;
                format!("(${}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4, p + 5)
            })
            .collect();
        let sql = format!(
            "INSERT INTO events (organization_id, seq, name, payload, created_at) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(event.organization_id)
                .bind(event.seq)
                .bind(event.name.as_str())
                .bind(event.payload.to_string())
                .bind(now);
        }
        query.execute(&mut *conn).await?;
        rest = tail;
    }
    Ok(())
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
