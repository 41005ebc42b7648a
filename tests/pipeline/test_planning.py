"""Pure run planning: start decisions, messages, backoff, retention, progress and ETA."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.pipeline.backoff import parse_retry_after, reschedule_delay
from shared.pipeline.messages import (
    FetchMessage,
    LoadMessage,
    MessageError,
    SplitMessage,
    parse_message,
)
from shared.pipeline.model import (
    ChunkState,
    ChunkStatus,
    FileState,
    FileStatus,
    Run,
    RunState,
    StartDecision,
    all_fetched,
    check_digest,
    decide_start,
)
from shared.pipeline.progress import summarize
from shared.pipeline.retention import months_to_delete

T0 = dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC)


def _run(state: RunState = RunState.LOADING) -> Run:
    return Run(run_id="20261101", dump_date=dt.date(2026, 11, 1), state=state, created_at=T0)


@pytest.mark.parametrize(
    ("state", "decision"),
    [
        (RunState.FETCHING, StartDecision.RUNNING),
        (RunState.LOADING, StartDecision.RUNNING),
        (RunState.FINALIZING, StartDecision.RUNNING),
        (RunState.SUCCEEDED, StartDecision.LOADED),
        (RunState.FAILED, StartDecision.RESTART),
    ],
)
def test_start_decision(state: RunState, decision: StartDecision) -> None:
    assert decide_start(_run(state)) == decision


def test_start_decision_without_a_run() -> None:
    assert decide_start(None) == StartDecision.NEW


def test_messages_round_trip_and_stay_small() -> None:
    load = LoadMessage(
        run="20261101",
        attempt=2,
        entity="releases",
        seq=1234,
        blob="20261101/a2/releases/001234.xml",
    )
    text = load.to_json()
    assert len(text.encode()) < 200
    assert parse_message(LoadMessage, text) == load
    fetch = FetchMessage(run="20261101", attempt=1, file="checksum")
    assert parse_message(FetchMessage, fetch.to_json()).tries == 0
    assert parse_message(SplitMessage, '{"run":"20261101","attempt":1,"entity":"labels"}')


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        '{"run":"2026-11-01","attempt":1,"entity":"labels"}',
        '{"run":"20261101"}',
        '{"run":"20261101","attempt":1,"entity":"tracks"}',
    ],
)
def test_foreign_messages_are_rejected(body: str) -> None:
    with pytest.raises(MessageError):
        parse_message(SplitMessage, body)


def test_retry_after_forms() -> None:
    assert parse_retry_after("3574", T0) == 3574
    assert parse_retry_after("Sun, 01 Nov 2026 03:10:00 GMT", T0) == 600
    assert parse_retry_after("Sun, 01 Nov 2026 02:00:00 GMT", T0) == 0  # already past
    assert parse_retry_after(None, T0) == 3600
    assert parse_retry_after("soon", T0) == 3600
    assert parse_retry_after("99999999", T0) == 7 * 24 * 3600


def test_backoff_grows_and_is_capped() -> None:
    assert [reschedule_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert reschedule_delay(20) == 3600


def test_retention_keeps_the_newest_months() -> None:
    stored = [dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    current = dt.date(2026, 11, 1)
    assert months_to_delete(stored, current, 2) == [dt.date(2026, 8, 1), dt.date(2026, 9, 1)]
    assert months_to_delete(stored, current, 12) == []
    assert months_to_delete(stored, current, 0) == stored
    assert months_to_delete([dt.date(2026, 12, 1)], current, 0) == []


def test_digest_check() -> None:
    assert check_digest("AB" * 32, "ab" * 32) is None
    assert "mismatch" in (check_digest("ab" * 32, "cd" * 32) or "")
    assert "no CHECKSUM entry" in (check_digest(None, "cd" * 32) or "")


def _file(kind: str, **values: object) -> FileStatus:
    return FileStatus(kind=kind, name=kind, url="http://x/" + kind, **values)


def test_all_fetched_ignores_the_checksum_file() -> None:
    files = [_file(k, state=FileState.SPLIT) for k in ("artists", "labels", "masters")]
    assert not all_fetched([*files, _file("releases", state=FileState.FETCHING)])
    assert all_fetched([*files, _file("releases", state=FileState.FETCHED), _file("checksum")])


def _chunk(entity: str, seq: int, state: ChunkState, at: float, **values: object) -> ChunkStatus:
    return ChunkStatus(
        entity=entity,
        seq=seq,
        blob=f"{entity}/{seq}",
        state=state,
        updated_at=T0 + dt.timedelta(seconds=at),
        **values,
    )


def test_progress_counts_rate_and_eta() -> None:
    files = [
        _file("labels", state=FileState.SPLIT, chunks=2, next_sequence=2, bytes_fetched=100),
        _file("masters", state=FileState.SPLIT, chunks=1, next_sequence=1, bytes_fetched=100),
        _file("artists", state=FileState.SPLIT, chunks=1, next_sequence=1, bytes_fetched=100),
        # Half way through the compressed bytes after 3 chunks: about 6 in all.
        _file(
            "releases",
            state=FileState.SPLITTING,
            next_sequence=3,
            split_bytes_in=500,
            bytes_fetched=1000,
        ),
    ]
    chunks = [
        _chunk("labels", 0, ChunkState.LOADED, 10, records=100, quarantined=1, seconds=10),
        _chunk("labels", 1, ChunkState.LOADED, 20, records=50, unknown_elements=3, seconds=10),
        _chunk("releases", 0, ChunkState.POISONED, 30, attempts=5, error="boom"),
    ]
    status = summarize(_run(), files, chunks, now=T0 + dt.timedelta(seconds=20))
    labels, releases = status.entities["labels"], status.entities["releases"]
    assert (labels.chunks_planned, labels.chunks_loaded, labels.records_loaded) == (2, 2, 150)
    assert (labels.records_quarantined, labels.unknown_elements) == (1, 3)
    assert (releases.chunks_planned, releases.chunks_split, releases.chunks_estimated) == (
        None,
        3,
        6,
    )
    assert releases.chunks_failed == 1
    assert status.problems[0].error == "boom" and status.problems[0].state == "poisoned"
    assert status.records_loaded == 150
    assert status.records_per_second == 7.5  # 150 records in 20 s since the run started
    # 2 chunks in 20 s since the first began; 1 + 1 + 6 = 8 chunks remain → 80 s.
    assert status.eta_seconds == 80


def test_no_eta_before_anything_is_loaded_or_while_sizes_are_unknown() -> None:
    files = [_file(k) for k in ("labels", "masters", "artists", "releases")]
    status = summarize(_run(), files, [], now=T0 + dt.timedelta(seconds=5))
    assert status.eta_seconds is None and status.records_per_second is None


def test_finished_run_has_no_eta() -> None:
    run = _run(RunState.SUCCEEDED)
    run.finished_at = T0 + dt.timedelta(seconds=50)
    files = [
        _file(k, state=FileState.SPLIT, chunks=1)
        for k in ("labels", "masters", "artists", "releases")
    ]
    chunks = [
        _chunk(k, 0, ChunkState.LOADED, 40, records=10, seconds=1)
        for k in ("labels", "masters", "artists", "releases")
    ]
    status = summarize(run, files, chunks, now=T0 + dt.timedelta(seconds=500))
    assert status.eta_seconds is None
    assert status.records_per_second == 0.8  # 40 records over the 50 s the run took
