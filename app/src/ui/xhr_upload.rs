//! Multipart uploads through `XMLHttpRequest`, the browser API that reports upload progress
//! and can be cancelled: the composer's attachments and the template editor's header
//! samples both go this way.

#[cfg(feature = "hydrate")]
use leptos::prelude::*;

/// An upload route's answer: its JSON on success, else the server's error message, or
/// else words for the status (`wording` gives the route's own, for the statuses it knows).
pub fn read_answer<T: serde::de::DeserializeOwned>(
    status: u16,
    body: &str,
    wording: impl FnOnce(u16) -> Option<&'static str>,
) -> Result<T, String> {
    if (200..300).contains(&status) {
        return serde_json::from_str::<T>(body)
            .map_err(|_| "the server's answer could not be read; try again".to_string());
    }
    let message = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
        v.pointer("/error/message")
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
    });
    Err(message.unwrap_or_else(|| match (status, wording(status)) {
        (_, Some(words)) => words.to_string(),
        (0, None) => "the upload was interrupted; check the connection and try again".into(),
        (401, None) => "your session has expired; sign in again".into(),
        (other, None) => format!("the upload failed (HTTP {other}); try again"),
    }))
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The server answered (any status).
    Answered { status: u16, body: String },
    /// The connection failed before an answer.
    Interrupted,
    /// The browser stopped the request (not `cancel`, which reports nothing).
    Aborted,
}

/// Where a running upload is kept, so it can be cancelled.
#[cfg(feature = "hydrate")]
pub type Slot = StoredValue<Option<Running>, LocalStorage>;

#[cfg(feature = "hydrate")]
pub fn slot() -> Slot {
    StoredValue::new_local(None)
}

/// The request and the handlers attached to it (kept alive until it ends).
#[cfg(feature = "hydrate")]
pub struct Running {
    xhr: web_sys::XmlHttpRequest,
    _handlers: Vec<wasm_bindgen::closure::Closure<dyn FnMut(web_sys::ProgressEvent)>>,
}

#[cfg(feature = "hydrate")]
impl Running {
    /// Detaches the handlers (so an abort reports nothing) and lets go of them once the
    /// handler that may be running right now has returned.
    fn release(self, abort: bool) {
        let xhr = &self.xhr;
        xhr.set_onload(None);
        xhr.set_onerror(None);
        xhr.set_onabort(None);
        if let Ok(upload) = xhr.upload() {
            upload.set_onprogress(None);
        }
        if abort {
            let _ = xhr.abort();
        }
        set_timeout(move || drop(self), std::time::Duration::ZERO);
    }
}

/// Stops the upload in `slot`, if any, without reporting it.
#[cfg(feature = "hydrate")]
pub fn cancel(slot: Slot) {
    if let Some(Some(running)) = slot.try_update_value(Option::take) {
        running.release(true);
    }
}

/// POSTs `form` to `route`, reporting the percent sent and then how it ended. `false` when
/// the browser could not start it.
#[cfg(feature = "hydrate")]
pub fn start(
    slot: Slot,
    route: &str,
    form: &web_sys::FormData,
    on_progress: impl Fn(u8) + 'static,
    on_end: impl Fn(Ended) + 'static,
) -> bool {
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;

    cancel(slot);
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        return false;
    };
    let on_end = Rc::new(on_end);
    // Whichever of load / error / abort comes, the request is over.
    let finish = move || {
        if let Some(Some(running)) = slot.try_update_value(Option::take) {
            running.release(false);
        }
    };
    let progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            on_progress((ev.loaded() / ev.total() * 100.0).clamp(0.0, 100.0) as u8);
        }
    });
    let load = {
        let (xhr, on_end) = (xhr.clone(), on_end.clone());
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_: web_sys::ProgressEvent| {
            let status = xhr.status().unwrap_or(0);
            let body = xhr.response_text().ok().flatten().unwrap_or_default();
            on_end(Ended::Answered { status, body });
            finish();
        })
    };
    let error = {
        let on_end = on_end.clone();
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_: web_sys::ProgressEvent| {
            on_end(Ended::Interrupted);
            finish();
        })
    };
    let abort = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |_: web_sys::ProgressEvent| {
        on_end(Ended::Aborted);
        finish();
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    xhr.set_onload(Some(load.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(abort.as_ref().unchecked_ref()));
    let sent = xhr
        .open("POST", route)
        .and_then(|()| xhr.set_request_header("Accept", "application/json"))
        .and_then(|()| xhr.send_with_opt_form_data(Some(form)));
    slot.set_value(Some(Running {
        xhr,
        _handlers: vec![progress, load, error, abort],
    }));
    if sent.is_err() {
        cancel(slot);
        return false;
    }
    true
}
