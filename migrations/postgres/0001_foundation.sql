-- Organizations (tenants), users, sessions and sign-in throttling.

CREATE TABLE organizations (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('customer','agent','manager','executive','admin','technician')),
    password_hash    TEXT NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_by_org ON users (organization_id, role, name);

-- One row per issued refresh token. A family is one sign-in; rotation adds a
-- row to it. Only SHA-256 hashes are stored.
CREATE TABLE refresh_tokens (
    id           UUID PRIMARY KEY,
    family_id    UUID NOT NULL,
    user_id      UUID NOT NULL REFERENCES users(id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- Keyed by the normalized email as typed, known or not, so a lock-out never
-- reveals whether an account exists.
CREATE TABLE login_throttle (
    email         TEXT PRIMARY KEY,
    failures      INTEGER NOT NULL,
    locked_until  TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL
);
