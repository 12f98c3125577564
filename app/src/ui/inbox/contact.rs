//! Who the customer is: avatar, name, the channels they reach us on, and the conversation's
//! facts.

use super::thread::ThreadState;
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
        </aside>
    }
}
