//! `messio-bench --routing`: how fast the team inbox hands out conversations.
//!
//! 1. **Decisions in memory** (`app::routing::roster`, what the router task runs): one team of
//!    1,000 agents and 10,000 queued conversations, per strategy — a drain that fills free
//!    capacity (capacity 10 each: every conversation placed), and the steady state of a
//!    full team with a long queue, where each resolve frees one place and the queue's head
//!    takes it (10,000 resolve → pick rounds).
//! 2. **Decisions written**, per backend, through a real server: 1,000 agents offline, 10,000
//!    customers write (all wait in the queue), then the agents come online and routing
//!    writes 10,000 assignments (each a guarded update, a line in the thread and a logged
//!    `conversation:assigned`), timed until the last event is on the bus.
//! 3. **Arrival → assignment**, per backend: new customers write at a steady rate to a team of
//!    10 online agents; an agent's socket times each conversation from the webhook POST to
//!    its `conversation:assigned` (p50 / p99).

use crate::{APP_SECRET, BenchServer};
use app::model::{Conversation, ConversationStatus, Id, Priority, Role, RoutingStrategy};
use app::routing::roster::Roster;
use app::store::{AgentRouting, HeldConversation, RoutingSnapshot, WaitingConversation};
use app::team::{ChannelRouting, Team, TeamDraft, TeamMember};
use fake_meta::{SIGNATURE_HEADER, encode_body, sign, text_message_event};
use serde_json::{Value, json};
use socket_client::SocketClient;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

const AGENTS: usize = 1_000;
const QUEUED: usize = 10_000;
const TEAM: Id = 1;

fn snapshot(strategy: RoutingStrategy, capacity: i64, held_per_agent: usize) -> RoutingSnapshot {
    let agents: Vec<AgentRouting> = (1..=AGENTS as Id)
        .map(|id| AgentRouting {
            user_id: id,
            name: format!("Agent {id}"),
            capacity: None,
            // A third speak French; one in ten are senior.
            skills: if id % 3 == 0 { vec!["french".into()] } else { vec![] },
            senior: id % 10 == 0,
        })
        .collect();
    let team = Team {
        id: TEAM,
        name: "Support".into(),
        strategy,
        capacity,
        skill_fallback_secs: 60,
        ownership_timeout_secs: None,
        release_on_away: true,
        members: agents
            .iter()
            .map(|a| TeamMember {
                user_id: a.user_id,
                name: a.name.clone(),
            })
            .collect(),
        created_at: 0,
    };
    let held = (0..held_per_agent)
        .flat_map(|round| {
            agents.iter().map(move |a| HeldConversation {
                conversation_id: 1_000_000 + round as Id * AGENTS as Id + a.user_id,
                user_id: a.user_id,
                team_id: Some(TEAM),
                reply_due_at: None,
            })
        })
        .collect();
    let waiting = (0..QUEUED as Id)
        .map(|id| WaitingConversation {
            conversation_id: id + 1,
            team_id: TEAM,
            priority: Priority::ALL[(id % 5) as usize],
            queued_at: id,
            required_skills: if id % 4 == 0 { vec!["french".into()] } else { vec![] },
        })
        .collect();
    RoutingSnapshot {
        teams: vec![team],
        agents,
        held,
        waiting,
    }
}

fn resolved(conversation_id: Id, user_id: Id) -> Conversation {
    Conversation {
        id: conversation_id,
        contact_id: conversation_id,
        contact_name: String::new(),
        contact_avatar_url: None,
        channel_id: 1,
        channel_kind: app::model::ChannelKind::Demo,
        channel_name: String::new(),
        status: ConversationStatus::Resolved,
        assignee_id: Some(user_id),
        assignee_name: None,
        unread_count: 0,
        last_message_preview: None,
        last_message_at: 0,
        last_inbound_at: None,
        created_at: 0,
        team_id: Some(TEAM),
        team_name: None,
        priority: Priority::None,
        required_skills: Vec::new(),
        queued_at: None,
        reply_due_at: None,
    }
}

pub struct MemoryRun {
    pub strategy: RoutingStrategy,
    pub fill_per_second: f64,
    pub steady_per_second: f64,
}

/// Decisions per second in memory, per strategy.
pub fn in_memory() -> Vec<MemoryRun> {
    let strategies = [
        RoutingStrategy::RoundRobin,
        RoutingStrategy::LoadBalanced,
        RoutingStrategy::SkillBased,
        RoutingStrategy::Priority,
    ];
    strategies
        .into_iter()
        .map(|strategy| {
            // Far past every skill fallback, so skill-based places everything too.
            let now = 10_000_000;
            let mut roster = Roster::from_snapshot(snapshot(strategy, 10, 0), |_| true);
            let started = Instant::now();
            let placed = roster.drain(TEAM, now).len();
            let fill = placed as f64 / started.elapsed().as_secs_f64();
            assert_eq!(placed, QUEUED, "{strategy}: everything fits");

            let mut roster = Roster::from_snapshot(snapshot(strategy, 1, 1), |_| true);
            let mut holding: HashMap<Id, Id> = (1..=AGENTS as Id).map(|a| (a, 1_000_000 + a)).collect();
            let started = Instant::now();
            let mut decided = 0usize;
            for round in 0..QUEUED {
                let agent = (round % AGENTS) as Id + 1;
                let Some(conversation) = holding.get(&agent).copied() else {
                    continue;
                };
                roster.observe(&resolved(conversation, agent));
                for decision in roster.drain(TEAM, now) {
                    holding.insert(decision.user_id, decision.conversation_id);
                    decided += 1;
                }
            }
            let steady = decided as f64 / started.elapsed().as_secs_f64();
            MemoryRun {
                strategy,
                fill_per_second: fill,
                steady_per_second: steady,
            }
        })
        .collect()
}

pub struct ServerRun {
    pub backend: &'static str,
    pub written_per_second: f64,
    pub written: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub timed: usize,
}

async fn post_webhook(http: &reqwest::Client, url: &str, payload: &Value) -> bool {
    let body = encode_body(payload);
    http.post(url)
        .header("content-type", "application/json")
        .header(SIGNATURE_HEADER, sign(APP_SECRET, &body))
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// A team of `agents` (made straight through the store) routing a page's conversations.
async fn routed_team(
    bench: &BenchServer,
    org: usize,
    agents: usize,
    capacity: i64,
) -> Result<(crate::Tenant, Vec<Id>), server::BoxError> {
    let tenant = bench
        .signup(&format!("Routing {org}"), &format!("routing{org}@bench.test"))
        .await?;
    let channel = bench
        .connect_page(tenant.org_id, crate::page_id(org), format!("Routing page {org}"))
        .await?;
    let store = &bench.state.services.store;
    let mut ids = Vec::with_capacity(agents);
    for i in 0..agents {
        let user = store
            .add_user(
                tenant.org_id,
                &format!("Agent {i}"),
                &format!("agent{i}.{org}@bench.test"),
                "not-a-hash",
                Role::Agent,
            )
            .await?;
        ids.push(user.id);
    }
    let mut draft = TeamDraft::named("Support");
    draft.capacity = capacity;
    draft.members = Some(ids.clone());
    let team = bench.state.services.store.create_team(tenant.org_id, &draft).await?;
    store
        .set_channel_routing(
            tenant.org_id,
            channel,
            &ChannelRouting {
                team_id: Some(team.id),
                required_skills: vec![],
            },
        )
        .await?;
    bench.state.services.router.reload(tenant.org_id);
    Ok((tenant, ids))
}

async fn online(bench: &BenchServer, org_id: Id, agents: &[Id]) {
    let services = &bench.state.services;
    for agent in agents {
        services
            .presence
            .choose(org_id, *agent, app::model::AgentStatus::Online)
            .await;
        services
            .router
            .presence(org_id, *agent, app::model::AgentStatus::Online);
    }
}

/// Written decisions per second, and arrival → assignment, on one backend.
pub async fn through_server(backend: &'static str, concurrency: usize) -> Result<ServerRun, server::BoxError> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build()?;
    let bench = BenchServer::start(backend, http.clone()).await?;
    let url = format!("{}/api/webhooks/messenger", bench.base);

    // 2. 1,000 agents offline, 10,000 customers queue up; then everyone comes online.
    let (tenant, agents) = routed_team(&bench, 0, AGENTS, (QUEUED / AGENTS) as i64).await?;
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..concurrency {
        let (http, url, next) = (http.clone(), url.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if k >= QUEUED {
                    return;
                }
                let payload = text_message_event(
                    &crate::page_id(0),
                    &format!("{}", 50_000 + k),
                    &format!("m_route_{k}"),
                    "hello",
                    fake_meta::now_ms(),
                );
                post_webhook(&http, &url, &payload).await;
            }
        }));
    }
    for sender in senders {
        sender.await?;
    }
    let mut bus = bench.state.services.events.subscribe();
    let started = Instant::now();
    online(&bench, tenant.org_id, &agents).await;
    let mut written = 0usize;
    while written < QUEUED {
        let Ok(Some(batch)) = tokio::time::timeout(Duration::from_secs(60), bus.next()).await else {
            break;
        };
        written += batch.iter().filter(|e| e.name == "conversation:assigned").count();
    }
    let written_per_second = written as f64 / started.elapsed().as_secs_f64();

    // 3. Arrival → assignment at a steady 100 new conversations per second.
    let (tenant, agents) = routed_team(&bench, 1, 10, 10_000).await?;
    online(&bench, tenant.org_id, &agents).await;
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let mut socket = SocketClient::connect(&bench.base, json!({ "token": tenant.token })).await?;
    let probe = {
        let (sent_at, latencies) = (sent_at.clone(), latencies.clone());
        tokio::spawn(async move {
            while let Some(event) = socket.next(Duration::from_secs(30)).await {
                if event.name != "conversation:assigned" {
                    continue;
                }
                if let Some(text) = event
                    .payload
                    .pointer("/conversation/lastMessagePreview")
                    .and_then(Value::as_str)
                    && let Some(start) = sent_at.lock().await.remove(text)
                {
                    latencies.lock().await.push(event.at - start);
                }
            }
        })
    };
    let rate = 100u64;
    let total = 1_000u64;
    let started = Instant::now();
    let mut posts = Vec::new();
    for k in 0..total {
        tokio::time::sleep_until((started + Duration::from_secs_f64(k as f64 / rate as f64)).into()).await;
        let text = format!("arrival {k}");
        let payload = text_message_event(
            &crate::page_id(1),
            &format!("{}", 90_000 + k),
            &format!("m_arrive_{k}"),
            &text,
            fake_meta::now_ms(),
        );
        sent_at.lock().await.insert(text, Instant::now());
        let (http, url) = (http.clone(), url.clone());
        posts.push(tokio::spawn(async move { post_webhook(&http, &url, &payload).await }));
    }
    for post in posts {
        post.await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    probe.abort();
    let mut measured = latencies.lock().await.clone();
    measured.sort();
    let at = |q: f64| {
        measured
            .get(((measured.len() as f64 * q) as usize).min(measured.len().saturating_sub(1)))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    let run = ServerRun {
        backend,
        written_per_second,
        written,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        timed: measured.len(),
    };
    bench.stop().await;
    Ok(run)
}

pub fn print(memory: &[MemoryRun], servers: &[ServerRun]) {
    println!("\nRouting decisions in memory: {AGENTS} agents in one team, {QUEUED} queued");
    println!("| strategy | fill free capacity, decisions/s | full team, resolve → pick, decisions/s |");
    println!("|---|---|---|");
    for run in memory {
        println!(
            "| {} | {:.0} | {:.0} |",
            run.strategy.label(),
            run.fill_per_second,
            run.steady_per_second
        );
    }
    println!("\nRouting through a real server");
    println!(
        "| backend | decisions written/s ({QUEUED} queued, {AGENTS} agents come online) | arrival → assigned p50 ms | p99 ms | timed |"
    );
    println!("|---|---|---|---|---|");
    for run in servers {
        println!(
            "| {} | {:.0} ({} written) | {:.1} | {:.1} | {} |",
            run.backend, run.written_per_second, run.written, run.p50_ms, run.p99_ms, run.timed
        );
    }
}
