//! Presence across instances, in Redis (`REDIS_URL`): who is online, away, busy or offline,
//! and who views or types in which conversation, seen alike by every instance sharing the
//! database. Each instance counts its own tabs (sockets) in memory, exactly, and mirrors the
//! count into a key that expires unless the instance keeps refreshing it: an instance that
//! dies takes its tabs (and its sockets' viewing) with it within half a minute. An agent's
//! status is what they chose, else online while any instance has a tab of theirs (or within
//! the grace period after the last one closed), else offline — as `app::presence` decides
//! it for one instance. Changes are announced by the instance that made them; the relay
//! carries them to the other instances' sockets and routers.
//!
//! Keys live under `messio:{namespace}:presence:` (the namespace names the database, so test
//! servers on separate databases that share one Redis never see each other's people).

use app::model::{AgentStatus, Id, Millis};
use app::presence::{Presence, PresenceStore, StatusChange, Typing, Viewer};
use async_trait::async_trait;
use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an instance's tab counts and liveness last unless refreshed.
const LEASE_SECS: u64 = 30;
/// How often they are refreshed.
const HEARTBEAT: Duration = Duration::from_secs(10);

pub struct RedisPresence {
    redis: MultiplexedConnection,
    prefix: String,
    instance: String,
    /// This instance's own sockets: counts per person and the conversation each socket shows.
    local: Presence,
    grace: Duration,
    /// socket → the conversation it shows (this instance's sockets only).
    showing: Mutex<HashMap<String, Id>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredViewer {
    user_id: Id,
    since: Millis,
    typing: Option<Typing>,
}

impl RedisPresence {
    /// Connects and starts the heartbeat that keeps this instance's tabs counted.
    pub async fn start(url: &str, namespace: &str, grace: Duration) -> Result<Arc<Self>, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let redis = client.get_multiplexed_async_connection().await?;
        let presence = Arc::new(Self {
            redis,
            prefix: format!("messio:{namespace}:presence"),
            instance: format!("{:016x}", rand::random::<u64>()),
            local: Presence::default(),
            grace,
            showing: Mutex::new(HashMap::new()),
        });
        presence.heartbeat().await;
        let beating = Arc::downgrade(&presence);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT).await;
                match beating.upgrade() {
                    Some(presence) => presence.heartbeat().await,
                    None => return,
                }
            }
        });
        Ok(presence)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}:{rest}", self.prefix)
    }

    fn tabs_key(&self, user_id: Id, instance: &str) -> String {
        self.key(&format!("tabs:{user_id}:{instance}"))
    }

    async fn heartbeat(&self) {
        let mut redis = self.redis.clone();
        let mut pipe = redis::pipe();
        pipe.set_ex(self.key(&format!("alive:{}", self.instance)), 1, LEASE_SECS)
            .ignore()
            .sadd(self.key("instances"), &self.instance)
            .ignore();
        for (user_id, count) in self.local.local_tabs() {
            pipe.set_ex(self.tabs_key(user_id, &self.instance), count, LEASE_SECS)
                .ignore();
        }
        if let Err(error) = pipe.query_async::<()>(&mut redis).await {
            tracing::warn!(%error, "could not refresh presence in Redis");
        }
    }

    /// The instances still alive.
    async fn instances(&self) -> Vec<String> {
        let mut redis = self.redis.clone();
        let all: Vec<String> = redis.smembers(self.key("instances")).await.unwrap_or_default();
        let mut alive = Vec::with_capacity(all.len());
        for instance in all {
            let live: bool = redis
                .exists(self.key(&format!("alive:{instance}")))
                .await
                .unwrap_or(false);
            if live {
                alive.push(instance);
            } else {
                let _: Result<(), _> = redis.srem(self.key("instances"), &instance).await;
            }
        }
        alive
    }

    async fn tabs_everywhere(&self, user_id: Id) -> u64 {
        let instances = self.instances().await;
        if instances.is_empty() {
            return 0;
        }
        let keys: Vec<String> = instances.iter().map(|i| self.tabs_key(user_id, i)).collect();
        let mut redis = self.redis.clone();
        let counts: Vec<Option<u64>> = redis.mget(&keys).await.unwrap_or_default();
        counts.into_iter().flatten().sum()
    }

    async fn chosen(&self, user_id: Id) -> Option<AgentStatus> {
        let mut redis = self.redis.clone();
        let chosen: Option<String> = redis
            .hget(self.key(&format!("user:{user_id}")), "chosen")
            .await
            .ok()
            .flatten();
        chosen.and_then(|s| s.parse().ok())
    }

    async fn lingering(&self, user_id: Id) -> bool {
        let mut redis = self.redis.clone();
        redis
            .exists(self.key(&format!("linger:{user_id}")))
            .await
            .unwrap_or(false)
    }

    async fn derive(&self, user_id: Id) -> AgentStatus {
        match self.chosen(user_id).await {
            Some(chosen) => chosen,
            None if self.tabs_everywhere(user_id).await > 0 || self.lingering(user_id).await => AgentStatus::Online,
            None => AgentStatus::Offline,
        }
    }

    async fn remember(&self, organization_id: Id, user_id: Id) {
        let mut redis = self.redis.clone();
        let _: Result<(), _> = redis::pipe()
            .hset(self.key(&format!("user:{user_id}")), "org", organization_id)
            .ignore()
            .sadd(self.key(&format!("org:{organization_id}")), user_id)
            .ignore()
            .query_async(&mut redis)
            .await;
    }

    async fn organization_of(&self, user_id: Id) -> Id {
        let mut redis = self.redis.clone();
        redis
            .hget(self.key(&format!("user:{user_id}")), "org")
            .await
            .unwrap_or_default()
    }

    async fn mirror_tabs(&self, user_id: Id) {
        let count = self.local.local_tabs_of(user_id);
        let mut redis = self.redis.clone();
        let key = self.tabs_key(user_id, &self.instance);
        let result: Result<(), _> = if count == 0 {
            redis.del(key).await
        } else {
            redis.set_ex(key, count, LEASE_SECS).await
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not record a tab in Redis");
        }
    }

    fn changed(organization_id: Id, user_id: Id, before: AgentStatus, after: AgentStatus) -> Option<StatusChange> {
        (before != after).then_some(StatusChange {
            organization_id,
            user_id,
            before,
            after,
        })
    }

    fn viewers_key(&self, conversation_id: Id) -> String {
        self.key(&format!("viewers:{conversation_id}"))
    }

    fn field(&self, socket: &str) -> String {
        format!("{}/{socket}", self.instance)
    }
}

#[async_trait]
impl PresenceStore for RedisPresence {
    async fn status(&self, user_id: Id) -> AgentStatus {
        self.derive(user_id).await
    }

    async fn statuses(&self, organization_id: Id) -> HashMap<Id, AgentStatus> {
        let mut redis = self.redis.clone();
        let people: Vec<Id> = redis
            .smembers(self.key(&format!("org:{organization_id}")))
            .await
            .unwrap_or_default();
        let mut out = HashMap::with_capacity(people.len());
        for user_id in people {
            out.insert(user_id, self.derive(user_id).await);
        }
        out
    }

    async fn choose(&self, organization_id: Id, user_id: Id, status: AgentStatus) -> Option<StatusChange> {
        self.remember(organization_id, user_id).await;
        let before = self.derive(user_id).await;
        let mut redis = self.redis.clone();
        let _: Result<(), _> = redis
            .hset(self.key(&format!("user:{user_id}")), "chosen", status.as_str())
            .await;
        Self::changed(organization_id, user_id, before, self.derive(user_id).await)
    }

    async fn connected(&self, organization_id: Id, user_id: Id) -> Option<StatusChange> {
        self.remember(organization_id, user_id).await;
        let before = self.derive(user_id).await;
        self.local.connected(organization_id, user_id);
        self.mirror_tabs(user_id).await;
        let mut redis = self.redis.clone();
        let _: Result<(), _> = redis.del(self.key(&format!("linger:{user_id}"))).await;
        // Someone who was offline only because their tabs closed comes back online.
        if before == AgentStatus::Offline && self.chosen(user_id).await == Some(AgentStatus::Offline) {
            let _: Result<(), _> = redis.hdel(self.key(&format!("user:{user_id}")), "chosen").await;
        }
        Self::changed(organization_id, user_id, before, self.derive(user_id).await)
    }

    async fn disconnected(&self, user_id: Id) -> Option<u64> {
        let generation = self.local.disconnected(user_id);
        self.mirror_tabs(user_id).await;
        if generation.is_some() {
            let mut redis = self.redis.clone();
            let grace_ms = self.grace.as_millis() as u64 + 5_000;
            let _: Result<(), _> = redis.pset_ex(self.key(&format!("linger:{user_id}")), 1, grace_ms).await;
        }
        generation
    }

    async fn grace_over(&self, user_id: Id, generation: u64) -> Option<StatusChange> {
        // Only the instance whose tab closed last decides, and only if no tab came back anywhere.
        self.local.grace_over(user_id, generation)?;
        if self.tabs_everywhere(user_id).await > 0 {
            return None;
        }
        let before = match self.chosen(user_id).await {
            Some(chosen) => chosen,
            None => AgentStatus::Online,
        };
        let mut redis = self.redis.clone();
        let _: Result<(), _> = redis::pipe()
            .del(self.key(&format!("linger:{user_id}")))
            .ignore()
            .hdel(self.key(&format!("user:{user_id}")), "chosen")
            .ignore()
            .query_async(&mut redis)
            .await;
        let organization_id = self.organization_of(user_id).await;
        Self::changed(organization_id, user_id, before, self.derive(user_id).await)
    }

    async fn view(&self, socket: &str, user_id: Id, conversation_id: Option<Id>, now: Millis) -> Vec<Id> {
        let previous = {
            let Ok(mut showing) = self.showing.lock() else {
                return Vec::new();
            };
            match conversation_id {
                Some(id) => showing.insert(socket.to_string(), id),
                None => showing.remove(socket),
            }
        };
        if previous == conversation_id {
            return Vec::new();
        }
        let mut redis = self.redis.clone();
        let mut changed = Vec::new();
        if let Some(left) = previous {
            let _: Result<(), _> = redis.hdel(self.viewers_key(left), self.field(socket)).await;
            changed.push(left);
        }
        if let Some(joined) = conversation_id {
            let viewer = StoredViewer {
                user_id,
                since: now,
                typing: None,
            };
            let value = serde_json::to_string(&viewer).unwrap_or_default();
            let _: Result<(), _> = redis::pipe()
                .hset(self.viewers_key(joined), self.field(socket), value)
                .ignore()
                .expire(self.viewers_key(joined), 86_400)
                .ignore()
                .query_async(&mut redis)
                .await;
            changed.push(joined);
        }
        changed
    }

    async fn typing(&self, socket: &str, conversation_id: Id, typing: Option<Typing>) -> bool {
        let mut redis = self.redis.clone();
        let key = self.viewers_key(conversation_id);
        let stored: Option<String> = redis.hget(&key, self.field(socket)).await.ok().flatten();
        let Some(mut viewer) = stored.and_then(|s| serde_json::from_str::<StoredViewer>(&s).ok()) else {
            return false;
        };
        if viewer.typing == typing {
            return false;
        }
        viewer.typing = typing;
        let value = serde_json::to_string(&viewer).unwrap_or_default();
        let _: Result<(), _> = redis.hset(&key, self.field(socket), value).await;
        true
    }

    async fn viewers(&self, conversation_id: Id) -> Vec<Viewer> {
        let mut redis = self.redis.clone();
        let all: HashMap<String, String> = redis
            .hgetall(self.viewers_key(conversation_id))
            .await
            .unwrap_or_default();
        let alive: HashSet<String> = self.instances().await.into_iter().collect();
        let mut people: BTreeMap<Id, Viewer> = BTreeMap::new();
        for (field, value) in all {
            let instance = field.split('/').next().unwrap_or_default();
            if !alive.contains(instance) {
                continue;
            }
            let Ok(stored) = serde_json::from_str::<StoredViewer>(&value) else {
                continue;
            };
            let entry = people.entry(stored.user_id).or_insert(Viewer {
                user_id: stored.user_id,
                since: stored.since,
                typing: stored.typing,
            });
            entry.since = entry.since.min(stored.since);
            entry.typing = entry.typing.or(stored.typing);
        }
        people.into_values().collect()
    }
}
