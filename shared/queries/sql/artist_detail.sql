-- One artist with names, members/groups and release counts by role (release and track credits,
-- one count per release; roles normalized in credit_roles, see api_structures.sql). Parameters: id.
SELECT jsonb_build_object(
    'id', a.id, 'name', a.name, 'real_name', a.real_name, 'profile', a.profile,
    'data_quality', a.data_quality,
    'urls', coalesce((SELECT jsonb_agg(u.url ORDER BY u.sequence)
        FROM discogs.artist_urls AS u WHERE u.artist_id = a.id AND u.url IS NOT NULL), '[]'),
    'aliases', coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.alias_id, 'name', x.name)
        ORDER BY x.sequence) FROM discogs.artist_aliases AS x WHERE x.artist_id = a.id), '[]'),
    'name_variations', coalesce((SELECT jsonb_agg(x.name ORDER BY x.sequence)
        FROM discogs.artist_name_variations AS x
        WHERE x.artist_id = a.id AND x.name IS NOT NULL), '[]'),
    'members', coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.member_id, 'name', x.name)
        ORDER BY x.sequence) FROM discogs.artist_members AS x WHERE x.artist_id = a.id), '[]'),
    'groups', coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.group_id, 'name', x.name)
        ORDER BY x.sequence) FROM discogs.artist_groups AS x WHERE x.artist_id = a.id), '[]'),
    'release_count', (SELECT count(DISTINCT ra.release_id) FROM discogs.release_artists AS ra
        WHERE ra.artist_id = a.id AND NOT ra.extra),
    'master_count', (SELECT count(DISTINCT ma.master_id) FROM discogs.master_artists AS ma
        WHERE ma.artist_id = a.id),
    'credit_roles', coalesce((
        SELECT jsonb_agg(jsonb_build_object('role', role, 'releases', releases)
            ORDER BY releases DESC, role)
        FROM (
            SELECT role, count(DISTINCT release_id) AS releases
            FROM discogs.credit_roles WHERE artist_id = a.id GROUP BY role
        ) AS counted), '[]')
)
FROM discogs.artists AS a
WHERE a.id = %(id)s
