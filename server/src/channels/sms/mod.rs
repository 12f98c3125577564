//! SMS and MMS through Twilio Programmable Messaging. An admin enters the Account SID, the
//! Auth Token and a number of the account (or a Messaging Service SID); `connect_form` checks
//! them against the account, and `on_connected` points the number's `SmsUrl` (or the
//! service's inbound URL) at the channel's own route, so nothing is configured at Twilio by
//! hand; disconnecting puts back what was there. Each request to that route must carry a
//! valid `X-Twilio-Signature` (`signature.rs`) before `normalize.rs` reads it; it is either an
//! incoming text or a status callback. Replies are `POST Messages.json` with our
//! `StatusCallback`; their files go as `MediaUrl`, signed links Twilio fetches.
//!
//! The number's own `StatusCallback` field is not touched: on an IncomingPhoneNumber it is
//! the voice-call status URL. Message statuses come from the `StatusCallback` of each send.

mod api;
mod normalize;
mod signature;

pub use api::{OPTED_OUT, TwilioApi};
pub use normalize::{media_id, normalize};
pub use signature::{SIGNATURE_HEADER, signature, verify};

use super::webhook::{RoutedChannel, WebhookReceiver, WebhookRequest};
use super::{ChannelAdapter, ConnectFields, ConnectedAccount, MediaFile, Rejection, SendError, StoredCredentials};
use api::Auth;
use app::model::ChannelKind;
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// What is stored (encrypted) for a connected number or service.
#[derive(Clone, Serialize, Deserialize)]
pub struct SmsCredentials {
    pub account_sid: String,
    pub auth_token: String,
    pub sender: Sender,
    /// Where the number (or service) sent incoming texts before Messio: restored on disconnect.
    #[serde(default)]
    pub previous_url: Option<String>,
}

/// What texts go out from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Sender {
    /// One of the account's numbers: `From`.
    Number { sid: String, phone_number: String },
    /// A Messaging Service, which picks a number of its pool: `MessagingServiceSid`.
    Service { sid: String },
}

impl std::fmt::Debug for SmsCredentials {
    // The Auth Token must not reach logs through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsCredentials")
            .field("account_sid", &self.account_sid)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl StoredCredentials for SmsCredentials {
    const ACCOUNT: &'static str = "Twilio number";
}

impl SmsCredentials {
    fn auth(&self) -> Auth<'_> {
        Auth {
            account_sid: &self.account_sid,
            auth_token: &self.auth_token,
        }
    }
}

pub struct SmsAdapter {
    pub api: TwilioApi,
    /// Where Twilio reaches us: each send's `StatusCallback` is the channel's route under it.
    public_url: String,
}

impl SmsAdapter {
    pub fn new(api_url: &str, messaging_url: &str, public_url: &str) -> Self {
        Self {
            api: TwilioApi::new(api_url, messaging_url),
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The form of `POST Messages.json` for one reply.
    fn send_form(&self, job: &OutboundJob, creds: &SmsCredentials) -> Vec<(&'static str, String)> {
        let mut form = vec![("To", job.recipient_external_id.clone())];
        match &creds.sender {
            Sender::Number { phone_number, .. } => form.push(("From", phone_number.clone())),
            Sender::Service { sid } => form.push(("MessagingServiceSid", sid.clone())),
        }
        if !job.message.body.trim().is_empty() {
            form.push(("Body", job.message.body.clone()));
        }
        for attachment in &job.message.attachments {
            if attachment.url.starts_with("https://") || attachment.url.starts_with("http://") {
                form.push(("MediaUrl", attachment.url.clone()));
            }
        }
        form.push((
            "StatusCallback",
            crate::webhooks::channel_webhook_url(&self.public_url, &job.channel),
        ));
        form
    }
}

/// `+15017122661`: a plus and 8 to 15 digits.
fn is_e164(number: &str) -> bool {
    number
        .strip_prefix('+')
        .is_some_and(|digits| (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit()))
}

/// A Twilio SID: two letters and 32 hex digits.
fn is_sid(value: &str, prefix: &str) -> bool {
    value.len() == 34 && value.starts_with(prefix) && value[2..].chars().all(|c| c.is_ascii_hexdigit())
}

impl WebhookReceiver for SmsAdapter {
    fn verify(&self, request: &WebhookRequest, channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        let channel = channel.ok_or(Rejection::BadSignature)?;
        let creds = SmsCredentials::parse(channel.credentials).map_err(|_| Rejection::BadSignature)?;
        let presented = request
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(Rejection::BadSignature)?;
        let params = form_params(request);
        if verify(&creds.auth_token, &request.url, &params, presented) {
            Ok(())
        } else {
            Err(Rejection::BadSignature)
        }
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<app::inbound::NormalizedEvent>, Rejection> {
        let channel = channel.ok_or(Rejection::BadSignature)?;
        Ok(normalize(&form_params(request), &channel.record.channel.external_id))
    }

    /// Empty TwiML: no automatic answer; agents reply through the REST API.
    fn acknowledgement(&self) -> (&'static str, &'static str) {
        (
            "text/xml; charset=utf-8",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        )
    }
}

/// The POST parameters, in the order sent (form-encoded body).
fn form_params(request: &WebhookRequest) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

#[async_trait]
impl ChannelAdapter for SmsAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    async fn connect_form(&self, fields: &ConnectFields) -> Result<ConnectedAccount, SendError> {
        let field = |name: &str| fields.get(name).map(|v| v.trim()).unwrap_or_default().to_string();
        let (account_sid, auth_token, sender) = (field("account_sid"), field("auth_token"), field("phone_number"));
        if !is_sid(&account_sid, "AC") {
            return Err(SendError::Rejected(
                "The Account SID is AC followed by 32 letters and digits, as shown in the Twilio Console.".into(),
            ));
        }
        let sender = sender.replace([' ', '-', '(', ')'], "");
        let auth = Auth {
            account_sid: &account_sid,
            auth_token: &auth_token,
        };
        self.api.account(auth).await?;
        let (sender, name, previous_url) = if is_sid(&sender, "MG") {
            let service = self.api.service(auth, &sender).await?;
            let name = if service.friendly_name.is_empty() {
                service.sid.clone()
            } else {
                service.friendly_name.clone()
            };
            (Sender::Service { sid: service.sid }, name, service.inbound_request_url)
        } else if is_e164(&sender) {
            let number = self.api.find_number(auth, &sender).await?.ok_or_else(|| {
                SendError::Rejected(format!(
                    "{sender} is not a number of this Twilio account. Buy or port it in the Twilio Console first."
                ))
            })?;
            let name = number.phone_number.clone();
            (
                Sender::Number {
                    sid: number.sid,
                    phone_number: number.phone_number,
                },
                name,
                number.sms_url.filter(|url| !url.is_empty()),
            )
        } else {
            return Err(SendError::Rejected(
                "Enter the number in international format (+15017122661) or a Messaging Service SID (MG…).".into(),
            ));
        };
        let external_id = match &sender {
            Sender::Number { sid, .. } | Sender::Service { sid } => sid.clone(),
        };
        let credentials = SmsCredentials {
            account_sid: account_sid.clone(),
            auth_token,
            sender,
            previous_url,
        };
        Ok(ConnectedAccount {
            external_id,
            name,
            credentials: credentials.to_json(),
            parent_account_id: Some(account_sid),
        })
    }

    async fn on_connected(
        &self,
        _channel: &ChannelRecord,
        credentials: &str,
        webhook_url: &str,
    ) -> Result<(), SendError> {
        let creds = SmsCredentials::parse(credentials)?;
        match &creds.sender {
            Sender::Number { sid, .. } => self.api.set_number_sms_url(creds.auth(), sid, webhook_url).await,
            Sender::Service { sid } => self.api.set_service_inbound_url(creds.auth(), sid, webhook_url).await,
        }
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = SmsCredentials::parse(credentials)?;
        let form = self.send_form(job, &creds);
        Ok(self.api.send(creds.auth(), &form).await?.sid)
    }

    /// The credentials still work, and Twilio still sends the texts here.
    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<Option<String>, SendError> {
        let creds = SmsCredentials::parse(credentials)?;
        self.api.account(creds.auth()).await?;
        let route = format!("/api/webhooks/sms/{}", channel.webhook_key);
        let current = match &creds.sender {
            Sender::Number { sid, .. } => self.api.number(creds.auth(), sid).await?.sms_url,
            Sender::Service { sid } => self.api.service(creds.auth(), sid).await?.inbound_request_url,
        };
        Ok((!current.as_deref().unwrap_or_default().ends_with(&route)).then(|| {
            "Twilio sends this number's incoming texts somewhere else now (its messaging webhook was changed). Disconnect and connect it again."
                .to_string()
        }))
    }

    async fn disconnect(&self, _channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = SmsCredentials::parse(credentials)?;
        let previous = creds.previous_url.clone().unwrap_or_default();
        match &creds.sender {
            Sender::Number { sid, .. } => self.api.set_number_sms_url(creds.auth(), sid, &previous).await,
            Sender::Service { sid } => self.api.set_service_inbound_url(creds.auth(), sid, &previous).await,
        }
    }

    /// `{message sid}.{media sid}` → the media item's bytes, with the account's credentials.
    async fn fetch_media(&self, credentials: &str, media_id: &str) -> Result<MediaFile, SendError> {
        let creds = SmsCredentials::parse(credentials)?;
        let (message_sid, media_sid) = media_id
            .split_once('.')
            .ok_or_else(|| SendError::Rejected("not a Twilio media id".into()))?;
        let (bytes, mime) = self.api.media(creds.auth(), message_sid, media_sid).await?;
        let mime_type = mime
            .filter(|m| m != "application/octet-stream")
            .or_else(|| infer::get(&bytes).map(|t| t.mime_type().to_string()))
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(MediaFile { bytes, mime_type })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channels::test_job;

    #[test]
    fn numbers_and_sids_are_recognised() {
        assert!(is_e164("+15017122661"));
        assert!(is_e164("+447700900123"));
        for bad in ["15017122661", "+1501", "+1501712266a", "+1234567890123456"] {
            assert!(!is_e164(bad), "{bad}");
        }
        assert!(is_sid("AC0123456789abcdef0123456789abcdef", "AC"));
        assert!(is_sid("MG0123456789abcdef0123456789abcdef", "MG"));
        assert!(!is_sid("AC0123456789abcdef0123456789abcde", "AC"), "too short");
        assert!(!is_sid("MG0123456789abcdef0123456789abcdef", "AC"));
    }

    #[test]
    fn a_reply_goes_from_the_number_with_our_status_callback() {
        let adapter = SmsAdapter::new("http://127.0.0.1:9", "http://127.0.0.1:9", "https://inbox.example/");
        let mut job = test_job(ChannelKind::Sms, "PN1", "+14155550100", "Your order shipped");
        job.channel.webhook_key = "k3y".into();
        let creds = SmsCredentials {
            account_sid: "AC1".into(),
            auth_token: "t".into(),
            sender: Sender::Number {
                sid: "PN1".into(),
                phone_number: "+15017122661".into(),
            },
            previous_url: None,
        };
        let form = adapter.send_form(&job, &creds);
        assert_eq!(
            form,
            vec![
                ("To", "+14155550100".to_string()),
                ("From", "+15017122661".to_string()),
                ("Body", "Your order shipped".to_string()),
                (
                    "StatusCallback",
                    "https://inbox.example/api/webhooks/sms/k3y".to_string()
                ),
            ]
        );
        let service = SmsCredentials {
            sender: Sender::Service { sid: "MG1".into() },
            ..creds
        };
        assert_eq!(
            adapter.send_form(&job, &service)[1],
            ("MessagingServiceSid", "MG1".to_string())
        );
    }

    #[test]
    fn credentials_never_print_the_token() {
        let creds = SmsCredentials {
            account_sid: "AC1".into(),
            auth_token: "sekrit-token".into(),
            sender: Sender::Service { sid: "MG1".into() },
            previous_url: None,
        };
        assert!(!format!("{creds:?}").contains("sekrit"));
    }
}
