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
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB REFERENCES organizations(id),
    owner_type       TEXT NOT NULL,
    owner_id         BLOB,
    -- NULL: the system (rules, SLA, imports of unknown people), or nobody
    -- signed in (a failed sign-in).
    actor_id         BLOB REFERENCES users(id),
    source           TEXT NOT NULL,
    field            TEXT NOT NULL,
    old_value        TEXT,
    new_value        TEXT,
    ip               TEXT,
    user_agent       TEXT,
    created_at       TEXT NOT NULL
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
-- SQLite cannot drop a NOT NULL column with a foreign key in place, so the
-- table is built anew and the rows copied (nothing references it).
CREATE TABLE attachments_new (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    owner_type       TEXT NOT NULL,
    owner_id         BLOB NOT NULL,
    uploader_id      BLOB REFERENCES users(id),
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    -- Internal attachments (on staff notes) are never shown to customers.
    public           BOOLEAN NOT NULL,
    storage_key      TEXT NOT NULL,
    created_at       TEXT NOT NULL
);
INSERT INTO attachments_new (id, organization_id, owner_type, owner_id, uploader_id, filename,
                             content_type, size, public, storage_key, created_at)
    SELECT id, organization_id, 'ticket', ticket_id, uploader_id, filename,
           content_type, size, public, storage_key, created_at
    FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_by_owner ON attachments (owner_type, owner_id, created_at);
