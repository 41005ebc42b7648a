"""Baselines on the same file: the naive lxml `iterparse` + `findtext` extraction used by
discogs-xml2db-style loaders (all child tables, rows built as tuples, no database), and the bare
`iterparse` + clear with no extraction (the parse ceiling).

`python -m tests.benchmarks._naive {naive|bare} ENTITY FILE` prints {"records": N}.
"""

from __future__ import annotations

import gzip
import json
import sys
from typing import Any

from lxml import etree


def _credits(element: Any, path: str) -> list[tuple[Any, ...]]:
    return [
        (
            artist.findtext("id"),
            artist.findtext("name"),
            artist.findtext("anv"),
            artist.findtext("join"),
            artist.findtext("role"),
            artist.findtext("tracks"),
        )
        for artist in element.findall(path)
    ]


def _release(release: Any) -> list[Any]:
    rows: list[Any] = [
        (
            release.get("id"),
            release.get("status"),
            release.findtext("title"),
            release.findtext("country"),
            release.findtext("released"),
            release.findtext("notes"),
            release.findtext("data_quality"),
            release.findtext("master_id"),
            [g.text for g in release.findall("genres/genre")],
            [s.text for s in release.findall("styles/style")],
        )
    ]
    rows += _credits(release, "artists/artist") + _credits(release, "extraartists/artist")
    rows += [(x.get("id"), x.get("name"), x.get("catno")) for x in release.findall("labels/label")]
    rows += [(x.get("id"), x.get("name"), x.get("catno")) for x in release.findall("series/series")]
    rows += [
        (
            f.get("name"),
            f.get("qty"),
            f.get("text"),
            [d.text for d in f.findall("descriptions/description")],
        )
        for f in release.findall("formats/format")
    ]
    rows += [
        (x.get("type"), x.get("description"), x.get("value"))
        for x in release.findall("identifiers/identifier")
    ]
    rows += [
        (
            v.get("src"),
            v.get("duration"),
            v.get("embed"),
            v.findtext("title"),
            v.findtext("description"),
        )
        for v in release.findall("videos/video")
    ]
    rows += [
        (
            c.findtext("id"),
            c.findtext("name"),
            c.findtext("catno"),
            c.findtext("entity_type"),
            c.findtext("entity_type_name"),
        )
        for c in release.findall("companies/company")
    ]
    for track in release.iterfind(".//track"):
        rows.append(
            (track.findtext("position"), track.findtext("title"), track.findtext("duration"))
        )
        rows += _credits(track, "artists/artist") + _credits(track, "extraartists/artist")
    return rows


def _master(master: Any) -> list[Any]:
    rows: list[Any] = [
        (
            master.get("id"),
            master.findtext("main_release"),
            master.findtext("title"),
            master.findtext("year"),
            master.findtext("data_quality"),
            master.findtext("notes"),
            [g.text for g in master.findall("genres/genre")],
            [s.text for s in master.findall("styles/style")],
        )
    ]
    rows += _credits(master, "artists/artist")
    rows += [
        (v.get("src"), v.get("duration"), v.findtext("title"), v.findtext("description"))
        for v in master.findall("videos/video")
    ]
    return rows


def _artist(artist: Any) -> list[Any]:
    rows: list[Any] = [
        (
            artist.findtext("id"),
            artist.findtext("name"),
            artist.findtext("realname"),
            artist.findtext("profile"),
            artist.findtext("data_quality"),
        )
    ]
    for path in ("aliases/name", "groups/name", "members/name"):
        rows += [(x.get("id"), x.text) for x in artist.findall(path)]
    rows += [(x.text,) for x in artist.findall("namevariations/name")]
    rows += [(x.text,) for x in artist.findall("urls/url")]
    return rows


def _label(label: Any) -> list[Any]:
    parent = label.find("parentLabel")
    rows: list[Any] = [
        (
            label.findtext("id"),
            label.findtext("name"),
            label.findtext("contactinfo"),
            label.findtext("profile"),
            label.findtext("data_quality"),
            parent.get("id") if parent is not None else None,
            parent.text if parent is not None else None,
        )
    ]
    rows += [(x.text,) for x in label.findall("urls/url")]
    rows += [(x.get("id"), x.text) for x in label.findall("sublabels/label")]
    return rows


EXTRACT = {"releases": _release, "masters": _master, "artists": _artist, "labels": _label}


def run(mode: str, entity: str, path: str) -> int:
    opener = gzip.open if path.endswith(".gz") else open
    extract = EXTRACT[entity]
    records = 0
    rows = 0
    with opener(path, "rb") as stream:
        for _, element in etree.iterparse(stream, tag=entity[:-1]):
            if element.getparent() is None or element.getparent().getparent() is not None:
                continue  # nested <label> inside <sublabels>
            if mode == "naive":
                rows += len(extract(element))
            records += 1
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
    print(json.dumps({"records": records, "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(run(*sys.argv[1:4]))
