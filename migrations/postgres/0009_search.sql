-- Full-text search over ticket subjects, descriptions and messages: stored
-- tsvector columns kept up to date by PostgreSQL itself, with GIN indexes.
-- The 'simple' configuration does not stem, so a word matches as written
-- (prefixes included) in any language. Accents are folded with translate()
-- (immutable, no extension needed) using the same table as
-- engine::search::fold_accents, so "cafe" finds "Café" as on SQLite.
ALTER TABLE tickets ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', translate(lower(subject || ' ' || description),
        'àáâãäåāăąçćčďèéêëēėęěğìíîïīįıłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž', 'aaaaaaaaacccdeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz'))) STORED;
CREATE INDEX tickets_search ON tickets USING GIN (search);

ALTER TABLE ticket_comments ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', translate(lower(body),
        'àáâãäåāăąçćčďèéêëēėęěğìíîïīįıłñńňòóôõöøōőŕřśšşťùúûüūůűųýÿźżž', 'aaaaaaaaacccdeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz'))) STORED;
CREATE INDEX ticket_comments_search ON ticket_comments USING GIN (search);
