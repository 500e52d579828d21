"""Content build benchmark: 2,000 pages of generated operator documents (Word, PDF, text) in a temp dir.

    .venv/bin/python bench/content.py            # 2,000 pages
    .venv/bin/python bench/content.py --pages 400

Generates documents whose paragraphs recombine the corpus's own sentences (random.Random(7)): Word files of
10 pages (chapters, 第X条 articles, a table), PDFs of 20 pages (running header and footer, page numbers,
lines broken inside sentences) and GBK/UTF-8 text files of 10 pages, about 600 characters per page; by pages
about 30% Word, 55% PDF, 15% text. Then:

1. `content build` over them with a progress bar (plain lines when not on a terminal): time and passages;
2. the first start of a bot on that content (load + search index built and cached);
3. a restart (load + search index from the cache): nothing is rebuilt;
4. baseline in the same run: the previous near-duplicate search (a linear scan over every earlier passage)
   against the 4-gram candidate index, on the same first N passages.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import docgen  # noqa: E402

from bot import content as C  # noqa: E402
from bot.search import SearchEngine  # noqa: E402

PAGE_CHARS = 600
CN = "一二三四五六七八九十"


def cn(n: int) -> str:
    from bot.search import cn_number

    return cn_number(n)


def sentences() -> list[str]:
    out: list[str] = []
    for line in (ROOT / "content" / "passages.jsonl").read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        out += [s + "。" for s in re.split(r"[。！？]", text) if 12 <= len(s) <= 90 and not re.search(r"[_*]", s)]
    return out


class Gen:
    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        self.pool = sentences()
        self.n = 0

    def para(self, chars: int = 150) -> str:
        out = ""
        while len(out) < chars:
            out += self.rnd.choice(self.pool)
        self.n += 1
        return f"{out}（第{self.n}号）"  # unique, so the benchmark measures passages, not duplicates


def make_docx(path: Path, g: Gen, pages: int) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = f"本单位工会制度汇编{path.stem}"
    article = 0
    for chapter in range(1, pages + 1):
        d.add_heading(f"第{cn(chapter)}章 制度{chapter}", level=1)
        for _ in range(3):
            article += 1
            d.add_paragraph(f"第{cn(article)}条 {g.para(170)}")
        if chapter % 5 == 0:
            table = d.add_table(rows=3, cols=3)
            for r, row in enumerate([["项目", "标准", "说明"], [f"项目{g.n}", "每人每年", g.para(20)],
                                     [f"项目{g.n}", "每人每次", g.para(20)]]):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    d.save(str(path))


def make_pdf(path: Path, g: Gen, pages: int) -> None:
    lines_per_page = 30
    body: list[list[str]] = []
    for _ in range(pages):
        lines: list[str] = []
        while len(lines) < lines_per_page:
            text = g.para(160)
            lines += [text[i : i + 20] for i in range(0, len(text), 20)]  # broken inside sentences
        body.append(lines[:lines_per_page])
    docgen.make_pdf(path, body, title_line=f"学习资料{path.stem}", header="工会学习资料汇编")


def make_txt(path: Path, g: Gen, pages: int, gbk: bool) -> None:
    parts = [f"工会工作手册{path.stem}", ""]
    for p in range(pages):
        parts += [f"{CN[p % 10]}、第{p + 1}部分", ""]
        parts += [g.para(140) + "\n" for _ in range(4)]
    path.write_bytes("\n".join(parts).encode("gb18030" if gbk else "utf-8"))


def generate(local: Path, pages: int) -> dict[str, int]:
    """Documents totalling `pages` pages, cycling Word, PDF, Word, text, PDF."""
    g = Gen()
    local.mkdir(parents=True)
    counts = {"docx": 0, "pdf": 0, "txt": 0}
    done = 0
    i = 0
    while done < pages:
        kind, size = [("docx", 10), ("pdf", 20), ("docx", 10), ("txt", 10), ("pdf", 20)][i % 5]
        size = min(size, pages - done)
        name = local / f"doc{i:04d}.{kind}"
        if kind == "docx":
            make_docx(name, g, size)
        elif kind == "pdf":
            make_pdf(name, g, size)
        else:
            make_txt(name, g, size, gbk=i % 2 == 0)
        counts[kind] += size
        done += size
        i += 1
    return counts


def old_dedupe_seconds(units: list[C._Unit]) -> float:
    """The previous near-duplicate search: every new passage compared with every earlier one."""
    t0 = time.perf_counter()
    skeletons: list[str] = []
    seen: set[str] = set()
    for unit in units:
        sk = C._skeleton(unit.text)
        if sk in seen:
            continue
        next((i for i, other in enumerate(skeletons) if C._near(sk, other)), None)
        seen.add(sk)
        skeletons.append(sk)
    return time.perf_counter() - t0


def bar(done: int, total: int, name: str) -> None:
    if sys.stderr.isatty():
        filled = 30 * done // total
        end = "\n" if done == total else ""
        print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {name}", end=end, file=sys.stderr, flush=True)
    elif done == total or done % max(1, total // 10) == 0:
        print(f"  {done}/{total} files", file=sys.stderr, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--baseline-units", type=int, default=3000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="content-bench-"))
    try:
        seeds, content, cache = tmp / "seeds", tmp / "content", tmp / "cache"
        seeds.mkdir()
        content.mkdir()
        shutil.copy(ROOT / "seeds" / "000_9fb8ea368a94a24e.txt", seeds)
        for name in ("practices.toml", "titles.toml", "userdict.txt", "synonyms.txt", "stopwords.txt"):
            shutil.copy(ROOT / "content" / name, content / name)
        with (content / "practices.toml").open("a", encoding="utf-8") as f:
            f.write('\n[[source]]\nfile = "local/doc0000.docx"\n')
        # the curated practices point into the other seed file too
        shutil.copy(ROOT / "seeds" / "003_dfe89861acfabbd5.txt", seeds)

        t0 = time.perf_counter()
        counts = generate(seeds / "local", args.pages)
        print(f"generated {sum(counts.values())} pages {counts} in {time.perf_counter() - t0:.1f} s "
              f"({sum(1 for _ in (seeds / 'local').iterdir())} files)")

        t0 = time.perf_counter()
        summary = C.build(seeds, content, progress=lambda _: None, step=bar)
        build_s = time.perf_counter() - t0
        size_mb = (content / C.PASSAGES_FILE).stat().st_size / 1e6
        print(f"content build: {build_s:.1f} s, {summary.files} files, {summary.passages} passages "
              f"({size_mb:.1f} MB), {summary.practices} practices, skipped {len(summary.skipped)}"
              f"  [{'OK' if build_s < 60 else 'SLOW'}: limit 60 s]")

        t0 = time.perf_counter()
        loaded = C.load_content(content)
        engine = SearchEngine.load(loaded, cache, content_dir=content, progress=sys.stderr)
        first_s = time.perf_counter() - t0
        print(f"first start (load + search index built and cached): {first_s:.1f} s")

        t0 = time.perf_counter()
        loaded = C.load_content(content)
        engine = SearchEngine.load(loaded, cache, content_dir=content)
        restart_s = time.perf_counter() - t0
        hits = engine.search("第三条 制度汇编").hits
        print(f"restart (load + search index from cache, no rebuild): {restart_s:.2f} s "
              f"({first_s / max(restart_s, 1e-9):.0f}x faster than the first start); "
              f"'第三条' -> {hits[0].passage.source if hits else '-'}")

        units = C._collect(C.seed_files(seeds)[:40], seeds, {}, lambda _: None).units[: args.baseline_units]
        t0 = time.perf_counter()
        C._dedupe(units)
        new_s = time.perf_counter() - t0
        old_s = old_dedupe_seconds(units)
        print(f"near-duplicate merge on the first {len(units)} passages: 4-gram index {new_s:.2f} s, "
              f"previous linear scan {old_s:.2f} s (baseline; grows with the square of the passages)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
