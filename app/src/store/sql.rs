//! The SQL both backends run. SQLite (3.35+) and PostgreSQL accept the same text here:
//! `$n` placeholders, `RETURNING`, `ON CONFLICT … DO NOTHING`, integers for times and ids.
//! `sql_store!` expands it into each backend's `impl Store`; the backend modules keep only
//! what truly differs (connection setup, pool layout).

pub(super) const CONVERSATION_SELECT: &str = "SELECT c.id, c.contact_id, ct.name AS contact_name, \
    ct.avatar_url AS contact_avatar_url, c.channel_id, ch.kind AS channel_kind, ch.name AS channel_name, \
    c.status, c.assignee_id, u.name AS assignee_name, c.unread_count, c.last_message_preview, \
    c.last_message_at, c.last_inbound_at, c.created_at \
    FROM conversations c JOIN contacts ct ON ct.id = c.contact_id JOIN channels ch ON ch.id = c.channel_id \
    LEFT JOIN users u ON u.id = c.assignee_id";

pub(super) const MESSAGE_SELECT: &str = "SELECT m.id, m.conversation_id, m.direction, m.sender_user_id, \
    m.sender_name, m.body, m.attachments, m.kind, m.reply_to_platform_id, m.reply_to_id, r.body AS reply_to_body, \
    r.attachments AS reply_to_attachments, m.reactions, m.status, m.error, m.platform_message_id, m.client_id, m.tag, \
    m.created_at, m.edited_at, m.deleted_at FROM messages m LEFT JOIN messages r ON r.id = m.reply_to_id";

pub(super) const CHANNEL_SELECT: &str = "SELECT id, organization_id, kind, external_id, name, credentials, \
    status, last_error, parent_account_id, created_at FROM channels";

pub(super) const TEMPLATE_SELECT: &str = "SELECT t.id, t.organization_id, t.waba_id, t.platform_template_id, t.name, \
    t.language, t.category, t.status, t.rejected_reason, t.content, t.created_at, t.updated_at, \
    (SELECT COUNT(*) FROM template_usage u WHERE u.template_id = t.id) AS usage_count, \
    (SELECT MAX(u.created_at) FROM template_usage u WHERE u.template_id = t.id) AS last_used_at \
    FROM whatsapp_templates t";

pub(super) const USER_SELECT: &str = "SELECT u.id, m.organization_id, u.name, u.email, m.role, u.password_hash \
    FROM users u JOIN memberships m ON m.user_id = u.id";

pub(super) fn parse<T: std::str::FromStr>(value: &str, what: &str) -> Result<T, super::StoreError> {
    value
        .parse()
        .map_err(|_| super::StoreError::Invalid(format!("stored {what} `{value}` is not recognized")))
}

pub(super) fn encode_cursor(at: i64, id: i64) -> String {
    format!("{at}.{id}")
}

pub(super) fn decode_cursor(cursor: &str) -> Result<(i64, i64), super::StoreError> {
    let bad = || super::StoreError::Invalid(format!("`{cursor}` is not a valid cursor"));
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok((at.parse().map_err(|_| bad())?, id.parse().map_err(|_| bad())?))
}

pub(super) fn map_unique(err: sqlx::Error, what: &str) -> super::StoreError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => super::StoreError::Conflict(what.to_string()),
        _ => super::StoreError::Database(err),
    }
}

pub(super) fn default_contact_name(external_id: &str) -> String {
    let tail: String = external_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("Customer {tail}")
}

macro_rules! sql_store {
    ($Store:ident, $Db:ty, $Row:ty) => {
        use $crate::model::*;
        use $crate::store::sql::*;
        use $crate::templates::{TemplateStatus, WhatsAppTemplate};
        use $crate::store::*;
        use serde_json::json;
        use sqlx::Row;

        type Tx<'a> = sqlx::Transaction<'a, $Db>;

        fn user_from_row(row: &$Row) -> StoreResult<Credentials> {
            Ok(Credentials {
                user: User {
                    id: row.try_get("id")?,
                    organization_id: row.try_get("organization_id")?,
                    name: row.try_get("name")?,
                    email: row.try_get("email")?,
                    role: parse(&row.try_get::<String, _>("role")?, "role")?,
                },
                password_hash: row.try_get("password_hash")?,
            })
        }

        fn channel_from_row(row: &$Row) -> StoreResult<ChannelRecord> {
            Ok(ChannelRecord {
                organization_id: row.try_get("organization_id")?,
                credentials: row.try_get("credentials")?,
                channel: Channel {
                    id: row.try_get("id")?,
                    kind: parse(&row.try_get::<String, _>("kind")?, "channel kind")?,
                    external_id: row.try_get("external_id")?,
                    name: row.try_get("name")?,
                    status: parse(&row.try_get::<String, _>("status")?, "channel status")?,
                    last_error: row.try_get("last_error")?,
                    parent_account_id: row.try_get("parent_account_id")?,
                    created_at: row.try_get("created_at")?,
                },
            })
        }

        fn conversation_from_row(row: &$Row) -> StoreResult<Conversation> {
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
            })
        }

        fn message_from_row(row: &$Row) -> StoreResult<Message> {
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
            })
        }

        fn template_from_row(row: &$Row) -> StoreResult<(Id, WhatsAppTemplate)> {
            let content: String = row.try_get("content")?;
            Ok((
                row.try_get("organization_id")?,
                WhatsAppTemplate {
                    id: row.try_get("id")?,
                    waba_id: row.try_get("waba_id")?,
                    platform_template_id: row.try_get("platform_template_id")?,
                    name: row.try_get("name")?,
                    language: row.try_get("language")?,
                    category: parse(&row.try_get::<String, _>("category")?, "template category")?,
                    status: parse(&row.try_get::<String, _>("status")?, "template status")?,
                    rejected_reason: row.try_get("rejected_reason")?,
                    content: serde_json::from_str(&content).unwrap_or_default(),
                    usage_count: row.try_get("usage_count")?,
                    last_used_at: row.try_get("last_used_at")?,
                    created_at: row.try_get("created_at")?,
                    updated_at: row.try_get("updated_at")?,
                },
            ))
        }

        async fn template_in(tx: &mut Tx<'_>, template_id: Id) -> StoreResult<(Id, WhatsAppTemplate)> {
            let sql = format!("{TEMPLATE_SELECT} WHERE t.id = $1");
            let row = sqlx::query(&sql).bind(template_id).fetch_optional(&mut **tx).await?;
            template_from_row(&row.ok_or(StoreError::NotFound)?)
        }

        /// Applies a status report to our message with that platform id, never moving it
        /// backwards. Returns (message id, conversation id) when something changed.
        async fn raise_status(
            tx: &mut Tx<'_>,
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
            .fetch_optional(&mut **tx)
            .await?;
            row.map(|r| Ok((r.try_get("id")?, r.try_get("conversation_id")?))).transpose()
        }

        /// Applies a status report that arrived before our message's platform id was recorded.
        async fn apply_early_status(tx: &mut Tx<'_>, message_id: Id, platform_message_id: &str) -> StoreResult<()> {
            let early = sqlx::query(
                "DELETE FROM early_statuses WHERE platform_message_id = $1 \
                 AND channel_id = (SELECT channel_id FROM messages WHERE id = $2) RETURNING channel_id, status, error",
            )
            .bind(platform_message_id)
            .bind(message_id)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(early) = early {
                let status: MessageStatus = parse(&early.try_get::<String, _>("status")?, "message status")?;
                let error: Option<String> = early.try_get("error")?;
                raise_status(tx, early.try_get("channel_id")?, platform_message_id, status, error.as_deref()).await?;
            }
            Ok(())
        }

        /// Appends to the organization's event log. The `UPDATE … RETURNING` both numbers the
        /// event and, on PostgreSQL, locks the organization row until commit, so events become
        /// visible in `seq` order and a catching-up client never skips one.
        async fn push_event(tx: &mut Tx<'_>, org_id: Id, name: &str, mut payload: serde_json::Value) -> StoreResult<Event> {
            let seq: i64 = sqlx::query_scalar("UPDATE organizations SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq")
                .bind(org_id)
                .fetch_one(&mut **tx)
                .await?;
            if let Some(obj) = payload.as_object_mut() {
                obj.insert("seq".into(), seq.into());
            }
            sqlx::query("INSERT INTO events (organization_id, seq, name, payload, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(org_id)
                .bind(seq)
                .bind(name)
                .bind(payload.to_string())
                .bind(now_millis())
                .execute(&mut **tx)
                .await?;
            Ok(Event { seq, organization_id: org_id, name: name.to_string(), payload })
        }

        async fn conversation_in(tx: &mut Tx<'_>, org_id: Id, conversation_id: Id) -> StoreResult<Conversation> {
            let sql = format!("{CONVERSATION_SELECT} WHERE c.organization_id = $1 AND c.id = $2");
            let row = sqlx::query(&sql).bind(org_id).bind(conversation_id).fetch_optional(&mut **tx).await?;
            conversation_from_row(&row.ok_or(StoreError::NotFound)?)
        }

        async fn message_in(tx: &mut Tx<'_>, message_id: Id) -> StoreResult<Message> {
            let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1");
            let row = sqlx::query(&sql).bind(message_id).fetch_optional(&mut **tx).await?;
            message_from_row(&row.ok_or(StoreError::NotFound)?)
        }

        async fn channel_in(tx: &mut Tx<'_>, channel_id: Id) -> StoreResult<ChannelRecord> {
            let sql = format!("{CHANNEL_SELECT} WHERE id = $1");
            let row = sqlx::query(&sql).bind(channel_id).fetch_optional(&mut **tx).await?;
            channel_from_row(&row.ok_or(StoreError::NotFound)?)
        }

        async fn contact_in(tx: &mut Tx<'_>, org_id: Id, contact_id: Id) -> StoreResult<Contact> {
            let row = sqlx::query("SELECT id, name, avatar_url FROM contacts WHERE organization_id = $1 AND id = $2")
                .bind(org_id)
                .bind(contact_id)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let identities = sqlx::query(
                "SELECT i.channel_id, ch.kind, i.external_id FROM contact_identities i \
                 JOIN channels ch ON ch.id = i.channel_id WHERE i.contact_id = $1 ORDER BY i.id",
            )
            .bind(contact_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                Ok(ContactIdentity {
                    channel_id: r.try_get("channel_id")?,
                    channel_kind: parse(&r.try_get::<String, _>("kind")?, "channel kind")?,
                    external_id: r.try_get("external_id")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
            Ok(Contact { id: row.try_get("id")?, name: row.try_get("name")?, avatar_url: row.try_get("avatar_url")?, identities })
        }

        /// Finds or creates the contact behind a platform identity and its conversation on
        /// this channel. Returns (contact id, conversation id, whether the conversation is new).
        /// A new conversation's activity starts at `message_at`, the platform time of the
        /// message that opens it: the caller only moves the preview forward from there.
        async fn contact_and_conversation(
            tx: &mut Tx<'_>,
            org_id: Id,
            channel_id: Id,
            external_user_id: &str,
            contact_name: Option<&str>,
            message_at: Millis,
            now: Millis,
        ) -> StoreResult<(Id, Id, bool)> {
            let find_identity = "SELECT contact_id FROM contact_identities WHERE channel_id = $1 AND external_id = $2";
            let mut contact_id: Option<Id> = sqlx::query_scalar(find_identity)
                .bind(channel_id)
                .bind(external_user_id)
                .fetch_optional(&mut **tx)
                .await?;
            if contact_id.is_none() {
                let name = contact_name.map(str::to_string).unwrap_or_else(|| default_contact_name(external_user_id));
                let new_contact: Id = sqlx::query_scalar(
                    "INSERT INTO contacts (organization_id, name, created_at) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(org_id)
                .bind(&name)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                let linked: Option<Id> = sqlx::query_scalar(
                    "INSERT INTO contact_identities (organization_id, contact_id, channel_id, external_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel_id, external_id) DO NOTHING RETURNING contact_id",
                )
                .bind(org_id)
                .bind(new_contact)
                .bind(channel_id)
                .bind(external_user_id)
                .bind(now)
                .fetch_optional(&mut **tx)
                .await?;
                if linked.is_none() {
                    // A concurrent delivery created this identity first: use its contact.
                    sqlx::query("DELETE FROM contacts WHERE id = $1").bind(new_contact).execute(&mut **tx).await?;
                    contact_id = sqlx::query_scalar(find_identity)
                        .bind(channel_id)
                        .bind(external_user_id)
                        .fetch_optional(&mut **tx)
                        .await?;
                } else {
                    contact_id = linked;
                }
            } else if let Some(name) = contact_name {
                // Learn a real name once the platform tells us one.
                sqlx::query("UPDATE contacts SET name = $1 WHERE id = $2 AND name LIKE 'Customer %'")
                    .bind(name)
                    .bind(contact_id)
                    .execute(&mut **tx)
                    .await?;
            }
            let contact_id = contact_id.ok_or(StoreError::NotFound)?;

            let find_conversation = "SELECT id FROM conversations WHERE channel_id = $1 AND contact_id = $2";
            if let Some(id) = sqlx::query_scalar::<_, Id>(find_conversation)
                .bind(channel_id)
                .bind(contact_id)
                .fetch_optional(&mut **tx)
                .await?
            {
                return Ok((contact_id, id, false));
            }
            let created: Option<Id> = sqlx::query_scalar(
                "INSERT INTO conversations (organization_id, contact_id, channel_id, status, last_message_at, created_at) \
                 VALUES ($1, $2, $3, 'new', $4, $5) ON CONFLICT (channel_id, contact_id) DO NOTHING RETURNING id",
            )
            .bind(org_id)
            .bind(contact_id)
            .bind(channel_id)
            .bind(message_at)
            .bind(now)
            .fetch_optional(&mut **tx)
            .await?;
            match created {
                Some(id) => Ok((contact_id, id, true)),
                None => {
                    let id = sqlx::query_scalar::<_, Id>(find_conversation)
                        .bind(channel_id)
                        .bind(contact_id)
                        .fetch_one(&mut **tx)
                        .await?;
                    Ok((contact_id, id, false))
                }
            }
        }

        /// Adds a quiet line ("Ana resolved the conversation") to a thread.
        async fn system_message(tx: &mut Tx<'_>, conversation: &Conversation, org_id: Id, text: &str) -> StoreResult<Message> {
            let id: Id = sqlx::query_scalar(
                "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, body, status, created_at) \
                 VALUES ($1, $2, $3, 'system', $4, 'received', $5) RETURNING id",
            )
            .bind(org_id)
            .bind(conversation.id)
            .bind(conversation.channel_id)
            .bind(text)
            .bind(now_millis())
            .fetch_one(&mut **tx)
            .await?;
            message_in(tx, id).await
        }

        #[async_trait::async_trait]
        impl Store for $Store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn create_organization(&self, org_name: &str, owner_name: &str, email: &str, password_hash: &str) -> StoreResult<(Organization, User)> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let org_id: Id = sqlx::query_scalar("INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(org_name)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                let user = insert_user(&mut tx, org_id, owner_name, email, password_hash, Role::Owner, now).await?;
                tx.commit().await?;
                Ok((Organization { id: org_id, name: org_name.to_string() }, user))
            }

            async fn organization(&self, org_id: Id) -> StoreResult<Organization> {
                let row = sqlx::query("SELECT id, name FROM organizations WHERE id = $1")
                    .bind(org_id)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Ok(Organization { id: row.try_get("id")?, name: row.try_get("name")? })
            }

            async fn add_user(&self, org_id: Id, name: &str, email: &str, password_hash: &str, role: Role) -> StoreResult<User> {
                let mut tx = self.writer().begin().await?;
                let user = insert_user(&mut tx, org_id, name, email, password_hash, role, now_millis()).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>> {
                let sql = format!("{USER_SELECT} WHERE u.email = $1");
                let row = sqlx::query(&sql).bind(email.trim().to_lowercase()).fetch_optional(self.reader()).await?;
                row.as_ref().map(user_from_row).transpose()
            }

            async fn users(&self, org_id: Id) -> StoreResult<Vec<User>> {
                let sql = format!("{USER_SELECT} WHERE m.organization_id = $1 ORDER BY u.name, u.id");
                let rows = sqlx::query(&sql).bind(org_id).fetch_all(self.reader()).await?;
                rows.iter().map(|r| user_from_row(r).map(|c| c.user)).collect()
            }

            async fn create_session(&self, token_hash: &str, user_id: Id, expires_at: Millis) -> StoreResult<()> {
                sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now_millis())
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn session_user(&self, token_hash: &str, now: Millis) -> StoreResult<Option<User>> {
                let sql = format!("{USER_SELECT} JOIN sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > $2");
                let row = sqlx::query(&sql).bind(token_hash).bind(now).fetch_optional(self.reader()).await?;
                row.as_ref().map(|r| user_from_row(r).map(|c| c.user)).transpose()
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(self.writer()).await?;
                Ok(())
            }

            async fn create_invite(&self, org_id: Id, token_hash: &str, role: Role, created_by: Id, expires_at: Millis) -> StoreResult<()> {
                if role == Role::Owner {
                    return Err(StoreError::Invalid("an invite is for an admin or an agent".into()));
                }
                sqlx::query(
                    "INSERT INTO invites (token_hash, organization_id, role, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(token_hash)
                .bind(org_id)
                .bind(role.as_str())
                .bind(created_by)
                .bind(now_millis())
                .bind(expires_at)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn accept_invite(&self, token_hash: &str, name: &str, email: &str, password_hash: &str, now: Millis) -> StoreResult<User> {
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query(
                    "UPDATE invites SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING organization_id, role",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let org_id: Id = row.try_get("organization_id")?;
                let role: Role = parse(&row.try_get::<String, _>("role")?, "role")?;
                let user = insert_user(&mut tx, org_id, name, email, password_hash, role, now).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn connect_channel(&self, org_id: Id, new: NewChannel) -> StoreResult<Written<Channel>> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let live: Option<(Id, Id)> = sqlx::query_as(
                    "SELECT id, organization_id FROM channels WHERE kind = $1 AND external_id = $2 AND status <> 'disconnected'",
                )
                .bind(new.kind.as_str())
                .bind(&new.external_id)
                .fetch_optional(&mut *tx)
                .await?;
                let reusable = match live {
                    Some((_, owner)) if owner != org_id => {
                        return Err(StoreError::Conflict(format!("{} is already connected to another organization", new.name)));
                    }
                    Some((id, _)) => Some(id),
                    // Reconnecting brings back the old channel row, and with it the history.
                    None => sqlx::query_scalar(
                        "SELECT id FROM channels WHERE organization_id = $1 AND kind = $2 AND external_id = $3 ORDER BY id DESC LIMIT 1",
                    )
                    .bind(org_id)
                    .bind(new.kind.as_str())
                    .bind(&new.external_id)
                    .fetch_optional(&mut *tx)
                    .await?,
                };
                let id: Id = match reusable {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE channels SET name = $1, credentials = $2, status = 'active', last_error = NULL, updated_at = $3, \
                             parent_account_id = $4 WHERE id = $5",
                        )
                        .bind(&new.name)
                        .bind(&new.credentials)
                        .bind(now)
                        .bind(new.parent_account_id.as_deref())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| map_unique(e, "this account is already connected"))?;
                        id
                    }
                    None => sqlx::query_scalar(
                        "INSERT INTO channels (organization_id, kind, external_id, name, credentials, status, created_at, updated_at, parent_account_id) \
                         VALUES ($1, $2, $3, $4, $5, 'active', $6, $6, $7) RETURNING id",
                    )
                    .bind(org_id)
                    .bind(new.kind.as_str())
                    .bind(&new.external_id)
                    .bind(&new.name)
                    .bind(&new.credentials)
                    .bind(now)
                    .bind(new.parent_account_id.as_deref())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, "this account is already connected"))?,
                };
                let channel = channel_in(&mut tx, id).await?.channel;
                let event = push_event(&mut tx, org_id, events::CHANNEL_STATUS, json!({ "channelId": id, "status": channel.status, "channel": channel })).await?;
                tx.commit().await?;
                Ok(Written { value: channel, events: vec![event] })
            }

            async fn channels(&self, org_id: Id) -> StoreResult<Vec<Channel>> {
                let sql = format!("{CHANNEL_SELECT} WHERE organization_id = $1 ORDER BY status = 'disconnected', name, id");
                let rows = sqlx::query(&sql).bind(org_id).fetch_all(self.reader()).await?;
                rows.iter().map(|r| channel_from_row(r).map(|c| c.channel)).collect()
            }

            async fn channel(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRecord> {
                let sql = format!("{CHANNEL_SELECT} WHERE organization_id = $1 AND id = $2");
                let row = sqlx::query(&sql).bind(org_id).bind(channel_id).fetch_optional(self.reader()).await?;
                channel_from_row(&row.ok_or(StoreError::NotFound)?)
            }

            async fn channel_by_account(&self, kind: ChannelKind, external_id: &str) -> StoreResult<Option<ChannelRecord>> {
                let sql = format!("{CHANNEL_SELECT} WHERE kind = $1 AND external_id = $2 AND status <> 'disconnected'");
                let row = sqlx::query(&sql).bind(kind.as_str()).bind(external_id).fetch_optional(self.reader()).await?;
                row.as_ref().map(channel_from_row).transpose()
            }

            async fn set_channel_status(&self, channel_id: Id, status: ChannelStatus, last_error: Option<&str>) -> StoreResult<Written<Channel>> {
                let mut tx = self.writer().begin().await?;
                let done = sqlx::query("UPDATE channels SET status = $1, last_error = $2, updated_at = $3 WHERE id = $4")
                    .bind(status.as_str())
                    .bind(last_error)
                    .bind(now_millis())
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await
                    // Reviving a disconnected channel fails once another organization has the account.
                    .map_err(|e| map_unique(e, "this account is already connected to another organization"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let record = channel_in(&mut tx, channel_id).await?;
                let event = push_event(
                    &mut tx,
                    record.organization_id,
                    events::CHANNEL_STATUS,
                    json!({ "channelId": channel_id, "status": status, "lastError": last_error, "channel": record.channel }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: record.channel, events: vec![event] })
            }

            async fn ingest_inbound(&self, channel_id: Id, msg: InboundMessage) -> StoreResult<Option<Written<Message>>> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let org_id = channel_in(&mut tx, channel_id).await?.organization_id;
                let (contact_id, conversation_id, is_new) =
                    contact_and_conversation(&mut tx, org_id, channel_id, &msg.external_user_id, msg.contact_name.as_deref(), msg.sent_at, now)
                        .await?;
                let message_id: Option<Id> = sqlx::query_scalar(
                    "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, body, attachments, status, platform_message_id, created_at, \
                     kind, reply_to_platform_id, reply_to_id) \
                     VALUES ($1, $2, $3, 'inbound', $4, $5, 'received', $6, $7, $8, $9, \
                     (SELECT id FROM messages WHERE channel_id = $3 AND platform_message_id = $9)) \
                     ON CONFLICT (channel_id, platform_message_id) DO NOTHING RETURNING id",
                )
                .bind(org_id)
                .bind(conversation_id)
                .bind(channel_id)
                .bind(&msg.body)
                .bind(serde_json::to_string(&msg.attachments).unwrap_or_else(|_| "[]".into()))
                .bind(&msg.platform_message_id)
                .bind(msg.sent_at)
                .bind(msg.kind.as_str())
                .bind(msg.reply_to_platform_id.as_deref())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(message_id) = message_id else {
                    // Already stored: a platform retry or a concurrent duplicate. Leave no trace.
                    tx.rollback().await?;
                    return Ok(None);
                };
                let before = conversation_in(&mut tx, org_id, conversation_id).await?;
                let reopen = matches!(before.status, ConversationStatus::Resolved | ConversationStatus::Closed);
                sqlx::query(
                    "UPDATE conversations SET unread_count = unread_count + 1, \
                     last_message_preview = CASE WHEN $1 >= last_message_at THEN $2 ELSE last_message_preview END, \
                     last_message_at = CASE WHEN $1 > last_message_at THEN $1 ELSE last_message_at END, \
                     last_inbound_at = CASE WHEN last_inbound_at IS NULL OR $1 > last_inbound_at THEN $1 ELSE last_inbound_at END, \
                     status = CASE WHEN status IN ('resolved', 'closed') THEN 'active' ELSE status END \
                     WHERE id = $3",
                )
                .bind(msg.sent_at)
                .bind(preview(&msg.body, &msg.attachments))
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
                let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
                let message = message_in(&mut tx, message_id).await?;
                let mut events = Vec::new();
                if is_new {
                    let contact = contact_in(&mut tx, org_id, contact_id).await?;
                    events.push(push_event(&mut tx, org_id, events::CONVERSATION_NEW, json!({ "conversation": conversation, "contact": contact })).await?);
                } else if reopen {
                    events.push(
                        push_event(&mut tx, org_id, events::CONVERSATION_STATUS, json!({ "conversationId": conversation_id, "status": conversation.status }))
                            .await?,
                    );
                }
                events.push(
                    push_event(
                        &mut tx,
                        org_id,
                        events::MESSAGE_RECEIVED,
                        json!({ "message": message, "conversationId": conversation_id, "conversation": conversation }),
                    )
                    .await?,
                );
                tx.commit().await?;
                Ok(Some(Written { value: message, events }))
            }

            async fn ingest_echo(&self, channel_id: Id, msg: EchoMessage) -> StoreResult<Option<Written<Message>>> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let channel = channel_in(&mut tx, channel_id).await?;
                let org_id = channel.organization_id;
                if let Some(ours) = msg.our_message_id {
                    // Our own send coming back: just make sure the platform id is recorded.
                    sqlx::query(
                        "UPDATE messages SET platform_message_id = $1 WHERE id = $2 AND channel_id = $3 AND platform_message_id IS NULL",
                    )
                    .bind(&msg.platform_message_id)
                    .bind(ours)
                    .bind(channel_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, "message already recorded"))?;
                    tx.commit().await?;
                    return Ok(None);
                }
                // Platforms that do not echo our metadata (Instagram) may echo a reply while its
                // send is still in flight: that is our message, not a new one from elsewhere.
                let in_flight: Option<Id> = sqlx::query_scalar(
                    "SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                     JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
                     WHERE m.channel_id = $1 AND i.external_id = $2 AND m.direction = 'outbound' \
                     AND m.status IN ('pending', 'sending') AND m.platform_message_id IS NULL AND m.body = $3 ORDER BY m.id LIMIT 1",
                )
                .bind(channel_id)
                .bind(&msg.external_user_id)
                .bind(&msg.body)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(ours) = in_flight {
                    sqlx::query("UPDATE messages SET platform_message_id = $1 WHERE id = $2")
                        .bind(&msg.platform_message_id)
                        .bind(ours)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| map_unique(e, "message already recorded"))?;
                    tx.commit().await?;
                    return Ok(None);
                }
                let (contact_id, conversation_id, is_new) =
                    contact_and_conversation(&mut tx, org_id, channel_id, &msg.external_user_id, None, msg.sent_at, now).await?;
                let message_id: Option<Id> = sqlx::query_scalar(
                    "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, sender_name, body, attachments, status, status_rank, platform_message_id, created_at, kind) \
                     VALUES ($1, $2, $3, 'outbound', $4, $5, $6, 'sent', $7, $8, $9, $10) \
                     ON CONFLICT (channel_id, platform_message_id) DO NOTHING RETURNING id",
                )
                .bind(org_id)
                .bind(conversation_id)
                .bind(channel_id)
                .bind(&channel.channel.name)
                .bind(&msg.body)
                .bind(serde_json::to_string(&msg.attachments).unwrap_or_else(|_| "[]".into()))
                .bind(MessageStatus::Sent.rank())
                .bind(&msg.platform_message_id)
                .bind(msg.sent_at)
                .bind(msg.kind.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let Some(message_id) = message_id else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                sqlx::query(
                    "UPDATE conversations SET \
                     last_message_preview = CASE WHEN $1 >= last_message_at THEN $2 ELSE last_message_preview END, \
                     last_message_at = CASE WHEN $1 > last_message_at THEN $1 ELSE last_message_at END WHERE id = $3",
                )
                .bind(msg.sent_at)
                .bind(preview(&msg.body, &msg.attachments))
                .bind(conversation_id)
                .execute(&mut *tx)
                .await?;
                let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
                let message = message_in(&mut tx, message_id).await?;
                let mut events = Vec::new();
                if is_new {
                    // The page wrote first (from elsewhere): the conversation is new to the inbox too.
                    let contact = contact_in(&mut tx, org_id, contact_id).await?;
                    events.push(push_event(&mut tx, org_id, events::CONVERSATION_NEW, json!({ "conversation": conversation, "contact": contact })).await?);
                }
                events.push(
                    push_event(
                        &mut tx,
                        org_id,
                        events::MESSAGE_SENT,
                        json!({ "message": message, "conversationId": conversation_id, "conversation": conversation }),
                    )
                    .await?,
                );
                tx.commit().await?;
                Ok(Some(Written { value: message, events }))
            }

            async fn update_contact(&self, org_id: Id, contact_id: Id, name: Option<&str>, avatar_url: Option<&str>) -> StoreResult<Written<Contact>> {
                let mut tx = self.writer().begin().await?;
                let done = sqlx::query(
                    "UPDATE contacts SET name = COALESCE($1, name), avatar_url = COALESCE($2, avatar_url) WHERE organization_id = $3 AND id = $4",
                )
                .bind(name)
                .bind(avatar_url)
                .bind(org_id)
                .bind(contact_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let contact = contact_in(&mut tx, org_id, contact_id).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::CONTACT_UPDATED,
                    json!({ "contactId": contact_id, "updates": { "name": contact.name, "avatarUrl": contact.avatar_url }, "contact": contact }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: contact, events: vec![event] })
            }

            async fn apply_status(&self, channel_id: Id, update: StatusUpdate) -> StoreResult<Written<Vec<Id>>> {
                let mut tx = self.writer().begin().await?;
                let org_id = channel_in(&mut tx, channel_id).await?.organization_id;
                let mut changed: Vec<(Id, Id, MessageStatus, Option<String>)> = Vec::new();
                match update {
                    StatusUpdate::Messages { platform_message_ids, status, error } => {
                        for mid in platform_message_ids {
                            if let Some((id, conversation_id)) = raise_status(&mut tx, channel_id, &mid, status, error.as_deref()).await? {
                                changed.push((id, conversation_id, status, error.clone()));
                                continue;
                            }
                            let known: Option<Id> = sqlx::query_scalar("SELECT id FROM messages WHERE channel_id = $1 AND platform_message_id = $2")
                                .bind(channel_id)
                                .bind(&mid)
                                .fetch_optional(&mut *tx)
                                .await?;
                            if known.is_none() {
                                // The send that produced this id has not recorded it yet: keep the report.
                                sqlx::query(
                                    "INSERT INTO early_statuses (channel_id, platform_message_id, status, status_rank, error, created_at) \
                                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, platform_message_id) DO UPDATE \
                                     SET status = excluded.status, status_rank = excluded.status_rank, error = COALESCE(excluded.error, early_statuses.error) \
                                     WHERE early_statuses.status_rank < excluded.status_rank",
                                )
                                .bind(channel_id)
                                .bind(&mid)
                                .bind(status.as_str())
                                .bind(status.rank())
                                .bind(error.as_deref())
                                .bind(now_millis())
                                .execute(&mut *tx)
                                .await?;
                            }
                        }
                    }
                    StatusUpdate::Watermark { external_user_id, watermark, status } => {
                        let rows = sqlx::query(
                            "UPDATE messages SET status = $1, status_rank = $2 \
                             WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN contact_identities i \
                                 ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
                                 WHERE i.channel_id = $3 AND i.external_id = $4) \
                             AND direction = 'outbound' AND created_at <= $5 AND status_rank < $2 \
                             AND status_rank >= $6 AND status <> 'failed' \
                             RETURNING id, conversation_id",
                        )
                        .bind(status.as_str())
                        .bind(status.rank())
                        .bind(channel_id)
                        .bind(&external_user_id)
                        .bind(watermark)
                        .bind(MessageStatus::Sent.rank())
                        .fetch_all(&mut *tx)
                        .await?;
                        for r in rows {
                            changed.push((r.try_get("id")?, r.try_get("conversation_id")?, status, None));
                        }
                    }
                }
                let mut events = Vec::new();
                for (id, conversation_id, status, error) in &changed {
                    events.push(
                        push_event(
                            &mut tx,
                            org_id,
                            events::MESSAGE_STATUS,
                            json!({ "messageId": id, "conversationId": conversation_id, "status": status, "error": error }),
                        )
                        .await?,
                    );
                }
                tx.commit().await?;
                Ok(Written { value: changed.into_iter().map(|c| c.0).collect(), events })
            }

            async fn conversations(&self, org_id: Id, user_id: Id, filter: &ConversationFilter) -> StoreResult<Page<Conversation>> {
                let limit = filter.limit.unwrap_or(30).clamp(1, 100);
                let cursor = filter.before.as_deref().map(decode_cursor).transpose()?;
                let view = filter.view.unwrap_or(InboxView::All);
                let sql = format!(
                    "{CONVERSATION_SELECT} WHERE c.organization_id = $1 \
                     AND ($2 IS NULL OR c.assignee_id = $2) \
                     AND ($3 = 0 OR c.assignee_id IS NULL) \
                     AND ($4 IS NULL OR c.status = $4) \
                     AND ($5 IS NULL OR c.channel_id = $5) \
                     AND ($6 IS NULL OR c.last_message_at < $6 OR (c.last_message_at = $6 AND c.id < $7)) \
                     ORDER BY c.last_message_at DESC, c.id DESC LIMIT $8"
                );
                let rows = sqlx::query(&sql)
                    .bind(org_id)
                    .bind(if view == InboxView::Mine { Some(user_id) } else { None })
                    .bind(if view == InboxView::Unassigned { 1_i64 } else { 0_i64 })
                    .bind(filter.status.map(|s| s.as_str()))
                    .bind(filter.channel)
                    .bind(cursor.map(|c| c.0))
                    .bind(cursor.map(|c| c.1).unwrap_or(0))
                    .bind(limit + 1)
                    .fetch_all(self.reader())
                    .await?;
                let mut items = rows.iter().map(conversation_from_row).collect::<StoreResult<Vec<_>>>()?;
                let next_cursor = if items.len() as i64 > limit {
                    items.truncate(limit as usize);
                    items.last().map(|c| encode_cursor(c.last_message_at, c.id))
                } else {
                    None
                };
                Ok(Page { items, next_cursor })
            }

            async fn conversation(&self, org_id: Id, conversation_id: Id) -> StoreResult<Conversation> {
                let sql = format!("{CONVERSATION_SELECT} WHERE c.organization_id = $1 AND c.id = $2");
                let row = sqlx::query(&sql).bind(org_id).bind(conversation_id).fetch_optional(self.reader()).await?;
                conversation_from_row(&row.ok_or(StoreError::NotFound)?)
            }

            async fn contact(&self, org_id: Id, contact_id: Id) -> StoreResult<Contact> {
                let mut conn = self.reader().acquire().await?;
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                let contact = contact_in(&mut tx, org_id, contact_id).await?;
                tx.commit().await?;
                Ok(contact)
            }

            async fn messages(&self, org_id: Id, conversation_id: Id, before: Option<Id>, limit: i64) -> StoreResult<Page<Message>> {
                let limit = limit.clamp(1, 200);
                let exists: Option<Id> = sqlx::query_scalar("SELECT id FROM conversations WHERE organization_id = $1 AND id = $2")
                    .bind(org_id)
                    .bind(conversation_id)
                    .fetch_optional(self.reader())
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound);
                }
                let sql = format!("{MESSAGE_SELECT} WHERE m.conversation_id = $1 AND ($2 IS NULL OR m.id < $2) ORDER BY m.id DESC LIMIT $3");
                let rows = sqlx::query(&sql).bind(conversation_id).bind(before).bind(limit + 1).fetch_all(self.reader()).await?;
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

            async fn set_conversation_status(&self, org_id: Id, conversation_id: Id, status: ConversationStatus, actor: &User) -> StoreResult<Written<Conversation>> {
                let mut tx = self.writer().begin().await?;
                let before = conversation_in(&mut tx, org_id, conversation_id).await?;
                if before.status == status {
                    tx.rollback().await?;
                    return Ok(Written { value: before, events: vec![] });
                }
                sqlx::query("UPDATE conversations SET status = $1 WHERE id = $2")
                    .bind(status.as_str())
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
                let verb = match status {
                    ConversationStatus::Resolved => "resolved the conversation".to_string(),
                    ConversationStatus::Closed => "closed the conversation".to_string(),
                    ConversationStatus::Active if matches!(before.status, ConversationStatus::Resolved | ConversationStatus::Closed) => {
                        "reopened the conversation".to_string()
                    }
                    other => format!("marked the conversation {other}"),
                };
                let line = system_message(&mut tx, &conversation, org_id, &format!("{} {verb}", actor.name)).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::CONVERSATION_STATUS,
                    json!({ "conversationId": conversation_id, "status": status, "message": line, "conversation": conversation }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: conversation, events: vec![event] })
            }

            async fn assign_conversation(&self, org_id: Id, conversation_id: Id, assignee_id: Option<Id>, actor: &User) -> StoreResult<Written<Conversation>> {
                let mut tx = self.writer().begin().await?;
                let before = conversation_in(&mut tx, org_id, conversation_id).await?;
                let assignee_name: Option<String> = match assignee_id {
                    Some(id) => Some(
                        sqlx::query_scalar("SELECT u.name FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.organization_id = $1 AND u.id = $2")
                            .bind(org_id)
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::Invalid("no such agent in this organization".into()))?,
                    ),
                    None => None,
                };
                if before.assignee_id == assignee_id {
                    tx.rollback().await?;
                    return Ok(Written { value: before, events: vec![] });
                }
                sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2")
                    .bind(assignee_id)
                    .bind(conversation_id)
                    .execute(&mut *tx)
                    .await?;
                let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
                let text = match (&assignee_name, assignee_id == Some(actor.id)) {
                    (Some(_), true) => format!("{} took the conversation", actor.name),
                    (Some(name), false) => format!("{} assigned the conversation to {name}", actor.name),
                    (None, _) => format!("{} unassigned the conversation", actor.name),
                };
                let line = system_message(&mut tx, &conversation, org_id, &text).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::CONVERSATION_ASSIGNED,
                    json!({ "conversationId": conversation_id, "assignedTo": assignee_id, "assigneeName": assignee_name, "message": line, "conversation": conversation }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: conversation, events: vec![event] })
            }

            async fn mark_read(&self, org_id: Id, conversation_id: Id) -> StoreResult<Written<Conversation>> {
                let mut tx = self.writer().begin().await?;
                let before = conversation_in(&mut tx, org_id, conversation_id).await?;
                if before.unread_count == 0 {
                    tx.rollback().await?;
                    return Ok(Written { value: before, events: vec![] });
                }
                sqlx::query("UPDATE conversations SET unread_count = 0 WHERE id = $1").bind(conversation_id).execute(&mut *tx).await?;
                let conversation = conversation_in(&mut tx, org_id, conversation_id).await?;
                let event = push_event(&mut tx, org_id, events::CONVERSATION_UPDATED, json!({ "conversation": conversation })).await?;
                tx.commit().await?;
                Ok(Written { value: conversation, events: vec![event] })
            }

            async fn queue_outbound(&self, org_id: Id, new: NewOutbound) -> StoreResult<Written<Message>> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let conversation = conversation_in(&mut tx, org_id, new.conversation_id).await?;
                if let Some(client_id) = &new.client_id {
                    let existing: Option<Id> = sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = $1 AND client_id = $2")
                        .bind(new.conversation_id)
                        .bind(client_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if let Some(id) = existing {
                        let message = message_in(&mut tx, id).await?;
                        tx.rollback().await?;
                        return Ok(Written { value: message, events: vec![] });
                    }
                }
                let message_id: Id = sqlx::query_scalar(
                    "INSERT INTO messages (organization_id, conversation_id, channel_id, direction, sender_user_id, sender_name, body, attachments, status, client_id, tag, created_at, kind, payload) \
                     VALUES ($1, $2, $3, 'outbound', $4, $5, $6, $7, 'pending', $8, $9, $10, $11, $12) RETURNING id",
                )
                .bind(org_id)
                .bind(conversation.id)
                .bind(conversation.channel_id)
                .bind(new.sender.id)
                .bind(&new.sender.name)
                .bind(&new.body)
                .bind(serde_json::to_string(&new.attachments).unwrap_or_else(|_| "[]".into()))
                .bind(new.client_id.as_deref())
                .bind(new.tag.as_deref())
                .bind(now)
                .bind(new.kind.as_str())
                .bind(new.payload.as_ref().map(|p| p.to_string()))
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
                sqlx::query(
                    "UPDATE conversations SET last_message_preview = $1, last_message_at = $2, unread_count = 0, \
                     status = CASE WHEN status = 'new' THEN 'active' ELSE status END WHERE id = $3",
                )
                .bind(preview(&new.body, &new.attachments))
                .bind(now)
                .bind(conversation.id)
                .execute(&mut *tx)
                .await?;
                let conversation = conversation_in(&mut tx, org_id, conversation.id).await?;
                let message = message_in(&mut tx, message_id).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::MESSAGE_SENT,
                    json!({ "message": message, "conversationId": conversation.id, "conversation": conversation }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: message, events: vec![event] })
            }

            async fn claim_outbound(&self, limit: i64) -> StoreResult<Vec<OutboundJob>> {
                let mut tx = self.writer().begin().await?;
                // Re-checking `status` in the outer UPDATE makes a concurrent claimer skip rows
                // another instance already took, on both backends. `CLAIM_LOCK` lets PostgreSQL
                // pick the next free rows instead, so a racing claimer is not left empty-handed.
                let sql = format!(
                    "UPDATE messages SET status = 'sending', status_rank = $1, attempts = attempts + 1, claimed_at = $3 \
                     WHERE status = 'pending' AND id IN (SELECT id FROM messages WHERE status = 'pending' ORDER BY id LIMIT $2{}) RETURNING id",
                    Self::CLAIM_LOCK
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
                    let row = sqlx::query("SELECT channel_id, payload FROM messages WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
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
                    jobs.push(OutboundJob { message, channel, recipient_external_id: recipient.unwrap_or_default(), payload });
                }
                tx.commit().await?;
                Ok(jobs)
            }

            async fn finish_outbound(&self, message_id: Id, result: Result<String, String>) -> StoreResult<Written<Message>> {
                let mut tx = self.writer().begin().await?;
                match &result {
                    Ok(platform_id) => {
                        // `failed` before the send's own answer can only be `recover_stale_outbound`
                        // giving up on a send that outlived the claim timeout: it did go out.
                        sqlx::query(
                            "UPDATE messages SET platform_message_id = COALESCE(platform_message_id, $1), error = NULL, \
                             status = CASE WHEN status_rank < $2 OR status = 'failed' THEN 'sent' ELSE status END, \
                             status_rank = CASE WHEN status_rank < $2 OR status = 'failed' THEN $2 ELSE status_rank END WHERE id = $3",
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
                let message = message_in(&mut tx, message_id).await?;
                let org_id: Id = sqlx::query_scalar("SELECT organization_id FROM messages WHERE id = $1").bind(message_id).fetch_one(&mut *tx).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::MESSAGE_STATUS,
                    json!({ "messageId": message_id, "conversationId": message.conversation_id, "status": message.status, "error": message.error, "platformMessageId": message.platform_message_id }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: message, events: vec![event] })
            }

            async fn retry_outbound(&self, org_id: Id, message_id: Id) -> StoreResult<Written<Message>> {
                let mut tx = self.writer().begin().await?;
                let done = sqlx::query("UPDATE messages SET status = 'pending', status_rank = 0, error = NULL WHERE id = $1 AND organization_id = $2 AND status = 'failed'")
                    .bind(message_id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    let exists: Option<Id> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND organization_id = $2")
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
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::MESSAGE_STATUS,
                    json!({ "messageId": message_id, "conversationId": message.conversation_id, "status": message.status, "error": null }),
                )
                .await?;
                tx.commit().await?;
                Ok(Written { value: message, events: vec![event] })
            }

            async fn recover_stale_outbound(&self, timeout: std::time::Duration, limit: i64) -> StoreResult<Written<Vec<Message>>> {
                let now = now_millis();
                let claimed_before = now.saturating_sub(Millis::try_from(timeout.as_millis()).unwrap_or(Millis::MAX));
                let mut tx = self.writer().begin().await?;
                // A message claimed before claims were timed (or by an older instance during an
                // upgrade) starts its clock now, so it is recovered too, one timeout later.
                sqlx::query("UPDATE messages SET claimed_at = $1 WHERE status = 'sending' AND claimed_at IS NULL")
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                // On PostgreSQL `CLAIM_LOCK` makes a concurrent recovery skip the rows this one
                // holds; either way each UPDATE below is guarded by the status and the claim
                // time it saw, so a message is recovered once, and never after its send
                // finished or after it was claimed again.
                let sql = format!(
                    "SELECT m.id, m.organization_id, m.claimed_at, m.platform_message_id, \
                     (SELECT ch.kind FROM channels ch WHERE ch.id = m.channel_id) AS kind FROM messages m \
                     WHERE m.status = 'sending' AND m.claimed_at < $1 ORDER BY m.claimed_at, m.id LIMIT $2{}",
                    Self::CLAIM_LOCK
                );
                let stale = sqlx::query(&sql).bind(claimed_before).bind(limit).fetch_all(&mut *tx).await?;
                let mut recovered: Vec<(Id, Id)> = Vec::with_capacity(stale.len());
                for row in &stale {
                    let id: Id = row.try_get("id")?;
                    let claimed_at: Millis = row.try_get("claimed_at")?;
                    let platform_message_id: Option<String> = row.try_get("platform_message_id")?;
                    let kind: ChannelKind = parse(&row.try_get::<String, _>("kind")?, "channel kind")?;
                    let (status, error) = if platform_message_id.is_some() {
                        // The platform's echo recorded its id: the send reached it.
                        (MessageStatus::Sent, None)
                    } else if kind.idempotent_send() {
                        (MessageStatus::Pending, None)
                    } else {
                        (MessageStatus::Failed, Some(INTERRUPTED_SEND))
                    };
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
                    recovered.push((row.try_get("organization_id")?, id));
                }
                // Events only after every message row is written, one organization at a time:
                // locks are then taken in the order the other writers take them (message rows,
                // then the organization's event sequence).
                recovered.sort_by_key(|(org_id, _)| *org_id);
                let mut messages = Vec::with_capacity(recovered.len());
                let mut events = Vec::with_capacity(recovered.len());
                for (org_id, id) in recovered {
                    let message = message_in(&mut tx, id).await?;
                    events.push(
                        push_event(
                            &mut tx,
                            org_id,
                            events::MESSAGE_STATUS,
                            json!({ "messageId": id, "conversationId": message.conversation_id, "status": message.status, "error": message.error, "platformMessageId": message.platform_message_id }),
                        )
                        .await?,
                    );
                    messages.push(message);
                }
                tx.commit().await?;
                Ok(Written { value: messages, events })
            }

            async fn apply_reaction(&self, channel_id: Id, reaction: ReactionUpdate) -> StoreResult<Option<Written<Message>>> {
                let mut tx = self.writer().begin().await?;
                let org_id = channel_in(&mut tx, channel_id).await?.organization_id;
                let target = sqlx::query(
                    "SELECT m.id, m.conversation_id, m.reactions FROM messages m \
                     JOIN conversations c ON c.id = m.conversation_id \
                     JOIN contact_identities i ON i.contact_id = c.contact_id AND i.channel_id = c.channel_id \
                     WHERE m.channel_id = $1 AND m.platform_message_id = $2 AND i.external_id = $3",
                )
                .bind(channel_id)
                .bind(&reaction.target_platform_message_id)
                .bind(&reaction.external_user_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(target) = target else {
                    tx.rollback().await?;
                    // A reaction to a message we never saw (sent before the channel was connected):
                    // keep it as a message of its own rather than dropping it.
                    let Some(emoji) = reaction.emoji else { return Ok(None) };
                    return self
                        .ingest_inbound(
                            channel_id,
                            InboundMessage {
                                external_user_id: reaction.external_user_id,
                                platform_message_id: reaction.platform_message_id,
                                body: format!("Reacted {emoji} to a message"),
                                kind: MessageKind::Reaction,
                                sent_at: reaction.sent_at,
                                ..Default::default()
                            },
                        )
                        .await;
                };
                let message_id: Id = target.try_get("id")?;
                let conversation_id: Id = target.try_get("conversation_id")?;
                let mut reactions: Vec<Reaction> =
                    serde_json::from_str(&target.try_get::<String, _>("reactions")?).unwrap_or_default();
                let before = reactions.clone();
                // A customer has one reaction per message: a new one replaces it, none removes it.
                reactions.retain(|r| r.direction != Direction::Inbound);
                if let Some(emoji) = reaction.emoji {
                    reactions.push(Reaction { emoji, direction: Direction::Inbound, at: reaction.sent_at });
                }
                let same = before.len() == reactions.len()
                    && before.iter().zip(&reactions).all(|(a, b)| a.emoji == b.emoji && a.direction == b.direction);
                if same {
                    tx.rollback().await?;
                    return Ok(None);
                }
                sqlx::query("UPDATE messages SET reactions = $1 WHERE id = $2")
                    .bind(serde_json::to_string(&reactions).unwrap_or_else(|_| "[]".into()))
                    .bind(message_id)
                    .execute(&mut *tx)
                    .await?;
                let message = message_in(&mut tx, message_id).await?;
                let event = push_event(
                    &mut tx,
                    org_id,
                    events::MESSAGE_UPDATED,
                    json!({ "messageId": message_id, "conversationId": conversation_id, "message": message }),
                )
                .await?;
                tx.commit().await?;
                Ok(Some(Written { value: message, events: vec![event] }))
            }

            async fn upsert_template(&self, org_id: Id, record: TemplateRecord) -> StoreResult<Written<(WhatsAppTemplate, bool)>> {
                let now = now_millis();
                let mut tx = self.writer().begin().await?;
                let existing: Option<Id> = sqlx::query_scalar(
                    "SELECT id FROM whatsapp_templates WHERE organization_id = $1 AND waba_id = $2 AND name = $3 AND language = $4",
                )
                .bind(org_id)
                .bind(&record.waba_id)
                .bind(&record.name)
                .bind(&record.language)
                .fetch_optional(&mut *tx)
                .await?;
                let content = serde_json::to_string(&record.content).unwrap_or_else(|_| "{}".into());
                let (id, created) = match existing {
                    Some(id) => {
                        sqlx::query(
                            "UPDATE whatsapp_templates SET platform_template_id = COALESCE($1, platform_template_id), category = $2, \
                             status = $3, rejected_reason = $4, content = $5, updated_at = $6 WHERE id = $7",
                        )
                        .bind(record.platform_template_id.as_deref())
                        .bind(record.category.as_str())
                        .bind(record.status.as_str())
                        .bind(record.rejected_reason.as_deref())
                        .bind(&content)
                        .bind(now)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        (id, false)
                    }
                    None => {
                        let id: Id = sqlx::query_scalar(
                            "INSERT INTO whatsapp_templates (organization_id, waba_id, platform_template_id, name, language, category, status, \
                             rejected_reason, content, created_by, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                        )
                        .bind(org_id)
                        .bind(&record.waba_id)
                        .bind(record.platform_template_id.as_deref())
                        .bind(&record.name)
                        .bind(&record.language)
                        .bind(record.category.as_str())
                        .bind(record.status.as_str())
                        .bind(record.rejected_reason.as_deref())
                        .bind(&content)
                        .bind(record.created_by)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(|e| map_unique(e, "a template with this name and language already exists"))?;
                        (id, true)
                    }
                };
                let (_, template) = template_in(&mut tx, id).await?;
                let event = push_event(&mut tx, org_id, events::TEMPLATE_UPDATED, json!({ "template": template })).await?;
                tx.commit().await?;
                Ok(Written { value: (template, created), events: vec![event] })
            }

            async fn templates(&self, org_id: Id, waba_id: Option<&str>, status: Option<TemplateStatus>) -> StoreResult<Vec<WhatsAppTemplate>> {
                let sql = format!(
                    "{TEMPLATE_SELECT} WHERE t.organization_id = $1 AND ($2 IS NULL OR t.waba_id = $2) AND ($3 IS NULL OR t.status = $3) \
                     ORDER BY t.name, t.language, t.id"
                );
                let rows = sqlx::query(&sql)
                    .bind(org_id)
                    .bind(waba_id)
                    .bind(status.map(|s| s.as_str()))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter().map(|r| template_from_row(r).map(|t| t.1)).collect()
            }

            async fn template(&self, org_id: Id, template_id: Id) -> StoreResult<WhatsAppTemplate> {
                let sql = format!("{TEMPLATE_SELECT} WHERE t.organization_id = $1 AND t.id = $2");
                let row = sqlx::query(&sql).bind(org_id).bind(template_id).fetch_optional(self.reader()).await?;
                Ok(template_from_row(&row.ok_or(StoreError::NotFound)?)?.1)
            }

            async fn set_template_status(
                &self,
                waba_id: &str,
                platform_template_id: &str,
                status: TemplateStatus,
                rejected_reason: Option<&str>,
            ) -> StoreResult<Written<Vec<WhatsAppTemplate>>> {
                let mut tx = self.writer().begin().await?;
                let ids: Vec<Id> = sqlx::query_scalar(
                    "UPDATE whatsapp_templates SET status = $1, rejected_reason = $2, updated_at = $3 \
                     WHERE waba_id = $4 AND platform_template_id = $5 \
                     AND (status <> $1 OR COALESCE(rejected_reason, '') <> COALESCE($2, '')) RETURNING id",
                )
                .bind(status.as_str())
                .bind(rejected_reason)
                .bind(now_millis())
                .bind(waba_id)
                .bind(platform_template_id)
                .fetch_all(&mut *tx)
                .await?;
                let mut templates = Vec::new();
                let mut events = Vec::new();
                for id in ids {
                    let (org_id, template) = template_in(&mut tx, id).await?;
                    events.push(push_event(&mut tx, org_id, events::TEMPLATE_UPDATED, json!({ "template": template })).await?);
                    templates.push(template);
                }
                tx.commit().await?;
                Ok(Written { value: templates, events })
            }

            async fn delete_template(&self, org_id: Id, template_id: Id) -> StoreResult<Written<()>> {
                let mut tx = self.writer().begin().await?;
                let (_, template) = template_in(&mut tx, template_id).await?;
                let done = sqlx::query("DELETE FROM whatsapp_templates WHERE id = $1 AND organization_id = $2")
                    .bind(template_id)
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                let mut gone = template;
                gone.status = TemplateStatus::Deleted;
                let event = push_event(&mut tx, org_id, events::TEMPLATE_UPDATED, json!({ "template": gone, "deleted": true })).await?;
                tx.commit().await?;
                Ok(Written { value: (), events: vec![event] })
            }

            async fn templates_in_review(&self, limit: i64) -> StoreResult<Vec<(Id, WhatsAppTemplate)>> {
                let sql = format!(
                    "{TEMPLATE_SELECT} WHERE t.status = 'pending' AND t.platform_template_id IS NOT NULL ORDER BY t.updated_at LIMIT $1"
                );
                let rows = sqlx::query(&sql).bind(limit).fetch_all(self.reader()).await?;
                rows.iter().map(template_from_row).collect()
            }

            async fn record_upload(&self, org_id: Id, upload: NewUpload) -> StoreResult<UploadRecord> {
                let size = i64::try_from(upload.size).map_err(|_| StoreError::Invalid("the file is too large".into()))?;
                let done = sqlx::query(
                    "INSERT INTO uploads (id, organization_id, conversation_id, uploaded_by, file_name, mime_type, kind, \
                     size_bytes, sha256, created_at) \
                     SELECT $1, organization_id, id, $3, $4, $5, $6, $7, $8, $9 FROM conversations \
                     WHERE id = $2 AND organization_id = $10",
                )
                .bind(&upload.id)
                .bind(upload.conversation_id)
                .bind(upload.uploaded_by)
                .bind(&upload.name)
                .bind(&upload.mime_type)
                .bind(upload.kind.as_str())
                .bind(size)
                .bind(&upload.sha256)
                .bind(now_millis())
                .bind(org_id)
                .execute(self.writer())
                .await
                .map_err(|e| map_unique(e, "an upload with this id already exists"))?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                self.upload(org_id, &upload.id).await
            }

            async fn upload(&self, org_id: Id, upload_id: &str) -> StoreResult<UploadRecord> {
                let row = sqlx::query(
                    "SELECT id, organization_id, conversation_id, file_name, mime_type, kind, size_bytes, sha256 \
                     FROM uploads WHERE organization_id = $1 AND id = $2",
                )
                .bind(org_id)
                .bind(upload_id)
                .fetch_optional(self.reader())
                .await?
                .ok_or(StoreError::NotFound)?;
                let id: String = row.try_get("id")?;
                let kind: String = row.try_get("kind")?;
                let size: i64 = row.try_get("size_bytes")?;
                Ok(UploadRecord {
                    file: $crate::attachments::UploadedFile {
                        url: $crate::attachments::upload_url(&id),
                        id,
                        kind: parse(&kind, "attachment kind")?,
                        name: row.try_get("file_name")?,
                        mime_type: row.try_get("mime_type")?,
                        size: u64::try_from(size).unwrap_or_default(),
                    },
                    organization_id: row.try_get("organization_id")?,
                    conversation_id: row.try_get("conversation_id")?,
                    sha256: row.try_get("sha256")?,
                })
            }

            async fn events_since(&self, org_id: Id, after_seq: i64, limit: i64) -> StoreResult<Vec<Event>> {
                let rows = sqlx::query("SELECT seq, name, payload FROM events WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
                    .bind(org_id)
                    .bind(after_seq)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(self.reader())
                    .await?;
                rows.iter()
                    .map(|r| {
                        let payload: String = r.try_get("payload")?;
                        Ok(Event {
                            seq: r.try_get("seq")?,
                            organization_id: org_id,
                            name: r.try_get("name")?,
                            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                        })
                    })
                    .collect()
            }

            async fn latest_seq(&self, org_id: Id) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT event_seq FROM organizations WHERE id = $1")
                    .bind(org_id)
                    .fetch_optional(self.reader())
                    .await?
                    .unwrap_or(0))
            }
        }

        async fn insert_user(tx: &mut Tx<'_>, org_id: Id, name: &str, email: &str, password_hash: &str, role: Role, now: Millis) -> StoreResult<User> {
            let email = email.trim().to_lowercase();
            let user_id: Id = sqlx::query_scalar("INSERT INTO users (name, email, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(name)
                .bind(&email)
                .bind(password_hash)
                .bind(now)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| map_unique(e, "an account with this email already exists"))?;
            sqlx::query("INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                .bind(org_id)
                .bind(user_id)
                .bind(role.as_str())
                .bind(now)
                .execute(&mut **tx)
                .await?;
            Ok(User { id: user_id, organization_id: org_id, name: name.to_string(), email, role })
        }
    };
}

pub(super) use sql_store;
