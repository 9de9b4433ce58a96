-- Typed domain events with a per-organization sequence, subscribers that
-- keep their own position, and a durable job table (platform part 1).
--
-- Enum-like columns added from here on (jobs.status) are validated in Rust,
-- not by CHECK lists: extending a CHECK on SQLite means rebuilding the table.

-- Each organization's events are numbered 1, 2, 3… in commit order: the
-- counter row is locked from the event's insert to the commit.
ALTER TABLE outbox ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET seq = numbered.n FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY organization_id ORDER BY created_at, id) AS n FROM outbox
) AS numbered WHERE numbered.id = outbox.id;
CREATE UNIQUE INDEX outbox_org_seq ON outbox (organization_id, seq);
DROP INDEX outbox_unpublished;
DROP INDEX outbox_topic_time;
ALTER TABLE outbox DROP COLUMN published_at;
CREATE INDEX outbox_time ON outbox (created_at);

CREATE TABLE event_counters (
    organization_id  BLOB PRIMARY KEY NOT NULL REFERENCES organizations(id),
    last_seq         INTEGER NOT NULL
);
INSERT INTO event_counters (organization_id, last_seq)
    SELECT organization_id, MAX(seq) FROM outbox GROUP BY organization_id;

-- Where each subscriber is in each organization's sequence. A subscriber
-- seen for the first time starts at the present (it does not act on
-- history); an organization created later starts at 0.
CREATE TABLE event_subscribers (
    name        TEXT PRIMARY KEY NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE event_positions (
    subscriber       TEXT NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    seq              INTEGER NOT NULL,
    PRIMARY KEY (subscriber, organization_id)
);
-- The subscribers of earlier builds carry on after what exists now.
INSERT INTO event_subscribers (name, created_at)
    SELECT subscriber, MAX(event_created_at) FROM outbox_handled GROUP BY subscriber;
INSERT INTO event_positions (subscriber, organization_id, seq)
    SELECT s.name, c.organization_id, c.last_seq FROM event_subscribers s CROSS JOIN event_counters c;
DROP TABLE outbox_handled;

-- Events a subscriber failed on: retried with backoff, then parked (shown
-- to admins and in /metrics) while the subscriber goes on with the rest.
CREATE TABLE event_retries (
    subscriber       TEXT NOT NULL,
    event_id         BLOB NOT NULL REFERENCES outbox(id),
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT NOT NULL,
    parked_at        TEXT,
    PRIMARY KEY (subscriber, event_id)
);
CREATE INDEX event_retries_due ON event_retries (subscriber, next_attempt_at);

-- Work due at a time. status: queued | running | failed (done jobs are
-- deleted in the transaction of their effects).
CREATE TABLE jobs (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB REFERENCES organizations(id),
    kind             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    -- At most one queued job per key (a recurring job, a re-planned timer).
    unique_key       TEXT UNIQUE,
    status           TEXT NOT NULL,
    run_at           TEXT NOT NULL,
    attempts         INTEGER NOT NULL,
    max_attempts     INTEGER NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
CREATE INDEX jobs_leased ON jobs (status, lease_until);

-- Every queued mail is sent by a `mail.send` job.
INSERT INTO jobs (id, organization_id, kind, payload, unique_key, status, run_at, attempts, max_attempts, created_at, updated_at)
    SELECT id, organization_id, 'mail.send', '{"mail_id":"' || lower(hex(substr(id,1,4))) || '-' || lower(hex(substr(id,5,2))) || '-' || lower(hex(substr(id,7,2))) || '-' || lower(hex(substr(id,9,2))) || '-' || lower(hex(substr(id,11,6))) || '"}',
           NULL, 'queued', next_attempt_at, 0, 1000, created_at, created_at
    FROM outbound_mail WHERE status = 'pending';
