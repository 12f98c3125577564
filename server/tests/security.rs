//! Login throttling and the cross-site request guard, over HTTP.
#![allow(clippy::unwrap_used)]

mod support;

use reqwest::StatusCode;
use support::{Backend, TestApp};

#[tokio::test]
async fn repeated_failed_logins_are_throttled() {
    let app = TestApp::spawn_with(Backend::Sqlite, |c| c.login_attempts_per_minute = 3).await;
    app.signup("Acme", "owner@acme.test").await;
    let attempt = || async { app.login("owner@acme.test", "guess-guess").await.status() };
    for _ in 0..3 {
        assert_eq!(attempt().await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(attempt().await, StatusCode::TOO_MANY_REQUESTS);
    // Even the right password waits until the minute is over.
    let right = app.login("owner@acme.test", "password123").await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (token, _) = app.signup("Acme", "owner@acme.test").await;
    let forged = app
        .http
        .post(app.url("/api/auth/logout"))
        .header("origin", "https://evil.example")
        .header("cookie", format!("messio_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&token, "/api/auth/me").await.status(),
        StatusCode::OK,
        "the session survived"
    );
    let same_site = app
        .http
        .post(app.url("/api/auth/logout"))
        .header("origin", app.base.clone())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::NO_CONTENT);
}
