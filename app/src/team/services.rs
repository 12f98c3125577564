//! The team inbox's operations, shared by the server functions and the REST API: who may
//! do what (admins manage teams and move anyone's work; agents claim, and hand on only what
//! is theirs or nobody's), then the store's guarded write, the events it logged, and a word
//! to routing when settings or presence changed what it may hand out.

use super::*;
use crate::auth::ssr::require_manager;
use crate::error::AppResult;
use crate::events::bus::Signal;
use crate::model::{AgentStatus, Conversation, ConversationStatus, Id, User, events};
use crate::presence::{StatusChange, Typing, Viewer};
use crate::services::Services;
use crate::store::TransferTarget;

/// Whether `user` may change who holds `conversation`: managers always; an agent when
/// nobody holds it or they do.
fn may_move(user: &User, conversation: &Conversation) -> AppResult<()> {
    if user.role.can_manage() || conversation.assignee_id.is_none_or(|holder| holder == user.id) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!(
        "{} has this conversation; only an owner or admin may move it",
        conversation.assignee_name.as_deref().unwrap_or("someone else")
    )))
}

impl Services {
    pub async fn teams(&self, user: &User) -> AppResult<Vec<Team>> {
        Ok(self.store.teams(user.organization_id).await?)
    }

    pub async fn team_by_id(&self, user: &User, team_id: Id) -> AppResult<Team> {
        Ok(self.store.team(user.organization_id, team_id).await?)
    }

    pub async fn create_team(&self, user: &User, draft: TeamDraft) -> AppResult<Team> {
        require_manager(user)?;
        if let Some(problem) = draft.problem() {
            return Err(AppError::Invalid(problem));
        }
        let team = self.store.create_team(user.organization_id, &draft).await?;
        self.router.reload(user.organization_id);
        Ok(team)
    }

    pub async fn update_team(&self, user: &User, team_id: Id, draft: TeamDraft) -> AppResult<Team> {
        require_manager(user)?;
        if let Some(problem) = draft.problem() {
            return Err(AppError::Invalid(problem));
        }
        let team = self.store.update_team(user.organization_id, team_id, &draft).await?;
        self.router.reload(user.organization_id);
        Ok(team)
    }

    pub async fn delete_team(&self, user: &User, team_id: Id) -> AppResult<()> {
        require_manager(user)?;
        self.store.delete_team(user.organization_id, team_id).await?;
        self.router.reload(user.organization_id);
        Ok(())
    }

    pub async fn agent_profiles(&self, user: &User) -> AppResult<Vec<AgentProfile>> {
        Ok(self.store.agent_profiles(user.organization_id).await?)
    }

    pub async fn set_agent_profile(
        &self,
        user: &User,
        agent_id: Id,
        update: AgentProfileUpdate,
    ) -> AppResult<AgentProfile> {
        require_manager(user)?;
        let update = update.normalized().map_err(AppError::Invalid)?;
        let profile = self
            .store
            .set_agent_profile(user.organization_id, agent_id, &update)
            .await?;
        self.router.reload(user.organization_id);
        Ok(profile)
    }

    pub async fn set_channel_routing(
        &self,
        user: &User,
        channel_id: Id,
        routing: ChannelRouting,
    ) -> AppResult<ChannelRouting> {
        require_manager(user)?;
        let routing = ChannelRouting {
            team_id: routing.team_id,
            required_skills: normalize_skills(&routing.required_skills).map_err(AppError::Invalid)?,
        };
        self.store
            .set_channel_routing(user.organization_id, channel_id, &routing)
            .await?;
        Ok(routing)
    }

    pub async fn channel_routing(&self, user: &User, channel_id: Id) -> AppResult<ChannelRouting> {
        Ok(self.store.channel_routing(user.organization_id, channel_id).await?)
    }

    /// Gives a conversation to an agent (or nobody), by hand.
    pub async fn assign(&self, user: &User, conversation_id: Id, assignee_id: Option<Id>) -> AppResult<Conversation> {
        let conversation = self.store.conversation(user.organization_id, conversation_id).await?;
        may_move(user, &conversation)?;
        Ok(self.publish(
            self.store
                .assign_conversation(user.organization_id, conversation_id, assignee_id, user)
                .await?,
        ))
    }

    /// `PATCH …/assign` and `POST /api/inbox/assign`: to an agent, or into a team's queue.
    pub async fn assign_request(
        &self,
        user: &User,
        conversation_id: Id,
        request: AssignRequest,
    ) -> AppResult<Conversation> {
        let team = match (request.assignee_type, request.assign_to_team_id) {
            (_, Some(team_id)) => Some(team_id),
            (Some(AssigneeType::Team), None) => Some(
                request
                    .assignee_id
                    .ok_or_else(|| AppError::Invalid("name the team to assign to".into()))?,
            ),
            (Some(AssigneeType::User) | None, None) => None,
        };
        match team {
            Some(team_id) => {
                self.transfer(
                    user,
                    TransferRequest {
                        conversation_id,
                        to_user_id: None,
                        to_team_id: Some(team_id),
                        reason: String::new(),
                    },
                )
                .await
            }
            None => self.assign(user, conversation_id, request.assignee_id).await,
        }
    }

    /// Takes a conversation nobody holds; when two agents claim at once, one wins and the
    /// other hears who did (409).
    pub async fn claim(&self, user: &User, conversation_id: Id) -> AppResult<Conversation> {
        Ok(self.publish(self.store.claim(user.organization_id, conversation_id, user).await?))
    }

    /// Moves a conversation to another agent or team, the reason shown in the thread.
    pub async fn transfer(&self, user: &User, request: TransferRequest) -> AppResult<Conversation> {
        let target = match (request.to_user_id, request.to_team_id) {
            (Some(agent), None) => TransferTarget::Agent(agent),
            (None, Some(team)) => TransferTarget::Team(team),
            (Some(_), Some(_)) => return Err(AppError::Invalid("transfer to an agent or to a team, not both".into())),
            (None, None) => return Err(AppError::Invalid("name the agent or team to transfer to".into())),
        };
        if request.reason.chars().count() > 500 {
            return Err(AppError::Invalid("a reason has at most 500 characters".into()));
        }
        let conversation = self
            .store
            .conversation(user.organization_id, request.conversation_id)
            .await?;
        may_move(user, &conversation)?;
        Ok(self.publish(
            self.store
                .transfer(
                    user.organization_id,
                    request.conversation_id,
                    user,
                    target,
                    &request.reason,
                )
                .await?,
        ))
    }

    /// Routes a conversation nobody holds now, by its team's strategy or the one asked for.
    pub async fn auto_assign(
        &self,
        user: &User,
        conversation_id: Id,
        strategy: Option<crate::model::RoutingStrategy>,
    ) -> AppResult<RouteOutcome> {
        let conversation = self.store.conversation(user.organization_id, conversation_id).await?;
        may_move(user, &conversation)?;
        Ok(self
            .router
            .route_now(user.organization_id, conversation_id, strategy)
            .await?)
    }

    /// Assigns many conversations to one agent (or nobody); each is checked on its own.
    pub async fn bulk_assign(&self, user: &User, request: BulkAssignRequest) -> AppResult<BulkResult> {
        if request.conversation_ids.len() > 500 {
            return Err(AppError::Invalid("at most 500 conversations at once".into()));
        }
        let mut result = BulkResult::default();
        for conversation_id in request.conversation_ids {
            match self.assign(user, conversation_id, request.assignee_id).await {
                Ok(_) => result.updated.push(conversation_id),
                Err(AppError::Internal) => return Err(AppError::Internal),
                Err(error) => result.skipped.push(BulkSkip {
                    conversation_id,
                    reason: error.to_string(),
                }),
            }
        }
        Ok(result)
    }

    /// Moves an agent's open conversations (all, or those listed) to another agent.
    pub async fn reassign_bulk(&self, user: &User, request: BulkReassignRequest) -> AppResult<BulkResult> {
        if !user.role.can_manage() && request.from_user_id != user.id {
            return Err(AppError::Forbidden(
                "only an owner or admin may move a colleague's conversations".into(),
            ));
        }
        let ids = if request.conversation_ids.is_empty() {
            self.open_conversations_of(user, request.from_user_id).await?
        } else {
            request.conversation_ids
        };
        let mut result = BulkResult::default();
        for conversation_id in ids {
            let conversation = match self.store.conversation(user.organization_id, conversation_id).await {
                Ok(c) => c,
                Err(error) => {
                    result.skipped.push(BulkSkip {
                        conversation_id,
                        reason: AppError::from(error).to_string(),
                    });
                    continue;
                }
            };
            if conversation.assignee_id != Some(request.from_user_id) {
                result.skipped.push(BulkSkip {
                    conversation_id,
                    reason: "not held by that agent".into(),
                });
                continue;
            }
            self.publish(
                self.store
                    .assign_conversation(user.organization_id, conversation_id, Some(request.to_user_id), user)
                    .await?,
            );
            result.updated.push(conversation_id);
        }
        Ok(result)
    }

    async fn open_conversations_of(&self, user: &User, agent_id: Id) -> AppResult<Vec<Id>> {
        let mut ids = Vec::new();
        for status in [ConversationStatus::New, ConversationStatus::Active] {
            let mut before = None;
            loop {
                let filter = crate::model::ConversationFilter {
                    assignee: Some(agent_id),
                    status: Some(status),
                    before: before.clone(),
                    limit: Some(100),
                    ..Default::default()
                };
                let page = self.store.conversations(user.organization_id, user.id, &filter).await?;
                ids.extend(page.items.iter().map(|c| c.id));
                match page.next_cursor {
                    Some(cursor) => before = Some(cursor),
                    None => break,
                }
            }
        }
        Ok(ids)
    }

    pub async fn set_conversation_routing(
        &self,
        user: &User,
        conversation_id: Id,
        update: RoutingUpdate,
    ) -> AppResult<Conversation> {
        let skills = update
            .required_skills
            .as_deref()
            .map(normalize_skills)
            .transpose()
            .map_err(AppError::Invalid)?;
        Ok(self.publish(
            self.store
                .set_conversation_routing(
                    user.organization_id,
                    conversation_id,
                    update.priority,
                    skills.as_deref(),
                )
                .await?,
        ))
    }

    /// A team's agents (open conversations against capacity, presence) and queue.
    pub async fn workload(&self, user: &User, team_id: Id) -> AppResult<Workload> {
        let team = self.store.team(user.organization_id, team_id).await?;
        let picture = self.router.team(user.organization_id, team_id).await;
        let names: std::collections::HashMap<Id, String> =
            team.members.iter().map(|m| (m.user_id, m.name.clone())).collect();
        let statuses = self.presence.statuses(user.organization_id).await;
        let agents = team
            .members
            .iter()
            .map(|member| {
                let (open, capacity) = picture
                    .agents
                    .iter()
                    .find(|(id, _, _)| *id == member.user_id)
                    .map_or((0, team.capacity), |(_, open, capacity)| {
                        (i64::from(*open), i64::from(*capacity))
                    });
                AgentLoad {
                    user_id: member.user_id,
                    name: names.get(&member.user_id).cloned().unwrap_or_default(),
                    status: statuses.get(&member.user_id).copied().unwrap_or(AgentStatus::Offline),
                    open,
                    capacity,
                }
            })
            .collect();
        // The first 200 waiting, read in one statement (the page asks again on every change).
        let waiting: Vec<(Id, crate::model::Millis)> = picture.queue.into_iter().take(200).collect();
        let ids: Vec<Id> = waiting.iter().map(|(id, _)| *id).collect();
        let found: std::collections::HashMap<Id, Conversation> = self
            .store
            .conversations_by_id(user.organization_id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let queue = waiting
            .into_iter()
            .enumerate()
            .filter_map(|(index, (conversation_id, queued_at))| {
                let conversation = found.get(&conversation_id)?;
                Some(QueuedConversation {
                    conversation_id,
                    contact_name: conversation.contact_name.clone(),
                    priority: conversation.priority,
                    queued_at,
                    position: index + 1,
                })
            })
            .collect();
        Ok(Workload {
            team_id,
            team_name: team.name,
            agents,
            queue,
        })
    }

    /// Where a waiting conversation stands in its team's queue (1 = next) and since when.
    pub async fn queue_position(&self, user: &User, conversation_id: Id) -> Option<(usize, crate::model::Millis)> {
        self.router.position(user.organization_id, conversation_id).await
    }

    /// A team's people and their presence.
    pub async fn team_presence(&self, user: &User, team_id: Id) -> AppResult<Vec<PresenceEntry>> {
        let team = self.store.team(user.organization_id, team_id).await?;
        let statuses = self.presence.statuses(user.organization_id).await;
        Ok(team
            .members
            .into_iter()
            .map(|m| PresenceEntry {
                status: statuses.get(&m.user_id).copied().unwrap_or(AgentStatus::Offline),
                user_id: m.user_id,
                name: m.name,
            })
            .collect())
    }

    /// `PUT /api/users/:id/status`: an agent's own, or anyone's for a manager.
    pub async fn set_agent_status(&self, user: &User, agent_id: Id, status: AgentStatus) -> AppResult<PresenceEntry> {
        if agent_id != user.id {
            require_manager(user)?;
        }
        let name = crate::store::OrganizationStore::users(self.store.as_ref(), user.organization_id)
            .await?
            .into_iter()
            .find(|u| u.id == agent_id)
            .map(|u| u.name)
            .ok_or(AppError::NotFound)?;
        let change = self.presence.choose(user.organization_id, agent_id, status).await;
        self.announce_presence(change);
        Ok(PresenceEntry {
            user_id: agent_id,
            name,
            status: self.presence.status(agent_id).await,
        })
    }

    /// A tab of `user` connected (the socket server calls it).
    pub async fn socket_connected(&self, user: &User) {
        let change = self.presence.connected(user.organization_id, user.id).await;
        self.announce_presence(change);
    }

    /// A tab of `user` closed: offline after the grace period unless another opens.
    pub async fn socket_disconnected(self: &std::sync::Arc<Self>, user: &User, socket: &str) {
        self.viewing(user, socket, None).await;
        if let Some(generation) = self.presence.disconnected(user.id).await {
            let services = self.clone();
            let user_id = user.id;
            tokio::spawn(async move {
                tokio::time::sleep(services.presence_grace).await;
                let change = services.presence.grace_over(user_id, generation).await;
                services.announce_presence(change);
            });
        }
    }

    fn announce_presence(&self, change: Option<StatusChange>) {
        let Some(change) = change else {
            return;
        };
        self.router
            .presence(change.organization_id, change.user_id, change.after);
        self.events.signal(Signal {
            organization_id: change.organization_id,
            name: events::PRESENCE_UPDATE.into(),
            payload: serde_json::json!({ "userId": change.user_id, "status": change.after }),
            to_users: Vec::new(),
        });
    }

    /// A socket of `user` opened a conversation (or none); its viewers hear who is there.
    pub async fn viewing(&self, user: &User, socket: &str, conversation_id: Option<Id>) {
        for changed in self
            .presence
            .view(socket, user.id, conversation_id, crate::store::now_millis())
            .await
        {
            self.announce_viewers(user.organization_id, changed).await;
        }
    }

    /// `typing:start` / `typing:stop` (and `POST /api/inbox/typing`).
    pub async fn typing(&self, user: &User, socket: &str, conversation_id: Id, typing: Option<Typing>) {
        if typing.is_some() {
            // Typing in a conversation means viewing it (a REST client has no `viewing`).
            for changed in self
                .presence
                .view(socket, user.id, Some(conversation_id), crate::store::now_millis())
                .await
            {
                self.announce_viewers(user.organization_id, changed).await;
            }
        }
        if self.presence.typing(socket, conversation_id, typing).await {
            self.events.signal(Signal {
                organization_id: user.organization_id,
                name: events::TYPING_INDICATOR.into(),
                payload: serde_json::json!({
                    "conversationId": conversation_id,
                    "userId": user.id,
                    "userName": user.name,
                    "isTyping": typing.is_some(),
                    "kind": typing,
                }),
                to_users: Vec::new(),
            });
        }
    }

    async fn announce_viewers(&self, organization_id: Id, conversation_id: Id) {
        let viewers = self.presence.viewers(conversation_id).await;
        let list: Vec<serde_json::Value> = viewers
            .iter()
            .map(|v| serde_json::json!({ "userId": v.user_id, "since": v.since, "typing": v.typing }))
            .collect();
        self.events.signal(Signal {
            organization_id,
            name: events::CONVERSATION_VIEWERS.into(),
            payload: serde_json::json!({ "conversationId": conversation_id, "viewers": list }),
            to_users: Vec::new(),
        });
    }

    /// Who is viewing a conversation of the user's organization.
    pub async fn viewers(&self, user: &User, conversation_id: Id) -> AppResult<Vec<Viewer>> {
        self.store.conversation(user.organization_id, conversation_id).await?;
        Ok(self.presence.viewers(conversation_id).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChannelKind, Priority, Role};

    fn conversation(assignee: Option<Id>) -> Conversation {
        Conversation {
            id: 1,
            contact_id: 1,
            contact_name: "Ann".into(),
            contact_avatar_url: None,
            channel_id: 1,
            channel_kind: ChannelKind::Demo,
            channel_name: "Demo".into(),
            status: ConversationStatus::Active,
            assignee_id: assignee,
            assignee_name: assignee.map(|_| "Lea".into()),
            unread_count: 0,
            last_message_preview: None,
            last_message_at: 0,
            last_inbound_at: None,
            created_at: 0,
            team_id: None,
            team_name: None,
            priority: Priority::None,
            required_skills: Vec::new(),
            queued_at: None,
            reply_due_at: None,
        }
    }

    fn user(id: Id, role: Role) -> User {
        User {
            id,
            organization_id: 1,
            name: "Ben".into(),
            email: "ben@example.com".into(),
            role,
        }
    }

    #[test]
    fn agents_move_only_what_is_theirs_or_nobodys() {
        let agent = user(2, Role::Agent);
        assert!(may_move(&agent, &conversation(None)).is_ok());
        assert!(may_move(&agent, &conversation(Some(2))).is_ok());
        let refused = may_move(&agent, &conversation(Some(3))).expect_err("a colleague's");
        assert!(refused.to_string().contains("Lea has this conversation"), "{refused}");
        assert!(may_move(&user(2, Role::Admin), &conversation(Some(3))).is_ok());
        assert!(may_move(&user(2, Role::Owner), &conversation(Some(3))).is_ok());
    }
}
