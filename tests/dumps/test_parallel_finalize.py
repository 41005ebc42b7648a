"""The parallel finalize (FINALIZE_PARALLELISM): same catalog as one session, clean failures."""

from __future__ import annotations

import datetime
import time

import psycopg
import pytest

from shared.dumps.tables import ALL_TABLES, ENTITY_TABLES, RECORD_TABLE_OF
from shared.loading import FinalizeError, finalize_month, import_schema
from shared.loading.build_plan import plan_build, split_statements
from shared.loading.schema import read_sql
from shared.queries import load_sql
from shared.settings import Settings
from tests.dumps.samples import sample_bytes
from tests.dumps.test_loading import counts, fingerprint, load_entity

MONTH = datetime.date(2020, 8, 6)
NEXT_MONTH = datetime.date(2020, 9, 1)


def load_samples(conn: psycopg.Connection, settings: Settings, month: datetime.date) -> dict:
    return {
        entity: load_entity(conn, settings, entity, sample_bytes(entity), month, target=200_000)
        for entity in ENTITY_TABLES
    }


def catalog(conn: psycopg.Connection, schema: str) -> dict[str, object]:
    """Tables, indexes (definitions), constraints and planner statistics of one schema, with the
    schema's name taken out so two months compare equal."""
    tables = conn.execute(
        "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE nspname = %s AND relkind = 'r' ORDER BY relname",
        (schema,),
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, replace(indexdef, %s, 'S') FROM pg_indexes WHERE schemaname = %s "
        "ORDER BY indexname",
        (schema + ".", schema),
    ).fetchall()
    constraints = conn.execute(
        "SELECT t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) "
        "FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
        "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = %s ORDER BY 1, 2",
        (schema,),
    ).fetchall()
    analyzed = conn.execute(
        "SELECT relname, reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE nspname = %s AND relkind = 'r' ORDER BY relname",
        (schema,),
    ).fetchall()
    return {
        "tables": tables,
        "indexes": indexes,
        "constraints": constraints,
        "reltuples": analyzed,
    }


def test_every_statement_becomes_one_step_in_a_safe_order() -> None:
    script = read_sql("finalize_indexes.sql")
    steps = plan_build(script, ALL_TABLES, {"releases": 100, "artists": 5}, RECORD_TABLE_OF)
    by_name = {step.name: step for step in steps}
    assert [s.statement for s in steps if s.statement] == split_statements(script)
    assert {s.name for s in steps if s.kind == "analyze"} == {f"analyze_{t}" for t in ALL_TABLES}
    # A child's key waits for the record table's key; indexes wait for their table's key.
    assert by_name["release_tracks_pkey"].after == {"releases_pkey"}
    assert by_name["releases_pkey"].after == frozenset()
    assert by_name["releases_title_trgm_idx"].after == {"releases_pkey"}
    # ANALYZE after every index of its table; the API structures after every key.
    assert by_name["analyze_releases"].after >= {"releases_pkey", "releases_title_trgm_idx"}
    assert by_name["releases_pkey"].weight == 100


def test_the_api_structures_build_side_by_side_after_the_keys_they_read() -> None:
    entity_script, api_script = read_sql("finalize_indexes.sql"), load_sql("api_structures")
    steps = plan_build(entity_script, ALL_TABLES, {"releases": 100}, RECORD_TABLE_OF, api_script)
    by_name = {step.name: step for step in steps}
    creates = {s.name for s in steps if s.kind == "create"}
    assert creates >= {"create_search_documents", "create_credit_roles", "create_search_words"}
    # A table filled by INSERTs is created empty, waiting for nothing; each fill waits for the
    # keys of the entity tables it reads (a key build locks its table) and for its table.
    assert by_name["create_credit_roles"].after == frozenset()
    assert by_name["fill_credit_roles_releases"].after == {
        "create_credit_roles",
        "release_artists_pkey",
        "release_track_artists_pkey",
    }
    # CREATE TABLE ... AS waits for the keys it reads and for the rows (and a key built by ADD
    # PRIMARY KEY) of the API tables it reads: search_words reads search_documents, its create
    # and all its fills.
    document_fills = {s.name for s in steps if s.kind == "fill" and s.table == "search_documents"}
    assert document_fills == {
        f"fill_search_documents_{table}" for table in ("releases", "masters", "artists", "labels")
    }
    rows = document_fills | {"create_search_documents"}
    assert by_name["create_search_words"].after == rows
    assert by_name["fill_release_facts_releases"].after == {
        "create_release_facts",
        "create_release_playing_time",
        "release_playing_time_pkey",
        "create_master_years",
        "master_years_pkey",
        "releases_pkey",
        "create_credit_roles",
        "fill_credit_roles_releases",
    }
    # The key's unique index and the other indexes build side by side after all the rows; the
    # index becomes the key after all of them; ANALYZE last.
    document_indexes = {
        s.name for s in steps if s.kind == "index" and s.table == "search_documents"
    }
    assert len(document_indexes) >= 6 and "search_documents_pkey" in document_indexes
    assert all(by_name[n].after == rows for n in document_indexes)
    assert by_name["search_documents_primary_key"].kind == "primary_key"
    assert by_name["search_documents_primary_key"].after == rows | document_indexes
    assert by_name["analyze_search_documents"].after == {"search_documents_primary_key"}
    # The API steps go first among the ready ones: they are the build's longest chain.
    assert by_name["fill_search_documents_releases"].weight == 100


def test_plan_rejects_an_api_statement_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="not understood"):
        plan_build("", ALL_TABLES, {}, RECORD_TABLE_OF, "UPDATE releases SET title = 'x';")
    with pytest.raises(ValueError, match="not understood"):  # an index on a table it never made
        plan_build("", ALL_TABLES, {}, RECORD_TABLE_OF, "CREATE INDEX x ON elsewhere (a);")


def test_plan_rejects_a_statement_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="not understood"):
        plan_build("DROP TABLE releases;", ALL_TABLES, {}, RECORD_TABLE_OF)


def test_parallel_finalize_builds_the_same_catalog_as_one_session(
    conn: psycopg.Connection, settings: Settings
) -> None:
    expected = load_samples(conn, settings, MONTH)
    sequential = finalize_month(
        conn, MONTH, expected_chunks=expected, settings=settings, sessions=1
    )
    expected_next = load_samples(conn, settings, NEXT_MONTH)
    parallel = finalize_month(
        conn, NEXT_MONTH, expected_chunks=expected_next, settings=settings, sessions=6
    )
    assert parallel.previous_dump_date == MONTH
    assert parallel.rows_per_table == sequential.rows_per_table
    one, six = catalog(conn, "discogs_previous"), catalog(conn, "discogs")
    assert one == six
    # The catalog holds what finalize builds: keys, search indexes and the API's structures.
    assert ("releases", "releases_pkey", "p", "PRIMARY KEY (id)") in six["constraints"]
    assert ("search_documents",) in six["tables"]
    assert len(six["indexes"]) > 60
    assert all(tuples >= 0 for _, tuples in six["reltuples"])  # -1: never analyzed
    for table in ("releases", "release_tracks", "artists", "search_documents"):
        assert fingerprint(conn, "discogs", table) == fingerprint(conn, "discogs_previous", table)


def test_a_failing_build_step_fails_finalize_and_swaps_nothing(
    conn: psycopg.Connection, settings: Settings
) -> None:
    served = load_samples(conn, settings, MONTH)
    finalize_month(conn, MONTH, expected_chunks=served, settings=settings, sessions=4)
    before = counts(conn, "discogs")
    expected = load_samples(conn, settings, NEXT_MONTH)
    schema = import_schema(NEXT_MONTH)
    # One child key can no longer be built (same row count, so the validation passes).
    release_id, first, second = conn.execute(
        f"SELECT release_id, min(sequence), max(sequence) FROM {schema}.release_tracks "
        "GROUP BY release_id HAVING count(*) > 1 ORDER BY release_id LIMIT 1"
    ).fetchone()
    conn.execute(
        f"UPDATE {schema}.release_tracks SET sequence = %s WHERE release_id = %s AND sequence = %s",
        (first, release_id, second),
    )
    with pytest.raises(FinalizeError, match=r"not unique \(release_tracks: Key"):
        finalize_month(conn, NEXT_MONTH, expected_chunks=expected, settings=settings, sessions=4)
    # Nothing swapped: the served month is the old one, the new one still loading.
    months = dict(conn.execute("SELECT dump_date, status FROM loader.months").fetchall())
    assert months == {MONTH: "served", NEXT_MONTH: "loading"}
    assert counts(conn, "discogs") == before
    assert conn.execute("SELECT to_regnamespace(%s)", (schema,)).fetchone()[0] is not None
    assert conn.execute("SELECT to_regclass('discogs_previous.releases')").fetchone()[0] is None
    # No session of the build holds a lock on the month any more (a closed session's backend
    # may take a moment to exit, so look a few times).
    for _ in range(50):
        holders = conn.execute(
            "SELECT count(DISTINCT l.pid) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND l.pid <> pg_backend_pid()",
            (schema,),
        ).fetchone()[0]
        if holders == 0:
            break
        time.sleep(0.2)
    assert holders == 0
    # Fixed, the retried finalize resumes (keys already built are kept) and swaps.
    kept = conn.execute(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = %s", (schema,)
    ).fetchone()[0]
    assert kept > 0
    conn.execute(
        f"UPDATE {schema}.release_tracks SET sequence = %s WHERE ctid = (SELECT max(ctid) "
        f"FROM {schema}.release_tracks WHERE release_id = %s AND sequence = %s)",
        (second, release_id, first),
    )
    result = finalize_month(
        conn, NEXT_MONTH, expected_chunks=expected, settings=settings, sessions=4
    )
    assert result.previous_dump_date == MONTH
    assert counts(conn, "discogs") == before
    assert catalog(conn, "discogs") == catalog(conn, "discogs_previous")


def test_finalize_sessions_default_to_the_loader_budget_capped_at_the_server_cores(
    settings: Settings,
) -> None:
    assert settings.model_copy(update={"loader_max_connections": 32}).finalize_sessions == 8
    assert settings.model_copy(update={"loader_max_connections": 4}).finalize_sessions == 4
    explicit = settings.model_copy(update={"finalize_parallelism": 3, "loader_max_connections": 32})
    assert explicit.finalize_sessions == 3
