//! The queue in front of the store's group commit (`store::IngestStore`). Sources hand it
//! one delivery each and wait; a writer task per lane takes whatever has queued up while its
//! previous batch was being written (up to [`MAX_BATCH`] deliveries) and writes it as one
//! transaction. There is no timer: under light load a delivery finds its writer idle and is
//! written alone at once; under heavy load batches grow by themselves, and one commit (one
//! fsync) serves them all.
//!
//! A delivery's answer comes only after its batch committed and its events were published,
//! so whoever answers a platform "200" on it answers for durable data. Deliveries are spread
//! over lanes by conversation (channel and customer), so two lanes never write the same
//! conversation and a customer's messages keep their order.

use crate::events::bus::EventBus;
use crate::model::Event;
use crate::store::{DynStore, Ingest, IngestEvent, Ingested, StoreError, StoreResult};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc, oneshot};

/// The most deliveries one transaction takes; more wait for the next.
pub const MAX_BATCH: usize = 256;

struct Queued {
    delivery: Vec<Ingest>,
    answer: oneshot::Sender<StoreResult<Vec<Ingested>>>,
}

/// The handle sources write through. Writer tasks stop when the last handle is dropped.
#[derive(Clone)]
pub struct GroupCommit {
    lanes: Arc<[mpsc::UnboundedSender<Queued>]>,
}

impl GroupCommit {
    /// Starts one writer per lane the store asks for. Needs a Tokio runtime.
    pub fn start(store: DynStore, bus: EventBus) -> Self {
        let commit_order = Arc::new(Mutex::new(()));
        let lanes = (0..store.ingest_lanes().max(1))
            .map(|_| {
                let (sender, receiver) = mpsc::unbounded_channel();
                tokio::spawn(write_batches(
                    store.clone(),
                    bus.clone(),
                    commit_order.clone(),
                    receiver,
                ));
                sender
            })
            .collect();
        Self { lanes }
    }

    /// Writes one delivery with whatever else is queued, and answers once it is committed
    /// and published, with what each of its events did. The events of the delivery are all
    /// stored, or (on `Err`) none.
    pub async fn write(&self, delivery: Vec<Ingest>) -> StoreResult<Vec<Ingested>> {
        if delivery.is_empty() {
            return Ok(vec![]);
        }
        let lane = &self.lanes[lane_of(&delivery) % self.lanes.len()];
        let (answer, answered) = oneshot::channel();
        lane.send(Queued { delivery, answer })
            .map_err(|_| StoreError::Batch("the server is shutting down".into()))?;
        answered
            .await
            .map_err(|_| StoreError::Batch("the server is shutting down".into()))?
    }
}

/// The lane of a delivery: by the conversation of its first event, so one customer's
/// deliveries always share a writer.
fn lane_of(delivery: &[Ingest]) -> usize {
    let mut hasher = DefaultHasher::new();
    if let Some(first) = delivery.first() {
        first.channel.channel.id.hash(&mut hasher);
        customer_of(&first.event).hash(&mut hasher);
    }
    hasher.finish() as usize
}

fn customer_of(event: &IngestEvent) -> Option<&str> {
    match event {
        IngestEvent::Message(message) => Some(&message.external_user_id),
        IngestEvent::Echo(echo) => Some(&echo.external_user_id),
        IngestEvent::Reaction(reaction) => Some(&reaction.external_user_id),
        IngestEvent::Edit(edit) => Some(&edit.message.external_user_id),
        IngestEvent::Status(_) => None,
    }
}

async fn write_batches(
    store: DynStore,
    bus: EventBus,
    commit_order: Arc<Mutex<()>>,
    mut queue: mpsc::UnboundedReceiver<Queued>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (deliveries, answers): (Vec<_>, Vec<_>) = batch.drain(..).map(|q| (q.delivery, q.answer)).unzip();
        match store.ingest(deliveries, commit_order.clone()).await {
            Ok(committed) => {
                // The batch's events go on the bus as one piece, moved rather than copied.
                let mut events: Vec<Event> = Vec::new();
                let results: Vec<_> = committed
                    .deliveries
                    .into_iter()
                    .map(|delivery| {
                        delivery.map(|written| {
                            events.extend(written.events);
                            written.value
                        })
                    })
                    .collect();
                bus.publish_batch(events);
                drop(committed.publish_turn);
                for (answer, result) in answers.into_iter().zip(results) {
                    let _ = answer.send(result);
                }
            }
            Err(error) => {
                tracing::error!(%error, deliveries = answers.len(), "a group commit failed; its deliveries will be retried by their senders");
                let reason = error.to_string();
                for answer in answers {
                    let _ = answer.send(Err(StoreError::Batch(reason.clone())));
                }
            }
        }
    }
}
