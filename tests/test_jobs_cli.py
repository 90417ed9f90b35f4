"""`pacer jobs run KIND [--team NAME] [--date YYYY-MM-DD]`: a job by hand, sent once."""

from __future__ import annotations

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
