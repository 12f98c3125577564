//! Webhooks the fake sends as Twilio would: inbound SMS/MMS to a number's
//! `SmsUrl` (or its Messaging Service's inbound request URL) and delivery
//! status callbacks. Both are `application/x-www-form-urlencoded` POSTs (or
//! GETs with a query string when the method is configured so) signed with
//! `X-Twilio-Signature` using the Auth Token current at sending time.
//!
//! Parameter lists follow "Twilio's request to your incoming message
//! Webhook URL" (twilio.com/docs/messaging/guides/webhook-request) and
//! "Track the message status of outbound messages"
//! (twilio.com/docs/messaging/guides/track-outbound-message-status). No
//! status callback is sent for a message's initial status.

use std::sync::Arc;
use std::time::Duration;

use super::resources::API_VERSION;
use super::segments;
use super::signature::{IDEMPOTENCY_HEADER, SIGNATURE_HEADER, encode_form, signature};
use super::state::{Shared, StoredMedia, country_of, new_sid, status_rank};
use super::time::{dlr_done_date, now_secs};
use super::world::{Delivery, InboundMedia, InboundMessage, Outcome, StatusCallbackRecord, StatusMode};

/// How long after answering a send its first status callback goes out, so
/// the app normally has the API response first.
pub(crate) const FOLLOW_UP_DELAY: Duration = Duration::from_millis(40);
/// Gap between successive callbacks of one message.
const STEP_DELAY: Duration = Duration::from_millis(25);

/// Sends one webhook request and records the app's answer.
pub(crate) async fn send(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Vec<(String, String)>,
    signature: String,
    idempotency_token: String,
) -> Delivery {
    let get = method.eq_ignore_ascii_case("GET");
    let mut request = if get {
        http.get(url)
    } else {
        http.post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(encode_form(&params))
    };
    request = request
        .timeout(Duration::from_secs(15))
        .header(reqwest::header::USER_AGENT, "TwilioProxy/1.1")
        .header(IDEMPOTENCY_HEADER, &idempotency_token);
    if !signature.is_empty() {
        request = request.header(SIGNATURE_HEADER, &signature);
    }
    let mut delivery = Delivery {
        url: url.to_owned(),
        method: if get { "GET" } else { "POST" }.to_owned(),
        params,
        signature,
        idempotency_token,
        status: None,
        body: String::new(),
        error: None,
    };
    match request.send().await {
        Ok(response) => {
            delivery.status = Some(response.status().as_u16());
            delivery.body = response.text().await.unwrap_or_default();
            tracing::debug!(url, status = delivery.status, "fake-twilio webhook delivered");
        }
        Err(error) => {
            tracing::warn!(url, %error, "fake-twilio webhook delivery failed");
            delivery.error = Some(error.to_string());
        }
    }
    delivery
}

/// Builds the request for `url`/`method` and signs it: POST signs the URL
/// plus the sorted params; GET moves the params into the query string and
/// signs that URL alone.
fn prepare(
    url: &str,
    method: &str,
    params: Vec<(String, String)>,
    auth_token: &str,
) -> (String, Vec<(String, String)>, String) {
    if method.eq_ignore_ascii_case("GET") {
        let separator = if url.contains('?') { '&' } else { '?' };
        let full = format!("{url}{separator}{}", encode_form(&params));
        let signed = signature(auth_token, &full, &[]);
        (full, params, signed)
    } else {
        let signed = signature(auth_token, url, &params);
        (url.to_owned(), params, signed)
    }
}

fn new_idempotency_token() -> String {
    // Twilio's tokens look like `{sid}-{random}`; only stability across
    // retries matters.
    new_sid("")
}

/// Sends `delivery`'s request again, unchanged (a Twilio retry), with
/// `signature` instead of the original when given.
pub(crate) async fn redeliver(shared: &Shared, delivery: &Delivery, signature: Option<&str>) -> Delivery {
    if delivery.url.is_empty() {
        return Delivery::failed("nothing to redeliver: the original delivery had no request");
    }
    let signature = signature.map_or_else(|| delivery.signature.clone(), str::to_owned);
    send(
        &shared.http,
        &delivery.url,
        &delivery.method,
        delivery.params.clone(),
        signature,
        delivery.idempotency_token.clone(),
    )
    .await
}

/// A customer texts one of the account's numbers: records the message (and
/// any media), applies opt-out/opt-in keywords, and POSTs the signed webhook.
pub(crate) async fn customer_message(
    shared: &Shared,
    to: &str,
    from: &str,
    body: &str,
    media: Vec<(String, Vec<u8>)>,
) -> Delivery {
    let prepared = {
        let mut world = shared.lock();
        let Some(number) = world.number(to).cloned() else {
            return Delivery::failed(format!("{to} is not one of the account's numbers"));
        };
        let service = world.service_of(to).cloned();
        let (url, method) = match &service {
            Some(s) if !s.use_inbound_webhook_on_number && s.inbound_request_url.is_some() => {
                (s.inbound_request_url.clone(), s.inbound_method.clone())
            }
            _ => (number.sms_url.clone(), number.sms_method.clone()),
        };
        let now = now_secs();
        let message_sid = new_sid(if media.is_empty() { "SM" } else { "MM" });
        let account_sid = world.account_sid.clone();
        let mut items = Vec::new();
        for (content_type, bytes) in media {
            let sid = new_sid("ME");
            let url = format!(
                "{}/{API_VERSION}/Accounts/{account_sid}/Messages/{message_sid}/Media/{sid}",
                shared.base_url
            );
            items.push(InboundMedia {
                sid: sid.clone(),
                content_type: content_type.clone(),
                url,
                size: bytes.len() as u64,
            });
            world.media.insert(
                sid,
                StoredMedia {
                    message_sid: message_sid.clone(),
                    content_type,
                    bytes,
                    created_secs: now,
                },
            );
        }
        let num_segments = segments::count(body);
        let params = inbound_params(
            &message_sid,
            &account_sid,
            service.as_ref().map(|s| s.sid.as_str()),
            from,
            to,
            body,
            &items,
            num_segments,
        );
        world.inbound.push(InboundMessage {
            sid: message_sid,
            from: from.to_owned(),
            to: to.to_owned(),
            body: body.to_owned(),
            messaging_service_sid: service.map(|s| s.sid),
            media: items,
            num_segments,
            created_secs: now,
        });
        // Twilio records the opt-out and still passes the message on.
        world.apply_keyword(to, from, body);
        url.map(|url| prepare(&url, &method, params, &world.auth_token))
            .map(|(url, params, signed)| (url, method, params, signed))
    };
    match prepared {
        Some((url, method, params, signed)) => {
            send(&shared.http, &url, &method, params, signed, new_idempotency_token()).await
        }
        None => Delivery::failed(format!(
            "{to} has no SmsUrl (nor a Messaging Service inbound request URL) configured"
        )),
    }
}

/// The webhook-request parameters, in the order Twilio sends them.
#[allow(clippy::too_many_arguments)]
fn inbound_params(
    message_sid: &str,
    account_sid: &str,
    service_sid: Option<&str>,
    from: &str,
    to: &str,
    body: &str,
    media: &[InboundMedia],
    num_segments: usize,
) -> Vec<(String, String)> {
    let mut params: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: &str| params.push((k.to_owned(), v.to_owned()));
    push("ToCountry", country_of(to));
    push("ToState", "");
    push("SmsMessageSid", message_sid);
    push("NumMedia", &media.len().to_string());
    push("ToCity", "");
    push("FromZip", "");
    push("SmsSid", message_sid);
    push("FromState", "");
    push("SmsStatus", "received");
    push("FromCity", "");
    push("Body", body);
    push("FromCountry", country_of(from));
    push("To", to);
    if let Some(service_sid) = service_sid {
        push("MessagingServiceSid", service_sid);
    }
    push("ToZip", "");
    push("NumSegments", &num_segments.to_string());
    push("MessageSid", message_sid);
    push("AccountSid", account_sid);
    push("From", from);
    push("ApiVersion", API_VERSION);
    for (n, item) in media.iter().enumerate() {
        push(&format!("MediaContentType{n}"), &item.content_type);
        push(&format!("MediaUrl{n}"), &item.url);
    }
    params
}

/// Moves message `sid` to `status` (never backwards) and, when it has a
/// status callback URL, POSTs the signed callback and records it. `Err`
/// when the message is unknown or has nowhere to report to.
pub(crate) async fn status_callback(
    shared: &Shared,
    sid: &str,
    status: &str,
    error_code: Option<u32>,
) -> Result<Delivery, String> {
    let prepared = {
        let mut world = shared.lock();
        let account_sid = world.account_sid.clone();
        let pool_sender = |world: &super::state::State, service: &Option<String>| {
            service
                .as_deref()
                .and_then(|s| world.service(s))
                .and_then(|s| s.phone_numbers.first().cloned())
        };
        let Some(index) = world.messages.iter().position(|m| m.sid == sid) else {
            return Err(format!("no message {sid}"));
        };
        let service_sid = world.messages[index].messaging_service_sid.clone();
        let assigned = pool_sender(&world, &service_sid);
        let service_callback = service_sid
            .as_deref()
            .and_then(|s| world.service(s))
            .and_then(|s| s.status_callback.clone());
        let now = now_secs();
        let message = &mut world.messages[index];
        if status_rank(status) >= status_rank(&message.status) {
            message.status = status.to_owned();
            message.updated_secs = now;
        }
        if error_code.is_some() {
            message.error_code = error_code;
        }
        if status != "failed" && message.sent_secs.is_none() {
            message.sent_secs = Some(now);
        }
        // A Messaging Service send gets its sender when it leaves the queue.
        if message.from.is_none() {
            message.from = assigned;
        }
        let url = message.status_callback.clone().or(service_callback);
        let mut params: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: &str| params.push((k.to_owned(), v.to_owned()));
        push("SmsSid", sid);
        push("SmsStatus", status);
        push("MessageStatus", status);
        push("To", &message.to);
        if let Some(service_sid) = &message.messaging_service_sid {
            push("MessagingServiceSid", service_sid);
        }
        push("MessageSid", sid);
        push("AccountSid", &account_sid);
        push("From", message.from.as_deref().unwrap_or_default());
        push("ApiVersion", API_VERSION);
        if let Some(code) = error_code.filter(|_| matches!(status, "failed" | "undelivered")) {
            push("ErrorCode", &code.to_string());
        }
        if matches!(status, "delivered" | "undelivered") {
            push("RawDlrDoneDate", &dlr_done_date(now));
        }
        match url {
            Some(url) => Ok(prepare(&url, "POST", params, &world.auth_token)),
            None => Err(format!("message {sid} has no StatusCallback")),
        }
    };
    let (url, params, signed) = prepared?;
    let delivery = send(&shared.http, &url, "POST", params, signed, new_idempotency_token()).await;
    shared.lock().callbacks.push(StatusCallbackRecord {
        message_sid: sid.to_owned(),
        message_status: status.to_owned(),
        error_code,
        delivery: delivery.clone(),
    });
    Ok(delivery)
}

/// After a send: walks the message through its outcome's statuses (per the
/// status mode), posting a callback for each.
pub(crate) fn schedule_progress(shared: &Arc<Shared>, sid: &str, media_failed: bool) {
    let shared = Arc::clone(shared);
    let sid = sid.to_owned();
    tokio::spawn(async move {
        tokio::time::sleep(FOLLOW_UP_DELAY).await;
        let (mode, outcome) = {
            let world = shared.lock();
            let to = world.messages.iter().find(|m| m.sid == sid).map(|m| m.to.clone());
            (
                world.status_mode,
                to.map(|to| world.outcome_for(&to)).unwrap_or_default(),
            )
        };
        // Twilio fails a message whose media it could not fetch with 11200
        // ("HTTP retrieval failure").
        let outcome = if media_failed {
            Outcome::Failed { error_code: 11200 }
        } else {
            outcome
        };
        let mut steps = outcome.steps();
        match mode {
            StatusMode::Off => return,
            StatusMode::OutOfOrder => steps.reverse(),
            StatusMode::Auto => {}
        }
        for (n, (status, code)) in steps.into_iter().enumerate() {
            if n > 0 {
                tokio::time::sleep(STEP_DELAY).await;
            }
            // No URL is fine here: the stored status still advances.
            let _ = status_callback(&shared, &sid, status, code).await;
        }
    });
}
