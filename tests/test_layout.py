"""The house rules, checked on the code itself: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"


def imports(path: Path) -> set[str]:
    """Every module `path` imports (top level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def sources() -> list[Path]:
    return sorted(BOT.rglob("*.py"))


def test_handlers_never_import_the_dispatcher() -> None:
    """The command table's types sit below the handlers: bot.commands imports handlers, never the reverse."""
    for path in (BOT / "handlers").glob("*.py"):
        bad = {m for m in imports(path) if m == "bot.commands" or m.startswith("bot.commands.")}
        assert not bad, f"{path.name} imports {bad}"
        assert "bot.adapters" not in {m.rsplit(".", 1)[0] for m in imports(path)}, path.name


def test_only_the_store_imports_tinydb() -> None:
    users = [p.relative_to(ROOT) for p in sources() if any(m.split(".")[0] == "tinydb" for m in imports(p))]
    assert [str(p) for p in users] == ["bot/store.py"]


def test_platform_libraries_stay_in_their_adapters() -> None:
    """No platform's library outside bot/adapters (the core knows no platform)."""
    platform_libs = {"telegram", "aibot", "websockets", "dingtalk_stream", "httpx"}
    for path in sources():
        if path.parent.name == "adapters":
            continue
        used = {m.split(".")[0] for m in imports(path)} & platform_libs
        assert not used, f"{path.relative_to(ROOT)} imports {used}"


def test_core_modules_never_import_adapters() -> None:
    core = [BOT / n for n in ("core.py", "table.py", "commands.py", "services.py", "store.py", "texts.py")]
    for path in core + list((BOT / "handlers").glob("*.py")):
        assert not any(m.startswith("bot.adapters") for m in imports(path)), path.name
