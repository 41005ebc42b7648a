-- One release with everything about it, as one JSON document (one round trip).
-- Parameters: id. Tracks come flat in document order; the caller nests sub-tracks.
SELECT jsonb_build_object(
    'id', r.id, 'status', r.status, 'title', r.title, 'country', r.country,
    'released', r.released, 'released_year', r.released_year,
    'released_month', r.released_month, 'released_day', r.released_day,
    'notes', r.notes, 'data_quality', r.data_quality, 'genres', r.genres, 'styles', r.styles,
    'is_main_release', r.is_main_release,
    'master', (
        SELECT jsonb_build_object('id', m.id, 'title', m.title, 'year', nullif(m.year, 0),
            'main_release_id', m.main_release_id)
        FROM discogs.masters AS m WHERE m.id = r.master_id
    ),
    'master_id', r.master_id,
    'artists', coalesce((
        SELECT jsonb_agg(jsonb_build_object('artist_id', a.artist_id, 'name', a.name,
            'anv', a.anv, 'join', a."join", 'role', a.role, 'tracks', a.tracks) ORDER BY a.sequence)
        FROM discogs.release_artists AS a WHERE a.release_id = r.id AND NOT a.extra), '[]'),
    'extra_artists', coalesce((
        SELECT jsonb_agg(jsonb_build_object('artist_id', a.artist_id, 'name', a.name,
            'anv', a.anv, 'join', a."join", 'role', a.role, 'tracks', a.tracks) ORDER BY a.sequence)
        FROM discogs.release_artists AS a WHERE a.release_id = r.id AND a.extra), '[]'),
    'labels', coalesce((
        SELECT jsonb_agg(jsonb_build_object('label_id', l.label_id, 'name', l.name,
            'catno', l.catno) ORDER BY l.sequence)
        FROM discogs.release_labels AS l WHERE l.release_id = r.id), '[]'),
    'series', coalesce((
        SELECT jsonb_agg(jsonb_build_object('label_id', s.series_id, 'name', s.name,
            'catno', s.catno) ORDER BY s.sequence)
        FROM discogs.release_series AS s WHERE s.release_id = r.id), '[]'),
    'formats', coalesce((
        SELECT jsonb_agg(jsonb_build_object('name', f.name, 'qty', f.qty, 'text', f.text,
            'descriptions', f.descriptions) ORDER BY f.sequence)
        FROM discogs.release_formats AS f WHERE f.release_id = r.id), '[]'),
    'identifiers', coalesce((
        SELECT jsonb_agg(jsonb_build_object('type', i.type, 'description', i.description,
            'value', i.value) ORDER BY i.sequence)
        FROM discogs.release_identifiers AS i WHERE i.release_id = r.id), '[]'),
    'companies', coalesce((
        SELECT jsonb_agg(jsonb_build_object('company_id', c.company_id, 'name', c.name,
            'catno', c.catno, 'entity_type', c.entity_type,
            'entity_type_name', c.entity_type_name) ORDER BY c.sequence)
        FROM discogs.release_companies AS c WHERE c.release_id = r.id), '[]'),
    'videos', coalesce((
        SELECT jsonb_agg(jsonb_build_object('src', v.src, 'duration', v.duration,
            'embed', v.embed, 'title', v.title, 'description', v.description) ORDER BY v.sequence)
        FROM discogs.release_videos AS v WHERE v.release_id = r.id), '[]'),
    'tracks', coalesce((
        SELECT jsonb_agg(jsonb_build_object('sequence', t.sequence,
            'parent_sequence', t.parent_sequence, 'track_type', t.track_type,
            'position', t.position, 'title', t.title, 'duration', t.duration,
            'duration_seconds', t.duration_seconds,
            'artists', coalesce((
                SELECT jsonb_agg(jsonb_build_object('artist_id', ta.artist_id, 'name', ta.name,
                    'anv', ta.anv, 'join', ta."join", 'role', ta.role, 'tracks', ta.tracks)
                    ORDER BY ta.sequence)
                FROM discogs.release_track_artists AS ta
                WHERE ta.release_id = t.release_id AND ta.track_sequence = t.sequence
                    AND NOT ta.extra), '[]'),
            'extra_artists', coalesce((
                SELECT jsonb_agg(jsonb_build_object('artist_id', ta.artist_id, 'name', ta.name,
                    'anv', ta.anv, 'join', ta."join", 'role', ta.role, 'tracks', ta.tracks)
                    ORDER BY ta.sequence)
                FROM discogs.release_track_artists AS ta
                WHERE ta.release_id = t.release_id AND ta.track_sequence = t.sequence
                    AND ta.extra), '[]')
            ) ORDER BY t.sequence)
        FROM discogs.release_tracks AS t WHERE t.release_id = r.id), '[]'),
    'other_versions_count', CASE WHEN r.master_id IS NULL THEN 0 ELSE (
        SELECT count(*) FROM discogs.releases AS o
        WHERE o.master_id = r.master_id AND o.id <> r.id) END
)
FROM discogs.releases AS r
WHERE r.id = %(id)s
