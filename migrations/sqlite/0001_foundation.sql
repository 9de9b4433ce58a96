-- Organizations (tenants), users, sessions and sign-in throttling.
-- Ids are UUIDv7 stored as 16-byte blobs; timestamps are RFC 3339 UTC text.

CREATE TABLE organizations (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations(id),
    email            TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('customer','agent','manager','executive','admin','technician')),
    password_hash    TEXT NOT NULL,
    active           BOOLEAN NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX users_by_org ON users (organization_id, role, name);

-- One row per issued refresh token. A family is one sign-in; rotation adds a
-- row to it. Only SHA-256 hashes are stored.
CREATE TABLE refresh_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    family_id    BLOB NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users(id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    revoked_at   TEXT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

-- Keyed by the normalized email as typed, known or not, so a lock-out never
-- reveals whether an account exists.
CREATE TABLE login_throttle (
    email         TEXT PRIMARY KEY NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  TEXT,
    updated_at    TEXT NOT NULL
);
