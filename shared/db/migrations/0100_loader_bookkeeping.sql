-- Bookkeeping of dump loading (issue 3). The dump rows themselves live in one schema per month
-- (import_YYYYMMDD, created by shared/loading/sql/import_tables.sql) until finalize swaps it in as
-- `discogs`; this schema only tracks months, chunks, quarantined records and unknown elements.
CREATE SCHEMA IF NOT EXISTS loader;

-- One row per dump month being loaded or served.
CREATE TABLE loader.months (
    dump_date date PRIMARY KEY,
    schema_name text NOT NULL,
    release_scope text NOT NULL CHECK (release_scope IN ('all', 'collection')),
    status text NOT NULL DEFAULT 'loading'
        CHECK (status IN ('loading', 'served', 'previous', 'dropped')),
    created_at timestamptz NOT NULL DEFAULT now(),
    finalized_at timestamptz,
    finalize_result jsonb
);

-- The chunk ledger: a row commits in the same transaction as the chunk's rows, so a chunk
-- delivered twice loads once (exactly-once data from at-least-once queues).
CREATE TABLE loader.chunks (
    dump_date date NOT NULL,
    entity text NOT NULL CHECK (entity IN ('artists', 'labels', 'masters', 'releases')),
    sequence integer NOT NULL CHECK (sequence >= 0),
    record_count integer NOT NULL,
    loaded_count integer NOT NULL,
    quarantined_count integer NOT NULL,
    out_of_scope_count integer NOT NULL DEFAULT 0,
    rows_per_table jsonb NOT NULL,
    unknown_elements jsonb NOT NULL DEFAULT '{}',
    anomalies jsonb NOT NULL DEFAULT '{}',
    data_bytes bigint NOT NULL,
    first_byte_offset bigint,
    parse_seconds double precision NOT NULL,
    copy_seconds double precision NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dump_date, entity, sequence)
);

-- Records that could not be loaded, with enough context to find and replay them.
CREATE TABLE loader.quarantine (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dump_date date NOT NULL,
    entity text NOT NULL,
    sequence integer NOT NULL,
    byte_offset bigint,
    record_id bigint,
    error text NOT NULL,
    raw_record text,
    raw_bytes integer NOT NULL,
    raw_truncated boolean NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_chunk_idx ON loader.quarantine (dump_date, entity, sequence);

-- Elements and attributes the parser did not know, per dump and entity (a format change shows
-- up here the day it appears). Their content is kept in <schema>.unknown_fields.
CREATE VIEW loader.unknown_elements AS
SELECT c.dump_date, c.entity, u.key AS path, sum(u.value::bigint) AS occurrences
FROM loader.chunks AS c, jsonb_each_text(c.unknown_elements) AS u
GROUP BY c.dump_date, c.entity, u.key;
