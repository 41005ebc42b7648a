"""Run state in Table Storage (RUNS_TABLE), with ETag-checked writes.

Layout: the run itself is `("run", <run id>)`; its files and chunks live in the partition
`<run id>-a<attempt>` as `file-<kind>` and `chunk-<entity>-<seq>`. Every write that could race
(starting a run, moving a file's state, checkpointing a split) is a read-modify-write with
`IfNotModified` on the entity's ETag, so two instances never both win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import EdmType, EntityProperty, TableClient, UpdateMode
from pydantic import BaseModel

from shared.pipeline.model import ChunkState, ChunkStatus, FileStatus, Run
from shared.settings import Settings
from shared.storage import clients

RUN_PARTITION = "run"
_MAX_OPTIMISTIC_TRIES = 8

T = TypeVar("T", bound=BaseModel)


class RunConflictError(RuntimeError):
    """Another instance changed or created the same entity first."""


def _partition(run_id: str, attempt: int) -> str:
    return f"{run_id}-a{attempt}"


def _to_entity(model: BaseModel, partition: str, row: str) -> dict[str, Any]:
    entity: dict[str, Any] = {"PartitionKey": partition, "RowKey": row}
    for key, value in model.model_dump().items():
        if value is None:
            continue
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, bool):
            pass
        elif isinstance(value, int):
            # Byte counts exceed Int32; store every integer as Int64 for one read path.
            value = EntityProperty(value, EdmType.INT64)
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = value.isoformat()
        entity[key] = value
    return entity


def _from_entity(model: type[T], entity: dict[str, Any]) -> T:
    values = {
        key: value.value if isinstance(value, EntityProperty) else value
        for key, value in entity.items()
        if key not in ("PartitionKey", "RowKey")
    }
    parsed = model.model_validate(values)
    if "etag" in model.model_fields:
        parsed = parsed.model_copy(update={"etag": entity.metadata.get("etag")})
    return parsed


class RunStore:
    def __init__(self, settings: Settings) -> None:
        self._table: TableClient = clients.table(settings, settings.runs_table)

    # --- runs -----------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run | None:
        try:
            return _from_entity(Run, self._table.get_entity(RUN_PARTITION, run_id))
        except ResourceNotFoundError:
            return None

    def list_runs(self) -> list[Run]:
        entities = self._table.query_entities(f"PartitionKey eq '{RUN_PARTITION}'")
        runs = [_from_entity(Run, e) for e in entities]
        return sorted(runs, key=lambda r: r.run_id, reverse=True)

    def create_run(self, run: Run) -> Run:
        try:
            meta = self._table.create_entity(_to_entity(run, RUN_PARTITION, run.run_id))
        except ResourceExistsError as exc:
            raise RunConflictError(f"run {run.run_id} already exists") from exc
        return run.model_copy(update={"etag": meta.get("etag")})

    def replace_run(self, run: Run) -> Run:
        """Write `run` only if nobody changed it since it was read (its ETag)."""
        try:
            meta = self._table.update_entity(
                _to_entity(run, RUN_PARTITION, run.run_id),
                mode=UpdateMode.REPLACE,
                etag=run.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise RunConflictError(f"run {run.run_id} changed concurrently") from exc
        return run.model_copy(update={"etag": meta.get("etag")})

    def update_run(self, run_id: str, change: Callable[[Run], bool]) -> Run | None:
        """Apply `change` (returns False for no-op) with optimistic retries; None if absent."""
        for _ in range(_MAX_OPTIMISTIC_TRIES):
            run = self.get_run(run_id)
            if run is None:
                return None
            if not change(run):
                return run
            try:
                return self.replace_run(run)
            except RunConflictError:
                continue
        raise RunConflictError(f"run {run_id}: too many concurrent updates")

    # --- files ----------------------------------------------------------------------------
    def put_files(self, run_id: str, attempt: int, files: list[FileStatus]) -> None:
        partition = _partition(run_id, attempt)
        operations = [
            ("upsert", _to_entity(f, partition, f"file-{f.kind}"), {"mode": UpdateMode.REPLACE})
            for f in files
        ]
        self._table.submit_transaction(operations)

    def get_file(self, run_id: str, attempt: int, kind: str) -> FileStatus | None:
        try:
            entity = self._table.get_entity(_partition(run_id, attempt), f"file-{kind}")
        except ResourceNotFoundError:
            return None
        return _from_entity(FileStatus, entity)

    def list_files(self, run_id: str, attempt: int) -> list[FileStatus]:
        partition = _partition(run_id, attempt)
        entities = self._table.query_entities(
            "PartitionKey eq @p and RowKey ge 'file-' and RowKey lt 'file.'",
            parameters={"p": partition},
        )
        return [_from_entity(FileStatus, e) for e in entities]

    def save_file(self, run_id: str, attempt: int, file: FileStatus) -> FileStatus:
        """Write `file` only if unchanged since read; raises RunConflictError otherwise."""
        try:
            meta = self._table.update_entity(
                _to_entity(file, _partition(run_id, attempt), f"file-{file.kind}"),
                mode=UpdateMode.REPLACE,
                etag=file.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise RunConflictError(
                f"file {file.kind} of run {run_id} changed concurrently"
            ) from exc
        return file.model_copy(update={"etag": meta.get("etag")})

    def update_file(
        self, run_id: str, attempt: int, kind: str, change: Callable[[FileStatus], bool]
    ) -> FileStatus:
        for _ in range(_MAX_OPTIMISTIC_TRIES):
            file = self.get_file(run_id, attempt, kind)
            if file is None:
                raise RunConflictError(f"run {run_id} attempt {attempt} has no file {kind}")
            if not change(file):
                return file
            try:
                return self.save_file(run_id, attempt, file)
            except RunConflictError:
                continue
        raise RunConflictError(f"file {kind} of run {run_id}: too many concurrent updates")

    # --- chunks ---------------------------------------------------------------------------
    def record_chunk(self, run_id: str, attempt: int, chunk: ChunkStatus) -> ChunkStatus:
        """Store a chunk's outcome; a loaded chunk is never downgraded by a late failure."""
        partition, row = _partition(run_id, attempt), f"chunk-{chunk.entity}-{chunk.seq:06d}"
        if chunk.state == ChunkState.LOADED:
            # Loaded is final and wins over any state: one blind write, no read first (a late
            # failure writes with the ETag it read, so it fails and then sees the loaded row).
            self._table.upsert_entity(_to_entity(chunk, partition, row), mode=UpdateMode.REPLACE)
            return chunk
        for _ in range(_MAX_OPTIMISTIC_TRIES):
            try:
                current = self._table.get_entity(partition, row)
            except ResourceNotFoundError:
                try:
                    self._table.create_entity(_to_entity(chunk, partition, row))
                    return chunk
                except ResourceExistsError:
                    continue
            existing = _from_entity(ChunkStatus, current)
            if existing.state == ChunkState.LOADED and chunk.state != ChunkState.LOADED:
                return existing
            try:
                self._table.update_entity(
                    _to_entity(chunk, partition, row),
                    mode=UpdateMode.REPLACE,
                    etag=current.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return chunk
            except (ResourceModifiedError, ResourceNotFoundError):
                continue
        raise RunConflictError(f"chunk {row} of run {run_id}: too many concurrent updates")

    def get_chunk(self, run_id: str, attempt: int, entity: str, seq: int) -> ChunkStatus | None:
        try:
            found = self._table.get_entity(_partition(run_id, attempt), f"chunk-{entity}-{seq:06d}")
        except ResourceNotFoundError:
            return None
        return _from_entity(ChunkStatus, found)

    def list_chunks(self, run_id: str, attempt: int) -> list[ChunkStatus]:
        entities = self._table.query_entities(
            "PartitionKey eq @p and RowKey ge 'chunk-' and RowKey lt 'chunk.'",
            parameters={"p": _partition(run_id, attempt)},
        )
        return [_from_entity(ChunkStatus, e) for e in entities]
