"""Cut a decompressed dump stream into self-contained chunks at top-level record boundaries.

A boundary is a top-level closing tag followed by a newline and the start of the next top-level
record (or the root's closing tag), as in jmfontaine/dgkit. Artist and label records never carry
attributes, so a line starting `<label>` is a record while a nested `<sublabels><label id=…>` is
not; the newline check keeps nested same-name tags (and records spanning read buffers) intact.
Every chunk is wrapped in the entity's root element, so it is a well-formed document alone.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from shared.dumps.entities import EntityTags, entity_tags

READ_BYTES = 1024 * 1024
_SKIPPABLE_PROLOGUE = (b"\xef\xbb\xbf",)


class ChunkFormatError(ValueError):
    """The stream or chunk is not a dump of the expected entity."""


@dataclass(frozen=True)
class Chunk:
    """One self-contained piece of a dump: `data` is `<releases>\\n…records…</releases>\\n`."""

    sequence: int  # 0, 1, 2, … in stream order
    data: bytes
    first_byte_offset: int  # offset of the first record in the decompressed stream
    record_count: int


def chunk_id(dump_date: datetime.date, entity: str, sequence: int) -> str:
    """The deterministic id of a chunk, e.g. `20261101-releases-000042`."""
    entity_tags(entity)
    return f"{dump_date:%Y%m%d}-{entity}-{sequence:06d}"


def split_records(stream: BinaryIO, entity: str, target_bytes: int) -> Iterator[Chunk]:
    """Yield chunks of about `target_bytes` (at least one whole record each) from a decompressed
    dump stream of `entity`. Memory stays around `target_bytes` plus one read buffer plus the
    largest record. Raises ChunkFormatError when the stream's root element is not the entity's.
    """
    if target_bytes < 1:
        raise ValueError("target_bytes must be positive")
    tags = entity_tags(entity)
    buffer = bytearray()
    offset = 0  # stream offset of buffer[0]
    eof = False
    while not eof and len(buffer) < 4096:
        block = stream.read(READ_BYTES)
        eof = not block
        buffer += block
    start = body_start(bytes(buffer[:4096]), tags)
    offset += start
    del buffer[:start]
    sequence = 0
    separators = [tags.record_close + b"\n" + marker for marker in tags.record_starts]
    if not tags.nests:
        separators += [tags.record_close + marker for marker in tags.record_starts]
    end_marker = tags.record_close + b"\n" + tags.root_close
    while True:
        while len(buffer) >= target_bytes:
            cut = _find_boundary(buffer, target_bytes, separators, end_marker, tags)
            if cut < 0:
                break
            with memoryview(buffer) as view:  # one copy into the chunk, not two
                yield _chunk(tags, sequence, view[:cut], offset)
            sequence += 1
            offset += cut
            del buffer[:cut]
        if eof:
            break
        block = stream.read(READ_BYTES)
        if not block:
            eof = True
        else:
            buffer += block
    body = body_end(bytes(buffer), tags)
    if body.strip():
        yield _chunk(tags, sequence, body, offset)


def _find_boundary(
    buffer: bytearray,
    target_bytes: int,
    separators: list[bytes],
    end_marker: bytes,
    tags: EntityTags,
) -> int:
    """The cut offset (just after `</record>\\n`) at or after target_bytes, or -1 if the buffer
    does not yet hold the next record's start."""
    search_from = max(0, target_bytes - len(tags.record_close) - 1)
    found = [buffer.find(sep, search_from) for sep in (*separators, end_marker)]
    found = [position for position in found if position >= 0]
    if not found:
        return -1
    cut = min(found) + len(tags.record_close)
    return cut + 1 if buffer[cut : cut + 1] == b"\n" else cut


def _chunk(tags: EntityTags, sequence: int, body: bytes | memoryview, offset: int) -> Chunk:
    data = b"".join((tags.root_open, b"\n", body, tags.root_close, b"\n"))
    return Chunk(
        sequence=sequence,
        data=data,
        first_byte_offset=offset,
        record_count=count_records(data, tags),
    )


def body_start(head: bytes, tags: EntityTags) -> int:
    """Offset of the first record in a document that starts with `head`: after an optional BOM,
    XML declaration and the root start tag. Dumps before 2014-06 had no root; that is accepted."""
    position = 0
    if head.startswith(b"\xef\xbb\xbf"):
        position = 3
    position = _skip_space(head, position)
    if head.startswith(b"<?xml", position):
        end = head.find(b"?>", position)
        if end < 0:
            raise ChunkFormatError("unterminated XML declaration")
        position = _skip_space(head, end + 2)
    if head.startswith(tags.root_open, position):
        return _skip_space(head, position + len(tags.root_open))
    root_start = b"<" + tags.root
    if head.startswith(root_start, position) and head[
        position + len(root_start) : position + len(root_start) + 1
    ] in (b" ", b"\t", b"\r", b"\n"):
        end = head.find(b">", position)  # a root element with attributes (not seen so far)
        if end > 0 and head[end - 1 : end] != b"/":
            return _skip_space(head, end + 1)
    if any(head.startswith(marker, position) for marker in tags.record_starts):
        return position
    if head.startswith(b"<" + tags.root + b"/>", position):
        return len(head)  # an empty dump
    found = head[position : position + 40]
    raise ChunkFormatError(
        f"expected the root element <{tags.root.decode()}> of a {tags.entity} dump, found {found!r}"
    )


def body_end(data: bytes, tags: EntityTags) -> bytes:
    """`data` without trailing whitespace and the root's closing tag."""
    data = data.rstrip()
    if data.endswith(tags.root_close):
        data = data[: -len(tags.root_close)]
    return data


def body_stop(data: bytes, start: int, tags: EntityTags) -> int:
    """The end offset of the records in `data[start:]`: before trailing whitespace and the
    root's closing tag (like `body_end`, without copying)."""
    end = len(data)
    while end > start and data[end - 1] in b" \t\r\n":
        end -= 1
    if data.endswith(tags.root_close, start, end):
        end -= len(tags.root_close)
    return end


def _skip_space(data: bytes, position: int) -> int:
    while position < len(data) and data[position] in b" \t\r\n":
        position += 1
    return position


def record_offsets(body: bytes, tags: EntityTags) -> list[int]:
    """Start offsets of the top-level records in a chunk body (records begin at line starts)."""
    starts = []
    for marker in tags.record_starts:
        needle = b"\n" + marker if tags.nests else marker
        if body.startswith(marker):
            starts.append(0)
        position = body.find(needle)
        while position >= 0:
            starts.append(position + len(needle) - len(marker))
            position = body.find(needle, position + 1)
    return sorted(set(starts))


def count_records(body: bytes, tags: EntityTags) -> int:
    if not tags.nests:
        return sum(body.count(marker) for marker in tags.record_starts)
    return sum(
        body.count(b"\n" + marker) + body.startswith(marker) for marker in tags.record_starts
    )
