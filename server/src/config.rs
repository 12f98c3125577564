//! Configuration: one definition of every environment variable ([`Settings`], read with
//! clap from the environment, a `.env` file, or the matching `--flag`), resolved into the
//! [`Config`] the server runs with. Defaults make a fresh checkout run on SQLite without
//! any setup; a value that does not parse stops startup with a message naming the
//! variable and what it expects. The README's configuration table is checked against
//! this definition by a test below.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory as _, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

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

/// Where the platforms outside Meta keep their APIs (tests point them at local fakes).
#[derive(Debug, Clone)]
pub struct PlatformApis {
    /// The Bot API's base, e.g. `https://api.telegram.org`; methods are `{base}/bot<token>/<method>`.
    pub telegram_url: String,
    /// Twilio's REST API base, e.g. `https://api.twilio.com` (the 2010-04-01 resources).
    pub twilio_url: String,
    /// Twilio's Messaging Services API base, e.g. `https://messaging.twilio.com`.
    pub twilio_messaging_url: String,
}

/// What the server runs with, resolved from [`Settings`] (tests build it directly).
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
    pub platform_apis: PlatformApis,
    pub max_webhook_bytes: usize,
    /// Login attempts allowed per minute for one email or client address.
    pub login_attempts_per_minute: u32,
    /// How often templates still in Meta's review are checked (the webhook usually comes first).
    pub template_poll_every: Duration,
    /// Past how many segments the composer warns that an SMS is long.
    pub sms_segment_warning: usize,
    /// How long after an agent's last tab closed they count as offline.
    pub presence_grace: Duration,
}

impl Config {
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// `messio [serve|demo]`, configured by the environment.
#[derive(Debug, Parser)]
#[command(name = "messio", version, about = "Messio: every customer message in one inbox")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the app (the default).
    Serve,
    /// Fill a sample organization with a simulated channel whose customers keep writing, then serve.
    Demo,
}

/// Every environment variable Messio reads, with its default and meaning. The doc
/// comments are the README table's "meaning" column.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// where the server listens
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000", value_parser = socket_addr)]
    pub site_addr: SocketAddr,
    /// SQLite file, generated secret key, cached media and uploads
    #[arg(long, env = "MESSIO_DATA_DIR", default_value = "data", value_parser = path)]
    pub data_dir: PathBuf,
    /// `sqlite:…` or `postgres://…` selects the backend; unset: `sqlite://<MESSIO_DATA_DIR>/messio.db`
    #[arg(long, env = "DATABASE_URL", value_parser = database_url)]
    pub database_url: Option<String>,
    /// set when several instances share one PostgreSQL: events are relayed through Redis pub/sub
    #[arg(long, env = "REDIS_URL", value_parser = redis_url)]
    pub redis_url: Option<String>,
    /// base64 of 32 bytes; encrypts channel tokens at rest; unset: generated into `<MESSIO_DATA_DIR>/secret.key`
    #[arg(long, env = "MESSIO_SECRET_KEY", value_parser = text, hide_env_values = true)]
    pub secret_key: Option<String>,
    /// how browsers and Meta reach us (OAuth redirect URI; Messenger/Instagram fetch attached files from signed links under it); unset: `http://<LEPTOS_SITE_ADDR>`
    #[arg(long, env = "MESSIO_PUBLIC_URL", value_parser = http_url)]
    pub public_url: Option<String>,
    /// the Meta app's id; "Connect Facebook" and webhooks need it
    #[arg(long, env = "META_APP_ID", default_value = "", hide_default_value = true, value_parser = text)]
    pub meta_app_id: String,
    /// the Meta app's secret; webhook signatures are checked with it
    #[arg(long, env = "META_APP_SECRET", default_value = "", hide_default_value = true, value_parser = text, hide_env_values = true)]
    pub meta_app_secret: String,
    /// answers Meta's webhook subscription handshake
    #[arg(long, env = "META_VERIFY_TOKEN", default_value = "", hide_default_value = true, value_parser = text, hide_env_values = true)]
    pub meta_verify_token: String,
    /// Graph API base (tests point it at the fake)
    #[arg(long, env = "META_GRAPH_URL", default_value = "https://graph.facebook.com/v21.0", value_parser = http_url)]
    pub meta_graph_url: String,
    /// Facebook login dialog
    #[arg(long, env = "META_DIALOG_URL", default_value = "https://www.facebook.com/v21.0/dialog/oauth", value_parser = http_url)]
    pub meta_dialog_url: String,
    /// Telegram Bot API base (tests point it at the fake)
    #[arg(long, env = "TELEGRAM_API_URL", default_value = "https://api.telegram.org", value_parser = http_url)]
    pub telegram_api_url: String,
    /// Twilio REST API base (tests point it at the fake)
    #[arg(long, env = "TWILIO_API_URL", default_value = "https://api.twilio.com", value_parser = http_url)]
    pub twilio_api_url: String,
    /// Twilio Messaging Services API base (tests point it at the fake)
    #[arg(long, env = "TWILIO_MESSAGING_URL", default_value = "https://messaging.twilio.com", value_parser = http_url)]
    pub twilio_messaging_url: String,
    /// larger webhook bodies get 413
    #[arg(long, env = "MESSIO_MAX_WEBHOOK_BYTES", default_value = "1048576", value_parser = positive::<usize>)]
    pub max_webhook_bytes: usize,
    /// per email and per client address
    #[arg(long, env = "MESSIO_LOGIN_ATTEMPTS_PER_MINUTE", default_value = "10", value_parser = positive::<u32>)]
    pub login_attempts_per_minute: u32,
    /// how often WhatsApp templates still in review are checked at Meta (the webhook usually comes first)
    #[arg(long, env = "MESSIO_TEMPLATE_POLL_SECS", default_value = "300", value_parser = positive::<u64>)]
    pub template_poll_secs: u64,
    /// past how many segments the composer warns that an SMS is long (each segment is billed)
    #[arg(long, env = "MESSIO_SMS_SEGMENT_WARNING", default_value = "3", value_parser = positive::<usize>)]
    pub sms_segment_warning: usize,
    /// seconds after an agent's last tab closed before they count as offline (a reload or a flaky network is not leaving)
    #[arg(long, env = "MESSIO_PRESENCE_GRACE_SECS", default_value = "20", value_parser = positive::<u64>)]
    pub presence_grace_secs: u64,
    /// log filter (`tracing` directives)
    #[arg(long, env = "RUST_LOG", default_value = "info,sqlx=warn,tower_http=info", value_parser = log_filter)]
    pub log: String,
}

impl Settings {
    pub fn resolve(self) -> Config {
        let database_url = self
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("messio.db").display()));
        let public_url = self.public_url.unwrap_or_else(|| format!("http://{}", self.site_addr));
        Config {
            site_addr: self.site_addr,
            data_dir: self.data_dir,
            database_url,
            redis_url: self.redis_url,
            secret_key: self.secret_key,
            public_url,
            meta: MetaConfig {
                app_id: self.meta_app_id,
                app_secret: self.meta_app_secret,
                verify_token: self.meta_verify_token,
                graph_url: self.meta_graph_url,
                dialog_url: self.meta_dialog_url,
            },
            platform_apis: PlatformApis {
                telegram_url: self.telegram_api_url,
                twilio_url: self.twilio_api_url,
                twilio_messaging_url: self.twilio_messaging_url,
            },
            max_webhook_bytes: self.max_webhook_bytes,
            login_attempts_per_minute: self.login_attempts_per_minute,
            template_poll_every: Duration::from_secs(self.template_poll_secs),
            sms_segment_warning: self.sms_segment_warning,
            presence_grace: Duration::from_secs(self.presence_grace_secs),
        }
    }
}

impl Cli {
    /// Reads the command line and the environment; call it before any thread starts. A
    /// variable set to an empty value counts as unset (as `VAR=` in a `.env` file means).
    /// `Err` carries what to print: help and version text (exit 0), or an error naming
    /// the variable and what it expects.
    pub fn load() -> Result<Cli, clap::Error> {
        for arg in Cli::command().get_arguments() {
            let Some(name) = arg.get_env() else { continue };
            if std::env::var(name).is_ok_and(|value| value.trim().is_empty()) {
                // SAFETY: main calls this before the runtime or any other thread exists.
                unsafe { std::env::remove_var(name) };
            }
        }
        Cli::try_parse().map_err(name_the_variable)
    }
}

/// Clap names the flag (`--max-webhook-bytes`); most people set the variable, so the
/// message names both and keeps the parser's "expected …".
fn name_the_variable(error: clap::Error) -> clap::Error {
    if !matches!(error.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        return error;
    }
    let arg = match error.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) => arg.clone(),
        _ => return error,
    };
    let value = match error.get(ContextKind::InvalidValue) {
        Some(ContextValue::String(value)) => value.clone(),
        _ => String::new(),
    };
    let command = Cli::command();
    let Some(definition) = command.get_arguments().find(|a| {
        a.get_long()
            .is_some_and(|long| arg.split_whitespace().next() == Some(&format!("--{long}")))
    }) else {
        return error;
    };
    let Some(env) = definition.get_env().and_then(|e| e.to_str()) else {
        return error;
    };
    let expected = std::error::Error::source(&error)
        .map(|reason| reason.to_string())
        .unwrap_or_else(|| "a valid value".into());
    let shown = if definition.is_hide_env_values_set() {
        "(hidden)".to_string()
    } else {
        format!("`{value}`")
    };
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!(
            "{env} (or --{}) is set to {shown}: {expected}\n",
            definition.get_long().unwrap_or_default()
        ),
    )
}

fn text(raw: &str) -> Result<String, String> {
    Ok(raw.trim().to_string())
}

fn path(raw: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(raw.trim()))
}

fn socket_addr(raw: &str) -> Result<SocketAddr, String> {
    raw.trim()
        .parse()
        .map_err(|_| "expected an address and port, like 127.0.0.1:3000 or [::]:8080".into())
}

fn positive<T: std::str::FromStr + Default + PartialOrd>(raw: &str) -> Result<T, String> {
    match raw.trim().parse::<T>() {
        Ok(n) if n > T::default() => Ok(n),
        _ => Err("expected a whole number greater than 0".into()),
    }
}

fn http_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_end_matches('/');
    match url::Url::parse(trimmed) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(trimmed.to_string()),
        _ => Err("expected an http:// or https:// address, like https://messio.example.com".into()),
    }
}

fn database_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if ["sqlite:", "postgres:", "postgresql:"]
        .iter()
        .any(|p| trimmed.starts_with(p))
    {
        Ok(trimmed.to_string())
    } else {
        Err("expected sqlite://path/to/file.db or postgres://user@host/database".into())
    }
}

fn redis_url(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim();
    if trimmed.starts_with("redis://") || trimmed.starts_with("rediss://") {
        Ok(trimmed.to_string())
    } else {
        Err("expected redis://host:port (or rediss:// for TLS)".into())
    }
}

fn log_filter(raw: &str) -> Result<String, String> {
    tracing_subscriber::EnvFilter::builder()
        .parse(raw.trim())
        .map(|_| raw.trim().to_string())
        .map_err(|e| format!("expected tracing directives, like info or info,sqlx=warn ({e})"))
}

/// The README's configuration table, as this definition describes it.
pub fn readme_table() -> String {
    let command = Cli::command();
    let mut table = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for arg in command.get_arguments() {
        let Some(env) = arg.get_env().and_then(|e| e.to_str()) else {
            continue;
        };
        let default = arg
            .get_default_values()
            .first()
            .and_then(|d| d.to_str())
            .filter(|d| !d.is_empty())
            .map(|d| format!("`{d}`"))
            .unwrap_or_else(|| "unset".into());
        let meaning = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        table.push_str(&format!("| `{env}` | {default} | {meaning} |\n"));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, String> {
        let command = Cli::command();
        // Flags stand in for the variables: same parsers, no process-wide environment.
        let mut argv = vec!["messio".to_string()];
        for (name, value) in vars {
            let arg = command
                .get_arguments()
                .find(|a| a.get_env().and_then(|e| e.to_str()) == Some(*name))
                .unwrap_or_else(|| panic!("{name} is not defined"));
            argv.push(format!("--{}={value}", arg.get_long().unwrap_or_default()));
        }
        Cli::try_parse_from(argv)
            .map(|cli| cli.settings.resolve())
            .map_err(|e| name_the_variable(e).to_string())
    }

    #[test]
    fn defaults_run_on_sqlite_in_the_data_folder() {
        let config = parse(&[]).expect("defaults parse");
        assert_eq!(config.database_url, "sqlite://data/messio.db");
        assert_eq!(config.public_url, "http://127.0.0.1:3000");
        assert_eq!(config.max_webhook_bytes, 1024 * 1024);
        assert_eq!(config.template_poll_every, Duration::from_secs(300));
        assert!(!config.meta.login_available());
    }

    #[test]
    fn derived_defaults_follow_the_variables_they_name() {
        let config =
            parse(&[("MESSIO_DATA_DIR", "/srv/messio"), ("LEPTOS_SITE_ADDR", "0.0.0.0:8080")]).expect("parses");
        assert_eq!(config.database_url, "sqlite:///srv/messio/messio.db");
        assert_eq!(config.public_url, "http://0.0.0.0:8080");
    }

    #[test]
    fn urls_lose_their_trailing_slash() {
        let config = parse(&[
            ("MESSIO_PUBLIC_URL", "https://inbox.example.com/"),
            ("META_GRAPH_URL", "http://127.0.0.1:3900/v21.0/"),
        ])
        .expect("parses");
        assert_eq!(config.public_url, "https://inbox.example.com");
        assert_eq!(config.meta.graph_url, "http://127.0.0.1:3900/v21.0");
        assert!(config.secure_cookies());
    }

    #[test]
    fn a_bad_value_names_the_variable_and_what_it_expects() {
        let cases = [
            (
                "MESSIO_MAX_WEBHOOK_BYTES",
                "1MB",
                "expected a whole number greater than 0",
            ),
            (
                "MESSIO_TEMPLATE_POLL_SECS",
                "0",
                "expected a whole number greater than 0",
            ),
            ("LEPTOS_SITE_ADDR", "localhost", "expected an address and port"),
            ("DATABASE_URL", "mysql://x", "expected sqlite://"),
            ("REDIS_URL", "127.0.0.1:6379", "expected redis://"),
            (
                "MESSIO_PUBLIC_URL",
                "inbox.example.com",
                "expected an http:// or https:// address",
            ),
            ("RUST_LOG", "info,=[", "expected tracing directives"),
        ];
        for (name, value, expected) in cases {
            let message = parse(&[(name, value)]).expect_err(name);
            assert!(message.contains(name), "{name}: {message}");
            assert!(message.contains(expected), "{name}: {message}");
            assert!(message.contains(value), "{name}: {message}");
        }
    }

    #[test]
    fn the_readme_table_matches_this_definition() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
        let table = readme_table();
        assert!(
            readme.contains(&table),
            "README.md's configuration table is out of date; replace it with:\n\n{table}"
        );
    }
}
