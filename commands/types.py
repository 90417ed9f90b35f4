"""What a command handler takes and gives back: no Slack types here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from charts.specs import ChartSpec


class Visibility(StrEnum):
    EPHEMERAL = "ephemeral"  # only the sender sees it
    IN_CHANNEL = "in_channel"


@dataclass(frozen=True)
class Upload:
    """A file a user gave a form (Slack's file_input, a path typed at the console), read
    by the edge before the form's handler runs."""

    ref: str  # how the edge reads it again: a Slack file id, a path
    name: str
    content: bytes


# An email to the Slack member who has it: (user id, name), or None when nobody does.
# It raises LookupError where Slack cannot be asked (no client, a missing scope).
EmailLookup = Callable[[str], tuple[str, str] | None]


@dataclass(frozen=True)
class Request:
    workspace_id: str
    user_id: str
    text: str
    now: datetime  # aware
    locale: str = "en"
    user_name: str = ""
    channel_id: str | None = None
    # Unique per delivery (trigger id, view id): a retried delivery carries the same key.
    request_key: str | None = None
    # The PACER_ADMINS users who are admins of this workspace (Settings.admins_of).
    admin_ids: frozenset[str] = frozenset()
    source: str = "slash"
    uploads: tuple[Upload, ...] = ()  # the files of a form's file fields, in order
    lookup_email: EmailLookup | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Button:
    action_id: str
    label: str
    value: str
    style: str | None = None  # primary | danger


@dataclass(frozen=True)
class Field:
    """One input of a form (a Slack modal; the console has none)."""

    name: str
    label: str
    # text | long_text | number | date | select | users | channel | user | file (CSV)
    kind: str = "text"
    required: bool = True
    initial: str | list[str] | None = None
    placeholder: str | None = None
    hint: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)


@dataclass(frozen=True)
class Form:
    callback_id: str
    title: str  # at most 24 characters
    submit: str  # empty: no submit button, only Close (a form that only shows a result)
    fields: list[Field]
    metadata: str = ""  # carried back with the submission
    intro: str | None = None


@dataclass(frozen=True)
class Notice:
    """A message Pacer sends to someone else on its own: a direct message to `user_id`,
    or a post in `channel_id`. `key` is unique per workspace: the edge records it before
    sending, so a notice goes out once, and can later be replaced through an Update."""

    key: str
    text: str
    user_id: str | None = None
    channel_id: str | None = None
    buttons: list[Button] = field(default_factory=list)
    locale: str = "en"
    chart: ChartSpec | None = None  # uploaded with the text as its comment
    # A file sent to `user_id` with the text as its comment (the monthly report); its bytes
    # are written at sending, from its export query.
    file: FileOut | None = None


@dataclass(frozen=True)
class Update:
    """Replace the text (and buttons) of a notice sent earlier under `key`."""

    key: str
    text: str
    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class Retract:
    """Delete a notice sent earlier under `key` (e.g. the celebration of a deleted deal)."""

    key: str


@dataclass(frozen=True)
class ExportQuery:
    """Which rows an export writes (commands/export.py), kept small so it can be recorded
    and written after the acknowledgement, row by row. A row is in when its team is in
    `team_ids` (None: every team, and the workspace's own goals) or its owner is `owner_id`."""

    # deals | goals | payments | why (commands/why.py: the deals behind a figure) | report
    # (commands/report.py: a PDF, its bytes written after the acknowledgement)
    kind: str
    workspace_id: str
    start: date | None = None  # the period, inclusive; None: everything
    end: date | None = None
    team_ids: tuple[int, ...] | None = None
    owner_id: int | None = None  # the member whose own rows are in (a rep's export)
    with_deleted: bool = False
    tz: str = "UTC"  # why, report: the team's zone (a deal's day of logging, the report's days)
    locale: str = "en"  # report: the language it is written in
    label: str = ""  # report: the period as asked (its label)


@dataclass(frozen=True)
class FileOut:
    """A file for who asked: Slack uploads it to their direct messages, the console writes
    it to its output directory. Its bytes are `content`, or the rows `export` names, written
    after the acknowledgement (an export may be large: it is streamed, never held)."""

    filename: str
    title: str
    content: bytes = b""
    export: ExportQuery | None = None


@dataclass(frozen=True)
class HomeSection:
    """One part of the App Home tab: text, with the buttons that act on it."""

    text: str
    buttons: list[Button] = field(default_factory=list)


@dataclass(frozen=True)
class Home:
    """The App Home tab (commands/home.py): sections in order, the chart of the rep's goal
    shown after the first, and a picker of the period shown (value, label)."""

    sections: list[HomeSection]
    chart: ChartSpec | None = None
    periods: list[tuple[str, str]] = field(default_factory=list)
    period: str = "month"
    picker_label: str = ""


@dataclass(frozen=True)
class Reply:
    text: str
    visibility: Visibility = Visibility.EPHEMERAL
    chart: ChartSpec | None = None
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None  # open this form instead of answering
    ok: bool = True  # False for a refused or invalid command
    notices: list[Notice] = field(default_factory=list)  # sent after the reply, once each
    updates: list[Update] = field(default_factory=list)  # earlier notices to replace
    retracts: list[Retract] = field(default_factory=list)  # earlier notices to delete
    file: FileOut | None = None  # sent to who asked, after the reply (once: see codec)
    # What a retry of the delivery is answered with instead of `text`, when the text shows
    # a secret once (an integration's token): the recorded reply must never hold it.
    replay: str | None = None
    home: Home | None = None  # publish this as the asker's App Home tab (never recorded)

    @property
    def is_error(self) -> bool:
        return not self.ok


@dataclass(frozen=True)
class FormResult:
    """A form submission's outcome: field errors keep the form open; else a reply."""

    errors: dict[str, str] = field(default_factory=dict)
    reply: Reply | None = None
    form: Form | None = None  # the view that replaces the submitted one (a next step)
    ok: bool = True  # False: nothing it did stands (rolled back), though a form is shown
