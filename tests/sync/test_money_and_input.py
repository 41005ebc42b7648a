from decimal import Decimal

import pytest

from shared.discogs.errors import InvalidUsernameError
from shared.discogs.models import BasicInformation, CollectionItem, Listing
from shared.discogs.money import Money, MoneyFormatError, parse_money
from shared.discogs.usernames import validate_username
from shared.sync.scope import SCOPES, SyncRequestError, parse_request_body, parse_scope


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("$1,234.56", "USD", Money(Decimal("1234.56"), "USD")),
        ("£2.50", "GBP", Money(Decimal("2.50"), "GBP")),
        ("€1.234,56", "EUR", Money(Decimal("1234.56"), "EUR")),
        ("€1,234.56", "EUR", Money(Decimal("1234.56"), "EUR")),
        ("12,50 €", "EUR", Money(Decimal("12.50"), "EUR")),
        ("¥12,345", "JPY", Money(Decimal("12345"), "JPY")),
        ("CA$100.25", "CAD", Money(Decimal("100.25"), "CAD")),
        ("$100.25", "CAD", Money(Decimal("100.25"), "CAD")),  # plain $ takes the profile's dollar
        ("A$5.00", "USD", Money(Decimal("5.00"), "AUD")),  # an explicit prefix wins over the hint
        ("R$1.234,00", "BRL", Money(Decimal("1234.00"), "BRL")),
        ("CHF 1'234.50", "CHF", Money(Decimal("1234.50"), "CHF")),
        ("SEK 99.00", None, Money(Decimal("99.00"), "SEK")),
        ("1,234.56", "ZAR", Money(Decimal("1234.56"), "ZAR")),
        ("$0.00", "USD", Money(Decimal("0.00"), "USD")),
        (12.5, "USD", Money(Decimal("12.5"), "USD")),
    ],
)
def test_value_strings_parse_to_amount_and_currency(text, hint, expected):
    assert parse_money(text, hint) == expected


@pytest.mark.parametrize("text", ["free", "$", "£1.2.3,4x", "12 apples"])
def test_unparseable_money_is_a_clear_error(text):
    with pytest.raises(MoneyFormatError, match="not a money amount"):
        parse_money(text, "USD")


def test_empty_money_is_none():
    assert parse_money("", "USD") is None
    assert parse_money(None, "USD") is None


@pytest.mark.parametrize("name", ["digger", "Crate.Digger-99", "a_b", "x" * 64])
def test_valid_usernames(name):
    assert validate_username(name) == name


@pytest.mark.parametrize(
    "name", ["", "..", "a/b", "a b", "ü", "x" * 65, "name?x=1", "%2e%2e", None, 42]
)
def test_invalid_usernames_are_refused_before_any_request(name):
    with pytest.raises(InvalidUsernameError):
        validate_username(name)


def test_scope_parsing():
    assert parse_scope(None) == SCOPES
    assert parse_scope("value,collection") == ("collection", "value")
    assert parse_request_body({"scope": ["wantlist"], "full": True}) == (("wantlist",), True)
    assert parse_request_body(None) == (SCOPES, False)
    for bad in ({"scope": ["records"]}, {"scope": []}, {"full": "yes"}, {"other": 1}, [1], "x"):
        with pytest.raises(SyncRequestError):
            parse_request_body(bad)


def test_models_tolerate_drift():
    info = BasicInformation.model_validate({"id": "12", "master_id": 0, "new_field": [1]})
    assert info.id == 12 and info.master_id is None
    assert BasicInformation.model_validate({"id": 1, "master_id": None}).master_id is None
    item = CollectionItem.model_validate(
        {
            "id": 5,
            "instance_id": 9,
            "rating": None,
            "notes": "legacy string",
            "basic_information": {"id": 5},
        }
    )
    assert item.rating == 0 and item.notes is None and item.date_added is None
    listing = Listing.model_validate({"id": 1, "release": {"id": 2}, "price": None})
    assert listing.status == "For Sale" and listing.price is None
