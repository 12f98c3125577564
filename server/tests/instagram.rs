//! Instagram Direct end to end over HTTP, on both backends, against the local fake of Meta:
//! connecting the account linked to a page, every inbound type from Meta's published
//! payloads, echoes, and the 24-hour / 7-day HUMAN_AGENT windows at their edges.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{
    ig_attachment, ig_echo, ig_message, ig_reaction, ig_reply_to, ig_story_mention, ig_story_reply, ig_text,
    ig_unsupported, instagram_webhook, now_ms,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp};

const PAGE: &str = "101";
const IG: &str = "17841400000000101";
const NORA: &str = "9101001";
const OMAR: &str = "9101002";
const HOUR_MS: i64 = 3_600_000;

async fn connect_instagram(app: &TestApp, token: &str, page_id: &str) -> reqwest::Response {
    let page_token = app.fake.page_token(page_id).unwrap();
    app.post(
        token,
        "/api/inbox/channels/social",
        json!({ "platform": "instagram", "pageId": page_id, "accessToken": page_token }),
    )
    .await
}

async fn app_with_instagram(backend: Backend) -> (TestApp, String, Value) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let response = connect_instagram(&app, &token, PAGE).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let channel = response.json().await.unwrap();
    (app, token, channel)
}

async fn conversation_with(app: &TestApp, token: &str, igsid_name: &str) -> i64 {
    app.conversations(token)
        .await
        .into_iter()
        .find(|c| c["contactName"].as_str().unwrap_or_default().contains(igsid_name))
        .unwrap_or_else(|| panic!("no conversation with {igsid_name}"))["id"]
        .as_i64()
        .unwrap()
}

async fn connect_the_account_linked_to_a_page(backend: Backend) {
    let (app, token, channel) = app_with_instagram(backend).await;
    assert_eq!(channel["kind"], "instagram");
    assert_eq!(channel["externalId"], IG);
    assert_eq!(channel["name"], "@acme.shoes");
    assert_eq!(channel["parentAccountId"], PAGE);
    assert!(app.fake.subscriptions().contains(&PAGE.to_string()));
    let id = channel["id"].as_i64().unwrap();
    let health: Value = app
        .get(&token, &format!("/api/inbox/channels/{id}/health"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "active");

    let no_account = connect_instagram(&app, &token, "102").await;
    assert_eq!(no_account.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = no_account.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("Instagram"));

    // Messenger on the same page keeps the page's subscription when Instagram is disconnected.
    app.connect_page(&token, PAGE).await;
    let gone = app
        .http
        .delete(app.url(&format!("/api/inbox/channels/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    assert!(app.fake.subscriptions().contains(&PAGE.to_string()));
}

async fn every_inbound_type_is_stored(backend: Backend) {
    let (app, token, _) = app_with_instagram(backend).await;
    let at = now_ms() - 60_000;
    // Served by the fake, at the configured Graph API's host, standing in for Meta's CDN.
    let photo = format!("{}/_fake/media/photo.jpg", app.fake.base_url());
    let messaging = vec![
        ig_text(NORA, IG, "mid.text", "Hi! Do you have this in red?", at),
        ig_message(NORA, IG, "mid.image", None, &[ig_attachment("image", &photo)], at + 1),
        ig_story_reply(
            NORA,
            IG,
            "mid.story",
            "Love this look",
            "story-1",
            "https://cdn.example/story.jpg",
            at + 2,
        ),
        ig_story_mention(NORA, IG, "mid.mention", "https://cdn.example/mention.jpg", at + 3),
        ig_reply_to(ig_text(NORA, IG, "mid.reply", "this one", at + 4), "mid.text"),
        ig_unsupported(NORA, IG, "mid.unsupported", at + 5),
    ];
    assert_eq!(
        app.deliver_to("instagram", &instagram_webhook(IG, messaging))
            .await
            .status(),
        StatusCode::OK
    );
    let conversations = app.conversations(&token).await;
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["channelKind"], "instagram");
    let conversation = conversations[0]["id"].as_i64().unwrap();
    let thread = app.messages(&token, conversation).await;
    assert_eq!(thread.len(), 6, "{thread:#?}");
    let by_id = |id: &str| thread.iter().find(|m| m["platformMessageId"] == id).cloned().unwrap();
    assert_eq!(by_id("mid.text")["body"], "Hi! Do you have this in red?");
    let image = by_id("mid.image");
    assert_eq!(image["attachments"][0]["kind"], "image");
    // CDN links expire: agents see a copy kept through our media route.
    let kept = image["attachments"][0]["url"].as_str().unwrap().to_string();
    assert!(kept.starts_with(&format!("/api/media/instagram/{IG}/")), "{kept}");
    let cdn_bytes = app.http.get(&photo).send().await.unwrap().bytes().await.unwrap();
    let ours = app.get(&token, &kept).await;
    assert_eq!(ours.status(), StatusCode::OK);
    assert_eq!(ours.bytes().await.unwrap(), cdn_bytes);
    assert_eq!(
        app.http.get(app.url(&kept)).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let story = by_id("mid.story");
    assert_eq!(
        (story["kind"].as_str(), story["body"].as_str()),
        (Some("story_reply"), Some("Love this look"))
    );
    // A link to anywhere but Meta (or the configured Graph host) is never fetched.
    let story_url = story["attachments"][0]["url"].as_str().unwrap();
    assert!(story_url.starts_with("/api/media/instagram/"), "{story_url}");
    assert_eq!(app.get(&token, story_url).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(by_id("mid.mention")["kind"], "story_mention");
    assert_eq!(by_id("mid.reply")["replyTo"]["messageId"], by_id("mid.text")["id"]);
    assert_eq!(by_id("mid.unsupported")["kind"], "unsupported");

    let react = ig_reaction(NORA, IG, "mid.text", "react", Some("❤️"), at + 10);
    app.deliver_to("instagram", &instagram_webhook(IG, vec![react])).await;
    let text_id = by_id("mid.text")["id"].as_i64().unwrap();
    assert_eq!(
        app.message(&token, conversation, text_id).await["reactions"][0]["emoji"],
        "❤️"
    );
    let unreact = ig_reaction(NORA, IG, "mid.text", "unreact", None, at + 11);
    app.deliver_to("instagram", &instagram_webhook(IG, vec![unreact])).await;
    assert_eq!(app.message(&token, conversation, text_id).await["reactions"], json!([]));

    // The business answered from the Instagram app: the echo shows in the thread once.
    let echo = instagram_webhook(
        IG,
        vec![ig_echo(IG, NORA, "mid.from-phone", "Yes, size M left!", at + 20)],
    );
    for _ in 0..2 {
        assert_eq!(app.deliver_to("instagram", &echo).await.status(), StatusCode::OK);
    }
    let thread = app.messages(&token, conversation).await;
    let echoed: Vec<_> = thread
        .iter()
        .filter(|m| m["platformMessageId"] == "mid.from-phone")
        .collect();
    assert_eq!(echoed.len(), 1);
    assert_eq!(echoed[0]["direction"], "outbound");
}

async fn deliveries_are_verified_and_deduplicated(backend: Backend) {
    let (app, token, _) = app_with_instagram(backend).await;
    let payload = instagram_webhook(IG, vec![ig_text(NORA, IG, "mid.once", "Hello", now_ms())]);
    let copies = (0..6).map(|_| app.deliver_to("instagram", &payload));
    for response in futures::future::join_all(copies).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(app.conversations(&token).await.len(), 1);
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    assert_eq!(app.messages(&token, conversation).await.len(), 1);

    let body = fake_meta::encode_body(&instagram_webhook(
        IG,
        vec![ig_text(OMAR, IG, "mid.bad", "Hi", now_ms())],
    ));
    let forged = app
        .deliver_raw_to("instagram", &body, Some("sha256=deadbeef".into()))
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.conversations(&token).await.len(),
        1,
        "a bad signature leaves no trace"
    );
    // Messenger's route does not take Instagram's payloads.
    assert_eq!(app.deliver(&payload).await.status(), StatusCode::BAD_REQUEST);
}

async fn replies_follow_the_24_hour_and_7_day_windows(backend: Backend) {
    let (app, token, _) = app_with_instagram(backend).await;
    let now = now_ms();
    // Nora wrote 23h59 ago, Omar 24h01 ago; a third customer 7 days and a minute ago.
    let nora = ig_text(NORA, IG, "mid.n", "Hello", now - 24 * HOUR_MS + 60_000);
    let omar = ig_text(OMAR, IG, "mid.o", "Hello", now - 24 * HOUR_MS - 60_000);
    let old = ig_text("9101999", IG, "mid.x", "Hello", now - 7 * 24 * HOUR_MS - 60_000);
    app.deliver_to("instagram", &instagram_webhook(IG, vec![nora, omar, old]))
        .await;
    app.fake.set_instagram_window(NORA, Some(23.98));
    app.fake.set_instagram_window(OMAR, Some(24.02));
    app.eventually("profiles to arrive", || async {
        app.conversations(&token)
            .await
            .iter()
            .filter(|c| c["contactName"] == "Nora Lee" || c["contactName"] == "Omar Haddad")
            .count()
            == 2
    })
    .await;
    let nora_id = conversation_with(&app, &token, "Nora").await;
    let omar_id = conversation_with(&app, &token, "Omar").await;
    let old_id = conversation_with(&app, &token, "Customer 1999").await;

    let free = app.reply(&token, nora_id, "Hi Nora", None).await;
    assert_eq!(free.status(), StatusCode::ACCEPTED);
    let id = free.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.wait_for_status(&token, nora_id, id, "sent").await;
    let request = app.fake.instagram_sent().pop().unwrap();
    assert_eq!(request.recipient_id, NORA);
    assert_eq!(request.messaging_type(), Some("RESPONSE"));

    let untagged = app.reply(&token, omar_id, "Hi Omar", None).await;
    assert_eq!(untagged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{omar_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["window"]["human_agent_only"]["closes_at"].is_i64(), "{detail}");
    let tagged = app
        .reply(&token, omar_id, "Hi Omar, sorry for the wait", Some("HUMAN_AGENT"))
        .await;
    assert_eq!(tagged.status(), StatusCode::ACCEPTED);
    let id = tagged.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    app.wait_for_status(&token, omar_id, id, "sent").await;
    let request = app.fake.instagram_sent().pop().unwrap();
    assert_eq!(request.tag(), Some("HUMAN_AGENT"));

    let closed = app.reply(&token, old_id, "Hello?", Some("HUMAN_AGENT")).await;
    assert_eq!(closed.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

on_both_backends!(
    connect_the_account_linked_to_a_page,
    every_inbound_type_is_stored,
    deliveries_are_verified_and_deduplicated,
    replies_follow_the_24_hour_and_7_day_windows,
);
