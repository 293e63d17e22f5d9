"""The baselines every policywire figure is a ratio against, run on the same feeds.

* `NaiveLoop`: what a user writes first — `feedparser.parse(url, etag=…, modified=…)` one
  feed after another, one `re.search` per keyword per item, new items into sqlite3.
* `ReaderPeer`: the `reader` library (pip package `reader`) updating the same feeds into its
  own SQLite file, with its documented thread pool for retrieval.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import feedparser

from policywire.models import TopicRule


def naive_patterns(rules: Sequence[TopicRule]) -> list[tuple[str, re.Pattern[str]]]:
    """One compiled `\\bkeyword\\b` per keyword (regex keywords as written)."""
    patterns = []
    for rule in rules:
        for keyword in (*rule.any, *rule.all, *rule.none):
            source = keyword[3:] if keyword.startswith("re:") else rf"\b{re.escape(keyword)}\b"
            patterns.append((rule.id, re.compile(source, re.IGNORECASE)))
    return patterns


def naive_match(patterns: Sequence[tuple[str, re.Pattern[str]]], text: str) -> set[str]:
    return {topic for topic, pattern in patterns if pattern.search(text)}


class NaiveLoop:
    """Sequential feedparser over HTTP with etag/modified, regex matching, sqlite3 store."""

    def __init__(self, db_path: Path, rules: Sequence[TopicRule]) -> None:
        self.db = sqlite3.connect(db_path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS items (feed TEXT, id TEXT, link TEXT, title TEXT, "
            "summary TEXT, topics TEXT, PRIMARY KEY (feed, id))"
        )
        self.patterns = naive_patterns(rules)
        self.validators: dict[str, tuple[Any, Any]] = {}

    def poll(self, urls: Sequence[str]) -> dict[str, int]:
        counts = {"items": 0, "not_modified": 0, "matched": 0, "errors": 0}
        for url in urls:
            etag, modified = self.validators.get(url, (None, None))
            parsed = feedparser.parse(url, etag=etag, modified=modified)
            if parsed.get("status") == 304:
                counts["not_modified"] += 1
                continue
            if parsed.get("bozo") and not parsed.entries:
                counts["errors"] += 1
                continue
            self.validators[url] = (parsed.get("etag"), parsed.get("modified"))
            rows = []
            for entry in parsed.entries:
                title = entry.get("title", "")
                summary = entry.get("summary", "")
                topics = naive_match(self.patterns, f"{title}\n{summary}")
                counts["matched"] += bool(topics)
                rows.append(
                    (
                        url,
                        entry.get("id") or entry.get("link", ""),
                        entry.get("link", ""),
                        title,
                        summary,
                        ",".join(sorted(topics)),
                    )
                )
            self.db.executemany("INSERT OR IGNORE INTO items VALUES (?, ?, ?, ?, ?, ?)", rows)
            self.db.commit()
            counts["items"] += len(rows)
        return counts

    def close(self) -> None:
        self.db.close()


def reader_available() -> bool:
    try:
        import reader  # noqa: F401
    except ImportError:
        return False
    return True


class ReaderPeer:
    """`reader.make_reader(db)`, `add_feed` for each URL, then `update_feeds(workers=…)`."""

    def __init__(self, db_path: Path, urls: Sequence[str], workers: int = 8) -> None:
        from reader import make_reader

        self.reader = make_reader(str(db_path))
        self.workers = workers
        for url in urls:
            self.reader.add_feed(url, exist_ok=True)

    def update(self) -> dict[str, int]:
        self.reader.update_feeds(workers=self.workers, scheduled=False)
        counts = self.reader.get_entry_counts()
        return {"entries_total": counts.total}

    def close(self) -> None:
        self.reader.close()


def reader_version() -> str:
    try:
        import reader
    except ImportError:
        return "not installed"
    return str(reader.__version__)


def naive_script_main(argv: Sequence[str] | None = None) -> None:
    """The naive loop as a cron script: `python -m bench.baselines STATE DB URLS_FILE`.

    Validators persist in a JSON state file between runs, as a cron job must keep them.
    """
    import json
    import sys

    from bench.corpus import TARGET_RULES

    state_path, db_path, urls_path = (sys.argv[1:] if argv is None else argv)[:3]
    loop = NaiveLoop(Path(db_path), TARGET_RULES)
    state = Path(state_path)
    if state.exists():
        loop.validators = {url: (v[0], v[1]) for url, v in json.loads(state.read_text()).items()}
    counts = loop.poll(Path(urls_path).read_text().split())
    state.write_text(json.dumps({url: list(v) for url, v in loop.validators.items()}))
    loop.close()
    print(json.dumps(counts))


if __name__ == "__main__":
    naive_script_main()
