"""The one entry point from any adapter (Slack, console): command text in, Reply out."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlmodel import Session

from commands import deal, feedback, goal, leaderboard, pacer, progress
from commands.context import Ctx
from commands.i18n import t
from commands.parsing import UsageError
from commands.types import FormResult, Reply, Request
from domain.money import AmountError

log = logging.getLogger(__name__)

COMMANDS: dict[str, Callable[[Ctx], Reply]] = {
    "/deal": deal.handle,
    "/goal": goal.handle,
    "/progress": progress.handle,
    "/leaderboard": leaderboard.handle,
    "/pacer": pacer.handle,
}


def dispatch(command: str, req: Request, session: Session) -> Reply:
    """Run a slash command. Bad input rolls back everything and answers only the sender."""
    handler = COMMANDS.get(command)
    if handler is None:
        return Reply(text=t(req.locale, "error.unknown_command", command=command), ok=False)
    return _guarded(req, session, lambda ctx: handler(ctx))


def action(action_id: str, value: str, req: Request, session: Session) -> Reply:
    """A button press: Undo and Delete under deal replies."""
    actions: dict[str, Callable[[Ctx], Reply]] = {
        "deal_delete": lambda ctx: deal.delete(ctx, int(value)),
        "deal_restore": lambda ctx: deal.restore(ctx, int(value)),
        **feedback.actions(value),  # feedback on targets: open, accept, adjust, decline
    }
    if action_id not in actions:
        return Reply(text=t(req.locale, "error.unknown_action"), ok=False)
    return _guarded(req, session, actions[action_id])


def submit(
    callback_id: str,
    values: dict[str, str],
    lists: dict[str, list[str]],
    req: Request,
    session: Session,
) -> FormResult:
    """A form (modal) submission: field errors keep the form open, nothing is written."""
    forms: dict[str, Callable[[Ctx], FormResult]] = {
        deal.FORM_ID: lambda ctx: deal.submit_form(ctx, values),
        pacer.FORM_ID: lambda ctx: pacer.submit_form(ctx, values, lists),
        **feedback.forms(values),  # feedback on targets and the managers' answers
    }
    if callback_id not in forms:
        return FormResult(reply=Reply(text=t(req.locale, "error.unknown_action"), ok=False))
    try:
        result = forms[callback_id](Ctx.load(req, session))
    except (UsageError, AmountError) as err:
        session.rollback()
        return FormResult(reply=_error_reply(req, err))
    except Exception:
        session.rollback()
        log.exception("form %s failed", callback_id)
        return FormResult(reply=Reply(text=t(req.locale, "error.internal"), ok=False))
    if result.errors:
        session.rollback()
    return result


def _guarded(req: Request, session: Session, run: Callable[[Ctx], Reply]) -> Reply:
    try:
        reply = run(Ctx.load(req, session))
    except (UsageError, AmountError) as err:
        session.rollback()
        return _error_reply(req, err)
    except Exception:
        session.rollback()
        log.exception("command failed: %r", req.text)
        return Reply(text=t(req.locale, "error.internal"), ok=False)
    if not reply.ok:
        session.rollback()  # a refusal writes nothing, not even the member row
    return reply


def _error_reply(req: Request, err: UsageError | AmountError) -> Reply:
    if isinstance(err, AmountError):
        text = t(req.locale, err.reason, value=err.text)
    else:
        text = t(req.locale, err.key, **err.values)
    return Reply(text=text, ok=False)
