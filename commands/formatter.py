"""How Pacer writes for one reader: catalog text, money, counts, percentages, in their locale.

One Formatter per reader (the sender of a command, or each recipient of a scheduled
message), so commands and jobs write numbers the same way.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from babel import Locale

from commands import i18n
from domain import money

MONEY_METRICS = ("revenue", "collected")


class Formatter:
    def __init__(self, locale: str | None) -> None:
        self.locale = locale or i18n.DEFAULT
        self.babel = i18n.babel_locale(self.locale)

    @cached_property
    def _plural(self) -> Locale:
        return Locale.parse(self.babel)

    def t(self, key: str, **values: Any) -> str:
        return i18n.t(self.locale, key, **values)

    def money(self, minor: int, currency: str) -> str:
        """Stored minor units as money: 1250000 USD -> $12,500."""
        return self.amount(money.from_minor(minor, currency), currency)

    def amount(self, value: Decimal, currency: str, whole: bool = False) -> str:
        """`whole` rounds derived figures (expected, run-rate) to whole units."""
        shown = value.quantize(Decimal(1), ROUND_HALF_UP) if whole else value
        return money.fmt(shown, currency, self.babel)

    def count(self, metric: str, n: Decimal | int) -> str:
        """`3 deals`, `1 deal`: the plural form from the locale's rules (Babel)."""
        rounded = Decimal(n).quantize(Decimal(1), ROUND_HALF_UP)
        form = self._plural.plural_form(int(rounded))  # en: one, other; zh: other
        return self.t(f"metric.count.{metric}_{form}", n=f"{rounded:,}")

    def value(self, amount: Decimal, metric: str, currency: str, whole: bool = False) -> str:
        """A goal's unit: money for the money metrics, a count otherwise."""
        if metric in MONEY_METRICS:
            return self.amount(amount, currency, whole)
        return self.count(metric, amount)

    def stored(self, raw: int, metric: str, currency: str, whole: bool = False) -> str:
        """A stored target or total (minor units or a count) in the goal's unit."""
        return self.value(to_value(raw, metric, currency), metric, currency, whole)

    def pct(self, ratio: Decimal | None) -> str:
        """Rounded, except that short of 100% never reads as 100% (99.9% shows 99%)."""
        if ratio is None:
            return "—"
        shown = (ratio * 100).quantize(Decimal(1), ROUND_HALF_UP)
        if ratio < 1 and shown >= 100:
            shown = (ratio * 100).quantize(Decimal(1), ROUND_DOWN)
        return f"{shown:,}%"


def to_value(minor_or_count: int, metric: str, currency: str) -> Decimal:
    if metric in MONEY_METRICS:
        return money.from_minor(minor_or_count, currency)
    return Decimal(minor_or_count)
