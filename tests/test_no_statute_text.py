"""The statutes in ../shared/laws are for tests and benchmarks only: no run of their text is in the project.

A run of 13 characters or more shared with a statute, outside its title and its chapter headings, fails here (legal
terms of art are shorter; a copied clause is not). Skips without the pack locally, fails without it under CI=true.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import lawgen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUN = 13
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".json", ".jsonl", ".html", ".cfg", ".ini", ""}
#: What `content build` makes of the seed essays (their passages and practices): theirs to quote.
BUILT_FROM_SEEDS = {Path("content/passages.jsonl"), Path("content/practices.json")}
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uff01-\uff5e，。、；：（）《》“”‘’]{" + str(RUN) + ",}")


def _statute_windows(laws: Path) -> set[str]:
    """Every run of RUN characters of the statutes' text, except runs inside a statute's name (its title, or a
    《…》 citing one): citing a law by name is no copy of it."""
    windows: set[str] = set()
    names: set[str] = {path.stem for path in laws.glob("*.md")}
    for path in laws.glob("*.md"):
        if path.name in lawgen.NOT_STATUTES:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"\s", "", line)
            names.update(re.findall(r"《([^》]+)》", line))
            if not line or line.startswith("#"):  # the title and chapter headings are names, not text
                names.add(line.lstrip("#"))
                continue
            windows.update(line[i : i + RUN] for i in range(len(line) - RUN + 1))
    return {w for w in windows if not any(w.strip("《》") in name for name in names)}


def _tracked() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p for p in out.decode().split("\0") if p and (ROOT / p).suffix in TEXT_SUFFIXES]


def test_no_run_of_statute_text_is_tracked() -> None:
    laws = lawgen.laws_dir()
    windows = _statute_windows(laws)
    found = []
    for path in _tracked():
        if not path.is_file() or path.parts[-2:-1] == ("seeds",) or path.relative_to(ROOT) in BUILT_FROM_SEEDS:
            continue  # the seed essays are copied unchanged from ../shared/seeds: they may quote a law
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for m in _CJK_RUN.finditer(text):  # each run between spaces (a vocabulary line's terms are apart)
            run = m.group(0)
            hit = next((run[i : i + RUN] for i in range(len(run) - RUN + 1) if run[i : i + RUN] in windows), None)
            if hit:
                found.append(f"{path.relative_to(ROOT)}: {hit}")
                break
    assert not found, "statute text in the project:\n" + "\n".join(found)
