"""How Pacer writes a value into a CSV cell, and reads it back: one convention for the
export (commands/export.py) and the import that reads Pacer's own files.

- Money is written in the currency's display precision, without symbol or grouping
  (`1234.50` USD, `1235` JPY), the currency code in a column of its own.
- Dates are ISO (`2026-11-25`); times ISO in UTC with a `Z` (`2026-11-25T15:00:00Z`,
  microseconds when there are any, so a time read back is the time written).
- A text cell that a spreadsheet would take for a formula (starting with = + - @) gets a
  leading apostrophe. So that reading undoes it exactly, a cell made of apostrophes then
  one of those characters gets one more apostrophe too; `text_from` takes one off.
  Numbers, dates and codes are never touched.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from domain import money

# Files start with a byte order mark: Excel then reads UTF-8 (names in Chinese, ¥) right;
# Google Sheets, HubSpot and Python's "utf-8-sig" read it too.
ENCODING = "utf-8-sig"
FORMULA_START = re.compile(r"'*[=+\-@]")


def text_cell(value: str | None) -> str:
    """Text as a spreadsheet will show it, never run: `=HYPERLINK(…)` becomes `'=HYPERLINK(…)`."""
    if not value:
        return ""
    return "'" + value if FORMULA_START.match(value) else value


def text_from(cell: str) -> str:
    """The text `text_cell` wrote: one leading apostrophe off a neutralised cell."""
    return cell[1:] if cell.startswith("'") and FORMULA_START.match(cell) else cell


def money_cell(minor: int, currency: str) -> str:
    """Minor units as the currency shows them: 123450 USD -> `1234.50`, 1235 JPY -> `1235`."""
    digits = money.minor_digits(currency)
    if not digits:
        return str(minor)
    # In integers, not Decimal: an export writes this cell for every one of its rows.
    whole, part = divmod(abs(minor), 10**digits)
    return f"{'-' if minor < 0 else ''}{whole}.{part:0{digits}d}"


def money_from(cell: str, currency: str) -> int:
    """The minor units `money_cell` wrote."""
    return money.to_minor(Decimal(cell), currency)


def date_cell(day: date | None) -> str:
    return day.isoformat() if day else ""


def time_cell(at: datetime | None) -> str:
    """An aware time in UTC, ISO with `Z`; a naive one is taken as UTC (as stored)."""
    if at is None:
        return ""
    if at.tzinfo is not UTC:  # stored times come back in UTC already: no conversion
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat().replace("+00:00", "Z")


def time_from(cell: str) -> datetime | None:
    return datetime.fromisoformat(cell) if cell else None
