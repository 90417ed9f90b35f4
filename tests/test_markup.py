"""commands/markup.py: Slack's references as commands write them, and as a terminal reads them."""

from __future__ import annotations

from commands import markup


def test_references_are_written_as_slack_escapes_them() -> None:
    assert markup.mention("U123") == "<@U123>"
    assert markup.mention("U123", "bob") == "<@U123|bob>"
    assert markup.channel("C9") == "<#C9>"
    assert markup.channel("C9", "sales-east") == "<#C9|sales-east>"
    assert markup.link("https://x.io/a?b=1&c=2", "R&D") == "<https://x.io/a?b=1&c=2|R&amp;D>"
    assert markup.HERE == "<!here>"


def test_escape_keeps_typed_control_characters_from_acting() -> None:
    typed = "Too high <!channel> & <@U1> > 5"
    escaped = markup.escape(typed)
    assert escaped == "Too high &lt;!channel&gt; &amp; &lt;@U1&gt; &gt; 5"
    assert markup.SPECIAL.search(escaped) is None and markup.USER.search(escaped) is None
    assert markup.unescape(escaped) == typed
    assert markup.unescape(markup.escape("&lt; is how < is written")) == "&lt; is how < is written"


def test_the_patterns_find_each_reference_and_its_label() -> None:
    text = "<@U1|bob> <@W2> <#C3|east> <#G4> <https://x.io|site> <mailto:a@b.c> <!subteam^S1|sales>"
    assert [m.groups() for m in markup.USER.finditer(text)] == [("U1", "bob"), ("W2", None)]
    assert [m.groups() for m in markup.CHANNEL.finditer(text)] == [("C3", "east"), ("G4", None)]
    assert [m[1] for m in markup.LINK.finditer(text)] == ["https://x.io", "mailto:a@b.c"]
    assert [m.groups() for m in markup.SPECIAL.finditer(text)] == [("subteam", "sales")]


def test_to_plain_reads_names_channels_links_and_escapes() -> None:
    names = {"U1": "Alice Johnson"}
    text = (
        "<@U1> <@U2|bob> <@U3> in <#C4|east> and <#C5> <!here> <https://x.io|site> <https://y.io>"
        " *bold* &lt;b&gt; AT&amp;T"
    )
    plain = markup.to_plain(text, names, lambda cid: {"C5": "west"}.get(cid, cid))
    assert plain == (
        "@Alice Johnson @bob @U3 in #east and #west @here site (https://x.io) https://y.io"
        " *bold* <b> AT&T"
    )
    # Without a channel_name, a channel without a label shows its id.
    assert markup.to_plain("<#C9>", {}) == "#C9"
