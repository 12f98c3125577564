-- A per-channel webhook route (`/api/webhooks/{kind}/{key}`) names its channel by this
-- random key, for platforms whose deliveries do not say which account they are for
-- (Telegram) or that sign the exact URL they call (Twilio). It routes; it is not a secret:
-- each platform's own signature or secret is still checked.
ALTER TABLE channels ADD COLUMN webhook_key TEXT;
UPDATE channels SET webhook_key = md5(random()::text || clock_timestamp()::text || id::text);
CREATE UNIQUE INDEX channels_webhook_key ON channels(webhook_key);
