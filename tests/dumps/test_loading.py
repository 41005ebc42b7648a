"""Loading chunks into real PostgreSQL: ledger, quarantine, exactly-once, finalize and swap."""

from __future__ import annotations

import datetime
import io

import psycopg
import pytest
from psycopg import sql

from shared.db.connection import connect
from shared.dumps.chunking import split_records
from shared.dumps.parser import parse_chunk
from shared.dumps.tables import ALL_TABLES, ENTITY_TABLES
from shared.loading import (
    FinalizeError,
    MonthClosedError,
    finalize_month,
    import_schema,
    load_chunk,
)
from shared.settings import Settings
from tests.dumps.samples import document, sample_bytes
from tests.dumps.test_parser_quirks import CURRENT_RELEASE

pytestmark = pytest.mark.usefixtures("extractor")

MONTH = datetime.date(2020, 8, 6)
NEXT_MONTH = datetime.date(2020, 9, 1)


def load_entity(
    conn: psycopg.Connection,
    settings: Settings,
    entity: str,
    data: bytes,
    month: datetime.date = MONTH,
    target: int = 10_000_000,
) -> int:
    chunks = 0
    for chunk in split_records(io.BytesIO(data), entity, target):
        load_chunk(
            conn,
            month,
            entity,
            chunk.sequence,
            chunk.data,
            settings=settings,
            first_byte_offset=chunk.first_byte_offset,
        )
        chunks += 1
    return chunks


def counts(conn: psycopg.Connection, schema: str) -> dict[str, int]:
    return {
        table: conn.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        ).fetchone()[0]
        for table in ALL_TABLES
    }


def fingerprint(conn: psycopg.Connection, schema: str, table: str) -> str:
    query = sql.SQL(
        "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {}.{} t"
    )
    return conn.execute(query.format(sql.Identifier(schema), sql.Identifier(table))).fetchone()[0]


def test_all_samples_load_finalize_and_serve(conn: psycopg.Connection, settings: Settings) -> None:
    expected_rows: dict[str, int] = {}
    expected = {}
    for entity in ENTITY_TABLES:
        data = sample_bytes(entity)
        expected[entity] = load_entity(conn, settings, entity, data, target=200_000)
        expected_rows.update(parse_chunk(data, entity).row_counts)
    result = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings)
    assert result.records_per_entity == dict.fromkeys(ENTITY_TABLES, 1000)
    assert result.quarantined_per_entity == dict.fromkeys(ENTITY_TABLES, 0)
    assert result.warnings == []
    served = counts(conn, "discogs")
    assert served == {table: expected_rows.get(table, 0) for table in ALL_TABLES}
    assert served["release_tracks"] == 9430 and served["release_track_artists"] == 6721
    assert conn.execute("SELECT count(*) FROM loader.quarantine").fetchone()[0] == 0
    # Field level, through SQL, on real records.
    row = conn.execute(
        "SELECT title, released, released_year, released_month, released_day, master_id, "
        "is_main_release, genres, styles FROM discogs.releases WHERE id = 1"
    ).fetchone()
    assert row == (
        "Stockholm",
        "1999-03-00",
        1999,
        3,
        None,
        1660109,
        True,
        ["Electronic"],
        ["Deep House"],
    )
    subs = conn.execute(
        "SELECT s.position FROM discogs.release_tracks p JOIN discogs.release_tracks s "
        "ON s.release_id = p.release_id AND s.parent_sequence = p.sequence "
        "WHERE p.release_id = 3019999 AND p.title = 'Medley' ORDER BY s.sequence"
    ).fetchall()
    assert [r[0] for r in subs][:2] == ["1-5.1", "1-5.2"]
    assert conn.execute(
        "SELECT parent_label_id, parent_label_name FROM discogs.labels WHERE id = 7"
    ).fetchone() == (1000, "Warner Bros. Records")
    assert conn.execute(
        "SELECT array_agg(member_id ORDER BY sequence) FROM discogs.artist_members "
        "WHERE artist_id = 2"
    ).fetchone()[0] == [26, 27]
    descriptions = conn.execute(
        "SELECT sum(cardinality(descriptions)) FROM discogs.release_formats"
    ).fetchone()[0]
    assert descriptions == 2098
    # Search indexes exist and are used by name; no b-tree on a text column.
    indexes = dict(
        conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'discogs'"
        ).fetchall()
    )
    assert "gin_trgm_ops" in indexes["releases_title_trgm_idx"]
    assert "to_tsvector" in indexes["releases_title_fts_idx"]
    text_btrees = conn.execute(
        "SELECT i.indexrelid::regclass::text FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'discogs' AND am.amname = 'btree' AND a.atttypid = 'text'::regtype"
    ).fetchall()
    assert text_btrees == []
    # Finalize again: a no-op returning the stored result.
    again = finalize_month(conn, MONTH, expected_chunks=expected, settings=settings)
    assert again.already_finalized and again.rows_per_table == result.rows_per_table


def test_reloading_a_chunk_changes_nothing(conn: psycopg.Connection, settings: Settings) -> None:
    data = sample_bytes("masters")
    first = load_chunk(conn, MONTH, "masters", 0, data, settings=settings)
    before = {t: fingerprint(conn, import_schema(MONTH), t) for t in ENTITY_TABLES["masters"]}
    second = load_chunk(conn, MONTH, "masters", 0, data, settings=settings)
    assert not first.already_loaded and second.already_loaded
    assert second.rows_per_table == first.rows_per_table
    assert second.record_count == first.record_count == 1000
    after = {t: fingerprint(conn, import_schema(MONTH), t) for t in ENTITY_TABLES["masters"]}
    assert after == before
    assert conn.execute("SELECT count(*) FROM loader.chunks").fetchone()[0] == 1


def test_two_chunk_sizes_give_identical_tables(
    conn: psycopg.Connection, settings: Settings
) -> None:
    for entity in ENTITY_TABLES:
        data = sample_bytes(entity)
        big = load_entity(conn, settings, entity, data, MONTH, 10_000_000)
        small = load_entity(conn, settings, entity, data, NEXT_MONTH, 30_000)
        assert big == 1 and small > 5
    for table in ALL_TABLES:
        assert fingerprint(conn, import_schema(MONTH), table) == fingerprint(
            conn, import_schema(NEXT_MONTH), table
        ), table


def test_broken_record_is_quarantined_and_the_rest_loads(
    conn: psycopg.Connection, settings: Settings
) -> None:
    good = [CURRENT_RELEASE.replace("30000001", str(n)) for n in (1, 2, 4)]
    broken = CURRENT_RELEASE.replace("30000001", "3").replace("</title>", "", 1)
    data = document("releases", good[0], good[1], broken, good[2])
    result = load_chunk(
        conn, MONTH, "releases", 0, data, settings=settings, first_byte_offset=5_000
    )
    assert (result.record_count, result.loaded_count, result.quarantined_count) == (4, 3, 1)
    ids = conn.execute(
        f"SELECT array_agg(id ORDER BY id) FROM {import_schema(MONTH)}.releases"
    ).fetchone()[0]
    assert ids == [1, 2, 4]
    row = conn.execute(
        "SELECT dump_date, entity, sequence, byte_offset, record_id, error, raw_record "
        "FROM loader.quarantine"
    ).fetchone()
    offset = 5_000 + data.index(b'<release id="3"') - len(b"<releases>\n")
    assert row[:5] == (MONTH, "releases", 0, offset, 3)
    assert "XML syntax error" in row[5] and row[6].startswith('<release id="3">')
    result = finalize_month(conn, MONTH, expected_chunks={"releases": 1}, settings=settings)
    assert result.quarantined_per_entity == {"releases": 1}
    assert len(result.warnings) == 3  # artists, labels, masters never loaded


def test_unknown_elements_are_counted_per_run_and_kept(
    conn: psycopg.Connection, settings: Settings
) -> None:
    record = CURRENT_RELEASE.replace("<country>", '<mood level="3">dark</mood><country>')
    load_chunk(conn, MONTH, "releases", 0, document("releases", record), settings=settings)
    assert conn.execute(
        "SELECT dump_date, entity, path, occurrences FROM loader.unknown_elements"
    ).fetchall() == [(MONTH, "releases", "release/mood", 1)]
    assert conn.execute(
        f"SELECT entity, record_id, path, xml FROM {import_schema(MONTH)}.unknown_fields"
    ).fetchall() == [("releases", 30000001, "release/mood", '<mood level="3">dark</mood>')]


def test_swap_keeps_previous_month_readable_and_drops_older(
    conn: psycopg.Connection, settings: Settings
) -> None:
    months = [datetime.date(2026, 9, 1), datetime.date(2026, 10, 1), datetime.date(2026, 11, 1)]
    for number, month in enumerate(months, 1):
        record = CURRENT_RELEASE.replace("30000001", str(number))
        load_chunk(conn, month, "releases", 0, document("releases", record), settings=settings)
        if number > 1:
            # Loaded but not finalized: readers still see the served month, whole.
            served = conn.execute("SELECT array_agg(id) FROM discogs.releases").fetchone()[0]
            assert served == [number - 1]
        with connect(settings, autocommit=False) as reader:
            if number > 1:  # a reader inside a transaction does not block the swap
                reader.execute("SELECT count(*) FROM discogs.releases").fetchone()
            result = finalize_month(conn, month, expected_chunks={"releases": 1}, settings=settings)
        assert conn.execute("SELECT array_agg(id) FROM discogs.releases").fetchone()[0] == [number]
        if number > 1:
            assert result.previous_dump_date == months[number - 2]
            previous = conn.execute("SELECT array_agg(id) FROM discogs_previous.releases")
            assert previous.fetchone()[0] == [number - 1]
    schemas = {
        r[0]
        for r in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'discogs%' "
            "OR nspname LIKE 'import_%'"
        ).fetchall()
    }
    assert schemas == {"discogs", "discogs_previous"}
    statuses = conn.execute(
        "SELECT dump_date, status FROM loader.months ORDER BY dump_date"
    ).fetchall()
    assert [s for _, s in statuses] == ["dropped", "previous", "served"]
    with pytest.raises(MonthClosedError):
        load_chunk(
            conn,
            months[-1],
            "releases",
            1,
            document("releases", CURRENT_RELEASE),
            settings=settings,
        )


def test_finalize_refuses_an_incomplete_ledger(
    conn: psycopg.Connection, settings: Settings
) -> None:
    data = sample_bytes("labels")
    chunks = list(split_records(io.BytesIO(data), "labels", 50_000))
    for chunk in chunks[:1] + chunks[2:]:
        load_chunk(conn, MONTH, "labels", chunk.sequence, chunk.data, settings=settings)
    with pytest.raises(FinalizeError, match=r"labels: 1 of \d+ chunks missing \(1\)"):
        finalize_month(conn, MONTH, expected_chunks={"labels": len(chunks)}, settings=settings)
    with pytest.raises(FinalizeError, match="gaps at \\[1\\]"):
        finalize_month(conn, MONTH, expected_chunks=None, settings=settings)
    with pytest.raises(FinalizeError, match="nothing was loaded"):
        finalize_month(conn, NEXT_MONTH, expected_chunks=None, settings=settings)
    assert conn.execute("SELECT to_regnamespace('discogs')").fetchone()[0] is None


@pytest.fixture
def collection_settings(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_SCOPE", "collection")


def test_collection_scope_without_the_account_view_is_empty(
    collection_settings: None, conn: psycopg.Connection, settings: Settings
) -> None:
    assert settings.release_scope == "collection"
    conn.execute("DROP VIEW account.referenced_release_ids")  # e.g. a database without sync
    result = load_chunk(conn, MONTH, "releases", 0, sample_bytes("releases"), settings=settings)
    assert result.loaded_count == 0 and result.out_of_scope_count == 1000
    assert "does not exist" in result.notes[0]
    final = finalize_month(conn, MONTH, expected_chunks=None, settings=settings)
    assert any("does not exist" in warning for warning in final.warnings)


def test_collection_scope_keeps_referenced_releases_and_what_they_point_to(
    collection_settings: None, conn: psycopg.Connection, settings: Settings
) -> None:
    # Synced items reference releases 1, 2 and one the dump lacks; release 3 was removed.
    conn.execute(
        "INSERT INTO account.collection_items"
        " (username, instance_id, release_id, folder_id, basic_information, content_hash,"
        "  removed_at)"
        " VALUES ('alice', 11, 1, 1, '{}', 'h', NULL),"
        "        ('alice', 12, 999999999, 1, '{}', 'h', NULL),"
        "        ('alice', 13, 3, 1, '{}', 'h', now())"
    )
    conn.execute(
        "INSERT INTO account.wantlist_items (username, release_id, basic_information, content_hash)"
        " VALUES ('alice', 2, '{}', 'h')"
    )
    conn.commit()
    for entity in ENTITY_TABLES:
        load_entity(conn, settings, entity, sample_bytes(entity))
    result = finalize_month(conn, MONTH, expected_chunks=None, settings=settings)
    assert result.release_scope == "collection"
    assert conn.execute("SELECT array_agg(id ORDER BY id) FROM discogs.releases").fetchone()[0] == [
        1,
        2,
    ]
    # Artists kept are exactly those credited on the kept releases/masters and present in the dump.
    orphans = conn.execute(
        "SELECT count(*) FROM discogs.artists a WHERE NOT EXISTS ("
        "SELECT 1 FROM discogs.release_artists r WHERE r.artist_id = a.id) AND NOT EXISTS ("
        "SELECT 1 FROM discogs.release_track_artists t WHERE t.artist_id = a.id) AND NOT EXISTS ("
        "SELECT 1 FROM discogs.master_artists m WHERE m.artist_id = a.id)"
    ).fetchone()[0]
    assert orphans == 0
    assert conn.execute("SELECT count(*) FROM discogs.artists").fetchone()[0] >= 1  # artist 1
    assert (
        conn.execute(
            "SELECT count(*) FROM discogs.release_tracks WHERE release_id NOT IN (1, 2)"
        ).fetchone()[0]
        == 0
    )
    assert result.rows_per_table["releases"] == 2


def test_duplicate_ids_fail_finalize_clearly(conn: psycopg.Connection, settings: Settings) -> None:
    record = CURRENT_RELEASE.replace("30000001", "7")
    load_chunk(conn, MONTH, "releases", 0, document("releases", record), settings=settings)
    load_chunk(conn, MONTH, "releases", 1, document("releases", record), settings=settings)
    with pytest.raises(FinalizeError, match=r"ids are not unique \(releases: Key \(id\)=\(7\)"):
        finalize_month(conn, MONTH, expected_chunks={"releases": 2}, settings=settings)
    assert conn.execute("SELECT to_regnamespace('discogs')").fetchone()[0] is None


def test_load_chunk_commits_on_a_non_autocommit_connection(
    conn: psycopg.Connection, settings: Settings
) -> None:
    with connect(settings, autocommit=False) as worker:
        result = load_chunk(worker, MONTH, "labels", 0, sample_bytes("labels"), settings=settings)
        assert result.loaded_count == 1000
        # Seen from another connection while the worker's connection stays open: committed.
        count = conn.execute(f"SELECT count(*) FROM {import_schema(MONTH)}.labels").fetchone()[0]
        assert count == 1000
        assert worker.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
