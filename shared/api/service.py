"""The API's request handling: parameters in, database reads, models out, errors as problems.

`handle(name, request)` is what every HTTP function of the API calls. It never lets an exception
become a bare 500: client mistakes are ApiError (4xx), an overloaded database is 503, and only a
real fault is a logged 500 problem.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from shared.api import memo, models
from shared.api.caching import CacheKind, cache_control
from shared.api.cors import cors_headers, preflight_headers
from shared.api.cursor import decode_cursor, encode_cursor, fingerprint
from shared.api.db import read_transaction
from shared.api.endpoints import BY_NAME
from shared.api.http import ApiRequest, ApiResponse
from shared.api.openapi import build_openapi
from shared.api.params import (
    CollectionParams,
    DetailParams,
    InventoryParams,
    NoParams,
    SearchParams,
    UserStatsParams,
    VersionsParams,
    WantlistParams,
    parse_id,
    parse_params,
    parse_username,
)
from shared.api.problems import (
    ApiError,
    bad_request,
    database_unavailable,
    not_found,
    search_index_outdated,
)
from shared.queries import account, entities, search, stats, user_stats_store
from shared.queries.served import search_state
from shared.settings import get_settings

log = logging.getLogger(__name__)
Handler = Callable[[ApiRequest, psycopg.Connection], tuple[Any, CacheKind | None]]


def _position(cursor: str | None, bound_to: str, valid: Callable[[list[Any]], bool]) -> Any:
    if cursor is None:
        return None
    position = decode_cursor(cursor, bound_to)
    if not valid(position):
        raise bad_request("cursor is malformed")
    return position


def _user(conn: psycopg.Connection, raw: str | None) -> tuple[str, Any]:
    username = parse_username(raw)
    found = account.resolve_user(conn, username)
    if found is None:
        raise not_found(f"user {username} was never synced")
    return found


# --- handlers: (request, connection) -> (model, cache kind override) -------------------------


def _search(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
    p = parse_params(SearchParams, request.query)
    bound = fingerprint(p.model_dump())
    after = _position(p.cursor, bound, lambda pos: search.position_is_valid(p.sort, bool(p.q), pos))
    username = None
    if p.username and (p.in_collection is not None or p.in_wantlist is not None):
        username = _user(conn, p.username)[0]
    kind = CacheKind.ACCOUNT if username else None
    available, current, dump_date = search_state(conn)
    if available and not current:
        raise search_index_outdated()
    if not available:
        return models.SearchResponse(
            items=[],
            next_cursor=None,
            total=0 if after is None else None,
            facets=None,
            dump_date=None,
        ), kind
    result = search.search(
        conn,
        search.SearchQuery(
            q=p.q,
            type=None if p.type == "all" else p.type,
            genre=p.genre,
            style=p.style,
            country=p.country,
            format=p.format,
            label=p.label,
            year_from=p.year_from,
            year_to=p.year_to,
            username=username,
            in_collection=p.in_collection,
            in_wantlist=p.in_wantlist,
            sort=p.sort,
            limit=p.limit,
            after=tuple(after) if after else None,
            facets=p.facets,
        ),
    )
    return models.SearchResponse(
        items=[models.SearchHit(**item) for item in result.items],
        next_cursor=encode_cursor(result.next_position, bound) if result.next_position else None,
        total=result.total,
        total_exhaustive=result.exhaustive if result.total is not None else None,
        facets=models.Facets(**result.facets) if result.facets is not None else None,
        facets_exhaustive=result.exhaustive if result.facets is not None else None,
        dump_date=dump_date,
    ), kind


def _release(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
    release_id = parse_id(request.route_params.get("id"))
    p = parse_params(DetailParams, request.query)
    user = _user(conn, p.username)[0] if p.username else None
    document = entities.release_detail(conn, release_id)
    if document is None:
        raise not_found(f"no release {release_id} in the served dump")
    if user:
        document["user"] = entities.ownership(conn, user, release_id)
    return models.ReleaseDetail(**document), CacheKind.ACCOUNT if user else None


def _master(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
    master_id = parse_id(request.route_params.get("id"))
    p = parse_params(VersionsParams, request.query)
    bound = fingerprint({"master": master_id})
    after = _position(
        p.cursor, bound, lambda pos: len(pos) == 1 and type(pos[0]) is int and pos[0] > 0
    )
    document = entities.master_detail(conn, master_id)
    if document is None:
        raise not_found(f"no master {master_id} in the served dump")
    versions = entities.master_versions(conn, master_id, after[0] if after else 0, p.limit + 1)
    more = len(versions) > p.limit
    versions = versions[: p.limit]
    document["versions"] = versions
    document["next_cursor"] = encode_cursor([versions[-1]["id"]], bound) if more else None
    return models.MasterDetail(**document), None


def _entity(
    kind: str, fetch: Callable[[psycopg.Connection, int], dict | None], model: type
) -> Callable[[ApiRequest, psycopg.Connection], tuple[Any, CacheKind | None]]:
    def handler(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
        entity_id = parse_id(request.route_params.get("id"))
        parse_params(NoParams, request.query)
        document = fetch(conn, entity_id)
        if document is None:
            raise not_found(f"no {kind} {entity_id} in the served dump")
        return model(**document), None

    return handler


def _account_list(
    kind: account.ListKind, params_model: type, item_model: type, page_model: type
) -> Callable[[ApiRequest, psycopg.Connection], tuple[Any, CacheKind | None]]:
    def handler(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
        raw_username = request.route_params.get("username")
        parse_username(raw_username)
        p = parse_params(params_model, request.query)
        username, synced_at = _user(conn, raw_username)
        bound = fingerprint({"list": kind, "user": username, **p.model_dump(mode="json")})
        after = _position(p.cursor, bound, lambda pos: account.position_is_valid(kind, p.sort, pos))
        values = p.model_dump(exclude={"cursor"})
        query = account.AccountQuery(
            username=username, after=tuple(after) if after else None, **values
        )
        rows, position = account.list_items(conn, kind, query)
        items = [item_model(**_item(kind, row)) for row in rows]
        return page_model(
            username=username,
            items=items,
            next_cursor=encode_cursor(position, bound) if position else None,
            synced_at=synced_at,
        ), None

    return handler


# The columns of each list's rows that its item model takes as they are.
_ITEM_COLUMNS: dict[account.ListKind, tuple[str, ...]] = {
    "collection": (
        "instance_id",
        "release_id",
        "folder_id",
        "folder_name",
        "rating",
        "date_added",
        "fields",
        "basic_information",
    ),
    "wantlist": ("release_id", "rating", "notes", "date_added", "basic_information"),
    "inventory": (
        "listing_id",
        "release_id",
        "status",
        "condition",
        "sleeve_condition",
        "price",
        "currency",
        "posted",
        "comments",
        "allow_offers",
        "ships_from",
        "sold_at",
        "removed_at",
    ),
}


def _item(kind: account.ListKind, row: dict[str, Any]) -> dict[str, Any]:
    item = {column: row[column] for column in _ITEM_COLUMNS[kind]}
    if kind == "inventory":
        item["snapshot"] = row["release"]  # Discogs' snapshot of the listing's release
    item["release"] = row["release_summary"]
    return item


def _user_stats(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
    raw_username = request.route_params.get("username")
    parse_username(raw_username)
    p = parse_params(UserStatsParams, request.query)
    username, _ = _user(conn, raw_username)
    info = conn.info
    key = (
        info.host,
        info.port,
        info.dbname,
        username,
        p.top,
        stats.user_stats_fingerprint(conn, username),
    )
    found = memo.USER_STATS.get(key)
    if found is None:
        # Stored when the last sync finished or the month was swapped in (same fingerprint:
        # computed from exactly this data); computed here only when nothing current is stored.
        stored = user_stats_store.stored_user_stats(conn, username, p.top, key[-1])
        computed = stored if stored is not None else stats.user_stats(conn, username, p.top)
        found = models.UserStats(**computed)
        memo.USER_STATS.put(key, found)
    return found, None


def _database_stats(request: ApiRequest, conn: psycopg.Connection) -> tuple[Any, CacheKind | None]:
    parse_params(NoParams, request.query)
    return models.DatabaseStats(**stats.database_stats(conn)), None


HANDLERS: dict[str, Handler] = {
    "api_search": _search,
    "api_release": _release,
    "api_master": _master,
    "api_artist": _entity("artist", entities.artist_detail, models.ArtistDetail),
    "api_label": _entity("label", entities.label_detail, models.LabelDetail),
    "api_collection": _account_list(
        "collection", CollectionParams, models.CollectionItem, models.CollectionPage
    ),
    "api_wantlist": _account_list(
        "wantlist", WantlistParams, models.WantlistItem, models.WantlistPage
    ),
    "api_inventory": _account_list(
        "inventory", InventoryParams, models.InventoryItem, models.InventoryPage
    ),
    "api_user_stats": _user_stats,
    "api_stats": _database_stats,
}


# --- dispatch ---------------------------------------------------------------------------------


def _allowed_origins() -> list[str]:
    try:
        return list(get_settings().cors_allowed_origins)
    except Exception:  # settings broken: no CORS grant; the request itself reports the fault
        return []


def _finish(response: ApiResponse, request: ApiRequest) -> ApiResponse:
    response.headers.update(cors_headers(request.header("Origin"), _allowed_origins()))
    return response


def _problem(error: ApiError, request: ApiRequest) -> ApiResponse:
    return error.response(instance=request.path)


def handle(name: str, request: ApiRequest) -> ApiResponse:
    """Answer one request to the API endpoint `name`."""
    endpoint = BY_NAME[name]
    try:
        settings = get_settings()
        with read_transaction(settings) as conn:
            model, cache = HANDLERS[name](request, conn)
        response = ApiResponse.of(model)
        response.headers["Cache-Control"] = cache_control(cache or endpoint.cache)
    except ApiError as error:
        response = _problem(error, request)
    except pg_errors.QueryCanceled:
        log.warning("statement timeout in %s", name)
        response = _problem(
            ApiError(503, "the query took too long; narrow it down", headers={"Retry-After": "5"}),
            request,
        )
    except (psycopg.OperationalError, PoolTimeout):
        log.exception("database unavailable in %s", name)
        response = _problem(database_unavailable(), request)
    except Exception:
        log.exception("unexpected fault in %s", name)
        response = _problem(ApiError(500, "internal error; it has been logged"), request)
    return _finish(response, request)


@functools.cache
def _openapi_document(read_auth: str) -> bytes:
    return json.dumps(build_openapi(read_auth=read_auth)).encode()


def openapi_response(request: ApiRequest, *, read_auth: str) -> ApiResponse:
    try:
        parse_params(NoParams, request.query)
    except ApiError as error:
        return _finish(_problem(error, request), request)
    document = _openapi_document(read_auth)
    response = ApiResponse(200, document)
    response.headers["Cache-Control"] = cache_control(CacheKind.DUMP)
    return _finish(response, request)


def preflight_response(request: ApiRequest) -> ApiResponse:
    headers = preflight_headers(request.header("Origin"), _allowed_origins())
    if headers is None:
        detail = "this origin may not call the API (see CORS_ALLOWED_ORIGINS)"
        return ApiError(403, detail, headers={"Vary": "Origin"}).response(request.path)
    return ApiResponse(204, b"", headers)
