"""The one entry point from any adapter (Slack, console): command text in, Reply out.

Words resolve to a declared command (commands/registry.py), its role is checked, its
arguments converted, and its handler run. Bad input (UsageError, AmountError) answers
with the problem and an example of the command that was typed; a refusal (Refused) with
its reason. Either way everything is rolled back and only the sender sees the answer.
A command declared read-only (and help, and any answer to words no command takes) runs
in a read scope (`in_scope`): it never waits for SQLite's write lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import Engine
from sqlmodel import Session

from commands import codec, home, markup
from commands.context import Ctx
from commands.grammar import HELP_WORDS, Command, Node, Role, parse
from commands.i18n import t
from commands.parsing import Refused, UsageError
from commands.registry import ACTION_BY_ID, FORM_BY_ID, REGISTRY
from commands.types import FormResult, Reply, Request
from domain.money import AmountError
from storage import engine, queries

log = logging.getLogger(__name__)
# Answers that already say what to type instead: no usage line under them.
OWN_HELP = ("error.did_you_mean", "error.unknown_subcommand")


def dispatch(command: str, req: Request, session: Session) -> Reply:
    """Run a slash command. Bad input rolls back everything and answers only the sender."""
    found = REGISTRY.resolve(command, req.text)
    if found is None:
        return Reply(text=t(req.locale, "error.unknown_command", command=command), ok=False)
    node, words = found
    return _guarded(req, session, lambda ctx: _run(ctx, node, words), node)


def writes(command: str, text: str) -> bool:
    """Whether the command as typed may write, as `_run` would run it: help, a group's
    list and words no command takes never do; a command does unless declared otherwise."""
    found = REGISTRY.resolve(command, text)
    if found is None:
        return False
    node, words = found
    if _asks_help(words) or _is_unknown(node, words):
        return False
    assert node.command is not None
    if not words and node.command.bare is not None:
        return node.command.bare_writes
    return node.command.writes


def in_scope(db: Engine, command: str, text: str, run: Callable[[Session], Reply]) -> Reply:
    """`run`, the dispatch of the command as typed, in the scope it needs: a read scope
    for one that only reads (run again writing if it writes after all)."""
    if writes(command, text):
        return engine.scoped(db, run)
    return engine.scoped(db, lambda session: checked_read(run(session), command), writes=False)


def checked_read(reply: Reply, command: str) -> Reply:
    """The reply of a command run read-only: one that sends or changes messages (recorded
    in the outbox, each in a transaction of its own) is declared wrong."""
    if reply.notices or reply.updates or reply.retracts:
        if engine.STRICT_READS:
            raise engine.WriteInReadScope(f"{command} sends notices but is declared read-only")
        log.warning("%s sends notices but is declared read-only", command)
    return reply


def _asks_help(words: list[str]) -> bool:
    return [w.lower() for w in words] in ([w] for w in HELP_WORDS)


def _is_unknown(node: Node, words: list[str]) -> bool:
    command = node.command
    return command is None or bool(words and node.children and not command.args)


def _run(ctx: Ctx, node: Node, words: list[str]) -> Reply:
    if _asks_help(words):
        return Reply(text=help_text(ctx, node))
    command = node.command
    if command is None or _is_unknown(node, words):
        return _unknown(ctx, node, words)
    _check_role(ctx, command)
    if not words and command.bare is not None:
        return command.bare(ctx)
    try:
        return command.run(ctx, **parse(ctx, command, words))
    except (UsageError, AmountError):
        suggestion = REGISTRY.suggest(node, words[0]) if words and node.children else None
        if suggestion is None:
            raise
        raise UsageError("error.did_you_mean", command=suggestion) from None


def _unknown(ctx: Ctx, node: Node, words: list[str]) -> Reply:
    """A group's path alone shows its help; a word it does not know gets a suggestion."""
    if not words:
        return Reply(text=help_text(ctx, node))
    suggestion = REGISTRY.suggest(node, words[0])
    if suggestion is not None:
        raise UsageError("error.did_you_mean", command=suggestion)
    choices = ", ".join(f"`{node.path} {name}`" for name in node.names())
    raise UsageError("error.unknown_subcommand", word=words[0], path=node.path, choices=choices)


def _check_role(ctx: Ctx, command: Command) -> None:
    """Admin commands are checked here, before any argument is read (a refused command
    writes nothing, not even a member row for a mentioned user). Manager commands check
    the team concerned themselves (ctx.require_manager), which only they know."""
    if command.role is Role.ADMIN and not ctx.me.is_admin:
        raise Refused("error.admins_only")


def help_text(ctx: Ctx, node: Node) -> str:
    """A written help for the command if it has one, else its usage, summary and example;
    a group lists its subcommands."""
    command = node.command
    if command is not None and command.help:
        return ctx.t(command.help)
    if command is not None and not node.children:
        return "\n".join(
            [f"`{command.usage()}`", ctx.t(command.summary_key), _example_line(ctx, command)]
        )
    lines = [ctx.t("help.group", path=node.path)]
    lines += [f"• `{c.usage()}` — {ctx.t(c.summary_key)}" for c in node.leaves()]
    return "\n".join(lines)


def _example_line(ctx: Ctx, command: Command) -> str:
    return ctx.t("help.example", example=ctx.t(command.example_key))


def action(action_id: str, value: str, req: Request, session: Session) -> Reply:
    """A button press: Undo and Delete under deal replies, the answers to feedback."""
    found = ACTION_BY_ID.get(action_id)
    if found is None:
        return Reply(text=t(req.locale, "error.unknown_action"), ok=False)
    return _guarded(req, session, lambda ctx: found.run(ctx, value))


def home_tab(req: Request, session: Session, period: str | None = None) -> Reply:
    """The App Home tab of the asker (commands/home.py): a read, claimed by no delivery."""
    return _execute(req, session, lambda ctx: home.dashboard(ctx, period), None)


def submit(
    callback_id: str,
    values: dict[str, str],
    lists: dict[str, list[str]],
    req: Request,
    session: Session,
) -> FormResult:
    """A form (modal) submission: field errors keep the form open, nothing is written."""
    form = FORM_BY_ID.get(callback_id)
    if form is None:
        return FormResult(reply=Reply(text=t(req.locale, "error.unknown_action"), ok=False))
    result: FormResult | None = None

    def run(ctx: Ctx) -> Reply:
        nonlocal result
        result = form.run(ctx, values, lists)
        return result.reply or Reply(text="", ok=result.ok and not result.errors)

    reply = _guarded(req, session, run)
    return result if result is not None else FormResult(reply=reply)  # None: it raised


def form_files(callback_id: str, values: dict[str, str], lists: dict[str, list[str]]) -> list[str]:
    """The files a form's submission needs read before it runs (Request.uploads)."""
    form = FORM_BY_ID.get(callback_id)
    return form.files(values, lists) if form is not None and form.files is not None else []


def form_writes(callback_id: str) -> bool:
    """Whether the submission may write (registry.Form.writes): else a read scope runs it."""
    form = FORM_BY_ID.get(callback_id)
    return form is None or form.writes


def slow_form(callback_id: str) -> bool:
    """Whether the submission is answered after its acknowledgement (registry.Form.slow)."""
    form = FORM_BY_ID.get(callback_id)
    return form is not None and form.slow


def _guarded(
    req: Request, session: Session, run: Callable[[Ctx], Reply], node: Node | None = None
) -> Reply:
    """Run once per delivery: a request with a key (Slack's trigger or view id, a button
    press) is recorded with its reply in the transaction of its writes, so a retry or a
    replay of it is answered with that reply and writes nothing. The claim comes first:
    a concurrent delivery of the same key waits for it instead of running beside it.
    A read (a read scope's session) claims nothing: run again, it answers the same."""
    key = req.request_key
    if key is None or engine.reads_only(session):
        return _execute(req, session, run, node)
    claim = queries.claim_delivery(session, workspace_id=req.workspace_id, request_key=key)
    if claim is None:  # run before, or meanwhile by another request
        return _recorded(req, session, key) or Reply(text=t(req.locale, "error.internal"), ok=False)
    reply = _execute(req, session, run, node)
    if not reply.ok:
        return reply  # rolled back, the claim with it: a retry runs again
    if reply.form is not None:  # a form opened is not an answer: its submission is
        queries.drop_delivery(session, delivery_id=claim)
    else:
        recorded = reply if reply.replay is None else replace(reply, text=reply.replay)
        queries.answer_delivery(session, delivery_id=claim, reply=codec.encode_reply(recorded))
    return reply


def _recorded(req: Request, session: Session, key: str) -> Reply | None:
    row = queries.get_delivery(session, workspace_id=req.workspace_id, request_key=key)
    if row is None or row.reply is None:
        return None
    log.info("delivery %s answered before: its reply again, nothing run", key)
    return codec.decode_reply(row.reply)


def _execute(
    req: Request, session: Session, run: Callable[[Ctx], Reply], node: Node | None
) -> Reply:
    try:
        reply = run(Ctx.load(req, session))
    except (UsageError, AmountError, Refused) as err:
        session.rollback()
        return Reply(text=_explain(req, err, node), ok=False)
    except (engine.WriteInReadScope, engine.NeedsWrite):
        raise  # a read that writes: engine.scoped runs it again writing
    except Exception:
        session.rollback()
        log.exception("command failed: %r", req.text)
        return Reply(text=t(req.locale, "error.internal"), ok=False)
    if not reply.ok:
        session.rollback()  # a refusal writes nothing, not even the member row
    return reply


def _explain(req: Request, err: UsageError | AmountError | Refused, node: Node | None) -> str:
    """The problem; for bad input, with the example of the command that was typed."""
    if isinstance(err, AmountError):
        text = t(req.locale, err.reason, value=markup.escape(err.text))
    else:
        text = t(req.locale, err.key, **err.values)
    command = node.command if node is not None else None
    if isinstance(err, Refused) or command is None or err_key(err) in OWN_HELP:
        return text
    example = t(req.locale, command.example_key)
    return f"{text}\n{t(req.locale, 'help.usage', usage=command.usage(), example=example)}"


def err_key(err: UsageError | AmountError) -> str:
    return err.reason if isinstance(err, AmountError) else err.key
