"""Reply and Form to Block Kit, and modal state back to values, within Slack's limits."""

from __future__ import annotations

import pytest

from bot import blocks
from commands.types import Button, Field, Form, Home, HomeSection, Reply, Visibility


def texts(rendered: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in rendered if b["type"] == "section"]


def test_a_short_reply_is_one_section_and_its_buttons() -> None:
    reply = Reply(
        text="✅ Logged deal `#7`: *$12,500* — Acme Corp",
        buttons=[Button("deal_delete", "Delete", "7", "danger")],
    )

    rendered = blocks.reply_blocks(reply)

    assert rendered == [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "✅ Logged deal `#7`: *$12,500* — Acme Corp"},
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "deal_delete",
                    "text": {"type": "plain_text", "text": "Delete", "emoji": True},
                    "value": "7",
                    "style": "danger",
                }
            ],
        },
    ]


def test_a_button_without_style_has_no_style_key() -> None:
    [actions] = blocks.reply_blocks(Reply(text="", buttons=[Button("deal_restore", "Undo", "3")]))
    assert "style" not in actions["elements"][0]


def test_long_text_splits_at_line_ends_into_sections_of_at_most_3000_chars() -> None:
    lines = [f"{i:04d} " + "x" * 95 for i in range(70)]  # 70 lines of 100 chars
    rendered = blocks.reply_blocks(Reply(text="\n".join(lines)))

    chunks = texts(rendered)
    # 29 lines + 28 newlines = 2928 chars fit; a 30th line would make 3029.
    assert [len(c.split("\n")) for c in chunks] == [29, 29, 12]
    assert all(len(c) <= 3000 for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)


def test_one_line_longer_than_a_section_is_cut_hard() -> None:
    chunks = texts(blocks.reply_blocks(Reply(text="y" * 7000)))
    assert [len(c) for c in chunks] == [3000, 3000, 1000]


def test_a_message_never_has_more_than_50_blocks() -> None:
    text = "\n".join("z" * 2999 for _ in range(60))
    reply = Reply(text=text, buttons=[Button("deal_delete", "Delete", "1")])

    rendered = blocks.reply_blocks(reply)

    assert len(rendered) == 50
    assert rendered[-2]["text"]["text"] == "…"  # says something was left out
    assert rendered[-1]["type"] == "actions"  # the buttons survive


def test_an_empty_reply_has_no_blocks() -> None:
    assert blocks.reply_blocks(Reply(text="")) == []


def test_in_channel_visibility_does_not_change_the_blocks() -> None:
    one = blocks.reply_blocks(Reply(text="hi"))
    assert blocks.reply_blocks(Reply(text="hi", visibility=Visibility.IN_CHANNEL)) == one


def deal_like_form() -> Form:
    return Form(
        callback_id="deal_new",
        title="Log a deal and a very long title indeed",
        submit="Save",
        metadata="C123",
        intro="Fill in the deal.",
        fields=[
            Field("amount", "Amount (USD)", placeholder="12,500"),
            Field("date", "Close date", kind="date", initial="2026-11-20"),
            Field("note", "Note", kind="long_text", required=False, hint="Anything else"),
            Field(
                "fiscal_start",
                "Fiscal year starts in",
                kind="select",
                options=[("1", "January"), ("4", "April")],
                initial="4",
            ),
            Field("reps", "Reps", kind="users", required=False, initial=["U1", "U2"]),
            Field("channel", "Team channel", kind="channel", required=False),
            Field("owner", "Owner", kind="user", initial="U9"),
            Field("count", "Count", kind="number", initial="3"),
        ],
    )


def test_a_form_becomes_a_modal_with_one_input_block_per_field() -> None:
    view = blocks.form_view(deal_like_form())

    assert view["type"] == "modal"
    assert view["callback_id"] == "deal_new"
    assert view["private_metadata"] == "C123"
    assert view["title"]["text"] == "Log a deal and a very l…"
    assert len(view["title"]["text"]) == 24
    assert view["submit"]["text"] == "Save"
    intro, *inputs = view["blocks"]
    assert intro["text"]["text"] == "Fill in the deal."
    assert [b["block_id"] for b in inputs] == [
        "amount",
        "date",
        "note",
        "fiscal_start",
        "reps",
        "channel",
        "owner",
        "count",
    ]
    assert all(b["element"]["action_id"] == b["block_id"] for b in inputs)
    assert [b["optional"] for b in inputs] == [False, False, True, False, True, True, False, False]


def test_each_field_kind_gets_its_slack_element() -> None:
    inputs = {b["block_id"]: b for b in blocks.form_view(deal_like_form())["blocks"][1:]}

    amount = inputs["amount"]["element"]
    assert amount["type"] == "plain_text_input" and amount["multiline"] is False
    assert amount["placeholder"]["text"] == "12,500"
    assert inputs["note"]["element"]["multiline"] is True
    assert inputs["note"]["hint"]["text"] == "Anything else"
    assert inputs["date"]["element"] == {
        "type": "datepicker",
        "initial_date": "2026-11-20",
        "action_id": "date",
    }
    select_ = inputs["fiscal_start"]["element"]
    assert select_["type"] == "static_select"
    assert [o["value"] for o in select_["options"]] == ["1", "4"]
    assert select_["initial_option"]["text"]["text"] == "April"
    assert inputs["reps"]["element"]["type"] == "multi_users_select"
    assert inputs["reps"]["element"]["initial_users"] == ["U1", "U2"]
    assert inputs["channel"]["element"]["type"] == "conversations_select"
    assert "initial_conversation" not in inputs["channel"]["element"]
    assert inputs["owner"]["element"] == {
        "type": "users_select",
        "initial_user": "U9",
        "action_id": "owner",
    }
    assert inputs["count"]["element"]["type"] == "number_input"


def test_an_unknown_field_kind_is_an_error_not_a_broken_modal() -> None:
    form = Form(callback_id="x", title="X", submit="Go", fields=[Field("a", "A", kind="colour")])
    with pytest.raises(ValueError, match="colour"):
        blocks.form_view(form)


def test_submitted_state_becomes_values_and_lists_by_block_id() -> None:
    state = {
        "amount": {"amount": {"type": "plain_text_input", "value": "12,500"}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
        "date": {"date": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "fiscal_start": {
            "fiscal_start": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "April"}, "value": "4"},
            }
        },
        "channel": {"channel": {"type": "conversations_select", "selected_conversation": "C9"}},
        "old": {"old": {"type": "channels_select", "selected_channel": "C8"}},
        "owner": {"owner": {"type": "users_select", "selected_user": "U9"}},
        "reps": {"reps": {"type": "multi_users_select", "selected_users": ["U1", "U2"]}},
        "managers": {"managers": {"type": "multi_users_select", "selected_users": []}},
        "count": {"count": {"type": "number_input", "value": "3"}},
    }

    values, lists = blocks.submitted(state)

    assert values == {
        "amount": "12,500",
        "note": "",
        "date": "2026-11-20",
        "fiscal_start": "4",
        "channel": "C9",
        "old": "C8",
        "owner": "U9",
        "count": "3",
    }
    assert lists == {"reps": ["U1", "U2"], "managers": []}


def test_a_modal_round_trip_reads_back_what_was_offered() -> None:
    """Fill the rendered modal as Slack would: the values come back under the field names."""
    view = blocks.form_view(deal_like_form())
    state = {}
    for b in view["blocks"][1:]:
        el = b["element"]
        answer = {
            "plain_text_input": {"value": "x"},
            "number_input": {"value": "3"},
            "datepicker": {"selected_date": el.get("initial_date")},
            "static_select": {"selected_option": el.get("initial_option")},
            "multi_users_select": {"selected_users": el.get("initial_users", [])},
            "conversations_select": {"selected_conversation": None},
            "users_select": {"selected_user": el.get("initial_user")},
        }[el["type"]]
        state[b["block_id"]] = {el["action_id"]: {"type": el["type"], **answer}}

    values, lists = blocks.submitted(state)

    assert values["date"] == "2026-11-20"
    assert values["fiscal_start"] == "4"
    assert values["owner"] == "U9"
    assert values["channel"] == ""
    assert lists == {"reps": ["U1", "U2"]}


def test_the_home_tab_picker_sections_buttons_and_image() -> None:
    home = Home(
        sections=[
            HomeSection("*alice · 2026-11*", [Button("home_log_deal", "Log a deal", "home")]),
            HomeSection("*Your last deals*"),
            HomeSection("help"),
        ],
        periods=[("month", "month"), ("quarter", "quarter")],
        period="quarter",
        picker_label="Period",
    )
    image = blocks.image_block("F0001", "alice's progress", "alice · 2026-11")
    view = blocks.home_view(home, image)

    assert view["type"] == "home"
    assert [b["type"] for b in view["blocks"]] == [
        "actions",  # the period picker
        "section",
        "actions",
        "image",  # the chart, after the first section and its buttons
        "divider",
        "section",
        "divider",
        "section",
    ]
    picker = view["blocks"][0]["elements"][0]
    assert picker["initial_option"]["value"] == "quarter"
    assert view["blocks"][3]["slack_file"] == {"id": "F0001"}


def test_the_home_tab_skips_empty_parts_and_keeps_to_100_blocks() -> None:
    view = blocks.home_view(Home([HomeSection("intro"), HomeSection(""), HomeSection("help")]))
    assert [b["type"] for b in view["blocks"]] == ["section", "divider", "section"]
    many = Home([HomeSection(f"part {i}") for i in range(80)])
    assert len(blocks.home_view(many)["blocks"]) == 100
