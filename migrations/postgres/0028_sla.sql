-- Service levels on real tickets (issue 13): business calendars and
-- ordered policies per organization, each ticket's due times (recomputed
-- in the transaction of every change that moves them), and breaches,
-- recorded once.
--
-- hours, holidays and conditions are JSON text in the simulator's shape
-- (checked in Rust by `engine::sla::simulation`, `engine::sla::policy`).

CREATE TABLE sla_calendars (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    -- IANA zone name; NULL only when always open.
    timezone         TEXT,
    always_open      BOOLEAN NOT NULL DEFAULT FALSE,
    -- {"mon": [["08:00","18:00"]], …}
    hours            TEXT NOT NULL DEFAULT '{}',
    -- ["2026-12-24", "12-25", …]
    holidays         TEXT NOT NULL DEFAULT '[]',
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sla_calendars_name ON sla_calendars (organization_id, lower(name));

CREATE TABLE sla_policies (
    id                      UUID PRIMARY KEY,
    organization_id         UUID NOT NULL REFERENCES organizations(id),
    name                    TEXT NOT NULL,
    -- The first active policy (lowest position) whose conditions match applies.
    position                INTEGER NOT NULL,
    active                  BOOLEAN NOT NULL DEFAULT TRUE,
    calendar_id             UUID NOT NULL REFERENCES sla_calendars(id),
    -- {"priority": ["urgent"], "tags": ["vip"], …}: each a list of allowed
    -- values, a missing or empty list allows any.
    conditions              TEXT NOT NULL DEFAULT '{}',
    first_response_minutes  INTEGER,
    next_response_minutes   INTEGER,
    resolution_minutes      INTEGER,
    business_hours          BOOLEAN NOT NULL DEFAULT TRUE,
    warning_percent         INTEGER NOT NULL DEFAULT 75,
    -- On breach: raise the priority to this one, hand the ticket to this team.
    raise_priority          TEXT,
    reassign_team_id        UUID REFERENCES teams(id),
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (organization_id, lower(name));
CREATE INDEX sla_policies_by_org ON sla_policies (organization_id, position);

-- A ticket's SLA as of its last change (or timer): the policy that applied,
-- each pending target's due time, the earliest of them (what queues sort
-- by), when the warning threshold is reached, and 'ok' | 'warning' |
-- 'breached' (NULL: no policy applies). sla_policy_id has no foreign key:
-- a deleted policy's tickets keep their times until re-evaluated.
ALTER TABLE tickets ADD COLUMN sla_policy_id UUID;
ALTER TABLE tickets ADD COLUMN first_response_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN next_response_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN resolution_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sla_due_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sla_warning_at TIMESTAMPTZ;
ALTER TABLE tickets ADD COLUMN sla_state TEXT;
CREATE INDEX tickets_sla_due ON tickets (organization_id, sla_due_at, id);

CREATE TABLE ticket_sla_breaches (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    ticket_id        UUID NOT NULL REFERENCES tickets(id),
    -- first_response | next_response | resolution
    target           TEXT NOT NULL,
    due_at           TIMESTAMPTZ NOT NULL,
    breached_at      TIMESTAMPTZ NOT NULL,
    recorded_at      TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX ticket_sla_breaches_once ON ticket_sla_breaches (ticket_id, target, due_at);
