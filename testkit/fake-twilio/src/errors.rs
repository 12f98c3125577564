//! Twilio REST error bodies: `{"code","message","more_info","status"}` with
//! the HTTP status repeated in `status` (the shape twilio-python's
//! `Version.exception()` reads). Adapters branch on `code`; the messages are
//! the ones the live API returns, so logs read the same as in production.
//!
//! Sources for each text are noted on its constructor.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TwilioError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
}

impl TwilioError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401 / 20003 `Authenticate` (live API response body; error page title
    /// "Permission Denied").
    pub fn authenticate() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, "Authenticate")
    }

    /// 404 / 20404 `The requested resource {path} was not found` (live API
    /// wording as reported by SDK users).
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// 21211 "Invalid 'To' Phone Number" (Twilio's debugging guide example).
    pub fn invalid_to(to: &str) -> Self {
        Self::bad_request(21211, format!("The 'To' number {to} is not a valid phone number."))
    }

    /// 21602 "Message body is required" (error page title).
    pub fn body_required() -> Self {
        Self::bad_request(21602, "Message body is required.")
    }

    /// 21603 "'From' phone number is required" (not re-verified).
    pub fn from_required() -> Self {
        Self::bad_request(21603, "A 'From' phone number is required.")
    }

    /// 21604 "'To' phone number is required to send a Message" (error page
    /// title; the sentence form is not re-verified).
    pub fn to_required() -> Self {
        Self::bad_request(21604, "A 'To' phone number is required.")
    }

    /// 21606 (live API response body; error page title "The 'From' phone
    /// number provided is not a valid message-capable Twilio phone number for
    /// this destination/account").
    pub fn from_not_owned(from: &str) -> Self {
        Self::bad_request(
            21606,
            format!(
                "The From phone number {from} is not a valid, SMS-capable inbound phone number or short code for your account."
            ),
        )
    }

    /// 21610 "Attempt to send to unsubscribed recipient" (error page title);
    /// the body text is what Twilio support quotes the API as answering.
    pub fn unsubscribed() -> Self {
        Self::bad_request(21610, "The message From/To pair violates a blacklist rule.")
    }

    /// 21612 (live API response body, as reported by SDK users).
    pub fn unreachable(to: &str, from: &str) -> Self {
        Self::bad_request(
            21612,
            format!(
                "The 'To' phone number: {to}, is not currently reachable using the 'From' phone number: {from} via SMS."
            ),
        )
    }

    /// 21617 (error page title).
    pub fn body_too_long() -> Self {
        Self::bad_request(21617, "The concatenated message body exceeds the 1600 character limit.")
    }

    /// 21701 for an unknown `MessagingServiceSid` (not re-verified).
    pub fn unknown_service(sid: &str) -> Self {
        Self::bad_request(21701, format!("The Messaging Service Sid {sid} is invalid."))
    }

    /// 21201-style rejection of a malformed parameter value (not re-verified).
    pub fn invalid_parameter(name: &str, value: &str) -> Self {
        Self::bad_request(21201, format!("Invalid '{name}' Parameter: {value}"))
    }

    pub fn body(&self) -> serde_json::Value {
        json!({
            "code": self.code,
            "message": self.message,
            "more_info": format!("https://www.twilio.com/docs/errors/{}", self.code),
            "status": self.status.as_u16(),
        })
    }
}

impl IntoResponse for TwilioError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // Twilio challenges like any Basic-auth API, which lets curl and
            // browsers retry with credentials.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}
