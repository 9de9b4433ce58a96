-- Security fixes to sessions and sign-in (platform part 2).

-- Which kind of client each refresh token was handed to ('api_client' or
-- 'browser', validated in Rust): only a browser's own cookie gets the grace
-- window for parallel requests, so an API client's token is single-use
-- however it is presented. Tokens issued before this migration are taken
-- strictly; a browser that races on one just signs in again.
ALTER TABLE refresh_tokens ADD COLUMN issued_to TEXT NOT NULL DEFAULT 'api_client';

-- Failed sign-ins are counted per account AND source (the client's address,
-- an IPv6 client's /64), so nobody can keep someone else's account locked
-- from elsewhere. The key changes, so the table is made anew: running
-- counts and locks (15 minutes at most) start over.
DROP TABLE login_throttle;
CREATE TABLE login_throttle (
    email         TEXT NOT NULL,
    source        TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    locked_until  TIMESTAMPTZ,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (email, source)
);
