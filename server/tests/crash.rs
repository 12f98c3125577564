//! The crash test: a real `messio` process takes signed Messenger webhooks from 8 senders at
//! once and is killed with SIGKILL in the middle of it. After a restart, every delivery it
//! had answered 200 is there; then the platform's retries are replayed (every delivery sent,
//! answered or not, as Meta retries what it did not see acknowledged) and each message is
//! stored exactly once, with the event log still numbered 1, 2, 3… without a gap. Both
//! backends.
#![allow(clippy::unwrap_used)]

use app::model::ChannelKind;
use app::store::NewChannel;
use app::store::testing::{ScratchDir, scratch_postgres_url};
use fake_meta::{SIGNATURE_HEADER, encode_body, sign, text_message_event};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const APP_SECRET: &str = "crash-app-secret";
const PAGE_ID: &str = "4242";
const SENDERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = ScratchDir::new("messio-crash").unwrap();
    let url = format!("sqlite://{}", dir.path().join("messio.db").display());
    acknowledged_deliveries_survive_a_kill(&url, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let dir = ScratchDir::new("messio-crash").unwrap();
    let url = scratch_postgres_url().await;
    acknowledged_deliveries_survive_a_kill(&url, &dir).await;
}

struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(url: &str, dir: &ScratchDir) -> Server {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_messio"))
            .env("DATABASE_URL", url)
            .env("MESSIO_DATA_DIR", dir.path())
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("META_APP_SECRET", APP_SECRET)
            .env("META_GRAPH_URL", "http://127.0.0.1:9/v21.0")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !http
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(Instant::now() < deadline, "messio did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, base }
    }

    fn kill(mut self) {
        // `Child::kill` is SIGKILL on Unix: no graceful shutdown, no flush.
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn delivery(mid: &str, psid: &str) -> (Vec<u8>, String) {
    let body = encode_body(&text_message_event(
        PAGE_ID,
        psid,
        mid,
        "crash test",
        fake_meta::now_ms(),
    ));
    let signature = sign(APP_SECRET, &body);
    (body, signature)
}

async fn post(http: &reqwest::Client, base: &str, mid: &str, psid: &str) -> bool {
    let (body, signature) = delivery(mid, psid);
    http.post(format!("{base}/api/webhooks/messenger"))
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Stored platform message ids and how often each is stored, read straight from the database.
async fn stored(url: &str) -> BTreeMap<String, i64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT platform_message_id, COUNT(*) AS copies FROM messages GROUP BY platform_message_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.iter()
        .map(|r| (r.get::<String, _>("platform_message_id"), r.get::<i64, _>("copies")))
        .collect()
}

async fn acknowledged_deliveries_survive_a_kill(url: &str, dir: &ScratchDir) {
    // The organization and its page exist before the server starts.
    let org_id = {
        let store = app::store::connect(url).await.unwrap();
        let (org, _) = store
            .create_organization("Crash", "Owner", "owner@crash.test", "hash")
            .await
            .unwrap();
        store
            .connect_channel(
                org.id,
                NewChannel {
                    kind: ChannelKind::Messenger,
                    external_id: PAGE_ID.into(),
                    name: "Crash page".into(),
                    credentials: "sealed".into(),
                    parent_account_id: None,
                },
            )
            .await
            .unwrap();
        org.id
    };

    let server = Server::start(url, dir).await;
    let http = reqwest::Client::new();
    let attempted: Arc<Mutex<BTreeSet<(String, String)>>> = Arc::default();
    let acknowledged: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let (http, base) = (http.clone(), server.base.clone());
        let (attempted, acknowledged) = (attempted.clone(), acknowledged.clone());
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let mid = format!("m_crash_{sender}_{n}");
                let psid = format!("{}", 7000 + (n % 25) * SENDERS + sender);
                attempted.lock().unwrap().insert((mid.clone(), psid.clone()));
                if !post(&http, &base, &mid, &psid).await {
                    return;
                }
                acknowledged.lock().unwrap().insert(mid);
            }
        }));
    }
    // Kill it mid-stream, once a good number of deliveries were answered.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 400 {
        assert!(Instant::now() < deadline, "the server answered too few deliveries");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();

    let server = Server::start(url, dir).await;
    let after_restart = stored(url).await;
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|mid| !after_restart.contains_key(*mid))
        .collect();
    assert!(lost.is_empty(), "acknowledged deliveries were lost: {lost:?}");

    // The platform retries what it did not see acknowledged (and, for good measure, the rest).
    for (mid, psid) in &attempted {
        assert!(
            post(&http, &server.base, mid, psid).await,
            "a retry of {mid} was refused"
        );
    }
    let after_retries = stored(url).await;
    let expected: BTreeSet<&String> = attempted.iter().map(|(mid, _)| mid).collect();
    assert_eq!(after_retries.keys().collect::<BTreeSet<_>>(), expected);
    assert!(
        after_retries.values().all(|copies| *copies == 1),
        "every delivery is stored exactly once"
    );

    let store = app::store::connect(url).await.unwrap();
    let log = store.events_since(org_id, 0, 10_000).await.unwrap();
    assert!(
        log.iter().enumerate().all(|(i, event)| event.seq == i as i64 + 1),
        "the event log is gap-free after the crash"
    );
    assert_eq!(
        log.iter().filter(|e| e.name == "message:received").count(),
        expected.len(),
        "one message:received per message"
    );
    drop(server);
}
