//! One organization's routing picture, in memory, and every decision made from it: who can
//! take work (available, under capacity), each team's queue (priority, then waiting time),
//! and which agent each strategy picks. Pure: no clock, no database, no tasks; the router
//! (`mod.rs`) feeds it what happened and writes what it decides. Loads are counted here as
//! conversations are assigned and finished, never by asking the database on a pick.

use crate::model::{Conversation, ConversationStatus, Id, Millis, Priority, RoutingStrategy};
use crate::store::{RoutingSnapshot, WaitingConversation};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};

#[derive(Debug, Clone)]
pub struct AgentState {
    pub name: String,
    pub available: bool,
    /// Their own capacity, over every team's.
    pub capacity: Option<u32>,
    pub skills: BTreeSet<String>,
    pub senior: bool,
    /// Open conversations they hold, in any team.
    pub open: u32,
    pub teams: Vec<Id>,
}

#[derive(Debug, Clone)]
pub struct TeamState {
    pub name: String,
    pub strategy: RoutingStrategy,
    pub capacity: u32,
    pub fallback_ms: Millis,
    pub release_on_away: bool,
    /// By id, so the rotation is stable.
    pub members: Vec<Id>,
    /// Round-robin: the member to try first next time.
    pub cursor: usize,
    pub queue: BTreeSet<QueueKey>,
}

/// A queue's order: higher priority first, then who waited longest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct QueueKey {
    pub rank: Reverse<u8>,
    pub queued_at: Millis,
    pub conversation_id: Id,
}

#[derive(Debug, Clone, Copy)]
struct Held {
    user_id: Id,
    team_id: Option<Id>,
    reply_due_at: Option<Millis>,
}

#[derive(Debug, Clone)]
struct Waiting {
    team_id: Id,
    key: QueueKey,
    skills: BTreeSet<String>,
}

/// Routing's choice: give `conversation_id` to `user_id`, saying `line` in the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub conversation_id: Id,
    pub team_id: Id,
    pub user_id: Id,
    pub line: String,
}

#[derive(Debug, Clone, Default)]
pub struct Roster {
    pub teams: HashMap<Id, TeamState>,
    pub agents: HashMap<Id, AgentState>,
    /// Open conversations someone holds.
    held: HashMap<Id, Held>,
    waiting: HashMap<Id, Waiting>,
}

fn key(priority: Priority, queued_at: Millis, conversation_id: Id) -> QueueKey {
    QueueKey {
        rank: Reverse(priority.rank()),
        queued_at,
        conversation_id,
    }
}

fn skill_set(skills: &[String]) -> BTreeSet<String> {
    skills.iter().map(|s| s.trim().to_lowercase()).collect()
}

fn is_open(status: ConversationStatus) -> bool {
    match status {
        ConversationStatus::New | ConversationStatus::Active => true,
        ConversationStatus::Resolved | ConversationStatus::Closed => false,
    }
}

impl Roster {
    /// The picture the database holds; `available` says who is online now.
    pub fn from_snapshot(snapshot: RoutingSnapshot, available: impl Fn(Id) -> bool) -> Self {
        let mut roster = Roster::default();
        for agent in snapshot.agents {
            roster.agents.insert(
                agent.user_id,
                AgentState {
                    available: available(agent.user_id),
                    name: agent.name,
                    capacity: agent.capacity.map(|c| c.max(0) as u32),
                    skills: skill_set(&agent.skills),
                    senior: agent.senior,
                    open: 0,
                    teams: Vec::new(),
                },
            );
        }
        for team in snapshot.teams {
            let mut members: Vec<Id> = team.members.iter().map(|m| m.user_id).collect();
            members.sort_unstable();
            for member in &members {
                if let Some(agent) = roster.agents.get_mut(member) {
                    agent.teams.push(team.id);
                }
            }
            roster.teams.insert(
                team.id,
                TeamState {
                    name: team.name,
                    strategy: team.strategy,
                    capacity: team.capacity.max(0) as u32,
                    fallback_ms: team.skill_fallback_secs.max(0) * 1000,
                    release_on_away: team.release_on_away,
                    members,
                    cursor: 0,
                    queue: BTreeSet::new(),
                },
            );
        }
        for held in snapshot.held {
            roster.hold(
                held.conversation_id,
                Held {
                    user_id: held.user_id,
                    team_id: held.team_id,
                    reply_due_at: held.reply_due_at,
                },
            );
        }
        for waiting in snapshot.waiting {
            roster.enqueue(waiting);
        }
        roster
    }

    fn hold(&mut self, conversation_id: Id, held: Held) {
        if let Some(previous) = self.held.insert(conversation_id, held)
            && let Some(agent) = self.agents.get_mut(&previous.user_id)
        {
            agent.open = agent.open.saturating_sub(1);
        }
        if let Some(agent) = self.agents.get_mut(&held.user_id) {
            agent.open += 1;
        }
    }

    /// Forgets who held it; returns who did.
    fn unhold(&mut self, conversation_id: Id) -> Option<Id> {
        let held = self.held.remove(&conversation_id)?;
        if let Some(agent) = self.agents.get_mut(&held.user_id) {
            agent.open = agent.open.saturating_sub(1);
        }
        Some(held.user_id)
    }

    fn enqueue(&mut self, waiting: WaitingConversation) {
        let Some(team) = self.teams.get_mut(&waiting.team_id) else {
            return;
        };
        let key = key(waiting.priority, waiting.queued_at, waiting.conversation_id);
        team.queue.insert(key);
        self.waiting.insert(
            waiting.conversation_id,
            Waiting {
                team_id: waiting.team_id,
                key,
                skills: skill_set(&waiting.required_skills),
            },
        );
    }

    fn dequeue(&mut self, conversation_id: Id) {
        if let Some(waiting) = self.waiting.remove(&conversation_id)
            && let Some(team) = self.teams.get_mut(&waiting.team_id)
        {
            team.queue.remove(&waiting.key);
        }
    }

    /// Takes in a conversation as an event showed it; returns the teams that may now hand
    /// out work (something joined their queue, or one of their agents has room again).
    pub fn observe(&mut self, conversation: &Conversation) -> Vec<Id> {
        let open = is_open(conversation.status);
        let mut wake = Vec::new();
        let holder = if open { conversation.assignee_id } else { None };
        let previous = self.held.get(&conversation.id).map(|h| h.user_id);
        match holder {
            Some(user_id) => self.hold(
                conversation.id,
                Held {
                    user_id,
                    team_id: conversation.team_id,
                    reply_due_at: conversation.reply_due_at,
                },
            ),
            None => {
                self.unhold(conversation.id);
            }
        }
        if let Some(freed) = previous.filter(|p| Some(*p) != holder) {
            wake.extend(self.agents.get(&freed).map(|a| a.teams.clone()).unwrap_or_default());
        }
        self.dequeue(conversation.id);
        if let (true, None, Some(team_id), Some(queued_at)) =
            (open, conversation.assignee_id, conversation.team_id, conversation.queued_at)
        {
            self.enqueue(WaitingConversation {
                conversation_id: conversation.id,
                team_id,
                priority: conversation.priority,
                queued_at,
                required_skills: conversation.required_skills.clone(),
            });
            wake.push(team_id);
        }
        wake.sort_unstable();
        wake.dedup();
        wake
    }

    /// An agent came online or left; returns the teams that may now hand out work.
    pub fn set_available(&mut self, user_id: Id, available: bool) -> Vec<Id> {
        match self.agents.get_mut(&user_id) {
            Some(agent) if agent.available != available => {
                agent.available = available;
                if available { agent.teams.clone() } else { Vec::new() }
            }
            Some(_) | None => Vec::new(),
        }
    }

    fn capacity(&self, agent: &AgentState, team: &TeamState) -> u32 {
        agent.capacity.unwrap_or(team.capacity)
    }

    fn can_take(&self, user_id: Id, team: &TeamState) -> bool {
        self.agents
            .get(&user_id)
            .is_some_and(|agent| agent.available && agent.open < self.capacity(agent, team))
    }

    /// The member who should take a conversation needing `skills`, waiting since `queued_at`,
    /// of `priority`, by the team's strategy (or `strategy` when asked for one); `None` when
    /// nobody may now. Round-robin moves the team's rotation past whoever it picks.
    fn pick(
        &mut self,
        team_id: Id,
        strategy: Option<RoutingStrategy>,
        skills: &BTreeSet<String>,
        priority: Priority,
        queued_at: Millis,
        now: Millis,
    ) -> Option<Id> {
        let team = self.teams.get(&team_id)?;
        let free: Vec<Id> = team
            .members
            .iter()
            .copied()
            .filter(|&m| self.can_take(m, team))
            .collect();
        if free.is_empty() {
            return None;
        }
        let least_loaded = |candidates: &mut dyn Iterator<Item = Id>| -> Option<Id> {
            candidates.min_by_key(|id| (self.agents.get(id).map_or(u32::MAX, |a| a.open), *id))
        };
        let covers = |id: &Id| self.agents.get(id).is_some_and(|a| skills.is_subset(&a.skills));
        match strategy.unwrap_or(team.strategy) {
            RoutingStrategy::Manual => None,
            RoutingStrategy::RoundRobin => {
                let count = team.members.len();
                let start = team.cursor % count;
                let (index, user_id) = (0..count)
                    .map(|step| (start + step) % count)
                    .map(|index| (index, team.members[index]))
                    .find(|(_, member)| free.contains(member))?;
                if let Some(team) = self.teams.get_mut(&team_id) {
                    team.cursor = index + 1;
                }
                Some(user_id)
            }
            RoutingStrategy::LoadBalanced => least_loaded(&mut free.iter().copied()),
            RoutingStrategy::SkillBased => {
                least_loaded(&mut free.iter().copied().filter(covers)).or_else(|| {
                    let waited_enough = now >= queued_at + team.fallback_ms;
                    if waited_enough {
                        least_loaded(&mut free.iter().copied())
                    } else {
                        None
                    }
                })
            }
            RoutingStrategy::Priority => {
                let senior = |id: &Id| self.agents.get(id).is_some_and(|a| a.senior);
                // Urgent and high go to seniors first; the rest spare them while others have room.
                let wants_senior = priority.rank() >= Priority::High.rank();
                least_loaded(&mut free.iter().copied().filter(|id| senior(id) == wants_senior))
                    .or_else(|| least_loaded(&mut free.iter().copied()))
            }
        }
    }

    fn line(&self, user_id: Id, strategy: RoutingStrategy) -> String {
        let name = self.agents.get(&user_id).map_or("an agent", |a| a.name.as_str());
        format!("Routed to {name} ({})", strategy.label().to_lowercase())
    }

    /// Hands out as much of a team's queue as its agents can take now, in queue order, and
    /// counts each pick at once (the caller writes them; a pick that fails to write is
    /// corrected by the event, or the lack of one, that follows).
    pub fn drain(&mut self, team_id: Id, now: Millis) -> Vec<Decision> {
        let mut decisions = Vec::new();
        let Some(team) = self.teams.get(&team_id) else {
            return decisions;
        };
        let strategy = team.strategy;
        if strategy == RoutingStrategy::Manual {
            return decisions;
        }
        let queue: Vec<QueueKey> = team.queue.iter().copied().collect();
        for key in queue {
            let Some(team) = self.teams.get(&team_id) else {
                break;
            };
            if !team.members.iter().any(|&m| self.can_take(m, team)) {
                break;
            }
            let Some(skills) = self.waiting.get(&key.conversation_id).map(|w| w.skills.clone()) else {
                continue;
            };
            let priority = Priority::ALL
                .iter()
                .copied()
                .find(|p| p.rank() == key.rank.0)
                .unwrap_or_default();
            if let Some(user_id) = self.pick(team_id, None, &skills, priority, key.queued_at, now) {
                self.dequeue(key.conversation_id);
                self.hold(
                    key.conversation_id,
                    Held {
                        user_id,
                        team_id: Some(team_id),
                        reply_due_at: None,
                    },
                );
                decisions.push(Decision {
                    conversation_id: key.conversation_id,
                    team_id,
                    user_id,
                    line: self.line(user_id, strategy),
                });
            }
        }
        decisions
    }

    /// Routes one waiting conversation now, by `strategy` if given; `None` when nobody can
    /// take it (it keeps its place in the queue).
    pub fn route_one(&mut self, conversation_id: Id, strategy: Option<RoutingStrategy>, now: Millis) -> Option<Decision> {
        let waiting = self.waiting.get(&conversation_id)?.clone();
        let team = self.teams.get(&waiting.team_id)?;
        let strategy = strategy.unwrap_or(team.strategy);
        let priority = Priority::ALL
            .iter()
            .copied()
            .find(|p| p.rank() == waiting.key.rank.0)
            .unwrap_or_default();
        let user_id = self.pick(
            waiting.team_id,
            Some(strategy),
            &waiting.skills,
            priority,
            waiting.key.queued_at,
            now,
        )?;
        self.dequeue(conversation_id);
        self.hold(
            conversation_id,
            Held {
                user_id,
                team_id: Some(waiting.team_id),
                reply_due_at: None,
            },
        );
        Some(Decision {
            conversation_id,
            team_id: waiting.team_id,
            user_id,
            line: self.line(user_id, strategy),
        })
    }

    /// A pick that could not be written (someone else took the conversation first): the
    /// agent's count goes back; the conversation's own event says where it is now.
    pub fn undo(&mut self, decision: &Decision) {
        if self.held.get(&decision.conversation_id).map(|h| h.user_id) == Some(decision.user_id) {
            self.unhold(decision.conversation_id);
        }
    }

    /// Where a waiting conversation stands in its team's queue (1 = next) and since when.
    pub fn position(&self, conversation_id: Id) -> Option<(usize, Millis)> {
        let waiting = self.waiting.get(&conversation_id)?;
        let team = self.teams.get(&waiting.team_id)?;
        let ahead = team.queue.range(..waiting.key).count();
        Some((ahead + 1, waiting.key.queued_at))
    }

    /// A team's queue in order: (conversation, priority rank, queued at).
    pub fn queue(&self, team_id: Id) -> Vec<QueueKey> {
        self.teams
            .get(&team_id)
            .map(|t| t.queue.iter().copied().collect())
            .unwrap_or_default()
    }

    /// When the next skill-based fallback opens: the earliest moment a waiting conversation
    /// nobody skilled could take may go to the rest of its team.
    pub fn next_fallback(&self, now: Millis) -> Option<Millis> {
        self.waiting
            .values()
            .filter(|w| !w.skills.is_empty())
            .filter_map(|w| {
                let team = self.teams.get(&w.team_id)?;
                (team.strategy == RoutingStrategy::SkillBased).then_some(w.key.queued_at + team.fallback_ms)
            })
            .filter(|at| *at > now)
            .min()
    }

    /// Teams with skill-based waiting conversations whose fallback has opened by `now`.
    pub fn fallback_teams(&self, now: Millis) -> Vec<Id> {
        let mut teams: Vec<Id> = self
            .waiting
            .values()
            .filter(|w| !w.skills.is_empty())
            .filter(|w| {
                self.teams
                    .get(&w.team_id)
                    .is_some_and(|t| t.strategy == RoutingStrategy::SkillBased && w.key.queued_at + t.fallback_ms <= now)
            })
            .map(|w| w.team_id)
            .collect();
        teams.sort_unstable();
        teams.dedup();
        teams
    }

    /// The earliest reply deadline among held conversations.
    pub fn next_reply_due(&self) -> Option<Millis> {
        self.held.values().filter_map(|h| h.reply_due_at).min()
    }

    /// Held conversations whose reply is overdue at `now`: (conversation, holder).
    pub fn overdue(&self, now: Millis) -> Vec<(Id, Id)> {
        self.held
            .iter()
            .filter(|(_, h)| h.reply_due_at.is_some_and(|d| d <= now))
            .map(|(conversation, h)| (*conversation, h.user_id))
            .collect()
    }

    /// A reply deadline was acted on: it no longer wakes the router.
    pub fn deadline_done(&mut self, conversation_id: Id) {
        if let Some(held) = self.held.get_mut(&conversation_id) {
            held.reply_due_at = None;
        }
    }

    /// What an agent going away hands back: their open conversations in teams that release
    /// on away.
    pub fn released_on_away(&self, user_id: Id) -> Vec<Id> {
        let releasing: HashSet<Id> = self
            .teams
            .iter()
            .filter(|(_, t)| t.release_on_away)
            .map(|(id, _)| *id)
            .collect();
        self.held
            .iter()
            .filter(|(_, h)| h.user_id == user_id && h.team_id.is_some_and(|t| releasing.contains(&t)))
            .map(|(conversation, _)| *conversation)
            .collect()
    }

    /// Open conversations an agent holds.
    pub fn open_of(&self, user_id: Id) -> u32 {
        self.agents.get(&user_id).map_or(0, |a| a.open)
    }

    /// An agent's capacity in a team.
    pub fn capacity_in(&self, user_id: Id, team_id: Id) -> u32 {
        match (self.agents.get(&user_id), self.teams.get(&team_id)) {
            (Some(agent), Some(team)) => self.capacity(agent, team),
            _ => 0,
        }
    }
}
