//! WhatsApp Business Platform (Cloud API) through Meta's Graph API: webhook
//! normalization, sending, media download, message templates, and finding the phone
//! numbers a Facebook-login user may connect.
//!
//! Every Cloud API call carries the token as `Authorization: Bearer …`, never in the
//! query string, so it does not end up in logs or error texts with the URL.

pub mod templates;

use super::{
    ChannelAdapter, InboundEvent, MediaFile, NormalizedEvent, Rejection, SendError, StoredCredentials,
    TemplateStatusUpdate, media_url,
};
use crate::channels::meta::webhook as meta_webhook;
use crate::channels::webhook::{Handshake, RoutedChannel, WebhookReceiver, WebhookRequest};
use crate::config::MetaConfig;
use app::model::{Attachment, AttachmentKind, ChannelKind, MessageKind, MessageStatus};
use app::store::{ChannelRecord, InboundMessage, OutboundJob, ReactionUpdate, StatusUpdate};
use app::templates::{TemplateCategory, TemplateStatus};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::time::Duration;

/// The largest file Meta accepts on WhatsApp (documents); anything bigger is refused
/// rather than buffered.
pub const MAX_MEDIA_BYTES: u64 = 100 * 1024 * 1024;
/// Templates are listed 100 at a time; 50 pages is far above Meta's per-WABA limit.
const MAX_TEMPLATE_PAGES: usize = 50;
const MAX_LIST_PAGES: usize = 20;
const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating";
const TEMPLATE_FIELDS: &str = "id,name,language,category,status,rejected_reason,components";
const OUTSIDE_WINDOW: &str = "More than 24 hours have passed since the customer's last message; \
     only an approved template can be sent (131047)";
/// Downloads of large media take longer than the client's default timeout allows.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(120);

/// What is stored (encrypted) for a connected phone number.
#[derive(Clone, Serialize, Deserialize)]
pub struct WhatsAppCredentials {
    pub access_token: String,
    pub waba_id: String,
}

impl std::fmt::Debug for WhatsAppCredentials {
    // The token must not reach logs through a `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppCredentials")
            .field("access_token", &"<redacted>")
            .field("waba_id", &self.waba_id)
            .finish()
    }
}

impl StoredCredentials for WhatsAppCredentials {
    const ACCOUNT: &'static str = "WhatsApp number";
}

/// A business phone number as `GET /{phone-number-id}` and `/{waba-id}/phone_numbers` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumberInfo {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: String,
    #[serde(default)]
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED`, `NA` or `UNKNOWN`.
    #[serde(default)]
    pub quality_rating: Option<String>,
}

/// A phone number the logged-in user may connect, with the WhatsApp Business Account it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedNumber {
    pub waba_id: String,
    pub waba_name: String,
    pub number: PhoneNumberInfo,
}

/// A message template as the Business Management API describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetaTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub category: Option<TemplateCategory>,
    pub status: TemplateStatus,
    /// `None` when Meta says `NONE`.
    pub rejected_reason: Option<String>,
    /// Meta's `components` array, as given.
    pub components: Value,
}

impl MetaTemplate {
    fn from_graph(value: &Value) -> Option<Self> {
        let id = value.get("id").and_then(str_of)?;
        let name = value.get("name").and_then(Value::as_str)?.to_string();
        let status = match value.get("status").and_then(Value::as_str) {
            Some(meta) => TemplateStatus::from_meta(meta).unwrap_or_else(|| {
                // Sendability is what matters downstream: an unknown state must not be offered to agents.
                tracing::warn!(template = %id, status = meta, "unknown WhatsApp template status; treating it as pending");
                TemplateStatus::Pending
            }),
            None => TemplateStatus::Pending,
        };
        Some(Self {
            id,
            name,
            language: value
                .get("language")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            category: value
                .get("category")
                .and_then(Value::as_str)
                .and_then(TemplateCategory::from_meta),
            status,
            rejected_reason: reason_of(value.get("rejected_reason")),
            components: value.get("components").cloned().unwrap_or_else(|| json!([])),
        })
    }
}

/// Meta's error object, as the Graph API answers with it (`{"error": {…}}`) and as
/// failed-status and unsupported-message webhooks carry it (`errors[]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct CloudError {
    code: i64,
    /// Without the `(#code) ` prefix the Cloud API puts in front of it.
    message: String,
    title: String,
    details: String,
    transient: bool,
}

impl CloudError {
    fn from_value(value: &Value) -> Self {
        if let Some(text) = value.as_str() {
            return Self {
                message: text.to_string(),
                ..Self::default()
            };
        }
        let text = |pointer: &str| text_at(value, pointer).unwrap_or_default().to_string();
        let message = text("/message");
        let message = match message.strip_prefix("(#").and_then(|rest| rest.split_once(") ")) {
            Some((_, rest)) => rest.to_string(),
            None => message,
        };
        // Webhooks put the explanation in `error_data.details` (older ones in `details`); the
        // Business Management API (templates) puts it in `error_user_msg`.
        let details = text_at(value, "/error_data/details")
            .or_else(|| text_at(value, "/details"))
            .or_else(|| text_at(value, "/error_user_msg"))
            .unwrap_or_default()
            .to_string();
        Self {
            code: value.get("code").and_then(int_of).unwrap_or_default(),
            message,
            title: text_at(value, "/title")
                .or_else(|| text_at(value, "/error_user_title"))
                .unwrap_or_default()
                .to_string(),
            details,
            transient: value.get("is_transient").and_then(Value::as_bool).unwrap_or(false),
        }
    }

    fn headline(&self) -> &str {
        [&self.message, &self.title]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(String::as_str)
            .unwrap_or("WhatsApp error")
    }

    /// "<message or title> (<code>): <details>", leaving out what Meta did not say.
    fn text(&self) -> String {
        let headline = self.headline();
        let mut text = match self.code {
            0 => headline.to_string(),
            code => format!("{headline} ({code})"),
        };
        if !self.details.is_empty() && self.details != headline {
            text.push_str(": ");
            text.push_str(&self.details);
        }
        text
    }

    /// What the inbox does about it. `http_status` is `None` for errors from webhooks.
    fn classify(&self, http_status: Option<u16>) -> SendError {
        match self.code {
            // Invalid or expired token; 102: session expired.
            190 | 102 => SendError::Auth(self.text()),
            131047 => SendError::OutsideWindow(OUTSIDE_WINDOW.into()),
            // Rate limits: app (4), Graph user/page/API (17, 32, 613), WhatsApp Business
            // Account (80007), Cloud API throughput (130429), pair rate limit (131056).
            4 | 17 | 32 | 613 | 80007 | 130429 | 131056 => SendError::Unavailable(self.text()),
            // Meta documents these as temporary (downtime, overload, service unavailable).
            1 | 2 | 131016 => SendError::Unavailable(self.text()),
            _ if self.transient || http_status.is_some_and(|s| s >= 500) => SendError::Unavailable(self.text()),
            _ => SendError::Rejected(self.text()),
        }
    }
}

/// Classifies one Meta error object; also gives failed-status webhooks their error text.
fn cloud_error(error: &Value, http_status: Option<u16>) -> SendError {
    CloudError::from_value(error).classify(http_status)
}

fn unreachable(error: reqwest::Error) -> SendError {
    // Paging URLs from Meta can carry a token; the URL stays out of the message.
    SendError::Unavailable(format!("Meta could not be reached: {}", error.without_url()))
}

/// A media upload may take longer than an API call (files up to 100 MB).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// How a job's attachment URL names media uploaded to the Cloud API (by `place_media`).
const UPLOADED_MEDIA: &str = "whatsapp-media:";

/// Bearer-token calls to the Cloud API and the WhatsApp Business Management API.
#[derive(Clone)]
pub struct CloudClient {
    http: reqwest::Client,
    config: MetaConfig,
}

impl CloudClient {
    pub fn new(config: MetaConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, config }
    }

    pub fn config(&self) -> &MetaConfig {
        &self.config
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.config.graph_url, path.trim_start_matches('/'))
    }

    async fn call(&self, request: reqwest::RequestBuilder, token: &str) -> Result<Value, SendError> {
        let response = request.bearer_auth(token).send().await.map_err(unreachable)?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(error) = body.get("error") {
            return Err(cloud_error(error, Some(status.as_u16())));
        }
        if status.is_server_error() {
            return Err(SendError::Unavailable(format!("Meta answered {status}")));
        }
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(SendError::Auth(format!("Meta answered {status}")));
        }
        if !status.is_success() {
            return Err(SendError::Rejected(format!("Meta answered {status}")));
        }
        Ok(body)
    }

    /// Every item of a Graph list (`data`), following `paging.next` up to `max_pages` pages.
    async fn collect(
        &self,
        path: &str,
        query: &[(&str, &str)],
        token: &str,
        max_pages: usize,
    ) -> Result<Vec<Value>, SendError> {
        let mut items = Vec::new();
        let mut next: Option<url::Url> = None;
        for _ in 0..max_pages {
            let request = match next.take() {
                Some(url) => self.http.get(url),
                None => self.http.get(self.url(path)).query(query),
            };
            let body = self.call(request, token).await?;
            if let Some(data) = body.get("data").and_then(Value::as_array) {
                items.extend(data.iter().cloned());
            }
            match self.next_page(&body, path, query) {
                Some(url) => next = Some(url),
                None => return Ok(items),
            }
        }
        tracing::warn!(
            path,
            max_pages,
            "stopped following Meta's paging; the list may be incomplete"
        );
        Ok(items)
    }

    /// Meta includes `paging.next` only when there is another page.
    fn next_page(&self, body: &Value, path: &str, query: &[(&str, &str)]) -> Option<url::Url> {
        let next = body.pointer("/paging/next").and_then(Value::as_str)?;
        let base = url::Url::parse(&self.config.graph_url).ok()?;
        if let Some(mut url) = url::Url::parse(next).ok().filter(|u| u.origin() == base.origin()) {
            // Meta repeats the token in `next`; ours travels in the header only.
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "access_token")
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.query_pairs_mut().clear().extend_pairs(pairs);
            return Some(url);
        }
        // A `next` on another host would take the bearer token with it: continue from the
        // cursor on our own Graph host instead.
        let after = body.pointer("/paging/cursors/after").and_then(Value::as_str)?;
        let mut url = url::Url::parse(&self.url(path)).ok()?;
        url.query_pairs_mut().extend_pairs(query).append_pair("after", after);
        Some(url)
    }

    /// Reads the phone number itself: proves the token works for it, and names it.
    pub async fn phone_number(&self, phone_number_id: &str, token: &str) -> Result<PhoneNumberInfo, SendError> {
        let body = self
            .call(
                self.http
                    .get(self.url(phone_number_id))
                    .query(&[("fields", PHONE_FIELDS)]),
                token,
            )
            .await?;
        serde_json::from_value(body)
            .map_err(|_| SendError::Rejected("Meta's answer does not describe a phone number".into()))
    }

    pub async fn waba_name(&self, waba_id: &str, token: &str) -> Result<String, SendError> {
        let body = self
            .call(self.http.get(self.url(waba_id)).query(&[("fields", "id,name")]), token)
            .await?;
        Ok(text_at(&body, "/name").unwrap_or(waba_id).to_string())
    }

    /// Makes Meta deliver the WABA's webhooks (messages, statuses, template reviews) to our app.
    pub async fn subscribe_waba(&self, waba_id: &str, token: &str) -> Result<(), SendError> {
        let body = self
            .call(self.http.post(self.url(&format!("{waba_id}/subscribed_apps"))), token)
            .await?;
        success(&body, "subscribe the WhatsApp Business Account")
    }

    pub async fn unsubscribe_waba(&self, waba_id: &str, token: &str) -> Result<(), SendError> {
        let body = self
            .call(self.http.delete(self.url(&format!("{waba_id}/subscribed_apps"))), token)
            .await?;
        success(&body, "unsubscribe the WhatsApp Business Account")
    }

    /// Every phone number of every WABA the user's businesses own (`/me/businesses` →
    /// `/{business}/owned_whatsapp_business_accounts` → `/{waba}/phone_numbers`).
    pub async fn managed_numbers(&self, user_token: &str) -> Result<Vec<ManagedNumber>, SendError> {
        let list = [("fields", "id,name"), ("limit", "100")];
        let businesses = self.collect("me/businesses", &list, user_token, MAX_LIST_PAGES).await?;
        let mut numbers: Vec<ManagedNumber> = Vec::new();
        let mut seen_wabas: Vec<String> = Vec::new();
        for business in &businesses {
            let Some(business_id) = business.get("id").and_then(str_of) else {
                continue;
            };
            let path = format!("{business_id}/owned_whatsapp_business_accounts");
            let wabas = match self.collect(&path, &list, user_token, MAX_LIST_PAGES).await {
                Ok(wabas) => wabas,
                Err(error) => {
                    skip_or_fail(error, "business", &business_id)?;
                    continue;
                }
            };
            for waba in &wabas {
                let Some(waba_id) = waba.get("id").and_then(str_of) else {
                    continue;
                };
                if seen_wabas.contains(&waba_id) {
                    continue;
                }
                seen_wabas.push(waba_id.clone());
                let waba_name = text_at(waba, "/name").unwrap_or(&waba_id).to_string();
                let path = format!("{waba_id}/phone_numbers");
                let query = [("fields", PHONE_FIELDS), ("limit", "100")];
                let phones = match self.collect(&path, &query, user_token, MAX_LIST_PAGES).await {
                    Ok(phones) => phones,
                    Err(error) => {
                        skip_or_fail(error, "WhatsApp Business Account", &waba_id)?;
                        continue;
                    }
                };
                numbers.extend(
                    phones
                        .into_iter()
                        .filter_map(|phone| serde_json::from_value::<PhoneNumberInfo>(phone).ok())
                        .map(|number| ManagedNumber {
                            waba_id: waba_id.clone(),
                            waba_name: waba_name.clone(),
                            number,
                        }),
                );
            }
        }
        Ok(numbers)
    }

    /// `POST /{phone-number-id}/messages`; returns the `wamid`.
    pub async fn send(&self, phone_number_id: &str, token: &str, body: &Value) -> Result<String, SendError> {
        let answer = self
            .call(
                self.http
                    .post(self.url(&format!("{phone_number_id}/messages")))
                    .json(body),
                token,
            )
            .await?;
        text_at(&answer, "/messages/0/id")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta accepted the message but returned no message id".into()))
    }

    /// `POST /{phone-number-id}/media` (multipart `messaging_product`, `type`, `file`);
    /// returns the media id a message can refer to for 30 days.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        token: &str,
        file: &crate::channels::OutgoingFile,
    ) -> Result<String, SendError> {
        let bytes = tokio::fs::read(&file.path)
            .await
            .map_err(|_| SendError::Rejected(format!("the attached file {} could not be read", file.name)))?;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file.name.clone())
            .mime_str(&file.mime_type)
            .map_err(|_| SendError::Rejected(format!("{} is not a media type", file.mime_type)))?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.mime_type.clone())
            .part("file", part);
        let answer = self
            .call(
                self.http
                    .post(self.url(&format!("{phone_number_id}/media")))
                    .timeout(UPLOAD_TIMEOUT)
                    .multipart(form),
                token,
            )
            .await?;
        text_at(&answer, "/id")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected("Meta accepted the file but returned no media id".into()))
    }

    /// Meta's Resumable Upload API, in one piece: opens a session on the app
    /// (`POST /{app-id}/uploads`), sends the bytes (`POST /upload:…`, `file_offset: 0`) and
    /// returns the file handle a template header's example takes.
    pub async fn upload_header_sample(
        &self,
        token: &str,
        name: &str,
        mime_type: &str,
        bytes: Vec<u8>,
    ) -> Result<String, SendError> {
        let length = bytes.len().to_string();
        let session = self
            .call(
                self.http
                    .post(self.url(&format!("{}/uploads", self.config.app_id)))
                    .query(&[
                        ("file_name", name),
                        ("file_length", length.as_str()),
                        ("file_type", mime_type),
                    ]),
                token,
            )
            .await?;
        let session_id = text_at(&session, "/id")
            .filter(|id| id.starts_with("upload:"))
            .ok_or_else(|| SendError::Rejected("Meta opened no upload session".into()))?;
        let response = self
            .http
            .post(self.url(session_id))
            .header(reqwest::header::AUTHORIZATION, format!("OAuth {token}"))
            .header("file_offset", "0")
            .timeout(UPLOAD_TIMEOUT)
            .body(bytes)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if let Some(error) = answer.get("error") {
            return Err(cloud_error(error, Some(status.as_u16())));
        }
        text_at(&answer, "/h")
            .map(str::to_string)
            .ok_or_else(|| SendError::Rejected(format!("Meta answered {status} without a file handle")))
    }

    /// Submits a template for review. Meta answers with id, status and category only; the rest
    /// is what was submitted.
    pub async fn create_template(
        &self,
        waba_id: &str,
        token: &str,
        name: &str,
        language: &str,
        category: TemplateCategory,
        components: &Value,
    ) -> Result<MetaTemplate, SendError> {
        let request = json!({
            "name": name,
            "language": language,
            "category": category.meta(),
            "components": components,
        });
        let answer = self
            .call(
                self.http
                    .post(self.url(&format!("{waba_id}/message_templates")))
                    .json(&request),
                token,
            )
            .await?;
        let id = answer
            .get("id")
            .and_then(str_of)
            .ok_or_else(|| SendError::Rejected("Meta accepted the template but returned no id".into()))?;
        Ok(MetaTemplate {
            id,
            name: name.to_string(),
            language: language.to_string(),
            category: text_at(&answer, "/category")
                .and_then(TemplateCategory::from_meta)
                .or(Some(category)),
            status: text_at(&answer, "/status")
                .and_then(TemplateStatus::from_meta)
                .unwrap_or(TemplateStatus::Pending),
            rejected_reason: None,
            components: components.clone(),
        })
    }

    pub async fn template(&self, template_id: &str, token: &str) -> Result<MetaTemplate, SendError> {
        let body = self
            .call(
                self.http
                    .get(self.url(template_id))
                    .query(&[("fields", TEMPLATE_FIELDS)]),
                token,
            )
            .await?;
        MetaTemplate::from_graph(&body)
            .ok_or_else(|| SendError::Rejected("Meta's answer does not describe a template".into()))
    }

    /// All templates of a WABA, every language and status.
    pub async fn templates(&self, waba_id: &str, token: &str) -> Result<Vec<MetaTemplate>, SendError> {
        let items = self
            .collect(
                &format!("{waba_id}/message_templates"),
                &[("fields", TEMPLATE_FIELDS), ("limit", "100")],
                token,
                MAX_TEMPLATE_PAGES,
            )
            .await?;
        Ok(items.iter().filter_map(MetaTemplate::from_graph).collect())
    }

    /// Deletes a template by name: Meta deletes every language of it.
    pub async fn delete_template(&self, waba_id: &str, token: &str, name: &str) -> Result<(), SendError> {
        let body = self
            .call(
                self.http
                    .delete(self.url(&format!("{waba_id}/message_templates")))
                    .query(&[("name", name)]),
                token,
            )
            .await?;
        success(&body, "delete the template")
    }

    /// Downloads a media file: `GET /{media-id}` gives a short-lived URL, which needs the
    /// same Bearer token.
    pub async fn media(&self, media_id: &str, token: &str) -> Result<MediaFile, SendError> {
        self.media_capped(media_id, token, MAX_MEDIA_BYTES).await
    }

    async fn media_capped(&self, media_id: &str, token: &str, max_bytes: u64) -> Result<MediaFile, SendError> {
        let too_large = || SendError::Rejected(format!("the media file is larger than {max_bytes} bytes"));
        let info = self.call(self.http.get(self.url(media_id)), token).await?;
        let url = text_at(&info, "/url")
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .ok_or_else(|| SendError::Rejected("Meta returned no download address for this media".into()))?;
        if info
            .get("file_size")
            .and_then(int_of)
            .is_some_and(|size| size > max_bytes as i64)
        {
            return Err(too_large());
        }
        let mut response = self
            .http
            .get(url)
            .bearer_auth(token)
            .timeout(MEDIA_TIMEOUT)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if !status.is_success() {
            let body: Value = response.json().await.unwrap_or(Value::Null);
            return Err(match body.get("error") {
                Some(error) => cloud_error(error, Some(status.as_u16())),
                None if status.is_server_error() => SendError::Unavailable(format!("Meta answered {status}")),
                None if status == reqwest::StatusCode::UNAUTHORIZED => {
                    SendError::Auth(format!("Meta refused the media download ({status})"))
                }
                None => SendError::Rejected(format!("the media file is no longer available ({status})")),
            });
        }
        if response.content_length().is_some_and(|len| len > max_bytes) {
            return Err(too_large());
        }
        let header_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if (bytes.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        let mime_type = text_at(&info, "/mime_type")
            .map(str::to_string)
            .or(header_type)
            .unwrap_or_else(|| "application/octet-stream".into());
        Ok(MediaFile { bytes, mime_type })
    }
}

/// A failure listing one business or WABA only hides that one, unless the token itself is bad
/// or Meta is unreachable.
fn skip_or_fail(error: SendError, what: &str, id: &str) -> Result<(), SendError> {
    match error {
        SendError::Rejected(reason) | SendError::OutsideWindow(reason) => {
            tracing::warn!(%reason, %id, "skipping a {what} Meta would not list");
            Ok(())
        }
        other => Err(other),
    }
}

fn success(body: &Value, action: &str) -> Result<(), SendError> {
    match body.get("success").and_then(Value::as_bool) {
        Some(false) => Err(SendError::Rejected(format!("Meta did not {action}"))),
        _ => Ok(()),
    }
}

pub struct WhatsAppAdapter {
    pub cloud: CloudClient,
}

impl WhatsAppAdapter {
    pub fn new(config: MetaConfig) -> Self {
        Self {
            cloud: CloudClient::new(config),
        }
    }

    /// The Cloud API body for one queued reply: a template when the payload names one, else
    /// the first linkable attachment, else text.
    pub fn send_body(job: &OutboundJob) -> Value {
        let mut body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": job.recipient_external_id,
        });
        let template = job
            .payload
            .as_ref()
            .and_then(|p| p.get("template"))
            .filter(|t| t.is_object());
        let media = job.message.attachments.iter().find_map(|a| {
            let reference = match a.url.strip_prefix(UPLOADED_MEDIA) {
                Some(id) => json!({ "id": id }),
                None if a.url.starts_with("https://") || a.url.starts_with("http://") => json!({ "link": a.url }),
                None => return None,
            };
            media_type(a.kind).map(|kind| (kind, a, reference))
        });
        if let Some(template) = template {
            body["type"] = json!("template");
            body["template"] = template.clone();
        } else if let Some((kind, attachment, mut object)) = media {
            // Audio and stickers take no caption on WhatsApp.
            if matches!(kind, "image" | "video" | "document") && !job.message.body.trim().is_empty() {
                object["caption"] = json!(job.message.body);
            }
            if kind == "document"
                && let Some(name) = &attachment.name
            {
                object["filename"] = json!(name);
            }
            body["type"] = json!(kind);
            body[kind] = object;
        } else {
            let text = &job.message.body;
            body["type"] = json!("text");
            body["text"] = json!({
                "preview_url": text.contains("http://") || text.contains("https://"),
                "body": text,
            });
        }
        if let Some(reply) = job
            .message
            .reply_to
            .as_ref()
            .map(|r| r.platform_message_id.as_str())
            .filter(|id| !id.is_empty())
        {
            body["context"] = json!({ "message_id": reply });
        }
        body
    }
}

fn media_type(kind: AttachmentKind) -> Option<&'static str> {
    match kind {
        AttachmentKind::Image => Some("image"),
        AttachmentKind::Video => Some("video"),
        AttachmentKind::Audio => Some("audio"),
        AttachmentKind::Sticker => Some("sticker"),
        AttachmentKind::File | AttachmentKind::Other => Some("document"),
        // A location's link is a map page, not a file.
        AttachmentKind::Location => None,
    }
}

/// Customer names arrive with every webhook (`contacts[].profile.name`), so the default
/// `customer_profile` (none) is kept.
/// Meta's app-level webhook: every account of the app posts to one URL.
impl WebhookReceiver for WhatsAppAdapter {
    fn handshake(&self, request: &WebhookRequest) -> Handshake {
        meta_webhook::handshake(&self.cloud.config.verify_token, request)
    }

    fn verify(&self, request: &WebhookRequest, _channel: Option<RoutedChannel<'_>>) -> Result<(), Rejection> {
        meta_webhook::verify_hub_signature(&self.cloud.config.app_secret, &request.headers, &request.body)
    }

    fn normalize(
        &self,
        request: &WebhookRequest,
        _channel: Option<RoutedChannel<'_>>,
    ) -> Result<Vec<NormalizedEvent>, Rejection> {
        normalize(&request.body)
    }
}

#[async_trait]
impl ChannelAdapter for WhatsAppAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    fn webhook(&self) -> Option<&dyn WebhookReceiver> {
        Some(self)
    }

    /// Uploads the file to the number's media store, so Meta never has to reach us for it.
    async fn place_media(
        &self,
        credentials: &str,
        job: &OutboundJob,
        file: &crate::channels::OutgoingFile,
    ) -> Result<String, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        let id = self
            .cloud
            .upload_media(&job.channel.channel.external_id, &creds.access_token, file)
            .await?;
        Ok(format!("{UPLOADED_MEDIA}{id}"))
    }

    async fn send(&self, job: &OutboundJob, credentials: &str) -> Result<String, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud
            .send(
                &job.channel.channel.external_id,
                &creds.access_token,
                &Self::send_body(job),
            )
            .await
    }

    async fn health(&self, channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud
            .phone_number(&channel.channel.external_id, &creds.access_token)
            .await
            .map(|_| ())
    }

    async fn disconnect(&self, _channel: &ChannelRecord, credentials: &str) -> Result<(), SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud.unsubscribe_waba(&creds.waba_id, &creds.access_token).await
    }

    async fn fetch_media(&self, credentials: &str, media_id: &str) -> Result<MediaFile, SendError> {
        let creds = WhatsAppCredentials::parse(credentials)?;
        self.cloud.media(media_id, &creds.access_token).await
    }
}

// ---- Webhook payloads (object "whatsapp_business_account") ----

#[derive(Debug, Deserialize)]
struct WebhookBody {
    object: String,
    #[serde(default)]
    entry: Vec<Value>,
}

/// Ids arrive as strings, template ids as numbers.
fn str_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Timestamps and sizes arrive as strings of digits, sometimes as numbers.
fn int_of(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
}

fn float_of(value: &Value) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
        .filter(|f| f.is_finite())
}

fn text_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn reason_of(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("NONE"))
        .map(str::to_string)
}

/// Turns one webhook delivery into normalized events, in the order Meta listed them.
pub fn normalize(body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
    let parsed: WebhookBody = serde_json::from_slice(body).map_err(|e| Rejection::Malformed(e.to_string()))?;
    if parsed.object != "whatsapp_business_account" {
        return Err(Rejection::Malformed(format!(
            "expected object \"whatsapp_business_account\", got \"{}\"",
            parsed.object
        )));
    }
    let mut events = Vec::new();
    for entry in &parsed.entry {
        let waba_id = entry.get("id").and_then(str_of).unwrap_or_default();
        for change in entry.get("changes").and_then(Value::as_array).into_iter().flatten() {
            let value = change.get("value").unwrap_or(&Value::Null);
            match change.get("field").and_then(Value::as_str) {
                Some("messages") => messages_change(value, &mut events),
                Some("message_template_status_update") => template_change(&waba_id, value, &mut events),
                other => tracing::debug!(field = ?other, "ignoring a WhatsApp webhook field"),
            }
        }
    }
    Ok(events)
}

fn messages_change(value: &Value, events: &mut Vec<NormalizedEvent>) {
    let Some(phone_number_id) = value.pointer("/metadata/phone_number_id").and_then(str_of) else {
        tracing::warn!("a WhatsApp messages webhook without metadata.phone_number_id was ignored");
        return;
    };
    let contacts: &[Value] = value
        .get("contacts")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let list = |key: &str| value.get(key).and_then(Value::as_array).into_iter().flatten();
    for message in list("messages") {
        if let Some(event) = message_event(&phone_number_id, message, contacts) {
            events.push(NormalizedEvent {
                account_id: phone_number_id.clone(),
                event,
            });
        }
    }
    for status in list("statuses") {
        if let Some(update) = status_update(status) {
            events.push(NormalizedEvent {
                account_id: phone_number_id.clone(),
                event: InboundEvent::Status(update),
            });
        }
    }
    // System- or account-level problems (no message attached): nothing to store, but worth seeing.
    for error in list("errors") {
        tracing::warn!(%phone_number_id, error = %CloudError::from_value(error).text(), "WhatsApp reported an error");
    }
}

/// The sender's WhatsApp profile name. `from` and `wa_id` may differ in formatting (`+`).
fn contact_name(contacts: &[Value], from: &str) -> Option<String> {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let wanted = digits(from);
    let name = |c: &Value| text_at(c, "/profile/name").map(str::to_string);
    let matching = contacts.iter().find(|c| {
        c.get("wa_id")
            .and_then(Value::as_str)
            .is_some_and(|id| id == from || (!wanted.is_empty() && digits(id) == wanted))
    });
    match (matching, contacts) {
        (Some(contact), _) => name(contact),
        (None, [only]) => name(only),
        _ => None,
    }
}

const KNOWN_TYPES: &[&str] = &[
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "reaction",
    "order",
    "system",
];

/// `type`, or for older payloads without it (Meta's location example has none), the key
/// that holds the content.
fn message_type(message: &Value) -> &str {
    text_at(message, "/type")
        .or_else(|| KNOWN_TYPES.iter().copied().find(|key| message.get(*key).is_some()))
        .unwrap_or("unknown")
}

fn message_event(phone_number_id: &str, m: &Value, contacts: &[Value]) -> Option<InboundEvent> {
    let Some(id) = m.get("id").and_then(str_of) else {
        tracing::warn!("a WhatsApp message without an id was ignored");
        return None;
    };
    let from = m
        .get("from")
        .and_then(str_of)
        .or_else(|| contacts.first().and_then(|c| c.get("wa_id")).and_then(str_of));
    let Some(from) = from else {
        tracing::warn!(%id, "a WhatsApp message without a sender was ignored");
        return None;
    };
    let sent_at = m
        .get("timestamp")
        .and_then(int_of)
        .map(|seconds| seconds.saturating_mul(1000))
        .unwrap_or_else(app::store::now_millis);
    let kind = message_type(m);

    if kind == "reaction"
        && let Some(target) = text_at(m, "/reaction/message_id")
    {
        return Some(InboundEvent::Reaction(ReactionUpdate {
            external_user_id: from,
            platform_message_id: id,
            target_platform_message_id: target.to_string(),
            // Meta omits the emoji (or sends it empty) when the reaction is taken back.
            emoji: text_at(m, "/reaction/emoji").map(str::to_string),
            sent_at,
        }));
    }

    let mut msg = InboundMessage {
        contact_name: contact_name(contacts, &from),
        external_user_id: from,
        platform_message_id: id,
        // A forwarded message has `context.forwarded` but no id: only replies quote one.
        reply_to_platform_id: text_at(m, "/context/id").map(str::to_string),
        sent_at,
        ..InboundMessage::default()
    };
    let handled = match kind {
        "text" => {
            msg.body = m
                .pointer("/text/body")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            msg.kind = MessageKind::Text;
            true
        }
        "image" | "video" | "audio" | "document" | "sticker" => media_message(&mut msg, phone_number_id, m, kind),
        "location" => location_message(&mut msg, m),
        "interactive" => interactive_message(&mut msg, m),
        "button" => match text_at(m, "/button/text").or_else(|| text_at(m, "/button/payload")) {
            Some(text) => {
                msg.body = text.to_string();
                msg.kind = MessageKind::Interactive;
                true
            }
            None => false,
        },
        "contacts" => contacts_message(&mut msg, m),
        _ => false,
    };
    if !handled {
        unsupported_message(&mut msg, m, kind);
    }
    Some(InboundEvent::Message(msg))
}

fn media_message(msg: &mut InboundMessage, phone_number_id: &str, m: &Value, kind: &str) -> bool {
    let media = m.get(kind).unwrap_or(&Value::Null);
    let Some(media_id) = media.get("id").and_then(str_of) else {
        return false;
    };
    let attachment_kind = match kind {
        "image" => AttachmentKind::Image,
        "video" => AttachmentKind::Video,
        // Voice notes are `audio` with `voice: true`.
        "audio" => AttachmentKind::Audio,
        "document" => AttachmentKind::File,
        _ => AttachmentKind::Sticker,
    };
    msg.attachments = vec![Attachment {
        kind: attachment_kind,
        url: media_url(ChannelKind::WhatsApp, phone_number_id, &media_id),
        name: text_at(media, "/filename").map(str::to_string),
        mime_type: text_at(media, "/mime_type").map(str::to_string),
    }];
    msg.body = media
        .get("caption")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    msg.kind = MessageKind::Media;
    true
}

fn location_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let location = m.get("location").unwrap_or(&Value::Null);
    let (Some(lat), Some(lon)) = (
        location.get("latitude").and_then(float_of),
        location.get("longitude").and_then(float_of),
    ) else {
        return false;
    };
    let label = match (text_at(location, "/name"), text_at(location, "/address")) {
        (Some(name), Some(address)) => format!("{name}, {address}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => format!("{lat}, {lon}"),
    };
    msg.attachments = vec![Attachment {
        kind: AttachmentKind::Location,
        url: format!("https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"),
        name: Some(label),
        mime_type: None,
    }];
    msg.kind = MessageKind::Location;
    true
}

fn interactive_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let interactive = m.get("interactive").unwrap_or(&Value::Null);
    let sub_type = text_at(interactive, "/type").or_else(|| {
        ["button_reply", "list_reply"]
            .into_iter()
            .find(|key| interactive.get(*key).is_some())
    });
    let body = match sub_type {
        Some("button_reply") => text_at(interactive, "/button_reply/title").map(str::to_string),
        Some("list_reply") => text_at(interactive, "/list_reply/title").map(|title| {
            match text_at(interactive, "/list_reply/description") {
                Some(description) => format!("{title}\n{description}"),
                None => title.to_string(),
            }
        }),
        _ => None,
    };
    match body {
        Some(body) => {
            msg.body = body;
            msg.kind = MessageKind::Interactive;
            true
        }
        None => false,
    }
}

fn contacts_message(msg: &mut InboundMessage, m: &Value) -> bool {
    let lines: Vec<String> = m
        .get("contacts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|contact| {
            let name = text_at(contact, "/name/formatted_name")
                .map(str::to_string)
                .or_else(|| {
                    let parts: Vec<&str> = ["/name/first_name", "/name/last_name"]
                        .into_iter()
                        .filter_map(|p| text_at(contact, p))
                        .collect();
                    (!parts.is_empty()).then(|| parts.join(" "))
                })
                .unwrap_or_else(|| "(no name)".into());
            let phones: Vec<&str> = contact
                .get("phones")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|p| text_at(p, "/phone"))
                .collect();
            if phones.is_empty() {
                format!("Shared contact: {name}")
            } else {
                format!("Shared contact: {name}, {}", phones.join(", "))
            }
        })
        .collect();
    if lines.is_empty() {
        return false;
    }
    msg.body = lines.join("\n");
    msg.kind = MessageKind::Contacts;
    true
}

/// Kept as a message of its own so agents see that the customer wrote something.
fn unsupported_message(msg: &mut InboundMessage, m: &Value, kind: &str) {
    let shown = match text_at(m, "/unsupported/type") {
        Some(inner) if kind == "unsupported" => format!("{kind}/{inner}"),
        _ => kind.to_string(),
    };
    let detail = m
        .get("errors")
        .and_then(Value::as_array)
        .and_then(|errors| errors.first())
        .map(|error| CloudError::from_value(error).headline().to_string())
        .or_else(|| text_at(m, "/system/body").map(str::to_string))
        .or_else(|| text_at(m, "/order/text").map(str::to_string));
    msg.body = match detail {
        Some(detail) => format!("Unsupported WhatsApp message (type: {shown}): {detail}"),
        None => format!("Unsupported WhatsApp message (type: {shown})"),
    };
    msg.attachments.clear();
    msg.kind = MessageKind::Unsupported;
}

fn status_update(status: &Value) -> Option<StatusUpdate> {
    let id = status.get("id").and_then(str_of)?;
    let value = status.get("status").and_then(Value::as_str).unwrap_or_default();
    let status_kind = match value {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        // A voice message that was played has been read.
        "read" | "played" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        other => {
            tracing::info!(%id, status = other, "ignoring a WhatsApp status Messio does not track");
            return None;
        }
    };
    let error = (status_kind == MessageStatus::Failed).then(|| {
        let texts: Vec<String> = status
            .get("errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|error| cloud_error(error, None).to_string())
            .collect();
        if texts.is_empty() {
            "WhatsApp could not deliver the message".to_string()
        } else {
            texts.join("; ")
        }
    });
    Some(StatusUpdate::Messages {
        platform_message_ids: vec![id],
        status: status_kind,
        error,
    })
}

fn template_change(waba_id: &str, value: &Value, events: &mut Vec<NormalizedEvent>) {
    let Some(template_id) = value.get("message_template_id").and_then(str_of) else {
        tracing::warn!(
            waba_id,
            "a template status webhook without message_template_id was ignored"
        );
        return;
    };
    let event = value.get("event").and_then(Value::as_str).unwrap_or_default();
    let Some(status) = TemplateStatus::from_meta(event) else {
        tracing::info!(waba_id, %template_id, event, "ignoring a template event that is not a status");
        return;
    };
    events.push(NormalizedEvent {
        account_id: waba_id.to_string(),
        event: InboundEvent::TemplateStatus(TemplateStatusUpdate {
            platform_template_id: template_id,
            status,
            reason: reason_of(value.get("reason")),
        }),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Channel, ChannelStatus, Direction, Message, ReplyTo};
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, Method, StatusCode, Uri};
    use axum::response::{IntoResponse, Response};
    use std::sync::{Arc, Mutex};

    const PHONE: &str = "106540352242922";
    const WABA: &str = "102290129340398";

    fn events_of(body: &Value) -> Vec<NormalizedEvent> {
        normalize(body.to_string().as_bytes()).expect("normalize")
    }

    fn only_message(body: &Value) -> InboundMessage {
        let events = events_of(body);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].account_id, PHONE);
        match &events[0].event {
            InboundEvent::Message(m) => m.clone(),
            other => panic!("not a message: {other:?}"),
        }
    }

    /// Wraps one `value` in the envelope every messages webhook shares (Meta's "messages
    /// webhook reference": object, entry[].id = WABA, changes[].field = "messages").
    fn envelope(value: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": WABA, "changes": [{ "value": value, "field": "messages" }] }]
        })
    }

    fn incoming(message: Value) -> Value {
        envelope(json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
            "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
            "messages": [message]
        }))
    }

    #[test]
    fn text_message_with_contact_name_and_time() {
        // The complete example of Meta's "messages webhook reference" (incoming text message).
        let body = json!({
          "object": "whatsapp_business_account",
          "entry": [{
              "id": "102290129340398",
              "changes": [{
                  "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
                    "contacts": [{ "profile": { "name": "Sheena Nelson" }, "wa_id": "16505551234" }],
                    "messages": [{
                        "from": "16505551234",
                        "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
                        "timestamp": "1749416383",
                        "type": "text",
                        "text": { "body": "Does it come in another color?" }
                    }]
                  },
                  "field": "messages"
              }]
          }]
        });
        let m = only_message(&body);
        assert_eq!(m.external_user_id, "16505551234");
        assert_eq!(m.contact_name.as_deref(), Some("Sheena Nelson"));
        assert_eq!(
            m.platform_message_id,
            "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
        );
        assert_eq!(m.body, "Does it come in another color?");
        assert_eq!(m.kind, MessageKind::Text);
        assert_eq!(m.sent_at, 1_749_416_383_000);
        assert_eq!(m.reply_to_platform_id, None);
    }

    #[test]
    fn media_messages_point_at_the_media_route() {
        // Image: the example of the Cloud API "Webhooks payload examples" (media messages).
        let image = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "image",
            "image": { "caption": "CAPTION", "mime_type": "image/jpeg", "sha256": "IMAGE_HASH", "id": "2754859441498128" }
        })));
        assert_eq!(image.kind, MessageKind::Media);
        assert_eq!(image.body, "CAPTION");
        assert_eq!(
            image.attachments,
            vec![Attachment {
                kind: AttachmentKind::Image,
                url: media_url(ChannelKind::WhatsApp, PHONE, "2754859441498128"),
                name: None,
                mime_type: Some("image/jpeg".into()),
            }]
        );

        // Sticker: same page, "For Stickers".
        let sticker = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "sticker",
            "sticker": { "mime_type": "image/webp", "sha256": "HASH", "id": "ID" }
        })));
        assert_eq!(sticker.attachments[0].kind, AttachmentKind::Sticker);
        assert_eq!(sticker.attachments[0].url, "/api/media/whatsapp/106540352242922/ID");
        assert_eq!(sticker.body, "");

        // Voice note: "Audio messages webhook reference" (`voice: true`, Opus in Ogg).
        let voice = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "audio",
            "audio": { "mime_type": "audio/ogg; codecs=opus", "sha256": "HASH", "id": "1003383421387256", "voice": true }
        })));
        assert_eq!(voice.attachments[0].kind, AttachmentKind::Audio);
        assert_eq!(
            voice.attachments[0].mime_type.as_deref(),
            Some("audio/ogg; codecs=opus")
        );

        // Document and video: "Document/Video messages webhook reference" syntax.
        let document = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "document",
            "document": { "caption": "Lucky Shrub Invoice", "filename": "lucky-shrub-invoice.pdf",
                          "mime_type": "application/pdf", "sha256": "HASH", "id": "1003383421387256" }
        })));
        assert_eq!(document.attachments[0].kind, AttachmentKind::File);
        assert_eq!(document.attachments[0].name.as_deref(), Some("lucky-shrub-invoice.pdf"));
        assert_eq!(document.body, "Lucky Shrub Invoice");
        let video = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1744344496", "type": "video",
            "video": { "mime_type": "video/mp4", "sha256": "HASH", "id": "1003383421387256" }
        })));
        assert_eq!(video.attachments[0].kind, AttachmentKind::Video);
    }

    #[test]
    fn location_becomes_a_map_link() {
        // "Location Messages" of the Cloud API payload examples; that example has no `type`.
        let m = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201",
            "location": { "latitude": 37.483307, "longitude": -122.148981,
                          "name": "Philz Coffee", "address": "101 Forest Ave, Palo Alto, CA 94301" }
        })));
        assert_eq!(m.kind, MessageKind::Location);
        assert_eq!(
            m.attachments,
            vec![Attachment {
                kind: AttachmentKind::Location,
                url: "https://www.openstreetmap.org/?mlat=37.483307&mlon=-122.148981#map=16/37.483307/-122.148981"
                    .into(),
                name: Some("Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301".into()),
                mime_type: None,
            }]
        );
        let bare = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID2", "timestamp": "1603059201", "type": "location",
            "location": { "latitude": 1.5, "longitude": 2.25 }
        })));
        assert_eq!(bare.attachments[0].name.as_deref(), Some("1.5, 2.25"));
    }

    #[test]
    fn shared_contacts_are_summarized() {
        // "Contacts Messages" of the Cloud API payload examples.
        let m = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1603059201", "type": "contacts",
            "contacts": [{
                "addresses": [{ "city": "Menlo Park", "country": "United States", "type": "HOME" }],
                "emails": [{ "email": "kfish@fb.com", "type": "WORK" }],
                "name": { "formatted_name": "Kerry Fisher", "first_name": "Kerry", "last_name": "Fisher" },
                "org": { "company": "Meta" },
                "phones": [{ "phone": "+1 (650) 555-1234", "wa_id": "16505551234", "type": "WORK" }],
                "urls": [{ "url": "https://www.facebook.com", "type": "WORK" }]
            }]
        })));
        assert_eq!(m.kind, MessageKind::Contacts);
        assert_eq!(m.body, "Shared contact: Kerry Fisher, +1 (650) 555-1234");
    }

    #[test]
    fn interactive_replies_and_template_buttons() {
        // "Interactive messages webhook reference": list reply, with the documented example values.
        let list = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=" },
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1739321024", "type": "interactive",
            "interactive": { "type": "list_reply",
                             "list_reply": { "id": "priority_express", "title": "Priority Mail Express",
                                             "description": "Next Day to 2 Days" } }
        })));
        assert_eq!(list.kind, MessageKind::Interactive);
        assert_eq!(list.body, "Priority Mail Express\nNext Day to 2 Days");
        assert_eq!(
            list.reply_to_platform_id.as_deref(),
            Some("wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=")
        );
        // Same page: reply button.
        let button = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.CTX" },
            "from": "16505551234", "id": "wamid.ID", "timestamp": "1739321024", "type": "interactive",
            "interactive": { "type": "button_reply", "button_reply": { "id": "cancel-button", "title": "Cancel" } }
        })));
        assert_eq!(
            (button.body.as_str(), button.kind),
            ("Cancel", MessageKind::Interactive)
        );
        // "Received Callback from a Quick Reply Button" (template quick reply) of the payload examples.
        let quick = only_message(&incoming(json!({
            "context": { "from": "16315558007", "id": "gBGGFmkiWVVPAgkgQkwi7IORac0" },
            "from": "16505551234", "id": "ABGGFmkiWVVPAgo-sKD87hgxPHdF", "timestamp": "1591210827",
            "type": "button", "button": { "text": "No", "payload": "No-Button-Payload" }
        })));
        assert_eq!((quick.body.as_str(), quick.kind), ("No", MessageKind::Interactive));
        assert_eq!(
            quick.reply_to_platform_id.as_deref(),
            Some("gBGGFmkiWVVPAgkgQkwi7IORac0")
        );
    }

    #[test]
    fn replies_quote_but_forwards_do_not() {
        // "Text messages webhook reference": `context` of a reply, and of a forwarded message.
        let reply = only_message(&incoming(json!({
            "context": { "from": "15550783881", "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3RjE2OTM2QkQ0QjlCMEFEQkEA" },
            "from": "16505551234", "id": "wamid.R", "timestamp": "1739321024", "type": "text",
            "text": { "body": "Yes, the blue one" }
        })));
        assert_eq!(
            reply.reply_to_platform_id.as_deref(),
            Some("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3RjE2OTM2QkQ0QjlCMEFEQkEA")
        );
        let forwarded = only_message(&incoming(json!({
            "context": { "forwarded": true },
            "from": "16505551234", "id": "wamid.F", "timestamp": "1739321024", "type": "text",
            "text": { "body": "look at this" }
        })));
        assert_eq!(forwarded.reply_to_platform_id, None);
        assert_eq!(forwarded.body, "look at this");
    }

    #[test]
    fn reactions_and_their_removal() {
        // "Reaction messages webhook reference", example values; removal omits `emoji`.
        let body = incoming(json!({
            "from": "16505551234",
            "id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=",
            "timestamp": "1739321024", "type": "reaction",
            "reaction": { "message_id": "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=", "emoji": "👍" }
        }));
        let events = events_of(&body);
        assert_eq!(
            events[0].event,
            InboundEvent::Reaction(ReactionUpdate {
                external_user_id: "16505551234".into(),
                platform_message_id: "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=".into(),
                target_platform_message_id: "wamid.HBgLMTQxMjU1NTA4MjkVAgASGBQzQUNCNjk5RDUwNUZGMUZEM0VBRAA=".into(),
                emoji: Some("👍".into()),
                sent_at: 1_739_321_024_000,
            })
        );
        let removed = events_of(&incoming(json!({
            "from": "16505551234", "id": "wamid.X", "timestamp": "1739321025", "type": "reaction",
            "reaction": { "message_id": "wamid.T" }
        })));
        assert!(matches!(&removed[0].event, InboundEvent::Reaction(r) if r.emoji.is_none()));
        let emptied = events_of(&incoming(json!({
            "from": "16505551234", "id": "wamid.Y", "timestamp": "1739321026", "type": "reaction",
            "reaction": { "message_id": "wamid.T", "emoji": "" }
        })));
        assert!(matches!(&emptied[0].event, InboundEvent::Reaction(r) if r.emoji.is_none()));
    }

    #[test]
    fn nothing_the_customer_sends_is_dropped() {
        // "Unsupported messages webhook reference" syntax with its example values.
        let unsupported = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.U", "timestamp": "1739321024",
            "errors": [{ "code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                         "error_data": { "details": "Message type is currently not supported." } }],
            "type": "unsupported", "unsupported": { "type": "poll_update" }
        })));
        assert_eq!(unsupported.kind, MessageKind::Unsupported);
        assert_eq!(
            unsupported.body,
            "Unsupported WhatsApp message (type: unsupported/poll_update): Message type unknown"
        );
        // "Unknown Messages" of the older payload examples (`details` beside `title`).
        let unknown = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.K", "timestamp": "1603059201",
            "errors": [{ "code": 131051, "details": "Message type is not currently supported",
                         "title": "Unsupported message type" }],
            "type": "unknown"
        })));
        assert_eq!(
            unknown.body,
            "Unsupported WhatsApp message (type: unknown): Unsupported message type"
        );
        // "Order messages webhook reference".
        let order = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.O", "timestamp": "1739321024", "type": "order",
            "order": { "catalog_id": "194836987003835", "text": "Three of each please",
                       "product_items": [{ "product_retailer_id": "di9ozbzfi4", "quantity": 3,
                                           "item_price": 30, "currency": "USD" }] }
        })));
        assert_eq!(order.kind, MessageKind::Unsupported);
        assert_eq!(
            order.body,
            "Unsupported WhatsApp message (type: order): Three of each please"
        );
        // "User Changed Number Notification" of the payload examples (no `contacts`).
        let system = normalize(
            envelope(json!({
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
                "messages": [{ "from": "16505551234", "id": "wamid.S",
                               "system": { "body": "NAME changed from 16505551234 to 16505559999",
                                           "new_wa_id": "16505559999", "type": "user_changed_number" },
                               "timestamp": "1603059201", "type": "system" }]
            }))
            .to_string()
            .as_bytes(),
        )
        .expect("normalize");
        let InboundEvent::Message(system) = &system[0].event else {
            panic!("not a message")
        };
        assert_eq!(system.kind, MessageKind::Unsupported);
        assert_eq!(system.contact_name, None);
        assert!(
            system
                .body
                .starts_with("Unsupported WhatsApp message (type: system): NAME changed")
        );
        // A type Meta adds later.
        let future = only_message(&incoming(json!({
            "from": "16505551234", "id": "wamid.N", "timestamp": "1739321024", "type": "hologram",
            "hologram": { "id": "1" }
        })));
        assert_eq!(future.body, "Unsupported WhatsApp message (type: hologram)");
    }

    #[test]
    fn statuses_including_failures() {
        // "Message Status Updates" of the payload examples (sent, with conversation and pricing),
        // then read, then failed with the 131047 error object Meta sends for a closed window.
        let body = envelope(json!({
            "messaging_product": "whatsapp",
            "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE },
            "statuses": [
                { "id": "wamid.A", "status": "sent", "timestamp": "1750857384", "recipient_id": "16505551234",
                  "conversation": { "id": "a75d17ad06104c51166f948319b03c6a", "expiration_timestamp": "1750943820",
                                    "origin": { "type": "service" } },
                  "pricing": { "billable": true, "pricing_model": "CBP", "category": "service" } },
                { "id": "wamid.A", "status": "read", "timestamp": "1750857390", "recipient_id": "16505551234" },
                { "id": "wamid.B", "status": "failed", "timestamp": "1750857391", "recipient_id": "16505551234",
                  "errors": [{ "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                               "error_data": { "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
                               "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/" }] },
                { "id": "wamid.C", "status": "failed", "timestamp": "1750857392", "recipient_id": "16505551234",
                  "errors": [{ "code": 131026, "title": "Message Undeliverable", "message": "Message Undeliverable",
                               "error_data": { "details": "Message Undeliverable." } }] },
                { "id": "wamid.D", "status": "deleted", "timestamp": "1750857393", "recipient_id": "16505551234" }
            ]
        }));
        let events = events_of(&body);
        let updates: Vec<StatusUpdate> = events
            .into_iter()
            .map(|e| match e.event {
                InboundEvent::Status(update) => update,
                other => panic!("not a status: {other:?}"),
            })
            .collect();
        assert_eq!(updates.len(), 4, "the unknown status is ignored");
        assert_eq!(
            updates[0],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.A".into()],
                status: MessageStatus::Sent,
                error: None
            }
        );
        assert!(matches!(
            &updates[1],
            StatusUpdate::Messages {
                status: MessageStatus::Read,
                ..
            }
        ));
        assert_eq!(
            updates[2],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.B".into()],
                status: MessageStatus::Failed,
                error: Some(OUTSIDE_WINDOW.into()),
            }
        );
        assert_eq!(
            updates[3],
            StatusUpdate::Messages {
                platform_message_ids: vec!["wamid.C".into()],
                status: MessageStatus::Failed,
                error: Some("Message Undeliverable (131026): Message Undeliverable.".into()),
            }
        );
    }

    #[test]
    fn value_level_errors_produce_no_events() {
        // "Errors messages webhooks reference" example (rate limit, no message attached).
        let body = json!({ "object": "whatsapp_business_account", "entry": [{ "id": "102290129340398", "changes": [{
            "value": { "messaging_product": "whatsapp",
                       "metadata": { "display_phone_number": "15550783881", "phone_number_id": "106540352242922" },
                       "errors": [{ "code": 130429, "title": "Rate limit hit", "message": "Rate limit hit",
                                    "error_data": { "details": "Message failed to send because there were too many messages sent from this phone number in a short period of time" },
                                    "href": "/documentation/business-messaging/whatsapp/support/error-codes" }] },
            "field": "messages" }] }] });
        assert!(events_of(&body).is_empty());
    }

    #[test]
    fn template_status_updates() {
        // "message_template_status_update webhook reference" syntax with its example values.
        let body = json!({
          "entry": [{ "id": "102290129340398", "time": 1739321024, "changes": [
              { "value": { "event": "APPROVED", "message_template_id": 1689556908129832_i64,
                           "message_template_name": "order_confirmation", "message_template_language": "en-US",
                           "reason": "NONE", "message_template_category": "UTILITY" },
                "field": "message_template_status_update" },
              { "value": { "event": "REJECTED", "message_template_id": 1689556908129835_i64,
                           "message_template_name": "abandoned_cart", "message_template_language": "en",
                           "reason": "INVALID_FORMAT", "message_template_category": "MARKETING" },
                "field": "message_template_status_update" },
              { "value": { "event": "PENDING_DELETION", "message_template_id": 1689556908129836_i64,
                           "message_template_name": "old", "message_template_language": "en", "reason": null },
                "field": "message_template_status_update" },
              { "value": { "event": "LOCKED", "message_template_id": 1689556908129837_i64,
                           "message_template_name": "x", "message_template_language": "en", "reason": "NONE" },
                "field": "message_template_status_update" },
              { "value": { "phone_number": "15550783881", "event": "FLAGGED" }, "field": "phone_number_quality_update" }
          ]}],
          "object": "whatsapp_business_account"
        });
        let events = events_of(&body);
        assert_eq!(events.len(), 3, "LOCKED is not a status, other fields are ignored");
        assert_eq!(
            events[0],
            NormalizedEvent {
                account_id: WABA.into(),
                event: InboundEvent::TemplateStatus(TemplateStatusUpdate {
                    platform_template_id: "1689556908129832".into(),
                    status: TemplateStatus::Approved,
                    reason: None,
                }),
            }
        );
        assert!(matches!(&events[1].event,
            InboundEvent::TemplateStatus(t) if t.status == TemplateStatus::Rejected && t.reason.as_deref() == Some("INVALID_FORMAT")));
        assert!(matches!(&events[2].event,
            InboundEvent::TemplateStatus(t) if t.status == TemplateStatus::Deleted && t.reason.is_none()));
    }

    #[test]
    fn malformed_and_foreign_objects_are_rejected() {
        assert!(matches!(normalize(b"{not json"), Err(Rejection::Malformed(_))));
        assert!(matches!(normalize(br#"{"entry":[]}"#), Err(Rejection::Malformed(_))));
        assert!(matches!(
            normalize(br#"{"object":"page","entry":[]}"#),
            Err(Rejection::Malformed(_))
        ));
        assert_eq!(
            normalize(br#"{"object":"whatsapp_business_account","entry":[]}"#),
            Ok(vec![])
        );
    }

    #[test]
    fn errors_are_classified() {
        // Shapes from Meta's error-codes page: Cloud API errors say "(#code) Title" and put
        // the specific complaint in error_data.details.
        let window = json!({ "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
            "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
            "fbtrace_id": "A1b2" });
        assert_eq!(
            cloud_error(&window, Some(400)),
            SendError::OutsideWindow(OUTSIDE_WINDOW.into())
        );
        let expired = json!({ "message": "Error validating access token: Session has expired on Friday, 02-Aug-24 10:00:00 PDT.",
            "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "Azb" });
        assert!(matches!(cloud_error(&expired, Some(401)), SendError::Auth(_)));
        for code in [4, 80007, 130429, 131056] {
            let limit = json!({ "message": format!("(#{code}) Rate limit hit"), "code": code });
            assert!(
                matches!(cloud_error(&limit, Some(400)), SendError::Unavailable(_)),
                "{code}"
            );
        }
        let server = json!({ "message": "(#131000) Something went wrong", "code": 131000 });
        assert!(matches!(cloud_error(&server, Some(500)), SendError::Unavailable(_)));
        // An example published with a template send (viasay.io WhatsApp push webhooks).
        let template = json!({ "message": "(#132001) Template name does not exist in the translation", "type": "OAuthException",
            "code": 132001, "error_data": { "messaging_product": "whatsapp", "details": "template name (YOUR_TEMPLATE_NAME) does not exist in en" },
            "error_subcode": 2494073, "fbtrace_id": "AE9jPfwk6-lgxrhmyNUuovy" });
        assert_eq!(
            cloud_error(&template, Some(404)),
            SendError::Rejected(
                "Template name does not exist in the translation (132001): template name (YOUR_TEMPLATE_NAME) does not exist in en".into()
            )
        );
        let invalid = json!({ "message": "Invalid parameter", "type": "OAuthException", "code": 100,
            "error_user_title": "Message template language not available", "error_user_msg": "The language en_XX is not supported." });
        assert_eq!(
            cloud_error(&invalid, Some(400)),
            SendError::Rejected("Invalid parameter (100): The language en_XX is not supported.".into())
        );
        let transient = json!({ "message": "An unexpected error has occurred.", "code": 131000, "is_transient": true });
        assert!(matches!(cloud_error(&transient, Some(400)), SendError::Unavailable(_)));
    }

    fn job(body: &str, payload: Option<Value>, reply_to: Option<&str>, attachments: Vec<Attachment>) -> OutboundJob {
        OutboundJob {
            message: Message {
                id: 7,
                conversation_id: 3,
                direction: Direction::Outbound,
                sender_user_id: Some(1),
                sender_name: Some("Agent".into()),
                body: body.into(),
                attachments,
                kind: MessageKind::Text,
                reply_to: reply_to.map(|id| ReplyTo {
                    message_id: Some(5),
                    platform_message_id: id.into(),
                    preview: None,
                }),
                reactions: vec![],
                status: MessageStatus::Sending,
                error: None,
                platform_message_id: None,
                client_id: None,
                tag: None,
                created_at: 0,
                edited_at: None,
                deleted_at: None,
            },
            channel: ChannelRecord {
                webhook_key: String::new(),
                organization_id: 1,
                channel: Channel {
                    id: 2,
                    kind: ChannelKind::WhatsApp,
                    external_id: PHONE.into(),
                    name: "Acme".into(),
                    status: ChannelStatus::Active,
                    last_error: None,
                    parent_account_id: Some(WABA.into()),
                    created_at: 0,
                },
                credentials: String::new(),
            },
            recipient_external_id: "16505551234".into(),
            payload,
        }
    }

    #[test]
    fn send_bodies() {
        // Request bodies as in Meta's "Text messages" / "Template messages" / "Image messages" pages.
        assert_eq!(
            WhatsAppAdapter::send_body(&job("Hello", None, None, vec![])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "text", "text": { "preview_url": false, "body": "Hello" } })
        );
        assert_eq!(
            WhatsAppAdapter::send_body(&job("See https://example.com", None, Some("wamid.Q"), vec![])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "text", "text": { "preview_url": true, "body": "See https://example.com" },
                    "context": { "message_id": "wamid.Q" } })
        );
        let template = json!({ "name": "order_update", "language": { "code": "en_US" },
            "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "Maria" }] }] });
        assert_eq!(
            WhatsAppAdapter::send_body(&job(
                "Hi Maria",
                Some(json!({ "template": template.clone() })),
                None,
                vec![]
            )),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "template", "template": template })
        );
        let image = Attachment {
            kind: AttachmentKind::Image,
            url: "https://www.luckyshrub.com/assets/succulents/aloe.png".into(),
            name: None,
            mime_type: Some("image/png".into()),
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("The best succulent ever?", None, None, vec![image])),
            json!({ "messaging_product": "whatsapp", "recipient_type": "individual", "to": "16505551234",
                    "type": "image", "image": { "link": "https://www.luckyshrub.com/assets/succulents/aloe.png",
                                                "caption": "The best succulent ever?" } })
        );
        let file = Attachment {
            kind: AttachmentKind::File,
            url: "https://example.com/invoice.pdf".into(),
            name: Some("invoice.pdf".into()),
            mime_type: None,
        };
        let body = WhatsAppAdapter::send_body(&job("", None, None, vec![file]));
        assert_eq!(
            body["document"],
            json!({ "link": "https://example.com/invoice.pdf", "filename": "invoice.pdf" })
        );
        // An attachment Messio serves itself (no public link) cannot be linked: text goes out.
        let local = Attachment {
            kind: AttachmentKind::Image,
            url: "/api/media/whatsapp/1/2".into(),
            name: None,
            mime_type: None,
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("hi", None, None, vec![local]))["type"],
            "text"
        );
        // A file placed in the number's media store goes by its id.
        let uploaded = Attachment {
            kind: AttachmentKind::Video,
            url: format!("{UPLOADED_MEDIA}1037543291543636"),
            name: Some("demo.mp4".into()),
            mime_type: Some("video/mp4".into()),
        };
        assert_eq!(
            WhatsAppAdapter::send_body(&job("Watch this", None, None, vec![uploaded]))["video"],
            json!({ "id": "1037543291543636", "caption": "Watch this" })
        );
    }

    #[test]
    fn credentials_round_trip_and_hide_the_token() {
        let creds = WhatsAppCredentials {
            access_token: "EAAG-secret".into(),
            waba_id: WABA.into(),
        };
        let parsed = WhatsAppCredentials::parse(&creds.to_json()).expect("parse");
        assert_eq!(
            (parsed.access_token.as_str(), parsed.waba_id.as_str()),
            ("EAAG-secret", WABA)
        );
        assert!(!format!("{creds:?}").contains("EAAG-secret"));
        assert!(matches!(WhatsAppCredentials::parse("{}"), Err(SendError::Auth(_))));
    }

    // ---- CloudClient against a small local Graph API ----

    const TOKEN: &str = "EAAJB-good";

    #[derive(Clone)]
    struct Fake {
        base: String,
        requests: Arc<Mutex<Vec<String>>>,
    }

    fn json_response(status: StatusCode, body: Value) -> Response {
        (status, axum::Json(body)).into_response()
    }

    fn expired() -> Response {
        json_response(
            StatusCode::UNAUTHORIZED,
            json!({ "error": { "message": "Error validating access token: Session has expired on Friday, 02-Aug-24 10:00:00 PDT.",
                               "type": "OAuthException", "code": 190, "error_subcode": 463, "fbtrace_id": "Azb" } }),
        )
    }

    fn query_value(uri: &Uri, key: &str) -> Option<String> {
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }

    async fn graph(State(fake): State<Fake>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
        fake.requests.lock().expect("lock").push(format!(
            "{method} {}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or_default()
        ));
        if query_value(&uri, "access_token").is_some() {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({ "error": { "message": "token in the query", "code": 100 } }),
            );
        }
        let bearer = format!("Bearer {TOKEN}");
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
            return expired();
        }
        let path: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
        let page =
            |data: Value, paging: Value| json_response(StatusCode::OK, json!({ "data": data, "paging": paging }));
        match (method.as_str(), path.as_slice()) {
            ("GET", ["files", "photo.jpg"]) => (
                [("content-type", "image/jpeg")],
                Bytes::from_static(b"\xff\xd8\xff\xe0JFIF"),
            )
                .into_response(),
            ("GET", ["v21.0", "me", "businesses"]) => page(
                json!([{ "id": "301", "name": "Acme Group" }, { "id": "302", "name": "No access" }]),
                json!({ "cursors": { "before": "a", "after": "b" } }),
            ),
            ("GET", ["v21.0", "301", "owned_whatsapp_business_accounts"]) => page(
                json!([{ "id": WABA, "name": "Jasper's Market" }]),
                json!({ "cursors": { "before": "a", "after": "b" } }),
            ),
            ("GET", ["v21.0", "302", "owned_whatsapp_business_accounts"]) => json_response(
                StatusCode::FORBIDDEN,
                json!({ "error": { "message": "(#200) Permissions error", "type": "OAuthException", "code": 200 } }),
            ),
            ("GET", ["v21.0", WABA, "phone_numbers"]) => match query_value(&uri, "after").as_deref() {
                // Meta's "Retrieve Phone Numbers" example, split over two pages.
                None => page(
                    json!([{ "verified_name": "Jasper's Market", "display_phone_number": "+1 631-555-5555",
                             "id": "1906385232743451", "quality_rating": "GREEN" }]),
                    json!({ "cursors": { "before": "QVFI", "after": "QVFIb" },
                            "next": format!("{}/v21.0/{WABA}/phone_numbers?access_token={TOKEN}&fields={PHONE_FIELDS}&limit=1&after=QVFIb", fake.base) }),
                ),
                _ => page(
                    json!([{ "verified_name": "Jasper's Ice Cream", "display_phone_number": "+1 631-555-5556",
                             "id": "1913623884432103", "quality_rating": "NA" }]),
                    json!({ "cursors": { "before": "QVFIb", "after": "QVFIc" } }),
                ),
            },
            ("GET", ["v21.0", WABA, "message_templates"]) => match query_value(&uri, "after").as_deref() {
                None => page(
                    json!([{ "name": "seasonal_promotion_text_only", "language": "en", "status": "APPROVED",
                             "category": "MARKETING", "id": "564750795574598",
                             "components": [{ "type": "BODY", "text": "Shop now through {{1}}!" }] }]),
                    json!({ "cursors": { "before": "MAZDZD", "after": "MjQZD" },
                            "next": format!("{}/v21.0/{WABA}/message_templates?fields=x&limit=100&after=MjQZD", fake.base) }),
                ),
                Some("MjQZD") => page(
                    json!([{ "name": "old_promo", "language": "en_US", "status": "REJECTED", "category": "MARKETING",
                             "id": "564750795574599", "rejected_reason": "INVALID_FORMAT", "components": [] }]),
                    json!({ "cursors": { "before": "MjQZD", "after": "MjUZD" } }),
                ),
                Some(_) => json_response(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": { "message": "bad cursor", "code": 100 } }),
                ),
            },
            ("POST", ["v21.0", WABA, "message_templates"]) => json_response(
                StatusCode::OK,
                json!({ "id": "572279198452421", "status": "PENDING", "category": "MARKETING" }),
            ),
            ("DELETE", ["v21.0", WABA, "message_templates"]) => {
                json_response(StatusCode::OK, json!({ "success": true }))
            }
            ("POST" | "DELETE", ["v21.0", WABA, "subscribed_apps"]) => {
                json_response(StatusCode::OK, json!({ "success": true }))
            }
            ("GET", ["v21.0", PHONE]) => json_response(
                StatusCode::OK,
                json!({ "verified_name": "Jasper's Market", "display_phone_number": "+1 631-555-5555",
                        "id": PHONE, "quality_rating": "GREEN" }),
            ),
            ("GET", ["v21.0", "564750795574599"]) => json_response(
                StatusCode::OK,
                json!({ "name": "old_promo", "language": "en_US", "status": "REJECTED", "category": "MARKETING",
                        "id": "564750795574599", "rejected_reason": "INVALID_FORMAT", "components": [] }),
            ),
            // "Retrieve Media URL" example of Meta's Media API reference.
            ("GET", ["v21.0", "2621233374848975"]) => json_response(
                StatusCode::OK,
                json!({ "file_size": "8", "id": "2621233374848975", "messaging_product": "whatsapp",
                        "mime_type": "image/jpeg", "sha256": "HASH", "url": format!("{}/files/photo.jpg", fake.base) }),
            ),
            ("GET", ["v21.0", "huge-media"]) => json_response(
                StatusCode::OK,
                json!({ "file_size": "209715200", "id": "huge-media", "messaging_product": "whatsapp",
                        "mime_type": "video/mp4", "sha256": "HASH", "url": format!("{}/files/none", fake.base) }),
            ),
            ("POST", ["v21.0", PHONE, "messages"]) => {
                let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                match request["to"].as_str().unwrap_or_default() {
                    "131047" => json_response(
                        StatusCode::BAD_REQUEST,
                        json!({ "error": { "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
                            "error_data": { "messaging_product": "whatsapp", "details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number." },
                            "fbtrace_id": "A1b2" } }),
                    ),
                    "130429" => json_response(
                        StatusCode::BAD_REQUEST,
                        json!({ "error": { "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429,
                            "error_data": { "messaging_product": "whatsapp", "details": "Cloud API message throughput has been reached." },
                            "fbtrace_id": "A1b3" } }),
                    ),
                    "131026" => json_response(
                        StatusCode::BAD_REQUEST,
                        json!({ "error": { "message": "(#131026) Message Undeliverable", "type": "OAuthException", "code": 131026,
                            "error_data": { "messaging_product": "whatsapp", "details": "Message Undeliverable." },
                            "fbtrace_id": "A1b4" } }),
                    ),
                    "500" => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
                    to => json_response(
                        StatusCode::OK,
                        json!({ "messaging_product": "whatsapp", "contacts": [{ "input": to, "wa_id": to }],
                                "messages": [{ "id": "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA" }] }),
                    ),
                }
            }
            _ => json_response(
                StatusCode::BAD_REQUEST,
                json!({ "error": { "message": "Unsupported get request.", "type": "GraphMethodException", "code": 100, "error_subcode": 33 } }),
            ),
        }
    }

    async fn fake_graph() -> (CloudClient, Fake) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let fake = Fake {
            base: base.clone(),
            requests: Arc::default(),
        };
        let app = axum::Router::new().fallback(graph).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (CloudClient::new(config(&format!("{base}/v21.0"))), fake)
    }

    fn config(graph_url: &str) -> MetaConfig {
        MetaConfig {
            app_id: "1".into(),
            app_secret: "secret".into(),
            verify_token: "verify".into(),
            graph_url: graph_url.into(),
            dialog_url: String::new(),
        }
    }

    #[tokio::test]
    async fn media_is_downloaded_in_two_steps_with_the_bearer_token() {
        let (client, fake) = fake_graph().await;
        let file = client.media("2621233374848975", TOKEN).await.expect("media");
        assert_eq!(file.bytes, b"\xff\xd8\xff\xe0JFIF");
        assert_eq!(file.mime_type, "image/jpeg");
        let requests = fake.requests.lock().expect("lock").clone();
        assert_eq!(requests, vec!["GET /v21.0/2621233374848975", "GET /files/photo.jpg"]);

        assert!(matches!(
            client.media("2621233374848975", "stale").await,
            Err(SendError::Auth(_))
        ));
        assert!(matches!(
            client.media("huge-media", TOKEN).await,
            Err(SendError::Rejected(_))
        ));
        assert!(matches!(
            client.media_capped("2621233374848975", TOKEN, 4).await,
            Err(SendError::Rejected(_))
        ));
    }

    #[tokio::test]
    async fn send_returns_the_wamid_or_a_classified_error() {
        let (client, _) = fake_graph().await;
        let body =
            |to: &str| json!({ "messaging_product": "whatsapp", "to": to, "type": "text", "text": { "body": "hi" } });
        assert_eq!(
            client.send(PHONE, TOKEN, &body("16505551234")).await,
            Ok("wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA".into())
        );
        assert_eq!(
            client.send(PHONE, TOKEN, &body("131047")).await,
            Err(SendError::OutsideWindow(OUTSIDE_WINDOW.into()))
        );
        assert!(matches!(
            client.send(PHONE, TOKEN, &body("130429")).await,
            Err(SendError::Unavailable(_))
        ));
        assert_eq!(
            client.send(PHONE, TOKEN, &body("131026")).await,
            Err(SendError::Rejected(
                "Message Undeliverable (131026): Message Undeliverable.".into()
            ))
        );
        assert!(matches!(
            client.send(PHONE, TOKEN, &body("500")).await,
            Err(SendError::Unavailable(_))
        ));
        assert!(matches!(
            client.send(PHONE, "stale", &body("1")).await,
            Err(SendError::Auth(_))
        ));

        // Nothing listens on a port that was just released.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = closed.local_addr().expect("addr");
        drop(closed);
        let offline = CloudClient::new(config(&format!("http://{addr}/v21.0")));
        assert!(matches!(
            offline.send(PHONE, TOKEN, &body("1")).await,
            Err(SendError::Unavailable(_))
        ));
    }

    #[tokio::test]
    async fn templates_follow_paging_next() {
        let (client, fake) = fake_graph().await;
        let templates = client.templates(WABA, TOKEN).await.expect("templates");
        assert_eq!(templates.len(), 2);
        assert_eq!(
            templates[0],
            MetaTemplate {
                id: "564750795574598".into(),
                name: "seasonal_promotion_text_only".into(),
                language: "en".into(),
                category: Some(TemplateCategory::Marketing),
                status: TemplateStatus::Approved,
                rejected_reason: None,
                components: json!([{ "type": "BODY", "text": "Shop now through {{1}}!" }]),
            }
        );
        assert_eq!(templates[1].status, TemplateStatus::Rejected);
        assert_eq!(templates[1].rejected_reason.as_deref(), Some("INVALID_FORMAT"));
        let requests = fake.requests.lock().expect("lock").clone();
        assert_eq!(requests.len(), 2);
        assert!(requests[1].ends_with("after=MjQZD"), "{requests:?}");

        let one = client.template("564750795574599", TOKEN).await.expect("template");
        assert_eq!(one.name, "old_promo");

        let components = json!([{ "type": "BODY", "text": "Hi {{1}}", "example": { "body_text": [["Maria"]] } }]);
        let created = client
            .create_template(WABA, TOKEN, "hello", "en_US", TemplateCategory::Marketing, &components)
            .await
            .expect("create");
        assert_eq!(
            (
                created.id.as_str(),
                created.status,
                created.category,
                created.components
            ),
            (
                "572279198452421",
                TemplateStatus::Pending,
                Some(TemplateCategory::Marketing),
                components
            )
        );
        client.delete_template(WABA, TOKEN, "hello").await.expect("delete");
        let last = fake.requests.lock().expect("lock").last().cloned().unwrap_or_default();
        assert_eq!(last, format!("DELETE /v21.0/{WABA}/message_templates?name=hello"));
    }

    #[tokio::test]
    async fn managed_numbers_walk_businesses_wabas_and_pages() {
        let (client, _) = fake_graph().await;
        let numbers = client.managed_numbers(TOKEN).await.expect("numbers");
        let ids: Vec<(&str, &str, &str)> = numbers
            .iter()
            .map(|n| (n.waba_id.as_str(), n.waba_name.as_str(), n.number.id.as_str()))
            .collect();
        assert_eq!(
            ids,
            vec![
                (WABA, "Jasper's Market", "1906385232743451"),
                (WABA, "Jasper's Market", "1913623884432103")
            ]
        );
        assert_eq!(numbers[1].number.quality_rating.as_deref(), Some("NA"));
        assert!(matches!(client.managed_numbers("stale").await, Err(SendError::Auth(_))));
    }

    #[tokio::test]
    async fn adapter_checks_health_and_disconnects() {
        let (client, fake) = fake_graph().await;
        let adapter = WhatsAppAdapter { cloud: client };
        let creds = WhatsAppCredentials {
            access_token: TOKEN.into(),
            waba_id: WABA.into(),
        }
        .to_json();
        let channel = job("", None, None, vec![]).channel;
        adapter.health(&channel, &creds).await.expect("health");
        adapter.disconnect(&channel, &creds).await.expect("disconnect");
        adapter.cloud.subscribe_waba(WABA, TOKEN).await.expect("subscribe");
        assert_eq!(adapter.cloud.waba_name("unknown", TOKEN).await.ok(), None);
        let requests = fake.requests.lock().expect("lock").clone();
        assert_eq!(requests[1], format!("DELETE /v21.0/{WABA}/subscribed_apps"));
        assert_eq!(requests[2], format!("POST /v21.0/{WABA}/subscribed_apps"));
        let info = adapter.cloud.phone_number(PHONE, TOKEN).await.expect("phone");
        assert_eq!(info.verified_name, "Jasper's Market");
    }
}
