//! Twilio's JSON representations of the resources the fake serves, field
//! for field as the API reference lists them: Account, IncomingPhoneNumber
//! (and its list page), Message, Media, and the v1 Messaging Service and
//! its PhoneNumbers. snake_case keys; RFC 2822 dates in the 2010-04-01 API,
//! ISO 8601 in v1; `num_segments` and `num_media` are strings.

use serde_json::{Value, json};

use super::state::{State, country_of};
use super::time::{iso8601, rfc2822};
use super::world::{FakeNumber, FakeService, InboundMessage, SentMessage};

pub(crate) const API_VERSION: &str = "2010-04-01";

fn account_uri(account_sid: &str) -> String {
    format!("/{API_VERSION}/Accounts/{account_sid}")
}

pub(crate) fn account(state: &State) -> Value {
    let sid = &state.account_sid;
    let base = account_uri(sid);
    let sub = |name: &str| format!("{base}/{name}.json");
    json!({
        "auth_token": state.auth_token,
        "date_created": rfc2822(state.created_secs),
        "date_updated": rfc2822(state.created_secs),
        "friendly_name": state.friendly_name,
        "owner_account_sid": sid,
        "sid": sid,
        "status": "active",
        "subresource_uris": {
            "addresses": sub("Addresses"),
            "conferences": sub("Conferences"),
            "signing_keys": sub("SigningKeys"),
            "transcriptions": sub("Transcriptions"),
            "connect_apps": sub("ConnectApps"),
            "sip": sub("SIP"),
            "authorized_connect_apps": sub("AuthorizedConnectApps"),
            "usage": sub("Usage"),
            "keys": sub("Keys"),
            "applications": sub("Applications"),
            "recordings": sub("Recordings"),
            "short_codes": sub("SMS/ShortCodes"),
            "calls": sub("Calls"),
            "notifications": sub("Notifications"),
            "incoming_phone_numbers": sub("IncomingPhoneNumbers"),
            "queues": sub("Queues"),
            "messages": sub("Messages"),
            "outgoing_caller_ids": sub("OutgoingCallerIds"),
            "available_phone_numbers": sub("AvailablePhoneNumbers"),
            "balance": sub("Balance"),
        },
        "type": "Full",
        "uri": format!("{base}.json"),
    })
}

pub(crate) fn incoming_phone_number(state: &State, number: &FakeNumber) -> Value {
    let uri = format!(
        "{}/IncomingPhoneNumbers/{}",
        account_uri(&state.account_sid),
        number.sid
    );
    let updated = state
        .number_updated_secs
        .get(&number.sid)
        .copied()
        .unwrap_or(state.created_secs);
    json!({
        "account_sid": state.account_sid,
        "address_requirements": "none",
        "address_sid": null,
        "api_version": API_VERSION,
        "beta": false,
        "capabilities": {
            "fax": false,
            "mms": number.capabilities.mms,
            "sms": number.capabilities.sms,
            "voice": number.capabilities.voice,
        },
        "date_created": rfc2822(state.created_secs),
        "date_updated": rfc2822(updated),
        "emergency_status": "Inactive",
        "emergency_address_sid": null,
        "emergency_address_status": "unregistered",
        "friendly_name": number.friendly_name,
        "identity_sid": null,
        "origin": "twilio",
        "phone_number": number.phone_number,
        "sid": number.sid,
        "sms_application_sid": "",
        "sms_fallback_method": "POST",
        "sms_fallback_url": number.sms_fallback_url.clone().unwrap_or_default(),
        "sms_method": number.sms_method,
        "sms_url": number.sms_url.clone().unwrap_or_default(),
        "status_callback": number.status_callback.clone().unwrap_or_default(),
        "status_callback_method": number.status_callback_method,
        "trunk_sid": null,
        "uri": format!("{uri}.json"),
        "voice_receive_mode": "voice",
        "voice_application_sid": null,
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": null,
        "voice_method": "POST",
        "voice_url": null,
        "bundle_sid": null,
        "status": "in-use",
        "subresource_uris": {
            "assigned_add_ons": format!("{uri}/AssignedAddOns.json"),
        },
    })
}

/// The 2010-04-01 list page: one page holding every match.
pub(crate) fn incoming_phone_numbers_page(state: &State, numbers: Vec<Value>, filter: Option<&str>) -> Value {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(filter) = filter {
        query.append_pair("PhoneNumber", filter);
    }
    query.append_pair("PageSize", "50").append_pair("Page", "0");
    let uri = format!(
        "{}/IncomingPhoneNumbers.json?{}",
        account_uri(&state.account_sid),
        query.finish()
    );
    let end = numbers.len().saturating_sub(1);
    json!({
        "end": end,
        "first_page_uri": uri,
        "incoming_phone_numbers": numbers,
        "next_page_uri": null,
        "page": 0,
        "page_size": 50,
        "previous_page_uri": null,
        "start": 0,
        "uri": uri,
    })
}

fn message_uri(account_sid: &str, sid: &str) -> String {
    format!("{}/Messages/{sid}", account_uri(account_sid))
}

pub(crate) fn sent_message(account_sid: &str, message: &SentMessage) -> Value {
    let uri = message_uri(account_sid, &message.sid);
    // "For messages sent via a Messaging Service, num_segments is initially
    // 0, since a sender hasn't yet been assigned" (Message resource).
    let segments = if message.from.is_none() {
        0
    } else {
        message.num_segments
    };
    json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created_secs),
        "date_sent": message.sent_secs.map(rfc2822),
        "date_updated": rfc2822(message.updated_secs),
        "direction": "outbound-api",
        "error_code": message.error_code,
        "error_message": null,
        "from": message.from,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": message.media.len().to_string(),
        "num_segments": segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": message.sid,
        "status": message.status,
        "subresource_uris": {
            "media": format!("{uri}/Media.json"),
            "feedback": format!("{uri}/Feedback.json"),
        },
        "to": message.to,
        "uri": format!("{uri}.json"),
    })
}

pub(crate) fn inbound_message(account_sid: &str, message: &InboundMessage) -> Value {
    let uri = message_uri(account_sid, &message.sid);
    json!({
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created_secs),
        "date_sent": rfc2822(message.created_secs),
        "date_updated": rfc2822(message.created_secs),
        "direction": "inbound",
        "error_code": null,
        "error_message": null,
        "from": message.from,
        "messaging_service_sid": message.messaging_service_sid,
        "num_media": message.media.len().to_string(),
        "num_segments": message.num_segments.to_string(),
        "price": null,
        "price_unit": "USD",
        "sid": message.sid,
        "status": "received",
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": message.to,
        "uri": format!("{uri}.json"),
    })
}

/// The Media instance resource (`…/Media/{ME}.json`).
pub(crate) fn media(account_sid: &str, message_sid: &str, media_sid: &str, content_type: &str, secs: i64) -> Value {
    json!({
        "account_sid": account_sid,
        "content_type": content_type,
        "date_created": rfc2822(secs),
        "date_updated": rfc2822(secs),
        "parent_sid": message_sid,
        "sid": media_sid,
        "uri": format!("{}/Media/{media_sid}.json", message_uri(account_sid, message_sid)),
    })
}

/// The v1 Messaging Service, with URLs rooted at `base` (messaging.twilio.com
/// in production, this fake in tests).
pub(crate) fn service(state: &State, service: &FakeService, base: &str) -> Value {
    let url = format!("{base}/v1/Services/{}", service.sid);
    let updated = state
        .service_updated_secs
        .get(&service.sid)
        .copied()
        .unwrap_or(state.created_secs);
    json!({
        "account_sid": state.account_sid,
        "area_code_geomatch": true,
        "date_created": iso8601(state.created_secs),
        "date_updated": iso8601(updated),
        "fallback_method": "POST",
        "fallback_to_long_code": true,
        "fallback_url": service.fallback_url,
        "friendly_name": service.friendly_name,
        "inbound_method": service.inbound_method,
        "inbound_request_url": service.inbound_request_url,
        "links": {
            "phone_numbers": format!("{url}/PhoneNumbers"),
            "short_codes": format!("{url}/ShortCodes"),
            "alpha_senders": format!("{url}/AlphaSenders"),
            "messages": format!("{url}/Messages"),
            "us_app_to_person": format!("{url}/Compliance/Usa2p"),
            "us_app_to_person_usecases": format!("{url}/Compliance/Usa2p/Usecases"),
            "channel_senders": format!("{url}/ChannelSenders"),
        },
        "mms_converter": true,
        "scan_message_content": "inherit",
        "sid": service.sid,
        "smart_encoding": true,
        "status_callback": service.status_callback,
        "sticky_sender": true,
        "synchronous_validation": false,
        "url": url,
        "usecase": "undeclared",
        "us_app_to_person_registered": false,
        "use_inbound_webhook_on_number": service.use_inbound_webhook_on_number,
        "validity_period": 14400,
    })
}

/// `GET /v1/Services/{MG}/PhoneNumbers`: the v1 list envelope with `meta`.
pub(crate) fn service_phone_numbers(state: &State, service: &FakeService, base: &str) -> Value {
    let url = format!("{base}/v1/Services/{}/PhoneNumbers", service.sid);
    let items: Vec<Value> = service
        .phone_numbers
        .iter()
        .filter_map(|e164| state.number(e164))
        .map(|number| {
            let mut capabilities = Vec::new();
            if number.capabilities.mms {
                capabilities.push("MMS");
            }
            if number.capabilities.sms {
                capabilities.push("SMS");
            }
            if number.capabilities.voice {
                capabilities.push("Voice");
            }
            json!({
                "sid": number.sid,
                "account_sid": state.account_sid,
                "service_sid": service.sid,
                "date_created": iso8601(state.created_secs),
                "date_updated": iso8601(state.created_secs),
                "phone_number": number.phone_number,
                "country_code": country_of(&number.phone_number),
                "capabilities": capabilities,
                "url": format!("{url}/{}", number.sid),
            })
        })
        .collect();
    let page_url = format!("{url}?PageSize=50&Page=0");
    json!({
        "phone_numbers": items,
        "meta": {
            "page": 0,
            "page_size": 50,
            "first_page_url": page_url,
            "previous_page_url": null,
            "url": page_url,
            "next_page_url": null,
            "key": "phone_numbers",
        },
    })
}
