"""Property-based tests of the parsers of typed values (Hypothesis): whatever is typed
either parses to a value that formats back to itself, or is refused with a reason the
catalogs say in English and Chinese; never another exception. Then the same through the
router and the console: no input ends in "Something went wrong"."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.console import run as console_run
from bot.settings import Settings
from commands.args import looks_like_amount
from commands.i18n import catalog, t
from commands.parsing import Options, UsageError, parse_date, split_options
from commands.registry import COMMANDS
from domain import money, periods
from domain.money import AmountError
from domain.periods import PeriodError, PeriodKind
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.conftest import NOW, Run

EN, ZH = catalog("en"), catalog("zh")
CURRENCIES = ("USD", "CNY", "JPY", "EUR", "GBP")
PROPERTY = settings(max_examples=300, deadline=None)


def in_both_catalogs(key: str) -> bool:
    return key in EN and key in ZH


# --- amounts ---------------------------------------------------------------------------------

AMOUNTISH = st.text(alphabet="0123456789,.-−+ $¥€£kKmMbw万亿千元块rmbus", max_size=14)


@PROPERTY
@given(text=st.one_of(st.text(max_size=20), AMOUNTISH), currency=st.sampled_from(CURRENCIES))
@example(text="-100", currency="USD")
@example(text="1e5", currency="USD")
@example(text="NaN", currency="USD")
def test_any_text_is_an_amount_that_formats_back_or_a_reason(text: str, currency: str) -> None:
    try:
        value = money.parse_amount(text, currency)
    except AmountError as err:
        assert in_both_catalogs(err.reason), err.reason
        assert err.text == text
        return
    assert value > 0
    for locale in ("en", "zh"):
        assert money.parse_amount(money.fmt(value, currency, locale), currency) == value


@PROPERTY
@given(text=AMOUNTISH.map(lambda s: s.replace(" ", "")), currency=st.sampled_from(CURRENCIES))
@example(text="-rmb5", currency="CNY")
def test_a_word_read_or_refused_as_an_amount_looks_like_one(text: str, currency: str) -> None:
    """So `/deal edit ID WORD` never saves an amount, or a negative one, as the customer."""
    try:
        money.parse_amount(text, currency)
    except AmountError as err:
        if err.reason in ("amount.invalid",):
            return
    assert looks_like_amount(text), text


@st.composite
def amounts(draw: st.DrawFn) -> tuple[Decimal, str]:
    currency = draw(st.sampled_from(CURRENCIES))
    digits = money.minor_digits(currency)
    minor = draw(st.integers(min_value=1, max_value=10 ** (13 + digits) - 1))
    return money.from_minor(minor, currency), currency


@PROPERTY
@given(amounts())
def test_every_amount_reads_back_from_how_it_is_shown(found: tuple[Decimal, str]) -> None:
    value, currency = found
    for locale in ("en", "zh"):
        assert money.parse_amount(money.fmt(value, currency, locale), currency) == value
    with pytest.raises(AmountError) as err:
        money.parse_amount(f"-{value}", currency)
    assert err.value.reason == "amount.negative"


# --- periods ---------------------------------------------------------------------------------

RELATIVE = st.tuples(
    st.sampled_from(["last", "Previous", "prev", "this", "next", "上个", "本", "下", "去"]),
    st.sampled_from(["", " ", "-", "_", "  "]),
    st.sampled_from(["week", "month", "Quarter", "year", "月", "季度", "周", "年"]),
).map("".join)
PERIODISH = st.one_of(
    st.text(max_size=16), st.from_regex(r"\A[0-9]{1,5}(-?[qQwW]?[0-9]{1,3})?\Z"), RELATIVE
)


DAYS = st.dates(min_value=date(1901, 1, 1), max_value=date(2998, 12, 31))
FISCAL = st.integers(min_value=1, max_value=12)
# Days whose neighbouring fiscal years are still within periods.FIRST_YEAR..LAST_YEAR.
INNER_DAYS = st.dates(min_value=date(1902, 1, 1), max_value=date(2997, 12, 31))


@PROPERTY
@given(text=PERIODISH, today=DAYS, fiscal_start=FISCAL)
def test_any_text_is_a_period_that_formats_back_or_a_period_error(
    text: str, today: date, fiscal_start: int
) -> None:
    try:
        found = periods.parse(text, today, fiscal_start)
    except PeriodError:
        assert in_both_catalogs("error.bad_period")
        return
    assert found.start <= found.end
    # Its label, the form stored and shown, reads back to the same period on any day.
    assert periods.parse(found.label, today + timedelta(days=400), fiscal_start) == found


@PROPERTY
@given(today=INNER_DAYS, fiscal_start=FISCAL, kind=st.sampled_from(list(PeriodKind)))
def test_last_and_next_are_the_neighbours_of_the_current_period(
    today: date, fiscal_start: int, kind: PeriodKind
) -> None:
    now = periods.current(kind, today, fiscal_start)
    last = periods.parse(f"last {kind.value}", today, fiscal_start)
    following = periods.parse(f"next{kind.value}", today, fiscal_start)
    assert last.end + timedelta(days=1) == now.start
    assert now.end + timedelta(days=1) == following.start
    assert periods.parse(last.label, today, fiscal_start) == last


# --- dates ---------------------------------------------------------------------------------

DATEISH = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[0-9]{1,4}([-/.年][0-9]{1,2}){1,2}[日]?\Z"),
    st.sampled_from(["today", "昨天", "0001-01-01", "9999-12-31", "2026-02-29", "2028-02-29"]),
)


@PROPERTY
@given(text=DATEISH, today=DAYS)
def test_any_text_is_a_date_that_formats_back_or_a_bad_date(text: str, today: date) -> None:
    try:
        day = parse_date(text, today)
    except UsageError as err:
        assert err.key == "error.bad_date" and in_both_catalogs(err.key)
        return
    assert periods.FIRST_YEAR <= day.year <= periods.LAST_YEAR
    assert parse_date(day.isoformat(), today) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日", today) == day


# --- key:value options -----------------------------------------------------------------------

KNOWN = {"product", "region", "date", "note", "customer", "amount", "stage"}
WORDS = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        [
            "note:x",
            "stage:won",
            "close:2026-01-01",
            "客户：阿里",
            "https://x.example/a",
            "re:",
            "09:30",
            "foo:bar",
            "NOTE:Y",
            "：",
            "a:",
        ]
    ),
)


def formatted(opts: Options) -> str:
    return " ".join([*opts.words, *(f"{k}:{v}" for k, v in opts.keys.items())])


@PROPERTY
@given(st.lists(WORDS, max_size=8).map(" ".join))
@example("12,500 Acme stage:proposal close:2026-12-20")
@example("note:see https://x re: pricing")
def test_options_format_back_to_themselves_or_name_the_unknown_key(text: str) -> None:
    try:
        opts = split_options(text, KNOWN)
    except UsageError as err:
        assert err.key == "grammar.unknown_option" and in_both_catalogs(err.key)
        return
    assert set(opts.keys) <= KNOWN
    assert split_options(formatted(opts), KNOWN) == opts
    # A value ends where the next key begins: no later word of it opens an option.
    for value in opts.keys.values():
        for word in value.split()[1:]:
            assert split_options(word, KNOWN).words == [word]


# --- through the router and the console ------------------------------------------------------

TOKENS = [
    "-100",
    "8",
    "万",
    "k",
    "12,500",
    "1e5",
    "2026-Q4",
    "9999-W53",
    "0001-01-01",
    "last",
    "month",
    "lastmonth",
    "上个月",
    "stage:won",
    "stage:赢单",
    "close:2019-01-01",
    "date:9999-12-31",
    "note:",
    "https://x",
    "re:",
    "<@UBOB|bob>",
    "<@UALICE|alice>",
    "<#CEAST|sales-east>",
    "team",
    "East",
    "workspace",
    "by",
    "revenue",
    "deals",
    "to",
    "1",
    "#1",
    "²",
    "reason:x",
    "propose:-5",
    "amount:1e5",
    "customer:",
    "as:manager",
    "tz:Mars/Base",
    "hour:25:00",
    "weights:1,1",
    "months",
    "help",
]
TYPED = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)), max_size=6).map(" ".join)
PATHS = [c.path for c in COMMANDS]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path=st.sampled_from(PATHS),
    text=TYPED,
    user=st.sampled_from(["UALICE", "UMIA", "UADMIN"]),
    locale=st.sampled_from(["en-US", "zh-CN"]),
)
def test_no_typed_command_ends_in_an_internal_error(
    team: Run, path: str, text: str, user: str, locale: str
) -> None:
    command, _, sub = path.partition(" ")
    reply = team(user, command, f"{sub} {text}".strip(), locale=locale)
    assert reply.text != t(locale, "error.internal"), (path, text)
    # A usage line never stands alone: the problem is said first.
    usage = t(locale, "help.usage", usage="", example="").split("`")[0]
    lines = reply.text.splitlines()
    assert not lines or not lines[0].startswith(usage), reply.text


@pytest.fixture
def console_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


SETUP = [
    "/pacer setup team create East #sales-east tz:America/New_York",
    "/pacer setup team add East @alice @bob",
    "/deal 12,500 Acme",
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(PATHS), TYPED).map(lambda p: f"{p[0]} {p[1]}"), max_size=5
    )
)
def test_no_line_typed_in_the_console_ends_in_a_failure(console_db: str, lines: list[str]) -> None:
    out = io.StringIO()
    engine = make_engine(console_db)
    script = "\n".join([*SETUP, *(line.replace("\n", " ") for line in lines)]) + "\n"
    try:
        code = console_run(
            Settings(database_url=console_db),
            engine,
            stdin=io.StringIO(script),
            stdout=out,
            now=lambda: NOW,
        )
    finally:
        engine.dispose()
    assert code == 0
    assert "Something went wrong" not in out.getvalue(), out.getvalue()
