//! How the WhatsApp Business and Instagram side of the fake's world is set
//! up: businesses owning WhatsApp Business Accounts (WABAs) with phone
//! numbers, customers and message templates, and Instagram professional
//! accounts linked to Pages. [`FakeMetaConfig`](super::FakeMetaConfig)
//! holds vectors of these; its `Default` uses the functions at the bottom.

use serde_json::{Value, json};

/// A Meta business (Business Manager) the fake user belongs to, as listed
/// by `GET /me/businesses`.
#[derive(Clone, Debug)]
pub struct FakeBusiness {
    pub id: String,
    pub name: String,
    /// `GET /{business-id}/owned_whatsapp_business_accounts`.
    pub whatsapp_accounts: Vec<FakeWaba>,
}

/// A WhatsApp Business Account.
#[derive(Clone, Debug)]
pub struct FakeWaba {
    pub id: String,
    pub name: String,
    /// ISO 4217, e.g. `USD`.
    pub currency: String,
    /// Meta's numeric timezone id, as a string (`"1"` is America/Los_Angeles).
    pub timezone_id: String,
    pub message_template_namespace: String,
    /// A system-user access token that works for everything under this
    /// WABA — what an admin pastes when connecting by hand. Expiring it
    /// replaces it with `{token}-{n}`.
    pub system_user_token: String,
    pub phone_numbers: Vec<FakePhoneNumber>,
    /// Templates that already exist (created "elsewhere", e.g. in WhatsApp
    /// Manager) when the fake starts.
    pub templates: Vec<FakeTemplate>,
}

/// A business phone number registered with the Cloud API.
#[derive(Clone, Debug)]
pub struct FakePhoneNumber {
    /// The phone number id (`POST /{phone-number-id}/messages`).
    pub id: String,
    /// As the Graph API shows it, e.g. `+1 555-010-0501`. Webhooks carry
    /// the digits only (`15550100501`), like Meta's.
    pub display_phone_number: String,
    pub verified_name: String,
    /// `GREEN`, `YELLOW`, `RED` or `UNKNOWN`.
    pub quality_rating: String,
    /// WhatsApp users who have talked to this number.
    pub customers: Vec<FakeWaCustomer>,
}

/// A WhatsApp user. `wa_id` is their phone number in digits; on WhatsApp it
/// is the same for every business.
#[derive(Clone, Debug)]
pub struct FakeWaCustomer {
    pub wa_id: String,
    /// The WhatsApp profile name webhooks carry in `contacts[].profile.name`.
    pub name: String,
    /// Whether their 24-hour customer service window is open when the fake
    /// starts (as if they had just written). Otherwise it opens when they
    /// write through the control API.
    pub window_open: bool,
}

impl FakeWaCustomer {
    pub fn new(wa_id: &str, name: &str) -> Self {
        Self {
            wa_id: wa_id.to_owned(),
            name: name.to_owned(),
            window_open: false,
        }
    }
}

/// A message template as `GET /{waba-id}/message_templates` describes it.
#[derive(Clone, Debug)]
pub struct FakeTemplate {
    pub name: String,
    /// Language and locale code, e.g. `en_US`.
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    pub status: String,
    /// The `components` array in Meta's template syntax (`HEADER`, `BODY`,
    /// `FOOTER`, `BUTTONS`).
    pub components: Value,
    /// For rejected templates, e.g. `INVALID_FORMAT`.
    pub rejected_reason: Option<String>,
}

/// An Instagram professional account linked to a Facebook Page (Messenger
/// API for Instagram).
#[derive(Clone, Debug)]
pub struct FakeInstagramAccount {
    /// The Instagram professional account id (`instagram_business_account.id`).
    pub id: String,
    /// The Page it is linked to; the Page token sends its messages.
    pub page_id: String,
    pub username: String,
    pub name: String,
    /// `None`: a generated picture under `/_fake/media/`.
    pub profile_picture_url: Option<String>,
    /// People who have messaged this account. IGSIDs are scoped to it.
    pub customers: Vec<FakeIgCustomer>,
}

/// An Instagram user who has messaged the account, as the Instagram User
/// Profile API describes them.
#[derive(Clone, Debug)]
pub struct FakeIgCustomer {
    /// Instagram-scoped id.
    pub igsid: String,
    pub name: String,
    pub username: String,
    /// `None`: the fake serves a generated avatar at `/_fake/avatar/{igsid}.svg`.
    pub profile_pic: Option<String>,
    /// Whether they have "just written" when the fake starts. Otherwise
    /// their window opens when they write through the control API.
    pub window_open: bool,
}

impl FakeIgCustomer {
    pub fn new(igsid: &str, name: &str, username: &str) -> Self {
        Self {
            igsid: igsid.to_owned(),
            name: name.to_owned(),
            username: username.to_owned(),
            profile_pic: None,
            window_open: false,
        }
    }
}

/// Business `301` "Acme Group" with WABA `401` "Acme WhatsApp" (system
/// user token `wa-token-401`), phone numbers `501` "Acme Shoes" (customers
/// Maria Garcia `15550001111`, Kenji Sato `15550002222`) and `502` "Acme
/// Support" (Lena Fischer `15550003333`), and three templates.
pub(crate) fn default_businesses() -> Vec<FakeBusiness> {
    vec![FakeBusiness {
        id: "301".to_owned(),
        name: "Acme Group".to_owned(),
        whatsapp_accounts: vec![FakeWaba {
            id: "401".to_owned(),
            name: "Acme WhatsApp".to_owned(),
            currency: "USD".to_owned(),
            timezone_id: "1".to_owned(),
            message_template_namespace: "c1a2b3d4_e5f6_4a7b_8c9d_0e1f2a3b4c5d".to_owned(),
            system_user_token: "wa-token-401".to_owned(),
            phone_numbers: vec![
                FakePhoneNumber {
                    id: "501".to_owned(),
                    display_phone_number: "+1 555-010-0501".to_owned(),
                    verified_name: "Acme Shoes".to_owned(),
                    quality_rating: "GREEN".to_owned(),
                    customers: vec![
                        FakeWaCustomer::new("15550001111", "Maria Garcia"),
                        FakeWaCustomer::new("15550002222", "Kenji Sato"),
                    ],
                },
                FakePhoneNumber {
                    id: "502".to_owned(),
                    display_phone_number: "+1 555-010-0502".to_owned(),
                    verified_name: "Acme Support".to_owned(),
                    quality_rating: "GREEN".to_owned(),
                    customers: vec![FakeWaCustomer::new("15550003333", "Lena Fischer")],
                },
            ],
            templates: default_templates(),
        }],
    }]
}

/// `order_update` and `spring_sale` (approved) and `old_promo` (rejected),
/// in Meta's template component syntax.
fn default_templates() -> Vec<FakeTemplate> {
    vec![
        FakeTemplate {
            name: "order_update".to_owned(),
            language: "en_US".to_owned(),
            category: "UTILITY".to_owned(),
            status: "APPROVED".to_owned(),
            components: json!([{
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} has shipped.",
                "example": { "body_text": [["Maria", "#1001"]] },
            }]),
            rejected_reason: None,
        },
        FakeTemplate {
            name: "spring_sale".to_owned(),
            language: "en_US".to_owned(),
            category: "MARKETING".to_owned(),
            status: "APPROVED".to_owned(),
            components: json!([
                { "type": "HEADER", "format": "TEXT", "text": "Spring sale" },
                {
                    "type": "BODY",
                    "text": "Hello {{1}}! Everything is {{2}} off this week.",
                    "example": { "body_text": [["Maria", "20%"]] },
                },
                { "type": "FOOTER", "text": "Reply STOP to opt out" },
                { "type": "BUTTONS", "buttons": [{ "type": "QUICK_REPLY", "text": "Stop promotions" }] },
            ]),
            rejected_reason: None,
        },
        FakeTemplate {
            name: "old_promo".to_owned(),
            language: "en_US".to_owned(),
            category: "MARKETING".to_owned(),
            status: "REJECTED".to_owned(),
            components: json!([{
                "type": "BODY",
                "text": "BUY NOW!!! {{1}} is almost gone!!!",
                "example": { "body_text": [["Everything"]] },
            }]),
            rejected_reason: Some("INVALID_FORMAT".to_owned()),
        },
    ]
}

/// Page `101` (Acme Shoes) is linked to Instagram account
/// `17841400000000101` "acme.shoes" with customers Nora Lee (`9101001`)
/// and Omar Haddad (`9101002`). Page `102` has no Instagram account.
pub(crate) fn default_instagram_accounts() -> Vec<FakeInstagramAccount> {
    vec![FakeInstagramAccount {
        id: "17841400000000101".to_owned(),
        page_id: "101".to_owned(),
        username: "acme.shoes".to_owned(),
        name: "Acme Shoes".to_owned(),
        profile_picture_url: None,
        customers: vec![
            FakeIgCustomer::new("9101001", "Nora Lee", "nora.lee"),
            FakeIgCustomer::new("9101002", "Omar Haddad", "omar.h"),
        ],
    }]
}
