"""The local console, driven as a user drives it: lines in, printed text and PNG files out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import console
from bot.console import Person, escape, plain, resolve, run
from bot.settings import Settings
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
    assert "[Delete: /deal delete 1]" in out
    assert "I couldn't read “12.5x” as an amount." in out
    # bob: 30,000 of 50,000 = 60%; expected 42,857, pace 70%; (50,000 - 30,000) / 3 days left.
    assert "bob> /progress\n*bob · 2026-11* (revenue)\n$30,000 of $50,000 — *60%* attained" in out
    assert "Expected to date $42,857 · pace *70%* ⚠️ behind pace · $12,857 short of expected" in out
    assert "Needs *$6,667* per working day for the 3 working days left ($20,000 to go)." in out
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


def test_buttons_print_as_commands_and_forms_as_their_help(session_of: Console) -> None:
    out = session_of(
        SETUP
        + """\
as @alice
/deal 1,200 Initech
/deal delete 1
/deal restore 1
/deal
"""
    )
    assert "🗑️ Deleted deal `#1`: *$1,200* — Initech on 2026-11-25\n[Undo: /deal restore 1]" in out
    assert "↩️ Restored deal `#1`" in out
    assert "(In Slack this opens the form “Log a deal”. Here, type the command instead:)" in out
    assert "*Log a deal* with `/deal AMOUNT CUSTOMER" in out


def test_data_and_names_persist_between_sessions(session_of: Console) -> None:
    session_of(SETUP + "as @alice\n/deal 20,000 Acme Corp\n")
    out = session_of("/progress @Alice\n")
    # The same made-up id for "alice" and "Alice": the second session finds her goal and deal.
    assert "*alice · 2026-11* (revenue)\n$20,000 of $80,000 — *25%* attained" in out


def test_console_commands_and_end_of_input(session_of: Console) -> None:
    out = session_of("help\nfrobnicate now\nas\nlang fr\n")
    assert "`as @name`      act as someone else" in out
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
    assert plain(text, {"UDEMO01": "Alice Johnson"}) == (
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
