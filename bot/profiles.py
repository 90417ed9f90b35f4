"""Slack profiles (locale, time zone, real name) cached on the Member row."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine
from sqlmodel import col, select

from storage import queries
from storage.engine import read_scope, session_scope
from storage.models import Member

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
# Users added through the setup modal's pickers: at most this many looked up per submission.
NAME_FILL_LIMIT = 30
# A profile read from the database is kept in process this long: every request needs the
# sender's language before it starts, and a name or locale changed meanwhile (by another
# instance, say) shows within a minute.
KEEP_SECONDS = 60.0
KEEP_AT_MOST = 10_000


@dataclass(frozen=True)
class Profile:
    locale: str
    name: str  # "" when unknown


def fetch(client: WebClient, user_id: str) -> dict[str, Any] | None:
    """users.info with the locale; None (logged at debug) when Slack cannot say."""
    try:
        response = client.users_info(user=user_id, include_locale=True)
    except (SlackApiError, SlackClientError, OSError) as err:
        log.debug("users.info failed for %s: %s", user_id, err)
        return None
    user = response.get("user")
    return user if isinstance(user, dict) else None


def real_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    for name in (
        user.get("real_name"),
        profile.get("real_name"),
        profile.get("display_name"),
        user.get("name"),
    ):
        if name:
            return str(name)
    return ""


def cached(engine: Engine, workspace_id: str, user_id: str) -> Profile | None:
    """The member's cached locale and name; None until Slack has told us (no Slack call)."""
    with read_scope(engine) as session:
        member = queries.get_member(session, workspace_id=workspace_id, user_id=user_id)
        if member is not None and member.locale:
            return Profile(locale=member.locale, name=_known_name(member))
    return None


class Recent:
    """Profiles read lately, each kept KEEP_SECONDS, the oldest dropped past KEEP_AT_MOST:
    a request asks for its sender's profile without a database round trip. Only found
    profiles are kept, so a user Slack has not described yet is asked for again."""

    def __init__(
        self,
        keep: float = KEEP_SECONDS,
        most: int = KEEP_AT_MOST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep, self.most, self.clock = keep, most, clock
        self._kept: OrderedDict[tuple[str, str], tuple[float, Profile]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, engine: Engine, workspace_id: str, user_id: str) -> Profile | None:
        key = (workspace_id, user_id)
        now = self.clock()
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and now - kept[0] < self.keep:
                return kept[1]
        found = cached(engine, workspace_id, user_id)
        if found is not None:
            self.put(workspace_id, user_id, found, now)
        return found

    def put(self, workspace_id: str, user_id: str, profile: Profile, at: float) -> None:
        with self._lock:
            self._kept[(workspace_id, user_id)] = (at, profile)
            self._kept.move_to_end((workspace_id, user_id))
            while len(self._kept) > self.most:
                self._kept.popitem(last=False)


def profile_for(client: WebClient, engine: Engine, workspace_id: str, user_id: str) -> Profile:
    """The member's cached locale and name, asking Slack the first time (or until it answers)."""
    found = cached(engine, workspace_id, user_id)
    if found is not None:
        return found
    user = fetch(client, user_id)
    if user is None:
        return Profile(locale=DEFAULT_LOCALE, name="")
    with session_scope(engine) as session:
        member = queries.ensure_member(session, workspace_id=workspace_id, user_id=user_id)
        _apply(member, user)
        return Profile(locale=member.locale or DEFAULT_LOCALE, name=_known_name(member))


def _known_name(member: Member) -> str:
    return "" if member.name == member.user_id else member.name


def _apply(member: Member, user: dict[str, Any]) -> None:
    """Slack's word wins: the real name replaces a mention's handle or a bare user id."""
    member.locale = str(user.get("locale") or DEFAULT_LOCALE)[:16]
    if user.get("tz"):
        member.tz = str(user["tz"])[:64]
    name = real_name(user)
    if name:
        member.name = name[:200]


def fill_unnamed(client: WebClient, engine: Engine, workspace_id: str) -> int:
    """Look up members still named by their user id (picked in a modal); returns how many."""
    with read_scope(engine) as session:
        rows = session.exec(
            select(Member.user_id)
            .where(Member.workspace_id == workspace_id, col(Member.name) == col(Member.user_id))
            .limit(NAME_FILL_LIMIT)
        ).all()
    filled = 0
    for user_id in rows:
        user = fetch(client, user_id)
        if user is None:
            continue
        with session_scope(engine) as session:
            member = queries.get_member(session, workspace_id=workspace_id, user_id=user_id)
            if member is not None:
                _apply(member, user)
                filled += 1
    return filled
