"""What an article's own text gives grouping (names, title words, countries), kept between digests.

Every digest of every destination groups its whole story window again, and most of that window
was grouped by the digest before: finding an article's names is the costliest part of its
features (~0.2 ms), and the same text always gives the same names. So they are kept here, by
text, newest-used first, for as many articles as `DEFAULT_KEPT` or the largest window grouped,
whichever is more (the features of a window are all alive while it is grouped anyway). Each
costs ~1.5 KB beside its title and the part of its summary that is read.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from policywire.curate.entities import SUMMARY_CHARS, Entities, country_names, extract_entities
from policywire.curate.entity_words import COMMON_WORDS, fold_name
from policywire.models import Item

__all__ = ["DEFAULT_KEPT", "KEPT", "TextFeatures", "TextFeaturesCache", "text_features"]

DEFAULT_KEPT = 10_000

_TITLE_WORD = re.compile(r"[^\W_][\w'’]*")
_NUMBER = re.compile(r"\d+")

_Key = tuple[str, str, str | None]


@dataclass(frozen=True, slots=True)
class TextFeatures:
    """The features of an article that depend on its text alone, not on the settings."""

    entities: Entities
    title_words: frozenset[str]
    title_numbers: frozenset[str]
    title_places: frozenset[str]  # `entities.country_names` of the title
    places: frozenset[str]  # of the title and the summary


def text_features(title: str, summary: str, language: str | None) -> TextFeatures:
    """Computed afresh (`TextFeaturesCache.features_of` keeps them)."""
    title_places = country_names(title)
    return TextFeatures(
        entities=extract_entities(title, summary, language),
        title_words=_title_words(title),
        title_numbers=frozenset(_NUMBER.findall(title)),
        title_places=title_places,
        places=title_places | country_names(summary[:SUMMARY_CHARS]),
    )


def _title_words(title: str) -> frozenset[str]:
    words = (_folded_word(w) for w in _TITLE_WORD.findall(title))
    return frozenset(w for w in words if len(w) > 1 and w not in COMMON_WORDS)


@lru_cache(maxsize=1 << 16)
def _folded_word(word: str) -> str:
    """A title word folded; cached, as a window's titles repeat the same words thousands of
    times and folding is the costly part of an article's features."""
    return fold_name(word).rstrip("'")


class TextFeaturesCache:
    """`text_features` by text, bounded, newest-used kept; safe to share between threads
    (digests are built off the event loop, several at a time)."""

    def __init__(self, capacity: int = DEFAULT_KEPT) -> None:
        self.capacity = capacity
        self._kept: OrderedDict[_Key, TextFeatures] = OrderedDict()
        self._lock = threading.Lock()

    def features_of(self, items: Sequence[Item]) -> list[TextFeatures]:
        """The text features of each item, in order; a window larger than the capacity
        raises it, so that grouping it never evicts its own articles."""
        keys = [_key(item) for item in items]
        with self._lock:
            self.capacity = max(self.capacity, len(keys))
            found = [self._kept.get(key) for key in keys]
        computed = {
            key: text_features(*key) for key, kept in zip(keys, found, strict=True) if kept is None
        }
        features = [
            computed[key] if kept is None else kept for key, kept in zip(keys, found, strict=True)
        ]
        with self._lock:  # another digest may have evicted some since: put them back
            for key, one in zip(keys, features, strict=True):
                self._kept[key] = one
                self._kept.move_to_end(key)
            while len(self._kept) > self.capacity:
                self._kept.popitem(last=False)
        return features

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


def _key(item: Item) -> _Key:
    # One character past what is read: `extract_entities` cuts a longer summary at its last
    # word before SUMMARY_CHARS, and it must still see that the summary was longer.
    return (item.title, item.summary[: SUMMARY_CHARS + 1], item.language)


KEPT = TextFeaturesCache()  # the process's: every digest's grouping shares it
