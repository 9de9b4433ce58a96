-- Outbound mail is written to the database before anything tries to send
-- it (in the transaction of whatever caused it); the mail worker sends due
-- rows and retries with backoff, so a mail server that is down loses nothing.
CREATE TABLE outbound_mail (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending','sent','failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    sent_at          TIMESTAMPTZ
);
CREATE INDEX outbound_mail_due ON outbound_mail (status, next_attempt_at);

-- Outbox events a subscriber has dealt with; each subscriber keeps its own.
CREATE TABLE outbox_handled (
    subscriber        TEXT NOT NULL,
    event_id          UUID NOT NULL REFERENCES outbox(id),
    event_created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subscriber, event_id)
);
CREATE INDEX outbox_handled_latest ON outbox_handled (subscriber, event_created_at);
CREATE INDEX outbox_topic_time ON outbox (topic, created_at);
