"""Grouping without reasons (`explain=False`, what a digest for a chat asks): the same stories,
no reason lines, and the service's digests built that way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from policywire.curate.digest import build_digest
from policywire.curate.stories_clustering import Clustering
from policywire.curate.story_scoring import GroupingParams
from tests.grouping_windows import random_window
from tests.helpers import NOW, item, matched


def _clusters(clustering: Clustering) -> tuple[list[tuple[int, ...]], dict[int, list[str]]]:
    passing, near = clustering.scored_candidates()
    clustering.join(passing)
    clustering.note_near_misses(near)
    clusters = clustering.clusters
    roots = sorted({clusters.find(i) for i in range(len(clustering.features))})
    return [tuple(clusters.members[root]) for root in roots], clustering.reasons


@pytest.mark.parametrize(("seed", "vectors"), [(1, 1.0), (2, 1.0), (3, 0.0), (4, 0.7)])
@pytest.mark.parametrize("floor", [0.5, 0.8])
def test_the_same_clusters_without_their_reasons(seed: int, vectors: float, floor: float) -> None:
    features = sorted(random_window(120, seed, vectors=vectors), key=lambda f: (f.time, f.link))
    params = GroupingParams(cluster_floor=floor, semantic_cluster_floor=floor)
    explained, reasons = _clusters(Clustering(features, params))
    silent, none = _clusters(Clustering(features, params, explain=False))
    assert silent == explained
    assert any(len(members) > 2 for members in explained)  # the guard had work to do
    assert any("too unlike the rest" in line for lines in reasons.values() for line in lines)
    assert none == {}


def _digest(explain: bool) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    items = [
        item(
            1,
            title="Mistral AI opens an office in Munich",
            summary="The French start-up hires in Munich.",
            feed="https://a.example/f",
        ),
        item(
            2,
            title="Mistral AI eröffnet Büro in München",
            summary="Das Start-up aus Paris stellt in München ein.",
            feed="https://b.example/f",
            language="de",
            published=NOW + timedelta(hours=1),
        ),
        item(3, title="Garante fines a chatbot maker", feed="https://c.example/f"),
    ]
    delivered = [matched(items[0], pk=1)]
    digest = build_digest(
        [matched(i, pk=n) for n, i in enumerate(items[1:], start=2)],
        destination="console:stdout",
        language="en",
        topics=["AI"],
        max_stories=10,
        now=NOW + timedelta(hours=2),
        delivered=delivered,
        explain=explain,
    )
    return [(tuple(str(pk) for pk in s.item_pks), s.reasons) for s in digest.stories]


def test_a_digest_without_reasons_has_the_same_stories_and_updates() -> None:
    explained, silent = _digest(True), _digest(False)
    assert [pks for pks, _ in silent] == [pks for pks, _ in explained]
    assert all(reasons == () for _, reasons in silent)
    assert any(reasons for _, reasons in explained)
