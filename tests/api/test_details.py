"""Entity details over HTTP, checked field by field against the loaded rows of the real samples."""

from __future__ import annotations

from psycopg.rows import dict_row

CREDIT = ("artist_id", "name", "anv", "join", "role", "tracks")


def _rows(db, query: str, *params) -> list[dict]:
    return db.cursor(row_factory=dict_row).execute(query, params).fetchall()


def _credits(rows: list[dict]) -> list[dict]:
    return [{key: row[key] for key in CREDIT} for row in rows]


def test_release_with_sub_tracks_field_by_field(api, db):
    release_id = 4497850
    body = api.ok(f"releases/{release_id}")
    row = _rows(db, "SELECT * FROM discogs.releases WHERE id = %s", release_id)[0]
    for key in (
        "id",
        "status",
        "title",
        "country",
        "released",
        "released_year",
        "released_month",
        "released_day",
        "notes",
        "data_quality",
        "genres",
        "styles",
        "is_main_release",
    ):
        assert body[key] == row[key], key
    assert body["master"] is None or body["master"]["id"] == row["master_id"]
    artists = _rows(
        db,
        "SELECT * FROM discogs.release_artists WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["artists"] == _credits([a for a in artists if not a["extra"]])
    assert body["extra_artists"] == _credits([a for a in artists if a["extra"]])
    labels = _rows(
        db,
        "SELECT label_id, name, catno FROM discogs.release_labels"
        " WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["labels"] == labels
    formats = _rows(
        db,
        "SELECT name, qty, text, descriptions FROM discogs.release_formats"
        " WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["formats"] == formats
    tracks = _rows(
        db,
        "SELECT * FROM discogs.release_tracks WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    top = [t for t in tracks if t["parent_sequence"] is None]
    assert [t["title"] for t in body["tracklist"]] == [t["title"] for t in top]
    subs = sum(len(t["sub_tracks"]) for t in body["tracklist"])
    assert subs == len(tracks) - len(top) == 48
    for node, row_ in zip(body["tracklist"], top, strict=True):
        assert (
            node["position"],
            node["track_type"],
            node["duration"],
            node["duration_seconds"],
        ) == (row_["position"], row_["track_type"], row_["duration"], row_["duration_seconds"])
        children = [t for t in tracks if t["parent_sequence"] == row_["sequence"]]
        assert [c["title"] for c in node["sub_tracks"]] == [c["title"] for c in children]
    assert (
        body["other_versions_count"]
        == db.execute(
            "SELECT count(*) FROM discogs.releases WHERE master_id = %s AND id <> %s",
            (row["master_id"], release_id),
        ).fetchone()[0]
    )
    assert body["attribution"]["text"] == "Data provided by Discogs."
    assert "discogs.com" in body["attribution"]["url"]
    assert "not affiliated" in body["attribution"]["notice"]


def test_release_track_credits_companies_identifiers_and_videos(api, db):
    release_id = 11058780
    body = api.ok(f"releases/{release_id}")
    track_artists = _rows(
        db,
        "SELECT * FROM discogs.release_track_artists WHERE release_id = %s"
        " ORDER BY track_sequence, sequence",
        release_id,
    )
    flat = []
    for track in body["tracklist"]:
        flat += [track, *track["sub_tracks"]]
    served = [
        (c, extra)
        for t in flat
        for extra, key in ((False, "artists"), (True, "extra_artists"))
        for c in t[key]
    ]
    assert len(served) == len(track_artists) == 402
    companies = _rows(
        db,
        "SELECT company_id, name, catno, entity_type, entity_type_name"
        " FROM discogs.release_companies WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["companies"] == companies and len(companies) == 37
    identifiers = _rows(
        db,
        "SELECT type, description, value FROM discogs.release_identifiers"
        " WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["identifiers"] == identifiers
    videos = _rows(
        db,
        "SELECT src, duration, embed, title, description"
        " FROM discogs.release_videos WHERE release_id = %s ORDER BY sequence",
        release_id,
    )
    assert body["videos"] == videos


def test_release_with_username_says_what_the_user_has(api, account):
    body = api.ok("releases/4497850", {"username": "digger"})
    user = body["user"]
    assert user["username"] == "Digger" and user["in_collection"] is True
    assert len(user["collection"]) == 2  # owned twice
    assert {c["folder_name"] for c in user["collection"]} <= {
        "Uncategorized",
        "Records",
        "Sell pile",
    }
    assert user["in_wantlist"] is False and user["wantlist"] is None
    wanted = api.ok(f"releases/{account['wants'][0]}", {"username": "Digger"})["user"]
    assert wanted["in_wantlist"] is True and wanted["in_collection"] is False
    response = api.get("releases/4497850", {"username": "digger"})
    assert response.headers["cache-control"].startswith("private")


def test_master_with_paged_versions(api, db):
    body = api.ok("masters/129684", {"limit": 1})
    row = _rows(db, "SELECT * FROM discogs.masters WHERE id = 129684")[0]
    for key in ("id", "title", "main_release_id", "data_quality", "notes", "genres", "styles"):
        assert body[key] == row[key], key
    assert body["year"] == (row["year"] or None)
    versions = [
        r["id"]
        for r in _rows(db, "SELECT id FROM discogs.releases WHERE master_id = 129684 ORDER BY id")
    ]
    assert body["versions_count"] == len(versions)
    assert [v["id"] for v in body["versions"]] == versions[:1]
    artists = _rows(
        db, "SELECT * FROM discogs.master_artists WHERE master_id = 129684 ORDER BY sequence"
    )
    assert body["artists"] == _credits(artists)
    assert (body["next_cursor"] is None) == (len(versions) <= 1)


def test_artist_names_members_and_role_counts(api, db):
    body = api.ok("artists/96")
    row = _rows(db, "SELECT * FROM discogs.artists WHERE id = 96")[0]
    for key in ("id", "name", "real_name", "profile", "data_quality"):
        assert body[key] == row[key]
    aliases = _rows(
        db,
        "SELECT alias_id AS id, name FROM discogs.artist_aliases"
        " WHERE artist_id = 96 ORDER BY sequence",
    )
    assert body["aliases"] == aliases and len(aliases) > 5
    assert body["urls"] == [
        r["url"]
        for r in _rows(
            db, "SELECT url FROM discogs.artist_urls WHERE artist_id = 96 ORDER BY sequence"
        )
    ]
    assert (
        body["release_count"]
        == db.execute(
            "SELECT count(DISTINCT release_id) FROM discogs.release_artists"
            " WHERE artist_id = 96 AND NOT extra"
        ).fetchone()[0]
        == 2
    )


def test_artist_credit_roles_are_split_and_counted_per_release(api, db):
    artist_id = 32
    body = api.ok(f"artists/{artist_id}")
    raw = db.execute(
        "SELECT release_id, role FROM discogs.release_artists WHERE artist_id = %(a)s AND extra"
        " UNION ALL SELECT release_id, role FROM discogs.release_track_artists"
        " WHERE artist_id = %(a)s AND extra",
        {"a": artist_id},
    ).fetchall()
    import re

    per_role: dict[str, set[int]] = {}
    for release_id, role in raw:
        for part in re.sub(r"\s*\[[^\]]*\]", "", role or "").split(","):
            name = part.strip()
            if name:
                per_role.setdefault(name, set()).add(release_id)
    expected = sorted(
        ({"role": r, "releases": len(ids)} for r, ids in per_role.items()),
        key=lambda x: (-x["releases"], x["role"]),
    )
    assert body["credit_roles"] == expected and expected


def test_label_with_parent_sublabels_and_counts(api, db):
    body = api.ok("labels/5")
    assert body["name"] == "Svek"
    assert body["parent"] == {
        "id": 4711,
        "name": db.execute("SELECT parent_label_name FROM discogs.labels WHERE id = 5").fetchone()[
            0
        ],
    }
    count = db.execute(
        "SELECT count(DISTINCT release_id) FROM discogs.release_labels WHERE label_id = 5"
    ).fetchone()[0]
    assert body["release_count"] == count > 1
    assert sum(d["releases"] for d in body["releases_by_decade"]) <= count
    sub = db.execute("SELECT id FROM discogs.labels WHERE parent_label_id = 1").fetchall()
    assert {s["id"] for s in api.ok("labels/1")["sublabels"]} >= {r[0] for r in sub}


def test_unknown_ids_are_404_with_a_problem_body(api):
    for path in (
        "releases/999999999",
        "masters/999999999",
        "artists/999999999",
        "labels/999999999",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == 404 and problem["title"] == "Not Found"
        assert response.headers["cache-control"] == "no-store"
