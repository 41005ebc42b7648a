"""Turning validated Discogs items into database rows (pure: no I/O).

The rows go to PostgreSQL as one JSON array per page; the content hash that tells changed from
unchanged items is computed there (see `store.ItemKind.hash_sql`), from the same JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from shared.discogs.models import CollectionItem, Listing, Want


@dataclass(frozen=True)
class PageRows:
    """Rows of one page keyed by their natural key, plus the items that failed validation."""

    rows: dict[int, dict[str, Any]]
    invalid: list[str]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def collection_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    rows: dict[int, dict[str, Any]] = {}
    invalid: list[str] = []
    for raw in items:
        try:
            item = CollectionItem.model_validate(raw)
        except ValidationError as exc:
            invalid.append(_describe(raw, "instance_id", exc))
            continue
        notes = {str(note.field_id): note.value or "" for note in item.notes or []}
        snapshot = raw["basic_information"]
        row = {
            "instance_id": item.instance_id,
            "release_id": item.id,
            "folder_id": item.folder_id,
            "rating": item.rating,
            "date_added": _iso(item.date_added),
            "notes": notes,
            "basic_information": snapshot,
        }
        rows[item.instance_id] = row  # de-duplicates by key if a page repeats an item
    return PageRows(rows, invalid)


def want_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    rows: dict[int, dict[str, Any]] = {}
    invalid: list[str] = []
    for raw in items:
        try:
            want = Want.model_validate(raw)
        except ValidationError as exc:
            invalid.append(_describe(raw, "id", exc))
            continue
        snapshot = raw["basic_information"]
        row = {
            "release_id": want.id,
            "rating": want.rating,
            "notes": want.notes,
            "notes_public": want.notes_public,
            "date_added": _iso(want.date_added),
            "basic_information": snapshot,
        }
        rows[want.id] = row
    return PageRows(rows, invalid)


def listing_rows(items: Iterable[dict[str, Any]]) -> PageRows:
    rows: dict[int, dict[str, Any]] = {}
    invalid: list[str] = []
    for raw in items:
        try:
            listing = Listing.model_validate(raw)
        except ValidationError as exc:
            invalid.append(_describe(raw, "id", exc))
            continue
        price = listing.price
        snapshot = raw["release"]
        row = {
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
            "release": snapshot,
        }
        rows[listing.id] = row
    return PageRows(rows, invalid)


def _describe(raw: Any, key: str, exc: ValidationError) -> str:
    ident = raw.get(key) if isinstance(raw, dict) else None
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"item {key}={ident!r} skipped: {where}: {first['msg']}"
