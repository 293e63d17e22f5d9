"""The contracts shared by every stage: plain frozen dataclasses, no I/O.

Data flows one way (fetch → parse → match → store → stories → render → outbox); each stage
takes and returns these types, so any stage can be tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


@dataclass(frozen=True, slots=True)
class Item:
    """One normalized article from one feed."""

    feed: str  # the feed's URL as configured (the feed's key)
    id: str  # guid, else canonical link, else a hash of title + date
    link: str  # canonical: tracking parameters and fragment removed, host lower-cased
    title: str  # plain text
    summary: str  # plain text, boilerplate removed (may be long; digests cut it)
    published: datetime  # aware, UTC; the first-seen time when not `dated`
    language: str | None = None  # ISO 639-1 ("en", "it"…) when known
    tags: tuple[str, ...] = ()
    source: str = ""  # the outlet's display name (feed name from config, else feed title)
    links: tuple[str, ...] = ()  # canonical links found inside the entry's content
    # False: the feed gave no date we trust (none, unreadable, or in the future), so
    # `published` is only when we first saw the item (storage/items.py decides if it is new).
    dated: bool = True
    # The start of the entry's full body as plain text (ingest/match_text.py), when the feed has
    # one besides the text `summary` came from: read by topic matching, never stored, and not
    # part of the item's identity (two polls of one entry are equal whatever body came along).
    content: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What the parser made of one response body."""

    items: tuple[Item, ...]
    title: str = ""
    language: str | None = None
    warning: str | None = None  # ill-formed but usable: one readable line


class FetchStatus(Enum):
    OK = "ok"  # a new body to parse
    NOT_MODIFIED = "not_modified"  # 304, or a 200 whose body hash did not change
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Validators:
    """What we remember about a feed's last good response, for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: FetchStatus
    url: str  # the URL asked for (the feed's key)
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    validators: Validators = field(default_factory=Validators)
    error: str | None = None  # one readable line, never a token or a traceback
    retry_after: float | None = None  # seconds, from a 429/503 Retry-After
    final_url: str | None = None  # after redirects
    http_status: int | None = None


@dataclass(frozen=True, slots=True)
class TopicRule:
    """A topic's keyword rule, as written in feeds.yaml."""

    id: str
    name: str
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicHit:
    """One topic an item matched, with the keywords that hit (as written in the rule)."""

    topic: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MatchedItem:
    """An item with the topics it matched: the unit a digest is made of."""

    item: Item
    hits: tuple[TopicHit, ...]
    sources: tuple[str, ...] = ()  # every outlet that carried this same article
    first_seen: datetime | None = None
    pk: int | None = None  # the store's row id, when it came from the store

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(hit.topic for hit in self.hits)

    @property
    def keywords(self) -> tuple[str, ...]:
        return _union(hit.keywords for hit in self.hits)


@dataclass(frozen=True, slots=True)
class Story:
    """One event told by one or more articles: a lead plus further reading."""

    lead: MatchedItem
    related: tuple[MatchedItem, ...] = ()  # other outlets' articles, best first
    is_update: bool = False  # the story was sent before; these articles are new on it
    reasons: tuple[str, ...] = ()  # why the articles were grouped (for --explain)
    copies: tuple[MatchedItem, ...] = ()  # the lead article again, reached through other feeds
    # An update's articles already delivered (and their copies): not shown again, but they
    # carry the story's identity (storage/stories.py) and fill its card (docs/cards.md).
    context: tuple[MatchedItem, ...] = ()

    @property
    def item_pks(self) -> tuple[int, ...]:
        return tuple(m.pk for m in (*self.members, *self.copies) if m.pk is not None)

    @property
    def members(self) -> tuple[MatchedItem, ...]:
        return (self.lead, *self.related)

    @property
    def topics(self) -> tuple[str, ...]:
        return _union(m.topics for m in self.members)

    @property
    def keywords(self) -> tuple[str, ...]:
        return _union(m.keywords for m in self.members)

    @property
    def outlets(self) -> tuple[str, ...]:
        return _union(m.sources or (m.item.source,) for m in self.members)


@dataclass(frozen=True, slots=True)
class Digest:
    """The stories one destination receives at one time, before rendering."""

    destination: str  # the destination's key, e.g. "console:stdout"
    language: str
    topics: tuple[str, ...]  # topic names the destination follows (for the header)
    stories: tuple[Story, ...]
    generated_at: datetime
    timezone: str = "UTC"
    more: int = 0  # stories that matched but did not fit under max_stories


def _union(groups: Iterable[Iterable[str]]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for group in groups:
        seen.update(dict.fromkeys(group))
    return tuple(seen)
