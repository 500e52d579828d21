"""The operators' documents cannot drift from the code.

- README.md (Chinese, authoritative) still opens with the two set-up commands, and CI runs the test one;
- its command table (the table under `## 命令一览`) has exactly one row per command of `bot.commands.TABLE`, whose
  中文说法 cell lists exactly that command's Chinese aliases and whose 谁能用 cell matches its audience, and no row
  for a command that does not exist;
- its links to its own headings and to images resolve;
- config.example.toml has every key of every section of bot/config.py, in its own section, at its default value,
  each under a comment that gives the default (默认) and an example (示例);
- `python run.py --help` and every sub-command's help are in Chinese;
- README.en.md points to README.md as the authoritative text.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest

from bot.commands import TABLE
from bot.config import SECTIONS, Config, load

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "config.example.toml"
COMMANDS_HEADING = "## 命令一览"
AUDIENCE = {"member": "所有人", "officer": "干部"}


def _visible(markdown: str) -> str:
    """The markdown without HTML comments (placeholders for sections still to be merged are not content)."""
    return re.sub(r"<!--.*?-->", "", markdown, flags=re.S)


def _section(markdown: str, heading: str) -> str:
    start = markdown.index("\n" + heading + "\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end >= 0 else len(markdown)]


def _cells(row: str) -> list[str]:
    """A markdown table row's cells (`\\|` inside a cell is a literal bar)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip().strip("|"))]


def command_rows() -> dict[str, list[str]]:
    """The README's command table: command name -> its row's cells (a name twice fails here)."""
    table = [ln for ln in _section(_visible(README), COMMANDS_HEADING).splitlines() if ln.startswith("|")]
    assert len(table) > 2, f"no table under {COMMANDS_HEADING}"
    rows: dict[str, list[str]] = {}
    for line in table[2:]:  # the header and its --- line
        cells = _cells(line)
        m = re.match(r"`/([a-z0-9_]+)", cells[0])
        assert m, f"a row of the command table does not start with a `/command`: {line}"
        assert m.group(1) not in rows, f"/{m.group(1)} has two rows in the command table"
        rows[m.group(1)] = cells
    return rows


def test_readme_opens_with_the_two_setup_commands() -> None:
    lines = README.splitlines()
    assert lines[0].startswith("# ")
    first_code = lines[lines.index("```sh") + 1 : lines.index("```sh") + 3]
    assert [ln for ln in lines[1 : lines.index("```sh")] if ln.strip()] == [], "text before the set-up commands"
    assert first_code[0].startswith("python3 dev.py run ") and first_code[1].startswith("python3 dev.py test ")
    assert lines[lines.index("```sh") + 3] == "```"
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")  # CI runs the README's command


def test_the_command_table_lists_every_command_with_its_aliases_and_audience() -> None:
    rows = command_rows()
    for cmd in TABLE:
        assert cmd.name in rows, f"/{cmd.name} missing from the README's command table ({COMMANDS_HEADING})"
        header_aliases = {a.strip().strip("`") for a in re.split(r"[、，,]", rows[cmd.name][1]) if a.strip()}
        assert header_aliases == set(cmd.aliases), (
            f"/{cmd.name}: the README lists the Chinese forms {sorted(header_aliases)}, the code {sorted(cmd.aliases)}")
        assert rows[cmd.name][3] == AUDIENCE[cmd.audience], f"/{cmd.name}: who may use it should read "\
            f"{AUDIENCE[cmd.audience]!r}, not {rows[cmd.name][3]!r}"
    stale = set(rows) - {c.name for c in TABLE}
    assert not stale, f"the README's command table lists commands that do not exist: {sorted(stale)}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation (full-width too) dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("name", ["README.md", "README.en.md"])
def test_links_to_headings_and_images_resolve(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    prose = re.sub(r"^```.*?^```", "", _visible(text), flags=re.S | re.M)  # a "# comment" in a code block is none
    anchors = {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", prose, flags=re.M)}
    for target in re.findall(r"\]\(#([^)]+)\)", _visible(text)):
        assert target in anchors, f"{name}: link to #{target}, but no such heading"
    for target in re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", text):
        assert (ROOT / target).exists(), f"{name}: link to {target}, which does not exist"


def test_the_english_readme_names_the_chinese_one_authoritative() -> None:
    text = (ROOT / "README.en.md").read_text(encoding="utf-8")
    assert "README.md" in text and "authoritative" in text
    assert "README.en.md" in README


def example_keys() -> dict[tuple[str, str], list[str]]:
    """(section, key) -> the comment lines right above it in config.example.toml."""
    found: dict[tuple[str, str], list[str]] = {}
    section, comments = "", []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if m := re.fullmatch(r"\[(\w+)\]", line.strip()):
            section, comments = m.group(1), []
        elif line.startswith("#"):
            comments.append(line)
        elif m := re.match(r"(\w+) = ", line):
            assert (section, m.group(1)) not in found, f"[{section}] {m.group(1)} twice in config.example.toml"
            found[(section, m.group(1))] = comments
            comments = []
        else:
            comments = []
    return found


def config_keys() -> list[tuple[str, str]]:
    return [(name, f.name) for name, factory in SECTIONS.items() for f in dataclasses.fields(factory())]


@pytest.mark.parametrize(("section", "key"), config_keys(), ids=lambda v: v)
def test_every_config_key_is_in_the_example_with_a_chinese_comment(section: str, key: str) -> None:
    keys = example_keys()
    assert (section, key) in keys, f"[{section}] {key} is not in config.example.toml (in its section)"
    comment = "\n".join(keys[(section, key)])
    assert comment, f"[{section}] {key} has no comment above it in config.example.toml"
    assert re.search(r"[\u4e00-\u9fff]", comment), f"[{section}] {key}: the comment should be in Chinese"
    assert "默认" in comment and "示例" in comment, f"[{section}] {key}: the comment should give 默认 and 示例"


def test_the_example_holds_only_known_keys_at_their_defaults() -> None:
    assert set(example_keys()) == set(config_keys())
    assert load(EXAMPLE, env={}, check_dirs=False) == Config()


def _run_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("run_cli_for_docs", ROOT / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_command_line_help_is_in_chinese() -> None:
    parser = _run_module()._parser()
    texts = [parser.format_help()]
    sub = next(a for a in parser._actions if a.dest == "command")
    texts += [p.format_help() for p in sub.choices.values()]  # type: ignore[union-attr]
    assert len(texts) > 5
    for text in texts:
        assert text.startswith("用法 / usage: run.py"), text
        assert "显示本帮助并退出" in text and re.search(r"[\u4e00-\u9fff]{4}", text.split("\n", 2)[2]), text
