"""The config-watch job (hot reload), and bringing the store in line with the config file.

Apart from policywire/service.py, which composes it: an edited feeds.yaml is loaded and,
unless broken, applied to the running service (its feeds' polls, its destinations' digests,
topic renames) without a restart; the same destination and topic sync runs at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from policywire.config.model import Config, DestinationConfig, TopicConfig
from policywire.errors import ConfigError
from policywire.jobs.scheduling import remove_job
from policywire.ops.supervise import job
from policywire.storage.store import DestinationRow

if TYPE_CHECKING:
    from policywire.service import Service

log = logging.getLogger("policywire.service")  # the service's log lines keep their name

# The fetcher and the parser pool are built once, at start-up, from these.
_SETTINGS_READ_AT_START = ("database", "allow_private_networks", "parse_timeout", "parse_memory")


def _file_signature(path: Path) -> tuple[int, int] | None:
    """Modification time and size: enough to notice an edit without reading the file."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def destination_row(dest: DestinationConfig, now: datetime) -> DestinationRow:
    return DestinationRow(
        key=dest.key,
        origin="config",
        platform=dest.kind,
        target=dest.target,
        topics=dest.topics,
        schedule=dest.schedule,
        timezone=dest.timezone,
        language=dest.language,
        active=True,
        created_at=now,
        last_digest_at=None,
        language_chosen=True,  # the operator's (a destination's `language:` or the default)
    )


class ConfigReload:
    """Applies `service.config` (and each edit of its file) to the store and the scheduler."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.in_flight = service.in_flight
        self._config_signature = _file_signature(service.config.path)

    @job("config-watch")
    async def reload_if_changed(self) -> bool:
        """Apply an edited config file; a broken edit is refused and the running one stays."""
        service = self.service
        signature = _file_signature(service.config.path)
        if signature == self._config_signature or service.config_loader is None:
            return False
        self._config_signature = signature
        try:
            new = await asyncio.to_thread(service.config_loader)
        except ConfigError as exc:
            log.error("config change refused, still running the previous one:")
            for line in exc.errors:
                log.error("%s", line)
            return False
        await self.apply_config(new)
        return True

    async def apply_config(self, new: Config) -> None:
        service = self.service
        old = service.config
        for key in _SETTINGS_READ_AT_START:
            if getattr(new.settings, key) != getattr(old.settings, key):
                log.warning("settings.%s changed: takes effect at the next start", key)
        service.config = new
        service.parser.set_rules(new.topic_rules().values())
        old_feeds = {feed.url: feed for feed in old.feeds}
        new_feeds = {feed.url: feed for feed in new.feeds}
        for url in old_feeds.keys() - new_feeds.keys():
            remove_job(service.scheduler, f"poll:{url}")
            service.first_poll.polled(url)  # a removed feed is not waited for
        for url, feed in new_feeds.items():
            if old_feeds.get(url) != feed:
                service.polling.schedule(feed)
        await self.sync_destinations()
        await self.follow_topic_changes(old.topics)
        for row in await service.store.destinations():
            service.digests.schedule(row)
        log.info(
            "config reloaded: %d feeds (%d added, %d removed), %d topics, %d destinations",
            len(new.feeds),
            len(new_feeds.keys() - old_feeds.keys()),
            len(old_feeds.keys() - new_feeds.keys()),
            len(new.topics),
            len(new.destinations),
        )

    async def sync_destinations(self) -> None:
        """Config destinations into the store; ones removed from the file are deactivated."""
        service = self.service
        now = service.clock()
        wanted = {dest.key for dest in service.config.destinations}
        for dest in service.config.destinations:
            await service.store.upsert_destination(destination_row(dest, now))
        for row in await service.store.destinations():
            if row.origin == "config" and row.key not in wanted:
                await service.store.set_destination_active(
                    row.key, False, "removed from the config"
                )
                remove_job(service.scheduler, f"digest:{row.key}")
                log.info("%s removed from the config: no longer sent to", row.key)

    async def follow_topic_changes(self, before: Mapping[str, TopicConfig] | None) -> None:
        """Subscriptions follow a topic's `renamed_from:`; a topic gone from the file is named
        with the chats still following it (they see it as no longer offered, and can
        /unsubscribe it). `before`: the topics until this reload (None: at start, where every
        topic gone while the service was down is named)."""
        topics = self.service.config.topics
        for topic in topics.values():
            for old_id in topic.renamed_from:
                moved = await self.service.store.rename_topic(old_id, topic.id)
                if moved:
                    log.info(
                        "topic %s renamed to %s: subscriptions carried over for %s",
                        old_id,
                        topic.id,
                        ", ".join(moved),
                    )
        followers: dict[str, list[str]] = {}
        for row in await self.service.store.destinations():
            for topic_id in row.topics:
                if topic_id not in topics and (before is None or topic_id in before):
                    who = f"{row.key} ({row.title})" if row.title else row.key
                    followers.setdefault(topic_id, []).append(who)
        for topic_id, chats in followers.items():
            log.warning(
                "topic %s is no longer in %s; still followed by %s",
                topic_id,
                self.service.config.path.name,
                ", ".join(chats),
            )
