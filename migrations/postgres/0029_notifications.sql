-- Notifications across a ticket's life (issue 13).
--
-- Mail templates: a row only where an administrator changed the default
-- text (the defaults live in code, `engine::notify`); deleting the row
-- restores the default. `template_key` is validated in Rust
-- (`MailTemplateKey`), so a new template needs no table rebuild.
CREATE TABLE mail_templates (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    template_key     TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    updated_by       UUID REFERENCES users(id),
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX mail_templates_by_key ON mail_templates (organization_id, template_key);

-- Threading headers of ticket mail: its own Message-ID, and the ticket's
-- root id (`<ticket-{uuid}@host>`) as In-Reply-To and References, so mail
-- clients (and, later, inbound mail) keep a ticket's mails together.
ALTER TABLE outbound_mail ADD COLUMN message_id TEXT;
ALTER TABLE outbound_mail ADD COLUMN in_reply_to TEXT;
ALTER TABLE outbound_mail ADD COLUMN mail_references TEXT;

-- The in-app notification centre: one row per recipient and happening.
-- `kind` is validated in Rust (`NotificationKind`). ticket_id has no
-- foreign key: a notification may outlive its ticket.
CREATE TABLE notifications (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    user_id          UUID NOT NULL REFERENCES users(id),
    kind             TEXT NOT NULL,
    ticket_id        UUID,
    ticket_number    TEXT,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    read_at          TIMESTAMPTZ
);
-- A person's list, newest first (keyset on created_at, id), and their unread count.
CREATE INDEX notifications_by_user ON notifications (user_id, created_at, id);
CREATE INDEX notifications_unread ON notifications (user_id, created_at) WHERE read_at IS NULL;

-- Per person and kind: by mail, in the app. No row: the default in code.
CREATE TABLE notification_preferences (
    user_id  UUID NOT NULL REFERENCES users(id),
    kind     TEXT NOT NULL,
    email    BOOLEAN NOT NULL,
    in_app   BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, kind)
);
