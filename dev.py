"""Set-up runner for a fresh machine with only Python 3.11+ and pip.

    python3 dev.py run    # create .venv, install, start the bot (console chat when no token is configured)
    python3 dev.py test   # create .venv, install, lint, run the test suite
    python3 dev.py bench  # the benchmarks under bench/

The virtualenv is (re)installed only when pyproject.toml changed since the last install.
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
PY = BIN / "python"
STAMP = VENV / ".installed"


def ensure_venv() -> None:
    """Create .venv and install the project with its test extras, if not done for this pyproject.toml."""
    if not PY.exists():
        print("creating .venv …", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.stat().st_mtime >= (ROOT / "pyproject.toml").stat().st_mtime:
        return
    print("installing dependencies into .venv (first run only) …", file=sys.stderr)
    pip = [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test,bench]"], check=True)
    STAMP.touch()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "bench", "install"):
        print(__doc__, file=sys.stderr)
        return 2
    cmd, rest = argv[0], argv[1:]
    ensure_venv()
    os.chdir(ROOT)
    if cmd == "install":
        return 0
    if cmd == "run":
        if os.name == "posix":  # become the bot: SIGTERM (a service manager, kill) reaches it, no orphan is left
            os.execv(str(PY), [str(PY), "run.py", *rest])
        return subprocess.call([str(PY), "run.py", *rest])
    if cmd == "bench":
        codes = [subprocess.call([str(PY), str(b), *rest]) for b in sorted((ROOT / "bench").glob("*.py"))]
        return max(codes, default=0)
    lint = subprocess.call([str(BIN / "ruff"), "check", "--quiet", "."])
    if lint:
        print("ruff found problems (above)", file=sys.stderr)
    code = subprocess.call([str(PY), "-m", "pytest", *rest])
    return code or lint


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
