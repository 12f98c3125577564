//! Meta's error object, turned into the `SendError` the inbox acts on — one table for
//! Messenger, Instagram and WhatsApp, since all three answer with the same object:
//! `{"error": {"message", "type", "code", "error_subcode", "error_user_title",
//! "error_user_msg", "error_data": {"details"}, "is_transient", "fbtrace_id"}}` from the Graph
//! API, and the same object in WhatsApp's failed-status and unsupported-message webhooks
//! (`errors[]`, with `title` and sometimes a bare `details`).
//!
//! Only the wording of the text differs by product, because agents have always read
//! Messenger's and Instagram's errors as "message (code N)" and WhatsApp's as "title (N):
//! details"; which variant an error becomes never depends on the product.

use super::graph::{int_of, text_at};
use crate::channels::SendError;
use serde_json::Value;

/// What a send outside Messenger's 24 hours needs (code 10, subcode 2018278).
pub const MESSENGER_OUTSIDE_WINDOW: &str =
    "the customer's last message is more than 24 hours old; this reply needs the HUMAN_AGENT tag";
/// Instagram's variant covers both limits: untagged after 24 hours, tagged after 7 days
/// (code 10, subcode 2534022).
pub const INSTAGRAM_OUTSIDE_WINDOW: &str =
    "Instagram refused the reply: it is outside the messaging window (24 hours, or 7 days with the HUMAN_AGENT tag)";
/// WhatsApp's re-engagement error (131047).
pub const WHATSAPP_OUTSIDE_WINDOW: &str = "More than 24 hours have passed since the customer's last message; \
     only an approved template can be sent (131047)";

/// Rate limits: app (4), Graph user/page/API (17, 32, 613), WhatsApp Business Account
/// (80007), Cloud API throughput (130429), WhatsApp pair rate limit (131056).
const RATE_LIMITS: &[i64] = &[4, 17, 32, 613, 80007, 130429, 131056];
/// Meta documents these as temporary: unknown error (1), service downtime (2), WhatsApp
/// service unavailable (131016).
const TEMPORARY: &[i64] = &[1, 2, 131016];

/// How an error is worded for agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wording {
    /// Messenger and Instagram: Meta's message as given, then "(code N)".
    Pages,
    /// WhatsApp: the message without the `(#N) ` the Cloud API puts in front, "(N)", and the
    /// details Meta added.
    WhatsApp,
}

/// Meta's error object, read leniently: a field Meta left out is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetaError {
    pub code: i64,
    pub subcode: Option<i64>,
    /// As Meta wrote it, `(#code) ` prefix included.
    pub message: String,
    /// `title` (webhooks) or `error_user_title` (Graph answers).
    pub title: String,
    /// `error_data.details`, an older webhook's bare `details`, or `error_user_msg`.
    pub details: String,
    /// `is_transient`: Meta says trying again later may work.
    pub transient: bool,
    /// Meta's request id, for their support.
    pub fbtrace_id: Option<String>,
}

impl MetaError {
    pub fn from_value(value: &Value) -> Self {
        if let Some(text) = value.as_str() {
            return Self {
                message: text.to_string(),
                ..Self::default()
            };
        }
        let text = |pointer: &str| text_at(value, pointer).map(str::to_string);
        // Webhooks put the explanation in `error_data.details` (older ones in `details`); the
        // Business Management API (templates) puts it in `error_user_msg`.
        let details = text("/error_data/details")
            .or_else(|| text("/details"))
            .or_else(|| text("/error_user_msg"))
            .unwrap_or_default();
        Self {
            code: value.get("code").and_then(int_of).unwrap_or_default(),
            subcode: value.get("error_subcode").and_then(int_of),
            message: text("/message").unwrap_or_default(),
            title: text("/title").or_else(|| text("/error_user_title")).unwrap_or_default(),
            details,
            transient: value.get("is_transient").and_then(Value::as_bool).unwrap_or(false),
            fbtrace_id: text("/fbtrace_id"),
        }
    }

    /// The message without the `(#code) ` prefix, else the title.
    pub fn headline(&self) -> &str {
        let message = self
            .message
            .strip_prefix("(#")
            .and_then(|rest| rest.split_once(") "))
            .map_or(self.message.as_str(), |(_, rest)| rest);
        [message, self.title.as_str()]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or("WhatsApp error")
    }

    /// The error as agents read it, leaving out what Meta did not say.
    pub fn text(&self, wording: Wording) -> String {
        match wording {
            Wording::Pages if self.code == 0 => self.message.clone(),
            Wording::Pages => format!("{} (code {})", self.message, self.code),
            Wording::WhatsApp => {
                let headline = self.headline();
                let mut text = match self.code {
                    0 => headline.to_string(),
                    code => format!("{headline} ({code})"),
                };
                if !self.details.is_empty() && self.details != headline {
                    text.push_str(": ");
                    text.push_str(&self.details);
                }
                text
            }
        }
    }

    /// What the inbox does about it. `http_status` is `None` for errors from webhooks.
    pub fn classify(&self, wording: Wording, http_status: Option<u16>) -> SendError {
        let text = self.text(wording);
        match (self.code, self.subcode) {
            // Invalid or expired token; 102: session expired.
            (190 | 102, _) => SendError::Auth(text),
            (10, Some(2018278)) => SendError::OutsideWindow(MESSENGER_OUTSIDE_WINDOW.into()),
            (10, Some(2534022)) => SendError::OutsideWindow(INSTAGRAM_OUTSIDE_WINDOW.into()),
            (131047, _) => SendError::OutsideWindow(WHATSAPP_OUTSIDE_WINDOW.into()),
            (551, _) => SendError::Rejected(format!(
                "the customer can't receive messages right now (they may have blocked the account or turned messages off): {text}"
            )),
            (code, _) if RATE_LIMITS.contains(&code) || TEMPORARY.contains(&code) => SendError::Unavailable(text),
            (200 | 10, _) => SendError::Rejected(format!("permission missing: {text}")),
            _ if self.transient || http_status.is_some_and(|s| s >= 500) => SendError::Unavailable(text),
            _ => SendError::Rejected(text),
        }
    }
}

/// Classifies one Meta error object.
pub fn classify(error: &Value, wording: Wording, http_status: Option<u16>) -> SendError {
    MetaError::from_value(error).classify(wording, http_status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Class {
        Auth,
        OutsideWindow,
        Rejected,
        Unavailable,
    }

    fn class(error: &SendError) -> Class {
        match error {
            SendError::Auth(_) => Class::Auth,
            SendError::OutsideWindow(_) => Class::OutsideWindow,
            SendError::Rejected(_) | SendError::Unreachable(_) => Class::Rejected,
            SendError::Unavailable(_) | SendError::RateLimited { .. } => Class::Unavailable,
        }
    }

    #[test]
    fn one_table_for_every_product() {
        use Class::*;
        // (code, subcode, is_transient, HTTP status, expected) — the same whichever product.
        type Case = (i64, Option<i64>, bool, Option<u16>, Class);
        let cases: &[Case] = &[
            (190, Some(463), false, Some(401), Auth),
            (190, None, false, Some(400), Auth),
            (102, None, false, Some(400), Auth),
            (10, Some(2018278), false, Some(400), OutsideWindow),
            (10, Some(2534022), false, Some(400), OutsideWindow),
            (131047, None, false, Some(400), OutsideWindow),
            (131047, None, false, None, OutsideWindow),
            (551, Some(1545041), false, Some(400), Rejected),
            (200, None, false, Some(403), Rejected),
            (10, None, false, Some(400), Rejected),
            (4, None, false, Some(400), Unavailable),
            (17, None, false, Some(400), Unavailable),
            (32, None, false, Some(400), Unavailable),
            (613, None, false, Some(400), Unavailable),
            (80007, None, false, Some(400), Unavailable),
            (130429, None, false, Some(400), Unavailable),
            (131056, None, false, Some(400), Unavailable),
            (1, None, false, Some(500), Unavailable),
            (2, None, false, Some(503), Unavailable),
            (131016, None, false, Some(503), Unavailable),
            (131000, None, true, Some(400), Unavailable),
            (131000, None, false, Some(500), Unavailable),
            (0, None, false, Some(502), Unavailable),
            (100, Some(33), false, Some(400), Rejected),
            (131026, None, false, Some(400), Rejected),
            (131026, None, false, None, Rejected),
            (132001, Some(2494073), false, Some(404), Rejected),
        ];
        for &(code, subcode, transient, status, expected) in cases {
            let mut error = json!({ "message": format!("(#{code}) Something"), "type": "OAuthException",
                                    "code": code, "is_transient": transient, "fbtrace_id": "AbC" });
            if let Some(subcode) = subcode {
                error["error_subcode"] = json!(subcode);
            }
            for wording in [Wording::Pages, Wording::WhatsApp] {
                assert_eq!(
                    class(&classify(&error, wording, status)),
                    expected,
                    "{code}/{subcode:?} transient={transient} status={status:?} {wording:?}"
                );
            }
        }
    }

    #[test]
    fn graph_errors_are_classified() {
        let expired = json!({ "message": "Session has expired", "code": 190, "error_subcode": 463 });
        assert!(matches!(
            classify(&expired, Wording::Pages, Some(400)),
            SendError::Auth(_)
        ));
        let window = json!({ "message": "outside window", "code": 10, "error_subcode": 2018278 });
        assert_eq!(
            classify(&window, Wording::Pages, Some(400)),
            SendError::OutsideWindow(MESSENGER_OUTSIDE_WINDOW.into())
        );
    }

    #[test]
    fn instagram_graph_errors_are_classified() {
        // The error body as Meta returned it, quoted in ComposioHQ/composio#3604; the
        // subcode is the one Meta documents for Instagram's "outside of allowed window".
        let window = json!({
            "message": "This message is sent outside of allowed window.",
            "type": "IGApiException",
            "code": 10,
            "error_subcode": 2534022,
            "fbtrace_id": "A9C5BFZGYCvRghcFEHTjgpC"
        });
        assert_eq!(
            classify(&window, Wording::Pages, Some(400)),
            SendError::OutsideWindow(INSTAGRAM_OUTSIDE_WINDOW.into())
        );
        // Messenger Platform error codes list 551 "This person isn't available right now";
        // 1545041 is the subcode it arrives with in practice.
        let unavailable = json!({
            "message": "(#551) This person isn't available right now.",
            "type": "OAuthException",
            "code": 551,
            "error_subcode": 1545041
        });
        assert_eq!(
            classify(&unavailable, Wording::Pages, Some(400)),
            SendError::Rejected(
                "the customer can't receive messages right now (they may have blocked the account or turned messages off): \
                 (#551) This person isn't available right now. (code 551)"
                    .into()
            )
        );
        // Other code-10 errors stay permission problems, as before.
        let permission = json!({ "message": "Application does not have permission for this action", "code": 10 });
        assert_eq!(
            classify(&permission, Wording::Pages, Some(400)),
            SendError::Rejected(
                "permission missing: Application does not have permission for this action (code 10)".into()
            )
        );
    }

    #[test]
    fn errors_are_classified() {
        // Shapes from Meta's error-codes page: Cloud API errors say "(#code) Title" and put
        // the specific complaint in error_data.details.
        let window = json!({ "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
            "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
            "fbtrace_id": "A1b2" });
        assert_eq!(
            classify(&window, Wording::WhatsApp, Some(400)),
            SendError::OutsideWindow(WHATSAPP_OUTSIDE_WINDOW.into())
        );
        let expired = json!({ "message": "Error validating access token: Session has expired on Friday, 02-Aug-24 10:00:00 PDT.",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "Azb" });
        assert!(matches!(
            classify(&expired, Wording::WhatsApp, Some(401)),
            SendError::Auth(_)
        ));
        for code in [4, 80007, 130429, 131056] {
            let limit = json!({ "message": format!("(#{code}) Rate limit hit"), "code": code });
            assert!(
                matches!(
                    classify(&limit, Wording::WhatsApp, Some(400)),
                    SendError::Unavailable(_)
                ),
                "{code}"
            );
        }
        let server = json!({ "message": "(#131000) Something went wrong", "code": 131000 });
        assert!(matches!(
            classify(&server, Wording::WhatsApp, Some(500)),
            SendError::Unavailable(_)
        ));
        // An example published with a template send (viasay.io WhatsApp push webhooks).
        let template = json!({ "message": "(#132001) Template name does not exist in the translation", "type": "OAuthException",
            "code": 132001, "error_data": { "messaging_product": "whatsapp", "details": "template name (YOUR_TEMPLATE_NAME) does not exist in en" },
            "error_subcode": 2494073, "fbtrace_id": "AE9jPfwk6-lgxrhmyNUuovy" });
        assert_eq!(
            classify(&template, Wording::WhatsApp, Some(404)),
            SendError::Rejected(
                "Template name does not exist in the translation (132001): template name (YOUR_TEMPLATE_NAME) does not exist in en".into()
            )
        );
        let invalid = json!({ "message": "Invalid parameter", "type": "OAuthException", "code": 100,
            "error_user_title": "Message template language not available", "error_user_msg": "The language en_XX is not supported." });
        assert_eq!(
            classify(&invalid, Wording::WhatsApp, Some(400)),
            SendError::Rejected("Invalid parameter (100): The language en_XX is not supported.".into())
        );
        let transient = json!({ "message": "An unexpected error has occurred.", "code": 131000, "is_transient": true });
        assert!(matches!(
            classify(&transient, Wording::WhatsApp, Some(400)),
            SendError::Unavailable(_)
        ));
    }

    #[test]
    fn wording_follows_the_product() {
        // Meta's "Message Undeliverable" answer to a Cloud API send.
        let undeliverable = json!({ "message": "(#131026) Message Undeliverable", "type": "OAuthException", "code": 131026,
            "error_data": { "messaging_product": "whatsapp", "details": "Message Undeliverable." }, "fbtrace_id": "A1b4" });
        let cases = [
            (
                Wording::WhatsApp,
                "Message Undeliverable (131026): Message Undeliverable.",
            ),
            (Wording::Pages, "(#131026) Message Undeliverable (code 131026)"),
        ];
        for (wording, expected) in cases {
            assert_eq!(
                classify(&undeliverable, wording, Some(400)),
                SendError::Rejected(expected.into()),
                "{wording:?}"
            );
        }
        // A webhook's error without a code, and one that is only a string.
        let bare = json!({ "title": "Unsupported message type", "details": "Message type is not currently supported" });
        assert_eq!(
            MetaError::from_value(&bare).text(Wording::WhatsApp),
            "Unsupported message type: Message type is not currently supported"
        );
        assert_eq!(MetaError::from_value(&json!("gone")).text(Wording::Pages), "gone");
        let parsed = MetaError::from_value(&undeliverable);
        assert_eq!(
            (parsed.code, parsed.subcode, parsed.fbtrace_id.as_deref()),
            (131026, None, Some("A1b4"))
        );
    }
}
