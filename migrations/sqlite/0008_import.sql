-- Tickets imported from another help desk keep their id there, so a second
-- import of the same ticket updates it instead of duplicating it.
ALTER TABLE tickets ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX tickets_by_external_id ON tickets (organization_id, external_id)
    WHERE external_id IS NOT NULL AND deleted_at IS NULL;
