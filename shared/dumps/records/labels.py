"""`<label>` (id as a child element) -> labels, label_urls, label_sublabels, label_images."""

from __future__ import annotations

from lxml import etree

from shared.dumps.records.common import ID_ATTRIBUTE, Output, images, text_list
from shared.dumps.values import FIELD, NULL, RecordError, record_id, reference_id


def extract_label(label: etree._Element, out: Output) -> str:
    """Append the rows of one label; returns its id. Raises RecordError when malformed."""
    rid = NULL
    for child in label:
        if child.tag == "id":
            rid = record_id(child.text, "label/id")
            break
    if rid is NULL:
        raise RecordError("label/id: missing")
    tables = out.tables
    name = contact_info = profile = data_quality = parent_id = parent_name = NULL
    for child in label:
        tag = child.tag
        if tag == "name":
            name = child.text or NULL
        elif tag == "id":
            continue
        elif tag == "contactinfo":
            contact_info = child.text or NULL
        elif tag == "profile":
            profile = child.text or NULL
        elif tag == "data_quality":
            data_quality = child.text or NULL
        elif tag == "parentLabel":
            # No @id in 2017; in 2026 possibly an empty element with only @id.
            parent_id = reference_id(child.get("id"), "label/parentLabel@id")
            parent_name = child.text or NULL
            if not ID_ATTRIBUTE.issuperset(child.keys()):
                out.unknown_attributes(rid, "label/parentLabel", child, ID_ATTRIBUTE)
        elif tag == "urls":
            rows = tables["label_urls"]
            for sequence, url in enumerate(text_list(child, "url", out, rid, "label/urls"), 1):
                rows.append(f"{rid}{FIELD}{sequence}{FIELD}{url}")
        elif tag == "sublabels":
            _sublabels(child, tables["label_sublabels"], out, rid)
        elif tag == "images":
            images(child, tables["label_images"], out, rid, "label/images")
        elif isinstance(tag, str):
            out.unknown_element(rid, f"label/{tag}", child)
    if label.keys():
        out.unknown_attributes(rid, "label", label, frozenset())
    tables["labels"].append(
        f"{rid}{FIELD}{name}{FIELD}{contact_info}{FIELD}{profile}{FIELD}{data_quality}"
        f"{FIELD}{parent_id}{FIELD}{parent_name}"
    )
    return rid


def _sublabels(container: etree._Element, rows: list[str], out: Output, rid: str) -> None:
    """Nested `<label id="…">name</label>`: the same tag as the record, one level down."""
    sequence = 0
    for sublabel in container:
        if sublabel.tag != "label":
            if isinstance(sublabel.tag, str):
                out.unknown_element(rid, f"label/sublabels/{sublabel.tag}", sublabel)
            continue
        ref = reference_id(sublabel.get("id"), "label/sublabels/label@id")
        value = sublabel.text or NULL
        if ref is NULL and value is NULL:
            continue  # the 2020 sample's cutter emptied these: nothing to keep
        if not ID_ATTRIBUTE.issuperset(sublabel.keys()):
            out.unknown_attributes(rid, "label/sublabels/label", sublabel, ID_ATTRIBUTE)
        sequence += 1
        rows.append(f"{rid}{FIELD}{sequence}{FIELD}{ref}{FIELD}{value}")
