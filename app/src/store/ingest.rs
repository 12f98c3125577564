//! Group commit: what platforms deliver, written many deliveries to a transaction.
//!
//! [`IngestStore::ingest`] takes a batch of deliveries (each the events of one webhook
//! request, poll or import page, for channels the caller already looked up) and writes them
//! in one transaction, so the batch costs one commit (one fsync) however many deliveries it
//! holds. A delivery that fails is rolled back alone and reported alone; the others commit
//! (the batch is then written again with a savepoint per delivery). Duplicates are decided by the unique key on
//! (channel, platform message id) as everywhere, so a copy inside the same batch, in another
//! batch or on another instance is still stored once.
//!
//! The events of the whole batch are numbered together as its last step (see `events.rs`).
//! The caller's `commit_order` lock is taken just before that step and handed back with the
//! result, still held: the caller publishes the batch's events and then lets it go, so
//! batches written side by side reach subscribers in the order of their numbers.

use super::backend::{Backend, SqlStore};
use super::channels::ChannelRecord;
use super::events::append_batch;
use super::messages::{echo_in, edit_in, inbound_in, reaction_in, status_in};
use super::sql::Conn;
use super::{Delivered, EchoMessage, InboundMessage, MessageEdit, ReactionUpdate, StatusUpdate, StoreResult, Written};
use crate::events::DomainEvent;
use crate::model::{Event, Id, MessageKind};
use async_trait::async_trait;
use sqlx::Connection;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// One event of a delivery, for its channel.
#[derive(Debug, Clone)]
pub struct Ingest {
    pub channel: Arc<ChannelRecord>,
    pub event: IngestEvent,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IngestEvent {
    Message(InboundMessage),
    Echo(EchoMessage),
    Status(StatusUpdate),
    Reaction(ReactionUpdate),
    Edit(MessageEdit),
}

/// What one event did, in the order the delivery listed them.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// A customer's message was stored; so is a reaction to a message we never saw, kept as a
    /// message of its own rather than dropped.
    MessageStored(Box<Delivered>),
    /// A message the account sent outside Messio was stored.
    EchoStored(Box<Delivered>),
    /// A customer's reaction changed one of the stored messages.
    ReactionApplied(Box<Delivered>),
    /// A customer's edit changed one of their stored messages.
    MessageEdited(Box<Delivered>),
    /// Nothing changed: this platform message id was stored before, or (an echo) it is our
    /// own message.
    Unchanged { platform_message_id: String },
    /// These of our messages moved to a later status.
    StatusesRaised(Vec<Id>),
}

/// One delivery's result: what each event did, and the events the batch logged for it.
pub type DeliveryResult = StoreResult<Written<Vec<Ingested>>>;

/// A committed batch: each delivery's result, in the order given, and the caller's turn to
/// publish (release it once the events are published).
pub struct Committed {
    pub deliveries: Vec<DeliveryResult>,
    pub publish_turn: OwnedMutexGuard<()>,
}

#[async_trait]
pub trait IngestStore: Send + Sync {
    /// Writes the deliveries in one transaction; see the module's contract. `Err` means the
    /// batch itself failed (nothing of it was stored).
    async fn ingest(&self, deliveries: Vec<Vec<Ingest>>, commit_order: Arc<Mutex<()>>) -> StoreResult<Committed>;
    /// How many batches may usefully be written at once (1 where writes serialize anyway).
    fn ingest_lanes(&self) -> usize;
}

type Decisions = Vec<StoreResult<(Vec<Ingested>, Vec<(Id, DomainEvent)>)>>;

#[async_trait]
impl<B: Backend> IngestStore for SqlStore<B> {
    async fn ingest(&self, deliveries: Vec<Vec<Ingest>>, commit_order: Arc<Mutex<()>>) -> StoreResult<Committed> {
        // First without savepoints (failures are rare, and each savepoint costs a round trip
        // on PostgreSQL); the first failure rolls the whole attempt back, and the batch is
        // written again with a savepoint per delivery, so that the failure stays alone.
        let mut tx = self.writer.begin().await?;
        let mut decided: Decisions = Vec::with_capacity(deliveries.len());
        let mut failure = None;
        for delivery in &deliveries {
            match decide_delivery::<B>(&mut tx, delivery).await {
                Ok(outcome) => decided.push(Ok(outcome)),
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        if let Some(error) = failure {
            tx.rollback().await?;
            if deliveries.len() == 1 {
                return Ok(Committed {
                    deliveries: vec![Err(error)],
                    publish_turn: commit_order.lock_owned().await,
                });
            }
            decided.clear();
            tx = self.writer.begin().await?;
            for delivery in &deliveries {
                let mut savepoint = tx.begin().await?;
                match decide_delivery::<B>(&mut savepoint, delivery).await {
                    Ok(outcome) => {
                        savepoint.commit().await?;
                        decided.push(Ok(outcome));
                    }
                    Err(error) => {
                        savepoint.rollback().await?;
                        decided.push(Err(error));
                    }
                }
            }
        }
        let publish_turn = commit_order.lock_owned().await;
        let counts: Vec<usize> = decided
            .iter()
            .map(|d| d.as_ref().map_or(0, |(_, events)| events.len()))
            .collect();
        let mut all_events = Vec::with_capacity(counts.iter().sum());
        let mut outcomes = Vec::with_capacity(decided.len());
        for delivery in decided {
            match delivery {
                Ok((ingested, events)) => {
                    all_events.extend(events);
                    outcomes.push(Ok(ingested));
                }
                Err(error) => outcomes.push(Err(error)),
            }
        }
        let mut logged = append_batch(&mut tx, all_events).await?.into_iter();
        tx.commit().await?;
        let deliveries = outcomes
            .into_iter()
            .zip(counts)
            .map(|(outcome, count)| {
                outcome.map(|value| Written {
                    value,
                    events: logged.by_ref().take(count).collect::<Vec<Event>>(),
                })
            })
            .collect();
        Ok(Committed {
            deliveries,
            publish_turn,
        })
    }

    fn ingest_lanes(&self) -> usize {
        B::INGEST_LANES
    }
}

/// Decides every event of one delivery, in order.
async fn decide_delivery<B: Backend>(
    conn: &mut Conn,
    delivery: &[Ingest],
) -> StoreResult<(Vec<Ingested>, Vec<(Id, DomainEvent)>)> {
    let mut ingested = Vec::with_capacity(delivery.len());
    let mut events = Vec::new();
    for Ingest { channel, event } in delivery {
        let org_id = channel.organization_id;
        let (outcome, decided_events) = match event {
            IngestEvent::Message(message) => match inbound_in::<B>(conn, channel, message).await? {
                Some(decided) => (Ingested::MessageStored(Box::new(decided.value)), decided.events),
                None => unchanged(&message.platform_message_id),
            },
            IngestEvent::Echo(echo) => match echo_in::<B>(conn, channel, echo).await? {
                Some(decided) => (Ingested::EchoStored(Box::new(decided.value)), decided.events),
                None => unchanged(&echo.platform_message_id),
            },
            IngestEvent::Reaction(reaction) => match reaction_in::<B>(conn, channel, reaction).await? {
                Some(decided) if decided.value.message.kind == MessageKind::Reaction => {
                    (Ingested::MessageStored(Box::new(decided.value)), decided.events)
                }
                Some(decided) => (Ingested::ReactionApplied(Box::new(decided.value)), decided.events),
                None => unchanged(&reaction.platform_message_id),
            },
            IngestEvent::Edit(edit) => match edit_in::<B>(conn, channel, edit).await? {
                Some(decided) if decided.value.message.edited_at.is_none() => {
                    (Ingested::MessageStored(Box::new(decided.value)), decided.events)
                }
                Some(decided) => (Ingested::MessageEdited(Box::new(decided.value)), decided.events),
                None => unchanged(&edit.message.platform_message_id),
            },
            IngestEvent::Status(update) => {
                let decided = status_in(conn, channel, update).await?;
                (Ingested::StatusesRaised(decided.value), decided.events)
            }
        };
        ingested.push(outcome);
        events.extend(decided_events.into_iter().map(|event| (org_id, event)));
    }
    Ok((ingested, events))
}

fn unchanged(platform_message_id: &str) -> (Ingested, Vec<DomainEvent>) {
    let platform_message_id = platform_message_id.to_string();
    (Ingested::Unchanged { platform_message_id }, vec![])
}
