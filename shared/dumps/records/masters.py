"""`<master id>` -> masters, master_artists, master_videos, master_images."""

from __future__ import annotations

from lxml import etree

from shared.dumps.records.common import (
    ID_ATTRIBUTE,
    Output,
    credits,
    images,
    text_list,
    videos,
)
from shared.dumps.values import FIELD, NULL, TEXT_ARRAYS, record_id, reference_id, small_int


def extract_master(master: etree._Element, out: Output) -> str:
    """Append the rows of one master; returns its id. Raises RecordError when malformed."""
    rid = record_id(master.get("id"), "master@id")
    if not ID_ATTRIBUTE.issuperset(master.keys()):
        out.unknown_attributes(rid, "master", master, ID_ATTRIBUTE)
    tables = out.tables
    main_release = title = year = data_quality = notes = NULL
    genres: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    credit_sequence = 0
    for child in master:
        tag = child.tag
        if tag == "artists":
            credit_sequence = credits(
                child,
                rid + FIELD,
                "",
                tables["master_artists"],
                out,
                rid,
                credit_sequence,
                "master/artists",
            )
        elif tag == "title":
            title = child.text or NULL
        elif tag == "main_release":
            main_release = reference_id(child.text, "master/main_release")
        elif tag == "year":
            year = small_int(child.text)
            if year == "0":  # 0 = unknown
                year = NULL
        elif tag == "genres":
            genres = tuple(
                g for g in text_list(child, "genre", out, rid, "master/genres") if not g.isdigit()
            )
        elif tag == "styles":
            styles = tuple(text_list(child, "style", out, rid, "master/styles"))
        elif tag == "data_quality":
            data_quality = child.text or NULL
        elif tag == "notes":
            notes = child.text or NULL
        elif tag == "videos":
            videos(child, tables["master_videos"], out, rid, "master/videos")
        elif tag == "images":
            images(child, tables["master_images"], out, rid, "master/images")
        elif isinstance(tag, str):
            out.unknown_element(rid, f"master/{tag}", child)
    tables["masters"].append(
        f"{rid}{FIELD}{main_release}{FIELD}{title}{FIELD}{year}{FIELD}{data_quality}{FIELD}"
        f"{notes}{FIELD}{TEXT_ARRAYS.get(genres) or TEXT_ARRAYS.miss(genres)}{FIELD}"
        f"{TEXT_ARRAYS.get(styles) or TEXT_ARRAYS.miss(styles)}"
    )
    return rid
