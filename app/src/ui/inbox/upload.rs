//! Attaching a file to a reply. The browser first checks the file against what the
//! conversation's platform accepts (`attachments::check`: nothing is uploaded if it would be
//! refused), then uploads it to `attachments::UPLOAD_ROUTE` with `XMLHttpRequest`, so the
//! agent sees real progress and can cancel. The answer (`UploadedFile`) waits in a chip above
//! the reply box until the reply is sent.

use super::composer::focus_later;
use crate::attachments::{self, UploadedFile};
use crate::model::{AttachmentKind, ChannelKind, Id};
use crate::ui::components::FileKindIcon;
#[cfg(feature = "hydrate")]
use crate::ui::xhr_upload;
use leptos::prelude::*;

/// An upload on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub name: String,
    pub size: u64,
    /// Percent sent; `None` until the browser can tell.
    pub percent: Option<u8>,
}

/// The composer's attachment: the upload running, the file ready to go, or why not.
#[derive(Clone, Copy)]
pub struct Uploader {
    pub progress: RwSignal<Option<Progress>>,
    pub ready: RwSignal<Option<UploadedFile>>,
    pub error: RwSignal<Option<String>>,
    #[cfg(feature = "hydrate")]
    in_flight: xhr_upload::Slot,
}

impl Default for Uploader {
    fn default() -> Self {
        Self::new()
    }
}

impl Uploader {
    /// Belongs to the composer: an upload still running when it goes away is cancelled.
    pub fn new() -> Self {
        let uploader = Uploader {
            progress: RwSignal::new(None),
            ready: RwSignal::new(None),
            error: RwSignal::new(None),
            #[cfg(feature = "hydrate")]
            in_flight: xhr_upload::slot(),
        };
        on_cleanup(move || uploader.cancel());
        uploader
    }

    /// Whether an upload is running (tracked).
    pub fn busy(self) -> bool {
        self.progress.with(Option::is_some)
    }

    pub fn busy_untracked(self) -> bool {
        self.progress.with_untracked(Option::is_some)
    }

    /// The uploaded file, which leaves the chip (it is being sent).
    pub fn take(self) -> Option<UploadedFile> {
        let file = self.ready.get_untracked();
        if file.is_some() {
            self.ready.set(None);
            self.error.set(None);
        }
        file
    }

    /// Stops the running upload, if any; nothing is attached.
    pub fn cancel(self) {
        #[cfg(feature = "hydrate")]
        xhr_upload::cancel(self.in_flight);
        let _ = self.progress.try_set(None);
    }

    /// Checks `file` against what `channel` accepts and, if it may go, uploads it for the
    /// conversation; `on_ready` runs once it is attached.
    #[cfg(feature = "hydrate")]
    pub fn start(self, channel: ChannelKind, conversation_id: Id, file: web_sys::File, on_ready: impl Fn() + 'static) {
        use crate::ui::xhr_upload::Ended;

        let name = display_name(&file.name(), &file.type_());
        let size = file.size().max(0.0) as u64;
        if let Err(reason) = attachments::check(channel, &file.type_(), size) {
            self.error.set(Some(refusal(&name, &reason)));
            return;
        }
        self.cancel();
        self.error.set(None);
        self.ready.set(None);

        let failed = move |message: String| {
            let _ = self.error.try_set(Some(message));
            let _ = self.progress.try_set(None);
        };
        let Ok(form) = web_sys::FormData::new() else {
            failed(refusal(&name, "this browser cannot upload files"));
            return;
        };
        let _ = form.append_with_str("conversationId", &conversation_id.to_string());
        let _ = form.append_with_blob_and_filename("file", &file, &name);
        self.progress.set(Some(Progress {
            name: name.clone(),
            size,
            percent: Some(0),
        }));
        let on_progress = move |percent| {
            let _ = self.progress.try_update(|p| {
                if let Some(p) = p {
                    p.percent = Some(percent);
                }
            });
        };
        let on_end = {
            let name = name.clone();
            move |ended| match ended {
                Ended::Answered { status, body } => match upload_outcome(status, &body) {
                    Ok(uploaded) => {
                        let _ = self.ready.try_set(Some(uploaded));
                        let _ = self.progress.try_set(None);
                        on_ready();
                    }
                    Err(reason) => failed(refusal(&name, &reason)),
                },
                Ended::Interrupted => failed(refusal(
                    &name,
                    "the upload was interrupted; check the connection and try again",
                )),
                Ended::Aborted => {
                    let _ = self.progress.try_set(None);
                }
            }
        };
        if !xhr_upload::start(self.in_flight, attachments::UPLOAD_ROUTE, &form, on_progress, on_end) {
            self.cancel();
            failed(refusal(&name, "the upload could not be started"));
        }
    }
}

/// The first file in a paste or a drop.
#[cfg(feature = "hydrate")]
pub fn first_file(data: Option<web_sys::DataTransfer>) -> Option<web_sys::File> {
    data.and_then(|d| d.files()).and_then(|files| files.get(0))
}

/// Whether a drag carries files (not text being moved around).
#[cfg(feature = "hydrate")]
pub fn drags_files(data: Option<web_sys::DataTransfer>) -> bool {
    data.is_some_and(|d| d.types().includes(&wasm_bindgen::JsValue::from_str("Files"), 0))
}

/// A file without a name (some pasted images) gets one from its type.
#[cfg(any(feature = "hydrate", test))]
fn display_name(name: &str, mime: &str) -> String {
    let name = name.trim();
    if !name.is_empty() {
        return name.to_string();
    }
    let ext = mime
        .split(';')
        .next()
        .and_then(|m| m.split_once('/'))
        .map(|(_, sub)| sub.trim());
    match ext {
        Some(ext) if !ext.is_empty() => format!("file.{ext}"),
        _ => "file".into(),
    }
}

/// "“party.gif” can't be attached: WhatsApp does not accept image/gif files; …."
#[cfg(any(feature = "hydrate", test))]
fn refusal(name: &str, reason: &str) -> String {
    let reason = reason.trim().trim_end_matches('.');
    format!("“{name}” can't be attached: {reason}.")
}

/// The upload route's answer: the file, or the reason to show the agent.
pub fn upload_outcome(status: u16, body: &str) -> Result<UploadedFile, String> {
    crate::ui::xhr_upload::read_answer(status, body, |status| match status {
        404 => Some("this conversation no longer exists"),
        413 => Some("the file is larger than the platform accepts"),
        415 | 422 => Some("the platform does not accept this file"),
        _ => None,
    })
}

fn kind_label(kind: AttachmentKind) -> &'static str {
    match kind {
        AttachmentKind::Image => "Image",
        AttachmentKind::Video => "Video",
        AttachmentKind::Audio => "Audio",
        _ => "Document",
    }
}

/// The paperclip next to the template button, with its (hidden) file input.
#[component]
pub fn AttachButton(
    uploader: Uploader,
    channel: ChannelKind,
    conversation_id: Id,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let open = move |_| {
        if let Some(input) = input.get_untracked() {
            input.click();
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(file) = input.files().and_then(|files| files.get(0)) {
                uploader.start(channel, conversation_id, file, || focus_later("composer-input"));
            }
            // Picking the same file again (after removing it) is a change too.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, uploader, conversation_id);
    };
    view! {
        <input
            type="file"
            class="composer-file"
            data-testid="composer-file"
            tabindex="-1"
            aria-hidden="true"
            hidden=true
            accept=attachments::accept_attribute(channel)
            node_ref=input
            disabled=disabled
            on:change=on_change
        />
        <button
            type="button"
            class="btn composer-attach"
            data-testid="composer-attach"
            aria-label="Attach a file"
            title=format!("Attach a file — {} takes {}", channel.label(), attachments::accepted_summary(channel))
            aria-busy=move || uploader.busy().to_string()
            disabled=disabled
            on:click=open
        >
            <svg class="btn-icon" viewBox="0 0 24 24" aria-hidden="true">
                <path d="M20.5 11.5l-8.3 8.3a5 5 0 0 1-7.1-7.1l8.7-8.7a3.3 3.3 0 0 1 4.7 4.7l-8.7 8.7a1.7 1.7 0 0 1-2.4-2.4l8-8"/>
            </svg>
        </button>
    }
}

/// Above the reply box: why a file can't go, the upload's progress, or the attached file.
#[component]
pub fn AttachmentTray(uploader: Uploader) -> impl IntoView {
    let Uploader {
        progress, ready, error, ..
    } = uploader;
    let remove = move |_| {
        ready.set(None);
        focus_later("composer-input");
    };
    let cancel = move |_| {
        uploader.cancel();
        focus_later("composer-input");
    };
    view! {
        {move || error.get().map(|message| view! {
            <div class="attachment-error" role="alert" data-testid="attachment-error">
                <span class="alert-icon" aria-hidden="true">"!"</span>
                <span class="attachment-error-text">{message}</span>
                <button
                    type="button"
                    class="icon-btn attachment-error-close"
                    aria-label="Dismiss"
                    on:click=move |_| error.set(None)
                >
                    <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 7l10 10M17 7L7 17"/></svg>
                </button>
            </div>
        })}
        {move || progress.get().map(|p| {
            let label = format!("Uploading {}", p.name);
            view! {
                <div class="attachment-chip attachment-uploading" data-testid="upload-status" aria-busy="true">
                    <span class="attachment-chip-icon" aria-hidden="true">
                        <svg viewBox="0 0 24 24"><path d="M12 16V5M7.5 9.5L12 5l4.5 4.5M5 19.5h14"/></svg>
                    </span>
                    <span class="attachment-chip-text">
                        <span class="attachment-chip-name" title=p.name.clone()>{p.name.clone()}</span>
                        <span class="attachment-chip-progress">
                            <progress
                                data-testid="upload-progress"
                                max="100"
                                value=p.percent.map(|v| v.to_string())
                                aria-label=label
                            ></progress>
                            <span class="attachment-chip-meta" aria-hidden="true">
                                {format!("{}% of {}", p.percent.unwrap_or(0), attachments::human_size(p.size))}
                            </span>
                        </span>
                    </span>
                    <button type="button" class="btn btn-ghost btn-sm" data-testid="upload-cancel" on:click=cancel>
                        "Cancel"
                    </button>
                </div>
            }
        })}
        {move || ready.get().map(|file| {
            let kind = file.kind;
            let meta = format!("{} · {}", kind_label(kind), attachments::human_size(file.size));
            let preview = if kind == AttachmentKind::Image {
                view! { <img class="attachment-chip-thumb" src=file.url.clone() alt=""/> }.into_any()
            } else {
                view! { <span class="attachment-chip-icon" aria-hidden="true"><FileKindIcon kind/></span> }.into_any()
            };
            view! {
                <div class="attachment-chip" data-testid="attachment-chip" data-kind=kind.as_str()>
                    {preview}
                    <span class="attachment-chip-text">
                        <span class="attachment-chip-name" data-testid="attachment-name" title=file.name.clone()>{file.name.clone()}</span>
                        <span class="attachment-chip-meta">{meta}</span>
                    </span>
                    <button
                        type="button"
                        class="icon-btn attachment-chip-remove"
                        data-testid="attachment-remove"
                        aria-label="Remove attachment"
                        title="Remove attachment"
                        on:click=remove
                    >
                        <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 7l10 10M17 7L7 17"/></svg>
                    </button>
                </div>
            }
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_answer_becomes_the_file_or_the_reason() {
        let ok = r#"{"id":"ab12","kind":"image","url":"/api/media/uploads/ab12","name":"a.png","mimeType":"image/png","size":68}"#;
        let file = upload_outcome(201, ok).expect("the file");
        assert_eq!(file.url, "/api/media/uploads/ab12");
        assert_eq!(file.kind, AttachmentKind::Image);
        let refused = r#"{"error":{"code":"invalid","message":"WhatsApp does not accept image/gif files"}}"#;
        assert_eq!(
            upload_outcome(422, refused),
            Err("WhatsApp does not accept image/gif files".into())
        );
        assert!(upload_outcome(413, "length limit exceeded").is_err_and(|m| m.contains("larger")));
        assert!(upload_outcome(201, "<html>").is_err());
        assert!(upload_outcome(502, "").is_err_and(|m| m.contains("502")));
    }

    #[test]
    fn refusals_read_as_one_sentence() {
        assert_eq!(
            refusal("party.gif", "the file is empty"),
            "“party.gif” can't be attached: the file is empty."
        );
        assert_eq!(refusal("a", "done."), "“a” can't be attached: done.");
        assert_eq!(display_name("  ", "image/png"), "file.png");
        assert_eq!(display_name("shot.png", "image/png"), "shot.png");
    }
}
