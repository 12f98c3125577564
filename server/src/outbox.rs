//! The outbox worker: replies are stored as `pending` first (so nothing an agent sends is
//! lost), then claimed atomically and handed to the channel's adapter. Failures are kept
//! with their reason for the agent to retry; an expired token flags the channel. A claim
//! left in `sending` by a process that died mid-send is recovered after `CLAIM_TIMEOUT`.

use crate::channels::registry::Registry;
use crate::channels::{ChannelAdapter, SendError};
use crate::crypto::SecretBox;
use crate::uploads::Uploads;
use app::model::ChannelStatus;
use app::services::SharedServices;
use app::store::OutboundJob;
use std::time::Duration;
use tokio::sync::watch;

const BATCH: i64 = 16;
const IDLE_POLL: Duration = Duration::from_secs(2);
/// A message still `sending` this long after its claim is taken for a send cut off by a
/// crash (see `Store::recover_stale_outbound`). Longer than the slowest send can take (a
/// WhatsApp media upload may run 5 minutes), so a slow send is never taken for a dead one.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(600);
/// How often each instance looks for such claims; the check is one indexed query.
const RECOVERY_EVERY: Duration = Duration::from_secs(30);
const RECOVERY_BATCH: i64 = 100;

pub fn spawn(
    services: SharedServices,
    adapters: Registry,
    secrets: SecretBox,
    uploads: Uploads,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut next_recovery = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_recovery {
                recover_interrupted(&services).await;
                next_recovery = tokio::time::Instant::now() + RECOVERY_EVERY;
            }
            let jobs = match services.store.claim_outbound(BATCH).await {
                Ok(jobs) => jobs,
                Err(error) => {
                    tracing::error!(%error, "outbox could not claim messages");
                    vec![]
                }
            };
            if jobs.is_empty() {
                tokio::select! {
                    _ = services.outbox.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = shutdown.changed() => return,
                }
                continue;
            }
            futures::future::join_all(
                jobs.into_iter()
                    .map(|job| deliver(&services, &adapters, &secrets, &uploads, job)),
            )
            .await;
        }
    })
}

/// Recovers claims older than `CLAIM_TIMEOUT`: sent again where the platform de-duplicates
/// sends, otherwise failed for an agent to check and retry. Runs at start, then periodically.
async fn recover_interrupted(services: &SharedServices) {
    loop {
        let written = match services
            .store
            .recover_stale_outbound(CLAIM_TIMEOUT, RECOVERY_BATCH)
            .await
        {
            Ok(written) => written,
            Err(error) => {
                tracing::error!(%error, "outbox could not recover interrupted sends");
                return;
            }
        };
        services.events.publish(&written.events);
        for message in &written.value {
            tracing::warn!(
                message_id = message.id,
                status = %message.status,
                "recovered a reply whose send was interrupted"
            );
        }
        if (written.value.len() as i64) < RECOVERY_BATCH {
            return;
        }
    }
}

/// Hands the reply's files to the platform first (an upload, or a signed link it fetches),
/// then sends the reply referring to them.
async fn send_with_files(
    adapter: &dyn ChannelAdapter,
    services: &SharedServices,
    uploads: &Uploads,
    job: &OutboundJob,
    credentials: &str,
) -> Result<String, SendError> {
    let files = uploads
        .outgoing(&services.store, job)
        .await
        .map_err(SendError::Rejected)?;
    if files.is_empty() {
        return adapter.send(job, credentials).await;
    }
    let mut placed = job.clone();
    for (index, file) in files {
        let reference = adapter.place_media(credentials, job, &file).await?;
        if let Some(attachment) = placed.message.attachments.get_mut(index) {
            attachment.url = reference;
        }
    }
    adapter.send(&placed, credentials).await
}

async fn deliver(
    services: &SharedServices,
    adapters: &Registry,
    secrets: &SecretBox,
    uploads: &Uploads,
    job: OutboundJob,
) {
    let message_id = job.message.id;
    let result = match secrets.open(&job.channel.credentials) {
        Ok(credentials) => {
            let adapter = adapters.get(job.channel.channel.kind);
            send_with_files(adapter.as_ref(), services, uploads, &job, &credentials).await
        }
        Err(e) => Err(SendError::Auth(e.to_string())),
    };
    let outcome = match result {
        Ok(platform_id) => Ok(platform_id),
        Err(SendError::RateLimited { retry_after, reason }) => {
            tracing::info!(message_id, ?retry_after, %reason, "the platform asked us to wait; sending again then");
            let send_after = app::store::now_millis() + i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX / 2);
            match services.store.defer_outbound(message_id, send_after).await {
                Ok(written) => services.events.publish(&written.events),
                Err(error) => tracing::error!(%error, message_id, "could not put the reply back in the outbox"),
            }
            // Woken once the wait is over, rather than at the next idle poll.
            let outbox = services.outbox.clone();
            tokio::spawn(async move {
                tokio::time::sleep(retry_after).await;
                outbox.notify_one();
            });
            return;
        }
        Err(SendError::Unreachable(reason)) => {
            let contact = &job.recipient_external_id;
            match services
                .store
                .set_reachability(job.channel.channel.id, contact, Some(&reason))
                .await
            {
                Ok(written) => services.events.publish(&written.events),
                Err(error) => tracing::error!(%error, "could not mark the customer unreachable"),
            }
            Err(reason)
        }
        Err(SendError::Auth(reason)) => {
            tracing::warn!(channel = job.channel.channel.id, %reason, "channel credentials rejected; needs reconnect");
            match services
                .store
                .set_channel_status(job.channel.channel.id, ChannelStatus::NeedsReconnect, Some(&reason))
                .await
            {
                Ok(written) => services.events.publish(&written.events),
                Err(error) => tracing::error!(%error, "could not flag the channel for reconnect"),
            }
            Err(format!(
                "{}'s access has expired. Reconnect the channel in Settings → Channels, then retry.",
                job.channel.channel.name
            ))
        }
        Err(other) => Err(other.to_string()),
    };
    match services.store.finish_outbound(message_id, outcome).await {
        Ok(written) => services.events.publish(&written.events),
        Err(error) => tracing::error!(%error, message_id, "could not record the send result"),
    }
}
