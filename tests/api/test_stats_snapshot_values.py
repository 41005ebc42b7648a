"""The per-item breakdown values that migration 0402 derives from Discogs' snapshot, and the user
statistics built on them, for snapshots of every odd shape. The items' releases are not in any
dump, so the statistics come from the snapshots alone, with or without a served month."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from shared.queries.stats import user_stats

RELEASE_BASE = 9_000_000_000

SNAPSHOTS = [
    # duplicates inside one item count once; empty strings and nulls are skipped
    {
        "title": "One",
        "year": 1977,
        "master_id": 10,
        "genres": ["Rock", "Rock", "", None, "Jazz"],
        "styles": ["Punk"],
        "labels": [{"name": "EMI"}, {"name": "EMI", "catno": "2"}, {"name": ""}, {"id": 3}],
        "formats": [{"name": "Vinyl", "qty": "2"}, {"name": "Vinyl"}],
        "artists": [{"name": "The Band"}],
    },
    # not arrays, or arrays of the wrong things: nothing
    {
        "title": "Two",
        "year": "unknown",
        "master_id": 10,
        "genres": "Rock",
        "styles": None,
        "labels": ["EMI"],
        "formats": {"name": "CD"},
    },
    # a scalar that is not a string still has a text value
    {"title": "Three", "year": 1981, "master_id": 0, "genres": ["Rock", 7], "artists": []},
]


def _seed(conn: psycopg.Connection) -> None:
    conn.execute(
        "INSERT INTO account.users (username, profile) VALUES ('odd', '{}')",
    )
    for n, snapshot in enumerate(SNAPSHOTS, start=1):
        conn.execute(
            "INSERT INTO account.collection_items (username, instance_id, release_id, folder_id,"
            " basic_information, content_hash) VALUES ('odd', %s, %s, 1, %s, 'h')",
            (n, RELEASE_BASE + n, Jsonb(snapshot)),
        )


def test_the_item_columns_hold_each_distinct_value_once(db):
    _seed(db)
    rows = db.execute(
        "SELECT snapshot_genres, snapshot_styles, snapshot_labels, snapshot_formats,"
        " snapshot_artists FROM account.collection_items WHERE username = 'odd'"
        " ORDER BY instance_id"
    ).fetchall()
    assert rows == [
        (["Jazz", "Rock"], ["Punk"], ["EMI"], ["Vinyl"], ["The Band"]),
        ([], [], [], [], []),
        (["7", "Rock"], [], [], [], []),
    ]


def test_the_columns_follow_an_updated_snapshot(db):
    _seed(db)
    db.execute(
        "UPDATE account.collection_items SET basic_information = %s"
        " WHERE username = 'odd' AND instance_id = 2",
        (Jsonb({"genres": ["Pop"], "labels": [{"name": "Sire"}]}),),
    )
    row = db.execute(
        "SELECT snapshot_genres, snapshot_labels FROM account.collection_items"
        " WHERE username = 'odd' AND instance_id = 2"
    ).fetchone()
    assert row == (["Pop"], ["Sire"])


def test_statistics_from_odd_snapshots_with_and_without_a_served_month(db):
    _seed(db)
    stats = user_stats(db, "odd", 10)
    # Without a served month the statement reads no dump table at all; same answer.
    db.execute("DROP SCHEMA IF EXISTS discogs CASCADE")
    assert user_stats(db, "odd", 10) == stats
    assert stats["totals"] == {
        "items": 3,
        "releases": 3,
        "wantlist": 0,
        "inventory_for_sale": 0,
        "matched_releases": 0,
        "rated": 0,
    }
    assert stats["genres"] == [
        {"value": "Rock", "count": 2},
        {"value": "7", "count": 1},
        {"value": "Jazz", "count": 1},
    ]
    assert stats["labels"] == [{"value": "EMI", "count": 1}]
    assert stats["formats"] == [{"value": "Vinyl", "count": 1}]
    assert stats["artists"] == [{"value": "The Band", "count": 1}]
    assert stats["decades"] == [{"value": "1970", "count": 1}, {"value": "1980", "count": 1}]
    assert stats["duplicates"] == [
        {
            "master_id": 10,
            "title": "One",
            "copies": 2,
            "release_ids": [RELEASE_BASE + 1, RELEASE_BASE + 2],
        }
    ]
    assert stats["countries"] == [] and stats["roles"] == []
    assert stats["playing_time_seconds"] == 0
    assert stats["ratings"] == [{"rating": 0, "count": 3}]
    assert stats["additions_per_month"] == []
