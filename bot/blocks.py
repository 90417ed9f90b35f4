"""Pure translations between Pacer's Reply/Form and Slack Block Kit (dicts, no I/O)."""

from __future__ import annotations

from typing import Any

from commands.home import PERIOD_ACTION
from commands.types import Button, Field, Form, Home, Reply

SECTION_CHARS = 3000  # Block Kit limit for one section's text
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
TITLE_CHARS = 24
BUTTON_LABEL_CHARS = 75
PLAIN_CHARS = 150  # placeholders, option labels
LABEL_CHARS = 2000
OPTIONS = 100
METADATA_CHARS = 3000

Block = dict[str, Any]


def plain(text: str, limit: int = LABEL_CHARS) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit), "emoji": True}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Chunks of at most `limit` characters, broken at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # one very long line: hard break
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(b: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": b.action_id,
        "text": plain(b.label, BUTTON_LABEL_CHARS),
        "value": b.value,
    }
    if b.style in ("primary", "danger"):
        element["style"] = b.style
    return element


def reply_blocks(reply: Reply, limit: int = MESSAGE_BLOCKS) -> list[Block]:
    """Sections for the text (each <= 3000 chars), then one actions block for the buttons."""
    actions: list[Block] = []
    if reply.buttons:
        # An actions block holds at most 25 elements.
        actions = [{"type": "actions", "elements": [button(b) for b in reply.buttons[:25]]}]
    sections = [section(chunk) for chunk in split_text(reply.text)]
    room = limit - len(actions)
    if len(sections) > room:
        sections = [*sections[: room - 1], section("…")]
    return sections + actions


def fallback_text(reply: Reply) -> str:
    """The notification text Slack shows where blocks cannot be (its limit is 40,000 chars)."""
    return _cut(reply.text, 3900)


# --- forms (modals) ----------------------------------------------------------------------------


def form_view(form: Form) -> dict[str, Any]:
    blocks: list[Block] = []
    if form.intro:
        blocks += [section(chunk) for chunk in split_text(form.intro)]
    blocks += [input_block(f) for f in form.fields]
    if len(blocks) > VIEW_BLOCKS:  # the fields are kept: the text before them is cut
        room = VIEW_BLOCKS - len(form.fields) - 1
        blocks = [*blocks[:room], section("…"), *blocks[-len(form.fields) :]]
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": form.callback_id,
        "title": plain(form.title, TITLE_CHARS),
        "private_metadata": form.metadata[:METADATA_CHARS],
        "blocks": blocks,
    }
    if form.submit:  # a view that only shows a result has Close alone
        view["submit"] = plain(form.submit, TITLE_CHARS)
    return view


def working_view(callback_id: str, title: str, text: str) -> dict[str, Any]:
    """What a slow submission shows until its result replaces it (no submit: Close)."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_CHARS),
        "blocks": [section(text)],
    }


def input_block(f: Field) -> Block:
    block: Block = {
        "type": "input",
        "block_id": f.name,  # errors={name: msg} lands under this block
        "label": plain(f.label),
        "optional": not f.required,
        "element": element(f),
    }
    if f.hint:
        block["hint"] = plain(f.hint)
    return block


def element(f: Field) -> dict[str, Any]:
    kind = f.kind
    initial = f.initial
    first = initial[0] if isinstance(initial, list) and initial else initial
    el: dict[str, Any]
    if kind in ("text", "long_text"):
        el = {"type": "plain_text_input", "multiline": kind == "long_text"}
        if isinstance(first, str) and first:
            el["initial_value"] = first
    elif kind == "number":
        el = {"type": "number_input", "is_decimal_allowed": True}
        if isinstance(first, str) and first:
            el["initial_value"] = first
    elif kind == "date":
        el = {"type": "datepicker"}
        if first:
            el["initial_date"] = first
    elif kind == "select":
        el = _static_select(f)
    elif kind == "users":
        el = {"type": "multi_users_select"}
        users = initial if isinstance(initial, list) else ([initial] if initial else [])
        if users:
            el["initial_users"] = users
    elif kind == "user":
        el = {"type": "users_select"}
        if first:
            el["initial_user"] = first
    elif kind == "channel":
        el = {"type": "conversations_select", "filter": {"include": ["public", "private"]}}
        if first:
            el["initial_conversation"] = first
    elif kind == "file":  # needs the files:read scope; Slack takes up to 10 MB
        el = {"type": "file_input", "filetypes": ["csv"], "max_files": 1}
    else:
        raise ValueError(f"unknown field kind: {kind}")
    el["action_id"] = f.name
    if f.placeholder and el["type"] not in ("datepicker", "file_input"):
        el["placeholder"] = plain(f.placeholder, PLAIN_CHARS)
    return el


def _static_select(f: Field) -> dict[str, Any]:
    options = [{"text": plain(label, 75), "value": value} for value, label in f.options[:OPTIONS]]
    el: dict[str, Any] = {"type": "static_select", "options": options}
    chosen = [o for o in options if o["value"] == f.initial]
    if chosen:
        el["initial_option"] = chosen[0]
    return el


# --- submissions ---------------------------------------------------------------------------------

_SINGLE = {
    "plain_text_input": lambda v: v.get("value"),
    "number_input": lambda v: v.get("value"),
    "datepicker": lambda v: v.get("selected_date"),
    "timepicker": lambda v: v.get("selected_time"),
    "static_select": lambda v: (v.get("selected_option") or {}).get("value"),
    "radio_buttons": lambda v: (v.get("selected_option") or {}).get("value"),
    "users_select": lambda v: v.get("selected_user"),
    "conversations_select": lambda v: v.get("selected_conversation"),
    "channels_select": lambda v: v.get("selected_channel"),
}
_MULTI = {
    "multi_users_select": lambda v: v.get("selected_users"),
    "multi_conversations_select": lambda v: v.get("selected_conversations"),
    "multi_channels_select": lambda v: v.get("selected_channels"),
    "multi_static_select": lambda v: [o["value"] for o in v.get("selected_options") or []],
    "checkboxes": lambda v: [o["value"] for o in v.get("selected_options") or []],
    "file_input": lambda v: [f["id"] for f in v.get("files") or [] if f.get("id")],
}


def submitted(state_values: dict[str, Any]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """A view's state.values as (single values, multi-select lists), keyed by block id."""
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    for block_id, actions in state_values.items():
        for data in actions.values():
            kind = data.get("type", "")
            if kind in _MULTI:
                lists[block_id] = list(_MULTI[kind](data) or [])
            else:
                read = _SINGLE.get(kind, lambda v: v.get("value"))
                values[block_id] = read(data) or ""
    return values, lists


def home_view(home: Home, image: dict[str, Any] | None = None) -> dict[str, Any]:
    """The App Home tab: the period picker, then each section (its buttons under it), the
    chart's image block (a Slack file, `image`) after the first; at most 100 blocks, the
    last sections dropped first."""
    blocks: list[Block] = []
    if home.periods:
        blocks.append(_picker(home))
    for i, part in enumerate(home.sections):
        if not part.text.strip() and not part.buttons:
            continue
        if i:
            blocks.append({"type": "divider"})
        blocks += [section(chunk) for chunk in split_text(part.text)]
        if part.buttons:
            blocks.append({"type": "actions", "elements": [button(b) for b in part.buttons]})
        if i == 0 and image is not None:
            blocks.append(image)
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


def image_block(file_id: str, alt_text: str, title: str) -> Block:
    """A chart uploaded to Slack, shown by reference to its file."""
    return {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": _cut(alt_text or title, LABEL_CHARS),
        "title": plain(title, 200),
    }


def _picker(home: Home) -> Block:
    options = [{"text": plain(label, 75), "value": value} for value, label in home.periods]
    chosen = next((o for o in options if o["value"] == home.period), options[0])
    return {
        "type": "actions",
        "elements": [
            {
                "type": "static_select",
                "action_id": PERIOD_ACTION,
                "placeholder": plain(home.picker_label or "Period", 150),
                "options": options,
                "initial_option": chosen,
            }
        ],
    }
