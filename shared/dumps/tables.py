"""Which tables each entity fills and the column order of the parser's COPY rows.

The DDL lives in `shared/loading/sql/import_tables.sql`; `tests/dumps/test_schema.py` checks that
both agree. COPY statements name these columns explicitly, so the order here is the row order.
"""

from __future__ import annotations

# Per entity: table name -> columns, in the order the parser writes them.
ENTITY_TABLES: dict[str, dict[str, tuple[str, ...]]] = {
    "artists": {
        "artists": ("id", "name", "real_name", "profile", "data_quality"),
        "artist_aliases": ("artist_id", "sequence", "alias_id", "name"),
        "artist_name_variations": ("artist_id", "sequence", "name"),
        "artist_members": ("artist_id", "sequence", "member_id", "name"),
        "artist_groups": ("artist_id", "sequence", "group_id", "name"),
        "artist_urls": ("artist_id", "sequence", "url"),
        "artist_images": ("artist_id", "sequence", "type", "uri", "uri150", "width", "height"),
    },
    "labels": {
        "labels": (
            "id",
            "name",
            "contact_info",
            "profile",
            "data_quality",
            "parent_label_id",
            "parent_label_name",
        ),
        "label_urls": ("label_id", "sequence", "url"),
        "label_sublabels": ("label_id", "sequence", "sublabel_id", "name"),
        "label_images": ("label_id", "sequence", "type", "uri", "uri150", "width", "height"),
    },
    "masters": {
        "masters": (
            "id",
            "main_release_id",
            "title",
            "year",
            "data_quality",
            "notes",
            "genres",
            "styles",
        ),
        "master_artists": (
            "master_id",
            "sequence",
            "artist_id",
            "name",
            "anv",
            "join",
            "role",
            "tracks",
        ),
        "master_videos": (
            "master_id",
            "sequence",
            "src",
            "duration",
            "embed",
            "title",
            "description",
        ),
        "master_images": ("master_id", "sequence", "type", "uri", "uri150", "width", "height"),
    },
    "releases": {
        "releases": (
            "id",
            "status",
            "title",
            "country",
            "released",
            "released_year",
            "released_month",
            "released_day",
            "notes",
            "data_quality",
            "master_id",
            "is_main_release",
            "genres",
            "styles",
        ),
        "release_artists": (
            "release_id",
            "sequence",
            "extra",
            "artist_id",
            "name",
            "anv",
            "join",
            "role",
            "tracks",
        ),
        "release_labels": ("release_id", "sequence", "label_id", "name", "catno"),
        "release_series": ("release_id", "sequence", "series_id", "name", "catno"),
        "release_formats": ("release_id", "sequence", "name", "qty", "text", "descriptions"),
        "release_identifiers": ("release_id", "sequence", "type", "description", "value"),
        "release_videos": (
            "release_id",
            "sequence",
            "src",
            "duration",
            "embed",
            "title",
            "description",
        ),
        "release_companies": (
            "release_id",
            "sequence",
            "company_id",
            "name",
            "catno",
            "entity_type",
            "entity_type_name",
            "resource_url",
        ),
        "release_tracks": (
            "release_id",
            "sequence",
            "parent_sequence",
            "track_type",
            "position",
            "title",
            "duration",
            "duration_seconds",
        ),
        "release_track_artists": (
            "release_id",
            "track_sequence",
            "sequence",
            "extra",
            "artist_id",
            "name",
            "anv",
            "join",
            "role",
            "tracks",
        ),
        "release_images": ("release_id", "sequence", "type", "uri", "uri150", "width", "height"),
    },
}

# Elements and attributes the parser does not know but that carry data, kept verbatim.
UNKNOWN_FIELDS_TABLE = "unknown_fields"
UNKNOWN_FIELDS_COLUMNS: tuple[str, ...] = ("entity", "record_id", "path", "xml")

ALL_TABLES: tuple[str, ...] = (
    *(table for tables in ENTITY_TABLES.values() for table in tables),
    UNKNOWN_FIELDS_TABLE,
)

# The record table of each entity (its rows are the entity's records).
MAIN_TABLE = {entity: entity for entity in ENTITY_TABLES}

# Each entity table (child tables and the record table itself) -> its entity's record table.
RECORD_TABLE_OF: dict[str, str] = {
    table: MAIN_TABLE[entity] for entity, tables in ENTITY_TABLES.items() for table in tables
}


def tables_for(entity: str) -> dict[str, tuple[str, ...]]:
    """Every table one entity's chunk writes to, including the unknown-field table."""
    return {**ENTITY_TABLES[entity], UNKNOWN_FIELDS_TABLE: UNKNOWN_FIELDS_COLUMNS}
