//! The Instagram side of the fake against itself.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::test_support::{fake_with_receiver, file_server, get_json, json_of, sha256_hex};
use super::*;

const IG: &str = "17841400000000101";
const NORA: &str = "9101001";
const OMAR: &str = "9101002";

fn event_of(v: &Value) -> &Value {
    &v["entry"][0]["messaging"][0]
}

#[tokio::test]
async fn pages_expose_linked_instagram_accounts() {
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let http = reqwest::Client::new();
    let user = fake.issue_user_token();
    let accounts = |fields: Option<&'static str>| {
        let mut req = http
            .get(format!("{}/me/accounts", fake.graph_url()))
            .query(&[("access_token", user.as_str())]);
        if let Some(fields) = fields {
            req = req.query(&[("fields", fields)]);
        }
        req.send()
    };

    let (_, body) = json_of(
        accounts(Some(
            "id,name,access_token,category,instagram_business_account{id,username,name,profile_picture_url}",
        ))
        .await
        .unwrap(),
    )
    .await;
    let ig = &body["data"][0]["instagram_business_account"];
    assert_eq!(ig["id"], IG);
    assert_eq!(ig["username"], "acme.shoes");
    assert_eq!(ig["name"], "Acme Shoes");
    assert!(ig["profile_picture_url"].as_str().unwrap().starts_with("http://"));
    assert_eq!(body["data"][0]["access_token"], "page-token-101");
    assert!(body["data"][1].get("instagram_business_account").is_none());
    assert!(body["data"][0].get("tasks").is_none());

    // Just the id when asked without sub-fields; untouched otherwise.
    let (_, body) = json_of(accounts(Some("id,instagram_business_account")).await.unwrap()).await;
    assert_eq!(body["data"][0]["instagram_business_account"], json!({ "id": IG }));
    let (_, body) = json_of(accounts(Some("id,name")).await.unwrap()).await;
    assert_eq!(body["data"][0], json!({ "id": "101", "name": "Acme Shoes" }));
    let (_, body) = json_of(accounts(None).await.unwrap()).await;
    assert!(body["data"][0].get("instagram_business_account").is_none());
    assert!(body["data"][0]["tasks"].is_array());

    // The Page node expands it too.
    let (_, page) = json_of(
        http.get(format!("{}/101", fake.graph_url()))
            .query(&[
                ("fields", "name,instagram_business_account{username}"),
                ("access_token", "page-token-101"),
            ])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        page["instagram_business_account"],
        json!({ "id": IG, "username": "acme.shoes" })
    );

    // The Instagram account node and the customer profile.
    let get = |path: String, token: &'static str, fields: &'static str| {
        http.get(format!("{}{path}", fake.graph_url()))
            .query(&[("fields", fields), ("access_token", token)])
            .send()
    };
    let (status, node) = json_of(
        get(
            format!("/{IG}"),
            "page-token-101",
            "id,username,name,profile_picture_url",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(node["username"], "acme.shoes");
    let (status, body) = json_of(get(format!("/{IG}"), "page-token-102", "id,username").await.unwrap()).await;
    assert_eq!((status, body["error"]["error_subcode"].as_u64()), (400, Some(33)));
    let (status, profile) = json_of(
        get(format!("/{NORA}"), "page-token-101", "name,username,profile_pic")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(profile["name"], "Nora Lee");
    assert_eq!(profile["username"], "nora.lee");
    assert_eq!(profile["id"], NORA);
    let avatar = http
        .get(profile["profile_pic"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(avatar.contains(">NL<"));
    let (status, _) = json_of(get(format!("/{NORA}"), "page-token-102", "name").await.unwrap()).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn instagram_messages_sends_echoes_and_windows() {
    let (fake, hooks) = fake_with_receiver().await;
    let http = reqwest::Client::new();
    let base = fake.base_url();

    // Nora writes: signed webhook to …/instagram, Instagram shape.
    let (status, answer) = json_of(
        http.post(format!("{base}/_fake/instagram/message"))
            .json(&json!({ "ig_id": IG, "igsid": NORA, "text": "Do you ship to Canada?" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, answer["status"].as_u64()), (200, Some(200)));
    let mid = answer["mid"].as_str().unwrap().to_owned();
    let got = hooks.wait("instagram", 1).await;
    assert!(got[0].signed_with("fake-app-secret"));
    assert!(hooks.on("messenger").is_empty());
    let v = got[0].json();
    assert_eq!(v["object"], "instagram");
    assert_eq!(v["entry"][0]["id"], IG);
    assert!(v["entry"][0]["time"].is_i64());
    let e = event_of(&v);
    assert_eq!(e["sender"]["id"], NORA);
    assert_eq!(e["recipient"]["id"], IG);
    assert_eq!(e["message"]["mid"], mid.as_str());
    assert_eq!(e["message"]["text"], "Do you ship to Canada?");

    // The app answers with the Page token: Messenger-shaped answer, IG echo.
    let send = |path: &str, body: Value| {
        http.post(format!("{}{path}", fake.graph_url()))
            .query(&[("access_token", "page-token-101")])
            .json(&body)
            .send()
    };
    let (status, sent) = json_of(
        send(
            "/101/messages",
            json!({ "recipient": { "id": NORA }, "messaging_type": "RESPONSE", "message": { "text": "Yes, we do!" } }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["recipient_id"], NORA);
    let out_mid = sent["message_id"].as_str().unwrap().to_owned();
    let echo = hooks
        .wait_for("instagram", |v| event_of(v)["message"]["is_echo"] == true)
        .await
        .unwrap();
    assert_eq!(echo["entry"][0]["id"], IG);
    assert_eq!(event_of(&echo)["sender"]["id"], IG);
    assert_eq!(event_of(&echo)["recipient"]["id"], NORA);
    assert_eq!(event_of(&echo)["message"]["mid"], out_mid.as_str());
    assert_eq!(event_of(&echo)["message"]["text"], "Yes, we do!");
    assert!(
        hooks.on("messenger").is_empty(),
        "no Messenger echo for Instagram sends"
    );

    let ig_sent = fake.instagram_sent();
    assert_eq!(ig_sent.len(), 1);
    assert_eq!(ig_sent[0].platform, Platform::Instagram);
    assert_eq!(ig_sent[0].instagram_id.as_deref(), Some(IG));
    assert_eq!(ig_sent[0].text(), Some("Yes, we do!"));
    let listed = get_json(&http, format!("{base}/_fake/instagram/sent")).await;
    assert_eq!(listed[0]["platform"], "instagram");
    let all = get_json(&http, format!("{base}/_fake/sent")).await;
    assert_eq!(all[0]["platform"], "instagram");

    // /me/messages and /{ig-id}/messages reach the same account.
    let files = file_server(vec![("/y.png", "image/png", media::png_picture("y"))]).await;
    let body = json!({ "recipient": { "id": NORA }, "message": { "attachment": { "type": "image", "payload": { "url": format!("{files}/y.png") } } } });
    assert_eq!(send("/me/messages", body.clone()).await.unwrap().status(), 200);
    assert_eq!(send(&format!("/{IG}/messages"), body).await.unwrap().status(), 200);
    assert_eq!(fake.instagram_sent().len(), 3);

    // Omar never wrote: outside the window, tag or not.
    let to_omar = |tag: bool| {
        let mut body = json!({ "recipient": { "id": OMAR }, "message": { "text": "hi" } });
        if tag {
            body["messaging_type"] = json!("MESSAGE_TAG");
            body["tag"] = json!("HUMAN_AGENT");
        }
        send("/101/messages", body)
    };
    let (status, body) = json_of(to_omar(false).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 10);
    assert_eq!(body["error"]["error_subcode"], 2_534_022);
    assert_eq!(body["error"]["type"], "OAuthException");
    assert_eq!(
        json_of(to_omar(true).await.unwrap()).await.1["error"]["error_subcode"],
        2_534_022
    );

    // 30 hours ago: only HUMAN_AGENT passes.
    let (status, _) = json_of(
        http.post(format!("{base}/_fake/instagram/windows/{OMAR}"))
            .json(&json!({ "hoursSinceLastMessage": 30 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(json_of(to_omar(false).await.unwrap()).await.1["error"]["code"], 10);
    assert_eq!(to_omar(true).await.unwrap().status(), 200);
    // Eight days ago: nothing passes.
    fake.set_instagram_window(OMAR, Some(8.0 * 24.0));
    assert_eq!(to_omar(true).await.unwrap().status(), 400);
    http.post(format!("{base}/_fake/instagram/windows/{OMAR}/open"))
        .send()
        .await
        .unwrap();
    assert_eq!(to_omar(false).await.unwrap().status(), 200);
    http.post(format!("{base}/_fake/instagram/windows/{OMAR}/close"))
        .send()
        .await
        .unwrap();
    assert_eq!(to_omar(true).await.unwrap().status(), 400);
    // Writing reopens it.
    fake.instagram_text(IG, OMAR, "hello?").await;
    assert_eq!(to_omar(false).await.unwrap().status(), 200);

    // Messenger customers of the page still go through Messenger.
    let (status, sent) = json_of(
        send(
            "/101/messages",
            json!({ "recipient": { "id": "7001001" }, "message": { "text": "fb" } }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(sent["message_id"].as_str().unwrap().starts_with("m_"));
    assert_eq!(fake.sent().last().unwrap().platform, Platform::Messenger);
}

#[tokio::test]
async fn instagram_control_events() {
    let (fake, hooks) = fake_with_receiver().await;
    let http = reqwest::Client::new();
    let base = fake.base_url();
    let post = |path: &str, body: Value| http.post(format!("{base}{path}")).json(&body).send();

    let cases = [
        json!({ "igId": IG, "igsid": NORA, "attachment": { "type": "image", "url": "https://cdn.test/p.jpg" } }),
        json!({ "ig_id": IG, "igsid": NORA, "text": "love it", "story_reply": { "id": "st_1", "url": "https://cdn.test/story" } }),
        json!({ "ig_id": IG, "igsid": NORA, "story_mention_url": "https://cdn.test/mention" }),
        json!({ "ig_id": IG, "igsid": NORA, "text": "this one", "reply_to": "mid.prev" }),
        json!({ "ig_id": IG, "igsid": NORA, "reaction": { "mid": "mid.out", "emoji": "\u{2764}\u{FE0F}" } }),
        json!({ "ig_id": IG, "igsid": NORA, "reaction": { "mid": "mid.out", "action": "unreact" } }),
        json!({ "ig_id": IG, "igsid": NORA, "unsupported": true }),
    ];
    for case in &cases {
        let (status, answer) = json_of(post("/_fake/instagram/message", case.clone()).await.unwrap()).await;
        assert_eq!((status, answer["status"].as_u64()), (200, Some(200)), "{case}");
    }
    let (status, _) = json_of(
        post(
            "/_fake/instagram/read",
            json!({ "ig_id": IG, "igsid": NORA, "mid": "mid.out" }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let got = hooks.wait("instagram", cases.len() + 1).await;
    let events: Vec<Value> = got.iter().map(|h| event_of(&h.json()).clone()).collect();
    assert_eq!(
        events[0]["message"]["attachments"][0],
        json!({ "type": "image", "payload": { "url": "https://cdn.test/p.jpg" } })
    );
    assert_eq!(
        events[1]["message"]["reply_to"]["story"],
        json!({ "url": "https://cdn.test/story", "id": "st_1" })
    );
    assert_eq!(events[2]["message"]["attachments"][0]["type"], "story_mention");
    assert_eq!(events[3]["message"]["reply_to"], json!({ "mid": "mid.prev" }));
    assert_eq!(
        events[4]["reaction"],
        json!({ "mid": "mid.out", "action": "react", "reaction": "love", "emoji": "\u{2764}\u{FE0F}" })
    );
    assert_eq!(events[5]["reaction"], json!({ "mid": "mid.out", "action": "unreact" }));
    assert_eq!(events[6]["message"]["is_unsupported"], true);
    assert_eq!(events[7]["read"], json!({ "mid": "mid.out" }));
    assert!(got.iter().all(|h| h.signed_with("fake-app-secret")));

    let (status, _) = json_of(
        post(
            "/_fake/instagram/message",
            json!({ "ig_id": "nope", "igsid": NORA, "text": "x" }),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = json_of(
        post("/_fake/instagram/message", json!({ "ig_id": IG, "igsid": NORA }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    // A new IGSID gets a profile; accounts and webhook URL routes.
    fake.instagram_text(IG, "9109999", "first time").await;
    let accounts = get_json(&http, format!("{base}/_fake/instagram/accounts")).await;
    assert_eq!(accounts["accounts"][0]["pageId"], "101");
    let customers = accounts["accounts"][0]["customers"].as_array().unwrap();
    assert!(customers.iter().any(|c| c["igsid"] == "9109999"));
    assert!(
        customers
            .iter()
            .any(|c| c["igsid"] == OMAR && c["hoursSinceLastMessage"].is_null())
    );
    let (status, _) = json_of(
        http.get(format!("{}/9109999", fake.graph_url()))
            .query(&[("access_token", "page-token-101")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = json_of(
        post("/_fake/instagram/webhook-url", json!({ "url": "http://127.0.0.1:9/x" }))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let delivery = fake.instagram_read(IG, NORA, "m").await;
    assert!(delivery.status.is_none());

    fake.reset();
    assert!(fake.instagram_sent().is_empty());
    let accounts = get_json(&http, format!("{base}/_fake/instagram/accounts")).await;
    assert_eq!(accounts["accounts"][0]["customers"].as_array().unwrap().len(), 2);
    assert_eq!(accounts["webhookUrl"], "http://127.0.0.1:9/x");
}

#[tokio::test]
async fn instagram_sends_fetch_attachment_urls() {
    let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.unwrap();
    let clip = b"\0\0\0\x18ftypisom fake clip".to_vec();
    let files = file_server(vec![("/clip.mp4", "video/mp4", clip.clone())]).await;
    fake.set_instagram_window(NORA, Some(1.0));
    let http = reqwest::Client::new();
    let send = |url: String| {
        http.post(format!("{}/{IG}/messages", fake.graph_url()))
            .query(&[("access_token", "page-token-101")])
            .json(&json!({
                "recipient": { "id": NORA },
                "message": { "attachment": { "type": "video", "payload": { "url": url, "is_reusable": true } } },
            }))
            .send()
    };

    let (status, body) = json_of(send(format!("{files}/clip.mp4")).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let sent = fake.instagram_sent();
    assert_eq!(sent.len(), 1);
    let attachment = sent[0].attachment.clone().unwrap();
    assert_eq!(
        (attachment.kind.as_str(), attachment.source.as_str()),
        ("video", "link")
    );
    assert_eq!(attachment.content_type, "video/mp4");
    assert_eq!(attachment.size, clip.len() as u64);
    assert_eq!(attachment.sha256, sha256_hex(&clip));
    let listed = get_json(&http, format!("{}/_fake/instagram/sent", fake.base_url())).await;
    assert_eq!(listed[0]["attachment"]["sha256"], sha256_hex(&clip));

    let (status, body) = json_of(send(format!("{files}/gone.mp4")).await.unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(
        (body["error"]["code"].as_u64(), body["error"]["error_subcode"].as_u64()),
        (Some(100), Some(2_018_008))
    );
    assert_eq!(fake.instagram_sent().len(), 1);
}
