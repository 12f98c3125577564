//! Who holds a conversation, as routing and agents change it: routing's picks, claims,
//! transfers, releases (the reply timer ran out, the agent went away), and what routing reads
//! to rebuild its picture of an organization. Every change here is guarded in the statement
//! that makes it (`assignee_id IS NULL`, `assignee_id = $from`): two claimers, or a claimer
//! and the router, can never both hold a conversation, on either backend and across
//! instances. Each change leaves a line in the thread and logs `conversation:assigned`.

use super::backend::{Backend, SqlStore};
use super::conversations::{conversation_for_update, conversation_in, skills_from_json, system_message};
use super::events::append;
use super::organizations::member_name;
use super::sql::{Conn, json_text, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::events::{ConversationAssigned, ConversationChanged, DomainEvent};
use crate::model::{Conversation, Id, Millis, Priority, User};
use crate::team::Team;
use async_trait::async_trait;
use sqlx::Row;

/// What routing knows of an agent beyond their teams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRouting {
    pub user_id: Id,
    pub name: String,
    /// Their own capacity; `None`: each team's.
    pub capacity: Option<i64>,
    pub skills: Vec<String>,
    pub senior: bool,
}

/// An open conversation someone holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldConversation {
    pub conversation_id: Id,
    pub user_id: Id,
    pub team_id: Option<Id>,
    pub reply_due_at: Option<Millis>,
}

/// An open conversation waiting in a team's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingConversation {
    pub conversation_id: Id,
    pub team_id: Id,
    pub priority: Priority,
    pub queued_at: Millis,
    pub required_skills: Vec<String>,
}

/// Everything routing needs to rebuild one organization's picture.
#[derive(Debug, Clone, Default)]
pub struct RoutingSnapshot {
    pub teams: Vec<Team>,
    pub agents: Vec<AgentRouting>,
    pub held: Vec<HeldConversation>,
    pub waiting: Vec<WaitingConversation>,
}

/// Where a transfer sends a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTarget {
    Agent(Id),
    /// Into the team's queue, for its routing to place.
    Team(Id),
}

#[async_trait]
pub trait RoutingStore: Send + Sync {
    /// Organizations that have at least one team.
    async fn routed_organizations(&self) -> StoreResult<Vec<Id>>;
    async fn routing_snapshot(&self, org_id: Id) -> StoreResult<RoutingSnapshot>;
    /// Gives a waiting conversation to the agent routing picked, if it is still open and
    /// nobody holds it; `None` when it is not (someone claimed it meanwhile). `line` goes
    /// in the thread ("Routed to Ben (round-robin)").
    async fn route_to(
        &self,
        org_id: Id,
        conversation_id: Id,
        user_id: Id,
        line: &str,
    ) -> StoreResult<Option<Written<Conversation>>>;
    /// Hands a conversation `from_user` holds back to its team's queue (or to nobody), if
    /// they still hold it; `line` says why.
    async fn release(
        &self,
        org_id: Id,
        conversation_id: Id,
        from_user: Id,
        line: &str,
    ) -> StoreResult<Option<Written<Conversation>>>;
    /// `agent` takes a conversation nobody holds. A second claimer gets a conflict naming
    /// who has it.
    async fn claim(&self, org_id: Id, conversation_id: Id, agent: &User) -> StoreResult<Written<Conversation>>;
    /// Moves a conversation to an agent, or into a team's queue, with a reason in the thread.
    async fn transfer(
        &self,
        org_id: Id,
        conversation_id: Id,
        actor: &User,
        target: TransferTarget,
        reason: &str,
    ) -> StoreResult<Written<Conversation>>;
    /// Sets how urgent a conversation is and which skills it needs (`conversation:updated`).
    async fn set_conversation_routing(
        &self,
        org_id: Id,
        conversation_id: Id,
        priority: Option<Priority>,
        required_skills: Option<&[String]>,
    ) -> StoreResult<Written<Conversation>>;
}

/// The assignee column and what follows from it, set in one statement: a conversation that
/// loses its assignee while open and in a team waits in the queue from `$now`; one that gets
/// an assignee leaves the queue and, if its team has a reply timer, is due a reply by then.
/// Binds: `$1` assignee (or NULL), `$2` now, `$3` organization, `$4` conversation; a
/// [`Guard`] adds its condition.
const SET_ASSIGNEE: &str = "UPDATE conversations SET assignee_id = $1, \
    queued_at = CASE WHEN $1 IS NULL AND team_id IS NOT NULL AND status IN ('new', 'active') THEN $2 ELSE NULL END, \
    reply_due_at = CASE WHEN $1 IS NULL THEN NULL \
        ELSE (SELECT $2 + t.ownership_timeout_secs * 1000 FROM teams t WHERE t.id = conversations.team_id) END \
    WHERE organization_id = $3 AND id = $4";

/// What must still hold for a change of assignee to happen, checked in the same statement.
#[derive(Debug, Clone, Copy)]
enum Guard {
    /// Whatever it was (an agent or admin chose).
    Any,
    /// Nobody holds it (a claim).
    Unheld,
    /// Nobody holds it, it is open and in a team, and the pick is a member (routing).
    Routable,
    /// This person still holds it, open (a release).
    HeldBy(Id),
}

impl Guard {
    fn condition(self) -> &'static str {
        match self {
            Guard::Any => "",
            Guard::Unheld => " AND assignee_id IS NULL",
            Guard::Routable => {
                " AND assignee_id IS NULL AND team_id IS NOT NULL AND status IN ('new', 'active') \
                 AND EXISTS (SELECT 1 FROM memberships m WHERE m.organization_id = conversations.organization_id \
                 AND m.user_id = $1)"
            }
            Guard::HeldBy(_) => " AND assignee_id = $5 AND status IN ('new', 'active')",
        }
    }
}

/// Changes the assignee if `guard` holds; whether it did.
async fn set_assignee(
    conn: &mut Conn,
    org_id: Id,
    conversation_id: Id,
    assignee: Option<Id>,
    guard: Guard,
) -> StoreResult<bool> {
    let sql = format!("{SET_ASSIGNEE}{}", guard.condition());
    let mut query = sqlx::query(&sql)
        .bind(assignee)
        .bind(now_millis())
        .bind(org_id)
        .bind(conversation_id);
    if let Guard::HeldBy(holder) = guard {
        query = query.bind(holder);
    }
    let changed = query.execute(&mut *conn).await?;
    Ok(changed.rows_affected() > 0)
}

/// Sets a conversation's assignee whatever it was (an agent or admin chose), keeping the
/// queue and reply timer in step. Used by `ConversationStore::assign_conversation`.
pub(super) async fn reassign(
    conn: &mut Conn,
    org_id: Id,
    conversation_id: Id,
    assignee: Option<Id>,
) -> StoreResult<()> {
    set_assignee(conn, org_id, conversation_id, assignee, Guard::Any).await?;
    Ok(())
}

/// The assignment's line and event, after the change.
async fn announce(
    conn: &mut Conn,
    org_id: Id,
    conversation_id: Id,
    line: &str,
) -> StoreResult<(Conversation, crate::model::Event)> {
    let conversation = conversation_in(conn, org_id, conversation_id).await?;
    let message = system_message(conn, &conversation, org_id, line).await?;
    let event = DomainEvent::ConversationAssigned(ConversationAssigned {
        conversation_id,
        assigned_to: conversation.assignee_id,
        assignee_name: conversation.assignee_name.clone(),
        message,
        conversation: conversation.clone(),
    });
    let event = append(conn, org_id, event).await?;
    Ok((conversation, event))
}

/// The assignee replied: their reply timer stops.
pub(super) async fn replied(conn: &mut Conn, conversation: &mut Conversation, sender_id: Id) -> StoreResult<()> {
    if conversation.reply_due_at.is_none() || conversation.assignee_id != Some(sender_id) {
        return Ok(());
    }
    sqlx::query("UPDATE conversations SET reply_due_at = NULL WHERE id = $1")
        .bind(conversation.id)
        .execute(&mut *conn)
        .await?;
    conversation.reply_due_at = None;
    Ok(())
}

#[async_trait]
impl<B: Backend> RoutingStore for SqlStore<B> {
    async fn routed_organizations(&self) -> StoreResult<Vec<Id>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT organization_id FROM teams ORDER BY organization_id")
                .fetch_all(&self.reader)
                .await?,
        )
    }

    async fn routing_snapshot(&self, org_id: Id) -> StoreResult<RoutingSnapshot> {
        let teams = super::teams::TeamStore::teams(self, org_id).await?;
        let mut conn = self.reader.acquire().await?;
        let agents = sqlx::query(
            "SELECT u.id, u.name, m.capacity, m.skills, m.senior FROM memberships m JOIN users u ON u.id = m.user_id \
             WHERE m.organization_id = $1",
        )
        .bind(org_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(AgentRouting {
                user_id: row.try_get("id")?,
                name: row.try_get("name")?,
                capacity: row.try_get("capacity")?,
                skills: skills_from_json(&row.try_get::<String, _>("skills")?),
                senior: row.try_get::<i64, _>("senior")? != 0,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let held = sqlx::query(
            "SELECT id, assignee_id, team_id, reply_due_at FROM conversations \
             WHERE organization_id = $1 AND assignee_id IS NOT NULL AND status IN ('new', 'active')",
        )
        .bind(org_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(HeldConversation {
                conversation_id: row.try_get("id")?,
                user_id: row.try_get("assignee_id")?,
                team_id: row.try_get("team_id")?,
                reply_due_at: row.try_get("reply_due_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let waiting = sqlx::query(
            "SELECT id, team_id, priority, queued_at, required_skills FROM conversations \
             WHERE organization_id = $1 AND queued_at IS NOT NULL AND team_id IS NOT NULL \
             AND assignee_id IS NULL AND status IN ('new', 'active')",
        )
        .bind(org_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(WaitingConversation {
                conversation_id: row.try_get("id")?,
                team_id: row.try_get("team_id")?,
                priority: parse(&row.try_get::<String, _>("priority")?, "priority")?,
                queued_at: row.try_get("queued_at")?,
                required_skills: skills_from_json(&row.try_get::<String, _>("required_skills")?),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(RoutingSnapshot {
            teams,
            agents,
            held,
            waiting,
        })
    }

    async fn route_to(
        &self,
        org_id: Id,
        conversation_id: Id,
        user_id: Id,
        line: &str,
    ) -> StoreResult<Option<Written<Conversation>>> {
        let mut tx = self.writer.begin().await?;
        if !set_assignee(&mut tx, org_id, conversation_id, Some(user_id), Guard::Routable).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let (conversation, event) = announce(&mut tx, org_id, conversation_id, line).await?;
        tx.commit().await?;
        Ok(Some(Written::one(conversation, event)))
    }

    async fn release(
        &self,
        org_id: Id,
        conversation_id: Id,
        from_user: Id,
        line: &str,
    ) -> StoreResult<Option<Written<Conversation>>> {
        let mut tx = self.writer.begin().await?;
        if !set_assignee(&mut tx, org_id, conversation_id, None, Guard::HeldBy(from_user)).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        let (conversation, event) = announce(&mut tx, org_id, conversation_id, line).await?;
        tx.commit().await?;
        Ok(Some(Written::one(conversation, event)))
    }

    async fn claim(&self, org_id: Id, conversation_id: Id, agent: &User) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        if !set_assignee(&mut tx, org_id, conversation_id, Some(agent.id), Guard::Unheld).await? {
            let holder: Option<Option<String>> = sqlx::query_scalar(
                "SELECT u.name FROM conversations c LEFT JOIN users u ON u.id = c.assignee_id \
                 WHERE c.organization_id = $1 AND c.id = $2",
            )
            .bind(org_id)
            .bind(conversation_id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Err(match holder {
                None => StoreError::NotFound,
                Some(name) => StoreError::Conflict(format!(
                    "{} already took this conversation",
                    name.unwrap_or_else(|| "someone".into())
                )),
            });
        }
        let line = format!("{} claimed the conversation", agent.name);
        let (conversation, event) = announce(&mut tx, org_id, conversation_id, &line).await?;
        tx.commit().await?;
        Ok(Written::one(conversation, event))
    }

    async fn transfer(
        &self,
        org_id: Id,
        conversation_id: Id,
        actor: &User,
        target: TransferTarget,
        reason: &str,
    ) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        let before = conversation_for_update::<B>(&mut tx, org_id, conversation_id).await?;
        let destination = match target {
            TransferTarget::Agent(user_id) => {
                let name = member_name(&mut tx, org_id, user_id)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("no such agent in this organization".into()))?;
                if before.assignee_id == Some(user_id) {
                    return Err(StoreError::Invalid(format!("{name} already has this conversation")));
                }
                set_assignee(&mut tx, org_id, conversation_id, Some(user_id), Guard::Any).await?;
                name
            }
            TransferTarget::Team(team_id) => {
                let name: String = sqlx::query_scalar("SELECT name FROM teams WHERE organization_id = $1 AND id = $2")
                    .bind(org_id)
                    .bind(team_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("no such team in this organization".into()))?;
                sqlx::query("UPDATE conversations SET team_id = $1 WHERE id = $2")
                    .bind(team_id)
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                set_assignee(&mut tx, org_id, conversation_id, None, Guard::Any).await?;
                format!("the {name} team")
            }
        };
        let reason = reason.trim();
        let line = if reason.is_empty() {
            format!("{} transferred the conversation to {destination}", actor.name)
        } else {
            format!("{} transferred the conversation to {destination}: {reason}", actor.name)
        };
        let (conversation, event) = announce(&mut tx, org_id, conversation_id, &line).await?;
        tx.commit().await?;
        Ok(Written::one(conversation, event))
    }

    async fn set_conversation_routing(
        &self,
        org_id: Id,
        conversation_id: Id,
        priority: Option<Priority>,
        required_skills: Option<&[String]>,
    ) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        let before = conversation_for_update::<B>(&mut tx, org_id, conversation_id).await?;
        let priority = priority.unwrap_or(before.priority);
        let skills = required_skills
            .map(<[String]>::to_vec)
            .unwrap_or(before.required_skills.clone());
        if priority == before.priority && skills == before.required_skills {
            tx.rollback().await?;
            return Ok(Written::unchanged(before));
        }
        sqlx::query("UPDATE conversations SET priority = $1, required_skills = $2 WHERE id = $3")
            .bind(priority.as_str())
            .bind(json_text(&skills, "[]"))
            .bind(conversation_id)
            .execute(&mut *tx)
            .await?;
        let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
        let event = DomainEvent::ConversationUpdated(ConversationChanged {
            conversation: conversation.clone(),
        });
        let event = append(&mut tx, org_id, event).await?;
        tx.commit().await?;
        Ok(Written::one(conversation, event))
    }
}
