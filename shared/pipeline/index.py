"""Reading a dump index: which monthly files are published, and which month is complete.

Two index formats exist: the HTML listing of data.discogs.com (links such as
`?download=data%2F2026%2Fdiscogs_20260101_artists.xml.gz` and `?prefix=data%2F2026%2F`) and the S3
`ListBucketResult` XML of the backing bucket. Names are never constructed: dump dates vary
(20200806, 20111110), so files are discovered by pattern and grouped by date. A month is complete
only when all five files are listed; the CHECKSUM file is uploaded last.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urljoin, urlsplit

from lxml import etree, html

from shared.pipeline.entities import CHECKSUM, FILE_KINDS, FileKind

_DATA_FILE = re.compile(r"discogs_(\d{8})_(artists|labels|masters|releases)\.xml\.gz$")
_CHECKSUM_FILE = re.compile(r"discogs_(\d{8})_CHECKSUM\.txt$")
_YEAR_PREFIX = re.compile(r"prefix=(data/(\d{4})/)")
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


class DumpIndexError(ValueError):
    """The index could not be read at all (neither HTML nor S3 XML)."""


@dataclass(frozen=True)
class DumpFile:
    name: str
    dump_date: dt.date
    kind: FileKind
    url: str
    size: int | None = None


@dataclass
class DumpMonth:
    dump_date: dt.date
    files: dict[FileKind, DumpFile] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return all(kind in self.files for kind in FILE_KINDS)

    @property
    def missing(self) -> list[FileKind]:
        return [kind for kind in FILE_KINDS if kind not in self.files]


@dataclass
class Listing:
    files: list[DumpFile]
    # Further index pages (one per year folder), newest year first.
    year_pages: list[tuple[int, str]]


def classify(name: str) -> tuple[dt.date, FileKind] | None:
    """The dump date and kind of a file name (or a path/URL ending in one), else None."""
    if match := _DATA_FILE.search(name):
        kind: FileKind = match[2]  # type: ignore[assignment]
    elif match := _CHECKSUM_FILE.search(name):
        kind = CHECKSUM
    else:
        return None
    try:
        return dt.datetime.strptime(match[1], "%Y%m%d").date(), kind
    except ValueError:
        return None


def parse_listing(body: bytes, page_url: str) -> Listing:
    """Files and year folders named on one index page (HTML or S3 XML)."""
    head = body.lstrip()[:512]
    if head.startswith(b"<?xml") or b"ListBucketResult" in head:
        return _parse_s3(body, page_url)
    return _parse_html(body, page_url)


def _parse_html(body: bytes, page_url: str) -> Listing:
    if not body.strip():
        return Listing([], [])
    try:
        document = html.fromstring(body)
    except (etree.ParserError, ValueError) as exc:
        raise DumpIndexError(f"dump index at {page_url} is not HTML: {exc}") from exc
    files: dict[str, DumpFile] = {}
    years: dict[int, str] = {}
    for href in document.xpath("//a/@href"):
        decoded = unquote(str(href))
        if found := classify(decoded):
            dump_date, kind = found
            name = decoded.rsplit("/", 1)[-1]
            files.setdefault(name, DumpFile(name, dump_date, kind, urljoin(page_url, str(href))))
        elif match := _YEAR_PREFIX.search(decoded):
            years.setdefault(int(match[2]), urljoin(page_url, str(href)))
    return Listing(list(files.values()), sorted(years.items(), reverse=True))


def _parse_s3(body: bytes, page_url: str) -> Listing:
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise DumpIndexError(f"dump index at {page_url} is not valid XML: {exc}") from exc
    parts = urlsplit(page_url)
    bucket_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    files = []
    for contents in root.iter(f"{_S3_NS}Contents", "Contents"):
        key = contents.findtext(f"{_S3_NS}Key") or contents.findtext("Key") or ""
        size_text = contents.findtext(f"{_S3_NS}Size") or contents.findtext("Size")
        if found := classify(key):
            dump_date, kind = found
            size = int(size_text) if size_text and size_text.isdigit() else None
            files.append(
                DumpFile(key.rsplit("/", 1)[-1], dump_date, kind, f"{bucket_url}/{key}", size)
            )
    years = {}
    for prefix in root.iter(f"{_S3_NS}Prefix", "Prefix"):
        parent = prefix.getparent()
        in_common = parent is not None and "CommonPrefixes" in parent.tag
        if in_common and (match := re.fullmatch(r"data/(\d{4})/", prefix.text or "")):
            years[int(match[1])] = f"{bucket_url}/?prefix={match[0]}&delimiter=/"
    return Listing(files, sorted(years.items(), reverse=True))


def group_months(files: list[DumpFile]) -> list[DumpMonth]:
    """Files grouped by dump date, newest first."""
    months: dict[dt.date, DumpMonth] = {}
    for item in files:
        month = months.setdefault(item.dump_date, DumpMonth(item.dump_date))
        month.files.setdefault(item.kind, item)
    return sorted(months.values(), key=lambda m: m.dump_date, reverse=True)


def newest_complete(files: list[DumpFile]) -> DumpMonth | None:
    """The newest month with all five files; an incomplete newer month is skipped."""
    return next((m for m in group_months(files) if m.complete), None)


def find_month(files: list[DumpFile], year: int, month: int) -> DumpMonth | None:
    """The dump published for a calendar month (its day is not always the 1st)."""
    candidates = [
        m for m in group_months(files) if (m.dump_date.year, m.dump_date.month) == (year, month)
    ]
    return next((m for m in candidates if m.complete), candidates[0] if candidates else None)
