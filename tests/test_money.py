"""Money: typed amounts to exact Decimals, minor units, display and exact splits."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain import money
from domain.money import AmountError


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("12500", "USD", D("12500")),
        ("12,500", "USD", D("12500")),
        ("12.5k", "USD", D("12500")),  # 12.5 x 1000
        ("12.5K", "USD", D("12500")),
        ("1.2m", "USD", D("1200000")),  # 1.2 x 1000000
        ("$12,500", "USD", D("12500")),
        ("¥8万", "CNY", D("80000")),  # 8 x 10000
        ("¥8万", "JPY", D("80000")),
        ("1.5亿", "CNY", D("150000000")),  # 1.5 x 100000000
        ("12500元", "CNY", D("12500")),
        ("12，500", "CNY", D("12500")),  # a full-width comma
        ("12,500.50", "USD", D("12500.50")),
        ("0.1", "USD", D("0.1")),  # exactly one tenth, not the float 0.1000000000000000055...
        (".5k", "USD", D("500")),
        (" 12500 ", "USD", D("12500")),
        ("9999999999999", "USD", D("9999999999999")),  # just under the 1e13 ceiling
    ],
)
def test_amount_forms_parse_exactly(text: str, currency: str, expected: D) -> None:
    value = money.parse_amount(text, currency)
    assert value == expected
    assert isinstance(value, D)


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("abc", "USD", "amount.invalid"),
        ("", "USD", "amount.invalid"),
        ("12,50", "USD", "amount.invalid"),  # commas must group thousands
        ("1,2345", "USD", "amount.invalid"),
        ("-5", "USD", "amount.negative"),
        ("−5k", "USD", "amount.negative"),  # the typographic minus too
        ("$-12,500", "USD", "amount.negative"),
        ("-$12,500", "USD", "amount.negative"),
        ("-¥8万", "CNY", "amount.negative"),
        ("-", "USD", "amount.invalid"),
        ("1e5", "USD", "amount.invalid"),
        ("12.5x", "USD", "amount.invalid"),
        ("0", "USD", "amount.not_positive"),
        ("0.00", "USD", "amount.not_positive"),
        ("12.345", "USD", "amount.too_precise"),  # cents only
        ("1.5", "JPY", "amount.too_precise"),  # yen has no minor unit
        ("€5", "USD", "amount.wrong_currency"),
        ("¥8万", "USD", "amount.wrong_currency"),
        ("$12,500", "CNY", "amount.wrong_currency"),
        ("12500元", "USD", "amount.wrong_currency"),
        ("10000000000000", "USD", "amount.too_large"),  # 1e13
        ("1000000000000000000000000", "USD", "amount.too_large"),  # 1e24
    ],
)
def test_bad_amounts_name_the_reason(text: str, currency: str, reason: str) -> None:
    with pytest.raises(AmountError) as info:
        money.parse_amount(text, currency)
    assert info.value.reason == reason
    assert info.value.text == text


def test_absurdly_large_amount_is_too_large() -> None:
    # Was decimal.InvalidOperation: quantizing 1e26 to cents needs 29 digits (precision 28).
    with pytest.raises(AmountError) as info:
        money.parse_amount("1" + "0" * 26, "USD")  # 1e26
    assert info.value.reason == "amount.too_large"


def test_minor_digits() -> None:
    assert (money.minor_digits("USD"), money.minor_digits("JPY"), money.minor_digits("CNY")) == (
        2,
        0,
        2,
    )


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("12500.50"), "USD", 1250050),
        (D("0.01"), "USD", 1),
        (D("0.1"), "USD", 10),
        (D("90071992547409.93"), "USD", 9007199254740993),  # 2^53 + 1 cents: not a float
        (D("80000"), "JPY", 80000),
        (D("1"), "JPY", 1),
        (D("80000"), "CNY", 8000000),
        (D("0.07"), "CNY", 7),
    ],
)
def test_minor_units_round_trip(amount: D, currency: str, minor: int) -> None:
    assert money.to_minor(amount, currency) == minor
    assert money.from_minor(minor, currency) == amount


def test_too_many_decimals_for_minor_units() -> None:
    with pytest.raises(ValueError):
        money.to_minor(D("0.5"), "JPY")
    with pytest.raises(ValueError):
        money.to_minor(D("0.005"), "USD")


def test_parsed_amounts_survive_minor_units() -> None:
    for text, currency in [("12,500.99", "USD"), ("¥8万", "CNY"), ("1.2m", "JPY"), ("0.07", "CNY")]:
        value = money.parse_amount(text, currency)
        assert money.from_minor(money.to_minor(value, currency), currency) == value


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "shown"),
    [
        (D("1234567"), "USD", "en", "$1,234,567"),  # whole: no decimals
        (D("1234567.5"), "USD", "en", "$1,234,567.50"),
        (D("0.05"), "USD", "en_US", "$0.05"),
        (D("80000"), "JPY", "en", "¥80,000"),
        (D("80000"), "CNY", "en", "¥80,000"),  # the team's own symbol, not Babel's "CN¥"
        (D("80000"), "CNY", "zh_Hans_CN", "¥80,000"),
        (D("12500.5"), "CNY", "zh_Hans_CN", "¥12,500.50"),
        (D("1234567"), "USD", "zh_Hans_CN", "$1,234,567"),
        (D("1000"), "HKD", "en", "HK$1,000"),
        (D("1234567.5"), "EUR", "en", "€1,234,567.50"),
        (D("1234567"), "USD", "en-US", "$1,234,567"),  # a Slack-style locale
    ],
)
def test_format_with_symbol_and_grouping(amount: D, currency: str, locale: str, shown: str) -> None:
    assert money.fmt(amount, currency, locale) == shown


def test_symbol() -> None:
    assert money.symbol("USD") == "$"
    assert money.symbol("CNY") == "¥"
    assert money.symbol("CNY", "zh_Hans_CN") == "¥"
    assert money.symbol("EUR") == "€"


def test_split_exact_largest_remainder() -> None:
    # 100 / 3 = 33.33 each; the one cent left goes to the first.
    assert money.split_exact(100, [D(1), D(1), D(1)]) == [34, 33, 33]
    # 1,000,000 by Q4 2026 working days 22/21/23 (of 66):
    # 333333.33, 318181.81, 348484.84 -> floors sum to 999998; the two largest
    # remainders (.84, .81) get one each.
    assert money.split_exact(1_000_000, [D(22), D(21), D(23)]) == [333333, 318182, 348485]
    assert money.split_exact(7, [D("0.5"), D("0.5")]) == [4, 3]


def test_split_exact_always_adds_up() -> None:
    weights = [D(3), D(1), D("2.5"), D("0.7"), D(11)]
    for total in (0, 1, 2, 99, 1_000_001, 12_345_678_901):
        parts = money.split_exact(total, weights)
        assert sum(parts) == total
        raw = [D(total) * w / sum(weights) for w in weights]
        assert all(abs(p - r) < 1 for p, r in zip(parts, raw, strict=True))


def test_split_exact_rejects_no_weights() -> None:
    with pytest.raises(ValueError):
        money.split_exact(100, [])
    with pytest.raises(ValueError):
        money.split_exact(100, [D(0), D(0)])
