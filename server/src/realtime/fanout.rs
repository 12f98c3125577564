//! Fan-out of committed events to sockets, as one subscriber of the event bus. A single
//! instance emits to its own sockets; several instances sharing a database relay every
//! event through Redis pub/sub, so a socket connected to any instance sees what any
//! instance committed. Ephemeral signals (presence, typing, viewers) go the same two ways,
//! on a Redis channel of their own.

use super::{room, user_room};
use app::events::bus::{Signal, Subscription};
use app::model::Event;
use app::services::SharedServices;
use futures::StreamExt;
use redis::AsyncCommands;
use socketioxide::SocketIo;
use std::sync::Arc;
use std::time::Duration;

/// The relay's two channels, `messio:{namespace}:events` and `…:signals`: the namespace names
/// the database, so servers on different databases that share one Redis never mix.
struct Channels {
    events: String,
    signals: String,
}

/// Subscribes the sockets to the bus: each committed batch is emitted to this instance's
/// sockets, or, with Redis, relayed to every instance (this one included), whose own
/// subscriber emits it to its sockets.
/// Relayed presence changes also reach this instance's router (it routes by who is online).
pub async fn connect_sockets(
    services: &SharedServices,
    io: SocketIo,
    redis_url: Option<&str>,
    namespace: &str,
) -> Result<(), redis::RedisError> {
    let bus = &services.events;
    let channels = Arc::new(Channels {
        events: format!("messio:{namespace}:events"),
        signals: format!("messio:{namespace}:signals"),
    });
    let publisher = match redis_url {
        Some(url) => {
            let client = redis::Client::open(url)?;
            let publisher = client.get_multiplexed_async_connection().await?;
            // Subscribed before we return, so no event committed after startup is missed.
            let mut first = client.get_async_pubsub().await?;
            first.subscribe(&[&channels.events, &channels.signals]).await?;
            tokio::spawn(subscribe_forever(
                client,
                io.clone(),
                first,
                channels.clone(),
                services.clone(),
            ));
            Some(publisher)
        }
        None => None,
    };
    tokio::spawn(forward_signals(
        bus.subscribe_signals(),
        io.clone(),
        publisher.clone(),
        channels.clone(),
    ));
    tokio::spawn(forward(bus.subscribe(), io, publisher, channels));
    Ok(())
}

/// A presence change another instance announced: this instance's router follows it.
fn route_by(services: &SharedServices, signal: &Signal) {
    if signal.name != app::model::events::PRESENCE_UPDATE {
        return;
    }
    let user = signal.payload.get("userId").and_then(serde_json::Value::as_i64);
    let status = signal
        .payload
        .get("status")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| s.parse::<app::model::AgentStatus>().ok());
    if let (Some(user), Some(status)) = (user, status) {
        services.router.presence(signal.organization_id, user, status);
    }
}

async fn forward_signals(
    mut signals: tokio::sync::broadcast::Receiver<Signal>,
    io: SocketIo,
    mut redis: Option<redis::aio::MultiplexedConnection>,
    channels: Arc<Channels>,
) {
    loop {
        let signal = match signals.recv().await {
            Ok(signal) => signal,
            // Ephemeral: a missed one is superseded by the next.
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        if let Some(redis) = redis.as_mut()
            && let Ok(payload) = serde_json::to_string(&signal)
            && redis.publish::<_, _, i64>(&channels.signals, payload).await.is_ok()
        {
            continue;
        }
        emit_signal(&io, &signal).await;
    }
}

async fn emit_signal(io: &SocketIo, signal: &Signal) {
    let sent = if signal.to_users.is_empty() {
        io.to(room(signal.organization_id))
            .emit(signal.name.as_str(), &signal.payload)
            .await
    } else {
        let rooms: Vec<String> = signal.to_users.iter().map(|u| user_room(*u)).collect();
        io.to(rooms).emit(signal.name.as_str(), &signal.payload).await
    };
    if let Err(error) = sent {
        tracing::debug!(%error, "signal broadcast failed");
    }
}

async fn forward(
    mut batches: Subscription,
    io: SocketIo,
    mut redis: Option<redis::aio::MultiplexedConnection>,
    channels: Arc<Channels>,
) {
    while let Some(events) = batches.next().await {
        if let Some(redis) = redis.as_mut() {
            let Ok(payload) = serde_json::to_string(&*events) else {
                continue;
            };
            match redis.publish::<_, _, i64>(&channels.events, payload).await {
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

async fn subscribe_forever(
    client: redis::Client,
    io: SocketIo,
    first: redis::aio::PubSub,
    channels: Arc<Channels>,
    services: SharedServices,
) {
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
                if message.get_channel_name() == channels.signals {
                    match serde_json::from_str::<Signal>(&text) {
                        Ok(signal) => {
                            route_by(&services, &signal);
                            emit_signal(&io, &signal).await
                        }
                        Err(error) => tracing::warn!(%error, "ignored a malformed signal relay"),
                    }
                    continue;
                }
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
            Ok(mut pubsub) => match pubsub.subscribe(&[&channels.events, &channels.signals]).await {
                Ok(()) => subscription = Some(pubsub),
                Err(error) => tracing::warn!(%error, "could not subscribe to Redis"),
            },
            Err(error) => tracing::warn!(%error, "could not reach Redis"),
        }
    }
}
