"""The CSV import at scale: a HubSpot-shaped deals export of N rows into an empty SQLite
workspace (one team of 20 reps), through `commands.imports.import_deals` as the command
line runs it: checked, then written in batches in one transaction. Then the same file
again (every row unchanged). Each size runs in a process of its own, so its peak RSS is
its own: a streamed import's memory should not grow with the file.

    python -m bench.imports                  # 10,000 and 100,000 rows
    python -m bench.imports --rows 20000     # other sizes
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from commands import imports
from commands.formatter import Formatter
from storage.engine import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import Deal, Member, Membership, Team, Workspace

WORKSPACE = "TIMPORT"
REPS = 20
HEADER = (
    "Record ID,Deal Name,Amount,Currency,Close Date,Deal Stage,Deal owner,Pipeline,"
    "Deal Stage Probability,Associated Company\r\n"
)
STAGES = [("Closed Won", "1.0")] * 8 + [("Contract Sent", "0.9"), ("Closed Lost", "0")]


def write_file(path: Path, rows: int, seed: int = 11) -> None:
    """rows deals as HubSpot exports them: CRLF, quoted names with commas, a probability."""
    rng = random.Random(seed)
    start = date(2025, 12, 1)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\ufeff" + HEADER)
        for n in range(1, rows + 1):
            stage, probability = rng.choice(STAGES)
            amount = f"{rng.randint(500, 90_000)}.{rng.randint(0, 99):02d}"
            day = start + timedelta(days=rng.randint(0, 364))
            company = f"Customer {rng.randint(1, max(rows // 20, 1))}"
            fh.write(
                f'{9_000_000 + n},"{company}, {n} seats",{amount},USD,{day.isoformat()} 10:00,'
                f"{stage},Rep {rng.randint(1, REPS):02d},Sales Pipeline,{probability},"
                f"{company}\r\n"
            )


def setup(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as s:
        s.add(Workspace(id=WORKSPACE, name="Import bench"))
        s.flush()
        team = Team(workspace_id=WORKSPACE, name="East", tz="America/New_York")
        s.add(team)
        members = [
            Member(workspace_id=WORKSPACE, user_id=f"UREP{n:02d}", name=f"Rep {n:02d}")
            for n in range(1, REPS + 1)
        ]
        s.add_all(members)
        s.flush()
        assert team.id is not None
        s.add_all(
            Membership(team_id=team.id, member_id=m.id or 0, role="rep", home=True) for m in members
        )
    engine.dispose()


def lines_of(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from fh


def run_once(url: str, path: Path, dry_run: bool = False) -> tuple[float, imports.Plan]:
    engine = make_engine(url)
    began = time.perf_counter()
    with session_scope(engine) as s:
        plan = imports.import_deals(
            s,
            workspace_id=WORKSPACE,
            lines=lambda: lines_of(path),
            options=imports.Options(team="East"),
            importer=imports.Importer(actor=imports.CLI_ACTOR),
            lookup=lambda _email: None,
            now=datetime.now(UTC),
            dry_run=dry_run,
        )
    took = time.perf_counter() - began
    engine.dispose()
    return took, plan


def one(rows: int, folder: Path) -> dict[str, object]:
    """A fresh database and file of `rows`; the import's figures (in this process)."""
    db, path = folder / f"import-{rows}.db", folder / f"deals-{rows}.csv"
    url = f"sqlite:///{db}"
    write_file(path, rows)
    setup(url)
    first, plan = run_once(url, path)
    assert plan.ok and plan.written, imports.describe(plan, Formatter("en"), False)
    again, replan = run_once(url, path)
    engine = make_engine(url)
    with Session(engine) as s:
        stored = s.exec(select(func.count()).select_from(Deal)).one()
    engine.dispose()
    return {
        "rows": rows,
        "first_s": round(first, 2),
        "again_s": round(again, 2),
        "created": plan.counts[imports.Outcome.CREATED],
        "unchanged_again": replan.counts[imports.Outcome.UNCHANGED],
        "stored": stored,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    p.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    p.add_argument("--dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one, Path(args.dir))))
        return 0
    print(f"{'rows':>8} {'import s':>9} {'rows/s':>8} {'again s':>8} {'peak RSS':>9}  file")
    ok = True
    with tempfile.TemporaryDirectory(prefix="pacer-import-bench-") as folder:
        for rows in args.rows:
            out = subprocess.run(
                [sys.executable, "-m", "bench.imports", "--one", str(rows), "--dir", folder],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            fig = json.loads(out.strip().splitlines()[-1])
            rate = rows / float(fig["first_s"])
            ok = ok and fig["stored"] == rows == fig["unchanged_again"]
            if rows >= 100_000:
                ok = ok and float(fig["first_s"]) < 60
            print(
                f"{rows:>8,} {fig['first_s']:>9} {rate:>8,.0f} {fig['again_s']:>8} "
                f"{fig['peak_rss_mb']:>7} MB  {fig['file_mb']} MB"
            )
    print("target: 100,000 rows in under 60 s, peak RSS about flat from 10k to 100k")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
