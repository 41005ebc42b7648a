"""Entity details: releases, masters (with paged versions), artists and labels."""

from __future__ import annotations

from typing import Any

import psycopg

from shared.queries import load_sql
from shared.queries.served import dump_served


def _one_document(conn: psycopg.Connection, name: str, params: dict[str, Any]) -> Any | None:
    if not dump_served(conn):
        return None
    row = conn.execute(load_sql(name), params).fetchone()
    return row[0] if row else None


def nest_tracks(flat: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat tracks in document order → top-level tracks with their `sub_tracks` inside."""
    by_sequence: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    for track in flat:
        node = {k: v for k, v in track.items() if k not in ("sequence", "parent_sequence")}
        node["sub_tracks"] = []
        by_sequence[track["sequence"]] = node
        parent = by_sequence.get(track.get("parent_sequence"))  # type: ignore[arg-type]
        (parent["sub_tracks"] if parent is not None else top).append(node)
    return top


def release_detail(conn: psycopg.Connection, release_id: int) -> dict[str, Any] | None:
    document = _one_document(conn, "release_detail", {"id": release_id})
    if document is None:
        return None
    document["tracklist"] = nest_tracks(document.pop("tracks"))
    document.pop("master_id", None)
    return document


def ownership(conn: psycopg.Connection, username: str, release_id: int) -> dict[str, Any]:
    copies, want = conn.execute(
        load_sql("ownership"), {"username": username, "release_id": release_id}
    ).fetchone()  # type: ignore[misc]
    return {
        "username": username,
        "in_collection": bool(copies),
        "collection": copies,
        "in_wantlist": want is not None,
        "wantlist": want,
    }


def master_detail(conn: psycopg.Connection, master_id: int) -> dict[str, Any] | None:
    return _one_document(conn, "master_detail", {"id": master_id})


def master_versions(
    conn: psycopg.Connection, master_id: int, after_id: int, limit: int
) -> list[dict[str, Any]]:
    rows = conn.execute(
        load_sql("master_versions"), {"id": master_id, "after_id": after_id, "limit": limit}
    ).fetchall()
    return [row[0] for row in rows]


def artist_detail(conn: psycopg.Connection, artist_id: int) -> dict[str, Any] | None:
    return _one_document(conn, "artist_detail", {"id": artist_id})


def label_detail(conn: psycopg.Connection, label_id: int) -> dict[str, Any] | None:
    return _one_document(conn, "label_detail", {"id": label_id})
