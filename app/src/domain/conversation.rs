//! How a conversation moves. A customer's message reopens a resolved or closed conversation
//! and counts as unread; an agent's reply makes a new conversation active and clears the
//! unread count; the preview and the activity time follow the newest message by the
//! platform's clock, so a late delivery of an older message never hides a newer one.

use crate::model::{ConversationStatus, Id, Millis, User};

/// What the inbox list shows of a conversation, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    pub status: ConversationStatus,
    pub unread_count: i64,
    pub last_message_preview: Option<String>,
    pub last_message_at: Millis,
    pub last_inbound_at: Option<Millis>,
}

impl Activity {
    /// After a customer's message sent at `at`.
    pub fn after_inbound(&self, at: Millis, preview: String) -> Activity {
        let mut next = self.after_message(at, preview);
        next.unread_count = self.unread_count + 1;
        next.status = match self.status {
            ConversationStatus::Resolved | ConversationStatus::Closed => ConversationStatus::Active,
            ConversationStatus::New | ConversationStatus::Active => self.status,
        };
        next.last_inbound_at = Some(self.last_inbound_at.map_or(at, |last| last.max(at)));
        next
    }

    /// After a message from our side that Messio did not send (the page answered elsewhere).
    pub fn after_echo(&self, at: Millis, preview: String) -> Activity {
        self.after_message(at, preview)
    }

    /// After an agent queued a reply at `now`: the agent has read the conversation, and it is
    /// no longer new.
    pub fn after_reply(&self, now: Millis, preview: String) -> Activity {
        Activity {
            status: match self.status {
                ConversationStatus::New => ConversationStatus::Active,
                ConversationStatus::Active | ConversationStatus::Resolved | ConversationStatus::Closed => self.status,
            },
            unread_count: 0,
            last_message_preview: Some(preview),
            last_message_at: now,
            last_inbound_at: self.last_inbound_at,
        }
    }

    fn after_message(&self, at: Millis, preview: String) -> Activity {
        Activity {
            last_message_preview: if at >= self.last_message_at {
                Some(preview)
            } else {
                self.last_message_preview.clone()
            },
            last_message_at: self.last_message_at.max(at),
            ..self.clone()
        }
    }

    /// Whether a customer's message moved the conversation out of resolved or closed.
    pub fn reopened_from(&self, before: &Activity) -> bool {
        before.status != self.status
            && matches!(before.status, ConversationStatus::Resolved | ConversationStatus::Closed)
    }
}

/// The line an agent's status change leaves in the thread: "Ana resolved the conversation".
pub fn status_line(actor: &User, before: ConversationStatus, after: ConversationStatus) -> String {
    let verb = match after {
        ConversationStatus::Resolved => "resolved the conversation".to_string(),
        ConversationStatus::Closed => "closed the conversation".to_string(),
        ConversationStatus::Active if matches!(before, ConversationStatus::Resolved | ConversationStatus::Closed) => {
            "reopened the conversation".to_string()
        }
        ConversationStatus::New | ConversationStatus::Active => format!("marked the conversation {after}"),
    };
    format!("{} {verb}", actor.name)
}

/// The line an assignment leaves in the thread. `assignee` is the new assignee's id and name.
pub fn assignment_line(actor: &User, assignee: Option<(Id, &str)>) -> String {
    match assignee {
        Some((id, _)) if id == actor.id => format!("{} took the conversation", actor.name),
        Some((_, name)) => format!("{} assigned the conversation to {name}", actor.name),
        None => format!("{} unassigned the conversation", actor.name),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::Role;

    fn activity(status: ConversationStatus) -> Activity {
        Activity {
            status,
            unread_count: 2,
            last_message_preview: Some("older".into()),
            last_message_at: 1_000,
            last_inbound_at: Some(1_000),
        }
    }

    fn ana() -> User {
        User {
            id: 1,
            organization_id: 1,
            name: "Ana".into(),
            email: "ana@example.com".into(),
            role: Role::Agent,
        }
    }

    #[test]
    fn a_customer_message_reopens_only_what_was_finished() {
        use ConversationStatus::*;
        for (before, after) in [(New, New), (Active, Active), (Resolved, Active), (Closed, Active)] {
            let start = activity(before);
            let next = start.after_inbound(2_000, "hi".into());
            assert_eq!(next.status, after, "from {before}");
            assert_eq!(next.reopened_from(&start), before != after, "from {before}");
        }
    }

    #[test]
    fn a_customer_message_counts_as_unread_and_moves_the_activity() {
        let next = activity(ConversationStatus::Active).after_inbound(2_000, "newest".into());
        assert_eq!(next.unread_count, 3);
        assert_eq!(next.last_message_preview.as_deref(), Some("newest"));
        assert_eq!(next.last_message_at, 2_000);
        assert_eq!(next.last_inbound_at, Some(2_000));
    }

    #[test]
    fn a_late_older_message_never_hides_the_newest() {
        let next = activity(ConversationStatus::Active).after_inbound(500, "late".into());
        assert_eq!(next.last_message_preview.as_deref(), Some("older"));
        assert_eq!(next.last_message_at, 1_000);
        assert_eq!(next.last_inbound_at, Some(1_000));
        assert_eq!(next.unread_count, 3, "it is still unread");
        let echo = activity(ConversationStatus::Active).after_echo(500, "late".into());
        assert_eq!(echo.last_message_preview.as_deref(), Some("older"));
    }

    #[test]
    fn the_same_instant_takes_the_newer_preview() {
        let next = activity(ConversationStatus::Active).after_echo(1_000, "same time".into());
        assert_eq!(next.last_message_preview.as_deref(), Some("same time"));
    }

    #[test]
    fn the_first_customer_message_sets_the_inbound_time() {
        let mut start = activity(ConversationStatus::New);
        start.last_inbound_at = None;
        assert_eq!(start.after_inbound(700, "hi".into()).last_inbound_at, Some(700));
    }

    #[test]
    fn a_reply_activates_a_new_conversation_and_clears_unread() {
        use ConversationStatus::*;
        for (before, after) in [(New, Active), (Active, Active), (Resolved, Resolved), (Closed, Closed)] {
            let next = activity(before).after_reply(3_000, "thanks".into());
            assert_eq!(next.status, after, "from {before}");
            assert_eq!(next.unread_count, 0);
            assert_eq!(next.last_message_at, 3_000);
            assert_eq!(next.last_inbound_at, Some(1_000), "a reply is not the customer's");
        }
    }

    #[test]
    fn status_lines_name_the_agent_and_what_they_did() {
        use ConversationStatus::*;
        let ana = ana();
        assert_eq!(status_line(&ana, Active, Resolved), "Ana resolved the conversation");
        assert_eq!(status_line(&ana, Active, Closed), "Ana closed the conversation");
        assert_eq!(status_line(&ana, Resolved, Active), "Ana reopened the conversation");
        assert_eq!(status_line(&ana, Closed, Active), "Ana reopened the conversation");
        assert_eq!(status_line(&ana, Resolved, New), "Ana marked the conversation new");
        assert_eq!(status_line(&ana, New, Active), "Ana marked the conversation active");
    }

    #[test]
    fn assignment_lines_tell_taking_from_assigning() {
        let ana = ana();
        assert_eq!(assignment_line(&ana, Some((1, "Ana"))), "Ana took the conversation");
        assert_eq!(
            assignment_line(&ana, Some((2, "Ben"))),
            "Ana assigned the conversation to Ben"
        );
        assert_eq!(assignment_line(&ana, None), "Ana unassigned the conversation");
    }
}
