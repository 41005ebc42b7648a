"""Finalizing a month: ledger check, validations, keys and indexes, ANALYZE, then the swap."""

from __future__ import annotations

import dataclasses
import datetime
import time
from dataclasses import asdict, dataclass, field

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from shared.db.connection import connect
from shared.dumps.entities import ENTITIES
from shared.dumps.tables import ALL_TABLES, ENTITY_TABLES, MAIN_TABLE, RECORD_TABLE_OF
from shared.loading.build_plan import BuildStep, plan_build
from shared.loading.parallel_build import BuildError, forget_slices, run_build
from shared.loading.schema import (
    PREVIOUS_SCHEMA,
    SERVED_SCHEMA,
    import_schema,
    read_sql,
    retired_schema,
    schema_exists,
    set_search_path,
)
from shared.loading.scope import referenced_release_ids
from shared.queries import load_sql
from shared.queries.user_stats_store import refresh_quietly
from shared.settings import Settings

SWAP_LOCK_TIMEOUT = "10s"


class FinalizeError(RuntimeError):
    """The month cannot be served (incomplete ledger, failed validation, nothing loaded)."""


@dataclass(frozen=True)
class FinalizeResult:
    dump_date: datetime.date
    served_schema: str
    release_scope: str
    chunks_per_entity: dict[str, int]
    records_per_entity: dict[str, int]
    quarantined_per_entity: dict[str, int]
    rows_per_table: dict[str, int]
    seconds: dict[str, float]
    previous_dump_date: datetime.date | None = None
    dropped_schemas: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    already_finalized: bool = False
    # Seconds per build step that ran (keys, indexes, ANALYZE, API structures; see build_plan).
    build_steps: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["dump_date"] = self.dump_date.isoformat()
        data["previous_dump_date"] = (
            self.previous_dump_date.isoformat() if self.previous_dump_date else None
        )
        return data


def finalize_month(
    conn: psycopg.Connection,
    dump_date: datetime.date,
    *,
    expected_chunks: dict[str, int] | None,
    settings: Settings,
    sessions: int | None = None,
) -> FinalizeResult:
    """Publish a loaded month as the served schema `discogs`; idempotent.

    1. Ledger completeness: with `expected_chunks` ({entity: chunk count}) every entity must have
       exactly sequences 0..n-1 and no other entity may have chunks; without it, each loaded
       entity's sequences must be contiguous from 0 (entities never loaded stay empty: warning).
    2. Validations: ids unique in artists/labels/masters/releases; rows per table equal the
       ledger's sums.
    3. Release scope `collection`: prune to referenced releases and what they point to.
    4. Primary keys and indexes (b-tree on ids, pg_trgm and full-text GIN for search; none on
       unbounded text), ANALYZE and the API's structures, on `sessions` connections at once
       (default FINALIZE_PARALLELISM; see build_plan), the large API tables in slices of record
       ids side by side. Each key, index or slice commits alone (a slice with its marker in
       loader.finalize_slices); a failure stops the build and raises, nothing is swapped, and a
       retry resumes the build (steps already done are skipped; the validation and pruning of
       steps 2-3 are not redone). The swap forgets the month's slice markers.
    5. One short transaction: `discogs_previous` is retired (dropped after commit), `discogs`
       becomes `discogs_previous`, `import_YYYYMMDD` becomes `discogs`. Readers see the old
       month until that commit and the new one after it.
    A month already served returns its stored result with `already_finalized=True`.
    `conn` may have a transaction open (the pipeline's finalize decision): it only reads the
    bookkeeping and runs the swap; the work on the month's tables uses connections of its own.
    """
    timings: dict[str, float] = {}
    warnings: list[str] = []
    with conn.transaction():
        row = conn.execute(
            "SELECT status, release_scope, finalize_result FROM loader.months WHERE dump_date = %s",
            (dump_date,),
        ).fetchone()
    if row is None:
        raise FinalizeError(f"nothing was loaded for dump {dump_date}")
    status, scope, stored = row
    if status != "loading":
        if stored is None:
            raise FinalizeError(f"dump {dump_date} is {status} and has no stored result")
        return _from_json(stored, already_finalized=True)
    schema = import_schema(dump_date)

    started = time.perf_counter()
    with conn.transaction():
        ledger, ledger_rows = _ledger(conn, dump_date)
    _check_ledger(dump_date, ledger, expected_chunks, warnings)
    timings["ledger"] = time.perf_counter() - started

    with conn.transaction():
        # A retry: validated (and pruned) before, the rows are final; resume the build.
        prepared = _prepared(conn, dump_date) or _indexes_built(conn, schema)
    # Everything that touches the month's tables runs on sessions of its own, never on `conn`: in
    # the pipeline `conn` holds the finalize decision's transaction open until the swap, and a
    # lock it took on an import table would block the key builds of the other sessions.
    with connect(settings, autocommit=True) as work:
        started = time.perf_counter()
        with work.transaction():
            set_search_path(work, schema)
            rows_per_table, id_ranges = _row_counts(work)
            if not prepared:
                _validate(dump_date, rows_per_table, ledger_rows)
                if scope == "collection":
                    _prune_to_collection(work, warnings)
                    rows_per_table, id_ranges = _row_counts(work)
                work.execute(
                    "UPDATE loader.months SET prepared_at = now() WHERE dump_date = %s",
                    (dump_date,),
                )
            weights = _table_sizes(work, schema)
        timings["validate"] = time.perf_counter() - started

    started = time.perf_counter()
    steps = month_build_plan(weights, id_ranges)
    try:
        build_steps = run_build(
            lambda: connect(settings, autocommit=True),
            schema,
            steps,
            sessions or settings.finalize_sessions,
        )
    except BuildError as exc:
        if isinstance(exc.error, psycopg.errors.UniqueViolation):
            detail = exc.error.diag.message_detail or str(exc.error)
            raise FinalizeError(
                f"dump {dump_date} failed validation: ids are not unique "
                f"({exc.error.diag.table_name}: {detail})"
            ) from None
        raise FinalizeError(f"dump {dump_date}: {exc}") from exc
    timings["indexes_and_analyze"] = time.perf_counter() - started

    chunks = {entity: ledger[entity]["chunks"] for entity in ledger}
    records = {entity: ledger[entity]["records"] for entity in ledger}
    quarantined = {entity: ledger[entity]["quarantined"] for entity in ledger}
    result = FinalizeResult(
        dump_date=dump_date,
        served_schema=SERVED_SCHEMA,
        release_scope=scope,
        chunks_per_entity=chunks,
        records_per_entity=records,
        quarantined_per_entity=quarantined,
        rows_per_table=rows_per_table,
        seconds=timings,
        warnings=warnings,
        build_steps={name: round(value, 3) for name, value in build_steps.items()},
    )
    started = time.perf_counter()
    result = _swap(conn, dump_date, schema, result)
    result = dataclasses.replace(
        result, seconds={**result.seconds, "swap": time.perf_counter() - started}
    )
    for retired in result.dropped_schemas:
        with conn.transaction():
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            conn.execute(drop.format(sql.Identifier(retired)))
    # The dump side of every user's statistics changed: store them afresh (issue 6).
    started = time.perf_counter()
    refresh_quietly(settings)
    return dataclasses.replace(
        result, seconds={**result.seconds, "user_stats": time.perf_counter() - started}
    )


def planned_steps(conn: psycopg.Connection, schema: str) -> list[BuildStep]:
    """The build steps of a loaded month as finalize_month plans them (for tests, benchmarks)."""
    with conn.transaction():
        set_search_path(conn, schema)
        _, id_ranges = _row_counts(conn)
        return month_build_plan(_table_sizes(conn, schema), id_ranges)


def month_build_plan(
    weights: dict[str, int], id_ranges: dict[str, tuple[int, int, int]]
) -> list[BuildStep]:
    """The build steps of a month (build_plan): keys, indexes and ANALYZE of the entity tables and
    the HTTP API's search documents, credit roles, ... (issue 6; SQL in shared/queries), the
    large ones in slices of the record tables' `id_ranges` ((min id, max id, rows) per record
    table, taken from the final rows, so a resumed build gets the same slices)."""
    return plan_build(
        read_sql("finalize_indexes.sql"),
        ALL_TABLES,
        weights,
        RECORD_TABLE_OF,
        load_sql("api_structures"),
        id_ranges,
    )


def _ledger(
    conn: psycopg.Connection, dump_date: datetime.date
) -> tuple[dict[str, dict[str, object]], dict[str, int]]:
    """Per entity: chunk sequences, record and quarantine sums; per table: the row sums."""
    ledger: dict[str, dict[str, object]] = {}
    for entity, sequences, records, quarantined in conn.execute(
        "SELECT entity, array_agg(sequence ORDER BY sequence), sum(record_count)::bigint, "
        "sum(quarantined_count)::bigint FROM loader.chunks WHERE dump_date = %s GROUP BY entity",
        (dump_date,),
    ).fetchall():
        ledger[entity] = {
            "sequences": list(sequences),
            "chunks": len(sequences),
            "records": int(records),
            "quarantined": int(quarantined),
        }
    rows: dict[str, int] = {}
    for table, count in conn.execute(
        "SELECT t.key, sum(t.value::bigint)::bigint FROM loader.chunks AS c, "
        "jsonb_each_text(c.rows_per_table) AS t WHERE c.dump_date = %s GROUP BY t.key",
        (dump_date,),
    ).fetchall():
        rows[table] = int(count)
    return ledger, rows


def _check_ledger(
    dump_date: datetime.date,
    ledger: dict[str, dict[str, object]],
    expected: dict[str, int] | None,
    warnings: list[str],
) -> None:
    loaded = {entity: data for entity, data in ledger.items() if entity in ENTITIES}
    problems = []
    if expected is not None:
        for entity in set(loaded) - set(expected):
            problems.append(f"{entity}: chunks in the ledger but none expected")
        for entity, count in expected.items():
            have = set(loaded.get(entity, {}).get("sequences", []))  # type: ignore[arg-type]
            missing = sorted(set(range(count)) - have)
            extra = sorted(have - set(range(count)))
            if missing:
                shown = ", ".join(map(str, missing[:20])) + (" …" if len(missing) > 20 else "")
                problems.append(f"{entity}: {len(missing)} of {count} chunks missing ({shown})")
            if extra:
                problems.append(f"{entity}: unexpected chunk sequences {extra[:20]}")
    else:
        for entity, data in loaded.items():
            sequences = data["sequences"]
            assert isinstance(sequences, list)
            if sequences != list(range(len(sequences))):
                gaps = sorted(set(range(max(sequences) + 1)) - set(sequences))
                problems.append(f"{entity}: chunk sequences have gaps at {gaps[:20]}")
    if not loaded:
        problems.append("no chunk in the ledger")
    if problems:
        raise FinalizeError(f"dump {dump_date} is incomplete: " + "; ".join(problems))
    for entity in ENTITIES:
        if entity not in loaded:
            warnings.append(f"{entity}: nothing loaded, its tables are empty")


def _validate(
    dump_date: datetime.date, actual: dict[str, int], expected_rows: dict[str, int]
) -> None:
    """Rows per table must equal the ledger's sums. Id uniqueness is enforced by the primary
    keys built next (a duplicate fails that transaction and names the key)."""
    problems = []
    for table, count in actual.items():
        ledger_count = expected_rows.get(table, 0)
        if count != ledger_count:
            problems.append(f"{table}: {count} rows but the ledger says {ledger_count}")
    if problems:
        raise FinalizeError(f"dump {dump_date} failed validation: " + "; ".join(problems))


def _prepared(conn: psycopg.Connection, dump_date: datetime.date) -> bool:
    row = conn.execute(
        "SELECT prepared_at IS NOT NULL FROM loader.months WHERE dump_date = %s", (dump_date,)
    ).fetchone()
    return bool(row and row[0])


def _table_sizes(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    """Bytes per table of the month (how big each table's build steps are)."""
    rows = conn.execute(
        "SELECT c.relname, pg_relation_size(c.oid) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
        (schema,),
    ).fetchall()
    return {str(name): int(size) for name, size in rows}


def _indexes_built(conn: psycopg.Connection, schema: str) -> bool:
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = %s AND t.relname = 'releases' AND c.contype = 'p')",
        (schema,),
    ).fetchone()
    return bool(row and row[0])


def _row_counts(
    conn: psycopg.Connection,
) -> tuple[dict[str, int], dict[str, tuple[int, int, int]]]:
    """Rows per table; and per record table (min id, max id, rows), (0, 0, 0) when empty, taken in
    the same scan as the count."""
    counts = {}
    id_ranges = {}
    record_tables = set(MAIN_TABLE.values())
    for table in ALL_TABLES:
        if table in record_tables:
            query = sql.SQL("SELECT count(*), min(id), max(id) FROM {}")
            rows, low, high = (
                conn.execute(query.format(sql.Identifier(table))).fetchone() or (0,) * 3
            )
            id_ranges[table] = (int(low or 0), int(high or 0), int(rows))
        else:
            query = sql.SQL("SELECT count(*) FROM {}")
            rows = (conn.execute(query.format(sql.Identifier(table))).fetchone() or (0,))[0]
        counts[table] = int(rows)
    return counts, id_ranges


def _prune_to_collection(conn: psycopg.Connection, warnings: list[str]) -> None:
    keep, exists = referenced_release_ids(conn)
    if not exists:
        warnings.append(
            "release scope 'collection': account.referenced_release_ids does not exist, "
            "so the scope is empty and no release is served"
        )
    conn.execute("CREATE TEMP TABLE keep_release_ids (release_id bigint) ON COMMIT DROP")
    with conn.cursor() as cursor, cursor.copy("COPY keep_release_ids FROM STDIN") as copy:
        for release_id in keep:
            copy.write_row((release_id,))
    conn.execute(read_sql("prune_collection_scope.sql"))


def _swap(
    conn: psycopg.Connection, dump_date: datetime.date, schema: str, result: FinalizeResult
) -> FinalizeResult:
    dropped: list[str] = []
    previous_date = None
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
        conn.execute("LOCK TABLE loader.months IN EXCLUSIVE MODE")
        months = dict(
            conn.execute(
                "SELECT status, dump_date FROM loader.months WHERE status IN ('served', 'previous')"
            ).fetchall()
        )
        if schema_exists(conn, PREVIOUS_SCHEMA):
            retired = retired_schema(months.get("previous") or dump_date)
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(PREVIOUS_SCHEMA), sql.Identifier(retired)
                )
            )
            dropped.append(retired)
        if schema_exists(conn, SERVED_SCHEMA):
            conn.execute(
                sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(SERVED_SCHEMA), sql.Identifier(PREVIOUS_SCHEMA)
                )
            )
            previous_date = months.get("served")
        conn.execute(
            sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                sql.Identifier(schema), sql.Identifier(SERVED_SCHEMA)
            )
        )
        # The slices of the month's build are all done: their markers are no longer needed.
        forget_slices(conn, SERVED_SCHEMA)
        conn.execute("UPDATE loader.months SET status = 'dropped' WHERE status = 'previous'")
        conn.execute("UPDATE loader.months SET status = 'previous' WHERE status = 'served'")
        result = FinalizeResult(
            **{
                **asdict(result),
                "previous_dump_date": previous_date,
                "dropped_schemas": dropped,
            }
        )
        conn.execute(
            "UPDATE loader.months SET status = 'served', finalized_at = now(), "
            "finalize_result = %s WHERE dump_date = %s",
            (Jsonb(result.to_json()), dump_date),
        )
    return result


def _from_json(stored: dict[str, object], *, already_finalized: bool) -> FinalizeResult:
    data = dict(stored)
    data["dump_date"] = datetime.date.fromisoformat(str(data["dump_date"]))
    previous = data.get("previous_dump_date")
    data["previous_dump_date"] = datetime.date.fromisoformat(str(previous)) if previous else None
    data["already_finalized"] = already_finalized
    return FinalizeResult(**data)  # type: ignore[arg-type]


__all__ = ["ENTITY_TABLES", "FinalizeError", "FinalizeResult", "finalize_month"]
