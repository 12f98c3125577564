//! Teams and who holds a conversation: teams with their organization's agents only, agents'
//! routing profiles, channels routing into a team's queue, and the guarded changes of holder
//! (routing's pick, claims racing, release, transfer) that never let two hold one
//! conversation; the queue and reply timer follow status and assignment.

use crate::support::connect; // by name: `app::store::*` has a `connect` too
use crate::support::*;
use app::model::*;
use app::store::*;
use app::team::{AgentProfileUpdate, ChannelRouting, TeamDraft};

conformance!(
    teams_hold_their_organizations_agents_only,
    a_routed_channel_queues_its_conversations_and_picks_are_guarded,
    concurrent_claims_leave_one_holder,
    transfers_and_status_keep_the_queue_and_timer_in_step
);

async fn team_with(store: &DynStore, org: &Organization, members: &[Id], timeout: Option<i64>) -> app::team::Team {
    let mut draft = TeamDraft::named("Support");
    draft.members = Some(members.to_vec());
    draft.ownership_timeout_secs = timeout;
    store.create_team(org.id, &draft).await.unwrap()
}

async fn teams_hold_their_organizations_agents_only(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let (rival, stranger) = new_org(&store, "rival").await;
    let lea = store
        .add_user(acme.id, "Lea", "lea@acme.test", "hash", Role::Agent)
        .await
        .unwrap();
    let team = team_with(&store, &acme, &[lea.id, owner.id], None).await;
    let mut members: Vec<Id> = team.members.iter().map(|m| m.user_id).collect();
    members.sort_unstable();
    assert_eq!(members, vec![owner.id, lea.id]);
    assert_eq!(team.strategy, RoutingStrategy::RoundRobin);
    assert_conflict(
        store.create_team(acme.id, &TeamDraft::named("Support")).await,
        "same name",
    );
    let mut foreign = TeamDraft::named("Other");
    foreign.members = Some(vec![stranger.id]);
    assert_invalid(store.create_team(acme.id, &foreign).await, "a stranger as member");
    assert_not_found(store.team(rival.id, team.id).await, "another organization's team");
    assert!(store.teams(rival.id).await.unwrap().is_empty());
    assert_not_found(
        store.update_team(rival.id, team.id, &TeamDraft::named("Hijack")).await,
        "updating another organization's team",
    );
    assert_not_found(
        store.delete_team(rival.id, team.id).await,
        "deleting another organization's team",
    );

    let profile = store
        .set_agent_profile(
            acme.id,
            lea.id,
            &AgentProfileUpdate {
                capacity: Some(4),
                skills: vec!["french".into()],
                senior: true,
            },
        )
        .await
        .unwrap();
    assert_eq!((profile.capacity, profile.senior), (Some(4), true));
    assert_eq!(profile.skills, vec!["french"]);
    assert_eq!(profile.team_ids, vec![team.id]);
    assert_not_found(
        store
            .set_agent_profile(rival.id, lea.id, &AgentProfileUpdate::default())
            .await,
        "another organization's agent",
    );
    let snapshot = store.routing_snapshot(acme.id).await.unwrap();
    assert_eq!(snapshot.teams.len(), 1);
    assert!(
        snapshot
            .agents
            .iter()
            .any(|a| a.user_id == lea.id && a.senior && a.capacity == Some(4))
    );
    assert_eq!(store.routed_organizations().await.unwrap(), vec![acme.id]);
    store.delete_team(acme.id, team.id).await.unwrap();
    assert!(store.routed_organizations().await.unwrap().is_empty());
}

async fn a_routed_channel_queues_its_conversations_and_picks_are_guarded(store: DynStore) {
    let (acme, _owner) = new_org(&store, "acme").await;
    let (rival, _) = new_org(&store, "rival").await;
    let lea = store
        .add_user(acme.id, "Lea", "lea@acme.test", "hash", Role::Agent)
        .await
        .unwrap();
    let ben = store
        .add_user(acme.id, "Ben", "ben@acme.test", "hash", Role::Agent)
        .await
        .unwrap();
    let team = team_with(&store, &acme, &[lea.id, ben.id], Some(300)).await;
    let channel = connect(&store, &acme, "page-1").await;
    let routing = ChannelRouting {
        team_id: Some(team.id),
        required_skills: vec!["french".into()],
    };
    assert_invalid(
        store.set_channel_routing(rival.id, channel.id, &routing).await,
        "routing into another organization's team",
    );
    store.set_channel_routing(acme.id, channel.id, &routing).await.unwrap();
    assert_eq!(store.channel_routing(acme.id, channel.id).await.unwrap(), routing);

    let received = receive(&store, &channel, "cust", "mid-1", "bonjour", earlier()).await;
    let id = received.value.conversation_id;
    let conversation = store.conversation(acme.id, id).await.unwrap();
    assert_eq!(conversation.team_id, Some(team.id));
    assert_eq!(conversation.team_name.as_deref(), Some("Support"));
    assert_eq!(conversation.required_skills, vec!["french"]);
    assert!(conversation.queued_at.is_some(), "waiting for routing");
    let snapshot = store.routing_snapshot(acme.id).await.unwrap();
    assert_eq!(snapshot.waiting.len(), 1);
    assert_eq!(snapshot.waiting[0].conversation_id, id);
    assert_eq!(
        store.conversations_by_id(acme.id, &[id, 999_999]).await.unwrap(),
        vec![conversation.clone()]
    );
    assert!(
        store.conversations_by_id(rival.id, &[id]).await.unwrap().is_empty(),
        "not another organization's"
    );

    let routed = store
        .route_to(acme.id, id, lea.id, "Routed to Lea (round-robin)")
        .await
        .unwrap()
        .expect("the pick is written");
    assert_eq!(routed.value.assignee_id, Some(lea.id));
    assert_eq!(routed.value.queued_at, None, "out of the queue");
    let due = routed.value.reply_due_at.expect("the team's reply timer runs");
    assert!(due > now_millis() + 250_000 && due <= now_millis() + 300_000);
    assert_eq!(names(&routed.events), vec![events::CONVERSATION_ASSIGNED]);
    assert_eq!(
        routed.events[0].payload["message"]["body"],
        "Routed to Lea (round-robin)"
    );
    assert!(
        store.route_to(acme.id, id, ben.id, "again").await.unwrap().is_none(),
        "a held conversation is never picked again"
    );
    assert!(store.route_to(rival.id, id, ben.id, "x").await.unwrap().is_none());

    // Lea replies: her timer stops.
    store
        .queue_outbound(acme.id, reply(id, &lea, "on it", None))
        .await
        .unwrap();
    assert_eq!(store.conversation(acme.id, id).await.unwrap().reply_due_at, None);

    // Released by someone who does not hold it: nothing happens.
    assert!(store.release(acme.id, id, ben.id, "x").await.unwrap().is_none());
    let released = store
        .release(
            acme.id,
            id,
            lea.id,
            "Lea went away; the conversation goes back to the queue",
        )
        .await
        .unwrap()
        .expect("Lea held it");
    assert_eq!(released.value.assignee_id, None);
    assert!(released.value.queued_at.is_some(), "back in the queue");
    let snapshot = store.routing_snapshot(acme.id).await.unwrap();
    assert_eq!(snapshot.waiting.len(), 1);
    assert!(snapshot.held.is_empty());

    let urgent = store
        .set_conversation_routing(acme.id, id, Some(Priority::Urgent), Some(&["german".to_string()]))
        .await
        .unwrap();
    assert_eq!(urgent.value.priority, Priority::Urgent);
    assert_eq!(names(&urgent.events), vec![events::CONVERSATION_UPDATED]);
    let filter = ConversationFilter {
        team: Some(team.id),
        priority: Some(Priority::Urgent),
        ..Default::default()
    };
    assert_eq!(
        store.conversations(acme.id, lea.id, &filter).await.unwrap().items.len(),
        1
    );
    assert!(
        store
            .conversations(rival.id, lea.id, &filter)
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

async fn concurrent_claims_leave_one_holder(store: DynStore) {
    let (acme, _owner) = new_org(&store, "acme").await;
    let channel = connect(&store, &acme, "page-1").await;
    let mut agents = Vec::new();
    for i in 0..4 {
        agents.push(
            store
                .add_user(
                    acme.id,
                    &format!("A{i}"),
                    &format!("a{i}@acme.test"),
                    "hash",
                    Role::Agent,
                )
                .await
                .unwrap(),
        );
    }
    for round in 0..5 {
        let id = receive(
            &store,
            &channel,
            &format!("c{round}"),
            &format!("m{round}"),
            "hi",
            earlier(),
        )
        .await
        .value
        .conversation_id;
        let claims: Vec<_> = agents
            .iter()
            .map(|agent| {
                let store = store.clone();
                let agent = agent.clone();
                tokio::spawn(async move { store.claim(acme.id, id, &agent).await })
            })
            .collect();
        let mut results = Vec::new();
        for claim in claims {
            results.push(claim.await.unwrap());
        }
        let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(winners.len(), 1, "round {round}: exactly one claim wins");
        let holder = winners[0].value.assignee_name.clone().unwrap();
        for lost in results.iter().filter_map(|r| r.as_ref().err()) {
            match lost {
                StoreError::Conflict(message) => {
                    assert_eq!(message, &format!("{holder} already took this conversation"))
                }
                other => panic!("a lost claim is a conflict, not {other:?}"),
            }
        }
        let line = format!("{holder} claimed the conversation");
        assert!(thread(&store, &acme, id).await.iter().any(|m| m.body == line));
    }
}

async fn transfers_and_status_keep_the_queue_and_timer_in_step(store: DynStore) {
    let (acme, owner) = new_org(&store, "acme").await;
    let lea = store
        .add_user(acme.id, "Lea", "lea@acme.test", "hash", Role::Agent)
        .await
        .unwrap();
    let team = team_with(&store, &acme, &[lea.id], Some(60)).await;
    let channel = connect(&store, &acme, "page-1").await;
    let id = receive(&store, &channel, "cust", "mid-1", "hi", earlier())
        .await
        .value
        .conversation_id;
    assert_eq!(
        store.conversation(acme.id, id).await.unwrap().queued_at,
        None,
        "the channel routes nowhere"
    );

    let to_team = store
        .transfer(acme.id, id, &owner, TransferTarget::Team(team.id), "billing")
        .await
        .unwrap();
    assert_eq!(to_team.value.team_id, Some(team.id));
    assert!(to_team.value.queued_at.is_some());
    assert_eq!(
        to_team.events[0].payload["message"]["body"],
        format!(
            "{} transferred the conversation to the Support team: billing",
            owner.name
        )
    );
    let to_lea = store
        .transfer(acme.id, id, &owner, TransferTarget::Agent(lea.id), "")
        .await
        .unwrap();
    assert_eq!(to_lea.value.assignee_id, Some(lea.id));
    assert_eq!(to_lea.value.queued_at, None);
    assert!(to_lea.value.reply_due_at.is_some());
    assert_invalid(
        store
            .transfer(acme.id, id, &owner, TransferTarget::Agent(lea.id), "")
            .await,
        "to whoever has it already",
    );
    assert_invalid(
        store
            .transfer(acme.id, id, &owner, TransferTarget::Team(999_999), "")
            .await,
        "to a team that is not there",
    );

    let resolved = store
        .set_conversation_status(acme.id, id, ConversationStatus::Resolved, &owner)
        .await
        .unwrap()
        .value;
    assert_eq!(
        (resolved.queued_at, resolved.reply_due_at),
        (None, None),
        "finished: no timer"
    );
    let unassigned = store
        .assign_conversation(acme.id, id, None, &owner)
        .await
        .unwrap()
        .value;
    assert_eq!(unassigned.queued_at, None, "finished conversations do not wait");
    // The customer writes again: it reopens, nobody holds it, so it waits in its team's queue.
    let again = receive(&store, &channel, "cust", "mid-2", "still there?", now_millis()).await;
    let reopened = store.conversation(acme.id, again.value.conversation_id).await.unwrap();
    assert_ne!(reopened.status, ConversationStatus::Resolved);
    assert!(reopened.queued_at.is_some());
}
