"""Deals from a CRM, kept by the CRM's record id: an import file or a webhook call upserts
them, so the same record sent twice writes one deal, and an edited record updates it (an
audited change with its source). Deals typed in Slack have no external id and are never
matched to a CRM record."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import insert
from sqlmodel import Session, col, select

from storage import numbering
from storage.models import AuditEntry, Deal
from storage.queries.audit import snapshot
from storage.queries.deals import add_deal, change_deal

# Fewer ids than SQLite's bound-parameter limit per lookup, with room for the rest.
LOOKUP_CHUNK = 500


@dataclass(frozen=True)
class ExternalDeal:
    """A CRM record as Pacer keeps it: the owner and team already resolved to rows."""

    external_id: str
    team_id: int
    owner_id: int
    amount_minor: int
    currency: str
    customer: str
    stage: str
    close_date: date
    product: str | None = None
    region: str | None = None
    note: str | None = None


# The deal's fields a CRM record sets (ExternalDeal's, but the id it is found by).
KEPT = tuple(f.name for f in fields(ExternalDeal) if f.name != "external_id")


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DELETED = "deleted"  # deleted in Pacer: left deleted, not brought back by the CRM


def existing_by_external(
    session: Session, *, workspace_id: str, external_ids: Iterable[str]
) -> dict[str, Deal]:
    """The workspace's deals with these external ids, deleted ones too, by external id.
    Read off ux_deal_external in chunks, so a 100,000-row file costs 200 lookups."""
    wanted = list(dict.fromkeys(external_ids))
    found: dict[str, Deal] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = session.exec(
            select(Deal).where(Deal.workspace_id == workspace_id, col(Deal.external_id).in_(chunk))
        ).all()
        found.update({row.external_id: row for row in rows if row.external_id is not None})
    return found


def changes_for(deal: Deal, record: ExternalDeal) -> dict[str, object]:
    """What the record would change on the deal: the fields that differ, with new values."""
    return {
        name: getattr(record, name) for name in KEPT if getattr(deal, name) != getattr(record, name)
    }


def outcome_for(deal: Deal | None, record: ExternalDeal) -> Outcome:
    """What upserting the record would do, without doing it (a dry run's preview)."""
    if deal is None:
        return Outcome.CREATED
    if deal.deleted_at is not None:
        return Outcome.DELETED
    return Outcome.UPDATED if changes_for(deal, record) else Outcome.UNCHANGED


def upsert_external(
    session: Session,
    *,
    workspace_id: str,
    record: ExternalDeal,
    existing: Deal | None,
    logged_by: int,
    actor: str,
    source: str,
    now: datetime,
    reason: str | None = None,
) -> tuple[Outcome, Deal | None]:
    """Create the record's deal, or update `existing` (the deal found by its external id,
    from existing_by_external) where the record changed it. Each write is audited with
    `source` (import | webhook). A deal deleted in Pacer stays deleted."""
    outcome = outcome_for(existing, record)
    if outcome is Outcome.CREATED:
        deal = Deal(
            workspace_id=workspace_id,
            external_id=record.external_id,
            logged_by=logged_by,
            source=source,
            created_at=now,
            updated_at=now,
            **{name: getattr(record, name) for name in KEPT},
        )
        add_deal(session, deal=deal, actor=actor, source=source, reason=reason)
        return outcome, deal
    assert existing is not None
    if outcome is Outcome.UPDATED:
        change_deal(
            session,
            deal=existing,
            actor=actor,
            action="update",
            changes=changes_for(existing, record),
            source=source,
            reason=reason,
            now=now,
        )
    return outcome, existing


@dataclass(frozen=True)
class Upsert:
    """One record of a batch: the deal found for it (by external id, or for a row of
    Pacer's own export by its number), and the member recorded as having logged it."""

    record: ExternalDeal
    existing: Deal | None
    logged_by: int


def upsert_many(
    session: Session,
    *,
    workspace_id: str,
    batch: Sequence[Upsert],
    actor: str,
    source: str,
    now: datetime,
    reason: str | None = None,
) -> list[tuple[Outcome, Deal | None]]:
    """upsert_external for a batch, with one flush for the whole of it (an import file's
    few hundred rows): the tables kept from the deals (customers, rep days, team days)
    are brought up to date by the flush listeners once per batch, not once per deal. The
    audit entries are those upsert_external writes, in one statement."""
    results: list[tuple[Outcome, Deal | None]] = []
    written: list[tuple[Deal, str, str | None]] = []  # (deal, action, snapshot before)
    for item in batch:
        outcome = outcome_for(item.existing, item.record)
        deal = item.existing
        if outcome is Outcome.CREATED:
            fields_ = {name: getattr(item.record, name) for name in KEPT}
            deal = Deal(
                workspace_id=workspace_id,
                external_id=item.record.external_id or None,
                logged_by=item.logged_by,
                source=source,
                created_at=now,
                updated_at=now,
                **fields_,
            )
            session.add(deal)
            written.append((deal, "create", None))
        elif outcome is Outcome.UPDATED:
            assert deal is not None
            before = snapshot(deal)
            for name, value in changes_for(deal, item.record).items():
                setattr(deal, name, value)
            deal.updated_at = now
            written.append((deal, "update", before))
        results.append((outcome, deal))
    _number(session, workspace_id, [deal for deal, action, _ in written if action == "create"])
    session.flush()  # ids for the new deals; the kept tables once
    if written:  # one statement, and no audit rows left in the session to grow it
        session.execute(
            insert(AuditEntry),
            [
                {
                    "workspace_id": workspace_id,
                    "entity": "deal",
                    "entity_id": deal.id,
                    "action": action,
                    "actor": actor,
                    "at": now,
                    "before": before,
                    "after": snapshot(deal),
                    "reason": reason,
                    "source": source,
                }
                for deal, action, before in written
            ],
        )
    return results


def _number(session: Session, workspace_id: str, deals: list[Deal]) -> None:
    """The batch's new deals numbered from one bump of the counter, not one each."""
    if not deals:
        return
    last = numbering.next_number(session.connection(), "deal", workspace_id, len(deals))
    for number, deal in enumerate(deals, last - len(deals) + 1):
        deal.number = number


def deals_by_number(
    session: Session, *, workspace_id: str, numbers: Iterable[int]
) -> dict[int, Deal]:
    """The workspace's deals `#N` (deleted ones too), by number: a row of Pacer's own
    export of a deal typed in Slack finds its deal exactly by it, never by its fields."""
    wanted = list(dict.fromkeys(numbers))
    found: dict[int, Deal] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows = session.exec(
            select(Deal).where(Deal.workspace_id == workspace_id, col(Deal.number).in_(chunk))
        ).all()
        found.update({row.number: row for row in rows})
    return found
