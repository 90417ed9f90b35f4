"""One formatter for every reader: commands and scheduled jobs write numbers alike."""

from __future__ import annotations

from decimal import Decimal

from commands.formatter import Formatter


def test_counts_take_the_plural_form_of_the_readers_language() -> None:
    en, zh = Formatter("en-US"), Formatter("zh-CN")
    assert [en.count("deals", n) for n in (0, 1, 2, 1250)] == [
        "0 deals",
        "1 deal",
        "2 deals",
        "1,250 deals",
    ]
    # An average count keeps one decimal (half up); a whole one has none.
    assert en.count("new_customers", Decimal("0.6")) == "0.6 new customers"
    assert en.count("deals", Decimal("10.2857")) == "10.3 deals"
    assert en.count("deals", Decimal("0.96")) == "1 deal"  # 1.0 reads as one
    assert en.count("deals", Decimal("2.25")) == "2.3 deals"  # half up, not to even
    # What is still needed rounds up: 0.2 of a deal a day is one more deal a day.
    assert en.needed(Decimal("0.2"), "deals", "USD") == "1 deal"
    assert en.needed(Decimal("7") / 3, "deals", "USD") == "3 deals"
    assert en.needed(Decimal("-2"), "deals", "USD") == "0 deals"  # never negative
    # Chinese has one form for every number (Babel's rules): the catalog's _other.
    assert [zh.count("deals", n) for n in (1, 2)] == ["1 单", "2 单"]
    assert zh.money(1_250_050, "CNY") == "¥12,500.50"


def test_money_metrics_read_as_money_and_the_rest_as_counts() -> None:
    out = Formatter("en")
    assert out.stored(1_250_050, "revenue", "USD") == "$12,500.50"
    assert out.stored(1_250_050, "collected", "USD") == "$12,500.50"  # money, like revenue
    assert out.stored(3, "deals", "USD") == "3 deals"
    # Money rounds half up to the currency's precision: cents for USD, whole yen.
    assert out.value(Decimal("12499.5"), "revenue", "USD") == "$12,499.50"
    assert out.amount(Decimal("0.125"), "USD") == "$0.13"  # Babel alone rounds to even: 0.12
    assert out.amount(Decimal("31666.666"), "USD") == "$31,666.67"
    assert out.amount(Decimal("2.5"), "JPY") == "¥3"
    assert out.money(800_000, "JPY") == "¥800,000"  # no minor units in yen


def test_percentages_never_round_a_shortfall_up_to_100() -> None:
    out = Formatter("en")
    assert [out.pct(Decimal(x)) for x in ("0.994", "0.996", "1", "1.004", "12.3456")] == [
        "99%",
        "99%",
        "100%",
        "100%",
        "1,235%",
    ]
    assert out.pct(None) == "—"


def test_period_titles_carry_dates_where_the_name_alone_is_ambiguous() -> None:
    from domain import periods

    en, zh = Formatter("en"), Formatter("zh-CN")
    fiscal_q = periods.quarter(2026, 3, 4)  # April start: Oct-Dec 2026
    assert en.period(fiscal_q, 4) == "FY2026-Q3 · Oct–Dec 2026"
    assert zh.period(fiscal_q, 4) == "FY2026-Q3 · 2026年10月–12月"
    assert en.period(periods.year(2026, 4), 4) == "FY2026 · Apr 2026–Mar 2027"
    # A calendar quarter kept from before the change is renamed by its dates: Jul-Sep 2026
    # is the second quarter of FY2026.
    assert en.period(periods.quarter(2026, 3), 4) == "FY2026-Q2 · Jul–Sep 2026"
    assert en.period(periods.quarter(2026, 3), 1) == "2026-Q3"
    # A quarter no period of the calendar matches goes by its dates alone.
    assert en.period(periods.quarter(2026, 1, 2), 1) == "Feb–Apr 2026"
    assert en.period(periods.month(2026, 10), 4) == "2026-10"
