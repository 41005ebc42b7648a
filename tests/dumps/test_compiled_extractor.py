# ruff: noqa: E501  (dump records are one long line each)
"""The compiled record extractor against its reference, the Python extractor: identical
ParsedChunk contents on real samples, generated dumps and hand-written quirks; the hand-over to
the Python extractor for anything unusual; and the switches that pick one or the other."""

from __future__ import annotations

import contextlib
import gzip
import subprocess
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from lxml import etree

from shared.dumps.extractors import (
    PURE_PYTHON_ENV,
    PYTHON_EXTRACTORS,
    compiled_available,
    extractor,
)
from shared.dumps.generate import generate_dump
from shared.dumps.parser import ParsedChunk, parse_chunk
from shared.dumps.records.common import Output, copy_rows
from shared.dumps.sanitize import empty_blank_elements, strip_invalid_xml_bytes
from shared.dumps.tables import ENTITY_TABLES
from shared.dumps.values import copy_bytes, parse_copy_text
from tests.dumps.samples import SAMPLES_2017, SINGLE_RECORDS, document, sample_bytes
from tests.dumps.test_parser_quirks import CURRENT_RELEASE, OLD_RELEASE

ENTITIES = list(ENTITY_TABLES)


@pytest.fixture(autouse=True, scope="module")
def _compiled_is_built() -> None:
    assert compiled_available(), "run `make setup` to build shared/dumps/_extract"


def assert_same(data: bytes, entity: str, **options: object) -> ParsedChunk:
    """Both extractors on `data`: every field of the ParsedChunk equal. Returns the result."""
    compiled = parse_chunk(data, entity, compiled=True, **options)  # type: ignore[arg-type]
    python = parse_chunk(data, entity, compiled=False, **options)  # type: ignore[arg-type]
    for table in compiled.copy_data.keys() | python.copy_data.keys():
        assert compiled.rows(table) == python.rows(table), table  # readable diff first
    assert compiled == python
    return compiled


def fallbacks(data: bytes, entity: str) -> tuple[int, int]:
    """(records the compiled extractor handed to Python, records) over a parsed document."""
    root = etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False))
    extract = extractor(entity, compiled=True)
    out = Output(entity)
    records = [record for record in root if isinstance(record.tag, str)]
    for record in records:
        with contextlib.suppress(ValueError):  # malformed: the Python extractor raised
            extract(record, out)
    return extract.fallbacks, len(records)  # type: ignore[attr-defined]


def sample_2017(entity: str) -> bytes:
    data = gzip.decompress((SAMPLES_2017 / f"discogs_20170401_{entity}.xml.gz").read_bytes())
    cut = data.rfind(f"</{entity[:-1]}>\n".encode())  # head50: whole records only
    return data[: cut + len(entity) + 2] + f"</{entity}>".encode()


def single_record_document(path: Path, entity: str) -> bytes:
    data = path.read_bytes()
    if data.lstrip().startswith(b"<?xml"):
        data = data[data.index(b"?>") + 2 :]
    if not data.lstrip().startswith(f"<{entity}>".encode()):
        data = f"<{entity}>\n".encode() + data + f"\n</{entity}>".encode()
    return data


@pytest.mark.parametrize("entity", ENTITIES)
def test_real_2020_and_2017_samples_are_identical_and_fully_compiled(entity: str) -> None:
    for data in (sample_bytes(entity), sample_2017(entity)):
        result = assert_same(data, entity)
        assert result.loaded_count > 0 and result.quarantined == []
    # The equivalence is not trivial: the compiled walk did every real record itself.
    assert fallbacks(sample_bytes(entity), entity) == (0, 1000)


@pytest.mark.parametrize("name", sorted(path.name for path in SINGLE_RECORDS.glob("*.xml")))
def test_single_real_records_of_every_vintage_are_identical(name: str) -> None:
    entity = next(e for e in ENTITIES if name.startswith(e[:-1]))
    data = single_record_document(SINGLE_RECORDS / name, entity)
    assert assert_same(data, entity).loaded_count >= 1


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize("control_chars", [False, True])
def test_generated_current_format_dumps_are_identical(entity: str, control_chars: bool) -> None:
    data = b"".join(generate_dump(entity, 1500, seed=7, control_chars=control_chars))
    result = assert_same(data, entity)
    assert result.loaded_count == 1500
    if not control_chars:
        assert fallbacks(data, entity) == (0, 1500)


# Records that exercise every value conversion and every reason to hand a record over. Each
# either goes through the compiled walk or falls back; either way the results must not differ.
# The hand-written current-format release without its numeric genre (an anomaly the compiled
# walk leaves to Python), so that the variants below go through the compiled walk where they can.
BASE = CURRENT_RELEASE.replace("<genre>42</genre>", "<genre>House</genre>")
RELEASE_QUIRKS = [
    CURRENT_RELEASE,  # its numeric genre (an anomaly) is left to the Python extractor
    BASE,
    OLD_RELEASE,
    # durations in every form the Python conversion knows, and garbage
    BASE.replace("<duration>4:45</duration>", "<duration> 3:05 </duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>3:5</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>12345:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1:60:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>0:60:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>?</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>４:４５</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>0:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>:45</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1:02:03</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1:2:3</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1234:5:06</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>10:00:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>0:59:59</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1::00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1:02:</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>99999:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>4:45:</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>1:2:3:4</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>12345</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>0000:00</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>007:07</duration>"),
    BASE.replace("<duration>4:45</duration>", "<duration>4:45</duration><duration/>"),
    # release dates
    *(
        BASE.replace("<released>1975-00-00</released>", f"<released>{value}</released>")
        for value in (
            "1999",
            "1999-12-31",
            "1999-13-01",
            "1999-1-2",
            "1999-123",
            "0400-01-01",
            "197",
            " 2001-02-03 ",
            "2001-02-32",
            "٢٠٠١",
            "Unknown",
            "",
        )
    ),
    BASE.replace("<released>1975-00-00</released>", "<released>1999</released><released/>"),
    # ids: leading zeros, zeros, blanks, garbage (quarantine), too long
    BASE.replace("<id>1</id>", "<id>007</id>"),
    BASE.replace("<id>1</id>", "<id>000</id>"),
    BASE.replace("<id>1</id>", "<id> </id>"),
    BASE.replace("<id>1</id>", "<id>1x</id>"),
    BASE.replace("<id>123</id>", "<id>1234567890123456789</id>"),
    BASE.replace('id="30000001"', 'id="0030000001"'),
    BASE.replace('id="30000001"', 'id="３"'),
    BASE.replace('id="30000001"', 'status="Accepted"'),
    BASE.replace('<label name="Svek" catno="SK032" id="5"/>', '<label name="Svek" id=" "/>'),
    BASE.replace('<label name="Svek" catno="SK032" id="5"/>', '<label name="Svek" id="x"/>'),
    BASE.replace(">0</master_id>", "> </master_id>"),
    BASE.replace('is_main_release="false"', 'is_main_release="yes"'),
    BASE.replace('is_main_release="false"', 'is_main_release="true" extra="1"'),
    # genres and arrays: numeric genre (anomaly), quoting, duplicates, non-ASCII
    BASE.replace("<genre>House</genre>", '<genre>Folk, World, &amp; "Country" \\ x</genre>'),
    BASE.replace("<genre>House</genre>", "<genre>Électronique</genre>"),
    BASE.replace("<genre>House</genre>", "<genre>٤٢</genre>"),
    BASE.replace("<genre>House</genre>", "<genre/>"),
    BASE.replace("<genres>", "<genres><junk>1</junk>"),
    BASE.replace("<styles>", "<genres><genre>Rock</genre></genres><styles>"),
    BASE.replace("<styles><style>Deep House</style></styles>", "<styles/>"),
    BASE.replace("<style>Deep House</style>", '<style>Deep, "House"</style><style>Ünder</style>'),
    # unusual structure: comments, processing instructions, CDATA, namespaces, mixed content
    BASE.replace("<country>", "<!-- c --><country>"),
    BASE.replace("<title>Östermalm</title>", "<title>Öster<!-- c -->malm</title>"),
    BASE.replace("<title>Östermalm</title>", "<title><![CDATA[Öster <malm>]]></title>"),
    BASE.replace("<title>Östermalm</title>", "<title>Öster<![CDATA[malm]]></title>"),
    BASE.replace("<title>Östermalm</title>", "<title>Öster<b>malm</b>tail</title>"),
    BASE.replace("<country>", '<x:mood xmlns:x="urn:x">dark</x:mood><country>'),
    BASE.replace("<country>", "<?pi data?><country>"),
    BASE.replace('<release id="30000001">', '<release xmlns:x="urn:x" id="30000001" x:id="2">'),
    BASE.replace("<tracklist>", "<tracklist>text between<!-- c -->"),
    BASE.replace('<label name="Svek" id="5"/>', '<label name="Svek" id="5">content</label>'),
    BASE.replace('<label name="Svek" id="5"/>', '<label name="Svek" id="5"><x/></label>'),
    # escaping: backslashes, tabs, CR, newlines, entities, astral characters
    BASE.replace("Stockholm &amp; Beyond", "Tab\there\\ &#13;CR &lt;&gt; 𝄞 \\N"),
    # unknown elements and attributes at every level
    BASE.replace("<country>", '<mood level="3">dark</mood><empty_new/><country>'),
    BASE.replace("<title>Clip</title>", "<title>Clip</title><thumb>t.jpg</thumb>"),
    BASE.replace('embed="true"', 'embed="true" hd="1"'),
    BASE.replace("<role>Vocals</role>", "<role>Vocals</role><instrument>x</instrument>"),
    BASE.replace('<identifier type="Barcode"', '<identifier kind="x" type="Barcode"'),
    BASE.replace('<format name="Box Set"', '<format size="L" name="Box Set"'),
    BASE.replace("<description>Limited Edition</description>", "<note>x</note>"),
    BASE.replace("<entity_type>17</entity_type>", "<entity_type>x17</entity_type><logo>y</logo>"),
    BASE.replace("<sub_tracks>", "<sub_tracks><bonus/>"),
    BASE.replace("</sub_tracks>", "</sub_tracks><sub_tracks/>"),
    BASE.replace("<sub_tracks>", "<notes>n</notes><sub_tracks>"),
    OLD_RELEASE.replace('width="600"', 'width="600" depth="3"'),
    OLD_RELEASE.replace('width="600"', 'width="wide"'),
    OLD_RELEASE.replace("<images>", "<images><picture/>"),
    BASE.replace("<genre>House</genre>", "<genre>42</genre>"),
    # broken: quarantined by the Python path, the others still identical
    BASE.replace("<title>Clip</title>", "<title>Clip"),
    '<release status="Accepted"><title>no id</title></release>',
    '<release id="9"/>',
    '<release id="10"><tracklist><track><title>Only title</title></track><track/></tracklist></release>',
]

ARTIST_QUIRKS = [
    "<artist><id>10</id><name>Old Group</name><members><name>Member A</name></members></artist>",
    '<artist><id>11</id><name>Mid Group</name><members><id>26</id><name id="26">Alexi</name><id>27</id><name id="27">Cari</name></members></artist>',
    '<artist><id>12</id><name>New Group</name><members><name id="26">Alexi</name></members><groups><name id="2">Mr. James Barth &amp; A.D.</name></groups><aliases><name id="50">ADNY</name><name>No Id Alias</name><name/><name id="0"/></aliases></artist>',
    "<artist><id>13</id><members><id>99</id><name>Linked Late</name></members></artist>",
    "<artist><id>14</id><members><id>99</id><id>98</id><name/><name>After</name></members></artist>",
    '<artist><images><image type="primary" uri="" uri150="" width="600" height="600"/></images><id>15</id><id>16</id><id>x</id><name>Two Ids</name><realname>Real</realname><profile>P\\r</profile><data_quality>Correct</data_quality><namevariations><name>V1</name><name/><name>V2</name></namevariations><urls><url>http://a</url></urls><urls><url>http://b</url></urls></artist>',
    "<artist><name>No Id</name></artist>",
    "<artist><id>x</id></artist>",
    '<artist id="17"><id>17</id></artist>',
    "<artist><id>18</id><mood>x</mood></artist>",
    '<artist><id>19</id><aliases><name id="5" lang="en">A</name></aliases></artist>',
    '<artist><id>20</id><members><name id="x">M</name></members></artist>',
    "<artist><id>21</id><members><role>x</role></members></artist>",
    "<artist><id>22</id><namevariations><alias>x</alias></namevariations></artist>",
    '<artist><id>23</id><groups><name id=" ">G</name></groups></artist>',
]

LABEL_QUIRKS = [
    '<label><id>1000</id><name>Warner Bros. Records</name><parentLabel id="90718">Warner Music</parentLabel><urls/><sublabels><label id="29742">Warner Resound</label><label id="41256">Warner Special Products</label><label/></sublabels></label>',
    '<label><id>212</id><data_quality>Needs Vote</data_quality><parentLabel id="5"/></label>',
    "<label><id>7</id><name>Sub</name><parentLabel>Parent Name</parentLabel></label>",
    '<label><name>First</name><contactinfo>Line\n2\tTab</contactinfo><profile>P</profile><id>8</id><id>x</id><urls><url>u1</url><url/><url>u2</url></urls><images><image type="primary" width="1" height="2"/></images></label>',
    "<label><name>No id</name></label>",
    "<label><id>9x</id></label>",
    '<label code="1"><id>10</id></label>',
    '<label><id>11</id><parentLabel id="5" kind="x">P</parentLabel></label>',
    '<label><id>12</id><sublabels><label id="x">S</label></sublabels></label>',
    "<label><id>13</id><sublabels><series>S</series></sublabels></label>",
    "<label><id>14</id><logo>x</logo></label>",
]

MASTER_QUIRKS = [
    '<master id="830352"><main_release>1671981</main_release><artists><artist><id>239</id><name>Jesper Dahlbäck</name><join>/</join></artist><artist><name>No Id</name></artist></artists><genres><genre>Electronic</genre></genres><year>0</year><title>T</title><data_quality>Correct</data_quality><notes>N</notes></master>',
    '<master id="2"><year>00</year><genres><genre>12</genre><genre>Rock</genre></genres><styles><style>"Q" \\</style></styles></master>',
    '<master id="3"><year>1999a</year><main_release>0</main_release><videos><video src="s" duration="x" embed="false"><title>T</title><description>D</description></video><video/></videos><images><image type="primary"/></images></master>',
    '<master id="4"><artists><artist><id>1</id><name>A</name></artist></artists><artists><artist><id>2</id><name>B</name></artist></artists></master>',
    '<master id="5"><main_release>x</main_release></master>',
    '<master id="x"/>',
    '<master id="6" status="Accepted"/>',
    '<master id="7"><videos><video src="s" quality="hd"/></videos></master>',
    '<master id="8"><label>x</label></master>',
    '<master id="9"><genres><genre>Rock</genre></genres><genres><genre>Pop</genre></genres></master>',
    '<master id="10"><year>2001</year><title><![CDATA[A & B]]></title></master>',
]


@pytest.mark.parametrize(
    ("entity", "records"),
    [
        ("releases", RELEASE_QUIRKS),
        ("artists", ARTIST_QUIRKS),
        ("labels", LABEL_QUIRKS),
        ("masters", MASTER_QUIRKS),
    ],
)
def test_hand_written_quirks_are_identical_one_by_one_and_together(
    entity: str, records: list[str]
) -> None:
    for index, record in enumerate(records):
        try:
            assert_same(document(entity, record), entity)
        except AssertionError as exc:
            raise AssertionError(f"record {index}: {record[:200]}") from exc
    together = assert_same(document(entity, *records), entity)
    assert together.record_count == len(records)
    # Some of them the compiled walk did itself, the others it handed over.
    done = [
        fallbacks(document(entity, record), entity) == (0, 1)
        for record in records
        if _well_formed(record)
    ]
    assert any(done) and not all(done)


def _well_formed(record: str) -> bool:
    try:
        etree.fromstring(record)
    except etree.XMLSyntaxError:
        return False
    return True


def test_collection_scope_and_offsets_are_identical() -> None:
    records = [BASE.replace("30000001", str(n)) for n in (1, 2, 3)]
    broken = BASE.replace("30000001", "4").replace("<title>Clip</title>", "<title>")
    assert_same(document("releases", *records, broken), "releases", keep_release_ids={2, 4})
    assert_same(
        document("releases", *records, broken),
        "releases",
        first_byte_offset=5000,
        raw_max_bytes=50,
    )


def test_unknown_element_hands_the_record_to_the_python_extractor() -> None:
    ordinary = BASE.replace("30000001", "1")
    unknown = BASE.replace("30000001", "2").replace("</companies>", "</companies><mood>dark</mood>")
    root = etree.fromstring(document("releases", ordinary, unknown))
    extract = extractor("releases", compiled=True)
    out = Output("releases")
    extract(root[0], out)
    assert extract.fallbacks == 0  # type: ignore[attr-defined]
    rows_after_first = {table: len(rows) for table, rows in out.tables.items()}
    # The fast walk alone declines it and leaves nothing behind, although it got as far as
    # the last element (tracks, credits, companies rows were built and are removed again).
    assert extract.fast(root[1], out) is False  # type: ignore[attr-defined]
    assert {table: len(rows) for table, rows in out.tables.items()} == rows_after_first
    assert out.unknown == {}
    extract(root[1], out)
    assert extract.fallbacks == 1  # type: ignore[attr-defined]
    assert out.unknown == {"release/mood": 1}
    assert out.tables["unknown_fields"] == ["releases\x012\x01release/mood\x01<mood>dark</mood>"]
    # Record 1 as a finished COPY line (compiled), record 2 as a marker-joined row (Python).
    first, second = out.tables["releases"]
    assert isinstance(first, bytes) and first.startswith(b"1\t") and first.endswith(b"\n")
    assert isinstance(second, str) and second.startswith("2\x01")
    out.flush()
    assert [row[0] for row in parse_copy_text(out.copy_data()["releases"].decode())] == ["1", "2"]
    assert out.row_counts["releases"] == 2


def test_copy_rows_keeps_order_and_counts_of_mixed_pieces() -> None:
    rows = ["a\x01b\\\x03", "c\nd\x01\t"]
    expected = copy_bytes(rows + rows + rows)
    piece = copy_bytes(rows)  # what the compiled extractor appends: finished lines
    assert piece.count(b"\n") == 2  # the escaped newline in a value is not a row end
    assert copy_rows([piece, *rows, piece]) == (expected, 6)
    assert copy_rows([*rows, piece, *rows]) == (expected, 6)
    assert copy_rows([piece, piece, piece]) == (expected, 6)
    assert copy_rows(rows * 3) == (expected, 6)


def test_pure_python_switch_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    assert extractor("masters").fallback is PYTHON_EXTRACTORS["masters"]  # type: ignore[attr-defined]
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    assert extractor("masters") is PYTHON_EXTRACTORS["masters"]
    assert extractor("masters", compiled=True).name == "masters"  # type: ignore[attr-defined]


def test_without_the_build_the_parser_warns_once_and_uses_python() -> None:
    """A process where `shared.dumps._extract` cannot be imported (the build is missing)."""
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.WARNING, stream=sys.stdout)\n"
        "sys.modules['shared.dumps._extract'] = None  # import fails like a missing build\n"
        "from shared.dumps.parser import parse_chunk\n"
        "from tests.dumps.samples import sample_bytes\n"
        "for _ in range(2):\n"
        "    result = parse_chunk(sample_bytes('labels'), 'labels')\n"
        "print('loaded', result.loaded_count)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
        env={PURE_PYTHON_ENV: "", "PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.count("compiled record extractor unavailable") == 1
    assert "loaded 1000" in done.stdout


def test_compiled_extractor_rejects_an_unknown_entity() -> None:
    from shared.dumps import _extract

    with pytest.raises(ValueError, match="unknown entity"):
        _extract.CompiledExtractor("tracks", PYTHON_EXTRACTORS["releases"])


_DURATION_TEXT = st.text(alphabet="0123456789: -x", max_size=12)
_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00\x01\x02\x03"
    ),
    max_size=20,
).filter(lambda text: all(c in "\t\n\r" or c >= " " for c in text))


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(duration=_DURATION_TEXT, released=_DURATION_TEXT, title=_TEXT, genre=_TEXT)
def test_any_duration_date_and_text_converts_identically(
    duration: str, released: str, title: str, genre: str
) -> None:
    record = (
        BASE.replace("<duration>4:45</duration>", f"<duration>{escape(duration)}</duration>")
        .replace("<released>1975-00-00</released>", f"<released>{escape(released)}</released>")
        .replace("<title>Östermalm</title>", f"<title>{escape(title)}</title>")
        .replace("<genre>House</genre>", f"<genre>{escape(genre)}</genre>")
    )
    assert_same(document("releases", record), "releases")


def test_batch_walk_hands_over_single_records_and_leaves_foreign_batches_alone() -> None:
    ordinary = [BASE.replace("30000001", str(n)) for n in (1, 3)]
    unknown = BASE.replace("30000001", "2").replace("<country>", "<mood>x</mood><country>")
    extract = extractor("releases", compiled=True)
    out = Output("releases")
    root = etree.fromstring(document("releases", ordinary[0], unknown, ordinary[1]))
    root.insert(1, etree.Comment("between records"))
    assert extract.extract_children(root, out) == 3  # type: ignore[attr-defined]
    assert extract.fallbacks == 1  # type: ignore[attr-defined]
    out.flush()
    ids = [row[0] for row in parse_copy_text(out.copy_data()["releases"].decode())]
    assert ids == ["1", "2", "3"] and out.unknown == {"release/mood": 1}
    # A root holding something else than releases: nothing done, the parser goes record by
    # record (and counts the stranger as unknown), identically for both extractors.
    foreign = etree.fromstring(document("releases", ordinary[0], "<junk>1</junk>"))
    assert extract.extract_children(foreign, Output("releases")) == -1  # type: ignore[attr-defined]
    result = assert_same(
        document("releases", ordinary[0], "<junk>1</junk>", ordinary[1]), "releases"
    )
    assert result.unknown == {"releases/junk": 1} and result.loaded_count == 2


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=40)
    | st.text(alphabet="<>/ \t\r\na\x03\x07", max_size=40).map(str.encode)
)
def test_sanitizing_precheck_agrees_with_the_sanitizing_passes(data: bytes) -> None:
    invalid, blank = extractor("labels", compiled=True).needs_sanitizing(data)  # type: ignore[attr-defined]
    assert invalid == (strip_invalid_xml_bytes(data) != data)
    if not invalid:
        assert blank == (empty_blank_elements(data) != data)
