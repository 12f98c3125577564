-- Teams and routing. A team groups agents (an agent may be in several) and routes the
-- conversations of the channels pointed at it by its strategy. Capacity is the most open
-- conversations an agent carries: the team's number unless the agent has their own.
-- Presence is not here: it is ephemeral (memory, or Redis across instances).
CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'round_robin'
        CHECK (strategy IN ('manual', 'round_robin', 'load_balanced', 'skill_based', 'priority')),
    capacity INTEGER NOT NULL DEFAULT 10 CHECK (capacity >= 0),
    -- Skill-based routing gives a conversation to the rest of the team after this wait.
    skill_fallback_secs INTEGER NOT NULL DEFAULT 120 CHECK (skill_fallback_secs >= 0),
    -- An assignee who has not replied within this time loses the conversation; NULL: never.
    ownership_timeout_secs INTEGER CHECK (ownership_timeout_secs > 0),
    -- Whether an agent going away or offline hands their open conversations back (1) or keeps them (0).
    release_on_away INTEGER NOT NULL DEFAULT 1 CHECK (release_on_away IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (organization_id, name)
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

-- What routing knows of an agent: their own capacity (NULL: the team's), skills, seniority.
ALTER TABLE memberships ADD COLUMN capacity INTEGER CHECK (capacity >= 0);
ALTER TABLE memberships ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';
ALTER TABLE memberships ADD COLUMN senior INTEGER NOT NULL DEFAULT 0 CHECK (senior IN (0, 1));

-- A channel routes its new conversations to a team, asking for skills.
ALTER TABLE channels ADD COLUMN team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;
ALTER TABLE channels ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';

ALTER TABLE conversations ADD COLUMN team_id INTEGER REFERENCES teams(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN priority TEXT NOT NULL DEFAULT 'none'
    CHECK (priority IN ('none', 'low', 'medium', 'high', 'urgent'));
ALTER TABLE conversations ADD COLUMN required_skills TEXT NOT NULL DEFAULT '[]';
-- Waiting for routing since (NULL: not waiting).
ALTER TABLE conversations ADD COLUMN queued_at INTEGER;
-- The assignee must reply by then or the conversation goes back to routing (the team's timer).
ALTER TABLE conversations ADD COLUMN reply_due_at INTEGER;

CREATE INDEX conversations_queue ON conversations(organization_id, team_id, queued_at) WHERE queued_at IS NOT NULL;
CREATE INDEX conversations_org_team_activity ON conversations(organization_id, team_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_reply_due ON conversations(reply_due_at) WHERE reply_due_at IS NOT NULL;
