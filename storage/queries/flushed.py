"""What a flush wrote to deals: the shared start of the tables kept from them (customers,
repdays), each recomputing the rows the written deals touch, before and after."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import attributes

from storage.models import Deal


def changed_deals(session: OrmSession, tracked: Iterable[str]) -> Iterable[Deal]:
    """The deals this flush added or deleted, and those with a change to a `tracked` field."""
    names = tuple(tracked)
    for row in (*session.new, *session.deleted):
        if isinstance(row, Deal):
            yield row
    for row in session.dirty:
        if isinstance(row, Deal) and any(history(row, name).has_changes() for name in names):
            yield row


def history(deal: Deal, name: str) -> attributes.History:
    """The field's values before and after the flush, loading nothing that was not loaded."""
    return attributes.get_history(deal, name, passive=attributes.PASSIVE_NO_INITIALIZE)
