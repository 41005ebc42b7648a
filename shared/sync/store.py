"""SQL for the account tables: classify and upsert one page, mark removals, profile and value.

Every function takes an open connection and runs inside the caller's transaction; the job runner
commits a page's items together with the job's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from shared.discogs.models import CustomField, Folder, UserProfile


@dataclass(frozen=True)
class ItemKind:
    """How one synced list maps onto its table."""

    name: str
    table: str
    key: str
    # (column, SQL type) of the JSON rows handed to jsonb_to_recordset, in insert order.
    columns: tuple[tuple[str, str], ...]
    # md5 over what we consider the item's state, from the incoming record `r`. Image URLs are
    # left out on purpose: Discogs re-signs them, and a new signature must not make every item
    # look "updated" (that would also defeat the incremental stop).
    hash_sql: str
    # The username is part of the primary key (collection, wantlist) or only a column (listings).
    user_in_key: bool = True


COLLECTION = ItemKind(
    "collection",
    "collection_items",
    "instance_id",
    (
        ("instance_id", "bigint"),
        ("release_id", "bigint"),
        ("folder_id", "integer"),
        ("rating", "smallint"),
        ("date_added", "timestamptz"),
        ("notes", "jsonb"),
        ("basic_information", "jsonb"),
    ),
    "md5(jsonb_build_array(r.release_id, r.folder_id, r.rating, r.date_added, r.notes, "
    "r.basic_information - 'thumb' - 'cover_image')::text)",
)
WANTLIST = ItemKind(
    "wantlist",
    "wantlist_items",
    "release_id",
    (
        ("release_id", "bigint"),
        ("rating", "smallint"),
        ("notes", "text"),
        ("notes_public", "boolean"),
        ("date_added", "timestamptz"),
        ("basic_information", "jsonb"),
    ),
    "md5(jsonb_build_array(r.rating, r.notes, r.notes_public, r.date_added, "
    "r.basic_information - 'thumb' - 'cover_image')::text)",
)
INVENTORY = ItemKind(
    "inventory",
    "inventory_listings",
    "listing_id",
    (
        ("listing_id", "bigint"),
        ("release_id", "bigint"),
        ("status", "text"),
        ("condition", "text"),
        ("sleeve_condition", "text"),
        ("price", "numeric"),
        ("currency", "text"),
        ("posted", "timestamptz"),
        ("comments", "text"),
        ("allow_offers", "boolean"),
        ("ships_from", "text"),
        ("release", "jsonb"),
    ),
    "md5(jsonb_build_array(r.release_id, r.status, r.condition, r.sleeve_condition, r.price, "
    "r.currency, r.posted, r.comments, r.allow_offers, r.ships_from, "
    "r.release - 'thumbnail')::text)",
    user_in_key=False,
)


@dataclass(frozen=True)
class PageResult:
    added: int
    updated: int
    unchanged: int

    @property
    def all_unchanged(self) -> bool:
        return self.added == 0 and self.updated == 0 and self.unchanged > 0


def _table(kind: ItemKind) -> sql.Composable:
    return sql.Identifier("account", kind.table)


def apply_page(
    conn: psycopg.Connection,
    kind: ItemKind,
    username: str,
    job_id: str,
    rows: dict[int, dict[str, Any]],
) -> PageResult:
    """Upsert one page's rows in one statement; returns how many were new, changed, unchanged.

    All parts of the statement see the table as it was before it ran, so `old` holds the
    previous state of each row while `upserted` writes the new one. Unchanged rows are touched
    too (last_seen_job), which is what a full reconcile needs to find removals.
    """
    if not rows:
        return PageResult(0, 0, 0)
    row = conn.execute(
        _page_statement(kind),
        {
            "username": username,
            "job": job_id,
            "rows": Jsonb(list(rows.values())),
        },
    ).fetchone()
    assert row is not None
    return PageResult(int(row[0]), int(row[1]), int(row[2]))


_STATEMENTS: dict[str, sql.Composed] = {}


def _page_statement(kind: ItemKind) -> sql.Composed:
    if kind.name in _STATEMENTS:
        return _STATEMENTS[kind.name]
    names = [name for name, _ in kind.columns]
    conflict = ["username", kind.key] if kind.user_in_key else [kind.key]
    updates = [name for name in names if name not in conflict]
    key = sql.Identifier(kind.key)
    sold_insert = sold_update = sql.SQL("")
    if kind is INVENTORY:
        # A listing first seen as Sold, or turning Sold, gets its sold time once.
        sold_insert = sql.SQL(", CASE WHEN i.status = 'Sold' THEN now() END")
        sold_update = sql.SQL(
            ", sold_at = CASE WHEN EXCLUDED.status = 'Sold' THEN coalesce(t.sold_at, now()) END"
        )
    statement = sql.SQL(
        """
        WITH incoming AS (
            SELECT r.*, {hash} AS content_hash
            FROM jsonb_to_recordset(%(rows)s) AS r({record})
        ),
        old AS (
            SELECT t.{key} AS key, t.content_hash, t.removed_at IS NOT NULL AS was_removed
            FROM {table} AS t JOIN incoming AS i ON t.{key} = i.{key}
            WHERE t.username = %(username)s
            FOR UPDATE OF t
        ),
        upserted AS (
            INSERT INTO {table} AS t (username, {columns}, content_hash, last_seen_job,
                last_seen_at, updated_at{sold_column})
            SELECT %(username)s, {i_columns}, i.content_hash, %(job)s, now(), now(){sold_insert}
            FROM incoming AS i
            ON CONFLICT ({conflict}) DO UPDATE SET {updates}, username = EXCLUDED.username,
                updated_at = CASE WHEN t.content_hash IS DISTINCT FROM EXCLUDED.content_hash
                    OR t.removed_at IS NOT NULL THEN now() ELSE t.updated_at END,
                content_hash = EXCLUDED.content_hash, last_seen_job = EXCLUDED.last_seen_job,
                last_seen_at = now(), removed_at = NULL{sold_update}
            RETURNING 1
        )
        SELECT
            count(*) FILTER (WHERE o.key IS NULL OR o.was_removed),
            count(*) FILTER (WHERE NOT o.was_removed AND o.content_hash <> i.content_hash),
            count(*) FILTER (WHERE NOT o.was_removed AND o.content_hash = i.content_hash),
            (SELECT count(*) FROM upserted)
        FROM incoming AS i LEFT JOIN old AS o ON o.key = i.{key}
        """
    ).format(
        hash=sql.SQL(kind.hash_sql),
        record=sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(type_))
            for name, type_ in kind.columns
        ),
        key=key,
        table=_table(kind),
        columns=sql.SQL(", ").join(map(sql.Identifier, names)),
        i_columns=sql.SQL(", ").join(sql.Identifier("i", name) for name in names),
        sold_column=sql.SQL(", sold_at" if kind is INVENTORY else ""),
        sold_insert=sold_insert,
        conflict=sql.SQL(", ").join(map(sql.Identifier, conflict)),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name)) for name in updates
        ),
        sold_update=sold_update,
    )
    _STATEMENTS[kind.name] = statement
    return statement


def seen_count(conn: psycopg.Connection, kind: ItemKind, username: str, job_id: str) -> int:
    row = conn.execute(
        sql.SQL(
            "SELECT count(*) FROM {table} WHERE username = %s AND last_seen_job = %s "
            "AND removed_at IS NULL"
        ).format(table=_table(kind)),
        (username, job_id),
    ).fetchone()
    return int(row[0]) if row else 0


def mark_removed(conn: psycopg.Connection, kind: ItemKind, username: str, job_id: str) -> int:
    """After a complete walk: everything of this user not seen by the job is gone from Discogs."""
    cursor = conn.execute(
        sql.SQL(
            "UPDATE {table} SET removed_at = now() WHERE username = %s AND removed_at IS NULL "
            "AND last_seen_job IS DISTINCT FROM %s"
        ).format(table=_table(kind)),
        (username, job_id),
    )
    return cursor.rowcount


def upsert_user(conn: psycopg.Connection, username: str, profile: UserProfile, raw: dict) -> None:
    conn.execute(
        """
        INSERT INTO account.users AS u (username, user_id, name, curr_abbr, num_collection,
            num_wantlist, num_for_sale, profile, synced_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now())
        ON CONFLICT (username) DO UPDATE SET user_id = EXCLUDED.user_id, name = EXCLUDED.name,
            curr_abbr = EXCLUDED.curr_abbr, num_collection = EXCLUDED.num_collection,
            num_wantlist = EXCLUDED.num_wantlist, num_for_sale = EXCLUDED.num_for_sale,
            profile = EXCLUDED.profile, synced_at = now()
        """,
        (
            username,
            profile.id,
            profile.name,
            profile.curr_abbr,
            profile.num_collection,
            profile.num_wantlist,
            profile.num_for_sale,
            Jsonb(raw),
        ),
    )


def user_currency(conn: psycopg.Connection, username: str) -> str | None:
    row = conn.execute(
        "SELECT curr_abbr FROM account.users WHERE username = %s", (username,)
    ).fetchone()
    return row[0] if row else None


def has_collection_metadata(conn: psycopg.Connection, username: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM account.collection_folders WHERE username = %s)",
        (username,),
    ).fetchone()
    return bool(row and row[0])


def known_folder_and_field_ids(conn: psycopg.Connection, username: str) -> tuple[set, set]:
    folders = {
        r[0]
        for r in conn.execute(
            "SELECT folder_id FROM account.collection_folders "
            "WHERE username = %s AND removed_at IS NULL",
            (username,),
        )
    }
    fields = {
        r[0]
        for r in conn.execute(
            "SELECT field_id FROM account.collection_fields "
            "WHERE username = %s AND removed_at IS NULL",
            (username,),
        )
    }
    return folders, fields


def replace_folders(conn: psycopg.Connection, username: str, folders: list[Folder]) -> None:
    """The folder list comes whole in one response, so missing folders really are gone."""
    # executemany: one pipelined batch instead of a round trip per folder.
    conn.cursor().executemany(
        """
        INSERT INTO account.collection_folders (username, folder_id, name, item_count)
        VALUES (%s, %s, %s, %s)
        ON CONFLICT (username, folder_id) DO UPDATE SET name = EXCLUDED.name,
            item_count = EXCLUDED.item_count, synced_at = now(), removed_at = NULL
        """,
        [
            (username, folder.id, folder.name, folder.count)
            for folder in folders
            if folder.id != 0  # "All" is virtual
        ],
    )
    conn.execute(
        "UPDATE account.collection_folders SET removed_at = now() "
        "WHERE username = %s AND removed_at IS NULL AND NOT (folder_id = ANY(%s))",
        (username, [f.id for f in folders]),
    )


def replace_fields(conn: psycopg.Connection, username: str, fields: list[CustomField]) -> None:
    conn.cursor().executemany(
        """
        INSERT INTO account.collection_fields (username, field_id, name, field_type,
            position, public, options, lines)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (username, field_id) DO UPDATE SET name = EXCLUDED.name,
            field_type = EXCLUDED.field_type, position = EXCLUDED.position,
            public = EXCLUDED.public, options = EXCLUDED.options, lines = EXCLUDED.lines,
            synced_at = now(), removed_at = NULL
        """,
        [
            (
                username,
                field.id,
                field.name,
                field.type,
                field.position,
                field.public,
                Jsonb(field.options) if field.options is not None else None,
                field.lines,
            )
            for field in fields
        ],
    )
    conn.execute(
        "UPDATE account.collection_fields SET removed_at = now() "
        "WHERE username = %s AND removed_at IS NULL AND NOT (field_id = ANY(%s))",
        (username, [f.id for f in fields]),
    )


def insert_value(
    conn: psycopg.Connection,
    username: str,
    amounts: dict[str, Decimal | None],
    currency: str | None,
    raw: dict[str, Any],
) -> None:
    conn.execute(
        """
        INSERT INTO account.collection_values (username, fetched_at, minimum, median, maximum,
            currency, raw)
        VALUES (%s, clock_timestamp(), %s, %s, %s, %s, %s)
        """,
        (
            username,
            amounts.get("minimum"),
            amounts.get("median"),
            amounts.get("maximum"),
            currency,
            Jsonb(raw),
        ),
    )
