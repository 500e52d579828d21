"""DeskServer: the desk's uvicorn server as a task in the bot's running event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from typing import TYPE_CHECKING

import uvicorn

from bot import texts
from bot.config import ConfigError
from bot.desk.app import build_app

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)


class DeskError(ConfigError):
    """The desk could not start (e.g. its port is taken); the message is one line for the operator."""


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the bot's runner owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class DeskServer:
    """Serve the desk for `svc` on config [desk] listen:port; `await start()` ... `await stop()`.

    `port=0` (tests) takes a free port; `port` then tells which one was bound.
    """

    def __init__(self, svc: Services, *, port: int | None = None) -> None:
        self.svc = svc
        cfg = svc.config.desk
        self.app = build_app(svc)
        self._config = uvicorn.Config(
            self.app,
            host=cfg.listen,
            port=cfg.port if port is None else port,
            lifespan="off",
            log_level="warning",
            access_log=False,  # URLs may carry login tokens; pages log their own actions without ids
            server_header=False,
            proxy_headers=False,
        )
        self._server = _Server(self._config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        for server in self._server.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        return self._config.port

    async def start(self) -> None:
        """Start serving in the running loop; returns once the socket listens (DeskError if it cannot)."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._serve(), name="desk-server")
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises DeskError
                raise DeskError(texts.config_error("[desk] port", texts.cfg_cannot_listen(self._config.host,
                                                                                         self._config.port)))
            await asyncio.sleep(0.01)
        log.info("desk listening on %s:%d", self._config.host, self.port)

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit:  # uvicorn exits when it cannot bind
            raise DeskError(texts.config_error("[desk] port", texts.cfg_cannot_listen(self._config.host,
                                                                                     self._config.port))) from None

    async def stop(self) -> None:
        """Stop accepting, finish requests under way and pending notifications, and end the task."""
        task, self._task = self._task, None
        if task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, DeskError):
            await task
        pending = list(self.app.state.tasks)
        if pending:
            await asyncio.wait(pending, timeout=10)
