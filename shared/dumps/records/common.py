"""What the four entity extractors share: the row sink, unknown-element bookkeeping, credits,
videos and images.

Hot path (profiled): children are iterated directly (no findtext/XPath), values are read inline
rather than through helper calls, rows are built as marker-joined f-strings (see
`shared.dumps.values`), and attributes are only read by name: unknown attributes are found for a
whole batch at once by `shared.dumps.attributes`. Empty or whitespace-only text becomes NULL, so
"element omitted" (2025+) and "element empty" (before) load identically.
"""

from __future__ import annotations

from collections import Counter

from lxml import etree

from shared.dumps.tables import UNKNOWN_FIELDS_TABLE, tables_for
from shared.dumps.values import FIELD, NULL, boolean, copy_bytes, reference_id, small_int


class Output:
    """Rows per table for one chunk, plus counts of elements/attributes the parser did not know.

    A table's list holds marker-joined str rows (the Python extractors) and/or `bytes` pieces
    of finished COPY lines, one per record and table (the compiled extractor), in record order.
    """

    def __init__(self, entity: str) -> None:
        self.entity = entity
        self.tables: dict[str, list[str | bytes]] = {table: [] for table in tables_for(entity)}
        self._lists = list(self.tables.values())
        self.fragments: dict[str, list[bytes]] = {table: [] for table in self.tables}
        self.row_counts: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.anomalies: Counter[str] = Counter()
        self._extras = self.tables[UNKNOWN_FIELDS_TABLE]

    def flush(self) -> None:
        """Turn the rows collected so far into COPY data (UTF-8) and drop the row strings
        (called after each parsed batch, so rows never pile up for a whole chunk)."""
        for table, rows in self.tables.items():
            if rows:
                data, count = copy_rows(rows)
                self.row_counts[table] += count
                self.fragments[table].append(data)
                rows.clear()

    def copy_data(self) -> dict[str, bytes]:
        return {table: b"".join(parts) for table, parts in self.fragments.items()}

    def mark(self) -> list[int]:
        return list(map(len, self._lists))

    def rollback(self, mark: list[int]) -> None:
        """Forget the rows of a record that turned out to be malformed."""
        for rows, length in zip(self._lists, mark, strict=True):
            del rows[length:]

    def unknown_element(self, record_id: str, path: str, element: etree._Element) -> None:
        """Count an element the parser does not know; keep it verbatim when it carries data."""
        self.unknown[path] += 1
        if (element.text and not element.text.isspace()) or len(element) or element.attrib:
            xml = etree.tostring(element, encoding="unicode", with_tail=False)
            self._extras.append(FIELD.join((self.entity, record_id, path, xml)))

    def unknown_attributes(
        self, record_id: str, path: str, element: etree._Element, known: frozenset[str]
    ) -> None:
        """Count (and keep) the attributes of `element` that are not in `known`."""
        for name, value in element.items():
            if name not in known:
                self.unknown_attribute(record_id, f"{path}@{name}", value)

    def unknown_attribute(self, record_id: str, path: str, value: str) -> None:
        self.unknown[path] += 1
        if value:
            self._extras.append(FIELD.join((self.entity, record_id, path, value)))


def copy_rows(rows: list[str | bytes]) -> tuple[bytes, int]:
    """COPY data and row count of a table's rows: str rows are escaped by `copy_bytes`, bytes
    pieces are COPY lines already (a raw newline in them only ends a row: newlines in values
    are escaped), and the order is kept. A list of one kind (the usual case) is joined in one
    C-level call; the join's TypeError is what tells a mixed list."""
    try:
        if isinstance(rows[0], bytes):
            data = b"".join(rows)  # type: ignore[arg-type]
            return data, data.count(b"\n")
        return copy_bytes(rows), len(rows)  # type: ignore[arg-type]
    except TypeError:
        pass
    pieces: list[bytes] = []
    count = 0
    start = 0  # first str row of the current run
    for index, row in enumerate(rows):
        if isinstance(row, bytes):
            if start < index:
                pieces.append(copy_bytes(rows[start:index]))  # type: ignore[arg-type]
                count += index - start
            pieces.append(row)
            count += row.count(b"\n")
            start = index + 1
    if start < len(rows):
        pieces.append(copy_bytes(rows[start:]))  # type: ignore[arg-type]
        count += len(rows) - start
    return b"".join(pieces), count


VIDEO_ATTRIBUTES = frozenset(("src", "duration", "embed"))
IMAGE_ATTRIBUTES = frozenset(("type", "uri", "uri150", "width", "height"))
ID_ATTRIBUTE = frozenset(("id",))


def credits(
    container: etree._Element,
    keys: str,
    after_sequence: str,
    rows: list[str],
    out: Output,
    record_id: str,
    sequence: int,
    path: str,
) -> int:
    """Append one row per `<artist>` credit:
    keys + sequence + after_sequence + (artist_id, name, anv, join, role, tracks).

    `keys` is the leading key columns, each followed by FIELD; `after_sequence` is "" or
    columns such as the `extra` flag, each followed by FIELD. Returns the last sequence used.
    """
    append = rows.append
    for artist in container:
        if artist.tag != "artist":
            if isinstance(artist.tag, str):
                out.unknown_element(record_id, f"{path}/{artist.tag}", artist)
            continue
        sequence += 1
        artist_id = name = anv = join = role = tracks = NULL
        for child in artist:
            tag = child.tag
            value = child.text or NULL
            if tag == "name":
                name = value
            elif tag == "id":
                # Fast path for the usual positive id; 0, empty and garbage take the slow one.
                if value.isdigit() and value.isascii() and value[0] != "0" and len(value) < 19:
                    artist_id = value
                else:
                    artist_id = reference_id(
                        value if value is not NULL else None, f"{path}/artist/id"
                    )
            elif tag == "role":
                role = value
            elif tag == "join":
                join = value
            elif tag == "anv":
                anv = value
            elif tag == "tracks":
                tracks = value
            elif isinstance(tag, str):
                out.unknown_element(record_id, f"{path}/artist/{tag}", child)
        append(
            f"{keys}{sequence}{FIELD}{after_sequence}{artist_id}{FIELD}{name}{FIELD}{anv}"
            f"{FIELD}{join}{FIELD}{role}{FIELD}{tracks}"
        )
    return sequence


def videos(
    container: etree._Element, rows: list[str], out: Output, record_id: str, path: str
) -> None:
    sequence = 0
    for video in container:
        if video.tag != "video":
            if isinstance(video.tag, str):
                out.unknown_element(record_id, f"{path}/{video.tag}", video)
            continue
        sequence += 1
        title = description = NULL
        for child in video:
            tag = child.tag
            if tag == "title":
                title = child.text or NULL
            elif tag == "description":
                description = child.text or NULL
            elif isinstance(tag, str):
                out.unknown_element(record_id, f"{path}/video/{tag}", child)
        get = video.get
        if not VIDEO_ATTRIBUTES.issuperset(video.keys()):
            out.unknown_attributes(record_id, f"{path}/video", video, VIDEO_ATTRIBUTES)
        rows.append(
            f"{record_id}{FIELD}{sequence}{FIELD}{get('src') or NULL}{FIELD}"
            f"{small_int(get('duration'))}{FIELD}{boolean(get('embed'))}{FIELD}"
            f"{title}{FIELD}{description}"
        )


def images(
    container: etree._Element, rows: list[str], out: Output, record_id: str, path: str
) -> None:
    """Images (in dumps until 2024-11): type, the long-emptied uri/uri150, width, height."""
    sequence = 0
    for image in container:
        if image.tag != "image":
            if isinstance(image.tag, str):
                out.unknown_element(record_id, f"{path}/{image.tag}", image)
            continue
        sequence += 1
        get = image.get
        if not IMAGE_ATTRIBUTES.issuperset(image.keys()):
            out.unknown_attributes(record_id, f"{path}/image", image, IMAGE_ATTRIBUTES)
        rows.append(
            f"{record_id}{FIELD}{sequence}{FIELD}{get('type') or NULL}{FIELD}"
            f"{get('uri') or NULL}{FIELD}{get('uri150') or NULL}{FIELD}"
            f"{small_int(get('width'))}{FIELD}{small_int(get('height'))}"
        )


def text_list(
    container: etree._Element, tag: str, out: Output, record_id: str, path: str
) -> list[str]:
    """Texts of `<tag>` children (genres, styles, descriptions, urls); empty ones carry no data."""
    values = []
    for child in container:
        if child.tag == tag:
            value = child.text
            if value:
                values.append(value)
        elif isinstance(child.tag, str):
            out.unknown_element(record_id, f"{path}/{child.tag}", child)
    return values
