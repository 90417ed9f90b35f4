"""`/pacer import`: the modal that imports a CRM's CSV file, in three views.

1. The form: what (deals or goals), the file (Slack's file_input), and the options the
   command line takes as flags (team, date order, custom stage names).
2. Its submission runs the dry run on the file: the same preview as `--dry-run`, with an
   Import button; or the file's errors over the same form, to choose a fixed file.
3. Import runs it for real (all or nothing) and shows what it did.

The edge reads the file (Request.uploads) before each submission runs, and answers the
submission at once with a "working" view: a file of thousands of rows takes longer than
Slack's three seconds. The second view carries the file's reference and the options in
its metadata, so Import reads the same file again; importing is idempotent (records by
their CRM id), so a confirmation run twice writes once.
"""

from __future__ import annotations

import json
from typing import Any

from commands import import_goals, imports, markup
from commands.context import Ctx
from commands.parsing import Refused
from commands.types import Field, Form, FormResult, Reply, Upload
from domain import crm_csv
from storage import queries
from storage.models import Team

FORM_ID = "import_file"
CONFIRM_ID = "import_confirm"
KINDS = ("deals", "goals")
# The options carried from the preview to the confirmation (private_metadata: 3,000).
METADATA_LIMIT = 3000


def open_form(ctx: Ctx) -> Reply:
    """/pacer import: the form, for admins and for managers (of the teams they manage)."""
    teams = importable_teams(ctx)
    if not ctx.me.is_admin and not teams:
        raise Refused("import.form.managers_only")
    return Reply(text="", form=import_form(ctx, teams))


def importable_teams(ctx: Ctx) -> list[Team]:
    """The live teams this member may import into: every one for an admin."""
    if ctx.me.is_admin:
        teams = list(queries.list_teams(ctx.session, workspace_id=ctx.ws))
    else:  # one query for the teams they manage, not one per team of the workspace
        rows = queries.memberships_of(ctx.session, member_id=ctx.my_id)
        teams = sorted((t for t, role in rows if role == "manager"), key=lambda t: t.name)
    return [t for t in teams if not t.archived_at]


def import_form(
    ctx: Ctx, teams: list[Team], problems: str = "", chosen: dict[str, str] | None = None
) -> Form:
    """The form; after a file with errors, the same form under them, as it was filled in."""
    chosen = chosen or {}
    team_options = [(str(t.id), t.name) for t in teams]
    fields = [
        Field(
            "what",
            ctx.t("import.form.what"),
            kind="select",
            options=[(k, ctx.t(f"import.form.kind_{k}")) for k in KINDS],
            initial=chosen.get("what", "deals"),
        ),
        Field("file", ctx.t("import.form.file"), kind="file", hint=ctx.t("import.form.file_hint")),
        Field(
            "team",
            ctx.t("import.form.team"),
            kind="select",
            required=not ctx.me.is_admin and len(teams) == 1,
            options=team_options,
            initial=chosen.get("team") or (team_options[0][0] if len(teams) == 1 else None),
            hint=ctx.t("import.form.team_hint"),
        ),
        Field(
            "date_format",
            ctx.t("import.form.dates"),
            kind="select",
            required=False,
            options=[(o.value, ctx.t(f"import.form.dates_{o.value}")) for o in crm_csv.DateOrder],
            initial=chosen.get("date_format") or None,
            hint=ctx.t("import.form.dates_hint"),
        ),
        Field(
            "stages",
            ctx.t("import.form.stages"),
            kind="long_text",
            required=False,
            initial=chosen.get("stages") or None,
            placeholder="Verbal Yes = negotiation",
            hint=ctx.t("import.form.stages_hint"),
        ),
    ]
    intro = ctx.t("import.form.intro")
    return Form(
        callback_id=FORM_ID,
        title=ctx.t("import.form.title"),
        submit=ctx.t("import.form.check"),
        fields=fields,
        metadata=ctx.req.channel_id or "",
        intro=f"{problems}\n\n{intro}" if problems else intro,
    )


def preview(ctx: Ctx, values: dict[str, str], _lists: dict[str, list[str]]) -> FormResult:
    """The file checked as a dry run: its preview and an Import button, or its errors."""
    teams = importable_teams(ctx)
    if not ctx.me.is_admin and not teams:
        raise Refused("import.form.managers_only")
    if not ctx.req.uploads:
        return FormResult(errors={"file": ctx.t("import.form.no_file")})
    options = _options(ctx, values, teams)
    if isinstance(options, FormResult):
        return options
    upload = ctx.req.uploads[0]
    text, ok = _run(ctx, options, upload, dry_run=True)
    if not ok:
        return FormResult(form=import_form(ctx, teams, text, values))
    metadata = json.dumps({**options, "file": upload.ref, "name": upload.name})
    if len(metadata) > METADATA_LIMIT:
        return FormResult(errors={"stages": ctx.t("import.form.stages_too_long")})
    intro = f"{ctx.t('import.form.checked', name=markup.escape(upload.name))}\n{text}"
    return FormResult(
        form=Form(
            callback_id=CONFIRM_ID,
            title=ctx.t("import.form.title"),
            submit=ctx.t("import.form.import"),
            fields=[],
            metadata=metadata,
            intro=intro,
        )
    )


def confirm(ctx: Ctx, values: dict[str, str], _lists: dict[str, list[str]]) -> FormResult:
    """Import the file the preview checked; rolled back whole if anything is wrong now."""
    options = carried(values.get("_metadata", ""))
    if not ctx.req.uploads:
        raise Refused("import.form.file_gone")
    teams = importable_teams(ctx)
    if not ctx.me.is_admin and not teams:
        raise Refused("import.form.managers_only")
    upload = ctx.req.uploads[0]
    text, ok = _run(ctx, options, upload, dry_run=False)
    title = ctx.t("import.form.done_title" if ok else "import.form.failed_title")
    done = Form(callback_id=CONFIRM_ID, title=title, submit="", fields=[], intro=text)
    return FormResult(form=done, ok=ok)  # not ok: the router rolls back every write


def carried(metadata: str) -> dict[str, Any]:
    """The preview's options and file, as the confirmation carries them."""
    try:
        found = json.loads(metadata)
    except ValueError:
        found = None
    if not isinstance(found, dict) or found.get("what") not in KINDS:
        raise Refused("import.form.file_gone")
    return found


def files_to_read(values: dict[str, str], lists: dict[str, list[str]]) -> list[str]:
    """What the edge reads before a submission runs: the form's file, or the one the
    preview checked (its reference in the metadata)."""
    if "file" in lists:
        return lists["file"][:1]
    try:
        found = json.loads(values.get("_metadata") or "")
    except ValueError:
        return []
    ref = found.get("file") if isinstance(found, dict) else None
    return [ref] if isinstance(ref, str) and ref else []


def _options(ctx: Ctx, values: dict[str, str], teams: list[Team]) -> dict[str, Any] | FormResult:
    what = values.get("what") or "deals"
    if what not in KINDS:
        return FormResult(errors={"what": ctx.t("import.form.what_unknown")})
    team = next((t for t in teams if str(t.id) == values.get("team")), None)
    if values.get("team") and team is None:
        return FormResult(errors={"team": ctx.t("import.form.team_unknown")})
    stages = values.get("stages") or ""
    try:
        crm_csv.parse_stage_map(stages.splitlines())
    except crm_csv.FileError as err:
        return FormResult(errors={"stages": ctx.t(err.key, **_escaped(err.values))})
    date_format = values.get("date_format") or None
    return {
        "what": what,
        "team": team.name if team else None,
        "date_format": date_format,
        "stages": stages,
    }


def _run(ctx: Ctx, options: dict[str, Any], upload: Upload, *, dry_run: bool) -> tuple[str, bool]:
    """The deals or goals import of the upload, described for Slack."""
    importer = imports.Importer(actor=ctx.req.user_id, member=ctx.me)
    lookup = slack_lookup(ctx)
    note = "import.form.press_import"
    try:
        lines = imports.text_lines(upload.content)
    except crm_csv.FileError as err:
        return ctx.t(err.key, **_escaped(err.values)), False
    if options["what"] == "goals":
        goal_plan = import_goals.import_goals(
            ctx.session,
            workspace_id=ctx.ws,
            lines=lines,
            team=options.get("team"),
            importer=importer,
            lookup=lookup,
            now=ctx.req.now,
            dry_run=dry_run,
        )
        return import_goals.describe(goal_plan, ctx.fmt, dry_run, slack=True, note=note), (
            goal_plan.ok
        )
    deal_options = imports.Options(
        team=options.get("team"),
        date_format=options.get("date_format"),
        stages=crm_csv.parse_stage_map(str(options.get("stages") or "").splitlines()),
    )
    plan = imports.import_deals(
        ctx.session,
        workspace_id=ctx.ws,
        lines=lines,
        options=deal_options,
        importer=importer,
        lookup=lookup,
        now=ctx.req.now,
        dry_run=dry_run,
    )
    return imports.describe(plan, ctx.fmt, dry_run, slack=True, note=note), plan.ok


def slack_lookup(ctx: Ctx) -> imports.Lookup:
    """The edge's users.lookupByEmail, in the import's terms (NoLookup where it has none)."""
    ask = ctx.req.lookup_email

    def lookup(email: str) -> tuple[str, str] | None:
        if ask is None:
            raise imports.NoLookup(email)
        try:
            return ask(email)
        except LookupError as err:
            raise imports.NoLookup(email) from err

    return lookup


def _escaped(values: dict[str, object]) -> dict[str, object]:
    return {k: markup.escape(v) if isinstance(v, str) else v for k, v in values.items()}
