-- Indexes the HTTP API's reads need beyond the entity tables' primary keys (issue 6), built by
-- finalize inside the month's import schema (search_path = that schema, public). All on bounded
-- columns (ids); IF NOT EXISTS so finalize may already have built an equivalent one by this name.
CREATE INDEX IF NOT EXISTS api_releases_master ON releases (master_id, id);
CREATE INDEX IF NOT EXISTS api_release_artists_artist ON release_artists (artist_id, release_id);
CREATE INDEX IF NOT EXISTS api_release_track_artists_artist
    ON release_track_artists (artist_id, release_id);
CREATE INDEX IF NOT EXISTS api_master_artists_artist ON master_artists (artist_id, master_id);
CREATE INDEX IF NOT EXISTS api_release_labels_label ON release_labels (label_id, release_id);
CREATE INDEX IF NOT EXISTS api_labels_parent ON labels (parent_label_id);
