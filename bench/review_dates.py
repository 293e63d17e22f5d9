"""Honest dates over real feeds: undated items per feed, and old stories a first run sends as new.

    python -m bench.review_dates                  # ../shared/realfeeds/, 24 h backfill
    python -m bench.review_dates --backfill-hours 48 --realfeeds DIR

Two passes over every captured feed, parsed as the service parses them:
- "before": the localized-date fallback off (`dates.MAX_LOOKUPS_PER_FEED = 0`), and every item
  without a date we trust stored as published when parsed, which is what policywire did before
  policywire/ingest/dates.py: such an item passed the backfill test as today's news;
- "after": the code as it is.
Each pass stores every feed's items in a new SQLite database as a first `run --once` would (one
good poll per feed, every item matching a topic that admits everything, and separately the
topics of the shipped feeds.yaml), asks the store for a new destination's candidates with the
backfill, and groups them into the digest's stories. A story is "old" when one of its
articles has a date (read in the "after" pass) earlier than the backfill allows, and "of
unknown age" when its articles have no date at all.

Only counts are printed: no title, link or text of any item. Dates are counted, never
labelled, and the feeds' own undated items cannot be told apart from held-out ones anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policywire.config.load import load_config
from policywire.curate.digest import build_digest
from policywire.errors import ParseError
from policywire.ingest import dates
from policywire.ingest.match import Matcher, match_items
from policywire.ingest.parse import parse_feed
from policywire.models import Item, TopicHit, TopicRule, Validators
from policywire.storage.rows import DestinationRow
from policywire.storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
REALFEEDS = ROOT.parent / "shared" / "realfeeds"
SUFFIXES = (".xml", ".atom", ".rdf", ".json")
EVERYTHING = (TopicHit("everything", ("*",)),)

Key = tuple[str, str]  # (feed, item id)


@dataclass(frozen=True, slots=True)
class Pass:
    items: dict[str, tuple[Item, ...]]  # by feed file name
    undated: dict[str, int]  # items without a date we trust, by feed file name


@dataclass(frozen=True, slots=True)
class FirstRun:
    candidates: int
    stories: int  # before the digest's cap
    old: int  # stories with an article dated earlier than the backfill allows
    unknown_age: int  # stories whose articles have no date at all


def parse_all(folder: Path, now: datetime, *, fallback: bool) -> Pass:
    saved = dates.MAX_LOOKUPS_PER_FEED
    dates.MAX_LOOKUPS_PER_FEED = saved if fallback else 0
    try:
        items: dict[str, tuple[Item, ...]] = {}
        for path in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES):
            try:
                parsed = parse_feed(path.read_bytes(), feed_url=path.as_uri(), now=now)
            except ParseError:  # the broken captures: no items either way
                continue
            items[path.name] = parsed.items
    finally:
        dates.MAX_LOOKUPS_PER_FEED = saved
    undated = {name: sum(not i.dated for i in found) for name, found in items.items()}
    return Pass(items, undated)


def as_before(item: Item) -> Item:
    """What the store got before: an item without a date we trust, dated when parsed."""
    return item if item.dated else replace(item, dated=True)


async def first_run(
    items: Sequence[Item],
    hits: Mapping[Key, tuple[TopicHit, ...]],
    true_dates: Mapping[Key, datetime | None],
    now: datetime,
    backfill: timedelta,
) -> FirstRun:
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite+aiosqlite:///{Path(folder) / 'review.db'}")
        try:
            for feed in dict.fromkeys(item.feed for item in items):
                own = [item for item in items if item.feed == feed]
                own_hits = {
                    (i.feed, i.id): hits[(i.feed, i.id)] for i in own if (i.feed, i.id) in hits
                }
                await store.record_success(feed, Validators(), now, items=own, hits=own_hits)
            row = DestinationRow(
                key="console:review",
                origin="config",
                platform="console",
                target="review",
                topics=tuple(sorted({hit.topic for found in hits.values() for hit in found})),
                schedule="instant",
                timezone="UTC",
                language="en",
                active=True,
                created_at=now,
                last_digest_at=None,
                title="",
            )
            candidates = await store.undelivered(row, backfill)
        finally:
            await store.close()
    digest = build_digest(
        candidates,
        destination=row.key,
        language="en",
        topics=["review"],
        max_stories=10_000,
        now=now,
    )
    oldest_allowed = now - backfill
    old = unknown = 0
    for story in digest.stories:
        found = [true_dates.get((m.item.feed, m.item.id)) for m in story.members]
        if any(date is not None and date < oldest_allowed for date in found):
            old += 1
        elif all(date is None for date in found):
            unknown += 1
    return FirstRun(len(candidates), len(digest.stories), old, unknown)


def shipped_rules() -> list[TopicRule]:
    return list(load_config(ROOT / "feeds.yaml", env={}).topic_rules().values())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--realfeeds", type=Path, default=REALFEEDS)
    parser.add_argument("--backfill-hours", type=float, default=24.0)
    args = parser.parse_args(argv)
    if not args.realfeeds.is_dir():
        print(f"{args.realfeeds} is not there", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    backfill = timedelta(hours=args.backfill_hours)
    before = parse_all(args.realfeeds, now, fallback=False)
    after = parse_all(args.realfeeds, now, fallback=True)

    total = sum(len(found) for found in after.items.values())
    print(f"{len(after.items)} feeds, {total} items; items without a date we trust:")
    print(f"  {'feed':<48} {'items':>6} {'before':>7} {'after':>6}")
    for name, found in after.items.items():
        if before.undated[name] or after.undated[name]:
            print(
                f"  {name:<48} {len(found):>6} {before.undated[name]:>7} {after.undated[name]:>6}"
            )
    print(
        f"  {'all feeds':<48} {total:>6} {sum(before.undated.values()):>7} "
        f"{sum(after.undated.values()):>6}"
    )

    true_dates = {
        (i.feed, i.id): (i.published if i.dated else None)
        for found in after.items.values()
        for i in found
    }
    after_items = [i for found in after.items.values() for i in found]
    before_items = [as_before(i) for found in before.items.values() for i in found]
    matcher = Matcher.compile(shipped_rules())
    print(f"a first `run --once` with a {args.backfill_hours:g} h backfill sends as new:")
    for label, pass_items in (("before", before_items), ("after", after_items)):
        for topics, hits in (
            ("a topic admitting everything", {(i.feed, i.id): EVERYTHING for i in pass_items}),
            ("the shipped topics", dict(match_items(matcher, pass_items))),
        ):
            run = asyncio.run(first_run(pass_items, hits, true_dates, now, backfill))
            print(
                f"  {label:<6}, {topics:<29}: {run.candidates:>4} items in {run.stories:>4} "
                f"stories; {run.old} old, {run.unknown_age} of unknown age"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
