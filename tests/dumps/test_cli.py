"""`python -m shared.cli load` and `generate`, run in-process against real PostgreSQL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from lxml import etree

from shared.cli.__main__ import main
from shared.dumps.parser import parse_chunk
from shared.settings import Settings
from tests.dumps.samples import SAMPLES_2020, TAR_NOT_GZIP

pytestmark = pytest.mark.usefixtures("extractor")


def test_load_samples_json_summary(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [str(path) for path in sorted(SAMPLES_2020.glob("*.xml.gz"))]
    assert main(["load", *paths, "--json", "--chunk-bytes", "100000"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["dump_date"] == "2020-08-06"
    for entity in ("artists", "labels", "masters", "releases"):
        assert summary["entities"][entity]["records"] == 1000
        assert summary["entities"][entity]["quarantined"] == 0
    assert summary["entities"]["releases"]["chunks"] > 1
    assert summary["rows_per_table"]["release_tracks"] == 9430
    assert summary["seconds"] > 0
    assert "100%" in captured.err  # progress on stderr
    # Loading the same files again: every chunk is already in the ledger, month already served.
    assert main(["load", *paths, "--json", "--chunk-bytes", "100000"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["finalize"]["already_finalized"] is True


def test_load_rejects_the_tar_sample(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", str(TAR_NOT_GZIP)]) == 2
    assert "tar archive" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["discogs_20261101_releases.xml.gz", "releases.xml"])
def test_generate_writes_a_current_format_dump(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    assert (
        main(
            [
                "generate",
                "--entity",
                "releases",
                "--records",
                "300",
                "--out",
                str(out),
                "--seed",
                "7",
            ]
        )
        == 0
    )
    data = gzip.decompress(out.read_bytes()) if name.endswith(".gz") else out.read_bytes()
    root = etree.fromstring(data)
    assert len(root) == 300
    assert not root.xpath("release/@status") and not root.xpath("//images")  # 2026 format
    assert not root.xpath("//*[not(node()) and not(@*)]")  # empty elements omitted
    result = parse_chunk(data, "releases")
    assert result.loaded_count == 300 and result.quarantined == [] and result.unknown == {}
    types = {row[3] for row in result.rows("release_tracks")}
    assert types == {"track", "heading", "index"}
    assert any(row[3] is None for row in result.rows("release_artists"))  # unlinked credits
    # Same seed, same bytes.
    again = tmp_path / ("again-" + name)
    main(
        ["generate", "--entity", "releases", "--records", "300", "--out", str(again), "--seed", "7"]
    )
    assert _xml(again) == data


@pytest.mark.parametrize("entity", ["artists", "labels", "masters"])
def test_generate_other_entities_parse_cleanly(tmp_path: Path, entity: str) -> None:
    out = tmp_path / f"{entity}.xml"
    assert main(["generate", "--entity", entity, "--records", "200", "--out", str(out)]) == 0
    result = parse_chunk(out.read_bytes(), entity)
    assert result.loaded_count == 200 and result.quarantined == [] and result.unknown == {}


def _xml(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def test_load_with_two_workers_gives_the_same_tables(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(SAMPLES_2020 / "discogs_20200806_releases.xml.gz")
    args = ["load", path, "--json", "--chunk-bytes", "200000", "--no-finalize"]
    assert main([*args, "--workers", "2", "--dump-date", "2026-01-01"]) == 0
    two = json.loads(capsys.readouterr().out)
    assert main([*args, "--dump-date", "2026-02-01"]) == 0
    one = json.loads(capsys.readouterr().out)
    assert two["workers"] == 2 and one["workers"] == 1
    assert two["entities"]["releases"]["chunks"] > 2
    assert (
        two["entities"]["releases"]["rows_per_table"]
        == one["entities"]["releases"]["rows_per_table"]
    )
    assert two["entities"]["releases"]["rows_per_table"]["release_tracks"] == 9430


def test_load_quarantines_a_broken_record_and_reports_it(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "discogs_20261101_releases.xml.gz"
    assert main(["generate", "--entity", "releases", "--records", "50", "--out", str(path)]) == 0
    data = gzip.decompress(path.read_bytes())
    broken = data.replace(b"</title>", b"", 1)  # the first release loses a closing tag
    path.write_bytes(gzip.compress(broken))
    capsys.readouterr()
    assert main(["load", str(path), "--json", "--chunk-bytes", "20000"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["entities"]["releases"]["records"] == 50
    assert summary["entities"]["releases"]["quarantined"] == 1
    assert summary["rows_per_table"]["releases"] == 49


def test_generated_control_characters_are_stripped(tmp_path: Path) -> None:
    out = tmp_path / "releases.xml"
    args = ["generate", "--entity", "releases", "--records", "400", "--out", str(out)]
    assert main([*args, "--control-chars"]) == 0
    data = out.read_bytes()
    assert b"\x07" in data
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(data)
    result = parse_chunk(data, "releases")
    assert result.loaded_count == 400 and result.quarantined == []
    assert result.anomalies["invalid XML control bytes removed"] == 2 * data.count(b"\x07")
