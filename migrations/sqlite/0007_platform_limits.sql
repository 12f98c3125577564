-- A platform that says "not now" (Telegram's 429 with retry_after, Twilio's 20429) puts the
-- reply back in the outbox until this time, rather than failing it.
ALTER TABLE messages ADD COLUMN send_after INTEGER;
-- Why this customer cannot be reached on this channel (they blocked the bot, replied STOP),
-- shown on the contact and above the composer; cleared when they write again.
ALTER TABLE contact_identities ADD COLUMN unreachable TEXT;
