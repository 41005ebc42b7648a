-- Pipeline bookkeeping that must be transactional with the loads: which chunks of a month's
-- attempt are loaded, how many each entity has, and whether the month was finalized. The
-- finalize decision locks the month's row, so exactly one loader ever finalizes an attempt.
CREATE SCHEMA IF NOT EXISTS pipeline;

CREATE TABLE pipeline.months (
    dump_date date PRIMARY KEY,
    attempt integer NOT NULL CHECK (attempt >= 1),
    -- {"artists": 12, ...}: set per entity once its split finished and its SHA-256 matched.
    expected_chunks jsonb NOT NULL DEFAULT '{}'::jsonb,
    finalize_state text NOT NULL DEFAULT 'waiting'
        CHECK (finalize_state IN ('waiting', 'succeeded', 'failed')),
    finalize_detail text,
    started_at timestamptz NOT NULL DEFAULT now(),
    finalized_at timestamptz
);

CREATE TABLE pipeline.loaded_chunks (
    dump_date date NOT NULL,
    attempt integer NOT NULL,
    entity text NOT NULL,
    sequence integer NOT NULL CHECK (sequence >= 0),
    records integer NOT NULL DEFAULT 0,
    quarantined integer NOT NULL DEFAULT 0,
    unknown_elements integer NOT NULL DEFAULT 0,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dump_date, attempt, entity, sequence)
);
