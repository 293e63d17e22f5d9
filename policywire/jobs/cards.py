"""The card job: story cards of instant destinations, posted once and grown by paced edits.

Apart from policywire/service.py, which composes it: which destinations get cards, a digest's
stories queued as new cards or as edits of posted ones, and the edits that fell due rendered
again from everything their story holds (docs/cards.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from policywire.models import Digest, MatchedItem, Story
from policywire.ops.supervise import job
from policywire.storage.store import DestinationRow

if TYPE_CHECKING:
    from policywire.service import Service
    from policywire.storage.stories import DueEdit

log = logging.getLogger("policywire.service")  # the service's log lines keep their name

# Platforms whose messages are edited in place: their instant destinations get story cards.
CARD_PLATFORMS = ("telegram", "discord", "discord_webhook")
CARD_EDIT_CHECK = 30.0  # seconds between two looks for story card edits that fell due

CardRenderer = Callable[[Any, Any, int, bool], dict[str, Any]]
ReplyRenderer = Callable[[Any, Any, str], dict[str, Any]]


class Cards:
    """Queues the story cards of `service`'s instant destinations and their paced edits."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.in_flight = service.in_flight

    def enabled_for(self, row: DestinationRow) -> bool:
        """Instant destinations on a platform that edits messages get story cards, unless
        feeds.yaml says `cards: false`."""
        if row.schedule != "instant" or row.platform not in CARD_PLATFORMS:
            return False
        destinations = self.service.config.destinations
        configured = next((d for d in destinations if d.key == row.key), None)
        return configured.cards if configured is not None else True

    async def queue(
        self, row: DestinationRow, digest: Digest, pks: list[int], now: datetime
    ) -> int:
        """Each story a card: a new one is posted, one already posted grows by a paced edit,
        one muted there ("not relevant") takes its articles silently."""
        from policywire.storage.stories import NewCard

        store = self.service.store
        groups = [
            {m.pk for m in (*s.members, *s.copies, *s.context) if m.pk is not None}
            for s in digest.stories
        ]
        ids = await store.assign_stories(groups, now)
        cards = await store.cards_of(row.key)
        new: dict[int, NewCard] = {}
        grown: set[int] = set()
        for story, story_id in zip(digest.stories, ids, strict=True):
            if story_id in cards or story_id in new:
                grown.add(story_id)  # (a muted card takes no edit: the store knows)
                continue
            shown = tuple(m.pk for m in story.members if m.pk is not None)
            new[story_id] = NewCard(story_id, self._card_payload(row, story, story_id), shown)
        interval = self.service.config.settings.card_edit_interval
        digest_id = uuid.uuid4().hex
        await store.enqueue_cards(row.key, list(new.values()), grown, pks, now, digest_id, interval)
        self.service.metrics.digests_built.inc()
        await self.flush_edits(row.key)
        return len(new) + len(grown)

    def _card_payload(self, row: DestinationRow, story: Story, story_id: int) -> dict[str, Any]:
        from policywire.deliver.render import card_view, view_card

        card, _reply, buttons = _card_renderers(row.platform)
        updated = None if len(story.members) < 2 else _newest(story.members)
        view = view_card(story, row.language, row.timezone, updated)
        return card(view, card_view(row.language), story_id, buttons)

    @job("card-edits")
    async def edits_job(self) -> None:
        if await self.flush_edits():
            self.service.sender.wake.set()

    async def flush_edits(self, destination: str | None = None) -> int:
        """Queue every story card edit that is due (of one destination, or all): the card
        rendered again from everything its story holds there now."""
        store = self.service.store
        queued = 0
        now = self.service.clock()
        for edit in await store.due_card_edits(now, destination):
            row = await store.destination(edit.destination)
            if row is None or not row.active or row.platform not in CARD_PLATFORMS:
                continue
            members = await store.card_members(edit.destination, edit.story_id)
            payload, shown = self._edit_payload(row, edit, members)
            key = f"card/{edit.story_id}/{uuid.uuid4().hex}"
            if await store.queue_card_edit(edit, payload, shown, now, key):
                queued += payload is not None
        if queued:
            log.info("story cards: %d edits queued", queued)
            self.service.sender.wake.set()
        return queued

    def _edit_payload(
        self, row: DestinationRow, edit: DueEdit, members: list[MatchedItem]
    ) -> tuple[dict[str, Any] | None, list[int]]:
        from policywire.curate.ranking import primary_first
        from policywire.curate.stories import StoryGroup, merge_same_link, story_from_group
        from policywire.deliver.render import card_view, reading_link, view_card

        shown = sorted(m.pk for m in members if m.pk is not None)
        if not members or shown == sorted(edit.shown):
            return None, shown  # nothing joined or left since the card was last rendered
        group = StoryGroup(tuple(merge_same_link(members)))
        story = story_from_group(group, row.language)
        primary = frozenset(feed.url for feed in self.service.config.feeds if feed.primary)
        story = primary_first(story, primary, row.language)
        card, reply, buttons = _card_renderers(row.platform)
        updated = _newest(members) if len(story.members) > 1 else None
        view = card_view(row.language)
        fresh = [reading_link(m) for m in members if m.pk not in edit.shown]
        payload = {
            "edit": {
                "message": edit.message_id,
                "sent_at": edit.sent_at.isoformat(),
                "card": card(
                    view_card(story, row.language, row.timezone, updated),
                    view,
                    edit.story_id,
                    buttons,
                ),
                "reply": reply(fresh, view, edit.message_id) if fresh else None,
            }
        }
        return payload, shown


def _card_renderers(platform: str) -> tuple[CardRenderer, ReplyRenderer, bool]:
    """A platform's card and reply renderers, and whether its cards carry buttons (a webhook
    no application owns cannot: nobody would receive the press)."""
    if platform == "telegram":
        from policywire.deliver import telegram_html

        return telegram_html.card_payload, telegram_html.reply_payload, True
    from policywire.deliver import discord_embeds

    return discord_embeds.card_payload, discord_embeds.reply_payload, platform == "discord"


def _newest(members: Iterable[MatchedItem]) -> datetime:
    """When a card's newest article joined: first seen by us, or published."""
    return max(m.first_seen or m.item.published for m in members)
