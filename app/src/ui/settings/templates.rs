//! Settings → Templates: the organization's WhatsApp message templates with Meta's review
//! state (kept current by `template:updated` events), and the editor admins write new ones
//! in, with Meta's rules checked while they type and a preview of what the customer sees.
//!
//! The preview bubble is shared with the composer's template picker.

use super::SettingsFrame;
use crate::attachments::human_size;
use crate::channels::list_channels;
use crate::model::{AttachmentKind, Channel, ChannelKind, ChannelStatus, Id, Millis};
use crate::templates::{
    FieldError, HeaderMedia, HeaderSample, MAX_BODY, MAX_BUTTON_TEXT, MAX_BUTTONS, MAX_FOOTER, MAX_HEADER_TEXT,
    TemplateButton, TemplateCategory, TemplateContent, TemplateDraft, TemplateFilter, TemplateHeader, TemplateStatus,
    WhatsAppTemplate, delete_template, fill, header_sample_format, list_templates, numbered_variables,
    refresh_template, submit_template, sync_templates, validate, variables,
};
use crate::ui::Shell;
use crate::ui::components::{Clock, ConfirmAction, EmptyState, ErrorState, FileKindIcon, Toasts, toast_error};
use crate::ui::inbox::live::on_live_event;
use leptos::prelude::*;
use leptos_meta::Title;

// ---------------------------------------------------------------------------------------
// Labels and small helpers
// ---------------------------------------------------------------------------------------

pub fn status_label(status: TemplateStatus) -> &'static str {
    match status {
        TemplateStatus::Pending => "In review",
        TemplateStatus::Approved => "Approved",
        TemplateStatus::Rejected => "Rejected",
        TemplateStatus::Paused => "Paused",
        TemplateStatus::Disabled => "Disabled",
        TemplateStatus::InAppeal => "In appeal",
        TemplateStatus::Deleted => "Deleted",
    }
}

pub fn category_label(category: TemplateCategory) -> &'static str {
    match category {
        TemplateCategory::Marketing => "Marketing",
        TemplateCategory::Utility => "Utility",
        TemplateCategory::Authentication => "Authentication",
    }
}

/// Meta reports rejections as codes; agents and admins need words.
fn rejection_text(reason: Option<&str>) -> String {
    let reason = reason
        .map(str::trim)
        .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("NONE"));
    let explained = match reason.map(str::to_ascii_uppercase).as_deref() {
        None => return "Meta rejected this template without giving a reason.".into(),
        Some("INVALID_FORMAT") => "the format is invalid (check the variables and their examples)",
        Some("ABUSIVE_CONTENT") => "the content breaks WhatsApp's policies",
        Some("TAG_CONTENT_MISMATCH") => "the content does not match the chosen category",
        Some("PROMOTIONAL") => "it reads as marketing; choose the Marketing category",
        Some("SCAM") => "it looks like a scam",
        Some(_) => "",
    };
    match (explained, reason) {
        ("", Some(raw)) => format!("Meta's reason: {raw}"),
        (text, _) => format!("Meta's reason: {text}."),
    }
}

/// Why a template cannot be used right now, or what happens next.
fn status_note(template: &WhatsAppTemplate) -> Option<String> {
    match template.status {
        TemplateStatus::Approved => None,
        TemplateStatus::Pending => {
            Some("Meta is reviewing it; this usually takes minutes, at most 24 hours. It can be sent once approved.".into())
        }
        TemplateStatus::Rejected => Some(format!(
            "{} Fix the wording and submit it again.",
            rejection_text(template.rejected_reason.as_deref())
        )),
        TemplateStatus::Paused => Some(
            "Meta paused it after customers reported or blocked it. It can't be sent while paused; Meta lifts the pause on its own.".into(),
        ),
        TemplateStatus::Disabled => {
            Some("Meta disabled it after repeated negative feedback. It can't be sent any more.".into())
        }
        TemplateStatus::InAppeal => Some("You appealed the rejection; Meta is reviewing it again.".into()),
        TemplateStatus::Deleted => Some("It was deleted at Meta and can't be sent.".into()),
    }
}

fn plural(n: i64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// "just now", "5 minutes ago", "3 days ago".
pub fn ago(ts: Millis, now: Millis) -> String {
    let diff = (now - ts).max(0);
    let minute = 60_000;
    let hour = 60 * minute;
    let day = 24 * hour;
    if diff < minute {
        return "just now".into();
    }
    let amount = if diff < hour {
        plural(diff / minute, "minute")
    } else if diff < day {
        plural(diff / hour, "hour")
    } else if diff < 30 * day {
        plural(diff / day, "day")
    } else if diff < 365 * day {
        plural(diff / (30 * day), "month")
    } else {
        plural(diff / (365 * day), "year")
    };
    format!("{amount} ago")
}

/// "Used 12 times · last 3 days ago".
pub fn usage_line(count: i64, last_used_at: Option<Millis>, now: Millis) -> String {
    let times = match count {
        0 => return "Not used yet".into(),
        1 => "once".to_string(),
        n => format!("{n} times"),
    };
    match last_used_at {
        Some(ts) => format!("Used {times} · last {}", ago(ts, now)),
        None => format!("Used {times}"),
    }
}

/// What Meta accepts as a name, derived from what was typed: "Order Update" → "order_update".
pub fn normalize_name(raw: &str) -> String {
    raw.chars()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '_' => Some(c),
            ' ' | '-' | '.' => Some('_'),
            _ => None,
        })
        .collect()
}

/// The number the next "Add variable" inserts.
pub fn next_variable(text: &str) -> usize {
    let highest = variables(text)
        .ok()
        .and_then(|found| found.into_iter().max())
        .unwrap_or(0) as usize;
    highest + 1
}

/// How many example inputs the body needs (also while its numbering is still wrong).
fn example_count(text: &str) -> usize {
    numbered_variables(text)
        .ok()
        .unwrap_or_else(|| next_variable(text) - 1)
        .min(100)
}

/// Replaces the characters `start..end` of `text` with `snippet`; returns the new text and
/// the character position just after the snippet.
pub fn splice_chars(text: &str, start: usize, end: usize, snippet: &str) -> (String, usize) {
    let start = start.min(text.chars().count());
    let end = end.clamp(start, text.chars().count());
    let mut out: String = text.chars().take(start).collect();
    out.push_str(snippet);
    out.extend(text.chars().skip(end));
    (out, start + snippet.chars().count())
}

/// Browsers count text positions in UTF-16 units; Rust strings in characters.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn utf16_to_chars(text: &str, units: u32) -> usize {
    let mut seen = 0u32;
    for (i, c) in text.chars().enumerate() {
        if seen >= units {
            return i;
        }
        seen += c.len_utf16() as u32;
    }
    text.chars().count()
}

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn chars_to_utf16(text: &str, chars: usize) -> u32 {
    text.chars().take(chars).map(|c| c.len_utf16() as u32).sum()
}

/// Keeps the list in the server's order (name, language, id); a stale copy never replaces
/// a newer one (a submit response can arrive after the approval event).
fn upsert_template(list: &mut Vec<WhatsAppTemplate>, template: WhatsAppTemplate) {
    if let Some(current) = list.iter_mut().find(|t| t.id == template.id) {
        if template.updated_at >= current.updated_at {
            *current = template;
        }
        return;
    }
    let key = |t: &WhatsAppTemplate| (t.name.clone(), t.language.clone(), t.id);
    let at = list.partition_point(|t| key(t) < key(&template));
    list.insert(at, template);
}

/// Focuses an element by id once the browser has laid it out.
fn focus_id(id: String) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document()
            .get_element_by_id(&id)
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

// ---------------------------------------------------------------------------------------
// The WhatsApp-style preview (also used by the composer's picker)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewHeader {
    Text(String),
    Media { format: HeaderMedia, link: Option<String> },
}

/// A template as the customer will see it, variables filled where values are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preview {
    pub header: Option<PreviewHeader>,
    pub body: String,
    pub footer: Option<String>,
    pub buttons: Vec<TemplateButton>,
}

pub fn preview_of(content: &TemplateContent, header_value: Option<&str>, values: &[String]) -> Preview {
    let header_value = header_value.map(str::trim).filter(|v| !v.is_empty());
    Preview {
        header: content.header.as_ref().map(|header| match header {
            TemplateHeader::Text { text, .. } => {
                let values: Vec<String> = header_value.map(str::to_string).into_iter().collect();
                PreviewHeader::Text(fill(text, &values))
            }
            TemplateHeader::Media { format, .. } => PreviewHeader::Media {
                format: *format,
                link: header_value.map(str::to_string),
            },
        }),
        body: fill(&content.body, values),
        footer: content.footer.clone().filter(|f| !f.trim().is_empty()),
        buttons: content.buttons.clone(),
    }
}

fn media_label(format: HeaderMedia) -> &'static str {
    match format {
        HeaderMedia::Image => "Image",
        HeaderMedia::Video => "Video",
        HeaderMedia::Document => "Document",
    }
}

fn button_label(button: &TemplateButton) -> (&'static str, String) {
    match button {
        TemplateButton::QuickReply { text } => ("↩", text.clone()),
        TemplateButton::Url { text, .. } => ("↗", text.clone()),
        TemplateButton::PhoneNumber { text, .. } => ("✆", text.clone()),
    }
}

/// The preview bubble. `media_thumb` is a picture to show for an image header (the editor's
/// local copy of the uploaded sample); without one the header is a placeholder.
#[component]
pub fn TemplatePreview(
    #[prop(into)] preview: Signal<Preview>,
    testid: &'static str,
    #[prop(optional, into)] media_thumb: Option<Signal<Option<String>>>,
) -> impl IntoView {
    view! {
        <div class="wa-preview" data-testid=testid>
            <div class="wa-bubble">
                {move || preview.with(|p| p.header.clone()).map(|header| match header {
                    PreviewHeader::Text(text) => view! { <p class="wa-header">{text}</p> }.into_any(),
                    PreviewHeader::Media { format: HeaderMedia::Image, .. }
                        if media_thumb.is_some_and(|t| t.with(Option::is_some)) =>
                    {
                        let src = media_thumb.and_then(|t| t.get());
                        view! {
                            <div class="wa-media wa-media-image wa-media-sample">
                                <img src=src alt="Sample image" data-testid="tpl-preview-image"/>
                            </div>
                        }
                        .into_any()
                    }
                    PreviewHeader::Media { format, link } => view! {
                        <div class=format!("wa-media wa-media-{}", format.as_str())>
                            <span class="wa-media-icon" aria-hidden="true">
                                {match format {
                                    HeaderMedia::Image => "🖼",
                                    HeaderMedia::Video => "▶",
                                    HeaderMedia::Document => "📄",
                                }}
                            </span>
                            <span class="wa-media-label">{link.unwrap_or_else(|| media_label(format).to_string())}</span>
                        </div>
                    }
                    .into_any(),
                })}
                <p class="wa-body">
                    {move || {
                        let body = preview.with(|p| p.body.clone());
                        if body.trim().is_empty() {
                            view! { <span class="wa-placeholder">"Your message appears here."</span> }.into_any()
                        } else {
                            body.into_any()
                        }
                    }}
                </p>
                {move || preview.with(|p| p.footer.clone()).map(|footer| view! { <p class="wa-footer">{footer}</p> })}
                <span class="wa-time" aria-hidden="true">"12:00"</span>
            </div>
            {move || {
                let buttons = preview.with(|p| p.buttons.clone());
                (!buttons.is_empty()).then(|| view! {
                    <ul class="wa-buttons" aria-label="Buttons">
                        {buttons.iter().map(|b| {
                            let (icon, text) = button_label(b);
                            view! {
                                <li class="wa-button">
                                    <span aria-hidden="true">{icon}" "</span>
                                    {if text.trim().is_empty() { "Button".to_string() } else { text }}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            }}
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let shell = Shell::get();
    let templates = Resource::new(|| (), |_| list_templates(TemplateFilter::default()));
    let channels = Resource::new(|| (), |_| list_channels());

    view! {
        <Title text="Templates · Settings · Messio"/>
        <SettingsFrame
            title="Templates"
            subtitle="Pre-approved WhatsApp messages: the only way to write to a customer once 24 hours have passed since their last message."
        >
            <div class="tpl-page" data-testid="templates-page">
                <Transition fallback=|| view! { <TemplatesSkeleton/> }>
                    {move || Suspend::new(async move {
                        let can_manage = Shell::can_manage(shell).await;
                        match (templates.await, channels.await) {
                            (Ok(templates), Ok(channels)) => view! { <TemplatesBody templates channels can_manage/> }.into_any(),
                            (Err(error), _) | (_, Err(error)) => view! { <section class="card"><ErrorState error/></section> }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </SettingsFrame>
    }
}

#[component]
fn TemplatesSkeleton() -> impl IntoView {
    view! {
        <section class="card" aria-busy="true" aria-label="Loading templates">
            <div class="card-head">
                <div class="w-40">
                    <span class="skeleton-line w-60"></span>
                    <span class="skeleton-line w-80"></span>
                </div>
            </div>
            <ul class="tpl-list">
                {(0..3).map(|_| view! {
                    <li class="tpl-card skeleton">
                        <span class="skeleton-line w-40"></span>
                        <span class="skeleton-line w-80"></span>
                        <span class="skeleton-line w-60"></span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
}

/// Which statuses the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StatusGroup {
    All,
    Approved,
    InReview,
    Rejected,
    Inactive,
}

impl StatusGroup {
    const ALL: [StatusGroup; 5] = [
        StatusGroup::All,
        StatusGroup::Approved,
        StatusGroup::InReview,
        StatusGroup::Rejected,
        StatusGroup::Inactive,
    ];

    fn label(self) -> &'static str {
        match self {
            StatusGroup::All => "All",
            StatusGroup::Approved => "Approved",
            StatusGroup::InReview => "In review",
            StatusGroup::Rejected => "Rejected",
            StatusGroup::Inactive => "Paused & disabled",
        }
    }

    fn key(self) -> &'static str {
        match self {
            StatusGroup::All => "all",
            StatusGroup::Approved => "approved",
            StatusGroup::InReview => "in_review",
            StatusGroup::Rejected => "rejected",
            StatusGroup::Inactive => "inactive",
        }
    }

    fn matches(self, status: TemplateStatus) -> bool {
        match self {
            StatusGroup::All => true,
            StatusGroup::Approved => status == TemplateStatus::Approved,
            StatusGroup::InReview => matches!(status, TemplateStatus::Pending | TemplateStatus::InAppeal),
            StatusGroup::Rejected => status == TemplateStatus::Rejected,
            StatusGroup::Inactive => matches!(
                status,
                TemplateStatus::Paused | TemplateStatus::Disabled | TemplateStatus::Deleted
            ),
        }
    }
}

fn card_key(t: &WhatsAppTemplate) -> (Id, &'static str, Millis, i64, Option<Millis>) {
    (t.id, t.status.as_str(), t.updated_at, t.usage_count, t.last_used_at)
}

#[component]
fn TemplatesBody(templates: Vec<WhatsAppTemplate>, channels: Vec<Channel>, can_manage: bool) -> impl IntoView {
    let whatsapp: Vec<Channel> = channels
        .into_iter()
        .filter(|c| c.kind == ChannelKind::WhatsApp)
        .collect();
    if whatsapp.is_empty() && templates.is_empty() {
        return view! {
            <section class="card">
                <EmptyState
                    title="Connect a WhatsApp number first"
                    hint="Templates belong to a WhatsApp Business Account. Connect a WhatsApp number in Settings → Channels, then come back to write your first template."
                >
                    <a class="btn btn-primary" href="/settings/channels" data-testid="templates-connect-whatsapp">
                        "Go to Channels"
                    </a>
                </EmptyState>
            </section>
        }
        .into_any();
    }
    let senders: Vec<Channel> = whatsapp
        .iter()
        .filter(|c| c.status != ChannelStatus::Disconnected && c.parent_account_id.is_some())
        .cloned()
        .collect();
    let can_author = can_manage && !senders.is_empty();
    let senders = StoredValue::new(senders);
    let numbers = StoredValue::new(whatsapp);

    let rows = RwSignal::new(templates);
    let group = RwSignal::new(StatusGroup::All);
    let editor_open = RwSignal::new(false);
    let announce = RwSignal::new(String::new());
    let new_button = NodeRef::<leptos::html::Button>::new();

    on_live_event(move |event| {
        let Some(update) = &event.template else {
            return;
        };
        let template = update.template.clone();
        if update.deleted {
            let _ = rows.try_update(|rs| rs.retain(|t| t.id != template.id));
            let _ = announce.try_set(format!("Template {} was deleted.", template.name));
            return;
        }
        let before = rows
            .try_with_untracked(|rs| rs.iter().find(|t| t.id == template.id).map(|t| t.status))
            .flatten();
        if before.is_some_and(|status| status != template.status) {
            let _ = announce.try_set(format!(
                "Template {} is now {}.",
                template.name,
                status_label(template.status)
            ));
        }
        let _ = rows.try_update(|rs| upsert_template(rs, template));
    });

    let open_editor = move || {
        editor_open.set(true);
        focus_id("tpl-name-input".into());
    };
    let close_editor = move || {
        editor_open.set(false);
        // After the editor is gone, so focus is not lost with it.
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            if let Some(button) = new_button.get_untracked() {
                let _ = button.focus();
            }
        });
    };

    let counts = move |g: StatusGroup| rows.with(|rs| rs.iter().filter(|t| g.matches(t.status)).count());
    let shown = move || {
        let g = group.get();
        rows.with(|rs| rs.iter().filter(|t| g.matches(t.status)).cloned().collect::<Vec<_>>())
    };
    let waba_names = move |waba_id: &str| {
        numbers.with_value(|cs| {
            cs.iter()
                .filter(|c| c.parent_account_id.as_deref() == Some(waba_id))
                .map(|c| c.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };

    view! {
        <p class="sr-only" role="status" aria-live="polite" data-testid="template-announce">{move || announce.get()}</p>
        {numbers.with_value(Vec::is_empty).then(|| view! {
            <div class="notice notice-warn tpl-notice" role="status">
                "No WhatsApp number is connected, so these templates can't be sent. "
                <a href="/settings/channels">"Connect one in Settings → Channels"</a>
                "."
            </div>
        })}
        <Show when=move || editor_open.get()>
            <TemplateEditor senders=senders.get_value() rows announce on_close=close_editor/>
        </Show>
        <section class="card" aria-labelledby="tpl-list-title">
            <div class="card-head">
                <div>
                    <h2 id="tpl-list-title">"Your templates"</h2>
                    <p class="muted">"Only approved templates can be sent. Agents pick them in the composer of a WhatsApp conversation."</p>
                </div>
                <div class="tpl-toolbar">
                    <SyncButton rows/>
                    {can_manage.then(|| view! {
                        <button
                            type="button"
                            class="btn btn-primary"
                            data-testid="template-new"
                            node_ref=new_button
                            disabled=!can_author
                            aria-expanded=move || editor_open.get().to_string()
                            aria-controls="tpl-editor"
                            on:click=move |_| open_editor()
                        >
                            "New template"
                        </button>
                    })}
                </div>
            </div>
            {(can_manage && !can_author && !numbers.with_value(Vec::is_empty)).then(|| view! {
                <p class="field-hint tpl-why">"Every WhatsApp number is disconnected; reconnect one in Settings → Channels to submit new templates."</p>
            })}
            <Show
                when=move || rows.with(|rs| !rs.is_empty())
                fallback=move || view! {
                    <EmptyState
                        title="No templates yet"
                        hint="Templates are messages Meta approved in advance, such as order updates, appointment reminders or follow-ups. They are the only way to reach a WhatsApp customer more than 24 hours after their last message."
                    >
                        {if can_author {
                            view! {
                                <button type="button" class="btn btn-primary" data-testid="template-create-first" on:click=move |_| open_editor()>
                                    "Create a template"
                                </button>
                            }
                            .into_any()
                        } else if !can_manage {
                            view! { <p class="field-hint">"Ask an owner or admin to create one."</p> }.into_any()
                        } else {
                            ().into_any()
                        }}
                    </EmptyState>
                }
            >
                <div class="tabs tpl-filters" role="group" aria-label="Filter by status">
                    {StatusGroup::ALL.into_iter().map(|g| view! {
                        <button
                            type="button"
                            class="tab"
                            class:active=move || group.get() == g
                            aria-pressed=move || (group.get() == g).to_string()
                            data-testid="template-filter"
                            data-filter=g.key()
                            on:click=move |_| group.set(g)
                        >
                            {g.label()}
                            <span class="tpl-count">{move || counts(g)}</span>
                        </button>
                    }).collect_view()}
                </div>
                <Show
                    when=move || { group.with(|g| counts(*g) > 0) }
                    fallback=|| view! { <p class="muted tpl-none">"No templates in this state."</p> }
                >
                    <ul class="tpl-list">
                        <For each=shown key=card_key let:template>
                            <TemplateCard
                                numbers=waba_names(&template.waba_id)
                                template
                                rows
                                can_manage
                            />
                        </For>
                    </ul>
                </Show>
            </Show>
        </section>
    }
    .into_any()
}

#[component]
fn SyncButton(rows: RwSignal<Vec<WhatsAppTemplate>>) -> impl IntoView {
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<String, String>>);
    let sync = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        result.set(None);
        leptos::task::spawn_local(async move {
            let outcome = match sync_templates(None).await {
                Ok(report) => {
                    let _ = rows.try_update(|rs| {
                        for template in report.templates {
                            upsert_template(rs, template);
                        }
                    });
                    let counts = format!("Imported {}, updated {}", report.imported, report.updated);
                    Ok(if report.imported == 0 && report.updated == 0 {
                        format!("{counts}: everything was up to date.")
                    } else {
                        counts
                    })
                }
                Err(error) => Err(error.to_string()),
            };
            let _ = result.try_set(Some(outcome));
            let _ = busy.try_set(false);
        });
    };
    view! {
        <div class="tpl-sync">
            <button
                type="button"
                class="btn"
                data-testid="template-sync"
                on:click=sync
                disabled=move || busy.get()
                aria-busy=move || busy.get().to_string()
                title="Fetch templates created in WhatsApp Manager and the latest review states"
            >
                {move || busy.get().then(|| view! { <span class="spinner spinner-sm" aria-hidden="true"></span> })}
                {move || if busy.get() { "Syncing…" } else { "Sync from Meta" }}
            </button>
            <span class="tpl-sync-result" role="status" aria-live="polite" data-testid="template-sync-result">
                {move || result.get().map(|r| match r {
                    Ok(text) => view! { <span class="tpl-sync-ok">{text}</span> }.into_any(),
                    Err(text) => view! { <span class="tpl-sync-error">{text}</span> }.into_any(),
                })}
            </span>
        </div>
    }
}

#[component]
fn TemplateCard(
    template: WhatsAppTemplate,
    numbers: String,
    rows: RwSignal<Vec<WhatsAppTemplate>>,
    can_manage: bool,
) -> impl IntoView {
    let clock = Clock::get();
    let checking = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let note = status_note(&template);
    let WhatsAppTemplate {
        id,
        name,
        language,
        category,
        status,
        content,
        usage_count,
        last_used_at,
        ..
    } = template;
    let reviewable = matches!(status, TemplateStatus::Pending | TemplateStatus::InAppeal);

    let check = move |_| {
        checking.set(true);
        leptos::task::spawn_local(async move {
            match refresh_template(id).await {
                Ok(template) => {
                    if let Some(toasts) = Toasts::get() {
                        toasts.info(format!("{}: {}", template.name, status_label(template.status)));
                    }
                    let _ = rows.try_update(|rs| upsert_template(rs, template));
                }
                Err(error) => toast_error(&error),
            }
            let _ = checking.try_set(false);
        });
    };
    let delete = {
        let name = name.clone();
        move |_| {
            deleting.set(true);
            let name = name.clone();
            leptos::task::spawn_local(async move {
                match delete_template(id).await {
                    Ok(()) => {
                        let _ = rows.try_update(|rs| rs.retain(|t| t.id != id));
                        if let Some(toasts) = Toasts::get() {
                            toasts.info(format!("Deleted {name}."));
                        }
                    }
                    Err(error) => {
                        toast_error(&error);
                        let _ = deleting.try_set(false);
                        let _ = confirming.try_set(false);
                    }
                }
            });
        }
    };
    let header_text = match &content.header {
        Some(TemplateHeader::Text { text, .. }) => Some(text.clone()),
        Some(TemplateHeader::Media { format, .. }) => Some(format!("[{}]", media_label(*format))),
        None => None,
    };

    view! {
        <li
            class=format!("tpl-card tpl-card-{}", status.as_str())
            data-testid="template-card"
            data-name=name.clone()
            data-status=status.as_str()
            data-template-id=id.to_string()
        >
            <div class="tpl-card-head">
                <div class="tpl-card-title">
                    <span class="tpl-name">{name.clone()}</span>
                    <span class=format!("badge tpl-status tpl-status-{}", status.as_str()) data-testid="template-status">
                        {status_label(status)}
                    </span>
                </div>
                <div class="tpl-card-meta">
                    <span title="Language">{language}</span>
                    <span class="sep" aria-hidden="true">"·"</span>
                    <span>{category_label(category)}</span>
                    {(!numbers.is_empty()).then(|| view! {
                        <span class="sep" aria-hidden="true">"·"</span>
                        <span title="WhatsApp numbers that can send it">{numbers}</span>
                    })}
                </div>
            </div>
            {note.map(|note| view! {
                <p class=format!("tpl-note tpl-note-{}", status.as_str()) data-testid="template-note">{note}</p>
            })}
            <div class="tpl-card-body">
                {header_text.map(|h| view! { <p class="tpl-card-header">{h}</p> })}
                <p class="tpl-card-text">{content.body.clone()}</p>
            </div>
            <div class="tpl-card-foot">
                <span class="tpl-usage" data-testid="template-usage">
                    {move || usage_line(usage_count, last_used_at, clock.now())}
                </span>
                <div class="tpl-card-actions">
                    {reviewable.then(|| view! {
                        <button
                            type="button"
                            class="btn btn-sm"
                            data-testid="template-check"
                            on:click=check
                            disabled=move || checking.get()
                            aria-busy=move || checking.get().to_string()
                        >
                            {move || if checking.get() { "Checking…" } else { "Check status" }}
                        </button>
                    })}
                    {can_manage.then(|| view! {
                        <ConfirmAction
                            label="Delete"
                            busy_label="Deleting…"
                            question="Delete it here and at Meta?"
                            aria_label=format!("Delete {name}?")
                            open_testid="template-delete"
                            confirm_testid="template-confirm-delete"
                            confirming
                            busy=deleting
                            on_confirm=Callback::new(delete.clone())
                        />
                    })}
                </div>
            </div>
        </li>
    }
}

// ---------------------------------------------------------------------------------------
// The editor
// ---------------------------------------------------------------------------------------

const LANGUAGES: &[(&str, &str)] = &[
    ("en_US", "English (US)"),
    ("en_GB", "English (UK)"),
    ("en", "English"),
    ("es", "Spanish"),
    ("es_MX", "Spanish (Mexico)"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("pt_PT", "Portuguese (Portugal)"),
    ("fr", "French"),
    ("de", "German"),
    ("it", "Italian"),
    ("nl", "Dutch"),
    ("vi", "Vietnamese"),
    ("id", "Indonesian"),
    ("hi", "Hindi"),
    ("ar", "Arabic"),
    ("tr", "Turkish"),
    ("ru", "Russian"),
    ("ja", "Japanese"),
    ("ko", "Korean"),
    ("zh_CN", "Chinese (simplified)"),
    ("th", "Thai"),
];
const OTHER_LANGUAGE: &str = "other";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderKind {
    None,
    Text,
    Media(HeaderMedia),
}

impl HeaderKind {
    fn value(self) -> &'static str {
        match self {
            HeaderKind::None => "none",
            HeaderKind::Text => "text",
            HeaderKind::Media(media) => media.as_str(),
        }
    }

    fn parse(value: &str) -> HeaderKind {
        match value {
            "text" => HeaderKind::Text,
            other => other.parse().map(HeaderKind::Media).unwrap_or(HeaderKind::None),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ButtonKind {
    QuickReply,
    Url,
    Phone,
}

impl ButtonKind {
    fn label(self) -> &'static str {
        match self {
            ButtonKind::QuickReply => "Quick reply",
            ButtonKind::Url => "Visit website",
            ButtonKind::Phone => "Call phone number",
        }
    }

    fn value(self) -> &'static str {
        match self {
            ButtonKind::QuickReply => "quick_reply",
            ButtonKind::Url => "url",
            ButtonKind::Phone => "phone_number",
        }
    }

    fn parse(value: &str) -> ButtonKind {
        match value {
            "url" => ButtonKind::Url,
            "phone_number" => ButtonKind::Phone,
            _ => ButtonKind::QuickReply,
        }
    }

    fn of(button: &TemplateButton) -> ButtonKind {
        match button {
            TemplateButton::QuickReply { .. } => ButtonKind::QuickReply,
            TemplateButton::Url { .. } => ButtonKind::Url,
            TemplateButton::PhoneNumber { .. } => ButtonKind::Phone,
        }
    }

    fn blank(self) -> TemplateButton {
        match self {
            ButtonKind::QuickReply => TemplateButton::QuickReply { text: String::new() },
            ButtonKind::Url => TemplateButton::Url {
                text: String::new(),
                url: String::new(),
                example: None,
            },
            ButtonKind::Phone => TemplateButton::PhoneNumber {
                text: String::new(),
                phone_number: String::new(),
            },
        }
    }
}

/// One row of the buttons editor; `key` keeps its inputs in place when others are removed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ButtonRow {
    key: u64,
    button: TemplateButton,
}

/// Everything the editor holds, so field helpers can share it.
#[derive(Clone, Copy)]
struct Editor {
    channel_id: RwSignal<Id>,
    name: RwSignal<String>,
    category: RwSignal<TemplateCategory>,
    language_choice: RwSignal<String>,
    language_other: RwSignal<String>,
    header_kind: RwSignal<HeaderKind>,
    header_text: RwSignal<String>,
    header_example: RwSignal<String>,
    /// A media header's example: the handle of the sample uploaded to Meta.
    media_example: RwSignal<String>,
    /// The sample behind `media_example`, or the one on its way.
    sample: SampleUpload,
    body: RwSignal<String>,
    examples: RwSignal<Vec<String>>,
    footer: RwSignal<String>,
    buttons: RwSignal<Vec<ButtonRow>>,
    next_key: StoredValue<u64>,
    /// Field groups the admin has edited: only their problems are shown inline, so a
    /// fresh form is not covered in red.
    touched: RwSignal<Vec<String>>,
    draft: Memo<TemplateDraft>,
    errors: Memo<Vec<FieldError>>,
    example_count: Memo<usize>,
}

fn non_empty(value: String) -> Option<String> {
    (!value.trim().is_empty()).then_some(value)
}

/// Which touched group a validation field belongs to.
fn field_group(field: &str) -> &str {
    match field {
        "headerExample" => "header",
        "bodyExamples" => "body",
        other => other,
    }
}

fn field_title(field: &str) -> String {
    match field {
        "name" => "Name".into(),
        "language" => "Language".into(),
        "header" => "Header".into(),
        "headerExample" => "Header example".into(),
        "body" => "Body".into(),
        "bodyExamples" => "Variable examples".into(),
        "footer" => "Footer".into(),
        "buttons" => "Buttons".into(),
        other => match other.strip_prefix("buttons.").and_then(|n| n.parse::<usize>().ok()) {
            Some(i) => format!("Button {}", i + 1),
            None => other.to_string(),
        },
    }
}

impl Editor {
    fn new(channel_id: Id) -> Editor {
        let channel = RwSignal::new(channel_id);
        let name = RwSignal::new(String::new());
        let category = RwSignal::new(TemplateCategory::Utility);
        let language_choice = RwSignal::new("en_US".to_string());
        let language_other = RwSignal::new(String::new());
        let header_kind = RwSignal::new(HeaderKind::None);
        let header_text = RwSignal::new(String::new());
        let header_example = RwSignal::new(String::new());
        let media_example = RwSignal::new(String::new());
        let body = RwSignal::new(String::new());
        let examples = RwSignal::new(Vec::<String>::new());
        let footer = RwSignal::new(String::new());
        let buttons = RwSignal::new(Vec::<ButtonRow>::new());
        let example_count = Memo::new(move |_| body.with(|b| example_count(b)));
        let draft = Memo::new(move |_| {
            let language = match language_choice.get() {
                choice if choice == OTHER_LANGUAGE => language_other.get().trim().to_string(),
                choice => choice,
            };
            let header = match header_kind.get() {
                HeaderKind::None => None,
                HeaderKind::Text => {
                    let text = header_text.get();
                    let example = text.contains("{{").then(|| non_empty(header_example.get())).flatten();
                    Some(TemplateHeader::Text { text, example })
                }
                HeaderKind::Media(format) => Some(TemplateHeader::Media {
                    format,
                    example: non_empty(media_example.get().trim().to_string()),
                }),
            };
            let count = example_count.get();
            let body_examples = examples.with(|e| {
                (0..count)
                    .map(|i| e.get(i).map(|v| v.trim().to_string()).unwrap_or_default())
                    .collect()
            });
            let buttons = buttons.with(|rows| {
                rows.iter()
                    .map(|row| match &row.button {
                        TemplateButton::Url { text, url, example } => TemplateButton::Url {
                            text: text.clone(),
                            url: url.trim().to_string(),
                            example: url.contains("{{").then(|| example.clone()).flatten(),
                        },
                        other => other.clone(),
                    })
                    .collect()
            });
            TemplateDraft {
                channel_id: channel.get(),
                name: name.get(),
                language,
                category: category.get(),
                content: TemplateContent {
                    header,
                    body: body.get(),
                    body_examples,
                    footer: non_empty(footer.get()),
                    buttons,
                },
            }
        });
        let errors = Memo::new(move |_| draft.with(|d| validate(d).err().unwrap_or_default()));
        Editor {
            channel_id: channel,
            name,
            category,
            language_choice,
            language_other,
            header_kind,
            header_text,
            header_example,
            media_example,
            sample: SampleUpload::new(),
            body,
            examples,
            footer,
            buttons,
            next_key: StoredValue::new(1),
            touched: RwSignal::new(Vec::new()),
            draft,
            errors,
            example_count,
        }
    }

    fn touch(self, group: &str) {
        if !self.touched.with_untracked(|t| t.iter().any(|g| g == group)) {
            self.touched.update(|t| t.push(group.to_string()));
        }
    }

    fn is_touched(self, group: &str) -> bool {
        self.touched.with(|t| t.iter().any(|g| g == group))
    }

    /// Whether the admin edited what `field` (a validation field) is about. A button is
    /// tracked by its row key, so removing one row does not pass its state to the next.
    fn field_touched(self, field: &str) -> bool {
        match field.strip_prefix("buttons.").and_then(|i| i.parse::<usize>().ok()) {
            Some(i) => self
                .buttons
                .with(|rows| rows.get(i).map(|r| r.key))
                .is_some_and(|key| self.is_touched(&format!("button-{key}"))),
            None => self.is_touched(field_group(field)),
        }
    }

    /// The problems with `field`, once the admin edited it.
    fn error(self, field: &str) -> Option<String> {
        if !self.field_touched(field) {
            return None;
        }
        let messages: Vec<String> = self.errors.with(|es| {
            es.iter()
                .filter(|e| e.field == field)
                .map(|e| e.message.clone())
                .collect()
        });
        (!messages.is_empty()).then(|| messages.join("; "))
    }

    /// Problems not shown next to a field yet (their fields were not edited).
    fn hidden_errors(self) -> Vec<String> {
        self.errors.with(|es| {
            es.iter()
                .filter(|e| !self.field_touched(&e.field))
                .map(|e| format!("{}: {}", field_title(&e.field), e.message))
                .collect()
        })
    }

    fn add_button(self, kind: ButtonKind) -> Option<u64> {
        if self.buttons.with_untracked(Vec::len) >= MAX_BUTTONS {
            return None;
        }
        let key = self.next_key.get_value();
        self.next_key.set_value(key + 1);
        self.buttons.update(|rows| {
            rows.push(ButtonRow {
                key,
                button: kind.blank(),
            })
        });
        Some(key)
    }

    fn edit_button(self, key: u64, f: impl FnOnce(&mut TemplateButton)) {
        self.buttons.update(|rows| {
            if let Some(row) = rows.iter_mut().find(|r| r.key == key) {
                f(&mut row.button);
            }
        });
    }

    fn button_index(self, key: u64) -> usize {
        self.buttons
            .with(|rows| rows.iter().position(|r| r.key == key))
            .unwrap_or_default()
    }
}

/// The inline message under a field (`tpl-error` with the validation field's name).
fn field_error(editor: Editor, field: &'static str) -> impl IntoView {
    move || {
        editor.error(field).map(|message| {
            view! {
                <p class="tpl-field-error" id=format!("tpl-err-{field}") data-testid="tpl-error" data-field=field>
                    {message}
                </p>
            }
        })
    }
}

/// `n/max` next to a field's label (id `tpl-{field}-count`), red once over.
fn counter(text: RwSignal<String>, max: usize, field: &'static str) -> impl IntoView {
    let len = move || text.with(|t| t.chars().count());
    view! {
        <span class="tpl-counter" class:over=move || { len() > max } id=format!("tpl-{field}-count") aria-live="off">
            {move || format!("{}/{max}", len())}
        </span>
    }
}

fn invalid(editor: Editor, field: &'static str) -> impl Fn() -> &'static str + Send + Sync + Copy {
    move || if editor.error(field).is_some() { "true" } else { "false" }
}

/// A one-line input of the editor; Enter in it must not act on the editor's buttons.
#[component]
fn TextInput(
    #[prop(into)] id: String,
    #[prop(into)] testid: Signal<String>,
    #[prop(into)] value: Signal<String>,
    on_input: impl Fn(String) + Send + Sync + 'static,
    #[prop(optional, into)] inputmode: MaybeProp<&'static str>,
    #[prop(optional, into)] spellcheck: MaybeProp<&'static str>,
    #[prop(optional, into)] placeholder: MaybeProp<String>,
    #[prop(optional, into)] maxlength: MaybeProp<&'static str>,
    #[prop(optional, into)] invalid: Option<Signal<&'static str>>,
    #[prop(optional, into)] describedby: Option<String>,
) -> impl IntoView {
    view! {
        <input
            id=id
            type="text"
            inputmode=inputmode
            data-testid=testid
            autocomplete="off"
            spellcheck=spellcheck
            placeholder=placeholder
            maxlength=maxlength
            aria-invalid=invalid
            aria-describedby=describedby
            prop:value=value
            on:input=move |ev| on_input(event_target_value(&ev))
            on:keydown=|ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Enter" {
                    ev.prevent_default();
                }
            }
        />
    }
}

/// An editor field holding one text signal: its label, the input, an optional hint, and
/// the validation problem of `field` (which also names the ids: `tpl-{field}-hint`,
/// `tpl-{field}-count`, `tpl-err-{field}`). The children are the label's content.
#[component]
fn TextField(
    editor: Editor,
    field: &'static str,
    value: RwSignal<String>,
    id: &'static str,
    testid: &'static str,
    children: Children,
    #[prop(optional, into)] placeholder: MaybeProp<String>,
    #[prop(optional)] hint: Option<&'static str>,
    /// Meta's length limit, counted next to the label.
    #[prop(optional)]
    max: Option<usize>,
    /// Applied as the admin types, for values Meta only accepts in one form.
    #[prop(optional)]
    normalize: Option<fn(&str) -> String>,
    #[prop(optional, into)] spellcheck: MaybeProp<&'static str>,
    #[prop(optional, into)] maxlength: MaybeProp<&'static str>,
) -> impl IntoView {
    let label = view! { <label for=id>{children()}</label> };
    let describedby = [
        hint.map(|_| format!("tpl-{field}-hint")),
        max.map(|_| format!("tpl-{field}-count")),
        Some(format!("tpl-err-{field}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    view! {
        <div class="field">
            {match max {
                Some(max) => view! { <div class="tpl-label-row">{label}{counter(value, max, field)}</div> }.into_any(),
                None => label.into_any(),
            }}
            <TextInput
                id
                testid
                spellcheck
                placeholder
                maxlength
                invalid=invalid(editor, field)
                describedby
                value
                on_input=move |text| {
                    editor.touch(field_group(field));
                    value.set(match normalize {
                        Some(normalize) => normalize(&text),
                        None => text,
                    });
                }
            />
            {hint.map(|hint| view! { <p class="field-hint" id=format!("tpl-{field}-hint")>{hint}</p> })}
            {field_error(editor, field)}
        </div>
    }
}

// ---------------------------------------------------------------------------------------
// A media header's sample: checked in the browser, then uploaded with `XMLHttpRequest` to
// `HEADER_SAMPLE_ROUTE` (real progress, can be cancelled), which puts it through Meta's
// Resumable Upload API; the handle it answers becomes the header's example.
// ---------------------------------------------------------------------------------------

/// What a media header's sample may be, for the file picker.
fn sample_accept(format: HeaderMedia) -> &'static str {
    match format {
        HeaderMedia::Image => "image/jpeg,image/png",
        HeaderMedia::Video => "video/mp4",
        HeaderMedia::Document => "application/pdf",
    }
}

/// The same, in words: "a JPEG or PNG image".
fn sample_kinds(format: HeaderMedia) -> &'static str {
    match format {
        HeaderMedia::Image => "a JPEG or PNG image",
        HeaderMedia::Video => "an MP4 video",
        HeaderMedia::Document => "a PDF document",
    }
}

/// The largest sample Meta takes for a header of `format`.
fn sample_max(format: HeaderMedia) -> u64 {
    sample_accept(format)
        .split(',')
        .find_map(header_sample_format)
        .map(|(_, max)| max)
        .unwrap_or_default()
}

/// Whether a file of `mime` type and `size` bytes can be the sample of a `format` header
/// (what the server would answer, asked before anything is uploaded).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn check_sample(format: HeaderMedia, mime: &str, size: u64) -> Result<(), String> {
    let mime = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match header_sample_format(&mime) {
        Some((found, max)) if found == format => {
            if size == 0 {
                Err("the file is empty".into())
            } else if size > max {
                Err(format!(
                    "it is {}, and Meta takes a header {format} of at most {}",
                    human_size(size),
                    human_size(max)
                ))
            } else {
                Ok(())
            }
        }
        _ => {
            let found = if mime.is_empty() {
                "a file of unknown type".to_string()
            } else {
                mime
            };
            Err(format!("this header needs {}, not {found}", sample_kinds(format)))
        }
    }
}

/// "“party.gif” can't be the sample: this header needs a JPEG or PNG image, not image/gif."
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn sample_refusal(name: &str, reason: &str) -> String {
    let reason = reason.trim().trim_end_matches('.');
    format!("“{name}” can't be the sample: {reason}.")
}

/// The upload route's answer: the sample's handle, or the reason to show the admin.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn sample_outcome(status: u16, body: &str) -> Result<HeaderSample, String> {
    crate::ui::xhr_upload::read_answer(status, body, |status| match status {
        403 => Some("only owners and admins can upload template samples"),
        413 => Some("the file is larger than Meta accepts"),
        415 | 422 => Some("Meta does not accept this file as a sample"),
        _ => None,
    })
}

/// The sample on its way to Meta.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SampleProgress {
    name: String,
    size: u64,
    /// Percent sent; `None` until the browser can tell.
    percent: Option<u8>,
    /// A `blob:` link to the picked image itself, for the chip and the preview.
    thumb: Option<String>,
}

/// The sample Meta has: its handle is the header's example.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SampleFile {
    name: String,
    size: u64,
    format: HeaderMedia,
    thumb: Option<String>,
}

#[derive(Clone, Copy)]
struct SampleUpload {
    progress: RwSignal<Option<SampleProgress>>,
    ready: RwSignal<Option<SampleFile>>,
    error: RwSignal<Option<String>>,
    #[cfg(feature = "hydrate")]
    in_flight: crate::ui::xhr_upload::Slot,
}

/// `URL.createObjectURL` / `revokeObjectURL`, for showing a picked picture before (and
/// after) it is uploaded.
#[cfg(feature = "hydrate")]
mod object_url {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(catch, js_namespace = URL, js_name = createObjectURL)]
        pub fn create(blob: &web_sys::Blob) -> Result<String, JsValue>;
        #[wasm_bindgen(js_namespace = URL, js_name = revokeObjectURL)]
        pub fn revoke(url: &str);
    }
}

/// Lets go of a picture's local link once nothing shows it.
fn forget_thumb(thumb: Option<String>) {
    #[cfg(feature = "hydrate")]
    if let Some(url) = thumb {
        object_url::revoke(&url);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = thumb;
}

impl SampleUpload {
    fn new() -> Self {
        SampleUpload {
            progress: RwSignal::new(None),
            ready: RwSignal::new(None),
            error: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            in_flight: crate::ui::xhr_upload::slot(),
        }
    }

    /// Whether an upload is running (tracked).
    fn busy(self) -> bool {
        self.progress.with(Option::is_some)
    }

    /// Stops the running upload, if any; the sample already uploaded stays.
    fn cancel(self) {
        #[cfg(feature = "hydrate")]
        crate::ui::xhr_upload::cancel(self.in_flight);
        if let Some(Some(progress)) = self.progress.try_update(Option::take) {
            forget_thumb(progress.thumb);
        }
    }

    /// The local link to the uploaded picture, if the sample is one (tracked).
    fn thumb(self) -> Option<String> {
        self.ready.with(|r| r.as_ref().and_then(|f| f.thumb.clone()))
    }
}

impl Editor {
    /// No sample any more: the upload is stopped and the header has no example.
    fn clear_sample(self) {
        self.sample.cancel();
        if let Some(Some(old)) = self.sample.ready.try_update(Option::take) {
            forget_thumb(old.thumb);
        }
        let _ = self.sample.error.try_set(None);
        let _ = self.media_example.try_set(String::new());
    }

    /// Checks `file` as the sample of a `format` header and, if Meta would take it, uploads
    /// it for the WhatsApp Business Account `waba_id` (or the number `channel_id`'s). The
    /// sample already uploaded stays until this one has replaced it.
    #[cfg(feature = "hydrate")]
    fn upload_sample(self, format: HeaderMedia, waba_id: Option<String>, channel_id: Id, file: web_sys::File) {
        use crate::ui::xhr_upload::Ended;

        let sample = self.sample;
        self.touch("header");
        let name = match file.name().trim() {
            "" => format!("sample {format}"),
            picked => picked.to_string(),
        };
        let size = file.size().max(0.0) as u64;
        if let Err(reason) = check_sample(format, &file.type_(), size) {
            sample.error.set(Some(sample_refusal(&name, &reason)));
            return;
        }
        sample.cancel();
        sample.error.set(None);

        let failed = move |message: String| {
            let _ = sample.error.try_set(Some(message));
            if let Some(Some(progress)) = sample.progress.try_update(Option::take) {
                forget_thumb(progress.thumb);
            }
        };
        let Ok(form) = web_sys::FormData::new() else {
            failed(sample_refusal(&name, "this browser cannot upload files"));
            return;
        };
        match &waba_id {
            Some(waba_id) => {
                let _ = form.append_with_str("wabaId", waba_id);
            }
            None => {
                let _ = form.append_with_str("channelId", &channel_id.to_string());
            }
        }
        let _ = form.append_with_blob_and_filename("file", &file, &name);

        let on_progress = move |percent| {
            let _ = sample.progress.try_update(|p| {
                if let Some(p) = p {
                    p.percent = Some(percent);
                }
            });
        };
        let on_end = {
            let name = name.clone();
            move |ended| match ended {
                Ended::Answered { status, body } => match sample_outcome(status, &body) {
                    Ok(uploaded) if uploaded.format == format => {
                        let thumb = sample.progress.try_update(Option::take).flatten().and_then(|p| p.thumb);
                        if let Some(Some(old)) = sample.ready.try_update(Option::take) {
                            forget_thumb(old.thumb);
                        }
                        let _ = sample.ready.try_set(Some(SampleFile {
                            name: name.clone(),
                            size: uploaded.size,
                            format,
                            thumb,
                        }));
                        let _ = self.media_example.try_set(uploaded.handle);
                    }
                    Ok(uploaded) => failed(sample_refusal(
                        &name,
                        &format!(
                            "Meta took it as a {}, and this header needs {}",
                            uploaded.format,
                            sample_kinds(format)
                        ),
                    )),
                    Err(reason) => failed(sample_refusal(&name, &reason)),
                },
                Ended::Interrupted => failed(sample_refusal(
                    &name,
                    "the upload was interrupted; check the connection and try again",
                )),
                Ended::Aborted => {
                    if let Some(Some(progress)) = sample.progress.try_update(Option::take) {
                        forget_thumb(progress.thumb);
                    }
                }
            }
        };
        let thumb = (format == HeaderMedia::Image)
            .then(|| object_url::create(&file).ok())
            .flatten();
        sample.progress.set(Some(SampleProgress {
            name: name.clone(),
            size,
            percent: Some(0),
            thumb,
        }));
        let route = crate::templates::HEADER_SAMPLE_ROUTE;
        if !crate::ui::xhr_upload::start(sample.in_flight, route, &form, on_progress, on_end) {
            sample.cancel();
            failed(sample_refusal(&name, "the upload could not be started"));
        }
    }
}

/// The kind of file a header sample is.
fn sample_file_kind(format: HeaderMedia) -> AttachmentKind {
    match format {
        HeaderMedia::Image => AttachmentKind::Image,
        HeaderMedia::Video => AttachmentKind::Video,
        HeaderMedia::Document => AttachmentKind::File,
    }
}

/// A media header's sample: the upload button, the upload's progress, or the uploaded file
/// (with Replace and Remove), and why a file can't be the sample.
#[component]
fn HeaderSampleField(
    editor: Editor,
    format: HeaderMedia,
    /// The WhatsApp Business Account of the number chosen in the editor.
    #[prop(into)]
    waba_id: Signal<Option<String>>,
) -> impl IntoView {
    let sample = editor.sample;
    let what = media_label(format).to_lowercase();
    let input = NodeRef::<leptos::html::Input>::new();
    let pick = move |_| {
        if let Some(input) = input.get_untracked() {
            input.click();
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                editor.upload_sample(format, waba_id.get_untracked(), editor.channel_id.get_untracked(), file);
            }
            // Picking the same file again (after removing it) is a change too.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, waba_id);
    };
    let remove = move |_| {
        editor.clear_sample();
        focus_id("tpl-header-media-pick".into());
    };
    let cancel = move |_| {
        sample.cancel();
        focus_id(if sample.ready.with_untracked(Option::is_some) {
            "tpl-header-media-replace".into()
        } else {
            "tpl-header-media-pick".into()
        });
    };
    let hint = format!(
        "Meta's reviewers see this {what} ({}, at most {}). It is only a sample: the {what} customers get is chosen each time the template is sent.",
        sample_kinds(format),
        human_size(sample_max(format)),
    );
    // While a sample uploads, "upload a sample" would only be noise.
    let error = move || {
        sample
            .error
            .get()
            .or_else(|| (!sample.busy()).then(|| editor.error("headerExample")).flatten())
    };

    view! {
        <div class="field tpl-sample" data-testid="tpl-header-media" data-format=format.as_str()>
            <label for="tpl-header-media-input">{format!("Sample {what}")}</label>
            <input
                type="file"
                id="tpl-header-media-input"
                class="tpl-sample-input"
                data-testid="tpl-header-media-file"
                hidden=true
                tabindex="-1"
                accept=sample_accept(format)
                node_ref=input
                on:change=on_change
            />
            {move || {
                if let Some(p) = sample.progress.get() {
                    let label = format!("Uploading {} to Meta", p.name);
                    view! {
                        <div class="attachment-chip attachment-uploading" data-testid="tpl-header-media-uploading" aria-busy="true">
                            {match p.thumb.clone() {
                                Some(src) => view! { <img class="attachment-chip-thumb" src=src alt=""/> }.into_any(),
                                None => view! { <span class="attachment-chip-icon" aria-hidden="true"><FileKindIcon kind=sample_file_kind(format)/></span> }.into_any(),
                            }}
                            <span class="attachment-chip-text">
                                <span class="attachment-chip-name" title=p.name.clone()>{p.name.clone()}</span>
                                <span class="attachment-chip-progress">
                                    <progress
                                        data-testid="tpl-header-media-progress"
                                        max="100"
                                        value=p.percent.map(|v| v.to_string())
                                        aria-label=label
                                    ></progress>
                                    <span class="attachment-chip-meta" aria-hidden="true">
                                        {format!("{}% of {}", p.percent.unwrap_or(0), human_size(p.size))}
                                    </span>
                                </span>
                            </span>
                            <button type="button" class="btn btn-ghost btn-sm" data-testid="tpl-header-media-cancel" on:click=cancel>
                                "Cancel"
                            </button>
                        </div>
                    }
                    .into_any()
                } else if let Some(file) = sample.ready.get() {
                    let meta = format!("{} · {}", media_label(file.format), human_size(file.size));
                    view! {
                        <div class="attachment-chip tpl-sample-chip" data-testid="tpl-header-media-sample" data-format=file.format.as_str()>
                            {match file.thumb.clone() {
                                Some(src) => view! { <img class="attachment-chip-thumb" src=src alt=""/> }.into_any(),
                                None => view! { <span class="attachment-chip-icon" aria-hidden="true"><FileKindIcon kind=sample_file_kind(file.format)/></span> }.into_any(),
                            }}
                            <span class="attachment-chip-text">
                                <span class="attachment-chip-name" data-testid="tpl-header-media-name" title=file.name.clone()>{file.name.clone()}</span>
                                <span class="attachment-chip-meta">{meta}</span>
                                <span class="tpl-sample-ok" data-testid="tpl-header-media-uploaded">
                                    <span aria-hidden="true">"✓ "</span>
                                    "Uploaded for review"
                                </span>
                            </span>
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm"
                                id="tpl-header-media-replace"
                                data-testid="tpl-header-media-replace"
                                aria-label=format!("Replace the sample {}", media_label(file.format).to_lowercase())
                                on:click=pick
                            >
                                "Replace"
                            </button>
                            <button
                                type="button"
                                class="btn btn-ghost btn-sm btn-danger-text"
                                data-testid="tpl-header-media-remove"
                                aria-label=format!("Remove the sample {}", media_label(file.format).to_lowercase())
                                on:click=remove
                            >
                                "Remove"
                            </button>
                        </div>
                    }
                    .into_any()
                } else {
                    view! {
                        <button
                            type="button"
                            class="btn btn-sm tpl-sample-pick"
                            id="tpl-header-media-pick"
                            data-testid="tpl-header-media-pick"
                            aria-describedby="tpl-header-media-hint tpl-err-headerExample"
                            on:click=pick
                        >
                            <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 16V5M7.5 9.5L12 5l4.5 4.5M5 19.5h14"/></svg>
                            {format!("Upload a sample {}", media_label(format).to_lowercase())}
                        </button>
                    }
                    .into_any()
                }
            }}
            <p class="field-hint" id="tpl-header-media-hint">{hint}</p>
            {move || error().map(|message| view! {
                <p class="tpl-field-error" role="alert" id="tpl-err-headerExample" data-testid="tpl-error" data-field="headerExample">
                    {message}
                </p>
            })}
        </div>
    }
}

#[component]
fn TemplateEditor(
    senders: Vec<Channel>,
    rows: RwSignal<Vec<WhatsAppTemplate>>,
    announce: RwSignal<String>,
    on_close: impl Fn() + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let editor = Editor::new(senders.first().map(|c| c.id).unwrap_or_default());
    // A sample still uploading when the editor closes is not wanted any more.
    on_cleanup(move || editor.clear_sample());
    let wabas = StoredValue::new(
        senders
            .iter()
            .map(|c| (c.id, c.parent_account_id.clone()))
            .collect::<Vec<_>>(),
    );
    let waba_id = Signal::derive(move || {
        let channel = editor.channel_id.get();
        wabas.with_value(|ws| {
            ws.iter()
                .find(|(id, _)| *id == channel)
                .and_then(|(_, waba)| waba.clone())
        })
    });
    let submitting = RwSignal::new(false);
    let server_error = RwSignal::new(None::<String>);
    let body_ref = NodeRef::<leptos::html::Textarea>::new();
    let add_kind = RwSignal::new(ButtonKind::QuickReply);
    // The server's complaint was about the draft it saw; an edit makes it stale.
    Effect::new(move |_| {
        editor.draft.track();
        server_error.set(None);
    });

    let preview = Signal::derive(move || {
        editor.draft.with(|d| {
            let header_value = match &d.content.header {
                Some(TemplateHeader::Text { example, .. }) => example.clone(),
                // The example is Meta's handle; the admin knows the sample by its name.
                Some(TemplateHeader::Media { .. }) => editor.sample.ready.with(|r| r.as_ref().map(|f| f.name.clone())),
                None => None,
            };
            preview_of(&d.content, header_value.as_deref(), &d.content.body_examples)
        })
    });

    let insert_variable = move |_| {
        let text = editor.body.get_untracked();
        let snippet = format!("{{{{{}}}}}", next_variable(&text));
        let end_of_text = text.chars().count();
        #[cfg(feature = "hydrate")]
        let (start, end) = body_ref
            .get_untracked()
            .map(|el| {
                let start = el.selection_start().ok().flatten();
                let end = el.selection_end().ok().flatten();
                (
                    start.map_or(end_of_text, |u| utf16_to_chars(&text, u)),
                    end.map_or(end_of_text, |u| utf16_to_chars(&text, u)),
                )
            })
            .unwrap_or((end_of_text, end_of_text));
        #[cfg(not(feature = "hydrate"))]
        let (start, end) = (end_of_text, end_of_text);
        let (updated, caret) = splice_chars(&text, start, end, &snippet);
        editor.touch("body");
        editor.body.set(updated.clone());
        #[cfg(feature = "hydrate")]
        if let Some(el) = body_ref.get_untracked() {
            // Set the value here too, so the caret lands after the new variable.
            el.set_value(&updated);
            let at = chars_to_utf16(&updated, caret);
            let _ = el.focus();
            let _ = el.set_selection_range(at, at);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (updated, caret);
    };

    let add_button = move |_| {
        if let Some(key) = editor.add_button(add_kind.get_untracked()) {
            focus_id(format!("tpl-button-text-{key}"));
        }
    };

    let submit = move |_| {
        if submitting.get_untracked()
            || editor.errors.with_untracked(|e| !e.is_empty())
            || editor.sample.progress.with_untracked(Option::is_some)
        {
            return;
        }
        let draft = editor.draft.get_untracked();
        submitting.set(true);
        server_error.set(None);
        leptos::task::spawn_local(async move {
            match submit_template(draft).await {
                Ok(template) => {
                    let message = format!("{} was submitted to Meta for review.", template.name);
                    let _ = rows.try_update(|rs| upsert_template(rs, template));
                    let _ = announce.try_set(message.clone());
                    if let Some(toasts) = Toasts::get() {
                        toasts.info(message);
                    }
                    let _ = submitting.try_set(false);
                    on_close();
                }
                Err(error) => {
                    let _ = server_error.try_set(Some(error.to_string()));
                    let _ = submitting.try_set(false);
                }
            }
        });
    };

    let header_has_variable =
        move || editor.header_kind.get() == HeaderKind::Text && editor.header_text.with(|t| t.contains("{{"));
    let invalid_now = move || editor.errors.with(|e| !e.is_empty());

    view! {
        <section class="card tpl-editor" id="tpl-editor" aria-labelledby="tpl-editor-title">
            <div class="card-head">
                <div>
                    <h2 id="tpl-editor-title">"New template"</h2>
                    <p class="muted">"Meta reviews every template before it can be sent. Clear wording and realistic examples get approved fastest."</p>
                </div>
                <button type="button" class="btn btn-ghost btn-sm" on:click=move |_| on_close() data-testid="tpl-cancel">
                    "Cancel"
                </button>
            </div>
            <div class="tpl-editor-grid">
                <div class="tpl-form" role="form" aria-labelledby="tpl-editor-title">
                    <div class="tpl-row">
                        <div class="field">
                            <label for="tpl-channel-input">"WhatsApp number"</label>
                            <select
                                id="tpl-channel-input"
                                data-testid="tpl-channel"
                                aria-describedby="tpl-channel-hint"
                                on:change=move |ev| {
                                    if let Ok(id) = event_target_value(&ev).parse::<Id>() {
                                        editor.channel_id.set(id);
                                    }
                                }
                            >
                                {senders.iter().map(|c| {
                                    let id = c.id;
                                    view! {
                                        <option value=id.to_string() selected=move || editor.channel_id.get() == id>
                                            {c.name.clone()}
                                        </option>
                                    }
                                }).collect_view()}
                            </select>
                            <p class="field-hint" id="tpl-channel-hint">"The template belongs to this number's WhatsApp Business Account; every number of that account can send it."</p>
                        </div>
                        <TextField
                            editor
                            field="name"
                            value=editor.name
                            normalize=normalize_name
                            id="tpl-name-input"
                            testid="tpl-name"
                            spellcheck="false"
                            placeholder="order_update"
                            maxlength="512"
                            hint="Lower-case letters, digits and underscores; spaces become underscores."
                        >
                            "Name"
                        </TextField>
                    </div>
                    <div class="tpl-row">
                        <div class="field">
                            <label for="tpl-category-input">"Category"</label>
                            <select
                                id="tpl-category-input"
                                data-testid="tpl-category"
                                aria-describedby="tpl-category-hint"
                                on:change=move |ev| {
                                    if let Ok(category) = event_target_value(&ev).parse() {
                                        editor.category.set(category);
                                    }
                                }
                            >
                                {TemplateCategory::ALL.iter().map(|c| {
                                    let c = *c;
                                    view! {
                                        <option value=c.as_str() selected=move || editor.category.get() == c>{category_label(c)}</option>
                                    }
                                }).collect_view()}
                            </select>
                            <p class="field-hint" id="tpl-category-hint">
                                {move || match editor.category.get() {
                                    TemplateCategory::Utility => "Updates about something the customer did: orders, bookings, accounts.",
                                    TemplateCategory::Marketing => "Offers, announcements and anything promotional.",
                                    TemplateCategory::Authentication => "One-time passcodes for logging in.",
                                }}
                            </p>
                        </div>
                        <div class="field">
                            <label for="tpl-language-input">"Language"</label>
                            <select
                                id="tpl-language-input"
                                data-testid="tpl-language"
                                aria-invalid=move || if editor.language_choice.get() != OTHER_LANGUAGE { "false" } else { invalid(editor, "language")() }
                                aria-describedby="tpl-err-language"
                                on:change=move |ev| {
                                    let choice = event_target_value(&ev);
                                    let other = choice == OTHER_LANGUAGE;
                                    editor.language_choice.set(choice);
                                    if other {
                                        focus_id("tpl-language-other-input".into());
                                    }
                                }
                            >
                                {LANGUAGES.iter().map(|(code, label)| view! {
                                    <option value=*code selected=move || editor.language_choice.get() == *code>
                                        {format!("{label} · {code}")}
                                    </option>
                                }).collect_view()}
                                <option value=OTHER_LANGUAGE>"Other…"</option>
                            </select>
                            <Show when=move || editor.language_choice.get() == OTHER_LANGUAGE>
                                <label for="tpl-language-other-input" class="sr-only">"Language code"</label>
                                <TextInput
                                    id="tpl-language-other-input"
                                    testid="tpl-language-other"
                                    spellcheck="false"
                                    placeholder="Language code, e.g. sv or zh_TW"
                                    invalid=invalid(editor, "language")
                                    describedby="tpl-err-language"
                                    value=editor.language_other
                                    on_input=move |code| {
                                        editor.touch("language");
                                        editor.language_other.set(code);
                                    }
                                />
                            </Show>
                            {field_error(editor, "language")}
                        </div>
                    </div>

                    <fieldset class="tpl-fieldset">
                        <legend>"Header " <span class="muted">"(optional)"</span></legend>
                        <div class="field">
                            <label for="tpl-header-type-input">"Type"</label>
                            <select
                                id="tpl-header-type-input"
                                data-testid="tpl-header-type"
                                on:change=move |ev| {
                                    let kind = HeaderKind::parse(&event_target_value(&ev));
                                    // A sample belongs to the header type it was uploaded for.
                                    if kind != editor.header_kind.get_untracked() {
                                        editor.clear_sample();
                                    }
                                    editor.header_kind.set(kind);
                                }
                            >
                                {[
                                    (HeaderKind::None, "None"),
                                    (HeaderKind::Text, "Text"),
                                    (HeaderKind::Media(HeaderMedia::Image), "Image"),
                                    (HeaderKind::Media(HeaderMedia::Video), "Video"),
                                    (HeaderKind::Media(HeaderMedia::Document), "Document"),
                                ].into_iter().map(|(kind, label)| view! {
                                    <option value=kind.value() selected=move || editor.header_kind.get() == kind>{label}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        {move || match editor.header_kind.get() {
                            HeaderKind::None => ().into_any(),
                            HeaderKind::Text => view! {
                                <TextField
                                    editor
                                    field="header"
                                    value=editor.header_text
                                    max=MAX_HEADER_TEXT
                                    id="tpl-header-text-input"
                                    testid="tpl-header-text"
                                    placeholder="Your order is on its way"
                                    hint="Shown in bold. One variable, {{1}}, is allowed."
                                >
                                    "Header text"
                                </TextField>
                                <Show when=header_has_variable>
                                    <TextField
                                        editor
                                        field="headerExample"
                                        value=editor.header_example
                                        id="tpl-header-example-input"
                                        testid="tpl-header-example"
                                    >
                                        "Example for the header's {{1}}"
                                    </TextField>
                                </Show>
                            }
                            .into_any(),
                            HeaderKind::Media(format) => view! { <HeaderSampleField editor format waba_id/> }
                            .into_any(),
                        }}
                    </fieldset>

                    <div class="field">
                        <div class="tpl-label-row">
                            <label for="tpl-body-input">"Body"</label>
                            {counter(editor.body, MAX_BODY, "body")}
                        </div>
                        <textarea
                            id="tpl-body-input"
                            data-testid="tpl-body"
                            node_ref=body_ref
                            rows="5"
                            placeholder="Hi {{1}}, your order {{2}} has shipped and arrives tomorrow."
                            aria-invalid=invalid(editor, "body")
                            aria-describedby="tpl-body-hint tpl-body-count tpl-err-body"
                            prop:value=move || editor.body.get()
                            on:input=move |ev| {
                                editor.touch("body");
                                editor.body.set(event_target_value(&ev));
                            }
                        ></textarea>
                        <div class="tpl-body-tools">
                            <button type="button" class="btn btn-sm" data-testid="tpl-add-variable" on:click=insert_variable>
                                {move || format!("+ Add variable {{{{{}}}}}", editor.body.with(|b| next_variable(b)))}
                            </button>
                            <p class="field-hint" id="tpl-body-hint">"Variables are numbered {{1}}, {{2}}, … in order, and can't start or end the message."</p>
                        </div>
                        {field_error(editor, "body")}
                    </div>

                    <Show when=move || { editor.example_count.get() > 0 }>
                        <fieldset class="tpl-fieldset tpl-examples">
                            <legend>"Examples for the variables"</legend>
                            <p class="field-hint">"Meta's reviewers see these; the preview uses them too."</p>
                            <For each=move || 1..=editor.example_count.get() key=|n| *n let:n>
                                <div class="field tpl-example">
                                    <label for=format!("tpl-example-{n}-input")>{format!("{{{{{n}}}}}")}</label>
                                    <TextInput
                                        id=format!("tpl-example-{n}-input")
                                        testid=format!("tpl-example-{n}")
                                        placeholder=format!("Example for {{{{{n}}}}}")
                                        describedby="tpl-err-bodyExamples"
                                        invalid=move || {
                                            let missing = editor.examples.with(|e| e.get(n - 1).is_none_or(|v| v.trim().is_empty()));
                                            if missing && editor.error("bodyExamples").is_some() { "true" } else { "false" }
                                        }
                                        value=move || editor.examples.with(|e| e.get(n - 1).cloned().unwrap_or_default())
                                        on_input=move |value| {
                                            editor.touch("body");
                                            editor.examples.update(|e| {
                                                if e.len() < n {
                                                    e.resize(n, String::new());
                                                }
                                                e[n - 1] = value;
                                            });
                                        }
                                    />
                                </div>
                            </For>
                            {field_error(editor, "bodyExamples")}
                        </fieldset>
                    </Show>

                    <TextField
                        editor
                        field="footer"
                        value=editor.footer
                        max=MAX_FOOTER
                        id="tpl-footer-input"
                        testid="tpl-footer"
                        placeholder="Reply STOP to unsubscribe"
                    >
                        "Footer " <span class="muted">"(optional)"</span>
                    </TextField>

                    <fieldset class="tpl-fieldset">
                        <legend>"Buttons " <span class="muted">{move || format!("({}/{MAX_BUTTONS}, optional)", editor.buttons.with(Vec::len))}</span></legend>
                        <ol class="tpl-buttons">
                            <For each=move || editor.buttons.get() key=|row| row.key let:row>
                                <ButtonEditor editor key=row.key kind=ButtonKind::of(&row.button)/>
                            </For>
                        </ol>
                        <div class="tpl-add-button">
                            <label for="tpl-add-button-type" class="sr-only">"Button type"</label>
                            <select
                                id="tpl-add-button-type"
                                data-testid="tpl-add-button-type"
                                on:change=move |ev| add_kind.set(ButtonKind::parse(&event_target_value(&ev)))
                            >
                                {[ButtonKind::QuickReply, ButtonKind::Url, ButtonKind::Phone].into_iter().map(|k| view! {
                                    <option value=k.value() selected=move || add_kind.get() == k>{k.label()}</option>
                                }).collect_view()}
                            </select>
                            <button
                                type="button"
                                class="btn btn-sm"
                                data-testid="tpl-add-button"
                                on:click=add_button
                                disabled=move || { editor.buttons.with(Vec::len) >= MAX_BUTTONS }
                            >
                                "+ Add button"
                            </button>
                        </div>
                        {field_error(editor, "buttons")}
                    </fieldset>

                    <div class="tpl-submit-row">
                        {move || server_error.get().map(|message| view! {
                            <div class="alert alert-error" role="alert" data-testid="tpl-error" data-field="submit">
                                <span class="alert-icon" aria-hidden="true">"!"</span>
                                <span>{message}</span>
                            </div>
                        })}
                        {move || {
                            let hidden = editor.hidden_errors();
                            (!hidden.is_empty()).then(|| view! {
                                <div class="tpl-todo" id="tpl-todo">
                                    <p>"Before submitting:"</p>
                                    <ul>{hidden.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}</ul>
                                </div>
                            })
                        }}
                        <div class="form-actions">
                            <button type="button" class="btn btn-ghost" on:click=move |_| on_close()>"Cancel"</button>
                            <button
                                type="button"
                                class="btn btn-primary"
                                data-testid="tpl-submit"
                                on:click=submit
                                disabled=move || invalid_now() || submitting.get() || editor.sample.busy()
                                aria-busy=move || submitting.get().to_string()
                                aria-describedby="tpl-todo"
                            >
                                {move || if submitting.get() { "Submitting…" } else { "Submit for review" }}
                            </button>
                        </div>
                    </div>
                </div>
                <aside class="tpl-preview-pane" aria-label="Preview">
                    <p class="eyebrow">"Preview"</p>
                    <div class="tpl-phone">
                        <TemplatePreview preview testid="tpl-preview" media_thumb=Signal::derive(move || editor.sample.thumb())/>
                    </div>
                    <p class="field-hint">"Variables show your examples. Formatting like *bold* appears as typed."</p>
                </aside>
            </div>
        </section>
    }
}

#[component]
fn ButtonEditor(editor: Editor, key: u64, kind: ButtonKind) -> impl IntoView {
    let index = move || editor.button_index(key);
    let field = move || format!("buttons.{}", index());
    let button = move || {
        editor
            .buttons
            .with(|rows| rows.iter().find(|r| r.key == key).map(|r| r.button.clone()))
    };
    let text = move || {
        button()
            .map(|b| match b {
                TemplateButton::QuickReply { text }
                | TemplateButton::Url { text, .. }
                | TemplateButton::PhoneNumber { text, .. } => text,
            })
            .unwrap_or_default()
    };
    let url = move || match button() {
        Some(TemplateButton::Url { url, .. }) => url,
        _ => String::new(),
    };
    let url_example = move || match button() {
        Some(TemplateButton::Url { example, .. }) => example.unwrap_or_default(),
        _ => String::new(),
    };
    let phone = move || match button() {
        Some(TemplateButton::PhoneNumber { phone_number, .. }) => phone_number,
        _ => String::new(),
    };
    let error = move || editor.error(&field());
    let edit = move |apply: fn(&mut TemplateButton, String)| {
        move |value: String| {
            editor.touch(&format!("button-{key}"));
            editor.edit_button(key, |b| apply(b, value));
        }
    };
    let text_len = move || text().chars().count();
    let url_has_variable = move || url().trim_end().ends_with("{{1}}");
    let error_id = format!("tpl-button-err-{key}");
    let aria_invalid = move || if error().is_some() { "true" } else { "false" };

    view! {
        <li class="tpl-button-row" data-testid="tpl-button" data-kind=kind.value()>
            <div class="tpl-button-head">
                <span class="tpl-button-kind">{move || format!("{}. {}", index() + 1, kind.label())}</span>
                <button
                    type="button"
                    class="btn btn-xs btn-ghost btn-danger-text"
                    data-testid=move || format!("tpl-button-remove-{}", index())
                    aria-label=move || format!("Remove button {}", index() + 1)
                    on:click=move |_| editor.buttons.update(|rows| rows.retain(|r| r.key != key))
                >
                    "Remove"
                </button>
            </div>
            <div class="tpl-button-fields">
                <div class="field">
                    <div class="tpl-label-row">
                        <label for=format!("tpl-button-text-{key}")>"Button text"</label>
                        <span class="tpl-counter" class:over=move || { text_len() > MAX_BUTTON_TEXT }>
                            {move || format!("{}/{MAX_BUTTON_TEXT}", text_len())}
                        </span>
                    </div>
                    <TextInput
                        id=format!("tpl-button-text-{key}")
                        testid=move || format!("tpl-button-text-{}", index())
                        placeholder=match kind {
                            ButtonKind::QuickReply => "Yes, please",
                            ButtonKind::Url => "Track order",
                            ButtonKind::Phone => "Call us",
                        }
                        invalid=aria_invalid
                        describedby=error_id.clone()
                        value=text
                        on_input=edit(|b, value| match b {
                            TemplateButton::QuickReply { text }
                            | TemplateButton::Url { text, .. }
                            | TemplateButton::PhoneNumber { text, .. } => *text = value,
                        })
                    />
                </div>
                {(kind == ButtonKind::Url).then(|| view! {
                    <div class="field">
                        <label for=format!("tpl-button-url-{key}")>"Website address"</label>
                        <TextInput
                            id=format!("tpl-button-url-{key}")
                            inputmode="url"
                            testid=move || format!("tpl-button-url-{}", index())
                            spellcheck="false"
                            placeholder="https://shop.example/track/{{1}}"
                            invalid=aria_invalid
                            describedby=format!("tpl-button-url-hint-{key} tpl-button-err-{key}")
                            value=url
                            on_input=edit(|b, value| {
                                if let TemplateButton::Url { url, .. } = b {
                                    *url = value;
                                }
                            })
                        />
                        <p class="field-hint" id=format!("tpl-button-url-hint-{key}")>"End it with {{1}} to add a different ending each time it is sent."</p>
                    </div>
                })}
                {(kind == ButtonKind::Url).then(|| view! {
                    <Show when=url_has_variable>
                        <div class="field">
                            <label for=format!("tpl-button-example-{key}")>"Example ending for {{1}}"</label>
                            <TextInput
                                id=format!("tpl-button-example-{key}")
                                testid=move || format!("tpl-button-example-{}", index())
                                placeholder="ORDER-1234"
                                invalid=aria_invalid
                                value=url_example
                                on_input=edit(|b, value| {
                                    if let TemplateButton::Url { example, .. } = b {
                                        *example = non_empty(value);
                                    }
                                })
                            />
                        </div>
                    </Show>
                })}
                {(kind == ButtonKind::Phone).then(|| view! {
                    <div class="field">
                        <label for=format!("tpl-button-phone-{key}")>"Phone number"</label>
                        <TextInput
                            id=format!("tpl-button-phone-{key}")
                            inputmode="tel"
                            testid=move || format!("tpl-button-phone-{}", index())
                            placeholder="+15550100"
                            invalid=aria_invalid
                            describedby=error_id.clone()
                            value=phone
                            on_input=edit(|b, value| {
                                if let TemplateButton::PhoneNumber { phone_number, .. } = b {
                                    *phone_number = value;
                                }
                            })
                        />
                    </div>
                })}
            </div>
            {move || error().map(|message| view! {
                <p class="tpl-field-error" id=error_id.clone() data-testid="tpl-error" data-field=field()>{message}</p>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_normalized_as_typed() {
        assert_eq!(normalize_name("Order Update"), "order_update");
        assert_eq!(normalize_name("spring-sale 2025!"), "spring_sale_2025");
        assert_eq!(normalize_name("Ça va"), "a_va");
    }

    #[test]
    fn variables_are_inserted_at_the_cursor() {
        assert_eq!(next_variable("Hi"), 1);
        assert_eq!(next_variable("Hi {{1}}, order {{2}}"), 3);
        assert_eq!(next_variable("Hi {{2}}"), 3);
        let (text, caret) = splice_chars("Hi , thanks", 3, 3, "{{1}}");
        assert_eq!((text.as_str(), caret), ("Hi {{1}}, thanks", 8));
        // a selection is replaced
        assert_eq!(splice_chars("Hi NAME!", 3, 7, "{{1}}").0, "Hi {{1}}!");
        // positions count characters, not bytes; the browser counts UTF-16 units
        assert_eq!(utf16_to_chars("😀 hi", 2), 1);
        assert_eq!(chars_to_utf16("😀 hi", 2), 3);
        assert_eq!(example_count("Hi {{1}} and {{3}}"), 3);
    }

    #[test]
    fn usage_and_ages_read_naturally() {
        let now = 1_000_000_000_000;
        let day = 86_400_000;
        assert_eq!(usage_line(0, None, now), "Not used yet");
        assert_eq!(
            usage_line(12, Some(now - 3 * day), now),
            "Used 12 times · last 3 days ago"
        );
        assert_eq!(
            usage_line(1, Some(now - 90 * 60_000), now),
            "Used once · last 1 hour ago"
        );
        assert_eq!(ago(now - 10_000, now), "just now");
    }

    fn template(id: Id, name: &str, status: TemplateStatus, updated_at: Millis) -> WhatsAppTemplate {
        WhatsAppTemplate {
            id,
            waba_id: "w".into(),
            platform_template_id: None,
            name: name.into(),
            language: "en_US".into(),
            category: TemplateCategory::Utility,
            status,
            rejected_reason: None,
            content: TemplateContent::default(),
            usage_count: 0,
            last_used_at: None,
            created_at: 0,
            updated_at,
        }
    }

    #[test]
    fn upserts_keep_order_and_never_go_back() {
        let mut list = vec![template(1, "alpha", TemplateStatus::Approved, 5)];
        upsert_template(&mut list, template(3, "zulu", TemplateStatus::Pending, 5));
        upsert_template(&mut list, template(2, "beta", TemplateStatus::Pending, 5));
        assert_eq!(list.iter().map(|t| t.id).collect::<Vec<_>>(), [1, 2, 3]);
        upsert_template(&mut list, template(2, "beta", TemplateStatus::Approved, 9));
        // the submit response, older than the approval event
        upsert_template(&mut list, template(2, "beta", TemplateStatus::Pending, 6));
        assert_eq!(list[1].status, TemplateStatus::Approved);
    }

    #[test]
    fn samples_are_checked_before_they_are_uploaded() {
        let mb = 1024 * 1024;
        assert_eq!(check_sample(HeaderMedia::Image, "image/png", 68), Ok(()));
        assert_eq!(check_sample(HeaderMedia::Image, "IMAGE/JPEG; q=1", 5 * mb), Ok(()));
        assert_eq!(
            check_sample(HeaderMedia::Image, "image/gif", 10),
            Err("this header needs a JPEG or PNG image, not image/gif".into())
        );
        // a file Meta takes, but for another kind of header
        assert!(check_sample(HeaderMedia::Image, "application/pdf", 10).is_err_and(|m| m.contains("JPEG or PNG")));
        assert!(check_sample(HeaderMedia::Document, "", 10).is_err_and(|m| m.contains("unknown type")));
        assert!(check_sample(HeaderMedia::Image, "image/png", 5 * mb + 1).is_err_and(|m| m.contains("at most 5 MB")));
        assert!(check_sample(HeaderMedia::Video, "video/mp4", 0).is_err_and(|m| m.contains("empty")));
        assert_eq!(check_sample(HeaderMedia::Video, "video/mp4", 16 * mb), Ok(()));
        assert_eq!(sample_max(HeaderMedia::Document), 16 * mb);
        assert_eq!(
            sample_refusal("party.gif", "this header needs a JPEG or PNG image, not image/gif"),
            "“party.gif” can't be the sample: this header needs a JPEG or PNG image, not image/gif."
        );
    }

    #[test]
    fn a_sample_answer_becomes_the_handle_or_the_reason() {
        let ok = r#"{"handle":"4::aW1hZ2UvcG5n:abc","format":"image","name":"a.png","mimeType":"image/png","size":68}"#;
        let sample = sample_outcome(201, ok).expect("the sample");
        assert_eq!(
            (sample.handle.as_str(), sample.format),
            ("4::aW1hZ2UvcG5n:abc", HeaderMedia::Image)
        );
        let refused = r#"{"error":{"code":"invalid","message":"a header sample must be a JPEG or PNG image"}}"#;
        assert_eq!(
            sample_outcome(422, refused),
            Err("a header sample must be a JPEG or PNG image".into())
        );
        assert!(sample_outcome(403, "").is_err_and(|m| m.contains("admins")));
        assert!(sample_outcome(413, "too big").is_err_and(|m| m.contains("larger")));
        assert!(sample_outcome(201, "<html>").is_err());
    }

    #[test]
    fn preview_fills_examples() {
        let content = TemplateContent {
            header: Some(TemplateHeader::Text {
                text: "Order {{1}}".into(),
                example: None,
            }),
            body: "Hi {{1}}, {{2}}".into(),
            footer: Some(" ".into()),
            ..Default::default()
        };
        let p = preview_of(&content, Some("#42"), &["Ann".into()]);
        assert_eq!(p.header, Some(PreviewHeader::Text("Order #42".into())));
        assert_eq!(p.body, "Hi Ann, {{2}}");
        assert_eq!(p.footer, None);
        assert!(rejection_text(Some("INVALID_FORMAT")).contains("format is invalid"));
        assert!(rejection_text(Some("NONE")).contains("without giving a reason"));
    }
}
