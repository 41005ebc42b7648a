"""Every HTTP endpoint of the app, described once: route, method, auth, parameters, bodies and
responses. The OpenAPI document is generated from this list, and the API's own functions are
dispatched through it, so the description is the code's.

Endpoints owned by other parts of the app (health, ingestion, account sync) are described here too
with their models: where their own pydantic models exist they are imported (see `external.py`),
otherwise the models in `external.py` describe them from their issues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from shared.api import external, models, params
from shared.api.caching import CacheKind
from shared.pipeline.http import IngestionRequest

# read: the API's configurable level (API_AUTH_LEVEL); function/admin/anonymous: fixed levels.
Auth = Literal["read", "function", "admin", "anonymous"]


@dataclass(frozen=True)
class PathParam:
    name: str
    description: str
    schema: dict = field(default_factory=lambda: {"type": "string"})


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    route: str
    summary: str
    tag: str
    auth: Auth
    query: type[BaseModel] | None = None
    path_params: tuple[PathParam, ...] = ()
    body: type[BaseModel] | None = None
    responses: dict[int, tuple[str, type[BaseModel] | None]] = field(default_factory=dict)
    cache: CacheKind = CacheKind.DUMP
    owned: bool = True  # False: implemented by another part of the app (described here only)
    # Unexpected faults and an unreachable database answer 500/503 problems (every HTTP function
    # but health, whose 503 is its report).
    problem_faults: bool = True


_ID = {"type": "integer", "minimum": 1, "maximum": params.MAX_ID}
_USERNAME = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$"}
_ENTITY_ERRORS = {400: ("Invalid id or parameters", None), 404: ("No such id", None)}
_USER_ERRORS = {400: ("Invalid username or parameters", None), 404: ("User never synced", None)}


def _id(name: str = "id", what: str = "entity") -> tuple[PathParam, ...]:
    return (PathParam(name, f"Discogs {what} id", _ID),)


_USER = (PathParam("username", "Discogs username", _USERNAME),)

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "api_search",
        "GET",
        "search",
        "Search releases, masters, artists and labels",
        "search",
        "read",
        params.SearchParams,
        responses={
            200: ("Ranked hits, next cursor and facets", models.SearchResponse),
            400: ("Invalid parameters or cursor", None),
            404: ("username never synced", None),
            503: (
                "The database is unavailable (see Retry-After), or the served month's search"
                " index was built by an older version (rebuild: python -m shared.cli"
                " api-structures)",
                None,
            ),
        },
    ),
    Endpoint(
        "api_release",
        "GET",
        "releases/{id}",
        "A release with everything about it",
        "database",
        "read",
        params.DetailParams,
        _id(what="release"),
        responses={200: ("The release", models.ReleaseDetail), **_ENTITY_ERRORS},
    ),
    Endpoint(
        "api_master",
        "GET",
        "masters/{id}",
        "A master with its versions (paged)",
        "database",
        "read",
        params.VersionsParams,
        _id(what="master"),
        responses={200: ("The master", models.MasterDetail), **_ENTITY_ERRORS},
    ),
    Endpoint(
        "api_artist",
        "GET",
        "artists/{id}",
        "An artist: names, members, release counts by role",
        "database",
        "read",
        params.NoParams,
        _id(what="artist"),
        responses={200: ("The artist", models.ArtistDetail), **_ENTITY_ERRORS},
    ),
    Endpoint(
        "api_label",
        "GET",
        "labels/{id}",
        "A label: parent, sublabels, release counts",
        "database",
        "read",
        params.NoParams,
        _id(what="label"),
        responses={200: ("The label", models.LabelDetail), **_ENTITY_ERRORS},
    ),
    Endpoint(
        "api_collection",
        "GET",
        "users/{username}/collection",
        "A user's collection",
        "account",
        "read",
        params.CollectionParams,
        _USER,
        responses={200: ("One page of items", models.CollectionPage), **_USER_ERRORS},
        cache=CacheKind.ACCOUNT,
    ),
    Endpoint(
        "api_wantlist",
        "GET",
        "users/{username}/wantlist",
        "A user's wantlist",
        "account",
        "read",
        params.WantlistParams,
        _USER,
        responses={200: ("One page of items", models.WantlistPage), **_USER_ERRORS},
        cache=CacheKind.ACCOUNT,
    ),
    Endpoint(
        "api_inventory",
        "GET",
        "users/{username}/inventory",
        "A seller's inventory",
        "account",
        "read",
        params.InventoryParams,
        _USER,
        responses={200: ("One page of listings", models.InventoryPage), **_USER_ERRORS},
        cache=CacheKind.ACCOUNT,
    ),
    Endpoint(
        "api_user_stats",
        "GET",
        "users/{username}/stats",
        "Statistics of a user's collection",
        "account",
        "read",
        params.UserStatsParams,
        _USER,
        responses={200: ("The statistics", models.UserStats), **_USER_ERRORS},
        cache=CacheKind.ACCOUNT,
    ),
    Endpoint(
        "api_stats",
        "GET",
        "stats",
        "The database: rows and sizes, served month",
        "operations",
        "read",
        params.NoParams,
        responses={
            200: ("Database statistics", models.DatabaseStats),
            400: ("Unknown parameters", None),
        },
        cache=CacheKind.LIVE,
    ),
    Endpoint(
        "api_openapi",
        "GET",
        "openapi.json",
        "This document (OpenAPI 3.1)",
        "operations",
        "anonymous",
        params.NoParams,
        responses={200: ("The OpenAPI document", None), 400: ("Unknown parameters", None)},
    ),
    # --- owned by other parts of the app ------------------------------------------------------
    Endpoint(
        "health",
        "GET",
        "health",
        "Database, Blob, Queue and Table reachability",
        "operations",
        "anonymous",
        responses={
            200: ("All checks pass", external.HEALTH_REPORT),
            503: ("A check fails", external.HEALTH_REPORT),
        },
        cache=CacheKind.LIVE,
        owned=False,
        problem_faults=False,
    ),
    Endpoint(
        "sync_start",
        "POST",
        "users/{username}/sync",
        "Start a sync of a user's account",
        "sync",
        "admin",
        path_params=_USER,
        body=external.SyncRequest,
        responses={
            202: ("Job created; Location: /api/jobs/{id}", external.JOB_SUMMARY),
            400: ("Invalid username or body", None),
            409: (
                "A sync for this user and scope is running: `job` is that job, Location its URL",
                external.SyncConflict,
            ),
        },
        cache=CacheKind.LIVE,
        owned=False,
    ),
    Endpoint(
        "sync_job_status",
        "GET",
        "jobs/{job_id}",
        "A sync job's state and counts",
        "sync",
        "function",
        path_params=(PathParam("job_id", "Job id (UUID)", {"type": "string", "format": "uuid"}),),
        responses={
            200: ("The job", external.JOB_SUMMARY),
            400: ("Malformed job id", None),
            404: ("No such job", None),
        },
        cache=CacheKind.LIVE,
        owned=False,
    ),
    Endpoint(
        "ingestions_start",
        "POST",
        "ingestions",
        "Start ingesting a dump month",
        "ingestion",
        "admin",
        body=IngestionRequest,
        responses={
            202: ("Run started; Location: /api/ingestions/{id}", external.IngestionStarted),
            400: ("Invalid body", None),
            404: ("No such dump month published", None),
            409: (
                "This month is incomplete, being ingested or loaded (`ingestion` names the run)",
                external.IngestionConflict,
            ),
            502: ("The dump host failed", None),
            503: ("The dump host rate-limits us, or the database is down; see Retry-After", None),
        },
        cache=CacheKind.LIVE,
        owned=False,
    ),
    Endpoint(
        "ingestions_list",
        "GET",
        "ingestions",
        "Ingestion runs",
        "ingestion",
        "function",
        responses={200: ("Runs", external.IngestionList)},
        cache=CacheKind.LIVE,
        owned=False,
    ),
    Endpoint(
        "ingestions_get",
        "GET",
        "ingestions/{id}",
        "One ingestion run",
        "ingestion",
        "function",
        path_params=(
            PathParam(
                "id",
                "Run id: the dump date as YYYYMMDD",
                {"type": "string", "pattern": "^[0-9]{8}$"},
            ),
        ),
        responses={
            200: ("The run", external.RUN_STATUS),
            400: ("Malformed run id", None),
            404: ("No such run", None),
        },
        cache=CacheKind.LIVE,
        owned=False,
    ),
    Endpoint(
        "ingestions_retry",
        "POST",
        "ingestions/{id}/retry",
        "Retry a run's failed chunks",
        "ingestion",
        "admin",
        path_params=(
            PathParam(
                "id",
                "Run id: the dump date as YYYYMMDD",
                {"type": "string", "pattern": "^[0-9]{8}$"},
            ),
        ),
        responses={
            202: ("Chunks re-queued", external.IngestionRetried),
            400: ("Malformed run id", None),
            404: ("No such run", None),
            409: ("Nothing to retry (`ingestion` names the run)", external.IngestionConflict),
        },
        cache=CacheKind.LIVE,
        owned=False,
    ),
)

BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}
