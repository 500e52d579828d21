"""Live content (issue 12): a running bot picks up a rebuilt content/ on /reload (重新加载) or by its tick,
through the console adapter on real files; the rotation state survives and a vanished practice is skipped."""

from __future__ import annotations

import io
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))

import docgen  # noqa: E402

from bot.adapters.console import PRIVATE_USER_ID, ConsoleChat  # noqa: E402
from bot.config import load  # noqa: E402
from bot.content import build  # noqa: E402
from bot.services import create_services  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 21, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Session:
    """A console chat on a services object built from a config file, as `run.py console` does."""

    def __init__(self, tmp: Path, content_dir: Path) -> None:
        cfg = tmp / "config.toml"
        cfg.write_text(f'[bot]\nofficers = [{PRIVATE_USER_ID}]\n[storage]\ndir = "{tmp / "data"}"\n'
                       f'[content]\ndir = "{content_dir}"\n', "utf-8")
        self.svc = create_services(load(str(cfg)), clock=lambda: NOW)
        self.out = io.StringIO()
        self.chat = ConsoleChat(self.svc, self.out)

    async def say(self, line: str) -> str:
        start = len(self.out.getvalue())
        await self.chat.handle_line(line)
        return self.out.getvalue()[start:]


def _seeds_and_content(tmp: Path) -> tuple[Path, Path]:
    seeds, content = tmp / "seeds", tmp / "content"
    seeds.mkdir()
    content.mkdir()
    for path in (ROOT / "seeds").glob("*.txt"):
        shutil.copy(path, seeds / path.name)
    for name in ("practices.toml", "titles.toml", "userdict.txt", "synonyms.txt", "stopwords.txt"):
        shutil.copy(ROOT / "content" / name, content / name)
    build(seeds, content, progress=lambda _: None)
    return seeds, content


def _drop_practice(content: Path, pid: str) -> None:
    """Remove one [[practice]] from practices.toml, as an operator would."""
    text = (content / "practices.toml").read_text(encoding="utf-8")
    blocks = text.split("[[practice]]")
    kept = [b for b in blocks if f'id = "{pid}"' not in b]
    assert len(kept) == len(blocks) - 1
    (content / "practices.toml").write_text("[[practice]]".join(kept), encoding="utf-8")


async def test_reload_and_tick_pick_up_rebuilt_content_keeping_the_rotation(tmp_path: Path) -> None:
    seeds, content = _seeds_and_content(tmp_path)
    s = Session(tmp_path, content)
    try:
        first = await s.say("/today")
        assert "每日一招" in first
        picked = s.svc.store.push_doc(f"console:{PRIVATE_USER_ID}")
        assert picked is not None
        today_id = picked["picks"][NOW.date().isoformat()]
        assert "直系亲属患重大疾病" not in await s.say("搜索 大病救助金")
        assert not s.svc.content_changed()

        # The operator adds documents, marks one as a practice source, drops today's practice, rebuilds.
        docgen.make_all(seeds / "local")
        with (content / "practices.toml").open("a", encoding="utf-8") as f:
            f.write('\n[[source]]\nfile = "local/制度汇编.docx"\nmin_chars = 20\n')
        _drop_practice(content, today_id)
        build(seeds, content, progress=lambda _: None)
        assert s.svc.content_changed()

        await s.say(":user 555 李四")
        assert "仅供工会干部" in await s.say("/reload")
        assert "直系亲属患重大疾病" not in await s.say("搜索 大病救助金")  # the refusal changed nothing
        await s.say(f":user {PRIVATE_USER_ID} 干部")
        answer = await s.say("重新加载")
        n_passages, n_practices = len(s.svc.content.passages), len(s.svc.content.practices)
        assert f"内容已重新加载：{n_passages} 个段落，{n_practices} 条每日一招。" in answer
        assert n_practices == 50 - 1 + 13

        found = await s.say("搜索 大病救助金")
        assert "第七条　会员本人或直系亲属患重大疾病的" in found
        assert "来源：《职工之家工会工作制度汇编》 · 第三章 帮扶救助 › 第七条" in found
        assert ".docx" not in found

        # Today's practice vanished: /today gives another one, the round goes on (nothing reset).
        again = await s.say("/today")
        assert "每日一招" in again and again != first
        doc = s.svc.store.push_doc(f"console:{PRIVATE_USER_ID}")
        assert doc is not None and doc["round"] == picked["round"]
        assert doc["used"][: len(picked["used"])] == picked["used"] and len(doc["used"]) == len(picked["used"]) + 1
        assert doc["picks"][NOW.date().isoformat()] != today_id
        assert "内容没有变化" in await s.say("/reload")

        # A later rebuild is picked up by the tick alone (the adapters run it every minute).
        notice = "# 工会通知\n\n本周五下午在职工书屋举办插花沙龙，欢迎报名。\n"
        (seeds / "local" / "通知.md").write_text(notice, "utf-8")
        build(seeds, content, progress=lambda _: None)
        assert "举办插花沙龙" not in await s.say("搜索 插花沙龙")
        await s.say(":tick")
        assert not s.svc.content_changed()
        found = await s.say("搜索 插花沙龙")
        assert "来源：《工会通知》" in found and "插花沙龙" in found

        # A broken rebuild keeps the old content in use and says why.
        (content / "passages.jsonl").write_text("{not json\n", encoding="utf-8")
        answer = await s.say("/reload")
        assert "重新加载失败" in answer and "仍在使用原来的内容" in answer
        assert "举办插花沙龙" in await s.say("搜索 插花沙龙")
        assert not re.search(r"Traceback|内部错误", s.out.getvalue())
    finally:
        s.svc.close()
