//! The @mentions list and the sidebar's unread count. A mention stays unread until its person
//! reads it here (opening it reads it), whatever happens in the conversation meanwhile. The
//! count is shared by the sidebar and the page ([`UnreadMentions`]), loaded once and then kept
//! by `note:added` events that mention the signed-in person.

use crate::inbox::{list_mentions, read_mention};
use crate::model::{Id, Mention};
use crate::ui::Shell;
use crate::ui::components::{EmptyState, ErrorState, RelTime, toast_error};
use crate::ui::inbox::live::on_live_event;
use leptos::prelude::*;
use leptos_meta::Title;

/// How many of the signed-in person's mentions are unread.
#[derive(Clone, Copy)]
pub struct UnreadMentions(pub RwSignal<usize>);

impl UnreadMentions {
    /// Provided once by the app shell; loads the count and follows new mentions live.
    pub fn provide() -> Self {
        let count = UnreadMentions(RwSignal::new(0));
        provide_context(count);
        Effect::new(move |_| {
            leptos::task::spawn_local(async move {
                if let Ok(unread) = list_mentions(true).await {
                    let _ = count.0.try_set(unread.len());
                }
            });
        });
        // Looked up now: event handlers run outside the component tree, where context is gone.
        let shell = Shell::get();
        let toasts = crate::ui::components::Toasts::get();
        on_live_event(move |event| {
            let me = shell.and_then(Shell::session_untracked).map(|s| s.user.id);
            if let (Some(note), Some(me)) = (&event.note, me)
                && note.mentions.contains(&me)
                && note.author_id != me
            {
                count.0.update(|n| *n += 1);
                if let Some(toasts) = toasts {
                    toasts.info(format!(
                        "{} mentioned you: {}",
                        note.author_name,
                        crate::model::preview(&note.body, &[])
                    ));
                }
            }
        });
        count
    }

    pub fn get() -> Option<Self> {
        use_context::<Self>()
    }
}

#[component]
pub fn MentionsPage() -> impl IntoView {
    let mentions = LocalResource::new(|| list_mentions(false));
    view! {
        <Title text="Mentions · Messio"/>
        <div class="settings mentions-page" data-testid="mentions-page">
            <div class="settings-head">
                <h1>"Mentions"</h1>
                <p class="muted">"Notes where a teammate @mentioned you. Opening one marks it read."</p>
            </div>
            <div class="settings-body">
            <Suspense fallback=|| view! { <p class="muted" aria-busy="true">"Loading mentions…"</p> }>
                {move || Suspend::new(async move {
                    match mentions.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No mentions yet" hint="When a teammate @mentions you in a note, it shows up here."/>
                        }
                        .into_any(),
                        Ok(list) => view! { <MentionList list/> }.into_any(),
                        Err(error) => view! { <ErrorState error/> }.into_any(),
                    }
                })}
            </Suspense>
            </div>
        </div>
    }
}

#[component]
fn MentionList(list: Vec<Mention>) -> impl IntoView {
    let rows = RwSignal::new(list);
    let mark_read = move |note_id: Id| {
        leptos::task::spawn_local(async move {
            match read_mention(note_id).await {
                Ok(read) => {
                    let was_unread = rows
                        .try_update(|list| {
                            let row = list.iter_mut().find(|m| m.note.id == note_id)?;
                            let was_unread = row.read_at.is_none();
                            *row = read;
                            Some(was_unread)
                        })
                        .flatten()
                        .unwrap_or(false);
                    if was_unread && let Some(count) = UnreadMentions::get() {
                        count.0.update(|n| *n = n.saturating_sub(1));
                    }
                }
                Err(error) => toast_error(&error),
            }
        });
    };
    view! {
        <ul class="mention-list">
            <For each=move || rows.get() key=|m| (m.note.id, m.read_at) let:mention>
                {
                    let note_id = mention.note.id;
                    let unread = mention.read_at.is_none();
                    let href = format!("/inbox/{}", mention.note.conversation_id);
                    view! {
                        <li class="mention" class:mention-unread=unread data-testid="mention" data-unread=unread.to_string()>
                            <a class="mention-link" href=href on:click=move |_| mark_read(note_id)>
                                <span class="mention-head">
                                    <strong>{mention.note.author_name.clone()}</strong>
                                    " in the conversation with "
                                    <strong>{mention.contact_name.clone()}</strong>
                                    " · "
                                    <RelTime ts=mention.note.created_at/>
                                </span>
                                <span class="mention-body">{mention.note.body.clone()}</span>
                            </a>
                            {unread.then(|| view! {
                                <button
                                    type="button"
                                    class="btn btn-ghost btn-sm"
                                    data-testid="mention-read"
                                    on:click=move |_| mark_read(note_id)
                                >
                                    "Mark read"
                                </button>
                            })}
                        </li>
                    }
                }
            </For>
        </ul>
    }
}
