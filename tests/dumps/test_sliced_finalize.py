"""The API tables built in slices (credit roles, search documents, release facts): the plan, the
same rows as the whole script, and a build resumed after a crash before or after a slice's commit.
"""

from __future__ import annotations

import datetime
import random
import threading
import time

import psycopg
import pytest

from shared.db.connection import connect
from shared.dumps.generate import generate_dump
from shared.dumps.tables import ALL_TABLES, RECORD_TABLE_OF
from shared.loading import finalize_month, import_schema
from shared.loading.build_plan import (
    ALL_IDS,
    BIGINT_MAX,
    BIGINT_MIN,
    BuildStep,
    annotated_statements,
    plan_build,
    remaining_chains,
    slice_counts,
    slice_ranges,
)
from shared.loading.finalize import planned_steps
from shared.loading.parallel_build import Connect, _fill, _Scheduler, run_build
from shared.loading.schema import read_sql, set_search_path
from shared.queries import load_sql
from shared.queries.finalize import build_api_structures
from shared.settings import Settings
from tests.dumps.test_loading import fingerprint, load_entity
from tests.dumps.test_parallel_finalize import catalog, load_samples

MONTH = datetime.date(2020, 8, 6)
# Every table of api_structures.sql: the sliced ones and those that read them.
API_TABLES = (
    "credit_roles",
    "release_playing_time",
    "master_years",
    "search_documents",
    "search_words",
    "release_facts",
)
SLICED = ("credit_roles", "search_documents", "release_facts")
# A month's record counts (docs/scaling.md §2).
FULL_MONTH = {
    "releases": (1, 36_000_000, 19_000_000),
    "artists": (1, 13_000_000, 10_000_000),
    "masters": (1, 3_500_000, 2_500_000),
    "labels": (1, 4_000_000, 2_400_000),
}


def plan(id_ranges: dict[str, tuple[int, int, int]] | None) -> list[BuildStep]:
    return plan_build(
        read_sql("finalize_indexes.sql"),
        ALL_TABLES,
        {},
        RECORD_TABLE_OF,
        load_sql("api_structures"),
        id_ranges,
    )


def snapshot(conn: psycopg.Connection, schema: str) -> dict[str, object]:
    """The API tables' rows (order-free fingerprints), columns and the schema's catalog."""
    columns = conn.execute(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
        "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY 1, a.attnum",
        (schema, list(API_TABLES)),
    ).fetchall()
    rows = {table: fingerprint(conn, schema, table) for table in API_TABLES}
    counted = {
        table: conn.execute(f"SELECT count(*) FROM {schema}.{table}").fetchone()[0]
        for table in API_TABLES
    }
    return {"rows": rows, "counts": counted, "columns": columns, "catalog": catalog(conn, schema)}


def whole_script_snapshot(conn: psycopg.Connection, schema: str) -> dict[str, object]:
    """The same schema's API tables rebuilt by the whole script (a served month's rebuild)."""
    build_api_structures(conn, schema)
    return snapshot(conn, schema)


def steps_up_to(steps: list[BuildStep], targets: set[str]) -> list[BuildStep]:
    """`targets` and every step they wait for, in plan order."""
    by_name = {step.name: step for step in steps}
    needed: set[str] = set()
    pending = list(targets)
    while pending:
        name = pending.pop()
        if name not in needed:
            needed.add(name)
            pending += by_name[name].after
    return [step for step in steps if step.name in needed]


def sessions_of(settings: Settings) -> Connect:
    return lambda: connect(settings, autocommit=True)


# --- the plan (pure) -------------------------------------------------------------------------


def test_slice_ranges_cover_every_id_exactly_once() -> None:
    assert slice_ranges(1, 100, 4) == [(BIGINT_MIN, 25), (26, 50), (51, 75), (76, BIGINT_MAX)]
    assert slice_ranges(5, 6, 10) == [(BIGINT_MIN, 5), (6, BIGINT_MAX)]  # no empty range
    assert slice_ranges(7, 7, 3) == [(BIGINT_MIN, BIGINT_MAX)]
    rng = random.Random(4)
    for _ in range(200):
        low = rng.randint(-5, 10**9)
        high = low + rng.randint(0, 10**7)
        ranges = slice_ranges(low, high, rng.randint(1, 40))
        assert ranges[0][0] == BIGINT_MIN and ranges[-1][1] == BIGINT_MAX
        assert all(start <= end for start, end in ranges)
        assert all(ranges[i][1] + 1 == ranges[i + 1][0] for i in range(len(ranges) - 1))
        # Between the smallest and the largest id the ranges are within one id of each other.
        inner = [end - start + 1 for start, end in ranges[1:-1]]
        assert not inner or max(inner) - min(inner) <= 1


def test_slices_are_shared_out_by_rows() -> None:
    rows = {table: count for table, (_, _, count) in FULL_MONTH.items()}
    # ~2.1 M records per slice.
    assert slice_counts(rows) == {"releases": 9, "artists": 5, "masters": 2, "labels": 2}
    assert slice_counts({"releases": 60_000, "artists": 60_000}, total=16) == {
        "releases": 8,
        "artists": 8,
    }
    assert slice_counts({"releases": 0, "labels": 0}) == {"releases": 1, "labels": 1}
    assert slice_counts({"releases": 5, "labels": 0}) == {"releases": 5, "labels": 1}


def test_the_marked_inserts_are_cut_into_id_ranges_that_together_are_the_whole_statement() -> None:
    whole = {
        (table, statement)
        for statement, table in annotated_statements(load_sql("api_structures"))
        if table is not None
    }
    assert {table for table, _ in whole} == {"releases", "masters", "artists", "labels"}
    steps = plan(FULL_MONTH)
    fills = [step for step in steps if step.kind == "fill"]
    # credit_roles, search_documents and release_facts by releases (9 slices); the documents
    # of masters, artists and labels by their own ids.
    expected = {
        ("credit_roles", "releases"): 9,
        ("search_documents", "releases"): 9,
        ("search_documents", "masters"): 2,
        ("search_documents", "artists"): 5,
        ("search_documents", "labels"): 2,
        ("release_facts", "releases"): 9,
    }
    for (table, by), count in expected.items():
        group = [s for s in fills if s.name.startswith(f"fill_{table}_{by}_")]
        assert [s.name for s in group] == [
            f"fill_{table}_{by}_{n}of{count}" for n in range(1, count + 1)
        ]
        # Each slice is the whole statement with every range of all ids replaced by its own.
        statements = [s.statement for s in group]
        assert all(ALL_IDS not in statement for statement in statements)
        bounds = slice_ranges(*FULL_MONTH[by][:2], count)
        originals = {
            statement.replace(ALL_IDS, "{range}")
            for by_table, statement in whole
            if by_table == by and f"INSERT INTO {table}" in statement
        }
        assert len(originals) == 1
        template = originals.pop()
        assert statements == [
            template.replace("{range}", f"BETWEEN {start} AND {end}") for start, end in bounds
        ]
    assert len(fills) == sum(expected.values())


def test_nothing_reads_or_indexes_a_sliced_table_before_all_its_slices() -> None:
    steps = plan(FULL_MONTH)
    by_name = {step.name: step for step in steps}
    for table in SLICED:
        fills = {s.name for s in steps if s.kind == "fill" and s.table == table}
        create = f"create_{table}"
        assert by_name[create].after == frozenset()  # created empty: waits for nothing
        assert by_name[create].fills == fills
        assert all(by_name[fill].after >= {create} for fill in fills)
        # The key waits for every slice; indexes wait for the key; ANALYZE for all of them.
        for step in steps:
            if step.table == table and step.kind in ("primary_key", "index", "analyze"):
                assert transitive_after(by_name, step.name) >= fills, step.name
    documents = {s.name for s in steps if s.kind == "fill" and s.table == "search_documents"}
    assert by_name["create_search_words"].after >= documents
    # release_facts reads credit_roles: each of its slices waits for every credit_roles slice.
    roles = {s.name for s in steps if s.kind == "fill" and s.table == "credit_roles"}
    facts = [s for s in steps if s.kind == "fill" and s.table == "release_facts"]
    assert facts and all(
        s.after >= roles | {"create_master_years", "create_release_playing_time"} for s in facts
    )
    # No step of a table waits for a slice of another table it does not read.
    assert all(not (by_name[name].after & documents) for name in roles)


def transitive_after(by_name: dict[str, BuildStep], name: str) -> set[str]:
    seen: set[str] = set()
    pending = list(by_name[name].after)
    while pending:
        other = pending.pop()
        if other not in seen:
            seen.add(other)
            pending += by_name[other].after
    return seen


def test_the_step_heading_the_heaviest_remaining_chain_goes_first() -> None:
    """A light step that a heavy one waits for starts before a heavier step nothing waits for,
    so the longest chain (slices, then the search index) is not left for last."""
    light = BuildStep("light", "fill", "t", "", frozenset(), 5)
    alone = BuildStep("alone", "index", "u", "", frozenset(), 10)
    heavy = BuildStep("heavy", "index", "t", "", frozenset({"light"}), 100)
    assert remaining_chains([light, alone, heavy]) == {"light": 105, "alone": 10, "heavy": 100}
    assert remaining_chains([heavy, alone, light]) == remaining_chains([light, alone, heavy])
    scheduler = _Scheduler([light, alone, heavy])
    assert [scheduler.take(), scheduler.take()] == [light, alone]
    # Among equal chains, plan order.
    first, second = (BuildStep(n, "index", "t", "", frozenset(), 1) for n in ("x", "y"))
    scheduler = _Scheduler([first, second])
    assert scheduler.take() == first


def test_a_sliced_tables_whole_table_steps_weigh_as_much_as_its_slices() -> None:
    steps = plan_build(
        read_sql("finalize_indexes.sql"),
        ALL_TABLES,
        {"releases": 60, "artists": 40},
        RECORD_TABLE_OF,
        load_sql("api_structures"),
        FULL_MONTH,
    )
    by_name = {step.name: step for step in steps}
    assert by_name["fill_search_documents_releases_1of9"].weight == 100
    assert by_name["search_documents_match"].weight == 100 * 18  # 9 + 5 + 2 + 2 slices
    assert by_name["analyze_search_documents"].weight == 100 * 18
    assert by_name["credit_roles_release"].weight == 100 * 9
    assert by_name["create_search_words"].weight == 100  # not built in slices
    # So the scheduler starts the documents' slices before the credit roles' (same weight each):
    # the search index after them heads a heavier chain.
    chains = remaining_chains(steps)
    assert chains["fill_search_documents_releases_1of9"] > chains["fill_credit_roles_releases_1of9"]


def test_plan_rejects_inserts_it_cannot_slice() -> None:
    create = "CREATE TABLE t (id bigint);\n"
    unmarked = create + "INSERT INTO t SELECT id FROM releases WHERE id " + ALL_IDS + ";"
    with pytest.raises(ValueError, match="finalize slices"):
        plan_build("", ALL_TABLES, {}, RECORD_TABLE_OF, unmarked)
    no_range = create + "-- finalize slices: releases\nINSERT INTO t SELECT id FROM releases;"
    with pytest.raises(ValueError, match="without the range"):
        plan_build("", ALL_TABLES, {}, RECORD_TABLE_OF, no_range)
    late = (
        create
        + "CREATE INDEX t_id ON t (id);\n-- finalize slices: releases\n"
        + "INSERT INTO t SELECT id FROM releases WHERE id "
        + ALL_IDS
        + ";"
    )
    with pytest.raises(ValueError, match="outside its table's build"):
        plan_build("", ALL_TABLES, {}, RECORD_TABLE_OF, late)


# --- the build (real PostgreSQL) ---------------------------------------------------------------


def test_sliced_build_gives_the_whole_scripts_rows_on_the_samples(
    conn: psycopg.Connection, settings: Settings
) -> None:
    expected = load_samples(conn, settings, MONTH)
    result = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings, sessions=4)
    slices = [name for name in result.build_steps if name.startswith("fill_search_documents")]
    assert len(slices) == 16  # 1,000 records per entity: four slices each
    sliced = snapshot(conn, "discogs")
    assert sliced["counts"]["search_documents"] == 4000
    assert sliced["counts"]["credit_roles"] > 0 and sliced["counts"]["search_words"] > 0
    # The key is the one ADD PRIMARY KEY would make (its index built beside the others).
    key = ("search_documents", "search_documents_pkey", "p", "PRIMARY KEY (entity_type, entity_id)")
    assert key in sliced["catalog"]["constraints"]
    assert (
        "search_documents_pkey",
        "CREATE UNIQUE INDEX search_documents_pkey ON Ssearch_documents "
        "USING btree (entity_type, entity_id)",
    ) in sliced["catalog"]["indexes"]
    assert sliced == whole_script_snapshot(conn, "discogs")
    # The markers of a finished build are gone.
    assert conn.execute("SELECT count(*) FROM loader.finalize_slices").fetchone()[0] == 0


def test_sliced_build_gives_the_whole_scripts_rows_on_a_generated_month(
    conn: psycopg.Connection, settings: Settings
) -> None:
    month = datetime.date(2026, 11, 1)
    counts = {"releases": 3000, "artists": 1500, "masters": 600, "labels": 400}
    expected = {}
    for entity, records in counts.items():
        data = b"".join(generate_dump(entity, records, seed=11, control_chars=True))
        expected[entity] = load_entity(conn, settings, entity, data, month, target=150_000)
    result = finalize_month(conn, month, expected_chunks=expected, settings=settings, sessions=3)
    # Shared out by rows: 16 slices for 5,500 records, at most 344 records each.
    assert {name for name in result.build_steps if name.startswith("fill_search_documents")} == {
        *(f"fill_search_documents_releases_{n}of9" for n in range(1, 10)),
        *(f"fill_search_documents_artists_{n}of5" for n in range(1, 6)),
        *(f"fill_search_documents_masters_{n}of2" for n in range(1, 3)),
        *(f"fill_search_documents_labels_{n}of2" for n in range(1, 3)),
    }
    sliced = snapshot(conn, "discogs")
    assert sliced["counts"]["search_documents"] == sum(counts.values())
    assert sliced == whole_script_snapshot(conn, "discogs")


def test_a_build_resumed_after_slices_committed_runs_only_the_others(
    conn: psycopg.Connection, settings: Settings
) -> None:
    """A crash after some slices committed (the session died before the scheduler heard of
    it): the resumed finalize skips exactly those, and no document is there twice."""
    expected = load_samples(conn, settings, MONTH)
    schema = import_schema(MONTH)
    steps = planned_steps(conn, schema)
    done = {"fill_search_documents_releases_2of4", "fill_credit_roles_releases_1of4"}
    run_build(sessions_of(settings), schema, steps_up_to(steps, done), 2)
    committed = conn.execute(
        f"SELECT count(*) FROM {schema}.search_documents WHERE entity_type = 'release'"
    ).fetchone()[0]
    assert 0 < committed < 1000
    result = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings, sessions=4)
    ran = set(result.build_steps)
    assert not ran & done  # skipped: already committed
    assert {"fill_search_documents_releases_1of4", "fill_credit_roles_releases_2of4"} <= ran
    resumed = snapshot(conn, "discogs")
    assert resumed["counts"]["search_documents"] == 4000
    assert resumed == whole_script_snapshot(conn, "discogs")


def test_a_slice_killed_before_its_commit_is_run_again(
    conn: psycopg.Connection, settings: Settings
) -> None:
    """A session killed after its slice's INSERT but before its commit: the rows and the marker
    go together, so the resumed finalize runs that slice again, and nothing is lost."""
    expected = load_samples(conn, settings, MONTH)
    schema = import_schema(MONTH)
    steps = planned_steps(conn, schema)
    by_name = {step.name: step for step in steps}
    killed = by_name["fill_credit_roles_releases_3of4"]
    run_build(sessions_of(settings), schema, steps_up_to(steps, set(killed.after)), 2)
    with connect(settings, autocommit=True) as session:
        pid = session.info.backend_pid
        with pytest.raises(psycopg.OperationalError), session.transaction():
            set_search_path(session, schema)
            assert _fill(session, schema, killed)  # its rows and marker, not committed
            inserted = session.execute("SELECT count(*) FROM credit_roles").fetchone()[0]
            assert inserted > 0
            assert conn.execute(f"SELECT count(*) FROM {schema}.credit_roles").fetchone()[0] == 0
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert conn.execute(f"SELECT count(*) FROM {schema}.credit_roles").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM loader.finalize_slices").fetchone()[0] == 0
    result = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings, sessions=4)
    assert killed.name in result.build_steps  # run again
    resumed = snapshot(conn, "discogs")
    assert resumed == whole_script_snapshot(conn, "discogs")


def test_a_slice_running_twice_at_once_inserts_once(
    conn: psycopg.Connection, settings: Settings
) -> None:
    """Two sessions on the same slice (two finalizers, which the pipeline rules out): the second
    waits for the first's marker and skips the slice once the first commits."""
    load_samples(conn, settings, MONTH)
    schema = import_schema(MONTH)
    steps = planned_steps(conn, schema)
    step = {s.name: s for s in steps}["fill_search_documents_labels_2of4"]
    run_build(sessions_of(settings), schema, steps_up_to(steps, set(step.after)), 2)
    with connect(settings, autocommit=True) as first, connect(settings, autocommit=True) as second:
        outcome: list[bool] = []
        with first.transaction():
            set_search_path(first, schema)
            assert _fill(first, schema, step)

            def run_second() -> None:
                with second.transaction():
                    set_search_path(second, schema)
                    outcome.append(_fill(second, schema, step))

            thread = threading.Thread(target=run_second)
            thread.start()
            for _ in range(100):  # the second session is waiting for the first's marker
                waiting = conn.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    (second.info.backend_pid,),
                ).fetchone()
                if waiting and waiting[0] == "Lock":
                    break
                time.sleep(0.05)
            assert waiting and waiting[0] == "Lock"
            assert not outcome
        thread.join(timeout=30)
    assert outcome == [False]
    rows = conn.execute(
        f"SELECT count(*), count(DISTINCT entity_id) FROM {schema}.search_documents"
    ).fetchone()
    assert rows[0] == rows[1] > 0


def test_slices_of_another_plan_start_the_table_over(
    conn: psycopg.Connection, settings: Settings
) -> None:
    """Slices committed under another cut of the ids (other code) cannot be matched with this
    plan's slices: the resumed build drops the table and fills it again."""
    expected = load_samples(conn, settings, MONTH)
    schema = import_schema(MONTH)
    steps = planned_steps(conn, schema)
    other_cut = plan({"releases": (1, 10**9, 1), "artists": (0, 0, 0)})
    other = {"fill_search_documents_releases", "fill_search_documents_masters"}
    run_build(sessions_of(settings), schema, steps_up_to(other_cut, other), 2)
    assert not other <= {step.name for step in steps}
    assert conn.execute(f"SELECT count(*) FROM {schema}.search_documents").fetchone()[0] > 0
    result = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings, sessions=4)
    assert "create_search_documents" in result.build_steps  # built again
    resumed = snapshot(conn, "discogs")
    assert resumed["counts"]["search_documents"] == 4000
    assert resumed == whole_script_snapshot(conn, "discogs")
