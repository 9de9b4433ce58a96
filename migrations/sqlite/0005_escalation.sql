-- Escalation to a manager, with the reason given.
ALTER TABLE tickets ADD COLUMN escalated_at TEXT;
ALTER TABLE tickets ADD COLUMN escalation_reason TEXT;
CREATE INDEX tickets_escalated ON tickets (organization_id, escalated_at) WHERE escalated_at IS NOT NULL;
