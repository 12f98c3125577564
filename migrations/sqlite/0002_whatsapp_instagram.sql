-- WhatsApp and Instagram: richer messages, early status reports, WhatsApp templates.
ALTER TABLE channels ADD COLUMN parent_account_id TEXT;

ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN reply_to_platform_id TEXT;
ALTER TABLE messages ADD COLUMN reply_to_id INTEGER REFERENCES messages(id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN reactions TEXT NOT NULL DEFAULT '[]';
-- What the adapter needs beyond the text (a template's name, language and parameters).
ALTER TABLE messages ADD COLUMN payload TEXT;

-- A status report for a platform message id we have not recorded yet (the send's answer
-- is still on its way); applied when the id is recorded, so no report is lost.
CREATE TABLE early_statuses (
    channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
    platform_message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    status_rank INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, platform_message_id)
);

CREATE TABLE whatsapp_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    waba_id TEXT NOT NULL,
    platform_template_id TEXT,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,
    status TEXT NOT NULL,
    rejected_reason TEXT,
    content TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (organization_id, waba_id, name, language)
);
CREATE INDEX whatsapp_templates_platform ON whatsapp_templates(waba_id, platform_template_id);
CREATE INDEX whatsapp_templates_review ON whatsapp_templates(status) WHERE status = 'pending';

CREATE TABLE template_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    template_id INTEGER NOT NULL REFERENCES whatsapp_templates(id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX template_usage_template ON template_usage(template_id, created_at);
