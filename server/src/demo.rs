//! `messio demo`: a sample organization with a simulated channel and a few customers, so
//! a newcomer sees a working inbox without any platform account. Seeding is idempotent.

use crate::inbound::deliver;
use crate::state::AppState;
use app::auth::ssr::hash_password;
use app::inbound::{InboundEvent, NormalizedEvent, Source};
use app::model::{ChannelKind, MessageStatus};
use app::store::{InboundMessage, NewChannel, StatusUpdate, now_millis};
use std::time::Duration;

pub const DEMO_EMAIL: &str = "demo@messio.local";
pub const DEMO_PASSWORD: &str = "demo-password";

pub struct DemoLogin {
    pub email: &'static str,
    pub password: &'static str,
}

const CUSTOMERS: &[(&str, &str, &[&str])] = &[
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

const FOLLOW_UPS: &[&str] = &[
    "Are you still there?",
    "Can I pay on delivery?",
    "Great, thank you!",
    "Do you have a size 42?",
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

fn customer_writes(message: InboundMessage) -> NormalizedEvent {
    NormalizedEvent {
        account_id: String::new(),
        event: InboundEvent::Message(message),
    }
}

/// The simulated customers: they read agents' replies within seconds, and every half
/// minute one of them writes again, so the live inbox has something to show.
pub fn spawn_customers(state: AppState) {
    tokio::spawn(async move {
        let mut tick: u64 = 0;
        loop {
            tokio::time::sleep(Duration::from_secs(3)).await;
            tick += 1;
            let store = &state.services.store;
            let Ok(Some(owner)) = store.credentials_by_email(DEMO_EMAIL).await else {
                continue;
            };
            let account = format!("demo-{}", owner.user.organization_id);
            let Ok(Some(channel)) = store.channel_by_account(ChannelKind::Demo, &account).await else {
                continue;
            };
            let mut events: Vec<NormalizedEvent> = CUSTOMERS
                .iter()
                .map(|(id, _, _)| NormalizedEvent {
                    account_id: account.clone(),
                    event: InboundEvent::Status(StatusUpdate::Watermark {
                        external_user_id: (*id).to_string(),
                        watermark: now_millis() - 1500,
                        status: MessageStatus::Read,
                    }),
                })
                .collect();
            if tick.is_multiple_of(10) {
                let turn = (tick / 10) as usize;
                let (id, name, _) = CUSTOMERS[turn % CUSTOMERS.len()];
                events.push(customer_writes(InboundMessage {
                    external_user_id: id.to_string(),
                    contact_name: Some(name.to_string()),
                    platform_message_id: format!("{id}-live-{}", now_millis()),
                    body: FOLLOW_UPS[turn % FOLLOW_UPS.len()].to_string(),
                    attachments: vec![],
                    sent_at: now_millis(),
                    ..Default::default()
                }));
            }
            if let Err(error) = deliver(&state, Source::Channel(&channel), events).await {
                tracing::warn!(%error, "the demo customers could not write");
            }
        }
    });
}
