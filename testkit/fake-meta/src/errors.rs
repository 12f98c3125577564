//! Graph API error objects.
//!
//! Meta answers failures with HTTP 400 and a body like
//! `{"error":{"message","type":"OAuthException","code","error_subcode",
//! "fbtrace_id"}}` (Graph API "Handling Errors"). Adapters are expected to
//! branch on `code`/`error_subcode`, so those are what must be exact; the
//! messages are copied from real Meta responses.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::state::random_string;

#[derive(Debug)]
pub(crate) struct GraphError {
    status: StatusCode,
    message: String,
    code: u32,
    subcode: Option<u32>,
    /// Rarer parts, boxed to keep `Result<_, GraphError>` small.
    extra: Option<Box<Extra>>,
    /// Meta adds `WWW-Authenticate: OAuth "Facebook Platform" "<reason>" "<message>"`
    /// to OAuth failures.
    www_authenticate: Option<&'static str>,
}

#[derive(Debug, Default)]
struct Extra {
    /// `error_data.details`: the Cloud API (v16.0+) puts the specific
    /// complaint here and keeps `message` to `(#code) Title`.
    details: Option<String>,
    /// `error_data.messaging_product: "whatsapp"` on Cloud API errors.
    whatsapp: bool,
    /// `error_user_title` / `error_user_msg`, which the Business Management
    /// API (message templates) uses for the human-readable reason.
    user_title: Option<String>,
    user_msg: Option<String>,
}

impl GraphError {
    pub fn new(code: u32, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            code,
            subcode: None,
            extra: None,
            www_authenticate: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub fn subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    /// Answers with another HTTP status than 400 (the Cloud API uses 401
    /// for code 190, for instance).
    pub fn http_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Sets `error_data.details`.
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.extra().details = Some(details.into());
        self
    }

    /// Marks the error as a WhatsApp Cloud API one: `error_data` then
    /// carries `messaging_product: "whatsapp"`, as in Meta's published
    /// error response syntax.
    pub fn whatsapp(mut self) -> Self {
        self.extra().whatsapp = true;
        self
    }

    /// Sets `error_user_title` and `error_user_msg`.
    pub fn user(mut self, title: impl Into<String>, msg: impl Into<String>) -> Self {
        let extra = self.extra();
        extra.user_title = Some(title.into());
        extra.user_msg = Some(msg.into());
        self
    }

    /// A Cloud API error as Meta's error-codes page describes it: message
    /// `(#code) Title`, `error_data: {messaging_product, details}`.
    pub fn cloud(code: u32, title: &str, details: impl Into<String>) -> Self {
        Self::new(code, format!("(#{code}) {title}"))
            .details(details)
            .whatsapp()
    }

    fn www_authenticate(mut self, reason: &'static str) -> Self {
        self.www_authenticate = Some(reason);
        self
    }

    /// No `access_token` at all (code 104).
    pub fn missing_token() -> Self {
        Self::new(104, "An access token is required to request this resource.").www_authenticate("invalid_request")
    }

    /// A token the fake never issued, or one for another page (code 190).
    pub fn invalid_token() -> Self {
        Self::new(190, "Invalid OAuth access token - Cannot parse access token").www_authenticate("invalid_token")
    }

    /// An expired token: code 190, subcode 463 ("The session has expired").
    pub fn expired_token(expired_at_ms: i64) -> Self {
        let message = format!(
            "Error validating access token: Session has expired on {}. The current time is {}.",
            pacific_time(expired_at_ms),
            pacific_time(super::now_ms()),
        );
        Self::new(190, message).subcode(463).www_authenticate("invalid_token")
    }

    /// A missing or malformed parameter (code 100).
    pub fn param(message: impl Into<String>) -> Self {
        Self::new(100, message)
    }

    /// Graph's answer for ids it cannot show (code 100, subcode 33).
    pub fn unsupported_get(id: &str) -> Self {
        Self::unsupported("get", id)
    }

    /// The same answer for `POST` and `DELETE` requests on such ids
    /// ("Unsupported post request. Object with ID …").
    pub fn unsupported(method: &str, id: &str) -> Self {
        Self::param(format!(
            "Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due \
             to missing permissions, or does not support this operation. Please read the Graph \
             API documentation at https://developers.facebook.com/docs/graph-api"
        ))
        .subcode(33)
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": format!("A{}", random_string(22)),
        });
        let extra = self.extra.as_deref();
        if let Some(extra) = extra.filter(|e| e.whatsapp || e.details.is_some()) {
            let mut data = serde_json::Map::new();
            if extra.whatsapp {
                data.insert("messaging_product".to_owned(), json!("whatsapp"));
            }
            if let Some(details) = &extra.details {
                data.insert("details".to_owned(), json!(details));
            }
            error["error_data"] = serde_json::Value::Object(data);
        }
        if let Some(subcode) = self.subcode {
            error["error_subcode"] = json!(subcode);
        }
        if let Some(title) = extra.and_then(|e| e.user_title.as_ref()) {
            error["is_transient"] = json!(false);
            error["error_user_title"] = json!(title);
        }
        if let Some(msg) = extra.and_then(|e| e.user_msg.as_ref()) {
            error["error_user_msg"] = json!(msg);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(reason) = self.www_authenticate {
            let value = format!(
                "OAuth \"Facebook Platform\" \"{reason}\" \"{}\"",
                self.message.replace('"', "'")
            );
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// Formats a time the way Meta's expiry messages do, e.g.
/// `Thursday, 10-Dec-15 04:00:00 PST`. Meta reports Pacific time; the fake
/// uses a fixed UTC-8 offset (it never says PDT), which is close enough for
/// a human-readable message.
fn pacific_time(ms: i64) -> String {
    const DAYS: [&str; 7] = [
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
    ];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(1000) - 8 * 3600;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month_name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday}, {day:02}-{month_name}-{:02} {:02}:{:02}:{:02} PST",
        year.rem_euclid(100),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::pacific_time;

    #[test]
    fn formats_like_meta_expiry_messages() {
        // 2015-12-10 12:00:00 UTC is 04:00:00 at UTC-8.
        assert_eq!(pacific_time(1_449_748_800_000), "Thursday, 10-Dec-15 04:00:00 PST");
    }
}
