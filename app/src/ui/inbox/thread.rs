//! One conversation: header (status, assignment), messages with delivery ticks, "Load
//! earlier", and live updates. The composer and contact panel sit beside it.

use super::composer::{Composer, resend_local};
use super::contact::ContactPanel;
use super::live::{StatusUpdate, on_live_event};
use super::{InboxCtx, ready};
use crate::error::AppError;
use crate::inbox::{
    AssignConversation, RetryMessage, SetConversationStatus, get_conversation, list_messages, mark_conversation_read,
    retry_message,
};
use crate::model::{
    Attachment, AttachmentKind, ChannelStatus, Contact, Conversation, ConversationDetail, ConversationStatus,
    Direction, Id, Message, MessageKind, MessageStatus, Page, Reaction, ReplyTo,
};
use crate::ui::Shell;
use crate::ui::components::{Avatar, ChannelIcon, EmptyState, ErrorState, MsgTime, StatusBadge, Toasts, toast_error};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The open conversation, shared by the thread, composer and contact panel.
#[derive(Clone, Copy)]
pub struct ThreadState {
    pub id: Id,
    pub conversation: RwSignal<Conversation>,
    pub contact: RwSignal<Contact>,
    pub channel_status: RwSignal<ChannelStatus>,
    /// Oldest first; optimistic copies (negative ids) at the end until the server answers.
    pub messages: RwSignal<Vec<Message>>,
    /// Cursor for "Load earlier".
    pub earlier: RwSignal<Option<Id>>,
    pub loading_earlier: RwSignal<bool>,
    /// Bumped when the view should jump to the newest message (e.g. after sending).
    pub scroll_to_end: RwSignal<u64>,
    /// The message briefly highlighted after its quote was clicked.
    pub highlighted: RwSignal<Option<Id>>,
    /// The message the composer's reply will quote ("Reply" on a bubble; Escape drops it).
    pub replying_to: RwSignal<Option<Message>>,
    /// Our sent reply the composer is changing ("Edit" on a bubble; Escape drops it).
    pub editing: RwSignal<Option<Message>>,
    mark_read: StoredValue<MarkRead>,
}

#[derive(Debug, Clone, Copy, Default)]
struct MarkRead {
    in_flight: bool,
    again: bool,
}

impl ThreadState {
    fn new(detail: ConversationDetail, page: Page<Message>) -> Self {
        ThreadState {
            id: detail.conversation.id,
            conversation: RwSignal::new(detail.conversation),
            contact: RwSignal::new(detail.contact),
            channel_status: RwSignal::new(detail.channel_status),
            messages: RwSignal::new(page.items),
            earlier: RwSignal::new(page.next_cursor.and_then(|c| c.parse().ok())),
            loading_earlier: RwSignal::new(false),
            scroll_to_end: RwSignal::new(0),
            highlighted: RwSignal::new(None),
            replying_to: RwSignal::new(None),
            editing: RwSignal::new(None),
            mark_read: StoredValue::new(MarkRead::default()),
        }
    }

    pub fn apply_message(self, message: Message) {
        let _ = self.messages.try_update(|list| upsert_message(list, message));
    }

    pub fn merge_message(self, message: Message, source: Source) {
        let _ = self.messages.try_update(|list| merge_message(list, message, source));
    }

    /// A newer copy of a message already shown (e.g. its reactions changed). Messages not
    /// loaded are left alone: "Load earlier" brings them in their current state.
    pub fn replace_message(self, message: Message) {
        let _ = self.messages.try_update(|list| replace_message(list, message));
    }

    /// Scrolls a loaded message into view and highlights it for a moment.
    pub fn highlight(self, id: Id) {
        let _ = self.highlighted.try_set(Some(id));
        #[cfg(feature = "hydrate")]
        {
            let selector = format!(r#"[data-testid="message"][data-message-id="{id}"]"#);
            if let Ok(Some(el)) = document().query_selector(&selector) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_behavior(web_sys::ScrollBehavior::Smooth);
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                el.scroll_into_view_with_scroll_into_view_options(&options);
            }
            let highlighted = self.highlighted;
            set_timeout(
                move || {
                    let _ = highlighted.try_update(|h| {
                        if *h == Some(id) {
                            *h = None;
                        }
                    });
                },
                std::time::Duration::from_millis(1600),
            );
        }
    }

    pub fn apply_status(self, update: &StatusUpdate) {
        let _ = self.messages.try_update(|list| apply_status(list, update));
    }

    /// A newer copy of the conversation: header here, row in the list.
    pub fn apply_conversation(self, conversation: Conversation) {
        if conversation.id != self.id {
            return;
        }
        let _ = self.conversation.try_set(conversation.clone());
        if let Some(inbox) = use_context::<InboxCtx>() {
            inbox.upsert(conversation);
        }
    }

    /// Marks the conversation read (coalescing calls while one is in flight).
    pub fn mark_read(self, inbox: Option<InboxCtx>) {
        let busy = self
            .mark_read
            .try_update_value(|m| {
                if m.in_flight {
                    m.again = true;
                    true
                } else {
                    m.in_flight = true;
                    false
                }
            })
            .unwrap_or(true);
        if busy {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                match mark_conversation_read(self.id).await {
                    Ok(conversation) => {
                        let _ = self.conversation.try_set(conversation.clone());
                        if let Some(inbox) = inbox {
                            inbox.upsert(conversation);
                        }
                    }
                    Err(error) => leptos::logging::warn!("could not mark the conversation read: {error}"),
                }
                let again = self
                    .mark_read
                    .try_update_value(|m| {
                        let again = m.again;
                        m.again = false;
                        m.in_flight = again;
                        again
                    })
                    .unwrap_or(false);
                if !again {
                    break;
                }
            }
        });
    }
}

/// Where a message sorts: stored messages by id, then optimistic ones in the order sent.
fn order_key(m: &Message) -> (u8, Id) {
    if m.id > 0 { (0, m.id) } else { (1, -m.id) }
}

/// Delivery states only climb, except that a failed message may be retried.
fn status_may_move(from: MessageStatus, to: MessageStatus) -> bool {
    from == MessageStatus::Failed || to.rank() >= from.rank()
}

/// How much to trust the status of an incoming copy of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Live events arrive in order: statuses climb, and a failed message may restart
    /// (someone retried it).
    Event,
    /// A response may be older than events already applied (the send answer can arrive
    /// after the failure report): it never lowers the status.
    Response,
    /// The answer to our own retry: it lifts the message out of "failed", but events
    /// that already reported progress win.
    Retry,
}

/// Adds or replaces a message (live-event semantics), matching by id or client id.
pub fn upsert_message(list: &mut Vec<Message>, incoming: Message) {
    merge_message(list, incoming, Source::Event);
}

/// Adds or replaces a message, matching by id or by the composer's client id.
pub fn merge_message(list: &mut Vec<Message>, mut incoming: Message, source: Source) {
    let matches = |m: &Message| {
        (incoming.id > 0 && m.id == incoming.id) || (incoming.client_id.is_some() && m.client_id == incoming.client_id)
    };
    let positions: Vec<usize> = list
        .iter()
        .enumerate()
        .filter(|(_, m)| matches(m))
        .map(|(i, _)| i)
        .collect();
    match positions.split_first() {
        Some((&first, rest)) => {
            let current = &list[first];
            let keep_current = current.id == incoming.id
                && match source {
                    Source::Event | Source::Retry => !status_may_move(current.status, incoming.status),
                    Source::Response => incoming.status.rank() < current.status.rank(),
                };
            if keep_current {
                incoming.status = current.status;
                incoming.error = current.error.clone();
            }
            list[first] = incoming;
            for &i in rest.iter().rev() {
                list.remove(i);
            }
        }
        None => list.push(incoming),
    }
    list.sort_by_key(order_key);
}

/// Replaces a message that is already in the list; a newer copy never lowers its status.
pub fn replace_message(list: &mut Vec<Message>, message: Message) {
    if message.id > 0 && list.iter().any(|m| m.id == message.id) {
        merge_message(list, message, Source::Response);
    }
}

pub fn apply_status(list: &mut [Message], update: &StatusUpdate) {
    if let Some(m) = list.iter_mut().find(|m| m.id == update.message_id)
        && status_may_move(m.status, update.status)
    {
        m.status = update.status;
        m.error = if update.status == MessageStatus::Failed {
            update.error.clone()
        } else {
            None
        };
    }
}

/// `/inbox/:id`.
#[component]
pub fn ConversationPane() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|v| v.parse::<Id>().ok())));
    let shell = Shell::get();
    let detail = Resource::new(
        move || id.get(),
        move |id| async move {
            ready(shell).await;
            match id {
                Some(id) => get_conversation(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let messages = Resource::new(
        move || id.get(),
        move |id| async move {
            ready(shell).await;
            match id {
                Some(id) => list_messages(id, None).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    let (switching, set_switching) = signal(false);
    view! {
        <Transition fallback=ThreadSkeleton set_pending=set_switching>
            {move || Suspend::new(async move {
                match (detail.await, messages.await) {
                    (Ok(detail), Ok(page)) => view! { <ThreadBody detail page switching/> }.into_any(),
                    (Err(error), _) | (_, Err(error)) => view! {
                        <section class="thread-pane" aria-label="Conversation">
                            <div class="thread-head thread-head-plain">
                                <BackLink/>
                            </div>
                            {if error == AppError::NotFound {
                                view! { <EmptyState title="Conversation not found" hint="It may have been removed, or belongs to another organization."/> }.into_any()
                            } else {
                                view! { <ErrorState error/> }.into_any()
                            }}
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ThreadSkeleton() -> impl IntoView {
    view! {
        <section class="thread-pane" aria-busy="true" aria-label="Loading conversation">
            <div class="thread-head">
                <span class="avatar skeleton-block"></span>
                <div class="thread-title">
                    <span class="skeleton-line w-40"></span>
                    <span class="skeleton-line w-20"></span>
                </div>
            </div>
            <div class="messages">
                <div class="messages-inner">
                    <div class="msg msg-in"><div class="bubble skeleton-bubble w-60"></div></div>
                    <div class="msg msg-out"><div class="bubble skeleton-bubble w-40"></div></div>
                    <div class="msg msg-in"><div class="bubble skeleton-bubble w-50"></div></div>
                </div>
            </div>
        </section>
    }
}

#[component]
fn BackLink() -> impl IntoView {
    let inbox = use_context::<InboxCtx>();
    let href = move || format!("/inbox{}", inbox.map(InboxCtx::query_string).unwrap_or_default());
    view! {
        <a class="icon-btn back-link" href=href aria-label="Back to conversations">
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M15 5l-7 7 7 7"/></svg>
        </a>
    }
}

#[component]
fn ThreadBody(detail: ConversationDetail, page: Page<Message>, switching: ReadSignal<bool>) -> impl IntoView {
    let thread = ThreadState::new(detail, page);
    provide_context(thread);
    let inbox = use_context::<InboxCtx>();

    on_live_event(move |event| {
        let Some(channel_id) = thread.conversation.try_with_untracked(|c| c.channel_id) else {
            return;
        };
        if let Some(update) = &event.channel
            && update.channel_id == channel_id
        {
            let _ = thread.channel_status.try_set(update.status);
        }
        if let Some(contact) = &event.contact
            && thread.contact.try_with_untracked(|c| c.id) == Some(contact.id)
        {
            let _ = thread.contact.try_set(contact.clone());
            let _ = thread.conversation.try_update(|c| {
                c.contact_name = contact.name.clone();
                c.contact_avatar_url = contact.avatar_url.clone();
            });
        }
        if event.conversation_id != Some(thread.id) {
            return;
        }
        if let Some(conversation) = &event.conversation {
            let _ = thread.conversation.try_set(conversation.clone());
        } else if let Some(status) = event.conversation_status {
            let _ = thread.conversation.try_update(|c| c.status = status);
        }
        if let Some(message) = &event.message {
            thread.apply_message(message.clone());
            if message.direction == Direction::Inbound {
                thread.mark_read(inbox);
            }
        }
        if let Some(update) = &event.message_status {
            thread.apply_status(update);
        }
        if let Some(message) = &event.updated_message {
            thread.replace_message(message.clone());
        }
    });

    // The team sees who has it open.
    if let Some(live) = super::live::Live::get() {
        let id = thread.id;
        Effect::new(move |_| live.set_viewing(Some(id)));
        on_cleanup(move || live.set_viewing(None));
    }

    // Opening the conversation reads it.
    Effect::new(move |done: Option<()>| {
        if done.is_none() && thread.conversation.with_untracked(|c| c.unread_count > 0) {
            thread.mark_read(inbox);
        }
    });

    let title = move || {
        format!(
            "{} · Inbox · Messio",
            thread.conversation.with(|c| c.contact_name.clone())
        )
    };
    view! {
        <Title text=title/>
        <section
            class="thread-pane"
            class:switching=move || switching.get()
            data-testid="thread"
            data-conversation-id=thread.id.to_string()
            aria-label=move || format!("Conversation with {}", thread.conversation.with(|c| c.contact_name.clone()))
        >
            <ThreadHeader/>
            <ChannelBanner/>
            <MessageList/>
            <super::team::TypingIndicator conversation_id=thread.id/>
            <Composer/>
        </section>
        <ContactPanel/>
    }
}

#[component]
fn ThreadHeader() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let inbox = use_context::<InboxCtx>();
    let shell = Shell::get();
    let me = move || shell.and_then(Shell::session).map(|s| s.user.id).unwrap_or_default();
    let id = thread.id;

    let set_status = ServerAction::<SetConversationStatus>::new();
    let assign = ServerAction::<AssignConversation>::new();
    for result in [set_status.value(), assign.value()] {
        Effect::new(move |_| match result.get() {
            Some(Ok(conversation)) => thread.apply_conversation(conversation),
            Some(Err(error)) => toast_error(&error),
            None => {}
        });
    }

    let conversation = thread.conversation;
    let status = Signal::derive(move || conversation.with(|c| c.status));
    let is_open = move || matches!(status.get(), ConversationStatus::New | ConversationStatus::Active);
    let assigned_to_me = move || conversation.with(|c| c.assignee_id == Some(me()));
    let busy = move || set_status.pending().get() || assign.pending().get();

    let on_assignee = move |ev: leptos::ev::Event| {
        let assignee_id = event_target_value(&ev).parse::<Id>().ok();
        assign.dispatch(AssignConversation { id, assignee_id });
    };

    view! {
        <header class="thread-head" aria-busy=move || busy().to_string()>
            <BackLink/>
            {move || {
                let (name, url) = conversation.with(|c| (c.contact_name.clone(), c.contact_avatar_url.clone()));
                view! { <Avatar name url=url.unwrap_or_default()/> }
            }}
            <div class="thread-title">
                <h2>{move || conversation.with(|c| c.contact_name.clone())}</h2>
                <div class="thread-sub">
                    <ChannelIcon kind=conversation.with_untracked(|c| c.channel_kind)/>
                    <span class="thread-channel">{move || conversation.with(|c| c.channel_name.clone())}</span>
                    <StatusBadge status/>
                    <span class="thread-assignee" data-testid="assignee-name">
                        {move || conversation.with(|c| match &c.assignee_name {
                            Some(name) if c.assignee_id == Some(me()) => format!("Assigned to you ({name})"),
                            Some(name) => format!("Assigned to {name}"),
                            None => "Unassigned".to_string(),
                        })}
                    </span>
                </div>
            </div>
            <div class="thread-actions">
                <super::team::TeamControls me=Signal::derive(me)/>
                <div class="assignee-picker">
                    <label for="assignee" class="sr-only">"Assignee"</label>
                    {move || {
                        let team = inbox.map(|i| i.team);
                        view! {
                            <Transition fallback=|| view! { <select id="assignee" disabled><option>"Assignee"</option></select> }>
                                {move || Suspend::new(async move {
                                    let members = match team {
                                        Some(team) => team.await.unwrap_or_default(),
                                        None => Vec::new(),
                                    };
                                    let current = move || conversation.with(|c| c.assignee_id.map(|a| a.to_string()).unwrap_or_default());
                                    view! {
                                        <select id="assignee" on:change=on_assignee prop:value=current title="Assign this conversation">
                                            <option value="" selected=move || current().is_empty()>"Unassigned"</option>
                                            {members
                                                .into_iter()
                                                .map(|m| {
                                                    let value = m.id.to_string();
                                                    let check = value.clone();
                                                    let label = if m.id == me() { format!("{} (you)", m.name) } else { m.name };
                                                    view! { <option value=value selected=move || current() == check>{label}</option> }
                                                })
                                                .collect_view()}
                                        </select>
                                    }
                                })}
                            </Transition>
                        }
                    }}
                </div>
                <Show when=move || conversation.with(|c| c.assignee_id.is_some())>
                <ActionForm action=assign>
                    <input type="hidden" name="id" value=id.to_string()/>
                    <input type="hidden" name="assignee_id" value=move || me().to_string()/>
                    <button
                        type="submit"
                        class="btn btn-sm"
                        class:btn-active=assigned_to_me
                        data-testid="assign-me"
                        title=move || if assigned_to_me() { "Already assigned to you" } else { "Assign this conversation to yourself" }
                    >
                        "Assign to me"
                    </button>
                </ActionForm>
                </Show>
                {move || if is_open() {
                    view! {
                        <ActionForm action=set_status>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="status" value="resolved"/>
                            <button type="submit" class="btn btn-sm btn-success" data-testid="status-resolve">
                                <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M5 12.5l4.5 4.5L19 7.5"/></svg>
                                "Resolve"
                            </button>
                        </ActionForm>
                    }
                    .into_any()
                } else {
                    view! {
                        <ActionForm action=set_status>
                            <input type="hidden" name="id" value=id.to_string()/>
                            <input type="hidden" name="status" value="active"/>
                            <button type="submit" class="btn btn-sm" data-testid="status-reopen">"Reopen"</button>
                        </ActionForm>
                    }
                    .into_any()
                }}
            </div>
        </header>
    }
}

/// The channel can't deliver replies until someone reconnects it.
#[component]
fn ChannelBanner() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    move || match thread.channel_status.get() {
        ChannelStatus::Active => None,
        ChannelStatus::NeedsReconnect => Some(
            view! {
                <div class="banner banner-warn" role="alert" data-testid="reconnect-banner">
                    <span>"This channel's access expired — replies can't be sent until it is reconnected."</span>
                    <a class="btn btn-sm" href="/settings/channels">"Reconnect"</a>
                </div>
            }
            .into_any(),
        ),
        ChannelStatus::Disconnected => Some(
            view! {
                <div class="banner banner-muted" role="status" data-testid="reconnect-banner">
                    <span>"This channel was disconnected; replies can't be sent."</span>
                    <a class="btn btn-sm" href="/settings/channels">"Channel settings"</a>
                </div>
            }
            .into_any(),
        ),
    }
}

fn message_key(m: &Message) -> (Id, &'static str, Option<String>, Option<i64>, Option<i64>) {
    (m.id, m.status.as_str(), m.error.clone(), m.edited_at, m.deleted_at)
}

#[component]
fn MessageList() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let scroller = NodeRef::<leptos::html::Div>::new();

    // The list is anchored at the bottom with CSS (column-reverse), so it opens on the
    // newest message and stays there as messages arrive, even without JavaScript. After
    // sending, jump back down even if the agent had scrolled up.
    Effect::new(move |_| {
        if thread.scroll_to_end.get() > 0 {
            request_animation_frame(move || {
                if let Some(el) = scroller.get_untracked() {
                    el.set_scroll_top(el.scroll_height());
                }
            });
        }
    });

    let load_earlier = move |_| {
        let Some(before) = thread.earlier.get_untracked() else {
            return;
        };
        if thread.loading_earlier.get_untracked() {
            return;
        }
        thread.loading_earlier.set(true);
        leptos::task::spawn_local(async move {
            match list_messages(thread.id, Some(before)).await {
                Ok(page) => {
                    let _ = thread.messages.try_update(|list| {
                        for message in page.items {
                            upsert_message(list, message);
                        }
                    });
                    let _ = thread.earlier.try_set(page.next_cursor.and_then(|c| c.parse().ok()));
                }
                Err(error) => toast_error(&error),
            }
            let _ = thread.loading_earlier.try_set(false);
        });
    };

    view! {
        <div class="messages" node_ref=scroller>
            <div class="messages-inner" role="log" aria-live="polite" aria-relevant="additions" aria-label="Messages">
                <Show when=move || thread.earlier.with(Option::is_some)>
                    <div class="load-earlier">
                        <button
                            type="button"
                            class="btn btn-ghost btn-sm"
                            on:click=load_earlier
                            aria-busy=move || thread.loading_earlier.get().to_string()
                        >
                            {move || if thread.loading_earlier.get() { "Loading…" } else { "Load earlier messages" }}
                        </button>
                    </div>
                </Show>
                <Show when=move || thread.messages.with(Vec::is_empty)>
                    <p class="thread-start">"No messages yet."</p>
                </Show>
                <For each=move || thread.messages.get() key=message_key let:message>
                    <MessageItem message/>
                </For>
            </div>
        </div>
    }
}

#[component]
fn MessageItem(message: Message) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let direction = message.direction;
    let id = message.id;
    let id_attr = if id > 0 { id.to_string() } else { String::new() };
    let status = message.status;
    let kind = message.kind;
    if direction == Direction::System || kind == MessageKind::Reaction {
        // A reaction whose message we never saw has nothing to attach to: it reads best as
        // a line of its own, like the system notes.
        let (class, body) = if kind == MessageKind::Reaction {
            let body = if message.body.trim().is_empty() {
                "Reacted to a message".to_string()
            } else {
                message.body.clone()
            };
            ("msg-system msg-reaction-line", body)
        } else {
            ("msg-system", message.body.clone())
        };
        return view! {
            <div
                class=class
                data-testid="message"
                data-direction=direction.as_str()
                data-kind=kind.as_str()
                data-status=status.as_str()
                data-message-id=id_attr
            >
                <span class="msg-body" data-testid="message-body">{body}</span>
                <span class="msg-system-time"><MsgTime ts=message.created_at/></span>
            </div>
        }
        .into_any();
    }
    let outbound = direction == Direction::Outbound;
    let deleted = message.deleted_at.is_some();
    let platform = thread.conversation.with_untracked(|c| c.channel_kind).platform();
    let revisable = outbound
        && id > 0
        && !deleted
        && matches!(
            status,
            MessageStatus::Sent | MessageStatus::Delivered | MessageStatus::Read
        )
        && (platform.edits_sent || platform.deletes_sent);
    let failed = status == MessageStatus::Failed;
    let human_agent = message.tag.as_deref() == Some("HUMAN_AGENT");
    let sender = message.sender_name.clone();
    let (story, attachments) = split_story(kind, message.attachments.clone());
    let body = message.body.clone();
    let offered = message.buttons.clone();
    let bare = !deleted
        && body.trim().is_empty()
        && message.reply_to.is_none()
        && story.is_none()
        && !attachments.is_empty()
        && attachments.iter().all(|a| a.kind == AttachmentKind::Sticker);
    // Reactions change after the bubble is drawn; reading them from the list keeps the
    // bubble itself (and its arrival animation) untouched.
    let reactions = Memo::new(move |_| {
        thread
            .messages
            .with(|list| list.iter().find(|m| m.id == id).map(|m| m.reactions.clone()))
            .unwrap_or_default()
    });
    let highlighted = move || id > 0 && thread.highlighted.get() == Some(id);
    let content = if deleted {
        view! { <p class="msg-body msg-deleted" data-testid="message-body">"This message was deleted."</p> }.into_any()
    } else {
        view! {
            {story.map(|story| view! { <StoryRef kind story/> })}
            {message.reply_to.clone().map(|reply| view! { <ReplyQuote reply/> })}
            {(kind == MessageKind::Template).then(|| view! {
                <span class="msg-template-badge" title="Sent as an approved WhatsApp message template">"Template"</span>
            })}
            <MessageBody kind body/>
            {(!attachments.is_empty()).then(|| view! { <Attachments attachments/> })}
            {(!offered.is_empty()).then(|| view! {
                <div class="msg-buttons" data-testid="message-buttons" aria-label="Buttons offered to the customer">
                    {offered.into_iter().map(|label| view! { <span class="msg-button">{label}</span> }).collect_view()}
                </div>
            })}
        }
        .into_any()
    };
    view! {
        <div
            class=if outbound { "msg msg-out" } else { "msg msg-in" }
            class:msg-failed=failed
            class:msg-pending=id <= 0
            class:msg-highlight=highlighted
            data-testid="message"
            data-direction=direction.as_str()
            data-kind=kind.as_str()
            data-status=status.as_str()
            data-message-id=id_attr
            data-client-id=message.client_id.clone().unwrap_or_default()
        >
            <div
                class="bubble"
                class:bubble-bare=bare
                class:bubble-interactive=kind == MessageKind::Interactive && !deleted
            >
                {content}
            </div>
            {move || {
                let reactions = reactions.get();
                (!reactions.is_empty()).then(|| view! { <Reactions reactions/> })
            }}
            <div class="msg-meta">
                {(outbound && sender.is_some()).then(|| view! { <span class="msg-sender">{sender.clone()}</span> })}
                {human_agent.then(|| view! { <span class="msg-tag" title="Sent with Messenger's HUMAN_AGENT tag">"Human agent"</span> })}
                <MsgTime ts=message.created_at/>
                {message.edited_at.is_some().then(|| view! { <span class="msg-edited">"edited"</span> })}
                {outbound.then(|| view! { <Tick status/> })}
                {revisable.then(|| {
                    let edited = message.clone();
                    view! {
                        {platform.edits_sent.then(|| view! {
                            <button
                                type="button"
                                class="msg-action"
                                data-testid="edit-message"
                                aria-label="Edit this message"
                                title="Edit this message (the customer sees the change)"
                                on:click=move |_| {
                                    thread.replying_to.set(None);
                                    thread.editing.set(Some(edited.clone()));
                                    focus_composer();
                                }
                            >
                                <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20h4L19 9l-4-4L4 16z"/><path d="M13 7l4 4"/></svg>
                            </button>
                        })}
                        {platform.deletes_sent.then(|| view! { <TakeBack id/> })}
                    }
                })}
                {(id > 0 && !deleted).then(|| {
                    let quoted = message.clone();
                    view! {
                        <button
                            type="button"
                            class="msg-action"
                            data-testid="reply-to"
                            aria-label="Reply to this message"
                            title="Reply to this message"
                            on:click=move |_| {
                                thread.replying_to.set(Some(quoted.clone()));
                                focus_composer();
                            }
                        >
                            <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M10 8L5 12l5 4"/><path d="M5 12h9a5 5 0 0 1 5 5v1"/></svg>
                        </button>
                    }
                })}
            </div>
            {failed.then(|| view! { <FailedNotice message=message.clone()/> })}
        </div>
    }
    .into_any()
}

/// "Delete" on a sent reply: asks once, then takes it back from the customer's chat.
#[component]
fn TakeBack(id: Id) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let take_back = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::inbox::revise_message(id, None).await {
                Ok(message) => thread.replace_message(message),
                Err(error) => crate::ui::components::toast_error(&error),
            }
            let _ = busy.try_set(false);
            let _ = confirming.try_set(false);
        });
    };
    view! {
        <span class="msg-take-back">
            <crate::ui::components::ConfirmAction
                label="Delete"
                busy_label="Deleting…"
                question="Delete it for the customer too?"
                aria_label="Delete this message for everyone"
                open_testid="take-back"
                confirm_testid="confirm-take-back"
                confirming
                busy
                on_confirm=Callback::new(take_back)
            />
        </span>
    }
}

/// Puts the cursor in the composer, after the view has updated.
fn focus_composer() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        if let Some(input) = document()
            .get_element_by_id("composer-input")
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
        }
    });
}

/// Story messages carry the story itself as an attachment; it is shown as the message's
/// context rather than as a file.
fn split_story(kind: MessageKind, mut attachments: Vec<Attachment>) -> (Option<Attachment>, Vec<Attachment>) {
    if !matches!(kind, MessageKind::StoryReply | MessageKind::StoryMention) {
        return (None, attachments);
    }
    let at = attachments
        .iter()
        .position(|a| a.kind == AttachmentKind::Other)
        .or_else(|| (kind == MessageKind::StoryMention && !attachments.is_empty()).then_some(0));
    match at {
        Some(at) => {
            let story = attachments.remove(at);
            (Some(story), attachments)
        }
        // Still say it was about a story, even without a link to it.
        None => (
            Some(Attachment {
                kind: AttachmentKind::Other,
                url: String::new(),
                name: None,
                mime_type: None,
                size: None,
                unavailable: None,
            }),
            attachments,
        ),
    }
}

/// Only web links and our own paths become `href`/`src`: the URLs come from platform payloads.
fn safe_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let ok = lower.starts_with("https://") || lower.starts_with("http://") || url.starts_with('/');
    ok.then(|| url.to_string())
}

/// Keeps a URL inside a CSS `url("…")`.
fn css_url_escape(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '"' => "%22".to_string(),
            '\'' => "%27".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '\\' => "%5C".to_string(),
            c if c.is_ascii_whitespace() || c.is_ascii_control() => format!("%{:02X}", u32::from(c)),
            c => c.to_string(),
        })
        .collect()
}

/// The text of a message, shaped by its kind.
#[component]
fn MessageBody(kind: MessageKind, body: String) -> impl IntoView {
    match kind {
        MessageKind::Interactive => view! {
            <div class="msg-interactive">
                <svg class="msg-interactive-icon" viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M9 11V5.5a1.5 1.5 0 0 1 3 0V10l4.2.8a2 2 0 0 1 1.6 2.3l-.8 4.4a2.5 2.5 0 0 1-2.5 2H11a3 3 0 0 1-2.4-1.2L5.7 14.5a1.4 1.4 0 0 1 2-2z"/>
                </svg>
                <span class="msg-interactive-label">"Tapped:"</span>
                <p class="msg-body" data-testid="message-body">{body}</p>
            </div>
        }
        .into_any(),
        MessageKind::Contacts => {
            let cards = shared_contacts(&body);
            view! {
                <div class="msg-contacts" data-testid="message-body">
                    {cards
                        .into_iter()
                        .map(|(name, phones)| view! {
                            <div class="contact-share" data-testid="contact-card">
                                <span class="contact-share-avatar" aria-hidden="true">
                                    <svg viewBox="0 0 24 24"><circle cx="12" cy="8.5" r="3.5"/><path d="M5 19.5a7 7 0 0 1 14 0"/></svg>
                                </span>
                                <div class="contact-share-text">
                                    <span class="contact-share-name">{name}</span>
                                    {phones
                                        .into_iter()
                                        .map(|phone| {
                                            let tel: String = phone.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
                                            view! { <a class="contact-share-phone" href=format!("tel:{tel}")>{phone}</a> }
                                        })
                                        .collect_view()}
                                </div>
                            </div>
                        })
                        .collect_view()}
                </div>
            }
            .into_any()
        }
        MessageKind::Unsupported => {
            let detail = (!body.trim().is_empty()).then_some(body);
            view! {
                <p class="msg-body msg-unsupported" data-testid="message-body">
                    "This message type isn't supported yet — open it in the customer's app"
                </p>
                {detail.map(|d| view! { <p class="msg-unsupported-detail">{d}</p> })}
            }
            .into_any()
        }
        _ => {
            // Server rendering writes an empty text as a space, which `:empty` doesn't match.
            let empty = body.trim().is_empty();
            view! { <p class="msg-body" class:msg-body-empty=empty data-testid="message-body">{body}</p> }.into_any()
        }
    }
}

/// Splits the stored text of a shared-contacts message ("Shared contact: Ana Souza, +1 555 0100")
/// into names and phone numbers; a line that doesn't parse is shown whole as the name.
fn shared_contacts(body: &str) -> Vec<(String, Vec<String>)> {
    let is_phone = |s: &str| {
        let s = s.trim();
        s.chars().any(|c| c.is_ascii_digit()) && s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c))
    };
    body.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| {
            let line = line.strip_prefix("Shared contact:").unwrap_or(line).trim();
            let mut parts: Vec<&str> = line.split(", ").collect();
            let mut phones = Vec::new();
            while parts.len() > 1 && parts.last().is_some_and(|p| is_phone(p)) {
                if let Some(phone) = parts.pop() {
                    phones.push(phone.trim().to_string());
                }
            }
            phones.reverse();
            (parts.join(", "), phones)
        })
        .collect()
}

/// What an Instagram story message refers to.
#[component]
fn StoryRef(kind: MessageKind, story: Attachment) -> impl IntoView {
    let label = if kind == MessageKind::StoryMention {
        "Mentioned you in their story"
    } else {
        "Replied to your story"
    };
    // Story links expire after a day. As a background, a thumbnail that no longer loads
    // leaves a plain tile instead of a broken image (even before hydration).
    let link = safe_url(&story.url).map(|url| {
        let thumb = format!("background-image: url(\"{}\")", css_url_escape(&url));
        view! {
            <a class="msg-story-link" href=url target="_blank" rel="noopener noreferrer">
                <span class="msg-story-thumb" style=thumb aria-hidden="true"></span>
                <span>"View story"</span>
            </a>
        }
    });
    view! {
        <div class="msg-story" data-testid="story-ref">
            <span class="msg-story-label">
                <svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="8" stroke-dasharray="4 2.5"/><circle cx="12" cy="12" r="3.5"/></svg>
                {label}
            </span>
            {link}
        </div>
    }
}

/// The message this one answers; clicking it brings the original into view when loaded.
#[component]
fn ReplyQuote(reply: ReplyTo) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let text = reply
        .preview
        .clone()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| {
            if reply.message_id.is_some() {
                "Message"
            } else {
                "Original message not available"
            }
            .to_string()
        });
    match reply.message_id {
        Some(target) => {
            let on_click = move |_| {
                let loaded = thread
                    .messages
                    .with_untracked(|list| list.iter().any(|m| m.id == target));
                if loaded {
                    thread.highlight(target);
                } else if let Some(toasts) = Toasts::get() {
                    toasts.info("The original message is further up — load earlier messages to see it.");
                }
            };
            view! {
                <button
                    type="button"
                    class="reply-quote"
                    data-testid="reply-quote"
                    data-reply-to=target.to_string()
                    title="Show the original message"
                    on:click=on_click
                >
                    <span class="reply-quote-text">{text}</span>
                </button>
            }
            .into_any()
        }
        None => view! {
            <div class="reply-quote reply-quote-missing" data-testid="reply-quote">
                <span class="reply-quote-text">{text}</span>
            </div>
        }
        .into_any(),
    }
}

#[component]
fn Reactions(reactions: Vec<Reaction>) -> impl IntoView {
    view! {
        <div class="msg-reactions">
            {reactions
                .into_iter()
                .map(|r| {
                    let title = match r.direction {
                        Direction::Outbound => format!("You reacted {}", r.emoji),
                        _ => format!("Customer reacted {}", r.emoji),
                    };
                    view! {
                        <span
                            class="reaction"
                            role="img"
                            aria-label=title.clone()
                            title=title
                            data-testid="reaction"
                            data-direction=r.direction.as_str()
                        >
                            {r.emoji}
                        </span>
                    }
                })
                .collect_view()}
        </div>
    }
}

#[component]
fn Attachments(attachments: Vec<Attachment>) -> impl IntoView {
    view! {
        <div class="attachments">
            {attachments.into_iter().map(|attachment| view! { <AttachmentView attachment/> }).collect_view()}
        </div>
    }
}

fn attachment_label(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "Image",
        AttachmentKind::Video => "Video",
        AttachmentKind::Audio => "Voice message",
        AttachmentKind::File => "Document",
        AttachmentKind::Sticker => "Sticker",
        AttachmentKind::Location => "Shared location",
        AttachmentKind::Other => "Attachment",
    }
}

/// "PDF", "DOCX": from the file name, else the MIME type.
fn file_type(name: Option<&str>, mime_type: Option<&str>) -> String {
    let from_name = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()));
    let from_mime = || {
        mime_type
            .and_then(|m| m.split(';').next())
            .and_then(|m| m.rsplit_once('/'))
            .map(|(_, sub)| sub.trim())
            .filter(|sub| !sub.is_empty() && sub.len() <= 8)
    };
    from_name
        .or_else(from_mime)
        .map(str::to_ascii_uppercase)
        .unwrap_or_else(|| "File".into())
}

#[component]
fn AttachmentView(attachment: Attachment) -> impl IntoView {
    let Attachment {
        kind,
        url,
        name,
        mime_type,
        size,
        unavailable,
    } = attachment;
    let label = name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| attachment_label(kind).to_string());
    let data_kind = kind.as_str();
    if let Some(reason) = unavailable {
        let size = size.map(crate::attachments::human_size);
        return view! {
            <span
                class="attachment attachment-file attachment-unavailable"
                data-testid="attachment"
                data-kind=data_kind
                data-unavailable="true"
            >
                <span class="attachment-name">{label}</span>
                {size.map(|size| view! { <span class="attachment-size">{size}</span> })}
                <span class="attachment-reason">{reason}</span>
            </span>
        }
        .into_any();
    }
    let Some(url) = safe_url(&url) else {
        return view! {
            <span class="attachment attachment-file" data-testid="attachment" data-kind=data_kind>
                <span>{label}</span>
            </span>
        }
        .into_any();
    };
    // The view macro may read attributes in any order: each gets its own copy.
    let href = url.clone();
    match kind {
        AttachmentKind::Image => view! {
            <a
                class="attachment attachment-image"
                data-testid="attachment"
                data-kind=data_kind
                href=href
                target="_blank"
                rel="noopener noreferrer"
                title="Open full size"
            >
                <img src=url alt=label loading="lazy"/>
            </a>
        }
        .into_any(),
        AttachmentKind::Sticker => view! {
            <img class="attachment attachment-sticker" data-testid="attachment" data-kind=data_kind src=url alt=label loading="lazy"/>
        }
        .into_any(),
        AttachmentKind::Video => view! {
            <div class="attachment attachment-video" data-testid="attachment" data-kind=data_kind>
                <video controls=true preload="metadata" playsinline=true src=url aria-label=label>
                    <a href=href target="_blank" rel="noopener noreferrer">"Download the video"</a>
                </video>
            </div>
        }
        .into_any(),
        AttachmentKind::Audio => view! {
            <div class="attachment attachment-audio" data-testid="attachment" data-kind=data_kind>
                <span class="attachment-audio-label">
                    <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="9" y="3.5" width="6" height="11" rx="3"/><path d="M6 11.5a6 6 0 0 0 12 0M12 17.5v3"/></svg>
                    {label.clone()}
                </span>
                <audio controls=true preload="metadata" src=url aria-label=label></audio>
            </div>
        }
        .into_any(),
        AttachmentKind::File => {
            let file_type = file_type(name.as_deref(), mime_type.as_deref());
            view! {
                <div class="attachment attachment-doc" data-testid="attachment" data-kind=data_kind>
                    <span class="attachment-doc-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M7 3.5h7l4 4v13H7z"/><path d="M14 3.5v4h4"/></svg>
                    </span>
                    <span class="attachment-doc-text">
                        <a class="attachment-doc-name" href=href target="_blank" rel="noopener noreferrer">{label.clone()}</a>
                        <span class="attachment-doc-type">{file_type}</span>
                    </span>
                    <a class="attachment-download" href=url download=name.unwrap_or_default() aria-label=format!("Download {label}") title="Download">
                        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 4.5v10M7.5 10.5l4.5 4.5 4.5-4.5M5 19.5h14"/></svg>
                    </a>
                </div>
            }
            .into_any()
        }
        AttachmentKind::Location => {
            let (place, address) = match label.split_once(", ") {
                // Bare coordinates stay on one line.
                Some((a, b)) if a.trim().parse::<f64>().is_ok() && b.trim().parse::<f64>().is_ok() => (label.clone(), None),
                Some((place, address)) => (place.to_string(), Some(address.to_string())),
                None => (label.clone(), None),
            };
            view! {
                <div class="attachment attachment-location" data-testid="attachment" data-kind=data_kind>
                    <span class="attachment-location-pin" aria-hidden="true">"📍"</span>
                    <span class="attachment-location-text">
                        <span class="attachment-location-name">{place}</span>
                        {address.map(|a| view! { <span class="attachment-location-address">{a}</span> })}
                        <a class="attachment-location-link" href=url target="_blank" rel="noopener noreferrer">"Open map"</a>
                    </span>
                </div>
            }
            .into_any()
        }
        AttachmentKind::Other => view! {
            <a
                class="attachment attachment-file"
                data-testid="attachment"
                data-kind=data_kind
                href=url
                target="_blank"
                rel="noopener noreferrer"
            >
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 12.5l6.5-6.5a3 3 0 0 1 4.2 4.2l-8 8a5 5 0 0 1-7-7L11 4"/></svg>
                <span>{label}</span>
            </a>
        }
        .into_any(),
    }
}

#[component]
fn Tick(status: MessageStatus) -> impl IntoView {
    let (glyph, label, class) = match status {
        MessageStatus::Pending | MessageStatus::Sending | MessageStatus::Received => {
            ("", "Sending", "tick tick-pending")
        }
        MessageStatus::Sent => ("✓", "Sent", "tick tick-sent"),
        MessageStatus::Delivered => ("✓✓", "Delivered", "tick tick-delivered"),
        MessageStatus::Read => ("✓✓", "Read", "tick tick-read"),
        MessageStatus::Failed => ("⚠", "Not delivered", "tick tick-failed"),
    };
    view! {
        <span class=class role="img" aria-label=label title=label>
            {if glyph.is_empty() {
                view! {
                    <svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/></svg>
                }
                .into_any()
            } else {
                glyph.into_any()
            }}
        </span>
    }
}

/// The failure reason and a retry: stored messages go through `retry_message` (a plain
/// form post without JavaScript); an optimistic copy that never reached the server is
/// sent again.
#[component]
fn FailedNotice(message: Message) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let busy = RwSignal::new(false);
    let id = message.id;
    let reason = message
        .error
        .clone()
        .unwrap_or_else(|| "The message could not be delivered.".into());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        if id > 0 {
            leptos::task::spawn_local(async move {
                match retry_message(id).await {
                    Ok(message) => thread.merge_message(message, Source::Retry),
                    Err(error) => toast_error(&error),
                }
                let _ = busy.try_set(false);
            });
        } else {
            resend_local(thread, message.clone());
        }
    };
    view! {
        <div class="msg-error" role="alert">
            <span class="msg-error-text"><span aria-hidden="true">"⚠ "</span>{reason}</span>
            <form method="post" action=RetryMessage::PATH on:submit=on_submit class="retry-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <button type="submit" class="btn btn-xs btn-danger" data-testid="retry-button" disabled=move || busy.get()>
                    "Retry"
                </button>
            </form>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: Id, client_id: Option<&str>, status: MessageStatus) -> Message {
        Message {
            id,
            conversation_id: 1,
            direction: Direction::Outbound,
            sender_user_id: Some(1),
            sender_name: Some("Dana".into()),
            body: "hi".into(),
            attachments: vec![],
            kind: MessageKind::Text,
            reply_to: None,
            reactions: vec![],
            status,
            error: None,
            platform_message_id: None,
            client_id: client_id.map(str::to_string),
            tag: None,
            created_at: 0,
            edited_at: None,
            deleted_at: None,
            buttons: Vec::new(),
        }
    }

    fn ids(list: &[Message]) -> Vec<Id> {
        list.iter().map(|m| m.id).collect()
    }

    #[test]
    fn optimistic_copy_is_replaced_by_client_id() {
        let mut list = vec![
            msg(5, None, MessageStatus::Received),
            msg(-1, Some("c1"), MessageStatus::Pending),
        ];
        upsert_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending));
        assert_eq!(ids(&list), [5, 9]);
        // the socket echo of the same message
        upsert_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending));
        assert_eq!(ids(&list), [5, 9]);
    }

    #[test]
    fn socket_copy_first_then_response() {
        let mut list = vec![msg(-1, Some("c1"), MessageStatus::Pending)];
        upsert_message(&mut list, msg(9, Some("c1"), MessageStatus::Sent));
        upsert_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending));
        assert_eq!(ids(&list), [9]);
        assert_eq!(
            list[0].status,
            MessageStatus::Sent,
            "a late response never lowers the status"
        );
    }

    #[test]
    fn a_late_send_response_does_not_undo_a_failure() {
        let mut list = vec![msg(-1, Some("c1"), MessageStatus::Pending)];
        upsert_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending));
        apply_status(
            &mut list,
            &StatusUpdate {
                message_id: 9,
                status: MessageStatus::Failed,
                error: Some("expired".into()),
            },
        );
        merge_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending), Source::Response);
        assert_eq!(
            (list[0].status, list[0].error.as_deref()),
            (MessageStatus::Failed, Some("expired"))
        );
        merge_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending), Source::Retry);
        assert_eq!(
            (list[0].status, list[0].error.as_deref()),
            (MessageStatus::Pending, None)
        );
        // the retry's answer arriving after the "sent" report
        apply_status(
            &mut list,
            &StatusUpdate {
                message_id: 9,
                status: MessageStatus::Sent,
                error: None,
            },
        );
        merge_message(&mut list, msg(9, Some("c1"), MessageStatus::Pending), Source::Retry);
        assert_eq!(list[0].status, MessageStatus::Sent);
    }

    #[test]
    fn statuses_only_climb_but_failures_retry() {
        let mut list = vec![msg(9, None, MessageStatus::Sent)];
        let update = |status, error: Option<&str>| StatusUpdate {
            message_id: 9,
            status,
            error: error.map(str::to_string),
        };
        apply_status(&mut list, &update(MessageStatus::Read, None));
        apply_status(&mut list, &update(MessageStatus::Delivered, None));
        assert_eq!(list[0].status, MessageStatus::Read);
        let mut list = vec![msg(9, None, MessageStatus::Sending)];
        apply_status(&mut list, &update(MessageStatus::Failed, Some("blocked")));
        assert_eq!(
            (list[0].status, list[0].error.as_deref()),
            (MessageStatus::Failed, Some("blocked"))
        );
        upsert_message(&mut list, msg(9, None, MessageStatus::Pending));
        assert_eq!(
            (list[0].status, list[0].error.as_deref()),
            (MessageStatus::Pending, None)
        );
    }

    #[test]
    fn updates_replace_only_loaded_messages() {
        let mut list = vec![msg(5, None, MessageStatus::Read)];
        let mut update = msg(5, None, MessageStatus::Sent);
        update.reactions = vec![Reaction {
            emoji: "❤️".into(),
            direction: Direction::Inbound,
            at: 1,
        }];
        replace_message(&mut list, update);
        assert_eq!(list[0].reactions.len(), 1);
        assert_eq!(list[0].status, MessageStatus::Read, "an update never lowers the status");
        replace_message(&mut list, msg(2, None, MessageStatus::Sent));
        assert_eq!(ids(&list), [5], "messages not loaded stay out");
    }

    #[test]
    fn shared_contacts_split_names_and_phones() {
        assert_eq!(
            shared_contacts("Shared contact: Ana Souza, +55 11 5555-0100, +1 (555) 0101\nShared contact: Bo, Jr."),
            vec![
                (
                    "Ana Souza".to_string(),
                    vec!["+55 11 5555-0100".to_string(), "+1 (555) 0101".to_string()]
                ),
                ("Bo, Jr.".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn attachment_helpers() {
        assert_eq!(file_type(Some("invoice.pdf"), None), "PDF");
        assert_eq!(file_type(None, Some("application/pdf")), "PDF");
        assert_eq!(file_type(Some("notes"), None), "File");
        assert_eq!(safe_url(" https://x.test/a "), Some("https://x.test/a".into()));
        assert_eq!(
            safe_url("/api/media/whatsapp/1/2"),
            Some("/api/media/whatsapp/1/2".into())
        );
        assert_eq!(safe_url("javascript:alert(1)"), None);
        assert_eq!(
            css_url_escape("https://x.test/a\")(b c"),
            "https://x.test/a%22%29%28b%20c"
        );
        let story = Attachment {
            kind: AttachmentKind::Other,
            url: "https://cdn.test/story".into(),
            name: Some("Story".into()),
            mime_type: None,
            size: None,
            unavailable: None,
        };
        let image = Attachment {
            kind: AttachmentKind::Image,
            ..story.clone()
        };
        let (found, rest) = split_story(MessageKind::StoryReply, vec![image.clone(), story.clone()]);
        assert_eq!((found, rest), (Some(story.clone()), vec![image.clone()]));
        let (found, rest) = split_story(MessageKind::Media, vec![story.clone()]);
        assert_eq!((found, rest.len()), (None, 1));
    }

    #[test]
    fn order_is_by_id_with_local_copies_last() {
        let mut list = vec![];
        upsert_message(&mut list, msg(-2, Some("b"), MessageStatus::Pending));
        upsert_message(&mut list, msg(7, None, MessageStatus::Received));
        upsert_message(&mut list, msg(3, None, MessageStatus::Received));
        upsert_message(&mut list, msg(-1, Some("a"), MessageStatus::Pending));
        assert_eq!(ids(&list), [3, 7, -1, -2]);
    }
}
