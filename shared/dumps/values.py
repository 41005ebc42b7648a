"""Lenient conversions of the dumps' free-text values (dates, durations, ids) into columns.

Every function returns COPY text-format field values: a string, or `NULL` (a marker byte that the
COPY writer turns into `\\N`). Nothing here raises on odd values except `record_id`/`reference_id`
on non-numeric ids, which make the record malformed (it goes to quarantine).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

# Marker bytes that cannot occur in parsed XML text (C0 controls are invalid in XML 1.0 and are
# stripped before parsing), so rows can be joined first and escaped for COPY in one pass.
NULL = "\x03"
FIELD = "\x01"
ROW = "\x02"

MIN_PLAUSIBLE_YEAR = 1860  # discogsography's rule: earlier years are typos such as 0400 or 197
_MAX_ID_DIGITS = 18  # fits bigint
_RELEASED = re.compile(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")
_DURATION = re.compile(r"\s*(?:(\d{1,3}):)?(\d{1,4}):(\d{1,2})\s*")


class RecordError(ValueError):
    """The record cannot be loaded as it is (it goes to quarantine)."""


def record_id(value: str | None, what: str) -> str:
    """A required id (the record's own): decimal digits, else the record is malformed."""
    if value and value.isdigit() and value.isascii() and len(value) <= _MAX_ID_DIGITS:
        return value
    raise RecordError(f"{what}: missing or non-numeric id {value!r}")


def reference_id(value: str | None, what: str) -> str:
    """An optional reference id: absent, empty or `0` (unlinked credit) -> NULL."""
    if not value:
        return NULL
    if value.isdigit() and value.isascii() and len(value) <= _MAX_ID_DIGITS:
        return NULL if value.strip("0") == "" else value
    if value.isspace():
        return NULL
    raise RecordError(f"{what}: non-numeric id {value!r}")


def small_int(value: str | None) -> str:
    """A non-negative integer attribute (width, seconds, entity type); anything else -> NULL."""
    if value and value.isdigit() and value.isascii() and len(value) <= 9:
        return value
    return NULL


def boolean(value: str | None) -> str:
    if value == "true":
        return "t"
    if value == "false":
        return "f"
    return NULL


def released_parts(raw: str) -> tuple[str, str, str]:
    """Cached `parse_released` (release dates repeat across records; see `Memo`)."""
    return RELEASED_PARTS.get(raw) or RELEASED_PARTS.miss(raw)


def parse_released(raw: str) -> tuple[str, str, str]:
    """(year, month, day) of a free-text release date; `00` and implausible parts -> NULL.

    `1999-03-00` -> (1999, 3, NULL); `197` -> all NULL; `0400-01-01` -> all NULL (year < 1860:
    the month and day of a typo year are not trusted either).
    """
    match = _RELEASED.match(raw.strip())
    if not match:
        return NULL, NULL, NULL
    year = int(match[1])
    if year < MIN_PLAUSIBLE_YEAR:
        return NULL, NULL, NULL
    month = int(match[2]) if match[2] else 0
    if not 1 <= month <= 12:
        return str(year), NULL, NULL
    day = int(match[3]) if match[3] else 0
    return str(year), str(month), (str(day) if 1 <= day <= 31 else NULL)


def duration_seconds(raw: str) -> str:
    """Seconds of `M:SS`, `MM:SS`, `MMM:SS` or `H:MM:SS`; empty or garbage -> NULL."""
    minutes, colon, seconds = raw.partition(":")
    if (  # fast path for the common M:SS / MM:SS
        colon
        and len(seconds) == 2
        and seconds.isdigit()
        and minutes.isdigit()
        and minutes.isascii()
        and seconds.isascii()
        and len(minutes) <= 4
    ):
        value = int(seconds)
        return str(int(minutes) * 60 + value) if value < 60 else NULL
    match = _DURATION.fullmatch(raw)
    if not match:
        return NULL
    hours, minutes, seconds = match[1], int(match[2]), int(match[3])
    if seconds >= 60 or (hours and minutes >= 60):
        return NULL
    return str((int(hours) * 3600 if hours else 0) + minutes * 60 + seconds)


def text_array(values: list[str]) -> str:
    """A PostgreSQL text[] literal (array syntax; COPY escaping is applied later)."""
    if not values:
        return "{}"
    parts = []
    for value in values:
        if "\\" in value or '"' in value:
            value = value.replace("\\", "\\\\").replace('"', '\\"')
        parts.append('"' + value + '"')
    return "{" + ",".join(parts) + "}"


_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class Memo(dict[_Key, _Value]):
    """A bounded cache of one pure conversion (durations, release dates, genre/style arrays
    repeat across records: a dict hit costs far less than re-parsing). `memo.get(raw) or
    memo.miss(raw)` in the hot path; values are never false (NULL is a marker byte, a tuple of
    parts is not empty). Cleared when full, so memory stays bounded whatever the dump size."""

    def __init__(self, convert: Callable[[_Key], _Value], limit: int = 50_000) -> None:
        super().__init__()
        self._convert = convert
        self._limit = limit

    def miss(self, key: _Key) -> _Value:
        if len(self) >= self._limit:
            self.clear()
        value = self[key] = self._convert(key)
        return value


DURATION_SECONDS: Memo[str, str] = Memo(lambda raw: duration_seconds(raw))
# text[] literal of a tuple of values (genres, styles, descriptions: few distinct combinations).
TEXT_ARRAYS: Memo[tuple[str, ...], str] = Memo(lambda values: text_array(list(values)))
RELEASED_PARTS: Memo[str, tuple[str, str, str]] = Memo(parse_released)


_MARKERS = bytes.maketrans(FIELD.encode() + ROW.encode(), b"\t\n")
_NULL = NULL.encode()


def copy_bytes(rows: list[str]) -> bytes:
    """Rows joined with FIELD/ROW/NULL markers -> COPY text format as UTF-8 bytes (what COPY
    sends anyway: psycopg would encode a str). Escape, then swap the markers, in a handful of
    C-level passes over the whole buffer instead of escaping every field in Python: escapes are
    found with memchr-speed `in` tests (usually absent), FIELD/ROW are swapped by one
    `bytes.translate` pass, and a byte string is 1 byte per ASCII character where a str holding
    any non-Latin-1 text is 2 or 4."""
    if not rows:
        return b""
    data = ROW.join(rows).encode()
    if b"\\" in data:
        data = data.replace(b"\\", b"\\\\")
    if b"\n" in data:
        data = data.replace(b"\n", b"\\n")
    if b"\r" in data:
        data = data.replace(b"\r", b"\\r")
    if b"\t" in data:
        data = data.replace(b"\t", b"\\t")
    data = data.translate(_MARKERS)
    if _NULL in data:
        data = data.replace(_NULL, b"\\N")
    return data + b"\n"


def parse_copy_text(text: str) -> list[tuple[str | None, ...]]:
    """The inverse of `copy_bytes` (decoded; for tests and tools): rows of str-or-None fields."""
    rows = []
    for line in text.split("\n"):
        if not line:
            continue
        fields: list[str | None] = []
        for field in line.split("\t"):
            if field == "\\N":
                fields.append(None)
            else:
                fields.append(re.sub(r"\\(.)", _unescape, field))
        rows.append(tuple(fields))
    return rows


def _unescape(match: re.Match[str]) -> str:
    return {"n": "\n", "r": "\r", "t": "\t"}.get(match[1], match[1])
