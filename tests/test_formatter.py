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
    assert en.count("new_customers", Decimal("0.6")) == "1 new customer"  # rounded first
    # Chinese has one form for every number (Babel's rules): the catalog's _other.
    assert [zh.count("deals", n) for n in (1, 2)] == ["1 单", "2 单"]
    assert zh.money(1_250_050, "CNY") == "¥12,500.50"


def test_money_metrics_read_as_money_and_the_rest_as_counts() -> None:
    out = Formatter("en")
    assert out.stored(1_250_050, "revenue", "USD") == "$12,500.50"
    assert out.stored(1_250_050, "collected", "USD") == "$12,500.50"  # money, like revenue
    assert out.stored(3, "deals", "USD") == "3 deals"
    assert out.value(Decimal("12499.5"), "revenue", "USD", whole=True) == "$12,500"
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
