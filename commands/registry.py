"""Every slash command, subcommand, button and form Pacer answers, declared once.

Adding a subcommand is one declaration here and one function that takes a Ctx and the
declared arguments by name (plus `options`, the key:value pairs, when it takes any) and
returns a Reply; a refusal raises Refused. Dispatch, help, usage errors, "did you mean",
the Slack app's listeners, the console's completion and the manifest test all read this.
Each command's summary and example live in the catalogs under `cmd.KEY` and
`example.KEY`, KEY being its path with underscores (`pacer_setup_team_add`).
A command that only reads is declared `writes=False` (`bare_writes=False` for a path
alone that only reads, e.g. opens a form): it runs in a read scope, never taking
SQLite's write lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from commands import (
    analysis,
    bonus,
    deal,
    export,
    feedback,
    goal,
    goal_tree,
    home,
    import_modal,
    integrations,
    leaderboard,
    pacer,
    payment,
    progress,
    report,
    targets,
    why,
)
from commands.args import (
    AMOUNT,
    ANY_AMOUNT,
    CHANNEL,
    FROM_PERIOD,
    ID,
    MENTION,
    MENTIONS,
    NAME,
    PERIOD,
    STAGE,
    SUBJECT,
    TAIL_AMOUNT,
    TEAM,
    TEAM_NAME,
    TEXT,
    WORDS,
    Converter,
    Subject,
    Words,
    choice,
    integer,
    keyword,
    literal,
    tail_choice,
)
from commands.context import Ctx
from commands.grammar import Arg, Command, Registry, Role
from commands.parsing import UsageError, parse_id, storable
from commands.types import FormResult, Reply
from storage import queries
from storage.models import Team


def _at_end(convert: Converter) -> Converter:
    """The same converter reading the last word (a team name runs in front of it)."""
    return Converter(
        convert.shown,
        lambda ctx, words: convert.read(ctx, Words(words.take_last())),
        convert.accepts,
        tail=True,
    )


def _goal_owner(ctx: Ctx, words: Words) -> Subject | None:
    """`@rep`, `team NAME` or `workspace` (None)."""
    if (words.first() or "").lower() == "workspace":
        words.take()
        return None
    return SUBJECT.read(ctx, words)


GOAL_OWNER = Converter(
    "@rep | team NAME | workspace",
    _goal_owner,
    lambda ws: ws[0].lower() == "workspace" or SUBJECT.accepts(ws),
)
SPLIT_METHOD = Converter("even|workdays|seasonal|weights:3,3,4", lambda _ctx, words: words.take())
# The deal's amount and customer, or their key:value forms (amount:…, customer:…).
DEAL_WORDS = Converter("AMOUNT CUSTOMER", WORDS.read)
EDIT_WORDS = Converter("AMOUNT | CUSTOMER", WORDS.read)
BONUS_WORDS = Converter("TEAM [AMOUNT] | @rep AMOUNT", WORDS.read)
TEAM_OPTIONS = ("tz", "currency", "hour", "channel")


def _months(ctx: Ctx, words: Words) -> int:
    count = integer("N", 1, analysis.MAX_MONTHS, "analysis.bad_months")
    return int(count.read(ctx, Words(words.take_last(2)[1:])))


# `months 12` at the end: how many months a trend shows.
MONTHS = Converter(
    "months N", _months, lambda ws: len(ws) == 2 and ws[0].lower() == "months", tail=True, width=2
)


def _move_target(ctx: Ctx, words: Words) -> Team:
    """`to NAME` (the name runs to the end: `from DATE` was read off it already)."""
    if (words.first() or "").lower() != "to" or len(words.tokens) < 2:
        raise UsageError("teams.move_usage")
    words.take()
    return ctx.team_named(" ".join(words.take_all()))


def _from_date(_ctx: Ctx, words: Words) -> str:
    return words.take_last(2)[1]


MOVE_TARGET = Converter("to NAME", _move_target)
FROM_DATE = Converter(
    "from DATE",
    _from_date,
    lambda ws: len(ws) == 2 and ws[0].lower() == "from",
    tail=True,
    width=2,
)


def _rename(ctx: Ctx, words: Words) -> tuple[Team, str]:
    """`OLD to NEW`, both names of any length: split at the `to` after which the words
    before it name a team (a team may be called "Back to School")."""
    tokens = words.take_all()
    cuts = [i for i, w in enumerate(tokens) if w.lower() == "to" and 0 < i < len(tokens) - 1]
    if not cuts:
        raise UsageError("teams.rename_usage")
    for i in cuts:
        team = queries.find_team(ctx.session, workspace_id=ctx.ws, name=" ".join(tokens[:i]))
        if team is not None:
            return team, " ".join(tokens[i + 1 :])
    return ctx.team_named(" ".join(tokens[: cuts[0]])), ""  # refuses, naming the teams


RENAME = Converter("OLD to NEW", _rename)
# An integration's name: one word (it travels in the X-Pacer-Integration header).
INTEGRATION = Converter(
    "NAME", lambda _ctx, words: integrations.checked_name(" ".join(words.take_all()))
)

COMMANDS = (
    # --- /deal ---------------------------------------------------------------------------
    Command(
        "/deal",
        deal.log_mine,
        (Arg("words", DEAL_WORDS, optional=True),),
        options=deal.KEYS,
        bare=deal.open_form,
        bare_writes=False,  # the form: its submission writes
        help="deal.help",
    ),
    Command("/deal list", deal.list_deals, writes=False),
    Command(
        "/deal edit",
        deal.edit,
        (Arg("deal_id", ID), Arg("words", EDIT_WORDS, optional=True)),
        tuple(k for k in deal.KEYS if k != "team"),  # a new deal's team, not an edit's
    ),
    Command("/deal delete", deal.delete, (Arg("deal_id", ID),)),
    Command("/deal restore", deal.restore, (Arg("deal_id", ID),), aliases=("undo",)),
    Command(
        "/deal stage",
        deal.set_stage,
        (Arg("deal_id", ID), Arg("stage", STAGE)),
    ),
    Command(
        "/deal for",
        deal.log_for,
        (Arg("rep", MENTION), Arg("words", DEAL_WORDS, optional=True)),
        deal.KEYS,
        role=Role.MANAGER,
    ),
    Command(
        "/deal paid",
        payment.paid,
        (Arg("deal_id", ID), Arg("amount_text", ANY_AMOUNT, optional=True)),
        ("date",),
    ),
    # --- /goal ---------------------------------------------------------------------------
    Command("/goal", goal.my_goals, help="goal.help", writes=False),
    Command(
        "/goal set",
        goal.set_goal,
        (
            Arg("owner", GOAL_OWNER),
            Arg("amount", TAIL_AMOUNT),
            Arg("period", PERIOD),
            Arg("metric", tail_choice(goal.SETTABLE_METRICS), optional=True),
        ),
        ("team",),  # a rep's goal on another of their teams than the home one
        role=Role.MANAGER,
    ),
    Command(
        "/goal split",
        goal_tree.split,
        (
            Arg("goal_id", ID),
            Arg("unit", choice("", goal_tree.SPLIT_UNITS)),
            Arg("method", SPLIT_METHOD, optional=True),
        ),
        ("include", "weights"),  # include:past also splits into periods already over
        role=Role.MANAGER,
    ),
    Command(
        "/goal tree",
        goal_tree.tree,
        (Arg("team", TEAM, optional=True), Arg("period", PERIOD, optional=True)),
        writes=False,
    ),
    Command(
        "/goal copy",
        goal_tree.copy,
        (
            Arg("source", FROM_PERIOD),
            Arg("to", literal("to")),
            Arg("dest", FROM_PERIOD),
            Arg("team", TEAM, optional=True),
        ),
        role=Role.MANAGER,
    ),
    Command(
        "/goal adjust",
        targets.adjust,
        (Arg("goal_id", ID), Arg("amount", AMOUNT)),
        ("reason",),
        role=Role.MANAGER,
    ),
    Command("/goal history", targets.history, (Arg("goal_id", ID),), writes=False),
    Command(
        "/goal feedback",
        feedback.feedback,
        (Arg("goal_id", ID, optional=True), Arg("text", TEXT, optional=True)),
        ("propose",),
        help="feedback.help",
    ),
    Command("/goal feedback show", feedback.show, (Arg("feedback_id", ID),), writes=False),
    Command("/goal review", feedback.review, role=Role.MANAGER, writes=False),
    # --- /progress, /leaderboard ------------------------------------------------------------
    Command(
        "/progress",
        progress.handle,
        (Arg("subject", SUBJECT, optional=True), Arg("period", PERIOD, optional=True)),
        help="progress.help",
        writes=False,
    ),
    # Writes nothing, but is not declared writes=False: a long answer comes with a CSV file,
    # and its delivery is claimed so that a retry uploads no second file (as /pacer export).
    Command(
        "/progress why",
        why.why,
        (Arg("subject", SUBJECT, optional=True), Arg("period", PERIOD, optional=True)),
        help="progress.help",
    ),
    Command(
        "/progress what-if",
        bonus.what_if,
        (Arg("amount_text", AMOUNT), Arg("rep", MENTION, optional=True)),
        help="progress.help",
        writes=False,
    ),
    Command(
        "/progress all",
        progress.all_teams,
        (Arg("period", PERIOD, optional=True),),
        role=Role.ADMIN,
        help="progress.help",
        writes=False,
    ),
    Command(
        "/leaderboard",
        leaderboard.handle,
        (
            Arg("team", TEAM, optional=True),
            Arg("period", PERIOD, optional=True),
            Arg(
                "order",
                keyword("by", "revenue|deals|attainment", leaderboard.ORDERS, "error.bad_order"),
                optional=True,
            ),
        ),
        help="leaderboard.help",
        writes=False,
    ),
    # --- /pacer ----------------------------------------------------------------------------
    Command(
        "/pacer",
        pacer.overview,
        bare=pacer.overview,
        help="pacer.help",
        writes=False,
        bare_writes=False,
    ),
    # Writes nothing, but is not declared writes=False: its delivery is claimed, so a retry
    # of the command answers with the recorded reply and uploads no second file.
    Command(
        "/pacer export",
        export.export,
        (
            Arg("kind", choice("deals|goals|payments", export.KINDS)),
            Arg("scope", export.SCOPE, optional=True),
        ),
    ),
    # Opens the import modal; its submissions read and write (commands/import_modal.py).
    Command(
        "/pacer import",
        import_modal.open_form,
        role=Role.MANAGER,
        writes=False,
    ),
    Command(
        "/pacer funnel",
        analysis.funnel,
        (Arg("subject", SUBJECT, optional=True), Arg("period", PERIOD, optional=True)),
        writes=False,
    ),
    Command(
        "/pacer trend",
        analysis.trend,
        (
            Arg("subject", SUBJECT, optional=True),
            Arg("metric", tail_choice(analysis.TREND_METRICS), optional=True),
            Arg("months", MONTHS, optional=True),
        ),
        writes=False,
    ),
    Command(
        "/pacer mix",
        analysis.mix,
        (
            Arg("subject", SUBJECT, optional=True),
            Arg("period", PERIOD, optional=True),
            Arg(
                "by",
                keyword("by", "product|region|customer", queries.DIMENSIONS, "error.bad_choice"),
                optional=True,
            ),
        ),
        writes=False,
    ),
    Command(
        "/pacer bonus",
        bonus.handle,
        (Arg("subject", SUBJECT, optional=True), Arg("period", PERIOD, optional=True)),
        writes=False,
    ),
    # Writes nothing, but its delivery is claimed: a retry sends no second PDF.
    Command(
        "/pacer report",
        report.report,
        (Arg("period", report.LEADING_PERIOD, optional=True), Arg("team", TEAM, optional=True)),
        role=Role.MANAGER,
    ),
    Command("/pacer notify", pacer.notify, (Arg("state", choice("off|on", ("off", "on"))),)),
    Command(
        "/pacer setup",
        lambda ctx: pacer.setup_alone(ctx),
        bare=pacer.setup_alone,
        writes=False,
        bare_writes=False,  # the form: its submission writes
    ),
    Command("/pacer setup show", pacer.show, writes=False),
    Command(
        "/pacer setup team create",
        pacer.team_create,
        (Arg("name", NAME), Arg("channel_id", CHANNEL, optional=True)),
        TEAM_OPTIONS,
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team set",
        pacer.team_set,
        (Arg("team", TEAM_NAME), Arg("channel_id", CHANNEL, optional=True)),
        TEAM_OPTIONS,
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team add",
        pacer.team_add,
        (Arg("team", TEAM_NAME), Arg("members", MENTIONS)),
        ("as",),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team remove",
        pacer.team_remove,
        (Arg("team", TEAM_NAME), Arg("members", MENTIONS)),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup holidays add",
        pacer.holidays_add,
        (Arg("dates", Converter("DATE…", WORDS.read)),),
        ("team",),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup holidays list",
        pacer.holidays_list,
        options=("team",),
        role=Role.ADMIN,
        writes=False,
    ),
    Command(
        "/pacer setup holidays remove",
        pacer.holidays_remove,
        (Arg("dates", Converter("DATE…", WORDS.read)),),
        ("team",),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup admin add", pacer.admin_add, (Arg("members", MENTIONS),), role=Role.ADMIN
    ),
    Command(
        "/pacer setup admin remove",
        pacer.admin_remove,
        (Arg("members", MENTIONS),),
        role=Role.ADMIN,
    ),
    Command("/pacer setup admin list", pacer.admin_list, role=Role.ADMIN, writes=False),
    Command(
        "/pacer setup bonus",
        bonus.setup,
        (Arg("words", BONUS_WORDS),),
        ("per", "tiers"),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup threshold",
        pacer.threshold,
        (Arg("team", TEAM_NAME), Arg("amount_text", TAIL_AMOUNT)),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup celebrations",
        pacer.celebrations,
        (
            Arg("team", TEAM_NAME),
            Arg("count", _at_end(integer("N", 1, pacer.MAX_CELEBRATIONS, "celebrate.cap_usage"))),
        ),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup fiscal-start",
        pacer.fiscal_start,
        (Arg("month", integer("MONTH", 1, 12, "error.bad_month")),),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team move",
        pacer.team_move,
        (Arg("rep", MENTION), Arg("team", MOVE_TARGET), Arg("since", FROM_DATE, optional=True)),
        ("date",),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team archive",
        pacer.team_archive,
        (Arg("team", TEAM_NAME),),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup team unarchive",
        pacer.team_unarchive,
        (Arg("team", TEAM_NAME),),
        role=Role.ADMIN,
    ),
    # The CRM webhook's tokens (bot/webhook.py): shown once, kept as their SHA-256.
    Command(
        "/pacer setup integration create",
        integrations.create,
        (Arg("name", INTEGRATION),),
        role=Role.ADMIN,
    ),
    Command(
        "/pacer setup integration revoke",
        integrations.revoke,
        (Arg("name", INTEGRATION),),
        role=Role.ADMIN,
    ),
    Command("/pacer setup integration list", integrations.list_all, role=Role.ADMIN, writes=False),
    # Last: its example renames the team the examples before it name.
    Command(
        "/pacer setup team rename", pacer.team_rename, (Arg("names", RENAME),), role=Role.ADMIN
    ),
)


REGISTRY = Registry(COMMANDS)


def command_paths() -> list[str]:
    """Every declared path, e.g. `/deal list`, `/pacer setup team add`."""
    return REGISTRY.paths()


def slash_commands() -> list[str]:
    """The slash commands themselves, as the manifest declares them."""
    return sorted(REGISTRY.roots)


# --- buttons and forms --------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A button: its action id and what a press does with the button's value."""

    action_id: str
    run: Callable[[Ctx, str], Reply]


@dataclass(frozen=True)
class Form:
    """A modal's submission: its callback id and the handler of the submitted values
    (`values` carries the modal's metadata under `_metadata`), with the multi-select lists."""

    callback_id: str
    handler: Callable[[Ctx, dict[str, str], dict[str, list[str]]], FormResult]
    # The files the edge reads into Request.uploads first (ids of Slack files, paths).
    files: Callable[[dict[str, str], dict[str, list[str]]], list[str]] | None = None
    # Answered after the acknowledgement (a "working" view, then the result's view): it
    # may take longer than Slack's three seconds.
    slow: bool = False
    # False for a submission that only reads (a dry run): it runs in a read scope, never
    # holding SQLite's one write lock while it reads a large file.
    writes: bool = True

    def run(self, ctx: Ctx, values: dict[str, str], lists: dict[str, list[str]]) -> FormResult:
        """The handler, on text both databases store (no NUL, no lone surrogate)."""
        typed = [*values.values(), *(v for vs in lists.values() for v in vs)]
        if not all(storable(value) for value in typed):
            raise UsageError("error.bad_text")
        return self.handler(ctx, values, lists)


ACTIONS = (
    Action(progress.PAGE_ACTION, progress.turn_page),
    Action(home.PERIOD_ACTION, home.pick_period),
    Action(home.LOG_DEAL, home.log_deal),
    Action(home.REVIEW, home.review),
    Action("deal_delete", lambda ctx, value: deal.delete(ctx, parse_id(value))),
    Action("deal_restore", lambda ctx, value: deal.restore(ctx, parse_id(value))),
    Action(feedback.OPEN, lambda ctx, value: feedback.open_feedback_form(ctx, parse_id(value))),
    Action(feedback.ACCEPT, lambda ctx, value: feedback.accept(ctx, parse_id(value))),
    Action(
        feedback.ADJUST,
        lambda ctx, value: feedback.open_answer_form(ctx, parse_id(value), feedback.ADJUST_FORM),
    ),
    Action(
        feedback.DECLINE,
        lambda ctx, value: feedback.open_answer_form(ctx, parse_id(value), feedback.DECLINE_FORM),
    ),
)
FORMS = (
    Form(deal.FORM_ID, lambda ctx, values, _lists: deal.submit_form(ctx, values)),
    Form(pacer.FORM_ID, pacer.submit_form),
    Form(feedback.NEW_FORM, lambda ctx, values, _lists: feedback.submit_feedback_form(ctx, values)),
    Form(feedback.ADJUST_FORM, lambda ctx, values, _lists: feedback.submit_adjust(ctx, values)),
    Form(feedback.DECLINE_FORM, lambda ctx, values, _lists: feedback.submit_decline(ctx, values)),
    Form(
        import_modal.FORM_ID,
        import_modal.preview,
        import_modal.files_to_read,
        slow=True,
        writes=False,
    ),
    Form(import_modal.CONFIRM_ID, import_modal.confirm, import_modal.files_to_read, slow=True),
)
ACTION_BY_ID = {a.action_id: a for a in ACTIONS}
FORM_BY_ID = {f.callback_id: f for f in FORMS}
