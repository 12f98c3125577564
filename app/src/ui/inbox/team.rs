//! The team inbox inside the inbox page: who else is viewing a conversation and who is
//! typing (from the socket's ephemeral `conversation:viewers` and `typing:indicator`), the
//! agent's own status, the team / priority / assignee filters, and the `@` autocomplete of
//! notes. The header's claim / transfer / priority controls (`TeamControls`) and the list's
//! bulk assignment bar (`BulkBar`) live here too.

use super::InboxCtx;
use super::live::{Live, on_live_event};
use super::thread::ThreadState;
use crate::model::{AgentStatus, Conversation, Id, Millis, Priority, User, events};
use crate::team::{
    BulkAssignRequest, RoutingUpdate, Team, TransferRequest, bulk_assign_conversations, claim_conversation, list_teams,
    queue_position, set_conversation_routing, set_my_status, transfer_conversation,
};
use crate::ui::components::{Avatar, Clock, toast_error};
use crate::ui::my_id;
use leptos::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

/// Someone typing in a conversation, and what (a reply or a note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typist {
    pub user_id: Id,
    pub name: String,
    pub note: bool,
}

/// What the socket says about the team right now; provided by the inbox layout.
#[derive(Clone, Copy)]
pub struct TeamLive {
    /// conversation → who views it
    pub viewers: RwSignal<HashMap<Id, Vec<Id>>>,
    /// conversation → who types in it
    pub typing: RwSignal<HashMap<Id, Vec<Typist>>>,
    pub statuses: RwSignal<HashMap<Id, AgentStatus>>,
    /// The organization's teams, for filters, transfers and mentions.
    pub teams: Resource<Vec<Team>>,
}

fn ids_of(list: &Value) -> Vec<Id> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.get("userId").and_then(Value::as_i64))
                .collect()
        })
        .unwrap_or_default()
}

impl TeamLive {
    pub fn provide() -> TeamLive {
        let live = TeamLive {
            viewers: RwSignal::new(HashMap::new()),
            typing: RwSignal::new(HashMap::new()),
            statuses: RwSignal::new(HashMap::new()),
            teams: Resource::new(|| (), |_| async { list_teams().await.unwrap_or_default() }),
        };
        provide_context(live);
        on_live_event(move |event| {
            let payload = &event.payload;
            match event.name.as_str() {
                events::CONVERSATION_VIEWERS => {
                    if let Some(id) = event.conversation_id {
                        let viewers = ids_of(&payload["viewers"]);
                        let _ = live.viewers.try_update(|map| {
                            map.insert(id, viewers);
                        });
                    }
                }
                events::TYPING_INDICATOR => {
                    let (Some(id), Some(user_id)) = (event.conversation_id, payload["userId"].as_i64()) else {
                        return;
                    };
                    let typing = payload["isTyping"].as_bool().unwrap_or(false);
                    let typist = Typist {
                        user_id,
                        name: payload["userName"].as_str().unwrap_or("Someone").to_string(),
                        note: payload["kind"].as_str() == Some("note"),
                    };
                    let _ = live.typing.try_update(|map| {
                        let list = map.entry(id).or_default();
                        list.retain(|t| t.user_id != user_id);
                        if typing {
                            list.push(typist);
                        }
                    });
                }
                events::PRESENCE_UPDATE => {
                    let status = payload["status"].as_str().and_then(|s| s.parse::<AgentStatus>().ok());
                    if let (Some(user_id), Some(status)) = (payload["userId"].as_i64(), status) {
                        let _ = live.statuses.try_update(|map| {
                            map.insert(user_id, status);
                        });
                    }
                }
                events::CONVERSATION_ASSIGNED => {
                    // Whoever took it, the list's "waiting" badges follow the conversation itself.
                }
                _ => {}
            }
        });
        live
    }

    pub fn get() -> Option<TeamLive> {
        use_context::<TeamLive>()
    }
}

/// The people of the organization by id (from the inbox's member list).
fn member_names() -> HashMap<Id, String> {
    use_context::<InboxCtx>()
        .and_then(|ctx| ctx.team.get())
        .and_then(Result::ok)
        .map(|members| members.into_iter().map(|m| (m.id, m.name)).collect())
        .unwrap_or_default()
}

/// Avatars of the others viewing a conversation; nothing when nobody else is.
#[component]
pub fn ViewerAvatars(conversation_id: Id, #[prop(optional)] compact: bool) -> impl IntoView {
    let live = TeamLive::get();
    let others = move || {
        let me = my_id();
        live.map(|l| {
            l.viewers
                .with(|map| map.get(&conversation_id).cloned().unwrap_or_default())
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|id| *id != me)
        .collect::<Vec<Id>>()
    };
    move || {
        let others = others();
        (!others.is_empty()).then(|| {
            let names = member_names();
            let label = others
                .iter()
                .map(|id| names.get(id).cloned().unwrap_or_else(|| "A teammate".into()))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <span class="viewers" class:viewers-compact=compact data-testid="viewers" title=format!("Also viewing: {label}") aria-label=format!("Also viewing: {label}")>
                    {others
                        .into_iter()
                        .map(|id| {
                            let name = names.get(&id).cloned().unwrap_or_else(|| "A teammate".into());
                            view! { <span class="viewer" data-testid="viewer" data-user-id=id.to_string()><Avatar name url=String::new()/></span> }
                        })
                        .collect_view()}
                </span>
            }
        })
    }
}

/// "Lea is typing a reply…" under the thread while a teammate types in it.
#[component]
pub fn TypingIndicator(conversation_id: Id) -> impl IntoView {
    let live = TeamLive::get();
    let text = move || {
        let me = my_id();
        let typists: Vec<Typist> = live
            .map(|l| {
                l.typing
                    .with(|map| map.get(&conversation_id).cloned().unwrap_or_default())
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.user_id != me)
            .collect();
        match typists.as_slice() {
            [] => None,
            [one] => Some(format!(
                "{} is typing {}…",
                one.name,
                if one.note { "a note" } else { "a reply" }
            )),
            [first, rest @ ..] => Some(format!("{} and {} more are typing…", first.name, rest.len())),
        }
    };
    view! {
        <p class="typing-indicator" role="status" aria-live="polite" data-testid="typing-indicator" class:typing-idle=move || text().is_none()>
            {move || text().unwrap_or_default()}
        </p>
    }
}

/// Tells the team while the agent types in a conversation: `typing:start` on the first key,
/// `typing:stop` after a few quiet seconds, on send, and when the view goes away.
#[derive(Clone, Copy)]
pub struct TypingSignal {
    conversation_id: Id,
    note: bool,
    active: StoredValue<bool>,
    generation: StoredValue<u64>,
}

/// Quiet time after which typing counts as stopped.
#[cfg(feature = "hydrate")]
const TYPING_IDLE_MS: u64 = 3000;

impl TypingSignal {
    pub fn new(conversation_id: Id, note: bool) -> TypingSignal {
        let signal = TypingSignal {
            conversation_id,
            note,
            active: StoredValue::new(false),
            generation: StoredValue::new(0),
        };
        on_cleanup(move || signal.stop());
        signal
    }

    fn payload(self) -> Value {
        serde_json::json!({
            "conversationId": self.conversation_id,
            "kind": if self.note { "note" } else { "reply" },
        })
    }

    /// A key was typed.
    pub fn input(self) {
        let Some(live) = Live::get() else {
            return;
        };
        if self.active.try_get_value() == Some(false) {
            self.active.try_set_value(true);
            live.emit(events::TYPING_START, self.payload());
        }
        let generation = self.generation.try_get_value().unwrap_or_default() + 1;
        self.generation.try_set_value(generation);
        #[cfg(feature = "hydrate")]
        set_timeout(
            move || {
                if self.generation.try_get_value() == Some(generation) {
                    self.stop();
                }
            },
            std::time::Duration::from_millis(TYPING_IDLE_MS),
        );
    }

    pub fn stop(self) {
        if self.active.try_get_value() == Some(true) {
            self.active.try_set_value(false);
            if let Some(live) = Live::get() {
                live.emit(events::TYPING_STOP, self.payload());
            }
        }
    }
}

/// The agent's own status: online, away, busy, offline.
#[component]
pub fn MyStatus() -> impl IntoView {
    let live = TeamLive::get();
    let current = move || {
        live.and_then(|l| l.statuses.with(|m| m.get(&my_id()).copied()))
            .unwrap_or(AgentStatus::Online)
    };
    let on_change = move |ev: leptos::ev::Event| {
        let Ok(status) = event_target_value(&ev).parse::<AgentStatus>() else {
            return;
        };
        leptos::task::spawn_local(async move {
            match set_my_status(status).await {
                Ok(entry) => {
                    if let Some(live) = live {
                        let _ = live.statuses.try_update(|m| {
                            m.insert(entry.user_id, entry.status);
                        });
                    }
                }
                Err(error) => toast_error(&error),
            }
        });
    };
    view! {
        <div class="my-status">
            <span class=move || format!("presence presence-{}", current().as_str()) aria-hidden="true"></span>
            <label for="my-status" class="sr-only">"Your status"</label>
            <select id="my-status" data-testid="my-status" on:change=on_change prop:value=move || current().as_str().to_string()>
                {AgentStatus::ALL
                    .iter()
                    .map(|s| view! { <option value=s.as_str() selected=move || current() == *s>{s.label()}</option> })
                    .collect_view()}
            </select>
        </div>
    }
}

/// Where a queued conversation stands ("3rd in Support's queue, waiting 4 min").
#[component]
fn QueueInfo(conversation: RwSignal<Conversation>) -> impl IntoView {
    let clock = Clock::get();
    // Asked from the browser only: the place changes by the second, the server's render
    // shows the wait without it.
    let position = LocalResource::new(move || {
        let (id, queued_at) = conversation.with(|c| (c.id, c.queued_at));
        async move {
            match queued_at {
                Some(_) => queue_position(id).await.ok().flatten(),
                None => None,
            }
        }
    });
    move || {
        let (team, queued_at) = conversation.with(|c| (c.team_name.clone(), c.queued_at));
        let (team, queued_at) = (team?, queued_at?);
        let waited = waited(clock.now() - queued_at);
        let place = position
            .get()
            .flatten()
            .map(|(p, _)| format!("{} in ", ordinal(p)))
            .unwrap_or_default();
        Some(view! {
            <span class="queue-info" data-testid="queue-info">{format!("Waiting · {place}{team}'s queue · {waited}")}</span>
        })
    }
}

pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// "20 s", "4 min", "2 h".
pub fn waited(ms: Millis) -> String {
    let secs = (ms / 1000).max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        _ => format!("{} h", secs / 3600),
    }
}

/// Claim (when nobody holds it), transfer with a reason, and priority, in the thread header.
#[component]
pub fn TeamControls(me: Signal<Id>) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let conversation = thread.conversation;
    let id = thread.id;
    let live = TeamLive::get();
    let busy = RwSignal::new(false);
    let transfer_open = RwSignal::new(false);
    let target = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let unassigned = move || conversation.with(|c| c.assignee_id.is_none());

    let claim = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match claim_conversation(id).await {
                Ok(updated) => thread.apply_conversation(updated),
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };
    let submit_transfer = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = target.get_untracked();
        let (to_user_id, to_team_id) = match value.split_once(':') {
            Some(("user", id)) => (id.parse().ok(), None),
            Some(("team", id)) => (None, id.parse().ok()),
            _ => return,
        };
        let request = TransferRequest {
            conversation_id: id,
            to_user_id,
            to_team_id,
            reason: reason.get_untracked(),
        };
        busy.set(true);
        leptos::task::spawn_local(async move {
            match transfer_conversation(request).await {
                Ok(updated) => {
                    thread.apply_conversation(updated);
                    let _ = transfer_open.try_set(false);
                    let _ = reason.try_set(String::new());
                }
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };
    let on_priority = move |ev: leptos::ev::Event| {
        let Ok(priority) = event_target_value(&ev).parse::<Priority>() else {
            return;
        };
        leptos::task::spawn_local(async move {
            let update = RoutingUpdate {
                priority: Some(priority),
                required_skills: None,
            };
            match set_conversation_routing(id, update).await {
                Ok(updated) => thread.apply_conversation(updated),
                Err(error) => toast_error(&error),
            }
        });
    };
    let members = move || {
        use_context::<InboxCtx>()
            .and_then(|ctx| ctx.team.get())
            .and_then(Result::ok)
            .unwrap_or_default()
    };
    let teams = move || live.and_then(|l| l.teams.get()).unwrap_or_default();
    let priority = move || conversation.with(|c| c.priority);

    view! {
        <QueueInfo conversation/>
        <ViewerAvatars conversation_id=id/>
        <div class="priority-picker">
            <label for="priority" class="sr-only">"Priority"</label>
            <select id="priority" data-testid="priority" class=move || format!("priority-select priority-{}", priority().as_str()) on:change=on_priority prop:value=move || priority().as_str().to_string()>
                {Priority::ALL
                    .iter()
                    .map(|p| view! { <option value=p.as_str() selected=move || priority() == *p>{p.label()}</option> })
                    .collect_view()}
            </select>
        </div>
        <Show when=unassigned>
            <button type="button" class="btn btn-sm btn-primary" data-testid="claim" disabled=move || busy.get() on:click=claim title="Take this conversation">
                "Claim"
            </button>
        </Show>
        <button
            type="button"
            class="btn btn-sm"
            data-testid="transfer"
            aria-expanded=move || transfer_open.get().to_string()
            aria-controls="transfer-form"
            on:click=move |_| transfer_open.update(|o| *o = !*o)
        >
            "Transfer"
        </button>
        <Show when=move || transfer_open.get()>
            <form id="transfer-form" class="transfer-form card" on:submit=submit_transfer data-testid="transfer-form">
                <label for="transfer-target">"Transfer to"</label>
                <select id="transfer-target" data-testid="transfer-target" required on:change=move |ev| target.set(event_target_value(&ev))>
                    <option value="">"Choose an agent or team"</option>
                    <optgroup label="Agents">
                        {move || members()
                            .into_iter()
                            .filter(|m: &User| m.id != me.get() && conversation.with(|c| c.assignee_id != Some(m.id)))
                            .map(|m| view! { <option value=format!("user:{}", m.id)>{m.name}</option> })
                            .collect_view()}
                    </optgroup>
                    <optgroup label="Teams">
                        {move || teams()
                            .into_iter()
                            .map(|t| view! { <option value=format!("team:{}", t.id)>{t.name}</option> })
                            .collect_view()}
                    </optgroup>
                </select>
                <label for="transfer-reason">"Reason (shown in the thread)"</label>
                <input id="transfer-reason" data-testid="transfer-reason" type="text" maxlength="500" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                <div class="transfer-actions">
                    <button type="button" class="btn btn-sm btn-ghost" on:click=move |_| transfer_open.set(false)>"Cancel"</button>
                    <button type="submit" class="btn btn-sm btn-primary" data-testid="transfer-submit" disabled=move || busy.get() || target.with(String::is_empty)>"Transfer"</button>
                </div>
            </form>
        </Show>
    }
}

/// Above the list while conversations are ticked: assign them all to one agent (or nobody).
#[component]
pub fn BulkBar() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let target = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let count = move || ctx.picked.with(Vec::len);
    let assign = move |_| {
        let conversation_ids = ctx.picked.get_untracked();
        let assignee_id = target.get_untracked().parse::<Id>().ok();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match bulk_assign_conversations(BulkAssignRequest {
                conversation_ids,
                assignee_id,
            })
            .await
            {
                Ok(result) => {
                    if let Some(toasts) = crate::ui::components::Toasts::get() {
                        let mut text = format!("{} assigned", result.updated.len());
                        if let Some(first) = result.skipped.first() {
                            text.push_str(&format!(
                                "; {} left as they were ({})",
                                result.skipped.len(),
                                first.reason
                            ));
                        }
                        toasts.info(text);
                    }
                    let _ = ctx.picked.try_set(Vec::new());
                }
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };
    let members = move || ctx.team.get().and_then(Result::ok).unwrap_or_default();
    let any_picked = move || ctx.picked.with(|p| !p.is_empty());
    view! {
        <Show when=any_picked>
            <div class="bulk-bar" role="region" aria-label="Selected conversations" data-testid="bulk-bar">
                <span class="bulk-count">{move || format!("{} selected", count())}</span>
                <label for="bulk-assignee" class="sr-only">"Assign the selected conversations to"</label>
                <select id="bulk-assignee" data-testid="bulk-assignee" on:change=move |ev| target.set(event_target_value(&ev))>
                    <option value="">"Nobody (unassign)"</option>
                    {move || members()
                        .into_iter()
                        .map(|m| view! { <option value=m.id.to_string()>{m.name}</option> })
                        .collect_view()}
                </select>
                <button type="button" class="btn btn-sm btn-primary" data-testid="bulk-assign" disabled=move || busy.get() on:click=assign>
                    "Assign"
                </button>
                <button type="button" class="btn btn-sm btn-ghost" on:click=move |_| ctx.picked.set(Vec::new())>"Clear"</button>
            </div>
        </Show>
    }
}

/// The `@` being typed at the end of a note: where it starts and what follows it.
pub fn trailing_mention(text: &str) -> Option<(usize, String)> {
    let at = text.rfind('@')?;
    let query = &text[at + 1..];
    let starts_word = text[..at].chars().next_back().is_none_or(char::is_whitespace);
    (starts_word && !query.contains(char::is_whitespace) && query.chars().count() <= 30)
        .then(|| (at, query.to_string()))
}

/// The people and teams whose name starts with `query` (any word of it), people first.
pub fn mention_candidates(query: &str, people: &[(Id, String)], teams: &[String], me: Id) -> Vec<String> {
    let query = query.to_lowercase();
    let matches = |name: &str| {
        name.to_lowercase()
            .split_whitespace()
            .any(|word| word.starts_with(&query))
    };
    let mut out: Vec<String> = people
        .iter()
        .filter(|(id, name)| *id != me && matches(name))
        .map(|(_, name)| name.clone())
        .collect();
    out.extend(teams.iter().filter(|name| matches(name)).cloned());
    out.truncate(6);
    out
}

/// Suggestions under the note box while an `@name` is being typed. `pick` puts the chosen
/// name in; arrow keys move the choice (handled by the note box, which owns the keys).
#[component]
pub fn MentionSuggestions(
    draft: RwSignal<String>,
    active: RwSignal<usize>,
    #[prop(into)] pick: Callback<String>,
) -> impl IntoView {
    let suggestions = mention_suggestions(draft);
    move || {
        let list = suggestions();
        (!list.is_empty()).then(|| {
            view! {
                <ul class="mention-suggestions" role="listbox" id="mention-suggestions" aria-label="Mention a teammate or team" data-testid="mention-suggestions">
                    {list
                        .into_iter()
                        .enumerate()
                        .map(|(index, name)| {
                            let chosen = name.clone();
                            view! {
                                <li
                                    role="option"
                                    class="mention-option"
                                    class:active=move || active.get() == index
                                    aria-selected=move || (active.get() == index).to_string()
                                    data-testid="mention-option"
                                    on:mousedown=move |ev: leptos::ev::MouseEvent| {
                                        ev.prevent_default();
                                        pick.run(chosen.clone());
                                    }
                                >
                                    "@"{name}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
        })
    }
}

/// The names to suggest for the note's trailing `@…`, as a reactive list.
pub fn mention_suggestions(draft: RwSignal<String>) -> impl Fn() -> Vec<String> + Copy + Send + Sync + 'static {
    let live = TeamLive::get();
    let ctx = use_context::<InboxCtx>();
    move || {
        let Some((_, query)) = draft.with(|d| trailing_mention(d)) else {
            return Vec::new();
        };
        let people: Vec<(Id, String)> = ctx
            .and_then(|c| c.team.get())
            .and_then(Result::ok)
            .map(|m| m.into_iter().map(|u| (u.id, u.name)).collect())
            .unwrap_or_default();
        let teams: Vec<String> = live
            .and_then(|l| l.teams.get())
            .unwrap_or_default()
            .into_iter()
            .map(|t| t.name)
            .collect();
        mention_candidates(&query, &people, &teams, my_id())
    }
}

/// The note with its trailing `@…` replaced by `@name `.
pub fn insert_mention(text: &str, name: &str) -> String {
    match trailing_mention(text) {
        Some((at, _)) => format!("{}@{name} ", &text[..at]),
        None => format!("{text}@{name} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_at_is_a_mention_being_typed() {
        assert_eq!(trailing_mention("ask @le"), Some((4, "le".into())));
        assert_eq!(trailing_mention("@"), Some((0, String::new())));
        assert_eq!(trailing_mention("mail me@acme"), None, "inside a word");
        assert_eq!(trailing_mention("ask @lea now"), None, "already finished");
        assert_eq!(insert_mention("ask @le", "Lea Martin"), "ask @Lea Martin ");
    }

    #[test]
    fn candidates_match_any_word_and_skip_oneself() {
        let people = vec![
            (1, "Lea Martin".to_string()),
            (2, "Ben Lee".to_string()),
            (3, "Ana".to_string()),
        ];
        let teams = vec!["Support".to_string(), "Leads".to_string()];
        assert_eq!(
            mention_candidates("le", &people, &teams, 3),
            vec!["Lea Martin", "Ben Lee", "Leads"]
        );
        assert_eq!(mention_candidates("le", &people, &teams, 1), vec!["Ben Lee", "Leads"]);
        assert_eq!(mention_candidates("su", &people, &teams, 1), vec!["Support"]);
    }

    #[test]
    fn waiting_times_and_places_read_naturally() {
        assert_eq!(waited(20_000), "20 s");
        assert_eq!(waited(4 * 60_000 + 5), "4 min");
        assert_eq!(waited(2 * 3_600_000), "2 h");
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22].map(ordinal),
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"]
        );
    }
}
