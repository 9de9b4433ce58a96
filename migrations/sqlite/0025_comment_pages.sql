-- A ticket's conversation is read a page at a time, newest first, keyset on
-- (created_at, id): the index covers the whole key, so a page deep in a long
-- conversation costs the same as the first (the old index stopped at
-- created_at and was a prefix of this one).
DROP INDEX ticket_comments_by_ticket;
CREATE INDEX ticket_comments_page ON ticket_comments (ticket_id, created_at, id);

-- The message rendered to safe HTML (Markdown, then ammonia's allow-list),
-- stored when it is written so reads do not render it again. NULL for
-- messages written before this migration: the rendering is Rust code, so the
-- first read renders and saves them.
ALTER TABLE ticket_comments ADD COLUMN body_html TEXT;
