-- Reads at a million messages: every inbox filter walks an index in activity order and stops
-- after one page (the store builds one statement per filter), and a thread pages by message
-- id. The thread's old index ordered by created_at, which no query asks for.
CREATE INDEX conversations_org_status_activity ON conversations(organization_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_org_assignee_activity ON conversations(organization_id, assignee_id, last_message_at DESC, id DESC);
CREATE INDEX conversations_channel_activity ON conversations(channel_id, last_message_at DESC, id DESC);
CREATE INDEX messages_thread ON messages(conversation_id, id);
DROP INDEX messages_conversation;
