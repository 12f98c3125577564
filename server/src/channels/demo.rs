//! The simulated channel behind `messio demo`: replies are "delivered" at once, so a
//! newcomer sees the whole inbox working without any platform account.

use super::{ChannelAdapter, NormalizedEvent, Rejection, SendError};
use app::model::ChannelKind;
use app::store::{ChannelRecord, OutboundJob};
use async_trait::async_trait;
use axum::http::HeaderMap;

pub struct DemoAdapter;

#[async_trait]
impl ChannelAdapter for DemoAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Demo
    }

    fn verify(&self, _headers: &HeaderMap, _body: &[u8]) -> Result<(), Rejection> {
        // The demo channel has no webhook; nothing outside may post to it.
        Err(Rejection::BadSignature)
    }

    fn normalize(&self, _body: &[u8]) -> Result<Vec<NormalizedEvent>, Rejection> {
        Ok(vec![])
    }

    /// Idempotent (`ChannelKind::idempotent_send`): sending the same message again has no
    /// other effect and gives the same id, so an interrupted send is simply sent again.
    async fn send(&self, job: &OutboundJob, _credentials: &str) -> Result<String, SendError> {
        Ok(format!("demo-{}", job.message.id))
    }

    async fn health(&self, _channel: &ChannelRecord, _credentials: &str) -> Result<(), SendError> {
        Ok(())
    }

    async fn disconnect(&self, _channel: &ChannelRecord, _credentials: &str) -> Result<(), SendError> {
        Ok(())
    }
}
