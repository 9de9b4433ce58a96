-- Files on tickets. The bytes live in the attachment store (local disk under
-- the data dir by default); this table holds what we sniffed and who may see it.
CREATE TABLE attachments (
    id               UUID PRIMARY KEY,
    organization_id  UUID NOT NULL REFERENCES organizations(id),
    ticket_id        UUID NOT NULL REFERENCES tickets(id),
    uploader_id      UUID REFERENCES users(id),
    filename         TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             BIGINT NOT NULL,
    -- Internal attachments (on staff notes) are never shown to customers.
    public           BOOLEAN NOT NULL,
    storage_key      TEXT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_by_ticket ON attachments (ticket_id, created_at);
