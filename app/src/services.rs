//! The inbox's operations, shared by the server functions (web app) and the REST API.
//! Each takes the authenticated user, checks what that user may do, writes through the
//! store and fans out the events the write produced.

use crate::attachments;
use crate::auth::ssr::{self as auth, LoginLimiter};
use crate::auth::{LoginRequest, SessionInfo, SignupRequest};
use crate::error::{AppError, AppResult};
use crate::events::bus::EventBus;
use crate::model::*;
use crate::store::{ChannelRecord, DynStore, NewOutbound, StoreError, Written, now_millis};
use crate::templates::{
    self, SyncReport, TemplateDraft, TemplateFilter, TemplateSendRequest, TemplateStatus, WhatsAppTemplate,
};
use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::Notify;

/// What needs a channel platform on the other end; the server's adapters implement it.
#[async_trait]
pub trait ChannelGateway: Send + Sync {
    /// Pages found by a finished Facebook login, waiting to be picked.
    async fn facebook_candidates(&self, user: &User, pick_id: &str) -> AppResult<Vec<PageCandidate>>;
    /// Connects the picked pages and subscribes them to our webhook.
    async fn connect_facebook_pages(&self, user: &User, pick_id: &str, page_ids: &[String]) -> AppResult<Vec<Channel>>;
    /// Unsubscribes the platform account (best effort) and marks the channel disconnected.
    async fn disconnect(&self, user: &User, channel_id: Id) -> AppResult<Channel>;
    /// Asks the platform whether the channel's credentials still work.
    async fn health(&self, user: &User, channel_id: Id) -> AppResult<Channel>;
    /// Connects a WhatsApp phone number by hand (an admin pastes a system-user token).
    async fn connect_whatsapp(
        &self,
        user: &User,
        phone_number_id: &str,
        access_token: &str,
        waba_id: &str,
    ) -> AppResult<Channel>;
    /// Connects the Instagram account linked to a Facebook page, by hand.
    async fn connect_instagram(&self, user: &User, page_id: &str, access_token: &str) -> AppResult<Channel>;
    /// Changes (`Some(text)`) or takes back (`None`) a reply that was sent, on the platform
    /// and then here. The sender or a manager may; the kind must allow it.
    async fn revise_message(&self, user: &User, message_id: Id, revision: Option<String>) -> AppResult<Message>;
    /// Connects an account of a kind that connects with a form (`Platform::connect_form`):
    /// every declared field is required; the kind's adapter checks the values with the
    /// platform, and the platform is told where to deliver.
    async fn connect_with_form(&self, user: &User, kind: ChannelKind, fields: &ConnectFields) -> AppResult<Channel>;
    /// Validates a template and submits it to the WhatsApp Business Account for review.
    async fn submit_template(&self, user: &User, draft: TemplateDraft) -> AppResult<WhatsAppTemplate>;
    /// Asks Meta where a template's review stands.
    async fn refresh_template(&self, user: &User, template_id: Id) -> AppResult<WhatsAppTemplate>;
    /// Imports the templates of the organization's WhatsApp Business Accounts (or one channel's).
    async fn sync_templates(&self, user: &User, channel_id: Option<Id>) -> AppResult<SyncReport>;
    /// Deletes a template at Meta and here.
    async fn delete_template(&self, user: &User, template_id: Id) -> AppResult<()>;
}

/// A connect form's values by field name as the kind declares it (`bot_token`, `account_sid`…),
/// trimmed.
pub type ConnectFields = std::collections::BTreeMap<String, String>;

pub const HUMAN_AGENT_TAG: &str = "HUMAN_AGENT";
pub const MAX_MESSAGE_CHARS: usize = 2000;

pub struct Services {
    pub store: DynStore,
    /// Where committed events go: sockets (and, later, automation) subscribe to it.
    pub events: EventBus,
    /// Writes platform deliveries in batches (`crate::inbound::group_commit`).
    pub ingest: crate::inbound::group_commit::GroupCommit,
    pub gateway: Arc<dyn ChannelGateway>,
    /// Wakes the outbox worker when a reply is queued.
    pub outbox: Arc<Notify>,
    pub login_limiter: LoginLimiter,
    /// Whether cookies get the `Secure` flag (the site is served over https).
    pub secure_cookies: bool,
    /// Whether a Meta app is configured, so "Connect Facebook" can work.
    pub facebook_login: bool,
    /// Past how many segments the composer warns that an SMS is long.
    pub sms_segment_warning: usize,
    /// Hands out conversations by each team's strategy (`crate::routing`).
    pub router: crate::routing::Router,
    /// Who is online, viewing, typing (`crate::presence`): memory, or Redis across instances.
    pub presence: Arc<dyn crate::presence::PresenceStore>,
    /// How long after someone's last tab closed they count as offline.
    pub presence_grace: std::time::Duration,
}

pub type SharedServices = Arc<Services>;

impl Services {
    pub fn publish<T>(&self, written: Written<T>) -> T {
        self.events.publish(&written.events);
        written.value
    }

    pub async fn session(&self, user: User) -> AppResult<SessionInfo> {
        let organization = self.store.organization(user.organization_id).await?;
        Ok(SessionInfo {
            user,
            organization,
            sms_segment_warning: self.sms_segment_warning,
        })
    }

    /// Creates an organization and its owner; returns a session token.
    pub async fn signup(&self, req: SignupRequest) -> AppResult<(String, SessionInfo)> {
        auth::validate_signup(&req.name, &req.email, &req.password)?;
        let org_name = req.organization.trim();
        if org_name.is_empty() {
            return Err(AppError::invalid("please name your organization"));
        }
        let hash = auth::hash_password(&req.password)?;
        let (organization, user) = self
            .store
            .create_organization(org_name, req.name.trim(), &req.email, &hash)
            .await?;
        let token = auth::start_session(self.store.as_ref(), &user).await?;
        let session = SessionInfo {
            user,
            organization,
            sms_segment_warning: self.sms_segment_warning,
        };
        Ok((token, session))
    }

    pub async fn login(&self, req: LoginRequest, client: Option<String>) -> AppResult<(String, SessionInfo)> {
        let email = req.email.trim().to_lowercase();
        let mut keys = vec![format!("email:{email}")];
        keys.extend(client.map(|c| format!("client:{c}")));
        self.login_limiter.check(&keys)?;
        let Some(creds) = self.store.credentials_by_email(&email).await? else {
            auth::dummy_password_check(&req.password);
            return Err(AppError::invalid("wrong email or password"));
        };
        if !auth::verify_password(&req.password, &creds.password_hash) {
            return Err(AppError::invalid("wrong email or password"));
        }
        let token = auth::start_session(self.store.as_ref(), &creds.user).await?;
        Ok((token, self.session(creds.user).await?))
    }

    pub async fn logout(&self, token: &str) -> AppResult<()> {
        Ok(self.store.delete_session(&auth::hash_token(token)).await?)
    }

    /// Creates an agent or admin account directly (the admin hands over the password).
    pub async fn add_member(
        &self,
        actor: &User,
        name: &str,
        email: &str,
        password: &str,
        role: Role,
    ) -> AppResult<User> {
        auth::require_manager(actor)?;
        if role == Role::Owner {
            return Err(AppError::invalid("an organization has one owner"));
        }
        auth::validate_signup(name, email, password)?;
        let hash = auth::hash_password(password)?;
        Ok(self
            .store
            .add_user(actor.organization_id, name.trim(), email, &hash, role)
            .await?)
    }

    /// Returns an invite token, valid for 7 days and usable once.
    pub async fn create_invite(&self, actor: &User, role: Role) -> AppResult<String> {
        auth::require_manager(actor)?;
        if role == Role::Owner {
            return Err(AppError::invalid("an invite is for an admin or an agent"));
        }
        let (token, hash) = auth::new_token();
        self.store
            .create_invite(actor.organization_id, &hash, role, actor.id, now_millis() + 7 * DAY_MS)
            .await?;
        Ok(token)
    }

    pub async fn accept_invite(
        &self,
        token: &str,
        name: &str,
        email: &str,
        password: &str,
    ) -> AppResult<(String, SessionInfo)> {
        auth::validate_signup(name, email, password)?;
        let hash = auth::hash_password(password)?;
        let user = self
            .store
            .accept_invite(&auth::hash_token(token), name.trim(), email, &hash, now_millis())
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::NotFound => AppError::invalid("this invite link is no longer valid"),
                other => other,
            })?;
        let token = auth::start_session(self.store.as_ref(), &user).await?;
        Ok((token, self.session(user).await?))
    }

    pub async fn conversations(&self, user: &User, filter: &ConversationFilter) -> AppResult<Page<Conversation>> {
        Ok(self.store.conversations(user.organization_id, user.id, filter).await?)
    }

    pub async fn conversation_detail(&self, user: &User, conversation_id: Id) -> AppResult<ConversationDetail> {
        let conversation = self.store.conversation(user.organization_id, conversation_id).await?;
        let contact = self
            .store
            .contact(user.organization_id, conversation.contact_id)
            .await?;
        let channel = self
            .store
            .channel(user.organization_id, conversation.channel_id)
            .await?;
        Ok(ConversationDetail {
            window: ReplyWindow::at(conversation.channel_kind, conversation.last_inbound_at, now_millis()),
            channel_status: channel.channel.status,
            conversation,
            contact,
        })
    }

    pub async fn messages(
        &self,
        user: &User,
        conversation_id: Id,
        before: Option<Id>,
        limit: Option<i64>,
    ) -> AppResult<Page<Message>> {
        Ok(self
            .store
            .messages(user.organization_id, conversation_id, before, limit.unwrap_or(50))
            .await?)
    }

    /// Queues an agent's reply after checking the channel and the platform's reply window.
    pub async fn send_message(&self, user: &User, req: SendRequest) -> AppResult<Message> {
        let content = req.content.trim_end().to_string();
        if content.trim().is_empty() && req.attachments.is_empty() {
            return Err(AppError::invalid("the message is empty"));
        }
        if content.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AppError::invalid(format!(
                "a message can have at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        if req.client_id.as_ref().is_some_and(|id| id.len() > 58) {
            return Err(AppError::invalid("clientId is too long (at most 58 characters)"));
        }
        if req.attachments.len() > attachments::MAX_ATTACHMENTS {
            return Err(AppError::invalid(format!(
                "a reply can carry {} file; send the others in further replies",
                attachments::MAX_ATTACHMENTS
            )));
        }
        let detail = self.conversation_detail(user, req.conversation_id).await?;
        Self::require_active(&detail)?;
        let mut files = self
            .attached_files(user, detail.conversation.channel_kind, &req.attachments)
            .await?;
        let tag = match (detail.window, req.tag.as_deref()) {
            (ReplyWindow::Open { .. }, _) => None,
            (ReplyWindow::HumanAgentOnly { .. }, Some(HUMAN_AGENT_TAG)) => Some(HUMAN_AGENT_TAG.to_string()),
            (ReplyWindow::HumanAgentOnly { .. }, _) => {
                return Err(AppError::invalid(
                    "more than 24 hours have passed since the customer's last message: send with the HUMAN_AGENT tag",
                ));
            }
            (ReplyWindow::Closed, _) => {
                return Err(AppError::invalid(
                    "more than 7 days have passed since the customer's last message: wait for the customer to write again",
                ));
            }
            (ReplyWindow::TemplatesOnly, _) => {
                return Err(AppError::invalid(
                    "more than 24 hours have passed since the customer's last message: WhatsApp only accepts an approved template now",
                ));
            }
        };
        let buttons = Self::checked_buttons(detail.conversation.channel_kind, &req.buttons)?;
        let reply = |kind, body, attachments, client_id, tag, reply_to, payload| NewOutbound {
            conversation_id: req.conversation_id,
            sender: user.clone(),
            kind,
            body,
            attachments,
            client_id,
            tag,
            payload,
            template_id: None,
            reply_to,
        };
        let separate_text = files.first().is_some_and(|f| {
            !content.trim().is_empty() && !attachments::takes_caption(detail.conversation.channel_kind, f.kind)
        });
        if separate_text {
            // The file goes first as a message of its own (its own status, its own retry),
            // idempotent with the reply through a derived client id.
            let file_client_id = req.client_id.as_ref().map(|id| format!("{id}~file"));
            let file = reply(
                MessageKind::Media,
                String::new(),
                std::mem::take(&mut files),
                file_client_id,
                tag.clone(),
                // The quote and the buttons go with the words.
                None,
                None,
            );
            let written = self.store.queue_outbound(user.organization_id, file).await?;
            self.publish(written);
        }
        let kind = if files.is_empty() {
            MessageKind::Text
        } else {
            MessageKind::Media
        };
        let written = self
            .store
            .queue_outbound(
                user.organization_id,
                reply(kind, content, files, req.client_id, tag, req.reply_to, buttons),
            )
            .await?;
        let message = self.publish(written);
        self.outbox.notify_one();
        Ok(message)
    }

    /// A reply's buttons as the payload keeps them, if the kind takes that many: each a
    /// label of 1 to 40 characters, none twice.
    fn checked_buttons(kind: ChannelKind, buttons: &[String]) -> AppResult<Option<serde_json::Value>> {
        if buttons.is_empty() {
            return Ok(None);
        }
        let allowed = kind.platform().reply_buttons;
        if allowed == 0 {
            return Err(AppError::invalid(format!(
                "{} replies cannot carry buttons",
                kind.label()
            )));
        }
        if buttons.len() > allowed {
            return Err(AppError::invalid(format!(
                "a reply can offer at most {allowed} buttons"
            )));
        }
        let mut labels: Vec<String> = Vec::with_capacity(buttons.len());
        for button in buttons {
            let label = button.trim().to_string();
            if label.is_empty() || label.chars().count() > 40 {
                return Err(AppError::invalid("each button needs a label of 1 to 40 characters"));
            }
            if labels.contains(&label) {
                return Err(AppError::invalid(format!("the button \"{label}\" is there twice")));
            }
            labels.push(label);
        }
        Ok(Some(serde_json::json!({ "buttons": labels })))
    }

    /// The uploads a reply names, as recorded (never as the client describes them), checked
    /// against what the conversation's platform accepts.
    async fn attached_files(
        &self,
        user: &User,
        channel: ChannelKind,
        refs: &[attachments::AttachmentRef],
    ) -> AppResult<Vec<Attachment>> {
        let mut files = Vec::with_capacity(refs.len());
        for reference in refs {
            let id = attachments::upload_id(&reference.url).ok_or_else(|| {
                AppError::invalid(format!(
                    "attachments must be uploaded first (POST {}); `{}` is not an upload",
                    attachments::UPLOAD_ROUTE,
                    reference.url
                ))
            })?;
            let upload = self.store.upload(user.organization_id, id).await.map_err(|e| match e {
                StoreError::NotFound => AppError::invalid(format!("the attached file {} was not found", reference.url)),
                other => other.into(),
            })?;
            attachments::check(channel, &upload.file.mime_type, upload.file.size).map_err(AppError::invalid)?;
            files.push(upload.file.attachment());
        }
        Ok(files)
    }

    /// The channel is live and the customer can be reached on it (they did not block the bot
    /// or text STOP): a reply would otherwise only fail at the platform.
    fn require_active(detail: &ConversationDetail) -> AppResult<()> {
        match detail.channel_status {
            ChannelStatus::Active => {}
            ChannelStatus::NeedsReconnect => {
                return Err(AppError::Conflict(
                    "the channel needs to be reconnected before replies can go out".into(),
                ));
            }
            ChannelStatus::Disconnected => return Err(AppError::Conflict("the channel is disconnected".into())),
        }
        let unreachable = detail
            .contact
            .identities
            .iter()
            .find(|i| i.channel_id == detail.conversation.channel_id)
            .and_then(|i| i.unreachable.clone());
        match unreachable {
            Some(reason) => Err(AppError::Conflict(reason)),
            None => Ok(()),
        }
    }

    /// Leaves a private note in a conversation of the user's organization. Mentions name the
    /// organization's people; anyone else named is ignored.
    pub async fn add_note(&self, user: &User, conversation_id: Id, req: NoteRequest) -> AppResult<Note> {
        let body = req.content.trim();
        if body.is_empty() {
            return Err(AppError::invalid("the note is empty"));
        }
        if body.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AppError::invalid(format!(
                "a note can have at most {MAX_MESSAGE_CHARS} characters"
            )));
        }
        // Named in the text (`@Lea`) or listed by id; never oneself.
        let members = self.store.users(user.organization_id).await?;
        let mut mentions = req.mentions.clone();
        mentions.extend(crate::domain::mentions::mentioned_by_name(body, &members));
        if body.contains('@') {
            let teams: Vec<(String, Vec<Id>)> = self
                .store
                .teams(user.organization_id)
                .await?
                .into_iter()
                .map(|t| (t.name, t.members.into_iter().map(|m| m.user_id).collect()))
                .collect();
            mentions.extend(crate::domain::mentions::mentioned_by_team(body, &teams));
        }
        mentions.retain(|id| *id != user.id);
        let written = self
            .store
            .add_note(user.organization_id, conversation_id, user.id, body, &mentions)
            .await?;
        Ok(self.publish(written))
    }

    pub async fn notes(&self, user: &User, conversation_id: Id) -> AppResult<Vec<Note>> {
        // An unknown conversation (or another organization's) is not found, not empty.
        self.store.conversation(user.organization_id, conversation_id).await?;
        Ok(self.store.notes(user.organization_id, conversation_id).await?)
    }

    /// The user's own mentions, newest first.
    pub async fn mentions(&self, user: &User, unread_only: bool) -> AppResult<Vec<Mention>> {
        Ok(self.store.mentions(user.organization_id, user.id, unread_only).await?)
    }

    /// Marks one of the user's mentions read; someone else's is not found.
    pub async fn read_mention(&self, user: &User, note_id: Id) -> AppResult<Mention> {
        Ok(self.store.read_mention(user.organization_id, user.id, note_id).await?)
    }

    /// Removes a note: its author may, and so may owners and admins.
    pub async fn delete_note(&self, user: &User, note_id: Id) -> AppResult<()> {
        let note = self.store.note(user.organization_id, note_id).await?;
        if note.author_id != user.id && !user.role.can_manage() {
            return Err(AppError::Forbidden(
                "only the note's author, or an owner or admin, can delete it".into(),
            ));
        }
        self.publish(self.store.delete_note(user.organization_id, note_id).await?);
        Ok(())
    }

    /// The templates an agent may pick from (or an admin manage), newest review state first.
    pub async fn templates(&self, user: &User, filter: &TemplateFilter) -> AppResult<Vec<WhatsAppTemplate>> {
        let waba_id = match filter.channel_id {
            Some(channel_id) => {
                let record = self.store.channel(user.organization_id, channel_id).await?;
                Some(
                    record
                        .channel
                        .parent_account_id
                        .ok_or_else(|| AppError::invalid("this channel has no WhatsApp Business Account"))?,
                )
            }
            None => None,
        };
        Ok(self
            .store
            .templates(user.organization_id, waba_id.as_deref(), filter.status)
            .await?)
    }

    /// Queues an approved template into a WhatsApp conversation, at any time since the
    /// customer's last message, and records the use.
    pub async fn send_template(&self, user: &User, req: TemplateSendRequest) -> AppResult<Message> {
        if req.client_id.as_ref().is_some_and(|id| id.len() > 64) {
            return Err(AppError::invalid("clientId is too long"));
        }
        let detail = self.conversation_detail(user, req.conversation_id).await?;
        if !detail.conversation.channel_kind.uses_templates() {
            return Err(AppError::invalid(
                "templates can only be sent in WhatsApp conversations",
            ));
        }
        Self::require_active(&detail)?;
        let template = self.store.template(user.organization_id, req.template_id).await?;
        let channel = self
            .store
            .channel(user.organization_id, detail.conversation.channel_id)
            .await?;
        if channel.channel.parent_account_id.as_deref() != Some(template.waba_id.as_str()) {
            return Err(AppError::invalid(
                "this template belongs to another WhatsApp Business Account than the conversation's number",
            ));
        }
        if template.status != TemplateStatus::Approved {
            return Err(AppError::invalid(format!(
                "the template is {}; only approved templates can be sent",
                template.status
            )));
        }
        templates::check_params(&template.content, &req).map_err(AppError::invalid)?;
        let header = req.header_param.as_deref().map(str::trim);
        let body = templates::render(&template.content, header, &req.params);
        let payload = templates::send_payload(
            &template.name,
            &template.language,
            &template.content,
            header,
            &req.params,
            req.button_param.as_deref().map(str::trim),
        );
        let written = self
            .store
            .queue_outbound(
                user.organization_id,
                NewOutbound {
                    conversation_id: req.conversation_id,
                    sender: user.clone(),
                    body,
                    attachments: vec![],
                    client_id: req.client_id,
                    tag: None,
                    kind: MessageKind::Template,
                    payload: Some(serde_json::json!({ "template": payload })),
                    template_id: Some(template.id),
                    reply_to: None,
                },
            )
            .await?;
        let message = self.publish(written);
        self.outbox.notify_one();
        Ok(message)
    }

    pub async fn retry_message(&self, user: &User, message_id: Id) -> AppResult<Message> {
        let message = self.publish(self.store.retry_outbound(user.organization_id, message_id).await?);
        self.outbox.notify_one();
        Ok(message)
    }

    pub async fn set_status(
        &self,
        user: &User,
        conversation_id: Id,
        status: ConversationStatus,
    ) -> AppResult<Conversation> {
        Ok(self.publish(
            self.store
                .set_conversation_status(user.organization_id, conversation_id, status, user)
                .await?,
        ))
    }

    pub async fn mark_read(&self, user: &User, conversation_id: Id) -> AppResult<Conversation> {
        Ok(self.publish(self.store.mark_read(user.organization_id, conversation_id).await?))
    }

    pub async fn channels(&self, user: &User) -> AppResult<Vec<Channel>> {
        Ok(self.store.channels(user.organization_id).await?)
    }

    pub async fn channel(&self, user: &User, channel_id: Id) -> AppResult<ChannelRecord> {
        Ok(self.store.channel(user.organization_id, channel_id).await?)
    }

    pub async fn team(&self, user: &User) -> AppResult<Vec<User>> {
        Ok(self.store.users(user.organization_id).await?)
    }
}
