//! The WhatsApp side of the fake against itself: a reqwest client plays the
//! app, a small receiver checks the signed webhooks.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::{Value, json};

use super::test_support::{Receiver, fake_with_receiver, file_server, json_of, sha256_hex};
use super::*;

const SECRET: &str = "fake-app-secret";
const WA_TOKEN: &str = "wa-token-401";
const MARIA: &str = "15550001111";

struct App {
    fake: FakeMeta,
    hooks: Receiver,
    http: reqwest::Client,
}

impl App {
    async fn new() -> App {
        let (fake, hooks) = fake_with_receiver().await;
        App {
            fake,
            hooks,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.fake.graph_url())
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        json_of(self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap()).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        json_of(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn control(&self, path: &str, body: Value) -> (u16, Value) {
        json_of(
            self.http
                .post(format!("{}{path}", self.fake.base_url()))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    async fn control_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.fake.base_url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn send_text(&self, token: &str, to: &str, text: &str) -> (u16, Value) {
        self.post(
            "/501/messages",
            token,
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": { "body": text } }),
        )
        .await
    }
}

fn order_update(params: &[&str]) -> Value {
    let parameters: Vec<Value> = params.iter().map(|p| json!({ "type": "text", "text": p })).collect();
    json!({
        "messaging_product": "whatsapp",
        "to": MARIA,
        "type": "template",
        "template": {
            "name": "order_update",
            "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": parameters }],
        },
    })
}

fn status_of(hook: &Value) -> &Value {
    &hook["entry"][0]["changes"][0]["value"]["statuses"][0]
}

#[tokio::test]
async fn discovery_and_waba_subscriptions() {
    let app = App::new().await;
    let user = app.fake.issue_user_token();

    let (status, body) = app.get("/me/businesses", &user).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"], json!([{ "id": "301", "name": "Acme Group" }]));
    let (_, body) = app.get("/me/businesses", WA_TOKEN).await;
    assert_eq!(body["data"][0]["id"], "301");
    let (status, body) = app.get("/me/businesses", "page-token-101").await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(100)));

    let (status, body) = app.get("/301/owned_whatsapp_business_accounts", &user).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"],
        json!([{ "id": "401", "name": "Acme WhatsApp", "currency": "USD", "timezone_id": "1" }])
    );
    let (_, body) = app.get("/401/phone_numbers", WA_TOKEN).await;
    assert_eq!(
        body["data"][0],
        json!({ "verified_name": "Acme Shoes", "display_phone_number": "+1 555-010-0501", "id": "501", "quality_rating": "GREEN" })
    );
    assert_eq!(body["data"][1]["verified_name"], "Acme Support");
    let (_, phone) = app.get("/502?fields=display_phone_number,verified_name", &user).await;
    assert_eq!(
        phone,
        json!({ "display_phone_number": "+1 555-010-0502", "verified_name": "Acme Support", "id": "502" })
    );
    let (_, waba) = app.get("/401", WA_TOKEN).await;
    assert_eq!(waba, json!({ "id": "401", "name": "Acme WhatsApp" }));
    let (_, business) = app.get("/301", &user).await;
    assert_eq!(business["name"], "Acme Group");

    // Tokens: query parameter works like the header; a page token sees nothing.
    let (status, _) = json_of(
        app.http
            .get(app.url("/401/phone_numbers"))
            .query(&[("access_token", WA_TOKEN)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = app.get("/401/phone_numbers", "page-token-101").await;
    assert_eq!((status, body["error"]["error_subcode"].as_u64()), (400, Some(33)));
    let (status, body) = app.get("/401/phone_numbers", "nope").await;
    assert_eq!((status, body["error"]["code"].as_u64()), (401, Some(190)));

    // Subscribe, list, unsubscribe.
    let (status, body) = app.post("/401/subscribed_apps", WA_TOKEN, json!({})).await;
    assert_eq!((status, body), (200, json!({ "success": true })));
    assert_eq!(app.fake.whatsapp_subscriptions(), vec!["401".to_owned()]);
    let (_, listed) = app.get("/401/subscribed_apps", WA_TOKEN).await;
    assert_eq!(listed["data"][0]["whatsapp_business_api_data"]["id"], "1234567890");
    let subs = app.control_get("/_fake/whatsapp/subscriptions").await;
    assert_eq!(subs[0]["wabaId"], "401");
    let (status, _) = json_of(
        app.http
            .delete(app.url("/401/subscribed_apps"))
            .bearer_auth(WA_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(app.fake.whatsapp_subscriptions().is_empty());
    // Pages' subscriptions are still the Messenger ones.
    let (status, _) = json_of(
        app.http
            .post(app.url("/101/subscribed_apps"))
            .query(&[("subscribed_fields", "messages"), ("access_token", "page-token-101")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(app.fake.subscriptions(), vec!["101".to_owned()]);
}

#[tokio::test]
async fn customer_writes_app_replies_statuses_follow() {
    let app = App::new().await;

    // Maria writes; the webhook goes to …/whatsapp, signed, Cloud API shaped.
    let (status, answer) = app
        .control(
            "/_fake/whatsapp/message",
            json!({ "phone_number_id": "501", "from": MARIA, "text": "¿Tienen talla 38?" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["status"], 200);
    let inbound_id = answer["id"].as_str().unwrap().to_owned();
    let hooks = app.hooks.wait("whatsapp", 1).await;
    assert!(hooks[0].signed_with(SECRET));
    assert!(app.hooks.on("messenger").is_empty());
    let v = hooks[0].json();
    assert_eq!(v["object"], "whatsapp_business_account");
    assert_eq!(v["entry"][0]["id"], "401");
    let value = &v["entry"][0]["changes"][0]["value"];
    assert_eq!(v["entry"][0]["changes"][0]["field"], "messages");
    assert_eq!(
        value["metadata"],
        json!({ "display_phone_number": "15550100501", "phone_number_id": "501" })
    );
    assert_eq!(
        value["contacts"][0],
        json!({ "profile": { "name": "Maria Garcia" }, "wa_id": MARIA })
    );
    let message = &value["messages"][0];
    assert_eq!(message["id"], inbound_id.as_str());
    assert_eq!(message["type"], "text");
    assert_eq!(message["text"]["body"], "¿Tienen talla 38?");
    let ts: i64 = message["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((ts - now_secs()).abs() < 5, "timestamp is in seconds");

    // The app answers (in the window), quoting her message.
    let (status, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": "+1 555-000-1111", "context": { "message_id": inbound_id }, "text": { "body": "Sí, la tenemos" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(
        body["contacts"][0],
        json!({ "input": "+1 555-000-1111", "wa_id": MARIA })
    );
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    assert!(wamid.starts_with("wamid."));
    assert!(body["messages"][0].get("message_status").is_none());

    let sent = app
        .hooks
        .wait_for("whatsapp", |v| status_of(v)["status"] == "sent")
        .await
        .unwrap();
    let st = status_of(&sent);
    assert_eq!(st["id"], wamid.as_str());
    assert_eq!(st["recipient_id"], MARIA);
    assert_eq!(
        st["pricing"],
        json!({ "billable": true, "pricing_model": "CBP", "category": "service" })
    );
    assert_eq!(st["conversation"]["origin"]["type"], "service");
    assert!(st["conversation"]["expiration_timestamp"].is_string());

    let record = app.fake.whatsapp_sent();
    assert_eq!(record.len(), 1);
    assert_eq!(record[0].text(), Some("Sí, la tenemos"));
    assert_eq!(record[0].context_message_id(), Some(inbound_id.as_str()));
    assert_eq!(record[0].status, "sent");
    let listed = app.control_get("/_fake/whatsapp/sent").await;
    assert_eq!(listed[0]["wamid"], wamid.as_str());
    assert_eq!(listed[0]["phone_number_id"], "501");

    // Delivered and read only through the control API.
    let (status, _) = app
        .control(
            "/_fake/whatsapp/status",
            json!({ "phone_number_id": "501", "message_id": wamid, "status": "delivered" }),
        )
        .await;
    assert_eq!(status, 200);
    let delivered = app
        .hooks
        .wait_for("whatsapp", |v| status_of(v)["status"] == "delivered")
        .await
        .unwrap();
    assert_eq!(
        status_of(&delivered)["conversation"]["id"],
        st["conversation"]["id"],
        "one conversation"
    );
    let delivery = app.fake.whatsapp_status("501", &wamid, "read", None).await.unwrap();
    assert_eq!(delivery.status, Some(200));
    let read = app
        .hooks
        .wait_for("whatsapp", |v| status_of(v)["status"] == "read")
        .await
        .unwrap();
    assert!(status_of(&read).get("pricing").is_none());
    assert_eq!(app.fake.whatsapp_sent()[0].status, "read");
    let (status, _) = app
        .control(
            "/_fake/whatsapp/status",
            json!({ "phone_number_id": "501", "message_id": "wamid.unknown", "status": "read" }),
        )
        .await;
    assert_eq!(status, 404);

    // Mark as read.
    let (status, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "status": "read", "message_id": inbound_id }),
        )
        .await;
    assert_eq!((status, body), (200, json!({ "success": true })));
}

#[tokio::test]
async fn cloud_api_errors() {
    let app = App::new().await;
    app.fake.open_whatsapp_window(MARIA, None);

    // 190 with HTTP 401: unknown and expired tokens.
    let (status, body) = app.send_text("bogus", MARIA, "x").await;
    assert_eq!((status, body["error"]["code"].as_u64()), (401, Some(190)));
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());

    // Bad parameters.
    let (status, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "to": MARIA, "text": { "body": "x" } }),
        )
        .await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(100)));
    let (_, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "text": { "body": "x" } }),
        )
        .await;
    assert_eq!(body["error"]["message"], "(#100) The parameter to is required.");
    let (_, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": MARIA, "type": "text", "text": {} }),
        )
        .await;
    assert_eq!(body["error"]["code"], 131_008);
    assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");
    assert!(
        body["error"]["error_data"]["details"]
            .as_str()
            .unwrap()
            .contains("text['body']")
    );
    let (_, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": MARIA, "type": "image", "image": { "id": "999" } }),
        )
        .await;
    assert_eq!(body["error"]["code"], 131_009);
    let (_, body) = app.send_text(WA_TOKEN, "not-a-number", "x").await;
    assert_eq!(body["error"]["code"], 131_009);
    let (status, body) = app.send_text(WA_TOKEN, "15559998888", "x").await;
    assert_eq!((status, body["error"]["code"].as_u64()), (400, Some(100)));

    // Templates: unknown / rejected → 132001, wrong count → 132000.
    let mut unknown = order_update(&["Maria", "#1"]);
    unknown["template"]["name"] = json!("nope");
    let (_, body) = app.post("/501/messages", WA_TOKEN, unknown).await;
    assert_eq!(body["error"]["code"], 132_001);
    assert_eq!(
        body["error"]["message"],
        "(#132001) Template name does not exist in the translation"
    );
    assert_eq!(
        body["error"]["error_data"]["details"],
        "template name (nope) does not exist in en_US"
    );
    let mut rejected = order_update(&["x"]);
    rejected["template"]["name"] = json!("old_promo");
    let (_, body) = app.post("/501/messages", WA_TOKEN, rejected).await;
    assert_eq!(body["error"]["code"], 132_001);
    let (_, body) = app.post("/501/messages", WA_TOKEN, order_update(&["Maria"])).await;
    assert_eq!(body["error"]["code"], 132_000);
    assert_eq!(
        body["error"]["error_data"]["details"],
        "body: number of localizable_params (1) does not match the expected number of params (2)"
    );

    // 131047, webhook mode (default): 200, then a signed `failed` status.
    app.fake.close_whatsapp_window(MARIA, None);
    let (status, body) = app.send_text(WA_TOKEN, MARIA, "late reply").await;
    assert_eq!(status, 200);
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let failed = app
        .hooks
        .wait_for("whatsapp", |v| status_of(v)["status"] == "failed")
        .await
        .unwrap();
    let st = status_of(&failed);
    assert_eq!(st["id"], wamid.as_str());
    assert_eq!(st["errors"][0]["code"], 131_047);
    assert_eq!(st["errors"][0]["title"], "Re-engagement message");
    assert_eq!(st["errors"][0]["message"], "Re-engagement message");
    assert_eq!(
        st["errors"][0]["error_data"]["details"],
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number."
    );
    assert!(app.hooks.on("whatsapp").iter().all(|h| h.signed_with(SECRET)));
    assert_eq!(app.fake.whatsapp_sent().last().unwrap().status, "failed");

    // Templates pass outside the window, and say `accepted`.
    let (status, body) = app
        .post("/501/messages", WA_TOKEN, order_update(&["Maria", "#1001"]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"][0]["message_status"], "accepted");
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let sent = app
        .hooks
        .wait_for("whatsapp", |v| status_of(v)["id"] == wamid.as_str())
        .await
        .unwrap();
    assert_eq!(status_of(&sent)["pricing"]["category"], "utility");

    // 131047, sync mode: 400 with the Cloud API error object.
    let (status, _) = app
        .control("/_fake/whatsapp/window-errors", json!({ "mode": "sync" }))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app.send_text(WA_TOKEN, MARIA, "late reply").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 131_047);
    assert_eq!(body["error"]["message"], "(#131047) Re-engagement message");
    assert_eq!(body["error"]["error_data"]["messaging_product"], "whatsapp");

    // Reopened by the control API, or by her writing.
    let (status, _) = app
        .control(&format!("/_fake/whatsapp/windows/{MARIA}/open"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.send_text(WA_TOKEN, MARIA, "ok now").await.0, 200);
    app.control(&format!("/_fake/whatsapp/windows/{MARIA}/close"), json!({}))
        .await;
    assert_eq!(app.send_text(WA_TOKEN, MARIA, "closed").await.0, 400);
    app.fake.whatsapp_text("501", MARIA, "hola").await;
    assert_eq!(app.send_text(WA_TOKEN, MARIA, "open again").await.0, 200);
    // …only with the number she wrote to.
    let (_, body) = app
        .post(
            "/502/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": MARIA, "text": { "body": "from support" } }),
        )
        .await;
    assert_eq!(body["error"]["code"], 131_047);
    app.fake.set_whatsapp_window_errors(WindowErrorMode::Webhook);

    // Expired WABA token: 190/463 (401); a fresh token replaces it.
    let (status, body) = app
        .control("/_fake/whatsapp/tokens/expire", json!({ "token": WA_TOKEN }))
        .await;
    assert_eq!((status, body["expired"].clone()), (200, json!([WA_TOKEN])));
    let (status, body) = app.send_text(WA_TOKEN, MARIA, "x").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], 190);
    assert_eq!(body["error"]["error_subcode"], 463);
    let fresh = app.fake.whatsapp_token("401").unwrap();
    assert_eq!(fresh, "wa-token-401-2");
    assert_eq!(app.send_text(&fresh, MARIA, "x").await.0, 200);

    // User tokens work too, until expired.
    let user = app.fake.issue_user_token();
    assert_eq!(app.send_text(&user, MARIA, "x").await.0, 200);
    let expired = app.fake.expire_whatsapp_token(None);
    assert!(expired.contains(&user) && expired.contains(&fresh));
    let (status, body) = app.send_text(&user, MARIA, "x").await;
    assert_eq!((status, body["error"]["code"].as_u64()), (401, Some(190)));
    let (status, _) = app.get("/me/businesses", &user).await;
    assert_eq!(status, 401);
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "fakeMetaBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").bytes(),
        );
    }
    if let Some((filename, mime, bytes)) = file {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn media_upload_retrieve_download_delete() {
    let app = App::new().await;
    let upload = |token: &'static str,
                  fields: Vec<(&'static str, &'static str)>,
                  file: Option<(&'static str, &'static str, &'static [u8])>| {
        let (content_type, body) = multipart(&fields, file);
        app.http
            .post(app.url("/501/media"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let pdf: &'static [u8] = b"%PDF-1.4 fake invoice";
    let (status, body) = json_of(
        upload(
            WA_TOKEN,
            vec![("messaging_product", "whatsapp"), ("type", "application/pdf")],
            Some(("invoice.pdf", "application/pdf", pdf)),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let media_id = body["id"].as_str().unwrap().to_owned();

    // Errors: missing messaging_product, missing file, unsupported type, bad token.
    let (_, body) = json_of(
        upload(
            WA_TOKEN,
            vec![("type", "application/pdf")],
            Some(("a.pdf", "application/pdf", pdf)),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["code"], 100);
    let (_, body) = json_of(
        upload(
            WA_TOKEN,
            vec![("messaging_product", "whatsapp"), ("type", "application/pdf")],
            None,
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["message"], "(#100) The parameter file is required.");
    let (_, body) = json_of(
        upload(
            WA_TOKEN,
            vec![("messaging_product", "whatsapp"), ("type", "application/x-msdownload")],
            Some(("a.exe", "application/x-msdownload", b"MZ")),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(body["error"]["code"], 131_053);
    let (status, _) = json_of(
        upload(
            "bogus",
            vec![("messaging_product", "whatsapp")],
            Some(("a.pdf", "application/pdf", pdf)),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, 401);

    // Metadata, then the download, which needs the token.
    let (status, meta) = app.get(&format!("/{media_id}"), WA_TOKEN).await;
    assert_eq!(status, 200);
    assert_eq!(meta["messaging_product"], "whatsapp");
    assert_eq!(meta["mime_type"], "application/pdf");
    assert_eq!(meta["file_size"], pdf.len());
    assert_eq!(meta["id"], media_id.as_str());
    use sha2::Digest as _;
    assert_eq!(meta["sha256"], hex::encode(sha2::Sha256::digest(pdf)));
    let url = meta["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!(
        "{}/whatsapp_business/attachments/?mid={media_id}",
        app.fake.base_url()
    )));
    let res = app.http.get(&url).bearer_auth(WA_TOKEN).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf);
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        app.http.get(&url).bearer_auth("bogus").send().await.unwrap().status(),
        401
    );
    let other = url.replace(&media_id, "123");
    assert_eq!(
        app.http
            .get(&other)
            .bearer_auth(WA_TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Sending it by id works; the app's upload is listed.
    app.fake.open_whatsapp_window(MARIA, None);
    let (status, _) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": MARIA, "type": "document", "document": { "id": media_id, "filename": "invoice.pdf", "caption": "Your invoice" } }),
        )
        .await;
    assert_eq!(status, 200);
    let listed = app.control_get("/_fake/whatsapp/media").await;
    assert_eq!(listed[0]["id"], media_id.as_str());
    assert_eq!(listed[0]["uploaded"], true);

    // Delete: gone from metadata and download.
    let (status, body) = json_of(
        app.http
            .delete(app.url(&format!("/{media_id}")))
            .bearer_auth(WA_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, json!({ "success": true })));
    let (status, body) = app.get(&format!("/{media_id}"), WA_TOKEN).await;
    assert_eq!((status, body["error"]["error_subcode"].as_u64()), (400, Some(33)));
    assert_eq!(
        app.http.get(&url).bearer_auth(WA_TOKEN).send().await.unwrap().status(),
        404
    );

    // A customer's image: real PNG bytes, the webhook's media id resolves.
    let inbound = app
        .fake
        .whatsapp_message(WhatsAppMessageRequest {
            phone_number_id: "501".into(),
            from: MARIA.into(),
            kind: Some("image".into()),
            caption: Some("this one".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let image_id = inbound.media_id.clone().unwrap();
    let hook = app
        .hooks
        .wait_for("whatsapp", |v| {
            v["entry"][0]["changes"][0]["value"]["messages"][0]["type"] == "image"
        })
        .await
        .unwrap();
    let image = &hook["entry"][0]["changes"][0]["value"]["messages"][0]["image"];
    assert_eq!(image["id"], image_id.as_str());
    assert_eq!(image["caption"], "this one");
    assert_eq!(image["mime_type"], "image/png");
    let (_, meta) = app.get(&format!("/{image_id}"), &app.fake.issue_user_token()).await;
    let bytes = app
        .http
        .get(meta["url"].as_str().unwrap())
        .bearer_auth(WA_TOKEN)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    use base64::Engine as _;
    assert_eq!(
        image["sha256"],
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes))
    );
    assert_eq!(app.fake.whatsapp_media_bytes(&image_id).unwrap(), bytes.to_vec());
}

#[tokio::test]
async fn templates_create_validate_page_review() {
    let app = App::new().await;
    let create = |body: Value| app.post("/401/message_templates", WA_TOKEN, body);
    let valid = json!({
        "name": "welcome_back",
        "language": "en_US",
        "category": "MARKETING",
        "components": [
            { "type": "HEADER", "format": "TEXT", "text": "Hi {{1}}", "example": { "header_text": ["Maria"] } },
            { "type": "BODY", "text": "We missed you, {{1}}! Here is {{2}} off.", "example": { "body_text": [["Maria", "10%"]] } },
            { "type": "FOOTER", "text": "Acme Shoes" },
            { "type": "BUTTONS", "buttons": [
                { "type": "QUICK_REPLY", "text": "Stop" },
                { "type": "URL", "text": "Shop", "url": "https://acme.example/shop" },
                { "type": "PHONE_NUMBER", "text": "Call us", "phone_number": "+15550100501" },
            ] },
        ],
    });
    let (status, body) = create(valid.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "PENDING");
    assert_eq!(body["category"], "MARKETING");
    let id = body["id"].as_str().unwrap().to_owned();

    // Validation, as documented.
    let (status, body) = create(valid.clone()).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 100);
    assert_eq!(body["error"]["error_subcode"], 2_388_024);
    assert_eq!(
        body["error"]["error_user_title"],
        "Content in this language already exists"
    );
    let mut bad_name = valid.clone();
    bad_name["name"] = json!("Welcome Back");
    assert_eq!(create(bad_name).await.1["error"]["code"], 100);
    let mut no_example = valid.clone();
    no_example["name"] = json!("no_example");
    no_example["components"][1] = json!({ "type": "BODY", "text": "Hi {{1}}" });
    let (_, body) = create(no_example).await;
    assert_eq!(body["error"]["error_subcode"], 2_388_043);
    let mut long_body = valid.clone();
    long_body["name"] = json!("long_body");
    long_body["components"] = json!([{ "type": "BODY", "text": "x".repeat(1025) }]);
    assert_eq!(create(long_body).await.1["error"]["code"], 100);
    let mut no_body = valid.clone();
    no_body["name"] = json!("no_body");
    no_body["components"] = json!([{ "type": "FOOTER", "text": "x" }]);
    assert_eq!(create(no_body).await.1["error"]["code"], 100);
    let mut bad_category = valid.clone();
    bad_category["name"] = json!("bad_category");
    bad_category["category"] = json!("PROMO");
    assert_eq!(create(bad_category).await.1["error"]["code"], 100);
    let mut other_language = valid.clone();
    other_language["language"] = json!("es");
    assert_eq!(create(other_language).await.0, 200);

    // Listing: seeds first, cursor paging, filters, fields.
    let (_, page1) = app.get("/401/message_templates?limit=2", WA_TOKEN).await;
    let names: Vec<&str> = page1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["order_update", "spring_sale"]);
    assert_eq!(page1["data"][0]["components"][0]["type"], "BODY");
    assert!(page1["paging"]["cursors"]["before"].is_string());
    let next = page1["paging"]["next"].as_str().unwrap().to_owned();
    let (_, page2) = json_of(app.http.get(&next).send().await.unwrap()).await;
    let names: Vec<&str> = page2["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["old_promo", "welcome_back"]);
    assert_eq!(page2["data"][0]["rejected_reason"], "INVALID_FORMAT");
    assert!(page2["paging"]["previous"].is_string());
    let after = page2["paging"]["cursors"]["after"].as_str().unwrap();
    let (_, page3) = app
        .get(&format!("/401/message_templates?limit=2&after={after}"), WA_TOKEN)
        .await;
    assert_eq!(page3["data"].as_array().unwrap().len(), 1);
    assert!(page3["paging"].get("next").is_none());
    let (_, approved) = app
        .get("/401/message_templates?status=APPROVED&fields=name,status", WA_TOKEN)
        .await;
    assert_eq!(
        approved["data"],
        json!([
            { "name": "order_update", "status": "APPROVED", "id": approved["data"][0]["id"] },
            { "name": "spring_sale", "status": "APPROVED", "id": approved["data"][1]["id"] },
        ])
    );
    let (_, by_name) = app.get("/401/message_templates?name=welcome", WA_TOKEN).await;
    assert_eq!(by_name["data"].as_array().unwrap().len(), 2);
    let (status, template) = app.get(&format!("/{id}"), WA_TOKEN).await;
    assert_eq!(status, 200);
    assert_eq!(template["name"], "welcome_back");
    assert_eq!(template["status"], "PENDING");

    // Review through the control API → signed status-update webhook.
    let (status, answer) = app
        .control(
            &format!("/_fake/whatsapp/templates/{id}/review"),
            json!({ "status": "REJECTED", "reason": "INVALID_FORMAT" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["template"]["status"], "REJECTED");
    let hook = app
        .hooks
        .wait_for("whatsapp", |v| {
            v["entry"][0]["changes"][0]["field"] == "message_template_status_update"
        })
        .await
        .unwrap();
    assert!(app.hooks.on("whatsapp").iter().all(|h| h.signed_with(SECRET)));
    assert_eq!(hook["object"], "whatsapp_business_account");
    assert_eq!(hook["entry"][0]["id"], "401");
    let value = &hook["entry"][0]["changes"][0]["value"];
    assert_eq!(value["event"], "REJECTED");
    assert_eq!(value["message_template_id"].as_u64().unwrap().to_string(), id);
    assert_eq!(value["message_template_name"], "welcome_back");
    assert_eq!(value["message_template_language"], "en_US");
    assert_eq!(value["reason"], "INVALID_FORMAT");
    let (_, template) = app.get(&format!("/{id}"), WA_TOKEN).await;
    assert_eq!(template["rejected_reason"], "INVALID_FORMAT");
    let (template, delivery) = app.fake.review_template(&id, "APPROVED", None).await.unwrap();
    assert_eq!((template.status.as_str(), delivery.status), ("APPROVED", Some(200)));

    // Approved: it can be sent, with header and body parameters.
    app.fake.open_whatsapp_window(MARIA, None);
    let send = json!({
        "messaging_product": "whatsapp", "to": MARIA, "type": "template",
        "template": { "name": "welcome_back", "language": { "code": "en_US" }, "components": [
            { "type": "header", "parameters": [{ "type": "text", "text": "Maria" }] },
            { "type": "body", "parameters": [{ "type": "text", "text": "Maria" }, { "type": "text", "text": "15%" }] },
        ] },
    });
    assert_eq!(app.post("/501/messages", WA_TOKEN, send.clone()).await.0, 200);
    let paused = app
        .control(
            &format!("/_fake/whatsapp/templates/{id}/review"),
            json!({ "status": "PAUSED" }),
        )
        .await;
    assert_eq!(paused.0, 200);
    assert_eq!(
        app.post("/501/messages", WA_TOKEN, send).await.1["error"]["code"],
        132_015
    );
    let all = app.control_get("/_fake/whatsapp/templates").await;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id.as_str() && t["status"] == "PAUSED")
    );

    // Auto-approval after a delay.
    let (status, _) = app
        .control("/_fake/whatsapp/templates/auto-approve", json!({ "afterMs": 50 }))
        .await;
    assert_eq!(status, 200);
    let mut quick = valid.clone();
    quick["name"] = json!("quick_one");
    let (_, body) = create(quick).await;
    let quick_id = body["id"].as_str().unwrap().to_owned();
    let hook = app
        .hooks
        .wait_for("whatsapp", |v| {
            v["entry"][0]["changes"][0]["value"]["message_template_name"] == "quick_one"
        })
        .await
        .unwrap();
    assert_eq!(hook["entry"][0]["changes"][0]["value"]["event"], "APPROVED");
    assert_eq!(hook["entry"][0]["changes"][0]["value"]["reason"], "NONE");
    let (_, template) = app.get(&format!("/{quick_id}"), WA_TOKEN).await;
    assert_eq!(template["status"], "APPROVED");
    app.fake.set_template_auto_approve(None);

    // Delete by name (every language).
    let (status, body) = json_of(
        app.http
            .delete(app.url("/401/message_templates"))
            .query(&[("name", "welcome_back")])
            .bearer_auth(WA_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, body), (200, json!({ "success": true })));
    assert!(!app.fake.whatsapp_templates().iter().any(|t| t.name == "welcome_back"));
    let (status, _) = json_of(
        app.http
            .delete(app.url("/401/message_templates"))
            .query(&[("name", "welcome_back")])
            .bearer_auth(WA_TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn control_routes_and_inbound_types() {
    let app = App::new().await;
    let hooks_value = |v: &Value| v["entry"][0]["changes"][0]["value"].clone();

    // Every inbound type the control API builds.
    let cases = [
        json!({ "type": "location", "latitude": 40.4, "longitude": -3.7, "location_name": "Shop", "address": "Gran Vía 1" }),
        json!({ "emoji": "👍", "reaction_to": "wamid.OUT" }),
        json!({ "type": "reaction", "emoji": "", "reaction_to": "wamid.OUT" }),
        json!({ "type": "button", "text": "Stop promotions", "payload": "STOP", "context_id": "wamid.TPL" }),
        json!({ "type": "button_reply", "button_id": "yes", "title": "Yes" }),
        json!({ "type": "list_reply", "button_id": "row1", "title": "Size 38", "description": "EU" }),
        json!({ "type": "contacts", "contact_name": "Ana Pérez", "contact_phone": "+34 600 000 000" }),
        json!({ "type": "unsupported" }),
        json!({ "type": "document", "filename": "list.pdf", "caption": "my list" }),
        json!({ "type": "audio" }),
        json!({ "type": "video" }),
        json!({ "type": "sticker" }),
        json!({ "raw": { "from": MARIA, "id": "wamid.RAW", "timestamp": "1", "type": "order", "order": {} } }),
    ];
    for case in &cases {
        let mut body = case.clone();
        body["phone_number_id"] = json!("501");
        body["from"] = json!(MARIA);
        let (status, answer) = app.control("/_fake/whatsapp/message", body).await;
        assert_eq!(
            (status, answer["status"].as_u64()),
            (200, Some(200)),
            "{case}: {answer}"
        );
    }
    let hooks = app.hooks.wait("whatsapp", cases.len()).await;
    let messages: Vec<Value> = hooks
        .iter()
        .map(|h| hooks_value(&h.json())["messages"][0].clone())
        .collect();
    assert_eq!(messages[0]["location"]["address"], "Gran Vía 1");
    assert_eq!(
        messages[1]["reaction"],
        json!({ "message_id": "wamid.OUT", "emoji": "👍" })
    );
    assert_eq!(messages[2]["reaction"], json!({ "message_id": "wamid.OUT" }));
    assert_eq!(messages[3]["button"]["payload"], "STOP");
    assert_eq!(
        messages[3]["context"],
        json!({ "from": "15550100501", "id": "wamid.TPL" })
    );
    assert_eq!(messages[4]["interactive"]["button_reply"]["id"], "yes");
    assert_eq!(messages[5]["interactive"]["list_reply"]["description"], "EU");
    assert_eq!(messages[6]["contacts"][0]["name"]["formatted_name"], "Ana Pérez");
    assert_eq!(messages[7]["errors"][0]["code"], 131_051);
    assert_eq!(messages[8]["document"]["filename"], "list.pdf");
    assert_eq!(messages[9]["audio"]["mime_type"], "audio/ogg; codecs=opus");
    assert_eq!(messages[10]["video"]["mime_type"], "video/mp4");
    assert_eq!(messages[11]["sticker"]["mime_type"], "image/webp");
    assert_eq!(messages[12]["id"], "wamid.RAW");
    let (status, _) = app
        .control(
            "/_fake/whatsapp/message",
            json!({ "phone_number_id": "999", "from": MARIA, "text": "x" }),
        )
        .await;
    assert_eq!(status, 400);

    // A new customer becomes known (and can be answered).
    app.control(
        "/_fake/whatsapp/message",
        json!({ "phoneNumberId": "502", "from": "15557770000", "profileName": "Nadia", "text": "hi" }),
    )
    .await;
    let last = app.hooks.wait("whatsapp", cases.len() + 1).await;
    assert_eq!(
        hooks_value(&last.last().unwrap().json())["contacts"][0]["profile"]["name"],
        "Nadia"
    );
    let (status, _) = app
        .post(
            "/502/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": "15557770000", "text": { "body": "hello Nadia" } }),
        )
        .await;
    assert_eq!(status, 200);
    app.hooks
        .wait_for("whatsapp", |v| status_of(v)["recipient_id"] == "15557770000")
        .await
        .unwrap();

    // Auto-status off: no status webhook after a send.
    app.hooks.clear();
    let (status, _) = app
        .control("/_fake/whatsapp/auto-status", json!({ "enabled": false }))
        .await;
    assert_eq!(status, 200);
    let (_, body) = app.send_text(WA_TOKEN, MARIA, "quiet").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.hooks.on("whatsapp").is_empty());
    assert_eq!(app.fake.whatsapp_sent().last().unwrap().status, "accepted");
    // A failed status on request.
    let wamid = body["messages"][0]["id"].as_str().unwrap();
    app.control(
        "/_fake/whatsapp/status",
        json!({ "phone_number_id": "501", "message_id": wamid, "status": "failed", "error_code": 131_049 }),
    )
    .await;
    let failed = app.hooks.wait("whatsapp", 1).await;
    assert_eq!(status_of(&failed[0].json())["errors"][0]["code"], 131_049);

    // Accounts, webhook URL, token expiry via route.
    let accounts = app.control_get("/_fake/whatsapp/accounts").await;
    let waba = &accounts["businesses"][0]["whatsappBusinessAccounts"][0];
    assert_eq!(waba["accessToken"], WA_TOKEN);
    assert_eq!(waba["phoneNumbers"][0]["customers"][0]["waId"], MARIA);
    assert!(
        accounts["webhookUrl"]
            .as_str()
            .unwrap()
            .ends_with("/api/webhooks/whatsapp")
    );
    let (status, body) = app.control("/_fake/whatsapp/tokens/expire", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["expired"], json!([WA_TOKEN]));
    let (status, _) = app
        .control("/_fake/whatsapp/tokens/expire", json!({ "token": "never-issued" }))
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .control(
            "/_fake/whatsapp/webhook-url",
            json!({ "url": "http://127.0.0.1:9/nowhere" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.fake.whatsapp_webhook_url().as_deref(),
        Some("http://127.0.0.1:9/nowhere")
    );
    let (status, answer) = app
        .control(
            "/_fake/whatsapp/message",
            json!({ "phone_number_id": "501", "from": MARIA, "text": "lost" }),
        )
        .await;
    assert_eq!(status, 502);
    assert!(answer["error"].is_string());

    // Reset forgets sends, media, expiries and new templates; keeps wiring.
    app.fake.reset();
    assert!(app.fake.whatsapp_sent().is_empty());
    assert!(app.fake.whatsapp_media().is_empty());
    assert_eq!(app.fake.whatsapp_templates().len(), 3);
    assert_eq!(app.fake.whatsapp_token("401").as_deref(), Some(WA_TOKEN));
    assert_eq!(
        app.fake.whatsapp_webhook_url().as_deref(),
        Some("http://127.0.0.1:9/nowhere")
    );
    let accounts = app.control_get("/_fake/whatsapp/accounts").await;
    assert_eq!(accounts["autoStatus"], false);
}

#[tokio::test]
async fn webhook_urls_derive_from_the_messenger_url() {
    let fake = FakeMeta::spawn(FakeMetaConfig {
        webhook_url: Some("http://app.test/api/webhooks/messenger".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        fake.whatsapp_webhook_url().as_deref(),
        Some("http://app.test/api/webhooks/whatsapp")
    );
    assert_eq!(
        fake.instagram_webhook_url().as_deref(),
        Some("http://app.test/api/webhooks/instagram")
    );
    fake.set_instagram_webhook_url("http://other.test/ig");
    assert_eq!(fake.instagram_webhook_url().as_deref(), Some("http://other.test/ig"));
    let explicit = FakeMeta::spawn(FakeMetaConfig {
        whatsapp_webhook_url: Some("http://wa.test/hook".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(explicit.whatsapp_webhook_url().as_deref(), Some("http://wa.test/hook"));
    assert_eq!(explicit.instagram_webhook_url(), None);
}

#[tokio::test]
async fn media_sends_record_the_file() {
    let app = App::new().await;
    app.fake.open_whatsapp_window(MARIA, None);
    let png = media::png_picture("receipt");
    let (content_type, body) = multipart(
        &[("messaging_product", "whatsapp"), ("type", "image/png")],
        Some(("receipt.png", "image/png", png.as_slice())),
    );
    let (status, uploaded) = json_of(
        app.http
            .post(app.url("/501/media"))
            .bearer_auth(WA_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{uploaded}");
    let media_id = uploaded["id"].as_str().unwrap();

    // By id: the stored media object.
    let (status, body) = app
        .post(
            "/501/messages",
            WA_TOKEN,
            json!({ "messaging_product": "whatsapp", "to": MARIA, "type": "image", "image": { "id": media_id, "caption": "Your receipt" } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = app.control_get("/_fake/whatsapp/sent").await;
    assert_eq!(
        sent[0]["attachment"],
        json!({ "kind": "image", "source": "media_id", "content_type": "image/png", "size": png.len(), "sha256": sha256_hex(&png) })
    );

    // By link: downloaded; an unreachable link answers 131053.
    let pdf = b"%PDF-1.4 linked invoice".to_vec();
    let files = file_server(vec![("/invoice.pdf", "application/pdf", pdf.clone())]).await;
    let document = |link: String| json!({ "messaging_product": "whatsapp", "to": MARIA, "type": "document", "document": { "link": link, "filename": "invoice.pdf" } });
    let (status, _) = app
        .post("/501/messages", WA_TOKEN, document(format!("{files}/invoice.pdf")))
        .await;
    assert_eq!(status, 200);
    let sent = app.fake.whatsapp_sent();
    let attachment = sent[1].attachment.clone().unwrap();
    assert_eq!(
        (attachment.source.as_str(), attachment.size),
        ("link", pdf.len() as u64)
    );
    assert_eq!(attachment.sha256, sha256_hex(&pdf));
    let (status, body) = app
        .post("/501/messages", WA_TOKEN, document(format!("{files}/nope.pdf")))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 131_053);
    assert_eq!(
        body["error"]["error_data"]["details"],
        "Unable to download the media from the link"
    );
    assert_eq!(app.fake.whatsapp_sent().len(), 2);

    // Text sends carry no attachment.
    app.send_text(WA_TOKEN, MARIA, "thanks").await;
    assert!(app.fake.whatsapp_sent()[2].attachment.is_none());
}
