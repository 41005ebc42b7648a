-- One master with its artists and videos, and how many versions it has. Parameters: id.
SELECT jsonb_build_object(
    'id', m.id, 'title', m.title, 'year', nullif(m.year, 0),
    'main_release_id', m.main_release_id, 'data_quality', m.data_quality, 'notes', m.notes,
    'genres', m.genres, 'styles', m.styles,
    'artists', coalesce((
        SELECT jsonb_agg(jsonb_build_object('artist_id', a.artist_id, 'name', a.name,
            'anv', a.anv, 'join', a."join", 'role', a.role, 'tracks', a.tracks) ORDER BY a.sequence)
        FROM discogs.master_artists AS a WHERE a.master_id = m.id), '[]'),
    'videos', coalesce((
        SELECT jsonb_agg(jsonb_build_object('src', v.src, 'duration', v.duration,
            'embed', v.embed, 'title', v.title, 'description', v.description) ORDER BY v.sequence)
        FROM discogs.master_videos AS v WHERE v.master_id = m.id), '[]'),
    'versions_count', (SELECT count(*) FROM discogs.releases AS r WHERE r.master_id = m.id)
)
FROM discogs.masters AS m
WHERE m.id = %(id)s
