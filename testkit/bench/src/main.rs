#![recursion_limit = "256"]
//! `messio-bench` — how many Messenger webhooks per second one Messio instance takes, and
//! how long a message needs from the webhook POST to an agent's socket.
//!
//! For each backend it starts a real server on a scratch database, connects N agent
//! sockets (Socket.IO over WebSocket), drives signed webhooks from C concurrent senders
//! for S seconds, then measures the same database's raw single-row insert ceiling with the
//! same concurrency, so the ratio shows how close to the limit the whole path runs.
//!
//! Usage: messio-bench [--backend sqlite|postgres|both] [--sockets N] [--concurrency C] [--seconds S]

use app::model::ChannelKind;
use app::store::NewChannel;
use app::store::testing::{ScratchDir, scratch_postgres_url};
use fake_meta::{SIGNATURE_HEADER, encode_body, sign, text_message_event};
use serde_json::{Value, json};
use server::config::{Config, MetaConfig};
use socket_client::SocketClient;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const APP_SECRET: &str = "bench-app-secret";
const PAGE_ID: &str = "900";

struct Options {
    backends: Vec<&'static str>,
    sockets: usize,
    concurrency: usize,
    seconds: u64,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        backends: vec!["sqlite", "postgres"],
        sockets: 10,
        concurrency: 32,
        seconds: 10,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--backend" => {
                o.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--sockets" => o.sockets = value()?.parse().map_err(|_| "--sockets takes a number")?,
            "--concurrency" => o.concurrency = value()?.parse().map_err(|_| "--concurrency takes a number")?,
            "--seconds" => o.seconds = value()?.parse().map_err(|_| "--seconds takes a number")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

struct Report {
    backend: &'static str,
    accepted: u64,
    failed: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    delivered_to_all: bool,
    raw_per_second: f64,
}

#[tokio::main]
async fn main() -> Result<(), server::BoxError> {
    let options = options()?;
    let mut reports = Vec::new();
    for backend in &options.backends {
        eprintln!("benchmarking {backend}…");
        reports.push(run(backend, &options).await?);
    }
    println!(
        "\n{:<9} {:>7} {:>11} {:>9} {:>10} {:>9} {:>9} {:>14} {:>8}",
        "backend", "sockets", "concurrency", "messages", "msg/s", "p50 ms", "p99 ms", "raw inserts/s", "ratio"
    );
    for r in &reports {
        println!(
            "{:<9} {:>7} {:>11} {:>9} {:>10.0} {:>9.1} {:>9.1} {:>14.0} {:>7.0}%{}",
            r.backend,
            options.sockets,
            options.concurrency,
            r.accepted,
            r.per_second,
            r.p50_ms,
            r.p99_ms,
            r.raw_per_second,
            100.0 * r.per_second / r.raw_per_second.max(1.0),
            if r.delivered_to_all {
                ""
            } else {
                "  (some sockets missed messages!)"
            }
        );
        if r.failed > 0 {
            println!("          {} webhook POSTs were not acknowledged", r.failed);
        }
    }
    Ok(())
}

async fn run(backend: &'static str, options: &Options) -> Result<Report, server::BoxError> {
    let dir = ScratchDir::new("messio-bench")?;
    let database_url = match backend {
        "postgres" => scratch_postgres_url().await,
        _ => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = Config {
        site_addr: addr,
        data_dir: dir.path().to_path_buf(),
        database_url: database_url.clone(),
        redis_url: None,
        secret_key: None,
        public_url: format!("http://{addr}"),
        meta: MetaConfig {
            app_id: "bench".into(),
            app_secret: APP_SECRET.into(),
            verify_token: "bench".into(),
            // Nothing listens there: the benchmark never sends replies.
            graph_url: "http://127.0.0.1:9/v21.0".into(),
            dialog_url: "http://127.0.0.1:9/dialog".into(),
        },
        max_webhook_bytes: 1024 * 1024,
        login_attempts_per_minute: 1000,
        template_poll_every: std::time::Duration::from_secs(3600),
    };
    let options_leptos = leptos::config::LeptosOptions::builder()
        .output_name("messio")
        .site_addr(addr)
        .build();
    let messio = server::build(config, options_leptos).await?;
    let state = messio.state.clone();
    let router = messio.router.clone();
    let server_task = tokio::spawn(async move { axum::serve(listener, router).await });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;

    let signup: Value = http
        .post(format!("{base}/api/auth/signup"))
        .json(&json!({ "organization": "Bench", "name": "Bench", "email": "bench@bench.test", "password": "bench-password" }))
        .send()
        .await?
        .json()
        .await?;
    let token = signup["token"].as_str().ok_or("signup failed")?.to_string();
    let org = signup["user"]["organizationId"].as_i64().ok_or("signup failed")?;
    state
        .services
        .store
        .connect_channel(
            org,
            NewChannel {
                kind: ChannelKind::Messenger,
                external_id: PAGE_ID.into(),
                name: "Bench page".into(),
                credentials: state.secrets.seal(r#"{"page_access_token":"unused"}"#),
                parent_account_id: None,
            },
        )
        .await?;

    // Agent sockets: the first records arrival times, all of them count what they got.
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let received: Arc<Vec<AtomicU64>> = Arc::new((0..options.sockets).map(|_| AtomicU64::new(0)).collect());
    let mut socket_tasks = Vec::new();
    for index in 0..options.sockets {
        let mut socket = SocketClient::connect(&base, json!({ "token": token })).await?;
        let (sent_at, latencies, received) = (sent_at.clone(), latencies.clone(), received.clone());
        socket_tasks.push(tokio::spawn(async move {
            while let Some(event) = socket.next(Duration::from_secs(3600)).await {
                if event.name != "message:received" {
                    continue;
                }
                received[index].fetch_add(1, Ordering::Relaxed);
                if index == 0
                    && let Some(mid) = event
                        .payload
                        .pointer("/message/platformMessageId")
                        .and_then(Value::as_str)
                    && let Some(start) = sent_at.lock().await.remove(mid)
                {
                    latencies.lock().await.push(event.at - start);
                }
            }
        }));
    }

    // Drive webhooks.
    let deadline = Instant::now() + Duration::from_secs(options.seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut senders = Vec::new();
    for worker in 0..options.concurrency {
        let http = http.clone();
        let url = format!("{base}/api/webhooks/messenger");
        let sent_at = sent_at.clone();
        let counter = counter.clone();
        let failed = failed.clone();
        senders.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let mid = format!("m_bench_{worker}_{n}");
                let psid = format!("{}", 10_000 + (n % 200) * 64 + worker as u64);
                let payload = text_message_event(PAGE_ID, &psid, &mid, "benchmark message", fake_meta::now_ms());
                let body = encode_body(&payload);
                let signature = sign(APP_SECRET, &body);
                sent_at.lock().await.insert(mid, Instant::now());
                let ok = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .header(SIGNATURE_HEADER, signature)
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    counter.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for sender in senders {
        sender.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = counter.load(Ordering::Relaxed);
    // Let the last events reach the sockets.
    for _ in 0..100 {
        if received.iter().all(|r| r.load(Ordering::Relaxed) >= accepted) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered_to_all = received.iter().all(|r| r.load(Ordering::Relaxed) >= accepted);
    for task in socket_tasks {
        task.abort();
    }
    let mut lat = latencies.lock().await.clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    let (p50_ms, p99_ms) = (pct(0.50), pct(0.99));
    server_task.abort();
    messio.stop().await;

    let raw_per_second = raw_insert_ceiling(backend, &database_url, options).await?;
    Ok(Report {
        backend,
        accepted,
        failed: failed.load(Ordering::Relaxed),
        per_second: accepted as f64 / elapsed,
        p50_ms,
        p99_ms,
        delivered_to_all,
        raw_per_second,
    })
}

/// Single-row autocommit inserts with the same concurrency: the database's own limit.
async fn raw_insert_ceiling(backend: &str, url: &str, options: &Options) -> Result<f64, server::BoxError> {
    const INSERT: &str = "INSERT INTO bench_raw (body) VALUES ($1)";
    let window = Duration::from_secs(options.seconds.clamp(1, 5));
    if backend == "postgres" {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(16)
            .connect(url)
            .await?;
        sqlx::query("CREATE TABLE bench_raw (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL)")
            .execute(&pool)
            .await?;
        Ok(hammer(options.concurrency, window, move || {
            let pool = pool.clone();
            async move {
                sqlx::query(INSERT)
                    .bind("benchmark message")
                    .execute(&pool)
                    .await
                    .is_ok()
            }
        })
        .await)
    } else {
        let connect = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(url.trim_start_matches("sqlite://"))
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // One writer connection, as the store uses: SQLite serializes writes anyway.
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect)
            .await?;
        sqlx::query("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)")
            .execute(&pool)
            .await?;
        Ok(hammer(options.concurrency, window, move || {
            let pool = pool.clone();
            async move {
                sqlx::query(INSERT)
                    .bind("benchmark message")
                    .execute(&pool)
                    .await
                    .is_ok()
            }
        })
        .await)
    }
}

/// Runs `attempt` from `concurrency` tasks for `window`; returns successes per second.
async fn hammer<F, Fut>(concurrency: usize, window: Duration, attempt: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let count = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + window;
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (attempt, count) = (attempt.clone(), count.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if attempt().await {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}
