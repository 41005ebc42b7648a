-- HTTP API (issue 6): persisted user statistics. Computing the statistics of a 10,000-item
-- collection takes most of a second, so they are computed when a sync job finishes and after a
-- month swap (shared/queries/user_stats_store.py) and GET /users/{username}/stats reads them.
-- Each row carries the fingerprint of the data it was computed from (row counts and last changes
-- of the user's account rows, the served month's table identity); the endpoint only uses a row
-- whose fingerprint equals the one it reads in its own snapshot, so a stored answer is never
-- stale: any other change makes it compute afresh.
CREATE TABLE account.user_stats (
    username text NOT NULL REFERENCES account.users (username) ON DELETE CASCADE,
    top integer NOT NULL,
    fingerprint text NOT NULL,
    stats jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    compute_ms double precision NOT NULL,
    PRIMARY KEY (username, top)
);
