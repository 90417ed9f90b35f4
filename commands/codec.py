"""Replies and notices as JSON: a delivery's recorded reply, a sent message's payload."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Any

from charts.specs import (
    ChartSpec,
    FunnelChart,
    LeaderboardChart,
    MixChart,
    ProgressChart,
    TrendChart,
    WhyChart,
)
from commands.types import (
    Button,
    ExportQuery,
    FileOut,
    Notice,
    Reply,
    Retract,
    Update,
    Visibility,
)


def notice_data(notice: Notice) -> dict[str, Any]:
    """The notice as a dict, without its key (a sent message's row has it)."""
    return {
        "text": notice.text,
        "user_id": notice.user_id,
        "channel_id": notice.channel_id,
        "buttons": [asdict(b) for b in notice.buttons],
        "locale": notice.locale,
        "chart": chart_data(notice.chart),
        "file": file_data(notice.file),
    }


def notice_from(key: str, data: dict[str, Any]) -> Notice:
    return Notice(
        key=key,
        text=data["text"],
        user_id=data.get("user_id"),
        channel_id=data.get("channel_id"),
        buttons=_buttons(data),
        locale=data.get("locale", "en"),
        chart=chart_from(data.get("chart")),
        file=file_from(data.get("file")),
    )


def file_from(data: dict[str, Any] | None) -> FileOut | None:
    """A notice's file as file_data recorded it: its name and its query, never its bytes."""
    if data is None:
        return None
    export = data.get("export")
    query = None
    if export is not None:
        fields = dict(export)
        for day in ("start", "end"):
            fields[day] = fields[day] and date.fromisoformat(fields[day])
        if fields.get("team_ids") is not None:
            fields["team_ids"] = tuple(fields["team_ids"])
        query = ExportQuery(**fields)
    return FileOut(filename=data["filename"], title=data["title"], export=query)


def chart_data(chart: ChartSpec | None) -> dict[str, Any] | None:
    if chart is None:
        return None
    data = asdict(chart)
    data["kind"] = type(chart).__name__
    if "highlight" in data:
        data["highlight"] = sorted(data["highlight"])
    return data


def chart_from(data: dict[str, Any] | None) -> ChartSpec | None:
    if data is None:
        return None
    fields = dict(data)
    kind = CHART_KINDS[fields.pop("kind")]
    if kind is LeaderboardChart:
        fields["highlight"] = frozenset(fields.get("highlight", ()))
    return kind(**fields)


# Every chart a reply or a notice can carry, by the name chart_data records.
CHART_KINDS: dict[str, Any] = {
    kind.__name__: kind
    for kind in (ProgressChart, LeaderboardChart, FunnelChart, TrendChart, MixChart, WhyChart)
}


def encode_reply(reply: Reply) -> str:
    """A reply as JSON (a form is never recorded: it is opened, not answered)."""
    assert reply.form is None
    data = {
        "text": reply.text,
        "visibility": str(reply.visibility),
        "chart": chart_data(reply.chart),
        "buttons": [asdict(b) for b in reply.buttons],
        "ok": reply.ok,
        "notices": [{"key": n.key, **notice_data(n)} for n in reply.notices],
        "updates": [{"key": u.key, "text": u.text, "buttons": _dicts(u)} for u in reply.updates],
        "retracts": [r.key for r in reply.retracts],
        "file": file_data(reply.file),
    }
    return json.dumps(data, ensure_ascii=False)


def file_data(file: FileOut | None) -> dict[str, Any] | None:
    """What a recorded reply says of its file: its name and the rows it holds, never its
    bytes (an export may be megabytes; a delivery row is no place for them)."""
    if file is None:
        return None
    export = asdict(file.export) if file.export is not None else None
    if export is not None:
        for day in ("start", "end"):
            export[day] = export[day] and export[day].isoformat()
    return {"filename": file.filename, "title": file.title, "export": export}


def decode_reply(payload: str) -> Reply:
    data = json.loads(payload)
    return Reply(
        text=data["text"],
        visibility=Visibility(data["visibility"]),
        chart=chart_from(data.get("chart")),
        buttons=_buttons(data),
        ok=data["ok"],
        notices=[notice_from(n["key"], n) for n in data["notices"]],
        updates=[Update(u["key"], u["text"], _buttons(u)) for u in data["updates"]],
        retracts=[Retract(key) for key in data["retracts"]],
        # No file: the first delivery sent it (or is sending it). A retry of the command
        # answers with the same text and must not upload it a second time.
        file=None,
    )


def _dicts(update: Update) -> list[dict[str, Any]]:
    return [asdict(b) for b in update.buttons]


def _buttons(data: dict[str, Any]) -> list[Button]:
    return [Button(**b) for b in data.get("buttons", [])]
