"""Grouping quality on every labelled dev set: floors, not timings; and the harness itself.

`python bench/grouping_eval.py --quality` prints the table these floors come from;
`--set NAME --errors` lists one set's misjudged pairs and merged hard negatives.

The floors sit a little under today's figures (names-only grouping) so that a regression
fails; raise them when the grouping improves. The `tuned` floors (precision 0.95, recall 0.85)
are the project's long-standing regression floor. The realnews set needs
`../shared/realfeeds/` and is skipped without it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest

from bench import devsets
from bench.devsets import (
    DEV_SETS,
    REALNEWS_CUTOFF,
    DevSetUnavailable,
    derive_pairs,
    load,
    load_realnews,
    load_set,
    parse_realfeed,
    realnews_id,
)
from bench.grouping_eval import (
    GroupFn,
    SetScores,
    bcubed,
    evaluate,
    evaluate_all,
    evaluate_pairwise,
    grouping_params,
    main,
    semantic_grouping,
)
from policywire.curate.stories import Article, GroupingParams, StoryGroup

# set → (pairwise precision, pairwise recall, BCubed F1, most hard negatives merged)
# Measured with today's names-only grouping (CLDR places, GeoNames cities, words of
# nationality, long place names at a sentence's start): tuned 1.000/1.000/1.000, 0 of 0;
# multilingual 0.873/0.280/0.647, 3 of 67; general 0.966/0.266/0.690, 1 of 59; policy
# 0.877/0.548/0.799, 7 of 120; world 0.900/0.137/0.591, 2 of 100; realnews (labels audited
# 2026-12-03) 0.435/0.246/0.938, 12 of 99; bigstory 0.809/0.157/0.521, 10 of 114.
FLOORS: dict[str, tuple[float, float, float, int]] = {
    "tuned": (0.95, 0.85, 0.95, 0),
    "multilingual": (0.85, 0.26, 0.63, 4),
    "general": (0.95, 0.25, 0.68, 2),
    "policy": (0.85, 0.52, 0.78, 8),
    "world": (0.86, 0.12, 0.57, 3),
    "realnews": (0.41, 0.23, 0.92, 14),
    "bigstory": (0.78, 0.14, 0.50, 12),
}


# The same with the shipped embedding model (the default), measured with `python
# bench/grouping_eval.py --quality`: tuned 0.915/1.000/0.985, 0 of 0; multilingual
# 0.965/0.886/0.956, 3 of 67; general 1.000/0.804/0.950, 0 of 59; policy 0.899/0.846/0.927, 6 of
# 120; world 0.980/0.753/0.913, 2 of 100; realnews (labels audited 2026-12-03) 0.746/0.524/0.956, 9
# of 99; bigstory 0.992/0.409/0.780, 2 of 114. The tuned set is a regression floor, not a target
# (its precision fell from 1.000 when the parameters were chosen on the others). policy and world
# were written blind (by helpers who saw neither the code nor its figures) and first scored
# 0.813/0.864 and 0.944/0.776 with 13 and 4 hard negatives merged; `semantic_high` was then chosen
# on all six sets (docs/grouping.md). bigstory, written blind on 2026-12-07 (five events told 23-25
# times each from many angles, and their same-subject neighbours), first scored 0.990/0.328/0.744
# with 2 of 114 merged: its big stories come apart in clean pieces. Bridging the stories that keep
# naming one event's actors (`stories_bridge`, 2026-12-08) took its recall to 0.409 and general's
# 0.780 -> 0.804; the bigstory recall floor went up.
SEMANTIC_FLOORS: dict[str, tuple[float, float, float, int]] = {
    "tuned": (0.90, 0.95, 0.97, 0),
    "multilingual": (0.94, 0.86, 0.94, 4),
    "general": (0.97, 0.78, 0.93, 1),
    "policy": (0.87, 0.82, 0.91, 8),
    "world": (0.95, 0.72, 0.89, 3),
    "realnews": (0.71, 0.50, 0.94, 11),
    "bigstory": (0.96, 0.37, 0.75, 3),
}


@cache
def _scores(name: str, semantic: bool = False) -> SetScores:
    return evaluate(name, group=_semantic() if semantic else None)


@cache
def _semantic() -> GroupFn:
    return semantic_grouping()  # one model and its vectors for every set


def _scores_or_skip(name: str, semantic: bool = False) -> SetScores:
    try:
        return _scores(name, semantic)
    except DevSetUnavailable as reason:
        pytest.skip(f"{name}: {reason}")


def _why(scores: SetScores) -> str:
    return "\n".join((*scores.notes, *scores.errors[:40], *scores.merged_hard_negatives))


def test_every_set_has_a_floor() -> None:
    assert set(FLOORS) == set(DEV_SETS)


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_grouping_meets_the_floors_of_each_set(name: str) -> None:
    _assert_floors(_scores_or_skip(name), FLOORS[name])


@pytest.mark.parametrize("name", sorted(SEMANTIC_FLOORS))
def test_semantic_grouping_meets_the_floors_of_each_set(name: str) -> None:
    _assert_floors(_scores_or_skip(name, semantic=True), SEMANTIC_FLOORS[name])


def test_semantic_grouping_beats_names_only_on_the_new_sets() -> None:
    # The blind policy set shares more names inside its stories: names alone do better there.
    margins = {"multilingual": 0.2, "general": 0.2, "policy": 0.1, "world": 0.2, "bigstory": 0.2}
    for name, margin in margins.items():
        assert _scores(name, True).pairwise.f1 > _scores(name).pairwise.f1 + margin, name


def _assert_floors(scores: SetScores, floors: tuple[float, float, float, int]) -> None:
    precision, recall, bcubed_f1, hard_merged = floors
    assert scores.precision >= precision, _why(scores)
    assert scores.recall >= recall, _why(scores)
    assert scores.bcubed_f1 >= bcubed_f1, _why(scores)
    assert scores.hard_negatives_merged <= hard_merged, _why(scores)


def test_labelled_set_is_big_and_consistent() -> None:
    labelled = load()
    assert len(labelled.pairs) >= 150
    kinds = Counter(kind for *_, kind in labelled.pairs)
    assert kinds["same story"] >= 60 and kinds["different, within 72 h"] >= 60
    languages = {m.item.language for m in labelled.articles.values()}
    assert languages == {"en", "it", "fr", "de"}
    for a, b, same, _ in labelled.pairs:
        assert same == (labelled.stories[a] == labelled.stories[b]), (a, b)


def test_pairwise_decisions_are_close_to_the_clusters() -> None:
    scores = evaluate_pairwise(load())
    assert scores.precision >= 0.9 and scores.recall >= 0.85, "\n".join(scores.errors)


@pytest.mark.parametrize("name", ["tuned", "general"])
def test_derived_pairs_are_the_pairs_csv(name: str) -> None:
    labelled = load_set(name)
    published = {key: m.item.published for key, m in labelled.articles.items()}
    derived = derive_pairs(list(labelled.articles), labelled.stories, published)
    assert {(frozenset((a, b)), same, kind) for a, b, same, kind in derived} == {
        (frozenset((a, b)), same, kind) for a, b, same, kind in labelled.pairs
    }


@pytest.mark.parametrize("name", ["multilingual", "general", "policy", "world", "bigstory"])
def test_fictional_sets_load_with_their_hard_negatives(name: str) -> None:
    labelled = load_set(name)
    assert len(labelled.articles) >= 150 and not labelled.notes
    assert sum(same for _, _, same, _ in labelled.pairs) >= 200
    assert len(labelled.hard_negatives) >= 50
    for a, b, _ in labelled.hard_negatives:
        assert labelled.stories[a] != labelled.stories[b], (a, b)
    week = timedelta(days=7)
    for a, b, same, _ in labelled.pairs:
        gap = abs(labelled.articles[a].item.published - labelled.articles[b].item.published)
        assert same == (labelled.stories[a] == labelled.stories[b])
        assert same or gap <= week


def test_realnews_joins_every_labelled_row_and_holds_out_the_rest() -> None:
    try:
        labelled = load_set("realnews")
    except DevSetUnavailable as reason:
        pytest.skip(f"realnews: {reason}")
    assert labelled.unjoined == 0 and labelled.held_out == 0, "\n".join(labelled.notes)
    assert len(labelled.articles) == 849 and len(labelled.hard_negatives) == 99
    assert sum(same for _, _, same, _ in labelled.pairs) == 191
    assert all(m.item.published < REALNEWS_CUTOFF for m in labelled.articles.values())
    for path in {devsets.REALFEEDS / key.split(" ")[0] for key in labelled.articles}:
        assert all(item.published < REALNEWS_CUTOFF for item in parse_realfeed(path))


# --- the harness on made-up data ----------------------------------------------------------


def test_bcubed_by_hand() -> None:
    gold = {"a": "x", "b": "x", "c": "y"}
    assert bcubed(gold, {"a": 0, "b": 0, "c": 1}) == (1.0, 1.0, 1.0)
    precision, recall, f1 = bcubed(gold, {"a": 0, "b": 0, "c": 0})
    assert precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3) and recall == 1.0
    assert f1 == pytest.approx(2 * precision / (precision + 1))
    precision, recall, _ = bcubed(gold, {"a": 0, "b": 1, "c": 2})
    assert precision == 1.0 and recall == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)


def _one_group(articles: Sequence[Article], params: GroupingParams | None) -> list[StoryGroup]:
    return [StoryGroup(tuple(articles))]


def _singletons(articles: Sequence[Article], params: GroupingParams | None) -> list[StoryGroup]:
    return [StoryGroup((article,)) for article in articles]


def test_the_grouping_function_is_injectable() -> None:
    together = evaluate("general", group=_one_group)
    assert together.recall == 1.0 and together.bcubed_recall == 1.0
    assert together.hard_negatives_merged == together.hard_negatives > 0
    apart = evaluate("general", group=_singletons)
    assert apart.recall == 0.0 and apart.precision == 1.0 and apart.bcubed_precision == 1.0
    assert apart.hard_negatives_merged == 0 and apart.groups == apart.items
    seen: list[GroupingParams | None] = []

    def spy(articles: Sequence[Article], params: GroupingParams | None) -> list[StoryGroup]:
        seen.append(params)
        return _singletons(articles, params)

    params = GroupingParams(threshold=0.9)
    evaluate("tuned", params, group=spy)
    assert seen == [params]


_FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Test Wire</title><link>https://wire.example/</link>
<item><title>Before the cutoff</title><link>https://wire.example/a?fbclid=xyz</link>
<pubDate>Sat, 14 Feb 2026 23:00:00 GMT</pubDate><description>One.</description></item>
<item><title>After the cutoff</title><link>https://wire.example/b</link>
<pubDate>Sun, 15 Feb 2026 00:00:00 GMT</pubDate><description>Two.</description></item>
<item><title>No date</title><link>https://wire.example/c</link>
<description>Three.</description></item>
<item><title>Also before</title><link>https://wire.example/d</link>
<pubDate>Sat, 14 Feb 2026 22:00:00 GMT</pubDate><description>Four.</description></item>
</channel></rss>
"""


def _fake_realnews(tmp_path: Path) -> tuple[Path, Path]:
    feeds, labels = tmp_path / "realfeeds", tmp_path / "labels"
    feeds.mkdir()
    labels.mkdir()
    (feeds / "wire.xml").write_text(_FEED, encoding="utf-8")
    (labels / "labels.csv").write_text(
        "feed_file,link,published,story\n"
        "wire.xml,https://wire.example/a?fbclid=xyz,2026-02-14T23:00:00Z,s1\n"
        "wire.xml,https://wire.example/d,2026-02-14T22:00:00Z,s1\n"
        # labelled in error: its item is dated on the cutoff, so it is never read
        "wire.xml,https://wire.example/b,2026-02-14T23:59:00Z,s2\n"
        "wire.xml,https://wire.example/c,2026-02-15T01:00:00Z,s3\n"
        "gone.xml,https://gone.example/x,2026-01-01T00:00:00Z,s4\n",
        encoding="utf-8",
    )
    (labels / "hard_negatives.csv").write_text(
        "feed_a,link_a,feed_b,link_b,reason\n"
        "wire.xml,https://wire.example/a,wire.xml,https://wire.example/b,made up\n",
        encoding="utf-8",
    )
    return labels, feeds


def test_realnews_loader_joins_by_canonical_link_and_drops_held_out_items(
    tmp_path: Path,
) -> None:
    labels, feeds = _fake_realnews(tmp_path)
    labelled = load_realnews(labels, feeds)
    assert set(labelled.articles) == {
        realnews_id("wire.xml", "https://wire.example/a"),
        realnews_id("wire.xml", "https://wire.example/d"),
    }
    assert labelled.unjoined == 2 and labelled.held_out == 1  # b and gone.xml; c
    assert any("feed missing" in note for note in labelled.notes)
    assert any("hard negative not joined" in note for note in labelled.notes)
    assert [item.title for item in parse_realfeed(feeds / "wire.xml")] == [
        "Before the cutoff",
        "Also before",
    ]
    scores = evaluate(labelled)
    assert scores.items == 2 and scores.pairwise.pairs == 1


def test_realnews_is_skipped_with_a_reason_when_the_feeds_are_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(DevSetUnavailable, match="is not there"):
        load_realnews(realfeeds=tmp_path / "absent")
    monkeypatch.setattr(devsets, "REALFEEDS", tmp_path / "absent")
    load_set.cache_clear()
    try:
        report = evaluate_all(names=["tuned", "realnews"])
        assert [s.name for s in report.scores] == ["tuned"]
        assert "is not there" in report.skipped["realnews"]
        assert main(["--quality", "--set", "realnews"]) == 0
        lines = [line for line in capsys.readouterr().out.splitlines() if "realnews" in line]
        assert len(lines) == 1 and "skipped" in lines[0]
    finally:
        load_set.cache_clear()


def test_cli_json_has_a_row_per_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quality", "--json", "--set", "tuned", "--set", "general"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert [row["name"] for row in output["sets"]] == ["tuned", "general"]
    for row in output["sets"]:
        assert {"pairwise", "bcubed_f1", "hard_negatives_merged"} <= set(row)
    assert output["tuned_explain_pair"]["precision"] >= 0.9


def test_grouping_params_reads_numbers_and_hours_and_refuses_the_rest() -> None:
    params = grouping_params(["window=48", "max_posting=50", "semantic_high=0.6"])
    assert params.window == timedelta(hours=48)
    assert params.max_posting == 50 and isinstance(params.max_posting, int)
    assert params.semantic_high == 0.6
    assert grouping_params([]) == GroupingParams()
    with pytest.raises(KeyError, match="no such setting"):
        grouping_params(["semantic_hgih=0.6"])
    with pytest.raises(ValueError, match="whole number"):
        grouping_params(["max_posting=1.5"])
    with pytest.raises(ValueError, match="must be a number"):
        grouping_params(["semantic_high=high"])


def test_a_setting_changed_on_the_command_line_changes_the_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def recall(*extra: str) -> float:
        assert main(["--quality", "--json", "--names-only", "--set", "tuned", *extra]) == 0
        row = json.loads(capsys.readouterr().out)["sets"][0]
        return float(row["pairwise"]["recall"])

    # A threshold no shared names reach: only decisive signals (links, titles) still join.
    assert recall("--param", "threshold=1.01") < recall() - 0.2
    with pytest.raises(SystemExit):
        main(["--quality", "--param", "threshold=high"])
