//! Who is online, and who is viewing or typing in which conversation: ephemeral, never
//! stored in the database. An agent's status is what they chose (online, away, busy,
//! offline), or, when they chose nothing, online while a tab of theirs is connected; the last
//! tab closing makes them offline after a grace period (a reload or a flaky network does
//! not). [`Presence`] keeps it in this process's memory, which is all one instance needs;
//! several instances share it through Redis (`server/src/realtime/redis_presence.rs`), behind
//! the same [`PresenceStore`].

use crate::model::{AgentStatus, Id, Millis};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Where presence is kept: this process's memory, or Redis across instances.
#[async_trait]
pub trait PresenceStore: Send + Sync {
    async fn status(&self, user_id: Id) -> AgentStatus;
    /// Everyone of an organization presence knows, with their status.
    async fn statuses(&self, organization_id: Id) -> HashMap<Id, AgentStatus>;
    /// The agent chose a status.
    async fn choose(&self, organization_id: Id, user_id: Id, status: AgentStatus) -> Option<StatusChange>;
    /// A tab of theirs connected.
    async fn connected(&self, organization_id: Id, user_id: Id) -> Option<StatusChange>;
    /// A tab of theirs closed; the generation to pass to `grace_over` if it was their last here.
    async fn disconnected(&self, user_id: Id) -> Option<u64>;
    /// The grace period after their last tab closed is over: offline unless a tab came back.
    async fn grace_over(&self, user_id: Id, generation: u64) -> Option<StatusChange>;
    /// A socket shows a conversation (or none); the conversations whose viewers changed.
    async fn view(&self, socket: &str, user_id: Id, conversation_id: Option<Id>, now: Millis) -> Vec<Id>;
    /// Whether the socket's person types in the conversation; `true` when that changed.
    async fn typing(&self, socket: &str, conversation_id: Id, typing: Option<Typing>) -> bool;
    /// Who views a conversation, one entry per person.
    async fn viewers(&self, conversation_id: Id) -> Vec<Viewer>;
}

#[derive(Debug, Default)]
struct Person {
    organization_id: Id,
    /// What they chose; `None`: follow their tabs.
    chosen: Option<AgentStatus>,
    sockets: u32,
    /// Their last tab closed and the grace period is running: still online meanwhile.
    lingering: bool,
    /// Counts disconnects, so a grace period that ends after a reconnect changes nothing.
    generation: u64,
}

impl Person {
    fn status(&self) -> AgentStatus {
        match self.chosen {
            Some(chosen) => chosen,
            None if self.sockets > 0 || self.lingering => AgentStatus::Online,
            None => AgentStatus::Offline,
        }
    }
}

/// A change of someone's status, to announce and to route by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub organization_id: Id,
    pub user_id: Id,
    pub before: AgentStatus,
    pub after: AgentStatus,
}

/// Someone looking at a conversation, and whether they are typing (a reply or a note)
/// (`GET /api/inbox/conversations/:id/viewers`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Viewer {
    pub user_id: Id,
    pub since: Millis,
    pub typing: Option<Typing>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Typing {
    Reply,
    Note,
}

#[derive(Default)]
pub struct Presence {
    people: Mutex<HashMap<Id, Person>>,
    /// conversation → socket id → viewer. By socket: one person in two tabs is one viewer
    /// until both leave.
    viewers: Mutex<HashMap<Id, BTreeMap<String, Viewer>>>,
}

fn change(person: &Person, user_id: Id, before: AgentStatus) -> Option<StatusChange> {
    let after = person.status();
    (after != before).then_some(StatusChange {
        organization_id: person.organization_id,
        user_id,
        before,
        after,
    })
}

#[async_trait]
impl PresenceStore for Presence {
    async fn status(&self, user_id: Id) -> AgentStatus {
        Presence::status(self, user_id)
    }
    async fn statuses(&self, organization_id: Id) -> HashMap<Id, AgentStatus> {
        Presence::statuses(self, organization_id)
    }
    async fn choose(&self, organization_id: Id, user_id: Id, status: AgentStatus) -> Option<StatusChange> {
        Presence::choose(self, organization_id, user_id, status)
    }
    async fn connected(&self, organization_id: Id, user_id: Id) -> Option<StatusChange> {
        Presence::connected(self, organization_id, user_id)
    }
    async fn disconnected(&self, user_id: Id) -> Option<u64> {
        Presence::disconnected(self, user_id)
    }
    async fn grace_over(&self, user_id: Id, generation: u64) -> Option<StatusChange> {
        Presence::grace_over(self, user_id, generation)
    }
    async fn view(&self, socket: &str, user_id: Id, conversation_id: Option<Id>, now: Millis) -> Vec<Id> {
        Presence::view(self, socket, user_id, conversation_id, now)
    }
    async fn typing(&self, socket: &str, conversation_id: Id, typing: Option<Typing>) -> bool {
        Presence::typing(self, socket, conversation_id, typing)
    }
    async fn viewers(&self, conversation_id: Id) -> Vec<Viewer> {
        Presence::viewers(self, conversation_id)
    }
}

impl Presence {
    /// Tabs open here, per person (what an instance mirrors into Redis).
    pub fn local_tabs(&self) -> Vec<(Id, u32)> {
        self.people
            .lock()
            .map(|people| {
                people
                    .iter()
                    .filter(|(_, p)| p.sockets > 0)
                    .map(|(id, p)| (*id, p.sockets))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn local_tabs_of(&self, user_id: Id) -> u32 {
        self.people
            .lock()
            .map(|people| people.get(&user_id).map_or(0, |p| p.sockets))
            .unwrap_or_default()
    }

    pub fn status(&self, user_id: Id) -> AgentStatus {
        self.people
            .lock()
            .map(|people| people.get(&user_id).map_or(AgentStatus::Offline, Person::status))
            .unwrap_or(AgentStatus::Offline)
    }

    /// The agent chose a status.
    pub fn choose(&self, organization_id: Id, user_id: Id, status: AgentStatus) -> Option<StatusChange> {
        let mut people = self.people.lock().ok()?;
        let person = people.entry(user_id).or_default();
        person.organization_id = organization_id;
        let before = person.status();
        // Choosing "online" while a tab is open is the same as following the tabs.
        person.chosen = Some(status);
        change(person, user_id, before)
    }

    /// A tab of theirs connected.
    pub fn connected(&self, organization_id: Id, user_id: Id) -> Option<StatusChange> {
        let mut people = self.people.lock().ok()?;
        let person = people.entry(user_id).or_default();
        person.organization_id = organization_id;
        let before = person.status();
        person.sockets += 1;
        person.lingering = false;
        // Someone who was offline only because their tabs closed comes back online.
        if person.chosen == Some(AgentStatus::Offline) && before == AgentStatus::Offline && person.sockets == 1 {
            person.chosen = None;
        }
        change(person, user_id, before)
    }

    /// A tab of theirs closed; returns the generation to pass to [`Self::grace_over`] if it
    /// was their last.
    pub fn disconnected(&self, user_id: Id) -> Option<u64> {
        let mut people = self.people.lock().ok()?;
        let person = people.get_mut(&user_id)?;
        person.sockets = person.sockets.saturating_sub(1);
        person.generation += 1;
        person.lingering = person.sockets == 0;
        (person.sockets == 0).then_some(person.generation)
    }

    /// The grace period after their last tab closed is over: unless a tab came back, they
    /// are offline (whatever they had chosen).
    pub fn grace_over(&self, user_id: Id, generation: u64) -> Option<StatusChange> {
        let mut people = self.people.lock().ok()?;
        let person = people.get_mut(&user_id)?;
        if person.sockets > 0 || person.generation != generation {
            return None;
        }
        let before = person.status();
        person.chosen = None;
        person.lingering = false;
        change(person, user_id, before)
    }

    /// Everyone of an organization this process knows, with their status.
    pub fn statuses(&self, organization_id: Id) -> HashMap<Id, AgentStatus> {
        self.people
            .lock()
            .map(|people| {
                people
                    .iter()
                    .filter(|(_, p)| p.organization_id == organization_id)
                    .map(|(id, p)| (*id, p.status()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A socket opened a conversation (and left the one it had open). Returns the
    /// conversations whose viewers changed.
    pub fn view(&self, socket: &str, user_id: Id, conversation_id: Option<Id>, now: Millis) -> Vec<Id> {
        let Ok(mut viewers) = self.viewers.lock() else {
            return Vec::new();
        };
        let mut changed = Vec::new();
        for (conversation, sockets) in viewers.iter_mut() {
            if Some(*conversation) != conversation_id && sockets.remove(socket).is_some() {
                changed.push(*conversation);
            }
        }
        viewers.retain(|_, sockets| !sockets.is_empty());
        if let Some(conversation_id) = conversation_id {
            let sockets = viewers.entry(conversation_id).or_default();
            if !sockets.contains_key(socket) {
                sockets.insert(
                    socket.to_string(),
                    Viewer {
                        user_id,
                        since: now,
                        typing: None,
                    },
                );
                changed.push(conversation_id);
            }
        }
        changed
    }

    /// Whether a socket's person is typing in the conversation it views; `true` when that
    /// changed what others see.
    pub fn typing(&self, socket: &str, conversation_id: Id, typing: Option<Typing>) -> bool {
        let Ok(mut viewers) = self.viewers.lock() else {
            return false;
        };
        match viewers.get_mut(&conversation_id).and_then(|s| s.get_mut(socket)) {
            Some(viewer) if viewer.typing != typing => {
                viewer.typing = typing;
                true
            }
            Some(_) | None => false,
        }
    }

    /// Who views a conversation, one entry per person (typing if any tab of theirs is).
    pub fn viewers(&self, conversation_id: Id) -> Vec<Viewer> {
        let Ok(viewers) = self.viewers.lock() else {
            return Vec::new();
        };
        let mut people: BTreeMap<Id, Viewer> = BTreeMap::new();
        for viewer in viewers.get(&conversation_id).into_iter().flat_map(|s| s.values()) {
            let entry = people.entry(viewer.user_id).or_insert_with(|| viewer.clone());
            entry.since = entry.since.min(viewer.since);
            entry.typing = entry.typing.or(viewer.typing);
        }
        people.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentStatus::*;

    #[test]
    fn tabs_make_an_agent_online_and_the_last_one_closing_offline_after_the_grace() {
        let presence = Presence::default();
        assert_eq!(presence.status(7), Offline);
        assert_eq!(presence.connected(1, 7).map(|c| c.after), Some(Online));
        assert_eq!(presence.connected(1, 7), None, "a second tab changes nothing");
        assert_eq!(presence.disconnected(7), None, "one tab is still open");
        let generation = presence.disconnected(7).expect("last tab");
        assert_eq!(presence.status(7), Online, "within the grace period");
        assert_eq!(presence.grace_over(7, generation).map(|c| c.after), Some(Offline));
    }

    #[test]
    fn a_reconnect_within_the_grace_keeps_the_agent_online() {
        let presence = Presence::default();
        presence.connected(1, 7);
        let generation = presence.disconnected(7).expect("last tab");
        presence.connected(1, 7);
        assert_eq!(presence.grace_over(7, generation), None);
        assert_eq!(presence.status(7), Online);
    }

    #[test]
    fn a_chosen_status_holds_while_connected_and_ends_with_the_last_tab() {
        let presence = Presence::default();
        presence.connected(1, 7);
        let away = presence.choose(1, 7, Away).expect("changed");
        assert_eq!((away.before, away.after), (Online, Away));
        assert_eq!(presence.statuses(1).get(&7), Some(&Away));
        assert!(presence.statuses(2).is_empty(), "other organizations see nobody");
        let generation = presence.disconnected(7).expect("last tab");
        assert_eq!(presence.grace_over(7, generation).map(|c| c.after), Some(Offline));
        assert_eq!(presence.connected(1, 7).map(|c| c.after), Some(Online));
    }

    #[test]
    fn viewers_are_people_and_typing_shows_if_any_tab_types() {
        let presence = Presence::default();
        assert_eq!(presence.view("a", 7, Some(100), 5), vec![100]);
        assert_eq!(presence.view("b", 7, Some(100), 9), vec![100]);
        assert_eq!(presence.view("c", 8, Some(100), 6), vec![100]);
        assert!(presence.typing("b", 100, Some(Typing::Note)));
        assert!(!presence.typing("b", 100, Some(Typing::Note)), "no change, no news");
        let viewers = presence.viewers(100);
        assert_eq!(viewers.len(), 2);
        assert_eq!(viewers[0].user_id, 7);
        assert_eq!(viewers[0].since, 5);
        assert_eq!(viewers[0].typing, Some(Typing::Note));
        assert_eq!(
            presence.view("c", 8, None, 10),
            vec![100],
            "leaving tells the conversation"
        );
        assert_eq!(presence.view("a", 7, Some(200), 11), vec![100, 200]);
        assert_eq!(presence.viewers(100).len(), 1, "tab b still views it");
    }
}
