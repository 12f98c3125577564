//! Who the customer is: avatar, name, the channels they reach us on, the conversation's
//! facts, and the team's private notes on it (never sent to the customer; kept live with
//! `note:added` / `note:deleted`).

use super::live::on_live_event;
use super::thread::ThreadState;
use crate::inbox::{add_note, delete_note, list_notes};
use crate::model::{Id, Note};
use crate::ui::Shell;
use crate::ui::components::toast_error;
use crate::ui::components::{Avatar, ChannelIcon, Clock, RelTime, conversation_status_label, full_datetime};
use leptos::prelude::*;

#[component]
pub fn ContactPanel() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let clock = Clock::get();
    let contact = thread.contact;
    let conversation = thread.conversation;

    let channel_name =
        move |channel_id| conversation.with(|c| (c.channel_id == channel_id).then(|| c.channel_name.clone()));

    view! {
        <aside class="contact-pane" aria-label="Contact details">
            <div class="contact-card">
                {move || {
                    let (name, url) = contact.with(|c| (c.name.clone(), c.avatar_url.clone()));
                    view! { <Avatar name url=url.unwrap_or_default() large=true/> }
                }}
                <h3 class="contact-name">{move || contact.with(|c| c.name.clone())}</h3>
                <p class="muted contact-channel">
                    {move || view! { <ChannelIcon kind=conversation.with(|c| c.channel_kind)/> }}
                    <span>{move || conversation.with(|c| c.channel_name.clone())}</span>
                </p>
            </div>

            <section class="contact-section">
                <h4>"Reaches you on"</h4>
                <ul class="identities">
                    {move || contact.with(|c| c.identities.clone()).into_iter().map(|identity| {
                        let name = channel_name(identity.channel_id);
                        view! {
                            <li class="identity" data-kind=identity.channel_kind.as_str()>
                                <ChannelIcon kind=identity.channel_kind decorative=true/>
                                <div>
                                    <div class="identity-kind">{identity.channel_kind.label()}</div>
                                    {name.map(|n| view! { <div class="identity-channel">{n}</div> })}
                                    <div class="identity-id" title="Customer id on this channel"><code>{identity.external_id}</code></div>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>

            <section class="contact-section">
                <h4>"Conversation"</h4>
                <dl class="facts">
                    <dt>"Status"</dt>
                    <dd>{move || conversation_status_label(conversation.with(|c| c.status))}</dd>
                    <dt>"Assignee"</dt>
                    <dd>{move || conversation.with(|c| c.assignee_name.clone()).unwrap_or_else(|| "Nobody".into())}</dd>
                    <dt>"Started"</dt>
                    <dd>{move || {
                        let at = conversation.with(|c| c.created_at);
                        view! { <span title=move || full_datetime(at, clock.tz_offset_min.get())><RelTime ts=at/></span> }
                    }}</dd>
                    <dt>"Customer last wrote"</dt>
                    <dd>{move || match conversation.with(|c| c.last_inbound_at) {
                        Some(at) => view! { <RelTime ts=at/> }.into_any(),
                        None => "Never".into_any(),
                    }}</dd>
                </dl>
            </section>
            <NotesSection/>
        </aside>
    }
}

/// The team's private notes on this conversation: oldest first, a box to add one (Enter
/// adds, Shift+Enter breaks the line), delete on one's own (managers on any).
#[component]
fn NotesSection() -> impl IntoView {
    let thread = expect_context::<ThreadState>();
    let conversation_id = thread.id;
    let notes = RwSignal::new(Vec::<Note>::new());
    let loaded = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let me = Shell::get().and_then(Shell::session_untracked).map(|s| s.user);
    let (my_id, manager) = me.map_or((0, false), |u| (u.id, u.role.can_manage()));
    let typing = super::team::TypingSignal::new(conversation_id, true);
    let suggestions = super::team::mention_suggestions(draft);
    let active = RwSignal::new(0usize);
    let pick = move |name: String| {
        draft.update(|d| *d = super::team::insert_mention(d, &name));
        active.set(0);
    };

    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            match list_notes(conversation_id).await {
                Ok(list) => {
                    let _ = notes.try_set(list);
                }
                Err(error) => toast_error(&error),
            }
            let _ = loaded.try_set(true);
        });
    });
    on_live_event(move |event| {
        if event.conversation_id != Some(conversation_id) {
            return;
        }
        if let Some(note) = &event.note {
            let _ = notes.try_update(|list| {
                if !list.iter().any(|n| n.id == note.id) {
                    list.push(note.clone());
                }
            });
        }
        if let Some(gone) = event.deleted_note {
            let _ = notes.try_update(|list| list.retain(|n| n.id != gone));
        }
    });

    let add = move || {
        let text = draft.get_untracked().trim().to_string();
        if text.is_empty() || busy.get_untracked() {
            return;
        }
        typing.stop();
        busy.set(true);
        leptos::task::spawn_local(async move {
            match add_note(conversation_id, text).await {
                Ok(note) => {
                    let _ = notes.try_update(|list| {
                        if !list.iter().any(|n| n.id == note.id) {
                            list.push(note);
                        }
                    });
                    let _ = draft.try_set(String::new());
                }
                Err(error) => toast_error(&error),
            }
            let _ = busy.try_set(false);
        });
    };
    let remove = move |id: Id| {
        leptos::task::spawn_local(async move {
            match delete_note(id).await {
                Ok(()) => {
                    let _ = notes.try_update(|list| list.retain(|n| n.id != id));
                }
                Err(error) => toast_error(&error),
            }
        });
    };

    view! {
        <section class="contact-section notes" aria-labelledby="notes-title" data-testid="notes">
            <h4 id="notes-title">"Private notes"</h4>
            <p class="muted notes-hint">"Only your team sees these; they never reach the customer."</p>
            <Show when=move || loaded.get() fallback=|| view! { <p class="muted" aria-busy="true">"Loading notes…"</p> }>
                <Show
                    when=move || notes.with(|n| !n.is_empty())
                    fallback=|| view! { <p class="muted notes-empty">"No notes yet."</p> }
                >
                    <ul class="note-list">
                        <For each=move || notes.get() key=|n| n.id let:note>
                            <li class="note" data-testid="note" data-note-id=note.id.to_string()>
                                <div class="note-head">
                                    <strong>{note.author_name.clone()}</strong>
                                    <RelTime ts=note.created_at/>
                                    {(note.author_id == my_id || manager).then(|| {
                                        let id = note.id;
                                        view! {
                                            <button
                                                type="button"
                                                class="btn btn-ghost btn-sm note-delete"
                                                data-testid="note-delete"
                                                aria-label="Delete this note"
                                                on:click=move |_| remove(id)
                                            >
                                                "×"
                                            </button>
                                        }
                                    })}
                                </div>
                                <p class="note-body">{note.body.clone()}</p>
                            </li>
                        </For>
                    </ul>
                </Show>
            </Show>
            <form
                class="note-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    add();
                }
            >
                <label for="note-input" class="sr-only">"Add a private note"</label>
                <textarea
                    id="note-input"
                    data-testid="note-input"
                    rows="2"
                    placeholder="Add a note for your team; @Name mentions a teammate…"
                    aria-autocomplete="list"
                    aria-controls="mention-suggestions"
                    prop:value=move || draft.get()
                    on:input=move |ev| {
                        draft.set(event_target_value(&ev));
                        active.set(0);
                        typing.input();
                    }
                    on:blur=move |_| typing.stop()
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        let open = suggestions();
                        if !open.is_empty() {
                            match ev.key().as_str() {
                                "ArrowDown" => {
                                    ev.prevent_default();
                                    active.update(|a| *a = (*a + 1) % open.len());
                                    return;
                                }
                                "ArrowUp" => {
                                    ev.prevent_default();
                                    active.update(|a| *a = (*a + open.len() - 1) % open.len());
                                    return;
                                }
                                "Enter" | "Tab" => {
                                    ev.prevent_default();
                                    let index = active.get_untracked().min(open.len() - 1);
                                    pick(open[index].clone());
                                    return;
                                }
                                "Escape" => {
                                    ev.prevent_default();
                                    draft.update(|d| d.push(' '));
                                    return;
                                }
                                _ => {}
                            }
                        }
                        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
                            ev.prevent_default();
                            add();
                        }
                    }
                ></textarea>
                <super::team::MentionSuggestions draft active pick=pick/>
                <button
                    type="submit"
                    class="btn btn-sm"
                    data-testid="note-add"
                    disabled=move || busy.get() || draft.with(|d| d.trim().is_empty())
                >
                    "Add note"
                </button>
            </form>
        </section>
    }
}
