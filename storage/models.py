"""SQLModel tables. Money is stored as integer minor units of the team's currency."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

import storage.slack_tables  # noqa: F401  (Slack's installation tables, on the same metadata)
from storage import numbering
from storage.types import UTCDateTime

ROLES_IN_TEAM = ("rep", "manager")
STAGES = ("lead", "qualified", "proposal", "negotiation", "won", "lost")
OPEN_STAGES = ("lead", "qualified", "proposal", "negotiation")
METRICS = ("revenue", "deals", "new_customers", "collected")
SOURCES = ("slash", "modal", "import", "console")


def utcnow() -> datetime:
    return datetime.now(UTC)


def money_column(nullable: bool = False) -> Column[int]:
    return Column(BigInteger, nullable=nullable)


def ts_column(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class Workspace(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=32)  # Slack team id
    name: str = Field(default="", max_length=200)
    fiscal_start_month: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # Set by app_uninstalled (or the bot token revoked), cleared by a new install: while set,
    # Pacer sends nothing to the workspace on its own (jobs, retries).
    uninstalled_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", index=True, max_length=32)
    name: str = Field(max_length=80)
    channel_id: str | None = Field(default=None, max_length=32)
    tz: str = Field(default="UTC", max_length=64)
    currency: str = Field(default="USD", max_length=3)
    report_hour: str = Field(default="09:00", max_length=5)
    big_deal_minor: int | None = Field(default=None, sa_column=money_column(nullable=True))
    behind_pct: int = Field(default=90)  # behind pace below this percentage
    celebrations_per_day: int = Field(default=3)  # big-deal posts per channel per day
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # Set by `/pacer setup team archive`: the team keeps its figures but takes no new deals
    # and gets no scheduled messages.
    archived_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Member(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    user_id: str = Field(max_length=32)  # Slack user id
    name: str = Field(default="", max_length=200)
    is_admin: bool = Field(default=False)
    locale: str | None = Field(default=None, max_length=16)
    tz: str | None = Field(default=None, max_length=64)
    active: bool = Field(default=True)
    notify: bool = Field(default=True)  # direct messages Pacer sends on its own (/pacer notify)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class Membership(SQLModel, table=True):
    """A member's place on a team. A member may be on several teams; exactly one current
    membership of each member is their home team, where their deals go unless a deal names
    another. A membership that ended (removed, moved away) keeps its row with `left_on`, so
    the team's earlier leaderboards still show what the member sold there."""

    team_id: int = Field(foreign_key="team.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    role: str = Field(default="rep", max_length=16)  # rep | manager
    home: bool = Field(default=False)
    left_on: date | None = None  # the first day no longer on the team; None: on it now


class Holiday(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "team_id", "day"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    team_id: int | None = Field(default=None, foreign_key="team.id")  # None: every team
    day: date
    name: str = Field(default="", max_length=120)


class Counter(SQLModel, table=True):
    """The last number a workspace gave its deals, goals or feedback (storage/numbering.py)."""

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=32)
    kind: str = Field(primary_key=True, max_length=16)  # the numbered table: deal | goal | ...
    last: int = Field(default=0)


def number_index(table: str) -> Index:
    """Numbers shown as `#N` are unique per workspace, not across workspaces."""
    return Index(f"ux_{table}_number", "workspace_id", "number", unique=True)


LIVE_GOAL = "deleted_at IS NULL AND "
# (name, columns, where): rep goals, team goals, workspace goals (migration 0006).
LIVE_GOAL_INDEXES = [
    (
        f"ux_goal_live_{kind}",
        ("workspace_id", "scope", *subject, "metric", "starts_on", "ends_on"),
        text(LIVE_GOAL + where),
    )
    for kind, subject, where in (
        ("rep", ("team_id", "member_id"), "member_id IS NOT NULL"),
        ("team", ("team_id",), "team_id IS NOT NULL AND member_id IS NULL"),
        ("workspace", (), "team_id IS NULL AND member_id IS NULL"),
    )
]


class Goal(SQLModel, table=True):
    __table_args__ = (
        # Goals by owner and dates (migration 0012): a rep's goals, and a team's own and its
        # reps' goals (their targets summed), read without the workspace's other goals. A
        # rep's goals lead with the end date: those not over yet (covering today) are a
        # range of the index, however many goals the rep had before.
        Index("ix_goal_member_dates", "workspace_id", "member_id", "ends_on", "starts_on"),
        Index("ix_goal_team_dates", "workspace_id", "team_id", "scope", "starts_on", "ends_on"),
        # One live goal per subject, metric and dates: two managers setting it at once
        # write one. One index per kind of subject, as NULLs never count as equal.
        *(
            Index(name, *columns, unique=True, sqlite_where=where, postgresql_where=where)
            for name, columns, where in LIVE_GOAL_INDEXES
        ),
        number_index("goal"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    # Shown to users as `#N`: this workspace's own sequence (storage/numbering.py).
    number: int = Field(default=0)
    scope: str = Field(max_length=16)  # rep | team | workspace
    team_id: int | None = Field(default=None, foreign_key="team.id")
    member_id: int | None = Field(default=None, foreign_key="member.id")
    metric: str = Field(default="revenue", max_length=16)
    period: str = Field(max_length=10)  # label: 2026, 2026-Q4, 2026-11, 2026-W47
    starts_on: date
    ends_on: date
    # Minor units of the team's currency for money metrics, a plain count otherwise.
    target: int = Field(sa_column=money_column())
    parent_id: int | None = Field(default=None, foreign_key="goal.id")
    # How the target came about: "set" by someone (/goal set, /goal adjust), "split" from
    # its parent, "copy" of another period's goal. A re-split replaces only its own parts.
    origin: str = Field(default="set", max_length=8)
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    deleted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


DELETED = text("deleted_at IS NOT NULL")


class Deal(SQLModel, table=True):
    __table_args__ = (
        # Covering index for team sums by date (leaderboard, progress, pipeline): the
        # filter columns and the summed ones are all in it, so no table row is read.
        Index(
            "ix_deal_team_close_cover",
            "workspace_id",
            "team_id",
            "close_date",
            "stage",
            "deleted_at",
            "owner_id",
            "amount_minor",
        ),
        # A rep's sums by date (the standing line after a /deal, a rep's progress): covering
        # as the team's index is, so a year of the rep's deals reads no table row.
        Index(
            "ix_deal_owner_cover",
            "workspace_id",
            "owner_id",
            "close_date",
            "team_id",
            "stage",
            "deleted_at",
            "amount_minor",
        ),
        # A customer's deals however its name is capitalised: the customer table's upkeep.
        Index("ix_deal_customer", "workspace_id", text("lower(customer)")),
        # The deals a team logged in a day (the celebration cap, for the teams posting to a
        # channel, and the digest): one day of those teams' deals read, never the history,
        # nor the day of every other team.
        Index("ix_deal_created", "workspace_id", "team_id", "created_at"),
        Index(
            "ux_deal_request",
            "workspace_id",
            "request_key",
            unique=True,
            sqlite_where=text("request_key IS NOT NULL"),
            postgresql_where=text("request_key IS NOT NULL"),
        ),
        number_index("deal"),
        # The CRM's record id (migration 0018): an import or a webhook upserts by it.
        Index(
            "ux_deal_external",
            "workspace_id",
            "external_id",
            unique=True,
            sqlite_where=text("external_id IS NOT NULL"),
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        # The deleted deals alone (a few): the collected sums leave out their payments
        # without reading a deal row per payment.
        Index(
            "ix_deal_deleted",
            "workspace_id",
            "deleted_at",
            "id",
            sqlite_where=DELETED,
            postgresql_where=DELETED,
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    # Shown to users as `#N`: this workspace's own sequence (storage/numbering.py).
    number: int = Field(default=0)
    team_id: int = Field(foreign_key="team.id")
    owner_id: int = Field(foreign_key="member.id")
    logged_by: int = Field(foreign_key="member.id")
    amount_minor: int = Field(sa_column=money_column())
    currency: str = Field(max_length=3)
    customer: str = Field(max_length=200)
    product: str | None = Field(default=None, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    stage: str = Field(default="won", max_length=16)
    close_date: date
    source: str = Field(default="slash", max_length=16)
    note: str | None = Field(default=None, max_length=2000)
    # The Slack delivery that created the deal (trigger or view id): a retry finds it.
    request_key: str | None = Field(default=None, max_length=120)
    # The CRM's record id of an imported deal (HubSpot's Record ID, Salesforce's
    # Opportunity ID): the same record imported again updates this deal. None when typed.
    external_id: str | None = Field(default=None, max_length=120)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    deleted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


CUSTOMER_OWNER_LAST = ("workspace_id", "team_id", "owner_id", "last_deal", "name")
FIRST_WON = text("first_won IS NOT NULL")
CUSTOMER_FIRST_WON_INDEXES = [  # (name, columns), as migration 0013 makes them
    ("ix_customer_first_won", ("workspace_id", "first_won", "team_id", "owner_id", "key")),
    ("ix_customer_team_first_won", ("workspace_id", "team_id", "first_won", "owner_id", "key")),
]


class Customer(SQLModel, table=True):
    """A customer (its name lowercased: "Acme" is "acme") as one rep of one team deals with
    it, kept in step with the live deals by storage/queries/customers.py so new customers
    and quiet customers read a few rows instead of the history. Derived data, rebuilt from
    the deals at will: no foreign keys to hold up a deletion."""

    __table_args__ = (
        # New customers of the workspace, of a team, of reps: a first win's rows only, and
        # covering, so a count reads no table row.
        *(
            Index(name, *columns, sqlite_where=FIRST_WON, postgresql_where=FIRST_WON)
            for name, columns in CUSTOMER_FIRST_WON_INDEXES
        ),
        # Quiet customers: a rep's customers by their last deal, the few longest quiet read
        # in order off the index alone.
        Index("ix_customer_owner_last", *CUSTOMER_OWNER_LAST),
    )
    workspace_id: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=200)  # lower(Deal.customer)
    team_id: int = Field(primary_key=True)
    owner_id: int = Field(primary_key=True)
    name: str = Field(max_length=200)  # as the rep's deals spell it (the least of them)
    # The customer's first won day in the workspace, on the rows of the reps (and teams)
    # that won a deal from it that day: the new customer counts for them. None elsewhere.
    first_won: date | None = None
    last_deal: date  # the latest close date of the rep's live deals with it, any stage


REPDAY_TEAM_DAY = ("workspace_id", "team_id", "day", "owner_id", "won_minor", "won_count")
REPDAY_OWNER_DAY = ("workspace_id", "owner_id", "day", "team_id", "won_minor", "won_count")


class RepDay(SQLModel, table=True):
    """The won live deals of one rep on one team closed on one day: their amount and count,
    kept in step with the deals by storage/queries/repdays.py so a period's team or rep sums
    read a row per rep and day instead of every deal. Derived data, rebuilt from the deals
    at will: no foreign keys to hold up a deletion. No row where the count would be 0."""

    __table_args__ = (
        # Covering, for a team's sums by day and a rep's: the sums read no table row.
        Index("ix_repday_team_day", *REPDAY_TEAM_DAY),
        Index("ix_repday_owner_day", *REPDAY_OWNER_DAY),
    )
    workspace_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(primary_key=True)
    owner_id: int = Field(primary_key=True)
    day: date = Field(primary_key=True)  # Deal.close_date
    won_minor: int = Field(sa_column=money_column())
    won_count: int


class TeamDay(SQLModel, table=True):
    """A team's won live deals of the big-deal window as they stood on its local `day`, so
    a /deal reads a few values, not the window: how many closed in [start, day - 2] and a
    sorted band of their amounts around the median, `below` of them smaller than the band.
    The last two days are read live (storage/queries/teamdays.py says why). Written the
    first time a team needs it on a day; a deal change in the window deletes the rows."""

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=32)
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    day: date = Field(primary_key=True)
    start: date  # the window's first day
    count: int
    below: int
    band: str = Field(sa_column=Column(Text(), nullable=False))  # JSON list of minor units


class AuditEntry(SQLModel, table=True):
    __table_args__ = (Index("ix_audit_entity", "workspace_id", "entity", "entity_id"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    entity: str = Field(max_length=16)  # goal | deal
    entity_id: int
    action: str = Field(max_length=16)  # create | update | delete | restore
    actor: str = Field(max_length=32)  # Slack user id
    at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    before: str | None = None  # JSON
    after: str | None = None  # JSON
    reason: str | None = Field(default=None, max_length=500)
    # Where the change came from when not typed in Slack: import | webhook | restore.
    source: str | None = Field(default=None, max_length=16)


class Integration(SQLModel, table=True):
    """A token a CRM's webhook authenticates with (POST /integrations/deals), made by an
    admin with `/pacer setup integration create NAME`. Only its SHA-256 is kept."""

    __table_args__ = (
        Index(
            "ux_integration_live_name",
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    name: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    created_by: str = Field(max_length=32)  # Slack user id
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Payment(SQLModel, table=True):
    """Money collected on a won deal: the `collected` metric sums these by payment date."""

    __table_args__ = (
        # Covering index for the collected sums (storage/queries/metrics.py): every column
        # they filter on or add up, so no payment row is read.
        Index(
            "ix_payment_team_paid_cover",
            "workspace_id",
            "team_id",
            "paid_on",
            "deleted_at",
            "owner_id",
            "deal_id",
            "amount_minor",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    deal_id: int = Field(foreign_key="deal.id", index=True)
    team_id: int = Field(foreign_key="team.id")
    owner_id: int = Field(foreign_key="member.id")
    amount_minor: int = Field(sa_column=money_column())
    paid_on: date
    logged_by: int = Field(foreign_key="member.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    deleted_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class StageChange(SQLModel, table=True):
    """A deal entering a stage, with when: the funnel counts the stages a deal ever reached
    and the cycle time runs from its first row to its first `won`. Written for every deal
    created and every change of its stage by storage/queries/stages.py (an after-flush
    hook: no write path can forget it). History, never rewritten: a deal moved back keeps
    the furthest stage it was at."""

    __table_args__ = (
        # A deal's history in order: the funnel reads it per deal of the period.
        Index("ix_stagechange_deal", "workspace_id", "deal_id", "changed_at", "stage"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(max_length=32)
    deal_id: int = Field(foreign_key="deal.id")
    stage: str = Field(max_length=16)
    changed_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


BONUS_PERIODS = ("month", "quarter", "year")


class BonusPlan(SQLModel, table=True):
    """A team's target bonus per rep and period, and its tiers (domain/bonus.py reads
    them: `80:50,>100:100`). A team without one pays no bonus."""

    workspace_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(primary_key=True, foreign_key="team.id")
    amount_minor: int = Field(sa_column=money_column())  # in the team's currency
    per: str = Field(default="quarter", max_length=8)  # month | quarter | year
    tiers: str = Field(default="80:50,>100:100", max_length=200)
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class BonusOverride(SQLModel, table=True):
    """One rep's own target bonus on a team, in place of the team's amount."""

    workspace_id: str = Field(primary_key=True, max_length=32)
    team_id: int = Field(primary_key=True, foreign_key="team.id")
    member_id: int = Field(primary_key=True, foreign_key="member.id")
    amount_minor: int = Field(sa_column=money_column())
    updated_by: str = Field(max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


FEEDBACK_STATES = ("open", "accepted", "adjusted", "declined")


class Feedback(SQLModel, table=True):
    """A rep's word that a target looks wrong, and how a manager answered it."""

    __table_args__ = (
        Index("ix_feedback_open", "workspace_id", "status", "goal_id"),
        number_index("feedback"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    # Shown to users as `#N`: this workspace's own sequence (storage/numbering.py).
    number: int = Field(default=0)
    goal_id: int = Field(foreign_key="goal.id")
    member_id: int = Field(foreign_key="member.id")  # the rep who wrote it
    text: str = Field(max_length=2000)
    # Same unit as Goal.target: minor units for money metrics, a count otherwise.
    proposed: int | None = Field(default=None, sa_column=money_column(nullable=True))
    status: str = Field(default="open", max_length=16)
    answered_by: str | None = Field(default=None, max_length=32)  # Slack user id
    answered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    answer: str | None = Field(default=None, max_length=2000)  # the manager's note or reason
    new_target: int | None = Field(default=None, sa_column=money_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


numbering.number_on_insert(Goal, Deal, Feedback)


class SentMessage(SQLModel, table=True):
    """Every message Pacer sends on its own, under a unique key, recorded before it goes out.

    The key (e.g. "feedback:12:UMGR1" or "lag:2026-11-25:U123") makes a send happen once
    across retries, restarts and instances; channel and ts let a later event update it.
    """

    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        # A channel's posts since a moment: the day's celebrations against the cap.
        Index("ix_sentmessage_channel_created", "workspace_id", "channel_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    key: str = Field(max_length=200)
    channel_id: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)  # Slack message timestamp, once sent
    status: str = Field(default="pending", max_length=16)  # pending | sent | failed
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # When it was sent; until then, when a retry last tried it (bot/notices.retry_unsent).
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # The notice as JSON (text, recipient, buttons, locale, chart), so a retry can resend it.
    payload: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))


class Delivery(SQLModel, table=True):
    """A request Slack delivered (trigger or view id, button press), recorded with its reply
    in the transaction of its writes: a retry of it is answered with the same reply and
    writes nothing (commands/router.py)."""

    __table_args__ = (UniqueConstraint("workspace_id", "request_key"),)
    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    request_key: str = Field(max_length=200)
    reply: str | None = Field(default=None, sa_column=Column(Text(), nullable=True))  # JSON
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
