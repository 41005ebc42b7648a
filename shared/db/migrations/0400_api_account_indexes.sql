-- HTTP API (issue 6): indexes for the collection views of large collections (10,000+ items).
-- Each sort of GET /users/{username}/collection gets an index on exactly the expression the query
-- orders by (shared/queries/account.py), so a page is an ordered index scan that stops after
-- `limit` rows instead of sorting the whole collection; `q` uses a trigram index on the folded
-- title-and-artists text. Partial on live items, as the views never show removed ones.
CREATE INDEX api_collection_date_added ON account.collection_items
    (username, (coalesce(date_added, 'epoch'::timestamptz)), instance_id)
    WHERE removed_at IS NULL;
CREATE INDEX api_collection_title ON account.collection_items
    (username, (left(public.fold_text(coalesce(basic_information->>'title', '')), 200)),
     instance_id)
    WHERE removed_at IS NULL;
CREATE INDEX api_collection_artist ON account.collection_items
    (username,
     (left(public.fold_text(coalesce(basic_information->'artists'->0->>'name', '')), 200)),
     instance_id)
    WHERE removed_at IS NULL;
CREATE INDEX api_collection_year ON account.collection_items
    (username,
     (CASE WHEN basic_information->>'year' ~ '^[0-9]{1,4}$'
        THEN (basic_information->>'year')::integer ELSE 0 END),
     instance_id)
    WHERE removed_at IS NULL;
CREATE INDEX api_collection_rating ON account.collection_items
    (username, (rating::integer), instance_id)
    WHERE removed_at IS NULL;
CREATE INDEX api_collection_text ON account.collection_items USING gin
    (public.fold_text(coalesce(basic_information->>'title', '') || ' '
        || jsonb_path_query_array(basic_information, '$.artists[*].name')::text) gin_trgm_ops)
    WHERE removed_at IS NULL;
