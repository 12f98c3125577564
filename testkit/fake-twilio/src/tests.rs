//! The fake against itself: reqwest plays the adapter, a tiny axum receiver
//! plays Messio's webhook endpoints, and every signature is checked with
//! [`signature`].

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::*;

/// One webhook request the receiver got.
#[derive(Clone, Debug)]
struct Hook {
    /// `sms`, `status`, `service-sms`, …
    endpoint: String,
    signature: String,
    idempotency: String,
    content_type: String,
    params: Vec<(String, String)>,
}

impl Hook {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Default)]
struct Receiver {
    hooks: Arc<Mutex<Vec<Hook>>>,
    base: String,
}

impl Receiver {
    /// Answers every `POST /{endpoint}` with 200 and empty TwiML.
    async fn start() -> Receiver {
        let hooks: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let sink = hooks.clone();
        let app = Router::new().route(
            "/{endpoint}",
            post(move |Path(endpoint): Path<String>, headers: HeaderMap, body: Bytes| {
                let sink = sink.clone();
                async move {
                    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    sink.lock().unwrap().push(Hook {
                        endpoint,
                        signature: text(SIGNATURE_HEADER),
                        idempotency: text(IDEMPOTENCY_HEADER),
                        content_type: text("content-type"),
                        params: url::form_urlencoded::parse(&body).into_owned().collect(),
                    });
                    (
                        [(header::CONTENT_TYPE, "text/xml")],
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { hooks, base }
    }

    fn url(&self, endpoint: &str) -> String {
        format!("{}/{endpoint}", self.base)
    }

    fn on(&self, endpoint: &str) -> Vec<Hook> {
        let hooks = self.hooks.lock().unwrap();
        hooks.iter().filter(|h| h.endpoint == endpoint).cloned().collect()
    }

    /// Waits (up to ~3 s) until `endpoint` got at least `count` requests.
    async fn wait(&self, endpoint: &str, count: usize) -> Vec<Hook> {
        for _ in 0..150 {
            if self.on(endpoint).len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.on(endpoint)
    }
}

struct Setup {
    fake: FakeTwilio,
    http: reqwest::Client,
    receiver: Receiver,
}

impl Setup {
    async fn new() -> Setup {
        let fake = FakeTwilio::spawn(FakeTwilioConfig::default()).await.unwrap();
        Setup {
            fake,
            http: reqwest::Client::new(),
            receiver: Receiver::start().await,
        }
    }

    fn api(&self, rest: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{}{rest}",
            self.fake.base_url(),
            self.fake.account_sid()
        )
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        let res = self
            .http
            .get(url)
            .basic_auth(self.fake.account_sid(), Some(self.fake.auth_token()))
            .send()
            .await
            .unwrap();
        json_of(res).await
    }

    async fn post(&self, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .http
            .post(url)
            .basic_auth(self.fake.account_sid(), Some(self.fake.auth_token()))
            .form(form)
            .send()
            .await
            .unwrap();
        json_of(res).await
    }

    async fn send(&self, form: &[(&str, &str)]) -> (u16, Value) {
        self.post(&self.api("/Messages.json"), form).await
    }

    /// Checks that `hook` carries Twilio's signature for the URL it was sent to.
    fn assert_signed(&self, hook: &Hook) {
        let url = self.receiver.url(&hook.endpoint);
        assert_eq!(
            hook.signature,
            signature(&self.fake.auth_token(), &url, &hook.params),
            "bad signature on {hook:?}"
        );
    }
}

async fn json_of(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

fn assert_error(answer: &(u16, Value), status: u16, code: u64) {
    assert_eq!(answer.0, status, "{answer:?}");
    assert_eq!(answer.1["code"], code, "{answer:?}");
    assert_eq!(answer.1["status"], status);
    assert_eq!(
        answer.1["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
}

#[test]
fn default_world_has_realistic_sids() {
    let config = FakeTwilioConfig::default();
    let hex34 = |sid: &str, prefix: &str| {
        sid.len() == 34 && sid.starts_with(prefix) && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
    };
    assert!(hex34(&config.account_sid, "AC"));
    assert_eq!(config.auth_token.len(), 32);
    assert!(config.numbers.iter().all(|n| hex34(&n.sid, "PN")));
    assert!(config.services.iter().all(|s| hex34(&s.sid, "MG")));
    assert!(hex34(&new_sid("SM"), "SM"));
}

#[tokio::test]
async fn account_needs_basic_auth() {
    let s = Setup::new().await;
    let (status, account) = s.get(&s.api(".json")).await;
    assert_eq!(status, 200);
    assert_eq!(account["sid"], DEFAULT_ACCOUNT_SID);
    assert_eq!(account["friendly_name"], "Acme Twilio");
    assert_eq!(account["status"], "active");
    assert_eq!(account["type"], "Full");
    assert_eq!(
        account["uri"],
        format!("/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json")
    );
    assert!(account["date_created"].as_str().unwrap().ends_with(" +0000"));

    let wrong = s
        .http
        .get(s.api(".json"))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some("nope"))
        .send()
        .await
        .unwrap();
    assert!(wrong.headers().contains_key(header::WWW_AUTHENTICATE));
    let answer = json_of(wrong).await;
    assert_error(&answer, 401, 20003);
    assert_eq!(answer.1["message"], "Authenticate");
    let missing = json_of(s.http.get(s.api(".json")).send().await.unwrap()).await;
    assert_error(&missing, 401, 20003);

    // A rotated token: the old one stops working at once.
    let old = s.fake.auth_token();
    let new = s.fake.rotate_auth_token();
    assert_ne!(old, new);
    let stale = s
        .http
        .get(s.api(".json"))
        .basic_auth(DEFAULT_ACCOUNT_SID, Some(old))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 401);
    assert_eq!(s.get(&s.api(".json")).await.0, 200);
}

#[tokio::test]
async fn unknown_resources_are_20404() {
    let s = Setup::new().await;
    let answer = s.get(&s.api("/Messages/SM00000000000000000000000000000000.json")).await;
    assert_error(&answer, 404, 20404);
    assert_eq!(
        answer.1["message"],
        format!(
            "The requested resource /2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/SM00000000000000000000000000000000.json was not found"
        )
    );
    assert_error(
        &s.get(&format!("{}/2010-04-01/Nope.json", s.fake.base_url())).await,
        404,
        20404,
    );
    let other = format!(
        "{}/2010-04-01/Accounts/AC00000000000000000000000000000000.json",
        s.fake.base_url()
    );
    assert_error(&s.get(&other).await, 404, 20404);
}

#[tokio::test]
async fn lists_and_updates_incoming_numbers() {
    let s = Setup::new().await;
    let (status, page) = s.get(&s.api("/IncomingPhoneNumbers.json")).await;
    assert_eq!(status, 200);
    assert_eq!(page["incoming_phone_numbers"].as_array().unwrap().len(), 2);
    for key in ["page", "page_size", "first_page_uri", "uri", "start", "end"] {
        assert!(!page[key].is_null(), "{key} missing");
    }
    assert!(page["next_page_uri"].is_null() && page["previous_page_uri"].is_null());

    let filtered = s
        .http
        .get(s.api("/IncomingPhoneNumbers.json"))
        .query(&[("PhoneNumber", DEFAULT_NUMBER)])
        .basic_auth(s.fake.account_sid(), Some(s.fake.auth_token()))
        .send()
        .await
        .unwrap();
    let (_, filtered) = json_of(filtered).await;
    let numbers = filtered["incoming_phone_numbers"].as_array().unwrap();
    assert_eq!(numbers.len(), 1);
    let number = &numbers[0];
    assert_eq!(number["sid"], DEFAULT_NUMBER_SID);
    assert_eq!(number["phone_number"], DEFAULT_NUMBER);
    assert_eq!(
        number["capabilities"],
        json!({"fax": false, "mms": true, "sms": true, "voice": true})
    );
    assert_eq!(number["sms_url"], "");
    assert_eq!(number["account_sid"], DEFAULT_ACCOUNT_SID);

    let sms = s.receiver.url("sms");
    let status_url = s.receiver.url("status");
    let (status, updated) = s
        .post(
            &s.api(&format!("/IncomingPhoneNumbers/{DEFAULT_NUMBER_SID}.json")),
            &[
                ("SmsUrl", sms.as_str()),
                ("SmsMethod", "POST"),
                ("StatusCallback", status_url.as_str()),
                ("FriendlyName", "Support line"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["sms_url"], sms);
    assert_eq!(updated["status_callback"], status_url);
    assert_eq!(updated["friendly_name"], "Support line");
    let recorded = s.fake.number(DEFAULT_NUMBER).unwrap();
    assert_eq!(recorded.sms_url.as_deref(), Some(sms.as_str()));
    assert_eq!(recorded.status_callback.as_deref(), Some(status_url.as_str()));

    let bad = s
        .post(
            &s.api(&format!("/IncomingPhoneNumbers/{DEFAULT_NUMBER_SID}.json")),
            &[("SmsMethod", "PUT")],
        )
        .await;
    assert_eq!(bad.0, 400);
    let missing = s
        .post(
            &s.api("/IncomingPhoneNumbers/PN00000000000000000000000000000000.json"),
            &[("SmsUrl", "x")],
        )
        .await;
    assert_error(&missing, 404, 20404);
}

#[tokio::test]
async fn send_answers_201_and_signed_callbacks_follow() {
    let s = Setup::new().await;
    let callback = s.receiver.url("status");
    let body = "Hello from Acme! ".repeat(10); // 170 GSM chars: 2 segments
    let (status, message) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("From", DEFAULT_NUMBER),
            ("Body", body.as_str()),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    let sid = message["sid"].as_str().unwrap().to_owned();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    assert_eq!(message["status"], "queued");
    assert_eq!(message["num_segments"], "2");
    assert_eq!(message["num_media"], "0");
    assert_eq!(message["direction"], "outbound-api");
    assert_eq!(message["from"], DEFAULT_NUMBER);
    assert_eq!(message["to"], CUSTOMER_US);
    assert_eq!(message["api_version"], "2010-04-01");
    assert!(message["error_code"].is_null() && message["price"].is_null());
    assert!(message["messaging_service_sid"].is_null());
    assert_eq!(
        message["uri"],
        format!("/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{sid}.json")
    );
    let created = message["date_created"].as_str().unwrap();
    assert_eq!(created.len(), "Thu, 24 Aug 2023 05:01:45 +0000".len(), "{created}");

    let hooks = s.receiver.wait("status", 2).await;
    assert_eq!(hooks.len(), 2);
    let statuses: Vec<_> = hooks
        .iter()
        .map(|h| h.param("MessageStatus").unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["sent", "delivered"]);
    for hook in &hooks {
        s.assert_signed(hook);
        assert_eq!(hook.content_type, "application/x-www-form-urlencoded");
        assert_eq!(hook.param("MessageSid"), Some(sid.as_str()));
        assert_eq!(hook.param("SmsSid"), Some(sid.as_str()));
        assert_eq!(hook.param("SmsStatus"), hook.param("MessageStatus"));
        assert_eq!(hook.param("AccountSid"), Some(DEFAULT_ACCOUNT_SID));
        assert_eq!(hook.param("From"), Some(DEFAULT_NUMBER));
        assert_eq!(hook.param("To"), Some(CUSTOMER_US));
        assert_eq!(hook.param("ApiVersion"), Some("2010-04-01"));
        assert_eq!(hook.param("ErrorCode"), None);
        assert!(!hook.idempotency.is_empty());
    }
    assert!(hooks[1].param("RawDlrDoneDate").is_some());

    // The resource follows.
    let (_, fetched) = s.get(&s.api(&format!("/Messages/{sid}.json"))).await;
    assert_eq!(fetched["status"], "delivered");
    assert!(fetched["date_sent"].is_string());
    let recorded = s.fake.message(&sid).unwrap();
    assert_eq!(recorded.body, body);
    assert_eq!(recorded.status_callback.as_deref(), Some(callback.as_str()));
    let callbacks = s.fake.callbacks();
    assert_eq!(callbacks.len(), 2);
    assert!(callbacks.iter().all(|c| c.delivery.status == Some(200)));
}

#[tokio::test]
async fn out_of_order_and_failure_outcomes() {
    let s = Setup::new().await;
    let callback = s.receiver.url("status");
    s.fake.set_status_mode(StatusMode::OutOfOrder);
    s.fake
        .set_outcome(CUSTOMER_UK, Outcome::Undelivered { error_code: 30003 });
    let (status, message) = s
        .send(&[
            ("To", CUSTOMER_UK),
            ("From", DEFAULT_NUMBER),
            ("Body", "Zażółć gęślą jaźń"),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    assert_eq!(status, 201);
    assert_eq!(message["num_segments"], "1");
    let hooks = s.receiver.wait("status", 2).await;
    let statuses: Vec<_> = hooks.iter().map(|h| h.param("MessageStatus").unwrap()).collect();
    assert_eq!(statuses, ["undelivered", "sent"]);
    assert_eq!(hooks[0].param("ErrorCode"), Some("30003"));
    assert_eq!(hooks[1].param("ErrorCode"), None);
    hooks.iter().for_each(|h| s.assert_signed(h));
    // A late `sent` does not move the resource back.
    let sid = message["sid"].as_str().unwrap();
    let (_, fetched) = s.get(&s.api(&format!("/Messages/{sid}.json"))).await;
    assert_eq!(fetched["status"], "undelivered");
    assert_eq!(fetched["error_code"], 30003);

    // Failed: one callback, never sent.
    s.fake.set_status_mode(StatusMode::Auto);
    s.fake.set_outcome(CUSTOMER_US, Outcome::Failed { error_code: 30008 });
    let (_, failed) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("From", DEFAULT_NUMBER),
            ("Body", "hi"),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    let hooks = s.receiver.wait("status", 3).await;
    assert_eq!(hooks.len(), 3);
    assert_eq!(hooks[2].param("MessageStatus"), Some("failed"));
    assert_eq!(hooks[2].param("ErrorCode"), Some("30008"));
    assert_eq!(hooks[2].param("MessageSid"), failed["sid"].as_str());

    // Off: nothing until a callback is sent by hand.
    s.fake.set_status_mode(StatusMode::Off);
    s.fake.clear_outcome(CUSTOMER_US);
    let (_, quiet) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("From", DEFAULT_NUMBER),
            ("Body", "hi"),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    let quiet_sid = quiet["sid"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.receiver.on("status").len(), 3);
    assert_eq!(s.fake.message(quiet_sid).unwrap().status, "queued");
    let delivery = s.fake.status_callback(quiet_sid, "delivered", None).await.unwrap();
    assert_eq!(delivery.status, Some(200));
    assert_eq!(s.fake.message(quiet_sid).unwrap().status, "delivered");
    let hooks = s.receiver.wait("status", 4).await;
    s.assert_signed(&hooks[3]);
    assert!(s.fake.status_callback("SMnope", "sent", None).await.is_err());
}

#[tokio::test]
async fn send_validation_errors() {
    let s = Setup::new().await;
    let invalid = s
        .send(&[("To", "5551234567"), ("From", DEFAULT_NUMBER), ("Body", "x")])
        .await;
    assert_error(&invalid, 400, 21211);
    assert_eq!(
        invalid.1["message"],
        "The 'To' number 5551234567 is not a valid phone number."
    );
    s.fake.set_invalid("+14155550199", true);
    assert_error(
        &s.send(&[("To", "+14155550199"), ("From", DEFAULT_NUMBER), ("Body", "x")])
            .await,
        400,
        21211,
    );
    let not_ours = s
        .send(&[("To", CUSTOMER_US), ("From", "+15005550006"), ("Body", "x")])
        .await;
    assert_error(&not_ours, 400, 21606);
    assert!(not_ours.1["message"].as_str().unwrap().contains("+15005550006"));
    let empty = s.send(&[("To", CUSTOMER_US), ("From", DEFAULT_NUMBER)]).await;
    assert_error(&empty, 400, 21602);
    assert_eq!(empty.1["message"], "Message body is required.");
    let long = "a".repeat(1601);
    assert_error(
        &s.send(&[("To", CUSTOMER_US), ("From", DEFAULT_NUMBER), ("Body", long.as_str())])
            .await,
        400,
        21617,
    );
    assert_error(&s.send(&[("From", DEFAULT_NUMBER), ("Body", "x")]).await, 400, 21604);
    assert_error(&s.send(&[("To", CUSTOMER_US), ("Body", "x")]).await, 400, 21603);
    s.fake.set_unreachable(CUSTOMER_UK, true);
    assert_error(
        &s.send(&[("To", CUSTOMER_UK), ("From", DEFAULT_NUMBER), ("Body", "x")])
            .await,
        400,
        21612,
    );
    assert!(s.fake.messages().is_empty(), "rejected sends are not recorded");
}

#[tokio::test]
async fn stop_blocks_sends_until_start() {
    let s = Setup::new().await;
    s.fake.set_sms_url(DEFAULT_NUMBER, Some(&s.receiver.url("sms")));
    let send = || s.send(&[("To", CUSTOMER_US), ("From", DEFAULT_NUMBER), ("Body", "Any news?")]);
    assert_eq!(send().await.0, 201);

    let delivery = s.fake.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "  stop ").await;
    assert!(delivery.is_success());
    // Still delivered to the webhook.
    assert_eq!(s.receiver.on("sms")[0].param("Body"), Some("  stop "));
    assert_eq!(
        s.fake.opted_out(),
        vec![OptOut {
            number: DEFAULT_NUMBER.to_owned(),
            customer: CUSTOMER_US.to_owned()
        }]
    );
    let blocked = send().await;
    assert_error(&blocked, 400, 21610);
    // Only that sender: the other number may still write.
    assert_eq!(
        s.send(&[("To", CUSTOMER_US), ("From", SERVICE_NUMBER), ("Body", "x")])
            .await
            .0,
        201
    );
    // "stop please" is not a keyword.
    s.fake.customer_sms(DEFAULT_NUMBER, CUSTOMER_UK, "stop please").await;
    assert_eq!(s.fake.opted_out().len(), 1);

    s.fake.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "Start").await;
    assert!(s.fake.opted_out().is_empty());
    assert_eq!(send().await.0, 201);

    // An opt-out from a pool number covers the whole Messaging Service.
    s.fake.customer_sms(SERVICE_NUMBER, CUSTOMER_UK, "UNSUBSCRIBE").await;
    let via_service = s
        .send(&[
            ("To", CUSTOMER_UK),
            ("MessagingServiceSid", DEFAULT_SERVICE_SID),
            ("Body", "x"),
        ])
        .await;
    assert_error(&via_service, 400, 21610);
}

#[tokio::test]
async fn inbound_sms_is_signed_and_complete_and_can_be_replayed() {
    let s = Setup::new().await;
    let sms = s.receiver.url("sms");
    s.post(
        &s.api(&format!("/IncomingPhoneNumbers/{DEFAULT_NUMBER_SID}.json")),
        &[("SmsUrl", sms.as_str())],
    )
    .await;
    let delivery = s
        .fake
        .customer_sms(DEFAULT_NUMBER, CUSTOMER_UK, "Où est ma commande ?")
        .await;
    assert_eq!(delivery.status, Some(200));
    assert!(delivery.body.contains("<Response>"));
    let hooks = s.receiver.wait("sms", 1).await;
    let hook = &hooks[0];
    s.assert_signed(hook);
    let sid = hook.param("MessageSid").unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    for key in ["SmsSid", "SmsMessageSid"] {
        assert_eq!(hook.param(key), Some(sid));
    }
    assert_eq!(hook.param("AccountSid"), Some(DEFAULT_ACCOUNT_SID));
    assert_eq!(hook.param("From"), Some(CUSTOMER_UK));
    assert_eq!(hook.param("To"), Some(DEFAULT_NUMBER));
    assert_eq!(hook.param("Body"), Some("Où est ma commande ?"));
    assert_eq!(hook.param("NumMedia"), Some("0"));
    assert_eq!(hook.param("NumSegments"), Some("1"));
    assert_eq!(hook.param("SmsStatus"), Some("received"));
    assert_eq!(hook.param("ApiVersion"), Some("2010-04-01"));
    assert_eq!(hook.param("FromCountry"), Some("GB"));
    assert_eq!(hook.param("ToCountry"), Some("US"));
    assert_eq!(hook.param("MessagingServiceSid"), None);
    assert_eq!(delivery.param("MessageSid"), Some(sid));

    // The inbound message is an API resource too.
    let (_, fetched) = s.get(&s.api(&format!("/Messages/{sid}.json"))).await;
    assert_eq!(fetched["direction"], "inbound");
    assert_eq!(fetched["status"], "received");

    // A retry repeats the request exactly, idempotency token included.
    let again = s.fake.redeliver(&delivery).await;
    assert_eq!(again.status, Some(200));
    let forged = s
        .fake
        .redeliver_with_signature(&delivery, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .await;
    assert_eq!(forged.status, Some(200));
    let hooks = s.receiver.wait("sms", 3).await;
    assert_eq!(hooks[1].params, hooks[0].params);
    assert_eq!(hooks[1].signature, hooks[0].signature);
    assert_eq!(hooks[1].idempotency, hooks[0].idempotency);
    assert_eq!(hooks[2].signature, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=");

    // No SmsUrl: nothing is sent, and the reason says so.
    let nowhere = s.fake.customer_sms(SERVICE_NUMBER, CUSTOMER_US, "hi").await;
    assert!(nowhere.status.is_none() && nowhere.error.is_some());
    let unknown = s.fake.customer_sms("+19999999999", CUSTOMER_US, "hi").await;
    assert!(unknown.error.is_some());
}

#[tokio::test]
async fn mms_media_needs_basic_auth() {
    let s = Setup::new().await;
    s.fake.set_sms_url(DEFAULT_NUMBER, Some(&s.receiver.url("sms")));
    let jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
    let delivery = s
        .fake
        .customer_mms(
            DEFAULT_NUMBER,
            CUSTOMER_US,
            "",
            vec![
                ("image/jpeg".to_owned(), jpeg.clone()),
                ("application/pdf".to_owned(), b"%PDF-1.4".to_vec()),
            ],
        )
        .await;
    assert!(delivery.is_success());
    let hook = &s.receiver.wait("sms", 1).await[0];
    s.assert_signed(hook);
    let sid = hook.param("MessageSid").unwrap();
    assert!(sid.starts_with("MM"));
    assert_eq!(hook.param("NumMedia"), Some("2"));
    assert_eq!(hook.param("MediaContentType0"), Some("image/jpeg"));
    assert_eq!(hook.param("MediaContentType1"), Some("application/pdf"));
    let url = hook.param("MediaUrl0").unwrap();
    assert!(url.starts_with(&format!(
        "{}/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Messages/{sid}/Media/ME",
        s.fake.base_url()
    )));

    let anonymous = json_of(s.http.get(url).send().await.unwrap()).await;
    assert_error(&anonymous, 401, 20003);
    let res = s
        .http
        .get(url)
        .basic_auth(s.fake.account_sid(), Some(s.fake.auth_token()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(res.bytes().await.unwrap().to_vec(), jpeg);
    let (status, meta) = s.get(&format!("{url}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(meta["parent_sid"], sid);
    assert_eq!(meta["content_type"], "image/jpeg");
}

#[tokio::test]
async fn outbound_media_is_downloaded_and_recorded() {
    let s = Setup::new().await;
    let png = vec![0x89, b'P', b'N', b'G', 9, 9, 9];
    let served = png.clone();
    let app = Router::new().route(
        "/cat.png",
        get(move || {
            let bytes = served.clone();
            async move { ([(header::CONTENT_TYPE, "image/png")], bytes) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let callback = s.receiver.url("status");
    let good = format!("{files}/cat.png");
    let (status, message) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("From", DEFAULT_NUMBER),
            ("MediaUrl", good.as_str()),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["num_media"], "1");
    let recorded = s.fake.message(message["sid"].as_str().unwrap()).unwrap();
    use sha2::Digest as _;
    assert_eq!(
        recorded.media,
        vec![SentMedia {
            url: good,
            content_type: "image/png".to_owned(),
            size: png.len() as u64,
            sha256: hex::encode(sha2::Sha256::digest(&png)),
            error: None,
        }]
    );

    let missing = format!("{files}/missing.png");
    let (status, message) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("From", DEFAULT_NUMBER),
            ("Body", "see attached"),
            ("MediaUrl", missing.as_str()),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    assert_eq!(status, 201);
    let sid = message["sid"].as_str().unwrap();
    for _ in 0..100 {
        if s.fake.message(sid).unwrap().status == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let failed = s.fake.message(sid).unwrap();
    assert_eq!((failed.status.as_str(), failed.error_code), ("failed", Some(11200)));
    assert!(failed.media[0].error.is_some());
}

#[tokio::test]
async fn messaging_service_routes_and_sends() {
    let s = Setup::new().await;
    let base = s.fake.base_url();
    let service_url = format!("{base}/v1/Services/{DEFAULT_SERVICE_SID}");
    let (status, service) = s.get(&service_url).await;
    assert_eq!(status, 200);
    assert_eq!(service["sid"], DEFAULT_SERVICE_SID);
    assert_eq!(service["friendly_name"], "Acme Support");
    assert!(service["inbound_request_url"].is_null());
    assert!(service["date_created"].as_str().unwrap().ends_with('Z'));

    let (_, numbers) = s.get(&format!("{service_url}/PhoneNumbers")).await;
    assert_eq!(numbers["meta"]["key"], "phone_numbers");
    let pool = numbers["phone_numbers"].as_array().unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!(pool[0]["phone_number"], SERVICE_NUMBER);
    assert_eq!(pool[0]["sid"], SERVICE_NUMBER_SID);
    assert_eq!(pool[0]["service_sid"], DEFAULT_SERVICE_SID);

    let inbound = s.receiver.url("service-sms");
    let status_url = s.receiver.url("service-status");
    let (status, updated) = s
        .post(
            &service_url,
            &[
                ("InboundRequestUrl", inbound.as_str()),
                ("StatusCallback", status_url.as_str()),
            ],
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["inbound_request_url"], inbound);
    assert_eq!(updated["status_callback"], status_url);

    // Inbound to a pool number goes to the service's URL.
    s.fake.customer_sms(SERVICE_NUMBER, CUSTOMER_US, "hello").await;
    let hook = &s.receiver.wait("service-sms", 1).await[0];
    s.assert_signed(hook);
    assert_eq!(hook.param("MessagingServiceSid"), Some(DEFAULT_SERVICE_SID));

    // Sending through the service: accepted, no sender yet, then callbacks
    // to the service's status callback from the pool number.
    let (status, message) = s
        .send(&[
            ("To", CUSTOMER_US),
            ("MessagingServiceSid", DEFAULT_SERVICE_SID),
            ("Body", "Thanks!"),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["status"], "accepted");
    assert!(message["from"].is_null());
    assert_eq!(message["num_segments"], "0");
    assert_eq!(message["messaging_service_sid"], DEFAULT_SERVICE_SID);
    let hooks = s.receiver.wait("service-status", 2).await;
    assert_eq!(hooks.len(), 2);
    for hook in &hooks {
        s.assert_signed(hook);
        assert_eq!(hook.param("From"), Some(SERVICE_NUMBER));
        assert_eq!(hook.param("MessagingServiceSid"), Some(DEFAULT_SERVICE_SID));
    }
    let sid = message["sid"].as_str().unwrap();
    let (_, fetched) = s.get(&s.api(&format!("/Messages/{sid}.json"))).await;
    assert_eq!(fetched["from"], SERVICE_NUMBER);
    assert_eq!(fetched["num_segments"], "1");

    let unknown = s
        .send(&[
            ("To", CUSTOMER_US),
            ("MessagingServiceSid", "MG00000000000000000000000000000000"),
            ("Body", "x"),
        ])
        .await;
    assert_eq!(unknown.0, 400);
    assert_error(&s.get(&format!("{base}/v1/Services/MGnope")).await, 404, 20404);
}

#[tokio::test]
async fn requests_never_contain_the_token() {
    let s = Setup::new().await;
    s.get(&s.api(".json")).await;
    s.get(&s.api("/IncomingPhoneNumbers.json?PhoneNumber=%2B15017122661"))
        .await;
    s.send(&[("To", CUSTOMER_US), ("From", DEFAULT_NUMBER), ("Body", "hi")])
        .await;
    let requests = s.fake.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(
        requests[0],
        format!("GET /2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}.json")
    );
    assert!(requests[2].starts_with("POST "));
    let token = s.fake.auth_token();
    assert!(requests.iter().all(|r| !r.contains(&token)));
}

#[tokio::test]
async fn control_api_mirrors_the_helpers() {
    let s = Setup::new().await;
    let base = s.fake.base_url();
    s.fake.set_sms_url(DEFAULT_NUMBER, Some(&s.receiver.url("sms")));
    let http = &s.http;

    let res = http
        .post(format!("{base}/_fake/twilio/numbers/{DEFAULT_NUMBER}/sms"))
        .json(&json!({
            "from": CUSTOMER_US,
            "body": "photo attached",
            "media": [{"content_type": "image/gif", "base64": "R0lGODlh"}],
        }))
        .send()
        .await
        .unwrap();
    let (status, delivery) = json_of(res).await;
    assert_eq!(status, 200, "{delivery}");
    assert_eq!(delivery["status"], 200);
    let hook = &s.receiver.wait("sms", 1).await[0];
    s.assert_signed(hook);
    assert_eq!(hook.param("MediaContentType0"), Some("image/gif"));
    assert_eq!(s.fake.inbound()[0].media[0].size, 6);

    // Replay through the control API.
    let res = http
        .post(format!("{base}/_fake/twilio/redeliver"))
        .json(&json!({ "delivery": delivery, "signature": "forged" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(s.receiver.wait("sms", 2).await[1].signature, "forged");

    let res = http
        .post(format!("{base}/_fake/twilio/status-mode"))
        .json(&json!({"mode": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = http
        .post(format!("{base}/_fake/twilio/recipients/{CUSTOMER_UK}/outcome"))
        .json(&json!({"status": "undelivered", "error_code": 30006}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let callback = s.receiver.url("status");
    let (_, message) = s
        .send(&[
            ("To", CUSTOMER_UK),
            ("From", DEFAULT_NUMBER),
            ("Body", "hi"),
            ("StatusCallback", callback.as_str()),
        ])
        .await;
    let sid = message["sid"].as_str().unwrap();
    let res = http
        .post(format!("{base}/_fake/twilio/messages/{sid}/status"))
        .json(&json!({"status": "undelivered", "error_code": 30006}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let hook = &s.receiver.wait("status", 1).await[0];
    assert_eq!(hook.param("ErrorCode"), Some("30006"));

    let messages = json_of(http.get(format!("{base}/_fake/twilio/messages")).send().await.unwrap()).await;
    assert_eq!(messages.1[0]["sid"], sid);
    assert_eq!(messages.1[0]["status"], "undelivered");
    let numbers = json_of(http.get(format!("{base}/_fake/twilio/numbers")).send().await.unwrap()).await;
    assert_eq!(numbers.1[0]["sms_url"], s.receiver.url("sms"));
    let callbacks = json_of(http.get(format!("{base}/_fake/twilio/callbacks")).send().await.unwrap()).await;
    assert_eq!(callbacks.1.as_array().unwrap().len(), 1);

    let res = http
        .post(format!("{base}/_fake/twilio/recipients/{CUSTOMER_US}/invalid"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_error(
        &s.send(&[("To", CUSTOMER_US), ("From", DEFAULT_NUMBER), ("Body", "x")])
            .await,
        400,
        21211,
    );

    let rotated = json_of(
        http.post(format!("{base}/_fake/twilio/auth-token"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(rotated.1["auth_token"], s.fake.auth_token());
    let requests = json_of(http.get(format!("{base}/_fake/twilio/requests")).send().await.unwrap()).await;
    assert!(
        requests
            .1
            .as_array()
            .unwrap()
            .iter()
            .all(|r| !r.as_str().unwrap().contains("/_fake/"))
    );

    let res = http.post(format!("{base}/_fake/twilio/reset")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert!(s.fake.messages().is_empty() && s.fake.inbound().is_empty());
    assert_eq!(s.fake.number(DEFAULT_NUMBER).unwrap().sms_url, None);
    assert_eq!(
        http.get(format!("{base}/_fake/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
}
