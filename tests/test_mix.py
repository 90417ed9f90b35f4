"""/pacer mix: a period's won revenue by product, region or customer, by hand."""

from __future__ import annotations

from charts import draw
from charts.specs import MixChart
from commands.i18n import t
from tests.conftest import Run


def en(key: str, **values: object) -> str:
    return t("en", key, **values)


PRODUCTS = [
    ("3,000", "CRM"),
    ("2,000", "CRM"),
    ("4,000", "Cloud"),
    ("1,000", "A"),
    ("900", "B"),
    ("800", "C"),
    ("700", "D"),
    ("600", "E"),
    ("500", "F"),
    ("400", "G"),
    ("100", "H"),
]


def november(team: Run) -> None:
    for amount, product in PRODUCTS:
        assert team("UALICE", "/deal", f"{amount} Acme product:{product} date:2026-11-10").ok
    assert team("UBOB", "/deal", "300 Beta date:2026-11-12").ok  # no product
    assert team("UBOB", "/deal", "9,999 Beta product:CRM stage:lost close:2026-11-12").ok
    assert team("UBOB", "/deal", "8,888 Beta product:CRM date:2026-10-30").ok  # October
    gone = team("UBOB", "/deal", "7,777 Beta product:CRM date:2026-11-02")
    number = gone.text.split("#")[1].split("`")[0]
    assert team("UBOB", "/deal", f"delete {number}").ok


def line(rank: int, name: str, amount: str, share: str, deals: str) -> str:
    return en("analysis.mix_line", rank=rank, name=name, amount=amount, share=share, deals=deals)


def test_the_eight_largest_then_the_rest_as_other(team: Run) -> None:
    november(team)
    reply = team("UMIA", "/pacer", "mix team East 2026-11 by product")
    # 11 parts, $14,300 in 12 deals. The eight largest come to $13,500; the rest (G, the
    # deal without a product, H) $800 in 3 deals. Shares of 14,300, half up.
    assert reply.text.splitlines() == [
        en("analysis.mix_title", by="product", who="East", period="2026-11"),
        en("analysis.mix_total", total="$14,300", deals="12 deals"),
        line(1, "CRM", "$5,000", "35%", "2 deals"),
        line(2, "Cloud", "$4,000", "28%", "1 deal"),
        line(3, "A", "$1,000", "7%", "1 deal"),
        line(4, "B", "$900", "6%", "1 deal"),
        line(5, "C", "$800", "6%", "1 deal"),
        line(6, "D", "$700", "5%", "1 deal"),
        line(7, "E", "$600", "4%", "1 deal"),
        line(8, "F", "$500", "3%", "1 deal"),
        line(9, en("analysis.mix_other", count=3), "$800", "6%", "3 deals"),
    ]
    chart = reply.chart
    assert isinstance(chart, MixChart)
    assert chart.values == [5000.0, 4000.0, 1000.0, 900.0, 800.0, 700.0, 600.0, 500.0, 800.0]
    assert chart.notes[0] == "$5k · 35%"
    assert draw.render(chart).startswith(b"\x89PNG")


def test_by_product_is_the_default_and_a_part_without_one_is_named(team: Run) -> None:
    assert team("UALICE", "/deal", "2,000 Acme product:CRM").ok
    assert team("UALICE", "/deal", "1,000 Acme").ok
    assert team("UBOB", "/deal", "5,000 Beta product:CRM").ok
    assert team("UALICE", "/pacer", "mix").text.splitlines()[2:] == [
        line(1, "CRM", "$2,000", "67%", "1 deal"),
        line(2, en("analysis.mix_no_product"), "$1,000", "33%", "1 deal"),
    ]


def test_a_customer_is_one_however_it_is_capitalised(team: Run) -> None:
    assert team("UALICE", "/deal", "2,000 Acme").ok
    assert team("UBOB", "/deal", "1,000 ACME").ok
    assert team("UBOB", "/deal", "4,000 Globex").ok
    assert team("UMIA", "/pacer", "mix team East by customer").text.splitlines()[1:] == [
        en("analysis.mix_total", total="$7,000", deals="3 deals"),
        line(1, "Globex", "$4,000", "57%", "1 deal"),
        line(2, "ACME", "$3,000", "43%", "2 deals"),
    ]


def test_nothing_won_says_so(team: Run) -> None:
    reply = team("UALICE", "/pacer", "mix 2026-10 by region")
    assert reply.text.splitlines()[1] == en("analysis.mix_empty")
    assert reply.chart is None


def test_an_unknown_breakdown_is_refused(team: Run) -> None:
    reply = team("UALICE", "/pacer", "mix by colour")
    assert not reply.ok
    assert "colour" in reply.text and "product, region, customer" in reply.text


def test_a_name_is_escaped_in_the_message_and_drawn_as_typed(team: Run) -> None:
    assert team("UALICE", "/deal", "2,000 Acme product:<!channel>&Co").ok
    reply = team("UALICE", "/pacer", "mix")
    assert line(1, "&lt;!channel&gt;&amp;Co", "$2,000", "100%", "1 deal") in reply.text
    assert isinstance(reply.chart, MixChart) and reply.chart.names == ["<!channel>&Co"]
