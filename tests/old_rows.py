"""Rows written with plain SQL, as a database at an older revision holds them: the start of
a migration's backfill test (tests/test_customers.py, tests/test_repday.py)."""

from __future__ import annotations

from sqlalchemy import Connection, text


def two_teams_two_reps(conn: Connection) -> None:
    """Workspace T1 with teams 1 and 2 and members 1 (U1) and 2 (U2)."""
    conn.execute(
        text(
            "INSERT INTO workspace (id, name, fiscal_start_month, created_at)"
            " VALUES ('T1', '', 1, '2026-01-01 00:00:00')"
        )
    )
    for team in (1, 2):
        conn.execute(
            text(
                "INSERT INTO team (id, workspace_id, name, tz, currency, report_hour,"
                " behind_pct, celebrations_per_day, created_at) VALUES (:t, 'T1', :n,"
                " 'UTC', 'USD', '09:00', 90, 3, '2026-01-01 00:00:00')"
            ),
            {"t": team, "n": f"team{team}"},
        )
    for member in (1, 2):
        conn.execute(
            text(
                "INSERT INTO member (id, workspace_id, user_id, name, is_admin, active,"
                " notify, created_at) VALUES (:m, 'T1', :u, '', 0, 1, 1,"
                " '2026-01-01 00:00:00')"
            ),
            {"m": member, "u": f"U{member}"},
        )
