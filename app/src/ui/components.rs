//! Small building blocks shared by every page: avatars, badges, spinners, alerts, toasts,
//! and time formatting that renders the same text on the server and in the first client
//! render (so hydration never disagrees), then refines itself in the browser.

use crate::error::AppError;
use crate::model::{AttachmentKind, ChannelKind, ChannelStatus, ConversationStatus, Millis, Role};
use crate::platforms::Shape;
use leptos::prelude::*;

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

/// The current time in milliseconds: the browser's clock in wasm, the system clock on the
/// server.
pub fn now_millis() -> Millis {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as Millis
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or_default()
    }
}

/// What time formatting needs: "now" and the viewer's time zone.
///
/// "Now" is the instant the server rendered the page (it travels inside the frame's
/// resource), so the server and the first client render print identical relative times;
/// after hydration it follows the browser clock. The zone is UTC until the browser tells us.
#[derive(Clone, Copy)]
pub struct Clock {
    server_now: Signal<Option<Millis>>,
    live_now: RwSignal<Option<Millis>>,
    pub tz_offset_min: RwSignal<Option<i32>>,
}

impl Clock {
    pub fn provide(server_now: Signal<Option<Millis>>) -> Clock {
        let clock = Clock {
            server_now,
            live_now: RwSignal::new(None),
            tz_offset_min: RwSignal::new(None),
        };
        provide_context(clock);
        #[cfg(feature = "hydrate")]
        Effect::new(move |started: Option<()>| {
            if started.is_some() {
                return;
            }
            let offset = -(js_sys::Date::new_0().get_timezone_offset() as i32);
            clock.tz_offset_min.set(Some(offset));
            clock.live_now.set(Some(now_millis()));
            if let Ok(handle) = set_interval_with_handle(
                move || {
                    let _ = clock.live_now.try_set(Some(now_millis()));
                },
                std::time::Duration::from_secs(20),
            ) {
                let handle = StoredValue::new_local(handle);
                on_cleanup(move || handle.with_value(|h| h.clear()));
            }
        });
        clock
    }

    /// The clock of the signed-in frame, or a plain one (pages outside the frame).
    pub fn get() -> Clock {
        use_context::<Clock>().unwrap_or_else(|| Clock {
            server_now: Signal::derive(|| None),
            live_now: RwSignal::new(None),
            tz_offset_min: RwSignal::new(None),
        })
    }

    /// The current time (tracked).
    pub fn now(self) -> Millis {
        self.live_now
            .get()
            .or_else(|| self.server_now.get())
            .unwrap_or_else(now_millis)
    }
}

/// A calendar date and wall-clock time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Converts epoch milliseconds, shifted by `offset_min` minutes, to a civil date-time
/// (Howard Hinnant's days-to-civil algorithm).
pub fn civil(ms: Millis, offset_min: i32) -> Civil {
    let secs = ms.div_euclid(1000) + i64::from(offset_min) * 60;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3600) as u32,
        minute: ((rem % 3600) / 60) as u32,
        second: (rem % 60) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

fn month_name(month: u32) -> &'static str {
    MONTHS.get(month.saturating_sub(1) as usize).copied().unwrap_or("")
}

/// `2025-03-04T13:05:09Z`, for `<time datetime>`.
pub fn iso_utc(ms: Millis) -> String {
    let c = civil(ms, 0);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// `Tue, Mar 4, 2025, 14:05` in the viewer's zone (or `… UTC` before we know it).
pub fn full_datetime(ms: Millis, tz: Option<i32>) -> String {
    let c = civil(ms, tz.unwrap_or(0));
    let zone = if tz.is_none() { " UTC" } else { "" };
    format!(
        "{}, {} {}, {}, {:02}:{:02}{zone}",
        WEEKDAYS.get(c.weekday as usize).copied().unwrap_or(""),
        month_name(c.month),
        c.day,
        c.year,
        c.hour,
        c.minute
    )
}

/// Compact age for lists: `now`, `5m`, `3h`, `Mon`, `Mar 4`, `Mar 4, 2023`.
pub fn relative_time(ts: Millis, now: Millis, tz: Option<i32>) -> String {
    let diff = (now - ts).max(0);
    let minute = 60_000;
    if diff < minute {
        return "now".into();
    }
    if diff < 60 * minute {
        return format!("{}m", diff / minute);
    }
    if diff < 24 * 60 * minute {
        return format!("{}h", diff / (60 * minute));
    }
    let offset = tz.unwrap_or(0);
    let then = civil(ts, offset);
    if diff < 6 * 24 * 60 * minute {
        return WEEKDAYS.get(then.weekday as usize).copied().unwrap_or("").to_string();
    }
    let today = civil(now, offset);
    if then.year == today.year {
        format!("{} {}", month_name(then.month), then.day)
    } else {
        format!("{} {}, {}", month_name(then.month), then.day, then.year)
    }
}

/// Message timestamp: `14:05` today, `Mar 4, 14:05` otherwise (UTC marked before hydration).
pub fn message_time(ts: Millis, now: Millis, tz: Option<i32>) -> String {
    let offset = tz.unwrap_or(0);
    let then = civil(ts, offset);
    let today = civil(now, offset);
    let zone = if tz.is_none() { " UTC" } else { "" };
    if (then.year, then.month, then.day) == (today.year, today.month, today.day) {
        format!("{:02}:{:02}{zone}", then.hour, then.minute)
    } else if then.year == today.year {
        format!(
            "{} {}, {:02}:{:02}{zone}",
            month_name(then.month),
            then.day,
            then.hour,
            then.minute
        )
    } else {
        format!(
            "{} {}, {}, {:02}:{:02}{zone}",
            month_name(then.month),
            then.day,
            then.year,
            then.hour,
            then.minute
        )
    }
}

/// "in 5h", "in 3d", "in 20m": how long until `ts`.
pub fn time_until(ts: Millis, now: Millis) -> String {
    let diff = (ts - now).max(0);
    let minute = 60_000;
    if diff < 60 * minute {
        format!("{}m", (diff / minute).max(1))
    } else if diff < 48 * 60 * minute {
        format!("{}h", diff / (60 * minute))
    } else {
        format!("{}d", diff / (24 * 60 * minute))
    }
}

/// `<time>` with a relative label that ticks with the clock.
#[component]
pub fn RelTime(ts: Millis) -> impl IntoView {
    let clock = Clock::get();
    view! {
        <time
            datetime=iso_utc(ts)
            title=move || full_datetime(ts, clock.tz_offset_min.get())
        >
            {move || relative_time(ts, clock.now(), clock.tz_offset_min.get())}
        </time>
    }
}

/// `<time>` with a message timestamp.
#[component]
pub fn MsgTime(ts: Millis) -> impl IntoView {
    let clock = Clock::get();
    view! {
        <time
            datetime=iso_utc(ts)
            title=move || full_datetime(ts, clock.tz_offset_min.get())
        >
            {move || message_time(ts, clock.now(), clock.tz_offset_min.get())}
        </time>
    }
}

// ---------------------------------------------------------------------------------------
// Avatars and badges
// ---------------------------------------------------------------------------------------

/// Up to two initials: "Ana Souza" → "AS", "léa" → "L".
pub fn initials(name: &str) -> String {
    let letters: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .take(2)
        .flat_map(char::to_uppercase)
        .collect();
    if letters.is_empty() { "?".into() } else { letters }
}

/// A stable hue for a name, so a person keeps their colour everywhere.
pub fn hue(name: &str) -> u32 {
    name.bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % 360
}

#[component]
pub fn Avatar(
    #[prop(into)] name: String,
    #[prop(optional)] url: Option<String>,
    #[prop(optional)] large: bool,
) -> impl IntoView {
    let style = format!("--avatar-hue: {}", hue(&name));
    let class = if large { "avatar avatar-lg" } else { "avatar" };
    match url.filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/')) {
        Some(url) => view! {
            <span class=class style=style aria-hidden="true">
                <img src=url alt="" loading="lazy"/>
            </span>
        }
        .into_any(),
        None => view! {
            <span class=class style=style aria-hidden="true">{initials(&name)}</span>
        }
        .into_any(),
    }
}

pub fn conversation_status_label(status: ConversationStatus) -> &'static str {
    match status {
        ConversationStatus::New => "New",
        ConversationStatus::Active => "Active",
        ConversationStatus::Resolved => "Resolved",
        ConversationStatus::Closed => "Closed",
    }
}

#[component]
pub fn StatusBadge(#[prop(into)] status: Signal<ConversationStatus>) -> impl IntoView {
    view! {
        <span
            class=move || format!("badge badge-status-{}", status.get().as_str())
            data-status=move || status.get().as_str()
        >
            {move || conversation_status_label(status.get())}
        </span>
    }
}

pub fn channel_status_label(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Active => "Active",
        ChannelStatus::NeedsReconnect => "Needs reconnect",
        ChannelStatus::Disconnected => "Disconnected",
    }
}

#[component]
pub fn ChannelStatusBadge(status: ChannelStatus) -> impl IntoView {
    view! {
        <span class=format!("badge badge-channel-{}", status.as_str())>{channel_status_label(status)}</span>
    }
}

/// The platform's mark in its colours (Messenger blue, Instagram gradient, WhatsApp green,
/// demo grey), so agents tell channels apart at a glance. `decorative` hides it from
/// screen readers where the kind is already written next to it.
#[component]
pub fn ChannelIcon(
    kind: ChannelKind,
    #[prop(optional)] large: bool,
    #[prop(optional)] decorative: bool,
) -> impl IntoView {
    let class = format!(
        "channel-badge channel-badge-{}{}",
        kind.as_str(),
        if large { " channel-badge-lg" } else { "" }
    );
    let platform = kind.platform();
    let label = platform.name;
    let glyph = glyph(platform.icon);
    view! {
        <span
            class=class
            role=(!decorative).then_some("img")
            aria-label=(!decorative).then_some(label)
            aria-hidden=decorative.then_some("true")
            title=label
            style=format!("background: {}", platform.badge)
            data-channel-kind=kind.as_str()
        >
            <svg viewBox="0 0 24 24" aria-hidden="true">{glyph}</svg>
        </span>
    }
}

/// The shapes of a platform's mark as SVG elements. They are paired up one by one rather
/// than collected into a `Vec`, which would add a hydration marker after them: the markup
/// stays exactly what it was when each kind's glyph was written out by hand.
fn glyph(shapes: &'static [Shape]) -> AnyView {
    shapes
        .iter()
        .map(|shape| shape_view(*shape))
        .reduce(|drawn, next| (drawn, next).into_any())
        .unwrap_or_else(|| ().into_any())
}

fn shape_view(shape: Shape) -> AnyView {
    match shape {
        Shape::Path { ink, d } => view! { <path class=ink.class() d=d/> }.into_any(),
        Shape::Rect {
            ink,
            x,
            y,
            width,
            height,
            rx,
        } => view! { <rect class=ink.class() x=x y=y width=width height=height rx=rx/> }.into_any(),
        Shape::Circle { ink, cx, cy, r } => view! { <circle class=ink.class() cx=cx cy=cy r=r/> }.into_any(),
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Admin => "Admin",
        Role::Agent => "Agent",
    }
}

// ---------------------------------------------------------------------------------------
// Loading, errors, empty states
// ---------------------------------------------------------------------------------------

#[component]
pub fn Spinner(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading".into());
    view! { <span class="spinner" role="status" aria-label=label></span> }
}

/// A full-area loading placeholder.
#[component]
pub fn Loading(#[prop(optional, into)] label: Option<String>) -> impl IntoView {
    let label = label.unwrap_or_else(|| "Loading…".into());
    view! {
        <div class="loading">
            <Spinner label=label.clone()/>
            <span class="loading-label">{label}</span>
        </div>
    }
}

#[component]
pub fn ErrorAlert(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert">
            <span class="alert-icon" aria-hidden="true">"!"</span>
            <span>{message}</span>
        </div>
    }
}

/// A page-level error; an expired session gets a way back in.
#[component]
pub fn ErrorState(error: AppError) -> impl IntoView {
    let unauthorized = error == AppError::Unauthorized;
    view! {
        <div class="empty-state">
            <ErrorAlert message=error.to_string()/>
            {unauthorized.then(|| view! { <a class="btn" href="/login" rel="external">"Log in again"</a> })}
        </div>
    }
}

#[component]
pub fn EmptyState(
    #[prop(into)] title: String,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="empty-state">
            <div class="empty-illustration" aria-hidden="true"></div>
            <p class="empty-title">{title}</p>
            {hint.map(|h| view! { <p class="empty-hint">{h}</p> })}
            {children.map(|c| c())}
        </div>
    }
}

/// `false` on the server and in the first client render, `true` once hydrated: for
/// progressive enhancement (e.g. hiding a no-JavaScript "Apply" button) without a
/// hydration mismatch.
pub fn use_hydrated() -> ReadSignal<bool> {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    hydrated
}

// ---------------------------------------------------------------------------------------
// Toasts
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub error: bool,
}

/// Short-lived notifications (action errors, confirmations), shown in a corner.
#[derive(Clone, Copy)]
pub struct Toasts {
    items: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    pub fn provide() -> Toasts {
        let toasts = Toasts {
            items: RwSignal::new(Vec::new()),
            next: StoredValue::new(1),
        };
        provide_context(toasts);
        toasts
    }

    pub fn get() -> Option<Toasts> {
        use_context::<Toasts>()
    }

    pub fn error(self, text: impl Into<String>) {
        self.push(text.into(), true);
    }

    pub fn info(self, text: impl Into<String>) {
        self.push(text.into(), false);
    }

    fn push(self, text: String, error: bool) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.items.update(|items| {
            items.push(Toast { id, text, error });
            if items.len() > 4 {
                items.remove(0);
            }
        });
        #[cfg(feature = "hydrate")]
        set_timeout(
            move || {
                let _ = self.items.try_update(|items| items.retain(|t| t.id != id));
            },
            std::time::Duration::from_secs(if error { 8 } else { 4 }),
        );
    }

    pub fn dismiss(self, id: u64) {
        self.items.update(|items| items.retain(|t| t.id != id));
    }
}

/// Reports an error through the toasts, if the page has them.
pub fn toast_error(error: &AppError) {
    if let Some(toasts) = Toasts::get() {
        toasts.error(error.to_string());
    }
}

#[component]
pub fn ToastHost(toasts: Toasts) -> impl IntoView {
    view! {
        <div class="toasts" aria-live="polite">
            <For each=move || toasts.items.get() key=|t| t.id let:toast>
                <div class=if toast.error { "toast toast-error" } else { "toast" } role=if toast.error { "alert" } else { "status" }>
                    <span>{toast.text.clone()}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label="Dismiss"
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(
            civil(0, 0),
            Civil {
                year: 1970,
                month: 1,
                day: 1,
                hour: 0,
                minute: 0,
                second: 0,
                weekday: 4
            }
        );
        // 2024-02-29T23:59:30Z, a Thursday
        let leap = 1_709_251_170_000;
        let c = civil(leap, 0);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.weekday),
            (2024, 2, 29, 23, 59, 4)
        );
        // one hour east it's already March 1st, a Friday
        let c = civil(leap, 60);
        assert_eq!((c.year, c.month, c.day, c.hour, c.weekday), (2024, 3, 1, 0, 5));
        assert_eq!(iso_utc(leap), "2024-02-29T23:59:30Z");
    }

    #[test]
    fn relative_labels() {
        let now = 1_709_251_170_000;
        assert_eq!(relative_time(now - 5_000, now, None), "now");
        assert_eq!(relative_time(now + 5_000, now, None), "now");
        assert_eq!(relative_time(now - 5 * 60_000, now, None), "5m");
        assert_eq!(relative_time(now - 3 * 3_600_000, now, None), "3h");
        assert_eq!(relative_time(now - 2 * 86_400_000, now, None), "Tue");
        assert_eq!(relative_time(now - 20 * 86_400_000, now, None), "Feb 9");
        assert_eq!(relative_time(now - 400 * 86_400_000, now, None), "Jan 25, 2023");
    }

    #[test]
    fn message_times() {
        let now = 1_709_251_170_000; // 23:59 UTC
        assert_eq!(message_time(now - 60_000, now, None), "23:58 UTC");
        assert_eq!(message_time(now - 60_000, now, Some(0)), "23:58");
        assert_eq!(message_time(now - 86_400_000, now, Some(0)), "Feb 28, 23:59");
        assert_eq!(time_until(now + 5 * 3_600_000, now), "5h");
        assert_eq!(time_until(now + 30_000, now), "1m");
        assert_eq!(time_until(now + 6 * 86_400_000, now), "6d");
    }

    #[test]
    fn channel_icons_draw_their_declared_shapes() {
        for kind in ChannelKind::ALL {
            let platform = kind.platform();
            let html = view! { <ChannelIcon kind=*kind/> }.to_html();
            for attr in [
                format!(r#"data-channel-kind="{kind}""#),
                format!(r#"aria-label="{}""#, platform.name),
                format!(r#"style="background: {};""#, platform.badge),
                r#"role="img""#.to_string(),
            ] {
                assert!(html.contains(&attr), "{kind}: no {attr} in {html}");
            }
            let svg = &html[html.find("<svg").unwrap_or_default()..];
            assert_eq!(
                svg.matches(r#"class="cb-"#).count(),
                platform.icon.len(),
                "{kind}: {svg}"
            );
            // Hydration markers inside the mark would differ from the markup browser tests know.
            assert!(!svg.contains("<!"), "{kind}: {svg}");
            for shape in platform.icon {
                let (tag, ink, attrs): (&str, _, Vec<(&str, &str)>) = match *shape {
                    Shape::Path { ink, d } => ("<path ", ink, vec![("d", d)]),
                    Shape::Rect {
                        ink,
                        x,
                        y,
                        width,
                        height,
                        rx,
                    } => (
                        "<rect ",
                        ink,
                        vec![("x", x), ("y", y), ("width", width), ("height", height), ("rx", rx)],
                    ),
                    Shape::Circle { ink, cx, cy, r } => ("<circle ", ink, vec![("cx", cx), ("cy", cy), ("r", r)]),
                };
                let element = svg
                    .split(tag)
                    .skip(1)
                    .map(|rest| &rest[..rest.find('>').unwrap_or(rest.len())])
                    .find(|el| {
                        attrs
                            .iter()
                            .all(|(name, value)| el.contains(&format!(r#"{name}="{value}""#)))
                    });
                let element = element.unwrap_or_else(|| panic!("{kind}: {shape:?} not drawn in {svg}"));
                assert!(
                    element.contains(&format!(r#"class="{}""#, ink.class())),
                    "{kind}: {element}"
                );
            }
        }
    }

    #[test]
    fn initials_and_hue() {
        assert_eq!(initials("Ana Souza"), "AS");
        assert_eq!(initials("léa"), "L");
        assert_eq!(initials("  "), "?");
        assert_eq!(initials("Minh Van Tran"), "MV");
        assert_eq!(hue("Ana"), hue("Ana"));
        assert!(hue("Ana") < 360);
    }
}

/// A destructive action that asks once more before it runs: the button opens a small
/// "question? [action] [Cancel]" group, and `busy` disables the action while it runs.
#[component]
pub fn ConfirmAction(
    label: &'static str,
    busy_label: &'static str,
    question: &'static str,
    #[prop(into)] aria_label: String,
    open_testid: &'static str,
    confirm_testid: &'static str,
    confirming: RwSignal<bool>,
    busy: RwSignal<bool>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    view! {
        <Show
            when=move || confirming.get()
            fallback=move || view! {
                <button
                    type="button"
                    class="btn btn-sm btn-ghost btn-danger-text"
                    data-testid=open_testid
                    on:click=move |_| confirming.set(true)
                >
                    {label}
                </button>
            }
        >
            <div class="confirm" role="group" aria-label=aria_label.clone()>
                <span class="confirm-text">{question}</span>
                <button
                    type="button"
                    class="btn btn-sm btn-danger"
                    data-testid=confirm_testid
                    on:click=move |_| on_confirm.run(())
                    disabled=move || busy.get()
                >
                    {move || if busy.get() { busy_label } else { label }}
                </button>
                <button type="button" class="btn btn-sm btn-ghost" on:click=move |_| confirming.set(false)>
                    "Cancel"
                </button>
            </div>
        </Show>
    }
}

/// A file's kind as a small picture (image, video, audio, document).
#[component]
pub fn FileKindIcon(kind: AttachmentKind) -> impl IntoView {
    match kind {
        AttachmentKind::Image => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3.5" y="4.5" width="17" height="15" rx="2.5"/><circle cx="9" cy="10" r="1.8"/><path d="M20.5 16l-5-5-9 8.5"/></svg>
        }
        .into_any(),
        AttachmentKind::Video => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true"><rect x="3" y="6" width="13" height="12" rx="2.5"/><path d="M16 10.5l5-3v9l-5-3z"/></svg>
        }
        .into_any(),
        AttachmentKind::Audio => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M9 18V6l11-2v12"/><circle cx="6.5" cy="18" r="2.5"/><circle cx="17.5" cy="16" r="2.5"/></svg>
        }
        .into_any(),
        _ => view! {
            <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 3.5h7l4 4v13H7z"/><path d="M14 3.5v4h4"/></svg>
        }
        .into_any(),
    }
}
