"""Messages per Telegram digest: how full each message is, as Telegram counts it.

    python -m bench.review_digest                 # ten stories from ../shared/realfeeds/
    python -m bench.review_digest --synthetic     # ten stories written here (no files needed)

Telegram's limit is 4096 UTF-16 units of the visible text after entity parsing; each message
is measured by the fake Bot API's parser (tests/fakes/telegram_api.py, tdlib's rules), so the
figure is what Telegram would count, not what the renderer believes. Real feeds are read by
path and only their items published before the held-out date are used; nothing is printed
from them but sizes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policywire.curate.digest import build_digest
from policywire.deliver.render import view_digest
from policywire.deliver.telegram_html import TELEGRAM_LIMIT, render_telegram
from policywire.ingest.parse import parse_feed
from policywire.models import Digest, Item, MatchedItem, Story, TopicHit
from tests.fakes.telegram_api import parse_html, trim

ROOT = Path(__file__).resolve().parents[1]
REALFEEDS = ROOT.parent / "shared" / "realfeeds"
HELD_OUT = datetime(2026, 2, 15, tzinfo=UTC)  # items from this date on are never looked at
STORIES = 10


def realfeed_items(folder: Path) -> list[MatchedItem]:
    """Every dated item of the captured feeds published before the held-out date."""
    found: list[MatchedItem] = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".xml", ".atom", ".rdf", ".json"):
            continue
        try:
            parsed = parse_feed(path.read_bytes(), feed_url=path.as_uri(), now=HELD_OUT)
        except Exception:  # a broken capture is part of the set; it just adds no items
            continue
        source = path.stem.split("__")[-1]
        for item in parsed.items:
            if item.published < HELD_OUT and item.title:
                found.append(_matched(item, source))
    return found


def synthetic_digest() -> Digest:
    """Ten stories shaped like the review's: a headline, a two-sentence summary and two other
    outlets as further reading, every link an aggregator's long redirect URL (so the HTML
    source is mostly markup the reader never sees)."""
    now = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    summary = (
        "Lawmakers in the committee agreed on a compromise text on Tuesday, keeping the "
        "risk-based approach. National authorities get another year to prepare, officials said."
    )
    stories = []
    for n in range(STORIES):
        told = []
        for outlet in range(3):
            token = hashlib.sha256(f"{n}-{outlet}".encode()).hexdigest() * 3
            base = Item(
                feed=f"https://aggregator.example/feed{outlet}.xml",
                id=f"{n}-{outlet}",
                link=f"https://aggregator.example/rss/articles/{token}?oc=5&hl=en-US",
                title=f"Regulators weigh the next step on rule {n}: what outlet {outlet} heard",
                summary=summary,
                published=now - timedelta(hours=6 * n, minutes=outlet),
                language="en",
                source=f"Outlet {outlet}",
            )
            told.append(_matched(base, base.source))
        stories.append(Story(lead=told[0], related=tuple(told[1:])))
    return Digest("telegram:review", "en", ("Everything",), tuple(stories), now, "Europe/Rome")


def _matched(item: Item, source: str) -> MatchedItem:
    return MatchedItem(item, (TopicHit("everything", ("*",)),), (source,), item.published)


def digest_of(candidates: Sequence[MatchedItem]) -> Digest:
    newest = max(m.item.published for m in candidates)
    return build_digest(
        candidates,
        destination="telegram:review",
        language="en",
        topics=["Everything"],
        max_stories=STORIES,
        now=newest,
        timezone="Europe/Rome",
    )


def visible_units(message: str) -> int:
    text = trim(parse_html(message)).text
    return len(text.encode("utf-16-le")) // 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--synthetic", action="store_true", help="stories written here")
    parser.add_argument("--realfeeds", type=Path, default=REALFEEDS)
    args = parser.parse_args(argv)
    if args.synthetic or not args.realfeeds.is_dir():
        source, digest = "synthetic", synthetic_digest()
    else:
        source, digest = str(args.realfeeds), digest_of(realfeed_items(args.realfeeds))
    messages = render_telegram(view_digest(digest))
    print(f"{source}: {len(digest.stories)} stories -> {len(messages)} Telegram messages")
    for number, message in enumerate(messages, 1):
        units = visible_units(message)
        print(
            f"  message {number}: {units} visible UTF-16 units "
            f"({100 * units / TELEGRAM_LIMIT:.0f} % of {TELEGRAM_LIMIT}), "
            f"{len(message)} characters of HTML"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
