-- One page of a master's versions, by release id after a cursor.
-- Parameters: id, after_id (0 for the first page), limit.
SELECT jsonb_build_object(
    'id', r.id, 'title', r.title, 'status', r.status, 'country', r.country,
    'released', r.released, 'released_year', nullif(r.released_year, 0),
    'is_main_release', r.is_main_release,
    'formats', coalesce((
        SELECT jsonb_agg(f.name ORDER BY f.sequence) FROM discogs.release_formats AS f
        WHERE f.release_id = r.id AND f.name IS NOT NULL), '[]'),
    'labels', coalesce((
        SELECT jsonb_agg(jsonb_build_object('label_id', l.label_id, 'name', l.name,
            'catno', l.catno) ORDER BY l.sequence)
        FROM discogs.release_labels AS l WHERE l.release_id = r.id), '[]')
)
FROM discogs.releases AS r
WHERE r.master_id = %(id)s AND r.id > %(after_id)s
ORDER BY r.id
LIMIT %(limit)s
