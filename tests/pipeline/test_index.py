"""Dump index parsing: the official HTML listing, the S3 XML listing, completeness rules."""

from __future__ import annotations

import datetime as dt

import pytest

from shared.pipeline.index import (
    DumpIndexError,
    classify,
    find_month,
    group_months,
    newest_complete,
    parse_listing,
)

BASE = "https://data.discogs.com/"


def _html(*hrefs: str) -> bytes:
    links = "".join(f'<a href="{h}">{h}</a>' for h in hrefs)
    return f"<html><body><ul>{links}</ul></body></html>".encode()


def _download(name: str, year: str = "2026") -> str:
    return f"?download=data%2F{year}%2F{name}"


def test_html_listing_finds_files_and_year_folders() -> None:
    body = _html(
        "?prefix=data%2F2025%2F",
        "?prefix=data%2F2026%2F",
        _download("discogs_20261101_artists.xml.gz"),
        _download("discogs_20261101_CHECKSUM.txt"),
        "/about",
    )
    listing = parse_listing(body, BASE)
    names = sorted(f.name for f in listing.files)
    assert names == ["discogs_20261101_CHECKSUM.txt", "discogs_20261101_artists.xml.gz"]
    artists = next(f for f in listing.files if f.kind == "artists")
    assert artists.url == BASE + "?download=data%2F2026%2Fdiscogs_20261101_artists.xml.gz"
    assert artists.dump_date == dt.date(2026, 11, 1)
    assert [year for year, _ in listing.year_pages] == [2026, 2025]
    assert listing.year_pages[0][1] == BASE + "?prefix=data%2F2026%2F"


def test_s3_listing_reads_keys_sizes_and_prefixes() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>discogs-data-dumps</Name>
  <CommonPrefixes><Prefix>data/2020/</Prefix></CommonPrefixes>
  <Contents><Key>data/2020/discogs_20200806_labels.xml.gz</Key><Size>54654</Size>
    <ETag>"abc-11"</ETag></Contents>
  <Contents><Key>data/2020/discogs_20200806_CHECKSUM.txt</Key><Size>400</Size></Contents>
  <Contents><Key>data/2020/readme.txt</Key><Size>1</Size></Contents>
</ListBucketResult>"""
    url = "https://discogs-data-dumps.s3.us-west-2.amazonaws.com/?prefix=data/2020/"
    listing = parse_listing(body, url)
    labels = next(f for f in listing.files if f.kind == "labels")
    assert labels.size == 54654
    assert labels.url == (
        "https://discogs-data-dumps.s3.us-west-2.amazonaws.com/data/2020/"
        "discogs_20200806_labels.xml.gz"
    )
    assert len(listing.files) == 2
    assert listing.year_pages[0][0] == 2020


def test_broken_s3_xml_is_a_clear_error() -> None:
    with pytest.raises(DumpIndexError, match="not valid XML"):
        parse_listing(b"<?xml version='1.0'?><ListBucketResult><Contents>", BASE)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("discogs_20200806_releases.xml.gz", (dt.date(2020, 8, 6), "releases")),
        ("data/2011/discogs_20111110_masters.xml.gz", (dt.date(2011, 11, 10), "masters")),
        ("discogs_20261101_CHECKSUM.txt", (dt.date(2026, 11, 1), "checksum")),
        ("discogs_20261101_releases.xml", None),
        ("discogs_20261101_tracks.xml.gz", None),
        ("discogs_20261301_labels.xml.gz", None),  # month 13 is not a date
    ],
)
def test_classify(name: str, expected: tuple | None) -> None:
    assert classify(name) == expected


def _month_files(stamp: str, kinds: tuple[str, ...]) -> list[str]:
    names = {k: f"discogs_{stamp}_{k}.xml.gz" for k in ("artists", "labels", "masters", "releases")}
    names["checksum"] = f"discogs_{stamp}_CHECKSUM.txt"
    return [_download(names[k], stamp[:4]) for k in kinds]


ALL = ("artists", "labels", "masters", "releases", "checksum")


def test_newest_complete_month_skips_a_month_without_its_checksum() -> None:
    body = _html(
        *_month_files("20261001", ALL),
        *_month_files("20261101", ("labels", "masters", "artists", "releases")),
    )
    files = parse_listing(body, BASE).files
    months = group_months(files)
    assert [m.dump_date for m in months] == [dt.date(2026, 11, 1), dt.date(2026, 10, 1)]
    assert months[0].missing == ["checksum"]
    month = newest_complete(files)
    assert month is not None and month.dump_date == dt.date(2026, 10, 1)


def test_no_complete_month_at_all() -> None:
    files = parse_listing(_html(*_month_files("20261101", ("labels", "checksum"))), BASE).files
    assert newest_complete(files) is None


def test_find_month_by_calendar_month_even_off_the_first() -> None:
    files = parse_listing(_html(*_month_files("20200806", ALL)), BASE).files
    month = find_month(files, 2020, 8)
    assert month is not None and month.dump_date == dt.date(2020, 8, 6) and month.complete
    assert find_month(files, 2020, 9) is None
