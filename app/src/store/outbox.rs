//! Agents' replies on their way out. A reply is queued `pending` in the transaction that
//! shows it in the thread; a worker claims it (`sending`), hands it to the platform and
//! records the answer. A claim that outlives its timeout is recovered by the rules in
//! `crate::domain::delivery`, so a crash mid-send neither loses the reply nor sends it twice
//! where the platform would not notice.

use super::backend::{Backend, SqlStore};
use super::channels::{ChannelRecord, channel_in};
use super::conversations::{activity, conversation_for_update, save_activity};
use super::events::append;
use super::messages::{apply_early_status, message_in};
use super::sql::{Conn, json_text, map_unique, parse};
use super::{StoreError, StoreResult, Written, now_millis};
use crate::domain::delivery::recovered;
use crate::events::DomainEvent;
use crate::model::{Attachment, ChannelKind, Id, Message, MessageKind, MessageStatus, Millis, User, preview};
use async_trait::async_trait;
use sqlx::Row;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub conversation_id: Id,
    pub sender: User,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub client_id: Option<String>,
    pub tag: Option<String>,
    pub kind: MessageKind,
    /// What the adapter needs beyond the text (a template's name, language, parameters).
    pub payload: Option<serde_json::Value>,
    /// Recorded as one use of this template, in the same transaction.
    pub template_id: Option<Id>,
    /// The message of the same conversation this reply quotes.
    pub reply_to: Option<Id>,
}

/// An outbound message claimed for sending, with what the adapter needs to deliver it.
#[derive(Debug, Clone)]
pub struct OutboundJob {
    pub message: Message,
    pub channel: ChannelRecord,
    pub recipient_external_id: String,
    pub payload: Option<serde_json::Value>,
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues an agent's reply; a repeated `client_id` returns the message already queued.
    async fn queue_outbound(&self, org_id: Id, new: NewOutbound) -> StoreResult<Written<Message>>;
    /// Atomically moves up to `limit` pending messages to `sending`, so each is sent once.
    async fn claim_outbound(&self, limit: i64) -> StoreResult<Vec<OutboundJob>>;
    /// Records a claimed message's send: the platform's id (`sent`, or a status it already
    /// reported) or why it failed. A success also lifts a message that
    /// `recover_stale_outbound` gave up on as `failed` (the send outlived the claim timeout).
    async fn finish_outbound(&self, message_id: Id, result: Result<String, String>) -> StoreResult<Written<Message>>;
    /// Puts a claimed message back in the outbox, not to be claimed before `send_after`: the
    /// platform asked us to slow down (a 429 with the seconds to wait). It stays `pending`,
    /// not `failed`: nobody has to retry it by hand.
    async fn defer_outbound(&self, message_id: Id, send_after: Millis) -> StoreResult<Written<Message>>;
    /// Recovers up to `limit` messages claimed longer than `timeout` ago and still `sending`:
    /// the instance that claimed them stopped between `claim_outbound` and `finish_outbound`.
    /// One whose platform id is already known (an echo came back) is `sent`; on a channel kind
    /// whose platform de-duplicates sends (`ChannelKind::idempotent_send`) it goes back to
    /// `pending` and is sent again; elsewhere it becomes `failed` with [`super::INTERRUPTED_SEND`],
    /// for an agent to check and `retry_outbound`. A message whose status moved on is left
    /// alone, and each is recovered once however many instances run this at the same time.
    /// Returns the recovered messages with their `message:status` events.
    async fn recover_stale_outbound(&self, timeout: Duration, limit: i64) -> StoreResult<Written<Vec<Message>>>;
    /// Puts a failed message back in the outbox.
    async fn retry_outbound(&self, org_id: Id, message_id: Id) -> StoreResult<Written<Message>>;
}

/// The message as it now stands, with its `message:status` event, in the caller's transaction.
async fn delivery_written(conn: &mut Conn, message_id: Id) -> StoreResult<Written<Message>> {
    let message = message_in(conn, message_id).await?;
    let org_id: Id = sqlx::query_scalar("SELECT organization_id FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_one(&mut *conn)
        .await?;
    let event = append(conn, org_id, DomainEvent::delivery(&message)).await?;
    Ok(Written::one(message, event))
}

#[async_trait]
impl<B: Backend> OutboxStore for SqlStore<B> {
    async fn queue_outbound(&self, org_id: Id, new: NewOutbound) -> StoreResult<Written<Message>> {
        let now = now_millis();
        let mut tx = self.writer.begin().await?;
        let conversation = conversation_for_update::<B>(&mut tx, org_id, new.conversation_id).await?;
        if let Some(client_id) = &new.client_id {
            let existing: Option<Id> =
                sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = $1 AND client_id = $2")
                    .bind(new.conversation_id)
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(id) = existing {
                let message = message_in(&mut tx, id).await?;
                tx.rollback().await?;
                return Ok(Written::unchanged(message));
            }
        }
        let quoted: Option<(Id, Option<String>)> = match new.reply_to {
            Some(quoted_id) => Some(
                sqlx::query_as("SELECT id, platform_message_id FROM messages WHERE id = $1 AND conversation_id = $2")
                    .bind(quoted_id)
                    .bind(new.conversation_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Invalid("the quoted message is not in this conversation".into()))?,
            ),
            None => None,
        };
        let message_id: Id = sqlx::query_scalar(
            "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, sender_user_id, sender_name, \
             body, attachments, status, client_id, tag, created_at, kind, payload, reply_to_id, reply_to_platform_id) \
             VALUES ($1, $2, $3, 'outbound', $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(org_id)
        .bind(conversation.id)
        .bind(conversation.channel_id)
        .bind(new.sender.id)
        .bind(&new.sender.name)
        .bind(&new.body)
        .bind(json_text(&new.attachments, "[]"))
        .bind(new.client_id.as_deref())
        .bind(new.tag.as_deref())
        .bind(now)
        .bind(new.kind.as_str())
        .bind(new.payload.as_ref().map(|p| p.to_string()))
        .bind(quoted.as_ref().map(|(id, _)| *id))
        // A quote of a message the platform never numbered is kept as ours only.
        .bind(quoted.as_ref().map(|(_, platform_id)| platform_id.clone().unwrap_or_default()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_unique(e, "this message was already sent"))?;
        if let Some(template_id) = new.template_id {
            sqlx::query(
                "INSERT INTO template_usage (organization_id, template_id, message_id, user_id, created_at) \
                 SELECT $1, id, $2, $3, $4 FROM whatsapp_templates WHERE id = $5 AND organization_id = $1",
            )
            .bind(org_id)
            .bind(message_id)
            .bind(new.sender.id)
            .bind(now)
            .bind(template_id)
            .execute(&mut *tx)
            .await?;
        }
        let after = activity(&conversation).after_reply(now, preview(&new.body, &new.attachments));
        let mut conversation = save_activity(&mut tx, conversation, after).await?;
        super::routing::replied(&mut tx, &mut conversation, new.sender.id).await?;
        let message = message_in(&mut tx, message_id).await?;
        let event = append(
            &mut tx,
            org_id,
            DomainEvent::message_sent(message.clone(), conversation),
        )
        .await?;
        tx.commit().await?;
        Ok(Written::one(message, event))
    }

    async fn claim_outbound(&self, limit: i64) -> StoreResult<Vec<OutboundJob>> {
        let mut tx = self.writer.begin().await?;
        // Re-checking `status` in the outer UPDATE makes a concurrent claimer skip rows
        // another instance already took, on both backends. `SKIP_LOCKED` lets PostgreSQL
        // pick the next free rows instead, so a racing claimer is not left empty-handed.
        let sql = format!(
            "UPDATE messages SET status = 'sending', status_rank = $1, attempts = attempts + 1, claimed_at = $3 \
             WHERE status = 'pending' AND id IN (SELECT id FROM messages WHERE status = 'pending' \
             AND (send_after IS NULL OR send_after <= $3) ORDER BY id LIMIT $2{}) \
             RETURNING id",
            B::SKIP_LOCKED
        );
        let ids: Vec<Id> = sqlx::query_scalar(&sql)
            .bind(MessageStatus::Sending.rank())
            .bind(limit)
            .bind(now_millis())
            .fetch_all(&mut *tx)
            .await?;
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            let message = message_in(&mut tx, id).await?;
            let row = sqlx::query("SELECT channel_id, payload FROM messages WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let channel_id: Id = row.try_get("channel_id")?;
            let payload = row
                .try_get::<Option<String>, _>("payload")?
                .and_then(|p| serde_json::from_str(&p).ok());
            let channel = channel_in(&mut tx, channel_id).await?;
            let recipient: Option<String> = sqlx::query_scalar(
                "SELECT i.external_id FROM conversations c JOIN contact_identities i \
                 ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id WHERE c.id = $1",
            )
            .bind(message.conversation_id)
            .fetch_optional(&mut *tx)
            .await?;
            jobs.push(OutboundJob {
                message,
                channel,
                recipient_external_id: recipient.unwrap_or_default(),
                payload,
            });
        }
        tx.commit().await?;
        Ok(jobs)
    }

    async fn finish_outbound(&self, message_id: Id, result: Result<String, String>) -> StoreResult<Written<Message>> {
        let mut tx = self.writer.begin().await?;
        match &result {
            Ok(platform_id) => {
                // `failed` before the send's own answer can only be `recover_stale_outbound`
                // giving up on a send that outlived the claim timeout: it did go out.
                sqlx::query(
                    "UPDATE messages SET platform_message_id = COALESCE(platform_message_id, $1), error = NULL, \
                     status = CASE WHEN status_rank < $2 OR status = 'failed' THEN 'sent' ELSE status END, \
                     status_rank = CASE WHEN status_rank < $2 OR status = 'failed' THEN $2 ELSE status_rank END \
                     WHERE id = $3",
                )
                .bind(platform_id)
                .bind(MessageStatus::Sent.rank())
                .bind(message_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| map_unique(e, "platform message id already recorded"))?;
                apply_early_status(&mut tx, message_id, platform_id).await?;
            }
            Err(reason) => {
                sqlx::query("UPDATE messages SET status = 'failed', status_rank = $1, error = $2 WHERE id = $3")
                    .bind(MessageStatus::Failed.rank())
                    .bind(reason)
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        let written = delivery_written(&mut tx, message_id).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn defer_outbound(&self, message_id: Id, send_after: Millis) -> StoreResult<Written<Message>> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE messages SET status = 'pending', status_rank = 0, send_after = $1 \
             WHERE id = $2 AND status = 'sending'",
        )
        .bind(send_after)
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
        let written = delivery_written(&mut tx, message_id).await?;
        tx.commit().await?;
        Ok(written)
    }

    async fn retry_outbound(&self, org_id: Id, message_id: Id) -> StoreResult<Written<Message>> {
        let mut tx = self.writer.begin().await?;
        let done = sqlx::query(
            "UPDATE messages SET status = 'pending', status_rank = 0, error = NULL \
             WHERE id = $1 AND organization_id = $2 AND status = 'failed'",
        )
        .bind(message_id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            let exists: Option<Id> =
                sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND organization_id = $2")
                    .bind(message_id)
                    .bind(org_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                Some(_) => StoreError::Invalid("only a failed message can be retried".into()),
                None => StoreError::NotFound,
            });
        }
        let message = message_in(&mut tx, message_id).await?;
        let event = append(&mut tx, org_id, DomainEvent::delivery(&message)).await?;
        tx.commit().await?;
        Ok(Written::one(message, event))
    }

    async fn recover_stale_outbound(&self, timeout: Duration, limit: i64) -> StoreResult<Written<Vec<Message>>> {
        let now = now_millis();
        let claimed_before = now.saturating_sub(Millis::try_from(timeout.as_millis()).unwrap_or(Millis::MAX));
        let mut tx = self.writer.begin().await?;
        // A message claimed before claims were timed (or by an older instance during an
        // upgrade) starts its clock now, so it is recovered too, one timeout later.
        sqlx::query("UPDATE messages SET claimed_at = $1 WHERE status = 'sending' AND claimed_at IS NULL")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // On PostgreSQL `SKIP_LOCKED` makes a concurrent recovery skip the rows this one
        // holds; either way each UPDATE below is guarded by the status and the claim time it
        // saw, so a message is recovered once, and never after its send finished or after it
        // was claimed again.
        let sql = format!(
            "SELECT m.id, m.organization_id, m.claimed_at, m.platform_message_id, \
             (SELECT ch.kind FROM channels ch WHERE ch.id = m.channel_id) AS kind FROM messages m \
             WHERE m.status = 'sending' AND m.claimed_at < $1 ORDER BY m.claimed_at, m.id LIMIT $2{}",
            B::SKIP_LOCKED
        );
        let stale = sqlx::query(&sql)
            .bind(claimed_before)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut recovered_ids: Vec<(Id, Id)> = Vec::with_capacity(stale.len());
        for row in &stale {
            let id: Id = row.try_get("id")?;
            let claimed_at: Millis = row.try_get("claimed_at")?;
            let platform_message_id: Option<String> = row.try_get("platform_message_id")?;
            let kind: ChannelKind = parse(&row.try_get::<String, _>("kind")?, "channel kind")?;
            let (status, error) = recovered(platform_message_id.is_some(), kind);
            let done = sqlx::query(
                "UPDATE messages SET status = $1, status_rank = $2, error = $3 \
                 WHERE id = $4 AND status = 'sending' AND claimed_at = $5",
            )
            .bind(status.as_str())
            .bind(status.rank())
            .bind(error)
            .bind(id)
            .bind(claimed_at)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                continue;
            }
            if let Some(platform_message_id) = &platform_message_id {
                apply_early_status(&mut tx, id, platform_message_id).await?;
            }
            recovered_ids.push((row.try_get("organization_id")?, id));
        }
        // Events only after every message row is written, one organization at a time:
        // locks are then taken in the order the other writers take them (message rows,
        // then the organization's event sequence).
        recovered_ids.sort_by_key(|(org_id, _)| *org_id);
        let mut messages = Vec::with_capacity(recovered_ids.len());
        let mut events = Vec::with_capacity(recovered_ids.len());
        for (org_id, id) in recovered_ids {
            let message = message_in(&mut tx, id).await?;
            events.push(append(&mut tx, org_id, DomainEvent::delivery(&message)).await?);
            messages.push(message);
        }
        tx.commit().await?;
        Ok(Written {
            value: messages,
            events,
        })
    }
}
