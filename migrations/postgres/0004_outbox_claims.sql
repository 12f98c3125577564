-- When the outbox claimed a message for sending. A message still `sending` long after its
-- claim was cut off mid-send (the process died before recording the platform's answer);
-- the outbox worker recovers it. The index keeps that periodic check cheap.
ALTER TABLE messages ADD COLUMN claimed_at BIGINT;
CREATE INDEX messages_sending ON messages(claimed_at) WHERE status = 'sending';
