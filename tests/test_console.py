"""The local console, driven as a user drives it: lines in, printed text and PNG files out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import completion, console, console_forms, terminal
from bot.console import Person, escape, resolve, run
from bot.settings import Settings
from bot.terminal import channel_name
from commands import markup
from commands.types import Field, Form, FormResult, Reply
from storage.engine import make_engine
from storage.migrate import upgrade

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # Wednesday; 10:00 in New York
PNG = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parents[1]

SETUP = """\
/pacer setup team create East #sales-east tz:America/New_York currency:USD
/pacer setup team add East @alice @bob
/pacer setup team add East @mia as:manager
/goal set @alice 80000 month
/goal set @bob 50000 month
"""

Console = Callable[..., str]
NO_BUTTONS = "No buttons to press: the last reply or message shown to you has none."
FORM_HINT = (
    "(Enter keeps the value in [brackets], `-` empties an optional field; `Ctrl-C` cancels.)"
)


@pytest.fixture
def charts_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "charts"
    monkeypatch.setenv("PACER_CHART_DIR", str(directory))
    return directory


@pytest.fixture
def session_of(tmp_path: Path, charts_dir: Path) -> Console:
    """Run a console session on one SQLite file; later calls reopen the same database."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()

    def _session(script: str, *, demo: bool = False) -> str:
        eng = make_engine(url)
        out = io.StringIO()
        try:
            code = run(
                Settings(database_url=url),
                eng,
                demo=demo,
                stdin=io.StringIO(script),
                stdout=out,
                now=lambda: NOW,
            )
        finally:
            eng.dispose()
        assert code == 0
        return out.getvalue()

    return _session


def chart_paths(output: str) -> list[Path]:
    return [Path(p) for p in re.findall(r"^Chart: (.+\.png)$", output, re.MULTILINE)]


def test_a_whole_session_from_setup_to_leaderboard(
    session_of: Console, charts_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = session_of(
        SETUP
        + """\
/pacer setup show
as @alice
/deal 12,500 Acme Corp
/deal 12.5x Foo
as @bob
/deal 30k Globex
/progress
/leaderboard
quit
/deal 99 After Quit
"""
    )
    # Typed @names and #channels reached the handlers as Slack mentions and print back as names.
    assert "channel #sales-east, time zone America/New_York, currency USD" in out
    assert "Added alice, bob to East as rep." in out
    assert "Added mia to East as manager." in out
    assert "    Managers: mia\n    Reps: alice, bob" in out
    assert "🎯 Goal `#1` set: alice, $80,000 for 2026-11." in out
    # The prompt shows who is acting; the deal reply shows the amount and the new standing:
    # 12,500 / 80,000 = 16%; expected 80,000 x 18/21 working days = 68,571, pace 18%.
    assert "alice> /deal 12,500 Acme Corp\n✅ Logged deal `#1`: *$12,500* — Acme Corp" in out
    assert "*2026-11*: $12,500 of $80,000 (16%) · pace 18% ⚠️ behind pace" in out
    assert "pace 18% ⚠️ behind pace\n[1 Delete]\n" in out
    assert "I couldn't read “12.5x” as an amount." in out
    # bob: 30,000 of 50,000 = 60%; expected 42,857.14, pace 70%; (50,000 - 30,000) / 3 days.
    assert "bob> /progress\n*bob · 2026-11* (revenue)\n$30,000 of $50,000 — *60%* attained" in out
    assert (
        "Expected to date $42,857.14 · pace *70%* ⚠️ behind pace · $12,857.14 short of expected"
        in out
    )
    assert "Needs *$6,666.67* per working day for the 3 working days left ($20,000 to go)." in out
    assert "🏆 *East · 2026-11 · by attainment*" in out
    assert "🥇 *bob* 60% — $30,000 of $50,000 · 1 deal" in out
    assert "🥈 *alice* 16% — $12,500 of $80,000 · 1 deal" in out
    assert "_Expected to date: 86% of target._" in out
    progress_png, leaderboard_png = chart_paths(out)
    assert progress_png.parent == charts_dir.resolve()
    assert progress_png.name.startswith("progress-20261125-150000")
    assert leaderboard_png.name.startswith("leaderboard-20261125-150000")
    for path in (progress_png, leaderboard_png):
        assert path.read_bytes().startswith(PNG)
    # quit stops reading: the line after it never ran.
    assert "After Quit" not in out
    assert out.endswith("bob> quit\nBye.\n")
    assert "Traceback" not in out + capsys.readouterr().err


def test_as_switches_who_acts_and_what_they_may_do(session_of: Console) -> None:
    out = session_of(
        SETUP
        + """\
as @bob
/pacer setup team create West
/goal set @alice 1 month
as @admin
/pacer setup team create West
"""
    )
    assert "You are now bob (rep in East)." in out
    assert "bob> /pacer setup team create West\nOnly Pacer admins can change the setup." in out
    assert "Only managers of East and admins can do that. Nothing was changed." in out
    assert "You are now admin (admin)." in out
    assert "admin> /pacer setup team create West\nTeam created:" in out


def test_buttons_print_numbered_and_a_press_runs_them(session_of: Console) -> None:
    out = session_of(
        SETUP
        + """\
as @alice
/deal 1,200 Initech
as @bob
press 1
as @alice
press delete
press 2
undo
press 1
"""
    )
    assert "behind pace\n[1 Delete]\n\nalice> as @bob" in out
    # Each user presses the buttons shown to them: bob has none, alice finds hers waiting.
    assert f"bob> press 1\n{NO_BUTTONS}" in out
    assert "You are now alice (rep in East).\nYour buttons: [1 Delete]" in out
    # By label (case aside), by number, and the label alone.
    assert (
        "alice> press delete\n🗑️ Deleted deal `#1`: *$1,200* — Initech on 2026-11-25\n[1 Undo]"
        in out
    )
    assert "alice> press 2\nNo button “2” here. On show: [1 Undo]" in out
    assert "alice> undo\n↩️ Restored deal `#1`" in out
    # The restore reply has no buttons: the Undo is gone with the message it was under.
    assert out.endswith(f"alice> press 1\n{NO_BUTTONS}\n\nBye.\n")


def test_a_form_asks_each_field_and_asks_again_what_was_wrong(session_of: Console) -> None:
    out = session_of(
        SETUP
        + """\
as @alice
/deal
12.5x
Acme Corp

CRM


12,500
/deal list
"""
    )
    assert f"alice> /deal\n📋 Log a deal\n{FORM_HINT}" in out
    # Each field prompts with its label; the date offers today; optional ones say so.
    assert "  Amount (USD): 12.5x\n  Customer: Acme Corp\n  Close date [2026-11-25]: \n" in out
    assert "  Product (optional): CRM\n  Region (optional): \n  Note (optional): \n" in out
    # The amount did not read: only it is asked again, with what was typed as the default.
    assert "⚠️ Amount (USD): I couldn't read “12.5x” as an amount." in out
    assert "  Amount (USD) [12.5x]: 12,500\n✅ Logged deal `#1`: *$12,500* — Acme Corp (CRM)" in out
    assert (
        "alice> /deal list\n*Your latest deals*\n`#1` *$12,500* — Acme Corp (CRM) on 2026-11-25"
        in out
    )


def test_data_and_names_persist_between_sessions(session_of: Console) -> None:
    session_of(SETUP + "as @alice\n/deal 20,000 Acme Corp\n")
    out = session_of("/progress @Alice\n")
    # The same made-up id for "alice" and "Alice": the second session finds her goal and deal.
    assert "*alice · 2026-11* (revenue)\n$20,000 of $80,000 — *25%* attained" in out


def test_console_commands_and_end_of_input(session_of: Console) -> None:
    out = session_of("help\nfrobnicate now\nas\nlang fr\n")
    assert "`as @name`      act as someone else" in out
    assert "`press 2`, `press accept` or the label alone (`accept`) presses one" in out
    assert "“frobnicate” is not a console command." in out
    assert "Say who to be, e.g. `as @bob`." in out
    assert "Use `lang en` or `lang zh`." in out
    assert out.endswith("Bye.\n")  # end of input leaves like quit


@pytest.mark.skipif(
    not (ROOT / "commands" / "locales" / "zh.toml").exists(), reason="no Chinese catalog yet"
)
def test_lang_zh_switches_replies_and_console_text(session_of: Console) -> None:
    out = session_of("lang zh\n/pacer help\nlang en\n/pacer help\n")
    assert "回复已切换为中文。" in out
    assert "*Pacer* 在 Slack 里跟踪你的销售目标。" in out
    assert "*Pacer* tracks your sales goals in Slack." in out


def test_a_failure_prints_one_line_and_the_console_goes_on(
    session_of: Console, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(console, "dispatch", broken)
    out = session_of("/progress\nhelp\n")
    assert "Something went wrong and nothing was saved (RuntimeError). Please try again." in out
    assert "Console commands:" in out
    assert "Traceback" not in out + capsys.readouterr().err


def test_demo_in_the_console(session_of: Console) -> None:
    out = session_of("/leaderboard\nas @王芳\n/progress\n/leaderboard team East\n", demo=True)
    assert "Demo workspace TDEMO filled:" in out
    assert "You are now Alice Johnson, a rep." in out
    assert "Alice Johnson> /leaderboard\n🏆 *East · 2026-11 · by attainment*" in out
    assert "You are now 王芳 (rep in 华东)." in out
    assert "王芳> /progress\n*王芳 · 2026-11* (revenue)" in out
    paths = chart_paths(out)
    assert len(paths) == 3
    assert all(p.read_bytes().startswith(PNG) for p in paths)
    assert len(set(paths)) == 3  # same second, three files
    again = session_of("demo\n")
    assert "Demo workspace TDEMO (already filled):" in again


def test_typed_mentions_become_slack_mentions() -> None:
    people = [Person("UCONSOLE", "admin"), Person("UDEMO01", "Alice Johnson"), Person("U9", "王芳")]
    text = "@Alice Johnson @alice @王芳, @newbie. bob@acme.com <@U7|x> #sales-east #42"
    assert escape(text, people) == (
        f"<@UDEMO01> <@UDEMO01|alice> <@U9|王芳>, <@{console.made_up_id('newbie')}|newbie>. "
        f"bob@acme.com <@U7|x> <#{console.channel_id('sales-east')}|sales-east> #42"
    )
    assert resolve("NEWBIE", people).user_id == console.made_up_id("newbie")
    assert re.fullmatch(r"U[0-9A-F]{10}", console.made_up_id("newbie"))


def test_replies_print_mentions_and_channels_by_name() -> None:
    cid = console.channel_id("华东销售")
    text = f"<@UDEMO01> <@U2|bob> <@U3> in <#{cid}> and <#CDEMOEAST> <!here> <https://x.io|site>"
    assert markup.to_plain(text, {"UDEMO01": "Alice Johnson"}, channel_name) == (
        "@Alice Johnson @bob @U3 in #华东销售 and #sales-east @here site (https://x.io)"
    )


def test_python_m_bot_console_without_slack_settings(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "PACER_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'pacer.db'}",
        PACER_CHART_DIR=str(tmp_path / "charts"),
        PYTHONPATH=str(ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input="/pacer help\ndemo\n/leaderboard\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,  # no .env here
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "*Pacer* tracks your sales goals in Slack." in result.stdout
    assert "🏆 *East · " in result.stdout
    (path,) = chart_paths(result.stdout)
    assert path.read_bytes().startswith(PNG)
    assert "Traceback" not in result.stderr


# --- the feedback loop, finished in the console --------------------------------------------------

FEEDBACK = (
    SETUP
    + """\
/pacer setup team add East @max as:manager
as @alice
/goal feedback 1 Two of my accounts moved to Bob propose:60000
"""
)


def test_a_manager_answers_feedback_with_a_button_and_its_form(session_of: Console) -> None:
    out = session_of(
        FEEDBACK
        + """\
as @mia
press 2
sixty
Accounts moved to Bob
50k
as @max
press 1
as @alice
/goal
"""
    )
    # Each manager gets the DM with its three buttons, numbered.
    dm = "→ DM to @mia: 📝 *Feedback `#1`* from @alice on goal `#1` (2026-11, revenue)"
    assert dm in out
    assert out.count("  [1 Accept] [2 Adjust] [3 Decline]\n") == 2
    assert (
        "You are now mia (manager in East).\nYour buttons: [1 Accept] [2 Adjust] [3 Decline]" in out
    )
    # Adjust opens its form: the title, the feedback it answers, each field with its default.
    assert "mia> press 2\n📋 Adjust the target\n📝 *Feedback `#1`* from @alice" in out
    assert (
        "  New target [60000]: sixty\n  Note to the rep (optional): Accounts moved to Bob\n" in out
    )
    # The handler refused the amount: the error, then only that field again.
    assert "⚠️ New target: I couldn't read “sixty” as an amount." in out
    assert "  New target [sixty]: 50k\n✏️" in out
    # Settled: mia reads it, alice is told, and both managers' DMs now say who answered.
    settled = (
        "✏️ Feedback `#1` from @alice on goal `#1`: adjusted by @mia. Target $80,000 → $50,000."
    )
    assert f"  New target [sixty]: 50k\n{settled} Note: Accounts moved to Bob\n" in out
    told = "→ DM to @alice: ✏️ @mia answered your feedback `#1`: goal `#1` is now $50,000"
    assert told in out
    assert f"→ updated in the DM to @max: {settled}" in out
    assert f"→ updated in the DM to @mia: {settled}" in out
    # max's DM lost its buttons with the update: there is nothing left for him to press.
    assert "max> press 1\nNo buttons to press" in out
    assert "alice> /goal\n*Your goals*\n`#1` *2026-11* revenue: $0 of $50,000 (0%)" in out


def test_accept_by_label_and_decline_with_its_reason(session_of: Console) -> None:
    out = session_of(
        FEEDBACK
        + """\
as @max
press Accept
as @alice
/goal feedback 1 Still too high propose:40000
as @mia
decline

Budget is set for the year
"""
    )
    assert "max> press Accept\n✅ Feedback `#1` from @alice on goal `#1`: accepted by @max." in out
    assert "→ DM to @alice: ✅ @max accepted your feedback `#1`: goal `#1` is now $60,000" in out
    # Decline typed as the label alone; its reason is required: asked until given.
    assert "mia> decline\n📋 Decline feedback\n" in out
    assert "  Reason: \nThis field is required.\n  Reason: Budget is set for the year\n" in out
    assert "→ DM to @alice: ❌ @mia declined your feedback `#2`: goal `#1` stays $60,000." in out


def test_feedback_on_this_target_picks_the_goal_from_numbered_options(
    session_of: Console,
) -> None:
    out = session_of(
        SETUP
        + """\
/goal set @alice 200000 quarter
as @alice
/progress
press feedback on this target
3
2
Too high for a short quarter
ninety
-
"""
    )
    # The month's goal leads; the quarter's follows on one line, then the button.
    assert "Goal `#1`\nAlso *" in out
    assert "· goal `#3`\n[1 Feedback on this target]\n" in out
    # The goal under /progress is the default; the options are numbered, ids stay hidden.
    options = "    1. #1 2026-11 revenue: $80,000\n    2. #3 2026-Q4 revenue: $200,000\n"
    assert f"📋 Feedback on a target\n{FORM_HINT}\n{options}" in out
    assert "  Goal [#1 2026-11 revenue: $80,000]: 3\nPick a number from 1 to 2.\n" in out
    # The hint comes before its field; `-` empties an optional field that did not read.
    assert "  (An amount such as 90000 or 90k, or a number of deals.)\n" in out
    assert "⚠️ Proposed target (optional): I couldn't read “ninety” as an amount." in out
    assert (
        "  Proposed target (optional) [ninety]: -\n📨 Feedback `#1` on goal `#3` sent to @mia."
        in out
    )


def test_the_setup_form_takes_people_and_a_channel_as_typed(session_of: Console) -> None:
    out = session_of(
        """\
/pacer setup
West
sales-west
@wendy @walt
wes
@wes
America/Chicago


1
/pacer setup show
"""
    )
    assert (
        "admin> /pacer setup\n📋 Set up a team\nCreate a team or update one by its name.\n" in out
    )
    # A channel with or without its #; people as @names only, asked again otherwise.
    assert "  Team channel (optional): sales-west\n  Reps (optional): @wendy @walt\n" in out
    assert "  Managers (optional): wes\nType people as @names, e.g. `@alice @bob`.\n" in out
    assert "  Time zone [UTC]: America/Chicago\n  Currency [USD]: \n" in out
    assert "    12. December\n  Fiscal year starts in [January]: 1\nTeam saved:\n" in out
    # The people typed keep their names, as a slash command's mentions would give them.
    setup = "• *West* — channel #sales-west, time zone America/Chicago, currency USD"
    assert f"{setup}, daily hour 09:00\n    Managers: wes\n    Reps: walt, wendy" in out


# --- tab completion -----------------------------------------------------------------------------

PATHS = ["/deal", "/deal list", "/deal edit", "/pacer setup team add", "/pacer setup team create"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", [*sorted(["/deal", "/pacer", *console.WORDS])]),
        ("h", ["help", "home"]),
        ("ho", ["home"]),
        ("/d", ["/deal"]),
        ("/deal ", ["edit", "list"]),
        ("/deal l", ["list"]),
        ("/DEAL L", ["list"]),
        ("/pacer setup team ", ["add", "create"]),
        ("/pacer setup team c", ["create"]),
        ("/deal list ", []),  # past the path: what follows is the command's own text
        ("as @b", []),
    ],
)
def test_completion_offers_console_commands_and_command_paths(
    line: str, expected: list[str]
) -> None:
    assert completion.candidates(line, console.WORDS, PATHS) == expected


def test_completion_reads_the_paths_the_registry_declares() -> None:
    paths = completion.command_paths()
    assert {"/deal", "/deal list", "/pacer setup team add"} <= set(paths)
    assert completion.candidates("/pacer setup team a", console.WORDS, paths) == ["add", "archive"]


def test_tab_completes_through_readline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The readline glue: the whole line typed so far decides; Tab cycles the words."""
    calls: dict[str, object] = {}
    fake = types.SimpleNamespace(
        __doc__="GNU readline",
        get_line_buffer=lambda: "/pacer setup team c",
        get_endidx=lambda: len("/pacer setup team c"),
        set_completer_delims=lambda delims: calls.update(delims=delims),
        set_completer=lambda hook: calls.update(hook=hook),
        parse_and_bind=lambda binding: calls.update(binding=binding),
    )
    monkeypatch.setitem(sys.modules, "readline", fake)
    completion.install(lambda line: completion.candidates(line, console.WORDS, PATHS))
    hook = calls["hook"]
    assert callable(hook)
    assert (hook("c", 0), hook("c", 1)) == ("create", None)
    assert calls["delims"] == " \t\n" and calls["binding"] == "tab: complete"


def test_a_form_nobody_can_get_past_is_closed_when_nothing_changes(session_of: Console) -> None:
    # admin is in no team: the deal form refuses any amount. Enter on the field again
    # would send the same answers, so the form closes instead of asking forever.
    out = session_of("/deal\n12,500\nAcme\n\n\n\n\n\n/pacer help\n")
    assert "⚠️ Amount (USD): You're not on a team yet, so Pacer can't count your deals." in out
    assert "  Amount (USD) [12,500]: \nForm cancelled: nothing was sent.\n" in out
    assert "admin> /pacer help\n" in out


def test_each_kind_of_field_reads_what_is_typed_and_says_what_does_not() -> None:
    form = Form(
        "f",
        "Every kind",
        "Save",
        [
            Field("when", "When", kind="date", initial="2026-11-25"),
            Field("count", "How many", kind="number"),
            Field("who", "Who", kind="user"),
            Field("team", "Team", kind="users", initial=["UALICE"]),
            Field("where", "Where", kind="channel", required=False),
            Field("size", "Size", kind="select", options=[("s", "Small"), ("l", "Large")]),
        ],
        metadata="C1|7",
    )
    typed = iter(["25 Nov", "", "ten", "10", "@bob @carol", "@bob", "", "#", "-", "large"])
    out = io.StringIO()
    people = [Person("UALICE", "alice"), Person("UBOB", "bob")]

    def read(prompt: str) -> str:
        line = next(typed)
        out.write(f"{prompt}{line}\n")  # echoed, as the console echoes piped input
        return line

    asking = console_forms.Asking(
        screen=terminal.Screen(out, lambda: NOW),
        read=read,
        names={"UALICE": "alice"},
        typed=lambda text: escape(text, people),
    )
    submitted: list[tuple[dict[str, str], dict[str, list[str]]]] = []

    def submit(values: dict[str, str], lists: dict[str, list[str]]) -> FormResult:
        submitted.append((values, lists))
        return FormResult(reply=Reply(text="saved"))

    assert console_forms.fill(form, asking, submit) == FormResult(reply=Reply(text="saved"))
    assert out.getvalue().split("\n", 2)[2] == (
        "  When [2026-11-25]: 25 Nov\n"
        "Write a date as YYYY-MM-DD, e.g. 2026-11-25.\n"
        "  When [2026-11-25]: \n"
        "  How many: ten\n"
        "Write a number, e.g. 12500.\n"
        "  How many: 10\n"
        "  Who: @bob @carol\n"
        "Type one person as an @name, e.g. `@alice`.\n"
        "  Who: @bob\n"
        "  Team [@alice]: \n"
        "  Where (optional): #\n"
        "Type a channel as #name, e.g. `#sales-east`.\n"
        "  Where (optional): -\n"
        "    1. Small\n"
        "    2. Large\n"
        "  Size: large\n"
    )
    values = {"when": "2026-11-25", "count": "10", "who": "UBOB", "where": "", "size": "l"}
    assert submitted == [({**values, "_metadata": "C1|7"}, {"team": ["UALICE"]})]


def test_home_prints_the_tab_as_slack_shows_it(session_of: Console) -> None:
    out = session_of(
        "/pacer setup team create East tz:America/New_York\n"
        "/pacer setup team add East @admin\n"
        "/goal set @admin 50000 month\n"
        "/deal 12k Beta\n"
        "home\n"
    )
    tab = out.split("admin> home\n", 1)[1]
    assert "$12,000 of $50,000" in tab and "*Your last deals*" in tab
    assert "[1 Log a deal] [2 Feedback on this target]" in tab
    assert "Chart: " in tab and ".png" in tab
