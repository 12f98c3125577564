//! Fan-out of committed events to sockets, as one subscriber of the event bus. A single
//! instance emits to its own sockets; several instances sharing a database relay every
//! event through Redis pub/sub, so a socket connected to any instance sees what any
//! instance committed.

use super::room;
use app::events::bus::{EventBus, Subscription};
use app::model::Event;
use futures::StreamExt;
use redis::AsyncCommands;
use socketioxide::SocketIo;
use std::time::Duration;

const CHANNEL: &str = "messio:events";

/// Subscribes the sockets to the bus: each committed batch is emitted to this instance's
/// sockets, or, with Redis, relayed to every instance (this one included), whose own
/// subscriber emits it to its sockets.
pub async fn connect_sockets(bus: &EventBus, io: SocketIo, redis_url: Option<&str>) -> Result<(), redis::RedisError> {
    let publisher = match redis_url {
        Some(url) => {
            let client = redis::Client::open(url)?;
            let publisher = client.get_multiplexed_async_connection().await?;
            // Subscribed before we return, so no event committed after startup is missed.
            let mut first = client.get_async_pubsub().await?;
            first.subscribe(CHANNEL).await?;
            tokio::spawn(subscribe_forever(client, io.clone(), first));
            Some(publisher)
        }
        None => None,
    };
    tokio::spawn(forward(bus.subscribe(), io, publisher));
    Ok(())
}

async fn forward(mut batches: Subscription, io: SocketIo, mut redis: Option<redis::aio::MultiplexedConnection>) {
    while let Some(events) = batches.next().await {
        if let Some(redis) = redis.as_mut() {
            let Ok(payload) = serde_json::to_string(&*events) else {
                continue;
            };
            match redis.publish::<_, _, i64>(CHANNEL, payload).await {
                Ok(_) => continue,
                // Our own sockets still get the events; others catch up from the event log
                // when they notice the gap in `seq`.
                Err(error) => tracing::warn!(%error, "could not relay events through Redis; emitting locally"),
            }
        }
        emit_locally(&io, &events).await;
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
