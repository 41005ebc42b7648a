"""Attributes on elements that normally carry none, found with one XPath per parsed batch.

Elements that carry attributes (`release@id`, `label@name`, `video@src`, …) have their attribute
names checked by the extractors as they read them. Elements that carry none (`<title>`, `<track>`,
containers, …) are too many to check one by one on the hot path (a per-element check costs as
much as the parse), so the parser runs this XPath over the first batch of every chunk: a format
change that adds such an attribute affects every record and shows up the day it appears (counts
for these paths are therefore sampled, one batch per chunk).
"""

from __future__ import annotations

import re

from lxml import etree

# Elements whose attributes the extractors check themselves, per entity.
_CHECKED: dict[str, tuple[str, ...]] = {
    "releases": (
        "release",
        "label",
        "series",
        "format",
        "identifier",
        "video",
        "image",
        "master_id",
    ),
    "masters": ("master", "video", "image"),
    "artists": ("artist", "name", "image"),
    "labels": ("label", "parentLabel", "image"),
}

# Every element name the extractors handle, per entity. Attributes of other elements are not
# reported separately: those elements are unknown and kept whole, attributes included.
KNOWN_TAGS: dict[str, frozenset[str]] = {
    "releases": frozenset(
        [
            "release",
            "images",
            "image",
            "artists",
            "artist",
            "id",
            "name",
            "anv",
            "join",
            "role",
            "tracks",
            "title",
            "labels",
            "label",
            "series",
            "extraartists",
            "formats",
            "format",
            "descriptions",
            "description",
            "genres",
            "genre",
            "styles",
            "style",
            "country",
            "released",
            "notes",
            "data_quality",
            "master_id",
            "tracklist",
            "track",
            "position",
            "duration",
            "sub_tracks",
            "identifiers",
            "identifier",
            "videos",
            "video",
            "companies",
            "company",
            "catno",
            "entity_type",
            "entity_type_name",
            "resource_url",
        ]
    ),
    "masters": frozenset(
        [
            "master",
            "main_release",
            "images",
            "image",
            "artists",
            "artist",
            "id",
            "name",
            "anv",
            "join",
            "role",
            "tracks",
            "genres",
            "genre",
            "styles",
            "style",
            "year",
            "title",
            "data_quality",
            "notes",
            "videos",
            "video",
            "description",
        ]
    ),
    "artists": frozenset(
        [
            "artist",
            "images",
            "image",
            "id",
            "name",
            "realname",
            "profile",
            "data_quality",
            "urls",
            "url",
            "namevariations",
            "aliases",
            "members",
            "groups",
        ]
    ),
    "labels": frozenset(
        [
            "label",
            "images",
            "image",
            "id",
            "name",
            "contactinfo",
            "profile",
            "data_quality",
            "parentLabel",
            "urls",
            "url",
            "sublabels",
        ]
    ),
}


def _xpath(entity: str) -> etree.XPath:
    checked = " or ".join(f"self::{tag}" for tag in _CHECKED[entity])
    return etree.XPath(f"//*[@*][not({checked})]")


_ATTRIBUTED: dict[str, etree.XPath] = {entity: _xpath(entity) for entity in _CHECKED}
_INDEX = re.compile(r"\[\d+\]")


def unexpected_attributes(
    entity: str, root: etree._Element
) -> list[tuple[etree._Element, str, str]]:
    """(record element, path like `release/tracklist/track/title@lang`, value) for attributes
    on known elements that normally carry none."""
    found = []
    known = KNOWN_TAGS[entity]
    tree = root.getroottree()
    for element in _ATTRIBUTED[entity](root):
        if element.tag not in known or _inside_unknown(element, root, known):
            continue  # unknown elements are kept whole, attributes included
        path = _INDEX.sub("", tree.getpath(element)).split("/", 2)[2]
        record = element
        while record.getparent() is not root:
            record = record.getparent()
        for name, value in element.items():
            found.append((record, f"{path}@{name}", value))
    return found


def _inside_unknown(element: etree._Element, root: etree._Element, known: frozenset[str]) -> bool:
    for ancestor in element.iterancestors():
        if ancestor is root:
            return False
        if ancestor.tag not in known:
            return True
    return False
