"""Streamed loading: `load_chunk` COPYs pieces in a thread while the next batches parse.

Compared with the whole-chunk path (`parse_chunk` then `write_parsed_chunk`, what `load_chunk`
did before) on the samples and on a generated dump, with small batches and pieces so that a
chunk is COPYed in many pieces; and a COPY failure in the middle of a chunk."""

from __future__ import annotations

import datetime
import re

import psycopg
import pytest
from psycopg import sql

from shared.dumps import parser
from shared.dumps.generate import generate_dump
from shared.dumps.parser import parse_chunk, stream_chunk
from shared.dumps.tables import ENTITY_TABLES, tables_for
from shared.loading import import_schema, load_chunk
from shared.loading.schema import ensure_month
from shared.settings import Settings
from tests.dumps.samples import sample_bytes
from tests.dumps.test_loading import fingerprint
from tests.support.whole_chunk import write_parsed_chunk

pytestmark = pytest.mark.usefixtures("extractor")

STREAMED = datetime.date(2021, 3, 1)
WHOLE = datetime.date(2021, 4, 1)


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 16 KiB and pieces of 32 KiB: a sample chunk becomes dozens of COPYs."""
    monkeypatch.setattr(parser, "BATCH_BYTES", 16 * 1024)
    monkeypatch.setattr(parser, "STREAM_PIECE_BYTES", 32 * 1024)


def generated_releases() -> bytes:
    """1,500 generated releases with control characters, one broken record (quarantine) and
    one unknown element in the middle."""
    data = b"".join(generate_dump("releases", 1500, seed=3, control_chars=True))
    ids = re.findall(rb'<release id="(\d+)"', data)
    broken, unknown = ids[700], ids[900]
    start = data.index(b'<release id="' + broken + b'"')
    cut = data.index(b"</title>", start)
    data = data[:cut] + data[cut + len(b"</title>") :]
    start = data.index(b'<release id="' + unknown + b'"')
    title = data.index(b"<title>", start)
    return data[:title] + b"<mood>dark</mood>" + data[title:]


def ledger(conn: psycopg.Connection, month: datetime.date) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT entity, sequence, record_count, loaded_count, quarantined_count, "
        "rows_per_table, unknown_elements, anomalies, data_bytes FROM loader.chunks "
        "WHERE dump_date = %s ORDER BY entity",
        (month,),
    ).fetchall()


def quarantine(conn: psycopg.Connection, month: datetime.date) -> list[tuple[object, ...]]:
    return conn.execute(
        "SELECT entity, byte_offset, record_id, error, raw_record FROM loader.quarantine "
        "WHERE dump_date = %s ORDER BY entity, byte_offset",
        (month,),
    ).fetchall()


def table_count(conn: psycopg.Connection, month: datetime.date, table: str) -> int:
    query = sql.SQL("SELECT count(*) FROM {}.{}").format(
        sql.Identifier(import_schema(month)), sql.Identifier(table)
    )
    return conn.execute(query).fetchone()[0]


@pytest.mark.usefixtures("small_pieces")
def test_stream_chunk_emits_exactly_the_rows_of_parse_chunk() -> None:
    for entity in ENTITY_TABLES:
        data = sample_bytes(entity)
        emitted: dict[str, list[bytes]] = {}
        streamed = stream_chunk(
            data,
            entity,
            lambda table, piece, into=emitted: into.setdefault(table, []).append(piece),
        )
        whole = parse_chunk(data, entity)
        assert {t: b"".join(p) for t, p in emitted.items()} == {
            t: d for t, d in whole.copy_data.items() if d
        }
        assert max(map(len, emitted.values())) > 1, entity  # really streamed in pieces
        assert streamed.copy_data == {}
        assert streamed.row_counts == whole.row_counts
        assert (streamed.record_count, streamed.loaded_count) == (1000, 1000)
        assert (streamed.unknown, streamed.anomalies) == (whole.unknown, whole.anomalies)


@pytest.mark.usefixtures("small_pieces")
def test_streamed_loading_gives_the_tables_of_the_whole_chunk_path(
    conn: psycopg.Connection, settings: Settings
) -> None:
    inputs = {entity: sample_bytes(entity) for entity in ENTITY_TABLES}
    inputs["generated releases"] = generated_releases()
    for sequence, (name, data) in enumerate(inputs.items()):
        entity = name.split()[-1]
        streamed = load_chunk(
            conn, STREAMED, entity, sequence, data, settings=settings, first_byte_offset=100
        )
        whole = write_parsed_chunk(
            conn,
            WHOLE,
            entity,
            sequence,
            parse_chunk(data, entity, first_byte_offset=100),
            settings=settings,
            data_bytes=len(data),
            first_byte_offset=100,
        )
        assert streamed.rows_per_table == whole.rows_per_table, name
        assert streamed.unknown_elements == whole.unknown_elements, name
        assert (streamed.record_count, streamed.loaded_count, streamed.quarantined_count) == (
            whole.record_count,
            whole.loaded_count,
            whole.quarantined_count,
        ), name
    generated = load_chunk(conn, STREAMED, "releases", 4, b"", settings=settings)
    assert generated.already_loaded and generated.quarantined_count == 1
    assert generated.unknown_elements == {"release/mood": 1}
    assert generated.anomalies  # control characters were removed
    for entity in ENTITY_TABLES:
        for table in tables_for(entity):
            assert fingerprint(conn, import_schema(STREAMED), table) == fingerprint(
                conn, import_schema(WHOLE), table
            ), table
    assert table_count(conn, STREAMED, "releases") == 1000 + 1499
    assert ledger(conn, STREAMED) == ledger(conn, WHOLE)
    assert quarantine(conn, STREAMED) == quarantine(conn, WHOLE)
    assert len(quarantine(conn, STREAMED)) == 1


@pytest.mark.usefixtures("small_pieces")
def test_copy_failure_mid_chunk_rolls_back_the_whole_chunk(
    conn: psycopg.Connection, settings: Settings
) -> None:
    data = generated_releases()
    ids = [int(n) for n in re.findall(rb'<release id="(\d+)"', data)]
    ensure_month(conn, STREAMED, settings.release_scope)
    schema = import_schema(STREAMED)
    # PostgreSQL rejects one track row of a release near the end, after many pieces of the
    # same table were COPYed in the same transaction.
    conn.execute(
        sql.SQL(
            "ALTER TABLE {}.release_tracks ADD CONSTRAINT no_such_release CHECK (release_id <> {})"
        ).format(sql.Identifier(schema), sql.Literal(ids[1400]))
    )
    with pytest.raises(psycopg.errors.CheckViolation) as raised:
        load_chunk(conn, STREAMED, "releases", 0, data, settings=settings, first_byte_offset=0)
    notes = "\n".join(getattr(raised.value, "__notes__", []))
    assert "COPY into release_tracks" in notes and "20210301-releases-000000" in notes
    assert "rolled back" in notes
    for table in tables_for("releases"):
        assert table_count(conn, STREAMED, table) == 0, table
    assert ledger(conn, STREAMED) == [] and quarantine(conn, STREAMED) == []
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    # The connection is usable and a redelivery loads the chunk once the value is accepted.
    conn.execute(
        sql.SQL("ALTER TABLE {}.release_tracks DROP CONSTRAINT no_such_release").format(
            sql.Identifier(schema)
        )
    )
    result = load_chunk(conn, STREAMED, "releases", 0, data, settings=settings)
    assert not result.already_loaded and result.loaded_count == 1499
    assert table_count(conn, STREAMED, "releases") == 1499
    assert table_count(conn, STREAMED, "release_tracks") == result.rows_per_table["release_tracks"]
