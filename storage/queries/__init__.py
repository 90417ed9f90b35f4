"""Small keyword-only queries that take a session, by topic. Aggregation happens in SQL.

Callers use the names from here: `from storage import queries; queries.add_deal(...)`.
"""

from __future__ import annotations

from storage.queries.audit import audit_trail, last_audit_id, save_audited, snapshot
from storage.queries.celebrations import (
    CELEBRATE,
    LIVE_NOTICE,
    celebrated_between,
    twice_median_won,
    uncelebrated_big_deals,
)
from storage.queries.deals import (
    add_deal,
    add_payment,
    change_deal,
    get_deal,
    paid_on_deal,
    recent_deals,
    team_has_deals,
)
from storage.queries.deliveries import (
    answer_delivery,
    claim_delivery,
    drop_delivery,
    get_delivery,
)
from storage.queries.directory import (
    Joined,
    Left,
    all_teams,
    ensure_member,
    find_team,
    get_member,
    get_workspace,
    holiday_rows,
    holidays,
    inserted,
    list_teams,
    manages,
    mark_installed,
    mark_uninstalled,
    members_during,
    membership,
    memberships_of,
    recredit_deals,
    remove_holidays,
    remove_membership,
    set_home,
    set_membership,
    team_members,
    team_of,
    team_roster,
    uninstalled_workspaces,
    workspace_admins,
)
from storage.queries.feedback import (
    feedback_list,
    get_feedback,
    open_feedback_of_team,
    settle_feedback,
)
from storage.queries.goals import (
    add_goal,
    delete_goal,
    get_goal,
    keep_goal,
    live_children,
    live_goals,
    new_goal,
    save_goal,
)
from storage.queries.metrics import (
    WON_LIVE,
    biggest_won_deal,
    by_owner,
    collected,
    daily_totals,
    new_customers,
    open_deals_of_team,
    open_pipeline,
    totals_by_owner,
    totals_over,
)
from storage.queries.outbox import (
    claim_message,
    claim_retry,
    mark_message,
    reopen_message,
    sent_message,
    unsent_messages,
)

# isort: split
# goalreads (issue 10): goal reads bounded by the owners shown.
from storage.queries.goals import (
    owner_goals_inside,
    rep_targets,
    scope_part_sums,
    team_goals_within,
)

# isort: split
# Customers kept from the deals (issue 10: new and quiet customers at 5M deals).
from storage.queries.customers import quiet_customers_of_team, rebuild_customers
from storage.queries.outbox import recorded_keys

# isort: split
# rollup (issue 10): team and rep sums over a period read a per-day rollup.
from storage.queries.repdays import rebuild_repdays

# isort: split
# Deals from a CRM, by its record id (issue 11).
from storage.queries.external import (
    ExternalDeal,
    Outcome,
    existing_by_external,
    outcome_for,
    upsert_external,
)

# isort: split
# The CRM webhook's integration tokens (issue 11).
# The CSV import (issue 11): a batch of records with one flush.
from storage.queries.external import Upsert, deals_by_number, upsert_many
from storage.queries.flushed import deferred_upkeep
from storage.queries.integrations import (
    add_integration,
    integration_by_hash,
    live_integration,
    live_integrations,
    revoke_integration,
    touch_integration,
)

# isort: split
# Stage history and the funnel (issue 12).
from storage.queries.bonus import (
    bonus_overrides,
    bonus_plan,
    set_bonus_override,
    set_bonus_plan,
)
from storage.queries.customers import new_customer_list
from storage.queries.goals import month_targets
from storage.queries.metrics import payment_list
from storage.queries.mix import DIMENSIONS, Mix, Part, mix
from storage.queries.stages import (
    FUNNEL_STAGES,
    FunnelRow,
    backfill_stages,
    funnel_rows,
    funnel_rows_by_owner,
    stage_history,
)
from storage.queries.workings import (
    DealFact,
    Near,
    ReasonPart,
    Summary,
    why_rows,
    why_summary,
)

__all__ = [
    "CELEBRATE",
    "DIMENSIONS",
    "FUNNEL_STAGES",
    "LIVE_NOTICE",
    "WON_LIVE",
    "DealFact",
    "FunnelRow",
    "Joined",
    "Left",
    "Mix",
    "Near",
    "Part",
    "ReasonPart",
    "Summary",
    "add_deal",
    "add_goal",
    "add_payment",
    "all_teams",
    "answer_delivery",
    "audit_trail",
    "backfill_stages",
    "biggest_won_deal",
    "bonus_overrides",
    "bonus_plan",
    "by_owner",
    "celebrated_between",
    "change_deal",
    "claim_delivery",
    "claim_message",
    "claim_retry",
    "collected",
    "daily_totals",
    "delete_goal",
    "drop_delivery",
    "ensure_member",
    "feedback_list",
    "find_team",
    "funnel_rows",
    "funnel_rows_by_owner",
    "get_deal",
    "get_delivery",
    "get_feedback",
    "get_goal",
    "get_member",
    "get_workspace",
    "holiday_rows",
    "holidays",
    "inserted",
    "keep_goal",
    "last_audit_id",
    "list_teams",
    "live_children",
    "live_goals",
    "manages",
    "mark_installed",
    "mark_message",
    "mark_uninstalled",
    "members_during",
    "membership",
    "memberships_of",
    "mix",
    "month_targets",
    "new_customer_list",
    "new_customers",
    "new_goal",
    "open_deals_of_team",
    "open_feedback_of_team",
    "open_pipeline",
    "paid_on_deal",
    "payment_list",
    "recent_deals",
    "recredit_deals",
    "remove_holidays",
    "remove_membership",
    "reopen_message",
    "save_audited",
    "save_goal",
    "sent_message",
    "set_bonus_override",
    "set_bonus_plan",
    "set_home",
    "set_membership",
    "settle_feedback",
    "snapshot",
    "stage_history",
    "team_has_deals",
    "team_members",
    "team_of",
    "team_roster",
    "totals_by_owner",
    "totals_over",
    "twice_median_won",
    "uncelebrated_big_deals",
    "uninstalled_workspaces",
    "unsent_messages",
    "why_rows",
    "why_summary",
    "workspace_admins",
]

# goalreads (issue 10)
__all__ += [
    "owner_goals_inside",
    "rep_targets",
    "scope_part_sums",
    "team_goals_within",
]
# Customers kept from the deals (issue 10).
__all__ += ["quiet_customers_of_team", "rebuild_customers", "recorded_keys"]
# rollup (issue 10).
__all__ += ["rebuild_repdays"]

__all__ += ["ExternalDeal", "Outcome", "existing_by_external", "outcome_for", "upsert_external"]


__all__ += [
    "add_integration",
    "integration_by_hash",
    "live_integration",
    "live_integrations",
    "revoke_integration",
    "touch_integration",
]
__all__ += ["Upsert", "deals_by_number", "deferred_upkeep", "upsert_many"]
