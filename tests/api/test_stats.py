"""Statistics computed by the API equal the same statistics computed here, in Python, from the
raw rows (account tables and dump tables read without any of the API's SQL)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import UTC

from psycopg.rows import dict_row


def _top(counter: Counter, n: int) -> list[dict]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [{"value": str(value), "count": count} for value, count in ranked]


def _fetch(db, query: str, *params) -> list[dict]:
    return db.cursor(row_factory=dict_row).execute(query, params).fetchall()


def _split_roles(role: str | None) -> set[str]:
    names = set()
    for part in re.sub(r"\s*\[[^\]]*\]", "", role or "").split(","):
        name = part.strip()
        if name:
            names.add(name)
    return names


def test_user_stats_equal_an_independent_computation(api, account, db):
    top = 7
    stats = api.ok("users/digger/stats", {"top": top})
    items = _fetch(
        db,
        "SELECT * FROM account.collection_items WHERE username = 'Digger' AND removed_at IS NULL",
    )
    assert len(items) == len(account["owned"])
    release_ids = {i["release_id"] for i in items}
    releases = {
        r["id"]: r
        for r in _fetch(db, "SELECT * FROM discogs.releases WHERE id = ANY(%s)", list(release_ids))
    }
    master_ids = {r["master_id"] for r in releases.values() if r["master_id"]}
    masters = {
        m["id"]: m
        for m in _fetch(db, "SELECT * FROM discogs.masters WHERE id = ANY(%s)", list(master_ids))
    }
    versions = _fetch(
        db,
        "SELECT id, master_id, released_year FROM discogs.releases WHERE master_id = ANY(%s)",
        list(master_ids),
    )

    totals = stats["totals"]
    assert totals["items"] == len(items)
    assert totals["releases"] == len(release_ids)
    assert totals["matched_releases"] == len(releases) == len(release_ids) - 3
    assert totals["rated"] == sum(1 for i in items if i["rating"] > 0)
    assert totals["wantlist"] == len(account["wants"])
    assert totals["inventory_for_sale"] == 4

    def snapshot(path):
        counter = Counter()
        for item in items:
            values = item["basic_information"].get(path[0], [])
            names = {v[path[1]] if len(path) > 1 else v for v in values}
            counter.update(n for n in names if n)
        return _top(counter, top)

    assert stats["genres"] == snapshot(("genres",))
    assert stats["styles"] == snapshot(("styles",))
    assert stats["labels"] == snapshot(("labels", "name"))
    assert stats["formats"] == snapshot(("formats", "name"))
    assert stats["artists"] == snapshot(("artists", "name"))
    assert stats["countries"] == _top(
        Counter(
            releases[i["release_id"]]["country"]
            for i in items
            if i["release_id"] in releases and releases[i["release_id"]]["country"]
        ),
        top,
    )

    earliest: dict[int, int] = {}
    for v in versions:
        if v["released_year"]:
            earliest[v["master_id"]] = min(earliest.get(v["master_id"], 9999), v["released_year"])
    decades = Counter()
    for item in items:
        release = releases.get(item["release_id"])
        year = None
        if release:
            candidates = []
            master = masters.get(release["master_id"])
            if master and master["year"]:
                candidates.append(master["year"])
            if release["master_id"] in earliest:
                candidates.append(earliest[release["master_id"]])
            year = min(candidates) if candidates else (release["released_year"] or None)
        year = year or item["basic_information"].get("year") or None
        if year:
            decades[year // 10 * 10] += 1
    assert stats["decades"] == [{"value": str(d), "count": n} for d, n in sorted(decades.items())]

    credits = (
        db.cursor(row_factory=dict_row)
        .execute(
            "SELECT release_id, name, role FROM discogs.release_artists"
            " WHERE extra AND release_id = ANY(%(ids)s) UNION ALL"
            " SELECT release_id, name, role FROM discogs.release_track_artists"
            " WHERE extra AND release_id = ANY(%(ids)s)",
            {"ids": list(release_ids)},
        )
        .fetchall()
    )
    by_release: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for c in credits:
        if c["name"] is None:
            continue
        for role in _split_roles(c["role"]):
            by_release[c["release_id"]].add((role, c["name"]))
    role_items: dict[str, set[int]] = defaultdict(set)
    pair_items: Counter = Counter()
    for item in items:
        for role, name in by_release.get(item["release_id"], ()):
            role_items[role].add(item["instance_id"])
            pair_items[(role, name)] += 1
    top_roles = sorted(role_items, key=lambda r: (-len(role_items[r]), r))[:5]
    expected_roles = [
        {
            "role": role,
            "artists": _top(
                Counter({name: n for (r, name), n in pair_items.items() if r == role}), top
            ),
        }
        for role in top_roles
    ]
    assert stats["roles"] == expected_roles and expected_roles

    tracks = _fetch(
        db, "SELECT * FROM discogs.release_tracks WHERE release_id = ANY(%s)", list(release_ids)
    )
    own = {(t["release_id"], t["sequence"]): t["duration_seconds"] for t in tracks}
    seconds = sum(
        t["duration_seconds"]
        for t in tracks
        if t["duration_seconds"] is not None
        and own.get((t["release_id"], t["parent_sequence"])) is None
    )
    assert stats["playing_time_seconds"] == seconds > 0

    per_master: dict[int, list[int]] = defaultdict(list)
    for item in items:
        release = releases.get(item["release_id"])
        master = (release and release["master_id"]) or item["basic_information"].get("master_id")
        if master:
            per_master[master].append(item["release_id"])
    dupes = sorted(
        ((m, ids) for m, ids in per_master.items() if len(ids) > 1),
        key=lambda x: (-len(x[1]), x[0]),
    )
    assert [(d["master_id"], d["copies"], d["release_ids"]) for d in stats["duplicates"]] == [
        (m, len(ids), sorted(set(ids))) for m, ids in dupes
    ][:top]
    assert any(d["master_id"] == 355203 for d in stats["duplicates"])

    months = Counter(i["date_added"].astimezone(UTC).strftime("%Y-%m") for i in items)
    assert stats["additions_per_month"] == [
        {"month": m, "count": n} for m, n in sorted(months.items())
    ]
    assert stats["ratings"] == [
        {"rating": r, "count": n} for r, n in sorted(Counter(i["rating"] for i in items).items())
    ]
    values = stats["value_over_time"]
    assert [float(v["median"]) for v in values] == [250.5, 260.0]
    assert values[0]["currency"] == "USD"


def test_database_stats_rows_per_table(api, db):
    body = api.ok("stats")
    assert body["served_dump"] == "2020-08-06"
    assert body["last_ingestion"]["status"] == "served"
    tables = {(t["schema_name"], t["table"]): t for t in body["tables"]}
    for table in ("releases", "release_tracks", "artists", "labels", "masters", "search_documents"):
        count = db.execute(f"SELECT count(*) FROM discogs.{table}").fetchone()[0]
        assert tables[("discogs", table)]["rows"] == count, table
        assert tables[("discogs", table)]["bytes"] > 0
    assert tables[("discogs", "releases")]["rows"] == 1000
    assert body["database_bytes"] > sum(t["bytes"] for t in body["tables"]) / 2
    assert api.get("stats").headers["cache-control"] == "no-store"


def test_user_stats_follow_a_sync_immediately(api, account):
    """Statistics are memoized per process, keyed by a fingerprint of the data they read: a sync
    that changes a rating and removes an item shows in the very next answer."""
    from shared.sync.service import run_foreground
    from tests.api.conftest import PACING, USERNAME

    before = api.ok("users/digger/stats")
    assert api.ok("users/digger/stats") == before  # served again, unchanged
    user = account["user"]
    changed = next(item for item in user.collection if item["rating"] == 5)
    changed["rating"] = 1
    removed = user.collection.pop()
    job = run_foreground(account["settings"], USERNAME, ("collection",), full=True, pacing=PACING)
    assert job.state == "succeeded", job.errors
    after = api.ok("users/digger/stats")
    ratings = {r["rating"]: r["count"] for r in after["ratings"]}
    old = {r["rating"]: r["count"] for r in before["ratings"]}
    assert ratings.get(5, 0) == old[5] - (1 if removed["rating"] != 5 else 2)
    assert after["totals"]["items"] == before["totals"]["items"] - 1


def test_user_stats_of_a_month_without_release_facts_are_the_same(account, db):
    """A month finalized before `release_facts` existed is served until it is rebuilt: the
    statistics then come from the tables the facts are built from, and equal them."""
    from shared.queries.stats import user_stats

    with_facts = user_stats(db, "Digger", 7)
    assert with_facts["totals"]["matched_releases"] > 0
    assert with_facts["roles"] and with_facts["countries"] and with_facts["decades"]
    assert with_facts["playing_time_seconds"] > 0
    db.execute("DROP TABLE discogs.release_facts")
    assert user_stats(db, "Digger", 7) == with_facts
