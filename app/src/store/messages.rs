//! Threads, and what the platforms deliver into them: customers' messages, our own messages
//! echoed back (sent from the platform's app, or by Messio), delivery statuses and
//! reactions. Each delivery is idempotent by the platform's message id, enforced by the
//! unique key on (channel, platform message id): a retried or concurrent duplicate leaves no
//! trace.

use super::backend::{Backend, SqlStore};
use super::channels::{ChannelRecord, channel_in};
use super::contacts::{contact_in, learn_name, resolve_identity};
use super::conversations::{
    activity, conversation_for_update, known_conversation_for_update, open_conversation, save_activity,
};
use super::events::{Decided, append, log_decided};
use super::sql::{Conn, json_text, map_unique, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::domain::reactions::with_customer_reaction;
use crate::events::{ConversationOpened, ConversationStatusChanged, DeliveryChanged, DomainEvent, MessageChanged};
use crate::model::{
    Attachment, Conversation, Direction, Id, Message, MessageKind, MessageStatus, Millis, Page, Reaction, ReplyTo,
    preview,
};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

/// A customer's message as a channel adapter normalized it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InboundMessage {
    pub external_user_id: String,
    pub contact_name: Option<String>,
    pub platform_message_id: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub kind: MessageKind,
    /// The platform id of the message this one answers (WhatsApp context, Instagram and
    /// Messenger reply_to).
    pub reply_to_platform_id: Option<String>,
    pub sent_at: Millis,
}

/// A customer reacting to a message (or taking the reaction back: `emoji` is `None`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReactionUpdate {
    pub external_user_id: String,
    /// The reaction's own id; used when the target message is unknown and the reaction
    /// is kept as a message of its own, so nothing the customer did is dropped.
    pub platform_message_id: String,
    pub target_platform_message_id: String,
    pub emoji: Option<String>,
    pub sent_at: Millis,
}

/// A customer changed a message they had sent (Telegram's `edited_message`). `message` is the
/// new version, under the original's platform id.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MessageEdit {
    pub message: InboundMessage,
    pub edited_at: Millis,
}

/// A message sent from the platform account outside Messio (an echo), or by Messio itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EchoMessage {
    pub external_user_id: String,
    pub platform_message_id: String,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub kind: MessageKind,
    pub sent_at: Millis,
    /// The metadata Messio attached when it sent the message itself.
    pub our_message_id: Option<Id>,
}

/// What storing a delivered message changed, so that follow-up work (asking the platform for
/// a new customer's profile, keeping media) starts from facts rather than from event JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    pub message: Message,
    pub contact_id: Id,
    /// The sender was new to this channel: a contact was created for them.
    pub contact_created: bool,
    /// The message started a conversation (`conversation:new` was logged).
    pub conversation_opened: bool,
    /// A customer's message moved a resolved or closed conversation back to active.
    pub conversation_reopened: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StatusUpdate {
    /// Specific platform message ids reached a status.
    Messages {
        platform_message_ids: Vec<String>,
        status: MessageStatus,
        error: Option<String>,
    },
    /// Everything sent to this customer up to `watermark` reached a status.
    Watermark {
        external_user_id: String,
        watermark: Millis,
        status: MessageStatus,
    },
}

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// A page of a thread, oldest first; `before` is a message id from `next_cursor`.
    async fn messages(
        &self,
        org_id: Id,
        conversation_id: Id,
        before: Option<Id>,
        limit: i64,
    ) -> StoreResult<Page<Message>>;
    /// Stores a customer's message; `None` when the platform message id was already stored.
    async fn ingest_inbound(&self, channel_id: Id, msg: InboundMessage) -> StoreResult<Option<Written<Delivered>>>;
    /// Stores a message from our side that the platform echoed; `None` when it is ours and
    /// already stored (only its platform id is recorded) or a duplicate.
    async fn ingest_echo(&self, channel_id: Id, msg: EchoMessage) -> StoreResult<Option<Written<Delivered>>>;
    /// Moves statuses forward only. Reports for ids not recorded yet are kept and applied
    /// when `finish_outbound` records the id.
    async fn apply_status(&self, channel_id: Id, update: StatusUpdate) -> StoreResult<Written<Vec<Id>>>;
    /// Sets (or removes) the customer's reaction on a message; an unknown target becomes a
    /// message of its own. `None` when the reaction was already stored.
    async fn apply_reaction(&self, channel_id: Id, reaction: ReactionUpdate)
    -> StoreResult<Option<Written<Delivered>>>;
    /// One of the organization's messages with the channel it belongs to (`NotFound` for
    /// another organization's).
    async fn message_with_channel(&self, org_id: Id, message_id: Id) -> StoreResult<(Message, ChannelRecord)>;
    /// Records that a sent reply was changed to `Some(text)` or taken back (`None`) on the
    /// platform: its new text and `edited_at`, or `deleted_at`; `message:updated` tells the
    /// inbox.
    async fn revise_sent(&self, org_id: Id, message_id: Id, revision: Option<&str>) -> StoreResult<Written<Message>>;
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.conversation_id, m.direction, m.sender_user_id, \
    m.sender_name, m.body, m.attachments, m.kind, m.reply_to_platform_id, m.reply_to_id, r.body AS reply_to_body, \
    r.attachments AS reply_to_attachments, m.reactions, m.status, m.error, m.platform_message_id, m.client_id, m.tag, \
    m.created_at, m.edited_at, m.deleted_at, m.payload FROM messages m LEFT JOIN messages r ON r.id = m.reply_to_id";

/// A thread's newest messages (`messages_thread` index, newest id first); the caller adds an
/// optional `AND m.id < $3`, then `ORDER BY m.id DESC LIMIT $2`. Binds: conversation, limit.
/// Public so the benchmark can EXPLAIN it.
pub fn thread_page_sql() -> String {
    format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1")
}

/// The buttons a reply offered, kept in its payload (`{"buttons": ["Small", "Medium"]}`).
fn buttons_of(payload: Option<&str>) -> Vec<String> {
    payload
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
        .and_then(|p| {
            p.get("buttons")?
                .as_array()
                .map(|buttons| buttons.iter().filter_map(|b| b.as_str().map(str::to_string)).collect())
        })
        .unwrap_or_default()
}

fn message_from_row(row: &AnyRow) -> StoreResult<Message> {
    let attachments: String = row.try_get("attachments")?;
    let reactions: String = row.try_get("reactions")?;
    let reply_to = match row.try_get::<Option<String>, _>("reply_to_platform_id")? {
        Some(platform_message_id) => {
            let quoted_attachments: Vec<Attachment> = row
                .try_get::<Option<String>, _>("reply_to_attachments")?
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default();
            Some(ReplyTo {
                message_id: row.try_get("reply_to_id")?,
                preview: row
                    .try_get::<Option<String>, _>("reply_to_body")?
                    .map(|body| preview(&body, &quoted_attachments)),
                platform_message_id,
            })
        }
        None => None,
    };
    Ok(Message {
        kind: parse(&row.try_get::<String, _>("kind")?, "message kind")?,
        reply_to,
        reactions: serde_json::from_str(&reactions).unwrap_or_default(),
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        direction: parse(&row.try_get::<String, _>("direction")?, "direction")?,
        sender_user_id: row.try_get("sender_user_id")?,
        sender_name: row.try_get("sender_name")?,
        body: row.try_get("body")?,
        attachments: serde_json::from_str(&attachments).unwrap_or_default(),
        status: parse(&row.try_get::<String, _>("status")?, "message status")?,
        error: row.try_get("error")?,
        platform_message_id: row.try_get("platform_message_id")?,
        client_id: row.try_get("client_id")?,
        tag: row.try_get("tag")?,
        created_at: row.try_get("created_at")?,
        edited_at: row.try_get("edited_at")?,
        deleted_at: row.try_get("deleted_at")?,
        buttons: buttons_of(row.try_get::<Option<String>, _>("payload")?.as_deref()),
    })
}

pub(super) async fn message_in(conn: &mut Conn, message_id: Id) -> StoreResult<Message> {
    let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
    let row = sqlx::query(&sql).bind(message_id).fetch_optional(&mut *conn).await?;
    message_from_row(&row.ok_or(StoreError::NotFound)?)
}

/// Applies a status report to our message with that platform id, never moving it
/// backwards. Returns (message id, conversation id) when something changed.
pub(super) async fn raise_status(
    conn: &mut Conn,
    channel_id: Id,
    platform_message_id: &str,
    status: MessageStatus,
    error: Option<&str>,
) -> StoreResult<Option<(Id, Id)>> {
    let row = sqlx::query(
        "UPDATE messages SET status = $1, status_rank = $2, error = COALESCE($3, error) \
         WHERE channel_id = $4 AND platform_message_id = $5 AND direction = 'outbound' AND status_rank < $2 \
         RETURNING id, conversation_id",
    )
    .bind(status.as_str())
    .bind(status.rank())
    .bind(error)
    .bind(channel_id)
    .bind(platform_message_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("conversation_id")?)))
        .transpose()
}

/// Applies a status report that arrived before our message's platform id was recorded.
pub(super) async fn apply_early_status(conn: &mut Conn, message_id: Id, platform_message_id: &str) -> StoreResult<()> {
    let early = sqlx::query(
        "DELETE FROM early_statuses WHERE platform_message_id = $1 \
         AND channel_id = (SELECT channel_id FROM messages WHERE id = $2) RETURNING channel_id, status, error",
    )
    .bind(platform_message_id)
    .bind(message_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(early) = early {
        let status: MessageStatus = parse(&early.try_get::<String, _>("status")?, "message status")?;
        let error: Option<String> = early.try_get("error")?;
        raise_status(
            conn,
            early.try_get("channel_id")?,
            platform_message_id,
            status,
            error.as_deref(),
        )
        .await?;
    }
    Ok(())
}

/// Keeps a status report for a platform id no message carries yet, the highest one winning.
async fn keep_early_status(
    conn: &mut Conn,
    channel_id: Id,
    platform_message_id: &str,
    status: MessageStatus,
    error: Option<&str>,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO early_statuses (channel_id, platform_message_id, status, status_rank, error, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, platform_message_id) DO UPDATE \
         SET status = excluded.status, status_rank = excluded.status_rank, \
         error = COALESCE(excluded.error, early_statuses.error) \
         WHERE early_statuses.status_rank < excluded.status_rank",
    )
    .bind(channel_id)
    .bind(platform_message_id)
    .bind(status.as_str())
    .bind(status.rank())
    .bind(error)
    .bind(now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The `conversation:new` event of a delivery that opened `conversation`, with its contact.
async fn opening(conn: &mut Conn, org_id: Id, contact_id: Id, conversation: &Conversation) -> StoreResult<DomainEvent> {
    Ok(DomainEvent::ConversationNew(ConversationOpened {
        conversation: conversation.clone(),
        contact: contact_in(conn, org_id, contact_id).await?,
    }))
}

/// Records the platform id of one of our messages, once the platform told it.
async fn record_platform_id(conn: &mut Conn, message_id: Id, platform_message_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE messages SET platform_message_id = $1 WHERE id = $2 AND platform_message_id IS NULL")
        .bind(platform_message_id)
        .bind(message_id)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_unique(e, "message already recorded"))?;
    Ok(())
}

#[async_trait]
impl<B: Backend> MessageStore for SqlStore<B> {
    async fn message_with_channel(&self, org_id: Id, message_id: Id) -> StoreResult<(Message, ChannelRecord)> {
        let mut conn = self.reader.acquire().await?;
        let channel_id: Id =
            sqlx::query_scalar("SELECT channel_id FROM messages WHERE id = $1 AND organization_id = $2")
                .bind(message_id)
                .bind(org_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
        let message = message_in(&mut conn, message_id).await?;
        let channel = channel_in(&mut conn, channel_id).await?;
        Ok((message, channel))
    }

    async fn revise_sent(&self, org_id: Id, message_id: Id, revision: Option<&str>) -> StoreResult<Written<Message>> {
        let now = now_millis();
        let mut tx = self.writer.begin().await?;
        let done = match revision {
            Some(text) => {
                sqlx::query(
                    "UPDATE messages SET body = $1, edited_at = $2 \
                     WHERE id = $3 AND organization_id = $4 AND direction = 'outbound' AND deleted_at IS NULL",
                )
                .bind(text)
                .bind(now)
                .bind(message_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?
            }
            None => {
                sqlx::query(
                    "UPDATE messages SET deleted_at = $1 \
                     WHERE id = $2 AND organization_id = $3 AND direction = 'outbound' AND deleted_at IS NULL",
                )
                .bind(now)
                .bind(message_id)
                .bind(org_id)
                .execute(&mut *tx)
                .await?
            }
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let message = message_in(&mut tx, message_id).await?;
        let event = append(
            &mut tx,
            org_id,
            DomainEvent::MessageUpdated(MessageChanged {
                message_id,
                conversation_id: message.conversation_id,
                message: message.clone(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Written::one(message, event))
    }

    async fn messages(
        &self,
        org_id: Id,
        conversation_id: Id,
        before: Option<Id>,
        limit: i64,
    ) -> StoreResult<Page<Message>> {
        let limit = limit.clamp(1, 200);
        let exists: Option<Id> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE organization_id = $1 AND id = $2")
                .bind(org_id)
                .bind(conversation_id)
                .fetch_optional(&self.reader)
                .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        let rows = match before {
            Some(before) => {
                sqlx::query(&format!(
                    "{} AND m.id < $3 ORDER BY m.id DESC LIMIT $2",
                    thread_page_sql()
                ))
                .bind(conversation_id)
                .bind(limit + 1)
                .bind(before)
                .fetch_all(&self.reader)
                .await?
            }
            None => {
                sqlx::query(&format!("{} ORDER BY m.id DESC LIMIT $2", thread_page_sql()))
                    .bind(conversation_id)
                    .bind(limit + 1)
                    .fetch_all(&self.reader)
                    .await?
            }
        };
        let mut items = rows.iter().map(message_from_row).collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = if items.len() as i64 > limit {
            items.truncate(limit as usize);
            items.last().map(|m| m.id.to_string())
        } else {
            None
        };
        items.reverse();
        Ok(Page { items, next_cursor })
    }

    async fn ingest_inbound(&self, channel_id: Id, msg: InboundMessage) -> StoreResult<Option<Written<Delivered>>> {
        let mut tx = self.writer.begin().await?;
        let channel = channel_in(&mut tx, channel_id).await?;
        let Some(decided) = inbound_in::<B>(&mut tx, &channel, &msg).await? else {
            return Ok(None);
        };
        let written = log_decided(&mut tx, channel.organization_id, decided).await?;
        tx.commit().await?;
        Ok(Some(written))
    }

    async fn ingest_echo(&self, channel_id: Id, msg: EchoMessage) -> StoreResult<Option<Written<Delivered>>> {
        let mut tx = self.writer.begin().await?;
        let channel = channel_in(&mut tx, channel_id).await?;
        let decided = echo_in::<B>(&mut tx, &channel, &msg).await?;
        let written = match decided {
            Some(decided) => Some(log_decided(&mut tx, channel.organization_id, decided).await?),
            None => None,
        };
        tx.commit().await?;
        Ok(written)
    }

    async fn apply_status(&self, channel_id: Id, update: StatusUpdate) -> StoreResult<Written<Vec<Id>>> {
        let mut tx = self.writer.begin().await?;
        let channel = channel_in(&mut tx, channel_id).await?;
        let decided = status_in(&mut tx, &channel, &update).await?;
        let written = log_decided(&mut tx, channel.organization_id, decided).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn apply_reaction(
        &self,
        channel_id: Id,
        reaction: ReactionUpdate,
    ) -> StoreResult<Option<Written<Delivered>>> {
        let mut tx = self.writer.begin().await?;
        let channel = channel_in(&mut tx, channel_id).await?;
        let Some(decided) = reaction_in::<B>(&mut tx, &channel, &reaction).await? else {
            return Ok(None);
        };
        let written = log_decided(&mut tx, channel.organization_id, decided).await?;
        tx.commit().await?;
        Ok(Some(written))
    }
}

// What each delivered event changes, decided inside the caller's transaction: a single
// delivery's own (above) or a group commit's (`ingest.rs`). The caller logs the events and
// commits.

/// A customer's message; `None` when its platform id is stored already. A duplicate changes
/// nothing: the first copy already made its contact and conversation.
pub(super) async fn inbound_in<B: Backend>(
    conn: &mut Conn,
    channel: &ChannelRecord,
    msg: &InboundMessage,
) -> StoreResult<Option<Decided<Delivered>>> {
    let now = now_millis();
    let (org_id, channel_id) = (channel.organization_id, channel.channel.id);
    // The usual delivery, a known customer writing again, finds and locks its thread in one read.
    let known = known_conversation_for_update::<B>(conn, org_id, channel_id, &msg.external_user_id).await?;
    let (contact_id, contact_created, conversation_id, opened) = match &known {
        Some(conversation) => {
            learn_name(
                conn,
                conversation.contact_id,
                &conversation.contact_name,
                msg.contact_name.as_deref(),
            )
            .await?;
            (conversation.contact_id, false, conversation.id, false)
        }
        None => {
            let (contact_id, created) = resolve_identity(
                conn,
                org_id,
                channel_id,
                &msg.external_user_id,
                msg.contact_name.as_deref(),
                now,
            )
            .await?;
            let (conversation_id, opened) =
                open_conversation(conn, org_id, channel_id, contact_id, msg.sent_at, now).await?;
            (contact_id, created, conversation_id, opened)
        }
    };
    let quoted = match &msg.reply_to_platform_id {
        Some(platform_message_id) => quoted_message(conn, channel_id, platform_message_id).await?,
        None => None,
    };
    let attachments = json_text(&msg.attachments, "[]");
    let message_id: Option<Id> = sqlx::query_scalar(
        "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, body, attachments, status, \
         platform_message_id, created_at, kind, reply_to_platform_id, reply_to_id) \
         VALUES ($1, $2, $3, 'inbound', $4, $5, 'received', $6, $7, $8, $9, $10) \
         ON CONFLICT (channel_id, platform_message_id) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(conversation_id)
    .bind(channel_id)
    .bind(&msg.body)
    .bind(&attachments)
    .bind(&msg.platform_message_id)
    .bind(msg.sent_at)
    .bind(msg.kind.as_str())
    .bind(msg.reply_to_platform_id.as_deref())
    .bind(quoted.as_ref().map(|q| q.0))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(message_id) = message_id else {
        return Ok(None);
    };
    let locked = match known {
        Some(conversation) => conversation,
        None => conversation_for_update::<B>(conn, org_id, conversation_id).await?,
    };
    let before = activity(&locked);
    let after = before.after_inbound(msg.sent_at, preview(&msg.body, &msg.attachments));
    let reopened = after.reopened_from(&before);
    let conversation = save_activity(conn, locked, after).await?;
    // As `message_in` would read it back, without the read.
    let message = Message {
        id: message_id,
        conversation_id,
        direction: Direction::Inbound,
        sender_user_id: None,
        sender_name: None,
        body: msg.body.clone(),
        attachments: msg.attachments.clone(),
        kind: msg.kind,
        reply_to: msg.reply_to_platform_id.as_ref().map(|platform_message_id| ReplyTo {
            message_id: quoted.as_ref().map(|q| q.0),
            platform_message_id: platform_message_id.clone(),
            preview: quoted.map(|q| q.1),
        }),
        reactions: vec![],
        status: MessageStatus::Received,
        error: None,
        platform_message_id: Some(msg.platform_message_id.clone()),
        client_id: None,
        tag: None,
        created_at: msg.sent_at,
        edited_at: None,
        deleted_at: None,
        buttons: Vec::new(),
    };
    let mut events = Vec::new();
    if opened {
        events.push(opening(conn, org_id, contact_id, &conversation).await?);
    } else if reopened {
        events.push(DomainEvent::ConversationStatus(ConversationStatusChanged {
            conversation_id,
            status: conversation.status,
            message: None,
            conversation: conversation.clone(),
        }));
    }
    events.push(DomainEvent::message_received(message.clone(), conversation));
    let delivered = Delivered {
        message,
        contact_id,
        contact_created,
        conversation_opened: opened,
        conversation_reopened: reopened && !opened,
    };
    Ok(Some(Decided::new(delivered, events)))
}

/// The message a reply quotes, if we have it: its id and preview.
async fn quoted_message(
    conn: &mut Conn,
    channel_id: Id,
    platform_message_id: &str,
) -> StoreResult<Option<(Id, String)>> {
    let row =
        sqlx::query("SELECT id, body, attachments FROM messages WHERE channel_id = $1 AND platform_message_id = $2")
            .bind(channel_id)
            .bind(platform_message_id)
            .fetch_optional(&mut *conn)
            .await?;
    row.map(|row| {
        let attachments: Vec<Attachment> =
            serde_json::from_str(&row.try_get::<String, _>("attachments")?).unwrap_or_default();
        Ok((
            row.try_get("id")?,
            preview(&row.try_get::<String, _>("body")?, &attachments),
        ))
    })
    .transpose()
}

/// A message the account sent; `None` when it is ours (only its platform id is recorded) or
/// a duplicate.
pub(super) async fn echo_in<B: Backend>(
    conn: &mut Conn,
    channel: &ChannelRecord,
    msg: &EchoMessage,
) -> StoreResult<Option<Decided<Delivered>>> {
    let now = now_millis();
    let (org_id, channel_id) = (channel.organization_id, channel.channel.id);
    if let Some(ours) = msg.our_message_id {
        // Our own send coming back: just make sure the platform id is recorded.
        sqlx::query(
            "UPDATE messages SET platform_message_id = $1 WHERE id = $2 AND channel_id = $3 \
             AND platform_message_id IS NULL",
        )
        .bind(&msg.platform_message_id)
        .bind(ours)
        .bind(channel_id)
        .execute(&mut *conn)
        .await
        .map_err(|e| map_unique(e, "message already recorded"))?;
        return Ok(None);
    }
    // Platforms that do not echo our metadata (Instagram) may echo a reply while its
    // send is still in flight: that is our message, not a new one from elsewhere.
    let in_flight: Option<Id> = sqlx::query_scalar(
        "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
         WHERE m.channel_id = $1 AND i.external_id = $2 AND m.direction = 'outbound' \
         AND m.status IN ('pending', 'sending') AND m.platform_message_id IS NULL AND m.body = $3 \
         ORDER BY m.id LIMIT 1",
    )
    .bind(channel_id)
    .bind(&msg.external_user_id)
    .bind(&msg.body)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(ours) = in_flight {
        record_platform_id(conn, ours, &msg.platform_message_id).await?;
        return Ok(None);
    }
    let (contact_id, contact_created) =
        resolve_identity(conn, org_id, channel_id, &msg.external_user_id, None, now).await?;
    let (conversation_id, opened) = open_conversation(conn, org_id, channel_id, contact_id, msg.sent_at, now).await?;
    let message_id: Option<Id> = sqlx::query_scalar(
        "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, sender_name, body, \
         attachments, status, status_rank, platform_message_id, created_at, kind) \
         VALUES ($1, $2, $3, 'outbound', $4, $5, $6, 'sent', $7, $8, $9, $10) \
         ON CONFLICT (channel_id, platform_message_id) DO NOTHING RETURNING id",
    )
    .bind(org_id)
    .bind(conversation_id)
    .bind(channel_id)
    .bind(&channel.channel.name)
    .bind(&msg.body)
    .bind(json_text(&msg.attachments, "[]"))
    .bind(MessageStatus::Sent.rank())
    .bind(&msg.platform_message_id)
    .bind(msg.sent_at)
    .bind(msg.kind.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(message_id) = message_id else {
        return Ok(None);
    };
    let locked = conversation_for_update::<B>(conn, org_id, conversation_id).await?;
    let after = activity(&locked).after_echo(msg.sent_at, preview(&msg.body, &msg.attachments));
    let conversation = save_activity(conn, locked, after).await?;
    let message = message_in(conn, message_id).await?;
    let mut events = Vec::new();
    if opened {
        // The page wrote first (from elsewhere): the conversation is new to the inbox too.
        events.push(opening(conn, org_id, contact_id, &conversation).await?);
    }
    events.push(DomainEvent::message_sent(message.clone(), conversation));
    let delivered = Delivered {
        message,
        contact_id,
        contact_created,
        conversation_opened: opened,
        conversation_reopened: false,
    };
    Ok(Some(Decided::new(delivered, events)))
}

/// Delivery statuses, moved forward only; returns the messages that changed.
pub(super) async fn status_in(
    conn: &mut Conn,
    channel: &ChannelRecord,
    update: &StatusUpdate,
) -> StoreResult<Decided<Vec<Id>>> {
    let channel_id = channel.channel.id;
    let mut changed: Vec<DeliveryChanged> = Vec::new();
    match update.clone() {
        StatusUpdate::Messages {
            platform_message_ids,
            status,
            error,
        } => {
            for mid in platform_message_ids {
                if let Some((id, conversation_id)) =
                    raise_status(conn, channel_id, &mid, status, error.as_deref()).await?
                {
                    changed.push(DeliveryChanged {
                        message_id: id,
                        conversation_id,
                        status,
                        error: error.clone(),
                        platform_message_id: Some(mid),
                    });
                    continue;
                }
                let known: Option<Id> =
                    sqlx::query_scalar("SELECT id FROM messages WHERE channel_id = $1 AND platform_message_id = $2")
                        .bind(channel_id)
                        .bind(&mid)
                        .fetch_optional(&mut *conn)
                        .await?;
                if known.is_none() {
                    // The send that produced this id has not recorded it yet: keep the report.
                    keep_early_status(conn, channel_id, &mid, status, error.as_deref()).await?;
                }
            }
        }
        StatusUpdate::Watermark {
            external_user_id,
            watermark,
            status,
        } => {
            let rows = sqlx::query(
                "UPDATE messages SET status = $1, status_rank = $2 \
                 WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN contact_identities i \
                     ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
                     WHERE i.channel_id = $3 AND i.external_id = $4) \
                 AND direction = 'outbound' AND created_at <= $5 AND status_rank < $2 \
                 AND status_rank >= $6 AND status <> 'failed' \
                 RETURNING id, conversation_id, platform_message_id",
            )
            .bind(status.as_str())
            .bind(status.rank())
            .bind(channel_id)
            .bind(&external_user_id)
            .bind(watermark)
            .bind(MessageStatus::Sent.rank())
            .fetch_all(&mut *conn)
            .await?;
            for r in rows {
                changed.push(DeliveryChanged {
                    message_id: r.try_get("id")?,
                    conversation_id: r.try_get("conversation_id")?,
                    status,
                    error: None,
                    platform_message_id: r.try_get("platform_message_id")?,
                });
            }
        }
    }
    let ids = changed.iter().map(|c| c.message_id).collect();
    Ok(Decided::new(
        ids,
        changed.into_iter().map(DomainEvent::MessageStatus).collect(),
    ))
}

/// A customer's reaction; `None` when it changes nothing. A reaction to a message we never saw
/// (sent before the channel was connected) is kept as a message of its own rather than dropped.
pub(super) async fn reaction_in<B: Backend>(
    conn: &mut Conn,
    channel: &ChannelRecord,
    reaction: &ReactionUpdate,
) -> StoreResult<Option<Decided<Delivered>>> {
    let target = sqlx::query(
        "SELECT m.id, m.conversation_id, m.reactions, c.contact_id FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
         WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3",
    )
    .bind(channel.channel.id)
    .bind(&reaction.target_platform_message_id)
    .bind(&reaction.external_user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(target) = target else {
        let Some(emoji) = &reaction.emoji else { return Ok(None) };
        let kept = InboundMessage {
            external_user_id: reaction.external_user_id.clone(),
            platform_message_id: reaction.platform_message_id.clone(),
            body: format!("Reacted {emoji} to a message"),
            kind: MessageKind::Reaction,
            sent_at: reaction.sent_at,
            ..Default::default()
        };
        return Box::pin(inbound_in::<B>(conn, channel, &kept)).await;
    };
    let message_id: Id = target.try_get("id")?;
    let conversation_id: Id = target.try_get("conversation_id")?;
    let contact_id: Id = target.try_get("contact_id")?;
    let reactions: Vec<Reaction> = serde_json::from_str(&target.try_get::<String, _>("reactions")?).unwrap_or_default();
    let Some(reactions) = with_customer_reaction(&reactions, reaction.emoji.clone(), reaction.sent_at) else {
        return Ok(None);
    };
    sqlx::query("UPDATE messages SET reactions = $1 WHERE id = $2")
        .bind(json_text(&reactions, "[]"))
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    changed_by_customer(conn, message_id, conversation_id, contact_id)
        .await
        .map(Some)
}

/// Applies a customer's edit to the stored message. An edit of a message that never reached
/// us (sent before the channel was connected, or lost by the platform) is stored as the
/// message itself, so the customer's words are not dropped. An edit that changes nothing we
/// keep (the platform also reports edits of fields we do not show) changes nothing.
pub(super) async fn edit_in<B: Backend>(
    conn: &mut Conn,
    channel: &ChannelRecord,
    edit: &MessageEdit,
) -> StoreResult<Option<Decided<Delivered>>> {
    let new = &edit.message;
    let target = sqlx::query(
        "SELECT m.id, m.conversation_id, m.body, m.attachments, c.contact_id FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
         WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3 AND m.direction = 'inbound'",
    )
    .bind(channel.channel.id)
    .bind(&new.platform_message_id)
    .bind(&new.external_user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(target) = target else {
        return Box::pin(inbound_in::<B>(conn, channel, new)).await;
    };
    let message_id: Id = target.try_get("id")?;
    let conversation_id: Id = target.try_get("conversation_id")?;
    let contact_id: Id = target.try_get("contact_id")?;
    let attachments = json_text(&new.attachments, "[]");
    if target.try_get::<String, _>("body")? == new.body && target.try_get::<String, _>("attachments")? == attachments {
        return Ok(None);
    }
    sqlx::query("UPDATE messages SET body = $1, attachments = $2, edited_at = $3 WHERE id = $4")
        .bind(&new.body)
        .bind(&attachments)
        .bind(edit.edited_at)
        .bind(message_id)
        .execute(&mut *conn)
        .await?;
    changed_by_customer(conn, message_id, conversation_id, contact_id)
        .await
        .map(Some)
}

/// A stored message the customer changed (a reaction, an edit), read back, with the
/// `message:updated` that tells the inbox.
async fn changed_by_customer(
    conn: &mut Conn,
    message_id: Id,
    conversation_id: Id,
    contact_id: Id,
) -> StoreResult<Decided<Delivered>> {
    let message = message_in(conn, message_id).await?;
    let event = DomainEvent::MessageUpdated(MessageChanged {
        message_id,
        conversation_id,
        message: message.clone(),
    });
    let delivered = Delivered {
        message,
        contact_id,
        contact_created: false,
        conversation_opened: false,
        conversation_reopened: false,
    };
    Ok(Decided::new(delivered, vec![event]))
}
