//! A real Messio server on a free port, on a scratch SQLite or PostgreSQL database,
//! talking to a local fake of Meta's Graph API.
#![allow(dead_code, clippy::unwrap_used)]

use app::store::testing::{ScratchDir, scratch_postgres_url};
use fake_meta::{FakeMeta, FakeMetaConfig, SIGNATURE_HEADER, encode_body, sign};
use fake_telegram::{FakeTelegram, FakeTelegramConfig};
use fake_twilio::{FakeTwilio, FakeTwilioConfig};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use server::config::{Config, MetaConfig, PlatformApis};
use server::state::AppState;
use std::net::SocketAddr;

pub const VERIFY_TOKEN: &str = "verify-me";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub http: Client,
    pub state: AppState,
    pub fake: FakeMeta,
    /// The Bot API the Telegram adapter talks to.
    pub telegram: FakeTelegram,
    /// Twilio's REST API and the carrier, for SMS channels.
    pub twilio: FakeTwilio,
    /// Kept alive: dropping it stops the outbox worker.
    _messio: server::Messio,
    _dir: ScratchDir,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn,server=info")
            .with_test_writer()
            .try_init();
        let fake = FakeMeta::spawn(FakeMetaConfig::default()).await.expect("fake Meta");
        let telegram = FakeTelegram::spawn(FakeTelegramConfig::default())
            .await
            .expect("fake Telegram");
        let twilio = FakeTwilio::spawn(FakeTwilioConfig::default())
            .await
            .expect("fake Twilio");
        let dir = ScratchDir::new("messio-server-test").expect("scratch dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("messio.db").display()),
            Backend::Postgres => scratch_postgres_url().await,
        };
        let mut config = Config {
            site_addr: addr,
            data_dir: dir.path().to_path_buf(),
            database_url,
            redis_url: None,
            secret_key: None,
            public_url: format!("http://{addr}"),
            meta: MetaConfig {
                app_id: fake.app_id(),
                app_secret: fake.app_secret(),
                verify_token: VERIFY_TOKEN.into(),
                graph_url: fake.graph_url(),
                dialog_url: fake.dialog_url(),
            },
            max_webhook_bytes: 64 * 1024,
            login_attempts_per_minute: 1000,
            platform_apis: PlatformApis {
                telegram_url: telegram.base_url(),
                twilio_url: twilio.base_url(),
                twilio_messaging_url: twilio.base_url(),
            },
            template_poll_every: std::time::Duration::from_secs(3600),
            sms_segment_warning: 3,
            presence_grace: std::time::Duration::from_secs(20),
        };
        tweak(&mut config);
        let options = leptos::config::LeptosOptions::builder()
            .output_name("messio")
            .site_addr(addr)
            .build();
        let messio = server::build(config, options).await.expect("build server");
        let state = messio.state.clone();
        let router = messio.router.clone();
        tokio::spawn(async move {
            axum::serve(server::listener(listener), router).await.expect("serve");
        });
        let base = format!("http://{addr}");
        fake.set_webhook_url(format!("{base}/api/webhooks/messenger"));
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            base,
            http,
            state,
            fake,
            telegram,
            twilio,
            _messio: messio,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Signs up a new organization; returns its bearer token and the signup answer.
    pub async fn signup(&self, org: &str, email: &str) -> (String, Value) {
        let response = self
            .http
            .post(self.url("/api/auth/signup"))
            .json(&json!({ "organization": org, "name": format!("{org} owner"), "email": email, "password": "password123" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        (body["token"].as_str().unwrap().to_string(), body)
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.http
            .post(self.url("/api/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
    }

    /// The conversation list's items for a query string such as `view=mine`.
    pub async fn conversations_where(&self, token: &str, query: &str) -> Vec<Value> {
        let body: Value = self
            .get(token, &format!("/api/inbox/conversations?{query}"))
            .await
            .json()
            .await
            .unwrap();
        body["items"].as_array().cloned().unwrap_or_default()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Adds an agent to the organization whose owner signed up with `signup` (the body
    /// `signup` returned) and logs them in: their user and session token.
    pub async fn add_agent(&self, signup: &Value, name: &str, email: &str) -> (app::model::User, String) {
        let owner: app::model::User = serde_json::from_value(signup["user"].clone()).unwrap();
        let agent = self
            .state
            .services
            .add_member(&owner, name, email, "password123", app::model::Role::Agent)
            .await
            .unwrap();
        let login: Value = self.login(email, "password123").await.json().await.unwrap();
        (agent, login["token"].as_str().unwrap().to_string())
    }

    /// `GET /api/channels/:id/health`: the channel as the check left it.
    pub async fn health(&self, token: &str, channel_id: i64) -> Value {
        self.get(token, &format!("/api/channels/{channel_id}/health"))
            .await
            .json()
            .await
            .unwrap()
    }

    /// `POST /api/inbox/messages/send` with `body`, which must be queued (202); the message.
    pub async fn send(&self, token: &str, body: Value) -> Value {
        let response = self.post(token, "/api/inbox/messages/send", body).await;
        assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
        response.json().await.unwrap()
    }

    /// The bytes served at `url`, which must answer 200.
    pub async fn bytes(&self, token: &str, url: &str) -> Vec<u8> {
        let served = self.get(token, url).await;
        assert_eq!(served.status(), reqwest::StatusCode::OK, "{url}");
        served.bytes().await.unwrap().to_vec()
    }

    pub async fn delete(&self, token: &str, path: &str) -> Response {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// The id of the organization's one conversation (fails if there is not exactly one).
    pub async fn only_conversation(&self, token: &str) -> i64 {
        let conversations = self.conversations(token).await;
        assert_eq!(conversations.len(), 1, "{conversations:?}");
        conversations[0]["id"].as_i64().unwrap()
    }

    /// `POST /api/inbox/messages/upload` with `file` (and the conversation, when given).
    pub async fn upload(
        &self,
        token: &str,
        conversation_id: Option<i64>,
        name: &str,
        mime: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let mut form = reqwest::multipart::Form::new();
        if let Some(id) = conversation_id {
            form = form.text("conversationId", id.to_string());
        }
        let form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        );
        self.http
            .post(self.url("/api/inbox/messages/upload"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Response {
        self.http
            .put(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Response {
        self.http
            .patch(self.url(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Connects one of the fake's pages by hand (`POST /api/inbox/channels/social`).
    pub async fn connect_page(&self, token: &str, page_id: &str) -> Value {
        let page_token = self.fake.page_token(page_id).expect("fake page");
        let response = self
            .post(
                token,
                "/api/inbox/channels/social",
                json!({ "platform": "messenger", "pageId": page_id, "accessToken": page_token }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// `POST /api/inbox/messages/send`: an agent's free-form reply (`tag` e.g. HUMAN_AGENT).
    pub async fn reply(&self, token: &str, conversation_id: i64, content: &str, tag: Option<&str>) -> Response {
        self.post(
            token,
            "/api/inbox/messages/send",
            json!({ "conversationId": conversation_id, "content": content, "tag": tag }),
        )
        .await
    }

    /// Sends a reply that must be accepted (202); returns the queued message's id.
    pub async fn reply_id(&self, token: &str, conversation_id: i64, content: &str) -> i64 {
        let response = self.reply(token, conversation_id, content, None).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{:?}", response.text().await);
        response.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Connects the fake's WhatsApp number by hand (`POST /api/inbox/channels/whatsapp`)
    /// with its WABA's system-user token.
    pub async fn connect_whatsapp(&self, token: &str, phone_number_id: &str, waba_id: &str) -> Value {
        let access_token = self.fake.whatsapp_token(waba_id).expect("fake WABA");
        let response = self
            .post(
                token,
                "/api/inbox/channels/whatsapp",
                json!({ "phoneNumberId": phone_number_id, "accessToken": access_token, "wabaId": waba_id }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    /// POSTs a webhook body signed with the app secret.
    pub async fn deliver(&self, payload: &Value) -> Response {
        self.deliver_to("messenger", payload).await
    }

    /// POSTs a signed webhook body to `/api/webhooks/{route}`.
    pub async fn deliver_to(&self, route: &str, payload: &Value) -> Response {
        let body = encode_body(payload);
        self.deliver_raw_to(route, &body, Some(sign(&self.fake.app_secret(), &body)))
            .await
    }

    pub async fn deliver_raw(&self, body: &[u8], signature: Option<String>) -> Response {
        self.deliver_raw_to("messenger", body, signature).await
    }

    pub async fn deliver_raw_to(&self, route: &str, body: &[u8], signature: Option<String>) -> Response {
        let mut request = self
            .http
            .post(self.url(&format!("/api/webhooks/{route}")))
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send().await.unwrap()
    }

    pub async fn conversations(&self, token: &str) -> Vec<Value> {
        self.conversations_where(token, "").await
    }

    pub async fn messages(&self, token: &str, conversation_id: i64) -> Vec<Value> {
        let body: Value = self
            .get(token, &format!("/api/inbox/messages/{conversation_id}"))
            .await
            .json()
            .await
            .unwrap();
        body["items"].as_array().cloned().unwrap_or_default()
    }

    /// One message of a conversation, as the history endpoint returns it.
    pub async fn message(&self, token: &str, conversation_id: i64, message_id: i64) -> Value {
        self.messages(token, conversation_id)
            .await
            .into_iter()
            .find(|m| m["id"].as_i64() == Some(message_id))
            .unwrap_or(Value::Null)
    }

    /// Waits until the outbox has moved a message to `status`; returns the message.
    pub async fn wait_for_status(&self, token: &str, conversation_id: i64, message_id: i64, status: &str) -> Value {
        self.eventually(&format!("message {message_id} to be {status}"), || async {
            self.message(token, conversation_id, message_id).await["status"] == status
        })
        .await;
        self.message(token, conversation_id, message_id).await
    }

    /// Polls until `check` holds (the outbox works in the background), for up to 10 s.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        for _ in 0..200 {
            if check().await {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

/// A refusal's status and the message of our JSON error.
pub async fn error_of(response: Response) -> (reqwest::StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"]["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// Runs an async test body once per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Backend::Sqlite).await }) +
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Backend::Postgres).await }) +
        }
    };
}
