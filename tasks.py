"""Set up and run Pacer with nothing but Python.

python3 tasks.py start   # create .venv, install Pacer, start it (console without Slack settings)
python3 tasks.py test    # create .venv, install Pacer and its dev tools, run ruff, mypy,
                         # the import contracts and the test suite on every core

Installing is skipped while .venv already holds what pyproject.toml asks for (a stamp in
.venv records the file's hash and the extras installed), so a second run starts at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / "pacer-install.json"
RECIPE = 1  # bump when the install steps below change: every .venv installs again


def run(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def _digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _installed() -> tuple[str, set[str]] | None:
    """The pyproject.toml hash and extras of the last complete install, if any."""
    try:
        stamp = json.loads(STAMP.read_text(encoding="utf-8"))
        if stamp["recipe"] != RECIPE:
            return None
        return str(stamp["pyproject"]), set(stamp["extras"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def setup(*extras: str) -> None:
    """Create .venv and install Pacer with `extras`, unless that is already done."""
    digest = _digest()
    if not (BIN / "python").exists():
        STAMP.unlink(missing_ok=True)  # a stamp without its interpreter vouches for nothing
        venv.EnvBuilder(with_pip=True).create(VENV)
    installed = _installed()
    if installed and installed[0] == digest and set(extras) <= installed[1]:
        return
    if installed and installed[0] == digest:
        extras = (*extras, *installed[1])  # what is installed for this pyproject.toml stays
    STAMP.unlink(missing_ok=True)  # an interrupted install is not taken for a finished one
    target = "." + (f"[{','.join(sorted(set(extras)))}]" if extras else "")
    run(BIN / "python", "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "-q", "-e", target)
    stamp = {"recipe": RECIPE, "pyproject": digest, "extras": sorted(set(extras))}
    STAMP.write_text(json.dumps(stamp) + "\n", encoding="utf-8")


def test(extra: list[str]) -> None:
    setup("dev")
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
