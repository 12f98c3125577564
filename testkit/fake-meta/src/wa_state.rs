//! The WhatsApp part of the fake's in-memory world: businesses, WABAs,
//! phone numbers, customers and their 24-hour windows, templates, media,
//! sends and subscriptions. Lives inside [`State`](super::state::State),
//! behind the same mutex.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SentAttachment;
use super::payloads::now_ms;
use super::world::{FakeBusiness, FakeWaCustomer};

/// The Cloud API's customer service window: free-form messages may be sent
/// for 24 hours after the customer's last message.
pub(crate) const WINDOW_MS: i64 = 24 * 3600 * 1000;

/// How a non-template message to a customer whose 24-hour window is closed
/// fails. Meta documents that Cloud API errors arrive "either synchronously
/// as a Graph API response, asynchronously via Webhook, or sometimes through
/// both"; error 131047 is seen both ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowErrorMode {
    /// The send is accepted (200 with a `wamid`), then a `failed` status
    /// webhook carries error 131047.
    #[default]
    Webhook,
    /// The send itself answers 400 with error 131047.
    Sync,
}

/// One `POST /{phone-number-id}/messages` the fake accepted (HTTP 200).
#[derive(Clone, Debug, Serialize)]
pub struct WhatsAppSent {
    pub phone_number_id: String,
    /// `to` as the app sent it.
    pub to: String,
    /// The WhatsApp id (digits) it resolved to.
    pub wa_id: String,
    /// The request body exactly as sent.
    pub body: Value,
    /// The `wamid.…` the fake answered with.
    pub wamid: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The last status the fake reported for it: `accepted` (no status
    /// webhook yet), `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// The file of a media message (`image`, `video`, `audio`, `document`,
    /// `sticker`): the stored media object it named by `id`, or what the
    /// fake downloaded from its `link`. `None` for other messages.
    pub attachment: Option<SentAttachment>,
}

impl WhatsAppSent {
    /// The message `type` (`text` when absent, as on the Cloud API).
    pub fn kind(&self) -> &str {
        self.body.get("type").and_then(Value::as_str).unwrap_or("text")
    }

    /// `text.body`, for text messages.
    pub fn text(&self) -> Option<&str> {
        self.body.pointer("/text/body").and_then(Value::as_str)
    }

    /// `template.name`, for template messages.
    pub fn template_name(&self) -> Option<&str> {
        self.body.pointer("/template/name").and_then(Value::as_str)
    }

    /// `context.message_id`, when the message replies to another one.
    pub fn context_message_id(&self) -> Option<&str> {
        self.body.pointer("/context/message_id").and_then(Value::as_str)
    }
}

/// A message template as the fake currently holds it.
#[derive(Clone, Debug, Serialize)]
pub struct WhatsAppTemplate {
    pub id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub components: Value,
    pub rejected_reason: Option<String>,
}

impl WhatsAppTemplate {
    /// The template as the Business Management API returns it
    /// (`name, components, language, status, category, id`, plus
    /// `rejected_reason` for rejected ones).
    pub(crate) fn to_graph(&self) -> Value {
        let mut value = serde_json::json!({
            "name": self.name,
            "components": self.components,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "id": self.id,
        });
        if let Some(reason) = &self.rejected_reason {
            value["rejected_reason"] = serde_json::json!(reason);
        }
        value
    }
}

/// A media object: uploaded by the app, or sent by a customer.
#[derive(Clone, Debug)]
pub(crate) struct MediaState {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes` (what `GET /{media-id}` reports).
    pub sha256: String,
    pub filename: Option<String>,
    /// Uploaded by the app (`POST /{phone-number-id}/media`) rather than
    /// received from a customer.
    pub uploaded: bool,
    pub deleted: bool,
}

/// What `GET /_fake/whatsapp/media` and [`FakeMeta::whatsapp_media`] show
/// of a media object (without its bytes).
///
/// [`FakeMeta::whatsapp_media`]: super::FakeMeta::whatsapp_media
#[derive(Clone, Debug, Serialize)]
pub struct WhatsAppMedia {
    pub id: String,
    pub phone_number_id: String,
    pub mime_type: String,
    pub file_size: usize,
    pub sha256: String,
    pub filename: Option<String>,
    /// `true` for media the app uploaded, `false` for customers' media.
    pub uploaded: bool,
    pub deleted: bool,
}

impl From<&MediaState> for WhatsAppMedia {
    fn from(m: &MediaState) -> Self {
        Self {
            id: m.id.clone(),
            phone_number_id: m.phone_number_id.clone(),
            mime_type: m.mime_type.clone(),
            file_size: m.bytes.len(),
            sha256: m.sha256.clone(),
            filename: m.filename.clone(),
            uploaded: m.uploaded,
            deleted: m.deleted,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct BusinessState {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct WabaState {
    pub id: String,
    pub name: String,
    pub business_id: String,
    pub currency: String,
    pub timezone_id: String,
    pub namespace: String,
    /// The system-user token currently valid for this WABA.
    pub token: String,
    base_token: String,
    generation: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct PhoneState {
    pub id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub verified_name: String,
    pub quality_rating: String,
    pub customers: Vec<FakeWaCustomer>,
}

impl PhoneState {
    /// The number as webhooks' `metadata.display_phone_number` carries it:
    /// digits only (`15550783881` in Meta's examples).
    pub fn display_digits(&self) -> String {
        self.display_phone_number.chars().filter(char::is_ascii_digit).collect()
    }

    pub fn to_graph(&self) -> Value {
        serde_json::json!({
            "verified_name": self.verified_name,
            "code_verification_status": "VERIFIED",
            "display_phone_number": self.display_phone_number,
            "quality_rating": self.quality_rating,
            "platform_type": "CLOUD_API",
            "throughput": { "level": "STANDARD" },
            "id": self.id,
        })
    }
}

/// A webhook subscription of the app to a WABA.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WabaSubscription {
    /// `override_callback_uri`, when the app set one: that WABA's webhooks
    /// then go there instead of the app-level URL.
    pub override_callback_uri: Option<String>,
}

pub(crate) struct WaState {
    pub businesses: Vec<BusinessState>,
    pub wabas: Vec<WabaState>,
    pub phones: Vec<PhoneState>,
    /// (phone number id, wa_id) → when the customer last wrote (ms).
    pub windows: HashMap<(String, String), i64>,
    pub templates: Vec<WhatsAppTemplate>,
    pub media: Vec<MediaState>,
    pub sent: Vec<WhatsAppSent>,
    /// WABA id → subscription.
    pub subscriptions: BTreeMap<String, WabaSubscription>,
    pub window_errors: WindowErrorMode,
    /// Whether a `sent` status webhook follows each accepted send.
    pub auto_status: bool,
    /// Templates created through the API are approved this long after
    /// creation (`None`: they stay `PENDING` until reviewed).
    pub auto_approve_after_ms: Option<u64>,
    /// (phone, wa_id, category) → (conversation id, expiry in seconds), so
    /// statuses of one conversation share an id, as on Meta.
    pub conversations: HashMap<(String, String, String), (String, i64)>,
}

impl WaState {
    pub fn new(businesses: &[FakeBusiness]) -> Self {
        let now = now_ms();
        let mut state = Self {
            businesses: Vec::new(),
            wabas: Vec::new(),
            phones: Vec::new(),
            windows: HashMap::new(),
            templates: Vec::new(),
            media: Vec::new(),
            sent: Vec::new(),
            subscriptions: BTreeMap::new(),
            window_errors: WindowErrorMode::default(),
            auto_status: true,
            auto_approve_after_ms: None,
            conversations: HashMap::new(),
        };
        for business in businesses {
            state.businesses.push(BusinessState {
                id: business.id.clone(),
                name: business.name.clone(),
            });
            for waba in &business.whatsapp_accounts {
                state.wabas.push(WabaState {
                    id: waba.id.clone(),
                    name: waba.name.clone(),
                    business_id: business.id.clone(),
                    currency: waba.currency.clone(),
                    timezone_id: waba.timezone_id.clone(),
                    namespace: waba.message_template_namespace.clone(),
                    token: waba.system_user_token.clone(),
                    base_token: waba.system_user_token.clone(),
                    generation: 1,
                });
                for phone in &waba.phone_numbers {
                    for customer in phone.customers.iter().filter(|c| c.window_open) {
                        state.windows.insert((phone.id.clone(), customer.wa_id.clone()), now);
                    }
                    state.phones.push(PhoneState {
                        id: phone.id.clone(),
                        waba_id: waba.id.clone(),
                        display_phone_number: phone.display_phone_number.clone(),
                        verified_name: phone.verified_name.clone(),
                        quality_rating: phone.quality_rating.clone(),
                        customers: phone.customers.clone(),
                    });
                }
                for template in &waba.templates {
                    let id = new_numeric_id();
                    state.templates.push(WhatsAppTemplate {
                        id,
                        waba_id: waba.id.clone(),
                        name: template.name.clone(),
                        language: template.language.clone(),
                        category: template.category.clone(),
                        status: template.status.clone(),
                        components: template.components.clone(),
                        rejected_reason: template.rejected_reason.clone(),
                    });
                }
            }
        }
        state
    }

    pub fn business(&self, id: &str) -> Option<&BusinessState> {
        self.businesses.iter().find(|b| b.id == id)
    }

    pub fn waba(&self, id: &str) -> Option<&WabaState> {
        self.wabas.iter().find(|w| w.id == id)
    }

    pub fn phone(&self, id: &str) -> Option<&PhoneState> {
        self.phones.iter().find(|p| p.id == id)
    }

    pub fn template(&self, id: &str) -> Option<&WhatsAppTemplate> {
        self.templates.iter().find(|t| t.id == id)
    }

    pub fn media(&self, id: &str) -> Option<&MediaState> {
        self.media.iter().find(|m| m.id == id && !m.deleted)
    }

    /// The WABA whose system-user token this is.
    pub fn waba_for_token(&self, token: &str) -> Option<&WabaState> {
        self.wabas.iter().find(|w| w.token == token)
    }

    /// Replaces a WABA's system-user token by a new one (the old one is
    /// about to be listed as expired). Returns the old token.
    pub fn rotate_token(&mut self, waba_id: &str) -> Option<String> {
        let waba = self.wabas.iter_mut().find(|w| w.id == waba_id)?;
        let old = waba.token.clone();
        waba.generation += 1;
        waba.token = format!("{}-{}", waba.base_token, waba.generation);
        Some(old)
    }

    /// A WhatsApp user the fake knows: a customer of any business number
    /// (wa_ids are global on WhatsApp).
    pub fn user_name(&self, wa_id: &str) -> Option<&str> {
        self.phones
            .iter()
            .flat_map(|p| p.customers.iter())
            .find(|c| c.wa_id == wa_id)
            .map(|c| c.name.as_str())
    }

    /// Whether `wa_id` wrote to `phone_id` within the last 24 hours.
    pub fn window_open(&self, phone_id: &str, wa_id: &str, now: i64) -> bool {
        self.windows
            .get(&(phone_id.to_owned(), wa_id.to_owned()))
            .is_some_and(|last| now - last < WINDOW_MS)
    }

    /// A customer writing to a number: they become its customer (with
    /// `name`, or a generated one) and their window opens.
    pub fn customer_wrote(&mut self, phone_id: &str, wa_id: &str, name: Option<&str>, at_ms: i64) {
        let known_name = self.user_name(wa_id).map(str::to_owned);
        if let Some(phone) = self.phones.iter_mut().find(|p| p.id == phone_id) {
            if let Some(customer) = phone.customers.iter_mut().find(|c| c.wa_id == wa_id) {
                if let Some(name) = name {
                    customer.name = name.to_owned();
                }
            } else {
                let name = name
                    .map(str::to_owned)
                    .or(known_name)
                    .unwrap_or_else(|| format!("Customer {}", last_digits(wa_id, 4)));
                phone.customers.push(FakeWaCustomer::new(wa_id, &name));
            }
        }
        self.windows.insert((phone_id.to_owned(), wa_id.to_owned()), at_ms);
    }

    /// Phones a window command without a phone id applies to: those the
    /// customer talks to, or every phone if they talk to none.
    pub fn phones_of(&self, wa_id: &str) -> Vec<String> {
        let theirs: Vec<String> = self
            .phones
            .iter()
            .filter(|p| p.customers.iter().any(|c| c.wa_id == wa_id))
            .map(|p| p.id.clone())
            .collect();
        if theirs.is_empty() {
            self.phones.iter().map(|p| p.id.clone()).collect()
        } else {
            theirs
        }
    }

    /// The conversation a message to `wa_id` in `category` belongs to:
    /// reused while it lasts (24 hours), as on conversation-based pricing.
    pub fn conversation(&mut self, phone_id: &str, wa_id: &str, category: &str, now_secs: i64) -> (String, i64) {
        let key = (phone_id.to_owned(), wa_id.to_owned(), category.to_owned());
        match self.conversations.get(&key) {
            Some((id, expires)) if *expires > now_secs => (id.clone(), *expires),
            _ => {
                let entry = (hex::encode(rand::random::<[u8; 16]>()), now_secs + 24 * 3600);
                self.conversations.insert(key, entry.clone());
                entry
            }
        }
    }
}

/// A fresh Graph-style numeric id (16 digits), for media and templates.
pub(crate) fn new_numeric_id() -> String {
    use rand::Rng;
    rand::thread_rng()
        .gen_range(1_000_000_000_000_000_u64..9_999_999_999_999_999)
        .to_string()
}

pub(crate) fn last_digits(s: &str, n: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    chars[chars.len().saturating_sub(n)..].iter().collect()
}
