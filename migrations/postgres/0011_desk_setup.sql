-- How an organization's desk is set up (teams, skills, categories, custom
-- fields, companies, canned responses, saved views) and the ticket fields
-- that refer to it.

CREATE TABLE teams (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    -- How `assign {auto: true}` picks an agent of the team.
    assignment       TEXT NOT NULL DEFAULT 'round_robin' CHECK (assignment IN ('round_robin','least_loaded','skills')),
    -- Round-robin position: the member who got the last ticket.
    last_assignee_id UUID REFERENCES users(id),
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX teams_name ON teams (organization_id, lower(name));

CREATE TABLE team_members (
    team_id          UUID NOT NULL REFERENCES teams(id),
    user_id          UUID NOT NULL REFERENCES users(id),
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_by_user ON team_members (user_id);

CREATE TABLE skills (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL
);
CREATE UNIQUE INDEX skills_name ON skills (organization_id, lower(name));

CREATE TABLE agent_skills (
    user_id          UUID NOT NULL REFERENCES users(id),
    skill_id         UUID NOT NULL REFERENCES skills(id),
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    proficiency      INTEGER NOT NULL CHECK (proficiency BETWEEN 1 AND 5),
    PRIMARY KEY (user_id, skill_id)
);

CREATE TABLE categories (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    -- Where tickets of this category go, and what skill they need.
    team_id          UUID REFERENCES teams(id),
    skill_id         UUID REFERENCES skills(id),
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX categories_name ON categories (organization_id, lower(name));

CREATE TABLE custom_fields (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    key              TEXT NOT NULL,
    label            TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('text','number','date','select','multi_select','checkbox')),
    -- JSON array of the choices for select and multi_select.
    options          JSONB NOT NULL DEFAULT '[]',
    required         BOOLEAN NOT NULL DEFAULT FALSE,
    customer_visible BOOLEAN NOT NULL DEFAULT FALSE,
    position         INTEGER NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, key)
);

CREATE TABLE companies (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    name             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX companies_name ON companies (organization_id, lower(name));
ALTER TABLE users ADD COLUMN company_id UUID REFERENCES companies(id);

ALTER TABLE tickets ADD COLUMN severity TEXT CHECK (severity IN ('critical','major','minor','cosmetic'));
ALTER TABLE tickets ADD COLUMN category_id UUID REFERENCES categories(id);
ALTER TABLE tickets ADD COLUMN team_id UUID REFERENCES teams(id);
ALTER TABLE tickets ADD COLUMN company_id UUID REFERENCES companies(id);
-- JSON object: custom field key -> value.
ALTER TABLE tickets ADD COLUMN custom_fields JSONB NOT NULL DEFAULT '{}';
CREATE INDEX tickets_by_team ON tickets (organization_id, team_id, created_at DESC) WHERE deleted_at IS NULL;
CREATE INDEX tickets_by_category ON tickets (organization_id, category_id, created_at DESC) WHERE deleted_at IS NULL;

-- A manager's rating of how an agent handled a ticket (performance reports).
CREATE TABLE agent_ratings (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    ticket_id        UUID NOT NULL REFERENCES tickets(id),
    agent_id         UUID NOT NULL REFERENCES users(id),
    rated_by         UUID NOT NULL REFERENCES users(id),
    score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment          TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (ticket_id, agent_id)
);
CREATE INDEX agent_ratings_by_agent ON agent_ratings (organization_id, agent_id, created_at);

CREATE TABLE canned_responses (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX canned_responses_title ON canned_responses (organization_id, lower(title));

-- A queue someone saved: a name and the query string of its filters.
CREATE TABLE saved_views (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    owner_id         UUID NOT NULL REFERENCES users(id),
    name             TEXT NOT NULL,
    query            TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX saved_views_by_owner ON saved_views (owner_id, name);

-- "Recently updated" pages (sort=-updated_at) without sorting.
CREATE INDEX tickets_live_by_update ON tickets (organization_id, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
