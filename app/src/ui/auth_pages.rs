//! Log in, sign up, accept an invite. Plain `ActionForm`s: they post to the server
//! functions and work without JavaScript (on success the server redirects to `/inbox`; on
//! failure the error comes back in the URL and is shown here).

use crate::auth::{AcceptInvite, Login, Signup};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// The error of the last submission, if any.
fn error_of<S, T>(value: S) -> impl Fn() -> Option<String> + Send + Sync + 'static
where
    S: With<Value = Option<Result<T, AppError>>> + Copy + Send + Sync + 'static,
    T: 'static,
{
    move || {
        value.with(|v| match v {
            Some(Err(error)) => Some(error.to_string()),
            _ => None,
        })
    }
}

#[component]
fn AuthFrame(#[prop(into)] title: String, #[prop(into)] subtitle: String, children: Children) -> impl IntoView {
    view! {
        <main class="auth-page">
            <div class="auth-card">
                <a href="/" class="brand brand-center" aria-label="Messio">
                    <span class="brand-mark" aria-hidden="true">"m"</span>
                    <span class="brand-name">"Messio"</span>
                </a>
                <h1>{title}</h1>
                <p class="muted">{subtitle}</p>
                {children()}
            </div>
        </main>
    }
}

/// Name, email and a new password: what signing up and accepting an invite both ask.
#[component]
fn NewAccountFields(autofocus_name: bool) -> impl IntoView {
    view! {
        <div class="field">
            <label for="name">"Your name"</label>
            <input id="name" name="name" type="text" autocomplete="name" required autofocus=autofocus_name/>
        </div>
        <div class="field">
            <label for="email">"Email"</label>
            <input id="email" name="email" type="email" autocomplete="email" required/>
        </div>
        <div class="field">
            <label for="password">"Password"</label>
            <input
                id="password"
                name="password"
                type="password"
                autocomplete="new-password"
                required
                aria-describedby="password-hint"
            />
            <p class="field-hint" id="password-hint">"At least 8 characters."</p>
        </div>
    }
}

#[component]
fn FormError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    view! {
        <div class="form-error" aria-live="assertive">
            {move || error.get().map(|message| view! {
                <div class="alert alert-error" role="alert">
                    <span class="alert-icon" aria-hidden="true">"!"</span>
                    <span>{message}</span>
                </div>
            })}
        </div>
    }
}

#[component]
fn SubmitButton(#[prop(into)] label: String, #[prop(into)] busy_label: String, pending: Memo<bool>) -> impl IntoView {
    view! {
        <button type="submit" class="btn btn-primary btn-block" aria-busy=move || pending.get().to_string()>
            {move || if pending.get() { busy_label.clone() } else { label.clone() }}
        </button>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = Signal::derive(error_of(login.value()));
    view! {
        <Title text="Log in · Messio"/>
        <AuthFrame title="Welcome back" subtitle="Log in to your team's inbox.">
            <ActionForm action=login>
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="email" required autofocus/>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required/>
                </div>
                <FormError error/>
                <SubmitButton label="Log in" busy_label="Logging in…" pending=login.pending()/>
            </ActionForm>
            <p class="auth-switch">"New to Messio? " <a href="/signup">"Create an organization"</a></p>
        </AuthFrame>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let signup = ServerAction::<Signup>::new();
    let error = Signal::derive(error_of(signup.value()));
    view! {
        <Title text="Sign up · Messio"/>
        <AuthFrame title="Create your organization" subtitle="You'll be its owner; invite your team afterwards.">
            <ActionForm action=signup>
                <div class="field">
                    <label for="organization">"Organization"</label>
                    <input id="organization" name="organization" type="text" autocomplete="organization" required autofocus/>
                </div>
                <NewAccountFields autofocus_name=false/>
                <FormError error/>
                <SubmitButton label="Create organization" busy_label="Creating…" pending=signup.pending()/>
            </ActionForm>
            <p class="auth-switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthFrame>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let accept = ServerAction::<AcceptInvite>::new();
    let error = Signal::derive(error_of(accept.value()));
    view! {
        <Title text="Join your team · Messio"/>
        <AuthFrame title="Join your team" subtitle="You've been invited to a Messio inbox. Create your account to get started.">
            <ActionForm action=accept>
                <input type="hidden" name="token" prop:value=token value=token/>
                <NewAccountFields autofocus_name=true/>
                <FormError error/>
                <SubmitButton label="Join" busy_label="Joining…" pending=accept.pending()/>
            </ActionForm>
            <p class="auth-switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthFrame>
    }
}
