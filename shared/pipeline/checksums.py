"""Parsing a month's CHECKSUM.txt into `{file name: sha256}`.

Discogs writes `<sha256><ONE space><name>` (sha256sum writes two characters: `␠␠` or `␠*`), and the
line order changes between months, so each line is split on its first run of whitespace, a leading
`*` is dropped from the name, and the hex is lower-cased.
"""

from __future__ import annotations

import re

_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


class ChecksumFormatError(ValueError):
    pass


def parse_checksums(text: str | bytes) -> dict[str, str]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ChecksumFormatError(f"CHECKSUM file is not UTF-8: {exc}") from exc
    sums: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not _HEX64.match(parts[0]):
            raise ChecksumFormatError(f"CHECKSUM line {number} is not '<sha256> <name>': {raw!r}")
        digest, name = parts[0].lower(), parts[1].strip().lstrip("*").strip()
        if not name:
            raise ChecksumFormatError(f"CHECKSUM line {number} has no file name")
        if name in sums and sums[name] != digest:
            raise ChecksumFormatError(f"CHECKSUM lists {name} twice with different digests")
        sums[name] = digest
    if not sums:
        raise ChecksumFormatError("CHECKSUM file is empty")
    return sums
