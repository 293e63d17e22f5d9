"""One event told from many angles: bridging the stories that keep naming the same actors.

The pair score and the average-linkage guard (`stories_clustering`) see the angles of one big
event (the ruling, the reactions, the market's reading, a profile of the founder, the local
angle) as far apart as the same subject's other events: their cosines overlap, and each angle
names the event's actors among names of its own. Yet the angles keep naming the same two or
three heavy names (the buyer and the start-up it buys, the court and the case, the party and
its leader), which one subject's *other* events do not all share. So once the pairs are
joined, two stories are bridged into one when

* at least `bridge_names` heavy names (`HEAVY`: a company, a person, a city; figures and dates
  aside) are *salient* in both, each named by at least `bridge_share` of a story's articles;
* the cosine of their mean vectors reaches `bridge_similarity`;
* they come from two outlets or more between them (a link's registrable domain, as
  `outlets` tells them): one outlet's successive pieces on a saga, from one feed or from two
  of its feeds, are most often its successive steps (the real-news set's false pairs are
  nearly all within one outlet);
* together they span at most `bridge_window` (never more than the story window) and hold at
  most `max_story_articles`.

Bridges are taken strongest first (more shared names, then the higher cosine, then by
position, so the result never depends on input order). Salience is read on the stories as
the pairs left them and not again as bridges join, so a bridge never makes another one
possible that the stories themselves would not have. A name salient in more than
`bridge_posting` stories is too common to bridge on. docs/grouping.md (*Big stories*) has the
figures of each dev set and how the settings were chosen.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from policywire.curate.outlets import outlet_of_link
from policywire.curate.story_scoring import ArticleFeatures, GroupingParams

__all__ = ["HEAVY", "Bridge", "bridges", "salient_names"]

# A name this heavy is an actor of an event (entity_weights: a company, a person or a city
# weighs 1.0), not its setting (the EU's institutions and laws 0.35, countries 0.35-0.6).
HEAVY = 0.8


@dataclass(frozen=True, slots=True)
class Bridge:
    """Two stories (by their root article) that name one event's actors."""

    left: int
    right: int
    names: tuple[str, ...]  # the heavy names salient in both, sorted
    count: int  # how many names they are (the words written together count once)
    similarity: float  # cosine of the two stories' mean vectors


@dataclass(frozen=True, slots=True)
class _Story:
    root: int
    earliest: float
    latest: float
    outlets: frozenset[str]
    names: frozenset[str]
    written_together: frozenset[tuple[str, str]]  # salient names next to each other
    members: Sequence[int]


def salient_names(
    members: Sequence[int], features: Sequence[ArticleFeatures], share: float
) -> frozenset[str]:
    """The heavy names (figures and dates aside) that at least `share` of `members` name."""
    counts: Counter[str] = Counter()
    for member in members:
        weights = features[member].entities.weights
        counts.update(
            name
            for name in features[member].keys
            if weights.get(name, 0.0) >= HEAVY and name[0] not in "#@"
        )
    needed = share * len(members)
    return frozenset(name for name, count in counts.items() if count >= needed)


def bridges(
    features: Sequence[ArticleFeatures],
    stories: Mapping[int, Sequence[int]],
    params: GroupingParams,
) -> list[Bridge]:
    """The bridges between `stories` (root → member indexes of `features`), strongest first.

    Stories with a member lacking a vector are never bridged: the cosine is one of the tests."""
    if params.bridge_names < 1:
        return []
    window = min(params.bridge_window, params.window).total_seconds()
    described = _described(features, stories, params)
    centroids: dict[int, np.ndarray] = {}  # of the few stories a bridge may join, when asked

    def centroid(story: _Story) -> np.ndarray:
        if story.root not in centroids:
            centroids[story.root] = _mean_direction(features, story.members)
        return centroids[story.root]

    found: list[Bridge] = []
    for (a, b), shared in _sharing(described, params.bridge_posting, window).items():
        left, right = described[a], described[b]
        if len(shared) < params.bridge_names or len(left.outlets | right.outlets) < 2:
            continue
        count = _distinct_names(shared, left.written_together | right.written_together)
        if count < params.bridge_names:
            continue  # "World" "Economic" "Forum": one name
        if max(left.latest, right.latest) - min(left.earliest, right.earliest) > window:
            continue
        similarity = float(centroid(left) @ centroid(right))
        if similarity >= params.bridge_similarity:
            found.append(Bridge(left.root, right.root, tuple(sorted(shared)), count, similarity))
    found.sort(key=lambda b: (-b.count, -b.similarity, b.left, b.right))
    return found


def _described(
    features: Sequence[ArticleFeatures],
    stories: Mapping[int, Sequence[int]],
    params: GroupingParams,
) -> dict[int, _Story]:
    """The stories that may bridge (every member with a vector, some salient name)."""
    described: dict[int, _Story] = {}
    for root, members in stories.items():
        if any(features[m].vector is None for m in members):
            continue
        names = salient_names(members, features, params.bridge_share)
        if not names:
            continue
        times = [features[m].time for m in members]
        together = frozenset(
            pair
            for m in members
            for pair in features[m].entities.neighbours
            if pair[0] in names and pair[1] in names
        )
        described[root] = _Story(
            root,
            min(times),
            max(times),
            frozenset(outlet_of_link(features[m].link, features[m].feed) for m in members),
            names,
            together,
            tuple(members),
        )
    return described


def _mean_direction(features: Sequence[ArticleFeatures], members: Sequence[int]) -> np.ndarray:
    """The unit vector along the sum of the members' vectors (all of them have one)."""
    vectors = [v for m in members if (v := features[m].vector) is not None]
    total: np.ndarray = np.sum(np.stack(vectors), axis=0)
    direction: np.ndarray = total / (float(np.linalg.norm(total)) or 1.0)
    return direction


def _distinct_names(names: Sequence[str], together: frozenset[tuple[str, str]]) -> int:
    """How many names `names` are once the words written next to each other are one."""
    part_of = {name: name for name in names}

    def whole(name: str) -> str:
        while part_of[name] != name:
            name = part_of[name]
        return name

    for first, second in together:
        if first in part_of and second in part_of:
            part_of[whole(second)] = whole(first)
    return len({whole(name) for name in names})


def _sharing(
    described: Mapping[int, _Story], posting: int, window: float
) -> dict[tuple[int, int], list[str]]:
    """The pairs of stories (smaller root first) that start at most `window` apart, with
    the salient names they share (a name salient in more than `posting` stories aside)."""
    postings: dict[str, list[int]] = {}
    for root in sorted(described):
        for name in described[root].names:
            postings.setdefault(name, []).append(root)
    shared: dict[tuple[int, int], list[str]] = {}
    for name, roots in postings.items():
        if len(roots) > posting:
            continue  # salient in too many stories to tell one event by
        roots.sort(key=lambda root: (described[root].earliest, root))
        for n, a in enumerate(roots):
            start = described[a].earliest
            for b in roots[n + 1 :]:
                if described[b].earliest - start > window:
                    break  # and so are the later ones: too far apart to bridge
                shared.setdefault((min(a, b), max(a, b)), []).append(name)
    return shared
