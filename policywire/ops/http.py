"""The opt-in operations port: `/healthz` for supervisors and load balancers, `/metrics` for
Prometheus. Off unless `settings.ops_listen` is set (e.g. "127.0.0.1:9464").

It listens on loopback unless the operator writes another address: the metrics name feeds
and destinations, which are nobody else's business. Both handlers read the store on the event
loop (one short query each) and never block it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from policywire.config.values import split_listen_address
from policywire.errors import StartError
from policywire.ops.metrics import CONTENT_TYPE, Metrics, OutboxSnapshot

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class OpsSources:
    """Where the port reads what it shows (the service's own state)."""

    health: Callable[[], Awaitable[Health]]
    outbox: Callable[[], Awaitable[OutboxSnapshot]]
    bots: Callable[[], Mapping[str, bool]]


class OpsServer:
    """The aiohttp site serving both paths; `start` binds, `stop` lets go."""

    def __init__(self, metrics: Metrics, sources: OpsSources, listen: str) -> None:
        self._metrics = metrics
        self._sources = sources
        self._host, self._port = split_listen_address(listen)
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the system chose for port 0)."""
        if self._runner is not None:
            for address in self._runner.addresses:
                return int(address[1])
        return self._port

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except OSError as exc:  # the port in use, an address not ours: one line, exit 1
            await self.stop()
            where = f"{self._host}:{self._port}"
            raise StartError(f"operations port {where}: {exc.strerror or exc}") from None
        log.info("operations port on http://%s:%d (/healthz, /metrics)", self._host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, _: web.Request) -> web.Response:
        health = await self._sources.health()
        body = json.dumps({"status": "ok" if health.ok else "failing", **health.detail})
        return web.Response(
            status=200 if health.ok else 503, text=body, content_type="application/json"
        )

    async def _metrics_page(self, _: web.Request) -> web.Response:
        outbox = await self._sources.outbox()
        body = self._metrics.render(outbox, self._sources.bots())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
