# ruff: noqa: E501  (real dump records are one long line each)
"""Every quirk of the reference, in hand-written current-format (2025/2026) records and their
old-format (2014-2024) counterparts, through the pure parser."""

from __future__ import annotations

import pytest

from shared.dumps.parser import parse_chunk
from tests.dumps.samples import document

pytestmark = pytest.mark.usefixtures("extractor")

CURRENT_RELEASE = """
<release id="30000001"><artists><artist><id>1</id><name>The Persuader</name><join>&amp;</join></artist><artist><name>Unlinked Singer</name></artist></artists><title>Stockholm &amp; Beyond</title><labels><label name="Svek" catno="SK032" id="5"/><label name="Svek" id="5"/></labels><series><series name="Svek Classics" catno="Vol. 3" id="77"/></series><extraartists><artist><id>239</id><name>Jesper Dahlbäck</name><role>Music By [All Tracks By]</role><tracks>A to B2</tracks></artist></extraartists><formats><format name="Box Set" qty="168"><descriptions><description>Limited Edition</description></descriptions></format><format name="Vinyl" qty="1234567890123456789012345678901234567890123456789012345678901234" text="Red &quot;Marble&quot;"><descriptions><description>12"</description><description>33 ⅓ RPM</description></descriptions></format></formats><genres><genre>Electronic</genre><genre>42</genre></genres><styles><style>Deep House</style></styles><country>Sweden</country><released>1975-00-00</released><notes>Line one
Line two&#13;
Tab	here \\ backslash</notes><data_quality>Correct</data_quality><master_id is_main_release="false">0</master_id><tracklist><track><title>Side A</title></track><track><position>A</position><title>Östermalm</title><duration>4:45</duration><artists><artist><name>Track Guest</name></artist></artists></track><track><title>Suite</title><sub_tracks><track><position>B1.a</position><title>Part One</title><duration>1:02:03</duration><extraartists><artist><id>0</id><name>Zero Id</name><role>Vocals</role></artist></extraartists></track><track><position>B1.b</position><title>Part Two</title><duration>148:00</duration></track></sub_tracks></track><track><position>C</position><title>Odd</title><duration>4:75</duration></track></tracklist><identifiers><identifier type="Barcode" value="7 391234 567890"/><identifier type="Barcode" value="7 391234 567890"/></identifiers><videos><video src="https://youtu.be/x" duration="296" embed="true"><title>Clip</title></video></videos><companies><company><name>Unlinked Pressing Co.</name><entity_type>17</entity_type><entity_type_name>Pressed By</entity_type_name></company><company><id>123</id><name>Svek</name><catno>SK 032</catno><entity_type>21</entity_type><entity_type_name>Published By</entity_type_name></company></companies></release>
"""

OLD_RELEASE = """
<release id="1" status="Accepted"><images><image type="primary" uri="" uri150="" width="600" height="600"/></images><artists><artist><id>1</id><name>The Persuader</name><anv/><join/><role/><tracks/></artist></artists><title>Stockholm</title><labels><label name="Svek" catno="SK032" id="5"/></labels><extraartists><artist><id>0</id><name>Unlinked</name><anv/><join/><role>Mastered By</role><tracks/></artist></extraartists><formats><format name="Vinyl" qty="2" text=""><descriptions><description>12"</description></descriptions></format></formats><genres><genre>Electronic</genre></genres><styles/><country>Sweden</country><released>1999-03-00</released><notes/><data_quality>Needs Vote</data_quality><master_id is_main_release="true">1660109</master_id><tracklist><track><position/><title>Side A</title><duration/></track><track><position>A</position><title>Östermalm</title><duration>4:45</duration></track></tracklist><identifiers/><videos/><companies><company><id>266218</id><name>Tobo Mastering</name><catno/><entity_type>29</entity_type><entity_type_name>Mastered At</entity_type_name><resource_url>https://api.discogs.com/labels/266218</resource_url></company></companies></release>
"""


def test_current_format_release_every_field() -> None:
    result = parse_chunk(document("releases", CURRENT_RELEASE), "releases")
    assert result.quarantined == [] and result.unknown == {}
    assert result.anomalies == {"numeric genre dropped": 1}
    (release,) = result.rows("releases")
    assert release == (
        "30000001",
        None,  # no status attribute since 2025/2026
        "Stockholm & Beyond",
        "Sweden",
        "1975-00-00",
        "1975",
        None,
        None,
        "Line one\nLine two\r\nTab\there \\ backslash",
        "Correct",
        None,  # master_id 0 = no master
        "f",
        '{"Electronic"}',
        '{"Deep House"}',
    )
    assert result.rows("release_artists") == [
        ("30000001", "1", "f", "1", "The Persuader", None, "&", None, None),
        ("30000001", "2", "f", None, "Unlinked Singer", None, None, None, None),
        (
            "30000001",
            "3",
            "t",
            "239",
            "Jesper Dahlbäck",
            None,
            None,
            "Music By [All Tracks By]",
            "A to B2",
        ),
    ]
    assert result.rows("release_labels") == [
        ("30000001", "1", "5", "Svek", "SK032"),
        ("30000001", "2", "5", "Svek", None),  # the same label again, catno omitted
    ]
    assert result.rows("release_series") == [("30000001", "1", "77", "Svek Classics", "Vol. 3")]
    assert result.rows("release_formats") == [
        ("30000001", "1", "Box Set", "168", None, '{"Limited Edition"}'),
        (
            "30000001",
            "2",
            "Vinyl",
            "1234567890" * 6 + "1234",
            'Red "Marble"',
            '{"12\\"","33 ⅓ RPM"}',
        ),
    ]
    assert result.rows("release_tracks") == [
        ("30000001", "1", None, "heading", None, "Side A", None, None),
        ("30000001", "2", None, "track", "A", "Östermalm", "4:45", "285"),
        ("30000001", "3", None, "index", None, "Suite", None, None),
        ("30000001", "4", "3", "track", "B1.a", "Part One", "1:02:03", "3723"),
        ("30000001", "5", "3", "track", "B1.b", "Part Two", "148:00", "8880"),
        ("30000001", "6", None, "track", "C", "Odd", "4:75", None),
    ]
    assert result.rows("release_track_artists") == [
        ("30000001", "2", "1", "f", None, "Track Guest", None, None, None, None),
        ("30000001", "4", "1", "t", None, "Zero Id", None, None, "Vocals", None),
    ]
    assert len(result.rows("release_identifiers")) == 2  # duplicates inside a record are kept
    assert result.rows("release_videos") == [
        ("30000001", "1", "https://youtu.be/x", "296", "t", "Clip", None)
    ]
    assert result.rows("release_companies") == [
        ("30000001", "1", None, "Unlinked Pressing Co.", None, "17", "Pressed By", None),
        ("30000001", "2", "123", "Svek", "SK 032", "21", "Published By", None),
    ]
    assert result.rows("release_images") == []


def test_old_and_current_format_load_the_same_way() -> None:
    """Empty elements (before 2025) and omitted ones (since) give the same NULLs."""
    old = parse_chunk(document("releases", OLD_RELEASE), "releases")
    assert old.quarantined == [] and old.unknown == {}
    (release,) = old.rows("releases")
    assert release[1] == "Accepted" and release[4:8] == ("1999-03-00", "1999", "3", None)
    assert release[8] is None  # <notes/>
    assert release[13] == "{}"  # <styles/>
    assert old.rows("release_artists")[1] == (
        "1",
        "2",
        "t",
        None,
        "Unlinked",
        None,
        None,
        "Mastered By",
        None,
    )
    assert old.rows("release_tracks")[0] == ("1", "1", None, "heading", None, "Side A", None, None)
    assert old.rows("release_formats") == [("1", "1", "Vinyl", "2", None, '{"12\\""}')]
    assert old.rows("release_companies")[0][4] is None  # <catno/>
    assert old.rows("release_images") == [("1", "1", "primary", None, None, "600", "600")]


def test_artist_members_in_all_three_layouts() -> None:
    records = [
        # before 2015-02: names only
        "<artist><id>10</id><name>Old Group</name><members><name>Member A</name></members></artist>",
        # 2015-2024: <id> siblings plus name@id
        '<artist><id>11</id><name>Mid Group</name><members><id>26</id><name id="26">Alexi</name>'
        '<id>27</id><name id="27">Cari</name></members></artist>',
        # 2025+: name@id only; empty elements omitted
        '<artist><id>12</id><name>New Group</name><members><name id="26">Alexi</name></members>'
        '<groups><name id="2">Mr. James Barth &amp; A.D.</name></groups>'
        '<aliases><name id="50">ADNY</name><name>No Id Alias</name></aliases></artist>',
        # a bare <id> before a name without @id still links
        "<artist><id>13</id><members><id>99</id><name>Linked Late</name></members></artist>",
    ]
    result = parse_chunk(document("artists", *records), "artists")
    assert result.quarantined == []
    assert result.rows("artist_members") == [
        ("10", "1", None, "Member A"),
        ("11", "1", "26", "Alexi"),
        ("11", "2", "27", "Cari"),
        ("12", "1", "26", "Alexi"),
        ("13", "1", "99", "Linked Late"),
    ]
    assert result.rows("artist_groups") == [("12", "1", "2", "Mr. James Barth & A.D.")]
    assert result.rows("artist_aliases") == [
        ("12", "1", "50", "ADNY"),
        ("12", "2", None, "No Id Alias"),
    ]
    assert result.rows("artists")[3] == ("13", None, None, None, None)  # nameless artist kept


def test_labels_with_nested_sublabels_parent_and_no_name() -> None:
    records = [
        '<label><id>1000</id><name>Warner Bros. Records</name><parentLabel id="90718">Warner Music'
        '</parentLabel><urls/><sublabels><label id="29742">Warner Resound</label>'
        '<label id="41256">Warner Special Products</label></sublabels></label>',
        # 2026: parentLabel may be an empty element with only @id; label 212 has no <name>
        '<label><id>212</id><data_quality>Needs Vote</data_quality><parentLabel id="5"/></label>',
        # 2017: parentLabel without @id
        "<label><id>7</id><name>Sub</name><parentLabel>Parent Name</parentLabel></label>",
    ]
    result = parse_chunk(document("labels", *records), "labels")
    assert result.record_count == 3 and result.quarantined == []
    assert result.rows("label_sublabels") == [
        ("1000", "1", "29742", "Warner Resound"),
        ("1000", "2", "41256", "Warner Special Products"),
    ]
    labels = result.rows("labels")
    assert labels[0][5:] == ("90718", "Warner Music")
    assert labels[1] == ("212", None, None, None, "Needs Vote", "5", None)
    assert labels[2][5:] == (None, "Parent Name")
    assert result.rows("label_urls") == []


def test_masters_current_format_credits_and_unknown_year() -> None:
    record = (
        '<master id="830352"><main_release>1671981</main_release><artists><artist><id>239</id>'
        "<name>Jesper Dahlbäck</name><join>/</join></artist><artist><name>No Id</name></artist>"
        "</artists><genres><genre>Electronic</genre></genres><year>0</year><title>T</title>"
        "<data_quality>Correct</data_quality><notes>N</notes></master>"
    )
    result = parse_chunk(document("masters", record), "masters")
    assert result.rows("masters") == [
        ("830352", "1671981", "T", None, "Correct", "N", '{"Electronic"}', "{}")
    ]
    assert result.rows("master_artists") == [
        ("830352", "1", "239", "Jesper Dahlbäck", None, "/", None, None),
        ("830352", "2", None, "No Id", None, None, None, None),
    ]


def test_control_characters_are_stripped_and_counted() -> None:
    record = CURRENT_RELEASE.replace("Stockholm &amp; Beyond", "Stock\x03holm\x07")
    result = parse_chunk(document("releases", record), "releases")
    assert result.quarantined == []
    assert result.rows("releases")[0][2] == "Stockholm"
    assert result.anomalies["invalid XML control bytes removed"] == 2


def test_very_long_titles_and_raw_newlines_survive() -> None:
    title = "Long " * 2000  # 10 KB, far over the b-tree limit
    record = CURRENT_RELEASE.replace("<title>Östermalm</title>", f"<title>{title}</title>")
    result = parse_chunk(document("releases", record), "releases")
    assert result.rows("release_tracks")[1][5] == title


def test_unknown_elements_and_attributes_are_counted_and_kept() -> None:
    record = CURRENT_RELEASE.replace(
        "<country>", '<mood level="3">dark</mood><empty_new/><country>'
    ).replace('<release id="30000001">', '<release id="30000001" flavour="x">')
    record = record.replace("<title>Clip</title>", "<title>Clip</title><thumb>t.jpg</thumb>")
    result = parse_chunk(document("releases", record), "releases")
    assert result.unknown == {
        "release/mood": 1,
        "release/empty_new": 1,
        "release@flavour": 1,
        "release/videos/video/thumb": 1,
    }
    kept = {row[2]: row[3] for row in result.rows("unknown_fields")}
    assert kept == {
        "release/mood": '<mood level="3">dark</mood>',
        "release@flavour": "x",
        "release/videos/video/thumb": "<thumb>t.jpg</thumb>",
    }
    assert result.rows("releases")[0][0] == "30000001"  # the record itself still loads


def test_one_broken_record_is_quarantined_the_others_load() -> None:
    good = [CURRENT_RELEASE.replace("30000001", str(n)) for n in (1, 2, 4)]
    broken = CURRENT_RELEASE.replace("30000001", "3").replace("<title>Clip</title>", "<title>Clip")
    bad_id = CURRENT_RELEASE.replace("30000001", "5").replace("<id>123</id>", "<id>12x</id>")
    data = document("releases", good[0], good[1], broken, good[2], bad_id)
    result = parse_chunk(data, "releases", first_byte_offset=1000, raw_max_bytes=100)
    assert result.record_count == 5 and result.loaded_count == 3
    assert [row[0] for row in result.rows("releases")] == ["1", "2", "4"]
    assert {row[0] for row in result.rows("release_companies")} == {"1", "2", "4"}
    first, second = result.quarantined
    assert first.record_id == 3 and "XML syntax error" in first.error
    body_offset = data.index(b'<release id="3"') - len(b"<releases>\n")
    assert first.byte_offset == 1000 + body_offset
    assert first.raw.startswith('<release id="3"') and first.truncated and len(first.raw) == 100
    assert second.record_id == 5 and "non-numeric id '12x'" in second.error


def test_a_quarantined_release_is_named_by_its_own_id_whatever_the_attribute_order() -> None:
    # The opening tag's id, not the first <id> inside the record (an artist's or a label's).
    broken = CURRENT_RELEASE.replace('<release id="30000001"', '<release status="x" id="7"')
    broken = broken.replace("<title>Clip</title>", "<title>Clip")
    assert "<id>123</id>" in broken
    (quarantined,) = parse_chunk(document("releases", broken), "releases").quarantined
    assert quarantined.record_id == 7


def test_wrong_root_element_is_a_clear_error() -> None:
    import pytest

    from shared.dumps.chunking import ChunkFormatError

    with pytest.raises(ChunkFormatError, match="expected the root element <releases>"):
        parse_chunk(document("labels", "<label><id>1</id></label>"), "releases")


def test_collection_scope_filters_before_parsing() -> None:
    records = [CURRENT_RELEASE.replace("30000001", str(n)) for n in (1, 2, 3)]
    result = parse_chunk(document("releases", *records), "releases", keep_release_ids={2})
    assert [row[0] for row in result.rows("releases")] == ["2"]
    assert result.record_count == 3 and result.out_of_scope_count == 2
