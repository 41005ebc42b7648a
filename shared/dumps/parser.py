"""Parse one chunk: bytes of a self-contained dump document in, COPY rows per table out.

Pure (no I/O). Records are parsed in batches of about `BATCH_BYTES` with `lxml.etree.fromstring`
(the fastest lxml entry point) so memory is bounded by the chunk plus one batch tree, whatever the
chunk count; a batch that is not well-formed is re-parsed record by record so that one broken
record goes to quarantine and the others still load.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass, field

from lxml import etree

from shared.dumps.attributes import unexpected_attributes
from shared.dumps.chunking import ChunkFormatError, body_start, body_stop, record_offsets
from shared.dumps.entities import EntityTags, entity_tags
from shared.dumps.extractors import Extractor, extractor
from shared.dumps.records.common import Output
from shared.dumps.sanitize import empty_blank_elements, strip_invalid_xml_bytes
from shared.dumps.values import NULL, parse_copy_text

BATCH_BYTES = 512 * 1024
# A table's COPY text is handed on once this large (stream_chunk). Measured on streamed loads of
# 30,000 generated releases: 256 KiB beat 128 KiB, 512 KiB and 2 MiB in wall time per CPU second.
STREAM_PIECE_BYTES = 256 * 1024
DEFAULT_RAW_MAX_BYTES = 64 * 1024


# The id of a release or master is an attribute of its opening tag (wherever it stands among
# the attributes); artists' and labels' is their first <id> element.
_OPENING_ID_PATTERN = rb'<(?:release|master)[^>]*?\sid="(\d+)"'
_OPENING_ID = re.compile(_OPENING_ID_PATTERN)
_RECORD_ID = re.compile(_OPENING_ID_PATTERN + rb"|<id>(\d+)</id>")


@dataclass(frozen=True)
class QuarantinedRecord:
    byte_offset: int  # in the decompressed dump (chunk's first_byte_offset + offset in body)
    record_id: int | None
    error: str
    raw: str  # the record's text, cut at the raw cap
    raw_bytes: int  # full size of the record
    truncated: bool


@dataclass
class ParsedChunk:
    """What one chunk turned into: COPY text per table plus bookkeeping."""

    entity: str
    record_count: int = 0  # records seen in the chunk
    loaded_count: int = 0  # records that produced rows
    out_of_scope_count: int = 0  # releases left out by the collection scope
    copy_data: dict[str, bytes] = field(default_factory=dict)  # COPY text format, UTF-8
    row_counts: dict[str, int] = field(default_factory=dict)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    unknown: dict[str, int] = field(default_factory=dict)
    anomalies: dict[str, int] = field(default_factory=dict)

    def rows(self, table: str) -> list[tuple[str | None, ...]]:
        """Decoded rows of one table (str or None per column), for tests and tools."""
        return parse_copy_text(self.copy_data.get(table, b"").decode())


def parse_chunk(
    data: bytes,
    entity: str,
    *,
    first_byte_offset: int = 0,
    keep_release_ids: Container[int] | None = None,
    raw_max_bytes: int = DEFAULT_RAW_MAX_BYTES,
    compiled: bool | None = None,
) -> ParsedChunk:
    """Rows per table of one chunk (see `shared.dumps.tables.ENTITY_TABLES` for columns).

    `data` is a document as `split_records` makes it (root element around whole records; a bare
    record sequence or a pretty-printed file also works). `keep_release_ids`, when given, keeps
    only releases with those ids (release scope `collection`). Raises ChunkFormatError when the
    root element is not the entity's; malformed records are returned in `quarantined`.
    `compiled` picks the record extractor (None: the compiled one when built and not disabled
    by CRATEDIGGER_PURE_PYTHON; both give identical results, see shared.dumps.extractors).
    """
    extract = extractor(entity, compiled=compiled)
    with _no_cyclic_gc():
        return _parse(data, entity, first_byte_offset, keep_release_ids, raw_max_bytes, extract)


def stream_chunk(
    data: bytes,
    entity: str,
    emit: Callable[[str, bytes], object],
    *,
    first_byte_offset: int = 0,
    keep_release_ids: Container[int] | None = None,
    raw_max_bytes: int = DEFAULT_RAW_MAX_BYTES,
    compiled: bool | None = None,
    piece_bytes: int | None = None,
) -> ParsedChunk:
    """`parse_chunk`, handing each table's COPY text to `emit(table, data)` as it is made
    instead of keeping it: after a batch, every table holding at least `piece_bytes` (default
    `STREAM_PIECE_BYTES`) is emitted; at the end, what is left (tables in `tables_for` order).
    So a consumer (the loader's COPY thread) works while the next batch is parsed, and memory
    holds about one piece per table. A table's pieces come in record order; all rows of the
    chunk are emitted exactly once. The returned ParsedChunk has the counts, quarantine and
    unknowns of `parse_chunk` and an empty `copy_data`. An exception from `emit` stops the parse."""
    extract = extractor(entity, compiled=compiled)
    piece_bytes = piece_bytes or STREAM_PIECE_BYTES

    def on_flush(out: Output) -> None:
        for table, parts in out.fragments.items():
            if parts and sum(map(len, parts)) >= piece_bytes:
                emit(table, parts[0] if len(parts) == 1 else b"".join(parts))
                parts.clear()

    with _no_cyclic_gc():
        result = _parse(
            data, entity, first_byte_offset, keep_release_ids, raw_max_bytes, extract, on_flush
        )
    for table, rest in result.copy_data.items():
        if rest:
            emit(table, rest)
    result.copy_data = {}
    return result


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Parsing allocates millions of short-lived acyclic objects; the cyclic collector only
    burns time on them (measured: about 9 % of parse time). Reference counting still frees
    everything; the collector is back on afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parse(
    data: bytes,
    entity: str,
    first_byte_offset: int,
    keep_release_ids: Container[int] | None,
    raw_max_bytes: int,
    extract: Extractor,
    on_flush: Callable[[Output], None] | None = None,
) -> ParsedChunk:
    tags = entity_tags(entity)
    start = body_start(data[:4096], tags)
    body = data[start : body_stop(data, start, tags)]  # one copy of the chunk, not three
    base = first_byte_offset or start  # stream offset of the body's first byte
    out = Output(entity)
    result = ParsedChunk(entity)
    offsets = record_offsets(body, tags)
    if not offsets or offsets[0] != 0:
        offsets.insert(0, 0)  # a pretty-printed or leading-whitespace body: one span
    spans = list(zip(offsets, [*offsets[1:], len(body)], strict=True))
    if keep_release_ids is not None and entity == "releases":
        spans = _in_scope(body, spans, keep_release_ids, result)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=True, collect_ids=False
    )
    batch: list[tuple[int, int]] = []
    batch_size = 0
    first = True  # attributes on attribute-free elements are sampled on the first batch
    for span in spans:
        batch.append(span)
        batch_size += span[1] - span[0]
        if batch_size >= BATCH_BYTES:
            _parse_batch(
                body, batch, tags, parser, extract, out, result, base, raw_max_bytes, first
            )
            out.flush()
            if on_flush is not None:
                on_flush(out)
            batch, batch_size, first = [], 0, False
    if batch:
        _parse_batch(body, batch, tags, parser, extract, out, result, base, raw_max_bytes, first)
    out.flush()
    result.copy_data = out.copy_data()
    result.row_counts = {table: out.row_counts[table] for table in out.tables}
    result.unknown = dict(out.unknown)
    result.anomalies = {**result.anomalies, **out.anomalies}
    return result


def _in_scope(
    body: bytes,
    spans: list[tuple[int, int]],
    keep: Container[int],
    result: ParsedChunk,
) -> list[tuple[int, int]]:
    """Drop out-of-scope releases before parsing them (their id is in the opening tag)."""
    kept = []
    for begin, end in spans:
        match = _OPENING_ID.match(body, begin, min(end, begin + 200))
        if match and int(match[1]) not in keep:
            result.record_count += 1
            result.out_of_scope_count += 1
            continue
        kept.append((begin, end))
    return kept


def _parse_batch(
    body: bytes,
    batch: list[tuple[int, int]],
    tags: EntityTags,
    parser: etree.XMLParser,
    extract: Extractor,
    out: Output,
    result: ParsedChunk,
    base: int,
    raw_max_bytes: int,
    sample_attributes: bool = False,
) -> None:
    raw = body[batch[0][0] : batch[-1][1]]
    clean = _sanitize(raw, extract)
    if len(clean) != len(raw):
        result.anomalies["invalid XML control bytes removed"] = (
            result.anomalies.get("invalid XML control bytes removed", 0) + len(raw) - len(clean)
        )
    try:
        root = etree.fromstring(tags.root_open + clean + tags.root_close, parser)
    except etree.XMLSyntaxError as exc:
        if len(batch) == 1:
            result.record_count += 1
            _quarantine(result, body, batch[0], base, f"XML syntax error: {exc}", raw_max_bytes)
            return
        for span in batch:  # isolate the broken record(s)
            _parse_batch(body, [span], tags, parser, extract, out, result, base, raw_max_bytes)
        return
    record_tag = tags.record.decode()
    failed: set[etree._Element] = set()
    if not _extract_children(root, extract, out, result):
        records = [element for element in root if isinstance(element.tag, str)]
        if not _extract_batch(records, record_tag, extract, out, result):
            failed = _extract_each(
                records, batch, tags, extract, out, result, body, base, raw_max_bytes
            )
    if not sample_attributes:
        return
    for record, path, value in unexpected_attributes(tags.entity, root):
        if record not in failed and record.tag == record_tag:
            record_id = record.get("id") or record.findtext("id") or NULL
            out.unknown_attribute(record_id, path, value)


def _sanitize(raw: bytes, extract: Extractor) -> bytes:
    """`empty_blank_elements(strip_invalid_xml_bytes(raw))`; the compiled extractor first
    tells in one C pass whether either has anything to do (usually not)."""
    scan = getattr(extract, "needs_sanitizing", None)
    if scan is not None:
        invalid, blank = scan(raw)
        if not invalid:
            return empty_blank_elements(raw) if blank else raw
    return empty_blank_elements(strip_invalid_xml_bytes(raw))


def _extract_children(
    root: etree._Element,
    extract: Extractor,
    out: Output,
    result: ParsedChunk,
) -> bool:
    """`_extract_batch` done by the compiled extractor over the batch root in one call (no
    element proxy per record). False (with nothing changed) when the extractor is the Python
    one, or when the batch needs the careful path (a record that is not the entity's, or one
    that fails): the caller then runs `_extract_batch` / `_extract_each` as before."""
    extract_children = getattr(extract, "extract_children", None)
    if extract_children is None:
        return False
    return _all_or_nothing(out, result, lambda: extract_children(root, out))


def _extract_batch(
    records: list[etree._Element],
    record_tag: str,
    extract: Extractor,
    out: Output,
    result: ParsedChunk,
) -> bool:
    """The fast path: extract every record without per-record bookkeeping. When a record is
    not the entity's or fails, everything this batch added is undone and False returned, so
    `_extract_each` can redo the batch record by record (records are deterministic)."""

    def extract_all() -> int:
        for record in records:
            if record.tag != record_tag:
                return -1
            extract(record, out)
        return len(records)

    return _all_or_nothing(out, result, extract_all)


def _all_or_nothing(out: Output, result: ParsedChunk, extract_all: Callable[[], int]) -> bool:
    """Run a batch-level extraction that returns its record count, or -1 (or raises) when the
    batch needs the careful path. Then everything it added to `out` (rows, unknown and anomaly
    counts) is undone and False returned; else the records count as loaded."""
    mark = out.mark()
    unknown, anomalies = out.unknown.copy(), out.anomalies.copy()
    try:
        count = extract_all()
    except Exception:  # a malformed record: take the careful path
        count = -1
    if count < 0:
        out.rollback(mark)
        out.unknown, out.anomalies = unknown, anomalies
        return False
    result.record_count += count
    result.loaded_count += count
    return True


def _extract_each(
    records: list[etree._Element],
    batch: list[tuple[int, int]],
    tags: EntityTags,
    extract: Extractor,
    out: Output,
    result: ParsedChunk,
    body: bytes,
    base: int,
    raw_max_bytes: int,
) -> set[etree._Element]:
    """Record by record, so that a malformed record is quarantined and the others load.
    Returns the records that failed."""
    aligned = len(records) == len(batch)
    record_tag = tags.record.decode()
    failed: set[etree._Element] = set()
    for index, record in enumerate(records):
        result.record_count += 1
        span = batch[index] if aligned else (batch[0][0], batch[-1][1])
        if record.tag != record_tag:
            out.unknown_element(NULL, f"{tags.root.decode()}/{record.tag}", record)
            result.record_count -= 1
            continue
        mark = out.mark()
        try:
            extract(record, out)
        except Exception as exc:  # any failure of one record quarantines only that record
            out.rollback(mark)
            error = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            _quarantine(result, body, span, base, error, raw_max_bytes)
            failed.add(record)
            continue
        result.loaded_count += 1
    return failed


def _quarantine(
    result: ParsedChunk,
    body: bytes,
    span: tuple[int, int],
    base: int,
    error: str,
    raw_max_bytes: int,
) -> None:
    raw = body[span[0] : span[1]]
    match = _RECORD_ID.search(raw, 0, 4096)
    record_id = int(match[1] or match[2]) if match else None
    cut = raw[:raw_max_bytes]
    result.quarantined.append(
        QuarantinedRecord(
            byte_offset=base + span[0],
            record_id=record_id,
            error=error,
            raw=strip_invalid_xml_bytes(cut).decode("utf-8", errors="replace"),
            raw_bytes=len(raw),
            truncated=len(cut) < len(raw),
        )
    )


__all__ = ["ChunkFormatError", "ParsedChunk", "QuarantinedRecord", "parse_chunk", "stream_chunk"]
