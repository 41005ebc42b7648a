"""Models of the endpoints other parts of the app own (health, account sync, dump ingestion).

Where the owner has a pydantic model for a body, it is imported from the owner's module (listed in
the `_resolve` calls, first match wins), so the document follows their code once it is merged;
until then the models here describe the bodies from the issues (issue 4: ingestion, issue 5: sync).
"""

from __future__ import annotations

import importlib
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.problems import Problem
from shared.health import HealthReport


def _resolve(candidates: tuple[str, ...], fallback: type[BaseModel]) -> type[BaseModel]:
    """The first `module:Class` that imports and is a pydantic model, else the fallback."""
    for candidate in candidates:
        module_name, _, attribute = candidate.partition(":")
        try:
            found = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError):
            continue
        if isinstance(found, type) and issubclass(found, BaseModel):
            return found
    return fallback


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: list[Literal["collection", "wantlist", "inventory", "value"]] | None = Field(
        None, description="What to sync; all four when omitted."
    )
    full: bool = Field(False, description="Full reconcile (detects removals and changes).")


class JobSummaryDescription(BaseModel):
    """GET /api/jobs/{id} (issue 5)."""

    model_config = ConfigDict(extra="allow")

    id: str
    username: str
    scope: list[str]
    full: bool
    trigger: str
    state: Literal["queued", "running", "succeeded", "partial", "failed"]
    phase: str | None = None
    pages_done: int
    pages_total: int | None = None
    pages_total_by_scope: dict[str, int] = {}
    counts: dict[str, Any] = {}
    requests_used: int
    errors: list[Any] = []
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None


JOB_SUMMARY = _resolve(
    ("shared.sync.jobs:JobSummary", "shared.sync.models:JobSummary"), JobSummaryDescription
)


class SyncConflict(Problem):
    """409 of POST /users/{username}/sync: a problem naming the running job."""

    job: JobSummaryDescription = Field(description="The running job (as GET /api/jobs/{id}).")


class IngestionRef(BaseModel):
    id: str = Field(description="Run id: the dump date as YYYYMMDD.")
    status: str = Field(description="URL of the run's status.")


class IngestionConflict(Problem):
    """409 of the ingestion endpoints: a problem naming the run it conflicts with, if any."""

    ingestion: IngestionRef | None = Field(
        None, description="The run that is in progress or loaded (absent: the month is incomplete)."
    )


class IngestionStarted(BaseModel):
    id: str = Field(description="Run id: the dump date as YYYYMMDD.")
    month: date
    attempt: int
    state: str
    status: str = Field(description="URL of the run's status.")


class RunStatusDescription(BaseModel):
    """GET /api/ingestions/{id} (issue 4), described until shared.pipeline is merged."""

    model_config = ConfigDict(extra="allow")

    id: str
    month: str
    attempt: int
    state: str
    reason: str | None = None
    trigger: str
    started: datetime
    finished: datetime | None = None
    entities: dict[str, dict[str, Any]]
    records_loaded: int
    records_per_second: float | None = None
    eta_seconds: float | None = None
    problems: list[dict[str, Any]]


RUN_STATUS = _resolve(("shared.pipeline.progress:RunStatus",), RunStatusDescription)


class IngestionList(BaseModel):
    ingestions: list[RUN_STATUS]  # type: ignore[valid-type]


class RetriedChunk(BaseModel):
    entity: str
    seq: int


class IngestionRetried(BaseModel):
    id: str
    retried: list[RetriedChunk]
    files: list[str] = Field(description='Stalled files re-queued, e.g. "releases: fetch".')


HEALTH_REPORT = HealthReport
