//! Channels that fetch instead of being called: a mailbox watched with IMAP IDLE next, the
//! demo channel's simulated customers today. A kind with a poller (`ChannelAdapter::poller`)
//! gets one run per live channel. [`spawn`] starts the runs at startup and then follows the
//! event bus: a channel that becomes active starts polling, one that needs reconnecting or
//! is disconnected stops. A run that fails is started again after a pause that grows up to
//! five minutes, and its error is the channel's poller health, which the health check
//! reports to the admin. What a run finds goes through `crate::inbound::deliver`, like a
//! webhook's events, so duplicates across restarts are stopped by the same unique keys.
//!
//! One instance polls. With several instances sharing a database every instance would poll
//! each channel; stores stay correct (deliveries are idempotent) but the platform is asked
//! more than once. Electing one poller per channel comes with the first real poller (IMAP).

use crate::state::AppState;
use app::model::{Channel, ChannelKind, ChannelStatus, Id, events};
use app::store::ChannelRecord;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[async_trait]
pub trait Poller: Send + Sync {
    /// Fetches for one channel until `stop` turns true, handing what it finds to
    /// `crate::inbound::deliver`. An error ends this run; it is recorded and the run restarts.
    async fn run(&self, state: AppState, channel: ChannelRecord, stop: watch::Receiver<bool>) -> Result<(), String>;
}

/// How one channel's poller is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollerHealth {
    pub running: bool,
    /// Why the last run failed, until a run succeeds again.
    pub last_error: Option<String>,
    pub restarts: u32,
}

struct Run {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The runs in progress, by channel id.
#[derive(Default)]
pub struct Pollers {
    runs: Mutex<HashMap<Id, Run>>,
    health: Arc<Mutex<HashMap<Id, PollerHealth>>>,
}

const FIRST_PAUSE: Duration = Duration::from_secs(5);
const LONGEST_PAUSE: Duration = Duration::from_secs(300);

impl Pollers {
    pub fn health(&self, channel_id: Id) -> Option<PollerHealth> {
        self.health.lock().ok()?.get(&channel_id).cloned()
    }

    pub fn is_running(&self, channel_id: Id) -> bool {
        self.runs
            .lock()
            .map(|runs| runs.contains_key(&channel_id))
            .unwrap_or(false)
    }

    /// Starts polling `channel` unless it already is, if its kind polls.
    pub fn start(&self, state: &AppState, channel: ChannelRecord) {
        let Some(poller) = state.adapters.get(channel.channel.kind).poller() else {
            return;
        };
        let Ok(mut runs) = self.runs.lock() else { return };
        if runs.contains_key(&channel.channel.id) {
            return;
        }
        let channel_id = channel.channel.id;
        let (stop, stopped) = watch::channel(false);
        let health = self.health.clone();
        let state = state.clone();
        let task = tokio::spawn(async move {
            let mut pause = FIRST_PAUSE;
            loop {
                set_health(&health, channel_id, |h| h.running = true);
                let outcome = poller.run(state.clone(), channel.clone(), stopped.clone()).await;
                if *stopped.borrow() {
                    break;
                }
                match outcome {
                    Ok(()) => pause = FIRST_PAUSE,
                    Err(error) => {
                        tracing::warn!(channel_id, %error, "a channel's poller failed; it starts again");
                        set_health(&health, channel_id, |h| {
                            h.last_error = Some(error);
                            h.restarts += 1;
                        });
                    }
                }
                let mut stopped = stopped.clone();
                tokio::select! {
                    _ = tokio::time::sleep(pause) => {}
                    _ = stopped.wait_for(|stop| *stop) => break,
                }
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
            set_health(&health, channel_id, |h| h.running = false);
        });
        runs.insert(channel_id, Run { stop, task });
    }

    /// Stops polling a channel and waits for its run to end.
    pub async fn stop(&self, channel_id: Id) {
        let run = self.runs.lock().ok().and_then(|mut runs| runs.remove(&channel_id));
        if let Some(run) = run {
            let _ = run.stop.send(true);
            let _ = run.task.await;
        }
    }

    async fn stop_all(&self) {
        let ids: Vec<Id> = self
            .runs
            .lock()
            .map(|runs| runs.keys().copied().collect())
            .unwrap_or_default();
        for id in ids {
            self.stop(id).await;
        }
    }
}

fn set_health(health: &Mutex<HashMap<Id, PollerHealth>>, channel_id: Id, change: impl FnOnce(&mut PollerHealth)) {
    if let Ok(mut health) = health.lock() {
        change(health.entry(channel_id).or_default());
    }
}

/// Runs the pollers of every live channel whose kind polls, until `shutdown`.
pub fn spawn(state: AppState, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let kinds: Vec<ChannelKind> = ChannelKind::ALL
            .iter()
            .copied()
            .filter(|kind| state.adapters.get(*kind).poller().is_some())
            .collect();
        if kinds.is_empty() {
            return;
        }
        let pollers = state.pollers.clone();
        // Subscribe before listing, so a channel connected in between is not missed.
        let mut changes = state.services.events.subscribe();
        match state.services.store.live_channels(&kinds).await {
            Ok(channels) => {
                for channel in channels
                    .into_iter()
                    .filter(|c| c.channel.status == ChannelStatus::Active)
                {
                    pollers.start(&state, channel);
                }
            }
            Err(error) => tracing::error!(%error, "could not list the channels to poll"),
        }
        loop {
            let batch = tokio::select! {
                _ = shutdown.wait_for(|stop| *stop) => break,
                batch = changes.next() => batch,
            };
            let Some(batch) = batch else { break };
            for event in batch.iter().filter(|e| e.name == events::CHANNEL_STATUS) {
                let Some(channel) = event
                    .payload
                    .get("channel")
                    .and_then(|c| serde_json::from_value::<Channel>(c.clone()).ok())
                else {
                    continue;
                };
                if !kinds.contains(&channel.kind) {
                    continue;
                }
                if channel.status != ChannelStatus::Active {
                    pollers.stop(channel.id).await;
                    continue;
                }
                match state.services.store.channel(event.organization_id, channel.id).await {
                    Ok(record) => pollers.start(&state, record),
                    Err(error) => tracing::warn!(%error, channel_id = channel.id, "could not start polling"),
                }
            }
        }
        pollers.stop_all().await;
    })
}
