//! Private notes inside conversations, and whom they mention. A note belongs to its
//! conversation's organization; only that organization's people can be mentioned (others
//! named are dropped, never stored). Each mention is a row of its own with its read state,
//! so later activity in the conversation never hides it: a person's mentions list reads
//! those rows, unread until they read each one.

use super::backend::{Backend, SqlStore};
use super::events::append;
use super::sql::Conn;
use super::{StoreError, StoreResult, Written, now_millis};
use crate::events::{DomainEvent, NoteAdded, NoteDeleted};
use crate::model::{Id, Mention, Note};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
pub trait NoteStore: Send + Sync {
    /// Adds `author`'s note to a conversation of their organization; `note:added` names the
    /// people of the organization it mentions.
    async fn add_note(
        &self,
        org_id: Id,
        conversation_id: Id,
        author_id: Id,
        body: &str,
        mentions: &[Id],
    ) -> StoreResult<Written<Note>>;
    /// A conversation's notes, oldest first.
    async fn notes(&self, org_id: Id, conversation_id: Id) -> StoreResult<Vec<Note>>;
    async fn note(&self, org_id: Id, note_id: Id) -> StoreResult<Note>;
    /// Removes a note (and its mentions); `note:deleted` tells the inbox.
    async fn delete_note(&self, org_id: Id, note_id: Id) -> StoreResult<Written<()>>;
    /// The notes that mention `user_id`, newest first (the latest 100), or only the unread.
    async fn mentions(&self, org_id: Id, user_id: Id, unread_only: bool) -> StoreResult<Vec<Mention>>;
    /// Marks one of `user_id`'s mentions read (once: a second read keeps the first time).
    async fn read_mention(&self, org_id: Id, user_id: Id, note_id: Id) -> StoreResult<Mention>;
}

const NOTE_SELECT: &str = "SELECT n.id, n.conversation_id, n.author_id, u.name AS author_name, n.body, n.created_at \
    FROM notes n JOIN users u ON u.id = n.author_id";

async fn note_in(conn: &mut Conn, org_id: Id, note_id: Id) -> StoreResult<Note> {
    let sql = format!("{NOTE_SELECT} WHERE n.id = $1 AND n.organization_id = $2");
    let row = sqlx::query(&sql)
        .bind(note_id)
        .bind(org_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut note = note_from_row(&row)?;
    note.mentions = mentions_of(conn, note.id).await?;
    Ok(note)
}

fn note_from_row(row: &sqlx::any::AnyRow) -> StoreResult<Note> {
    Ok(Note {
        id: row.try_get("id")?,
        conversation_id: row.try_get("conversation_id")?,
        author_id: row.try_get("author_id")?,
        author_name: row.try_get("author_name")?,
        body: row.try_get("body")?,
        mentions: Vec::new(),
        created_at: row.try_get("created_at")?,
    })
}

/// `user_id`'s mentions, newest first; `only_note` narrows them to one note.
async fn mentions_in(
    conn: &mut Conn,
    org_id: Id,
    user_id: Id,
    unread_only: bool,
    only_note: Option<Id>,
) -> StoreResult<Vec<Mention>> {
    let sql = format!(
        "SELECT n.id, n.conversation_id, n.author_id, u.name AS author_name, n.body, n.created_at, \
         ct.name AS contact_name, nm.read_at FROM note_mentions nm \
         JOIN notes n ON n.id = nm.note_id JOIN users u ON u.id = n.author_id \
         JOIN conversations c ON c.id = n.conversation_id JOIN contacts ct ON ct.id = c.contact_id \
         WHERE nm.organization_id = $1 AND nm.user_id = $2{}{} ORDER BY n.id DESC LIMIT 100",
        if unread_only { " AND nm.read_at IS NULL" } else { "" },
        if only_note.is_some() {
            " AND nm.note_id = $3"
        } else {
            ""
        },
    );
    let mut query = sqlx::query(&sql).bind(org_id).bind(user_id);
    if let Some(note_id) = only_note {
        query = query.bind(note_id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut mentions = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut note = note_from_row(row)?;
        note.mentions = mentions_of(conn, note.id).await?;
        mentions.push(Mention {
            note,
            contact_name: row.try_get("contact_name")?,
            read_at: row.try_get("read_at")?,
        });
    }
    Ok(mentions)
}

async fn mentions_of(conn: &mut Conn, note_id: Id) -> StoreResult<Vec<Id>> {
    Ok(
        sqlx::query_scalar("SELECT user_id FROM note_mentions WHERE note_id = $1 ORDER BY user_id")
            .bind(note_id)
            .fetch_all(&mut *conn)
            .await?,
    )
}

#[async_trait]
impl<B: Backend> NoteStore for SqlStore<B> {
    async fn add_note(
        &self,
        org_id: Id,
        conversation_id: Id,
        author_id: Id,
        body: &str,
        mentions: &[Id],
    ) -> StoreResult<Written<Note>> {
        let mut tx = self.writer.begin().await?;
        let known: Option<Id> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE id = $1 AND organization_id = $2")
                .bind(conversation_id)
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let note_id: Id = sqlx::query_scalar(
            "INSERT INTO notes (organization_id, conversation_id, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(org_id)
        .bind(conversation_id)
        .bind(author_id)
        .bind(body)
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await?;
        let mut mentioned: Vec<Id> = mentions.to_vec();
        mentioned.sort_unstable();
        mentioned.dedup();
        for user_id in mentioned {
            // Only the organization's own people: a stranger's id is dropped, not stored.
            sqlx::query(
                "INSERT INTO note_mentions (note_id, organization_id, user_id) \
                 SELECT $1, $2, user_id FROM memberships WHERE organization_id = $2 AND user_id = $3",
            )
            .bind(note_id)
            .bind(org_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        }
        let note = note_in(&mut tx, org_id, note_id).await?;
        let event = append(
            &mut tx,
            org_id,
            DomainEvent::NoteAdded(NoteAdded {
                conversation_id,
                mentioned_users: note.mentions.clone(),
                note: note.clone(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Written::one(note, event))
    }

    async fn notes(&self, org_id: Id, conversation_id: Id) -> StoreResult<Vec<Note>> {
        let mut conn = self.reader.acquire().await?;
        let sql = format!("{NOTE_SELECT} WHERE n.conversation_id = $1 AND n.organization_id = $2 ORDER BY n.id");
        let rows = sqlx::query(&sql)
            .bind(conversation_id)
            .bind(org_id)
            .fetch_all(&mut *conn)
            .await?;
        let mut notes = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut note = note_from_row(row)?;
            note.mentions = mentions_of(&mut conn, note.id).await?;
            notes.push(note);
        }
        Ok(notes)
    }

    async fn note(&self, org_id: Id, note_id: Id) -> StoreResult<Note> {
        let mut conn = self.reader.acquire().await?;
        note_in(&mut conn, org_id, note_id).await
    }

    async fn delete_note(&self, org_id: Id, note_id: Id) -> StoreResult<Written<()>> {
        let mut tx = self.writer.begin().await?;
        let conversation_id: Id =
            sqlx::query_scalar("DELETE FROM notes WHERE id = $1 AND organization_id = $2 RETURNING conversation_id")
                .bind(note_id)
                .bind(org_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let event = append(
            &mut tx,
            org_id,
            DomainEvent::NoteDeleted(NoteDeleted {
                conversation_id,
                note_id,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(Written::one((), event))
    }

    async fn mentions(&self, org_id: Id, user_id: Id, unread_only: bool) -> StoreResult<Vec<Mention>> {
        let mut conn = self.reader.acquire().await?;
        mentions_in(&mut conn, org_id, user_id, unread_only, None).await
    }

    async fn read_mention(&self, org_id: Id, user_id: Id, note_id: Id) -> StoreResult<Mention> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE note_mentions SET read_at = $1 \
             WHERE organization_id = $2 AND user_id = $3 AND note_id = $4 AND read_at IS NULL",
        )
        .bind(now_millis())
        .bind(org_id)
        .bind(user_id)
        .bind(note_id)
        .execute(&mut *tx)
        .await?;
        let mention = mentions_in(&mut tx, org_id, user_id, false, Some(note_id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(mention)
    }
}
