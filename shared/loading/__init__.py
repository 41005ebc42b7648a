"""Bulk loading of parsed dump chunks into PostgreSQL and publishing finished months.

Public entry points (called by the pipeline's queue workers and by `python -m shared.cli load`):
- `load_chunk(conn, dump_date, entity, sequence, data, *, settings) -> ChunkResult`
- `finalize_month(conn, dump_date, *, expected_chunks, settings) -> FinalizeResult`
Served schema: `discogs` (previous month: `discogs_previous`); bookkeeping in schema `loader`.
"""

from shared.loading.chunks import ChunkResult, load_chunk
from shared.loading.finalize import FinalizeError, FinalizeResult, finalize_month
from shared.loading.schema import (
    PREVIOUS_SCHEMA,
    SERVED_SCHEMA,
    MonthClosedError,
    import_schema,
)

__all__ = [
    "PREVIOUS_SCHEMA",
    "SERVED_SCHEMA",
    "ChunkResult",
    "FinalizeError",
    "FinalizeResult",
    "MonthClosedError",
    "finalize_month",
    "import_schema",
    "load_chunk",
]
