-- Tickets, their conversation, the audit trail, and the outbox of domain
-- events that later features (SLA, rules, live updates) subscribe to.

CREATE TABLE ticket_counters (
    organization_id  BLOB PRIMARY KEY NOT NULL REFERENCES organizations(id),
    last_number      INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                 BLOB PRIMARY KEY NOT NULL,
    organization_id    BLOB NOT NULL REFERENCES organizations(id),
    number             INTEGER NOT NULL,
    subject            TEXT NOT NULL,
    description        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('new','open','pending','on_hold','resolved','closed')),
    priority           TEXT NOT NULL CHECK (priority IN ('low','medium','high','urgent')),
    channel            TEXT NOT NULL CHECK (channel IN ('web','portal','email','whatsapp','sms','phone','api')),
    requester_id       BLOB NOT NULL REFERENCES users(id),
    assignee_id        BLOB REFERENCES users(id),
    tags               TEXT NOT NULL DEFAULT '',
    first_response_at  TEXT,
    resolved_at        TEXT,
    closed_at          TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deleted_at         TEXT,
    -- Bumped by every change: optimistic concurrency without row locks.
    version            BIGINT NOT NULL DEFAULT 0,
    UNIQUE (organization_id, number)
);
-- Queue views: filter by status/assignee, newest first, keyset on (created_at, id).
CREATE INDEX tickets_queue ON tickets (organization_id, status, created_at DESC, id DESC);
CREATE INDEX tickets_by_assignee ON tickets (organization_id, assignee_id, status, created_at DESC);
CREATE INDEX tickets_by_requester ON tickets (organization_id, requester_id, created_at DESC);

CREATE TABLE ticket_comments (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    ticket_id        BLOB NOT NULL REFERENCES tickets(id),
    author_id        BLOB NOT NULL REFERENCES users(id),
    body             TEXT NOT NULL,
    public           BOOLEAN NOT NULL,
    created_at       TEXT NOT NULL
);
CREATE INDEX ticket_comments_by_ticket ON ticket_comments (ticket_id, created_at);

-- Who changed what, when, from where: one row per changed field.
CREATE TABLE ticket_events (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    ticket_id        BLOB NOT NULL REFERENCES tickets(id),
    actor_id         BLOB REFERENCES users(id),
    source           TEXT NOT NULL CHECK (source IN ('ui','api','rule','email','import')),
    field            TEXT NOT NULL,
    old_value        TEXT,
    new_value        TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX ticket_events_by_ticket ON ticket_events (ticket_id, created_at);

-- Domain events written in the same transaction as the change they describe.
CREATE TABLE outbox (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    topic            TEXT NOT NULL,
    aggregate_id     BLOB NOT NULL,
    payload          TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    published_at     TEXT
);
CREATE INDEX outbox_unpublished ON outbox (published_at, created_at);
