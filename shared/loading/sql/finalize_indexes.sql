-- Keys and indexes of one month, built after the bulk load (caller sets search_path to the import
-- schema). Primary keys double as id-uniqueness validation. No b-tree on unbounded text (titles
-- longer than 2,704 bytes exist): text search uses pg_trgm GIN indexes on public.fold_text(col)
-- (lower case, accents folded: query with the same expression) and full-text GIN indexes.

ALTER TABLE artists ADD PRIMARY KEY (id);
ALTER TABLE artist_aliases ADD PRIMARY KEY (artist_id, sequence);
ALTER TABLE artist_name_variations ADD PRIMARY KEY (artist_id, sequence);
ALTER TABLE artist_members ADD PRIMARY KEY (artist_id, sequence);
ALTER TABLE artist_groups ADD PRIMARY KEY (artist_id, sequence);
ALTER TABLE artist_urls ADD PRIMARY KEY (artist_id, sequence);
ALTER TABLE artist_images ADD PRIMARY KEY (artist_id, sequence);
CREATE INDEX artist_aliases_alias_id_idx ON artist_aliases (alias_id);
CREATE INDEX artist_members_member_id_idx ON artist_members (member_id);
CREATE INDEX artist_groups_group_id_idx ON artist_groups (group_id);
CREATE INDEX artists_name_trgm_idx ON artists USING gin (public.fold_text(name) gin_trgm_ops);

ALTER TABLE labels ADD PRIMARY KEY (id);
ALTER TABLE label_urls ADD PRIMARY KEY (label_id, sequence);
ALTER TABLE label_sublabels ADD PRIMARY KEY (label_id, sequence);
ALTER TABLE label_images ADD PRIMARY KEY (label_id, sequence);
CREATE INDEX labels_parent_label_id_idx ON labels (parent_label_id);
CREATE INDEX label_sublabels_sublabel_id_idx ON label_sublabels (sublabel_id);
CREATE INDEX labels_name_trgm_idx ON labels USING gin (public.fold_text(name) gin_trgm_ops);

ALTER TABLE masters ADD PRIMARY KEY (id);
ALTER TABLE master_artists ADD PRIMARY KEY (master_id, sequence);
ALTER TABLE master_videos ADD PRIMARY KEY (master_id, sequence);
ALTER TABLE master_images ADD PRIMARY KEY (master_id, sequence);
CREATE INDEX master_artists_artist_id_idx ON master_artists (artist_id);
CREATE INDEX masters_main_release_id_idx ON masters (main_release_id);
CREATE INDEX masters_title_trgm_idx ON masters USING gin (public.fold_text(title) gin_trgm_ops);
CREATE INDEX masters_title_fts_idx ON masters USING gin (to_tsvector('simple', coalesce(title, '')));

ALTER TABLE releases ADD PRIMARY KEY (id);
ALTER TABLE release_artists ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_labels ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_series ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_formats ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_identifiers ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_videos ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_companies ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_tracks ADD PRIMARY KEY (release_id, sequence);
ALTER TABLE release_track_artists ADD PRIMARY KEY (release_id, track_sequence, sequence);
ALTER TABLE release_images ADD PRIMARY KEY (release_id, sequence);
CREATE INDEX releases_master_id_idx ON releases (master_id);
CREATE INDEX releases_released_year_idx ON releases (released_year);
CREATE INDEX release_artists_artist_id_idx ON release_artists (artist_id);
CREATE INDEX release_labels_label_id_idx ON release_labels (label_id);
CREATE INDEX release_series_series_id_idx ON release_series (series_id);
CREATE INDEX release_companies_company_id_idx ON release_companies (company_id);
CREATE INDEX release_track_artists_artist_id_idx ON release_track_artists (artist_id);
CREATE INDEX releases_title_trgm_idx ON releases USING gin (public.fold_text(title) gin_trgm_ops);
CREATE INDEX releases_title_fts_idx ON releases USING gin (to_tsvector('simple', coalesce(title, '')));
CREATE INDEX releases_genres_idx ON releases USING gin (genres);
CREATE INDEX releases_styles_idx ON releases USING gin (styles);
CREATE INDEX release_identifiers_value_trgm_idx ON release_identifiers USING gin (value gin_trgm_ops);

