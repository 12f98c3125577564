#![recursion_limit = "256"]
//! `fake-meta`: the local Meta Graph API fake as a standalone server, for
//! browser end-to-end tests (see the crate documentation in `lib.rs` for what it imitates).
//!
//! Environment:
//! * `FAKE_META_ADDR` — listen address, default `127.0.0.1:3900`
//! * `FAKE_META_APP_ID`, `FAKE_META_APP_SECRET` — default `1234567890` /
//!   `fake-app-secret`
//! * `FAKE_META_WEBHOOK_URL` — where Messenger webhooks go, default
//!   `http://127.0.0.1:3000/api/webhooks/messenger`
//! * `FAKE_META_WHATSAPP_WEBHOOK_URL` — where WhatsApp webhooks go (inbound
//!   messages, statuses, template status updates); default: the Messenger
//!   URL with its last path segment replaced, i.e.
//!   `http://127.0.0.1:3000/api/webhooks/whatsapp`
//! * `FAKE_META_INSTAGRAM_WEBHOOK_URL` — where Instagram webhooks go;
//!   default `…/api/webhooks/instagram` likewise
//!
//! The world is `FakeMetaConfig::default()`: Pages `101`/`102` (Page tokens
//! `page-token-101`/`-102`; `101` linked to Instagram account
//! `17841400000000101`), business `301` with WABA `401` (system-user token
//! `wa-token-401`) and phone numbers `501`/`502`. `GET /_fake/pages`,
//! `/_fake/whatsapp/accounts` and `/_fake/instagram/accounts` show it.
//!
//! Point the app at it with `META_GRAPH_URL=http://ADDR/v21.0` and
//! `META_DIALOG_URL=http://ADDR/v21.0/dialog/oauth`. Runs until killed.

use std::io::Write as _;

use fake_meta::{FakeMeta, FakeMetaConfig};
use tracing_subscriber::EnvFilter;

fn env_or(name: &str, default: &str) -> String {
    env_opt(name).unwrap_or_else(|| default.to_owned())
}

fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    let defaults = FakeMetaConfig::default();
    let config = FakeMetaConfig {
        app_id: env_or("FAKE_META_APP_ID", &defaults.app_id),
        app_secret: env_or("FAKE_META_APP_SECRET", &defaults.app_secret),
        webhook_url: Some(env_or(
            "FAKE_META_WEBHOOK_URL",
            "http://127.0.0.1:3000/api/webhooks/messenger",
        )),
        whatsapp_webhook_url: env_opt("FAKE_META_WHATSAPP_WEBHOOK_URL"),
        instagram_webhook_url: env_opt("FAKE_META_INSTAGRAM_WEBHOOK_URL"),
        ..defaults
    };
    let addr = env_or("FAKE_META_ADDR", "127.0.0.1:3900");

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let fake = FakeMeta::spawn_on(listener, config).await?;

    // Test harnesses wait for this line.
    println!("fake-meta listening on {}", fake.base_url());
    std::io::stdout().flush()?;

    tokio::signal::ctrl_c().await?;
    Ok(())
}
