"""Turning a run's stored state into the status the API shows: counts per entity, rate, ETA."""

from __future__ import annotations

import datetime as dt
import math

from pydantic import BaseModel

from shared.pipeline.entities import ENTITIES
from shared.pipeline.model import ChunkState, ChunkStatus, FileStatus, Run


class ChunkProblem(BaseModel):
    entity: str
    seq: int
    state: ChunkState
    attempts: int
    error: str | None


class EntityProgress(BaseModel):
    file_state: str
    bytes_fetched: int
    chunks_planned: int | None  # final once the split finished
    chunks_split: int  # cut and enqueued so far
    chunks_estimated: int | None  # planned, or extrapolated from the split's progress
    chunks_loaded: int
    chunks_failed: int
    records_loaded: int
    records_quarantined: int
    unknown_elements: int
    error: str | None = None


class RunStatus(BaseModel):
    id: str
    month: str
    attempt: int
    state: str
    reason: str | None
    trigger: str
    started: dt.datetime
    finished: dt.datetime | None
    entities: dict[str, EntityProgress]
    records_loaded: int
    records_per_second: float | None
    eta_seconds: float | None
    problems: list[ChunkProblem]


def _estimate_chunks(file: FileStatus | None) -> int | None:
    if file is None:
        return None
    if file.chunks is not None:
        return file.chunks
    size = file.bytes_fetched or file.listed_size
    if file.next_sequence and file.split_bytes_in and size:
        return max(file.next_sequence, math.ceil(file.next_sequence * size / file.split_bytes_in))
    return None


def summarize(
    run: Run, files: list[FileStatus], chunks: list[ChunkStatus], now: dt.datetime
) -> RunStatus:
    by_kind = {f.kind: f for f in files}
    entities: dict[str, EntityProgress] = {}
    for entity in ENTITIES:
        file = by_kind.get(entity)
        mine = [c for c in chunks if c.entity == entity]
        loaded = [c for c in mine if c.state == ChunkState.LOADED]
        entities[entity] = EntityProgress(
            file_state=file.state if file else "unknown",
            bytes_fetched=file.bytes_fetched if file else 0,
            chunks_planned=file.chunks if file else None,
            chunks_split=file.next_sequence if file else 0,
            chunks_estimated=_estimate_chunks(file),
            chunks_loaded=len(loaded),
            chunks_failed=sum(c.state in (ChunkState.FAILED, ChunkState.POISONED) for c in mine),
            records_loaded=sum(c.records for c in loaded),
            records_quarantined=sum(c.quarantined for c in loaded),
            unknown_elements=sum(c.unknown_elements for c in loaded),
            error=file.error if file else None,
        )
    end = run.finished_at or now
    records = sum(e.records_loaded for e in entities.values())
    elapsed = (end - run.created_at).total_seconds()
    return RunStatus(
        id=run.run_id,
        month=run.dump_date.isoformat(),
        attempt=run.attempt,
        state=run.state,
        reason=run.reason,
        trigger=run.trigger,
        started=run.created_at,
        finished=run.finished_at,
        entities=entities,
        records_loaded=records,
        records_per_second=round(records / elapsed, 1) if elapsed > 0 and records else None,
        eta_seconds=None if run.finished_at else eta_seconds(entities, chunks, now),
        problems=[
            ChunkProblem(
                entity=c.entity, seq=c.seq, state=c.state, attempts=c.attempts, error=c.error
            )
            for c in sorted(chunks, key=lambda c: (c.entity, c.seq))
            if c.state in (ChunkState.FAILED, ChunkState.POISONED)
        ],
    )


def eta_seconds(
    entities: dict[str, EntityProgress], chunks: list[ChunkStatus], now: dt.datetime
) -> float | None:
    """Remaining chunks ÷ the observed chunk completion rate; None until it can be estimated.

    The rate is measured from the start of the first loaded chunk to now, so it already reflects
    however many loaders run in parallel.
    """
    loaded = [c for c in chunks if c.state == ChunkState.LOADED]
    if not loaded or any(e.chunks_estimated is None for e in entities.values()):
        return None
    first_start = min(c.updated_at - dt.timedelta(seconds=c.seconds) for c in loaded)
    window = (now - first_start).total_seconds()
    if window <= 0:
        return None
    rate = len(loaded) / window
    remaining = sum(max(0, (e.chunks_estimated or 0) - e.chunks_loaded) for e in entities.values())
    return round(remaining / rate, 1)
