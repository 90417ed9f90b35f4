"""Message catalogs: en and zh agree, every key the code uses exists, Chinese users read Chinese."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from commands import i18n
from commands.leaderboard import ORDERS
from commands.stats import MONEY_METRICS
from commands.types import Reply
from domain import why as whys
from storage.models import METRICS, ROLES_IN_TEAM, STAGES
from storage.queries.mix import DIMENSIONS

Run = Callable[..., Reply]

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("commands", "domain", "bot")
EN = i18n.catalog("en")
ZH = i18n.catalog("zh")
CATALOGS = {"en": EN, "zh": ZH}

CODE = re.compile(r"`[^`\n]*`")
FIELD = re.compile(r"\{[^{}]*\}")
EMPHASIS = re.compile(r"\*[^*\n]+\*|_[^_\n]+_")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")
# Latin that is fine in Chinese prose: the product, Slack, and format names.
LATIN_OK = {"Pacer", "Slack", "YYYY", "MM", "DD", "HH", "IANA", "ISO"}
# Names of products and file types, written as they are in Chinese too.
LATIN_OK |= {"CRM", "CSV", "HubSpot", "Salesforce"}

# Calls whose first string-like argument is a catalog key.
KEY_CALLS = {"t", "error", "refuse", "UsageError", "AmountError"}
LOGGERS = {"log", "logger", "logging"}
KEY_LIKE = re.compile(r"[a-z_]+(?:\.[a-z0-9_]+)+")
FILE_NAME = re.compile(r".*\.(?:png|csv|py|toml|json|txt|yml|yaml)")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def prose(text: str) -> str:
    """The words a reader reads as sentences: without code spans and {placeholders}."""
    return FIELD.sub(" ", CODE.sub(" ", text))


def latin_words(text: str) -> set[str]:
    return set(LATIN_WORD.findall(prose(text))) - LATIN_OK


# --- the catalogs agree ------------------------------------------------------------------------


def test_en_and_zh_have_the_same_keys() -> None:
    assert sorted(set(EN) - set(ZH)) == [], "missing from zh.toml"
    assert sorted(set(ZH) - set(EN)) == [], "in zh.toml but not in en.toml"


@pytest.mark.parametrize("key", sorted(EN))
def test_each_key_has_the_same_placeholders(key: str) -> None:
    assert placeholders(ZH.get(key, "")) == placeholders(EN[key])


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_every_message_formats_with_its_placeholders(lang: str) -> None:
    locale = "zh-CN" if lang == "zh" else "en-US"
    for key, text in CATALOGS[lang].items():
        names = placeholders(text)
        assert "" not in names, f"{key}: positional {{}} cannot be filled by name"
        if names:
            out = i18n.t(locale, key, **{n: "X" for n in names})
            assert "{" not in out and "}" not in out, key
        else:
            # t() returns these unformatted, so an escaped {{ would show doubled.
            assert "{" not in text and "}" not in text, key


def _commands(text: str) -> set[str]:
    """Slash commands with their sub-command words, e.g. `/pacer setup team add`."""
    found = set()
    for span in CODE.findall(text):
        words = span.strip("`").split()
        if not words or not words[0].startswith("/"):
            continue
        head = [words[0]]
        for word in words[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            head.append(word)
        found.add(" ".join(head))
    return found


def _options(text: str) -> set[str]:
    return {m for span in CODE.findall(text) for m in re.findall(r"(?<![\w:])([a-z]+):", span)}


@pytest.mark.parametrize("key", sorted(EN))
def test_zh_keeps_the_commands_and_options_in_english(key: str) -> None:
    assert _commands(ZH.get(key, "")) == _commands(EN[key])
    assert _options(ZH.get(key, "")) == _options(EN[key])


@pytest.mark.parametrize("key", sorted(EN))
def test_zh_messages_are_translated(key: str) -> None:
    zh = ZH.get(key, "")
    assert latin_words(zh) == set(), f"English left in zh {key}: {zh}"
    if latin_words(EN[key]):
        assert CJK.search(prose(zh)), f"zh {key} reads no Chinese: {zh}"


def _marked_spans(text: str) -> Iterator[tuple[int, int]]:
    """Code spans, then *bold* and _italic_ outside code and {placeholders}."""
    masked = list(text)
    for m in [*CODE.finditer(text), *FIELD.finditer(text)]:
        masked[m.start() : m.end()] = "x" * (m.end() - m.start())
        if m.re is CODE:
            yield m.span()
    for m in EMPHASIS.finditer("".join(masked)):
        yield m.span()


def _boundary_ok(ch: str) -> bool:
    return ch.isspace() or (ch.isascii() and not ch.isalnum())


@pytest.mark.parametrize("lang", sorted(CATALOGS))
def test_slack_markers_sit_at_word_boundaries(lang: str) -> None:
    """Slack ignores * _ ` markers glued to letters, Chinese characters or full-width
    punctuation (`成交*完成率*：` shows the asterisks), so the outside of each needs a
    space, ASCII punctuation or the line's edge."""
    bad = []
    for key, text in CATALOGS[lang].items():
        for start, end in _marked_spans(text):
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not (_boundary_ok(before) and _boundary_ok(after)):
                bad.append(f"{key}: …{text[max(0, start - 3) : end + 3]}…")
    assert bad == []


# --- locales ---------------------------------------------------------------------------------


def test_chinese_locales_read_the_chinese_catalog() -> None:
    assert i18n.t("zh-CN", "pace.behind") == "⚠️ 落后于进度"
    assert i18n.t("zh-CN", "deal.logged", id=7, deal="X") == "✅ 成交 `#7` 已记录：X"
    assert i18n.t("zh-CN", "month.4") == "4月"
    assert i18n.t("zh", "stage.won") == "赢单"


@pytest.mark.parametrize("locale", ["en-US", "en-GB", "fr-FR", "ja-JP", None, ""])
def test_other_locales_read_english(locale: str | None) -> None:
    for key in ("pace.behind", "stage.won", "month.4"):
        assert i18n.t(locale, key) == EN[key] != ZH[key]
    assert i18n.t(locale, "deal.logged", id=7, deal="X") == EN["deal.logged"].format(id=7, deal="X")


# --- every key the code asks for exists --------------------------------------------------------


def _pattern(node: ast.expr) -> str | None:
    """A key expression as text, `{}` for each computed part: f"stage.{s}" -> "stage.{}"."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "{}"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return (_pattern(node.left) or "{}") + (_pattern(node.right) or "{}")
    return None


def _is_key_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in KEY_CALLS
    if isinstance(func, ast.Attribute) and func.attr in KEY_CALLS:
        return not (isinstance(func.value, ast.Name) and func.value.id in LOGGERS)
    return False


def _call_key(node: ast.Call) -> str | None:
    """The key argument: the first positional argument written as a string (the locale
    of t(locale, key) is a name, so it is skipped), or key=..."""
    for arg in node.args:
        if (found := _pattern(arg)) is not None:
            return found
    for kw in node.keywords:
        if kw.arg in ("key", "reason"):
            return _pattern(kw.value)
    return None


def scan(root: Path = ROOT) -> tuple[dict[str, str], dict[str, str]]:
    """(static keys, dynamic key patterns) used in the sources, each with where it is used."""
    sections = {key.split(".")[0] for key in EN}
    static: dict[str, str] = {}
    dynamic: dict[str, str] = {}
    for package in SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            where = str(path.relative_to(root))
            # The literal parts of f"deal.field_{name}" are not keys of their own.
            in_fstrings = {
                id(part)
                for node in ast.walk(tree)
                if isinstance(node, ast.JoinedStr)
                for part in node.values
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _is_key_call(node):
                    key = _call_key(node)
                    if key is None:
                        continue
                    target = dynamic if "{}" in key else static
                    target.setdefault(key, f"{where}:{node.lineno}")
                elif (
                    isinstance(node, ast.Constant)
                    and id(node) not in in_fstrings
                    and isinstance(node.value, str)
                    and KEY_LIKE.fullmatch(node.value)
                    and node.value.split(".")[0] in sections
                    and not FILE_NAME.fullmatch(node.value)
                ):
                    # keys chosen before the call: key = "a.b" if ... else "a.c"
                    static.setdefault(node.value, f"{where}:{node.lineno}")
    return static, dynamic


def expansions() -> dict[str, list[str]]:
    """Every key each f-string key in the code can produce."""
    counted = [m for m in METRICS if m not in MONEY_METRICS]
    return {
        "metric.{}": [f"metric.{m}" for m in METRICS],
        "metric.count.{}_{}": [f"metric.count.{m}_{f}" for m in counted for f in ("one", "other")],
        "stage.{}": [f"stage.{s}" for s in STAGES],
        "chart.{}": [f"chart.{k}" for k in ("actual", "pace", "target", "today")],
        "order.{}": [f"order.{o}" for o in ORDERS],
        "role.{}": [f"role.{r}" for r in ROLES_IN_TEAM],
        "role.{}s": [f"role.{r}s" for r in ROLES_IN_TEAM],
        "month.{}": [f"month.{n}" for n in range(1, 13)],
        "deal.field_{}": [f"deal.field_{n}" for n in ("customer", "product", "region", "note")],
        "import.form.kind_{}": [f"import.form.kind_{k}" for k in ("deals", "goals")],
        "import.form.dates_{}": [f"import.form.dates_{d}" for d in ("us", "eu")],
        "analysis.by_{}": [f"analysis.by_{d}" for d in DIMENSIONS],
        "report.col_{}": [k for k in EN if k.startswith("report.col_")],
        "home.period_{}": [f"home.period_{p}" for p in ("month", "quarter", "year")],
        "bonus.per_{}": [f"bonus.per_{p}" for p in ("month", "quarter", "year")],
        "why.counted_{}": [f"why.counted_{m}" for m in ("new_customers", "collected")],
        "why.bar_{}": ["why.bar_counted"] + [f"why.bar_{r}" for r in whys.REASONS],
        "analysis.mix_no_{}": [f"analysis.mix_no_{d}" for d in DIMENSIONS],
        # bot/console.py says its own messages by name: every key of the [console] table.
        "console.{}": [k for k in EN if k.startswith("console.")],
    }


def test_the_scan_sees_calls_across_lines_assigned_keys_and_fstrings() -> None:
    static, dynamic = scan()
    assert "leaderboard.title" in static  # ctx.t(\n    "leaderboard.title", ...)
    assert "progress.forecast_pipeline" in static  # key = "..." if ... else "..."
    assert "amount.invalid" in static  # AmountError("amount.invalid", text)
    assert "error.bad_stage" in static  # UsageError(...)
    assert "error.unknown_command" in static  # t(req.locale, "...")
    assert {"stage.{}", "role.{}s", "metric.count.{}_{}", "month.{}"} <= set(dynamic)


def test_every_static_key_used_in_code_is_in_en() -> None:
    static, _ = scan()
    missing = {key: where for key, where in static.items() if key not in EN}
    assert missing == {}


def test_every_dynamic_key_used_in_code_is_known_and_in_en() -> None:
    _, dynamic = scan()
    known = expansions()
    unknown = {pattern: where for pattern, where in dynamic.items() if pattern not in known}
    assert unknown == {}, "add the values these f-string keys can take to expansions()"
    missing = [key for pattern in dynamic for key in known[pattern] if key not in EN]
    assert missing == []


# --- what a Chinese user sees --------------------------------------------------------------------


def test_a_bad_amount_is_explained_in_chinese(team: Run) -> None:
    reply = team("UALICE", "/deal", "12.5x 客户", locale="zh-CN")
    assert not reply.ok
    assert reply.text == (
        "无法识别金额“12.5x”。金额可以写成 `12500` / `12,500` / `12.5k` / `8万` / `¥8万` 等。\n"
        "用法： `/deal [AMOUNT CUSTOMER] [product:… region:… date:… note:… customer:… amount:… "
        "stage:… team:…]` · 示例： `/deal 8万 星辰科技 product:CRM`"
    )
    english = team("UALICE", "/deal", "12.5x Acme", locale="en-US")
    assert "12.5x" in english.text and not CJK.search(english.text)


def test_a_deal_progress_and_leaderboard_read_in_chinese(team: Run) -> None:
    # November 2026 has 21 working days; on Wed 25 Nov (New York) 18 have elapsed, 3 remain.
    assert team("UMIA", "/goal", "set <@UALICE|alice> 100000 month").ok
    logged = team("UALICE", "/deal", "8万 星辰科技", locale="zh-CN")
    assert logged.ok
    assert "已记录：*$80,000* — 星辰科技 于 2026-11-25" in logged.text
    # expected 100000 x 18/21 = 85,714; pace 80000/85714 = 93% (>= 90%: on track)
    assert "*2026-11* 已完成 $80,000 / 目标 $100,000（完成率 80%）· 进度 93% ✅ 进度正常" in (
        logged.text
    )
    lines = team("UALICE", "/progress", "", locale="zh-CN").text.splitlines()
    assert lines[1:6] == [
        "已完成 $80,000 / 目标 $100,000 — 完成率 *80%*",
        "对比 2026-10 同期为新增（其前 18 个工作日为零）",
        "对比 2025-11 同期为新增（其前 18 个工作日为零）",
        "截至今天应完成 $85,714.29 · 进度 *93%* ✅ 进度正常 · 低于应完成 $5,714.29",
        # (100000 - 80000) / 3 = 6,666.67, half up to cents
        "剩余 3 个工作日，还差 $20,000，日均需完成 *$6,666.67*",
    ]
    board = team("UBOB", "/leaderboard", "", locale="zh-CN").text
    assert board.startswith("🏆 *East · 2026-11 · 按完成率*")
    assert "_时间进度 86%_" in board  # 18/21 = 85.7%


def test_pacer_help_in_chinese_has_no_english_sentences(team: Run) -> None:
    zh = team("UALICE", "/pacer", "help", locale="zh-CN").text
    en = team("UALICE", "/pacer", "help", locale="en-US").text
    assert "排行榜" in zh and "管理员命令" in zh
    assert set(LATIN_WORD.findall(prose(zh))) <= {"Pacer", "Slack"}
    assert _commands(zh) == _commands(en)
