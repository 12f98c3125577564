//! `/settings/channels/facebook?pick=ID`: after Facebook login, choose which of the pages
//! the user manages should feed the inbox. Picking an already connected page refreshes its
//! access (that is how an expired page is reconnected).

use super::SettingsFrame;
use crate::channels::{ConnectFacebookPages, connect_facebook_pages, facebook_candidates};
use crate::error::AppError;
use crate::ui::components::{EmptyState, ErrorAlert, Loading};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

#[component]
pub fn FacebookPickPage() -> impl IntoView {
    let query = use_query_map();
    let pick = Memo::new(move |_| query.with(|q| q.get("pick")).filter(|p| !p.is_empty()));
    let candidates = Resource::new(
        move || pick.get(),
        |pick| async move {
            match pick {
                Some(pick) => facebook_candidates(pick).await,
                None => Err(AppError::invalid("Start from “Connect Facebook” on the Channels page.")),
            }
        },
    );
    let selected = RwSignal::new(Vec::<String>::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let page_ids = selected.get_untracked();
        if page_ids.is_empty() {
            error.set(Some("Pick at least one page to connect.".into()));
            return;
        }
        let Some(pick) = pick.get_untracked() else { return };
        busy.set(true);
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match connect_facebook_pages(pick, page_ids).await {
                Ok(channels) => navigate(
                    &format!("/settings/channels?connected={}", channels.len()),
                    Default::default(),
                ),
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
            let _ = busy.try_set(false);
        });
    };

    view! {
        <Title text="Connect Facebook pages · Settings · Messio"/>
        <SettingsFrame title="Connect Facebook pages" subtitle="Choose the pages whose Messenger conversations should come to this inbox.">
            <section class="card">
                <Transition fallback=|| view! { <Loading label="Loading your pages…"/> }>
                    {move || Suspend::new({
                        let on_submit = on_submit.clone();
                        async move {
                            match candidates.await {
                                Ok(pages) if pages.is_empty() => view! {
                                    <EmptyState title="No pages found" hint="This Facebook account manages no pages, or didn't grant access to any.">
                                        <a class="btn" href="/settings/channels">"Back to channels"</a>
                                    </EmptyState>
                                }
                                .into_any(),
                                Ok(pages) => view! {
                                    <form class="page-picker" method="post" action=ConnectFacebookPages::PATH on:submit=on_submit>
                                        <input type="hidden" name="pick" value=pick.get_untracked().unwrap_or_default()/>
                                        <fieldset>
                                            <legend>"Pages you manage"</legend>
                                            <ul class="page-options">
                                                {pages.into_iter().enumerate().map(|(i, page)| {
                                                    let id = page.id.clone();
                                                    let input_id = format!("page-{i}");
                                                    let on_change = {
                                                        let id = id.clone();
                                                        move |ev: leptos::ev::Event| {
                                                            let checked = event_target_checked(&ev);
                                                            selected.update(|s| {
                                                                s.retain(|x| *x != id);
                                                                if checked {
                                                                    s.push(id.clone());
                                                                }
                                                            });
                                                        }
                                                    };
                                                    view! {
                                                        <li>
                                                            <label class="page-option" class:connected=page.connected for=input_id.clone()>
                                                                <input
                                                                    type="checkbox"
                                                                    id=input_id.clone()
                                                                    name=format!("page_ids[{i}]")
                                                                    value=id
                                                                    data-testid="page-option"
                                                                    data-connected=page.connected.to_string()
                                                                    on:change=on_change
                                                                />
                                                                <span class="page-text">
                                                                    <span class="page-name">{page.name}</span>
                                                                    {page.category.map(|c| view! { <span class="page-category">{c}</span> })}
                                                                </span>
                                                                {page.connected.then(|| view! {
                                                                    <span class="badge badge-channel-active" title="Selecting it again refreshes its access">"Already connected"</span>
                                                                })}
                                                            </label>
                                                        </li>
                                                    }
                                                }).collect_view()}
                                            </ul>
                                        </fieldset>
                                        {move || error.get().map(|message| view! { <ErrorAlert message/> })}
                                        <div class="form-actions">
                                            <a class="btn btn-ghost" href="/settings/channels">"Cancel"</a>
                                            <button type="submit" class="btn btn-primary" data-testid="connect-selected" aria-busy=move || busy.get().to_string()>
                                                {move || {
                                                    let n = selected.with(Vec::len);
                                                    if busy.get() {
                                                        "Connecting…".to_string()
                                                    } else if n > 0 {
                                                        format!("Connect selected ({n})")
                                                    } else {
                                                        "Connect selected".to_string()
                                                    }
                                                }}
                                            </button>
                                        </div>
                                    </form>
                                }
                                .into_any(),
                                Err(e) => view! {
                                    <div class="empty-state">
                                        <ErrorAlert message=e.to_string()/>
                                        <a class="btn" href="/settings/channels">"Back to channels"</a>
                                    </div>
                                }
                                .into_any(),
                            }
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}
