-- Links between tickets: a merged ticket points at the one it was merged
-- into; a ticket split off another points at its parent.
ALTER TABLE tickets ADD COLUMN merged_into_id BLOB REFERENCES tickets(id);
ALTER TABLE tickets ADD COLUMN parent_id BLOB REFERENCES tickets(id);
CREATE INDEX tickets_by_parent ON tickets (parent_id) WHERE parent_id IS NOT NULL;
