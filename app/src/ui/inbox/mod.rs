//! The inbox: conversation list | thread | contact, one reactive page.
//!
//! Filters live in the URL query (`?view=mine&status=new&channel=3`) so the server renders
//! them and every row is a plain link. The list is loaded through a resource (server
//! rendered), copied into a signal, and from then on kept current by live events.

pub mod composer;
pub mod contact;
pub mod list;
pub mod live;
pub mod team;
pub mod thread;
pub mod upload;

use crate::auth::list_team;
use crate::channels::list_channels;
use crate::error::AppError;
use crate::model::{
    Channel, Contact, Conversation, ConversationFilter, ConversationStatus, Id, InboxView, Priority, User,
};
use crate::ui::components::EmptyState;
use crate::ui::{Shell, my_id};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Outlet;
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::params::ParamsMap;

/// The rows of the list currently shown (one set per loaded filter).
#[derive(Clone, Copy)]
pub struct ListState {
    /// Newest activity first.
    pub items: RwSignal<Vec<Conversation>>,
    /// Keyset cursor of the next page, if any.
    pub next_cursor: RwSignal<Option<String>>,
}

/// Shared state of the inbox page.
#[derive(Clone, Copy)]
pub struct InboxCtx {
    /// The list's rows. Each load of the list creates fresh signals and registers them
    /// here (a plain stored value, so registering never re-runs any view).
    pub list: StoredValue<Option<ListState>>,
    pub filter: Memo<ConversationFilter>,
    /// The open conversation (from the path).
    pub selected: Memo<Option<Id>>,
    pub channels: Resource<Result<Vec<Channel>, AppError>>,
    pub team: Resource<Result<Vec<User>, AppError>>,
    /// Conversations ticked in the list for a bulk action.
    pub picked: RwSignal<Vec<Id>>,
}

impl InboxCtx {
    /// Puts a conversation in its place in the list, or takes it out if it no longer matches
    /// the filters. Rows older than the loaded page are left for "Load more".
    pub fn upsert(self, conversation: Conversation) {
        let filter = self.filter.get_untracked();
        let keep = matches_filter(&conversation, &filter, my_id());
        let Some(list) = self.list.try_get_value().flatten() else {
            return;
        };
        let has_more = list.next_cursor.try_with_untracked(Option::is_some).unwrap_or(false);
        let _ = list
            .items
            .try_update(|items| upsert_conversation(items, conversation, keep, has_more));
    }

    /// A customer's name or picture changed: every row of theirs shows the new one.
    pub fn patch_contact(self, contact: &Contact) {
        let Some(list) = self.list.try_get_value().flatten() else {
            return;
        };
        let _ = list.items.try_update(|items| {
            for c in items.iter_mut().filter(|c| c.contact_id == contact.id) {
                c.contact_name = contact.name.clone();
                c.contact_avatar_url = contact.avatar_url.clone();
            }
        });
    }

    /// The ids of the rows shown, in order.
    pub fn row_ids(self) -> Vec<Id> {
        self.list
            .try_get_value()
            .flatten()
            .and_then(|list| {
                list.items
                    .try_with_untracked(|items| items.iter().map(|c| c.id).collect())
            })
            .unwrap_or_default()
    }

    /// Applies a change to a conversation already in the list.
    pub fn patch(self, id: Id, f: impl FnOnce(&mut Conversation)) {
        let Some(list) = self.list.try_get_value().flatten() else {
            return;
        };
        let _ = list.items.try_update(|items| {
            if let Some(c) = items.iter_mut().find(|c| c.id == id) {
                f(c);
            }
        });
    }

    /// The query string (with `?`) that keeps the current filters on a link.
    pub fn query_string(self) -> String {
        self.filter.with(query_string)
    }
}

pub fn filter_from_query(query: &ParamsMap) -> ConversationFilter {
    let non_empty = |key: &str| query.get(key).filter(|v| !v.is_empty());
    ConversationFilter {
        view: non_empty("view")
            .and_then(|v| v.parse::<InboxView>().ok())
            .filter(|v| *v != InboxView::All),
        status: non_empty("status").and_then(|v| v.parse::<ConversationStatus>().ok()),
        channel: non_empty("channel").and_then(|v| v.parse::<Id>().ok()),
        team: non_empty("team").and_then(|v| v.parse::<Id>().ok()),
        assignee: non_empty("assignee").and_then(|v| v.parse::<Id>().ok()),
        priority: non_empty("priority").and_then(|v| v.parse::<Priority>().ok()),
        // a "Load more" link followed without JavaScript
        before: non_empty("before"),
        limit: None,
    }
}

/// `?view=mine&status=new&channel=3` (empty when no filter is set).
pub fn query_string(filter: &ConversationFilter) -> String {
    let mut parts = Vec::new();
    if let Some(view) = filter.view.filter(|v| *v != InboxView::All) {
        parts.push(format!("view={view}"));
    }
    if let Some(status) = filter.status {
        parts.push(format!("status={status}"));
    }
    if let Some(channel) = filter.channel {
        parts.push(format!("channel={channel}"));
    }
    if let Some(team) = filter.team {
        parts.push(format!("team={team}"));
    }
    if let Some(assignee) = filter.assignee {
        parts.push(format!("assignee={assignee}"));
    }
    if let Some(priority) = filter.priority {
        parts.push(format!("priority={priority}"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

pub fn matches_filter(c: &Conversation, filter: &ConversationFilter, me: Id) -> bool {
    let view_ok = match filter.view.unwrap_or(InboxView::All) {
        InboxView::All => true,
        InboxView::Mine => c.assignee_id == Some(me),
        InboxView::Unassigned => c.assignee_id.is_none(),
    };
    view_ok
        && filter.status.is_none_or(|s| s == c.status)
        && filter.channel.is_none_or(|ch| ch == c.channel_id)
        && filter.team.is_none_or(|t| Some(t) == c.team_id)
        && filter.assignee.is_none_or(|a| Some(a) == c.assignee_id)
        && filter.priority.is_none_or(|p| p == c.priority)
}

fn activity_key(c: &Conversation) -> (i64, Id) {
    (c.last_message_at, c.id)
}

pub fn upsert_conversation(list: &mut Vec<Conversation>, conversation: Conversation, keep: bool, has_more: bool) {
    list.retain(|c| c.id != conversation.id);
    if !keep {
        return;
    }
    let key = activity_key(&conversation);
    if has_more && list.last().is_some_and(|last| key < activity_key(last)) {
        return;
    }
    let at = list.iter().position(|c| activity_key(c) < key).unwrap_or(list.len());
    list.insert(at, conversation);
}

/// Waits until the frame knows where the event log stands, so page data is always read
/// after it (an event in between is then replayed, never lost).
pub async fn ready(shell: Option<Shell>) {
    if let Some(shell) = shell {
        let _ = shell.session_async().await;
    }
}

/// `/inbox` and `/inbox/:id`: the list next to whatever the child route shows.
#[component]
pub fn InboxLayout() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(filter_from_query));
    let location = use_location();
    let selected = Memo::new(move |_| {
        location.pathname.with(|p| {
            p.strip_prefix("/inbox/")
                .and_then(|rest| rest.trim_end_matches('/').parse::<Id>().ok())
        })
    });
    let ctx = InboxCtx {
        list: StoredValue::new(None),
        filter,
        selected,
        channels: Resource::new(|| (), |_| list_channels()),
        team: Resource::new(|| (), |_| list_team()),
        picked: RwSignal::new(Vec::new()),
    };
    provide_context(ctx);
    team::TeamLive::provide();

    keyboard_shortcuts(ctx);

    view! {
        <Title text="Inbox · Messio"/>
        <div class="inbox" class:has-selection=move || selected.get().is_some()>
            <list::ConversationList/>
            <Outlet/>
        </div>
    }
}

/// `j` / `k`: next / previous conversation; `r`: focus the reply box; `Escape` in the reply
/// box: leave it.
fn keyboard_shortcuts(ctx: InboxCtx) {
    #[cfg(feature = "hydrate")]
    {
        use leptos_router::hooks::use_navigate;
        use wasm_bindgen::JsCast;
        let navigate = use_navigate();
        let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
            if ev.default_prevented() || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                        || el.has_attribute("contenteditable")
                });
            if typing {
                return;
            }
            match ev.key().as_str() {
                "j" | "k" => {
                    let step: isize = if ev.key() == "j" { 1 } else { -1 };
                    let ids = ctx.row_ids();
                    let current = ctx
                        .selected
                        .get_untracked()
                        .and_then(|id| ids.iter().position(|c| *c == id));
                    let index = match current {
                        Some(i) => i as isize + step,
                        None => 0,
                    };
                    let target = usize::try_from(index).ok().and_then(|i| ids.get(i).copied());
                    if let Some(id) = target {
                        ev.prevent_default();
                        navigate(
                            &format!("/inbox/{id}{}", ctx.filter.with_untracked(query_string)),
                            Default::default(),
                        );
                    }
                }
                "r" => {
                    if let Some(input) = document()
                        .get_element_by_id("composer-input")
                        .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
                    {
                        ev.prevent_default();
                        let _ = input.focus();
                    }
                }
                _ => {}
            }
        });
        let handle = StoredValue::new_local(Some(handle));
        on_cleanup(move || {
            if let Some(Some(h)) = handle.try_update_value(Option::take) {
                h.remove();
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ctx;
}

/// `/inbox` with nothing open.
#[component]
pub fn NoConversation() -> impl IntoView {
    view! {
        <section class="thread-pane thread-empty" aria-label="Conversation">
            <EmptyState title="Pick a conversation" hint="Choose a conversation on the left to read and reply.">
                <p class="kbd-hint">
                    <kbd>"j"</kbd>" / "<kbd>"k"</kbd>" to move between conversations, "<kbd>"r"</kbd>" to reply"
                </p>
            </EmptyState>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ChannelKind;

    fn conv(id: Id, at: i64) -> Conversation {
        Conversation {
            id,
            contact_id: id,
            contact_name: format!("C{id}"),
            contact_avatar_url: None,
            channel_id: 1,
            channel_kind: ChannelKind::Demo,
            channel_name: "Demo".into(),
            status: ConversationStatus::New,
            assignee_id: None,
            assignee_name: None,
            unread_count: 0,
            last_message_preview: None,
            last_message_at: at,
            last_inbound_at: Some(at),
            created_at: at,
            team_id: None,
            team_name: None,
            priority: Default::default(),
            required_skills: Vec::new(),
            queued_at: None,
            reply_due_at: None,
        }
    }

    #[test]
    fn upsert_keeps_newest_first() {
        let mut list = vec![conv(1, 30), conv(2, 20), conv(3, 10)];
        upsert_conversation(&mut list, conv(3, 40), true, false);
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [3, 1, 2]);
        upsert_conversation(&mut list, conv(4, 25), true, false);
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [3, 1, 4, 2]);
        upsert_conversation(&mut list, conv(1, 30), false, false);
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), [3, 4, 2]);
        // older than the loaded page: left to "Load more"
        upsert_conversation(&mut list, conv(9, 1), true, true);
        assert_eq!(list.len(), 3);
        upsert_conversation(&mut list, conv(9, 1), true, false);
        assert_eq!(list.last().map(|c| c.id), Some(9));
    }

    #[test]
    fn filters_round_trip_through_the_query() {
        let mut q = ParamsMap::new();
        q.insert("view", "mine".to_string());
        q.insert("status", "new".to_string());
        q.insert("channel", "3".to_string());
        let f = filter_from_query(&q);
        assert_eq!(f.view, Some(InboxView::Mine));
        assert_eq!(f.status, Some(ConversationStatus::New));
        assert_eq!(f.channel, Some(3));
        assert_eq!(query_string(&f), "?view=mine&status=new&channel=3");
        assert_eq!(query_string(&ConversationFilter::default()), "");
        let mut q = ParamsMap::new();
        q.insert("view", "all".to_string());
        q.insert("status", "".to_string());
        assert_eq!(filter_from_query(&q), ConversationFilter::default());
    }

    #[test]
    fn filter_matching() {
        let mut c = conv(1, 1);
        let me = 7;
        let mine = ConversationFilter {
            view: Some(InboxView::Mine),
            ..Default::default()
        };
        assert!(!matches_filter(&c, &mine, me));
        c.assignee_id = Some(me);
        assert!(matches_filter(&c, &mine, me));
        let unassigned = ConversationFilter {
            view: Some(InboxView::Unassigned),
            ..Default::default()
        };
        assert!(!matches_filter(&c, &unassigned, me));
        let resolved = ConversationFilter {
            status: Some(ConversationStatus::Resolved),
            ..Default::default()
        };
        assert!(!matches_filter(&c, &resolved, me));
        let other_channel = ConversationFilter {
            channel: Some(2),
            ..Default::default()
        };
        assert!(!matches_filter(&c, &other_channel, me));
    }
}
