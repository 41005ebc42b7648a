-- A collector's own Discogs account (issue 5): profile, folders, custom fields, collection,
-- wantlist, seller inventory, collection value over time, and the sync jobs that fill them.
-- Nothing here is ever hard-deleted by a sync: what disappears from Discogs gets `removed_at`.
CREATE SCHEMA IF NOT EXISTS account;

CREATE TABLE account.users (
    username text PRIMARY KEY,
    user_id bigint,
    name text,
    curr_abbr text,
    num_collection integer,
    num_wantlist integer,
    num_for_sale integer,
    profile jsonb NOT NULL,
    synced_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account.collection_folders (
    username text NOT NULL,
    folder_id integer NOT NULL,
    name text NOT NULL,
    item_count integer,
    synced_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    PRIMARY KEY (username, folder_id)
);

CREATE TABLE account.collection_fields (
    username text NOT NULL,
    field_id integer NOT NULL,
    name text NOT NULL,
    field_type text,
    position integer,
    public boolean,
    options jsonb,
    lines integer,
    synced_at timestamptz NOT NULL DEFAULT now(),
    removed_at timestamptz,
    PRIMARY KEY (username, field_id)
);

-- One row per owned copy: a release can be owned several times (several instance ids).
CREATE TABLE account.collection_items (
    username text NOT NULL,
    instance_id bigint NOT NULL,
    release_id bigint NOT NULL,
    folder_id integer NOT NULL,
    rating smallint NOT NULL DEFAULT 0,
    date_added timestamptz,
    -- Custom field values keyed by field id (as text): {"1": "Mint (M)", "3": "signed"}.
    notes jsonb NOT NULL DEFAULT '{}'::jsonb,
    basic_information jsonb NOT NULL,
    content_hash text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_job uuid,
    removed_at timestamptz,
    PRIMARY KEY (username, instance_id)
);
CREATE INDEX collection_items_release ON account.collection_items (release_id);
CREATE INDEX collection_items_added ON account.collection_items (username, date_added DESC);

CREATE TABLE account.wantlist_items (
    username text NOT NULL,
    release_id bigint NOT NULL,
    rating smallint NOT NULL DEFAULT 0,
    notes text,
    notes_public boolean,
    date_added timestamptz,
    basic_information jsonb NOT NULL,
    content_hash text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_job uuid,
    removed_at timestamptz,
    PRIMARY KEY (username, release_id)
);
CREATE INDEX wantlist_items_release ON account.wantlist_items (release_id);

CREATE TABLE account.inventory_listings (
    listing_id bigint PRIMARY KEY,
    username text NOT NULL,
    release_id bigint NOT NULL,
    status text NOT NULL,
    condition text,
    sleeve_condition text,
    price numeric(14, 2),
    currency text,
    posted timestamptz,
    comments text,
    allow_offers boolean,
    ships_from text,
    release jsonb NOT NULL,
    content_hash text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_job uuid,
    -- Set when Discogs reports the listing as sold.
    sold_at timestamptz,
    -- Set when the listing is no longer in the inventory at all (deleted, or sold and purged).
    removed_at timestamptz
);
CREATE INDEX inventory_listings_user ON account.inventory_listings (username, removed_at);
CREATE INDEX inventory_listings_release ON account.inventory_listings (release_id);

CREATE TABLE account.collection_values (
    username text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    minimum numeric(14, 2),
    median numeric(14, 2),
    maximum numeric(14, 2),
    currency text,
    raw jsonb NOT NULL,
    PRIMARY KEY (username, fetched_at)
);

CREATE TABLE account.sync_jobs (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username text NOT NULL,
    scope text[] NOT NULL,
    full_reconcile boolean NOT NULL DEFAULT false,
    trigger text NOT NULL DEFAULT 'api',
    state text NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'succeeded', 'partial', 'failed')),
    -- Where the next page starts: {"phase": ..., "next_url": ..., "page": ...} plus walk state.
    cursor jsonb NOT NULL DEFAULT '{}'::jsonb,
    pages_done integer NOT NULL DEFAULT 0,
    pages_total jsonb NOT NULL DEFAULT '{}'::jsonb,
    counts jsonb NOT NULL DEFAULT '{}'::jsonb,
    requests_used integer NOT NULL DEFAULT 0,
    errors jsonb NOT NULL DEFAULT '[]'::jsonb,
    deferrals integer NOT NULL DEFAULT 0,
    lease_token uuid,
    lease_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX sync_jobs_active ON account.sync_jobs (lower(username))
    WHERE state IN ('queued', 'running');
CREATE INDEX sync_jobs_user_created ON account.sync_jobs (lower(username), created_at DESC);

-- Custom field values with their field names (Media, Sleeve, Notes, user-defined ones).
CREATE VIEW account.collection_item_fields AS
SELECT i.username, i.instance_id, i.release_id, n.field_id::integer AS field_id, f.name AS field_name,
    n.value
FROM account.collection_items AS i
CROSS JOIN LATERAL jsonb_each_text(i.notes) AS n (field_id, value)
LEFT JOIN account.collection_fields AS f
    ON f.username = i.username AND f.field_id = n.field_id::integer
WHERE i.removed_at IS NULL;

-- Every release the account refers to; the dump loader's `collection` release scope reads it.
CREATE VIEW account.referenced_release_ids AS
SELECT release_id FROM account.collection_items WHERE removed_at IS NULL
UNION
SELECT release_id FROM account.wantlist_items WHERE removed_at IS NULL
UNION
SELECT release_id FROM account.inventory_listings WHERE removed_at IS NULL;
