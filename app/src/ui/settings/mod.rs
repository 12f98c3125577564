//! Settings pages for admins: channels (and the Facebook page picker), the team, the teams
//! that route conversations, and WhatsApp message templates.

pub mod channels;
pub mod facebook_pick;
pub mod team;
pub mod teams;
pub mod templates;

use leptos::prelude::*;
use leptos_router::components::A;

/// Heading, section tabs and body shared by the settings pages.
#[component]
pub fn SettingsFrame(
    #[prop(into)] title: String,
    #[prop(optional, into)] subtitle: Option<String>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="settings">
            <div class="settings-head">
                <p class="eyebrow">"Settings"</p>
                <h1>{title}</h1>
                {subtitle.map(|s| view! { <p class="muted">{s}</p> })}
                <nav class="tabs settings-tabs" aria-label="Settings sections">
                    <A href="/settings/channels">"Channels"</A>
                    <A href="/settings/team">"Team"</A>
                    <A href="/settings/teams">"Teams"</A>
                    <A href="/settings/templates">"Templates"</A>
                </nav>
            </div>
            <div class="settings-body">{children()}</div>
        </div>
    }
}
