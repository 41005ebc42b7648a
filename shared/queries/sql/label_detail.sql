-- One label with parent, sublabels (listed in the dump or pointing here as parent) and release
-- counts. Parameters: id.
SELECT jsonb_build_object(
    'id', l.id, 'name', l.name, 'contact_info', l.contact_info, 'profile', l.profile,
    'data_quality', l.data_quality,
    'parent', CASE WHEN l.parent_label_id IS NULL AND l.parent_label_name IS NULL THEN NULL
        ELSE jsonb_build_object('id', l.parent_label_id, 'name', l.parent_label_name) END,
    'sublabels', coalesce((
        SELECT jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name) ORDER BY s.name, s.id)
        FROM (
            SELECT sublabel_id AS id, name FROM discogs.label_sublabels WHERE label_id = l.id
            UNION
            SELECT id, name FROM discogs.labels WHERE parent_label_id = l.id
        ) AS s), '[]'),
    'urls', coalesce((SELECT jsonb_agg(u.url ORDER BY u.sequence)
        FROM discogs.label_urls AS u WHERE u.label_id = l.id AND u.url IS NOT NULL), '[]'),
    'release_count', (SELECT count(DISTINCT rl.release_id) FROM discogs.release_labels AS rl
        WHERE rl.label_id = l.id),
    'releases_by_decade', coalesce((
        SELECT jsonb_agg(jsonb_build_object('decade', decade, 'releases', n) ORDER BY decade)
        FROM (
            SELECT r.released_year / 10 * 10 AS decade, count(*) AS n
            FROM (SELECT DISTINCT release_id FROM discogs.release_labels
                WHERE label_id = l.id) AS ids
            JOIN discogs.releases AS r ON r.id = ids.release_id
            WHERE r.released_year > 0
            GROUP BY 1
        ) AS d), '[]')
)
FROM discogs.labels AS l
WHERE l.id = %(id)s
