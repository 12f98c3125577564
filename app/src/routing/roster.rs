//! One organization's routing picture, in memory, and every decision made from it: who can
//! take work (available, under capacity), each team's queue (priority, then waiting time),
//! and which agent each strategy picks. Pure: no clock, no database, no tasks; the router
//! (`mod.rs`) feeds it what happened and writes what it decides. Loads are counted here as
//! conversations are assigned and finished, never by asking the database on a pick.

use crate::model::{Conversation, ConversationStatus, Id, Millis, Priority, RoutingStrategy};
use crate::store::{RoutingSnapshot, WaitingConversation};
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;

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
    /// Who just lost it (their reply timer ran out): someone else gets it if anyone can.
    avoid: Option<Id>,
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
            roster.enqueue(waiting, None);
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

    fn enqueue(&mut self, waiting: WaitingConversation, avoid: Option<Id>) {
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
                avoid,
            },
        );
    }

    fn waiting_avoid(&self, conversation_id: Id) -> Option<Id> {
        self.waiting.get(&conversation_id).and_then(|w| w.avoid)
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
        let avoid = previous.or_else(|| self.waiting_avoid(conversation.id));
        self.dequeue(conversation.id);
        if let (true, None, Some(team_id), Some(queued_at)) = (
            open,
            conversation.assignee_id,
            conversation.team_id,
            conversation.queued_at,
        ) {
            self.enqueue(
                WaitingConversation {
                    conversation_id: conversation.id,
                    team_id,
                    priority: conversation.priority,
                    queued_at,
                    required_skills: conversation.required_skills.clone(),
                },
                avoid,
            );
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
    fn pick(&mut self, team_id: Id, strategy: Option<RoutingStrategy>, waiting: &Waiting, now: Millis) -> Option<Id> {
        let team = self.teams.get(&team_id)?;
        let mut free: Vec<Id> = team
            .members
            .iter()
            .copied()
            .filter(|&m| self.can_take(m, team))
            .collect();
        if free.is_empty() {
            return None;
        }
        if let Some(avoid) = waiting.avoid
            && free.len() > 1
        {
            free.retain(|m| *m != avoid);
        }
        let skills = &waiting.skills;
        let queued_at = waiting.key.queued_at;
        let priority = Priority::ALL
            .iter()
            .copied()
            .find(|p| p.rank() == waiting.key.rank.0)
            .unwrap_or_default();
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
            RoutingStrategy::SkillBased => least_loaded(&mut free.iter().copied().filter(covers)).or_else(|| {
                let waited_enough = now >= queued_at + team.fallback_ms;
                if waited_enough {
                    least_loaded(&mut free.iter().copied())
                } else {
                    None
                }
            }),
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
        // Walked in order without copying the queue: a long queue with one free place costs
        // one step, not a pass over every waiting conversation.
        let mut after: Option<QueueKey> = None;
        while let Some(team) = self.teams.get(&team_id) {
            let next = match after {
                Some(last) => team.queue.range((Bound::Excluded(last), Bound::Unbounded)).next(),
                None => team.queue.iter().next(),
            };
            let Some(&key) = next else {
                break;
            };
            after = Some(key);
            if !team.members.iter().any(|&m| self.can_take(m, team)) {
                break;
            }
            let Some(waiting) = self.waiting.get(&key.conversation_id).cloned() else {
                continue;
            };
            if let Some(user_id) = self.pick(team_id, None, &waiting, now) {
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
    pub fn route_one(
        &mut self,
        conversation_id: Id,
        strategy: Option<RoutingStrategy>,
        now: Millis,
    ) -> Option<Decision> {
        let waiting = self.waiting.get(&conversation_id)?.clone();
        let team = self.teams.get(&waiting.team_id)?;
        let strategy = strategy.unwrap_or(team.strategy);
        let user_id = self.pick(waiting.team_id, Some(strategy), &waiting, now)?;
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
                self.teams.get(&w.team_id).is_some_and(|t| {
                    t.strategy == RoutingStrategy::SkillBased && w.key.queued_at + t.fallback_ms <= now
                })
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::ChannelKind;
    use crate::store::AgentRouting;
    use crate::team::{Team, TeamMember};

    const TEAM: Id = 1;

    fn team(strategy: RoutingStrategy, capacity: i64, members: &[Id]) -> Team {
        Team {
            id: TEAM,
            name: "Support".into(),
            strategy,
            capacity,
            skill_fallback_secs: 60,
            ownership_timeout_secs: None,
            release_on_away: true,
            members: members
                .iter()
                .map(|&user_id| TeamMember {
                    user_id,
                    name: format!("A{user_id}"),
                })
                .collect(),
            created_at: 0,
        }
    }

    fn agent(user_id: Id, skills: &[&str], senior: bool) -> AgentRouting {
        AgentRouting {
            user_id,
            name: format!("A{user_id}"),
            capacity: None,
            skills: skills.iter().map(|s| s.to_string()).collect(),
            senior,
        }
    }

    fn roster(strategy: RoutingStrategy, capacity: i64, agents: Vec<AgentRouting>) -> Roster {
        let members: Vec<Id> = agents.iter().map(|a| a.user_id).collect();
        Roster::from_snapshot(
            RoutingSnapshot {
                teams: vec![team(strategy, capacity, &members)],
                agents,
                held: vec![],
                waiting: vec![],
            },
            |_| true,
        )
    }

    fn waiting(id: Id, priority: Priority, queued_at: Millis, skills: &[&str]) -> Conversation {
        Conversation {
            id,
            contact_id: id,
            contact_name: format!("C{id}"),
            contact_avatar_url: None,
            channel_id: 1,
            channel_kind: ChannelKind::Demo,
            channel_name: "Demo".into(),
            status: ConversationStatus::New,
            assignee_id: None,
            assignee_name: None,
            unread_count: 1,
            last_message_preview: None,
            last_message_at: queued_at,
            last_inbound_at: Some(queued_at),
            created_at: queued_at,
            team_id: Some(TEAM),
            team_name: Some("Support".into()),
            priority,
            required_skills: skills.iter().map(|s| s.to_string()).collect(),
            queued_at: Some(queued_at),
            reply_due_at: None,
        }
    }

    /// Arrivals, then one drain: who got each, in order.
    fn route(roster: &mut Roster, arrivals: &[Conversation], now: Millis) -> Vec<(Id, Id)> {
        for conversation in arrivals {
            roster.observe(conversation);
        }
        roster
            .drain(TEAM, now)
            .into_iter()
            .map(|d| (d.conversation_id, d.user_id))
            .collect()
    }

    fn plain(ids: std::ops::Range<Id>) -> Vec<Conversation> {
        ids.map(|id| waiting(id, Priority::None, id, &[])).collect()
    }

    #[test]
    fn round_robin_rotates_and_skips_who_is_full_or_away() {
        let agents = vec![agent(1, &[], false), agent(2, &[], false), agent(3, &[], false)];
        let mut r = roster(RoutingStrategy::RoundRobin, 2, agents);
        let picks: Vec<Id> = route(&mut r, &plain(10..14), 100).iter().map(|p| p.1).collect();
        assert_eq!(picks, vec![1, 2, 3, 1]);
        r.set_available(2, false);
        let picks: Vec<Id> = route(&mut r, &plain(20..24), 100).iter().map(|p| p.1).collect();
        assert_eq!(picks, vec![3], "2 is away, 1 is full; 3 fills up and the rest waits");
        assert_eq!(r.queue(TEAM).len(), 3);
        assert_eq!(r.position(23), Some((3, 23)));
    }

    #[test]
    fn load_balanced_picks_the_least_loaded() {
        let agents = vec![agent(1, &[], false), agent(2, &[], false)];
        let mut r = roster(RoutingStrategy::LoadBalanced, 10, agents);
        let mut held = waiting(1, Priority::None, 1, &[]);
        held.assignee_id = Some(1);
        r.observe(&held);
        let picks: Vec<Id> = route(&mut r, &plain(10..13), 100).iter().map(|p| p.1).collect();
        assert_eq!(picks, vec![2, 1, 2], "2 starts lighter; ties go to the lower id");
    }

    #[test]
    fn skill_based_waits_for_a_skilled_agent_until_the_fallback() {
        let agents = vec![agent(1, &["french"], false), agent(2, &[], false)];
        let mut r = roster(RoutingStrategy::SkillBased, 1, agents);
        let french = [
            waiting(10, Priority::None, 1_000, &["French"]),
            waiting(11, Priority::None, 1_001, &["french"]),
        ];
        assert_eq!(route(&mut r, &french, 1_500), vec![(10, 1)]);
        assert_eq!(r.next_fallback(1_500), Some(61_001));
        assert_eq!(
            r.drain(TEAM, 61_000),
            vec![],
            "agent 2 lacks French before the wait is over"
        );
        assert_eq!(r.fallback_teams(61_001), vec![TEAM]);
        let picks: Vec<(Id, Id)> = r
            .drain(TEAM, 61_001)
            .iter()
            .map(|d| (d.conversation_id, d.user_id))
            .collect();
        assert_eq!(picks, vec![(11, 2)]);
    }

    #[test]
    fn urgent_goes_to_seniors_first_and_the_rest_spares_them() {
        let agents = vec![agent(1, &[], true), agent(2, &[], false), agent(3, &[], false)];
        let mut r = roster(RoutingStrategy::Priority, 5, agents);
        let arrivals = [
            waiting(10, Priority::Low, 1, &[]),
            waiting(11, Priority::Urgent, 2, &[]),
            waiting(12, Priority::High, 3, &[]),
            waiting(13, Priority::None, 4, &[]),
        ];
        let picks = route(&mut r, &arrivals, 100);
        assert_eq!(picks, vec![(11, 1), (12, 1), (10, 2), (13, 3)]);
    }

    #[test]
    fn the_queue_drains_by_priority_then_waiting_time_as_agents_free_up() {
        let mut r = roster(RoutingStrategy::RoundRobin, 1, vec![agent(1, &[], false)]);
        let arrivals = [
            waiting(10, Priority::None, 1, &[]),
            waiting(11, Priority::None, 2, &[]),
            waiting(12, Priority::Urgent, 3, &[]),
            waiting(13, Priority::High, 4, &[]),
            waiting(14, Priority::Urgent, 5, &[]),
        ];
        assert_eq!(route(&mut r, &arrivals[..1], 10), vec![(10, 1)]);
        assert_eq!(route(&mut r, &arrivals[1..], 10), vec![], "agent 1 is full");
        let mut order = Vec::new();
        let mut current = arrivals[0].clone();
        for _ in 0..4 {
            current.assignee_id = Some(1);
            current.status = ConversationStatus::Resolved;
            assert_eq!(r.observe(&current), vec![TEAM], "resolving frees agent 1");
            let next = r.drain(TEAM, 10);
            assert_eq!(next.len(), 1);
            order.push(next[0].conversation_id);
            current = arrivals
                .iter()
                .find(|c| c.id == next[0].conversation_id)
                .unwrap()
                .clone();
        }
        assert_eq!(order, vec![12, 14, 13, 11]);
    }

    #[test]
    fn capacity_is_the_agents_own_when_set_and_counts_every_team() {
        let mut own = agent(1, &[], false);
        own.capacity = Some(1);
        let mut r = roster(RoutingStrategy::LoadBalanced, 3, vec![own, agent(2, &[], false)]);
        let picks: Vec<Id> = route(&mut r, &plain(10..15), 100).iter().map(|p| p.1).collect();
        assert_eq!(picks, vec![1, 2, 2, 2]);
        assert_eq!((r.open_of(1), r.capacity_in(1, TEAM)), (1, 1));
        assert_eq!((r.open_of(2), r.capacity_in(2, TEAM)), (3, 3));
    }

    #[test]
    fn a_released_conversation_goes_to_someone_else_if_anyone_can() {
        let mut r = roster(
            RoutingStrategy::RoundRobin,
            5,
            vec![agent(1, &[], false), agent(2, &[], false)],
        );
        let mut conversation = waiting(10, Priority::None, 1, &[]);
        conversation.assignee_id = Some(1);
        r.observe(&conversation);
        conversation.assignee_id = None;
        conversation.queued_at = Some(50);
        assert_eq!(r.observe(&conversation), vec![TEAM]);
        assert_eq!(r.drain(TEAM, 60)[0].user_id, 2);
    }

    #[test]
    fn a_pick_that_lost_the_race_is_undone() {
        let mut r = roster(RoutingStrategy::RoundRobin, 5, vec![agent(1, &[], false)]);
        let decision = r.route_one(0, None, 0);
        assert!(decision.is_none(), "nothing is waiting");
        r.observe(&waiting(10, Priority::None, 1, &[]));
        let decision = r.route_one(10, Some(RoutingStrategy::LoadBalanced), 5).unwrap();
        assert_eq!(r.open_of(1), 1);
        r.undo(&decision);
        assert_eq!(r.open_of(1), 0);
    }

    #[test]
    fn overdue_replies_are_found_and_forgotten_once_acted_on() {
        let mut r = roster(RoutingStrategy::RoundRobin, 5, vec![agent(1, &[], false)]);
        let mut conversation = waiting(10, Priority::None, 1, &[]);
        conversation.assignee_id = Some(1);
        conversation.reply_due_at = Some(1_000);
        r.observe(&conversation);
        assert_eq!(r.next_reply_due(), Some(1_000));
        assert_eq!(r.overdue(999), vec![]);
        assert_eq!(r.overdue(1_000), vec![(10, 1)]);
        assert_eq!(r.released_on_away(1), vec![10]);
        r.deadline_done(10);
        assert_eq!(r.next_reply_due(), None);
    }
}
