-- Full-text search over ticket subjects, descriptions and messages (FTS5).
--
-- FTS rows are keyed by search_keys.key, an INTEGER PRIMARY KEY: unlike the
-- implicit rowid of our UUID-keyed tables it never changes (not even on
-- VACUUM), so triggers can always find a row to update.
CREATE TABLE search_keys (
    key      INTEGER PRIMARY KEY,
    item_id  BLOB NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE tickets_fts USING fts5(
    subject, description,
    tokenize = 'unicode61 remove_diacritics 2'
);
-- ticket_id and public are stored, not indexed: they filter matches.
CREATE VIRTUAL TABLE comments_fts USING fts5(
    body, ticket_id UNINDEXED, public UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO search_keys (item_id) VALUES (new.id);
    INSERT INTO tickets_fts (rowid, subject, description)
        VALUES ((SELECT key FROM search_keys WHERE item_id = new.id), new.subject, new.description);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description ON tickets BEGIN
    UPDATE tickets_fts SET subject = new.subject, description = new.description
        WHERE rowid = (SELECT key FROM search_keys WHERE item_id = new.id);
END;

CREATE TRIGGER comments_fts_insert AFTER INSERT ON ticket_comments BEGIN
    INSERT INTO search_keys (item_id) VALUES (new.id);
    INSERT INTO comments_fts (rowid, body, ticket_id, public)
        VALUES ((SELECT key FROM search_keys WHERE item_id = new.id), new.body, new.ticket_id, new.public);
END;
-- Merges and splits move messages between tickets.
CREATE TRIGGER comments_fts_update AFTER UPDATE OF body, ticket_id, public ON ticket_comments BEGIN
    UPDATE comments_fts SET body = new.body, ticket_id = new.ticket_id, public = new.public
        WHERE rowid = (SELECT key FROM search_keys WHERE item_id = new.id);
END;

-- What exists already.
INSERT INTO search_keys (item_id) SELECT id FROM tickets;
INSERT INTO tickets_fts (rowid, subject, description)
    SELECT k.key, t.subject, t.description FROM tickets t JOIN search_keys k ON k.item_id = t.id;
INSERT INTO search_keys (item_id) SELECT id FROM ticket_comments;
INSERT INTO comments_fts (rowid, body, ticket_id, public)
    SELECT k.key, c.body, c.ticket_id, c.public FROM ticket_comments c JOIN search_keys k ON k.item_id = c.id;
