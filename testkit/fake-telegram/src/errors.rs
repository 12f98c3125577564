//! The Bot API's error envelope and the exact `description` strings the fake
//! answers with.
//!
//! Every failure is `{"ok":false,"error_code":N,"description":"..."}` with
//! HTTP status `N`; a flood-control failure adds
//! `"parameters":{"retry_after":S}`. Where a string was checked against a
//! source, that source is named next to it so a later reader can re-verify.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// teloxide-core `errors.rs` `ApiError::NotFound` (the name is teloxide's; the
/// string is what Telegram sends for a bad token).
pub const UNAUTHORIZED: &str = "Unauthorized";
/// What `api.telegram.org` answers for a method it does not know.
pub const NOT_FOUND: &str = "Not Found";
/// teloxide-core `ApiError::BotBlocked`.
pub const BOT_BLOCKED: &str = "Forbidden: bot was blocked by the user";
/// teloxide-core `ApiError::ChatNotFound`.
pub const CHAT_NOT_FOUND: &str = "Bad Request: chat not found";
/// teloxide-core `ApiError::MessageTextIsEmpty`.
pub const TEXT_EMPTY: &str = "Bad Request: message text is empty";
/// teloxide-core `ApiError::MessageIsTooLong`.
pub const TEXT_TOO_LONG: &str = "Bad Request: message is too long";
/// teloxide-core `ApiError::MessageNotModified`.
pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message content and reply markup \
                                are exactly the same as a current content and reply markup of the message";
/// teloxide-core `ApiError::MessageToEditNotFound`.
pub const EDIT_NOT_FOUND: &str = "Bad Request: message to edit not found";
/// teloxide-core `ApiError::MessageCantBeEdited`.
pub const CANT_BE_EDITED: &str = "Bad Request: message can't be edited";
/// teloxide-core `ApiError::MessageToDeleteNotFound`.
pub const DELETE_NOT_FOUND: &str = "Bad Request: message to delete not found";
/// teloxide-core `ApiError::MessageIdentifierNotSpecified`.
pub const MESSAGE_ID_MISSING: &str = "Bad Request: message identifier is not specified";
/// The current wording seen in many bots' error handling (teloxide still lists
/// the older "reply message not found").
pub const REPLY_NOT_FOUND: &str = "Bad Request: message to be replied not found";
/// teloxide-core `ApiError::InvalidQueryId`.
pub const QUERY_TOO_OLD: &str = "Bad Request: query is too old and response timeout expired or query id is invalid";
/// The Bot API's 20 MB getFile limit, as bots in the wild report it.
pub const FILE_TOO_BIG: &str = "Bad Request: file is too big";
/// getFile with an id the server never issued, as clients in the wild report it.
pub const INVALID_FILE_ID: &str = "Bad Request: invalid file_id";
/// teloxide-core `ApiError::WrongFileIdOrUrl`: a send naming an unknown file id.
pub const WRONG_FILE_ID_OR_URL: &str = "Bad Request: wrong file identifier/HTTP URL specified";
/// teloxide-core `ApiError::FailedToGetUrlContent`: a send by URL whose download failed.
pub const URL_CONTENT_FAILED: &str = "Bad Request: failed to get HTTP URL content";
/// teloxide-core `ApiError::ButtonDataInvalid`: `callback_data` over 64 bytes.
pub const BUTTON_DATA_INVALID: &str = "Bad Request: BUTTON_DATA_INVALID";
/// teloxide-core `ApiError::TextButtonsAreUnallowed`.
pub const TEXT_BUTTONS_UNALLOWED: &str =
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
/// teloxide-core `ApiError::WebhookRequireHttps`.
pub const WEBHOOK_NEEDS_HTTP_URL: &str = "Bad Request: bad webhook: HTTPS url must be provided for webhook";
/// setWebhook with a `secret_token` outside `A-Za-z0-9_-`, as many deployment
/// notes quote it.
pub const SECRET_TOKEN_CHARS: &str = "Bad Request: secret token contains unallowed characters";
/// Prefix of every HTML parse failure (teloxide-core `ApiError::CantParseEntities`
/// matches on it); the rest is TDLib's `parse_html` message.
pub const CANT_PARSE_ENTITIES_PREFIX: &str = "Bad Request: can't parse entities: ";

/// A Bot API failure, ready to become the error envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    /// Seconds, for 429 flood control.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(400, description)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, UNAUTHORIZED)
    }

    pub fn not_found() -> Self {
        Self::new(404, NOT_FOUND)
    }

    /// Telegram's flood-control answer; the same seconds appear in the text
    /// and in `parameters.retry_after`.
    pub fn too_many_requests(retry_after: u64) -> Self {
        Self {
            code: 429,
            description: format!("Too Many Requests: retry after {retry_after}"),
            retry_after: Some(retry_after),
        }
    }

    pub fn body(&self) -> Value {
        let mut body = json!({"ok": false, "error_code": self.code, "description": self.description});
        if let Some(seconds) = self.retry_after {
            body["parameters"] = json!({ "retry_after": seconds });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self.body())).into_response()
    }
}

/// `{"ok":true,"result":...}` with HTTP 200.
pub fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

/// Success with the human-readable `description` Telegram adds to some
/// answers (setWebhook's "Webhook was set", deleteWebhook's "Webhook was deleted").
pub fn ok_described(result: Value, description: &str) -> Response {
    Json(json!({"ok": true, "result": result, "description": description})).into_response()
}
