"""The running service with the real Telegram or Discord bot against the fakes, as chat tests
use it.

What `policywire run` wires together (store, service, bot, the sender's transport), started,
with the scheduler paused: the tests poll and ask for digests themselves, so a jittered poll
landing at a random moment never races them. Stopped in the service's order on the way out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from bots.discord_bot import DiscordBot
from bots.discord_webhook import DiscordWebhookTransport
from bots.telegram import TelegramBot
from policywire.config.model import Config
from policywire.deliver.sender import Pacing
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram

# The pacing itself is tested with a controlled clock (tests/test_reply_pacing.py).
FAST = Pacing(per_target_interval=0.0, group_interval=0.0, per_second=1000)


@asynccontextmanager
async def telegram_service(
    config: Config,
    tg: FakeTelegram,
    token: str,
    *,
    pacing: Pacing = FAST,
    **service_options: Any,
) -> AsyncIterator[tuple[Service, TelegramBot, Store]]:
    """The service and its Telegram bot, running; `service_options` go to `Service`."""
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, parse_workers=0, **service_options)
    bot = TelegramBot(
        token,
        tg.base_url,
        service.subscriptions,
        service.send_digest,
        poll_timeout=1,
        pacing=pacing,
    )
    service.add_transport(bot)
    await bot.start()
    await service.start()
    service.scheduler.pause()
    try:
        yield service, bot, store
    finally:
        await bot.stop()
        await service.stop(grace=2)
        await store.close()


@asynccontextmanager
async def discord_service(
    config: Config,
    dc: FakeDiscord,
    guild: int,
    *,
    extra: Sequence[DiscordWebhookTransport] = (),
) -> AsyncIterator[tuple[Service, DiscordBot, Store]]:
    """The service and its Discord bot (and `extra` transports), running, the bot ready and
    its slash commands synced in `guild`."""
    store = await Store.open(config.settings.database)
    service = Service(config, store, {}, parse_workers=0)
    bot = DiscordBot(
        dc.token,
        config.settings.discord,
        service.subscriptions,
        service.send_digest,
        pacing=FAST,
        guild_ready_timeout=0.05,
    )
    transports: tuple[DiscordBot | DiscordWebhookTransport, ...] = (bot, *extra)
    for transport in transports:
        service.add_transport(transport)
        await transport.start()
    await service.start()
    service.scheduler.pause()
    try:
        async with asyncio.timeout(5):
            await bot.ready.wait()
        await dc.wait_for(lambda: guild in dc.commands)
        yield service, bot, store
    finally:
        await service.stop(grace=2)
        for transport in transports:
            await transport.stop()
        await store.close()
