//! Fan-out of committed events to sockets. A single instance emits to its own sockets;
//! several instances sharing a database relay every event through Redis pub/sub, so a
//! socket connected to any instance sees what any instance committed.

use super::room;
use app::model::Event;
use app::services::EventSink;
use futures::StreamExt;
use redis::AsyncCommands;
use socketioxide::SocketIo;
use std::time::Duration;

const CHANNEL: &str = "messio:events";

pub struct SocketSink {
    io: SocketIo,
    redis: Option<redis::aio::MultiplexedConnection>,
}

impl SocketSink {
    pub fn local(io: SocketIo) -> Self {
        Self { io, redis: None }
    }

    /// Relays through Redis at `url`; every instance's subscriber emits to its own sockets.
    pub async fn with_redis(io: SocketIo, url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let publisher = client.get_multiplexed_async_connection().await?;
        // Subscribed before we return, so no event committed after startup is missed.
        let mut first = client.get_async_pubsub().await?;
        first.subscribe(CHANNEL).await?;
        tokio::spawn(subscribe_forever(client, io.clone(), first));
        Ok(Self {
            io,
            redis: Some(publisher),
        })
    }
}

async fn emit_locally(io: &SocketIo, events: &[Event]) {
    for event in events {
        if let Err(error) = io
            .to(room(event.organization_id))
            .emit(event.name.as_str(), &event.payload)
            .await
        {
            tracing::debug!(%error, "broadcast failed");
        }
    }
}

impl EventSink for SocketSink {
    fn publish(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let io = self.io.clone();
        let redis = self.redis.clone();
        let events = events.to_vec();
        tokio::spawn(async move {
            if let Some(mut redis) = redis {
                let Ok(payload) = serde_json::to_string(&events) else {
                    return;
                };
                match redis.publish::<_, _, i64>(CHANNEL, payload).await {
                    Ok(_) => return,
                    // Our own sockets still get the events; others catch up from the event log
                    // when they notice the gap in `seq`.
                    Err(error) => tracing::warn!(%error, "could not relay events through Redis; emitting locally"),
                }
            }
            emit_locally(&io, &events).await;
        });
    }
}

async fn subscribe_forever(client: redis::Client, io: SocketIo, first: redis::aio::PubSub) {
    let mut subscription = Some(first);
    let mut delay = Duration::from_millis(200);
    loop {
        if let Some(mut pubsub) = subscription.take() {
            delay = Duration::from_millis(200);
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Ok(text) = message.get_payload::<String>() else {
                    continue;
                };
                match serde_json::from_str::<Vec<Event>>(&text) {
                    Ok(events) => emit_locally(&io, &events).await,
                    Err(error) => tracing::warn!(%error, "ignored a malformed event relay"),
                }
            }
            tracing::warn!("Redis subscription ended; resubscribing");
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => subscription = Some(pubsub),
                Err(error) => tracing::warn!(%error, "could not subscribe to Redis"),
            },
            Err(error) => tracing::warn!(%error, "could not reach Redis"),
        }
    }
}
