"""The labelled story-grouping dev sets, read into one shape (`Labelled`).

Six sets live in `tests/data/` (`DEV_SETS` names them):

* `tuned` (`grouping/`): the set the grouping weights were tuned on; the regression floor.
* `multilingual` (`grouping_multilingual/`): fictional, six languages, hard negatives, no
  `pairs.csv` (the pairs are derived from the story labels).
* `general` (`grouping_general/`): fictional general news, hard negatives.
* `policy` (`grouping_policy/`) and `world` (`grouping_world/`): fictional and blind (written
  by people who saw neither the grouping code nor its figures, after the parameters were
  chosen): EU tech policy in six languages, world news in ten; hard negatives, no `pairs.csv`.
* `realnews` (`grouping_realnews/`): labels only. The items are read at evaluation time from
  `../shared/realfeeds/<feed_file>` (relative to the repository root) with policywire's own
  parser and joined to the labelled rows by canonical link. Items published on or after
  `REALNEWS_CUTOFF` are held out: they are dropped right after parsing, before anything else
  looks at them, so they can't be grouped, scored or printed.

Pairs, when a set has no `pairs.csv`, are derived as the existing `pairs.csv` files were made:
every same-story pair, and every different-story pair published at most `PAIR_WINDOW` apart.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from policywire.errors import ParseError
from policywire.ingest.parse import parse_feed
from policywire.models import Item, MatchedItem, TopicHit

try:  # the same function the parser applies to every link it stores
    from policywire.ingest.links import canonical_link
except ImportError:  # before policywire/ingest/text.py was split
    from policywire.ingest.text import canonical_link  # type: ignore[no-redef,attr-defined]

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
REALFEEDS = ROOT.parent / "shared" / "realfeeds"
REALNEWS_CUTOFF = datetime(2026, 2, 15, tzinfo=UTC)  # items from here on are held out
PAIR_WINDOW = timedelta(days=7)  # different-story pairs at most this far apart are scored
_PARSE_NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every capture, so real dates stay real
_SAME = "same story"


class DevSetUnavailable(Exception):
    """A dev set whose data is not on this machine (the realnews feeds, in a fresh clone)."""


@dataclass(frozen=True, slots=True)
class Labelled:
    """One dev set: the articles, their story labels, the pairs to score, the hard negatives."""

    articles: dict[str, MatchedItem]  # by id
    stories: dict[str, str]  # article id → story label
    pairs: list[tuple[str, str, bool, str]]  # a, b, same story, kind
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # a, b, reason
    name: str = ""
    notes: tuple[str, ...] = ()  # what loading had to leave out, one line each
    unjoined: int = 0  # labelled rows with no parsed item (realnews)
    held_out: int = 0  # labelled rows whose parsed item is dated on/after the cutoff

    def key(self, item: Item) -> tuple[str, str]:
        """How a grouped item is found again: its feed and its (canonical) link."""
        return (item.feed, item.link)


@dataclass(frozen=True, slots=True)
class DevSet:
    """A registered dev set: its name, folder and loader."""

    name: str
    directory: Path
    description: str
    loader: Callable[[Path], Labelled]

    def load(self) -> Labelled:
        return self.loader(self.directory)


# --- the fictional sets (articles.json) -------------------------------------------------------


def load(directory: Path = DATA / "grouping") -> Labelled:
    """A fictional set: `articles.json`, `pairs.csv` (derived when absent), `hard_negatives.csv`."""
    raw = json.loads((directory / "articles.json").read_text(encoding="utf-8"))
    articles: dict[str, MatchedItem] = {}
    stories: dict[str, str] = {}
    for entry in raw:
        item = Item(
            feed=f"https://{entry['outlet'].lower().replace(' ', '-')}.example/feed",
            id=entry["id"],
            link=entry["link"],
            title=entry["title"],
            summary=entry["summary"],
            published=datetime.fromisoformat(entry["published"].replace("Z", "+00:00")),
            language=entry["language"],
            source=entry["outlet"],
            links=tuple(entry.get("links", ())),
        )
        articles[entry["id"]] = MatchedItem(item, (TopicHit("ai-policy", ("AI",)),), (item.source,))
        stories[entry["id"]] = entry["story"]
    pairs_file = directory / "pairs.csv"
    if pairs_file.exists():
        with pairs_file.open(encoding="utf-8", newline="") as handle:
            pairs = [
                (r["a"], r["b"], r["same_story"] == "1", r["kind"]) for r in csv.DictReader(handle)
            ]
    else:
        published = {key: m.item.published for key, m in articles.items()}
        pairs = derive_pairs(list(articles), stories, published)
    hard: list[tuple[str, str, str]] = []
    notes: list[str] = []
    hard_file = directory / "hard_negatives.csv"
    if hard_file.exists():
        with hard_file.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["a"] in articles and row["b"] in articles:
                    hard.append((row["a"], row["b"], row["reason"]))
                else:
                    notes.append(f"hard negative with an unknown id: {row['a']} / {row['b']}")
    return Labelled(articles, stories, pairs, hard, directory.name, tuple(notes))


def derive_pairs(
    ids: list[str],
    stories: dict[str, str],
    published: dict[str, datetime],
    window: timedelta = PAIR_WINDOW,
) -> list[tuple[str, str, bool, str]]:
    """Every same-story pair, and every different-story pair at most `window` apart.

    The kinds are the ones `pairs.csv` uses ("same story", "different, within 72 h",
    "different, within a week"); on `tests/data/grouping` and `grouping_general` this gives
    exactly their `pairs.csv`.
    """
    ordered = sorted(ids, key=lambda key: (published[key], key))
    pairs: list[tuple[str, str, bool, str]] = []
    for n, a in enumerate(ordered):
        for b in ordered[n + 1 :]:
            gap = published[b] - published[a]
            if stories[a] == stories[b]:
                pairs.append((a, b, True, _SAME))
            elif gap <= window:
                kind = (
                    "different, within 72 h"
                    if gap <= timedelta(hours=72)
                    else ("different, within a week")
                )
                pairs.append((a, b, False, kind))
    return pairs


# --- the real-news set (labels.csv + ../shared/realfeeds) ----------------------------------


def realnews_id(feed_file: str, link: str) -> str:
    """The id of one labelled real-news row: its feed file and canonical link."""
    return f"{feed_file} {canonical_link(link)}"


@lru_cache(maxsize=64)
def parse_realfeed(path: Path) -> tuple[Item, ...]:
    """The items of one captured feed published before `REALNEWS_CUTOFF` (cached per process).

    Held-out items (on/after the cutoff, and undated ones, which the parser dates `now`) are
    dropped here, before anything else sees them.
    """
    feed = parse_feed(
        path.read_bytes(), feed_url=f"https://feeds.example/{path.name}", now=_PARSE_NOW
    )
    return tuple(item for item in feed.items if item.published < REALNEWS_CUTOFF)


def load_realnews(
    directory: Path = DATA / "grouping_realnews", realfeeds: Path | None = None
) -> Labelled:
    """`labels.csv` joined by canonical link to the items policywire parses from the feeds.

    Raises DevSetUnavailable when the feeds folder is not there.
    """
    realfeeds = REALFEEDS if realfeeds is None else realfeeds
    if not realfeeds.is_dir():
        raise DevSetUnavailable(f"{_shown(realfeeds)} is not there")
    with (directory / "labels.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    notes: list[str] = []
    by_feed: dict[str, dict[str, Item]] = {}
    articles: dict[str, MatchedItem] = {}
    stories: dict[str, str] = {}
    published: dict[str, datetime] = {}
    unjoined = held_out = 0
    for row in rows:
        feed_file, link = row["feed_file"], row["link"]
        labelled_at = datetime.fromisoformat(row["published"].replace("Z", "+00:00"))
        if labelled_at >= REALNEWS_CUTOFF:
            held_out += 1  # never labelled by the rules; skipped unread if it ever is
            continue
        if feed_file not in by_feed:
            by_feed[feed_file] = _items_by_link(realfeeds / feed_file, notes)
        item = by_feed[feed_file].get(canonical_link(link))
        if item is None:
            unjoined += 1
            notes.append(f"not joined: {feed_file} {link}")
            continue
        key = realnews_id(feed_file, link)
        articles[key] = MatchedItem(item, (TopicHit("news", ()),), (item.source or feed_file,))
        stories[key] = row["story"]
        published[key] = labelled_at
    hard: list[tuple[str, str, str]] = []
    with (directory / "hard_negatives.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            a = realnews_id(row["feed_a"], row["link_a"])
            b = realnews_id(row["feed_b"], row["link_b"])
            if a in articles and b in articles:
                hard.append((a, b, row["reason"]))
            else:
                notes.append(f"hard negative not joined: {a} / {b}")
    pairs = derive_pairs(list(articles), stories, published)
    return Labelled(
        articles, stories, pairs, hard, directory.name, tuple(notes), unjoined, held_out
    )


def _items_by_link(path: Path, notes: list[str]) -> dict[str, Item]:
    if not path.is_file():
        notes.append(f"feed missing: {_shown(path)}")
        return {}
    try:
        items = parse_realfeed(path)
    except ParseError as error:
        notes.append(f"feed unreadable: {path.name}: {error}")
        return {}
    found: dict[str, Item] = {}
    for item in items:
        found.setdefault(canonical_link(item.link), item)
    return found


def _shown(path: Path) -> str:
    try:
        return "../" + path.resolve().relative_to(ROOT.resolve().parent).as_posix()
    except ValueError:
        return str(path)


# --- the registry -------------------------------------------------------------------------

DEV_SETS: dict[str, DevSet] = {
    devset.name: devset
    for devset in (
        DevSet("tuned", DATA / "grouping", "the set the weights were tuned on (floor)", load),
        DevSet("multilingual", DATA / "grouping_multilingual", "fictional, 6 languages", load),
        DevSet("general", DATA / "grouping_general", "fictional general news", load),
        DevSet("policy", DATA / "grouping_policy", "fictional, blind: EU tech policy", load),
        DevSet("world", DATA / "grouping_world", "fictional, blind: world news", load),
        DevSet(
            "bigstory",
            DATA / "grouping_bigstory",
            "fictional, blind: five events told 23-25 times each, with their neighbours",
            load,
        ),
        DevSet(
            "realnews",
            DATA / "grouping_realnews",
            "real feeds, hand-labelled, before 2026-02-15",
            load_realnews,
        ),
    )
}


def resolve(name: str) -> DevSet:
    """A registered set by its name or its folder's name (`grouping_general`)."""
    if name in DEV_SETS:
        return DEV_SETS[name]
    for devset in DEV_SETS.values():
        if devset.directory.name == name:
            return devset
    raise KeyError(f"no dev set {name!r}; known: {', '.join(DEV_SETS)}")


@lru_cache(maxsize=16)
def load_set(name: str) -> Labelled:
    """A registered set, loaded once per process (don't mutate what it returns)."""
    return resolve(name).load()
