//! The reply box: Enter sends, Shift+Enter adds a line. Sending is optimistic: a pending
//! bubble with a random `client_id` appears at once and is replaced by the stored message
//! (from the response or the `message:sent` event, whichever comes first). The platform's
//! reply window decides whether a reply may go out and whether it needs the HUMAN_AGENT tag.

use super::thread::{Source, ThreadState, merge_message};
use crate::inbox::{SendMessage, send_message};
use crate::model::{ChannelStatus, Direction, Id, Message, MessageStatus, ReplyWindow, SendRequest};
use crate::ui::Shell;
use crate::ui::components::{Clock, full_datetime, now_millis, time_until, use_hydrated};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use std::sync::atomic::{AtomicI64, Ordering};

pub const HUMAN_AGENT_TAG: &str = "HUMAN_AGENT";

static LOCAL_IDS: AtomicI64 = AtomicI64::new(0);

/// Optimistic copies get negative ids, counting down in the order they were sent.
fn next_local_id() -> Id {
    -(LOCAL_IDS.fetch_add(1, Ordering::Relaxed) + 1)
}

/// A random id for matching the optimistic copy with the stored message.
fn new_client_id() -> String {
    #[cfg(feature = "hydrate")]
    let random = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
    #[cfg(not(feature = "hydrate"))]
    let random = LOCAL_IDS.load(Ordering::Relaxed) as u64;
    format!("web-{:x}-{:x}", now_millis(), random)
}

/// Shows `body` at once and sends it.
pub fn send(thread: ThreadState, body: String, tag: Option<String>) {
    let me = Shell::get().and_then(Shell::session_untracked).map(|s| s.user);
    let local = Message {
        id: next_local_id(),
        conversation_id: thread.id,
        direction: Direction::Outbound,
        sender_user_id: me.as_ref().map(|u| u.id),
        sender_name: me.map(|u| u.name),
        body,
        attachments: Vec::new(),
        status: MessageStatus::Pending,
        error: None,
        platform_message_id: None,
        client_id: Some(new_client_id()),
        tag,
        created_at: now_millis(),
        edited_at: None,
        deleted_at: None,
    };
    thread.apply_message(local.clone());
    dispatch(thread, local);
}

/// Sends an optimistic copy that failed before reaching the server again.
pub fn resend_local(thread: ThreadState, mut message: Message) {
    message.status = MessageStatus::Pending;
    message.error = None;
    let copy = message.clone();
    let _ = thread.messages.try_update(|list| {
        if let Some(m) = list.iter_mut().find(|m| m.id == copy.id) {
            *m = copy;
        }
    });
    dispatch(thread, message);
}

fn dispatch(thread: ThreadState, local: Message) {
    let request = SendRequest {
        conversation_id: thread.id,
        content: local.body.clone(),
        client_id: local.client_id.clone(),
        tag: local.tag.clone(),
    };
    leptos::task::spawn_local(async move {
        match send_message(request).await {
            Ok(stored) => {
                let _ = thread.messages.try_update(|list| {
                    merge_message(list, stored, Source::Response);
                    // should the server not echo the client id, drop the optimistic copy
                    list.retain(|m| !(m.id <= 0 && m.client_id == local.client_id));
                });
            }
            Err(error) => {
                let _ = thread.messages.try_update(|list| {
                    if let Some(m) = list.iter_mut().find(|m| m.id <= 0 && m.client_id == local.client_id) {
                        m.status = MessageStatus::Failed;
                        m.error = Some(error.to_string());
                    }
                });
            }
        }
    });
}

#[component]
pub fn Composer() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let clock = Clock::get();
    let hydrated = use_hydrated();
    let draft = RwSignal::new(String::new());

    let window = Memo::new(move |_| {
        let now = clock.now();
        thread
            .conversation
            .with(|c| ReplyWindow::at(c.channel_kind, c.last_inbound_at, now))
    });
    let channel = thread.channel_status;
    let blocked = move || channel.get() != ChannelStatus::Active || window.get() == ReplyWindow::Closed;
    let tag = move || matches!(window.get(), ReplyWindow::HumanAgentOnly { .. }).then(|| HUMAN_AGENT_TAG.to_string());
    let contact = move || thread.conversation.with(|c| c.contact_name.clone());
    let placeholder = move || match (channel.get(), window.get()) {
        (ChannelStatus::NeedsReconnect, _) => "Reconnect the channel to reply".to_string(),
        (ChannelStatus::Disconnected, _) => "This channel is disconnected".to_string(),
        (_, ReplyWindow::Closed) => "Replies are closed until the customer writes again".to_string(),
        _ => format!("Reply to {}…", contact()),
    };

    let submit = move || {
        if blocked() {
            return;
        }
        let body = draft.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        draft.set(String::new());
        send(thread, body, tag());
        thread.scroll_to_end.update(|n| *n += 1);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit();
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit();
        } else if ev.key() == "Escape" {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Some(el) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                    let _ = el.blur();
                }
            }
        }
    };

    view! {
        <div class="composer-wrap">
            <WindowNotice window/>
            <form class="composer" method="post" action=SendMessage::PATH on:submit=on_submit>
                <input type="hidden" name="request[conversationId]" value=thread.id.to_string()/>
                {move || tag().map(|t| view! { <input type="hidden" name="request[tag]" value=t/> })}
                <label for="composer-input" class="sr-only">{move || format!("Reply to {}", contact())}</label>
                <textarea
                    id="composer-input"
                    name="request[content]"
                    data-testid="composer-input"
                    rows="1"
                    placeholder=placeholder
                    aria-describedby="composer-hint"
                    disabled=blocked
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=on_keydown
                ></textarea>
                <button
                    type="submit"
                    class="btn btn-primary composer-send"
                    data-testid="composer-send"
                    disabled=move || blocked() || (hydrated.get() && draft.with(|d| d.trim().is_empty()))
                >
                    <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12l16-8-6 16-2.5-6.5z"/></svg>
                    <span>"Send"</span>
                </button>
            </form>
            <p class="composer-hint" id="composer-hint">
                <kbd>"Enter"</kbd>" to send · "<kbd>"Shift"</kbd>"+"<kbd>"Enter"</kbd>" for a new line"
            </p>
        </div>
    }
}

/// What the messaging window allows, when it matters.
#[component]
fn WindowNotice(window: Memo<ReplyWindow>) -> impl IntoView {
    let clock = Clock::get();
    move || {
        match window.get() {
        ReplyWindow::Open { closes_at } if closes_at < i64::MAX / 2 => Some(
            view! {
                <p class="window-hint" title=move || format!("Free-form replies are allowed until {}", full_datetime(closes_at, clock.tz_offset_min.get()))>
                    {move || format!("24h window closes in {}", time_until(closes_at, clock.now()))}
                </p>
            }
            .into_any(),
        ),
        ReplyWindow::Open { .. } => None,
        ReplyWindow::HumanAgentOnly { closes_at } => Some(
            view! {
                <div class="notice notice-warn" data-testid="window-notice" data-window="human_agent" role="status">
                    <strong>"The 24-hour messaging window has passed."</strong>
                    " Your reply will be sent with Messenger's HUMAN_AGENT tag, which allows a person to answer for up to 7 days after the customer's last message "
                    {move || format!("(closes in {}).", time_until(closes_at, clock.now()))}
                </div>
            }
            .into_any(),
        ),
        ReplyWindow::Closed => Some(
            view! {
                <div class="notice notice-error" data-testid="window-notice" data-window="closed" role="status">
                    <strong>"Replies are closed."</strong>
                    " More than 7 days have passed since the customer's last message, so Messenger won't accept a reply. You can answer again as soon as they write."
                </div>
            }
            .into_any(),
        ),
    }
    }
}
