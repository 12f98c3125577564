-- Private notes: agents write them inside a conversation for each other; they never reach
-- the customer. A note's mentions are rows of their own, so each mentioned agent keeps it
-- unread until they read it, whatever happens in the conversation afterwards.
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_conversation ON notes(conversation_id, id);

CREATE TABLE note_mentions (
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    organization_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    read_at INTEGER,
    PRIMARY KEY (note_id, user_id)
);
CREATE INDEX note_mentions_user ON note_mentions(user_id, read_at);
