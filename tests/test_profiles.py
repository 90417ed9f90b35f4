"""The sender's profile, kept in process for a minute so a request needs no read for it."""

from __future__ import annotations

from sqlalchemy import Engine

from bot.profiles import Profile, Recent
from storage import queries
from storage.engine import session_scope


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def set_profile(engine: Engine, user_id: str, locale: str, name: str) -> None:
    with session_scope(engine) as session:
        member = queries.ensure_member(session, workspace_id="T1", user_id=user_id)
        member.locale, member.name = locale, name


def test_a_profile_read_once_is_kept_for_its_lifetime_then_read_again(engine: Engine) -> None:
    clock = Clock()
    recent = Recent(keep=60, clock=clock)
    set_profile(engine, "UANA", "en-US", "Ana")
    assert recent.get(engine, "T1", "UANA") == Profile(locale="en-US", name="Ana")

    set_profile(engine, "UANA", "zh-CN", "安娜")
    clock.now += 59
    assert recent.get(engine, "T1", "UANA") == Profile(locale="en-US", name="Ana")
    clock.now += 1
    assert recent.get(engine, "T1", "UANA") == Profile(locale="zh-CN", name="安娜")


def test_an_unknown_user_is_not_kept_and_is_found_once_known(engine: Engine) -> None:
    recent = Recent(clock=Clock())
    assert recent.get(engine, "T1", "UNEW") is None
    set_profile(engine, "UNEW", "ja-JP", "Kenji")
    assert recent.get(engine, "T1", "UNEW") == Profile(locale="ja-JP", name="Kenji")


def test_workspaces_keep_their_own_profiles_and_the_oldest_goes_past_the_bound(
    engine: Engine,
) -> None:
    recent = Recent(most=2, clock=Clock())
    for user in ("UA", "UB", "UC"):
        set_profile(engine, user, "en-US", user.lower())
        recent.get(engine, "T1", user)
    assert recent.get(engine, "T2", "UA") is None  # another workspace's UA is nobody here
    assert [key for key in recent._kept] == [("T1", "UB"), ("T1", "UC")]
