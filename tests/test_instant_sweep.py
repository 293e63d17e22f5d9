"""Instant destinations never leave stored items waiting for the next news.

An instant digest is queued right after the poll that stored its items. When that step never
happens (the worker was SIGKILLed between the two, or its digest lost its race with other
workers three times), the periodic sweep queues it: tests/test_workers.py once lost one story
for one chat that way.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from apscheduler.triggers.interval import IntervalTrigger

from policywire.config.load import load_config
from policywire.service import Service
from policywire.storage.store import Store
from tests.fakes.feed_server import FeedServer
from tests.helpers import config_file, rss


async def test_items_stored_without_their_instant_digest_are_queued_by_the_sweep(
    tmp_path: Path,
) -> None:
    async with FeedServer() as feeds:
        feeds.add("/feed.xml", rss(["AI Act: the first obligations start to apply"]))
        path = config_file(
            tmp_path,
            database=f"sqlite+aiosqlite:///{tmp_path / 'sweep.db'}",
            settings={"poll_interval": "2m", "allow_private_networks": True},
            feeds=[feeds.url("/feed.xml")],
            topics={"ai-act": ["AI Act"]},
            destinations=[{"console": "stdout", "schedule": "instant"}],
        )
        config = load_config(path, env={})
        store = await Store.open(config.settings.database)
        service = Service(config, store, {}, parse_workers=0)
        try:
            await service.prepare()
            (feed,) = config.feeds
            # What a worker killed right after storing its poll leaves: items, no digest.
            await service.polling.bounded_poll(feed)
            assert await store.messages() == []
            sweep = service.scheduler.get_job("instant-sweep")
            assert sweep is not None
            assert isinstance(sweep.trigger, IntervalTrigger)
            assert sweep.trigger.interval <= timedelta(minutes=2)  # never slower than a poll
            await sweep.func()
            (message,) = await store.messages()
            assert "first obligations" in str(message.payload)
            await sweep.func()  # nothing new: nothing queued twice
            assert len(await store.messages()) == 1
        finally:
            await service.stop(grace=1)
            await store.close()
