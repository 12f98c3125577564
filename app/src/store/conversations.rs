//! The inbox: one conversation per contact and channel, listed by latest activity, with its
//! status, assignee and unread count. How those move is decided in
//! `crate::domain::conversation`; this file loads and stores them.

use super::backend::{Backend, SqlStore};
use super::events::append;
use super::messages::message_in;
use super::organizations::member_name;
use super::sql::{Conn, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::domain::conversation::{Activity, assignment_line, status_line};
use crate::events::{ConversationAssigned, ConversationChanged, ConversationStatusChanged, DomainEvent};
use crate::model::{Conversation, ConversationFilter, ConversationStatus, Id, InboxView, Message, Millis, Page, User};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// A page of the inbox, newest activity first; `user_id` is who "mine" means.
    async fn conversations(
        &self,
        org_id: Id,
        user_id: Id,
        filter: &ConversationFilter,
    ) -> StoreResult<Page<Conversation>>;
    async fn conversation(&self, org_id: Id, conversation_id: Id) -> StoreResult<Conversation>;
    /// The organization's conversations among `ids`, in no particular order (others' are left out).
    async fn conversations_by_id(&self, org_id: Id, ids: &[Id]) -> StoreResult<Vec<Conversation>>;
    /// Sets the status an agent chose, leaving a line in the thread.
    async fn set_conversation_status(
        &self,
        org_id: Id,
        conversation_id: Id,
        status: ConversationStatus,
        actor: &User,
    ) -> StoreResult<Written<Conversation>>;
    /// Assigns the conversation to one of the organization's agents (or to nobody).
    async fn assign_conversation(
        &self,
        org_id: Id,
        conversation_id: Id,
        assignee_id: Option<Id>,
        actor: &User,
    ) -> StoreResult<Written<Conversation>>;
    async fn mark_read(&self, org_id: Id, conversation_id: Id) -> StoreResult<Written<Conversation>>;
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.contact_id, ct.name AS contact_name, \
    ct.avatar_url AS contact_avatar_url, c.channel_id, ch.kind AS channel_kind, ch.name AS channel_name, \
    c.status, c.assignee_id, u.name AS assignee_name, c.unread_count, c.last_message_preview, \
    c.last_message_at, c.last_inbound_at, c.created_at, c.team_id, t.name AS team_name, c.priority, \
    c.required_skills, c.queued_at, c.reply_due_at \
    FROM conversations c JOIN contacts ct ON ct.id = c.contact_id JOIN channels ch ON ch.id = c.channel_id \
    LEFT JOIN users u ON u.id = c.assignee_id LEFT JOIN teams t ON t.id = c.team_id";

fn conversation_from_row(row: &AnyRow) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: row.try_get("id")?,
        contact_id: row.try_get("contact_id")?,
        contact_name: row.try_get("contact_name")?,
        contact_avatar_url: row.try_get("contact_avatar_url")?,
        channel_id: row.try_get("channel_id")?,
        channel_kind: parse(&row.try_get::<String, _>("channel_kind")?, "channel kind")?,
        channel_name: row.try_get("channel_name")?,
        status: parse(&row.try_get::<String, _>("status")?, "conversation status")?,
        assignee_id: row.try_get("assignee_id")?,
        assignee_name: row.try_get("assignee_name")?,
        unread_count: row.try_get("unread_count")?,
        last_message_preview: row.try_get("last_message_preview")?,
        last_message_at: row.try_get("last_message_at")?,
        last_inbound_at: row.try_get("last_inbound_at")?,
        created_at: row.try_get("created_at")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        priority: parse(&row.try_get::<String, _>("priority")?, "priority")?,
        required_skills: skills_from_json(&row.try_get::<String, _>("required_skills")?),
        queued_at: row.try_get("queued_at")?,
        reply_due_at: row.try_get("reply_due_at")?,
    })
}

/// Skills are kept as a JSON array of strings; anything else reads as none.
pub(super) fn skills_from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) async fn conversation_in(conn: &mut Conn, org_id: Id, conversation_id: Id) -> StoreResult<Conversation> {
    let sql = format!("{CONVERSATION_SELECT} WHERE c.organization_id = $1 AND c.id = $2");
    let row = sqlx::query(&sql)
        .bind(org_id)
        .bind(conversation_id)
        .fetch_optional(&mut *conn)
        .await?;
    conversation_from_row(&row.ok_or(StoreError::NotFound)?)
}

/// Reads a conversation whose next state the caller decides from it, holding it until commit.
pub(super) async fn conversation_for_update<B: Backend>(
    conn: &mut Conn,
    org_id: Id,
    conversation_id: Id,
) -> StoreResult<Conversation> {
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.organization_id = $1 AND c.id = $2{}",
        B::LOCK_CONVERSATION
    );
    let row = sqlx::query(&sql)
        .bind(org_id)
        .bind(conversation_id)
        .fetch_optional(&mut *conn)
        .await?;
    conversation_from_row(&row.ok_or(StoreError::NotFound)?)
}

/// The conversation of a contact on a channel, opened when there is none; `true` when this
/// call opened it. A new conversation's activity starts at `message_at`, the platform time
/// of the message that opens it.
/// The conversation of a customer this channel knows already, read and locked as
/// [`conversation_for_update`] does; `None` for a new customer or a new conversation. One
/// statement for the usual delivery: a known customer writing again.
pub(super) async fn known_conversation_for_update<B: Backend>(
    conn: &mut Conn,
    org_id: Id,
    channel_id: Id,
    external_user_id: &str,
) -> StoreResult<Option<Conversation>> {
    let sql = format!(
        "{CONVERSATION_SELECT} JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
         WHERE i.channel_id = $1 AND i.external_id = $2 AND c.organization_id = $3{}",
        B::LOCK_CONVERSATION
    );
    let row = sqlx::query(&sql)
        .bind(channel_id)
        .bind(external_user_id)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(conversation_from_row).transpose()
}

pub(super) async fn open_conversation(
    conn: &mut Conn,
    org_id: Id,
    channel_id: Id,
    contact_id: Id,
    message_at: Millis,
    now: Millis,
) -> StoreResult<(Id, bool)> {
    let find = "SELECT id FROM conversations WHERE channel_id = $1 AND contact_id = $2";
    if let Some(id) = sqlx::query_scalar::<_, Id>(find)
        .bind(channel_id)
        .bind(contact_id)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok((id, false));
    }
    // A channel that routes to a team puts its new conversations in that team's queue.
    let created: Option<Id> = sqlx::query_scalar(
        "INSERT INTO conversations (organization_id, contact_id, channel_id, status, last_message_at, created_at, \
         team_id, required_skills, queued_at) \
         SELECT $1, $2, $3, $4, $5, $6, ch.team_id, ch.required_skills, CASE WHEN ch.team_id IS NULL THEN NULL ELSE $6 END \
         FROM channels ch WHERE ch.id = $3 \
         ON CONFLICT (channel_id, contact_id) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(contact_id)
    .bind(channel_id)
    .bind(ConversationStatus::New.as_str())
    .bind(message_at)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match created {
        Some(id) => Ok((id, true)),
        // A concurrent delivery opened it first.
        None => Ok((
            sqlx::query_scalar::<_, Id>(find)
                .bind(channel_id)
                .bind(contact_id)
                .fetch_one(&mut *conn)
                .await?,
            false,
        )),
    }
}

pub(super) fn activity(conversation: &Conversation) -> Activity {
    Activity {
        status: conversation.status,
        unread_count: conversation.unread_count,
        last_message_preview: conversation.last_message_preview.clone(),
        last_message_at: conversation.last_message_at,
        last_inbound_at: conversation.last_inbound_at,
    }
}

/// The queue and reply timer after a status change (binds `$1` the new status, `$3` now): a
/// finished conversation leaves the queue and stops its timer; one that reopens with nobody
/// holding it and a team waits in the team's queue again.
const QUEUE_FOLLOWS_STATUS: &str = "queued_at = CASE WHEN $1 IN ('new', 'active') AND assignee_id IS NULL \
    AND team_id IS NOT NULL THEN COALESCE(queued_at, $3) ELSE NULL END, \
    reply_due_at = CASE WHEN $1 IN ('new', 'active') THEN reply_due_at ELSE NULL END";

/// Stores the conversation's new activity and returns the conversation as it now stands
/// (read under `conversation_for_update`, so nothing else changed it meanwhile).
pub(super) async fn save_activity(
    conn: &mut Conn,
    mut conversation: Conversation,
    activity: Activity,
) -> StoreResult<Conversation> {
    if activity.status == conversation.status {
        sqlx::query(
            "UPDATE conversations SET unread_count = $1, last_message_preview = $2, last_message_at = $3, \
             last_inbound_at = $4 WHERE id = $5",
        )
        .bind(activity.unread_count)
        .bind(activity.last_message_preview.as_deref())
        .bind(activity.last_message_at)
        .bind(activity.last_inbound_at)
        .bind(conversation.id)
        .execute(&mut *conn)
        .await?;
    } else {
        let sql = format!(
            "UPDATE conversations SET status = $1, {QUEUE_FOLLOWS_STATUS}, unread_count = $4, last_message_preview = $5, \
             last_message_at = $6, last_inbound_at = $7 WHERE id = $2"
        );
        sqlx::query(&sql)
            .bind(activity.status.as_str())
            .bind(conversation.id)
            .bind(now_millis())
            .bind(activity.unread_count)
            .bind(activity.last_message_preview.as_deref())
            .bind(activity.last_message_at)
            .bind(activity.last_inbound_at)
            .execute(&mut *conn)
            .await?;
        let (queued_at, reply_due_at): (Option<Millis>, Option<Millis>) =
            sqlx::query_as("SELECT queued_at, reply_due_at FROM conversations WHERE id = $1")
                .bind(conversation.id)
                .fetch_one(&mut *conn)
                .await?;
        conversation.queued_at = queued_at;
        conversation.reply_due_at = reply_due_at;
    }
    conversation.status = activity.status;
    conversation.unread_count = activity.unread_count;
    conversation.last_message_preview = activity.last_message_preview;
    conversation.last_message_at = activity.last_message_at;
    conversation.last_inbound_at = activity.last_inbound_at;
    Ok(conversation)
}

/// Adds a quiet line ("Ana resolved the conversation") to a thread.
pub(super) async fn system_message(
    conn: &mut Conn,
    conversation: &Conversation,
    org_id: Id,
    text: &str,
) -> StoreResult<Message> {
    let id: Id = sqlx::query_scalar(
        "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, body, status, created_at) \
         VALUES ($1, $2, $3, 'system', $4, 'received', $5) RETURNING id",
    )
    .bind(org_id)
    .bind(conversation.id)
    .bind(conversation.channel_id)
    .bind(text)
    .bind(now_millis())
    .fetch_one(&mut *conn)
    .await?;
    message_in(conn, id).await
}

fn encode_cursor(at: i64, id: i64) -> String {
    format!("{at}.{id}")
}

/// Which conditions one page of the inbox asks for, besides its view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxConditions {
    pub status: bool,
    pub channel: bool,
    pub team: bool,
    pub assignee: bool,
    pub priority: bool,
    pub cursor: bool,
}

impl InboxConditions {
    pub fn of(filter: &ConversationFilter) -> Self {
        Self {
            status: filter.status.is_some(),
            channel: filter.channel.is_some(),
            team: filter.team.is_some(),
            assignee: filter.assignee.is_some(),
            priority: filter.priority.is_some(),
            cursor: filter.before.is_some(),
        }
    }
}

/// The statement for one page of the inbox, with only the conditions this page asks for, so
/// each filter is planned on its own and walks the index made for it
/// (`migrations/*/0006_inbox_reads.sql`, `0009_teams.sql`) in `last_message_at` order,
/// stopping after one page: a generic `($n IS NULL OR …)` query would scan the whole
/// organization when a filter matches few conversations. Binds, in order: organization, the
/// user (`Mine`), status, channel, team, assignee, priority, the cursor's time and id, the
/// limit. Public so the benchmark can EXPLAIN it.
pub fn inbox_page_sql(view: InboxView, conditions: InboxConditions) -> String {
    let mut sql = format!("{CONVERSATION_SELECT} WHERE c.organization_id = $1");
    let mut next = 2;
    let mut bind = |condition: &str| {
        let text = condition.replace("$?", &format!("${next}"));
        next += 1;
        text
    };
    match view {
        InboxView::Mine => sql.push_str(&bind(" AND c.assignee_id = $?")),
        InboxView::Unassigned => sql.push_str(" AND c.assignee_id IS NULL"),
        InboxView::All => {}
    }
    let optional = [
        (conditions.status, " AND c.status = $?"),
        (conditions.channel, " AND c.channel_id = $?"),
        (conditions.team, " AND c.team_id = $?"),
        (conditions.assignee, " AND c.assignee_id = $?"),
        (conditions.priority, " AND c.priority = $?"),
    ];
    for (wanted, condition) in optional {
        if wanted {
            sql.push_str(&bind(condition));
        }
    }
    if conditions.cursor {
        let (at, id) = (bind("$?"), bind("$?"));
        sql.push_str(&format!(
            " AND (c.last_message_at < {at} OR (c.last_message_at = {at} AND c.id < {id}))"
        ));
    }
    sql.push_str(&bind(" ORDER BY c.last_message_at DESC, c.id DESC LIMIT $?"));
    sql
}

fn decode_cursor(cursor: &str) -> Result<(i64, i64), StoreError> {
    let bad = || StoreError::Invalid(format!("`{cursor}` is not a valid cursor"));
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

#[async_trait]
impl<B: Backend> ConversationStore for SqlStore<B> {
    async fn conversations(
        &self,
        org_id: Id,
        user_id: Id,
        filter: &ConversationFilter,
    ) -> StoreResult<Page<Conversation>> {
        let limit = filter.limit.unwrap_or(30).clamp(1, 100);
        let cursor = filter.before.as_deref().map(decode_cursor).transpose()?;
        let view = filter.view.unwrap_or(InboxView::All);
        let sql = inbox_page_sql(view, InboxConditions::of(filter));
        let mut query = sqlx::query(&sql).bind(org_id);
        if view == InboxView::Mine {
            query = query.bind(user_id);
        }
        if let Some(status) = filter.status {
            query = query.bind(status.as_str());
        }
        if let Some(channel) = filter.channel {
            query = query.bind(channel);
        }
        if let Some(team) = filter.team {
            query = query.bind(team);
        }
        if let Some(assignee) = filter.assignee {
            query = query.bind(assignee);
        }
        if let Some(priority) = filter.priority {
            query = query.bind(priority.as_str());
        }
        if let Some((at, id)) = cursor {
            query = query.bind(at).bind(id);
        }
        let rows = query.bind(limit + 1).fetch_all(&self.reader).await?;
        let mut items = rows
            .iter()
            .map(conversation_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|c| encode_cursor(c.last_message_at, c.id))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn conversation(&self, org_id: Id, conversation_id: Id) -> StoreResult<Conversation> {
        let mut conn = self.reader.acquire().await?;
        conversation_in(&mut conn, org_id, conversation_id).await
    }

    async fn conversations_by_id(&self, org_id: Id, ids: &[Id]) -> StoreResult<Vec<Conversation>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (2..ids.len() + 2).map(|n| format!("${n}")).collect();
        let sql = format!(
            "{CONVERSATION_SELECT} WHERE c.organization_id = $1 AND c.id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(org_id);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.reader).await?;
        rows.iter().map(conversation_from_row).collect()
    }

    async fn set_conversation_status(
        &self,
        org_id: Id,
        conversation_id: Id,
        status: ConversationStatus,
        actor: &User,
    ) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        let before = conversation_for_update::<B>(&mut tx, org_id, conversation_id).await?;
        if before.status == status {
            tx.rollback().await?;
            return Ok(Written::unchanged(before));
        }
        sqlx::query(&format!(
            "UPDATE conversations SET status = $1, {QUEUE_FOLLOWS_STATUS} WHERE id = $2"
        ))
        .bind(status.as_str())
        .bind(conversation_id)
        .bind(now_millis())
        .execute(&mut *tx)
        .await?;
        let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
        let line = system_message(
            &mut tx,
            &conversation,
            org_id,
            &status_line(actor, before.status, status),
        )
        .await?;
        let event = DomainEvent::ConversationStatus(ConversationStatusChanged {
            conversation_id,
            status,
            message: Some(line),
            conversation: conversation.clone(),
        });
        let event = append(&mut tx, org_id, event).await?;
        tx.commit().await?;
        Ok(Written::one(conversation, event))
    }

    async fn assign_conversation(
        &self,
        org_id: Id,
        conversation_id: Id,
        assignee_id: Option<Id>,
        actor: &User,
    ) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        let before = conversation_for_update::<B>(&mut tx, org_id, conversation_id).await?;
        let assignee_name = match assignee_id {
            Some(id) => Some(
                member_name(&mut tx, org_id, id)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("no such agent in this organization".into()))?,
            ),
            None => None,
        };
        if before.assignee_id == assignee_id {
            tx.rollback().await?;
            return Ok(Written::unchanged(before));
        }
        super::routing::reassign(&mut tx, org_id, conversation_id, assignee_id).await?;
        let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
        let assignee = assignee_id.zip(assignee_name.as_deref());
        let line = system_message(&mut tx, &conversation, org_id, &assignment_line(actor, assignee)).await?;
        let event = DomainEvent::ConversationAssigned(ConversationAssigned {
            conversation_id,
            assigned_to: assignee_id,
            assignee_name,
            message: line,
            conversation: conversation.clone(),
        });
        let event = append(&mut tx, org_id, event).await?;
        tx.commit().await?;
        Ok(Written::one(conversation, event))
    }

    async fn mark_read(&self, org_id: Id, conversation_id: Id) -> StoreResult<Written<Conversation>> {
        let mut tx = self.writer.begin().await?;
        let before = conversation_for_update::<B>(&mut tx, org_id, conversation_id).await?;
        if before.unread_count == 0 {
            tx.rollback().await?;
            return Ok(Written::unchanged(before));
        }
        sqlx::query("UPDATE conversations SET unread_count = 0 WHERE id = $1")
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{decode_cursor, encode_cursor};

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        assert_eq!(
            decode_cursor(&encode_cursor(1_700_000_000_000, 42)).unwrap(),
            (1_700_000_000_000, 42)
        );
        assert!(decode_cursor("yesterday").is_err());
        assert!(decode_cursor("1.x").is_err());
    }
}
