"""Response bodies of the API, as pydantic models: the code builds its answers with them and the
OpenAPI document is generated from them, so the two cannot drift apart."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.api.attribution import ATTRIBUTION, Attribution


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WithAttribution(ApiModel):
    """Every response that shows Discogs data carries the attribution the Discogs terms require."""

    attribution: Attribution = ATTRIBUTION


# --- dump entities ----------------------------------------------------------------------------


class ArtistCredit(ApiModel):
    artist_id: int | None
    name: str | None
    anv: str | None = None
    join: str | None = None
    role: str | None = None
    tracks: str | None = None


class LabelCredit(ApiModel):
    label_id: int | None
    name: str | None
    catno: str | None = None


class Format(ApiModel):
    name: str | None
    qty: str | None = None
    text: str | None = None
    descriptions: list[str] = []


class Identifier(ApiModel):
    type: str | None
    description: str | None = None
    value: str | None = None


class Company(ApiModel):
    company_id: int | None
    name: str | None
    catno: str | None = None
    entity_type: int | None = None
    entity_type_name: str | None = None


class Video(ApiModel):
    src: str | None
    duration: int | None = None
    embed: bool | None = None
    title: str | None = None
    description: str | None = None


class Track(ApiModel):
    position: str | None
    title: str | None
    track_type: str = Field(description="track, heading or index (an index has sub_tracks).")
    duration: str | None = None
    duration_seconds: int | None = None
    artists: list[ArtistCredit] = []
    extra_artists: list[ArtistCredit] = []
    sub_tracks: list[Track] = []


class MasterRef(ApiModel):
    id: int
    title: str | None = None
    year: int | None = None
    main_release_id: int | None = None


class CollectionCopy(ApiModel):
    instance_id: int
    folder_id: int
    folder_name: str | None = None
    rating: int
    date_added: datetime | None = None


class WantEntry(ApiModel):
    rating: int
    date_added: datetime | None = None
    notes: str | None = None


class Ownership(ApiModel):
    username: str
    in_collection: bool
    collection: list[CollectionCopy]
    in_wantlist: bool
    wantlist: WantEntry | None = None


class ReleaseDetail(WithAttribution):
    id: int
    status: str | None
    title: str | None
    country: str | None
    released: str | None
    released_year: int | None
    released_month: int | None
    released_day: int | None
    notes: str | None
    data_quality: str | None
    genres: list[str]
    styles: list[str]
    master: MasterRef | None
    is_main_release: bool | None
    artists: list[ArtistCredit]
    extra_artists: list[ArtistCredit]
    labels: list[LabelCredit]
    series: list[LabelCredit]
    formats: list[Format]
    tracklist: list[Track]
    identifiers: list[Identifier]
    companies: list[Company]
    videos: list[Video]
    other_versions_count: int = Field(description="Other releases of the same master.")
    user: Ownership | None = None


class Version(ApiModel):
    id: int
    title: str | None
    status: str | None
    country: str | None
    released: str | None
    released_year: int | None
    formats: list[str]
    labels: list[LabelCredit]
    is_main_release: bool | None


class MasterDetail(WithAttribution):
    id: int
    title: str | None
    year: int | None
    main_release_id: int | None
    data_quality: str | None
    notes: str | None
    genres: list[str]
    styles: list[str]
    artists: list[ArtistCredit]
    videos: list[Video]
    versions_count: int
    versions: list[Version]
    next_cursor: str | None


class NamedRef(ApiModel):
    id: int | None
    name: str | None


class RoleCount(ApiModel):
    role: str
    releases: int


class ArtistDetail(WithAttribution):
    id: int
    name: str | None
    real_name: str | None
    profile: str | None
    data_quality: str | None
    urls: list[str]
    aliases: list[NamedRef]
    name_variations: list[str]
    members: list[NamedRef]
    groups: list[NamedRef]
    release_count: int = Field(description="Releases crediting the artist as a main artist.")
    master_count: int
    credit_roles: list[RoleCount] = Field(
        description="Releases per credited role (release and track credits), most first."
    )


class YearCount(ApiModel):
    decade: int
    releases: int


class LabelDetail(WithAttribution):
    id: int
    name: str | None
    contact_info: str | None
    profile: str | None
    data_quality: str | None
    parent: NamedRef | None
    sublabels: list[NamedRef]
    urls: list[str]
    release_count: int
    releases_by_decade: list[YearCount]


# --- search -----------------------------------------------------------------------------------


class SearchHit(ApiModel):
    type: Literal["release", "master", "artist", "label"]
    id: int
    title: str | None
    subtitle: str | None = Field(description="Artists of a release/master; real name; parent.")
    year: int | None
    country: str | None
    genres: list[str]
    styles: list[str]
    formats: list[str]
    labels: list[str]
    master_id: int | None
    score: float | None = Field(description="Relevance (sort=relevance with q), higher first.")


class FacetValue(ApiModel):
    value: str
    count: int


class Facets(ApiModel):
    genre: list[FacetValue]
    style: list[FacetValue]
    decade: list[FacetValue]
    format: list[FacetValue]
    country: list[FacetValue]


class SearchResponse(WithAttribution):
    items: list[SearchHit]
    next_cursor: str | None
    total: int | None = Field(
        description="Size of the matching set (first page only); an estimate when"
        " `total_exhaustive` is false."
    )
    total_exhaustive: bool | None = Field(
        None,
        description="False for a broad query (more than 1,000 matches): `total` is the"
        " planner's estimate, and relevance ranks a bounded candidate set (exact titles, title"
        " matches, first matches). Null on later pages.",
    )
    facets: Facets | None = Field(description="Counts over the whole matching set (first page).")
    facets_exhaustive: bool | None = Field(
        None,
        description="False for a broad query: facet counts come from a sample of 1,000 matches,"
        " scaled to `total`. Null when there are no facets.",
    )
    dump_date: date | None


# --- account views ----------------------------------------------------------------------------


class ReleaseSummary(ApiModel):
    """The dump's data for an account item's release, when that release is loaded."""

    id: int
    title: str | None
    country: str | None
    released: str | None
    released_year: int | None
    genres: list[str]
    styles: list[str]
    master_id: int | None
    master_year: int | None
    artists: list[ArtistCredit]
    labels: list[LabelCredit]
    formats: list[Format]


class CollectionItem(ApiModel):
    instance_id: int
    release_id: int
    folder_id: int
    folder_name: str | None
    rating: int
    date_added: datetime | None
    fields: dict[str, str] = Field(description="Custom field values by field name.")
    basic_information: dict[str, Any] = Field(description="Discogs' snapshot at sync time.")
    release: ReleaseSummary | None


class WantlistItem(ApiModel):
    release_id: int
    rating: int
    notes: str | None
    date_added: datetime | None
    basic_information: dict[str, Any]
    release: ReleaseSummary | None


class InventoryItem(ApiModel):
    listing_id: int
    release_id: int
    status: str
    condition: str | None
    sleeve_condition: str | None
    price: Decimal | None
    currency: str | None
    posted: datetime | None
    comments: str | None
    allow_offers: bool | None
    ships_from: str | None
    sold_at: datetime | None
    removed_at: datetime | None
    snapshot: dict[str, Any] = Field(description="Discogs' release snapshot of the listing.")
    release: ReleaseSummary | None


class AccountPage(WithAttribution):
    username: str
    next_cursor: str | None
    synced_at: datetime | None = Field(description="When this user's profile was last synced.")


class CollectionPage(AccountPage):
    items: list[CollectionItem]


class WantlistPage(AccountPage):
    items: list[WantlistItem]


class InventoryPage(AccountPage):
    items: list[InventoryItem]


# --- statistics -------------------------------------------------------------------------------


class Count(ApiModel):
    value: str
    count: int


class MonthCount(ApiModel):
    month: str = Field(description="YYYY-MM")
    count: int


class RatingCount(ApiModel):
    rating: int
    count: int


class Duplicate(ApiModel):
    master_id: int
    title: str | None
    copies: int
    release_ids: list[int]


class ValuePoint(ApiModel):
    fetched_at: datetime
    minimum: Decimal | None
    median: Decimal | None
    maximum: Decimal | None
    currency: str | None


class RoleBreakdown(ApiModel):
    role: str
    artists: list[Count]


class UserTotals(ApiModel):
    items: int = Field(description="Copies in the collection (instances).")
    releases: int = Field(description="Distinct releases in the collection.")
    wantlist: int
    inventory_for_sale: int
    matched_releases: int = Field(description="Distinct collection releases found in the dump.")
    rated: int


class UserStats(WithAttribution):
    username: str
    totals: UserTotals
    genres: list[Count]
    styles: list[Count]
    decades: list[Count] = Field(description="By the earliest year of each release's master.")
    labels: list[Count]
    formats: list[Count]
    countries: list[Count]
    artists: list[Count]
    roles: list[RoleBreakdown]
    additions_per_month: list[MonthCount]
    ratings: list[RatingCount]
    playing_time_seconds: int = Field(description="Sum of known track durations (dump data).")
    duplicates: list[Duplicate]
    value_over_time: list[ValuePoint]


class TableStats(ApiModel):
    schema_name: str
    table: str
    rows: int = Field(description="Row estimate from the planner statistics (exact after ANALYZE).")
    bytes: int = Field(description="Table plus indexes and TOAST.")


class DumpMonth(ApiModel):
    dump_date: date
    status: str
    created_at: datetime | None
    finalized_at: datetime | None


class DatabaseStats(WithAttribution):
    served_dump: date | None
    last_ingestion: DumpMonth | None
    database_bytes: int
    tables: list[TableStats]
