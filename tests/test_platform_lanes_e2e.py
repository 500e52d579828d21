"""One slow platform never holds another platform's feature ticks (bot/ticks.py: a lane per tick and platform).

Real PTB Application and real WecomAdapter in one process (tests/multi_e2e.py), driven by a real Ticker fired by
the test at the controlled clock's minutes. The WeCom connection is lost as the 08:00 push goes out and does not
come back (the fake leaves the new connection's authentication unanswered) until the test lets it: the adapter's
send waits for the reconnect, as in production for up to 15 minutes. Meanwhile Telegram's 08:01 push must go out
with the 08:01 run; once WeCom is back its push is delivered, exactly once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from e2e import ALICE, GROUP, Clock
from fakebotapi import FakeBotAPI
from fakewecom import FakeWeCom
from multi_e2e import WECOM_OFFICER, Both, fakes, running_both
from test_multiplatform_e2e import DAY, WGROUP, at, heading, tg_pushes, wc_pushed_days, wc_sends

from bot.ticks import Ticker


@pytest.fixture
async def servers(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, FakeWeCom]]:
    async with fakes(tmp_path) as pair:
        yield pair


async def subscribe(both: Both, tg_time: str, wc_time: str) -> None:
    both.api.chat(GROUP)
    both.api.set_admins(GROUP, [ALICE.id])
    assert "已订阅" in await both.tg_said(f"/subscribe {tg_time}", user=ALICE, chat_id=GROUP)
    (reply,) = await both.wc_say(f"订阅 {wc_time}", chatid=WGROUP, userid=WECOM_OFFICER)
    assert "已订阅" in reply.content


async def test_a_hung_wecom_push_never_holds_telegrams_push_of_the_next_minute(
        tmp_path: Path, servers: tuple[FakeBotAPI, FakeWeCom]) -> None:
    api, wc = servers
    clock = Clock(at(DAY - timedelta(days=1), "09:30"))
    async with running_both(tmp_path, api, wc, clock=clock, reconnect_ms=50) as both:
        await subscribe(both, tg_time="08:01", wc_time="08:00")
        ticker = Ticker(both.services)  # the runtime's runner of every feature tick
        tg_mark, wc_mark = api.mark(), len(wc.frames)
        try:
            wc.drop_on_next("aibot_send_msg")  # the link dies under the 08:00 push ...
            wc.hold_auth()  # ... and the reconnect is not answered until the test says so
            clock.set(at(DAY, "08:00"))
            await ticker.fire()
            await wc.wait_until(lambda: wc.held_auths >= 1)  # the bot reconnected and waits to be let in
            [lost] = wc_sends(wc, WGROUP, since=wc_mark, ok=None)
            assert lost.errmsg == "dropped" and heading(DAY) in lost.content.replace("\\", "")

            clock.set(at(DAY, "08:01"))
            await ticker.fire()
            await api.wait_for("sendMessage", chat_id=GROUP, since=tg_mark, ok=True, timeout=10)
            [pushed] = tg_pushes(api, GROUP, tg_mark)  # on time, while WeCom's push still waits
            assert heading(DAY) in pushed.text
            assert "bot.handlers.push.tick[wecom]" in ticker.running  # the WeCom push is still held open
            assert wc_sends(wc, WGROUP, since=wc_mark) == []  # nothing reached the WeCom group yet

            wc.release_auth()  # the link is back: the held push goes out
            await ticker.wait_idle(2)
            assert wc_pushed_days(wc, WGROUP) == [heading(DAY)]
            assert len(wc_sends(wc, WGROUP, since=wc_mark)) == 1  # exactly once (the lost frame never arrived)
            doc = both.services.store.push_doc(f"wecom:{WGROUP}") or {}
            assert doc["deliveries"][DAY.isoformat()]["status"] == "sent"

            clock.set(at(DAY, "08:02"))  # later minutes send nothing more, on either platform
            await ticker.fire()
            await ticker.wait_idle(3)
            assert len(tg_pushes(api, GROUP, tg_mark)) == 1
            assert len(wc_sends(wc, WGROUP, since=wc_mark)) == 1
            assert not api.rejected()
        finally:
            wc.release_auth()
            await ticker.stop()
