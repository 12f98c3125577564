//! `messio demo`: a sample organization with a simulated channel and a few customers' first
//! messages, so a newcomer sees a working inbox without any platform account. Seeding is
//! idempotent; the customers keep writing through the channel's poller (`customers.rs`).

use super::customers::customer_writes;
use crate::inbound::deliver;
use crate::state::AppState;
use app::auth::ssr::hash_password;
use app::inbound::Source;
use app::model::ChannelKind;
use app::store::{InboundMessage, NewChannel, now_millis};

pub const DEMO_EMAIL: &str = "demo@messio.local";
pub const DEMO_PASSWORD: &str = "demo-password";

pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
}

pub(super) const CUSTOMERS: &[(&str, &str, &[&str])] = &[
    (
        "demo-ana",
        "Ana Souza",
        &["Hi! Do you ship to Lisbon?", "And how long does it usually take?"],
    ),
    (
        "demo-minh",
        "Minh Tran",
        &["My order #4412 arrived with a broken strap 😕"],
    ),
    ("demo-lea", "Léa Martin", &["Is the blue model back in stock?"]),
    ("demo-omar", "Omar Haddad", &["Thanks for the quick help yesterday!"]),
];

pub async fn seed(state: &AppState) -> Result<DemoLogin, crate::BoxError> {
    let store = &state.services.store;
    let owner = match store.credentials_by_email(DEMO_EMAIL).await? {
        Some(creds) => creds.user,
        None => {
            let hash = hash_password(DEMO_PASSWORD).map_err(|e| e.to_string())?;
            store
                .create_organization("Demo Shop", "Dana Demo", DEMO_EMAIL, &hash)
                .await?
                .1
        }
    };
    let channel = store
        .connect_channel(
            owner.organization_id,
            NewChannel {
                kind: ChannelKind::Demo,
                external_id: format!("demo-{}", owner.organization_id),
                name: "Demo Shop page".into(),
                credentials: state.secrets.seal("{}"),
                parent_account_id: None,
            },
        )
        .await?
        .value;
    let channel = store.channel(owner.organization_id, channel.id).await?;
    let start = now_millis() - 3 * 60 * 60 * 1000;
    let mut history = Vec::new();
    for (i, (id, name, lines)) in CUSTOMERS.iter().enumerate() {
        for (j, line) in lines.iter().enumerate() {
            history.push(customer_writes(InboundMessage {
                external_user_id: (*id).to_string(),
                contact_name: Some((*name).to_string()),
                platform_message_id: format!("{id}-seed-{j}"),
                body: (*line).to_string(),
                attachments: vec![],
                sent_at: start + (i as i64) * 20 * 60 * 1000 + (j as i64) * 60 * 1000,
                ..Default::default()
            }));
        }
    }
    deliver(state, Source::Channel(&channel), history).await?;
    Ok(DemoLogin {
        email: DEMO_EMAIL,
        password: DEMO_PASSWORD,
    })
}
