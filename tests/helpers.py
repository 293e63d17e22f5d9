"""Small builders shared by the tests (no fakes of our own code: real dataclasses)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from policywire.models import Item, MatchedItem, TopicHit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def item(
    n: int,
    *,
    title: str | None = None,
    summary: str = "A short summary. It has two sentences.",
    link: str | None = None,
    source: str = "News",
    feed: str = "https://news.example/feed.xml",
    published: datetime = NOW,
    language: str | None = "en",
) -> Item:
    return Item(
        feed=feed,
        id=f"id-{n}",
        link=link or f"https://news.example/{n}",
        title=title or f"Story number {n}",
        summary=summary,
        published=published,
        language=language,
        source=source,
    )


def matched(base: Item, *topics: str, pk: int | None = None) -> MatchedItem:
    hits = tuple(TopicHit(topic, (topic.upper(),)) for topic in (topics or ("ai-act",)))
    return MatchedItem(base, hits, (base.source,), first_seen=base.published, pk=pk)


def slug(title: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", title.lower())) or "x"


def rss(titles: list[str]) -> str:
    now = datetime.now(UTC)
    entries = "".join(
        f"<item><title><![CDATA[{title}]]></title>"
        f"<link>https://news.example/{slug(title)}</link>"
        f"<guid>https://news.example/{slug(title)}</guid>"
        f"<pubDate>{(now - timedelta(minutes=n)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate><description><![CDATA[News about {title}. Second sentence.]]></description>"
        "</item>"
        for n, title in enumerate(titles)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>News</title>'
        f"<link>https://news.example/</link>{entries}</channel></rss>"
    )


# --- feeds.yaml -------------------------------------------------------------------------------

CONFIG_HEADER = "# feeds.yaml written by tests.helpers.config_yaml\n"


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key, as people write feeds.yaml."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def config_yaml(
    *,
    database: Path | str,
    feeds: Iterable[str | Mapping[str, object]],
    topics: Mapping[str, Sequence[str] | Mapping[str, object]],
    destinations: Iterable[Mapping[str, object]] = (),
    settings: Mapping[str, object] | None = None,
    telegram: Mapping[str, object] | None = None,
    discord: Mapping[str, object] | None = None,
) -> str:
    """The text of a feeds.yaml, from Python values (PyYAML quotes what needs quoting).

    `database` is a SQLite file (or a whole URL as a string); a feed is a URL or its mapping;
    a topic is a list of `any` keywords or its mapping; `settings` are further `settings:`
    keys, and `telegram` / `discord` its `settings.telegram` / `settings.discord` sections.
    Keys come out in the order given, after a one-line header: `settings:` is line 2 and
    `database:` line 3, so settings given next start at line 4.
    """
    url = f"sqlite+aiosqlite:///{database}" if isinstance(database, Path) else database
    all_settings: dict[str, object] = {"database": url, **(settings or {})}
    if telegram is not None:
        all_settings["telegram"] = dict(telegram)
    if discord is not None:
        all_settings["discord"] = dict(discord)
    document = {
        "settings": all_settings,
        "feeds": [{"url": f} if isinstance(f, str) else dict(f) for f in feeds],
        "topics": {
            name: dict(rule) if isinstance(rule, Mapping) else {"any": list(rule)}
            for name, rule in topics.items()
        },
        "destinations": [dict(d) for d in destinations],
    }
    text = yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return CONFIG_HEADER + text


def config_file(directory: Path, **parts: object) -> Path:
    """`config_yaml(**parts)` written to `directory`/feeds.yaml; returns its path."""
    path = directory / "feeds.yaml"
    path.write_text(config_yaml(**parts), encoding="utf-8")  # type: ignore[arg-type]
    return path
