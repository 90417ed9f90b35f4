"""How Pacer writes for one reader: catalog text, money, counts, percentages, in their locale.

One Formatter per reader (the sender of a command, or each recipient of a scheduled
message), so commands and jobs write numbers the same way. Rounding follows
domain/rounding.py, the same rule the charts use.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import Any

from babel import Locale
from babel.dates import format_interval

from commands import i18n
from domain import money, periods, rounding
from domain.periods import Period

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

    def amount(self, value: Decimal, currency: str) -> str:
        """Money half up to the currency's precision: $31,666.67, ¥800,000."""
        return money.fmt(rounding.money(value, currency), currency, self.babel)

    def count(self, metric: str, n: Decimal | int) -> str:
        """`3 deals`, `1 deal`, `10.3 deals`: one decimal at most, and the plural form from
        the locale's rules (Babel)."""
        shown = rounding.count(Decimal(n))
        form = self._plural.plural_form(shown)  # en: one, other; zh: other
        return self.t(f"metric.count.{metric}_{form}", n=f"{shown:,}")

    def value(self, amount: Decimal, metric: str, currency: str) -> str:
        """A goal's unit: money for the money metrics, a count otherwise."""
        if metric in MONEY_METRICS:
            return self.amount(amount, currency)
        return self.count(metric, amount)

    def needed(self, amount: Decimal, metric: str, currency: str) -> str:
        """What is still needed: a count rounds up (0.3 of a deal is one more deal)."""
        if metric in MONEY_METRICS:
            return self.amount(amount, currency)
        return self.count(metric, rounding.needed(amount))

    def stored(self, raw: int, metric: str, currency: str) -> str:
        """A stored target or total (minor units or a count) in the goal's unit."""
        return self.value(to_value(raw, metric, currency), metric, currency)

    def pct(self, ratio: Decimal | None) -> str:
        """Rounded, except that short of 100% never reads as 100% (99.9% shows 99%)."""
        if ratio is None:
            return "—"
        return f"{rounding.percent(ratio):,}%"

    def change(self, ratio: Decimal) -> str:
        """A change as a signed whole percent, half up: +12%, -5%, 0%."""
        shown = rounding.change_percent(ratio)
        if shown == 0:
            return "0%"  # never "-0%"
        return f"{'+' if shown > 0 else ''}{shown:,}%"

    def period(self, period: Period, fiscal_start: int = 1) -> str:
        """A period's title: its one name, with its dates where the name alone could be
        read as another period (`FY2026-Q3 · Oct–Dec 2026`); only the dates for a year or
        quarter of an earlier fiscal calendar."""
        name = periods.name(period, fiscal_start)
        if name is not None and not periods.shows_dates(period, fiscal_start):
            return name
        span = format_interval(period.start, period.end, "yMMM", locale=self.babel)
        span = span.replace("\u2009–\u2009", "–")  # Babel's thin spaces: Oct–Dec 2026
        if name is None:
            return span
        return self.t("period.with_dates", name=name, dates=span)


def to_value(minor_or_count: int, metric: str, currency: str) -> Decimal:
    if metric in MONEY_METRICS:
        return money.from_minor(minor_or_count, currency)
    return Decimal(minor_or_count)
