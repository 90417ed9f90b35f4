"""Pacer's text format: the Slack markup that commands write (mentions, channel links,
escaped user text). The Slack edge sends it as it is; the console renders it as plain text.
"""

from __future__ import annotations


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def escape(text: str) -> str:
    """User text shown in Slack: `<`, `>` and `&` are control characters there (a typed
    `<!channel>` would otherwise notify everyone)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
