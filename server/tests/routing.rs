//! The team inbox over HTTP, on both backends: 200 conversations arriving at once are routed
//! to 5 agents without passing anyone's capacity or assigning anything twice, round-robin
//! stays even, the 50 left over wait and drain in priority order as agents resolve;
//! load-balanced and skill-based picks; the claim race; transfers; release when an agent goes
//! away; the reply timer; who may move whose work; and tenancy.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{now_ms, text_message_event};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use support::{Backend, TestApp, error_of};

struct Team {
    app: TestApp,
    owner: String,
    signup: Value,
    org: i64,
    channel: i64,
    team: i64,
    /// (id, token)
    agents: Vec<(i64, String)>,
}

/// An organization with a page routed to a team of `size` online agents.
async fn team(backend: Backend, size: usize, team: Value) -> Team {
    let app = TestApp::spawn(backend).await;
    let (owner, signup) = app.signup("Acme", "owner@acme.test").await;
    let org = signup["organization"]["id"].as_i64().unwrap();
    let channel = app.connect_page(&owner, "101").await["id"].as_i64().unwrap();
    let mut agents = Vec::new();
    for i in 0..size {
        let (agent, token) = app
            .add_agent(&signup, &format!("Agent{i}"), &format!("agent{i}@acme.test"))
            .await;
        agents.push((agent.id, token));
    }
    let mut body = team;
    body["members"] = json!(agents.iter().map(|(id, _)| *id).collect::<Vec<_>>());
    let response = app.post(&owner, "/api/inbox/teams", body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let team: Value = response.json().await.unwrap();
    let team_id = team["id"].as_i64().unwrap();
    let routed = app
        .put(
            &owner,
            &format!("/api/inbox/channels/{channel}/routing"),
            json!({ "teamId": team_id }),
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    for (id, token) in &agents {
        set_status(&app, token, *id, "online").await;
    }
    Team {
        app,
        owner,
        signup,
        org,
        channel,
        team: team_id,
        agents,
    }
}

async fn set_status(app: &TestApp, token: &str, user: i64, status: &str) -> Value {
    let response = app
        .put(token, &format!("/api/users/{user}/status"), json!({ "status": status }))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// `count` customers write at once; every delivery is acknowledged.
async fn arrive(app: &TestApp, first: usize, count: usize) {
    let deliveries = (first..first + count).map(|i| {
        let payload = text_message_event(
            "101",
            &format!("{}", 9_000_000 + i),
            &format!("m-{i}"),
            "hello",
            now_ms(),
        );
        async move { app.deliver(&payload).await.status() }
    });
    for status in join_all(deliveries).await {
        assert_eq!(status, StatusCode::OK);
    }
}

/// Every conversation, by id.
async fn all_conversations(app: &TestApp, token: &str) -> BTreeMap<i64, Value> {
    let mut out = BTreeMap::new();
    let mut before: Option<String> = None;
    loop {
        let query = match &before {
            Some(cursor) => format!("limit=100&before={cursor}"),
            None => "limit=100".into(),
        };
        let page: Value = app
            .get(token, &format!("/api/inbox/conversations?{query}"))
            .await
            .json()
            .await
            .unwrap();
        for c in page["items"].as_array().unwrap() {
            out.insert(c["id"].as_i64().unwrap(), c.clone());
        }
        match page["nextCursor"].as_str() {
            Some(cursor) => before = Some(cursor.to_string()),
            None => return out,
        }
    }
}

/// The log's `conversation:assigned` events, in order: (conversation, assignee).
async fn assignments(app: &TestApp, org: i64) -> Vec<(i64, Option<i64>)> {
    app.state
        .services
        .store
        .events_since(org, 0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == "conversation:assigned")
        .map(|e| {
            (
                e.payload["conversationId"].as_i64().unwrap(),
                e.payload["assignedTo"].as_i64(),
            )
        })
        .collect()
}

async fn workload(app: &TestApp, token: &str, team: i64) -> Value {
    app.get(token, &format!("/api/inbox/team/{team}/workload"))
        .await
        .json()
        .await
        .unwrap()
}

async fn resolve(app: &TestApp, token: &str, conversation: i64) {
    let response = app
        .patch(
            token,
            &format!("/api/inbox/conversations/{conversation}/status"),
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn two_hundred_arrivals_respect_capacity_rotate_evenly_and_drain_by_priority(backend: Backend) {
    let t = team(
        backend,
        5,
        json!({ "name": "Support", "strategy": "round_robin", "capacity": 30 }),
    )
    .await;
    let app = &t.app;
    arrive(app, 0, 200).await;
    app.eventually("150 conversations routed", || async {
        assignments(app, t.org).await.len() >= 150
    })
    .await;
    // Give routing a moment to (wrongly) hand out more than it may.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let routed = assignments(app, t.org).await;
    assert_eq!(routed.len(), 150, "5 agents × capacity 30");
    let mut seen = std::collections::HashSet::new();
    let mut load: HashMap<i64, i64> = t.agents.iter().map(|(id, _)| (*id, 0)).collect();
    for (conversation, agent) in &routed {
        assert!(
            seen.insert(*conversation),
            "conversation {conversation} was assigned twice"
        );
        *load.get_mut(&agent.unwrap()).unwrap() += 1;
        // Round-robin: at every step, loads stay within one of each other.
        let (min, max) = (load.values().min().unwrap(), load.values().max().unwrap());
        assert!(max - min <= 1, "uneven rotation: {load:?}");
    }
    assert!(load.values().all(|n| *n == 30), "{load:?}");
    let conversations = all_conversations(app, &t.owner).await;
    assert_eq!(conversations.len(), 200);
    let waiting: Vec<i64> = conversations
        .values()
        .filter(|c| c["assigneeId"].is_null())
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(waiting.len(), 50);
    assert!(conversations.values().all(|c| c["teamName"] == "Support"));
    let picture = workload(app, &t.owner, t.team).await;
    assert_eq!(picture["queue"].as_array().unwrap().len(), 50);
    for agent in picture["agents"].as_array().unwrap() {
        assert_eq!(
            (agent["open"].as_i64(), agent["capacity"].as_i64()),
            (Some(30), Some(30))
        );
        assert_eq!(agent["status"], "online");
    }

    // Make some of the waiting urgent or high: they jump the queue, oldest first within each.
    let urgent: Vec<i64> = waiting.iter().rev().take(3).copied().collect();
    let high: Vec<i64> = waiting.iter().take(2).copied().collect();
    for (ids, priority) in [(&urgent, "urgent"), (&high, "high")] {
        for id in ids {
            let response = app
                .patch(
                    &t.owner,
                    &format!("/api/inbox/conversations/{id}/routing"),
                    json!({ "priority": priority }),
                )
                .await;
            assert_eq!(response.status(), StatusCode::OK);
        }
    }
    let mut expected_head: Vec<i64> = urgent.clone();
    expected_head.sort_by_key(|id| (conversations[id]["queuedAt"].as_i64(), *id));
    let mut high_sorted = high.clone();
    high_sorted.sort_by_key(|id| (conversations[id]["queuedAt"].as_i64(), *id));
    expected_head.extend(high_sorted);
    let queue_now = || async {
        workload(app, &t.owner, t.team).await["queue"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["conversationId"].as_i64().unwrap())
            .collect::<Vec<i64>>()
    };
    app.eventually("urgent, then high, head the queue", || async {
        queue_now().await[..5] == expected_head[..]
    })
    .await;
    let queue = queue_now().await;
    let position: Value = app
        .get(&t.owner, &format!("/api/inbox/conversations/{}/queue", queue[4]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(position["position"], 5);

    // Agents resolve one at a time; each frees a place the queue's head takes at once.
    let (agent0, token0) = &t.agents[0];
    let mine: Vec<i64> = routed
        .iter()
        .filter(|(_, a)| *a == Some(*agent0))
        .map(|(c, _)| *c)
        .collect();
    for (i, conversation) in mine.iter().take(10).enumerate() {
        resolve(app, token0, *conversation).await;
        app.eventually("the freed place is taken", || async {
            assignments(app, t.org).await.len() >= 151 + i
        })
        .await;
    }
    let drained: Vec<i64> = assignments(app, t.org).await[150..].iter().map(|(c, _)| *c).collect();
    assert_eq!(drained, queue[..10].to_vec(), "urgent, then high, then by waiting time");
    assert_eq!(
        workload(app, &t.owner, t.team).await["queue"].as_array().unwrap().len(),
        40
    );
}

async fn load_balanced_gives_the_least_loaded_and_skills_wait_for_the_fallback(backend: Backend) {
    let t = team(
        backend,
        3,
        json!({ "name": "Sales", "strategy": "load_balanced", "capacity": 10 }),
    )
    .await;
    let app = &t.app;
    arrive(app, 0, 6).await;
    app.eventually("6 routed", || async { assignments(app, t.org).await.len() == 6 })
        .await;
    let routed = assignments(app, t.org).await;
    let (agent1, token1) = &t.agents[1];
    let theirs: Vec<i64> = routed
        .iter()
        .filter(|(_, a)| *a == Some(*agent1))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(theirs.len(), 2, "6 over 3 agents: 2 each");
    resolve(app, token1, theirs[0]).await;
    resolve(app, token1, theirs[1]).await;
    arrive(app, 100, 2).await;
    app.eventually("2 more routed", || async { assignments(app, t.org).await.len() == 8 })
        .await;
    let latest = assignments(app, t.org).await;
    assert_eq!(latest[6].1, Some(*agent1), "agent 1 had none left");
    assert_eq!(latest[7].1, Some(*agent1), "…and still the fewest after one");

    // Skill-based: only agent 2 speaks French; the rest of the team after a 2 s wait.
    let (agent2, _) = &t.agents[2];
    let response = app
        .put(
            &t.owner,
            &format!("/api/inbox/agents/{agent2}"),
            json!({ "skills": ["French"], "capacity": 2 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let team: Value = app
        .get(&t.owner, &format!("/api/inbox/teams/{}", t.team))
        .await
        .json()
        .await
        .unwrap();
    let mut draft = team.clone();
    draft["strategy"] = json!("skill_based");
    draft["skillFallbackSecs"] = json!(2);
    draft["members"] = json!(t.agents.iter().map(|(id, _)| *id).collect::<Vec<_>>());
    let response = app.put(&t.owner, &format!("/api/inbox/teams/{}", t.team), draft).await;
    assert_eq!(response.status(), StatusCode::OK);
    let routed = app
        .put(
            &t.owner,
            &format!("/api/inbox/channels/{}/routing", t.channel),
            json!({ "teamId": t.team, "requiredSkills": ["french"] }),
        )
        .await;
    assert_eq!(routed.status(), StatusCode::OK);
    // Agent 2 holds 2 already (capacity 2): a French conversation must wait for the fallback.
    let before = assignments(app, t.org).await.len();
    let arrived_at = now_ms();
    arrive(app, 200, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(
        assignments(app, t.org).await.len(),
        before,
        "nobody skilled has room yet"
    );
    app.eventually("the fallback hands it to the team", || async {
        assignments(app, t.org).await.len() == before + 1
    })
    .await;
    assert!(now_ms() - arrived_at >= 2000, "not before the fallback wait");
    let (_, to) = *assignments(app, t.org).await.last().unwrap();
    assert_ne!(to, Some(*agent2));
}

async fn two_agents_claiming_at_once_one_wins_and_the_other_hears_who(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, signup) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&owner, "101").await;
    let (_, lea) = app.add_agent(&signup, "Lea", "lea@acme.test").await;
    let (_, ben) = app.add_agent(&signup, "Ben", "ben@acme.test").await;
    arrive(&app, 0, 10).await;
    for (id, _) in all_conversations(&app, &owner).await {
        let claim = |token: String| {
            let app = &app;
            async move {
                let response = app
                    .post(&token, "/api/inbox/claim", json!({ "conversationId": id }))
                    .await;
                let status = response.status();
                let body: Value = response.json().await.unwrap();
                (status, body)
            }
        };
        let (a, b) = tokio::join!(claim(lea.clone()), claim(ben.clone()));
        let (winner, loser) = match (a.0, b.0) {
            (StatusCode::OK, StatusCode::CONFLICT) => (a, b),
            (StatusCode::CONFLICT, StatusCode::OK) => (b, a),
            other => panic!("exactly one claim must win: {other:?}"),
        };
        let name = winner.1["assigneeName"].as_str().unwrap();
        assert_eq!(
            loser.1["error"]["message"].as_str().unwrap(),
            format!("{name} already took this conversation")
        );
    }
    let (rival, _) = app.signup("Rival", "owner@rival.test").await;
    let (status, _) = error_of(
        app.post(&rival, "/api/inbox/claim", json!({ "conversationId": 1 }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn transfers_permissions_release_on_away_and_the_reply_timer(backend: Backend) {
    let t = team(
        backend,
        3,
        json!({ "name": "Support", "strategy": "round_robin", "capacity": 5, "ownershipTimeoutSecs": 2 }),
    )
    .await;
    let app = &t.app;
    let (a0, tok0) = &t.agents[0];
    let (a1, tok1) = &t.agents[1];
    let (a2, tok2) = &t.agents[2];
    arrive(app, 0, 3).await;
    app.eventually("3 routed", || async { assignments(app, t.org).await.len() == 3 })
        .await;
    let routed = assignments(app, t.org).await;
    let of = |agent: i64| routed.iter().find(|(_, a)| *a == Some(agent)).unwrap().0;
    let (c0, c1, c2) = (of(*a0), of(*a1), of(*a2));

    // Agent 0 replies at once: their timer stops. The others will time out.
    app.reply(tok0, c0, "Hi, looking into it", None).await;

    // An agent may not move a colleague's conversation; an admin may.
    let (status, message) = error_of(
        app.post(
            tok1,
            "/api/inbox/transfer",
            json!({ "conversationId": c0, "toUserId": a1, "reason": "mine now" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message.contains("Agent0 has this conversation"), "{message}");
    let (status, _) = error_of(
        app.patch(
            tok1,
            &format!("/api/inbox/conversations/{c0}/assign"),
            json!({ "assigneeId": a1 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = error_of(
        app.post(
            tok1,
            "/api/inbox/reassign-bulk",
            json!({ "fromUserId": a0, "toUserId": a1 }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = error_of(app.post(tok1, "/api/inbox/teams", json!({ "name": "Mine" })).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The holder transfers with a reason, shown in the thread.
    let moved: Value = app
        .post(
            tok0,
            "/api/inbox/transfer",
            json!({ "conversationId": c0, "toUserId": a2, "reason": "billing question" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["assigneeId"], *a2);
    let thread = app.messages(&t.owner, c0).await;
    assert!(
        thread
            .iter()
            .any(|m| m["body"] == "Agent0 transferred the conversation to Agent2: billing question"),
        "{thread:?}"
    );

    // The reply timer: c1 and c2 were not answered within 2 s; each goes back to routing and
    // on to someone else, with a line in the thread.
    app.eventually("c1 is taken from agent 1", || async {
        let c: Value = app
            .get(&t.owner, &format!("/api/inbox/conversations/{c1}"))
            .await
            .json()
            .await
            .unwrap();
        c["conversation"]["assigneeId"].as_i64().is_some_and(|a| a != *a1)
    })
    .await;
    let thread = app.messages(&t.owner, c1).await;
    assert!(
        thread
            .iter()
            .any(|m| m["body"] == "Agent1 did not reply in time; the conversation goes back to the queue"),
        "{thread:?}"
    );
    let _ = c2;
    // The timer goes off for the rest of the test: deadlines already running stop with it.
    let mut draft: Value = app
        .get(&t.owner, &format!("/api/inbox/teams/{}", t.team))
        .await
        .json()
        .await
        .unwrap();
    draft["ownershipTimeoutSecs"] = Value::Null;
    draft["members"] = json!(t.agents.iter().map(|(id, _)| *id).collect::<Vec<_>>());
    let response = app.put(&t.owner, &format!("/api/inbox/teams/{}", t.team), draft).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Going away hands back agent 2's open conversations (the team says so); they go to
    // whoever is online.
    let holding_before: Vec<i64> = all_conversations(app, &t.owner)
        .await
        .values()
        .filter(|c| c["assigneeId"] == *a2)
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert!(!holding_before.is_empty());
    let status = set_status(app, tok2, *a2, "away").await;
    assert_eq!(status["status"], "away");
    app.eventually("agent 2's conversations are handed on", || async {
        let all = all_conversations(app, &t.owner).await;
        holding_before
            .iter()
            .all(|id| all[id]["assigneeId"].as_i64().is_some_and(|a| a != *a2))
    })
    .await;
    let presence: Value = app
        .get(tok1, &format!("/api/inbox/team/{}/presence", t.team))
        .await
        .json()
        .await
        .unwrap();
    let away: Vec<&Value> = presence
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "away")
        .collect();
    assert_eq!(away.len(), 1);
    assert_eq!(away[0]["userId"], *a2);

    // An admin moves all of agent 0's work to agent 1 at once.
    let result: Value = app
        .post(
            &t.owner,
            "/api/inbox/reassign-bulk",
            json!({ "fromUserId": a0, "toUserId": a1 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(result["skipped"].as_array().unwrap().is_empty(), "{result}");
    let all = all_conversations(app, &t.owner).await;
    assert!(all.values().all(|c| c["assigneeId"] != *a0));

    // Another organization sees none of it.
    let (rival, _) = app.signup("Rival", "owner@rival.test").await;
    for path in [
        format!("/api/inbox/teams/{}", t.team),
        format!("/api/inbox/team/{}/workload", t.team),
        format!("/api/inbox/team/{}", t.team),
        format!("/api/inbox/conversations/{c0}/viewers"),
    ] {
        assert_eq!(app.get(&rival, &path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let teams: Value = app.get(&rival, "/api/inbox/teams").await.json().await.unwrap();
    assert_eq!(teams, json!([]));
    let _ = (&t.signup, tok1);
}

on_both_backends!(
    two_hundred_arrivals_respect_capacity_rotate_evenly_and_drain_by_priority,
    load_balanced_gives_the_least_loaded_and_skills_wait_for_the_fallback,
    two_agents_claiming_at_once_one_wins_and_the_other_hears_who,
    transfers_permissions_release_on_away_and_the_reply_timer,
);
