#![recursion_limit = "256"]
//! `messio-bench` — how many Messenger webhooks per second one Messio instance takes, how long
//! a message needs from the webhook POST to an agent's socket, and how close that comes to
//! what the store itself can write.
//!
//! For each backend, on scratch databases:
//! 1. **runs**: a real server, agent sockets (Socket.IO over WebSocket) and signed webhooks
//!    from C concurrent senders for S seconds: at 10 sockets in one organization flat out,
//!    at 1,000 sockets across 50 organizations (200 in the first) flat out, and at 1,000
//!    sockets under a steady `--rate` (1,000 messages/s). The first socket of each
//!    organization times every message from POST to arrival; the others only count, so a
//!    thousand of them cost the benchmark little beside the server it measures.
//! 2. **limit**: the same rows per message (contact, conversation, message, events) written
//!    by a tight loop through the same group commit, straight into the store, with the same
//!    concurrency and durability: what the server could reach without HTTP and sockets.
//! 3. **ceiling**: plain single-row autocommit inserts with the same concurrency.
//!
//! The server and the benchmark's clients share the machine (and this process): on 2 cores
//! the clients take a good part of it.
//!
//! 4. **reads**: 100,000 conversations and 1,000,000 messages generated in one organization
//!    (a tenth of them in one long thread); every inbox view and filter, and a thread's first
//!    page, each asked 200 times through the HTTP API (p50/p99), with the database's plan.
//!
//! 5. **routing** (`--routing` runs only this; see `routing.rs`): routing decisions per second
//!    with 1,000 agents and 10,000 queued conversations, in memory and written through a real
//!    server, and the time from a conversation's arrival to its assignment event.
//!
//! Usage: messio-bench [--backend sqlite|postgres|both] [--concurrency C] [--seconds S]
//!                     [--rate R] [--orgs O] [--sockets N]
//!                     [--no-reads] [--conversations N] [--messages N] [--routing]

mod routing;

use app::events::bus::EventBus;
use app::inbound::group_commit::GroupCommit;
use app::model::ChannelKind;
use app::store::testing::{ScratchDir, scratch_postgres_url};
use app::store::{DynStore, InboundMessage, Ingest, IngestEvent, NewChannel};
use fake_meta::{SIGNATURE_HEADER, encode_body, sign, text_message_event};
use serde_json::{Value, json};
use server::config::{Config, MetaConfig, PlatformApis};
use socket_client::{CountingSocket, SocketClient};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const APP_SECRET: &str = "bench-app-secret";
/// Customers per organization: messages spread over this many conversations.
const CUSTOMERS: u64 = 200;
/// At most this many of the sockets join the first organization.
const BIG_ORG_SOCKETS: usize = 200;

struct Options {
    backends: Vec<&'static str>,
    concurrency: usize,
    seconds: u64,
    rate: u64,
    orgs: usize,
    sockets: usize,
    /// Run the reads at scale (generating the history takes a minute or two per backend).
    reads: bool,
    conversations: usize,
    messages: usize,
    /// Run only the routing benchmark.
    routing: bool,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        backends: vec!["sqlite", "postgres"],
        concurrency: 32,
        seconds: 10,
        rate: 1000,
        orgs: 50,
        sockets: 1000,
        reads: true,
        conversations: 100_000,
        messages: 1_000_000,
        routing: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String, what: &str| v.parse::<u64>().map_err(|_| format!("{what} takes a number"));
        match flag.as_str() {
            "--backend" => {
                o.backends = match value()?.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    "both" => vec!["sqlite", "postgres"],
                    other => return Err(format!("unknown backend {other}")),
                }
            }
            "--concurrency" => o.concurrency = number(value()?, "--concurrency")?.max(1) as usize,
            "--seconds" => o.seconds = number(value()?, "--seconds")?.max(1),
            "--rate" => o.rate = number(value()?, "--rate")?,
            "--orgs" => o.orgs = number(value()?, "--orgs")?.max(1) as usize,
            "--sockets" => o.sockets = number(value()?, "--sockets")?.max(1) as usize,
            "--no-reads" => o.reads = false,
            "--routing" => o.routing = true,
            "--conversations" => o.conversations = number(value()?, "--conversations")?.max(2) as usize,
            "--messages" => o.messages = number(value()?, "--messages")?.max(20) as usize,
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

/// One run against a real server.
struct Shape {
    label: &'static str,
    sockets: usize,
    orgs: usize,
    /// Messages per second to send, or 0 for as fast as the server answers.
    rate: u64,
}

struct Run {
    label: &'static str,
    sockets: usize,
    accepted: u64,
    failed: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    delivered_to_all: bool,
}

struct BackendReport {
    backend: &'static str,
    runs: Vec<Run>,
    limit_per_second: f64,
    ceiling_per_second: f64,
    reads: Option<Reads>,
}

#[tokio::main]
async fn main() -> Result<(), server::BoxError> {
    let options = options()?;
    if options.routing {
        eprintln!("routing in memory…");
        let memory = routing::in_memory();
        let mut servers = Vec::new();
        for backend in &options.backends {
            eprintln!("{backend}: routing through a real server…");
            servers.push(routing::through_server(backend, options.concurrency).await?);
        }
        routing::print(&memory, &servers);
        return Ok(());
    }
    let shapes = [
        Shape {
            label: "flat out",
            sockets: 10,
            orgs: 1,
            rate: 0,
        },
        Shape {
            label: "flat out",
            sockets: options.sockets,
            orgs: options.orgs,
            rate: 0,
        },
        Shape {
            label: "steady",
            sockets: options.sockets,
            orgs: options.orgs,
            rate: options.rate,
        },
    ];
    let mut reports = Vec::new();
    for backend in &options.backends {
        let mut runs = Vec::new();
        for shape in &shapes {
            eprintln!("{backend}: {} sockets, {}…", shape.sockets, describe_rate(shape.rate));
            runs.push(run(backend, shape, &options).await?);
        }
        eprintln!("{backend}: the store's limit and the single-row ceiling…");
        let (limit_per_second, ceiling_per_second) = limits(backend, &options).await?;
        let reads = if options.reads {
            Some(reads(backend, &options).await?)
        } else {
            None
        };
        reports.push(BackendReport {
            backend,
            runs,
            limit_per_second,
            ceiling_per_second,
            reads,
        });
    }
    print_reports(&reports, &options);
    Ok(())
}

fn describe_rate(rate: u64) -> String {
    if rate == 0 {
        "as fast as it answers".into()
    } else {
        format!("{rate} messages/s")
    }
}

fn print_reports(reports: &[BackendReport], options: &Options) {
    println!(
        "\n{} senders, {} s per run; limit = group commit straight into the store; ceiling = single-row inserts\n",
        options.concurrency, options.seconds
    );
    println!(
        "{:<9} {:<9} {:>7} {:>9} {:>9} {:>8} {:>8} {:>9} {:>10}",
        "backend", "load", "sockets", "messages", "msg/s", "p50 ms", "p99 ms", "of limit", "of ceiling"
    );
    for report in reports {
        for r in &report.runs {
            println!(
                "{:<9} {:<9} {:>7} {:>9} {:>9.0} {:>8.1} {:>8.1} {:>8.0}% {:>9.0}%{}{}",
                report.backend,
                r.label,
                r.sockets,
                r.accepted,
                r.per_second,
                r.p50_ms,
                r.p99_ms,
                100.0 * r.per_second / report.limit_per_second.max(1.0),
                100.0 * r.per_second / report.ceiling_per_second.max(1.0),
                if r.delivered_to_all {
                    ""
                } else {
                    "  (some sockets missed messages!)"
                },
                if r.failed > 0 {
                    format!("  ({} POSTs not acknowledged)", r.failed)
                } else {
                    String::new()
                }
            );
        }
        println!(
            "{:<9} limit {:.0} messages/s, single-row ceiling {:.0} inserts/s\n",
            report.backend, report.limit_per_second, report.ceiling_per_second
        );
    }
    for report in reports {
        let Some(reads) = &report.reads else { continue };
        println!(
            "{} reads at {} conversations / {} messages (generated in {:.0} s), through the HTTP API:",
            report.backend,
            options.conversations,
            options.messages,
            reads.generated_in.as_secs_f64()
        );
        for (label, p50, p99) in &reads.timings {
            println!("  {label:<34} p50 {p50:>6.2} ms   p99 {p99:>6.2} ms");
        }
        println!("  plans:");
        for (label, plan) in &reads.plans {
            println!("    {label}:\n      {plan}");
        }
        println!();
    }
}

fn page_id(org: usize) -> String {
    format!("9{org:04}")
}

fn scratch_config(addr: std::net::SocketAddr, dir: &ScratchDir, database_url: String) -> Config {
    Config {
        site_addr: addr,
        data_dir: dir.path().to_path_buf(),
        database_url,
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
        login_attempts_per_minute: 100_000,
        platform_apis: PlatformApis {
            telegram_url: "http://127.0.0.1:9".into(),
            twilio_url: "http://127.0.0.1:9".into(),
            twilio_messaging_url: "http://127.0.0.1:9".into(),
        },
        template_poll_every: Duration::from_secs(3600),
        sms_segment_warning: 3,
        presence_grace: std::time::Duration::from_secs(20),
    }
}

async fn scratch_database(backend: &str, dir: &ScratchDir, name: &str) -> String {
    match backend {
        "postgres" => scratch_postgres_url().await,
        _ => format!("sqlite://{}", dir.path().join(name).display()),
    }
}

/// How many sockets each organization gets: up to 200 in the first, the rest spread evenly.
fn socket_layout(sockets: usize, orgs: usize) -> Vec<usize> {
    if orgs == 1 {
        return vec![sockets];
    }
    let first = sockets.min(BIG_ORG_SOCKETS);
    let rest = sockets - first;
    let mut layout = vec![first];
    for org in 1..orgs {
        let share = rest / (orgs - 1) + usize::from(org - 1 < rest % (orgs - 1));
        layout.push(share.max(1));
    }
    layout
}

/// A real server on a scratch database, as each run drives it.
struct BenchServer {
    base: String,
    http: reqwest::Client,
    state: server::state::AppState,
    database_url: String,
    messio: server::Messio,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: ScratchDir,
}

/// An organization made through the signup API.
struct Tenant {
    token: String,
    org_id: i64,
    user_id: i64,
}

impl BenchServer {
    async fn start(backend: &str, http: reqwest::Client) -> Result<BenchServer, server::BoxError> {
        let dir = ScratchDir::new("messio-bench")?;
        let database_url = scratch_database(backend, &dir, "bench.db").await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let leptos_options = leptos::config::LeptosOptions::builder()
            .output_name("messio")
            .site_addr(addr)
            .build();
        let messio = server::build(scratch_config(addr, &dir, database_url.clone()), leptos_options).await?;
        let router = messio.router.clone();
        let task = tokio::spawn(async move { axum::serve(server::listener(listener), router).await });
        Ok(BenchServer {
            base: format!("http://{addr}"),
            http,
            state: messio.state.clone(),
            database_url,
            messio,
            task,
            _dir: dir,
        })
    }

    async fn signup(&self, organization: &str, email: &str) -> Result<Tenant, server::BoxError> {
        let signup: Value = self
            .http
            .post(format!("{}/api/auth/signup", self.base))
            .json(
                &json!({ "organization": organization, "name": "Bench", "email": email, "password": "bench-password" }),
            )
            .send()
            .await?
            .json()
            .await?;
        Ok(Tenant {
            token: signup["token"].as_str().ok_or("signup failed")?.to_string(),
            org_id: signup["user"]["organizationId"].as_i64().ok_or("signup failed")?,
            user_id: signup["user"]["id"].as_i64().ok_or("signup failed")?,
        })
    }

    /// Connects a Facebook page straight through the store: the benchmark never sends replies.
    async fn connect_page(&self, org_id: i64, page_id: String, name: String) -> Result<i64, server::BoxError> {
        let channel = self
            .state
            .services
            .store
            .connect_channel(
                org_id,
                NewChannel {
                    kind: ChannelKind::Messenger,
                    external_id: page_id,
                    name,
                    credentials: self.state.secrets.seal(r#"{"page_access_token":"unused"}"#),
                    parent_account_id: None,
                },
            )
            .await?;
        Ok(channel.value.id)
    }

    async fn stop(self) {
        self.task.abort();
        self.messio.stop().await;
    }
}

async fn run(backend: &'static str, shape: &Shape, options: &Options) -> Result<Run, server::BoxError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .build()?;
    let bench = BenchServer::start(backend, http.clone()).await?;
    let base = bench.base.clone();

    // Organizations, each with a page and its agents' sockets.
    let layout = socket_layout(shape.sockets, shape.orgs);
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut probes = Vec::new();
    let mut counters: Vec<(usize, CountingSocket)> = Vec::new();
    let probe_counts: Arc<Vec<AtomicU64>> = Arc::new((0..shape.orgs).map(|_| AtomicU64::new(0)).collect());
    for (org, sockets) in layout.iter().enumerate() {
        let tenant = bench
            .signup(&format!("Bench {org}"), &format!("bench{org}@bench.test"))
            .await?;
        bench
            .connect_page(tenant.org_id, page_id(org), format!("Bench page {org}"))
            .await?;
        let token = tenant.token;
        let mut probe = SocketClient::connect(&base, json!({ "token": token })).await?;
        let (sent_at, latencies, probe_counts) = (sent_at.clone(), latencies.clone(), probe_counts.clone());
        probes.push(tokio::spawn(async move {
            while let Some(event) = probe.next(Duration::from_secs(3600)).await {
                if event.name != "message:received" {
                    continue;
                }
                probe_counts[org].fetch_add(1, Ordering::Relaxed);
                if let Some(mid) = event
                    .payload
                    .pointer("/message/platformMessageId")
                    .and_then(Value::as_str)
                    && let Some(start) = sent_at.lock().await.remove(mid)
                {
                    latencies.lock().await.push(event.at - start);
                }
            }
        }));
        for _ in 1..*sockets {
            counters.push((
                org,
                CountingSocket::connect(&base, json!({ "token": token }), "message:received").await?,
            ));
        }
    }

    // Drive webhooks, spread over the organizations.
    let accepted_per_org: Arc<Vec<AtomicU64>> = Arc::new((0..shape.orgs).map(|_| AtomicU64::new(0)).collect());
    let next = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut senders = Vec::new();
    for _ in 0..options.concurrency {
        let (http, sent_at, next, failed, accepted_per_org) = (
            http.clone(),
            sent_at.clone(),
            next.clone(),
            failed.clone(),
            accepted_per_org.clone(),
        );
        let (url, orgs, rate) = (format!("{base}/api/webhooks/messenger"), shape.orgs, shape.rate);
        senders.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if rate > 0 {
                    let due = started + Duration::from_secs_f64(k as f64 / rate as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                if Instant::now() >= deadline {
                    return;
                }
                let org = (k % orgs as u64) as usize;
                let mid = format!("m_bench_{k}");
                let psid = format!("{}", 10_000 + (k / orgs as u64) % CUSTOMERS);
                let payload = text_message_event(&page_id(org), &psid, &mid, "benchmark message", fake_meta::now_ms());
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
                    accepted_per_org[org].fetch_add(1, Ordering::Relaxed);
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
    let accepted_of = |org: usize| accepted_per_org[org].load(Ordering::Relaxed);
    let accepted: u64 = (0..shape.orgs).map(accepted_of).sum();
    // Let the last events reach the sockets.
    let all_arrived = || {
        (0..shape.orgs).all(|org| probe_counts[org].load(Ordering::Relaxed) >= accepted_of(org))
            && counters
                .iter()
                .all(|(org, socket)| socket.received() >= accepted_of(*org))
    };
    for _ in 0..200 {
        if all_arrived() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let delivered_to_all = all_arrived();
    for probe in probes {
        probe.abort();
    }
    drop(counters);
    let mut lat = latencies.lock().await.clone();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    bench.stop().await;
    Ok(Run {
        label: shape.label,
        sockets: shape.sockets,
        accepted,
        failed: failed.load(Ordering::Relaxed),
        per_second: accepted as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        delivered_to_all,
    })
}

/// The store's own limit through the group commit, then the plain single-row ceiling, on a
/// fresh database.
async fn limits(backend: &'static str, options: &Options) -> Result<(f64, f64), server::BoxError> {
    let dir = ScratchDir::new("messio-bench-limit")?;
    let url = scratch_database(backend, &dir, "limit.db").await;
    let store: DynStore = app::store::connect(&url).await?;
    let (org, _) = store
        .create_organization("Limit", "Bench", "limit@bench.test", "hash")
        .await?;
    let channel = store
        .connect_channel(
            org.id,
            NewChannel {
                kind: ChannelKind::Messenger,
                external_id: page_id(0),
                name: "Limit page".into(),
                credentials: "sealed".into(),
                parent_account_id: None,
            },
        )
        .await?
        .value;
    let channel = Arc::new(store.channel(org.id, channel.id).await?);
    let group = GroupCommit::start(store.clone(), EventBus::new());
    let next = Arc::new(AtomicU64::new(0));
    let window = Duration::from_secs(options.seconds.clamp(1, 10));
    let limit = hammer(options.concurrency, window, move || {
        let (group, channel, next) = (group.clone(), channel.clone(), next.clone());
        async move {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let message = InboundMessage {
                external_user_id: format!("{}", 10_000 + k % CUSTOMERS),
                platform_message_id: format!("m_limit_{k}"),
                body: "benchmark message".into(),
                sent_at: fake_meta::now_ms(),
                ..Default::default()
            };
            group
                .write(vec![Ingest {
                    channel,
                    event: IngestEvent::Message(message),
                }])
                .await
                .is_ok()
        }
    })
    .await;
    let ceiling = single_row_ceiling(backend, &url, options).await?;
    Ok((limit, ceiling))
}

/// Single-row autocommit inserts with the same concurrency: the database's own limit.
async fn single_row_ceiling(backend: &str, url: &str, options: &Options) -> Result<f64, server::BoxError> {
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
            .synchronous(app::store::SQLITE_SYNCHRONOUS)
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

/// How fast the inbox reads at scale: one organization with `conversations` conversations and
/// `messages` messages (one thread of a tenth of them), generated straight into the database,
/// then every inbox view and filter and a thread's first page through the HTTP API.
struct Reads {
    generated_in: Duration,
    timings: Vec<(String, f64, f64)>,
    plans: Vec<(String, String)>,
}

const SAMPLES: usize = 200;

async fn reads(backend: &'static str, options: &Options) -> Result<Reads, server::BoxError> {
    let http = reqwest::Client::new();
    let bench = BenchServer::start(backend, http.clone()).await?;
    let (base, url) = (bench.base.clone(), bench.database_url.clone());
    let Tenant { token, org_id, user_id } = bench.signup("Reads", "reads@bench.test").await?;
    let mut channels = Vec::new();
    for n in 0..2 {
        channels.push(
            bench
                .connect_page(org_id, page_id(n), format!("Reads page {n}"))
                .await?,
        );
    }

    eprintln!(
        "{backend}: generating {} conversations and {} messages…",
        options.conversations, options.messages
    );
    let started = Instant::now();
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let long_thread = generate(&pool, org_id, user_id, &channels, options).await?;
    // Fresh statistics, as a database that grew to this size would have.
    sqlx::query("ANALYZE").execute(&pool).await?;
    let generated_in = started.elapsed();

    let lists: Vec<(String, String, Option<&str>, bool)> = vec![
        ("all".into(), "view=all".into(), None, false),
        ("mine".into(), "view=mine".into(), None, false),
        ("unassigned".into(), "view=unassigned".into(), None, false),
        ("status new".into(), "status=new".into(), Some("new"), false),
        ("status active".into(), "status=active".into(), Some("active"), false),
        (
            "status resolved".into(),
            "status=resolved".into(),
            Some("resolved"),
            false,
        ),
        ("status closed".into(), "status=closed".into(), Some("closed"), false),
        ("channel".into(), format!("channel={}", channels[1]), None, true),
        (
            "mine + active".into(),
            "view=mine&status=active".into(),
            Some("active"),
            false,
        ),
        (
            "unassigned + new + channel".into(),
            format!("view=unassigned&status=new&channel={}", channels[1]),
            Some("new"),
            true,
        ),
    ];
    let mut timings = Vec::new();
    let mut plans = Vec::new();
    for (label, query, status, channel) in &lists {
        let url = format!("{base}/api/inbox/conversations?{query}");
        let (p50, p99) = time_requests(&http, &url, &token).await?;
        timings.push((format!("inbox: {label}"), p50, p99));
        let view = if query.contains("view=mine") {
            app::model::InboxView::Mine
        } else if query.contains("view=unassigned") {
            app::model::InboxView::Unassigned
        } else {
            app::model::InboxView::All
        };
        let mut binds = vec![org_id.to_string()];
        if view == app::model::InboxView::Mine {
            binds.push(user_id.to_string());
        }
        if let Some(status) = status {
            binds.push(format!("'{status}'"));
        }
        if *channel {
            binds.push(channels[1].to_string());
        }
        binds.push("31".into());
        let conditions = app::store::InboxConditions {
            status: status.is_some(),
            channel: *channel,
            ..Default::default()
        };
        let sql = app::store::inbox_page_sql(view, conditions);
        plans.push((format!("inbox: {label}"), explain(&pool, backend, &sql, &binds).await?));
    }
    for (label, conversation) in [("thread: long (100k)", long_thread), ("thread: short", long_thread + 1)] {
        let url = format!("{base}/api/inbox/messages/{conversation}");
        let (p50, p99) = time_requests(&http, &url, &token).await?;
        timings.push((label.to_string(), p50, p99));
        let sql = format!("{} ORDER BY m.id DESC LIMIT $2", app::store::thread_page_sql());
        plans.push((
            label.to_string(),
            explain(&pool, backend, &sql, &[conversation.to_string(), "51".into()]).await?,
        ));
    }
    pool.close().await;
    bench.stop().await;
    Ok(Reads {
        generated_in,
        timings,
        plans,
    })
}

/// p50 and p99 of `SAMPLES` sequential GETs, after a few to warm up.
async fn time_requests(http: &reqwest::Client, url: &str, token: &str) -> Result<(f64, f64), server::BoxError> {
    let mut samples = Vec::with_capacity(SAMPLES);
    for n in 0..SAMPLES + 10 {
        let started = Instant::now();
        let response = http.get(url).bearer_auth(token).send().await?;
        if !response.status().is_success() {
            return Err(format!("GET {url}: {}", response.status()).into());
        }
        response.bytes().await?;
        if n >= 10 {
            samples.push(started.elapsed());
        }
    }
    samples.sort();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)].as_secs_f64() * 1000.0;
    Ok((pct(0.50), pct(0.99)))
}

/// The database's plan for `sql` with `binds` written in as literals, one line per step.
async fn explain(pool: &sqlx::AnyPool, backend: &str, sql: &str, binds: &[String]) -> Result<String, server::BoxError> {
    let mut literal = sql.to_string();
    for (n, value) in binds.iter().enumerate().rev() {
        literal = literal.replace(&format!("${}", n + 1), value);
    }
    use sqlx::Row;
    let (prefix, column) = if backend == "postgres" {
        ("EXPLAIN ", 0)
    } else {
        ("EXPLAIN QUERY PLAN ", 3)
    };
    let rows = sqlx::query(&format!("{prefix}{literal}")).fetch_all(pool).await?;
    let lines: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>(column).ok())
        .collect();
    Ok(lines.join("\n      "))
}

/// Writes the organization's conversations and messages in large multi-row inserts; returns
/// the id of the long thread.
async fn generate(
    pool: &sqlx::AnyPool,
    org_id: i64,
    user_id: i64,
    channels: &[i64],
    options: &Options,
) -> Result<i64, server::BoxError> {
    use sqlx::Row;
    const ROWS: usize = 500;
    let now = fake_meta::now_ms();
    let conversations = options.conversations.max(2);
    let mut tx = pool.begin().await?;
    for chunk in (0..conversations).collect::<Vec<_>>().chunks(ROWS) {
        let values = placeholders(chunk.len(), 3);
        let sql = format!("INSERT INTO contacts (organization_id, name, created_at) VALUES {values} RETURNING id");
        let mut query = sqlx::query_scalar::<_, i64>(&sql);
        for n in chunk {
            query = query.bind(org_id).bind(format!("Customer {n}")).bind(now);
        }
        let contacts = query.fetch_all(&mut *tx).await?;
        let values = placeholders(chunk.len(), 9);
        let sql = format!(
            "INSERT INTO conversations (organization_id, contact_id, channel_id, status, assignee_id, unread_count, \
             last_message_preview, last_message_at, created_at) VALUES {values}"
        );
        let mut query = sqlx::query(&sql);
        for (n, contact) in chunk.iter().zip(contacts) {
            let status = match n % 20 {
                0..=1 => "new",
                2..=6 => "active",
                7..=18 => "resolved",
                _ => "closed",
            };
            let assignee = (n % 10 < 3).then_some(user_id);
            query = query
                .bind(org_id)
                .bind(contact)
                .bind(channels[usize::from(n % 4 == 0)])
                .bind(status)
                .bind(assignee)
                .bind((n % 3) as i64)
                .bind("benchmark message")
                .bind(now - (conversations - n) as i64 * 1000)
                .bind(now);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let ids: Vec<(i64, i64)> =
        sqlx::query("SELECT id, channel_id FROM conversations WHERE organization_id = $1 ORDER BY id")
            .bind(org_id)
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| (r.get::<i64, _>(0), r.get::<i64, _>(1)))
            .collect();
    let long_thread = ids[0].0;
    let long = options.messages / 10;
    let rest = options.messages - long;
    let per_other = rest / (ids.len() - 1).max(1);
    // (conversation, channel, how many) in order.
    let mut plan: Vec<(i64, i64, usize)> = vec![(ids[0].0, ids[0].1, long)];
    plan.extend(ids[1..].iter().map(|(id, channel)| (*id, *channel, per_other)));
    let mut pending: Vec<(i64, i64, usize)> = Vec::with_capacity(ROWS);
    let mut written = 0usize;
    let mut tx = pool.begin().await?;
    for (conversation, channel, count) in plan {
        for n in 0..count {
            pending.push((conversation, channel, n));
            if pending.len() == ROWS {
                write_messages(&mut tx, org_id, now, &pending, written).await?;
                written += pending.len();
                pending.clear();
                if written.is_multiple_of(50_000) {
                    tx.commit().await?;
                    tx = pool.begin().await?;
                }
            }
        }
    }
    if !pending.is_empty() {
        write_messages(&mut tx, org_id, now, &pending, written).await?;
    }
    tx.commit().await?;
    Ok(long_thread)
}

async fn write_messages(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    org_id: i64,
    now: i64,
    rows: &[(i64, i64, usize)],
    offset: usize,
) -> Result<(), server::BoxError> {
    let values = placeholders(rows.len(), 8);
    let sql = format!(
        "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, body, status, \
         platform_message_id, created_at) VALUES {values}"
    );
    let mut query = sqlx::query(&sql);
    for (i, (conversation, channel, n)) in rows.iter().enumerate() {
        let inbound = n % 2 == 0;
        query = query
            .bind(org_id)
            .bind(*conversation)
            .bind(*channel)
            .bind(if inbound { "inbound" } else { "outbound" })
            .bind("a message of the generated history, long enough to look like one")
            .bind(if inbound { "received" } else { "read" })
            .bind(format!("m_gen_{}", offset + i))
            .bind(now - 1_000_000 + *n as i64);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// `($1, $2, …), (…)` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=columns).map(|c| format!("${}", row * columns + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
