//! Automatic routing, driven by events, never polled. One task per process keeps each
//! organization's [`Roster`] (teams, agents' loads and presence, queues) and acts the moment
//! something changes it: a conversation arrives, reopens or is released (`conversation:*`
//! events from the bus), an agent resolves one or comes online, an admin changes a team. It
//! hands out what can be handed out and writes each pick through the store's guarded
//! `route_to`, whose `conversation:assigned` goes out on the bus like any other change. The
//! only timers are the ones the rules name: a skill-based conversation's fallback wait and
//! an assignee's reply deadline; the task sleeps until the earliest of them.
//!
//! The database stays the authority: a pick that lost a race (an agent claimed the
//! conversation meanwhile) is not written, and a subscriber that fell behind the bus reads
//! its organizations again from the store.

pub mod roster;

use crate::events::bus::{EventBus, Received};
use crate::model::{AgentStatus, Conversation, Id, Millis, RoutingStrategy};
use crate::presence::PresenceStore;
use crate::store::{DynStore, StoreResult, now_millis};
use crate::team::RouteOutcome;
use roster::{Decision, Roster};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Asks the routing task to do something; cheap to clone.
#[derive(Clone)]
pub struct Router {
    commands: mpsc::UnboundedSender<Command>,
}

/// A team's loads and queue as routing sees them now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamPicture {
    /// (agent, open conversations, capacity)
    pub agents: Vec<(Id, u32, u32)>,
    /// (conversation, queued at), next first.
    pub queue: Vec<(Id, Millis)>,
}

enum Command {
    Reload(Id),
    Presence {
        organization_id: Id,
        user_id: Id,
        status: AgentStatus,
    },
    RouteNow {
        organization_id: Id,
        conversation_id: Id,
        strategy: Option<RoutingStrategy>,
        reply: oneshot::Sender<StoreResult<RouteOutcome>>,
    },
    Team {
        organization_id: Id,
        team_id: Id,
        reply: oneshot::Sender<TeamPicture>,
    },
    Position {
        organization_id: Id,
        conversation_id: Id,
        reply: oneshot::Sender<Option<(usize, Millis)>>,
    },
}

impl Router {
    /// Starts the routing task; it stops when the bus is dropped.
    pub fn start(store: DynStore, bus: EventBus, presence: Arc<dyn PresenceStore>) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        let task = RoutingTask {
            store,
            bus,
            presence,
            organizations: HashMap::new(),
        };
        tokio::spawn(task.run(receiver));
        Self { commands }
    }

    /// An admin changed teams, members or profiles: read the organization again.
    pub fn reload(&self, organization_id: Id) {
        let _ = self.commands.send(Command::Reload(organization_id));
    }

    /// An agent's status changed.
    pub fn presence(&self, organization_id: Id, user_id: Id, status: AgentStatus) {
        let _ = self.commands.send(Command::Presence {
            organization_id,
            user_id,
            status,
        });
    }

    /// Routes a waiting conversation now (by `strategy`, or its team's).
    pub async fn route_now(
        &self,
        organization_id: Id,
        conversation_id: Id,
        strategy: Option<RoutingStrategy>,
    ) -> StoreResult<RouteOutcome> {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::RouteNow {
            organization_id,
            conversation_id,
            strategy,
            reply,
        });
        answer.await.unwrap_or_else(|_| {
            Ok(RouteOutcome::NotRoutable {
                reason: "routing is not running".into(),
            })
        })
    }

    pub async fn team(&self, organization_id: Id, team_id: Id) -> TeamPicture {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::Team {
            organization_id,
            team_id,
            reply,
        });
        answer.await.unwrap_or_default()
    }

    /// Where a waiting conversation stands (1 = next) and since when.
    pub async fn position(&self, organization_id: Id, conversation_id: Id) -> Option<(usize, Millis)> {
        let (reply, answer) = oneshot::channel();
        let _ = self.commands.send(Command::Position {
            organization_id,
            conversation_id,
            reply,
        });
        answer.await.ok().flatten()
    }
}

struct RoutingTask {
    store: DynStore,
    bus: EventBus,
    presence: Arc<dyn PresenceStore>,
    organizations: HashMap<Id, Roster>,
}

/// Events whose payload carries the conversation as it now stands.
const CONVERSATION_EVENTS: &[&str] = &[
    crate::model::events::CONVERSATION_NEW,
    crate::model::events::CONVERSATION_STATUS,
    crate::model::events::CONVERSATION_ASSIGNED,
    crate::model::events::CONVERSATION_UPDATED,
];

impl RoutingTask {
    async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        let mut events = self.bus.subscribe();
        match self.store.routed_organizations().await {
            Ok(organizations) => {
                for organization_id in organizations {
                    self.load(organization_id).await;
                    self.drain_all(organization_id).await;
                }
            }
            Err(error) => tracing::error!(%error, "routing could not read the organizations that have teams"),
        }
        loop {
            let wake_at = self.next_timer();
            let sleep = async {
                match wake_at {
                    Some(at) => {
                        tokio::time::sleep(std::time::Duration::from_millis((at - now_millis()).max(0) as u64)).await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                received = events.receive() => match received {
                    Some(Received::Batch(batch)) => {
                        let mut wake: Vec<(Id, Id)> = Vec::new();
                        for event in batch.iter().filter(|e| CONVERSATION_EVENTS.contains(&e.name.as_str())) {
                            let Some(roster) = self.organizations.get_mut(&event.organization_id) else {
                                continue;
                            };
                            let Some(conversation) = event
                                .payload
                                .get("conversation")
                                .and_then(|c| serde_json::from_value::<Conversation>(c.clone()).ok())
                            else {
                                continue;
                            };
                            wake.extend(roster.observe(&conversation).into_iter().map(|t| (event.organization_id, t)));
                        }
                        wake.sort_unstable();
                        wake.dedup();
                        for (organization_id, team_id) in wake {
                            self.drain(organization_id, team_id).await;
                        }
                    }
                    Some(Received::Missed(missed)) => {
                        tracing::warn!(missed, "routing fell behind the event bus; reading its organizations again");
                        let loaded: Vec<Id> = self.organizations.keys().copied().collect();
                        for organization_id in loaded {
                            self.load(organization_id).await;
                            self.drain_all(organization_id).await;
                        }
                    }
                    None => return,
                },
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => return,
                },
                () = sleep => self.timers().await,
            }
        }
    }

    async fn load(&mut self, organization_id: Id) {
        match self.store.routing_snapshot(organization_id).await {
            Ok(snapshot) => {
                let presence = self.presence.statuses(organization_id).await;
                let roster = Roster::from_snapshot(snapshot, |user| {
                    presence.get(&user).copied() == Some(AgentStatus::Online)
                });
                if roster.teams.is_empty() {
                    self.organizations.remove(&organization_id);
                } else {
                    self.organizations.insert(organization_id, roster);
                }
            }
            Err(error) => tracing::error!(%error, organization_id, "routing could not read an organization"),
        }
    }

    async fn handle(&mut self, command: Command) {
        match command {
            Command::Reload(organization_id) => {
                self.load(organization_id).await;
                self.drain_all(organization_id).await;
            }
            Command::Presence {
                organization_id,
                user_id,
                status,
            } => {
                let Some(roster) = self.organizations.get_mut(&organization_id) else {
                    return;
                };
                let wake = roster.set_available(user_id, status == AgentStatus::Online);
                let released = match status {
                    AgentStatus::Away | AgentStatus::Offline => roster.released_on_away(user_id),
                    AgentStatus::Online | AgentStatus::Busy => Vec::new(),
                };
                let name = roster.agents.get(&user_id).map(|a| a.name.clone()).unwrap_or_default();
                let line = format!("{name} went {status}; the conversation goes back to the queue");
                for conversation_id in released {
                    self.release(organization_id, conversation_id, user_id, &line).await;
                }
                for team_id in wake {
                    self.drain(organization_id, team_id).await;
                }
            }
            Command::RouteNow {
                organization_id,
                conversation_id,
                strategy,
                reply,
            } => {
                let outcome = self.route_now(organization_id, conversation_id, strategy).await;
                let _ = reply.send(outcome);
            }
            Command::Team {
                organization_id,
                team_id,
                reply,
            } => {
                let picture = self
                    .organizations
                    .get(&organization_id)
                    .and_then(|roster| {
                        let team = roster.teams.get(&team_id)?;
                        Some(TeamPicture {
                            agents: team
                                .members
                                .iter()
                                .map(|&m| (m, roster.open_of(m), roster.capacity_in(m, team_id)))
                                .collect(),
                            queue: roster
                                .queue(team_id)
                                .into_iter()
                                .map(|k| (k.conversation_id, k.queued_at))
                                .collect(),
                        })
                    })
                    .unwrap_or_default();
                let _ = reply.send(picture);
            }
            Command::Position {
                organization_id,
                conversation_id,
                reply,
            } => {
                let position = self
                    .organizations
                    .get(&organization_id)
                    .and_then(|r| r.position(conversation_id));
                let _ = reply.send(position);
            }
        }
    }

    async fn route_now(
        &mut self,
        organization_id: Id,
        conversation_id: Id,
        strategy: Option<RoutingStrategy>,
    ) -> StoreResult<RouteOutcome> {
        if !self.organizations.contains_key(&organization_id) {
            self.load(organization_id).await;
        }
        let conversation = self.store.conversation(organization_id, conversation_id).await?;
        if let Some(assignee) = conversation.assignee_id {
            return Ok(RouteOutcome::NotRoutable {
                reason: format!(
                    "{} already has this conversation",
                    conversation
                        .assignee_name
                        .unwrap_or_else(|| format!("agent {assignee}"))
                ),
            });
        }
        let Some(roster) = self.organizations.get_mut(&organization_id) else {
            return Ok(not_in_a_team());
        };
        roster.observe(&conversation);
        let Some(decision) = roster.route_one(conversation_id, strategy, now_millis()) else {
            return Ok(match roster.position(conversation_id) {
                Some((position, queued_at)) => RouteOutcome::Queued { position, queued_at },
                None => not_in_a_team(),
            });
        };
        let name = roster
            .agents
            .get(&decision.user_id)
            .map(|a| a.name.clone())
            .unwrap_or_default();
        if self.write(organization_id, &decision).await {
            Ok(RouteOutcome::Assigned {
                user_id: decision.user_id,
                name,
            })
        } else {
            Ok(RouteOutcome::NotRoutable {
                reason: "someone took the conversation meanwhile".into(),
            })
        }
    }

    async fn drain_all(&mut self, organization_id: Id) {
        let teams: Vec<Id> = self
            .organizations
            .get(&organization_id)
            .map(|r| r.teams.keys().copied().collect())
            .unwrap_or_default();
        for team_id in teams {
            self.drain(organization_id, team_id).await;
        }
    }

    async fn drain(&mut self, organization_id: Id, team_id: Id) {
        let decisions = match self.organizations.get_mut(&organization_id) {
            Some(roster) => roster.drain(team_id, now_millis()),
            None => return,
        };
        for decision in decisions {
            self.write(organization_id, &decision).await;
        }
    }

    /// Writes a pick; `false` (and the pick undone) when the conversation was taken first.
    async fn write(&mut self, organization_id: Id, decision: &Decision) -> bool {
        let written = self
            .store
            .route_to(
                organization_id,
                decision.conversation_id,
                decision.user_id,
                &decision.line,
            )
            .await;
        match written {
            Ok(Some(written)) => {
                // Our own subscription sees this event too; observing it again changes nothing.
                if let Some(roster) = self.organizations.get_mut(&organization_id) {
                    roster.observe(&written.value);
                }
                self.bus.publish_batch(written.events);
                true
            }
            Ok(None) => {
                if let Some(roster) = self.organizations.get_mut(&organization_id) {
                    roster.undo(decision);
                }
                false
            }
            Err(error) => {
                tracing::error!(%error, conversation_id = decision.conversation_id, "could not write a routing decision");
                if let Some(roster) = self.organizations.get_mut(&organization_id) {
                    roster.undo(decision);
                }
                false
            }
        }
    }

    async fn release(&mut self, organization_id: Id, conversation_id: Id, from_user: Id, line: &str) {
        match self
            .store
            .release(organization_id, conversation_id, from_user, line)
            .await
        {
            Ok(Some(written)) => {
                let wake = self
                    .organizations
                    .get_mut(&organization_id)
                    .map(|r| r.observe(&written.value))
                    .unwrap_or_default();
                self.bus.publish_batch(written.events);
                for team_id in wake {
                    self.drain(organization_id, team_id).await;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, conversation_id, "could not release a conversation"),
        }
    }

    fn next_timer(&self) -> Option<Millis> {
        let now = now_millis();
        self.organizations
            .values()
            .flat_map(|r| [r.next_fallback(now), r.next_reply_due()])
            .flatten()
            .min()
    }

    /// A skill-based fallback opened or a reply deadline passed.
    async fn timers(&mut self) {
        let now = now_millis();
        let due: Vec<Due> = self
            .organizations
            .iter()
            .map(|(org, r)| (*org, r.fallback_teams(now), r.overdue(now)))
            .collect();
        for (organization_id, teams, overdue) in due {
            for (conversation_id, user_id) in overdue {
                let name = self
                    .organizations
                    .get(&organization_id)
                    .and_then(|r| r.agents.get(&user_id))
                    .map(|a| a.name.clone())
                    .unwrap_or_default();
                let line = format!("{name} did not reply in time; the conversation goes back to the queue");
                self.release(organization_id, conversation_id, user_id, &line).await;
                // Released or not (they resolved it meanwhile), this deadline is done.
                if let Some(roster) = self.organizations.get_mut(&organization_id) {
                    roster.deadline_done(conversation_id);
                }
            }
            for team_id in teams {
                self.drain(organization_id, team_id).await;
            }
        }
    }
}

/// One organization's timers that went off: teams whose skill fallback opened, and
/// (conversation, holder) pairs whose reply is overdue.
type Due = (Id, Vec<Id>, Vec<(Id, Id)>);

fn not_in_a_team() -> RouteOutcome {
    RouteOutcome::NotRoutable {
        reason: "this conversation is in no team; transfer it to a team first".into(),
    }
}
