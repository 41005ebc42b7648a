-- Release scope `collection` (search_path = the import schema, public): keep only the releases
-- the synced accounts reference (temp table keep_release_ids), plus the masters, artists and
-- labels those releases point to. Releases were already filtered while loading; this repeats the
-- filter (the account view may have changed meanwhile) and prunes the other entities.
DELETE FROM releases WHERE id NOT IN (SELECT release_id FROM keep_release_ids);
DELETE FROM release_artists WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_labels WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_series WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_formats WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_identifiers WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_videos WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_companies WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_tracks WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_track_artists WHERE release_id NOT IN (SELECT id FROM releases);
DELETE FROM release_images WHERE release_id NOT IN (SELECT id FROM releases);

DELETE FROM masters
WHERE id NOT IN (SELECT master_id FROM releases WHERE master_id IS NOT NULL);
DELETE FROM master_artists WHERE master_id NOT IN (SELECT id FROM masters);
DELETE FROM master_videos WHERE master_id NOT IN (SELECT id FROM masters);
DELETE FROM master_images WHERE master_id NOT IN (SELECT id FROM masters);

CREATE TEMP TABLE keep_artist_ids ON COMMIT DROP AS
SELECT artist_id AS id FROM release_artists WHERE artist_id IS NOT NULL
UNION SELECT artist_id FROM release_track_artists WHERE artist_id IS NOT NULL
UNION SELECT artist_id FROM master_artists WHERE artist_id IS NOT NULL;
DELETE FROM artists WHERE id NOT IN (SELECT id FROM keep_artist_ids);
DELETE FROM artist_aliases WHERE artist_id NOT IN (SELECT id FROM artists);
DELETE FROM artist_name_variations WHERE artist_id NOT IN (SELECT id FROM artists);
DELETE FROM artist_members WHERE artist_id NOT IN (SELECT id FROM artists);
DELETE FROM artist_groups WHERE artist_id NOT IN (SELECT id FROM artists);
DELETE FROM artist_urls WHERE artist_id NOT IN (SELECT id FROM artists);
DELETE FROM artist_images WHERE artist_id NOT IN (SELECT id FROM artists);

-- Companies are labels too; parents are kept so label pages can show their owner.
CREATE TEMP TABLE keep_label_ids ON COMMIT DROP AS
SELECT label_id AS id FROM release_labels WHERE label_id IS NOT NULL
UNION SELECT series_id FROM release_series WHERE series_id IS NOT NULL
UNION SELECT company_id FROM release_companies WHERE company_id IS NOT NULL;
INSERT INTO keep_label_ids
SELECT parent_label_id FROM labels
WHERE id IN (SELECT id FROM keep_label_ids) AND parent_label_id IS NOT NULL;
DELETE FROM labels WHERE id NOT IN (SELECT id FROM keep_label_ids);
DELETE FROM label_urls WHERE label_id NOT IN (SELECT id FROM labels);
DELETE FROM label_sublabels WHERE label_id NOT IN (SELECT id FROM labels);
DELETE FROM label_images WHERE label_id NOT IN (SELECT id FROM labels);
DELETE FROM unknown_fields WHERE entity = 'releases'
    AND record_id NOT IN (SELECT id FROM releases);
