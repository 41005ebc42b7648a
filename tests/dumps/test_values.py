"""Lenient value conversions: dates, durations, ids, arrays and the COPY text encoding."""

from __future__ import annotations

import pytest

from shared.dumps.values import (
    FIELD,
    NULL,
    ROW,
    RecordError,
    copy_bytes,
    duration_seconds,
    parse_copy_text,
    record_id,
    reference_id,
    released_parts,
    text_array,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1999-03-00", ("1999", "3", NULL)),
        ("1975-00-00", ("1975", NULL, NULL)),
        ("1999", ("1999", NULL, NULL)),
        ("2001-07-14", ("2001", "7", "14")),
        ("2001-07", ("2001", "7", NULL)),
        ("197", (NULL, NULL, NULL)),
        ("338", (NULL, NULL, NULL)),
        ("0400-01-01", (NULL, NULL, NULL)),
        ("1859-01-01", (NULL, NULL, NULL)),
        ("1860-13-40", ("1860", NULL, NULL)),
        ("circa 1970", (NULL, NULL, NULL)),
    ],
)
def test_released_parts_keep_what_is_plausible(raw: str, expected: tuple[str, str, str]) -> None:
    assert released_parts(raw) == expected


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("4:45", "285"),
        ("12:05", "725"),
        ("148:00", "8880"),
        ("1:02:03", "3723"),
        (" 3:07 ", "187"),
        ("", NULL),
        ("4:75", NULL),
        ("1:75:00", NULL),
        ("abc", NULL),
        ("4.45", NULL),
    ],
)
def test_duration_seconds_in_every_seen_form(raw: str, seconds: str) -> None:
    assert duration_seconds(raw) == seconds


def test_ids_zero_and_empty_are_null_garbage_is_an_error() -> None:
    assert reference_id("0", "x") is NULL
    assert reference_id("", "x") is NULL
    assert reference_id(None, "x") is NULL
    assert reference_id("000", "x") is NULL
    assert reference_id("42", "x") == "42"
    with pytest.raises(RecordError, match="non-numeric"):
        reference_id("4a", "x")
    with pytest.raises(RecordError):
        record_id(None, "release@id")
    with pytest.raises(RecordError):
        record_id("1" * 30, "release@id")


def test_copy_bytes_escapes_data_and_round_trips() -> None:
    rows = [
        FIELD.join(("1", "tab\there", "new\nline\r", "back\\slash", NULL)),
        FIELD.join(("2", text_array(['12"', "a\\b", "33 ⅓ RPM"]), "", "x", "y")),
    ]
    text = copy_bytes(rows).decode()
    assert text.count("\n") == 2
    assert "\\N" in text
    assert parse_copy_text(text) == [
        ("1", "tab\there", "new\nline\r", "back\\slash", None),
        ("2", '{"12\\"","a\\\\b","33 ⅓ RPM"}', "", "x", "y"),
    ]
    assert ROW not in text and FIELD not in text and NULL not in text
