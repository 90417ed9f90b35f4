"""Set up and run Pacer with nothing but Python.

python3 tasks.py start   # create .venv, install, start Pacer (console without Slack settings)
python3 tasks.py test    # create .venv, install, run ruff, mypy, import contracts, tests
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def setup() -> None:
    if not (BIN / "python").exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "-q", "-e", ".[dev]")


def test(extra: list[str]) -> None:
    setup()
    run(BIN / "ruff", "check", ".")
    run(BIN / "ruff", "format", "--check", ".")
    run(BIN / "mypy")
    run(BIN / "lint-imports")  # the layering contracts in pyproject.toml
    # pytest-xdist: one worker per core (later arguments win, e.g. `-n 0` to run serially).
    run(BIN / "python", "-m", "pytest", "-n", "auto", *extra)


def start(extra: list[str]) -> None:
    setup()
    os.execv(str(BIN / "pacer"), [str(BIN / "pacer"), *extra])


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"start", "test"}:
        sys.exit(__doc__)
    try:
        {"start": start, "test": test}[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as err:
        sys.exit(err.returncode)


if __name__ == "__main__":
    main()
