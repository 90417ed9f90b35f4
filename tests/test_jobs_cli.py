"""`pacer jobs run KIND [--team NAME] [--date YYYY-MM-DD]`: a job by hand, sent once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.cli import main
from storage.engine import make_engine
from storage.migrate import upgrade
from tests.fakeslack import FakeSlack
from tests.test_jobs import month, posts  # noqa: F401


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A database file the command opens on its own, as an operator's would be."""
    eng = make_engine(f"sqlite:///{tmp_path / 'pacer.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def env_file(tmp_path: Path, fake: FakeSlack) -> str:
    path = tmp_path / ".env"
    path.write_text(
        f"DATABASE_URL=sqlite:///{tmp_path / 'pacer.db'}\n"
        "SLACK_BOT_TOKEN=xoxb-test-token\n"
        f"SLACK_API_URL={fake.api_url}\n"
    )
    return str(path)


def jobs_run(env_file: str, *args: str) -> None:
    main(["--env-file", env_file, "jobs", "run", *args])


def test_a_job_run_by_hand_sends_once(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    env_file: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jobs_run(env_file, "lag-warnings", "--team", "East", "--date", "2026-11-25")
    assert capsys.readouterr().out == "lag-warnings: 2 sent, 0 already sent or failed\n"
    assert sorted(posts(fake)) == ["DALICE", "DMIA"]
    assert "you're behind pace" in posts(fake)["DALICE"]
    jobs_run(env_file, "lag-warnings", "--date", "2026-11-25")
    assert capsys.readouterr().out == "lag-warnings: 0 sent, 2 already sent or failed\n"
    assert len(fake.called("chat.postMessage")) == 2


def test_by_hand_a_weekend_or_another_team_sends_nothing(
    month: Engine,  # noqa: F811
    fake: FakeSlack,
    env_file: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jobs_run(env_file, "lag-warnings", "--date", "2026-11-28")
    jobs_run(env_file, "lag-warnings", "--team", "West", "--date", "2026-11-25")
    assert capsys.readouterr().out.count(": 0 sent, 0 already") == 2
    assert fake.called("chat.postMessage") == []


def test_unknown_kinds_and_dates_are_refused(env_file: str) -> None:
    with pytest.raises(SystemExit):
        jobs_run(env_file, "celebrate")
    with pytest.raises(SystemExit):
        jobs_run(env_file, "month-end", "--date", "1 December")


# --- without Slack settings: a preview, printed ------------------------------------------------


@pytest.fixture
def offline_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Settings with a database and nothing Slack, in the file and in the environment."""
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PACER_CHART_DIR", str(tmp_path / "charts"))
    path = tmp_path / "offline.env"
    path.write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'pacer.db'}\n")
    return str(path)


def test_without_a_bot_token_a_job_prints_what_it_would_send_once(
    month: Engine,  # noqa: F811
    offline_env: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jobs_run(offline_env, "lag-warnings", "--team", "East", "--date", "2026-11-25")
    out = capsys.readouterr().out
    # alice is behind pace: her warning; mia manages East: her digest. bob is on pace.
    warning = "→ DM to @alice: ⏱️ *2026-11: you're behind pace.* You have $6,000 of $20,000 (30%)"
    assert warning in out
    assert "→ DM to @mia: " in out
    assert "@bob" not in out.split("→ DM to @mia")[0]
    assert out.endswith(
        "lag-warnings: 2 shown, 0 shown or sent before\n"
        "(no SLACK_BOT_TOKEN: printed here, not sent to Slack)\n"
    )
    # Recorded in the outbox as Slack's would be: the second run has nothing new to show.
    jobs_run(offline_env, "lag-warnings", "--date", "2026-11-25")
    again = capsys.readouterr().out
    assert "→" not in again
    assert again.startswith("lag-warnings: 0 shown, 2 shown or sent before\n")


def test_the_weekly_leaderboard_and_month_end_preview_with_their_charts(
    month: Engine,  # noqa: F811
    offline_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    jobs_run(offline_env, "weekly-leaderboard", "--date", "2026-11-23")
    jobs_run(offline_env, "month-end", "--date", "2026-12-01")
    out = capsys.readouterr().out
    # Monday 23 November posts the week before; 1 December reviews November.
    assert "→ message in #CEAST: 🏆 *East, week 2026-W47* / 1. alice: $0 (0 deals) / " in out
    review = "→ message in #CEAST: 🗓️ *East, 2026-11 in review* / 🥇 Champion: bob, 90% of target"
    assert review in out
    assert "weekly-leaderboard: 1 shown, 0 shown or sent before\n" in out
    # The review in the channel, and the month's report (a PDF file) to the manager.
    assert "month-end: 2 shown, 0 shown or sent before\n" in out
    assert "pacer-report-East-2026-11.pdf" in out
    charts = re.findall(r"^Chart: (.+\.png)$", out, re.MULTILINE)
    assert len(charts) == 2
    assert all(Path(c).parent == (tmp_path / "charts").resolve() for c in charts)
    assert all(Path(c).read_bytes().startswith(b"\x89PNG") for c in charts)
