"""`<artist>` (id as a child element) -> artists and its six child tables."""

from __future__ import annotations

from lxml import etree

from shared.dumps.records.common import ID_ATTRIBUTE, Output, images, text_list
from shared.dumps.values import FIELD, NULL, RecordError, record_id, reference_id


def extract_artist(artist: etree._Element, out: Output) -> str:
    """Append the rows of one artist; returns its id. Raises RecordError when malformed."""
    # One pass: scalars are read at once; containers wait until the id (a child element,
    # usually after <images>) is known, since their rows start with it.
    rid = NULL
    name = real_name = profile = data_quality = NULL
    containers: list[etree._Element] = []
    for child in artist:
        tag = child.tag
        if tag == "name":
            name = child.text or NULL
        elif tag == "id":
            if rid is NULL:  # the first id counts
                rid = record_id(child.text, "artist/id")
        elif tag == "realname":
            real_name = child.text or NULL
        elif tag == "profile":
            profile = child.text or NULL
        elif tag == "data_quality":
            data_quality = child.text or NULL
        else:
            containers.append(child)
    if rid is NULL:
        raise RecordError("artist/id: missing")
    tables = out.tables
    for child in containers:
        tag = child.tag
        if tag == "namevariations":
            rows = tables["artist_name_variations"]
            for sequence, variation in enumerate(
                text_list(child, "name", out, rid, "artist/namevariations"), 1
            ):
                rows.append(f"{rid}{FIELD}{sequence}{FIELD}{variation}")
        elif tag == "aliases":
            _named_references(child, tables["artist_aliases"], out, rid, "artist/aliases")
        elif tag == "groups":
            _named_references(child, tables["artist_groups"], out, rid, "artist/groups")
        elif tag == "members":
            _members(child, tables["artist_members"], out, rid)
        elif tag == "urls":
            rows = tables["artist_urls"]
            for sequence, url in enumerate(text_list(child, "url", out, rid, "artist/urls"), 1):
                rows.append(f"{rid}{FIELD}{sequence}{FIELD}{url}")
        elif tag == "images":
            images(child, tables["artist_images"], out, rid, "artist/images")
        elif isinstance(tag, str):
            out.unknown_element(rid, f"artist/{tag}", child)
    if artist.keys():
        out.unknown_attributes(rid, "artist", artist, frozenset())
    tables["artists"].append(
        f"{rid}{FIELD}{name}{FIELD}{real_name}{FIELD}{profile}{FIELD}{data_quality}"
    )
    return rid


def _named_references(
    container: etree._Element, rows: list[str], out: Output, rid: str, path: str
) -> None:
    """`<name id="…">text</name>` lists (aliases, groups); `@id` is absent in 2017 dumps."""
    sequence = 0
    for name in container:
        if name.tag != "name":
            if isinstance(name.tag, str):
                out.unknown_element(rid, f"{path}/{name.tag}", name)
            continue
        ref = reference_id(name.get("id"), f"{path}/name@id")
        value = name.text or NULL
        if ref is NULL and value is NULL:
            continue  # an empty element carries nothing
        if not ID_ATTRIBUTE.issuperset(name.keys()):
            out.unknown_attributes(rid, f"{path}/name", name, ID_ATTRIBUTE)
        sequence += 1
        rows.append(f"{rid}{FIELD}{sequence}{FIELD}{ref}{FIELD}{value}")


def _members(container: etree._Element, rows: list[str], out: Output, rid: str) -> None:
    """Members in all three layouts: names only (before 2015-02), `<id>` + `<name id>` pairs
    (2015-2024), `<name id>` only (2025+). `name@id` wins; a bare preceding `<id>` fills in."""
    sequence = 0
    pending_id = NULL
    for child in container:
        tag = child.tag
        if tag == "id":
            pending_id = reference_id(child.text, "artist/members/id")
            continue
        if tag != "name":
            if isinstance(tag, str):
                out.unknown_element(rid, f"artist/members/{tag}", child)
            continue
        member_id = reference_id(child.get("id"), "artist/members/name@id")
        if not ID_ATTRIBUTE.issuperset(child.keys()):
            out.unknown_attributes(rid, "artist/members/name", child, ID_ATTRIBUTE)
        if member_id is NULL:
            member_id = pending_id
        pending_id = NULL
        value = child.text or NULL
        if member_id is NULL and value is NULL:
            continue
        sequence += 1
        rows.append(f"{rid}{FIELD}{sequence}{FIELD}{member_id}{FIELD}{value}")
