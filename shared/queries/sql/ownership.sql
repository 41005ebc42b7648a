-- Whether a user has a release: collection copies (with folders) and the wantlist entry.
-- Parameters: username (canonical), release_id.
SELECT
    coalesce((
        SELECT jsonb_agg(jsonb_build_object('instance_id', i.instance_id,
            'folder_id', i.folder_id, 'folder_name', f.name, 'rating', i.rating,
            'date_added', i.date_added) ORDER BY i.date_added, i.instance_id)
        FROM account.collection_items AS i
        LEFT JOIN account.collection_folders AS f
            ON f.username = i.username AND f.folder_id = i.folder_id
        WHERE i.username = %(username)s AND i.release_id = %(release_id)s
            AND i.removed_at IS NULL), '[]'),
    (
        SELECT jsonb_build_object('rating', w.rating, 'date_added', w.date_added,
            'notes', w.notes)
        FROM account.wantlist_items AS w
        WHERE w.username = %(username)s AND w.release_id = %(release_id)s
            AND w.removed_at IS NULL
    )
