//! The simulated channel behind `messio demo`: replies are "delivered" at once, and simulated
//! customers (its poller, `customers.rs`) read them and write again, so a newcomer sees the
//! whole inbox working without any platform account. `seed.rs` fills the sample organization.

mod customers;
pub mod seed;

use super::poller::Poller;
use super::{ChannelAdapter, SendError};
use app::model::ChannelKind;
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use std::sync::Arc;

pub struct DemoAdapter;

#[async_trait]
impl ChannelAdapter for DemoAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Demo
    }

    fn poller(&self) -> Option<Arc<dyn Poller>> {
        Some(Arc::new(customers::SimulatedCustomers))
    }

    /// Idempotent (`ChannelKind::idempotent_send`): sending the same message again has no
    /// other effect and gives the same id, so an interrupted send is simply sent again.
    async fn send(&self, job: &OutboundJob, _credentials: &str) -> Result<String, SendError> {
        Ok(format!("demo-{}", job.message.id))
    }

    async fn health(&self, _channel: &ChannelRecord, _credentials: &str) -> Result<Option<String>, SendError> {
        Ok(None)
    }

    async fn disconnect(&self, _channel: &ChannelRecord, _credentials: &str) -> Result<(), SendError> {
        Ok(())
    }
}
