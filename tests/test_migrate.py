"""Migrations on start: several instances starting at once on one PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from storage.migrate import upgrade
from tests.conftest import _drop, _in_schema, _postgres_engine

pytestmark = pytest.mark.postgres


def test_instances_starting_at_once_migrate_an_empty_database_once() -> None:
    """Each instance migrates on start; three at once on an empty schema must all start
    (without a lock, the second one's CREATE TABLE meets the first one's table)."""
    first, schema = _postgres_engine()
    engines = [first] + [_in_schema(schema) for _ in range(2)]
    gate = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def start(engine_index: int) -> None:
        gate.wait()
        try:
            upgrade(engines[engine_index])
        except BaseException as err:  # the test reports every failure
            errors.append(err)

    threads = [threading.Thread(target=start, args=(i,), daemon=True) for i in range(len(engines))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a start hung"
        assert errors == []
        with first.connect() as conn:
            versions = conn.execute(text("SELECT count(*) FROM alembic_version")).scalar()
        assert versions == 1
    finally:
        for engine in engines[1:]:
            engine.dispose()
        _drop(first, schema)
