-- The dump's data for one account item's release (NULL when the release is not loaded).
-- A fragment: {release_id} is replaced by the outer query's column.
(SELECT jsonb_build_object(
    'id', r.id, 'title', r.title, 'country', r.country, 'released', r.released,
    'released_year', nullif(r.released_year, 0), 'genres', r.genres, 'styles', r.styles,
    'master_id', r.master_id,
    'master_year', (SELECT nullif(m.year, 0) FROM discogs.masters AS m WHERE m.id = r.master_id),
    'artists', coalesce((
        SELECT jsonb_agg(jsonb_build_object('artist_id', a.artist_id, 'name', a.name,
            'anv', a.anv, 'join', a."join", 'role', a.role, 'tracks', a.tracks) ORDER BY a.sequence)
        FROM discogs.release_artists AS a WHERE a.release_id = r.id AND NOT a.extra), '[]'),
    'labels', coalesce((
        SELECT jsonb_agg(jsonb_build_object('label_id', l.label_id, 'name', l.name,
            'catno', l.catno) ORDER BY l.sequence)
        FROM discogs.release_labels AS l WHERE l.release_id = r.id), '[]'),
    'formats', coalesce((
        SELECT jsonb_agg(jsonb_build_object('name', f.name, 'qty', f.qty, 'text', f.text,
            'descriptions', f.descriptions) ORDER BY f.sequence)
        FROM discogs.release_formats AS f WHERE f.release_id = r.id), '[]'))
 FROM discogs.releases AS r WHERE r.id = {release_id})
