//! The in-process event bus: the one commit-then-publish path. Whatever commits a change
//! gets its logged events back from the store (`Written`) and publishes them here, after the
//! commit; subscribers (the socket fan-out today, automation, notifications and analytics
//! later) each receive every batch in commit order. A subscriber that falls behind loses the
//! oldest batches, never the log: socket clients notice the gap in `seq` and catch up from it.

use crate::model::Event;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events committed together, in `seq` order.
pub type Batch = Arc<[Event]>;

/// How many batches a slow subscriber may fall behind before it starts losing them.
const BACKLOG: usize = 4096;

#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Batch>,
    signals: broadcast::Sender<Signal>,
}

/// An ephemeral event: who is online, typing or viewing. Sent to sockets as it happens and
/// never logged (it carries no `seq`): a client that missed one asks for the current state.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signal {
    pub organization_id: crate::model::Id,
    pub name: String,
    pub payload: serde_json::Value,
    /// Only these people's sockets receive it (a mention); empty: the whole organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_users: Vec<crate::model::Id>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(BACKLOG);
        let (signals, _) = broadcast::channel(BACKLOG);
        Self { sender, signals }
    }

    /// Hands an ephemeral event to the sockets (best effort: nothing keeps it).
    pub fn signal(&self, signal: Signal) {
        let _ = self.signals.send(signal);
    }

    pub fn subscribe_signals(&self) -> broadcast::Receiver<Signal> {
        self.signals.subscribe()
    }

    /// Hands committed events to every subscriber. Never call it before the commit.
    pub fn publish(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        // No subscriber yet (a test, or startup) is fine: the events are in the log.
        let _ = self.sender.send(events.into());
    }

    /// As [`publish`](Self::publish), for events the caller owns: no copy is made.
    pub fn publish_batch(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let _ = self.sender.send(events.into());
    }

    pub fn subscribe(&self) -> Subscription {
        Subscription {
            receiver: self.sender.subscribe(),
        }
    }
}

pub struct Subscription {
    receiver: broadcast::Receiver<Batch>,
}

/// What a subscriber receives next.
#[derive(Debug)]
pub enum Received {
    Batch(Batch),
    /// The subscriber fell behind and this many batches are gone: what it keeps from
    /// them must be read again from the store.
    Missed(u64),
}

impl Subscription {
    /// The next batch published after this subscription began; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Batch> {
        loop {
            match self.receive().await? {
                Received::Batch(batch) => return Some(batch),
                Received::Missed(missed) => {
                    tracing::warn!(missed, "an event subscriber fell behind; it skips to the newest events");
                }
            }
        }
    }

    /// As [`next`](Self::next), telling the subscriber when it lost batches.
    pub async fn receive(&mut self) -> Option<Received> {
        match self.receiver.recv().await {
            Ok(batch) => Some(Received::Batch(batch)),
            Err(broadcast::error::RecvError::Lagged(missed)) => Some(Received::Missed(missed)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Event {
        Event {
            seq,
            organization_id: 1,
            name: "message:received".into(),
            payload: serde_json::json!({ "seq": seq }),
        }
    }

    #[tokio::test]
    async fn every_subscriber_gets_each_batch_in_order() {
        let bus = EventBus::new();
        let mut sockets = bus.subscribe();
        let mut automation = bus.subscribe();
        bus.publish(&[event(1), event(2)]);
        bus.publish(&[]);
        bus.publish(&[event(3)]);
        for subscriber in [&mut sockets, &mut automation] {
            let first = subscriber.next().await.unwrap();
            assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
            let second = subscriber.next().await.unwrap();
            assert_eq!(second.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
        }
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_skips_to_the_newest() {
        let bus = EventBus::new();
        let mut slow = bus.subscribe();
        for seq in 0..(BACKLOG as i64 + 10) {
            bus.publish(&[event(seq)]);
        }
        let next = slow.next().await.unwrap();
        assert_eq!(
            next[0].seq, 10,
            "the oldest batches are dropped, the rest kept in order"
        );
    }

    #[tokio::test]
    async fn the_subscription_ends_with_the_bus() {
        let bus = EventBus::new();
        let mut subscription = bus.subscribe();
        drop(bus);
        assert!(subscription.next().await.is_none());
    }
}
