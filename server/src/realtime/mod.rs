//! Realtime over the Socket.IO v4 protocol (socketioxide) at `/socket.io/`.
//!
//! A client authenticates with `auth: { token }` or the session cookie and joins its
//! organization's room. Every event carries the organization's `seq`; a client that
//! reconnects sends `auth.since` (or emits `events:since`) and gets what it missed from the
//! event log, so nothing is lost across disconnects.
//!
//! Presence rides on the sockets: a connected tab makes its agent online (the last one
//! closing, offline after a grace period). A client tells which conversation it has open
//! (`conversation:viewing {conversationId}`, `null` for none) and when its agent types
//! (`typing:start` / `typing:stop {conversationId, kind: reply|note}`); everyone in the
//! organization gets `conversation:viewers` and `typing:indicator`, ephemeral (no `seq`).

mod fanout;
mod redis_presence;

pub use fanout::connect_sockets;
pub use redis_presence::RedisPresence;

use app::auth::ssr::{cookie_token, user_for_token};
use app::model::{Id, User};
use app::presence::Typing;
use app::services::SharedServices;
use app::store::DynStore;
use serde::Deserialize;
use socketioxide::SocketIo;
use socketioxide::extract::{Data, Extension, SocketRef, State, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;

const REPLAY_BATCH: i64 = 500;

#[derive(Clone)]
struct RealtimeState {
    store: DynStore,
    services: SharedServices,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ViewingRequest {
    #[serde(default)]
    conversation_id: Option<Id>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypingRequest {
    conversation_id: Id,
    #[serde(default)]
    kind: Option<Typing>,
}

#[derive(Debug, Default, Deserialize)]
struct ConnectAuth {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    since: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct SinceRequest {
    since: i64,
}

#[derive(Clone)]
struct SocketUser(User);

#[derive(Debug)]
struct Refused(&'static str);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub(crate) fn room(org_id: Id) -> String {
    format!("org:{org_id}")
}

pub(crate) fn user_room(user_id: Id) -> String {
    format!("user:{user_id}")
}

pub fn layer(services: SharedServices) -> (SocketIoLayer, SocketIo) {
    let state = RealtimeState {
        store: services.store.clone(),
        services,
    };
    let (layer, io) = SocketIo::builder().with_state(state).build_layer();
    io.ns("/", on_connect.with(authenticate));
    (layer, io)
}

async fn authenticate(
    socket: SocketRef,
    State(state): State<RealtimeState>,
    TryData(auth): TryData<ConnectAuth>,
) -> Result<(), Refused> {
    let auth = auth.unwrap_or_default();
    let token = auth
        .token
        .or_else(|| cookie_token(&socket.req_parts().headers))
        .ok_or(Refused("unauthorized"))?;
    let user = user_for_token(state.store.as_ref(), &token)
        .await
        .ok()
        .flatten()
        .ok_or(Refused("unauthorized"))?;
    socket.extensions.insert(SocketUser(user));
    Ok(())
}

async fn on_connect(
    socket: SocketRef,
    State(state): State<RealtimeState>,
    TryData(auth): TryData<ConnectAuth>,
    Extension(SocketUser(user)): Extension<SocketUser>,
) {
    socket.join(room(user.organization_id));
    socket.join(user_room(user.id));
    state.services.socket_connected(&user).await;
    let since = auth.ok().and_then(|a| a.since);
    if let Some(since) = since {
        replay(&socket, &state.store, user.organization_id, since).await;
    }
    let latest = state.store.latest_seq(user.organization_id).await.unwrap_or_default();
    let _ = socket.emit(
        "session",
        &serde_json::json!({ "userId": user.id, "organizationId": user.organization_id, "seq": latest }),
    );
    socket.on(
        "events:since",
        async |socket: SocketRef,
               State(state): State<RealtimeState>,
               Extension(SocketUser(user)): Extension<SocketUser>,
               Data(req): Data<SinceRequest>| {
            replay(&socket, &state.store, user.organization_id, req.since).await;
        },
    );
    socket.on(
        "conversation:viewing",
        async |socket: SocketRef,
               State(state): State<RealtimeState>,
               Extension(SocketUser(user)): Extension<SocketUser>,
               Data(req): Data<ViewingRequest>| {
            let conversation = match req.conversation_id {
                // Only the organization's own conversations can be viewed.
                Some(id) if state.store.conversation(user.organization_id, id).await.is_ok() => Some(id),
                Some(_) | None => None,
            };
            state
                .services
                .viewing(&user, &socket.id.to_string(), conversation)
                .await;
        },
    );
    socket.on(
        "typing:start",
        async |socket: SocketRef,
               State(state): State<RealtimeState>,
               Extension(SocketUser(user)): Extension<SocketUser>,
               Data(req): Data<TypingRequest>| {
            if state
                .store
                .conversation(user.organization_id, req.conversation_id)
                .await
                .is_ok()
            {
                let kind = req.kind.unwrap_or(Typing::Reply);
                state
                    .services
                    .typing(&user, &socket.id.to_string(), req.conversation_id, Some(kind))
                    .await;
            }
        },
    );
    socket.on(
        "typing:stop",
        async |socket: SocketRef,
               State(state): State<RealtimeState>,
               Extension(SocketUser(user)): Extension<SocketUser>,
               Data(req): Data<TypingRequest>| {
            state
                .services
                .typing(&user, &socket.id.to_string(), req.conversation_id, None)
                .await;
        },
    );
    socket.on_disconnect(
        async |socket: SocketRef,
               State(state): State<RealtimeState>,
               Extension(SocketUser(user)): Extension<SocketUser>| {
            state.services.socket_disconnected(&user, &socket.id.to_string()).await;
        },
    );
}

/// Sends the socket every event of its organization after `since`, in order.
async fn replay(socket: &SocketRef, store: &DynStore, org_id: Id, mut since: i64) {
    loop {
        let events = match store.events_since(org_id, since, REPLAY_BATCH).await {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "could not read the event log for a reconnecting client");
                return;
            }
        };
        for event in &events {
            if socket.emit(event.name.as_str(), &event.payload).is_err() {
                return;
            }
            since = event.seq;
        }
        if (events.len() as i64) < REPLAY_BATCH {
            return;
        }
    }
}
