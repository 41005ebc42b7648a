"""Turning validated Discogs items into database rows (pure: no I/O).

The rows go to PostgreSQL as one JSON array per page; the content hash that tells changed from
unchanged items is computed there (see `store.ItemKind.hash_sql`), from the same JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from shared.discogs.models import CollectionItem, Listing, Want

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class PageRows:
    """Rows of one page keyed by their natural key, plus the items that failed validation."""

    rows: dict[int, dict[str, Any]]
    invalid: list[str]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _page_rows(
    items: Iterable[dict[str, Any]],
    model: type[M],
    key: str,
    to_row: Callable[[M, dict[str, Any]], tuple[int, dict[str, Any]]],
) -> PageRows:
    """Validate each item with `model` and build its row; invalid items are described, not
    stored. Rows are keyed by natural key, which de-duplicates an item a page repeats."""
    rows: dict[int, dict[str, Any]] = {}
    invalid: list[str] = []
    for raw in items:
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            invalid.append(_describe(raw, key, exc))
            continue
        natural_key, row = to_row(item, raw)
        rows[natural_key] = row
    return PageRows(rows, invalid)


def _collection_row(item: CollectionItem, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    notes = {str(note.field_id): note.value or "" for note in item.notes or []}
    return item.instance_id, {
        "instance_id": item.instance_id,
        "release_id": item.id,
        "folder_id": item.folder_id,
        "rating": item.rating,
        "date_added": _iso(item.date_added),
        "notes": notes,
        "basic_information": raw["basic_information"],
    }


def _want_row(want: Want, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return want.id, {
        "release_id": want.id,
        "rating": want.rating,
        "notes": want.notes,
        "notes_public": want.notes_public,
        "date_added": _iso(want.date_added),
        "basic_information": raw["basic_information"],
    }


def _listing_row(listing: Listing, raw: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    price = listing.price
    return listing.id, {
        "listing_id": listing.id,
        "release_id": listing.release.id,
        "status": listing.status,
        "condition": listing.condition,
        "sleeve_condition": listing.sleeve_condition,
        "price": price.value if price else None,
        "currency": price.currency if price else None,
        "posted": _iso(listing.posted),
        "comments": listing.comments,
        "allow_offers": listing.allow_offers,
        "ships_from": listing.ships_from,
        "release": raw["release"],
    }


def collection_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    return _page_rows(items, CollectionItem, "instance_id", _collection_row)


def want_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    return _page_rows(items, Want, "id", _want_row)


def listing_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    return _page_rows(items, Listing, "id", _listing_row)


def _describe(raw: Any, key: str, exc: ValidationError) -> str:
    ident = raw.get(key) if isinstance(raw, dict) else None
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"item {key}={ident!r} skipped: {where}: {first['msg']}"
