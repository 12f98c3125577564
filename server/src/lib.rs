#![recursion_limit = "256"]
//! Messio's server: SSR of the Leptos app, the REST API, webhook routes, channel adapters,
//! the outbox worker and realtime. `build` wires them together; `main.rs` serves them.

pub mod api;
pub mod channels;
pub mod config;
pub mod crypto;
pub mod csrf;
pub mod inbound;
pub mod media;
pub mod outbox;
pub mod realtime;
pub mod state;
pub mod uploads;
pub mod webhooks;

use crate::channels::gateway::PlatformGateway;
use crate::channels::meta::login::PendingLogins;
use crate::channels::poller::{self, Pollers};
use crate::channels::registry::Registry;
use crate::config::Config;
use crate::crypto::SecretBox;
use crate::state::AppState;
use app::auth::ssr::LoginLimiter;
use app::events::bus::EventBus;
use app::inbound::group_commit::GroupCommit;
use app::services::{Services, SharedServices};
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use sha2::Digest as _;
use std::sync::Arc;
use tokio::sync::{Notify, watch};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A built server: the router to serve, its state, and the background worker's handle.
pub struct Messio {
    pub router: Router,
    pub state: AppState,
    shutdown: watch::Sender<bool>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Messio {
    /// Stops the background workers (outbox, template review poll, channel pollers) after their
    /// current batch.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        for worker in self.workers {
            let _ = worker.await;
        }
    }
}

/// The listener every Messio server uses: its connections send small writes at once
/// (TCP_NODELAY). Without it, two socket events written back to back wait for the client's
/// delayed ACK, which added up to 40 ms to one message in a hundred.
pub fn listener(
    tcp: tokio::net::TcpListener,
) -> axum::serve::TapIo<tokio::net::TcpListener, fn(&mut tokio::net::TcpStream)> {
    use axum::serve::ListenerExt;
    tcp.tap_io(send_small_writes_at_once)
}

fn send_small_writes_at_once(stream: &mut tokio::net::TcpStream) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
}

pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Messio, BoxError> {
    if config.database_url.starts_with("sqlite:") {
        std::fs::create_dir_all(&config.data_dir)?;
    }
    let store = app::store::connect(&config.database_url).await?;
    let secrets = SecretBox::load_or_create(config.secret_key.as_deref(), &config.data_dir)?;
    let events = EventBus::new();
    let adapters = Registry::new(&config.meta, &config.platform_apis, &config.public_url);
    let pollers = Arc::new(Pollers::default());
    let pending_logins = Arc::new(PendingLogins::default());
    let gateway = Arc::new(PlatformGateway {
        store: store.clone(),
        events: events.clone(),
        secrets: secrets.clone(),
        adapters: adapters.clone(),
        pending: pending_logins.clone(),
        pollers: pollers.clone(),
        public_url: config.public_url.clone(),
    });
    // Presence is shared through Redis when instances share the database; the namespace keeps
    // databases apart that share one Redis.
    let namespace = hex::encode(&sha2::Sha256::digest(config.database_url.as_bytes())[..6]);
    let presence: Arc<dyn app::presence::PresenceStore> = match config.redis_url.as_deref() {
        Some(url) => realtime::RedisPresence::start(url, &namespace, config.presence_grace).await?,
        None => Arc::new(app::presence::Presence::default()),
    };
    let services: SharedServices = Arc::new(Services {
        ingest: GroupCommit::start(store.clone(), events.clone()),
        router: app::routing::Router::start(store.clone(), events.clone(), presence.clone()),
        presence,
        store,
        events,
        gateway: gateway.clone(),
        outbox: Arc::new(Notify::new()),
        login_limiter: LoginLimiter::new(config.login_attempts_per_minute),
        secure_cookies: config.secure_cookies(),
        facebook_login: config.meta.login_available(),
        sms_segment_warning: config.sms_segment_warning,
        presence_grace: config.presence_grace,
    });
    let (socket_layer, io) = realtime::layer(services.clone());
    realtime::connect_sockets(&services, io, config.redis_url.as_deref(), &namespace).await?;
    let config = Arc::new(config);
    let state = AppState {
        leptos_options: leptos_options.clone(),
        config: config.clone(),
        services: services.clone(),
        secrets: secrets.clone(),
        adapters: adapters.clone(),
        pollers,
        gateway: gateway.clone(),
        pending_logins,
        media: media::MediaCache::new(config.data_dir.join("media")),
        uploads: uploads::Uploads::new(
            config.data_dir.join("media").join("uploads"),
            secrets.clone(),
            &config.public_url,
        ),
    };

    let (shutdown, shutdown_rx) = watch::channel(false);
    let workers = vec![
        outbox::spawn(
            services.clone(),
            adapters,
            secrets,
            state.uploads.clone(),
            shutdown_rx.clone(),
        ),
        channels::whatsapp::templates::spawn_review_poller(gateway, config.template_poll_every, shutdown_rx.clone()),
        poller::spawn(state.clone(), shutdown_rx),
    ];

    let routes = generate_route_list(App);
    let context_services = services.clone();
    let router = Router::new()
        .merge(api::router())
        .merge(webhooks::router(config.max_webhook_bytes))
        .merge(media::router())
        .merge(uploads::router())
        .merge(channels::meta::login::router())
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(&state, routes, move || provide_context(context_services.clone()), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn(csrf::same_origin))
        // The front end's wasm shrinks to about a third with gzip, more with brotli; pages and
        // JSON gain too. Socket.IO sits outside, so its frames are left as they are.
        .layer(CompressionLayer::new())
        .layer(socket_layer)
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    Ok(Messio {
        router,
        state,
        shutdown,
        workers,
    })
}
