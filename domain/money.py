"""Exact money: Decimal in the domain, integer minor units in storage, Babel for display."""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache

from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
)

# Multipliers users type after a number: 12.5k, 1.2m, 8万, 1.5亿.
_SUFFIX = {
    "": Decimal(1),
    "k": Decimal(1_000),
    "m": Decimal(1_000_000),
    "mm": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
    "千": Decimal(1_000),
    "万": Decimal(10_000),
    "w": Decimal(10_000),
    "亿": Decimal(100_000_000),
}
# Multipliers a user may type as a word of their own after the number: "8 万".
SEPARATE_SUFFIXES = frozenset({"k", "m", "mm", "b", "千", "万", "w", "亿", "元", "块"})
# Symbols users type before a number and the currencies each may stand for.
_SYMBOLS = {
    "$": {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN", "TWD"},
    "us$": {"USD"},
    "¥": {"CNY", "JPY"},
    "￥": {"CNY", "JPY"},
    "rmb": {"CNY"},
    "€": {"EUR"},
    "£": {"GBP"},
    "₹": {"INR"},
    "hk$": {"HKD"},
    "s$": {"SGD"},
}
_AMOUNT = re.compile(
    r"^(?P<sign>[-−])?\s*(?P<sym>us\$|hk\$|s\$|rmb|[$¥￥€£₹])?\s*(?P<minus>[-−])?\s*"
    r"(?P<num>\d[\d,]*(?:\.\d+)?|\.\d+)\s*"
    r"(?P<suf>mm|[kmbw千万亿])?(?P<yuan>元|块)?$",
    re.IGNORECASE | re.ASCII,
)


class AmountError(ValueError):
    """Text that is not an amount; `reason` is a catalog key."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.text = text


@cache
def minor_digits(currency: str) -> int:
    """Babel's precision of the currency, looked up once per code (a CSV asks per cell)."""
    return int(get_currency_precision(currency))


def parse_amount(text: str, currency: str) -> Decimal:
    """Parse 12500, 12,500, 12.5k, 1.2m, $12,500, ¥8万 into an exact Decimal.

    Every command that takes an amount reads it here, so all refuse the same text with
    the same reason: a minus sign (`-100`, `$-100`, `−5k`) is a negative amount."""
    t = text.strip().replace("，", ",")
    m = _AMOUNT.match(t)
    if not m:
        raise AmountError("amount.invalid", text)
    if m["sign"] or m["minus"]:
        raise AmountError("amount.negative", text)
    sym = (m["sym"] or "").lower()
    if m["yuan"]:
        sym = sym or "rmb"
    if sym and currency.upper() not in _SYMBOLS[sym]:
        raise AmountError("amount.wrong_currency", text)
    digits = m["num"].replace(",", "")
    if "," in m["num"] and not re.fullmatch(r"\d{1,3}(,\d{3})*(\.\d+)?", m["num"], re.ASCII):
        raise AmountError("amount.invalid", text)
    try:
        value = Decimal(digits) * _SUFFIX[(m["suf"] or "").lower()]
    except InvalidOperation as err:
        raise AmountError("amount.invalid", text) from err
    if value <= 0:
        raise AmountError("amount.not_positive", text)
    if value >= Decimal("1e13"):
        raise AmountError("amount.too_large", text)
    if value != value.quantize(Decimal(1).scaleb(-minor_digits(currency))):
        raise AmountError("amount.too_precise", text)
    return value.quantize(Decimal(1)) if value == value.to_integral() else value.normalize()


def to_minor(amount: Decimal, currency: str) -> int:
    scaled = amount.scaleb(minor_digits(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} has more decimals than {currency} allows")
    return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def babel_locale(locale: str) -> str:
    return locale.replace("-", "_")


# A team counts in one currency, so the short local symbol is unambiguous in its messages
# (Babel's English "CN¥" and "US$" read oddly to the teams that use them).
NARROW = {"CNY": "¥", "USD": "$", "JPY": "¥", "HKD": "HK$", "TWD": "NT$"}


def fmt(amount: Decimal, currency: str, locale: str = "en") -> str:
    """Full amount with symbol and grouping; no decimals when the amount is whole."""
    return _formatted(str(amount), currency, locale)


@functools.lru_cache(maxsize=4096)
def _formatted(digits: str, currency: str, locale: str) -> str:
    """fmt, kept by the amount's exact digits: a reply formats the same targets and totals
    again and again, and Babel takes a fifth of a millisecond each time."""
    amount = Decimal(digits)
    loc = babel_locale(locale)
    if amount == amount.to_integral_value():
        text = format_currency(amount, currency, format="¤#,##0", locale=loc, currency_digits=False)
    else:
        text = format_currency(amount, currency, locale=loc)
    return _narrow(text, currency, loc)


def symbol(currency: str, locale: str = "en") -> str:
    return NARROW.get(currency) or str(get_currency_symbol(currency, locale=babel_locale(locale)))


def _narrow(text: str, currency: str, locale: str) -> str:
    if currency not in NARROW:
        return text
    return text.replace(str(get_currency_symbol(currency, locale=locale)), NARROW[currency], 1)


def split_exact(total_minor: int, weights: list[Decimal], step: int = 1) -> list[int]:
    """Split minor units by weights so the parts add up to the total exactly (largest remainder).

    `step` is the smallest amount a part moves by: 100 splits a whole-dollar total into whole
    dollars. The total must be a multiple of it. Exact fractions, so the same input always
    gives the same parts and ties go to the earlier part.
    """
    weight_sum = sum(weights, Decimal(0))
    if not weights or weight_sum <= 0 or any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative and not all zero")
    if step < 1 or total_minor < 0 or total_minor % step:
        raise ValueError("the total must be a non-negative multiple of the step")
    units = total_minor // step
    raw = [Fraction(units) * Fraction(w) / Fraction(weight_sum) for w in weights]
    parts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: units - sum(parts)]:
        parts[i] += 1
    return [p * step for p in parts]


def whole_step(total_minor: int, currency: str | None) -> int:
    """The step split_exact cuts `total_minor` in: whole units of the currency when the total
    is whole (no $33,333.34 parts of $100,000), else its minor unit; 1 for a count (None)."""
    unit = 10 ** minor_digits(currency) if currency else 1
    return unit if total_minor % unit == 0 else 1
