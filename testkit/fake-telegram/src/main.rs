//! `fake-telegram`: the local Telegram Bot API fake as a standalone server,
//! for browser end-to-end tests (see the crate documentation in `lib.rs` for
//! what it imitates).
//!
//! Environment:
//! * `FAKE_TELEGRAM_ADDR` — listen address, default `127.0.0.1:3901`
//!
//! The world is `FakeTelegramConfig::default()`: bots 7000000001 (@acme_support_bot)
//! and 7000000002 (@acme_sales_bot) and customers 5550001 (Ada) and 5550002
//! (Linus); `GET /_fake/telegram/bots` shows them with their tokens.
//!
//! Point the app's Telegram API base at `http://ADDR`. Logs go to stderr;
//! one ready line goes to stdout. Runs until killed.

use std::io::Write as _;

use fake_telegram::{FakeTelegram, FakeTelegramConfig};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    let addr = std::env::var("FAKE_TELEGRAM_ADDR")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:3901".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let fake = FakeTelegram::spawn_on(listener, FakeTelegramConfig::default()).await?;

    // Test harnesses wait for this line.
    println!("fake-telegram listening on {}", fake.base_url());
    std::io::stdout().flush()?;

    tokio::signal::ctrl_c().await?;
    Ok(())
}
