//! Settings → Team: who is in the organization, adding people directly, and one-time
//! invite links for admins and agents.

use super::SettingsFrame;
use crate::auth::{AddMember, create_invite, list_team};
use crate::model::{Role, User};
use crate::ui::Shell;
use crate::ui::components::{Avatar, ErrorAlert, ErrorState, Loading, Toasts, role_label, toast_error};
use leptos::prelude::*;
use leptos_meta::Title;

fn page_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().origin().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let shell = Shell::get();
    let session = move || async move {
        match shell {
            Some(shell) => shell.session_async().await,
            None => None,
        }
    };
    let add = ServerAction::<AddMember>::new();
    let team = Resource::new(move || add.version().get(), |_| list_team());

    view! {
        <Title text="Team · Settings · Messio"/>
        <SettingsFrame title="Team" subtitle="The people who answer your customers.">
            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>"Members"</h2>
                        <p class="muted">"Owners and admins manage channels and people; agents answer conversations."</p>
                    </div>
                </div>
                <Transition fallback=|| view! { <Loading label="Loading the team…"/> }>
                    {move || Suspend::new(async move {
                        let me = session().await.map(|s| s.user.id).unwrap_or_default();
                        match team.await {
                            Ok(members) => view! { <MemberList members me/> }.into_any(),
                            Err(error) => view! { <ErrorState error/> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
            <Suspense>
                {move || Suspend::new(async move {
                    if session().await.is_some_and(|s| s.user.role.can_manage()) {
                        view! {
                            <div class="grid-2">
                                <InviteCard/>
                                <AddMemberCard add/>
                            </div>
                        }
                        .into_any()
                    } else {
                        view! { <p class="muted note">"Only owners and admins can add people or create invite links."</p> }.into_any()
                    }
                })}
            </Suspense>
        </SettingsFrame>
    }
}

#[component]
fn MemberList(members: Vec<User>, me: i64) -> impl IntoView {
    view! {
        <ul class="member-list">
            {members.into_iter().map(|m| view! {
                <li class="member" data-testid="team-member">
                    <Avatar name=m.name.clone()/>
                    <div class="member-main">
                        <span class="member-name">
                            {m.name.clone()}
                            {(m.id == me).then(|| view! { <span class="muted">" (you)"</span> })}
                        </span>
                        <span class="member-email">{m.email.clone()}</span>
                    </div>
                    <span class=format!("badge badge-role-{}", m.role.as_str())>{role_label(m.role)}</span>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn InviteCard() -> impl IntoView {
    let role = RwSignal::new(Role::Agent);
    let link = RwSignal::new(None::<String>);
    let create = Action::new(|role: &Role| create_invite(*role));
    Effect::new(move |_| match create.value().get() {
        Some(Ok(token)) => link.set(Some(format!("{}/invite/{token}", page_origin()))),
        Some(Err(error)) => toast_error(&error),
        None => {}
    });
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(url) = link.get_untracked() {
            let _ = window().navigator().clipboard().write_text(&url);
            if let Some(toasts) = Toasts::get() {
                toasts.info("Invite link copied.");
            }
        }
    };
    view! {
        <section class="card">
            <h2>"Invite with a link"</h2>
            <p class="muted">"Anyone with the link can join once, within 7 days."</p>
            <div class="inline-form">
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <select
                        id="invite-role"
                        on:change=move |ev| role.set(event_target_value(&ev).parse().unwrap_or(Role::Agent))
                    >
                        <option value="agent" selected>"Agent"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <button
                    type="button"
                    class="btn btn-primary"
                    data-testid="create-invite"
                    on:click=move |_| {
                        create.dispatch(role.get_untracked());
                    }
                    aria-busy=move || create.pending().get().to_string()
                >
                    {move || if create.pending().get() { "Creating…" } else { "Create invite link" }}
                </button>
            </div>
            {move || link.get().map(|url| view! {
                <div class="invite-link">
                    <label for="invite-url">"Invite link"</label>
                    <div class="copy-row">
                        <input
                            id="invite-url"
                            type="text"
                            readonly
                            value=url.clone()
                            prop:value=url
                            data-testid="invite-link"
                            on:focus=move |ev| {
                                #[cfg(feature = "hydrate")]
                                {
                                    use wasm_bindgen::JsCast;
                                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                        input.select();
                                    }
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = ev;
                            }
                        />
                        <button type="button" class="btn" on:click=copy>"Copy"</button>
                    </div>
                </div>
            })}
        </section>
    }
}

#[component]
fn AddMemberCard(add: ServerAction<AddMember>) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    let error = move || {
        add.value().with(|v| match v {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        })
    };
    Effect::new(move |_| {
        if let Some(Ok(user)) = add.value().get() {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            if let Some(toasts) = Toasts::get() {
                toasts.info(format!("{} was added to the team.", user.name));
            }
        }
    });
    view! {
        <section class="card">
            <h2>"Add a member"</h2>
            <p class="muted">"Create an account directly and share the password with them."</p>
            <ActionForm action=add node_ref=form>
                <div class="field">
                    <label for="member-name">"Name"</label>
                    <input id="member-name" name="name" type="text" autocomplete="off" required/>
                </div>
                <div class="field">
                    <label for="member-email">"Email"</label>
                    <input id="member-email" name="email" type="email" autocomplete="off" required/>
                </div>
                <div class="field">
                    <label for="member-password">"Password"</label>
                    <input id="member-password" name="password" type="password" autocomplete="new-password" required aria-describedby="member-password-hint"/>
                    <p class="field-hint" id="member-password-hint">"At least 8 characters."</p>
                </div>
                <div class="field">
                    <label for="member-role">"Role"</label>
                    <select id="member-role" name="role">
                        <option value="agent" selected>"Agent"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                {move || error().map(|message| view! { <ErrorAlert message/> })}
                <button type="submit" class="btn btn-primary" data-testid="add-member" aria-busy=move || add.pending().get().to_string()>
                    {move || if add.pending().get() { "Adding…" } else { "Add member" }}
                </button>
            </ActionForm>
        </section>
    }
}
