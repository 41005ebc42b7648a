"""Parsing Discogs' formatted money strings ("$1,234.56", "£2.50", "€1.234,56", "¥12,345").

The collection value endpoint answers in the profile currency as display strings. The symbol is
ambiguous for dollars (US, CA, AU, NZ, MX), so the caller passes the profile currency as a hint;
an explicit prefix such as "CA$" or a code such as "CHF" wins over the hint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Longest first so "CA$" is tried before "$".
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("CA$", "CAD"),
    ("NZ$", "NZD"),
    ("MX$", "MXN"),
    ("US$", "USD"),
    ("A$", "AUD"),
    ("R$", "BRL"),
    ("$", "USD"),
    ("£", "GBP"),
    ("€", "EUR"),
    ("¥", "JPY"),
    ("￥", "JPY"),
)
_CODES = ("USD", "GBP", "EUR", "CAD", "AUD", "JPY", "CHF", "MXN", "BRL", "NZD", "SEK", "ZAR")
_DOLLAR_CODES = {"USD", "CAD", "AUD", "NZD", "MXN"}
_NUMBER = re.compile(r"^-?\d[\d.,'\u00a0\u202f ]*$")


class MoneyFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str | None


def parse_money(text: str | float | int | None, currency_hint: str | None = None) -> Money | None:
    """The amount and currency code of a display string; None for empty input."""
    if text is None:
        return None
    if isinstance(text, int | float):
        return Money(Decimal(str(text)), currency_hint)
    raw = text.strip()
    if not raw:
        return None
    currency, number = _split_currency(raw, currency_hint)
    return Money(_parse_number(number, raw), currency)


def _split_currency(raw: str, hint: str | None) -> tuple[str | None, str]:
    rest = raw
    negative = rest.startswith("-")
    if negative:
        rest = rest[1:].lstrip()
    for code in _CODES:
        if rest.upper().startswith(code):
            return code, ("-" if negative else "") + rest[len(code) :].strip()
        if rest.upper().endswith(code):
            return code, ("-" if negative else "") + rest[: -len(code)].strip()
    for symbol, code in _PREFIXES:
        if rest.startswith(symbol):
            found = hint if symbol == "$" and hint in _DOLLAR_CODES else code
            return found, ("-" if negative else "") + rest[len(symbol) :].strip()
        if rest.endswith(symbol):  # "12,50 €"
            return code, ("-" if negative else "") + rest[: -len(symbol)].strip()
    return hint, raw


def _parse_number(number: str, raw: str) -> Decimal:
    if not _NUMBER.match(number):
        raise MoneyFormatError(f"not a money amount: {raw!r}")
    text = re.sub(r"[\u00a0\u202f ']", "", number)
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        # Both present: the later one is the decimal separator.
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        digits_after = len(text) - text.rfind(sep) - 1
        # One separator followed by exactly three digits is a thousands separator ("¥12,345").
        decimal_sep = sep if text.count(sep) == 1 and digits_after != 3 else None
    else:
        decimal_sep = None
    thousands = {".", ","} - ({decimal_sep} if decimal_sep else set())
    for sep in thousands:
        text = text.replace(sep, "")
    if decimal_sep == ",":
        text = text.replace(",", ".")
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise MoneyFormatError(f"not a money amount: {raw!r}") from exc
