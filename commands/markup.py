"""Pacer's text format: Slack mrkdwn, with Slack's escaped references.

Replies, notices and forms carry text as Slack shows it: `*bold*`, `_italic_` and `code`
spans as they are, and references between angle brackets: `<@U123>` (a person),
`<#C123>` (a channel), `<https://…|label>` (a link), `<!here>` (a special mention). In
text, `&`, `<` and `>` stand for themselves only when escaped, which is also what keeps a
typed `<!channel>` from notifying everyone.

Commands build references with the functions here; the console turns them back into
readable terminal text with `to_plain`. Whatever a user wrote goes into a message escaped:
a member's or team's name through `context.name_of`, other free text (customer, feedback,
reasons) through `escape`, and a typed word that an error echoes (`parsing.TYPED`) by the
error itself. Charts, file titles, alt text, form titles, labels and field errors are
plain text: they take the name as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

# A reference as Slack writes it, with its optional `|label`.
USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
SPECIAL = re.compile(r"<!(\w+)(?:\^[^|>]*)?(?:\|([^>]*))?>")  # <!here>, <!subteam^S1|team>

HERE = "<!here>"


def mention(user_id: str, label: str | None = None) -> str:
    """A person, shown by Slack with their current name (`label` is what was typed)."""
    return f"<@{user_id}|{label}>" if label else f"<@{user_id}>"


def channel(channel_id: str, label: str | None = None) -> str:
    return f"<#{channel_id}|{label}>" if label else f"<#{channel_id}>"


def link(url: str, label: str | None = None) -> str:
    return f"<{url}|{escape(label)}>" if label else f"<{url}>"


def escape(text: str) -> str:
    """User text shown in Slack: `&`, `<` and `>` are control characters there."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """The reverse of `escape`; `&amp;` last, so `&amp;lt;` reads `&lt;` as typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def to_plain(
    text: str,
    names: Mapping[str, str],
    channel_name: Callable[[str], str] = lambda channel_id: channel_id,
) -> str:
    """Text for a terminal: @name for people (`names` by user id, else the label, else the
    id), #name for channels, `label (url)` for links, @here; mrkdwn markers stay as they are."""
    text = USER.sub(lambda m: "@" + (names.get(m[1]) or m[2] or m[1]), text)
    text = CHANNEL.sub(lambda m: "#" + (m[2] or channel_name(m[1])), text)
    text = LINK.sub(lambda m: f"{m[2]} ({m[1]})" if m[2] else m[1], text)
    text = SPECIAL.sub(lambda m: "@" + (m[2] or m[1]), text)
    return unescape(text)
