//! The user interface: the document shell, routes, and the signed-in frame (navigation,
//! connection indicator, live connection) around the inbox and settings pages.

mod auth_pages;
pub mod components;
pub mod inbox;
mod mentions;
mod settings;
pub mod workload;
pub mod xhr_upload;

use crate::auth::{Logout, SessionInfo, get_session};
use crate::error::AppError;
use crate::inbox::latest_event_seq;
use crate::model::{Id, Millis};
use crate::realtime::ConnectionState;
use components::{Avatar, Clock, ErrorState, Loading, ToastHost, Toasts, now_millis};
use inbox::live::Live;
use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};
use serde::{Deserialize, Serialize};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The brand mark as an inline SVG icon (no extra request).
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='9' fill='%234f46e5'/%3E%3Ctext x='16' y='22' font-family='system-ui,sans-serif' font-size='18' font-weight='800' fill='white' text-anchor='middle'%3Em%3C/text%3E%3C/svg%3E";

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/messio.css"/>
        <Title text="Messio"/>
        <Meta name="description" content="Messio: every customer conversation in one inbox."/>
        <Meta name="theme-color" content="#4f46e5"/>
        <Link rel="icon" href=FAVICON/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/") view=HomeRedirect ssr=SsrMode::Async/>
                <Route path=path!("/login") view=auth_pages::LoginPage/>
                <Route path=path!("/signup") view=auth_pages::SignupPage/>
                <Route path=path!("/invite/:token") view=auth_pages::InvitePage/>
                // Signed-in pages render completely on the server before anything is sent: the
                // redirect for visitors becomes a real 302, and every page works without
                // JavaScript (out-of-order streaming would need it to show resolved parts).
                <ParentRoute path=path!("") view=AppShell ssr=SsrMode::Async>
                    <ParentRoute path=path!("/inbox") view=inbox::InboxLayout>
                        <Route path=path!("") view=inbox::NoConversation/>
                        <Route path=path!(":id") view=inbox::thread::ConversationPane/>
                    </ParentRoute>
                    <Route path=path!("/mentions") view=mentions::MentionsPage/>
                    <Route path=path!("/workload") view=workload::WorkloadPage/>
                    <Route path=path!("/settings") view=|| view! { <Redirect path="/settings/channels"/> }/>
                    <Route path=path!("/settings/channels") view=settings::channels::ChannelsPage/>
                    <Route path=path!("/settings/channels/facebook") view=settings::facebook_pick::FacebookPickPage/>
                    <Route path=path!("/settings/team") view=settings::team::TeamPage/>
                    <Route path=path!("/settings/teams") view=settings::teams::TeamsPage/>
                    <Route path=path!("/settings/templates") view=settings::templates::TemplatesPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// `/`: the inbox for a signed-in user, the login page for a visitor.
#[component]
fn HomeRedirect() -> impl IntoView {
    let session = Resource::new_blocking(|| (), |_| get_session());
    view! {
        <Suspense fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(_)) => view! { <Redirect path="/inbox"/> }.into_any(),
                    _ => view! { <Redirect path="/login"/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Messio"/>
        <main class="auth-page">
            <div class="auth-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is nothing at this address."</p>
                <a class="btn btn-primary" href="/">"Go to the inbox"</a>
            </div>
        </main>
    }
}

/// What the signed-in frame loads once: who is signed in, where the event log stands (so
/// the live connection resumes exactly after what the page shows), and the server's time
/// (so relative times render identically on the server and during hydration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShellData {
    session: Option<SessionInfo>,
    seq: Option<i64>,
    now: Millis,
}

async fn load_shell() -> Result<ShellData, AppError> {
    let session = get_session().await?;
    // Read before any page data, so events between the two are replayed, never lost.
    let seq = match session {
        Some(_) => latest_event_seq().await.ok(),
        None => None,
    };
    Ok(ShellData {
        session,
        seq,
        now: now_millis(),
    })
}

/// The signed-in frame's data, for every page inside it.
///
/// Pages read the session through this (in closures, handlers, or by awaiting it inside
/// their own `Suspense`), never by being rendered inside the frame's `Suspense`: a route
/// rendered inside a `Suspend` would be built twice during server rendering, and the
/// resources of the discarded copy would shift the hydration data.
#[derive(Clone, Copy)]
pub struct Shell {
    data: Resource<Result<ShellData, AppError>>,
}

impl Shell {
    pub fn get() -> Option<Shell> {
        use_context::<Shell>()
    }

    /// The session (tracked; `None` until loaded or when signed out).
    pub fn session(self) -> Option<SessionInfo> {
        self.data.get().and_then(Result::ok).and_then(|d| d.session)
    }

    pub fn session_untracked(self) -> Option<SessionInfo> {
        self.data.get_untracked().and_then(Result::ok).and_then(|d| d.session)
    }

    /// Waits for the session (inside a `Suspense`).
    pub async fn session_async(self) -> Option<SessionInfo> {
        self.data.await.ok().and_then(|d| d.session)
    }

    /// Whether the signed-in user is an owner or admin (waits for the session).
    pub async fn can_manage(shell: Option<Shell>) -> bool {
        match shell {
            Some(shell) => shell.session_async().await.is_some_and(|s| s.user.role.can_manage()),
            None => false,
        }
    }

    /// The server's clock when the page was rendered.
    pub fn server_now(self) -> Option<Millis> {
        self.data.get().and_then(Result::ok).map(|d| d.now)
    }
}

/// The signed-in user's id (0 before the session is known).
pub fn my_id() -> Id {
    Shell::get()
        .and_then(Shell::session_untracked)
        .map(|s| s.user.id)
        .unwrap_or_default()
}

/// The frame of every signed-in page; visitors are sent to `/login`.
#[component]
fn AppShell() -> impl IntoView {
    let data = Resource::new_blocking(|| (), |_| load_shell());
    let shell = Shell { data };
    provide_context(shell);
    Clock::provide(Signal::derive(move || shell.server_now()));
    let toasts = Toasts::provide();
    let live = Live::provide(Signal::derive(move || {
        data.get()
            .and_then(Result::ok)
            .and_then(|d| d.session.is_some().then_some(d.seq))
    }));
    mentions::UnreadMentions::provide();

    view! {
        <div class="app">
            <a href="#main" class="skip-link">"Skip to content"</a>
            <Suspense fallback=|| view! { <header class="sidebar" aria-busy="true"></header> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(ShellData { session: Some(session), .. }) => view! { <Sidebar session live/> }.into_any(),
                        Ok(_) | Err(AppError::Unauthorized) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(error) => view! { <header class="sidebar"><ErrorState error/></header> }.into_any(),
                    }
                })}
            </Suspense>
            <main id="main" class="main" tabindex="-1">
                <Outlet/>
            </main>
            <ToastHost toasts/>
        </div>
    }
}

#[component]
fn Sidebar(session: SessionInfo, live: Live) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let can_manage = session.user.role.can_manage();
    let SessionInfo { user, organization, .. } = session;
    view! {
        <header class="sidebar">
            <a href="/inbox" class="brand" aria-label="Messio home">
                <span class="brand-mark" aria-hidden="true">"m"</span>
                <span class="brand-name">"Messio"</span>
            </a>
            <nav class="nav" aria-label="Main">
                <A href="/inbox">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M4 4h16v11H15l-3 3-3-3H4z"/></svg>
                    </span>
                    <span class="nav-label">"Inbox"</span>
                </A>
                <A href="/mentions" attr:data-testid="nav-mentions">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><circle cx="12" cy="12" r="3.5"/><path d="M15.5 12v1.5a2.5 2.5 0 0 0 5 0V12a8.5 8.5 0 1 0-3.3 6.7"/></svg>
                    </span>
                    <span class="nav-label">"Mentions"</span>
                    {move || {
                        let unread = mentions::UnreadMentions::get().map_or(0, |c| c.0.get());
                        (unread > 0).then(|| view! {
                            <span class="nav-badge" data-testid="mentions-unread" aria-label=format!("{unread} unread")>{unread}</span>
                        })
                    }}
                </A>
                <A href="/workload" attr:data-testid="nav-workload">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M4 20h16"/><path d="M7 16v-5M12 16V6M17 16v-8"/></svg>
                    </span>
                    <span class="nav-label">"Workload"</span>
                </A>
                <span class="nav-section" aria-hidden="true">"Settings"</span>
                <A href="/settings/channels">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M5 12h14M12 5v14"/><circle cx="12" cy="12" r="9"/></svg>
                    </span>
                    <span class="nav-label">"Channels"</span>
                </A>
                <A href="/settings/team">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.8-3.6 3.4-5.5 6.5-5.5s5.7 1.9 6.5 5.5"/><path d="M16 4.8a3.5 3.5 0 0 1 0 6.4M18 14.8c1.8.8 3 2.5 3.5 5.2"/></svg>
                    </span>
                    <span class="nav-label">"Team"</span>
                </A>
                <A href="/settings/teams" attr:data-testid="nav-teams">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><circle cx="6.5" cy="7" r="2.5"/><circle cx="17.5" cy="7" r="2.5"/><circle cx="12" cy="14" r="2.5"/><path d="M8.5 8.5l2 3.5M15.5 8.5l-2 3.5M7.5 21c.6-2.2 2.3-3.5 4.5-3.5s3.9 1.3 4.5 3.5"/></svg>
                    </span>
                    <span class="nav-label">"Teams"</span>
                </A>
                <A href="/settings/templates" attr:data-testid="nav-templates">
                    <span class="nav-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M6 3h9l4 4v14H6z"/><path d="M14 3v5h5M9 12h7M9 16h5"/></svg>
                    </span>
                    <span class="nav-label">"Templates"</span>
                </A>
            </nav>
            <div class="sidebar-foot">
                <ConnectionIndicator state=live.state/>
                <div class="me" title=format!("{} · {}", user.email, organization.name)>
                    <Avatar name=user.name.clone()/>
                    <div class="me-text">
                        <span class="me-name">{user.name.clone()}</span>
                        <span class="me-org">
                            {organization.name.clone()}
                            {(!can_manage).then_some(" · Agent")}
                        </span>
                    </div>
                </div>
                <ActionForm action=logout>
                    <button type="submit" class="btn btn-ghost btn-sm logout" data-testid="logout">
                        "Log out"
                    </button>
                </ActionForm>
            </div>
        </header>
    }
}

#[component]
fn ConnectionIndicator(state: RwSignal<ConnectionState>) -> impl IntoView {
    let key = move || match state.get() {
        ConnectionState::Connecting => "connecting",
        ConnectionState::Connected => "connected",
        ConnectionState::Reconnecting { .. } => "reconnecting",
        ConnectionState::Refused(_) => "offline",
    };
    let label = move || match state.get() {
        ConnectionState::Connecting => "Connecting…".to_string(),
        ConnectionState::Connected => "Live".to_string(),
        ConnectionState::Reconnecting { .. } => "Reconnecting…".to_string(),
        ConnectionState::Refused(_) => "Offline".to_string(),
    };
    let title = move || match state.get() {
        ConnectionState::Connected => "Live updates are on".to_string(),
        ConnectionState::Connecting => "Connecting to live updates".to_string(),
        ConnectionState::Reconnecting { attempt } => format!("Connection lost, reconnecting (attempt {attempt})"),
        ConnectionState::Refused(reason) => format!("Live updates are off: {reason}. Reload the page to try again."),
    };
    view! {
        <div
            class=move || format!("conn conn-{}", key())
            data-testid="connection-indicator"
            data-state=key
            role="status"
            aria-live="polite"
            title=title
        >
            <span class="conn-dot" aria-hidden="true"></span>
            <span class="conn-label">{label}</span>
        </div>
    }
}
