//! Settings → Channels: what feeds the inbox, its health, connecting Facebook pages,
//! reconnecting expired ones, and disconnecting.

use super::SettingsFrame;
use crate::channels::{check_channel_health, disconnect_channel, facebook_login_available, list_channels};
use crate::model::{Channel, ChannelKind, ChannelStatus, Id};
use crate::ui::Shell;
use crate::ui::components::{ChannelStatusBadge, EmptyState, ErrorAlert, ErrorState, RelTime, Toasts, toast_error};
use crate::ui::inbox::live::on_live_event;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The server route that starts Facebook login (it redirects to Facebook's dialog).
pub const CONNECT_FACEBOOK_PATH: &str = "/connect/facebook";

fn replace_channel(rows: RwSignal<Vec<Channel>>, channel: Channel) {
    let _ = rows.try_update(|rs| match rs.iter_mut().find(|r| r.id == channel.id) {
        Some(row) => *row = channel,
        None => rs.push(channel),
    });
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let shell = Shell::get();
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error")).filter(|e| !e.is_empty());
    let connected = move || query.with(|q| q.get("connected")).and_then(|n| n.parse::<usize>().ok());
    let channels = Resource::new(|| (), |_| list_channels());

    view! {
        <Title text="Channels · Settings · Messio"/>
        <SettingsFrame title="Channels" subtitle="Where your customers' messages come from.">
            {move || error().map(|message| view! { <ErrorAlert message/> })}
            {move || connected().map(|n| view! {
                <div class="alert alert-success" role="status">
                    {if n == 1 { "Connected 1 page.".to_string() } else { format!("Connected {n} pages.") }}
                </div>
            })}
            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>"Connected channels"</h2>
                        <p class="muted">"Messages from these channels land in the inbox."</p>
                    </div>
                    <ConnectFacebook/>
                </div>
                <Transition fallback=|| view! { <ChannelSkeleton/> }>
                    {move || Suspend::new(async move {
                        let can_manage = can_manage(shell).await;
                        match channels.await {
                            Ok(channels) => view! { <ChannelList channels can_manage/> }.into_any(),
                            Err(error) => view! { <ErrorState error/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </SettingsFrame>
    }
}

/// Whether the signed-in user may manage channels (waits for the session).
async fn can_manage(shell: Option<Shell>) -> bool {
    match shell {
        Some(shell) => shell.session_async().await.is_some_and(|s| s.user.role.can_manage()),
        None => false,
    }
}

#[component]
fn ConnectFacebook() -> impl IntoView {
    let shell = Shell::get();
    let available = Resource::new(|| (), |_| facebook_login_available());
    view! {
        <Transition fallback=|| view! { <span class="btn btn-primary" aria-disabled="true">"Connect Facebook"</span> }>
            {move || Suspend::new(async move {
                let can_manage = can_manage(shell).await;
                let available = available.await.unwrap_or(false);
                let reason = if !can_manage {
                    Some("Only owners and admins can connect channels.")
                } else if !available {
                    Some("Facebook login isn't configured on this server (META_APP_ID / META_APP_SECRET).")
                } else {
                    None
                };
                match reason {
                    None => view! {
                        <a class="btn btn-primary btn-facebook" href=CONNECT_FACEBOOK_PATH rel="external" data-testid="connect-facebook">
                            <FacebookIcon/>
                            "Connect Facebook"
                        </a>
                    }
                    .into_any(),
                    Some(reason) => view! {
                        <div class="connect-disabled">
                            <span
                                class="btn btn-primary btn-facebook disabled"
                                role="link"
                                aria-disabled="true"
                                aria-describedby="connect-facebook-why"
                                data-testid="connect-facebook"
                            >
                                <FacebookIcon/>
                                "Connect Facebook"
                            </span>
                            <p class="field-hint" id="connect-facebook-why">{reason}</p>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn FacebookIcon() -> impl IntoView {
    view! {
        <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true">
            <path d="M12 3a9 9 0 0 0-5 16.5L6.5 22l3-1.6c.8.2 1.6.3 2.5.3a9 9 0 0 0 0-17.7z"/>
            <path d="M7.5 13.5l3-3 2 2 4-3-3 3-2-2z"/>
        </svg>
    }
}

#[component]
fn ChannelSkeleton() -> impl IntoView {
    view! {
        <ul class="channel-list" aria-busy="true" aria-label="Loading channels">
            {(0..2).map(|_| view! {
                <li class="channel-row skeleton">
                    <span class="channel-icon skeleton-block"></span>
                    <div class="channel-main">
                        <span class="skeleton-line w-40"></span>
                        <span class="skeleton-line w-60"></span>
                    </div>
                </li>
            }).collect_view()}
        </ul>
    }
}

fn channel_key(c: &Channel) -> (Id, &'static str, Option<String>, String) {
    (c.id, c.status.as_str(), c.last_error.clone(), c.name.clone())
}

/// The channels, kept current by live `channel:status` events.
#[component]
fn ChannelList(channels: Vec<Channel>, can_manage: bool) -> impl IntoView {
    let rows = RwSignal::new(channels);
    on_live_event(move |event| {
        if let Some(update) = &event.channel {
            match &update.channel {
                Some(channel) => replace_channel(rows, channel.clone()),
                None => {
                    let _ = rows.try_update(|rs| {
                        if let Some(row) = rs.iter_mut().find(|r| r.id == update.channel_id) {
                            row.status = update.status;
                            row.last_error = update.last_error.clone();
                        }
                    });
                }
            }
        }
    });
    view! {
        <Show
            when=move || rows.with(|r| !r.is_empty())
            fallback=|| view! {
                <EmptyState title="No channels yet" hint="Connect a Facebook page to start receiving Messenger conversations."/>
            }
        >
            <ul class="channel-list">
                <For each=move || rows.get() key=channel_key let:channel>
                    <ChannelRow channel rows can_manage/>
                </For>
            </ul>
        </Show>
    }
}

#[component]
fn ChannelRow(channel: Channel, rows: RwSignal<Vec<Channel>>, can_manage: bool) -> impl IntoView {
    let checking = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let disconnecting = RwSignal::new(false);
    let Channel {
        id,
        kind,
        external_id,
        name,
        status,
        last_error,
        created_at,
    } = channel;

    let check = move |_| {
        checking.set(true);
        leptos::task::spawn_local(async move {
            match check_channel_health(id).await {
                Ok(channel) => {
                    if let Some(toasts) = Toasts::get() {
                        match channel.status {
                            ChannelStatus::Active => toasts.info(format!("{} is healthy.", channel.name)),
                            _ => toasts.error(format!(
                                "{}: {}",
                                channel.name,
                                channel.last_error.clone().unwrap_or_else(|| "needs attention".into())
                            )),
                        }
                    }
                    replace_channel(rows, channel);
                }
                Err(error) => toast_error(&error),
            }
            let _ = checking.try_set(false);
        });
    };
    let disconnect = move |_| {
        disconnecting.set(true);
        leptos::task::spawn_local(async move {
            match disconnect_channel(id).await {
                Ok(channel) => replace_channel(rows, channel),
                Err(error) => toast_error(&error),
            }
            let _ = disconnecting.try_set(false);
            let _ = confirming.try_set(false);
        });
    };
    let kind_class = format!("channel-icon channel-{}", kind.as_str());

    view! {
        <li
            class="channel-row"
            class:channel-off=status == ChannelStatus::Disconnected
            data-testid="channel-row"
            data-status=status.as_str()
            data-channel-id=id.to_string()
        >
            <span class=kind_class aria-hidden="true">{if kind == ChannelKind::Messenger { "f" } else { "D" }}</span>
            <div class="channel-main">
                <div class="channel-title">
                    <span class="channel-name">{name.clone()}</span>
                    <ChannelStatusBadge status/>
                </div>
                <div class="channel-meta">
                    <span>{kind.label()}</span>
                    <span class="sep" aria-hidden="true">"·"</span>
                    <span title="Account id on the platform"><code>{external_id}</code></span>
                    <span class="sep" aria-hidden="true">"·"</span>
                    <span>"added " <RelTime ts=created_at/></span>
                </div>
                {last_error.map(|e| view! { <p class="channel-error">{e}</p> })}
            </div>
            <div class="channel-actions">
                {(status != ChannelStatus::Disconnected).then(|| view! {
                    <button
                        type="button"
                        class="btn btn-sm"
                        data-testid="check-health"
                        on:click=check
                        disabled=move || checking.get()
                        aria-busy=move || checking.get().to_string()
                    >
                        {move || if checking.get() { "Checking…" } else { "Check health" }}
                    </button>
                })}
                {(status == ChannelStatus::NeedsReconnect && kind == ChannelKind::Messenger && can_manage).then(|| view! {
                    <a class="btn btn-sm btn-warn" href=CONNECT_FACEBOOK_PATH rel="external" data-testid="reconnect-channel">
                        "Reconnect"
                    </a>
                })}
                {(status != ChannelStatus::Disconnected && can_manage).then(|| view! {
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! {
                            <button
                                type="button"
                                class="btn btn-sm btn-ghost btn-danger-text"
                                data-testid="disconnect"
                                on:click=move |_| confirming.set(true)
                            >
                                "Disconnect"
                            </button>
                        }
                    >
                        <div class="confirm" role="group" aria-label=format!("Disconnect {}?", name)>
                            <span class="confirm-text">"Stop receiving messages from this channel?"</span>
                            <button
                                type="button"
                                class="btn btn-sm btn-danger"
                                data-testid="confirm-disconnect"
                                on:click=disconnect
                                disabled=move || disconnecting.get()
                            >
                                {move || if disconnecting.get() { "Disconnecting…" } else { "Disconnect" }}
                            </button>
                            <button type="button" class="btn btn-sm btn-ghost" on:click=move |_| confirming.set(false)>
                                "Cancel"
                            </button>
                        </div>
                    </Show>
                })}
            </div>
        </li>
    }
}
