//! The REST API as a client sees it: accounts, tenant isolation, replies through the
//! Send API and what happens when Meta refuses them, and the Facebook login flow.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{now_ms, text_message_event};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{Backend, TestApp};

/// An organization with page 101 connected and one customer conversation.
async fn inbox_with_conversation(app: &TestApp, org: &str, email: &str) -> (String, i64) {
    let (token, _) = app.signup(org, email).await;
    app.connect_page(&token, "101").await;
    let payload = text_message_event("101", "7001001", &format!("m_{org}"), "Where is my parcel?", now_ms());
    assert_eq!(app.deliver(&payload).await.status(), StatusCode::OK);
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    (token, conversation)
}

async fn signup_login_and_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, body) = app.signup("Acme", "Owner@Acme.test").await;
    assert_eq!(body["user"]["role"], "owner");
    assert_eq!(body["organization"]["name"], "Acme");
    let me: Value = app.get(&token, "/api/auth/me").await.json().await.unwrap();
    assert_eq!(me["user"]["email"], "owner@acme.test");

    let login = app.login("owner@acme.test", "password123").await;
    assert_eq!(login.status(), StatusCode::OK);
    let wrong = app.login("owner@acme.test", "nope-nope").await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let again = app
        .http
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "organization": "Other", "name": "X", "email": "OWNER@acme.test", "password": "password123" }))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["error"]["code"], "conflict");
    let bad_json = app
        .http
        .post(app.url("/api/auth/signup"))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(bad_json.json::<Value>().await.unwrap()["error"]["code"], "bad_request");
    let wrong_shape = app
        .http
        .post(app.url("/api/auth/signup"))
        .json(&json!({ "organization": 5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_shape.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let anonymous = app.http.get(app.url("/api/inbox/conversations")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let logout = app
        .http
        .post(app.url("/api/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get(&token, "/api/auth/me").await.status(), StatusCode::UNAUTHORIZED);
}

async fn other_organizations_get_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, conversation) = inbox_with_conversation(&app, "Acme", "owner@acme.test").await;
    let (stranger, _) = app.signup("Rival", "owner@rival.test").await;
    let message = app.messages(&owner, conversation).await[0]["id"].as_i64().unwrap();
    let channel = app
        .get(&owner, "/api/inbox/channels")
        .await
        .json::<Value>()
        .await
        .unwrap()[0]["id"]
        .as_i64()
        .unwrap();

    for path in [
        format!("/api/inbox/conversations/{conversation}"),
        format!("/api/inbox/messages/{conversation}"),
        format!("/api/inbox/channels/{channel}/health"),
    ] {
        assert_eq!(
            app.get(&stranger, &path).await.status(),
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    assert_eq!(
        app.patch(
            &stranger,
            &format!("/api/inbox/conversations/{conversation}/status"),
            json!({ "status": "resolved" })
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.patch(
            &stranger,
            &format!("/api/inbox/conversations/{conversation}/assign"),
            json!({ "assigneeId": null })
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.patch(
            &stranger,
            &format!("/api/inbox/conversations/{conversation}/read"),
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(
            &stranger,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "hi" })
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post(&stranger, &format!("/api/inbox/messages/{message}/retry"), json!({}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let delete = app
        .http
        .delete(app.url(&format!("/api/inbox/channels/{channel}")))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    assert!(app.conversations(&stranger).await.is_empty());
    assert!(
        app.get(&stranger, "/api/inbox/channels")
            .await
            .json::<Vec<Value>>()
            .await
            .unwrap()
            .is_empty()
    );
    // And the owner's data is untouched.
    let detail: Value = app
        .get(&owner, &format!("/api/inbox/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["conversation"]["status"], "new");
}

async fn agents_may_not_manage_channels(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, body) = app.signup("Acme", "owner@acme.test").await;
    let (agent, agent_token) = app.add_agent(&body, "Agent A", "agent@acme.test").await;
    assert_eq!(agent.role, app::model::Role::Agent);
    let agent_token = agent_token.as_str();
    let page_token = app.fake.page_token("101").unwrap();
    let refused = app
        .post(
            agent_token,
            "/api/inbox/channels/social",
            json!({ "platform": "messenger", "pageId": "101", "accessToken": page_token }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(app.fake.subscriptions().is_empty());
    let channel = app.connect_page(&owner, "101").await;
    let delete = app
        .http
        .delete(app.url(&format!("/api/inbox/channels/{}", channel["id"])))
        .bearer_auth(agent_token)
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
}

async fn expired_token_flags_the_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, conversation) = inbox_with_conversation(&app, "Acme", "owner@acme.test").await;
    app.fake.expire_page_token("101");
    let sent = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "Checking now" }),
        )
        .await;
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let id = sent.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let failed = app.wait_for_status(&token, conversation, id, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("Reconnect"), "{failed}");
    let channels: Vec<Value> = app.get(&token, "/api/inbox/channels").await.json().await.unwrap();
    assert_eq!(channels[0]["status"], "needs_reconnect");
    // While the channel needs reconnecting, replies are refused with an explanation.
    let blocked = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "again" }),
        )
        .await;
    assert_eq!(blocked.status(), StatusCode::CONFLICT);
    // Reconnecting with a fresh token brings it back, and the failed reply can be retried.
    let user_token = app.fake.issue_user_token();
    let accounts: Value = app
        .http
        .get(format!(
            "{}/me/accounts?access_token={user_token}",
            app.fake.graph_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = accounts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "101")
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let reconnect = app
        .post(
            &token,
            "/api/inbox/channels/social",
            json!({ "platform": "messenger", "pageId": "101", "accessToken": fresh }),
        )
        .await;
    assert_eq!(reconnect.status(), StatusCode::CREATED);
    let channels: Vec<Value> = app.get(&token, "/api/inbox/channels").await.json().await.unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(channels[0]["status"], "active");
    assert_eq!(
        app.post(&token, &format!("/api/inbox/messages/{id}/retry"), json!({}))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    app.wait_for_status(&token, conversation, id, "sent").await;
}

async fn outside_the_window_needs_the_human_agent_tag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    app.connect_page(&token, "101").await;
    let two_days_ago = now_ms() - 2 * 24 * 60 * 60 * 1000;
    assert_eq!(
        app.deliver(&text_message_event("101", "7001002", "m_old", "Hello?", two_days_ago))
            .await
            .status(),
        StatusCode::OK
    );
    let conversation = app.conversations(&token).await[0]["id"].as_i64().unwrap();
    let detail: Value = app
        .get(&token, &format!("/api/inbox/conversations/{conversation}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(detail["window"]["human_agent_only"].is_object(), "{detail}");
    let untagged = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "Sorry for the wait" }),
        )
        .await;
    assert_eq!(untagged.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(untagged.text().await.unwrap().contains("HUMAN_AGENT"));
    let tagged = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "Sorry for the wait", "tag": "HUMAN_AGENT" }),
        )
        .await;
    assert_eq!(tagged.status(), StatusCode::ACCEPTED);
    app.eventually("the tagged reply to reach Meta", || async {
        !app.fake.sent().is_empty()
    })
    .await;
    let sent = &app.fake.sent()[0];
    assert_eq!(sent.messaging_type(), Some("MESSAGE_TAG"));
    assert_eq!(sent.tag(), Some("HUMAN_AGENT"));
}

async fn meta_refusing_outside_the_window_is_shown(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, conversation) = inbox_with_conversation(&app, "Acme", "owner@acme.test").await;
    app.fake.mark_outside_window("7001001");
    let sent = app
        .post(
            &token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation, "content": "hello" }),
        )
        .await;
    let id = sent.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let failed = app.wait_for_status(&token, conversation, id, "failed").await;
    assert!(failed["error"].as_str().unwrap().contains("24 hours"), "{failed}");
    let channels: Vec<Value> = app.get(&token, "/api/inbox/channels").await.json().await.unwrap();
    assert_eq!(
        channels[0]["status"], "active",
        "a window refusal is not a token problem"
    );
}

async fn conversation_status_assignment_and_filters(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, conversation) = inbox_with_conversation(&app, "Acme", "owner@acme.test").await;
    let me: Value = app.get(&token, "/api/auth/me").await.json().await.unwrap();
    let my_id = me["user"]["id"].as_i64().unwrap();
    let assigned = app
        .patch(
            &token,
            &format!("/api/inbox/conversations/{conversation}/assign"),
            json!({ "assigneeId": my_id }),
        )
        .await;
    assert_eq!(assigned.status(), StatusCode::OK);
    let mine = app.conversations_where(&token, "view=mine").await;
    assert_eq!(mine.len(), 1);
    let unassigned = app.conversations_where(&token, "view=unassigned").await;
    assert!(unassigned.is_empty());
    let resolved = app
        .patch(
            &token,
            &format!("/api/inbox/conversations/{conversation}/status"),
            json!({ "status": "resolved" }),
        )
        .await;
    assert_eq!(resolved.json::<Value>().await.unwrap()["status"], "resolved");
    let open = app.conversations_where(&token, "status=new").await;
    assert!(open.is_empty());
    let bad = app
        .patch(
            &token,
            &format!("/api/inbox/conversations/{conversation}/status"),
            json!({ "status": "archived" }),
        )
        .await;
    assert!(bad.status().is_client_error());
    let bad_filter = app.get(&token, "/api/inbox/conversations?status=archived").await;
    assert_eq!(bad_filter.status(), StatusCode::BAD_REQUEST);
    let lines: Vec<String> = app
        .messages(&token, conversation)
        .await
        .iter()
        .filter(|m| m["direction"] == "system")
        .map(|m| m["body"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("resolved"));
}

async fn facebook_login_connects_picked_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, body) = app.signup("Acme", "owner@acme.test").await;
    let login = app.login("owner@acme.test", "password123").await;
    let cookie_token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let cookie = format!("messio_session={cookie_token}");
    // 1. Our start route sends the browser to the Facebook dialog.
    let start = app
        .http
        .get(app.url("/connect/facebook"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let dialog = start.headers()["location"].to_str().unwrap().to_string();
    assert!(dialog.starts_with(&app.fake.dialog_url()), "{dialog}");
    // 2. The fake dialog's "Continue" link leads back to our callback with a code.
    let page = app.http.get(&dialog).send().await.unwrap().text().await.unwrap();
    let href = page
        .split("id=\"fake-fb-continue\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let callback = if href.starts_with("http") {
        href
    } else {
        page.split("href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
    };
    let picked = app.http.get(&callback).send().await.unwrap();
    assert_eq!(picked.status(), StatusCode::SEE_OTHER);
    let location = picked.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/settings/channels/facebook?pick="), "{location}");
    let pick = location.split("pick=").nth(1).unwrap();
    // 3. The user picks a page; it is subscribed and stored with its token encrypted.
    let user: app::model::User = serde_json::from_value(body["user"].clone()).unwrap();
    let gateway = &app.state.services.gateway;
    let offered = gateway.facebook_candidates(&user, pick).await.unwrap();
    assert_eq!(
        offered.iter().map(|p| (p.key(), p.name.as_str())).collect::<Vec<_>>(),
        vec![
            ("messenger:101".to_string(), "Acme Shoes"),
            ("messenger:102".to_string(), "Acme Support"),
            ("instagram:17841400000000101".to_string(), "@acme.shoes"),
            ("whatsapp:501".to_string(), "Acme Shoes"),
            ("whatsapp:502".to_string(), "Acme Support"),
        ],
        "pages, the Instagram account linked to one, and the business's WhatsApp numbers"
    );
    let keys = ["102", "instagram:17841400000000101", "whatsapp:501"].map(String::from);
    let channels = gateway.connect_facebook_pages(&user, pick, &keys).await.unwrap();
    assert_eq!(
        channels
            .iter()
            .map(|c| (c.kind, c.parent_account_id.as_deref()))
            .collect::<Vec<_>>(),
        vec![
            (app::model::ChannelKind::Messenger, None),
            (app::model::ChannelKind::Instagram, Some("101")),
            (app::model::ChannelKind::WhatsApp, Some("401")),
        ]
    );
    assert_eq!(channels[0].name, "Acme Support");
    let mut subscribed = app.fake.subscriptions();
    subscribed.sort();
    assert_eq!(subscribed, vec!["101".to_string(), "102".to_string()]);
    assert_eq!(app.fake.whatsapp_subscriptions(), vec!["401".to_string()]);
    let again = gateway.facebook_candidates(&user, pick).await.unwrap();
    assert_eq!(again.iter().filter(|c| c.connected).count(), 3);
    let record = app
        .state
        .services
        .store
        .channel(user.organization_id, channels[0].id)
        .await
        .unwrap();
    assert!(
        !record.credentials.contains("page-token"),
        "page tokens are encrypted at rest"
    );
    // WhatsApp numbers keep the login's token: exchanged for a long-lived one first.
    let number = app
        .state
        .services
        .store
        .channel(user.organization_id, channels[2].id)
        .await
        .unwrap();
    let credentials: Value = serde_json::from_str(&app.state.secrets.open(&number.credentials).unwrap()).unwrap();
    let number_token = credentials["access_token"].as_str().unwrap();
    assert!(app.fake.is_long_lived(number_token), "{credentials}");
    // A pick cannot be used by another organization.
    let (_, rival) = app.signup("Rival", "owner@rival.test").await;
    let rival: app::model::User = serde_json::from_value(rival["user"].clone()).unwrap();
    assert!(gateway.facebook_candidates(&rival, pick).await.is_err());
    // Disconnect unsubscribes the page (the Instagram account's page stays subscribed).
    gateway.disconnect(&user, channels[0].id).await.unwrap();
    assert_eq!(app.fake.subscriptions(), vec!["101".to_string()]);
}

/// API clients get the JSON error shape for paths and methods the API does not have.
async fn unknown_api_paths_answer_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    for path in ["/api/nothing-here", "/api/inbox/conversations/1/nothing", "/api"] {
        let response = app.get(&token, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found", "{path}");
    }
    let wrong_method = app
        .http
        .delete(app.url("/api/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = wrong_method.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    // The routes that exist still answer.
    assert_eq!(app.get(&token, "/api/auth/me").await.status(), StatusCode::OK);
}

async fn responses_are_compressed_for_browsers_that_accept_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    for (encoding, path) in [("gzip", "/api/auth/me"), ("br", "/api/auth/me"), ("gzip", "/login")] {
        let response = app
            .http
            .get(app.url(path))
            .bearer_auth(&token)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers().get("content-encoding").map(|v| v.to_str().unwrap()),
            Some(encoding),
            "{path} with {encoding}"
        );
    }
    let plain = app.get(&token, "/api/auth/me").await;
    assert!(plain.headers().get("content-encoding").is_none(), "only when asked");
    let me: Value = plain.json().await.unwrap();
    assert_eq!(me["user"]["email"], "owner@acme.test");
}

on_both_backends!(
    responses_are_compressed_for_browsers_that_accept_it,
    unknown_api_paths_answer_json,
    signup_login_and_errors,
    other_organizations_get_404,
    agents_may_not_manage_channels,
    expired_token_flags_the_channel,
    outside_the_window_needs_the_human_agent_tag,
    meta_refusing_outside_the_window_is_shown,
    conversation_status_assignment_and_filters,
    facebook_login_connects_picked_pages,
);
