//! Settings → Teams: the organization's teams and how each one hands out its conversations
//! (strategy, capacity per agent, skill fallback, reply timer, hand-back when an agent goes
//! away, members). Owners and admins also set each agent's routing profile (own capacity,
//! skills, seniority) and which team each channel's new conversations go to; agents see the
//! teams read-only.

use super::SettingsFrame;
use crate::auth::list_team;
use crate::channels::list_channels;
use crate::error::AppError;
use crate::model::{Channel, ChannelStatus, Id, RoutingStrategy, User};
use crate::team::{
    AgentProfile, AgentProfileUpdate, ChannelRouting, DEFAULT_CAPACITY, Team, TeamDraft, delete_team,
    get_channel_routing, list_agent_profiles, list_teams, save_agent_profile, save_channel_routing, save_team,
};
use crate::ui::Shell;
use crate::ui::components::{
    Avatar, ChannelIcon, ConfirmAction, EmptyState, ErrorAlert, ErrorState, Loading, Toasts, role_label, toast_error,
};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// What only owners and admins see on the page: the people a team can hold, every agent's
/// routing profile, and each live channel with where its conversations go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct ManageData {
    people: Vec<User>,
    profiles: Vec<AgentProfile>,
    channels: Vec<(Channel, ChannelRouting)>,
}

/// `None` for agents: nothing of the managers' part is loaded for them.
async fn load_manage(shell: Option<Shell>) -> Result<Option<ManageData>, AppError> {
    if !Shell::can_manage(shell).await {
        return Ok(None);
    }
    let people = list_team().await?;
    let profiles = list_agent_profiles().await?;
    let mut channels = Vec::new();
    for channel in list_channels().await? {
        if channel.status == ChannelStatus::Disconnected {
            continue;
        }
        let routing = get_channel_routing(channel.id).await?;
        channels.push((channel, routing));
    }
    Ok(Some(ManageData {
        people,
        profiles,
        channels,
    }))
}

/// What a strategy does, in a sentence for the form and the card.
fn strategy_hint(strategy: RoutingStrategy) -> &'static str {
    match strategy {
        RoutingStrategy::Manual => "Nothing is handed out: agents claim conversations from the team's queue.",
        RoutingStrategy::RoundRobin => "Each new conversation goes to the next online agent in turn.",
        RoutingStrategy::LoadBalanced => "Each new conversation goes to the online agent with the fewest open ones.",
        RoutingStrategy::SkillBased => {
            "Conversations go to online agents with the skills they need, then to the whole team after the fallback wait."
        }
        RoutingStrategy::Priority => "Urgent and high-priority conversations go to senior agents first.",
    }
}

/// A reply timer in minutes for the form: `15`, or `1.5` for 90 seconds.
fn minutes_text(secs: i64) -> String {
    if secs % 60 == 0 {
        (secs / 60).to_string()
    } else {
        let text = format!("{:.2}", secs as f64 / 60.0);
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The reply timer's field: empty is off, otherwise minutes (decimals allowed) in seconds.
fn parse_timer(text: &str) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.replace(',', ".").parse::<f64>() {
        Ok(minutes) if minutes.is_finite() => Ok(Some((minutes * 60.0).round() as i64)),
        _ => Err("the reply timer is a number of minutes (leave it empty to turn it off)".into()),
    }
}

fn parse_whole(text: &str, what: &str) -> Result<i64, String> {
    text.trim()
        .parse::<i64>()
        .map_err(|_| format!("{what} is a whole number"))
}

/// Comma-separated skills as typed; the server trims, lower-cases and checks them.
fn split_skills(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The team form's fields as typed, read into a draft (`Err`: what to fix, in words).
#[derive(Debug, Clone, PartialEq)]
struct TeamFields {
    name: String,
    strategy: RoutingStrategy,
    capacity: String,
    fallback: String,
    timer: String,
    release: bool,
    members: Vec<Id>,
}

impl TeamFields {
    fn of(team: Option<&Team>) -> Self {
        match team {
            Some(team) => TeamFields {
                name: team.name.clone(),
                strategy: team.strategy,
                capacity: team.capacity.to_string(),
                fallback: team.skill_fallback_secs.to_string(),
                timer: team.ownership_timeout_secs.map(minutes_text).unwrap_or_default(),
                release: team.release_on_away,
                members: team.members.iter().map(|m| m.user_id).collect(),
            },
            None => {
                let draft = TeamDraft::named("");
                TeamFields {
                    name: String::new(),
                    strategy: draft.strategy,
                    capacity: DEFAULT_CAPACITY.to_string(),
                    fallback: draft.skill_fallback_secs.to_string(),
                    timer: String::new(),
                    release: draft.release_on_away,
                    members: Vec::new(),
                }
            }
        }
    }

    fn draft(&self) -> Result<TeamDraft, String> {
        Ok(TeamDraft {
            name: self.name.trim().to_string(),
            strategy: self.strategy,
            capacity: parse_whole(&self.capacity, "the capacity")?,
            skill_fallback_secs: parse_whole(&self.fallback, "the skill fallback wait")?,
            ownership_timeout_secs: parse_timer(&self.timer)?,
            release_on_away: self.release,
            members: Some(self.members.clone()),
        })
    }
}

/// The agent row's fields as typed: an empty capacity means "each team's".
fn agent_update(capacity: &str, skills: &str, senior: bool) -> Result<AgentProfileUpdate, String> {
    let capacity = match capacity.trim() {
        "" => None,
        text => Some(parse_whole(text, "an agent's capacity")?),
    };
    Ok(AgentProfileUpdate {
        capacity,
        skills: split_skills(skills),
        senior,
    })
}

#[component]
pub fn TeamsPage() -> impl IntoView {
    let shell = Shell::get();
    let version = RwSignal::new(0u32);
    let teams = Resource::new(move || version.get(), |_| list_teams());
    let manage = Resource::new(move || version.get(), move |_| load_manage(shell));
    let changed = Callback::new(move |()| version.update(|v| *v += 1));

    view! {
        <Title text="Teams · Settings · Messio"/>
        <SettingsFrame title="Teams" subtitle="Who answers which conversations, and how they are handed out.">
            <Transition fallback=|| view! { <Loading label="Loading teams…"/> }>
                {move || Suspend::new(async move {
                    match (teams.await, manage.await) {
                        (Ok(teams), Ok(manage)) => view! { <TeamsBody teams manage changed/> }.into_any(),
                        (Err(error), _) | (_, Err(error)) => view! { <ErrorState error/> }.into_any(),
                    }
                })}
            </Transition>
        </SettingsFrame>
    }
}

#[component]
fn TeamsBody(teams: Vec<Team>, manage: Option<ManageData>, changed: Callback<()>) -> impl IntoView {
    let can_manage = manage.is_some();
    let people = manage.as_ref().map(|m| m.people.clone()).unwrap_or_default();
    let team_names: Vec<(Id, String)> = teams.iter().map(|t| (t.id, t.name.clone())).collect();
    let new_team = can_manage.then(|| view! { <NewTeamCard people=people.clone() changed/> });
    let cards = if teams.is_empty() {
        let hint = if can_manage {
            "Name a team above and choose its agents; then point channels at it below."
        } else {
            "An owner or admin can create one."
        };
        view! {
            <section class="card">
                <EmptyState title="No teams yet — create one to route conversations automatically" hint/>
            </section>
        }
        .into_any()
    } else {
        view! {
            <div class="team-cards" data-testid="team-list">
                {teams
                    .into_iter()
                    .map(|team| view! { <TeamCard team people=people.clone() can_manage changed/> })
                    .collect_view()}
            </div>
        }
        .into_any()
    };
    let managers = match manage {
        Some(ManageData { profiles, channels, .. }) => view! {
            <AgentsCard profiles teams=team_names.clone()/>
            <RoutingCard channels teams=team_names/>
        }
        .into_any(),
        None => view! {
            <p class="muted note">"Only owners and admins can change teams, agents' routing and where channels send their conversations."</p>
        }
        .into_any(),
    };
    view! {
        {new_team}
        {cards}
        {managers}
    }
}

#[component]
fn NewTeamCard(people: Vec<User>, changed: Callback<()>) -> impl IntoView {
    let on_saved = Callback::new(move |_: Team| changed.run(()));
    view! {
        <section class="card new-team" data-testid="new-team" aria-labelledby="new-team-title">
            <h2 id="new-team-title">"New team"</h2>
            <p class="muted">"A team shares one queue: channels pointed at it hand their new conversations to its agents."</p>
            <TeamForm team=None people on_saved on_cancel=None/>
        </section>
    }
}

/// Creates a team (`team` is `None`) or edits one.
#[component]
fn TeamForm(
    team: Option<Team>,
    people: Vec<User>,
    on_saved: Callback<Team>,
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let id = team.as_ref().map(|t| t.id);
    let prefix = id.map_or_else(|| "team-new".to_string(), |id| format!("team-{id}"));
    let start = TeamFields::of(team.as_ref());
    let name = RwSignal::new(start.name.clone());
    let strategy = RwSignal::new(start.strategy);
    let capacity = RwSignal::new(start.capacity.clone());
    let fallback = RwSignal::new(start.fallback.clone());
    let timer = RwSignal::new(start.timer.clone());
    let release = RwSignal::new(start.release);
    let members = RwSignal::new(start.members.clone());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let reset = move || {
        let blank = TeamFields::of(None);
        name.set(blank.name);
        strategy.set(blank.strategy);
        capacity.set(blank.capacity);
        fallback.set(blank.fallback);
        timer.set(blank.timer);
        release.set(blank.release);
        members.set(blank.members);
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let fields = TeamFields {
            name: name.get_untracked(),
            strategy: strategy.get_untracked(),
            capacity: capacity.get_untracked(),
            fallback: fallback.get_untracked(),
            timer: timer.get_untracked(),
            release: release.get_untracked(),
            members: members.get_untracked(),
        };
        let draft = match fields.draft() {
            Ok(draft) => draft,
            Err(message) => {
                error.set(Some(message));
                return;
            }
        };
        error.set(None);
        busy.set(true);
        let toasts = Toasts::get();
        leptos::task::spawn_local(async move {
            match save_team(id, draft).await {
                Ok(saved) => {
                    if let Some(toasts) = toasts {
                        toasts.info(match id {
                            Some(_) => format!("Saved {}.", saved.name),
                            None => format!("Created {}.", saved.name),
                        });
                    }
                    if id.is_none() {
                        reset();
                    }
                    on_saved.run(saved);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
            let _ = busy.try_set(false);
        });
    };

    let name_id = format!("{prefix}-name");
    let strategy_id = format!("{prefix}-strategy");
    let strategy_hint_id = format!("{prefix}-strategy-hint");
    let capacity_id = format!("{prefix}-capacity");
    let capacity_hint_id = format!("{prefix}-capacity-hint");
    let fallback_id = format!("{prefix}-fallback");
    let fallback_hint_id = format!("{prefix}-fallback-hint");
    let timer_id = format!("{prefix}-timer");
    let timer_hint_id = format!("{prefix}-timer-hint");
    let release_id = format!("{prefix}-release");
    let release_hint_id = format!("{prefix}-release-hint");
    let form_label = match &team {
        Some(team) => format!("Edit {}", team.name),
        None => "New team".to_string(),
    };
    let save_label = if id.is_some() { "Save team" } else { "Create team" };
    let busy_label = if id.is_some() { "Saving…" } else { "Creating…" };

    let member_list = if people.is_empty() {
        view! { <p class="field-hint">"Nobody to add yet: add people in Settings → Team first."</p> }.into_any()
    } else {
        view! {
            <ul class="check-list">
                {people
                    .into_iter()
                    .map(|person| {
                        let uid = person.id;
                        let input_id = format!("{prefix}-member-{uid}");
                        let label_for = input_id.clone();
                        let initially = start.members.contains(&uid);
                        view! {
                            <li>
                                <label class="check-option" for=label_for>
                                    <input
                                        type="checkbox"
                                        id=input_id
                                        data-testid=format!("team-member-{uid}")
                                        checked=initially
                                        prop:checked=move || members.with(|m| m.contains(&uid))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            members.update(|m| {
                                                m.retain(|x| *x != uid);
                                                if on {
                                                    m.push(uid);
                                                }
                                            });
                                        }
                                    />
                                    <Avatar name=person.name.clone()/>
                                    <span class="check-option-name">{person.name.clone()}</span>
                                    <span class="muted">{role_label(person.role)}</span>
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };

    view! {
        <form class="team-form" novalidate aria-label=form_label on:submit=submit>
            <div class="team-form-grid">
                <div class="field">
                    <label for=name_id.clone()>"Name"</label>
                    <input
                        id=name_id
                        type="text"
                        data-testid="team-name-input"
                        required
                        maxlength="80"
                        autocomplete="off"
                        placeholder="e.g. Support"
                        value=start.name.clone()
                        prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                    />
                </div>
                <div class="field">
                    <label for=strategy_id.clone()>"Routing"</label>
                    <select
                        id=strategy_id
                        data-testid="team-strategy"
                        aria-describedby=strategy_hint_id.clone()
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<RoutingStrategy>() {
                                strategy.set(s);
                            }
                        }
                    >
                        {RoutingStrategy::ALL
                            .iter()
                            .map(|s| {
                                let s = *s;
                                view! { <option value=s.as_str() selected=move || strategy.get() == s>{s.label()}</option> }
                            })
                            .collect_view()}
                    </select>
                    <p class="field-hint" id=strategy_hint_id>{move || strategy_hint(strategy.get())}</p>
                </div>
                <div class="field">
                    <label for=capacity_id.clone()>"Capacity per agent"</label>
                    <input
                        id=capacity_id
                        type="number"
                        inputmode="numeric"
                        min="0"
                        max="1000"
                        step="1"
                        data-testid="team-capacity"
                        aria-describedby=capacity_hint_id.clone()
                        value=start.capacity.clone()
                        prop:value=move || capacity.get()
                        on:input=move |ev| capacity.set(event_target_value(&ev))
                    />
                    <p class="field-hint" id=capacity_hint_id>"Most open conversations each agent holds at once (an agent's own number wins)."</p>
                </div>
                <div class="field">
                    <label for=fallback_id.clone()>"Skill fallback wait (seconds)"</label>
                    <input
                        id=fallback_id
                        type="number"
                        inputmode="numeric"
                        min="0"
                        max="86400"
                        step="1"
                        data-testid="team-fallback"
                        aria-describedby=fallback_hint_id.clone()
                        value=start.fallback.clone()
                        prop:value=move || fallback.get()
                        on:input=move |ev| fallback.set(event_target_value(&ev))
                    />
                    <p class="field-hint" id=fallback_hint_id>
                        {move || {
                            if strategy.get() == RoutingStrategy::SkillBased {
                                "How long a conversation waits for an agent with its skills before the whole team may take it."
                            } else {
                                "Only used by skill-based routing: how long a conversation waits for an agent with its skills before the whole team may take it."
                            }
                        }}
                    </p>
                </div>
                <div class="field">
                    <label for=timer_id.clone()>"Reply timer (minutes)"</label>
                    <input
                        id=timer_id
                        type="number"
                        inputmode="decimal"
                        min="1"
                        step="any"
                        placeholder="Off"
                        data-testid="team-reply-timer"
                        aria-describedby=timer_hint_id.clone()
                        value=start.timer.clone()
                        prop:value=move || timer.get()
                        on:input=move |ev| timer.set(event_target_value(&ev))
                    />
                    <p class="field-hint" id=timer_hint_id>
                        "An assignee who hasn't replied within this time loses the conversation back to routing. Empty: off."
                    </p>
                </div>
            </div>
            <div class="check-field">
                <input
                    type="checkbox"
                    id=release_id.clone()
                    data-testid="team-release-on-away"
                    aria-describedby=release_hint_id.clone()
                    checked=start.release
                    prop:checked=move || release.get()
                    on:change=move |ev| release.set(event_target_checked(&ev))
                />
                <label for=release_id>"Hand back conversations when an agent goes away"</label>
            </div>
            <p class="field-hint check-hint" id=release_hint_id>
                "When an agent turns away or goes offline, their open conversations go back to the team's routing."
            </p>
            <fieldset class="team-members-field">
                <legend>"Members"</legend>
                {member_list}
            </fieldset>
            {move || error.get().map(|message| view! { <ErrorAlert message/> })}
            <div class="form-actions">
                {on_cancel.map(|cancel| view! {
                    <button type="button" class="btn btn-ghost" data-testid="team-cancel" on:click=move |_| cancel.run(())>
                        "Cancel"
                    </button>
                })}
                <button
                    type="submit"
                    class="btn btn-primary"
                    data-testid="team-save"
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().to_string()
                >
                    {move || if busy.get() { busy_label } else { save_label }}
                </button>
            </div>
        </form>
    }
}

/// One team: what it is and who is in it; for managers, Edit and Delete.
#[component]
fn TeamCard(team: Team, people: Vec<User>, can_manage: bool, changed: Callback<()>) -> impl IntoView {
    let id = team.id;
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let title_id = format!("team-{id}-title");
    let labelled_by = title_id.clone();
    let team_name = team.name.clone();

    let on_delete = {
        let team_name = team_name.clone();
        Callback::new(move |()| {
            deleting.set(true);
            let toasts = Toasts::get();
            let team_name = team_name.clone();
            leptos::task::spawn_local(async move {
                match delete_team(id).await {
                    Ok(()) => {
                        if let Some(toasts) = toasts {
                            toasts.info(format!("Deleted {team_name}."));
                        }
                        changed.run(());
                    }
                    Err(error) => toast_error(&error),
                }
                let _ = deleting.try_set(false);
                let _ = confirming.try_set(false);
            });
        })
    };

    let timer = match team.ownership_timeout_secs {
        Some(secs) => format!("{} min", minutes_text(secs)),
        None => "Off".to_string(),
    };
    let away = if team.release_on_away {
        "Their conversations go back to routing"
    } else {
        "They keep their conversations"
    };
    let fallback = (team.strategy == RoutingStrategy::SkillBased)
        .then(|| format!("After {} s, the whole team", team.skill_fallback_secs));
    let members = if team.members.is_empty() {
        view! { <p class="muted team-no-members">"No members yet."</p> }.into_any()
    } else {
        view! {
            <ul class="team-members" aria-label="Members">
                {team
                    .members
                    .iter()
                    .map(|m| view! {
                        <li class="team-member-chip" data-user-id=m.user_id.to_string()>
                            <Avatar name=m.name.clone()/>
                            <span>{m.name.clone()}</span>
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let actions = can_manage.then(|| {
        view! {
            <div class="team-card-actions">
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid="team-edit"
                    aria-expanded=move || editing.get().to_string()
                    aria-label=format!("Edit {team_name}")
                    on:click=move |_| editing.update(|e| *e = !*e)
                >
                    {move || if editing.get() { "Close" } else { "Edit" }}
                </button>
                <ConfirmAction
                    label="Delete"
                    busy_label="Deleting…"
                    question="Delete this team? Its channels stop routing to it."
                    aria_label=format!("Delete {}", team.name)
                    open_testid="team-delete"
                    confirm_testid="team-delete-confirm"
                    confirming
                    busy=deleting
                    on_confirm=on_delete
                />
            </div>
        }
    });
    let form = {
        let team = team.clone();
        move || {
            editing.get().then(|| {
                let on_saved = Callback::new(move |_: Team| {
                    editing.set(false);
                    changed.run(());
                });
                let on_cancel = Some(Callback::new(move |()| editing.set(false)));
                view! {
                    <div class="team-edit">
                        <TeamForm team=Some(team.clone()) people=people.clone() on_saved on_cancel/>
                    </div>
                }
            })
        }
    };

    view! {
        <section class="card team-card" data-testid="team-card" data-team-id=id.to_string() aria-labelledby=labelled_by>
            <div class="card-head">
                <div>
                    <h2 id=title_id class="team-card-name">{team.name.clone()}</h2>
                    <p class="muted">
                        <span class="badge" data-strategy=team.strategy.as_str()>{team.strategy.label()}</span>
                        " · up to " {team.capacity} " open conversations per agent"
                    </p>
                </div>
                {actions}
            </div>
            <p class="muted team-card-hint">{strategy_hint(team.strategy)}</p>
            <dl class="team-facts">
                <div>
                    <dt>"Reply timer"</dt>
                    <dd>{timer}</dd>
                </div>
                <div>
                    <dt>"When an agent goes away"</dt>
                    <dd>{away}</dd>
                </div>
                {fallback.map(|text| view! {
                    <div>
                        <dt>"Skill fallback"</dt>
                        <dd>{text}</dd>
                    </div>
                })}
            </dl>
            {members}
            {form}
        </section>
    }
}

/// Every agent's routing profile, saved row by row.
#[component]
fn AgentsCard(profiles: Vec<AgentProfile>, teams: Vec<(Id, String)>) -> impl IntoView {
    let body = if profiles.is_empty() {
        view! { <EmptyState title="Nobody to route to yet" hint="Add people in Settings → Team."/> }.into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="agents-table">
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Own capacity"</th>
                            <th scope="col">"Skills"</th>
                            <th scope="col">"Senior"</th>
                            <th scope="col">"Teams"</th>
                            <th scope="col"><span class="sr-only">"Save"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        {profiles
                            .into_iter()
                            .map(|profile| {
                                let names: Vec<String> = profile
                                    .team_ids
                                    .iter()
                                    .filter_map(|id| teams.iter().find(|(t, _)| t == id).map(|(_, n)| n.clone()))
                                    .collect();
                                view! { <AgentRow profile team_names=names/> }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="agents-card" aria-labelledby="agents-title">
            <div class="card-head">
                <div>
                    <h2 id="agents-title">"Agents"</h2>
                    <p class="muted">
                        "How many conversations each person holds at once (empty: each team's number), their skills for skill-based routing, and whether they are senior (urgent and high-priority conversations go to seniors first)."
                    </p>
                </div>
            </div>
            {body}
        </section>
    }
}

#[component]
fn AgentRow(profile: AgentProfile, team_names: Vec<String>) -> impl IntoView {
    let uid = profile.user_id;
    let name = profile.name.clone();
    let capacity = RwSignal::new(profile.capacity.map(|c| c.to_string()).unwrap_or_default());
    let skills = RwSignal::new(profile.skills.join(", "));
    let senior = RwSignal::new(profile.senior);
    let busy = RwSignal::new(false);

    let save = move |_| {
        if busy.get_untracked() {
            return;
        }
        let toasts = Toasts::get();
        let update = match agent_update(
            &capacity.get_untracked(),
            &skills.get_untracked(),
            senior.get_untracked(),
        ) {
            Ok(update) => update,
            Err(message) => {
                if let Some(toasts) = toasts {
                    toasts.error(message);
                }
                return;
            }
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match save_agent_profile(uid, update).await {
                Ok(saved) => {
                    let _ = capacity.try_set(saved.capacity.map(|c| c.to_string()).unwrap_or_default());
                    let _ = skills.try_set(saved.skills.join(", "));
                    let _ = senior.try_set(saved.senior);
                    if let Some(toasts) = toasts {
                        toasts.info(format!("Saved {}'s routing.", saved.name));
                    }
                }
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };

    let teams = if team_names.is_empty() {
        view! { <span class="muted">"No team"</span> }.into_any()
    } else {
        team_names.join(", ").into_any()
    };
    view! {
        <tr data-testid=format!("agent-row-{uid}")>
            <th scope="row" class="agent-name">
                <Avatar name=name.clone()/>
                <span>{name.clone()}</span>
            </th>
            <td>{role_label(profile.role)}</td>
            <td>
                <input
                    type="number"
                    class="agent-capacity"
                    inputmode="numeric"
                    min="0"
                    max="1000"
                    step="1"
                    placeholder="Team's"
                    aria-label=format!("Own capacity of {name} (empty: each team's)")
                    data-testid=format!("agent-capacity-{uid}")
                    value=capacity.get_untracked()
                    prop:value=move || capacity.get()
                    on:input=move |ev| capacity.set(event_target_value(&ev))
                />
            </td>
            <td>
                <input
                    type="text"
                    class="agent-skills"
                    placeholder="e.g. french, billing"
                    autocomplete="off"
                    aria-label=format!("Skills of {name}, separated by commas")
                    data-testid=format!("agent-skills-{uid}")
                    value=skills.get_untracked()
                    prop:value=move || skills.get()
                    on:input=move |ev| skills.set(event_target_value(&ev))
                />
            </td>
            <td>
                <input
                    type="checkbox"
                    aria-label=format!("{name} is senior")
                    data-testid=format!("agent-senior-{uid}")
                    checked=senior.get_untracked()
                    prop:checked=move || senior.get()
                    on:change=move |ev| senior.set(event_target_checked(&ev))
                />
            </td>
            <td class="agent-teams">{teams}</td>
            <td>
                <button
                    type="button"
                    class="btn btn-sm"
                    data-testid=format!("agent-save-{uid}")
                    aria-label=format!("Save {name}'s routing")
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().to_string()
                    on:click=save
                >
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
            </td>
        </tr>
    }
}

/// Where each live channel's new conversations go.
#[component]
fn RoutingCard(channels: Vec<(Channel, ChannelRouting)>, teams: Vec<(Id, String)>) -> impl IntoView {
    let body = if channels.is_empty() {
        view! {
            <EmptyState title="No connected channels" hint="Connect a channel, then choose which team answers it.">
                <a class="btn" href="/settings/channels">"Go to Channels"</a>
            </EmptyState>
        }
        .into_any()
    } else {
        view! {
            <ul class="routing-list">
                {channels
                    .into_iter()
                    .map(|(channel, routing)| view! { <RoutingRow channel routing teams=teams.clone()/> })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <section class="card" data-testid="channel-routing-card" aria-labelledby="channel-routing-title">
            <div class="card-head">
                <div>
                    <h2 id="channel-routing-title">"Channel routing"</h2>
                    <p class="muted">
                        "Which team a channel's new conversations go to, and the skills they need. Without a team, agents claim them from the inbox."
                    </p>
                </div>
            </div>
            {body}
        </section>
    }
}

#[component]
fn RoutingRow(channel: Channel, routing: ChannelRouting, teams: Vec<(Id, String)>) -> impl IntoView {
    let cid = channel.id;
    let known = routing.team_id.filter(|t| teams.iter().any(|(id, _)| id == t));
    let team = RwSignal::new(known);
    let skills = RwSignal::new(routing.required_skills.join(", "));
    let busy = RwSignal::new(false);
    let select_id = format!("channel-routing-{cid}-team");
    let skills_id = format!("channel-routing-{cid}-skills");
    let channel_name = channel.name.clone();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        let toasts = Toasts::get();
        let routing = ChannelRouting {
            team_id: team.get_untracked(),
            required_skills: split_skills(&skills.get_untracked()),
        };
        let channel_name = channel_name.clone();
        leptos::task::spawn_local(async move {
            match save_channel_routing(cid, routing).await {
                Ok(saved) => {
                    let _ = skills.try_set(saved.required_skills.join(", "));
                    if let Some(toasts) = toasts {
                        toasts.info(format!("Saved where {channel_name} sends its conversations."));
                    }
                }
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };

    view! {
        <li class="routing-row" data-channel-id=cid.to_string()>
            <form class="routing-form" on:submit=submit aria-label=format!("Routing of {}", channel.name)>
                <div class="routing-channel">
                    <ChannelIcon kind=channel.kind/>
                    <span class="routing-channel-name">{channel.name.clone()}</span>
                </div>
                <div class="field">
                    <label for=select_id.clone()>"Team"</label>
                    <select
                        id=select_id
                        data-testid=format!("channel-routing-{cid}")
                        on:change=move |ev| team.set(event_target_value(&ev).parse::<Id>().ok())
                    >
                        <option value="" selected=move || team.get().is_none()>"No team — agents claim"</option>
                        {teams
                            .into_iter()
                            .map(|(id, name)| view! {
                                <option value=id.to_string() selected=move || team.get() == Some(id)>{name}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for=skills_id.clone()>"Required skills"</label>
                    <input
                        id=skills_id
                        type="text"
                        autocomplete="off"
                        placeholder="e.g. french, billing"
                        data-testid=format!("channel-skills-{cid}")
                        value=skills.get_untracked()
                        prop:value=move || skills.get()
                        on:input=move |ev| skills.set(event_target_value(&ev))
                    />
                </div>
                <button
                    type="submit"
                    class="btn"
                    data-testid=format!("channel-routing-save-{cid}")
                    disabled=move || busy.get()
                    aria-busy=move || busy.get().to_string()
                >
                    {move || if busy.get() { "Saving…" } else { "Save" }}
                </button>
            </form>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_timer_in_minutes() {
        assert_eq!(parse_timer(""), Ok(None));
        assert_eq!(parse_timer("  "), Ok(None));
        assert_eq!(parse_timer("15"), Ok(Some(900)));
        assert_eq!(parse_timer("1.5"), Ok(Some(90)));
        assert_eq!(parse_timer("1,5"), Ok(Some(90)));
        assert!(parse_timer("soon").is_err());
        assert_eq!(minutes_text(900), "15");
        assert_eq!(minutes_text(90), "1.5");
        assert_eq!(minutes_text(10), "0.17");
    }

    #[test]
    fn fields_become_a_draft() {
        let mut fields = TeamFields::of(None);
        fields.name = "  Support ".into();
        fields.timer = "2".into();
        fields.members = vec![3, 1];
        let draft = fields.draft();
        assert_eq!(
            draft,
            Ok(TeamDraft {
                name: "Support".into(),
                strategy: RoutingStrategy::RoundRobin,
                capacity: DEFAULT_CAPACITY,
                skill_fallback_secs: 120,
                ownership_timeout_secs: Some(120),
                release_on_away: true,
                members: Some(vec![3, 1]),
            })
        );
        fields.capacity = "".into();
        assert_eq!(fields.draft(), Err("the capacity is a whole number".to_string()));
    }

    #[test]
    fn agent_rows_become_updates() {
        assert_eq!(
            agent_update("", " French, billing ,, ", true),
            Ok(AgentProfileUpdate {
                capacity: None,
                skills: vec!["French".into(), "billing".into()],
                senior: true,
            })
        );
        assert_eq!(agent_update("4", "", false).map(|u| u.capacity), Ok(Some(4)));
        assert!(agent_update("four", "", false).is_err());
    }

    fn team() -> Team {
        Team {
            id: 5,
            name: "Support".into(),
            strategy: RoutingStrategy::SkillBased,
            capacity: 30,
            skill_fallback_secs: 90,
            ownership_timeout_secs: Some(900),
            release_on_away: true,
            members: vec![crate::team::TeamMember {
                user_id: 2,
                name: "Ana Souza".into(),
            }],
            created_at: 0,
        }
    }

    fn person(id: Id, name: &str, role: crate::model::Role) -> User {
        User {
            id,
            organization_id: 1,
            name: name.into(),
            email: format!("{id}@example.com"),
            role,
        }
    }

    #[test]
    fn managers_see_the_forms_and_the_routing() {
        Owner::new().with(managers_view);
    }

    fn managers_view() {
        use crate::model::{ChannelKind, Role};
        let manage = ManageData {
            people: vec![
                person(1, "Olga Owner", Role::Owner),
                person(2, "Ana Souza", Role::Agent),
            ],
            profiles: vec![AgentProfile {
                user_id: 2,
                name: "Ana Souza".into(),
                role: Role::Agent,
                capacity: None,
                skills: vec!["french".into()],
                senior: true,
                team_ids: vec![5],
            }],
            channels: vec![(
                Channel {
                    id: 9,
                    kind: ChannelKind::Demo,
                    external_id: "demo".into(),
                    name: "Demo shop".into(),
                    status: ChannelStatus::Active,
                    last_error: None,
                    parent_account_id: None,
                    created_at: 0,
                },
                ChannelRouting {
                    team_id: Some(5),
                    required_skills: vec!["french".into()],
                },
            )],
        };
        let changed = Callback::new(|()| {});
        let html = view! { <TeamsBody teams=vec![team()] manage=Some(manage) changed/> }.to_html();
        for needle in [
            r#"data-testid="new-team""#,
            r#"data-testid="team-name-input""#,
            r#"data-testid="team-strategy""#,
            r#"data-testid="team-capacity""#,
            r#"data-testid="team-save""#,
            r#"data-testid="team-member-1""#,
            r#"data-testid="team-member-2""#,
            r#"data-testid="team-card""#,
            r#"data-testid="team-edit""#,
            r#"data-testid="team-delete""#,
            r#"data-testid="agent-save-2""#,
            r#"data-testid="channel-routing-9""#,
            r#"data-testid="channel-routing-save-9""#,
            "No team — agents claim",
            "Skill-based",
            "15 min",
            "After 90 s, the whole team",
        ] {
            assert!(html.contains(needle), "no {needle} in {html}");
        }
        // The channel's team is the one selected.
        assert!(html.contains(r#"<option value="5" selected"#), "{html}");
    }

    #[test]
    fn agents_see_the_teams_only() {
        Owner::new().with(agents_view);
    }

    fn agents_view() {
        let changed = Callback::new(|()| {});
        let html = view! { <TeamsBody teams=vec![team()] manage=None changed/> }.to_html();
        assert!(html.contains(r#"data-testid="team-card""#), "{html}");
        assert!(html.contains("Ana Souza"), "{html}");
        for absent in [
            "new-team",
            "team-edit",
            "team-delete",
            "agents-card",
            "channel-routing-card",
        ] {
            assert!(
                !html.contains(&format!(r#"data-testid="{absent}""#)),
                "{absent} in {html}"
            );
        }
        let html = view! { <TeamsBody teams=Vec::new() manage=None changed/> }.to_html();
        assert!(
            html.contains("No teams yet — create one to route conversations automatically"),
            "{html}"
        );
    }
}
