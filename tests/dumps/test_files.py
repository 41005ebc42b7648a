"""Opening dump files: gzip or plain XML, entity and date detection, clear errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from shared.dumps.files import DumpFileError, inspect_dump, open_dump
from tests.dumps.samples import TAR_NOT_GZIP, sample_bytes, sample_path


def test_entity_and_date_from_the_file_name() -> None:
    info = inspect_dump(sample_path("masters"))
    assert (info.entity, info.dump_date, info.compressed) == ("masters", _date(), True)


def test_entity_from_the_root_element_of_plain_xml(tmp_path: Path) -> None:
    path = tmp_path / "some-export.xml"
    path.write_bytes(sample_bytes("labels"))
    info = inspect_dump(path)
    assert (info.entity, info.dump_date, info.compressed) == ("labels", None, False)
    with open_dump(path) as (_, stream):
        assert stream.read() == sample_bytes("labels")


def test_tar_archive_named_xml_gz_is_rejected() -> None:
    with pytest.raises(DumpFileError, match=r"a tar archive \(first member 'artists.xml'\)"):
        inspect_dump(TAR_NOT_GZIP)


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "discogs_20261101_releases.xml.gz"
    path.write_bytes(b"<releases>\n</releases>\n")
    with pytest.raises(DumpFileError, match="not a gzip file"):
        inspect_dump(path)


def test_truncated_gzip_names_the_offset(tmp_path: Path) -> None:
    whole = sample_path("releases").read_bytes()
    path = tmp_path / "discogs_20200806_releases.xml.gz"
    path.write_bytes(whole[:300_000])
    with (
        pytest.raises(DumpFileError, match=r"truncated gzip.*byte offset 300000"),
        open_dump(path) as (_, stream),
    ):
        while stream.read(65536):
            pass


def test_root_element_that_contradicts_the_name(tmp_path: Path) -> None:
    path = tmp_path / "discogs_20200806_artists.xml.gz"
    path.write_bytes(gzip.compress(sample_bytes("labels")))
    with pytest.raises(DumpFileError, match=r"file name says artists but the root .*<labels>"):
        inspect_dump(path)


def test_unknown_root_element(tmp_path: Path) -> None:
    path = tmp_path / "data.xml"
    path.write_bytes(b"<users><user/></users>")
    with pytest.raises(DumpFileError, match="root element is not one of"):
        inspect_dump(path)


def _date():  # type: ignore[no-untyped-def]
    import datetime

    return datetime.date(2020, 8, 6)
