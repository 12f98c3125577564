//! The team inbox: teams and how they route, agents' routing profiles, assignment (claim,
//! transfer, bulk), presence and workload. This file holds the shared types (browser, REST,
//! socket) and the server functions the web app calls; `services.rs` (ssr) is the one
//! implementation behind both them and the REST routes (`server/src/api/team.rs`). Routing
//! itself lives in `crate::routing`, presence in `crate::presence`.

#[cfg(feature = "ssr")]
pub mod services;

#[cfg(feature = "ssr")]
use crate::auth::context;
use crate::error::AppError;
use crate::model::{AgentStatus, Id, Millis, Priority, Role, RoutingStrategy};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A group of agents sharing an inbox; channels pointed at it put their conversations in its
/// queue, handed out by its strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub id: Id,
    pub name: String,
    pub strategy: RoutingStrategy,
    /// Most open conversations per agent, unless the agent has their own number.
    pub capacity: i64,
    /// Skill-based routing offers a conversation to the rest of the team after this wait.
    pub skill_fallback_secs: i64,
    /// An assignee who has not replied within this time loses the conversation to routing.
    pub ownership_timeout_secs: Option<i64>,
    /// Whether going away or offline hands an agent's open conversations back to routing.
    pub release_on_away: bool,
    pub members: Vec<TeamMember>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamMember {
    pub user_id: Id,
    pub name: String,
}

/// What an admin sets on a team (`POST /api/inbox/teams`, `PUT /api/inbox/teams/:id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamDraft {
    pub name: String,
    #[serde(default = "default_strategy")]
    pub strategy: RoutingStrategy,
    #[serde(default = "default_capacity")]
    pub capacity: i64,
    #[serde(default = "default_fallback")]
    pub skill_fallback_secs: i64,
    #[serde(default)]
    pub ownership_timeout_secs: Option<i64>,
    #[serde(default = "default_true")]
    pub release_on_away: bool,
    /// The team's agents; `None` keeps them as they are.
    #[serde(default)]
    pub members: Option<Vec<Id>>,
}

fn default_strategy() -> RoutingStrategy {
    RoutingStrategy::RoundRobin
}
pub const DEFAULT_CAPACITY: i64 = 10;
fn default_capacity() -> i64 {
    DEFAULT_CAPACITY
}
fn default_fallback() -> i64 {
    120
}
fn default_true() -> bool {
    true
}

impl TeamDraft {
    pub fn named(name: &str) -> Self {
        Self {
            name: name.to_string(),
            strategy: default_strategy(),
            capacity: DEFAULT_CAPACITY,
            skill_fallback_secs: default_fallback(),
            ownership_timeout_secs: None,
            release_on_away: true,
            members: None,
        }
    }

    /// What is wrong with it, in words for the form.
    pub fn problem(&self) -> Option<String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Some("please name the team".into());
        }
        if name.chars().count() > 80 {
            return Some("a team's name has at most 80 characters".into());
        }
        if !(0..=1000).contains(&self.capacity) {
            return Some("capacity is between 0 and 1000 open conversations".into());
        }
        if !(0..=86_400).contains(&self.skill_fallback_secs) {
            return Some("the skill fallback wait is between 0 seconds and a day".into());
        }
        if let Some(timeout) = self.ownership_timeout_secs
            && !(1..=7 * 86_400).contains(&timeout)
        {
            return Some("the reply timer is between 1 second and 7 days".into());
        }
        None
    }
}

/// What routing knows of one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentProfile {
    pub user_id: Id,
    pub name: String,
    pub role: Role,
    /// Their own capacity; `None`: each team's.
    pub capacity: Option<i64>,
    pub skills: Vec<String>,
    /// Senior agents get urgent and high-priority conversations first.
    pub senior: bool,
    pub team_ids: Vec<Id>,
}

/// `PUT /api/inbox/agents/:id` (admins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentProfileUpdate {
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub senior: bool,
}

impl AgentProfileUpdate {
    /// Skills trimmed, lower-cased, without repeats; `Err` names what is wrong.
    pub fn normalized(mut self) -> Result<Self, String> {
        if let Some(capacity) = self.capacity
            && !(0..=1000).contains(&capacity)
        {
            return Err("capacity is between 0 and 1000 open conversations".into());
        }
        self.skills = normalize_skills(&self.skills)?;
        Ok(self)
    }
}

/// Skills compare trimmed and lower-cased ("French " is "french").
pub fn normalize_skills(skills: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for skill in skills {
        let skill = skill.trim().to_lowercase();
        if skill.is_empty() {
            continue;
        }
        if skill.chars().count() > 40 {
            return Err(format!("skill `{skill}` is longer than 40 characters"));
        }
        if !out.contains(&skill) {
            out.push(skill);
        }
    }
    if out.len() > 20 {
        return Err("at most 20 skills".into());
    }
    out.sort();
    Ok(out)
}

/// Whom a conversation goes to by hand: an agent, or a team (whose routing then picks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssigneeType {
    User,
    Team,
}

/// `PATCH /api/inbox/conversations/:id/assign {assigneeId, assigneeType}`; `POST
/// /api/inbox/assign {conversationId, assignToUserId | assignToTeamId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignRequest {
    #[serde(default)]
    pub conversation_id: Option<Id>,
    #[serde(default, alias = "assignToUserId")]
    pub assignee_id: Option<Id>,
    #[serde(default)]
    pub assignee_type: Option<AssigneeType>,
    #[serde(default)]
    pub assign_to_team_id: Option<Id>,
}

/// `POST /api/inbox/transfer {conversationId, toUserId | toTeamId, reason}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRequest {
    pub conversation_id: Id,
    #[serde(default)]
    pub to_user_id: Option<Id>,
    #[serde(default)]
    pub to_team_id: Option<Id>,
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/inbox/reassign-bulk {fromUserId, toUserId, conversationIds}`: an empty list
/// moves every open conversation of `fromUserId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkReassignRequest {
    pub from_user_id: Id,
    pub to_user_id: Id,
    #[serde(default)]
    pub conversation_ids: Vec<Id>,
}

/// `POST /api/inbox/conversations/bulk-assign {conversationIds, assigneeId}` (`null`: unassign).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkAssignRequest {
    pub conversation_ids: Vec<Id>,
    #[serde(default)]
    pub assignee_id: Option<Id>,
}

/// What a bulk operation did, conversation by conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkResult {
    pub updated: Vec<Id>,
    /// Conversations left as they were, with why.
    pub skipped: Vec<BulkSkip>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSkip {
    pub conversation_id: Id,
    pub reason: String,
}

/// `PATCH /api/inbox/conversations/:id/routing {priority?, requiredSkills?, teamId?}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoutingUpdate {
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub required_skills: Option<Vec<String>>,
}

/// `PUT /api/inbox/channels/:id/routing {teamId, requiredSkills}`: where a channel's new
/// conversations go.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelRouting {
    #[serde(default)]
    pub team_id: Option<Id>,
    #[serde(default)]
    pub required_skills: Vec<String>,
}

/// What routing did with a conversation (`POST /api/inbox/auto-assign`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum RouteOutcome {
    Assigned {
        user_id: Id,
        name: String,
    },
    /// Nobody could take it; it waits at `position` (1 = next).
    Queued {
        position: usize,
        queued_at: Millis,
    },
    /// It is not the routing's to place: already assigned, finished, or in no team.
    NotRoutable {
        reason: String,
    },
}

/// `GET /api/inbox/team/:teamId/workload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub team_id: Id,
    pub team_name: String,
    pub agents: Vec<AgentLoad>,
    /// Waiting conversations in the order they will be handed out.
    pub queue: Vec<QueuedConversation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentLoad {
    pub user_id: Id,
    pub name: String,
    pub status: AgentStatus,
    pub open: i64,
    pub capacity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedConversation {
    pub conversation_id: Id,
    pub contact_name: String,
    pub priority: Priority,
    pub queued_at: Millis,
    /// 1 = next to be handed out.
    pub position: usize,
}

/// One person's presence (`GET /api/inbox/team/:teamId/presence`, `presence:update`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    pub user_id: Id,
    pub name: String,
    pub status: AgentStatus,
}

#[server(prefix = "/rpc")]
pub async fn list_teams() -> Result<Vec<Team>, AppError> {
    let user = context::user().await?;
    context::services()?.teams(&user).await
}

#[server(prefix = "/rpc")]
pub async fn save_team(id: Option<Id>, draft: TeamDraft) -> Result<Team, AppError> {
    let user = context::user().await?;
    let services = context::services()?;
    match id {
        Some(id) => services.update_team(&user, id, draft).await,
        None => services.create_team(&user, draft).await,
    }
}

#[server(prefix = "/rpc")]
pub async fn delete_team(id: Id) -> Result<(), AppError> {
    let user = context::user().await?;
    context::services()?.delete_team(&user, id).await
}

#[server(prefix = "/rpc")]
pub async fn list_agent_profiles() -> Result<Vec<AgentProfile>, AppError> {
    let user = context::user().await?;
    context::services()?.agent_profiles(&user).await
}

#[server(prefix = "/rpc")]
pub async fn save_agent_profile(user_id: Id, update: AgentProfileUpdate) -> Result<AgentProfile, AppError> {
    let user = context::user().await?;
    context::services()?.set_agent_profile(&user, user_id, update).await
}

#[server(prefix = "/rpc")]
pub async fn team_workload(team_id: Id) -> Result<Workload, AppError> {
    let user = context::user().await?;
    context::services()?.workload(&user, team_id).await
}

#[server(prefix = "/rpc")]
pub async fn claim_conversation(conversation_id: Id) -> Result<crate::model::Conversation, AppError> {
    let user = context::user().await?;
    context::services()?.claim(&user, conversation_id).await
}

#[server(prefix = "/rpc")]
pub async fn transfer_conversation(request: TransferRequest) -> Result<crate::model::Conversation, AppError> {
    let user = context::user().await?;
    context::services()?.transfer(&user, request).await
}

#[server(prefix = "/rpc")]
pub async fn set_my_status(status: AgentStatus) -> Result<PresenceEntry, AppError> {
    let user = context::user().await?;
    context::services()?.set_agent_status(&user, user.id, status).await
}

#[server(prefix = "/rpc")]
pub async fn set_conversation_routing(
    conversation_id: Id,
    update: RoutingUpdate,
) -> Result<crate::model::Conversation, AppError> {
    let user = context::user().await?;
    context::services()?
        .set_conversation_routing(&user, conversation_id, update)
        .await
}

#[server(prefix = "/rpc")]
pub async fn get_channel_routing(channel_id: Id) -> Result<ChannelRouting, AppError> {
    let user = context::user().await?;
    context::services()?.channel_routing(&user, channel_id).await
}

#[server(prefix = "/rpc")]
pub async fn save_channel_routing(channel_id: Id, routing: ChannelRouting) -> Result<ChannelRouting, AppError> {
    let user = context::user().await?;
    context::services()?
        .set_channel_routing(&user, channel_id, routing)
        .await
}

#[server(prefix = "/rpc")]
pub async fn team_presence(team_id: Id) -> Result<Vec<PresenceEntry>, AppError> {
    let user = context::user().await?;
    context::services()?.team_presence(&user, team_id).await
}

/// Where a waiting conversation stands in its team's queue (1 = next) and since when.
#[server(prefix = "/rpc")]
pub async fn queue_position(conversation_id: Id) -> Result<Option<(usize, Millis)>, AppError> {
    let user = context::user().await?;
    let services = context::services()?;
    services
        .store
        .conversation(user.organization_id, conversation_id)
        .await?;
    Ok(services.queue_position(&user, conversation_id).await)
}

#[server(prefix = "/rpc")]
pub async fn bulk_assign_conversations(request: BulkAssignRequest) -> Result<BulkResult, AppError> {
    let user = context::user().await?;
    context::services()?.bulk_assign(&user, request).await
}
