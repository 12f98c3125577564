//! The Workload page (`/workload?team=ID`): for one team, each agent's presence and how full
//! they are (open conversations against their capacity), and the queue of conversations
//! waiting for an agent, in the order they will be handed out. It follows the live events
//! that change either (assignments, status changes, new conversations, presence) by loading
//! the team's workload again.

use crate::model::{Id, Millis, events};
use crate::team::{AgentLoad, QueuedConversation, Team, Workload, list_teams, team_workload};
use crate::ui::components::{Avatar, Clock, EmptyState, ErrorState, Loading, full_datetime, iso_utc, use_hydrated};
use crate::ui::inbox::live::on_live_event;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The live events after which the workload is loaded again.
const REFRESH_ON: [&str; 5] = [
    events::CONVERSATION_ASSIGNED,
    events::CONVERSATION_STATUS,
    events::CONVERSATION_NEW,
    events::CONVERSATION_UPDATED,
    events::PRESENCE_UPDATE,
];

/// The team asked for in the address if there is one by that id, else the first.
fn pick_team(ids: &[Id], wanted: Option<Id>) -> Option<Id> {
    wanted.filter(|w| ids.contains(w)).or_else(|| ids.first().copied())
}

/// "waiting 3 min", "waiting 2 h 5 min", "waiting 3 d".
fn waiting_label(queued_at: Millis, now: Millis) -> String {
    let minutes = (now - queued_at).max(0) / 60_000;
    match minutes {
        0 => "waiting less than a minute".to_string(),
        1..=59 => format!("waiting {minutes} min"),
        60..=1439 => match minutes % 60 {
            0 => format!("waiting {} h", minutes / 60),
            rest => format!("waiting {} h {rest} min", minutes / 60),
        },
        _ => format!("waiting {} d", minutes / 1440),
    }
}

/// How much of the bar is filled, 0 to 100 (a capacity of 0 is a full bar).
fn load_percent(open: i64, capacity: i64) -> i64 {
    if capacity <= 0 {
        100
    } else {
        (open.max(0) * 100 / capacity).clamp(0, 100)
    }
}

/// `full` (takes nothing more), `high` (80 % or more) or `ok`.
fn load_level(open: i64, capacity: i64) -> &'static str {
    if open >= capacity {
        "full"
    } else if open * 5 >= capacity * 4 {
        "high"
    } else {
        "ok"
    }
}

#[component]
pub fn WorkloadPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = Memo::new(move |_| query.with(|q| q.get("team")).and_then(|t| t.parse::<Id>().ok()));
    let teams = Resource::new(|| (), |_| list_teams());
    let version = RwSignal::new(0u64);
    on_live_event(move |event| {
        if REFRESH_ON.contains(&event.name.as_str()) {
            let _ = version.try_update(|v| *v += 1);
        }
    });
    let workload = Resource::new(
        move || (wanted.get(), version.get()),
        move |(wanted, _)| async move {
            let teams = teams.await?;
            let ids: Vec<Id> = teams.iter().map(|t| t.id).collect();
            match pick_team(&ids, wanted) {
                Some(id) => team_workload(id).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <Title text="Workload · Messio"/>
        <div class="settings workload-page" data-testid="workload-page">
            <div class="settings-head">
                <h1>"Workload"</h1>
                <p class="muted">"Who is available, how full each agent is, and who is waiting for an answer."</p>
            </div>
            <div class="settings-body">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match teams.await {
                            Ok(teams) if teams.is_empty() => view! {
                                <section class="card">
                                    <EmptyState
                                        title="No teams yet"
                                        hint="Create a team to route conversations automatically and follow its workload here."
                                    >
                                        <a class="btn btn-primary" href="/settings/teams" data-testid="workload-setup-teams">
                                            "Set up teams"
                                        </a>
                                    </EmptyState>
                                </section>
                            }
                            .into_any(),
                            Ok(teams) => view! { <TeamPicker teams wanted/> }.into_any(),
                            Err(error) => view! { <ErrorState error/> }.into_any(),
                        }
                    })}
                </Transition>
                <Transition fallback=|| view! { <Loading label="Loading the workload…"/> }>
                    {move || Suspend::new(async move {
                        match workload.await {
                            Ok(Some(workload)) => view! { <WorkloadView workload/> }.into_any(),
                            Ok(None) => ().into_any(),
                            Err(error) => view! { <ErrorState error/> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </div>
    }
}

/// Which team to show; the choice is kept in the address (`?team=ID`). Without JavaScript
/// the form's button loads the page for the chosen team.
#[component]
fn TeamPicker(teams: Vec<Team>, wanted: Memo<Option<Id>>) -> impl IntoView {
    let navigate = use_navigate();
    let hydrated = use_hydrated();
    let ids: Vec<Id> = teams.iter().map(|t| t.id).collect();
    let current = Memo::new(move |_| pick_team(&ids, wanted.get()));
    view! {
        <form class="inline-form workload-picker" method="get" action="/workload">
            <div class="field">
                <label for="workload-team">"Team"</label>
                <select
                    id="workload-team"
                    name="team"
                    data-testid="workload-team"
                    on:change=move |ev| {
                        if let Ok(id) = event_target_value(&ev).parse::<Id>() {
                            navigate(
                                &format!("/workload?team={id}"),
                                NavigateOptions {
                                    replace: true,
                                    scroll: false,
                                    ..Default::default()
                                },
                            );
                        }
                    }
                >
                    {teams
                        .into_iter()
                        .map(|team| {
                            let id = team.id;
                            view! {
                                <option value=id.to_string() selected=move || current.get() == Some(id)>
                                    {team.name}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            {move || (!hydrated.get()).then(|| view! { <button type="submit" class="btn">"Show"</button> })}
        </form>
    }
}

#[component]
fn WorkloadView(workload: Workload) -> impl IntoView {
    let Workload {
        team_id,
        team_name,
        agents,
        queue,
    } = workload;
    let total = agents.len();
    let online = agents
        .iter()
        .filter(|a| a.status == crate::model::AgentStatus::Online)
        .count();
    let agents_view = if agents.is_empty() {
        view! {
            <EmptyState title="No agents in this team" hint="Add members to the team in Settings → Teams.">
                <a class="btn" href="/settings/teams">"Go to Teams"</a>
            </EmptyState>
        }
        .into_any()
    } else {
        view! {
            <ul class="load-list">
                {agents.into_iter().map(|agent| view! { <AgentLoadRow agent/> }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let waiting = queue.len();
    let queue_view = if queue.is_empty() {
        view! { <EmptyState title="Nobody is waiting" hint="New conversations that no agent can take yet line up here."/> }
            .into_any()
    } else {
        view! {
            <ol class="queue-list">
                {queue.into_iter().map(|item| view! { <QueueItem item/> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="workload-agents" data-team-id=team_id.to_string() aria-labelledby="workload-agents-title">
            <div class="card-head">
                <div>
                    <h2 id="workload-agents-title">{format!("{team_name}: agents")}</h2>
                    <p class="muted">{format!("{online} of {total} online")}</p>
                </div>
            </div>
            {agents_view}
        </section>
        <section class="card" data-testid="workload-queue" aria-labelledby="workload-queue-title">
            <div class="card-head">
                <div>
                    <h2 id="workload-queue-title">"Queue"</h2>
                    <p class="muted">
                        {match waiting {
                            0 => "No conversation is waiting for an agent.".to_string(),
                            1 => "1 conversation is waiting for an agent.".to_string(),
                            n => format!("{n} conversations are waiting, in the order they will be handed out."),
                        }}
                    </p>
                </div>
            </div>
            {queue_view}
        </section>
    }
}

#[component]
fn AgentLoadRow(agent: AgentLoad) -> impl IntoView {
    let AgentLoad {
        user_id,
        name,
        status,
        open,
        capacity,
    } = agent;
    let level = load_level(open, capacity);
    let percent = load_percent(open, capacity);
    view! {
        <li class="load-row" data-testid=format!("workload-agent-{user_id}") data-status=status.as_str()>
            <span class=format!("presence presence-{}", status.as_str())>{status.label()}</span>
            <span class="load-name">
                <Avatar name=name.clone()/>
                <span>{name.clone()}</span>
            </span>
            <div class="load-meter">
                <div
                    class=format!("load-bar load-{level}")
                    role="progressbar"
                    aria-label=format!("Open conversations of {name}")
                    aria-valuemin="0"
                    aria-valuemax=capacity.max(0).to_string()
                    aria-valuenow=open.clamp(0, capacity.max(0)).to_string()
                    aria-valuetext=format!("{open} of {capacity} open")
                >
                    <span class="load-bar-fill" style=format!("width: {percent}%")></span>
                </div>
                <span class="load-count" data-testid=format!("workload-open-{user_id}")>
                    {format!("{open} / {capacity}")}
                </span>
            </div>
        </li>
    }
}

#[component]
fn QueueItem(item: QueuedConversation) -> impl IntoView {
    let clock = Clock::get();
    let QueuedConversation {
        conversation_id,
        contact_name,
        priority,
        queued_at,
        position,
    } = item;
    view! {
        <li class="queue-item" data-testid="workload-queue-item" data-conversation-id=conversation_id.to_string()>
            <span class="queue-pos" aria-label=format!("Position {position}")>{position}</span>
            <a class="queue-contact" href=format!("/inbox/{conversation_id}")>{contact_name}</a>
            <span class=format!("badge queue-priority queue-priority-{}", priority.as_str())>{priority.label()}</span>
            <time
                class="queue-wait muted"
                datetime=iso_utc(queued_at)
                title=move || full_datetime(queued_at, clock.tz_offset_min.get())
            >
                {move || waiting_label(queued_at, clock.now())}
            </time>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_asked_team_or_the_first() {
        assert_eq!(pick_team(&[4, 7], Some(7)), Some(7));
        assert_eq!(pick_team(&[4, 7], Some(9)), Some(4));
        assert_eq!(pick_team(&[4, 7], None), Some(4));
        assert_eq!(pick_team(&[], Some(4)), None);
    }

    #[test]
    fn waiting_times() {
        let now = 1_709_251_170_000;
        assert_eq!(waiting_label(now - 20_000, now), "waiting less than a minute");
        assert_eq!(waiting_label(now + 20_000, now), "waiting less than a minute");
        assert_eq!(waiting_label(now - 3 * 60_000, now), "waiting 3 min");
        assert_eq!(waiting_label(now - 60 * 60_000, now), "waiting 1 h");
        assert_eq!(waiting_label(now - 125 * 60_000, now), "waiting 2 h 5 min");
        assert_eq!(waiting_label(now - 3 * 86_400_000, now), "waiting 3 d");
    }

    #[test]
    fn load_bars() {
        assert_eq!((load_percent(3, 30), load_level(3, 30)), (10, "ok"));
        assert_eq!((load_percent(8, 10), load_level(8, 10)), (80, "high"));
        assert_eq!((load_percent(10, 10), load_level(10, 10)), (100, "full"));
        assert_eq!((load_percent(12, 10), load_level(12, 10)), (100, "full"));
        assert_eq!((load_percent(0, 0), load_level(0, 0)), (100, "full"));
    }

    #[test]
    fn workload_markup() {
        Owner::new().with(workload_view);
    }

    fn workload_view() {
        use crate::model::{AgentStatus, Priority};
        let workload = Workload {
            team_id: 5,
            team_name: "Support".into(),
            agents: vec![
                AgentLoad {
                    user_id: 2,
                    name: "Ana Souza".into(),
                    status: AgentStatus::Online,
                    open: 3,
                    capacity: 30,
                },
                AgentLoad {
                    user_id: 3,
                    name: "Ben".into(),
                    status: AgentStatus::Away,
                    open: 2,
                    capacity: 2,
                },
            ],
            queue: vec![QueuedConversation {
                conversation_id: 40,
                contact_name: "Carla".into(),
                priority: Priority::Urgent,
                queued_at: 0,
                position: 1,
            }],
        };
        let html = view! { <WorkloadView workload/> }.to_html();
        for needle in [
            r#"data-testid="workload-agent-2""#,
            r#"data-testid="workload-open-2""#,
            ">3 / 30<",
            r#"class="presence presence-online""#,
            r#"class="presence presence-away""#,
            "load-bar load-full",
            r#"data-testid="workload-queue""#,
            r#"data-testid="workload-queue-item""#,
            "Urgent",
            r#"href="/inbox/40""#,
        ] {
            assert!(html.contains(needle), "no {needle} in {html}");
        }
        let empty = Workload {
            team_id: 5,
            team_name: "Support".into(),
            agents: Vec::new(),
            queue: Vec::new(),
        };
        let html = view! { <WorkloadView workload=empty/> }.to_html();
        assert!(html.contains("Nobody is waiting"), "{html}");
        assert!(html.contains(r#"data-testid="workload-queue""#), "{html}");
    }
}
