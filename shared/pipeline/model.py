"""The state of an ingestion run, its five files and its chunks, and the rules for changing it.

One run per published dump (`run_id` = dump date). States only move forward within an attempt;
a failed run may be restarted as a new attempt (by hand or by the next timer), a running or
succeeded one may not.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RunState(StrEnum):
    FETCHING = "fetching"  # files are being copied into Blob Storage (and split, as they arrive)
    LOADING = "loading"  # every file is fetched; chunks are being split and loaded
    FINALIZING = "finalizing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_RUN_STATES = frozenset({RunState.FETCHING, RunState.LOADING, RunState.FINALIZING})


class FileState(StrEnum):
    PENDING = "pending"  # waiting for its fetch message
    WAITING = "waiting"  # rescheduled: rate limited or a network error, see retry_at
    COPYING = "copying"  # server-side copy in progress
    FETCHING = "fetching"  # streaming into staged blocks
    FETCHED = "fetched"  # in Blob Storage; SHA-256 checked by the split pass
    VERIFIED = "verified"  # in Blob Storage, SHA-256 matched while fetching
    SPLITTING = "splitting"
    SPLIT = "split"  # every chunk cut and enqueued; `chunks` is final
    FAILED = "failed"


class ChunkState(StrEnum):
    LOADED = "loaded"
    FAILED = "failed"  # the last attempt raised; the queue will retry it
    POISONED = "poisoned"  # gave up after maxDequeueCount; retry endpoint re-enqueues it
    RETRYING = "retrying"  # re-enqueued by the retry endpoint


class Run(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    run_id: str
    dump_date: dt.date
    attempt: int = 1
    state: RunState = RunState.FETCHING
    reason: str | None = None
    trigger: str = "timer"
    created_at: dt.datetime
    finished_at: dt.datetime | None = None
    etag: str | None = Field(None, exclude=True)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_RUN_STATES


class FileStatus(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    kind: str
    name: str
    url: str
    listed_size: int | None = None
    state: FileState = FileState.PENDING
    blob: str = ""
    bytes_fetched: int = 0
    sha256: str | None = None
    expected_sha256: str | None = None
    fetch_restarts: int = 0  # times a fetch had to start over from byte 0
    fetch_resumes: int = 0  # times a fetch continued from its staged blocks
    copy_id: str | None = None
    copy_failed: bool = False
    retry_at: dt.datetime | None = None
    error: str | None = None
    # Split checkpoint: chunks [0, next_sequence) are in Blob Storage and enqueued.
    next_sequence: int = 0
    split_bytes_in: int = 0  # compressed bytes read by the split so far
    split_restarts: int = 0
    chunks: int | None = None  # final chunk count once split
    records_split: int = 0
    started_at: dt.datetime | None = None
    heartbeat_at: dt.datetime | None = None  # the streaming fetcher's last sign of life
    split_at: dt.datetime | None = None
    etag: str | None = Field(None, exclude=True)


class ChunkStatus(BaseModel):
    entity: str
    seq: int
    blob: str
    state: ChunkState
    records: int = 0
    quarantined: int = 0
    unknown_elements: int = 0
    seconds: float = 0.0
    attempts: int = 0
    error: str | None = None
    updated_at: dt.datetime


class StartDecision(StrEnum):
    NEW = "new"
    RESTART = "restart"  # the month failed before: start it again as a new attempt
    RUNNING = "running"
    LOADED = "loaded"


def decide_start(existing: Run | None) -> StartDecision:
    """Whether a month may be (re)started given its current run, if any."""
    if existing is None:
        return StartDecision.NEW
    if existing.state == RunState.SUCCEEDED:
        return StartDecision.LOADED
    if existing.active:
        return StartDecision.RUNNING
    return StartDecision.RESTART


def all_fetched(files: list[FileStatus]) -> bool:
    """Every data file has reached Blob Storage (checksum file excluded)."""
    done = {
        FileState.FETCHED,
        FileState.VERIFIED,
        FileState.SPLITTING,
        FileState.SPLIT,
    }
    data = [f for f in files if f.kind != "checksum"]
    return bool(data) and all(f.state in done for f in data)


def check_digest(expected: str | None, actual: str) -> str | None:
    """The failure reason for a digest mismatch, or None when it matches."""
    if expected is None:
        return "no CHECKSUM entry for this file"
    if expected.lower() != actual.lower():
        return f"SHA-256 mismatch: CHECKSUM says {expected}, the file hashes to {actual}"
    return None
