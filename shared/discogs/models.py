"""Pydantic models of the Discogs responses cratedigger reads, tolerant of real-world drift.

Unknown fields are ignored, optional fields may be missing or null, `master_id` 0 and null both
mean "no master", and ids that arrive as strings are coerced. The raw item is kept next to the
model (`raw`) where we store a snapshot, so fields we do not model are not lost.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DiscogsModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PaginationUrls(DiscogsModel):
    next: str | None = None
    last: str | None = None


class Pagination(DiscogsModel):
    page: int = 1
    pages: int = 1
    per_page: int | None = None
    items: int | None = None
    urls: PaginationUrls = Field(default_factory=PaginationUrls)


class UserProfile(DiscogsModel):
    id: int | None = None
    username: str
    name: str | None = None
    curr_abbr: str | None = None
    num_collection: int | None = None
    num_wantlist: int | None = None
    num_for_sale: int | None = None


class Folder(DiscogsModel):
    id: int
    name: str = ""
    count: int | None = None


class FoldersResponse(DiscogsModel):
    folders: list[Folder] = Field(default_factory=list)


class CustomField(DiscogsModel):
    id: int
    name: str = ""
    type: str | None = None
    position: int | None = None
    public: bool | None = None
    options: list[str] | None = None
    lines: int | None = None


class FieldsResponse(DiscogsModel):
    fields: list[CustomField] = Field(default_factory=list)


class BasicInformation(DiscogsModel):
    id: int
    master_id: int | None = None
    title: str | None = None
    year: int | None = None

    @field_validator("master_id", mode="before")
    @classmethod
    def _no_master(cls, value: Any) -> Any:
        return None if value in (0, "0", "", None) else value


class NoteValue(DiscogsModel):
    field_id: int
    value: str | None = ""


class CollectionItem(DiscogsModel):
    id: int
    instance_id: int
    folder_id: int = 1
    rating: int = 0
    date_added: datetime | None = None
    notes: list[NoteValue] | None = None
    basic_information: BasicInformation

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, value: Any) -> Any:
        return 0 if value is None else value

    @field_validator("notes", mode="before")
    @classmethod
    def _notes(cls, value: Any) -> Any:
        # Owners get a list; some older payloads carried a plain string or nothing.
        return value if isinstance(value, list) else None


class Want(DiscogsModel):
    id: int
    rating: int = 0
    notes: str | None = None
    notes_public: bool | None = None
    date_added: datetime | None = None
    basic_information: BasicInformation

    @field_validator("rating", mode="before")
    @classmethod
    def _rating(cls, value: Any) -> Any:
        return 0 if value is None else value


class Price(DiscogsModel):
    value: float | None = None
    currency: str | None = None


class ListingRelease(DiscogsModel):
    id: int
    description: str | None = None


class Listing(DiscogsModel):
    id: int
    status: str = "For Sale"
    condition: str | None = None
    sleeve_condition: str | None = None
    posted: datetime | None = None
    price: Price | None = None
    comments: str | None = None
    allow_offers: bool | None = None
    ships_from: str | None = None
    release: ListingRelease


class CollectionValue(DiscogsModel):
    minimum: str | float | None = None
    median: str | float | None = None
    maximum: str | float | None = None


class ItemsPage(DiscogsModel):
    """One page of a paginated list; `items` are the raw dicts of the list (not yet validated)."""

    pagination: Pagination
    items: list[dict[str, Any]]
