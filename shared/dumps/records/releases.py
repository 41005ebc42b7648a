"""`<release id status>` -> releases and its eleven child tables."""

from __future__ import annotations

from lxml import etree

from shared.dumps.records.common import Output, credits, images, text_list, videos
from shared.dumps.values import (
    DURATION_SECONDS,
    FIELD,
    NULL,
    TEXT_ARRAYS,
    boolean,
    record_id,
    reference_id,
    released_parts,
    small_int,
)

_RELEASE_ATTRIBUTES = frozenset(("id", "status"))
_LABEL_ATTRIBUTES = frozenset(("name", "catno", "id"))
_FORMAT_ATTRIBUTES = frozenset(("name", "qty", "text"))
_IDENTIFIER_ATTRIBUTES = frozenset(("type", "description", "value"))
_MASTER_ID_ATTRIBUTES = frozenset(("is_main_release",))
_EXTRA = "t" + FIELD
_MAIN = "f" + FIELD


def extract_release(release: etree._Element, out: Output) -> str:
    """Append the rows of one release; returns its id. Raises RecordError when malformed."""
    rid = record_id(release.get("id"), "release@id")
    if not _RELEASE_ATTRIBUTES.issuperset(release.keys()):
        out.unknown_attributes(rid, "release", release, _RELEASE_ATTRIBUTES)
    tables = out.tables
    title = country = released = notes = data_quality = master_id = is_main = NULL
    year = month = day = NULL
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    arrays = TEXT_ARRAYS
    credit_sequence = 0
    keys = rid + FIELD
    for child in release:
        tag = child.tag
        if tag == "tracklist":
            _tracks(
                child,
                tables["release_tracks"],
                tables["release_track_artists"],
                out,
                rid,
                NULL,
                0,
                "release/tracklist",
            )
        elif tag == "extraartists":
            credit_sequence = credits(
                child,
                keys,
                _EXTRA,
                tables["release_artists"],
                out,
                rid,
                credit_sequence,
                "release/extraartists",
            )
        elif tag == "artists":
            credit_sequence = credits(
                child,
                keys,
                _MAIN,
                tables["release_artists"],
                out,
                rid,
                credit_sequence,
                "release/artists",
            )
        elif tag == "title":
            title = child.text or NULL
        elif tag == "labels":
            _labels(child, "label", tables["release_labels"], out, rid, "release/labels")
        elif tag == "formats":
            _formats(child, tables["release_formats"], out, rid)
        elif tag == "genres":
            genres = tuple(text_list(child, "genre", out, rid, "release/genres"))
        elif tag == "styles":
            styles = tuple(text_list(child, "style", out, rid, "release/styles"))
        elif tag == "country":
            country = child.text or NULL
        elif tag == "released":
            released = child.text or NULL
            if released is not NULL:
                year, month, day = released_parts(released)
        elif tag == "notes":
            notes = child.text or NULL
        elif tag == "data_quality":
            data_quality = child.text or NULL
        elif tag == "master_id":
            master_id = reference_id(child.text, "release/master_id")
            is_main = boolean(child.get("is_main_release"))
            if not _MASTER_ID_ATTRIBUTES.issuperset(child.keys()):
                out.unknown_attributes(rid, "release/master_id", child, _MASTER_ID_ATTRIBUTES)
        elif tag == "identifiers":
            _identifiers(child, tables["release_identifiers"], out, rid)
        elif tag == "videos":
            videos(child, tables["release_videos"], out, rid, "release/videos")
        elif tag == "companies":
            _companies(child, tables["release_companies"], out, rid)
        elif tag == "series":
            _labels(child, "series", tables["release_series"], out, rid, "release/series")
        elif tag == "images":
            images(child, tables["release_images"], out, rid, "release/images")
        elif isinstance(tag, str):
            out.unknown_element(rid, f"release/{tag}", child)
    if genres:
        genres = _drop_numeric(genres, out)
    tables["releases"].append(
        f"{rid}{FIELD}{release.get('status') or NULL}{FIELD}{title}{FIELD}{country}{FIELD}"
        f"{released}{FIELD}{year}{FIELD}{month}{FIELD}{day}{FIELD}{notes}{FIELD}"
        f"{data_quality}{FIELD}{master_id}{FIELD}{is_main}{FIELD}"
        f"{arrays.get(genres) or arrays.miss(genres)}{FIELD}"
        f"{arrays.get(styles) or arrays.miss(styles)}"
    )
    return rid


def _drop_numeric(genres: tuple[str, ...], out: Output) -> tuple[str, ...]:
    """Legacy numeric genre ids (`^\\d+$`) are not genres; they are counted, not loaded."""
    kept = tuple(genre for genre in genres if not genre.isdigit())
    if len(kept) != len(genres):
        out.anomalies["numeric genre dropped"] += len(genres) - len(kept)
    return kept


def _labels(
    container: etree._Element, tag: str, rows: list[str], out: Output, rid: str, path: str
) -> None:
    """`<label name catno id/>` and (since ~2025) `<series name catno id/>` references."""
    sequence = 0
    for label in container:
        if label.tag != tag:
            if isinstance(label.tag, str):
                out.unknown_element(rid, f"{path}/{label.tag}", label)
            continue
        sequence += 1
        get = label.get
        if not _LABEL_ATTRIBUTES.issuperset(label.keys()):
            out.unknown_attributes(rid, f"{path}/{tag}", label, _LABEL_ATTRIBUTES)
        if len(label) or (label.text and not label.text.isspace()):
            out.unknown_element(rid, f"{path}/{tag}/content", label)
        rows.append(
            f"{rid}{FIELD}{sequence}{FIELD}{reference_id(get('id'), path + '@id')}{FIELD}"
            f"{get('name') or NULL}{FIELD}{get('catno') or NULL}"
        )


def _formats(container: etree._Element, rows: list[str], out: Output, rid: str) -> None:
    sequence = 0
    for fmt in container:
        if fmt.tag != "format":
            if isinstance(fmt.tag, str):
                out.unknown_element(rid, f"release/formats/{fmt.tag}", fmt)
            continue
        sequence += 1
        descriptions: tuple[str, ...] = ()
        for child in fmt:
            if child.tag == "descriptions":
                descriptions = tuple(
                    text_list(child, "description", out, rid, "release/formats/format/descriptions")
                )
            elif isinstance(child.tag, str):
                out.unknown_element(rid, f"release/formats/format/{child.tag}", child)
        get = fmt.get
        if not _FORMAT_ATTRIBUTES.issuperset(fmt.keys()):
            out.unknown_attributes(rid, "release/formats/format", fmt, _FORMAT_ATTRIBUTES)
        # qty stays text: a 64-digit value exists (release 8262262).
        array = TEXT_ARRAYS.get(descriptions) or TEXT_ARRAYS.miss(descriptions)
        rows.append(
            f"{rid}{FIELD}{sequence}{FIELD}{get('name') or NULL}{FIELD}{get('qty') or NULL}"
            f"{FIELD}{get('text') or NULL}{FIELD}{array}"
        )


def _identifiers(container: etree._Element, rows: list[str], out: Output, rid: str) -> None:
    sequence = 0
    for identifier in container:
        if identifier.tag != "identifier":
            if isinstance(identifier.tag, str):
                out.unknown_element(rid, f"release/identifiers/{identifier.tag}", identifier)
            continue
        sequence += 1
        get = identifier.get
        if not _IDENTIFIER_ATTRIBUTES.issuperset(identifier.keys()):
            out.unknown_attributes(
                rid, "release/identifiers/identifier", identifier, _IDENTIFIER_ATTRIBUTES
            )
        rows.append(
            f"{rid}{FIELD}{sequence}{FIELD}{get('type') or NULL}{FIELD}"
            f"{get('description') or NULL}{FIELD}{get('value') or NULL}"
        )


def _companies(container: etree._Element, rows: list[str], out: Output, rid: str) -> None:
    sequence = 0
    for company in container:
        if company.tag != "company":
            if isinstance(company.tag, str):
                out.unknown_element(rid, f"release/companies/{company.tag}", company)
            continue
        sequence += 1
        company_id = name = catno = entity_type = entity_type_name = resource_url = NULL
        for child in company:
            tag = child.tag
            if tag == "name":
                name = child.text or NULL
            elif tag == "id":
                company_id = reference_id(child.text, "release/companies/company/id")
            elif tag == "entity_type":
                entity_type = small_int(child.text)
            elif tag == "entity_type_name":
                entity_type_name = child.text or NULL
            elif tag == "catno":
                catno = child.text or NULL
            elif tag == "resource_url":
                resource_url = child.text or NULL
            elif isinstance(tag, str):
                out.unknown_element(rid, f"release/companies/company/{tag}", child)
        rows.append(
            f"{rid}{FIELD}{sequence}{FIELD}{company_id}{FIELD}{name}{FIELD}{catno}{FIELD}"
            f"{entity_type}{FIELD}{entity_type_name}{FIELD}{resource_url}"
        )


def _tracks(
    container: etree._Element,
    track_rows: list[str],
    credit_rows: list[str],
    out: Output,
    rid: str,
    parent: str,
    sequence: int,
    path: str,
) -> int:
    """Tracks in document order, sub-tracks right after their index track with its sequence as
    parent. Returns the last sequence used (one numbering per release)."""
    append = track_rows.append
    durations = DURATION_SECONDS
    for track in container:
        if track.tag != "track":
            if isinstance(track.tag, str):
                out.unknown_element(rid, f"{path}/{track.tag}", track)
            continue
        sequence += 1
        own = str(sequence)
        position = title = duration = seconds = NULL
        sub_tracks = None
        credit_sequence = 0
        for child in track:
            tag = child.tag
            if tag == "title":
                title = child.text or NULL
            elif tag == "position":
                position = child.text or NULL
            elif tag == "duration":
                duration = child.text
                if duration:
                    seconds = durations.get(duration) or durations.miss(duration)
                else:
                    duration = NULL
            elif tag == "extraartists":
                credit_sequence = credits(
                    child,
                    f"{rid}{FIELD}{own}{FIELD}",
                    _EXTRA,
                    credit_rows,
                    out,
                    rid,
                    credit_sequence,
                    f"{path}/track/extraartists",
                )
            elif tag == "artists":
                credit_sequence = credits(
                    child,
                    f"{rid}{FIELD}{own}{FIELD}",
                    _MAIN,
                    credit_rows,
                    out,
                    rid,
                    credit_sequence,
                    f"{path}/track/artists",
                )
            elif tag == "sub_tracks":
                sub_tracks = child
            elif isinstance(tag, str):
                out.unknown_element(rid, f"{path}/track/{tag}", child)
        if sub_tracks is not None and len(sub_tracks):
            track_type = "index"
        elif position is NULL and duration is NULL:
            track_type = "heading"
        else:
            track_type = "track"
        append(
            f"{rid}{FIELD}{own}{FIELD}{parent}{FIELD}{track_type}{FIELD}{position}{FIELD}"
            f"{title}{FIELD}{duration}{FIELD}{seconds}"
        )
        if sub_tracks is not None:
            sequence = _tracks(
                sub_tracks,
                track_rows,
                credit_rows,
                out,
                rid,
                own,
                sequence,
                "release/tracklist/track/sub_tracks",
            )
    return sequence
