//! `fake-twilio`: the local Twilio Programmable Messaging fake as a
//! standalone server, for browser end-to-end tests (see the crate
//! documentation in `lib.rs` for what it imitates, and `control.rs` for the
//! `/_fake/` routes that play the customer and the carrier).
//!
//! Environment:
//! * `FAKE_TWILIO_ADDR` — listen address, default `127.0.0.1:3902`
//! * `FAKE_TWILIO_ACCOUNT_SID`, `FAKE_TWILIO_AUTH_TOKEN` — default the
//!   fixed `FakeTwilioConfig::default()` credentials
//!
//! The world is `FakeTwilioConfig::default()`: numbers `+15017122661` and
//! `+15017122662` (the latter in Messaging Service `MG5b6c…93a4`);
//! `GET /_fake/twilio/account` and `/_fake/twilio/numbers` show it.
//!
//! Point the app's Twilio API base (and Messaging API base) at
//! `http://ADDR`. Logs go to stderr; one ready line goes to stdout. Runs
//! until killed.

use std::io::Write as _;

use fake_twilio::{FakeTwilio, FakeTwilioConfig};
use tracing_subscriber::EnvFilter;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();

    let defaults = FakeTwilioConfig::default();
    let config = FakeTwilioConfig {
        account_sid: env_or("FAKE_TWILIO_ACCOUNT_SID", &defaults.account_sid),
        auth_token: env_or("FAKE_TWILIO_AUTH_TOKEN", &defaults.auth_token),
        ..defaults
    };
    let addr = env_or("FAKE_TWILIO_ADDR", "127.0.0.1:3902");

    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let fake = FakeTwilio::spawn_on(listener, config).await?;

    // Test harnesses wait for this line.
    println!("fake-twilio listening on {}", fake.base_url());
    std::io::stdout().flush()?;

    tokio::signal::ctrl_c().await?;
    Ok(())
}
