-- The ticket indexes in ascending order. SQLite reads an index backwards as
-- cheaply as forwards, so DESC bought nothing for "newest first"; but it put
-- every new ticket (and every update, for updated_at) at the left edge of
-- the B-tree, where SQLite rebalances a full leaf with its siblings instead
-- of starting a fresh page as it does at the right edge. Each such index
-- then rewrote ~3 pages per ticket: about half of what a new ticket wrote
-- to the WAL (docs/PERFORMANCE.md).
DROP INDEX tickets_queue;
CREATE INDEX tickets_queue ON tickets (organization_id, status, created_at, id);
DROP INDEX tickets_by_assignee;
CREATE INDEX tickets_by_assignee ON tickets (organization_id, assignee_id, status, created_at);
DROP INDEX tickets_by_requester;
CREATE INDEX tickets_by_requester ON tickets (organization_id, requester_id, created_at);
DROP INDEX tickets_open_by_time;
CREATE INDEX tickets_open_by_time ON tickets (organization_id, created_at, id)
    WHERE deleted_at IS NULL AND status IN ('new', 'open', 'pending', 'on_hold');
DROP INDEX tickets_live_by_time;
CREATE INDEX tickets_live_by_time ON tickets (organization_id, created_at, id)
    WHERE deleted_at IS NULL;
DROP INDEX tickets_by_team;
CREATE INDEX tickets_by_team ON tickets (organization_id, team_id, created_at) WHERE deleted_at IS NULL;
DROP INDEX tickets_by_category;
CREATE INDEX tickets_by_category ON tickets (organization_id, category_id, created_at) WHERE deleted_at IS NULL;
DROP INDEX tickets_live_by_update;
CREATE INDEX tickets_live_by_update ON tickets (organization_id, updated_at, id) WHERE deleted_at IS NULL;
