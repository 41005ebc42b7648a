-- The tables of one dump month, created in the month's import schema (the caller sets
-- search_path to it). Bare tables: keys and indexes are built by finalize after the bulk load.
-- No foreign keys: dumps reference ids that other files lack (artists 0, 194, missing masters).
-- Child rows are keyed by (parent id, sequence), never by natural keys (duplicates are real).

CREATE TABLE IF NOT EXISTS artists (
    id bigint NOT NULL,
    name text,
    real_name text,
    profile text,
    data_quality text
);
CREATE TABLE IF NOT EXISTS artist_aliases (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    alias_id bigint,
    name text
);
CREATE TABLE IF NOT EXISTS artist_name_variations (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    name text
);
-- group (artist_id) -> member (member_id, name)
CREATE TABLE IF NOT EXISTS artist_members (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    member_id bigint,
    name text
);
-- member (artist_id) -> group (group_id, name)
CREATE TABLE IF NOT EXISTS artist_groups (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    group_id bigint,
    name text
);
CREATE TABLE IF NOT EXISTS artist_urls (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    url text
);
CREATE TABLE IF NOT EXISTS artist_images (
    artist_id bigint NOT NULL,
    sequence integer NOT NULL,
    type text,
    uri text,
    uri150 text,
    width integer,
    height integer
);

CREATE TABLE IF NOT EXISTS labels (
    id bigint NOT NULL,
    name text,
    contact_info text,
    profile text,
    data_quality text,
    parent_label_id bigint,
    parent_label_name text
);
CREATE TABLE IF NOT EXISTS label_urls (
    label_id bigint NOT NULL,
    sequence integer NOT NULL,
    url text
);
CREATE TABLE IF NOT EXISTS label_sublabels (
    label_id bigint NOT NULL,
    sequence integer NOT NULL,
    sublabel_id bigint,
    name text
);
CREATE TABLE IF NOT EXISTS label_images (
    label_id bigint NOT NULL,
    sequence integer NOT NULL,
    type text,
    uri text,
    uri150 text,
    width integer,
    height integer
);

CREATE TABLE IF NOT EXISTS masters (
    id bigint NOT NULL,
    main_release_id bigint,
    title text,
    year integer,
    data_quality text,
    notes text,
    genres text[] NOT NULL DEFAULT '{}',
    styles text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS master_artists (
    master_id bigint NOT NULL,
    sequence integer NOT NULL,
    artist_id bigint,
    name text,
    anv text,
    "join" text,
    role text,
    tracks text
);
CREATE TABLE IF NOT EXISTS master_videos (
    master_id bigint NOT NULL,
    sequence integer NOT NULL,
    src text,
    duration integer,
    embed boolean,
    title text,
    description text
);
CREATE TABLE IF NOT EXISTS master_images (
    master_id bigint NOT NULL,
    sequence integer NOT NULL,
    type text,
    uri text,
    uri150 text,
    width integer,
    height integer
);

CREATE TABLE IF NOT EXISTS releases (
    id bigint NOT NULL,
    status text,
    title text,
    country text,
    released text,
    released_year smallint,
    released_month smallint,
    released_day smallint,
    notes text,
    data_quality text,
    master_id bigint,
    is_main_release boolean,
    genres text[] NOT NULL DEFAULT '{}',
    styles text[] NOT NULL DEFAULT '{}'
);
-- Main (extra = false) and extra (extra = true) credits in one ordered list per release.
CREATE TABLE IF NOT EXISTS release_artists (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    extra boolean NOT NULL,
    artist_id bigint,
    name text,
    anv text,
    "join" text,
    role text,
    tracks text
);
CREATE TABLE IF NOT EXISTS release_labels (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    label_id bigint,
    name text,
    catno text
);
CREATE TABLE IF NOT EXISTS release_series (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    series_id bigint,
    name text,
    catno text
);
CREATE TABLE IF NOT EXISTS release_formats (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    name text,
    qty text, -- text: a 64-digit quantity exists (release 8262262)
    text text,
    descriptions text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS release_identifiers (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    type text,
    description text,
    value text
);
CREATE TABLE IF NOT EXISTS release_videos (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    src text,
    duration integer,
    embed boolean,
    title text,
    description text
);
CREATE TABLE IF NOT EXISTS release_companies (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    company_id bigint,
    name text,
    catno text,
    entity_type integer,
    entity_type_name text,
    resource_url text
);
-- Tracks in document order; sub-tracks follow their index track and point to it.
-- track_type: 'track', 'heading' (no position, no duration) or 'index' (has sub-tracks).
CREATE TABLE IF NOT EXISTS release_tracks (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    parent_sequence integer,
    track_type text NOT NULL,
    position text,
    title text,
    duration text,
    duration_seconds integer
);
CREATE TABLE IF NOT EXISTS release_track_artists (
    release_id bigint NOT NULL,
    track_sequence integer NOT NULL,
    sequence integer NOT NULL,
    extra boolean NOT NULL,
    artist_id bigint,
    name text,
    anv text,
    "join" text,
    role text,
    tracks text
);
CREATE TABLE IF NOT EXISTS release_images (
    release_id bigint NOT NULL,
    sequence integer NOT NULL,
    type text,
    uri text,
    uri150 text,
    width integer,
    height integer
);

-- Elements/attributes the parser did not know but that carried data, verbatim.
CREATE TABLE IF NOT EXISTS unknown_fields (
    entity text NOT NULL,
    record_id bigint,
    path text NOT NULL,
    xml text
);
