//! Private notes over HTTP, on both backends: added at both of the brief's addresses, listed
//! oldest first, mentions kept to the organization's people, `note:added` on the socket,
//! deleted only by their author or a manager, and nothing reachable from another organization.
#![allow(clippy::unwrap_used)]

mod support;

use fake_meta::{now_ms, text_message_event};
use reqwest::StatusCode;
use serde_json::{Value, json};
use socket_client::SocketClient;
use std::time::Duration;
use support::{Backend, TestApp, error_of};

async fn notes_stay_inside_the_organization(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (owner, body) = app.signup("Acme", "owner@acme.test").await;
    let (lea, lea_token) = app.add_agent(&body, "Lea", "lea@acme.test").await;
    let owner_id = body["user"]["id"].as_i64().unwrap();
    app.connect_page(&owner, "101").await;
    app.deliver(&text_message_event(
        "101",
        "7001001",
        "m-1",
        "Where is my refund?",
        now_ms(),
    ))
    .await;
    let conversation = app.only_conversation(&owner).await;
    let (rival, rival_body) = app.signup("Rival", "owner@rival.test").await;
    let stranger = rival_body["user"]["id"].as_i64().unwrap();

    let mut socket = SocketClient::connect(&app.base, json!({ "token": lea_token }))
        .await
        .unwrap();
    socket.wait_for("session", Duration::from_secs(10)).await.unwrap();
    let response = app
        .post(
            &owner,
            &format!("/api/inbox/conversations/{conversation}/notes"),
            json!({ "content": "@Lea please check the refund", "mentions": [lea.id, stranger] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let note: Value = response.json().await.unwrap();
    assert_eq!(note["mentions"], json!([lea.id]), "a stranger named is not mentioned");
    assert_eq!(note["authorName"], body["user"]["name"]);
    let event = socket
        .wait_for("note:added", Duration::from_secs(10))
        .await
        .unwrap()
        .payload;
    assert_eq!(event["conversationId"], conversation);
    assert_eq!(event["mentionedUsers"], json!([lea.id]));
    assert_eq!(event["note"]["id"], note["id"]);

    let response = app
        .post(
            &lea_token,
            "/api/inbox/notes",
            json!({ "conversationId": conversation, "content": "On it." }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let reply: Value = response.json().await.unwrap();
    let listed: Value = app
        .get(&owner, &format!("/api/inbox/conversations/{conversation}/notes"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[1]["body"], "On it.");
    // Notes are not messages: the thread (what the customer sees) has none of them.
    assert_eq!(app.messages(&owner, conversation).await.len(), 1);

    let (status, message) = error_of(
        app.post(
            &owner,
            "/api/inbox/notes",
            json!({ "conversationId": conversation, "content": "  " }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "the note is empty")
    );
    let (status, _) = error_of(
        app.post(
            &rival,
            &format!("/api/inbox/conversations/{conversation}/notes"),
            json!({ "content": "sneaky" }),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get(&rival, &format!("/api/inbox/conversations/{conversation}/notes"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // `@Lea` in the text mentions her too; the author never mentions themselves.
    let named: Value = app
        .post(
            &owner,
            &format!("/api/inbox/conversations/{conversation}/notes"),
            json!({ "content": "thanks @lea!", "mentions": [owner_id] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(named["mentions"], json!([lea.id]));
    app.delete(&owner, &format!("/api/inbox/notes/{}", named["id"])).await;

    // Lea's mentions: unread until she reads it; nobody else's to read.
    let unread: Value = app
        .get(&lea_token, "/api/inbox/mentions?unreadOnly=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread.as_array().unwrap().len(), 1);
    assert_eq!(unread[0]["note"]["id"], note["id"]);
    assert_eq!(unread[0]["readAt"], Value::Null);
    let mention_path = format!("/api/inbox/mentions/{}/read", note["id"]);
    assert_eq!(
        app.post(&rival, &mention_path, json!({})).await.status(),
        StatusCode::NOT_FOUND
    );
    let read: Value = app
        .post(&lea_token, &mention_path, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(read["readAt"].is_i64(), "{read}");
    let unread: Value = app
        .get(&lea_token, "/api/inbox/mentions?unreadOnly=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unread, json!([]));
    let all: Value = app.get(&lea_token, "/api/inbox/mentions").await.json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);

    // Lea may delete her own note, not the owner's; the owner may delete any.
    let (status, _) = error_of(
        app.delete(&lea_token, &format!("/api/inbox/notes/{}", note["id"]))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&rival, &format!("/api/inbox/notes/{}", note["id"]))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&lea_token, &format!("/api/inbox/notes/{}", reply["id"]))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.delete(&owner, &format!("/api/inbox/notes/{}", note["id"]))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let listed: Value = app
        .get(&owner, &format!("/api/inbox/conversations/{conversation}/notes"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!([]));
}

on_both_backends!(notes_stay_inside_the_organization);
