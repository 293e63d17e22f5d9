"""Stories with an identity, their cards per destination, and readers' verdicts (docs/cards.md).

* **Identity.** `assign_stories` takes the groups a digest made (each a set of item pks, from
  `curate/stories.py`) and gives each a stable story id: a group holding items of a known
  story joins it, a group of new items gets a new story, and a group holding items of two
  known stories proves them one: the younger is merged into the older (its members move,
  `stories.merged_into` and a `story_merges` row record it, its cards and verdicts follow
  where that leaves no destination with two cards of one story).
* **Cards.** An instant destination's card of a story is one outbox message (`story_cards`),
  queued with its items' delivered marks in one transaction (`enqueue_cards`). An article that
  joins a posted story marks the card's edit due, no sooner than `interval` after the last
  one; `due_card_edits` lists the cards whose edit may be queued now (the card itself sent,
  the previous edit gone out), and `queue_card_edit` queues it: one outbox row, in order with
  the destination's other messages, paced and retried by the sender like any message.
* **Verdicts.** "Not relevant" mutes a story for a destination; "wrong grouping" keeps one
  article off that destination's card. Each verdict keeps a copy of the articles it is about,
  for `policywire labels export`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from policywire.models import MatchedItem
from policywire.storage.base import StoreBase, chunks, insert_ignoring_conflicts
from policywire.storage.destinations import mark_delivered_in
from policywire.storage.items import _group_matches
from policywire.storage.schema import (
    deliveries_table,
    items_table,
    matches_table,
    outbox_table,
    stories_table,
    story_cards_table,
    story_members_table,
    story_merges_table,
    story_verdicts_table,
)

NOT_RELEVANT = "not_relevant"
WRONG_GROUPING = "wrong_grouping"
VERDICTS = (NOT_RELEVANT, WRONG_GROUPING)


@dataclass(frozen=True, slots=True)
class CardRow:
    """One destination's card of one story."""

    destination: str
    story_id: int
    outbox_id: int
    posted_at: datetime
    edited_at: datetime | None
    edit_due: datetime | None
    edit_outbox_id: int | None
    shown: tuple[int, ...]  # item pks the card shows (after its last edit)
    muted: bool


@dataclass(frozen=True, slots=True)
class NewCard:
    """A card to post: its story, the outbox payload, and the item pks it shows."""

    story_id: int
    payload: Mapping[str, Any]
    shown: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DueEdit:
    """A card whose edit may be queued now."""

    destination: str
    story_id: int
    message_id: str  # the card's platform message id
    sent_at: datetime  # when the card went out (Telegram edits only within 48 h)
    shown: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MergeRow:
    kept: int
    merged: int
    merged_at: datetime
    items: int


@dataclass(frozen=True, slots=True)
class VerdictRow:
    id: int
    destination: str
    story_id: int
    item_pk: int | None
    verdict: str
    reader: str
    at: datetime
    articles: tuple[dict[str, Any], ...]  # the story's articles as they were; the named one first


def plan_group(group: Collection[int], known: Mapping[int, int]) -> tuple[int | None, list[int]]:
    """Which known story a group joins (None: a new one) and which stories merge into it.

    Pure: the oldest known story (the smallest id) is kept, every other one merges into it.
    """
    ids = sorted({known[pk] for pk in group if pk in known})
    if not ids:
        return None, []
    return ids[0], ids[1:]


class StoriesMixin(StoreBase):
    """Story identity, story cards and verdicts."""

    # --- identity ------------------------------------------------------------------------

    async def assign_stories(self, groups: Sequence[Collection[int]], now: datetime) -> list[int]:
        """A story id for each group of item pks (joined, new or merged), in one transaction."""
        pks = sorted({pk for group in groups for pk in group})
        async with self._tx(write=True) as conn:
            known = await _stories_of(conn, pks)
            ids = [await _assign(conn, group, known, now) for group in groups]
        return ids

    async def stories_of(self, item_pks: Iterable[int]) -> dict[int, int]:
        """item pk → story id, for the items that have one."""
        async with self._tx() as conn:
            return await _stories_of(conn, sorted(set(item_pks)))

    async def merges(self) -> list[MergeRow]:
        query = select(story_merges_table).order_by(story_merges_table.c.id)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [MergeRow(r.kept, r.merged, r.merged_at, r.items) for r in rows]

    # --- cards ---------------------------------------------------------------------------

    async def cards_of(self, destination: str) -> dict[int, CardRow]:
        """This destination's cards, by story id."""
        query = select(story_cards_table).where(story_cards_table.c.destination == destination)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return {row.story_id: _card(row) for row in rows}

    async def enqueue_cards(
        self,
        key: str,
        cards: Sequence[NewCard],
        grown: Collection[int],
        item_pks: Iterable[int],
        now: datetime,
        digest_id: str,
        interval: timedelta,
    ) -> int:
        """Queue new cards, mark grown cards' edits due and the items delivered: ONE transaction.

        A grown card's edit is due `interval` after its last edit (or its posting), never
        sooner, so articles joining meanwhile come together in one edit.
        """
        item_pks = list(item_pks)
        async with self._tx(write=True) as conn:
            holder = getattr(self, "holder", None)
            if holder is not None:  # several workers: never queue what another one queued
                from policywire.storage.leases import refuse_delivered

                await refuse_delivered(conn, key, item_pks)
            for index, card in enumerate(cards):
                outbox_id = await _insert_message(
                    conn, key, card.payload, f"{digest_id}/{index}", now
                )
                await conn.execute(
                    insert(story_cards_table).values(
                        destination=key,
                        story_id=card.story_id,
                        outbox_id=outbox_id,
                        posted_at=now,
                        shown=json.dumps(list(card.shown)),
                        muted=False,
                    )
                )
            for story_id in grown:
                await _mark_edit_due(conn, key, story_id, now, interval)
            await mark_delivered_in(conn, key, item_pks, now)
        return len(cards)

    async def due_card_edits(self, now: datetime, destination: str | None = None) -> list[DueEdit]:
        """Cards whose edit is due, whose card was sent and whose last edit went out."""
        cards, card_row = story_cards_table, outbox_table.alias("card")
        last_edit = outbox_table.alias("last_edit")
        query = (
            select(cards, card_row.c.platform_message_id, card_row.c.sent_at)
            .join(card_row, card_row.c.id == cards.c.outbox_id)
            .outerjoin(last_edit, last_edit.c.id == cards.c.edit_outbox_id)
            .where(
                cards.c.edit_due <= now,
                cards.c.muted.is_(False),
                card_row.c.state == "sent",
                card_row.c.platform_message_id.is_not(None),
                (last_edit.c.id.is_(None)) | (last_edit.c.state != "pending"),
            )
            .order_by(cards.c.edit_due, cards.c.destination, cards.c.story_id)
        )
        if destination is not None:
            query = query.where(cards.c.destination == destination)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [
            DueEdit(
                r.destination,
                r.story_id,
                str(r.platform_message_id),
                r.sent_at or r.posted_at,
                tuple(json.loads(r.shown)),
            )
            for r in rows
        ]

    async def queue_card_edit(
        self,
        edit: DueEdit,
        payload: Mapping[str, Any] | None,
        shown: Sequence[int],
        now: datetime,
        key: str,
    ) -> bool:
        """Queue one card's edit (None: nothing changed, just clear the due mark).

        Returns False when another round queued it first (the due mark was gone).
        """
        cards = story_cards_table
        mine = and_(cards.c.destination == edit.destination, cards.c.story_id == edit.story_id)
        async with self._tx(write=True) as conn:
            due = await conn.scalar(select(cards.c.edit_due).where(mine))
            if due is None:
                return False
            values: dict[str, Any] = {"edit_due": None}
            if payload is not None:
                values["edit_outbox_id"] = await _insert_message(
                    conn, edit.destination, payload, key, now
                )
                values["edited_at"] = now
                values["shown"] = json.dumps(list(shown))
            await conn.execute(update(cards).where(mine).values(**values))
        return True

    async def card_members(self, destination: str, story_id: int) -> list[MatchedItem]:
        """What this destination's card of the story shows: the story's items it received,
        without those its readers split off ("wrong grouping"), oldest first."""
        split = select(story_verdicts_table.c.item_pk).where(
            story_verdicts_table.c.destination == destination,
            story_verdicts_table.c.story_id == story_id,
            story_verdicts_table.c.verdict == WRONG_GROUPING,
            story_verdicts_table.c.item_pk.is_not(None),
        )
        query = (
            select(items_table, matches_table.c.topic, matches_table.c.keywords)
            .join(matches_table, matches_table.c.item_pk == items_table.c.pk)
            .join(story_members_table, story_members_table.c.item_pk == items_table.c.pk)
            .join(
                deliveries_table,
                and_(
                    deliveries_table.c.item_pk == items_table.c.pk,
                    deliveries_table.c.destination == destination,
                ),
            )
            .where(story_members_table.c.story_id == story_id, items_table.c.pk.not_in(split))
            .order_by(items_table.c.published, items_table.c.pk)
        )
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return _group_matches(rows)

    # --- verdicts ------------------------------------------------------------------------

    async def record_verdict(
        self,
        destination: str,
        story_id: int,
        verdict: str,
        reader: str,
        articles: Sequence[Mapping[str, Any]],
        now: datetime,
        item_pk: int | None = None,
    ) -> None:
        """Store a reader's verdict; "not relevant" mutes the card, "wrong grouping" makes
        its edit (without that article) due at once."""
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}")
        cards = story_cards_table
        mine = and_(cards.c.destination == destination, cards.c.story_id == story_id)
        async with self._tx(write=True) as conn:
            await conn.execute(
                insert(story_verdicts_table).values(
                    destination=destination,
                    story_id=story_id,
                    item_pk=item_pk,
                    verdict=verdict,
                    reader=reader,
                    at=now,
                    articles=json.dumps(list(articles), ensure_ascii=False),
                )
            )
            if verdict == NOT_RELEVANT:
                await conn.execute(update(cards).where(mine).values(muted=True, edit_due=None))
            else:
                await conn.execute(update(cards).where(mine).values(edit_due=now))

    async def muted_stories(self, destination: str) -> set[int]:
        query = select(story_cards_table.c.story_id).where(
            story_cards_table.c.destination == destination, story_cards_table.c.muted.is_(True)
        )
        async with self._tx() as conn:
            return {int(row[0]) for row in await conn.execute(query)}

    async def verdicts(self) -> list[VerdictRow]:
        query = select(story_verdicts_table).order_by(story_verdicts_table.c.id)
        async with self._tx() as conn:
            rows = (await conn.execute(query)).all()
        return [
            VerdictRow(
                r.id,
                r.destination,
                r.story_id,
                r.item_pk,
                r.verdict,
                r.reader,
                r.at,
                tuple(json.loads(r.articles)),
            )
            for r in rows
        ]


async def _stories_of(conn: AsyncConnection, pks: Sequence[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    members = story_members_table.c
    for chunk in chunks(pks, 500):
        rows = await conn.execute(
            select(members.item_pk, members.story_id).where(members.item_pk.in_(chunk))
        )
        found.update({int(pk): int(story) for pk, story in rows})
    return found


async def _assign(
    conn: AsyncConnection, group: Collection[int], known: dict[int, int], now: datetime
) -> int:
    kept, merging = plan_group(group, known)
    if kept is None:
        result = await conn.execute(insert(stories_table).values(created_at=now))
        kept = int(result.inserted_primary_key[0])  # type: ignore[index]
    for merged in merging:
        await _merge(conn, kept, merged, now)
        for pk, story in list(known.items()):
            if story == merged:
                known[pk] = kept
    new = sorted(pk for pk in group if pk not in known)
    if new:
        # Another worker on the same PostgreSQL may have placed an item meanwhile: its story
        # keeps it (the first placement wins) instead of the whole digest failing.
        await conn.execute(
            insert_ignoring_conflicts(
                conn.dialect.name, story_members_table, [story_members_table.c.item_pk]
            ),
            [{"item_pk": pk, "story_id": kept, "joined_at": now} for pk in new],
        )
        known.update(dict.fromkeys(new, kept))
    return kept


async def _merge(conn: AsyncConnection, kept: int, merged: int, now: datetime) -> None:
    """Story `merged` proved to be `kept`: its members, cards and verdicts move, recorded."""
    members = story_members_table.c
    moved = await conn.execute(
        update(story_members_table).where(members.story_id == merged).values(story_id=kept)
    )
    await conn.execute(
        update(stories_table).where(stories_table.c.id == merged).values(merged_into=kept)
    )
    await conn.execute(
        insert(story_merges_table).values(
            kept=kept, merged=merged, merged_at=now, items=int(moved.rowcount or 0)
        )
    )
    cards = story_cards_table.c
    # A destination with cards of both keeps both messages; only the kept one grows.
    both = select(cards.destination).where(cards.story_id == kept)
    await conn.execute(
        update(story_cards_table)
        .where(cards.story_id == merged, cards.destination.not_in(both))
        .values(story_id=kept)
    )
    verdicts = story_verdicts_table.c
    await conn.execute(
        update(story_verdicts_table).where(verdicts.story_id == merged).values(story_id=kept)
    )


async def _mark_edit_due(
    conn: AsyncConnection, key: str, story_id: int, now: datetime, interval: timedelta
) -> None:
    cards = story_cards_table.c
    row = (
        await conn.execute(
            select(cards.posted_at, cards.edited_at, cards.edit_due, cards.muted).where(
                cards.destination == key, cards.story_id == story_id
            )
        )
    ).first()
    if row is None or row.muted or row.edit_due is not None:
        return  # muted, or an edit already waits: it will carry this article too
    last = row.edited_at or row.posted_at
    due = max(now, last + interval)
    await conn.execute(
        update(story_cards_table)
        .where(cards.destination == key, cards.story_id == story_id)
        .values(edit_due=due)
    )


async def _insert_message(
    conn: AsyncConnection, key: str, payload: Mapping[str, Any], idempotency_key: str, now: datetime
) -> int:
    """One outbox row, as `OutboxMixin.enqueue_digest` writes them; returns its id."""
    result = await conn.execute(
        insert(outbox_table).values(
            destination=key,
            idempotency_key=idempotency_key,
            payload=json.dumps(payload, ensure_ascii=False),
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def _card(row: Any) -> CardRow:
    return CardRow(
        destination=row.destination,
        story_id=row.story_id,
        outbox_id=row.outbox_id,
        posted_at=row.posted_at,
        edited_at=row.edited_at,
        edit_due=row.edit_due,
        edit_outbox_id=row.edit_outbox_id,
        shown=tuple(json.loads(row.shown)),
        muted=bool(row.muted),
    )
