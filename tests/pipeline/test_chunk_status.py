"""Chunk status rows in Table Storage (Azurite): a loaded chunk is written blind and never
downgraded by a late failure."""

from __future__ import annotations

from shared.pipeline.lifecycle import now
from shared.pipeline.model import ChunkState, ChunkStatus
from shared.pipeline.runstore import RunStore
from shared.settings import Settings


def _status(state: ChunkState, **values: object) -> ChunkStatus:
    return ChunkStatus(entity="releases", seq=3, blob="b", state=state, updated_at=now(), **values)  # type: ignore[arg-type]


def test_loaded_overwrites_a_failure_and_a_late_failure_does_not_downgrade_it(
    settings: Settings,
) -> None:
    store = RunStore(settings)
    store.record_chunk("20261101", 1, _status(ChunkState.FAILED, attempts=1, error="boom"))
    store.record_chunk("20261101", 1, _status(ChunkState.LOADED, attempts=2, records=10))
    loaded = store.get_chunk("20261101", 1, "releases", 3)
    assert loaded is not None and loaded.state == ChunkState.LOADED and loaded.records == 10
    assert loaded.error is None
    late = store.record_chunk("20261101", 1, _status(ChunkState.POISONED, attempts=5, error="x"))
    assert late.state == ChunkState.LOADED
    kept = store.get_chunk("20261101", 1, "releases", 3)
    assert kept is not None and kept.state == ChunkState.LOADED and kept.records == 10
    # A first write that is already "loaded" creates the row.
    first = ChunkStatus(entity="labels", seq=0, blob="c", state="loaded", updated_at=now())
    store.record_chunk("20261101", 1, first)
    assert [c.entity for c in store.list_chunks("20261101", 1)] == ["labels", "releases"]
