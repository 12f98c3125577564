//! Twilio's form-encoded webhooks → the inbound pipeline's events. Pure. One route receives
//! both kinds Twilio sends a channel:
//!
//! - an incoming text (https://www.twilio.com/docs/messaging/guides/webhook-request):
//!   `MessageSid`, `From`, `Body`, `NumMedia` and `MediaUrl{N}`/`MediaContentType{N}`
//!   (zero-based). Keyed by `MessageSid`; the customer by their E.164 number. Media are
//!   served through our media route, because Twilio's links need the account's credentials.
//!   A STOP (or START) keyword also changes whether the customer can be texted.
//! - a status callback (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status):
//!   `MessageSid` and `MessageStatus` (with `ErrorCode` when it failed). Twilio says these
//!   may arrive out of order; the store only ever moves a status up.

use super::api::{OPTED_OUT, delivery_failure};
use crate::channels::{NormalizedEvent, media_url};
use app::inbound::{InboundEvent, ReachabilityChange};
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind, MessageStatus};
use app::sms::{Keyword, keyword};
use app::store::{InboundMessage, StatusUpdate};

/// The media id our route uses for a Twilio media item: `{message sid}.{media sid}`.
pub fn media_id(message_sid: &str, media_sid: &str) -> String {
    format!("{message_sid}.{media_sid}")
}

/// What one webhook says, for the channel whose account id is `account_id`.
pub fn normalize(params: &[(String, String)], account_id: &str) -> Vec<NormalizedEvent> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty())
    };
    let event = |event| NormalizedEvent {
        account_id: account_id.to_string(),
        event,
    };
    let Some(message_sid) = param("MessageSid").or_else(|| param("SmsSid")) else {
        return vec![];
    };
    // A status callback reports our message's progress; an incoming text may carry its own
    // `received` state, which is not one.
    if let Some(status) = param("MessageStatus").filter(|s| !matches!(*s, "received" | "receiving")) {
        return status_update(message_sid, status, param("ErrorCode"))
            .map(|update| vec![event(InboundEvent::Status(update))])
            .unwrap_or_default();
    }
    let Some(from) = param("From") else {
        return vec![];
    };
    // Twilio strips nothing; a NUL would be refused by PostgreSQL's text type.
    let body = param("Body").unwrap_or_default().replace('\u{0}', "");
    let count: usize = param("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
    let attachments: Vec<Attachment> = (0..count.min(10))
        .filter_map(|n| {
            let url = param(&format!("MediaUrl{n}"))?;
            let mime = param(&format!("MediaContentType{n}")).map(str::to_string);
            let media_sid = url.trim_end_matches('/').rsplit('/').next()?;
            Some(Attachment {
                kind: kind_of(mime.as_deref()),
                url: media_url(ChannelKind::Sms, account_id, &media_id(message_sid, media_sid)),
                name: None,
                mime_type: mime,
                size: None,
                unavailable: None,
            })
        })
        .collect();
    let kind = if attachments.is_empty() {
        MessageKind::Text
    } else {
        MessageKind::Media
    };
    let said = keyword(&body);
    let mut events = vec![event(InboundEvent::Message(InboundMessage {
        external_user_id: from.to_string(),
        // Texts carry no name: the number is the best one until an agent knows better.
        contact_name: Some(from.to_string()),
        platform_message_id: message_sid.to_string(),
        body,
        attachments,
        kind,
        reply_to_platform_id: None,
        sent_at: app::store::now_millis(),
    }))];
    let reachability = match said {
        Some(Keyword::OptOut) => Some(Some(OPTED_OUT.to_string())),
        Some(Keyword::OptIn) => Some(None),
        Some(Keyword::Help) | None => None,
    };
    if let Some(unreachable) = reachability {
        events.push(event(InboundEvent::Reachability(ReachabilityChange {
            external_user_id: from.to_string(),
            unreachable,
        })));
    }
    events
}

fn kind_of(mime: Option<&str>) -> AttachmentKind {
    match mime.and_then(|m| m.split('/').next()) {
        Some("image") => AttachmentKind::Image,
        Some("video") => AttachmentKind::Video,
        Some("audio") => AttachmentKind::Audio,
        _ => AttachmentKind::File,
    }
}

/// Twilio's `MessageStatus` in our terms; `None` for the steps before it left Twilio
/// (`accepted`, `queued`, `sending`…), which our `sent` already covers.
fn status_update(message_sid: &str, status: &str, error_code: Option<&str>) -> Option<StatusUpdate> {
    let (status, error) = match status {
        "sent" => (MessageStatus::Sent, None),
        "delivered" => (MessageStatus::Delivered, None),
        "read" => (MessageStatus::Read, None),
        "undelivered" | "failed" => (MessageStatus::Failed, Some(delivery_failure(error_code))),
        "canceled" => (MessageStatus::Failed, Some("Canceled before it was sent.".to_string())),
        _ => return None,
    };
    Some(StatusUpdate::Messages {
        platform_message_ids: vec![message_sid.to_string()],
        status,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "PN0123456789abcdef0123456789abcdef";

    fn form(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// The research notes' example body (§2.1), with one picture.
    fn inbound(body: &str) -> Vec<(String, String)> {
        form(&[
            ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
            ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("From", "+14017122661"),
            ("To", "+15558675310"),
            ("Body", body),
            ("NumMedia", "1"),
            ("NumSegments", "1"),
            ("MediaContentType0", "image/jpeg"),
            (
                "MediaUrl0",
                "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM0123456789abcdef0123456789abcdef/Media/ME0123456789abcdef0123456789abcdef",
            ),
            ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ])
    }

    #[test]
    fn a_text_with_a_picture() {
        let events = normalize(&inbound("Ahoy!"), ACCOUNT);
        assert_eq!(events.len(), 1);
        let InboundEvent::Message(m) = &events[0].event else {
            panic!("{events:?}")
        };
        assert_eq!(m.platform_message_id, "SM0123456789abcdef0123456789abcdef");
        assert_eq!(m.external_user_id, "+14017122661");
        assert_eq!(m.body, "Ahoy!");
        assert_eq!(m.kind, MessageKind::Media);
        assert_eq!(m.attachments[0].kind, AttachmentKind::Image);
        assert_eq!(
            m.attachments[0].url,
            format!("/api/media/sms/{ACCOUNT}/SM0123456789abcdef0123456789abcdef.ME0123456789abcdef0123456789abcdef")
        );
    }

    #[test]
    fn an_incoming_text_that_states_it_was_received_is_still_a_text() {
        let mut params = inbound("hi");
        params.push(("MessageStatus".into(), "received".into()));
        assert!(matches!(
            &normalize(&params, ACCOUNT)[0].event,
            InboundEvent::Message(_)
        ));
    }

    #[test]
    fn stop_and_start_change_reachability_and_stay_in_the_thread() {
        for (body, expected) in [
            ("STOP", Some(Some(OPTED_OUT.to_string()))),
            (" unsubscribe ", Some(Some(OPTED_OUT.to_string()))),
            ("Start", Some(None)),
            ("HELP", None),
            ("please stop texting", None),
        ] {
            let events = normalize(&inbound(body), ACCOUNT);
            assert!(
                matches!(&events[0].event, InboundEvent::Message(m) if m.body == body),
                "{body}"
            );
            let change = events.get(1).map(|e| match &e.event {
                InboundEvent::Reachability(change) => change.unreachable.clone(),
                other => panic!("{other:?}"),
            });
            assert_eq!(change, expected, "{body}");
        }
    }

    #[test]
    fn status_callbacks() {
        let callback = |status: &str, code: Option<&str>| {
            let mut params = form(&[
                ("AccountSid", "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
                ("From", "+15017250604"),
                ("MessageSid", "SM1342fe1b2c904d1ab04f0fc7a58abca9"),
                ("MessageStatus", status),
                ("SmsSid", "SM1342fe1b2c904d1ab04f0fc7a58abca9"),
                ("SmsStatus", status),
            ]);
            if let Some(code) = code {
                params.push(("ErrorCode".into(), code.into()));
            }
            normalize(&params, ACCOUNT)
        };
        let status_of = |events: Vec<NormalizedEvent>| match events.first().map(|e| &e.event) {
            Some(InboundEvent::Status(StatusUpdate::Messages {
                platform_message_ids,
                status,
                error,
            })) => {
                assert_eq!(
                    platform_message_ids,
                    &vec!["SM1342fe1b2c904d1ab04f0fc7a58abca9".to_string()]
                );
                Some((*status, error.clone()))
            }
            None => None,
            Some(other) => panic!("{other:?}"),
        };
        assert_eq!(status_of(callback("sent", None)), Some((MessageStatus::Sent, None)));
        assert_eq!(
            status_of(callback("delivered", None)),
            Some((MessageStatus::Delivered, None))
        );
        let (status, error) = status_of(callback("undelivered", Some("30003"))).expect("a status");
        assert_eq!(status, MessageStatus::Failed);
        assert!(error.expect("a reason").contains("unreachable"));
        assert_eq!(status_of(callback("queued", None)), None);
    }

    #[test]
    fn a_form_without_a_message_says_nothing() {
        assert!(normalize(&form(&[("Body", "hi")]), ACCOUNT).is_empty());
        assert!(
            normalize(&form(&[("MessageSid", "SM1")]), ACCOUNT).is_empty(),
            "no sender"
        );
    }
}
