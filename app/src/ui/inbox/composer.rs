//! The reply box: Enter sends, Shift+Enter adds a line. Sending is optimistic: a pending
//! bubble with a random `client_id` appears at once and is replaced by the stored message
//! (from the response or the `message:sent` event, whichever comes first). The platform's
//! reply window decides whether a reply may go out and whether it needs the HUMAN_AGENT tag.
//!
//! WhatsApp conversations also get a template picker: outside the 24-hour window an approved
//! template is the only thing that may be sent.
//!
//! A file (picked with the paperclip, pasted or dropped) is checked and uploaded first
//! (`upload.rs`); the reply then carries it, with the text as its caption.

use super::live::on_live_event;
use super::thread::{Source, ThreadState, merge_message};
use super::upload::{AttachButton, AttachmentTray, Uploader};
use crate::attachments::{self, AttachmentRef};
use crate::error::AppError;
use crate::inbox::{SendMessage, send_message};
use crate::model::{
    Attachment, ChannelKind, ChannelStatus, Direction, Id, Message, MessageKind, MessageStatus, Millis, ReplyTo,
    ReplyWindow, SendRequest, preview,
};
use crate::templates::{
    TemplateButton, TemplateFilter, TemplateHeader, TemplateSendRequest, TemplateStatus, WhatsAppTemplate,
    check_params, list_templates, numbered_variables, send_template,
};
use crate::ui::Shell;
use crate::ui::components::{Clock, Spinner, full_datetime, now_millis, use_hydrated};
use crate::ui::settings::templates::{TemplatePreview, category_label, preview_of};
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

/// Shows `body` (with its uploaded files) at once and sends it.
pub fn send(
    thread: ThreadState,
    body: String,
    tag: Option<String>,
    attachments: Vec<Attachment>,
    buttons: Vec<String>,
) {
    let me = Shell::get().and_then(Shell::session_untracked).map(|s| s.user);
    let reply_to = thread.replying_to.try_get_untracked().flatten().map(|quoted| ReplyTo {
        message_id: Some(quoted.id),
        platform_message_id: quoted.platform_message_id.clone().unwrap_or_default(),
        preview: Some(preview(&quoted.body, &quoted.attachments)),
    });
    let _ = thread.replying_to.try_set(None);
    let local = Message {
        id: next_local_id(),
        conversation_id: thread.id,
        direction: Direction::Outbound,
        sender_user_id: me.as_ref().map(|u| u.id),
        sender_name: me.map(|u| u.name),
        body,
        kind: if attachments.is_empty() {
            MessageKind::Text
        } else {
            MessageKind::Media
        },
        attachments,
        reply_to,
        reactions: Vec::new(),
        status: MessageStatus::Pending,
        error: None,
        platform_message_id: None,
        client_id: Some(new_client_id()),
        tag,
        created_at: now_millis(),
        edited_at: None,
        deleted_at: None,
        buttons,
    };
    thread.apply_message(local.clone());
    dispatch(thread, local);
}

/// Saves an edit of a sent reply (the platform first); the thread shows it as edited. On a
/// refusal the text stays in the composer with the reason.
fn save_edit(thread: ThreadState, id: Id, body: String, draft: RwSignal<String>) {
    leptos::task::spawn_local(async move {
        match crate::inbox::revise_message(id, Some(body)).await {
            Ok(message) => {
                thread.replace_message(message);
                let _ = thread.editing.try_set(None);
                let _ = draft.try_set(String::new());
            }
            Err(error) => crate::ui::components::toast_error(&error),
        }
    });
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
        // Only the upload's URL goes back: the server describes the file from its own record.
        attachments: local
            .attachments
            .iter()
            .filter(|a| attachments::upload_id(&a.url).is_some())
            .map(|a| AttachmentRef { url: a.url.clone() })
            .collect(),
        reply_to: local.reply_to.as_ref().and_then(|r| r.message_id),
        buttons: local.buttons.clone(),
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

/// "3h 12m", "45m", "5d 3h": what is left of a messaging window.
pub fn remaining(ms: Millis) -> String {
    // Rounded up, so an open window never reads "0m"; days only past two of them, so a
    // fresh 24-hour window reads "24h", not "1d".
    let minutes = (ms.max(0) + 59_999) / 60_000;
    let (hours, mins) = (minutes / 60, minutes % 60);
    match (hours, mins) {
        (0, m) => format!("{}m", m.max(1)),
        (h, 0) if h < 48 => format!("{h}h"),
        (h, m) if h < 48 => format!("{h}h {m}m"),
        (h, _) if h % 24 == 0 => format!("{}d", h / 24),
        (h, _) => format!("{}d {}h", h / 24, h % 24),
    }
}

#[component]
pub fn Composer() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let clock = Clock::get();
    let hydrated = use_hydrated();
    let draft = RwSignal::new(String::new());
    let picker_open = RwSignal::new(false);
    let picker_opener = NodeRef::<leptos::html::Button>::new();
    let uploader = Uploader::new();
    let dragging = RwSignal::new(false);
    // Buttons offered with the reply, on kinds that take them.
    let buttons = RwSignal::new(Vec::<String>::new());
    let buttons_open = RwSignal::new(false);
    let typing = super::team::TypingSignal::new(thread.id, false);
    // Collision: a teammate replied since this agent last looked (opened the thread or sent).
    let seen_at = StoredValue::new(clock.now());
    let collision = RwSignal::new(None::<(String, Millis)>);
    let me = crate::ui::my_id();

    let window = Memo::new(move |_| {
        let now = clock.now();
        thread
            .conversation
            .with(|c| ReplyWindow::at(c.channel_kind, c.last_inbound_at, now))
    });
    let kind = Signal::derive(move || thread.conversation.with(|c| c.channel_kind));
    let channel_kind = thread.conversation.with_untracked(|c| c.channel_kind);
    let uses_templates = channel_kind.uses_templates();
    let channel = thread.channel_status;
    let templates_only = move || window.get() == ReplyWindow::TemplatesOnly;
    // Why this customer cannot be reached on this channel (they blocked the bot, texted
    // STOP): the server refuses replies until they are reachable again.
    let unreachable = move || {
        let channel_id = thread.conversation.with(|c| c.channel_id);
        thread.contact.with(|c| {
            c.identities
                .iter()
                .find(|i| i.channel_id == channel_id)
                .and_then(|i| i.unreachable.clone())
        })
    };
    let blocked = move || {
        channel.get() != ChannelStatus::Active
            || matches!(window.get(), ReplyWindow::Closed | ReplyWindow::TemplatesOnly)
            || unreachable().is_some()
    };
    let tag = move || matches!(window.get(), ReplyWindow::HumanAgentOnly { .. }).then(|| HUMAN_AGENT_TAG.to_string());
    let contact = move || thread.conversation.with(|c| c.contact_name.clone());
    // "Edit" on a bubble puts its text in the composer.
    Effect::new(move |_| {
        if let Some(editing) = thread.editing.get() {
            draft.set(editing.body.clone());
        }
    });

    let placeholder = move || match (channel.get(), window.get()) {
        (ChannelStatus::NeedsReconnect, _) => "Reconnect the channel to reply".to_string(),
        (ChannelStatus::Disconnected, _) => "This channel is disconnected".to_string(),
        _ if unreachable().is_some() => "Replies wait until the customer can be reached again".to_string(),
        (_, ReplyWindow::Closed) => "Replies are closed until the customer writes again".to_string(),
        (_, ReplyWindow::TemplatesOnly) => "Only templates can be sent now".to_string(),
        _ if uploader.ready.with(Option::is_some) => "Add a caption…".to_string(),
        _ => format!("Reply to {}…", contact()),
    };
    // Files can be attached once the page runs (uploads need JavaScript) and replies may go.
    let attach_disabled = Signal::derive(move || !hydrated.get() || blocked() || uploader.busy());
    let has_file = move || uploader.ready.with(Option::is_some);

    let submit = move |anyway: bool| {
        // While a file uploads, the reply waits for it.
        if blocked() || uploader.busy_untracked() {
            return;
        }
        let body = draft.get_untracked();
        if body.trim().is_empty() && uploader.ready.with_untracked(Option::is_none) {
            return;
        }
        if let Some(editing) = thread.editing.get_untracked() {
            save_edit(thread, editing.id, body, draft);
            return;
        }
        let since = seen_at.get_value();
        let teammate_reply = thread.messages.with_untracked(|messages| {
            messages
                .iter()
                .rev()
                .find(|m| {
                    m.direction == Direction::Outbound
                        && m.sender_user_id.is_some_and(|s| s != me)
                        && m.created_at > since
                })
                .map(|m| {
                    (
                        m.sender_name.clone().unwrap_or_else(|| "A teammate".into()),
                        m.created_at,
                    )
                })
        });
        if let (false, Some(reply)) = (anyway, teammate_reply) {
            collision.set(Some(reply));
            return;
        }
        collision.set(None);
        seen_at.set_value(clock.now());
        typing.stop();
        let files: Vec<Attachment> = uploader.take().iter().map(|f| f.attachment()).collect();
        draft.set(String::new());
        let offered = buttons.get_untracked();
        buttons.set(Vec::new());
        buttons_open.set(false);
        send(thread, body, tag(), files, offered);
        thread.scroll_to_end.update(|n| *n += 1);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit(false);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            submit(false);
        } else if ev.key() == "Escape" && uploader.busy_untracked() {
            ev.prevent_default();
            uploader.cancel();
        } else if ev.key() == "Escape" && thread.replying_to.with_untracked(Option::is_some) {
            ev.prevent_default();
            thread.replying_to.set(None);
        } else if ev.key() == "Escape" && thread.editing.with_untracked(Option::is_some) {
            ev.prevent_default();
            thread.editing.set(None);
            draft.set(String::new());
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

    // A pasted image (a screenshot) or a file dropped on the composer is attached like a
    // picked one.
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(file) = super::upload::first_file(ev.clipboard_data()) {
            ev.prevent_default();
            if !attach_disabled.get_untracked() {
                uploader.start(channel_kind, thread.id, file, || focus_later("composer-input"));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        #[cfg(feature = "hydrate")]
        if super::upload::drags_files(ev.data_transfer()) {
            // Accepting the drop (or refusing it, visibly) instead of the browser opening the file.
            ev.prevent_default();
            if let Some(data) = ev.data_transfer() {
                data.set_drop_effect(if attach_disabled.get_untracked() {
                    "none"
                } else {
                    "copy"
                });
            }
            dragging.set(!attach_disabled.get_untracked());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(file) = super::upload::first_file(ev.data_transfer()) {
            ev.prevent_default();
            if !attach_disabled.get_untracked() {
                uploader.start(channel_kind, thread.id, file, || focus_later("composer-input"));
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    view! {
        <div class="composer-wrap">
            <WindowNotice window kind/>
            {move || unreachable().map(|reason| view! {
                <div class="notice notice-warn" data-testid="unreachable-notice" role="status">{reason}</div>
            })}
            <Show when=move || picker_open.get()>
                <TemplatePicker open=picker_open opener=picker_opener/>
            </Show>
            <AttachmentTray uploader/>
            {move || collision.get().map(|(name, at)| {
                let ago = super::team::waited(clock.now() - at);
                view! {
                    <div class="notice notice-warn collision" data-testid="collision-warning" role="alertdialog" aria-label="A teammate replied">
                        <span>{format!("{name} replied {ago} ago — send anyway?")}</span>
                        <button type="button" class="btn btn-sm btn-primary" data-testid="send-anyway" on:click=move |_| submit(true)>
                            "Send anyway"
                        </button>
                        <button
                            type="button"
                            class="btn btn-sm btn-ghost"
                            data-testid="collision-cancel"
                            on:click=move |_| {
                                collision.set(None);
                                seen_at.set_value(clock.now());
                                focus_later("composer-input");
                            }
                        >
                            "Read it first"
                        </button>
                    </div>
                }
            })}
            {move || thread.editing.get().map(|_| view! {
                <div class="composer-replying composer-editing" data-testid="composer-editing" role="status">
                    <span class="composer-replying-label">"Editing your message"</span>
                    <span class="composer-replying-text">"Enter saves it for the customer too · Esc cancels"</span>
                    <button
                        type="button"
                        class="btn btn-ghost btn-sm"
                        aria-label="Cancel the edit"
                        on:click=move |_| {
                            thread.editing.set(None);
                            draft.set(String::new());
                        }
                    >
                        "×"
                    </button>
                </div>
            })}
            {move || thread.replying_to.get().map(|quoted| view! {
                <div class="composer-replying" data-testid="composer-replying" role="status">
                    <span class="composer-replying-label">"Replying to"</span>
                    <span class="composer-replying-text">{preview(&quoted.body, &quoted.attachments)}</span>
                    <button
                        type="button"
                        class="btn btn-ghost btn-sm"
                        data-testid="composer-replying-cancel"
                        aria-label="Cancel the reply to this message"
                        on:click=move |_| thread.replying_to.set(None)
                    >
                        "×"
                    </button>
                </div>
            })}
            <form
                class="composer"
                class:composer-dragover=move || dragging.get()
                method="post"
                action=SendMessage::PATH
                on:submit=on_submit
                on:dragover=on_dragover
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
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
                    on:input=move |ev| {
                        draft.set(event_target_value(&ev));
                        typing.input();
                    }
                    on:blur=move |_| typing.stop()
                    on:keydown=on_keydown
                    on:paste=on_paste
                ></textarea>
                <AttachButton uploader channel=channel_kind conversation_id=thread.id disabled=attach_disabled/>
                {(channel_kind.platform().reply_buttons > 0).then(|| view! {
                    <button
                        type="button"
                        class="btn composer-buttons-toggle"
                        class:btn-primary=move || buttons.with(|b| !b.is_empty())
                        data-testid="composer-buttons-open"
                        aria-expanded=move || buttons_open.get().to_string()
                        aria-controls="composer-buttons"
                        title="Offer buttons the customer can tap"
                        on:click=move |_| buttons_open.update(|open| *open = !*open)
                    >
                        <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="6" width="8" height="5" rx="2"/><rect x="13" y="6" width="8" height="5" rx="2"/><rect x="3" y="13" width="18" height="5" rx="2"/></svg>
                        <span>{move || match buttons.with(Vec::len) {
                            0 => "Buttons".to_string(),
                            n => format!("Buttons ({n})"),
                        }}</span>
                    </button>
                })}
                {uses_templates.then(|| view! {
                    <button
                        type="button"
                        class="btn composer-template"
                        class:btn-primary=templates_only
                        data-testid="template-picker-open"
                        node_ref=picker_opener
                        aria-haspopup="dialog"
                        aria-expanded=move || picker_open.get().to_string()
                        aria-controls="template-picker"
                        title="Send an approved WhatsApp template"
                        disabled=move || channel.get() != ChannelStatus::Active
                        on:click=move |_| picker_open.update(|open| *open = !*open)
                        on:keydown=move |ev| {
                            if ev.key() == "Escape" && picker_open.get_untracked() {
                                ev.prevent_default();
                                picker_open.set(false);
                            }
                        }
                    >
                        <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 3h9l4 4v14H6z"/><path d="M9 12h7M9 16h5"/></svg>
                        <span>{move || if templates_only() { "Send a template" } else { "Template" }}</span>
                    </button>
                })}
                <button
                    type="submit"
                    class="btn btn-primary composer-send"
                    class:composer-send-idle=templates_only
                    data-testid="composer-send"
                    disabled=move || {
                        blocked() || uploader.busy() || (hydrated.get() && draft.with(|d| d.trim().is_empty()) && !has_file())
                    }
                >
                    <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 12l16-8-6 16-2.5-6.5z"/></svg>
                    <span>"Send"</span>
                </button>
            </form>
            <Show when=move || buttons_open.get()>
                <ButtonEditor buttons limit=channel_kind.platform().reply_buttons/>
            </Show>
            <p class="composer-hint" id="composer-hint">
                <kbd>"Enter"</kbd>" to send · "<kbd>"Shift"</kbd>"+"<kbd>"Enter"</kbd>" for a new line"
                {(channel_kind == ChannelKind::Sms).then(|| view! { <SmsMeter draft/> })}
            </p>
        </div>
    }
}

/// The buttons a reply offers: each a chip (× removes it); typing a label and Enter adds one.
#[component]
fn ButtonEditor(buttons: RwSignal<Vec<String>>, limit: usize) -> impl IntoView {
    let label = RwSignal::new(String::new());
    let add = move || {
        let text = label.get_untracked().trim().to_string();
        if text.is_empty() || text.chars().count() > 40 {
            return;
        }
        buttons.update(|list| {
            if list.len() < limit && !list.contains(&text) {
                list.push(text);
            }
        });
        label.set(String::new());
    };
    view! {
        <div class="composer-buttons" id="composer-buttons" data-testid="composer-buttons" role="group" aria-label="Buttons offered with the reply">
            <For each=move || buttons.get() key=|b| b.clone() let:button>
                <span class="composer-button-chip" data-testid="composer-button-chip">
                    {button.clone()}
                    <button
                        type="button"
                        class="composer-button-remove"
                        aria-label=format!("Remove the button {button}")
                        on:click={
                            let button = button.clone();
                            move |_| buttons.update(|list| list.retain(|b| *b != button))
                        }
                    >
                        "×"
                    </button>
                </span>
            </For>
            <Show when=move || buttons.with(Vec::len) < limit>
                <input
                    type="text"
                    class="composer-button-input"
                    data-testid="composer-button-input"
                    maxlength="40"
                    placeholder="Add a button, then Enter"
                    aria-label="A button's label"
                    prop:value=move || label.get()
                    on:input=move |ev| label.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            add();
                        }
                    }
                />
            </Show>
        </div>
    }
}

/// How the draft goes out as SMS, as the agent types: its encoding, its length against the
/// segment it is filling, and how many segments it costs; a warning past the server's
/// `MESSIO_SMS_SEGMENT_WARNING`, and why a text became UCS-2 (one character outside GSM-7
/// halves what a segment holds).
#[component]
fn SmsMeter(draft: RwSignal<String>) -> impl IntoView {
    let warn_past = Shell::get()
        .and_then(Shell::session_untracked)
        .map_or(crate::auth::DEFAULT_SMS_SEGMENT_WARNING, |s| s.sms_segment_warning);
    let measured = Memo::new(move |_| draft.with(|d| crate::sms::measure(d)));
    let long = move || measured.get().segments > warn_past;
    view! {
        <span
            class="sms-meter"
            class:sms-meter-warn=long
            data-testid="sms-meter"
            data-encoding=move || measured.get().encoding.label()
            data-segments=move || measured.get().segments.to_string()
            aria-live="polite"
        >
            {move || {
                let m = measured.get();
                let segments = match m.segments {
                    0 | 1 => "1 segment".to_string(),
                    n => format!("{n} segments"),
                };
                let unicode = if m.encoding == crate::sms::Encoding::Ucs2 {
                    " (a character outside GSM-7 makes it Unicode: 70 per segment)"
                } else {
                    ""
                };
                let warning = if m.segments > warn_past {
                    format!(" · long: billed as {} texts", m.segments)
                } else {
                    String::new()
                };
                format!(" · SMS {}{unicode} · {} left · {segments}{warning}", m.encoding.label(), m.remaining)
            }}
        </span>
    }
}

/// What the messaging window allows, when it matters.
#[component]
fn WindowNotice(window: Memo<ReplyWindow>, kind: Signal<ChannelKind>) -> impl IntoView {
    let clock = Clock::get();
    move || {
        let platform = kind.get().label();
        match window.get() {
            ReplyWindow::Open { closes_at } if closes_at < i64::MAX / 2 => Some(
                view! {
                    <p
                        class="window-hint"
                        data-testid="window-hint"
                        title=move || format!("{platform} accepts free-form replies until {}", full_datetime(closes_at, clock.tz_offset_min.get()))
                    >
                        {move || format!("24h window closes in {}", remaining(closes_at - clock.now()))}
                    </p>
                }
                .into_any(),
            ),
            ReplyWindow::Open { .. } => None,
            ReplyWindow::HumanAgentOnly { closes_at } => Some(
                view! {
                    <div class="notice notice-warn" data-testid="window-notice" data-window="human_agent" role="status">
                        <strong>"The 24-hour messaging window has passed."</strong>
                        {format!(" Your reply will be sent with {platform}'s HUMAN_AGENT tag, which allows a person to answer for up to 7 days after the customer's last message ")}
                        {move || format!("(closes in {}).", remaining(closes_at - clock.now()))}
                    </div>
                }
                .into_any(),
            ),
            ReplyWindow::TemplatesOnly => Some(
                view! {
                    <div class="notice notice-warn" data-testid="window-notice" data-window="templates_only" role="status">
                        <strong>{format!("{platform}'s 24-hour window has passed.")}</strong>
                        " Free-form replies are not accepted until the customer writes again; send an approved template instead."
                    </div>
                }
                .into_any(),
            ),
            ReplyWindow::Closed => Some(
                view! {
                    <div class="notice notice-error" data-testid="window-notice" data-window="closed" role="status">
                        <strong>"Replies are closed."</strong>
                        {format!(" More than 7 days have passed since the customer's last message, so {platform} won't accept a reply. You can answer again as soon as they write.")}
                    </div>
                }
                .into_any(),
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Template picker
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
enum PickerState {
    Loading,
    Failed(String),
    Empty,
    Ready,
}

/// Moves focus to the element with `id` after the browser has rendered it.
pub(super) fn focus_later(id: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(id)
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// The conversation channel's approved templates: search, pick, fill in, send.
#[component]
fn TemplatePicker(open: RwSignal<bool>, opener: NodeRef<leptos::html::Button>) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let channel_id = thread.conversation.with_untracked(|c| c.channel_id);
    let can_manage = Shell::get()
        .and_then(Shell::session_untracked)
        .is_some_and(|s| s.user.role.can_manage());
    let items = RwSignal::new(None::<Result<Vec<WhatsAppTemplate>, AppError>>);
    let version = RwSignal::new(0u64);
    let query = RwSignal::new(String::new());
    let selected = RwSignal::new(None::<WhatsAppTemplate>);

    // A template approved (or paused) while the picker is open shows up (or goes) at once.
    on_live_event(move |event| {
        if event.template.is_some() {
            let _ = version.try_update(|v| *v += 1);
        }
    });
    Effect::new(move |_| {
        version.track();
        let filter = TemplateFilter {
            channel_id: Some(channel_id),
            status: Some(TemplateStatus::Approved),
        };
        leptos::task::spawn_local(async move {
            let result = list_templates(filter).await;
            let _ = items.try_set(Some(result));
        });
    });
    let state = Memo::new(move |_| {
        items.with(|items| match items {
            None => PickerState::Loading,
            Some(Err(error)) => PickerState::Failed(error.to_string()),
            Some(Ok(list)) if list.is_empty() => PickerState::Empty,
            Some(Ok(_)) => PickerState::Ready,
        })
    });
    let matching = move || {
        let q = query.with(|q| q.trim().to_lowercase());
        items.with(|items| match items {
            Some(Ok(list)) => list
                .iter()
                .filter(|t| q.is_empty() || t.name.contains(&q) || t.content.body.to_lowercase().contains(&q))
                .cloned()
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };

    let close = move || {
        open.set(false);
        if let Some(button) = opener.get_untracked() {
            let _ = button.focus();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        }
    };
    let choose = move |template: WhatsAppTemplate| {
        let first = first_input(&template);
        selected.set(Some(template));
        focus_later(first);
    };
    let on_search_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            if let Some(first) = matching().into_iter().next() {
                choose(first);
            }
        }
    };
    // Focus moves into the dialog at once (so Escape reaches it), then to the search box
    // once the list is there.
    focus_later("template-picker");
    Effect::new(move |was_ready: Option<bool>| {
        let ready = state.get() == PickerState::Ready;
        if ready && was_ready != Some(true) && selected.with_untracked(Option::is_none) {
            focus_later("template-search");
        }
        ready
    });

    view! {
        <div
            class="tpl-picker"
            id="template-picker"
            tabindex="-1"
            role="dialog"
            aria-labelledby="template-picker-title"
            data-testid="template-picker"
            on:keydown=on_keydown
        >
            <div class="tpl-picker-head">
                {move || selected.with(Option::is_some).then(|| view! {
                    <button
                        type="button"
                        class="btn btn-ghost btn-xs"
                        data-testid="template-picker-back"
                        on:click=move |_| {
                            selected.set(None);
                            focus_later("template-search");
                        }
                    >
                        "← All templates"
                    </button>
                })}
                <h3 id="template-picker-title">
                    {move || selected.with(|s| s.as_ref().map(|t| t.name.clone())).unwrap_or_else(|| "Send a template".into())}
                </h3>
                <button type="button" class="icon-btn tpl-picker-close" aria-label="Close templates" on:click=move |_| close()>
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>
                </button>
            </div>
            {move || match selected.get() {
                Some(template) => view! {
                    <TemplateSendForm template on_sent=close/>
                }
                .into_any(),
                None => view! {
                    {move || match state.get() {
                        PickerState::Loading => view! {
                            <div class="tpl-picker-loading"><Spinner label="Loading templates"/>" Loading templates…"</div>
                        }
                        .into_any(),
                        PickerState::Failed(message) => view! {
                            <div class="alert alert-error" role="alert">
                                <span class="alert-icon" aria-hidden="true">"!"</span>
                                <span>{message}</span>
                            </div>
                        }
                        .into_any(),
                        PickerState::Empty => view! {
                            <div class="tpl-picker-empty" data-testid="template-picker-empty">
                                <p class="empty-title">"No approved templates yet"</p>
                                {if can_manage {
                                    view! {
                                        <p>"Create one in " <a href="/settings/templates">"Settings → Templates"</a>"; it can be sent once Meta approves it."</p>
                                    }
                                    .into_any()
                                } else {
                                    view! { <p>"An owner or admin can create one in Settings → Templates."</p> }.into_any()
                                }}
                            </div>
                        }
                        .into_any(),
                        PickerState::Ready => view! {
                            <div class="tpl-picker-search">
                                <label for="template-search" class="sr-only">"Search templates"</label>
                                <input
                                    id="template-search"
                                    type="text"
                                    role="searchbox"
                                    data-testid="template-search"
                                    placeholder="Search approved templates…"
                                    autocomplete="off"
                                    aria-controls="template-options"
                                    prop:value=move || query.get()
                                    on:input=move |ev| query.set(event_target_value(&ev))
                                    on:keydown=on_search_key
                                />
                            </div>
                            <ul class="tpl-options" id="template-options" aria-label="Approved templates">
                                <For each=matching key=|t| (t.id, t.updated_at) let:template>
                                    <li>
                                        <button
                                            type="button"
                                            class="tpl-option"
                                            data-testid="template-option"
                                            data-name=template.name.clone()
                                            on:click={
                                                let template = template.clone();
                                                move |_| choose(template.clone())
                                            }
                                        >
                                            <span class="tpl-option-head">
                                                <span class="tpl-option-name">{template.name.clone()}</span>
                                                <span class="tpl-option-meta">
                                                    {format!("{} · {}", template.language, category_label(template.category))}
                                                </span>
                                            </span>
                                            <span class="tpl-option-body">{template.content.body.clone()}</span>
                                        </button>
                                    </li>
                                </For>
                            </ul>
                            <Show when=move || { query.with(|q| !q.trim().is_empty()) && matching().is_empty() }>
                                <p class="muted tpl-picker-none">{move || format!("No approved template matches “{}”.", query.get().trim())}</p>
                            </Show>
                        }
                        .into_any(),
                    }}
                }
                .into_any(),
            }}
        </div>
    }
}

/// What a template asks for besides its body variables.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HeaderInput {
    None,
    Text { example: Option<String> },
    Media(crate::templates::HeaderMedia),
}

fn header_input(template: &WhatsAppTemplate) -> HeaderInput {
    match &template.content.header {
        Some(TemplateHeader::Text { text, example }) if text.contains("{{") => HeaderInput::Text {
            example: example.clone(),
        },
        Some(TemplateHeader::Media { format, .. }) => HeaderInput::Media(*format),
        _ => HeaderInput::None,
    }
}

/// The URL button with a `{{1}}` suffix, if any: (label, address).
fn url_button(template: &WhatsAppTemplate) -> Option<(String, String, Option<String>)> {
    template.content.buttons.iter().find_map(|b| match b {
        TemplateButton::Url { text, url, example } if url.contains("{{") => {
            Some((text.clone(), url.clone(), example.clone()))
        }
        _ => None,
    })
}

/// The id of the first thing to type into once a template is picked.
fn first_input(template: &WhatsAppTemplate) -> &'static str {
    if header_input(template) != HeaderInput::None {
        "template-param-header-input"
    } else if numbered_variables(&template.content.body).unwrap_or(0) > 0 {
        "template-param-1-input"
    } else if url_button(template).is_some() {
        "template-param-button-input"
    } else {
        "template-send-button"
    }
}

fn trimmed(value: String) -> Option<String> {
    let value = value.trim().to_string();
    (!value.is_empty()).then_some(value)
}

#[component]
fn TemplateSendForm(template: WhatsAppTemplate, on_sent: impl Fn() + Send + Sync + Copy + 'static) -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let count = numbered_variables(&template.content.body).unwrap_or(0);
    let header_kind = header_input(&template);
    let button = url_button(&template);
    let needs_header = header_kind != HeaderInput::None;
    let needs_button = button.is_some();
    let params = RwSignal::new(vec![String::new(); count]);
    let header = RwSignal::new(String::new());
    let button_value = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let template_id = template.id;
    let examples = template.content.body_examples.clone();
    let content = StoredValue::new(template.content);

    // A complaint about a value goes once the value is edited.
    Effect::new(move |_| {
        params.track();
        header.track();
        button_value.track();
        error.set(None);
    });

    let preview = Signal::derive(move || {
        let header = header.get();
        params.with(|values| content.with_value(|c| preview_of(c, Some(header.as_str()), values)))
    });

    let send_now = move |_| {
        if sending.get_untracked() {
            return;
        }
        let request = TemplateSendRequest {
            conversation_id: thread.id,
            template_id,
            params: params
                .get_untracked()
                .into_iter()
                .map(|p| p.trim().to_string())
                .collect(),
            header_param: needs_header.then(|| trimmed(header.get_untracked())).flatten(),
            button_param: needs_button.then(|| trimmed(button_value.get_untracked())).flatten(),
            client_id: Some(new_client_id()),
        };
        if let Err(message) = content.with_value(|c| check_params(c, &request)) {
            error.set(Some(message));
            return;
        }
        error.set(None);
        sending.set(true);
        leptos::task::spawn_local(async move {
            match send_template(request).await {
                Ok(message) => {
                    // The `message:sent` event carries the same id and client id: either copy
                    // replaces the other.
                    thread.merge_message(message, Source::Response);
                    let _ = thread.scroll_to_end.try_update(|n| *n += 1);
                    on_sent();
                }
                Err(failure) => {
                    let _ = error.try_set(Some(failure.to_string()));
                    let _ = sending.try_set(false);
                }
            }
        });
    };

    view! {
        <div class="tpl-send">
            <div class="tpl-send-fields">
                {match header_kind {
                    HeaderInput::None => ().into_any(),
                    HeaderInput::Text { example } => view! {
                        <div class="field">
                            <label for="template-param-header-input">"Header {{1}}"</label>
                            <input
                                id="template-param-header-input"
                                type="text"
                                data-testid="template-param-header"
                                autocomplete="off"
                                placeholder=example.map(|e| format!("e.g. {e}")).unwrap_or_default()
                                prop:value=move || header.get()
                                on:input=move |ev| header.set(event_target_value(&ev))
                            />
                        </div>
                    }
                    .into_any(),
                    HeaderInput::Media(format) => view! {
                        <div class="field">
                            <label for="template-param-header-input">{format!("Header {} link", format.as_str())}</label>
                            <input
                                id="template-param-header-input"
                                type="text"
                                inputmode="url"
                                data-testid="template-param-header"
                                autocomplete="off"
                                placeholder="https://…"
                                prop:value=move || header.get()
                                on:input=move |ev| header.set(event_target_value(&ev))
                            />
                        </div>
                    }
                    .into_any(),
                }}
                {(1..=count).map(|n| {
                    let example = examples.get(n - 1).filter(|e| !e.trim().is_empty()).map(|e| format!("e.g. {e}"));
                    view! {
                        <div class="field">
                            <label class="tpl-var-label" for=format!("template-param-{n}-input")>{format!("{{{{{n}}}}}")}</label>
                            <input
                                id=format!("template-param-{n}-input")
                                type="text"
                                data-testid=format!("template-param-{n}")
                                autocomplete="off"
                                placeholder=example.unwrap_or_default()
                                prop:value=move || params.with(|p| p.get(n - 1).cloned().unwrap_or_default())
                                on:input=move |ev| {
                                    let value = event_target_value(&ev);
                                    params.update(|p| {
                                        if let Some(slot) = p.get_mut(n - 1) {
                                            *slot = value;
                                        }
                                    });
                                }
                            />
                        </div>
                    }
                }).collect_view()}
                {button.map(|(label, url, example)| view! {
                    <div class="field">
                        <label for="template-param-button-input">{format!("Link ending for “{label}”")}</label>
                        <input
                            id="template-param-button-input"
                            type="text"
                            data-testid="template-param-button"
                            autocomplete="off"
                            placeholder=example.map(|e| format!("e.g. {e}")).unwrap_or_default()
                            aria-describedby="template-param-button-hint"
                            prop:value=move || button_value.get()
                            on:input=move |ev| button_value.set(event_target_value(&ev))
                        />
                        <p class="field-hint" id="template-param-button-hint">{url}</p>
                    </div>
                })}
                {(count == 0 && !needs_header && !needs_button).then(|| view! {
                    <p class="muted">"This template has nothing to fill in."</p>
                })}
            </div>
            <div class="tpl-send-preview">
                <p class="eyebrow">"Preview"</p>
                <TemplatePreview preview testid="template-preview"/>
            </div>
            {move || error.get().map(|message| view! {
                <p class="tpl-field-error" role="alert" data-testid="template-error">{message}</p>
            })}
            <div class="tpl-send-actions">
                <button
                    type="button"
                    id="template-send-button"
                    class="btn btn-primary"
                    data-testid="template-send"
                    on:click=send_now
                    disabled=move || sending.get()
                    aria-busy=move || sending.get().to_string()
                >
                    {move || if sending.get() { "Sending…" } else { "Send template" }}
                </button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_window_reads_in_hours_and_minutes() {
        let minute = 60_000;
        assert_eq!(remaining((3 * 60 + 12) * minute), "3h 12m");
        assert_eq!(remaining(45 * minute), "45m");
        assert_eq!(remaining(10_000), "1m");
        assert_eq!(remaining(2 * 60 * minute), "2h");
        assert_eq!(remaining(24 * 60 * minute - 5_000), "24h");
        assert_eq!(remaining(3 * 24 * 60 * minute), "3d");
        assert_eq!(remaining((5 * 24 * 60 + 3 * 60 + 20) * minute), "5d 3h");
        assert_eq!(remaining(-5), "1m");
    }
}
