//! Configuration from the environment (and a `.env` file), with defaults that make a
//! fresh checkout run on SQLite without any setup.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct MetaConfig {
    pub app_id: String,
    pub app_secret: String,
    pub verify_token: String,
    /// Graph API base including the version, e.g. `https://graph.facebook.com/v21.0`.
    pub graph_url: String,
    /// The OAuth login dialog, e.g. `https://www.facebook.com/v21.0/dialog/oauth`.
    pub dialog_url: String,
}

impl MetaConfig {
    /// Facebook login needs a real app id and secret; webhooks need the secret.
    pub fn login_available(&self) -> bool {
        !self.app_id.is_empty() && !self.app_secret.is_empty()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub site_addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Set when several instances share one database: events are relayed through Redis.
    pub redis_url: Option<String>,
    /// Base64 of 32 bytes; when absent, a key is generated under the data folder and kept.
    pub secret_key: Option<String>,
    /// Where browsers reach us; OAuth redirect URIs are built from it.
    pub public_url: String,
    pub meta: MetaConfig,
    pub max_webhook_bytes: usize,
    /// Login attempts allowed per minute for one email or client address.
    pub login_attempts_per_minute: u32,
    /// How often templates still in Meta's review are checked (the webhook usually comes first).
    pub template_poll_every: std::time::Duration,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Config {
    pub fn from_env(site_addr: SocketAddr) -> Self {
        let data_dir = PathBuf::from(var("MESSIO_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url =
            var("DATABASE_URL").unwrap_or_else(|| format!("sqlite://{}", data_dir.join("messio.db").display()));
        let public_url = var("MESSIO_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{site_addr}"))
            .trim_end_matches('/')
            .to_string();
        Config {
            site_addr,
            data_dir,
            database_url,
            redis_url: var("REDIS_URL"),
            secret_key: var("MESSIO_SECRET_KEY"),
            public_url,
            meta: MetaConfig {
                app_id: var("META_APP_ID").unwrap_or_default(),
                app_secret: var("META_APP_SECRET").unwrap_or_default(),
                verify_token: var("META_VERIFY_TOKEN").unwrap_or_default(),
                graph_url: var("META_GRAPH_URL")
                    .unwrap_or_else(|| "https://graph.facebook.com/v21.0".into())
                    .trim_end_matches('/')
                    .to_string(),
                dialog_url: var("META_DIALOG_URL")
                    .unwrap_or_else(|| "https://www.facebook.com/v21.0/dialog/oauth".into()),
            },
            max_webhook_bytes: var("MESSIO_MAX_WEBHOOK_BYTES")
                .and_then(|v| v.parse().ok())
                .unwrap_or(1024 * 1024),
            login_attempts_per_minute: var("MESSIO_LOGIN_ATTEMPTS_PER_MINUTE")
                .and_then(|v| v.parse().ok())
                .unwrap_or(10),
            template_poll_every: std::time::Duration::from_secs(
                var("MESSIO_TEMPLATE_POLL_SECS")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(300)
                    .max(1),
            ),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}
