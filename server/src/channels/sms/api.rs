//! Twilio's REST API as the SMS channel uses it: the account, its incoming phone numbers,
//! Messaging Services (on their own host), sending a message and fetching a customer's MMS
//! media. Every call carries HTTP Basic auth (Account SID and Auth Token); nothing here logs
//! a credential. Refusals are Twilio's JSON (`{code, message, more_info, status}`);
//! [`refusal`] turns them into the inbox's terms from one table.

use crate::channels::SendError;
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Who we are at Twilio: the account and its Auth Token.
#[derive(Clone, Copy)]
pub struct Auth<'a> {
    pub account_sid: &'a str,
    pub auth_token: &'a str,
}

#[derive(Clone)]
pub struct TwilioApi {
    /// `https://api.twilio.com`: the 2010-04-01 API.
    base: String,
    /// `https://messaging.twilio.com`: Messaging Services (v1).
    messaging: String,
    http: reqwest::Client,
}

/// Twilio's error body.
#[derive(Debug, Deserialize)]
struct TwilioError {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IncomingNumber {
    pub sid: String,
    pub phone_number: String,
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub sms_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NumberPage {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Service {
    pub sid: String,
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub inbound_request_url: Option<String>,
}

/// The created Message resource; only its id matters to the outbox.
#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    pub sid: String,
}

impl TwilioApi {
    pub fn new(base: &str, messaging: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_string(),
            messaging: messaging.trim_end_matches('/').to_string(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
        }
    }

    fn account_url(&self, auth: Auth<'_>, rest: &str) -> String {
        format!("{}/2010-04-01/Accounts/{}{rest}", self.base, auth.account_sid)
    }

    async fn request<T: DeserializeOwned>(
        &self,
        auth: Auth<'_>,
        method: Method,
        url: String,
        form: Option<&[(&str, String)]>,
    ) -> Result<T, SendError> {
        let mut request = self
            .http
            .request(method, url)
            .basic_auth(auth.account_sid, Some(auth.auth_token));
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map_err(|e| {
                SendError::Unavailable(format!("Twilio's answer was not understood: {}", e.without_url()))
            });
        }
        let error: TwilioError = response.json().await.unwrap_or(TwilioError {
            code: None,
            message: String::new(),
        });
        Err(refusal(status.as_u16(), error.code, &error.message))
    }

    /// Proves the SID and token belong together.
    pub async fn account(&self, auth: Auth<'_>) -> Result<Account, SendError> {
        self.request(auth, Method::GET, self.account_url(auth, ".json"), None)
            .await
    }

    /// The account's number `e164`, if it has it.
    pub async fn find_number(&self, auth: Auth<'_>, e164: &str) -> Result<Option<IncomingNumber>, SendError> {
        let mut url = url::Url::parse(&self.account_url(auth, "/IncomingPhoneNumbers.json"))
            .map_err(|e| SendError::Rejected(format!("the Twilio API address is not valid: {e}")))?;
        url.query_pairs_mut().append_pair("PhoneNumber", e164);
        let page: NumberPage = self.request(auth, Method::GET, url.to_string(), None).await?;
        Ok(page.incoming_phone_numbers.into_iter().find(|n| n.phone_number == e164))
    }

    pub async fn number(&self, auth: Auth<'_>, number_sid: &str) -> Result<IncomingNumber, SendError> {
        let url = self.account_url(auth, &format!("/IncomingPhoneNumbers/{number_sid}.json"));
        self.request(auth, Method::GET, url, None).await
    }

    /// Where Twilio posts the number's incoming texts (empty: nowhere).
    pub async fn set_number_sms_url(&self, auth: Auth<'_>, number_sid: &str, sms_url: &str) -> Result<(), SendError> {
        let url = self.account_url(auth, &format!("/IncomingPhoneNumbers/{number_sid}.json"));
        let form = [("SmsUrl", sms_url.to_string()), ("SmsMethod", "POST".to_string())];
        let _: IncomingNumber = self.request(auth, Method::POST, url, Some(&form)).await?;
        Ok(())
    }

    pub async fn service(&self, auth: Auth<'_>, service_sid: &str) -> Result<Service, SendError> {
        let url = format!("{}/v1/Services/{service_sid}", self.messaging);
        self.request(auth, Method::GET, url, None).await
    }

    /// Where Twilio posts the service's incoming texts, for every number in it.
    pub async fn set_service_inbound_url(
        &self,
        auth: Auth<'_>,
        service_sid: &str,
        inbound: &str,
    ) -> Result<(), SendError> {
        let url = format!("{}/v1/Services/{service_sid}", self.messaging);
        let form = [
            ("InboundRequestUrl", inbound.to_string()),
            ("InboundMethod", "POST".to_string()),
            // The service's URL, not each number's own, receives the texts.
            ("UseInboundWebhookOnNumber", "false".to_string()),
        ];
        let _: Service = self.request(auth, Method::POST, url, Some(&form)).await?;
        Ok(())
    }

    /// `POST Messages.json`; the form is built by the adapter.
    pub async fn send(&self, auth: Auth<'_>, form: &[(&str, String)]) -> Result<Created, SendError> {
        self.request(auth, Method::POST, self.account_url(auth, "/Messages.json"), Some(form))
            .await
    }

    /// A customer's MMS media: Twilio's link needs the account's credentials.
    pub async fn media(
        &self,
        auth: Auth<'_>,
        message_sid: &str,
        media_sid: &str,
    ) -> Result<(Vec<u8>, Option<String>), SendError> {
        let url = self.account_url(auth, &format!("/Messages/{message_sid}/Media/{media_sid}"));
        let response = self
            .http
            .get(url)
            .basic_auth(auth.account_sid, Some(auth.auth_token))
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let error: TwilioError = response.json().await.unwrap_or(TwilioError {
                code: None,
                message: String::new(),
            });
            return Err(refusal(status.as_u16(), error.code, &error.message));
        }
        let mime = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = response.bytes().await.map_err(transport)?;
        Ok((bytes.to_vec(), mime))
    }
}

fn transport(error: reqwest::Error) -> SendError {
    SendError::Unavailable(format!("Twilio could not be reached: {}", error.without_url()))
}

/// What a Twilio refusal means for the inbox: the error code first, the HTTP status where
/// the code says nothing we act on.
pub fn refusal(status: u16, code: Option<i64>, message: &str) -> SendError {
    let said = if message.trim().is_empty() {
        format!("HTTP {status}")
    } else {
        message.trim().to_string()
    };
    let code_text = code.map(|c| format!(" ({c})")).unwrap_or_default();
    match code {
        Some(20003) => SendError::Auth(format!(
            "Twilio refused the Account SID or Auth Token{code_text}. Was the token changed in the Console? Connect the number again."
        )),
        Some(20429) => SendError::RateLimited {
            retry_after: Duration::from_secs(1),
            reason: format!("Twilio asked to slow down: {said}{code_text}"),
        },
        Some(21211) => SendError::Rejected(format!("The customer's number is not a valid phone number{code_text}.")),
        Some(21610) => SendError::Unreachable(OPTED_OUT.into()),
        Some(21612 | 21614 | 21635) => SendError::Rejected(format!(
            "This number cannot receive texts from yours: {said}{code_text}"
        )),
        Some(21606 | 21608 | 21659) => {
            SendError::Rejected(format!("Twilio refused to send from this number: {said}{code_text}"))
        }
        _ if status == 401 => SendError::Auth(format!("Twilio refused the credentials: {said}{code_text}")),
        _ if status == 429 => SendError::RateLimited {
            retry_after: Duration::from_secs(1),
            reason: format!("Twilio asked to slow down: {said}{code_text}"),
        },
        _ if status >= 500 => SendError::Unavailable(format!("Twilio is unavailable: {said}{code_text}")),
        _ => SendError::Rejected(format!("Twilio refused it: {said}{code_text}")),
    }
}

/// Shown on the contact when Twilio says they opted out (21610) or they texted STOP.
pub const OPTED_OUT: &str =
    "The customer replied STOP: Twilio blocks texts to them from this number until they reply START.";

/// Why a text was not delivered, from a status callback's `ErrorCode`
/// (https://www.twilio.com/docs/api/errors).
pub fn delivery_failure(code: Option<&str>) -> String {
    let reason = match code.unwrap_or_default() {
        "30001" => "Twilio's queue for this number overflowed",
        "30002" => "the Twilio account was suspended",
        "30003" => "the customer's phone is unreachable (switched off or out of coverage)",
        "30004" => "the message was blocked (the customer blocked your number, or their carrier did)",
        "30005" => "the customer's number is unknown to their carrier or no longer in service",
        "30006" => "the number is a landline or its carrier cannot take texts",
        "30007" => "the carrier filtered the message as spam",
        "30008" => "the carrier failed to deliver it for an unknown reason",
        "" => "the carrier did not say why",
        _ => "see the error code in Twilio's console",
    };
    match code {
        Some(code) if !code.is_empty() => format!("Not delivered: {reason} (Twilio {code})."),
        _ => format!("Not delivered: {reason}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_map_to_what_the_inbox_does() {
        assert!(matches!(refusal(401, Some(20003), "Authenticate"), SendError::Auth(_)));
        assert!(matches!(refusal(400, Some(21610), "unsubscribed"), SendError::Unreachable(m) if m.contains("STOP")));
        assert!(matches!(
            refusal(400, Some(21211), "The 'To' number 123 is not a valid phone number."),
            SendError::Rejected(m) if m.contains("not a valid phone number") && m.contains("21211")
        ));
        assert!(matches!(
            refusal(429, Some(20429), "Too Many Requests"),
            SendError::RateLimited { .. }
        ));
        assert!(matches!(refusal(503, None, ""), SendError::Unavailable(_)));
        assert!(
            matches!(refusal(400, Some(21606), "not yours"), SendError::Rejected(m) if m.contains("from this number"))
        );
        assert!(matches!(refusal(400, Some(99999), "odd"), SendError::Rejected(m) if m.contains("odd (99999)")));
    }

    #[test]
    fn delivery_failures_say_why_in_words() {
        assert_eq!(
            delivery_failure(Some("30003")),
            "Not delivered: the customer's phone is unreachable (switched off or out of coverage) (Twilio 30003)."
        );
        assert!(delivery_failure(Some("30007")).contains("spam"));
        assert_eq!(delivery_failure(None), "Not delivered: the carrier did not say why.");
    }
}
