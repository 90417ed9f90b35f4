"""The command registry: every command declared once, and what comes from the declarations
(help per subcommand, usage errors with the example of the command typed, did you mean)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from commands.i18n import catalog, t
from commands.registry import COMMANDS, REGISTRY, command_paths
from storage.models import AuditEntry, Deal, Goal
from tests.conftest import ADMIN, Run
from tests.messages import bad_input, usage_line
from tests.test_cmd_deal import count

ALICE = "<@UALICE|alice>"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_command_has_a_summary_and_an_example_of_itself(lang: str) -> None:
    texts = catalog(lang)
    for command in COMMANDS:
        assert command.summary_key in texts, command.path
        example = texts[command.example_key].strip("`")
        assert example == command.path or example.startswith(command.path + " "), command.path
        node, _ = REGISTRY.resolve(command.words[0], example.partition(" ")[2]) or (None, [])
        assert node is not None and node.command is command, example


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_example_follows_its_grammar(team: Run, lang: str) -> None:
    """Typed as they stand, the examples are understood (a refusal is fine: deal 42 may not
    exist), so no help ever shows an example that would be answered with a usage error."""
    locale = "zh-CN" if lang == "zh" else "en-US"
    team(ADMIN, "/pacer", "setup team create 华东")
    for command in COMMANDS:
        example = t(locale, command.example_key).strip("`").replace("@bob", "<@UBOB|bob>")
        example = example.replace("@王芳", "<@UWANG|王芳>").replace("@alice", ALICE)
        example = example.replace("@carol", "<@UCAROL|carol>").replace("@李强", "<@ULI|李强>")
        example = example.replace("@张伟", "<@UZHANG|张伟>")
        slash, _, text = example.partition(" ")
        reply = team(ADMIN, slash, text, locale=locale)
        assert usage_line(slash, text, locale).split(" ")[0] not in reply.text, example


def test_the_registry_knows_each_path_once_with_its_aliases() -> None:
    paths = command_paths()
    assert len(paths) == len(set(paths))
    assert {"/deal", "/deal list", "/goal split", "/pacer setup team add"} <= set(paths)
    found = REGISTRY.resolve("/deal", "undo 42")
    assert found is not None and found[0].command is not None
    assert found[0].command.path == "/deal restore"


def test_help_of_a_subcommand_shows_its_own_grammar(team: Run) -> None:
    split = team("UMIA", "/goal", "split help").text
    assert split.splitlines() == [
        "`/goal split ID months|quarters|weeks|reps [even|workdays|seasonal|weights:3,3,4] "
        "[include:… weights:…]`",
        t("en", "cmd.goal_split"),
        "Example: `/goal split 7 months seasonal`",
    ]
    assert team("UMIA", "/goal", "help").text == t("en", "goal.help")
    assert "Usage" not in team("UMIA", "/deal", "paid 帮助").text  # the Chinese word too


def test_a_group_lists_its_subcommands(team: Run) -> None:
    reply = team(ADMIN, "/pacer", "setup team")
    assert reply.text.splitlines() == [
        "*/pacer setup team* commands:",
        "• `/pacer setup team create NAME [#channel] [tz:… currency:… hour:… channel:…]` — "
        + t("en", "cmd.pacer_setup_team_create"),
        "• `/pacer setup team set TEAM [#channel] [tz:… currency:… hour:… channel:…]` — "
        + t("en", "cmd.pacer_setup_team_set"),
        "• `/pacer setup team add TEAM @user… [as:…]` — " + t("en", "cmd.pacer_setup_team_add"),
        "• `/pacer setup team remove TEAM @user…` — " + t("en", "cmd.pacer_setup_team_remove"),
        "• `/pacer setup team move @rep to NAME [from DATE] [date:…]` — "
        + t("en", "cmd.pacer_setup_team_move"),
        "• `/pacer setup team archive TEAM` — " + t("en", "cmd.pacer_setup_team_archive"),
        "• `/pacer setup team unarchive TEAM` — " + t("en", "cmd.pacer_setup_team_unarchive"),
        "• `/pacer setup team rename OLD to NEW` — " + t("en", "cmd.pacer_setup_team_rename"),
    ]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("lsit", "/deal list"),
        ("delte 3", "/deal delete"),
        ("stgae 3 won", "/deal stage"),
    ],
)
def test_a_mistyped_subcommand_gets_did_you_mean(
    team: Run, engine: Engine, typed: str, meant: str
) -> None:
    reply = team("UALICE", "/deal", typed)
    assert (reply.ok, reply.text) == (False, t("en", "error.did_you_mean", command=meant))
    assert count(engine, Deal) == 0


def test_a_real_customer_is_not_mistaken_for_a_subcommand(team: Run, engine: Engine) -> None:
    # "List" is close to `list`, but `/deal 500 List Ltd` is a deal.
    assert team("UALICE", "/deal", "500 List Ltd").ok
    assert count(engine, Deal) == 1


@pytest.mark.parametrize(
    ("command", "text", "key", "values"),
    [
        # A bad amount shows the example of the command typed, not of /deal.
        ("/goal", "adjust {gid} 0 reason:x", "amount.not_positive", {"value": "0"}),
        ("/goal", "adjust {gid} 12.345 reason:x", "amount.too_precise", {"value": "12.345"}),
        ("/pacer", "setup threshold East -5", "amount.negative", {"value": "-5"}),
        ("/pacer", "setup threshold East 0", "amount.not_positive", {"value": "0"}),
        ("/goal", "set {alice} 1,000 2026-15", "error.bad_period", {"value": "2026-15"}),
        ("/deal", "paid 1 lots", "amount.invalid", {"value": "lots"}),
        ("/pacer", "setup celebrations East 99", "celebrate.cap_usage", {"value": "99"}),
        ("/pacer", "notify maybe", "error.bad_choice", {"value": "maybe", "choices": "off, on"}),
    ],
)
def test_bad_input_shows_the_example_of_the_command_typed(
    team: Run, engine: Engine, command: str, text: str, key: str, values: dict[str, str]
) -> None:
    team("UMIA", "/goal", f"set {ALICE} 100000 2026-11")
    team("UALICE", "/deal", "1,000 Acme")
    before = (count(engine, Goal), count(engine, AuditEntry), count(engine, Deal))
    typed = text.format(gid=1, alice=ALICE)
    reply = team(ADMIN, command, typed)
    assert (reply.ok, reply.text) == (False, bad_input(command, typed, key, **values))
    assert (count(engine, Goal), count(engine, AuditEntry), count(engine, Deal)) == before


def test_admin_commands_are_refused_before_their_arguments_are_read(team: Run) -> None:
    # A non-admin's typo in an admin command is refused, not explained: no grammar leaks.
    reply = team("UALICE", "/pacer", "setup threshold East lots")
    assert (reply.ok, reply.text) == (False, t("en", "error.admins_only"))
