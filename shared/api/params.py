"""Query parameters of every read endpoint, as pydantic models (also the OpenAPI parameters).

Parsing turns a flat string mapping (the query string) into a model or a 400 naming every bad
parameter. Unknown parameter names are errors too (a typo such as `genere=Rock` must not silently
return everything); `code` is the Functions key and always allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from shared.api.problems import InvalidParam, bad_request, invalid_input
from shared.discogs.errors import InvalidUsernameError
from shared.discogs.usernames import validate_username

MAX_QUERY_LENGTH = 200
MAX_FILTER_LENGTH = 100
MAX_LIMIT = 100
MAX_ID = 2**63 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALWAYS_ALLOWED = frozenset({"code"})  # the Functions key may come as ?code=


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _username(value: str) -> str:
    try:
        return validate_username(value)
    except InvalidUsernameError as exc:
        raise ValueError(str(exc)) from None


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_FILTER_LENGTH),
    AfterValidator(_no_control_characters),
]
QueryText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUERY_LENGTH),
    AfterValidator(_no_control_characters),
]
Username = Annotated[str, AfterValidator(_username)]
Year = Annotated[int, Field(ge=1000, le=2999)]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str, StringConstraints(min_length=1, max_length=512)]
EntityId = Annotated[int, Field(ge=1, le=MAX_ID)]

EntityType = Literal["release", "master", "artist", "label"]
MEDIA_CONDITIONS = (
    "Mint (M)",
    "Near Mint (NM or M-)",
    "Very Good Plus (VG+)",
    "Very Good (VG)",
    "Good Plus (G+)",
    "Good (G)",
    "Fair (F)",
    "Poor (P)",
)
Condition = Literal[MEDIA_CONDITIONS]  # type: ignore[valid-type]
ListingStatus = Literal["For Sale", "Draft", "Expired", "Sold", "Violation", "Suspended", "removed"]


class QueryParams(BaseModel):
    """Base of all query models: unknown names are rejected, strings are stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PageParams(QueryParams):
    limit: Limit = Field(20, description=f"Items per page, 1-{MAX_LIMIT}.")
    cursor: Cursor | None = Field(None, description="`next_cursor` of the previous page.")


class YearRange(QueryParams):
    year_from: Year | None = None
    year_to: Year | None = None

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.year_from and self.year_to and self.year_from > self.year_to:
            raise ValueError("year_from must not be after year_to")
        return self


class SearchParams(PageParams, YearRange):
    q: QueryText | None = Field(
        None, description="Free text: ranked full-text plus fuzzy trigram match, accent-blind."
    )
    type: Literal["all", "release", "master", "artist", "label"] = "all"
    genre: Text | None = None
    style: Text | None = None
    country: Text | None = None
    format: Text | None = Field(None, description="Format name, e.g. Vinyl, CD, Cassette.")
    label: Text | None = Field(None, description="Label name (releases).")
    username: Username | None = Field(None, description="Needed by in_collection/in_wantlist.")
    in_collection: bool | None = None
    in_wantlist: bool | None = None
    sort: Literal["relevance", "year", "-year", "title", "-title"] = "relevance"
    facets: bool = Field(True, description="Compute facet counts (first page only).")

    @model_validator(mode="after")
    def _account_filters_need_user(self) -> SearchParams:
        if (self.in_collection is not None or self.in_wantlist is not None) and not self.username:
            raise ValueError("in_collection and in_wantlist need a username")
        return self


class DetailParams(QueryParams):
    username: Username | None = Field(
        None, description="Also say whether this user has it in collection or wantlist."
    )


class VersionsParams(PageParams):
    pass


class AccountListParams(PageParams, YearRange):
    q: QueryText | None = Field(None, description="Words in title or artist (accent-blind).")
    artist: Text | None = None
    genre: Text | None = None
    style: Text | None = None
    format: Text | None = None


Rating = Annotated[int, Field(ge=0, le=5)]
# Collection and wantlist items sort alike (both carry a rating and Discogs' release snapshot).
ItemSort = Literal[
    "date_added",
    "-date_added",
    "year",
    "-year",
    "title",
    "-title",
    "artist",
    "-artist",
    "rating",
    "-rating",
]


class CollectionParams(AccountListParams):
    rating: Rating | None = Field(None, description="0 (unrated) to 5.")
    folder: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = Field(
        None, description="Folder id (0 is All)."
    )
    sort: ItemSort = "-date_added"


class WantlistParams(AccountListParams):
    rating: Rating | None = Field(None, description="0 (unrated) to 5.")
    sort: ItemSort = "-date_added"


class InventoryParams(AccountListParams):
    status: ListingStatus | None = Field(None, description="Listing status; `removed` for gone.")
    price_min: Annotated[Decimal, Field(ge=0, le=10**9, decimal_places=2)] | None = None
    price_max: Annotated[Decimal, Field(ge=0, le=10**9, decimal_places=2)] | None = None
    condition: Condition | None = Field(None, description="Media condition (Discogs grading).")
    sort: Literal[
        "posted",
        "-posted",
        "price",
        "-price",
        "year",
        "-year",
        "title",
        "-title",
        "artist",
        "-artist",
    ] = "-posted"

    @model_validator(mode="after")
    def _price_range(self) -> InventoryParams:
        low, high = self.price_min, self.price_max
        if low is not None and high is not None and low > high:
            raise ValueError("price_min must not exceed price_max")
        return self


class UserStatsParams(QueryParams):
    top: Annotated[int, Field(ge=1, le=100)] = Field(10, description="Entries per breakdown.")


class NoParams(QueryParams):
    pass


Model = TypeVar("Model", bound=BaseModel)


def _location(loc: tuple[int | str, ...], where: str) -> str:
    fields = [str(part) for part in loc if not isinstance(part, int)]
    return f"{where}.{fields[0]}" if fields else where


def parse_params(model: type[Model], raw: Mapping[str, str], *, where: str = "query") -> Model:
    """The validated model for a query string, or a 400 listing every problem."""
    values: dict[str, Any] = {k: v for k, v in raw.items() if k not in _ALWAYS_ALLOWED}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(
            exc,
            name=lambda loc: _location(loc, where),
            unknown="unknown parameter",
            what="parameters",
        ) from None


def parse_id(value: str | None, name: str = "id") -> int:
    """A path id: a positive 64-bit integer, else 400 (an id that merely does not exist is 404)."""
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19 or not 0 < int(text) <= MAX_ID:
        raise bad_request(
            f"{name} must be a positive integer",
            errors=[InvalidParam(name=f"path.{name}", reason="must be a positive integer")],
        )
    return int(text)


def parse_username(value: str | None) -> str:
    try:
        return validate_username(value or "")
    except InvalidUsernameError as exc:
        raise bad_request(
            str(exc), errors=[InvalidParam(name="path.username", reason=str(exc))]
        ) from None
