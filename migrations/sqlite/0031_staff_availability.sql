-- Staff availability (docs/LIVE.md, "Availability"): when a person was
-- last seen (a tab's socket re-checked, or they acted), when their current
-- stretch online began, and since when they said they are away.
ALTER TABLE users ADD COLUMN last_seen_at TEXT;
ALTER TABLE users ADD COLUMN online_since TEXT;
ALTER TABLE users ADD COLUMN away_since TEXT;

-- "Breaches today" on the manager's pulse counts an organization's
-- breaches since a time.
CREATE INDEX ticket_sla_breaches_by_org_time ON ticket_sla_breaches (organization_id, breached_at);
