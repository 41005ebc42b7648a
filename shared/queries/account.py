"""Collection, wantlist and inventory pages: filtered, sorted, keyset-paged, each item enriched
with the served dump's data for its release.

Filters read Discogs' own snapshot of each item (`basic_information`, or a listing's `release`),
which every synced item has, so filtering works the same whether or not a dump is loaded; genre
and style of inventory listings (absent from their snapshot) come from the dump.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from shared.queries import load_sql
from shared.queries.served import dump_served

ListKind = Literal["collection", "wantlist", "inventory"]


@dataclass(frozen=True)
class AccountQuery:
    username: str
    q: str | None = None
    artist: str | None = None
    genre: str | None = None
    style: str | None = None
    format: str | None = None
    rating: int | None = None
    year_from: int | None = None
    year_to: int | None = None
    folder: int | None = None
    status: str | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    condition: str | None = None
    sort: str = "-date_added"
    limit: int = 20
    after: tuple[Any, int] | None = None


@dataclass(frozen=True)
class _ListShape:
    table: str
    key: str
    snapshot: str
    # sort name -> (expression, SQL type the cursor value is cast to)
    sorts: dict[str, tuple[str, str]]


def _year(snapshot: str) -> str:
    return (
        f"(CASE WHEN i.{snapshot}->>'year' ~ '^[0-9]{{1,4}}$' "
        f"THEN (i.{snapshot}->>'year')::integer ELSE 0 END)"
    )


_SNAPSHOT_SORTS = {
    "year": (_year("basic_information"), "integer"),
    "title": ("left(public.fold_text(coalesce(i.basic_information->>'title', '')), 200)", "text"),
    "artist": (
        "left(public.fold_text(coalesce(i.basic_information->'artists'->0->>'name', '')), 200)",
        "text",
    ),
    "rating": ("i.rating::integer", "integer"),
    "date_added": ("coalesce(i.date_added, 'epoch'::timestamptz)", "timestamptz"),
}
SHAPES: dict[ListKind, _ListShape] = {
    "collection": _ListShape(
        "collection_items", "instance_id", "basic_information", _SNAPSHOT_SORTS
    ),
    "wantlist": _ListShape("wantlist_items", "release_id", "basic_information", _SNAPSHOT_SORTS),
    "inventory": _ListShape(
        "inventory_listings",
        "listing_id",
        "release",
        {
            "year": (_year("release"), "integer"),
            "title": ("left(public.fold_text(coalesce(i.release->>'title', '')), 200)", "text"),
            "artist": ("left(public.fold_text(coalesce(i.release->>'artist', '')), 200)", "text"),
            "price": ("coalesce(i.price, -1)", "numeric"),
            "posted": ("coalesce(i.posted, 'epoch'::timestamptz)", "timestamptz"),
        },
    ),
}


def resolve_user(conn: psycopg.Connection, username: str) -> tuple[str, datetime | None] | None:
    """The stored spelling of a synced user (Discogs names are case-insensitive) and sync time."""
    row = conn.execute(
        "SELECT username, synced_at FROM account.users WHERE lower(username) = lower(%s)"
        " ORDER BY username = %s DESC LIMIT 1",
        (username, username),
    ).fetchone()
    return (row[0], row[1]) if row else None


def position_is_valid(kind: ListKind, sort: str, position: list[Any]) -> bool:
    """A decoded cursor position fits this list and sort: [key, item key]."""
    if len(position) != 2 or type(position[1]) is not int or not 0 <= position[1] < 2**63:
        return False
    key = position[0]
    cast = SHAPES[kind].sorts[sort.lstrip("-")][1]
    if cast == "integer":
        return type(key) is int and -(2**31) < key < 2**31
    if cast == "text":
        return isinstance(key, str) and len(key) <= 200
    if cast == "numeric":
        try:
            return isinstance(key, str) and abs(Decimal(key)) < 10**12
        except InvalidOperation:
            return False
    if not isinstance(key, str):
        return False
    try:
        datetime.fromisoformat(key)
    except ValueError:
        return False
    return True


# A folded word as a LIKE pattern matching it anywhere, its own wildcards escaped.
_CONTAINS = (
    "'%%' || replace(replace(replace(public.fold_text({word}), '\\', '\\\\'),"
    " '%%', '\\%%'), '_', '\\_') || '%%'"
)


def _snapshot_text(shape: _ListShape) -> str:
    if shape.snapshot == "release":
        return "coalesce(i.release->>'title', '') || ' ' || coalesce(i.release->>'artist', '')"
    return (
        "coalesce(i.basic_information->>'title', '') || ' ' || "
        "jsonb_path_query_array(i.basic_information, '$.artists[*].name')::text"
    )


def _conditions(
    kind: ListKind, query: AccountQuery, served: bool
) -> tuple[list[sql.Composable], dict[str, Any]]:
    shape = SHAPES[kind]
    where: list[sql.Composable] = [sql.SQL("i.username = %(username)s")]
    params: dict[str, Any] = {"username": query.username}
    if kind == "inventory" and query.status == "removed":
        where.append(sql.SQL("i.removed_at IS NOT NULL"))
    else:
        where.append(sql.SQL("i.removed_at IS NULL"))
    if query.q:
        for n, word in enumerate(query.q.split()[:10]):
            where.append(
                # LIKE on the folded text (the trigram index of migration 0400 serves it), with
                # the word's own LIKE wildcards escaped: a plain substring match.
                sql.SQL("public.fold_text({text}) LIKE " + _CONTAINS).format(
                    text=sql.SQL(_snapshot_text(shape)), word=sql.Placeholder(f"w{n}")
                )
            )
            params[f"w{n}"] = word
    if query.artist:
        artists = (
            "coalesce(i.release->>'artist', '')"
            if kind == "inventory"
            else "jsonb_path_query_array(i.basic_information, '$.artists[*].name')::text"
        )
        where.append(
            sql.SQL("strpos(public.fold_text({a}), public.fold_text(%(artist)s)) > 0").format(
                a=sql.SQL(artists)
            )
        )
        params["artist"] = query.artist
    for name in ("genre", "style"):
        value = getattr(query, name)
        if value is None:
            continue
        params[name] = value
        if kind != "inventory":
            where.append(
                sql.SQL("i.basic_information->{} ? {}").format(
                    sql.Literal(name + "s"), sql.Placeholder(name)
                )
            )
        elif served:
            where.append(
                sql.SQL(
                    "EXISTS (SELECT 1 FROM discogs.releases AS r WHERE r.id = i.release_id"
                    " AND {} = ANY(r.{}))"
                ).format(sql.Placeholder(name), sql.Identifier(name + "s"))
            )
        else:
            where.append(sql.SQL("FALSE"))
    if query.format:
        params["format"] = query.format
        if kind == "inventory":
            where.append(
                sql.SQL(
                    "strpos(public.fold_text(coalesce(i.release->>'format', '')),"
                    " public.fold_text(%(format)s)) > 0"
                )
            )
        else:
            where.append(
                sql.SQL(
                    "jsonb_path_exists(i.basic_information, '$.formats[*] ? (@.name == $f)',"
                    " jsonb_build_object('f', %(format)s::text))"
                )
            )
    if query.rating is not None and kind != "inventory":
        where.append(sql.SQL("i.rating = %(rating)s"))
        params["rating"] = query.rating
    year = sql.SQL(shape.sorts["year"][0])
    if query.year_from is not None:
        where.append(sql.SQL("{} >= %(year_from)s").format(year))
        params["year_from"] = query.year_from
    if query.year_to is not None:
        where.append(sql.SQL("{} BETWEEN 1 AND %(year_to)s").format(year))
        params["year_to"] = query.year_to
    if kind == "collection" and query.folder:
        where.append(sql.SQL("i.folder_id = %(folder)s"))
        params["folder"] = query.folder
    if kind == "inventory":
        if query.status and query.status != "removed":
            where.append(sql.SQL("i.status = %(status)s"))
            params["status"] = query.status
        if query.price_min is not None:
            where.append(sql.SQL("i.price >= %(price_min)s"))
            params["price_min"] = query.price_min
        if query.price_max is not None:
            where.append(sql.SQL("i.price <= %(price_max)s"))
            params["price_max"] = query.price_max
        if query.condition:
            where.append(sql.SQL("i.condition = %(condition)s"))
            params["condition"] = query.condition
    return where, params


def _extra_columns(kind: ListKind) -> sql.Composable:
    if kind == "collection":
        return sql.SQL(
            ", (SELECT f.name FROM account.collection_folders AS f"
            " WHERE f.username = i.username AND f.folder_id = i.folder_id) AS folder_name,"
            " (SELECT coalesce(jsonb_object_agg(coalesce(f.name, n.key), n.value), '{}'::jsonb)"
            " FROM jsonb_each_text(i.notes) AS n LEFT JOIN account.collection_fields AS f"
            " ON f.username = i.username AND f.field_id::text = n.key) AS fields"
        )
    return sql.SQL("")


def list_items(
    conn: psycopg.Connection, kind: ListKind, query: AccountQuery
) -> tuple[list[dict[str, Any]], list[Any] | None]:
    """One page of items (as dicts of columns) and the position after it, if there is more."""
    shape = SHAPES[kind]
    served = dump_served(conn)
    where, params = _conditions(kind, query, served)
    expression, cast = shape.sorts[query.sort.lstrip("-")]
    descending = query.sort.startswith("-")
    if query.after is not None:
        where.append(
            sql.SQL("({expr}, i.{key}) {op} (%(after_key)s::{cast}, %(after_id)s)").format(
                expr=sql.SQL(expression),
                key=sql.Identifier(shape.key),
                op=sql.SQL("<" if descending else ">"),
                cast=sql.SQL(cast),
            )
        )
        params["after_key"], params["after_id"] = query.after
    release = (
        sql.SQL(load_sql("release_summary").format(release_id="i.release_id"))
        if served
        else sql.SQL("NULL::jsonb")
    )
    direction = sql.SQL("DESC" if descending else "ASC")
    statement = sql.SQL(
        "SELECT i.*, {release} AS release_summary, {expr} AS sort_key{extra}"
        " FROM account.{table} AS i WHERE {where}"
        " ORDER BY sort_key {dir}, i.{key} {dir} LIMIT %(limit)s"
    ).format(
        release=release,
        expr=sql.SQL(expression),
        extra=_extra_columns(kind),
        table=sql.Identifier(shape.table),
        where=sql.SQL(" AND ").join(where),
        dir=direction,
        key=sql.Identifier(shape.key),
    )
    params["limit"] = query.limit + 1
    cursor = conn.cursor(row_factory=dict_row)
    rows = cursor.execute(statement, params).fetchall()
    page = rows[: query.limit]
    position = None
    if len(rows) > query.limit:
        last = page[-1]
        key = last["sort_key"]
        if isinstance(key, datetime):
            key = key.isoformat()
        elif isinstance(key, Decimal):
            key = str(key)
        position = [key, last[shape.key]]
    return page, position
