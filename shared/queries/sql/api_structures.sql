-- What the HTTP API (issue 6) reads besides the entity tables, built by finalize inside the month's
-- import schema (search_path = that schema, public) after the entity tables and their keys exist,
-- so the swap brings them in with the month.
--
-- The three large tables (credit_roles, search_documents, release_facts) are created empty and
-- filled by INSERT statements, each marked `-- finalize slices: <entity table>`. Run whole (this
-- script as is: shared/queries/finalize.build_api_structures), each INSERT fills its part at
-- once. The finalize (shared/loading/build_plan.py) runs each marked INSERT as several steps side
-- by side, one per range of that entity table's ids: every `BETWEEN -9223372036854775808 AND 9223372036854775807`
-- (every id) in the statement becomes that range. So such a statement must restrict by that
-- range every table it reads per record (the record table and its child tables), and its rows
-- for one record must depend on that record's rows only.
--
-- 1. credit_roles: every (release, credited artist, single role) of the extra credits of releases
--    and tracks, with the bracketed detail dropped and combined roles split ("Producer, Mixed By
--    [Assistant]" gives Producer and Mixed By). Normalizing once here keeps regular expressions
--    out of the artist page and the user statistics.
DROP TABLE IF EXISTS credit_roles;

CREATE TABLE credit_roles (
    release_id bigint,
    artist_id bigint,
    name text,
    -- Roles are free text: bounded so the b-tree below can never hit the row limit.
    role varchar(200)
);

-- finalize slices: releases
INSERT INTO credit_roles
SELECT DISTINCT c.release_id, c.artist_id, c.name, left(trim(part), 200)::varchar(200) AS role
FROM (
    SELECT release_id, artist_id, name, regexp_replace(role, '\s*\[[^]]*\]', '', 'g') AS roles
    FROM release_artists
    WHERE extra AND role IS NOT NULL
        AND release_id BETWEEN -9223372036854775808 AND 9223372036854775807
    UNION ALL
    SELECT release_id, artist_id, name, regexp_replace(role, '\s*\[[^]]*\]', '', 'g')
    FROM release_track_artists
    WHERE extra AND role IS NOT NULL
        AND release_id BETWEEN -9223372036854775808 AND 9223372036854775807
) AS c
CROSS JOIN LATERAL string_to_table(c.roles, ',') AS part
WHERE trim(part) <> '';

CREATE INDEX credit_roles_release ON credit_roles (release_id);
CREATE INDEX credit_roles_artist ON credit_roles (artist_id, role);
ANALYZE credit_roles;

-- 2. release_playing_time: the known playing time of each release (an index track's own duration
--    replaces those of its sub-tracks), and master_years: the earliest year of each master (its
--    own year or its earliest dated version), so user statistics need no per-item subqueries.
DROP TABLE IF EXISTS release_playing_time;

CREATE TABLE release_playing_time AS
SELECT t.release_id, sum(t.duration_seconds)::bigint AS seconds
FROM release_tracks AS t
LEFT JOIN release_tracks AS p ON p.release_id = t.release_id AND p.sequence = t.parent_sequence
WHERE t.duration_seconds IS NOT NULL AND p.duration_seconds IS NULL
GROUP BY t.release_id;

ALTER TABLE release_playing_time ADD PRIMARY KEY (release_id);

DROP TABLE IF EXISTS master_years;

CREATE TABLE master_years AS
SELECT coalesce(v.master_id, m.id) AS master_id,
    least(nullif(m.year, 0), v.earliest) AS earliest_year
FROM (
    SELECT master_id, min(released_year) FILTER (WHERE released_year > 0) AS earliest
    FROM releases WHERE master_id IS NOT NULL GROUP BY master_id
) AS v
FULL JOIN masters AS m ON m.id = v.master_id;

ALTER TABLE master_years ADD PRIMARY KEY (master_id);
ANALYZE release_playing_time;
ANALYZE master_years;

-- 3. search_documents: one row per release, master, artist and label:
--   title/subtitle: what is shown; search_text: folded text for trigram (typo) matching;
--   tsv: weighted full-text vector (A title, B artists, C labels/catalog numbers/other names);
--   year, decade, genres, styles, country, formats, labels: facets (and the year range);
--   filter_keys: what the filters and the broad queries' ranking candidates look up, in the one
--   search index with tsv (shared/queries/search.py): `t:<type>`, `<type>:<code>:<value>` for
--   genre g, style s, format f, label l, country c (lower case) and decade d; the title's words
--   `w:<word>` and the whole title `x:<md5 of title_key>`.
--   One INSERT per entity type: each gathers its `documents`, and public.search_document
--   (migration 0403) makes each one's row.
DROP TABLE IF EXISTS search_documents;

CREATE TABLE search_documents (
    entity_type varchar(8) NOT NULL,
    entity_id bigint NOT NULL,
    title text,
    subtitle text,
    year integer,
    decade integer,
    genres text[],
    styles text[],
    country text,
    formats text[],
    labels text[],
    master_id bigint,
    title_key varchar(200),
    search_text text,
    tsv tsvector,
    filter_keys text[]
);

-- finalize slices: releases
INSERT INTO search_documents
WITH release_artist_names AS (
    SELECT release_id, string_agg(coalesce(name, ''), ', ' ORDER BY sequence) AS artists
    FROM release_artists
    WHERE NOT extra AND release_id BETWEEN -9223372036854775808 AND 9223372036854775807
    GROUP BY release_id
), release_format_names AS (
    SELECT release_id, array_agg(DISTINCT name) AS formats
    FROM release_formats
    WHERE name IS NOT NULL AND release_id BETWEEN -9223372036854775808 AND 9223372036854775807
    GROUP BY release_id
), release_label_names AS (
    SELECT release_id,
        array_agg(DISTINCT name) FILTER (WHERE name IS NOT NULL) AS labels,
        string_agg(coalesce(name, '') || ' ' || coalesce(catno, ''), ' ' ORDER BY sequence)
            AS label_text
    FROM release_labels
    WHERE release_id BETWEEN -9223372036854775808 AND 9223372036854775807
    GROUP BY release_id
), documents AS (
    SELECT 'release'::text AS entity_type, r.id AS entity_id, r.title, ra.artists AS subtitle,
        nullif(r.released_year, 0)::integer AS year, r.genres, r.styles, r.country,
        coalesce(rf.formats, '{}') AS formats, coalesce(rl.labels, '{}') AS labels,
        r.master_id, rl.label_text AS other_text
    FROM releases AS r
    LEFT JOIN release_artist_names AS ra ON ra.release_id = r.id
    LEFT JOIN release_format_names AS rf ON rf.release_id = r.id
    LEFT JOIN release_label_names AS rl ON rl.release_id = r.id
    WHERE r.id BETWEEN -9223372036854775808 AND 9223372036854775807
)
SELECT s.*
FROM documents AS d
CROSS JOIN LATERAL public.search_document(
    d.entity_type, d.entity_id, d.title, d.subtitle, d.year, d.genres, d.styles, d.country,
    d.formats, d.labels, d.master_id, d.other_text
) AS s;

-- finalize slices: masters
INSERT INTO search_documents
WITH master_artist_names AS (
    SELECT master_id, string_agg(coalesce(name, ''), ', ' ORDER BY sequence) AS artists
    FROM master_artists
    WHERE master_id BETWEEN -9223372036854775808 AND 9223372036854775807
    GROUP BY master_id
), documents AS (
    -- The formats of the master's main release, looked up per master (a master's main release
    -- can be any release, so no id range of releases applies).
    SELECT 'master'::text AS entity_type, m.id AS entity_id, m.title, ma.artists AS subtitle,
        nullif(m.year, 0) AS year, m.genres, m.styles, NULL::text AS country,
        coalesce(rf.formats, '{}') AS formats, '{}'::text[] AS labels, m.id AS master_id,
        NULL::text AS other_text
    FROM masters AS m
    LEFT JOIN master_artist_names AS ma ON ma.master_id = m.id
    LEFT JOIN LATERAL (
        SELECT array_agg(DISTINCT name) AS formats
        FROM release_formats WHERE release_id = m.main_release_id AND name IS NOT NULL
    ) AS rf ON true
    WHERE m.id BETWEEN -9223372036854775808 AND 9223372036854775807
)
SELECT s.*
FROM documents AS d
CROSS JOIN LATERAL public.search_document(
    d.entity_type, d.entity_id, d.title, d.subtitle, d.year, d.genres, d.styles, d.country,
    d.formats, d.labels, d.master_id, d.other_text
) AS s;

-- finalize slices: artists
INSERT INTO search_documents
WITH artist_other_names AS (
    SELECT artist_id, string_agg(name, ' ' ORDER BY sequence) AS names
    FROM artist_name_variations
    WHERE artist_id BETWEEN -9223372036854775808 AND 9223372036854775807
    GROUP BY artist_id
), documents AS (
    SELECT 'artist'::text AS entity_type, a.id AS entity_id, a.name AS title,
        a.real_name AS subtitle, NULL::integer AS year, '{}'::text[] AS genres,
        '{}'::text[] AS styles, NULL::text AS country, '{}'::text[] AS formats,
        '{}'::text[] AS labels, NULL::bigint AS master_id, an.names AS other_text
    FROM artists AS a
    LEFT JOIN artist_other_names AS an ON an.artist_id = a.id
    WHERE a.id BETWEEN -9223372036854775808 AND 9223372036854775807
)
SELECT s.*
FROM documents AS d
CROSS JOIN LATERAL public.search_document(
    d.entity_type, d.entity_id, d.title, d.subtitle, d.year, d.genres, d.styles, d.country,
    d.formats, d.labels, d.master_id, d.other_text
) AS s;

-- finalize slices: labels
INSERT INTO search_documents
WITH documents AS (
    SELECT 'label'::text AS entity_type, l.id AS entity_id, l.name AS title,
        l.parent_label_name AS subtitle, NULL::integer AS year, '{}'::text[] AS genres,
        '{}'::text[] AS styles, NULL::text AS country, '{}'::text[] AS formats,
        '{}'::text[] AS labels, NULL::bigint AS master_id, NULL::text AS other_text
    FROM labels AS l
    WHERE l.id BETWEEN -9223372036854775808 AND 9223372036854775807
)
SELECT s.*
FROM documents AS d
CROSS JOIN LATERAL public.search_document(
    d.entity_type, d.entity_id, d.title, d.subtitle, d.year, d.genres, d.styles, d.country,
    d.formats, d.labels, d.master_id, d.other_text
) AS s;

-- The key's index is built like the others, side by side with them, and then made the key (a
-- catalog change: the columns are NOT NULL already), instead of an ADD PRIMARY KEY that locks the
-- table while it builds, so the indexes would have to wait for it.
CREATE UNIQUE INDEX search_documents_pkey ON search_documents (entity_type, entity_id);
-- The full text and the filter keys in ONE index: a query's words and filters are intersected
-- in one scan of it (each posting list advanced past the others' current match), not read whole
-- into one bitmap per condition and ANDed.
CREATE INDEX search_documents_match ON search_documents USING gin (tsv, filter_keys);
CREATE INDEX search_documents_trgm ON search_documents USING gin (search_text gin_trgm_ops);
CREATE INDEX search_documents_title ON search_documents (entity_type, title_key, entity_id);
-- For broad queries (shared/queries/search.py): each sort's exact key, so a page of a query that
-- matches a large part of the documents is an ordered index walk that stops after `limit`
-- matches instead of sorting all of them.
CREATE INDEX search_documents_year_asc
    ON search_documents ((coalesce(year, 9999)), entity_type, entity_id);
CREATE INDEX search_documents_year_desc
    ON search_documents ((coalesce(year, -1)), entity_type, entity_id);
CREATE INDEX search_documents_title_sort ON search_documents (title_key, entity_type, entity_id);
ALTER TABLE search_documents ADD CONSTRAINT search_documents_pkey
    PRIMARY KEY USING INDEX search_documents_pkey;
ANALYZE search_documents;

-- 4. search_words: the vocabulary of the search documents (each lexeme once, with how many
--    documents hold it), trigram-indexed: a misspelled word of a query is corrected against it.
DROP TABLE IF EXISTS search_words;

CREATE TABLE search_words AS
SELECT word, ndoc FROM ts_stat('SELECT tsv FROM search_documents');

CREATE INDEX search_words_trgm ON search_words USING gin (word gin_trgm_ops);
ANALYZE search_words;

-- 5. release_facts: per release, what the user statistics need from the dump, so computing them
--    for a collection is one primary-key lookup per distinct release and aggregates: the year
--    its decade counts in (the master's earliest year, else its own), country, playing time, and
--    its credits as parallel arrays of distinct (role, named artist) pairs plus its distinct
--    roles (credit_roles can hold a pair twice, once per artist id).
DROP TABLE IF EXISTS release_facts;

CREATE TABLE release_facts (
    release_id bigint NOT NULL,
    master_id bigint,
    year integer,
    country text,
    seconds bigint,
    roles varchar[],
    credit_roles varchar[],
    credit_names text[]
);

-- finalize slices: releases
INSERT INTO release_facts
SELECT r.id AS release_id, r.master_id,
    coalesce(y.earliest_year, nullif(r.released_year, 0)) AS year,
    r.country, p.seconds, c.roles, c.credit_roles, c.credit_names
FROM releases AS r
LEFT JOIN master_years AS y ON y.master_id = r.master_id
LEFT JOIN release_playing_time AS p ON p.release_id = r.id AND p.release_id BETWEEN -9223372036854775808 AND 9223372036854775807
LEFT JOIN (
    SELECT release_id, array_agg(DISTINCT role) AS roles,
        array_agg(role ORDER BY role, name) AS credit_roles,
        array_agg(name ORDER BY role, name) AS credit_names
    FROM (
        SELECT DISTINCT release_id, role, name FROM credit_roles
        WHERE name IS NOT NULL AND release_id BETWEEN -9223372036854775808 AND 9223372036854775807
    ) AS d
    GROUP BY release_id
) AS c ON c.release_id = r.id
WHERE r.id BETWEEN -9223372036854775808 AND 9223372036854775807;

ALTER TABLE release_facts ADD PRIMARY KEY (release_id);
ANALYZE release_facts;
