//! The conversation list: view tabs, status and channel filters, rows, "Load more".

use super::live::on_live_event;
use super::{InboxCtx, ListState, query_string};
use crate::error::AppError;
use crate::inbox::list_conversations;
use crate::model::{
    Channel, ChannelKind, Conversation, ConversationFilter, ConversationStatus, Id, InboxView, Page, Priority,
};
use crate::ui::components::{
    Avatar, ChannelIcon, EmptyState, ErrorState, RelTime, conversation_status_label, toast_error, use_hydrated,
};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};

/// Rows per page.
const PAGE_SIZE: i64 = 30;

/// Loads a page. The limit is always set: the URL-encoded server function call drops
/// `None` fields, and a filter with none set at all would not arrive.
async fn fetch_page(mut filter: ConversationFilter) -> Result<Page<Conversation>, AppError> {
    filter.limit.get_or_insert(PAGE_SIZE);
    list_conversations(filter).await
}

#[component]
pub fn ConversationList() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let shell = crate::ui::Shell::get();
    let page = Resource::new(
        move || ctx.filter.get(),
        move |filter| async move {
            super::ready(shell).await;
            fetch_page(filter).await
        },
    );
    let (pending, set_pending) = signal(false);

    view! {
        <section class="list-pane" aria-label="Conversations">
            <div class="list-head">
                <div class="list-title">
                    <h1>"Inbox"</h1>
                    {move || pending.get().then(|| view! { <span class="spinner spinner-sm" role="status" aria-label="Updating"></span> })}
                    <super::team::MyStatus/>
                </div>
                <ViewTabs/>
                <Filters/>
            </div>
            <super::team::BulkBar/>
            <Transition fallback=ListSkeleton set_pending>
                {move || Suspend::new(async move {
                    match page.await {
                        Ok(page) => view! { <ListBody page/> }.into_any(),
                        Err(error) => view! {
                            <div class="conv-scroll" data-testid="conversation-list"><ErrorState error/></div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Where a link with `filter` goes, keeping the open conversation open.
fn filtered_href(path: &str, filter: &ConversationFilter) -> String {
    format!("{path}{}", query_string(filter))
}

#[component]
fn ViewTabs() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let location = use_location();
    let tab = move |view: InboxView, label: &'static str| {
        let href = move || {
            let mut filter = ctx.filter.get();
            filter.view = Some(view);
            location.pathname.with(|path| filtered_href(path, &filter))
        };
        let active = move || ctx.filter.with(|f| f.view.unwrap_or(InboxView::All) == view);
        view! {
            <a
                href=href
                class="tab"
                class:active=active
                aria-current=move || active().then_some("page")
                data-view=view.as_str()
            >
                {label}
            </a>
        }
    };
    view! {
        <nav class="tabs" aria-label="Conversation views">
            {tab(InboxView::All, "All")}
            {tab(InboxView::Mine, "Mine")}
            {tab(InboxView::Unassigned, "Unassigned")}
        </nav>
    }
}

/// A change to the list's filter.
type FilterChange = Box<dyn FnOnce(&mut ConversationFilter)>;

/// Goes to the same page with the filter changed (keeping the open conversation).
fn refilter(ctx: InboxCtx) -> impl Fn(FilterChange) + Clone + 'static {
    let location = use_location();
    let navigate = use_navigate();
    move |update: FilterChange| {
        let mut filter = ctx.filter.get_untracked();
        update(&mut filter);
        let href = location.pathname.with_untracked(|path| filtered_href(path, &filter));
        navigate(
            &href,
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    }
}

/// A filter's `<select>` over named things ("All teams", then each team), by id.
fn id_select(
    id: &'static str,
    any: &'static str,
    value: impl Fn() -> String + Copy + Send + Sync + 'static,
    on_change: impl FnMut(leptos::ev::Event) + 'static,
    options: Vec<(Id, String)>,
) -> impl IntoView {
    let name = id.trim_start_matches("filter-");
    view! {
        <select id=id name=name data-testid=id on:change=on_change prop:value=value>
            <option value="" selected=move || value().is_empty()>{any}</option>
            {options
                .into_iter()
                .map(|(option, label)| {
                    let option = option.to_string();
                    let check = option.clone();
                    view! { <option value=option selected=move || value() == check>{label}</option> }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn Filters() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let location = use_location();
    let hydrated = use_hydrated();
    let go = refilter(ctx);
    let on_status = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            go(Box::new(move |f| f.status = value.parse::<ConversationStatus>().ok()));
        }
    };
    let on_channel = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        go(Box::new(move |f| f.channel = value.parse::<Id>().ok()));
    };
    let status_value = move || {
        ctx.filter
            .with(|f| f.status.map(|s| s.as_str().to_string()).unwrap_or_default())
    };
    let channel_value = move || {
        ctx.filter
            .with(|f| f.channel.map(|c| c.to_string()).unwrap_or_default())
    };
    let channels = ctx.channels;

    view! {
        <form class="filters" method="get" action=move || location.pathname.get() role="search" aria-label="Filter conversations">
            {move || ctx.filter.with(|f| f.view).map(|v| view! { <input type="hidden" name="view" value=v.as_str()/> })}
            <div class="filter">
                <label for="filter-status" class="sr-only">"Status"</label>
                <select id="filter-status" name="status" on:change=on_status prop:value=status_value>
                    <option value="" selected=move || status_value().is_empty()>"Any status"</option>
                    {ConversationStatus::ALL
                        .iter()
                        .map(|s| {
                            let s = *s;
                            view! {
                                <option value=s.as_str() selected=move || status_value() == s.as_str()>
                                    {conversation_status_label(s)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <div class="filter filter-channel">
                <label for="filter-channel" class="sr-only">"Channel"</label>
                <Transition fallback=|| view! {
                    <select id="filter-channel" name="channel" disabled>
                        <option value="">"All channels"</option>
                    </select>
                }>
                    {move || Suspend::new({
                        let on_channel = on_channel.clone();
                        async move {
                            let channels = channels.await.unwrap_or_default();
                            let kinds: Vec<(String, ChannelKind)> =
                                channels.iter().map(|c| (c.id.to_string(), c.kind)).collect();
                            let selected_kind = Memo::new(move |_| {
                                let value = channel_value();
                                kinds.iter().find(|(id, _)| *id == value).map(|(_, kind)| *kind)
                            });
                            let groups = group_by_kind(channels);
                            let grouped = groups.len() > 1;
                            view! {
                                {move || selected_kind.get().map(|kind| view! {
                                    <span class="filter-channel-icon"><ChannelIcon kind decorative=true/></span>
                                })}
                                <select
                                    id="filter-channel"
                                    name="channel"
                                    on:change=on_channel
                                    prop:value=channel_value
                                    class:has-icon=move || selected_kind.get().is_some()
                                >
                                    <option value="" selected=move || channel_value().is_empty()>"All channels"</option>
                                    {groups
                                        .into_iter()
                                        .map(|(kind, channels)| {
                                            let options = channels
                                                .into_iter()
                                                .map(|ch| {
                                                    let id = ch.id.to_string();
                                                    let value = id.clone();
                                                    view! {
                                                        <option value=id data-kind=kind.as_str() selected=move || channel_value() == value>
                                                            {ch.name}
                                                        </option>
                                                    }
                                                })
                                                .collect_view();
                                            if grouped {
                                                view! { <optgroup label=kind.platform().short_name>{options}</optgroup> }.into_any()
                                            } else {
                                                options.into_any()
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            }
                        }
                    })}
                </Transition>
            </div>
            <TeamFilters/>
            <button type="submit" class="btn btn-sm" class:hidden=hydrated>"Apply"</button>
        </form>
    }
}

/// Team, priority and assignee: narrow the list to one team's inbox, an urgency, an agent.
#[component]
fn TeamFilters() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let live = super::team::TeamLive::get();
    let go = refilter(ctx);
    let value_of =
        move |pick: fn(&ConversationFilter) -> Option<String>| move || ctx.filter.with(pick).unwrap_or_default();
    let team_value = value_of(|f| f.team.map(|t| t.to_string()));
    let priority_value = value_of(|f| f.priority.map(|p| p.as_str().to_string()));
    let assignee_value = value_of(|f| f.assignee.map(|a| a.to_string()));
    let on_team = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            go(Box::new(move |f| f.team = value.parse::<Id>().ok()));
        }
    };
    let on_priority = {
        let go = go.clone();
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            go(Box::new(move |f| f.priority = value.parse::<Priority>().ok()));
        }
    };
    let on_assignee = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        go(Box::new(move |f| f.assignee = value.parse::<Id>().ok()));
    };
    view! {
        <div class="filter">
            <label for="filter-team" class="sr-only">"Team"</label>
            <Transition fallback=|| view! {
                <select id="filter-team" name="team" disabled><option value="">"All teams"</option></select>
            }>
                {move || Suspend::new({
                    let on_team = on_team.clone();
                    async move {
                        let teams = match live {
                            Some(live) => live.teams.await,
                            None => Vec::new(),
                        };
                        let options = teams.into_iter().map(|t| (t.id, t.name)).collect();
                        id_select("filter-team", "All teams", team_value, on_team, options)
                    }
                })}
            </Transition>
        </div>
        <div class="filter">
            <label for="filter-priority" class="sr-only">"Priority"</label>
            <select id="filter-priority" name="priority" data-testid="filter-priority" on:change=on_priority prop:value=priority_value>
                <option value="" selected=move || priority_value().is_empty()>"Any priority"</option>
                {Priority::ALL
                    .iter()
                    .map(|p| view! { <option value=p.as_str() selected=move || priority_value() == p.as_str()>{p.label()}</option> })
                    .collect_view()}
            </select>
        </div>
        <div class="filter">
            <label for="filter-assignee" class="sr-only">"Assignee"</label>
            <Transition fallback=|| view! {
                <select id="filter-assignee" name="assignee" disabled><option value="">"Any agent"</option></select>
            }>
                {move || Suspend::new({
                    let on_assignee = on_assignee.clone();
                    async move {
                        let members = ctx.team.await.unwrap_or_default();
                        let options = members.into_iter().map(|m| (m.id, m.name)).collect();
                        id_select("filter-assignee", "Any agent", assignee_value, on_assignee, options)
                    }
                })}
            </Transition>
        </div>
    }
}

/// Channels grouped by platform (in `ChannelKind::ALL` order), for the filter's option groups.
fn group_by_kind(channels: Vec<Channel>) -> Vec<(ChannelKind, Vec<Channel>)> {
    let mut groups: Vec<(ChannelKind, Vec<Channel>)> = Vec::new();
    for kind in ChannelKind::ALL {
        let of_kind: Vec<Channel> = channels.iter().filter(|c| c.kind == *kind).cloned().collect();
        if !of_kind.is_empty() {
            groups.push((*kind, of_kind));
        }
    }
    groups
}

#[component]
fn ListSkeleton() -> impl IntoView {
    view! {
        <div class="conv-scroll" aria-busy="true" aria-label="Loading conversations">
            <ul class="conv-list skeleton-list">
                {(0..6)
                    .map(|_| view! {
                        <li class="conv skeleton">
                            <span class="avatar skeleton-block"></span>
                            <div class="conv-body">
                                <span class="skeleton-line w-60"></span>
                                <span class="skeleton-line w-40"></span>
                                <span class="skeleton-line w-80"></span>
                            </div>
                        </li>
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}

/// Rows re-render when anything they show changes.
#[derive(Clone, PartialEq, Eq, Hash)]
struct RowKey {
    id: Id,
    last_message_at: i64,
    unread_count: i64,
    status: ConversationStatus,
    assignee_id: Option<Id>,
    preview: Option<String>,
    contact_name: String,
    avatar: Option<String>,
    priority: Priority,
    queued: bool,
    team: Option<Id>,
}

fn row_key(c: &Conversation) -> RowKey {
    RowKey {
        id: c.id,
        last_message_at: c.last_message_at,
        unread_count: c.unread_count,
        status: c.status,
        assignee_id: c.assignee_id,
        preview: c.last_message_preview.clone(),
        contact_name: c.contact_name.clone(),
        avatar: c.contact_avatar_url.clone(),
        priority: c.priority,
        queued: c.queued_at.is_some(),
        team: c.team_id,
    }
}

/// The rows of one load of the list, kept current by live events.
#[component]
fn ListBody(page: Page<Conversation>) -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let list = ListState {
        items: RwSignal::new(page.items),
        next_cursor: RwSignal::new(page.next_cursor),
    };
    ctx.list.set_value(Some(list));
    on_live_event(move |event| {
        if let Some(conversation) = &event.conversation {
            ctx.upsert(conversation.clone());
        } else if let (Some(id), Some(status)) = (event.conversation_id, event.conversation_status) {
            ctx.patch(id, |c| c.status = status);
        }
        if let Some(contact) = &event.contact {
            ctx.patch_contact(contact);
        }
    });
    let loading_more = RwSignal::new(false);
    let more_href = move || {
        let cursor = list.next_cursor.get().unwrap_or_default();
        let qs = ctx.query_string();
        let sep = if qs.is_empty() { "?" } else { "&" };
        format!("/inbox{qs}{sep}before={cursor}")
    };
    let load_more = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        if loading_more.get_untracked() {
            return;
        }
        let Some(cursor) = list.next_cursor.get_untracked() else {
            return;
        };
        let mut filter = ctx.filter.get_untracked();
        filter.before = Some(cursor);
        loading_more.set(true);
        leptos::task::spawn_local(async move {
            match fetch_page(filter).await {
                Ok(page) => {
                    let _ = list.items.try_update(|items| {
                        for c in page.items {
                            if !items.iter().any(|x| x.id == c.id) {
                                items.push(c);
                            }
                        }
                    });
                    let _ = list.next_cursor.try_set(page.next_cursor);
                }
                Err(error) => toast_error(&error),
            }
            let _ = loading_more.try_set(false);
        });
    };

    view! {
        <div class="conv-scroll" data-testid="conversation-list">
            <Show when=move || list.items.with(|l| !l.is_empty()) fallback=EmptyList>
                <ul class="conv-list">
                    <For each=move || list.items.get() key=row_key let:conversation>
                        <ConversationRow conversation/>
                    </For>
                </ul>
            </Show>
            <Show when=move || list.next_cursor.with(Option::is_some)>
                <div class="load-more">
                    <a class="btn btn-ghost btn-sm" href=more_href on:click=load_more aria-busy=move || loading_more.get().to_string()>
                        {move || if loading_more.get() { "Loading…" } else { "Load more" }}
                    </a>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn EmptyList() -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    move || {
        if ctx.filter.with(|f| *f == ConversationFilter::default()) {
            view! {
                <EmptyState title="No conversations yet" hint="Connect a channel and customer messages will show up here.">
                    <a class="btn btn-primary btn-sm" href="/settings/channels">"Connect a channel"</a>
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No conversations match" hint="Try another view or clear the filters.">
                    <a class="btn btn-sm" href="/inbox">"Clear filters"</a>
                </EmptyState>
            }
            .into_any()
        }
    }
}

#[component]
fn ConversationRow(conversation: Conversation) -> impl IntoView {
    let ctx = expect_context::<InboxCtx>();
    let Conversation {
        id,
        contact_name,
        contact_avatar_url,
        channel_kind,
        channel_name,
        status,
        assignee_name,
        unread_count,
        last_message_preview,
        last_message_at,
        priority,
        queued_at,
        team_name,
        ..
    } = conversation;
    let selected = Memo::new(move |_| ctx.selected.get() == Some(id));
    let show_unread = Memo::new(move |_| unread_count > 0 && !selected.get());
    let href = move || format!("/inbox/{id}{}", ctx.query_string());
    let preview = last_message_preview
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "No messages yet".into());
    let closed = matches!(status, ConversationStatus::Resolved | ConversationStatus::Closed);
    let picked = move || ctx.picked.with(|p| p.contains(&id));
    let on_pick = move |ev: leptos::ev::Event| {
        let checked = event_target_checked(&ev);
        ctx.picked.update(|p| {
            p.retain(|c| *c != id);
            if checked {
                p.push(id);
            }
        });
    };
    let pick_label = format!("Select the conversation with {contact_name}");
    view! {
        <li class="conv-item" class:picking=move || ctx.picked.with(|p| !p.is_empty())>
            <input
                type="checkbox"
                class="conv-pick"
                data-testid="conv-pick"
                aria-label=pick_label
                prop:checked=picked
                on:change=on_pick
            />
            <a
                href=href
                class="conv"
                class:selected=selected
                class:unread=show_unread
                class:closed=closed
                aria-current=move || selected.get().then_some("page")
                data-testid="conversation-item"
                data-conversation-id=id.to_string()
            >
                <Avatar name=contact_name.clone() url=contact_avatar_url.unwrap_or_default()/>
                <div class="conv-body">
                    <div class="conv-line">
                        <span class="conv-name">{contact_name}</span>
                        <span class="conv-time"><RelTime ts=last_message_at/></span>
                    </div>
                    <div class="conv-line conv-meta">
                        <ChannelIcon kind=channel_kind/>
                        <span class="conv-channel">{channel_name}</span>
                        {closed.then(|| view! { <span class="conv-state">{conversation_status_label(status)}</span> })}
                        {assignee_name.map(|name| view! { <span class="conv-assignee" title="Assignee">{name}</span> })}
                        {(priority != Priority::None).then(|| view! {
                            <span class=format!("badge priority-badge priority-{}", priority.as_str()) data-testid="priority-badge">{priority.label()}</span>
                        })}
                        {queued_at.map(|_| view! {
                            <span class="badge queue-badge" title=format!("Waiting in {}'s queue", team_name.clone().unwrap_or_default())>"Waiting"</span>
                        })}
                        <super::team::ViewerAvatars conversation_id=id compact=true/>
                    </div>
                    <div class="conv-line">
                        <span class="conv-preview">{preview}</span>
                        {move || show_unread.get().then(|| view! {
                            <span class="unread-badge" data-testid="unread-badge" aria-label=format!("{unread_count} unread")>
                                {unread_count.min(99)}
                            </span>
                        })}
                    </div>
                </div>
            </a>
        </li>
    }
}
