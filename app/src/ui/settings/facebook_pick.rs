//! `/settings/channels/facebook?pick=ID`: after Facebook login, choose which of the
//! accounts the user manages (pages for Messenger, the Instagram accounts linked to them,
//! WhatsApp numbers) should feed the inbox. Picking an already connected one refreshes its
//! access (that is how an expired channel is reconnected).

use super::SettingsFrame;
use crate::channels::{ConnectFacebookPages, connect_facebook_pages, facebook_candidates};
use crate::error::AppError;
use crate::model::{ChannelKind, PageCandidate};
use crate::ui::components::{ChannelIcon, EmptyState, ErrorAlert, Loading};
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
            error.set(Some("Pick at least one account to connect.".into()));
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
        <Title text="Connect Facebook accounts · Settings · Messio"/>
        <SettingsFrame
            title="Connect Facebook accounts"
            subtitle="Choose the pages, Instagram accounts and WhatsApp numbers whose conversations should come to this inbox."
        >
            <section class="card">
                <Transition fallback=|| view! { <Loading label="Loading your accounts…"/> }>
                    {move || Suspend::new({
                        let on_submit = on_submit.clone();
                        async move {
                            match candidates.await {
                                Ok(pages) if pages.is_empty() => view! {
                                    <EmptyState
                                        title="Nothing to connect"
                                        hint="This Facebook account manages no pages, Instagram accounts or WhatsApp numbers, or didn't grant access to any."
                                    >
                                        <a class="btn" href="/settings/channels">"Back to channels"</a>
                                    </EmptyState>
                                }
                                .into_any(),
                                Ok(pages) => view! {
                                    <form class="page-picker" method="post" action=ConnectFacebookPages::PATH on:submit=on_submit>
                                        <input type="hidden" name="pick" value=pick.get_untracked().unwrap_or_default()/>
                                        {grouped(pages)
                                            .into_iter()
                                            .map(|(kind, group)| view! { <CandidateGroup kind group selected/> })
                                            .collect_view()}
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

/// The picker's sections, one per kind in `ChannelKind::ALL` order; empty ones are left out.
fn grouped(pages: Vec<PageCandidate>) -> Vec<(ChannelKind, Vec<(usize, PageCandidate)>)> {
    // The index keeps input ids and form field names unique across groups.
    let indexed: Vec<(usize, PageCandidate)> = pages.into_iter().enumerate().collect();
    ChannelKind::ALL
        .iter()
        .copied()
        .map(|kind| {
            let group: Vec<(usize, PageCandidate)> = indexed.iter().filter(|(_, p)| p.kind == kind).cloned().collect();
            (kind, group)
        })
        .filter(|(_, group)| !group.is_empty())
        .collect()
}

#[component]
fn CandidateGroup(
    kind: ChannelKind,
    group: Vec<(usize, PageCandidate)>,
    selected: RwSignal<Vec<String>>,
) -> impl IntoView {
    view! {
        <fieldset class="candidate-group" data-kind=kind.as_str()>
            <legend>
                <ChannelIcon kind decorative=true/>
                {kind.platform().accounts_heading}
            </legend>
            <ul class="page-options">
                {group
                    .into_iter()
                    .map(|(i, page)| {
                        let key = page.key();
                        let input_id = format!("page-{i}");
                        let on_change = {
                            let key = key.clone();
                            move |ev: leptos::ev::Event| {
                                let checked = event_target_checked(&ev);
                                selected.update(|s| {
                                    s.retain(|x| *x != key);
                                    if checked {
                                        s.push(key.clone());
                                    }
                                });
                            }
                        };
                        let detail = page.detail.clone().or_else(|| page.category.clone());
                        view! {
                            <li class="candidate-row" data-kind=kind.as_str()>
                                <label class="page-option" class:connected=page.connected for=input_id.clone()>
                                    <input
                                        type="checkbox"
                                        id=input_id.clone()
                                        name=format!("page_ids[{i}]")
                                        value=key
                                        data-testid="page-option"
                                        data-kind=kind.as_str()
                                        data-candidate-id=page.id.clone()
                                        data-connected=page.connected.to_string()
                                        on:change=on_change
                                    />
                                    <ChannelIcon kind/>
                                    <span class="page-text">
                                        <span class="page-name">{page.name}</span>
                                        {detail.map(|d| view! { <span class="page-category">{d}</span> })}
                                    </span>
                                    {page.connected.then(|| view! {
                                        <span class="badge badge-channel-active" title="Selecting it again refreshes its access">"Already connected"</span>
                                    })}
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </fieldset>
    }
}
