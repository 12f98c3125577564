//! Settings → Channels: what feeds the inbox, its health, connecting through Facebook
//! login (pages, their Instagram accounts, WhatsApp numbers), a WhatsApp number by hand, or
//! any kind that connects with a form of its own (a Telegram bot's token), drawn from the
//! fields the kind declares (`Platform::connect_form`); reconnecting expired ones, and
//! disconnecting.

use super::SettingsFrame;
use crate::channels::{
    ConnectChannelForm, ConnectWhatsappNumber, check_channel_health, connect_channel_form, connect_whatsapp_number,
    disconnect_channel, facebook_login_available, list_channels,
};
use crate::model::{Channel, ChannelKind, ChannelStatus, Id};
use crate::ui::Shell;
use crate::ui::components::{
    ChannelIcon, ChannelStatusBadge, ConfirmAction, EmptyState, ErrorAlert, ErrorState, RelTime, Toasts, toast_error,
};
use crate::ui::inbox::live::on_live_event;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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

/// What the page shares between the channel list and the WhatsApp form.
#[derive(Clone, Copy)]
struct ChannelsCtx {
    /// The rows of the loaded list (registered by it, so a new channel can join them).
    rows: StoredValue<Option<RwSignal<Vec<Channel>>>>,
    wa: WaForm,
}

/// The "connect a WhatsApp number by hand" form; a row whose token expired opens it prefilled.
#[derive(Clone, Copy)]
struct WaForm {
    open: RwSignal<bool>,
    phone_number_id: RwSignal<String>,
    waba_id: RwSignal<String>,
    access_token: RwSignal<String>,
}

impl WaForm {
    fn new() -> Self {
        WaForm {
            open: RwSignal::new(false),
            phone_number_id: RwSignal::new(String::new()),
            waba_id: RwSignal::new(String::new()),
            access_token: RwSignal::new(String::new()),
        }
    }

    fn open_for(self, phone_number_id: &str, waba_id: &str) {
        self.phone_number_id.set(phone_number_id.to_string());
        self.waba_id.set(waba_id.to_string());
        self.access_token.set(String::new());
        self.open.set(true);
        #[cfg(feature = "hydrate")]
        request_animation_frame(|| {
            use wasm_bindgen::JsCast;
            if let Some(el) = document()
                .get_element_by_id("wa-connect")
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                el.scroll_into_view();
            }
            if let Some(input) = document()
                .get_element_by_id("wa-access-token")
                .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = input.focus();
            }
        });
    }
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let shell = Shell::get();
    let ctx = ChannelsCtx {
        rows: StoredValue::new(None),
        wa: WaForm::new(),
    };
    provide_context(ctx);
    let query = use_query_map();
    let error = move || query.with(|q| q.get("error")).filter(|e| !e.is_empty());
    let connected = move || query.with(|q| q.get("connected")).and_then(|n| n.parse::<usize>().ok());
    let channels = Resource::new(|| (), |_| list_channels());
    let on_connected = Callback::new(move |channel: Channel| match ctx.rows.try_get_value().flatten() {
        Some(rows) => replace_channel(rows, channel),
        None => channels.refetch(),
    });

    view! {
        <Title text="Channels · Settings · Messio"/>
        <SettingsFrame title="Channels" subtitle="Where your customers' messages come from.">
            {move || error().map(|message| view! { <ErrorAlert message/> })}
            {move || connected().map(|n| view! {
                <div class="alert alert-success" role="status">
                    {if n == 1 { "Connected 1 channel.".to_string() } else { format!("Connected {n} channels.") }}
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
                        let can_manage = Shell::can_manage(shell).await;
                        match channels.await {
                            Ok(channels) => view! { <ChannelList channels can_manage/> }.into_any(),
                            Err(error) => view! { <ErrorState error/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    Shell::can_manage(shell).await.then(|| view! {
                        {form_kinds().map(|kind| view! { <ConnectByForm kind on_connected/> }).collect_view()}
                        <ConnectWhatsApp on_connected/>
                    })
                })}
            </Transition>
        </SettingsFrame>
    }
}

#[component]
fn ConnectFacebook() -> impl IntoView {
    let shell = Shell::get();
    let available = Resource::new(|| (), |_| facebook_login_available());
    view! {
        <Transition fallback=|| view! { <span class="btn btn-primary" aria-disabled="true">"Connect Facebook"</span> }>
            {move || Suspend::new(async move {
                let can_manage = Shell::can_manage(shell).await;
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
                        <div class="connect-box">
                            <a
                                class="btn btn-primary btn-facebook"
                                href=CONNECT_FACEBOOK_PATH
                                rel="external"
                                data-testid="connect-facebook"
                                aria-describedby="connect-facebook-what"
                            >
                                <FacebookIcon/>
                                "Connect Facebook"
                            </a>
                            <p class="field-hint" id="connect-facebook-what">{CONNECT_FACEBOOK_WHAT}</p>
                        </div>
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
                            <p class="field-hint">{CONNECT_FACEBOOK_WHAT}</p>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

const CONNECT_FACEBOOK_WHAT: &str =
    "Connects your Facebook pages, the Instagram accounts linked to them and your WhatsApp numbers.";

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

fn channel_key(c: &Channel) -> (Id, &'static str, Option<String>, String, Option<String>) {
    (
        c.id,
        c.status.as_str(),
        c.last_error.clone(),
        c.name.clone(),
        c.parent_account_id.clone(),
    )
}

/// The channels, kept current by live `channel:status` events.
#[component]
fn ChannelList(channels: Vec<Channel>, can_manage: bool) -> impl IntoView {
    let rows = RwSignal::new(channels);
    if let Some(ctx) = use_context::<ChannelsCtx>() {
        ctx.rows.set_value(Some(rows));
    }
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
                <EmptyState title="No channels yet" hint="Connect Facebook to bring in Messenger, Instagram and WhatsApp conversations, or connect a Telegram bot below."/>
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
        parent_account_id,
    } = channel;
    let wa_form = use_context::<ChannelsCtx>().map(|ctx| ctx.wa);

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
    let meta = channel_meta(kind, &name, external_id.clone(), parent_account_id.clone());
    let paste_token = (kind == ChannelKind::WhatsApp && status == ChannelStatus::NeedsReconnect && can_manage)
        .then_some(wa_form)
        .flatten()
        .map(|form| {
            let waba_id = parent_account_id.clone().unwrap_or_default();
            let phone_number_id = external_id.clone();
            move |_| form.open_for(&phone_number_id, &waba_id)
        });

    view! {
        <li
            class="channel-row"
            class:channel-off=status == ChannelStatus::Disconnected
            data-testid="channel-row"
            data-status=status.as_str()
            data-channel-id=id.to_string()
            data-kind=kind.as_str()
        >
            <ChannelIcon kind large=true/>
            <div class="channel-main">
                <div class="channel-title">
                    <span class="channel-name">{name.clone()}</span>
                    <ChannelStatusBadge status/>
                </div>
                <div class="channel-meta">
                    <span class="channel-kind">{kind.label()}</span>
                    {meta}
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
                {paste_token.map(|on_click| view! {
                    <button type="button" class="btn btn-sm btn-warn" data-testid="wa-paste-token" on:click=on_click>
                        "Paste a new token"
                    </button>
                })}
                {(status == ChannelStatus::NeedsReconnect && kind.platform().connects_by_facebook_login() && can_manage).then(|| view! {
                    <a class="btn btn-sm btn-warn" href=CONNECT_FACEBOOK_PATH rel="external" data-testid="reconnect-channel">
                        "Reconnect"
                    </a>
                })}
                {(status != ChannelStatus::Disconnected && can_manage).then(|| view! {
                    <ConfirmAction
                        label="Disconnect"
                        busy_label="Disconnecting…"
                        question="Stop receiving messages from this channel?"
                        aria_label=format!("Disconnect {}?", name)
                        open_testid="disconnect"
                        confirm_testid="confirm-disconnect"
                        confirming
                        busy=disconnecting
                        on_confirm=Callback::new(disconnect)
                    />
                })}
            </div>
        </li>
    }
}

/// The platform-specific part of a channel card's second line: the account as its kind
/// describes it (`Platform::account`), then the account above it, if any.
fn channel_meta(kind: ChannelKind, name: &str, external_id: String, parent: Option<String>) -> AnyView {
    let account = kind.platform().account;
    let sep = || view! { <span class="sep" aria-hidden="true">"·"</span> };
    let id = if account.handle_name && name.starts_with('@') {
        view! { <span>{name.to_string()}</span> }.into_any()
    } else if account.id_prefix.is_empty() {
        view! { <span title=account.id_title><code>{external_id}</code></span> }.into_any()
    } else {
        view! { <span title=account.id_title>{account.id_prefix}<code>{external_id}</code></span> }.into_any()
    };
    // Only kinds that have parents get the slot, so the others' markup has no empty one.
    match account.parent {
        Some(about) => view! {
            {sep()}
            {id}
            {parent.map(|parent| view! {
                {sep()}
                <span title=about.title data-testid="channel-parent">{about.prefix}<code>{parent}</code></span>
            })}
        }
        .into_any(),
        None => view! {
            {sep()}
            {id}
        }
        .into_any(),
    }
}

/// Digits only: Meta's ids are numbers, and a pasted label or URL is the usual mistake.
fn check_id(value: &str, what: &str) -> Result<(), String> {
    if value.is_empty() {
        Err(format!("Enter the {what}."))
    } else if !value.chars().all(|c| c.is_ascii_digit()) {
        Err(format!("The {what} is a number (digits only)."))
    } else {
        Ok(())
    }
}

/// For businesses that manage WhatsApp outside Facebook login (a system user's permanent
/// token), or to replace an expired token.
#[component]
fn ConnectWhatsApp(on_connected: Callback<Channel>) -> impl IntoView {
    let ctx = expect_context::<ChannelsCtx>();
    let form = ctx.wa;
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let phone_number_id = form.phone_number_id.get_untracked().trim().to_string();
        let waba_id = form.waba_id.get_untracked().trim().to_string();
        let access_token = form.access_token.get_untracked().trim().to_string();
        let checked = check_id(&phone_number_id, "phone number ID")
            .and_then(|()| check_id(&waba_id, "WhatsApp Business Account ID"))
            .and_then(|()| {
                if access_token.is_empty() {
                    Err("Paste the access token.".to_string())
                } else {
                    Ok(())
                }
            });
        if let Err(message) = checked {
            error.set(Some(message));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match connect_whatsapp_number(phone_number_id, access_token, waba_id).await {
                Ok(channel) => {
                    if let Some(toasts) = Toasts::get() {
                        toasts.info(format!("Connected {}.", channel.name));
                    }
                    on_connected.run(channel);
                    let _ = form.access_token.try_set(String::new());
                    let _ = form.phone_number_id.try_set(String::new());
                    let _ = form.waba_id.try_set(String::new());
                    let _ = form.open.try_set(false);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    let input = |signal: RwSignal<String>| move |ev: leptos::ev::Event| signal.set(event_target_value(&ev));

    view! {
        <section class="card wa-connect" id="wa-connect" aria-labelledby="wa-connect-title">
            <div class="card-head">
                <div class="wa-connect-head">
                    <ChannelIcon kind=ChannelKind::WhatsApp large=true decorative=true/>
                    <div>
                        <h2 id="wa-connect-title">"Connect a WhatsApp number by hand"</h2>
                        <p class="muted">"With IDs and a token from Meta's WhatsApp Manager, without Facebook login."</p>
                    </div>
                </div>
                <Show when=move || !form.open.get()>
                    <button
                        type="button"
                        class="btn"
                        data-testid="wa-connect-open"
                        aria-expanded="false"
                        aria-controls="wa-connect-form"
                        on:click=move |_| {
                            error.set(None);
                            form.open.set(true);
                        }
                    >
                        "Connect WhatsApp number by hand"
                    </button>
                </Show>
            </div>
            <Show when=move || form.open.get()>
                <form
                    id="wa-connect-form"
                    class="wa-connect-form"
                    method="post"
                    action=ConnectWhatsappNumber::PATH
                    on:submit=on_submit
                    aria-busy=move || busy.get().to_string()
                >
                    <div class="wa-help field-hint" id="wa-connect-help">
                        <p>
                            "In "<a href="https://business.facebook.com/wa/manage/phone-numbers/" target="_blank" rel="noopener noreferrer">"Meta's WhatsApp Manager"</a>
                            ", open Account tools → Phone numbers: the "<strong>"phone number ID"</strong>" and the "
                            <strong>"WhatsApp Business Account ID"</strong>" are shown there (also under your app's WhatsApp → API Setup)."
                        </p>
                        <p>
                            "For the "<strong>"access token"</strong>", create a system user in Business settings → Users → System users, "
                            "give it the WhatsApp account, and generate a token with the whatsapp_business_messaging and "
                            "whatsapp_business_management permissions. It is stored encrypted."
                        </p>
                    </div>
                    <div class="grid-2">
                        <div class="field">
                            <label for="wa-phone-number-id">"Phone number ID"</label>
                            <input
                                id="wa-phone-number-id"
                                name="phone_number_id"
                                type="text"
                                inputmode="numeric"
                                autocomplete="off"
                                spellcheck="false"
                                required
                                placeholder="e.g. 106540352242922"
                                data-testid="wa-phone-number-id"
                                prop:value=move || form.phone_number_id.get()
                                on:input=input(form.phone_number_id)
                            />
                        </div>
                        <div class="field">
                            <label for="wa-waba-id">"WhatsApp Business Account ID"</label>
                            <input
                                id="wa-waba-id"
                                name="waba_id"
                                type="text"
                                inputmode="numeric"
                                autocomplete="off"
                                spellcheck="false"
                                required
                                placeholder="e.g. 102290129340398"
                                data-testid="wa-waba-id"
                                prop:value=move || form.waba_id.get()
                                on:input=input(form.waba_id)
                            />
                        </div>
                    </div>
                    <div class="field">
                        <label for="wa-access-token">"Access token"</label>
                        <input
                            id="wa-access-token"
                            name="access_token"
                            type="password"
                            autocomplete="off"
                            spellcheck="false"
                            required
                            data-testid="wa-access-token"
                            aria-describedby="wa-connect-help"
                            prop:value=move || form.access_token.get()
                            on:input=input(form.access_token)
                        />
                    </div>
                    {move || error.get().map(|message| view! {
                        <div data-testid="wa-connect-error"><ErrorAlert message/></div>
                    })}
                    <div class="form-actions">
                        <button
                            type="button"
                            class="btn btn-ghost"
                            on:click=move |_| {
                                form.open.set(false);
                                form.access_token.set(String::new());
                                error.set(None);
                            }
                        >
                            "Cancel"
                        </button>
                        <button
                            type="submit"
                            class="btn btn-primary btn-whatsapp"
                            data-testid="wa-connect-submit"
                            disabled=move || busy.get()
                            aria-busy=move || busy.get().to_string()
                        >
                            {move || if busy.get() { "Connecting…" } else { "Connect number" }}
                        </button>
                    </div>
                </form>
            </Show>
        </section>
    }
}

/// Kinds connected only with a form of their own (not through Facebook login, not seeded):
/// each gets a card drawn from its declared fields.
fn form_kinds() -> impl Iterator<Item = ChannelKind> {
    ChannelKind::ALL.iter().copied().filter(|kind| {
        let platform = kind.platform();
        platform.connect_form().is_some() && !platform.connects_by_facebook_login()
    })
}

/// "Connect Telegram": the kind's declared fields (a secret one is a password input), checked
/// with the platform on submit; its refusal is shown under the form.
#[component]
fn ConnectByForm(kind: ChannelKind, on_connected: Callback<Channel>) -> impl IntoView {
    let platform = kind.platform();
    let fields = platform.connect_form().unwrap_or_default();
    let values: Vec<RwSignal<String>> = fields.iter().map(|_| RwSignal::new(String::new())).collect();
    let values = StoredValue::new(values);
    let open = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = format!("connect-{kind}");
    let form_id = format!("{id}-form");
    let title_id = format!("{id}-title");
    let form_id_for_button = form_id.clone();

    let clear = move || {
        values.with_value(|values| {
            for value in values {
                let _ = value.try_set(String::new());
            }
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let entered: std::collections::BTreeMap<String, String> = values.with_value(|values| {
            fields
                .iter()
                .zip(values)
                .map(|(field, value)| (field.name.to_string(), value.get_untracked().trim().to_string()))
                .collect()
        });
        if let Some(missing) = fields.iter().find(|f| entered.get(f.name).is_none_or(|v| v.is_empty())) {
            error.set(Some(format!("Enter the {}.", missing.label.to_lowercase())));
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match connect_channel_form(kind, entered).await {
                Ok(channel) => {
                    if let Some(toasts) = Toasts::get() {
                        match (&channel.status, &channel.last_error) {
                            (ChannelStatus::Active, _) => toasts.info(format!("Connected {}.", channel.name)),
                            (_, reason) => toasts.error(format!(
                                "Connected {}, but {} is not delivering yet: {}",
                                channel.name,
                                kind.platform().short_name,
                                reason.clone().unwrap_or_default()
                            )),
                        }
                    }
                    on_connected.run(channel);
                    clear();
                    let _ = open.try_set(false);
                }
                Err(e) => {
                    let _ = error.try_set(Some(e.to_string()));
                }
            }
            let _ = busy.try_set(false);
        });
    };

    let field_prefix = id.clone();
    let inputs = move || {
        fields
            .iter()
            .enumerate()
            .map(|(index, field)| {
                let value = values.with_value(|values| values[index]);
                let input_id = format!("{field_prefix}-{}", field.name);
                let hint_id = format!("{input_id}-hint");
                view! {
                    <div class="field">
                        <label for=input_id.clone()>{field.label}</label>
                        <input
                            id=input_id
                            name=field.name
                            type=if field.secret { "password" } else { "text" }
                            autocomplete="off"
                            spellcheck="false"
                            required
                            data-testid=format!("connect-field-{}", field.name)
                            aria-describedby=hint_id.clone()
                            prop:value=move || value.get()
                            on:input=move |ev| value.set(event_target_value(&ev))
                        />
                        <p class="field-hint" id=hint_id>{field.hint}</p>
                    </div>
                }
            })
            .collect_view()
    };

    view! {
        <section class="card form-connect" id=id aria-labelledby=title_id.clone() data-testid=format!("connect-{kind}")>
            <div class="card-head">
                <div class="wa-connect-head">
                    <ChannelIcon kind large=true decorative=true/>
                    <div>
                        <h2 id=title_id.clone()>{format!("Connect {}", platform.name)}</h2>
                        <p class="muted">{format!("Messages to your {} arrive in the inbox; replies go back the same way.", platform.accounts_heading.to_lowercase())}</p>
                    </div>
                </div>
                <Show when=move || !open.get()>
                    <button
                        type="button"
                        class="btn"
                        data-testid="connect-form-open"
                        aria-expanded="false"
                        aria-controls=form_id_for_button.clone()
                        on:click=move |_| {
                            error.set(None);
                            open.set(true);
                        }
                    >
                        {format!("Connect {}", platform.name)}
                    </button>
                </Show>
            </div>
            <Show when=move || open.get()>
                <form
                    id=form_id.clone()
                    class="wa-connect-form"
                    method="post"
                    action=ConnectChannelForm::PATH
                    on:submit=on_submit
                    aria-busy=move || busy.get().to_string()
                >
                    {inputs()}
                    {move || error.get().map(|message| view! {
                        <div data-testid="connect-form-error"><ErrorAlert message/></div>
                    })}
                    <div class="form-actions">
                        <button
                            type="button"
                            class="btn btn-ghost"
                            on:click=move |_| {
                                open.set(false);
                                clear();
                                error.set(None);
                            }
                        >
                            "Cancel"
                        </button>
                        <button
                            type="submit"
                            class="btn btn-primary"
                            data-testid="connect-form-submit"
                            disabled=move || busy.get()
                            aria-busy=move || busy.get().to_string()
                        >
                            {move || if busy.get() { "Checking with the platform…" } else { "Connect" }}
                        </button>
                    </div>
                </form>
            </Show>
        </section>
    }
}
