"""The parser on the real 2020-08-06 samples (1,000 records each) and older real records.

Row counts are checked against XPath counts over the whole document: an independent method.
"""

from __future__ import annotations

import gzip

import pytest
from lxml import etree

from shared.dumps.parser import ParsedChunk, parse_chunk
from shared.dumps.tables import ENTITY_TABLES
from tests.dumps.samples import SAMPLES_2017, SINGLE_RECORDS, sample_bytes

pytestmark = pytest.mark.usefixtures("extractor")

NONEMPTY = "[normalize-space() or (@id and @id != '0')]"
XPATH_COUNTS = {
    "artists": {
        "artists": "/artists/artist",
        "artist_aliases": "/artists/artist/aliases/name" + NONEMPTY,
        "artist_name_variations": "/artists/artist/namevariations/name[normalize-space()]",
        "artist_members": "/artists/artist/members/name" + NONEMPTY,
        "artist_groups": "/artists/artist/groups/name" + NONEMPTY,
        "artist_urls": "/artists/artist/urls/url[normalize-space()]",
        "artist_images": "/artists/artist/images/image",
    },
    "labels": {
        "labels": "/labels/label",
        "label_urls": "/labels/label/urls/url[normalize-space()]",
        "label_sublabels": "/labels/label/sublabels/label" + NONEMPTY,
        "label_images": "/labels/label/images/image",
    },
    "masters": {
        "masters": "/masters/master",
        "master_artists": "/masters/master/artists/artist",
        "master_videos": "/masters/master/videos/video",
        "master_images": "/masters/master/images/image",
    },
    "releases": {
        "releases": "/releases/release",
        "release_artists": "/releases/release/artists/artist"
        " | /releases/release/extraartists/artist",
        "release_labels": "/releases/release/labels/label",
        "release_series": "/releases/release/series/series",
        "release_formats": "/releases/release/formats/format",
        "release_identifiers": "/releases/release/identifiers/identifier",
        "release_videos": "/releases/release/videos/video",
        "release_companies": "/releases/release/companies/company",
        "release_tracks": "/releases/release/tracklist//track",
        "release_track_artists": "/releases/release/tracklist//track/artists/artist"
        " | /releases/release/tracklist//track/extraartists/artist",
        "release_images": "/releases/release/images/image",
    },
}


@pytest.fixture(scope="module")
def parsed(extractor: str) -> dict[str, ParsedChunk]:
    return {entity: parse_chunk(sample_bytes(entity), entity) for entity in ENTITY_TABLES}


@pytest.mark.parametrize("entity", list(ENTITY_TABLES))
def test_every_sample_record_parses_and_row_counts_match_xpath(
    entity: str, parsed: dict[str, ParsedChunk]
) -> None:
    result = parsed[entity]
    document = etree.fromstring(sample_bytes(entity))
    assert result.record_count == 1000
    assert result.loaded_count == 1000
    assert result.quarantined == []
    assert result.unknown == {}
    expected = {
        table: int(document.xpath(f"count({xpath})"))
        for table, xpath in XPATH_COUNTS[entity].items()
    }
    actual = {table: result.row_counts[table] for table in XPATH_COUNTS[entity]}
    assert actual == expected
    assert set(XPATH_COUNTS[entity]) == set(ENTITY_TABLES[entity])


def test_sample_counts_match_the_published_oracle(parsed: dict[str, ParsedChunk]) -> None:
    releases = parsed["releases"].row_counts
    assert releases["release_tracks"] == 9430  # 9,178 tracks + 252 sub-tracks
    assert releases["release_track_artists"] == 6721
    assert releases["release_artists"] == 5053
    descriptions = sum(
        len(row[5].strip("{}").split('","'))
        for row in parsed["releases"].rows("release_formats")
        if row[5] != "{}"
    )
    assert descriptions == 2098
    assert parsed["artists"].row_counts["artist_members"] == 218


def _by_id(rows: list[tuple[str | None, ...]], record_id: str) -> list[tuple[str | None, ...]]:
    return [row for row in rows if row[0] == record_id]


def test_release_with_sub_tracks_keeps_their_parent(parsed: dict[str, ParsedChunk]) -> None:
    tracks = _by_id(parsed["releases"].rows("release_tracks"), "3019999")
    medley = next(row for row in tracks if row[5] == "Medley")
    assert medley[3] == "index" and medley[4] is None
    subs = [row for row in tracks if row[2] == medley[1]]
    assert [row[4] for row in subs][:3] == ["1-5.1", "1-5.2", "1-5.3"]
    assert [int(row[1]) for row in subs] == list(
        range(int(medley[1]) + 1, int(medley[1]) + 1 + len(subs))
    )
    headings = [row[5] for row in tracks if row[3] == "heading"]
    assert headings == ["1984", "1974", "Bonus Tracks - Audio Only"]


def test_release_with_headings_and_zero_day_date(parsed: dict[str, ParsedChunk]) -> None:
    release = _by_id(parsed["releases"].rows("releases"), "1")[0]
    assert release[1] == "Accepted"
    assert release[4:8] == ("1999-03-00", "1999", "3", None)
    assert release[10] == "1660109" and release[11] == "t"
    assert release[12] == '{"Electronic"}' and release[13] == '{"Deep House"}'
    assert "82 districts.\n\nTitle on label" in release[8]
    tracks = _by_id(parsed["releases"].rows("release_tracks"), "1")
    assert tracks[0][3:8] == ("track", "A", "Östermalm", "4:45", "285")
    assert any(
        row[3] == "heading" for row in _by_id(parsed["releases"].rows("release_tracks"), "25")
    )


def test_release_with_several_labels_and_companies(parsed: dict[str, ParsedChunk]) -> None:
    document = etree.fromstring(sample_bytes("releases"))
    xml = document.xpath("/releases/release[@id='2']")[0]
    labels = _by_id(parsed["releases"].rows("release_labels"), "2")
    assert [(row[2], row[3], row[4]) for row in labels] == [
        (label.get("id"), label.get("name"), label.get("catno")) for label in xml.find("labels")
    ]
    companies = _by_id(parsed["releases"].rows("release_companies"), "2")
    assert len(companies) == len(xml.find("companies")) >= 2
    first = xml.find("companies")[0]
    assert companies[0][2:8] == (
        first.findtext("id"),
        first.findtext("name"),
        first.findtext("catno") or None,
        first.findtext("entity_type"),
        first.findtext("entity_type_name"),
        first.findtext("resource_url"),
    )


def test_unlinked_credits_with_id_zero_keep_name_and_null_id(
    parsed: dict[str, ParsedChunk],
) -> None:
    credits = parsed["releases"].rows("release_artists") + parsed["releases"].rows(
        "release_track_artists"
    )
    document = etree.fromstring(sample_bytes("releases"))
    zero_names = document.xpath("//artist[id='0']/name/text()")
    assert len(zero_names) == 20
    null_id_names = [row for row in credits if None in row[3:5] and row[4] in zero_names]
    assert null_id_names


def test_label_with_parent(parsed: dict[str, ParsedChunk]) -> None:
    label = _by_id(parsed["labels"].rows("labels"), "7")[0]
    assert label[5:7] == ("1000", "Warner Bros. Records")
    planet_e = _by_id(parsed["labels"].rows("labels"), "1")[0]
    assert planet_e[1] == "Planet E"
    assert planet_e[2].startswith("Planet E Communications\r\nP.O. Box 27218\r\n")


def test_artist_with_members_and_aliases(parsed: dict[str, ParsedChunk]) -> None:
    members = _by_id(parsed["artists"].rows("artist_members"), "2")
    assert [row[1:] for row in members] == [
        ("1", "26", "Alexi Delano"),
        ("2", "27", "Cari Lekebusch"),
    ]
    aliases = _by_id(parsed["artists"].rows("artist_aliases"), "1")
    assert aliases[0][1:] == ("1", "239", "Jesper Dahlbäck")
    assert len(aliases) == 7
    artist = _by_id(parsed["artists"].rows("artists"), "1")[0]
    assert artist == ("1", "The Persuader", "Jesper Dahlbäck", None, "Needs Vote")


def test_2017_head_samples_without_label_ids_parse() -> None:
    # The head50 files are cut after 50 lines: take whole records only.
    for path in sorted(SAMPLES_2017.glob("*.xml.gz")):
        entity = path.name.split("_")[2].split(".")[0]
        data = gzip.decompress(path.read_bytes())
        cut = data.rfind(f"</{entity[:-1]}>\n".encode())
        result = parse_chunk(data[: cut + len(entity) + 2] + f"</{entity}>".encode(), entity)
        assert result.quarantined == []
        assert result.loaded_count > 0
        if entity == "releases":
            labels = result.rows("release_labels")
            assert labels[0][2:] == (None, "Svek", "SK032")  # no label id in 2017


@pytest.mark.parametrize(
    "name",
    sorted(path.name for path in SINGLE_RECORDS.glob("*.xml")),
)
def test_single_real_records_of_every_vintage(name: str) -> None:
    entity = next(e for e in ENTITY_TABLES if name.startswith(e[:-1]))
    data = (SINGLE_RECORDS / name).read_bytes()
    if data.lstrip().startswith(b"<?xml"):
        data = data[data.index(b"?>") + 2 :]
    if not data.lstrip().startswith(f"<{entity}>".encode()):
        data = f"<{entity}>\n".encode() + data + f"\n</{entity}>".encode()
    result = parse_chunk(data, entity)
    document = etree.fromstring(data)
    assert result.quarantined == []
    assert result.loaded_count == len(document) >= 1
    for table, xpath in XPATH_COUNTS[entity].items():
        assert result.row_counts[table] == int(document.xpath(f"count({xpath})")), table
