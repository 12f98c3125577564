//! The demo channel's simulated customers, run as the channel's poller: they read agents'
//! replies within seconds, and every half minute one of them writes again, so the live inbox
//! has something to show. Their messages enter through the inbound pipeline like any
//! platform's.

use super::seed::CUSTOMERS;
use crate::channels::poller::Poller;
use crate::inbound::deliver;
use crate::state::AppState;
use app::inbound::{InboundEvent, NormalizedEvent, Source};
use app::model::MessageStatus;
use app::store::{ChannelRecord, InboundMessage, StatusUpdate, now_millis};
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::watch;

const FOLLOW_UPS: &[&str] = &[
    "Are you still there?",
    "Can I pay on delivery?",
    "Great, thank you!",
    "Do you have a size 42?",
];

/// How often the customers look at their phones.
const TICK: Duration = Duration::from_secs(3);

pub struct SimulatedCustomers;

#[async_trait]
impl Poller for SimulatedCustomers {
    async fn run(
        &self,
        state: AppState,
        channel: ChannelRecord,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), String> {
        let mut tick: u64 = 0;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.wait_for(|stop| *stop) => return Ok(()),
            }
            tick += 1;
            let mut events: Vec<NormalizedEvent> = CUSTOMERS
                .iter()
                .map(|(id, _, _)| NormalizedEvent {
                    account_id: String::new(),
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
            deliver(&state, Source::Channel(&channel), events)
                .await
                .map_err(|error| format!("the demo customers could not write: {error}"))?;
        }
    }
}

pub(super) fn customer_writes(message: InboundMessage) -> NormalizedEvent {
    NormalizedEvent {
        account_id: String::new(),
        event: InboundEvent::Message(message),
    }
}
