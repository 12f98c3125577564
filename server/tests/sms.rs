//! SMS through Twilio end to end, on both backends, against the local fake of Twilio's REST
//! API and its signed webhooks (`testkit/fake-twilio`): connecting a number (checked against
//! the account, its SmsUrl pointed at the channel's route, put back on disconnect) or a
//! Messaging Service, incoming texts and MMS verified by `X-Twilio-Signature` and stored once,
//! replies with our status callback whose statuses only move up even out of order, carrier
//! failures in words, and STOP / START.
#![allow(clippy::unwrap_used)]

mod support;

use fake_twilio::{
    CUSTOMER_UK, CUSTOMER_US, DEFAULT_NUMBER, DEFAULT_NUMBER_SID, DEFAULT_SERVICE_SID, Outcome, StatusMode,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp, error_of};

async fn connect_number(app: &TestApp, token: &str, sender: &str) -> reqwest::Response {
    app.post(
        token,
        "/api/channels/sms",
        json!({ "accountSid": app.twilio.account_sid(), "authToken": app.twilio.auth_token(), "phoneNumber": sender }),
    )
    .await
}

async fn connected(app: &TestApp, token: &str) -> Value {
    let response = connect_number(app, token, DEFAULT_NUMBER).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

async fn connecting_points_the_number_at_us_and_disconnecting_puts_it_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    app.twilio.set_sms_url(DEFAULT_NUMBER, Some("https://old.example/sms"));

    let (status, message) = error_of(
        app.post(
            &token,
            "/api/channels/sms",
            json!({ "accountSid": app.twilio.account_sid(), "authToken": "0000", "phoneNumber": DEFAULT_NUMBER }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("Account SID or Auth Token"), "{message}");
    let (status, message) = error_of(connect_number(&app, &token, "+15550009999").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message.contains("not a number of this Twilio account"), "{message}");
    let (status, message) = error_of(
        app.post(
            &token,
            "/api/channels/sms",
            json!({ "accountSid": app.twilio.account_sid() }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "Auth Token is required")
    );

    let channel = connected(&app, &token).await;
    assert_eq!(channel["externalId"], DEFAULT_NUMBER_SID);
    assert_eq!(channel["name"], DEFAULT_NUMBER);
    assert_eq!(channel["parentAccountId"], app.twilio.account_sid());
    assert!(!channel.to_string().contains(&app.twilio.auth_token()));
    let sms_url = app.twilio.number(DEFAULT_NUMBER).unwrap().sms_url.unwrap();
    assert!(
        sms_url.starts_with(&format!("{}/api/webhooks/sms/", app.base)),
        "{sms_url}"
    );
    assert!(
        app.twilio
            .requests()
            .iter()
            .all(|r| !r.contains(&app.twilio.auth_token()))
    );

    let id = channel["id"].as_i64().unwrap();
    let healthy: Value = app.health(&token, id).await;
    assert_eq!(
        (healthy["status"].as_str(), &healthy["lastError"]),
        (Some("active"), &Value::Null)
    );
    // Someone points the number elsewhere in the Twilio Console: health says so.
    app.twilio
        .set_sms_url(DEFAULT_NUMBER, Some("https://elsewhere.example/sms"));
    let warned: Value = app.health(&token, id).await;
    assert!(
        warned["lastError"].as_str().unwrap().contains("somewhere else"),
        "{warned}"
    );
    app.twilio.set_sms_url(DEFAULT_NUMBER, Some(&sms_url));

    let response = app.delete(&token, &format!("/api/channels/{id}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.twilio.number(DEFAULT_NUMBER).unwrap().sms_url.as_deref(),
        Some("https://old.example/sms"),
        "what was there before is back"
    );

    // A Messaging Service: its inbound URL is ours while connected.
    let response = connect_number(&app, &token, DEFAULT_SERVICE_SID).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let service = app
        .twilio
        .services()
        .into_iter()
        .find(|s| s.sid == DEFAULT_SERVICE_SID)
        .unwrap();
    assert!(service.inbound_request_url.unwrap().contains("/api/webhooks/sms/"));
    assert!(!service.use_inbound_webhook_on_number);
}

async fn texts_arrive_once_and_a_bad_signature_leaves_no_trace(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connected(&app, &token).await;

    let first = app
        .twilio
        .customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "Is the store open today?")
        .await;
    assert_eq!(first.status, Some(200), "{first:?}");
    assert!(
        first.body.contains("<Response></Response>"),
        "empty TwiML: {}",
        first.body
    );
    let conversation = app.only_conversation(&token).await;
    assert_eq!(app.conversations(&token).await[0]["contactName"], CUSTOMER_US);

    let retry = app.twilio.redeliver(&first).await;
    assert_eq!(retry.status, Some(200));
    assert_eq!(
        app.messages(&token, conversation).await.len(),
        1,
        "a retry is stored once"
    );

    let forged = app.twilio.customer_sms(DEFAULT_NUMBER, CUSTOMER_UK, "forged?").await;
    let refused = app
        .twilio
        .redeliver_with_signature(&forged, "bm90IHRoZSBzaWduYXR1cmU=")
        .await;
    assert_eq!(refused.status, Some(401));
    // The genuine copy of that text did arrive (as a second conversation); the forged resend
    // added nothing.
    assert_eq!(app.conversations(&token).await.len(), 2);
    let uk = app
        .conversations(&token)
        .await
        .into_iter()
        .find(|c| c["contactName"] == CUSTOMER_UK)
        .unwrap();
    assert_eq!(app.messages(&token, uk["id"].as_i64().unwrap()).await.len(), 1);

    let picture = b"\x89PNG\r\n\x1a\n-mms-picture".to_vec();
    let mms = app
        .twilio
        .customer_mms(
            DEFAULT_NUMBER,
            CUSTOMER_US,
            "this one",
            vec![("image/png".into(), picture.clone())],
        )
        .await;
    assert_eq!(mms.status, Some(200));
    let messages = app.messages(&token, conversation).await;
    let attachment = &messages.last().unwrap()["attachments"][0];
    assert_eq!(attachment["kind"], "image");
    let url = attachment["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("/api/media/sms/{DEFAULT_NUMBER_SID}/")),
        "{url}"
    );
    assert_eq!(
        app.bytes(&token, url).await,
        picture,
        "fetched with the account's credentials"
    );
}

async fn replies_climb_through_status_callbacks_even_out_of_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connected(&app, &token).await;
    app.twilio.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "hello").await;
    let conversation = app.only_conversation(&token).await;

    let reply = app.reply_id(&token, conversation, "Open until 6pm €5 off today").await;
    let delivered = app.wait_for_status(&token, conversation, reply, "delivered").await;
    let sent = app.twilio.messages().into_iter().last().unwrap();
    assert_eq!(
        (sent.to.as_str(), sent.from.as_deref()),
        (CUSTOMER_US, Some(DEFAULT_NUMBER))
    );
    assert_eq!(sent.body, "Open until 6pm €5 off today");
    assert!(sent.status_callback.unwrap().contains("/api/webhooks/sms/"));
    assert_eq!(delivered["platformMessageId"], sent.sid);

    app.twilio.set_status_mode(StatusMode::OutOfOrder);
    let reply = app.reply_id(&token, conversation, "second").await;
    app.wait_for_status(&token, conversation, reply, "delivered").await;
    app.eventually("both callbacks to arrive", || async {
        app.twilio.callbacks().len() >= 4
    })
    .await;
    assert_eq!(
        app.message(&token, conversation, reply).await["status"],
        "delivered",
        "a late `sent` does not move it back"
    );

    app.twilio.set_status_mode(StatusMode::Auto);
    app.twilio
        .set_outcome(CUSTOMER_US, Outcome::Undelivered { error_code: 30003 });
    let reply = app.reply_id(&token, conversation, "third").await;
    let failed = app.wait_for_status(&token, conversation, reply, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("unreachable"), "{failed}");
}

async fn stop_blocks_texts_until_start(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    connected(&app, &token).await;
    app.twilio.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "hello").await;
    let conversation = app.only_conversation(&token).await;
    let detail = || async {
        let detail: Value = app
            .get(&token, &format!("/api/inbox/conversations/{conversation}"))
            .await
            .json()
            .await
            .unwrap();
        detail["contact"]["identities"][0]["unreachable"].clone()
    };

    app.twilio.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "STOP").await;
    assert!(detail().await.as_str().unwrap().contains("replied STOP"));
    let messages = app.messages(&token, conversation).await;
    assert_eq!(messages.last().unwrap()["body"], "STOP", "shown in the thread");

    let (status, message) = error_of(app.reply(&token, conversation, "are you sure?", None).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "Twilio would refuse it (21610)");
    assert!(message.contains("replied STOP"), "{message}");

    app.twilio.customer_sms(DEFAULT_NUMBER, CUSTOMER_US, "START").await;
    assert_eq!(detail().await, Value::Null);
    let reply = app.reply_id(&token, conversation, "welcome back").await;
    app.wait_for_status(&token, conversation, reply, "delivered").await;
}

on_both_backends!(
    connecting_points_the_number_at_us_and_disconnecting_puts_it_back,
    texts_arrive_once_and_a_bad_signature_leaves_no_trace,
    replies_climb_through_status_callbacks_even_out_of_order,
    stop_blocks_texts_until_start,
);
