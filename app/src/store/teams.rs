//! Teams, their agents, and what routing knows of each agent (own capacity, skills,
//! seniority), plus where each channel's new conversations go. Settings, not inbox activity:
//! nothing here is logged as an event; the caller tells the router to reload.

use super::backend::{Backend, SqlStore};
use super::conversations::skills_from_json;
use super::sql::{Conn, json_text, map_unique, parse};
use super::{StoreError, StoreResult, now_millis};
use crate::model::Id;
use crate::team::{AgentProfile, AgentProfileUpdate, ChannelRouting, Team, TeamDraft, TeamMember};
use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

#[async_trait]
pub trait TeamStore: Send + Sync {
    /// The organization's teams with their agents, by name.
    async fn teams(&self, org_id: Id) -> StoreResult<Vec<Team>>;
    async fn team(&self, org_id: Id, team_id: Id) -> StoreResult<Team>;
    /// Creates a team (its name unique in the organization) with the members named, who
    /// must be the organization's.
    async fn create_team(&self, org_id: Id, draft: &TeamDraft) -> StoreResult<Team>;
    async fn update_team(&self, org_id: Id, team_id: Id, draft: &TeamDraft) -> StoreResult<Team>;
    /// Removes the team; its conversations and channels stay, in no team.
    async fn delete_team(&self, org_id: Id, team_id: Id) -> StoreResult<()>;
    /// Every member of the organization with their routing profile.
    async fn agent_profiles(&self, org_id: Id) -> StoreResult<Vec<AgentProfile>>;
    async fn set_agent_profile(
        &self,
        org_id: Id,
        user_id: Id,
        update: &AgentProfileUpdate,
    ) -> StoreResult<AgentProfile>;
    /// Points a channel's new conversations at a team (or none), asking for skills.
    async fn set_channel_routing(&self, org_id: Id, channel_id: Id, routing: &ChannelRouting) -> StoreResult<()>;
    async fn channel_routing(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRouting>;
}

const TEAM_SELECT: &str = "SELECT id, name, strategy, capacity, skill_fallback_secs, ownership_timeout_secs, \
    release_on_away, created_at FROM teams";

fn team_from_row(row: &AnyRow) -> StoreResult<Team> {
    Ok(Team {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        strategy: parse(&row.try_get::<String, _>("strategy")?, "routing strategy")?,
        capacity: row.try_get("capacity")?,
        skill_fallback_secs: row.try_get("skill_fallback_secs")?,
        ownership_timeout_secs: row.try_get("ownership_timeout_secs")?,
        release_on_away: row.try_get::<i64, _>("release_on_away")? != 0,
        members: Vec::new(),
        created_at: row.try_get("created_at")?,
    })
}

async fn members_of(conn: &mut Conn, team_id: Id) -> StoreResult<Vec<TeamMember>> {
    let rows = sqlx::query(
        "SELECT u.id, u.name FROM team_members tm JOIN users u ON u.id = tm.user_id \
         WHERE tm.team_id = $1 ORDER BY u.name, u.id",
    )
    .bind(team_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TeamMember {
                user_id: row.try_get("id")?,
                name: row.try_get("name")?,
            })
        })
        .collect()
}

async fn team_in(conn: &mut Conn, org_id: Id, team_id: Id) -> StoreResult<Team> {
    let sql = format!("{TEAM_SELECT} WHERE organization_id = $1 AND id = $2");
    let row = sqlx::query(&sql)
        .bind(org_id)
        .bind(team_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut team = team_from_row(&row)?;
    team.members = members_of(conn, team.id).await?;
    Ok(team)
}

/// Replaces a team's members; each must belong to the organization.
async fn replace_members(conn: &mut Conn, org_id: Id, team_id: Id, user_ids: &[Id]) -> StoreResult<()> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(team_id)
        .execute(&mut *conn)
        .await?;
    let now = now_millis();
    for &user_id in user_ids {
        let added = sqlx::query(
            "INSERT INTO team_members (team_id, user_id, organization_id, created_at) \
             SELECT $1, m.user_id, m.organization_id, $2 FROM memberships m \
             WHERE m.organization_id = $3 AND m.user_id = $4 ON CONFLICT DO NOTHING",
        )
        .bind(team_id)
        .bind(now)
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
        if added.rows_affected() == 0 {
            let known: Option<Id> =
                sqlx::query_scalar("SELECT user_id FROM team_members WHERE team_id = $1 AND user_id = $2")
                    .bind(team_id)
                    .bind(user_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if known.is_none() {
                return Err(StoreError::Invalid(format!(
                    "no such agent in this organization: {user_id}"
                )));
            }
        }
    }
    Ok(())
}

async fn profile_in(conn: &mut Conn, org_id: Id, user_id: Option<Id>) -> StoreResult<Vec<AgentProfile>> {
    let sql = format!(
        "SELECT u.id, u.name, m.role, m.capacity, m.skills, m.senior FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organization_id = $1{} ORDER BY u.name, u.id",
        if user_id.is_some() { " AND u.id = $2" } else { "" }
    );
    let mut query = sqlx::query(&sql).bind(org_id);
    if let Some(user_id) = user_id {
        query = query.bind(user_id);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut teams_of = std::collections::HashMap::<Id, Vec<Id>>::new();
    let memberships =
        sqlx::query("SELECT user_id, team_id FROM team_members WHERE organization_id = $1 ORDER BY team_id")
            .bind(org_id)
            .fetch_all(&mut *conn)
            .await?;
    for row in &memberships {
        teams_of
            .entry(row.try_get("user_id")?)
            .or_default()
            .push(row.try_get("team_id")?);
    }
    rows.iter()
        .map(|row| {
            let id: Id = row.try_get("id")?;
            Ok(AgentProfile {
                user_id: id,
                name: row.try_get("name")?,
                role: parse(&row.try_get::<String, _>("role")?, "role")?,
                capacity: row.try_get("capacity")?,
                skills: skills_from_json(&row.try_get::<String, _>("skills")?),
                senior: row.try_get::<i64, _>("senior")? != 0,
                team_ids: teams_of.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

#[async_trait]
impl<B: Backend> TeamStore for SqlStore<B> {
    async fn teams(&self, org_id: Id) -> StoreResult<Vec<Team>> {
        let mut conn = self.reader.acquire().await?;
        let sql = format!("{TEAM_SELECT} WHERE organization_id = $1 ORDER BY name, id");
        let rows = sqlx::query(&sql).bind(org_id).fetch_all(&mut *conn).await?;
        let mut teams = rows.iter().map(team_from_row).collect::<StoreResult<Vec<_>>>()?;
        for team in &mut teams {
            team.members = members_of(&mut conn, team.id).await?;
        }
        Ok(teams)
    }

    async fn team(&self, org_id: Id, team_id: Id) -> StoreResult<Team> {
        let mut conn = self.reader.acquire().await?;
        team_in(&mut conn, org_id, team_id).await
    }

    async fn create_team(&self, org_id: Id, draft: &TeamDraft) -> StoreResult<Team> {
        let mut tx = self.writer.begin().await?;
        let id: Id = sqlx::query_scalar(
            "INSERT INTO teams (organization_id, name, strategy, capacity, skill_fallback_secs, ownership_timeout_secs, \
             release_on_away, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(org_id)
        .bind(draft.name.trim())
        .bind(draft.strategy.as_str())
        .bind(draft.capacity)
        .bind(draft.skill_fallback_secs)
        .bind(draft.ownership_timeout_secs)
        .bind(i64::from(draft.release_on_away))
        .bind(now_millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_unique(e, "a team with this name already exists"))?;
        replace_members(&mut tx, org_id, id, draft.members.as_deref().unwrap_or_default()).await?;
        let team = team_in(&mut tx, org_id, id).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn update_team(&self, org_id: Id, team_id: Id, draft: &TeamDraft) -> StoreResult<Team> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(
            "UPDATE teams SET name = $1, strategy = $2, capacity = $3, skill_fallback_secs = $4, \
             ownership_timeout_secs = $5, release_on_away = $6 WHERE organization_id = $7 AND id = $8",
        )
        .bind(draft.name.trim())
        .bind(draft.strategy.as_str())
        .bind(draft.capacity)
        .bind(draft.skill_fallback_secs)
        .bind(draft.ownership_timeout_secs)
        .bind(i64::from(draft.release_on_away))
        .bind(org_id)
        .bind(team_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| map_unique(e, "a team with this name already exists"))?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some(members) = &draft.members {
            replace_members(&mut tx, org_id, team_id, members).await?;
        }
        if draft.ownership_timeout_secs.is_none() {
            // The reply timer is off: deadlines already running stop too.
            sqlx::query("UPDATE conversations SET reply_due_at = NULL WHERE organization_id = $1 AND team_id = $2")
                .bind(org_id)
                .bind(team_id)
                .execute(&mut *tx)
                .await?;
        }
        let team = team_in(&mut tx, org_id, team_id).await?;
        tx.commit().await?;
        Ok(team)
    }

    async fn delete_team(&self, org_id: Id, team_id: Id) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        // Conversations leave the queue with the team (ON DELETE SET NULL clears team_id).
        sqlx::query("UPDATE conversations SET queued_at = NULL WHERE organization_id = $1 AND team_id = $2")
            .bind(org_id)
            .bind(team_id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM teams WHERE organization_id = $1 AND id = $2")
            .bind(org_id)
            .bind(team_id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn agent_profiles(&self, org_id: Id) -> StoreResult<Vec<AgentProfile>> {
        let mut conn = self.reader.acquire().await?;
        profile_in(&mut conn, org_id, None).await
    }

    async fn set_agent_profile(
        &self,
        org_id: Id,
        user_id: Id,
        update: &AgentProfileUpdate,
    ) -> StoreResult<AgentProfile> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(
            "UPDATE memberships SET capacity = $1, skills = $2, senior = $3 WHERE organization_id = $4 AND user_id = $5",
        )
        .bind(update.capacity)
        .bind(json_text(&update.skills, "[]"))
        .bind(i64::from(update.senior))
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let profile = profile_in(&mut tx, org_id, Some(user_id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(profile)
    }

    async fn set_channel_routing(&self, org_id: Id, channel_id: Id, routing: &ChannelRouting) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        if let Some(team_id) = routing.team_id {
            team_in(&mut tx, org_id, team_id).await.map_err(|e| match e {
                StoreError::NotFound => StoreError::Invalid("no such team in this organization".into()),
                other => other,
            })?;
        }
        let changed = sqlx::query(
            "UPDATE channels SET team_id = $1, required_skills = $2 WHERE organization_id = $3 AND id = $4",
        )
        .bind(routing.team_id)
        .bind(json_text(&routing.required_skills, "[]"))
        .bind(org_id)
        .bind(channel_id)
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn channel_routing(&self, org_id: Id, channel_id: Id) -> StoreResult<ChannelRouting> {
        let row = sqlx::query("SELECT team_id, required_skills FROM channels WHERE organization_id = $1 AND id = $2")
            .bind(org_id)
            .bind(channel_id)
            .fetch_optional(&self.reader)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(ChannelRouting {
            team_id: row.try_get("team_id")?,
            required_skills: skills_from_json(&row.try_get::<String, _>("required_skills")?),
        })
    }
}
