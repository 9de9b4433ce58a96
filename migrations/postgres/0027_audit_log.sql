-- One audit log for everything an organization owns (platform part 2):
-- tickets, users, desk settings, and later work orders and service
-- reports. A row is one changed field (or one action: a sign-in, a file
-- added) of one owner, with who did it, through what and from where.
--
-- owner_type and source are validated in Rust (`OwnerType`, `Source`), so
-- new kinds of owner need no table rebuild. organization_id and owner_id
-- are NULL only for a failed sign-in with an email that is no account: it
-- belongs to no organization (no admin sees it; it is kept for the
-- operator). owner_id has no foreign key: it names a row of the table its
-- owner_type stands for.
CREATE TABLE audit_log (
    id               UUID PRIMARY KEY,
    organization_id  UUID REFERENCES organizations(id),
    owner_type       TEXT NOT NULL,
    owner_id         UUID,
    -- NULL: the system (rules, SLA, imports of unknown people), or nobody
    -- signed in (a failed sign-in).
    actor_id         UUID REFERENCES users(id),
    source           TEXT NOT NULL,
    field            TEXT NOT NULL,
    old_value        TEXT,
    new_value        TEXT,
    ip               TEXT,
    user_agent       TEXT,
    created_at       TIMESTAMPTZ NOT NULL
);

-- Every ticket's trail moves over unchanged (same ids and times).
INSERT INTO audit_log (id, organization_id, owner_type, owner_id, actor_id, source, field,
                       old_value, new_value, ip, user_agent, created_at)
    SELECT id, organization_id, 'ticket', ticket_id, actor_id, source, field,
           old_value, new_value, NULL, NULL, created_at
    FROM ticket_events;
DROP TABLE ticket_events;

-- One owner's trail (the ticket page), the organization's log newest first
-- (GET /api/v1/audit, keyset on created_at, id), and one person's actions.
CREATE INDEX audit_log_by_owner ON audit_log (owner_type, owner_id, created_at, id);
CREATE INDEX audit_log_by_org ON audit_log (organization_id, created_at, id);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, created_at, id) WHERE actor_id IS NOT NULL;

-- Attachments are keyed by owner the same way: a ticket's files have
-- owner_type 'ticket' and owner_id the ticket's id (what ticket_id was).
-- The column loses its foreign key to tickets: owner_id names a row of the
-- table its owner_type stands for.
ALTER TABLE attachments ADD COLUMN owner_type TEXT NOT NULL DEFAULT 'ticket';
ALTER TABLE attachments ALTER COLUMN owner_type DROP DEFAULT;
ALTER TABLE attachments RENAME COLUMN ticket_id TO owner_id;
ALTER TABLE attachments DROP CONSTRAINT attachments_ticket_id_fkey;
DROP INDEX attachments_by_ticket;
CREATE INDEX attachments_by_owner ON attachments (owner_type, owner_id, created_at);
