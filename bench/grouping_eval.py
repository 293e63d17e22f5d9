"""Story grouping: quality on every labelled dev set, and speed over a synthetic 25,000-item window.

Run from the repository root::

    python bench/grouping_eval.py                      # quality on every set + speed
    python bench/grouping_eval.py --quality            # quality only (a few seconds)
    python bench/grouping_eval.py --quality --set realnews --errors
    python bench/grouping_eval.py --quality --json     # the same figures as JSON
    python bench/grouping_eval.py --quality --param semantic_high=0.6 --param window=48

Quality: every article of a dev set (`bench/devsets.py`, `DEV_SETS`: tuned, multilingual,
general, policy, world, bigstory, realnews) goes through the grouping function at once, as a digest
would see them (copies of one link folded by `merge_same_link` first). Each set is scored on
its own:

* **pairwise** precision, recall and F1 over the same-story class: every same-story pair, and
  every different-story pair published within a week (`pairs.csv`, or derived from the story
  labels when a set has none), predicted "same story" when both articles landed in one group;
  the same restricted to pairs from two different feeds ("cross-feed recall");
* **BCubed** precision, recall and F1: per article, the share of its group that is its story
  and the share of its story that is in its group, averaged over the articles;
* **hard negatives merged**: how many `hard_negatives.csv` pairs (different stories that are
  easy to confuse) ended in one group.

The realnews set is read from `../shared/realfeeds/` (skipped, with one line, when that folder
is absent); items published on or after 2026-02-15 are held out and dropped before grouping.
For the tuned set the pairwise decision alone (`explain_pair`, before clustering) is reported
too.

From code: `evaluate("multilingual", params, group=my_grouper) -> SetScores`, with `group` any
callable `(articles, params) -> list[StoryGroup]` (default `group_articles`), e.g.
`functools.partial(group_articles, embedder=...)`; `evaluate_all()` scores every set.

Speed: 25,000 generated items inside one 72-hour window (5,000 events told by 1–9 outlets,
names drawn from a Zipf-like vocabulary of 20,000 made-up names plus the real institutions,
so some names are very common), timed end to end: name extraction, candidate generation,
scoring and clustering. Best of three runs.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/grouping_eval.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devsets import (
    DATA,
    DEV_SETS,
    DevSetUnavailable,
    Labelled,
    derive_pairs,
    load,
    load_set,
    resolve,
)
from policywire.curate.embedders.seam import Embedder
from policywire.curate.embedders.universal import UniversalEncoder
from policywire.curate.embedders.vectors import ItemVectors
from policywire.curate.stories import (
    Article,
    GroupingParams,
    StoryGroup,
    explain_pair,
    group_articles,
    merge_same_link,
)
from policywire.models import Item, MatchedItem, TopicHit

__all__ = [
    "DATA",
    "DEV_SETS",
    "DevSetUnavailable",
    "GroupFn",
    "Labelled",
    "Scores",
    "SetScores",
    "derive_pairs",
    "evaluate",
    "evaluate_all",
    "evaluate_pairwise",
    "items_per_second",
    "load",
    "score_groups",
    "synthetic_window",
]

GroupFn = Callable[[Sequence[Article], GroupingParams | None], list[StoryGroup]]


@dataclass(frozen=True, slots=True)
class Scores:
    """Pairwise precision/recall over the same-story class."""

    precision: float
    recall: float
    f1: float
    true_positive: int
    false_positive: int
    false_negative: int
    pairs: int
    errors: tuple[str, ...]

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"(pairs {self.pairs}: TP {self.true_positive}, FP {self.false_positive}, "
            f"FN {self.false_negative})"
        )


@dataclass(frozen=True, slots=True)
class SetScores:
    """Everything measured on one dev set."""

    name: str
    items: int  # labelled articles grouped
    stories: int  # gold stories among them
    groups: int  # groups the grouping made of them
    pairwise: Scores
    cross_feed: Scores  # the pairs whose two articles come from different feeds
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    hard_negatives_merged: int
    hard_negatives: int
    merged_hard_negatives: tuple[str, ...] = ()  # "a / b: reason", one per merged pair
    unjoined: int = 0  # labelled rows with no parsed item (realnews)
    held_out: int = 0  # labelled rows dated on/after the cutoff, left out
    notes: tuple[str, ...] = ()
    seconds: float = 0.0  # the grouping call alone

    # the old `evaluate(load())` returned pairwise Scores; these keep its callers working
    @property
    def precision(self) -> float:
        return self.pairwise.precision

    @property
    def recall(self) -> float:
        return self.pairwise.recall

    @property
    def f1(self) -> float:
        return self.pairwise.f1

    @property
    def errors(self) -> tuple[str, ...]:
        return self.pairwise.errors

    def as_dict(self, errors: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not errors:
            for key in ("pairwise", "cross_feed"):
                data[key].pop("errors")
            data.pop("merged_hard_negatives")
            data.pop("notes")
        return data


@dataclass(frozen=True, slots=True)
class Report:
    """`evaluate_all`: the sets scored, and the sets skipped with their reason."""

    scores: list[SetScores]
    skipped: dict[str, str] = field(default_factory=dict)


def evaluate(
    labelled: str | Labelled,
    params: GroupingParams | None = None,
    *,
    group: GroupFn | None = None,
) -> SetScores:
    """Group a whole dev set (by name, or already loaded) and score the groups.

    Raises DevSetUnavailable for a set whose data is not on this machine.
    """
    if isinstance(labelled, str):
        name = resolve(labelled).name
        labelled = load_set(name)
    else:
        name = labelled.name
    group = group or group_articles
    articles = merge_same_link(labelled.articles.values())
    start = time.perf_counter()
    groups = group(articles, params)
    seconds = time.perf_counter() - start
    return score_groups(labelled, groups, name=name, seconds=seconds)


def semantic_grouping(embedder: Embedder | None = None) -> GroupFn:
    """`group_articles` with the vectors of `embedder` (default: the shipped model), each
    article embedded once per process whatever the number of evaluations."""
    vectors = ItemVectors(embedder or UniversalEncoder(), capacity=1_000_000)

    def group(articles: Sequence[Article], params: GroupingParams | None) -> list[StoryGroup]:
        items = [m for a in articles for m in (a.item, *a.copies)]
        return group_articles(articles, params, vectors.for_items(items))

    return group


def evaluate_all(
    params: GroupingParams | None = None,
    *,
    group: GroupFn | None = None,
    names: Iterable[str] | None = None,
) -> Report:
    """Every registered set (or `names`), each scored on its own."""
    report = Report([])
    for name in names or DEV_SETS:
        try:
            report.scores.append(evaluate(name, params, group=group))
        except DevSetUnavailable as reason:
            report.skipped[resolve(name).name] = str(reason)
    return report


def score_groups(
    labelled: Labelled, groups: Sequence[StoryGroup], *, name: str = "", seconds: float = 0.0
) -> SetScores:
    """Pairwise, cross-feed, BCubed and hard-negative scores of `groups` against the labels."""
    by_key = {labelled.key(m.item): key for key, m in labelled.articles.items()}
    cluster: dict[str, int] = {}
    for n, story in enumerate(groups):
        for article in story.articles:
            for member in (article.item, *article.copies):
                key = by_key.get(labelled.key(member.item))
                if key is not None:
                    cluster.setdefault(key, n)
    notes = list(labelled.notes)
    lost = [key for key in labelled.articles if key not in cluster]
    if lost:
        notes.append(f"{len(lost)} articles in no group (counted as singletons)")
    for n, key in enumerate(lost, start=len(groups)):
        cluster[key] = n
    predicted = {(a, b): cluster[a] == cluster[b] for a, b, _, _ in labelled.pairs}
    feeds = {key: m.item.feed for key, m in labelled.articles.items()}
    crossing = [pair for pair in labelled.pairs if feeds[pair[0]] != feeds[pair[1]]]
    b_precision, b_recall, b_f1 = bcubed(labelled.stories, cluster)
    merged = tuple(
        f"{a} / {b}: {reason}"
        for a, b, reason in labelled.hard_negatives
        if cluster[a] == cluster[b]
    )
    return SetScores(
        name=name or labelled.name,
        items=len(labelled.articles),
        stories=len(set(labelled.stories.values())),
        groups=len(set(cluster.values())),
        pairwise=_scores(labelled.pairs, predicted),
        cross_feed=_scores(crossing, predicted),
        bcubed_precision=b_precision,
        bcubed_recall=b_recall,
        bcubed_f1=b_f1,
        hard_negatives_merged=len(merged),
        hard_negatives=len(labelled.hard_negatives),
        merged_hard_negatives=merged,
        unjoined=labelled.unjoined,
        held_out=labelled.held_out,
        notes=tuple(notes),
        seconds=seconds,
    )


def bcubed(gold: dict[str, str], predicted: dict[str, int]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 of a clustering (`predicted`) against labels (`gold`).

    Per item: precision is the share of its cluster that shares its label, recall the share
    of its label that is in its cluster; both are averaged over the items.
    """
    if not gold:
        return 1.0, 1.0, 1.0
    both = Counter((predicted[key], label) for key, label in gold.items())
    clusters = Counter(predicted[key] for key in gold)
    labels = Counter(gold.values())
    precision = recall = 0.0
    for key, label in gold.items():
        overlap = both[(predicted[key], label)]
        precision += overlap / clusters[predicted[key]]
        recall += overlap / labels[label]
    precision, recall = precision / len(gold), recall / len(gold)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate_pairwise(labelled: Labelled, params: GroupingParams | None = None) -> Scores:
    """Pairwise scores with each pair decided on its own by `explain_pair` (no clustering)."""
    predicted = {
        (a, b): explain_pair(labelled.articles[a], labelled.articles[b], params).same_story
        for a, b, _, _ in labelled.pairs
    }
    return _scores(labelled.pairs, predicted)


def _scores(
    pairs: Sequence[tuple[str, str, bool, str]], predicted: dict[tuple[str, str], bool]
) -> Scores:
    tp = fp = fn = 0
    errors: list[str] = []
    for a, b, same, kind in pairs:
        guess = predicted[(a, b)]
        tp += guess and same
        fp += guess and not same
        fn += same and not guess
        if guess != same:
            verdict = "false merge" if guess else "missed"
            errors.append(f"{verdict} ({kind}): {a} / {b}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, tp, fp, fn, len(pairs), tuple(errors))


def table(report: Report) -> str:
    """One row per set, then one line per skipped set."""
    header = (
        f"{'set':<13} {'items':>5} {'stories':>7} {'pairs+':>6} {'P':>5} {'R':>5} {'F1':>5} "
        f"{'xfeedR':>6} {'B3 P':>5} {'B3 R':>5} {'B3 F1':>5} {'hard neg merged':>15}"
    )
    lines = [header, "-" * len(header)]
    for s in report.scores:
        positives = s.pairwise.true_positive + s.pairwise.false_negative
        cross = s.cross_feed.true_positive + s.cross_feed.false_negative
        cross_recall = f"{s.cross_feed.recall:.3f}" if cross else "-"
        lines.append(
            f"{s.name:<13} {s.items:>5} {s.stories:>7} {positives:>6} {s.precision:>5.3f} "
            f"{s.recall:>5.3f} {s.f1:>5.3f} {cross_recall:>6} {s.bcubed_precision:>5.3f} "
            f"{s.bcubed_recall:>5.3f} {s.bcubed_f1:>5.3f} "
            f"{f'{s.hard_negatives_merged} / {s.hard_negatives}':>15}"
        )
    for name, reason in report.skipped.items():
        lines.append(f"{name:<13} skipped: {reason}")
    return "\n".join(lines)


# --- speed -----------------------------------------------------------------------------------

_INSTITUTIONS = (
    "European Commission",
    "Commissione europea",
    "Commission européenne",
    "EU-Kommission",
    "European Parliament",
    "AI Act",
    "KI-Verordnung",
    "AI Office",
    "GDPR",
    "Garante",
    "CNIL",
    "EDPB",
    "Microsoft",
    "Google",
    "OpenAI",
    "Mistral AI",
    "Brussels",
    "Paris",
)
_FILLER = [
    "the",
    "regulator",
    "said",
    "on",
    "Tuesday",
    "that",
    "the",
    "new",
    "rules",
    "would",
    "apply",
    "from",
    "next",
    "year",
    "and",
    "that",
    "companies",
    "had",
    "asked",
    "for",
    "more",
    "time",
    "while",
    "lawmakers",
    "disagreed",
    "about",
    "the",
    "details",
    "of",
    "the",
    "plan",
    "which",
    "critics",
    "called",
    "too",
    "vague",
]


def synthetic_window(count: int = 25_000, seed: int = 20250601) -> list[Article]:
    """`count` articles inside one 72-hour window: events told by 1–9 outlets."""
    rng = random.Random(seed)
    letters = "bcdfghklmnprstvz"
    vowels = "aeiou"

    def made_up() -> str:
        syllables = rng.randint(2, 4)
        word = "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(syllables))
        return word.capitalize()

    names = sorted({made_up() for _ in range(20_000)})
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(names))]
    start = datetime(2025, 6, 1, tzinfo=UTC)
    articles: list[Article] = []
    event = 0
    while len(articles) < count:
        event += 1
        event_names = rng.choices(names, weights, k=4)
        figure = str(rng.randint(32, 9999))
        base = start + timedelta(minutes=rng.randint(0, 60 * 70))
        for outlet in range(min(rng.randint(1, 9), count - len(articles))):
            chosen = rng.sample(event_names, 3)
            institution = rng.choice(_INSTITUTIONS)
            filler = " ".join(rng.sample(_FILLER, 12))
            title = f"{chosen[0]} and {chosen[1]} {filler[:40]} {institution}"
            summary = (
                f"The {institution} said {chosen[2]} {filler} {figure} people. "
                f"Officials in {rng.choice(names)} and {chosen[0]} {filler}."
            )
            item = Item(
                feed=f"https://outlet{outlet}.example/feed",
                id=f"{event}-{outlet}",
                link=f"https://outlet{outlet}.example/{event}",
                title=title,
                summary=summary,
                published=base + timedelta(minutes=rng.randint(0, 120)),
                language="en",
                source=f"Outlet {outlet}",
            )
            articles.append(Article(MatchedItem(item, (TopicHit("t", ("AI Act",)),))))
    return articles


def items_per_second(
    articles: list[Article], runs: int = 3, group: GroupFn | None = None
) -> tuple[float, float, int]:
    """Items per wall-clock second and per CPU second (best of `runs`), and the story count.

    CPU time is reported too because a shared machine's other work slows the wall clock.
    """
    group = group or group_articles
    best_wall = best_cpu = float("inf")
    groups = 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        groups = len(group(articles, None))
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(articles) / best_wall, len(articles) / best_cpu, groups


def grouping_params(overrides: Sequence[str]) -> GroupingParams:
    """The default `GroupingParams` with `NAME=VALUE` overrides (`window` in hours), so that
    a setting measured and not taken (docs/grouping.md) can be measured again."""
    params = GroupingParams()
    kinds = {f.name: type(getattr(params, f.name)) for f in fields(GroupingParams)}
    changes: dict[str, Any] = {}
    for override in overrides:
        name, _, text = override.partition("=")
        name = name.strip()
        if name not in kinds:
            raise KeyError(f"--param {override!r}: no such setting; one of {', '.join(kinds)}")
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"--param {override!r}: the value must be a number") from None
        kind = kinds[name]
        if kind is timedelta:
            changes[name] = timedelta(hours=value)
        elif kind is int:
            if not value.is_integer():
                raise ValueError(f"--param {override!r}: the value must be a whole number")
            changes[name] = int(value)
        else:
            changes[name] = value
    return replace(params, **changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quality", action="store_true", help="skip the speed run")
    parser.add_argument("--errors", action="store_true", help="list the misjudged pairs")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        metavar="NAME",
        help=f"score only this set (repeatable; {', '.join(DEV_SETS)} or its folder's name)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument(
        "--names-only",
        action="store_true",
        help="group without embeddings (settings.embedding.backend: none)",
    )
    parser.add_argument(
        "--param",
        dest="params",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="group with this GroupingParams field changed (repeatable; window in hours)",
    )
    args = parser.parse_args(argv)
    try:
        names = [resolve(name).name for name in args.sets] if args.sets else None
        params = grouping_params(args.params)
    except KeyError as unknown:
        parser.error(str(unknown.args[0]))
    except ValueError as wrong:
        parser.error(str(wrong))
    group = None if args.names_only else semantic_grouping()
    report = evaluate_all(params, names=names, group=group)
    output: dict[str, Any] = {
        "sets": [s.as_dict(errors=args.errors) for s in report.scores],
        "skipped": report.skipped,
    }
    tuned = next((s for s in report.scores if s.name == "tuned"), None)
    pairwise = evaluate_pairwise(load_set("tuned"), params) if tuned is not None else None
    if not args.json:
        print(table(report))
        for s in report.scores:
            if s.unjoined or s.held_out:
                print(f"{s.name}: {s.unjoined} labelled rows not joined, {s.held_out} held out")
        if pairwise is not None:
            print(f"tuned, pairwise (explain_pair): {pairwise.line()}")
        if args.errors:
            for s in report.scores:
                print(f"\n{s.name}:")
                for line in (*s.notes, *s.errors, *s.merged_hard_negatives):
                    print("  ", line)
    elif pairwise is not None:
        output["tuned_explain_pair"] = {
            k: v for k, v in asdict(pairwise).items() if args.errors or k != "errors"
        }
    if not args.quality:
        articles = synthetic_window(args.items)
        wall, cpu, groups = items_per_second(articles)
        output["speed"] = {
            "items": len(articles),
            "stories": groups,
            "items_per_second": wall,
            "items_per_cpu_second": cpu,
        }
        if not args.json:
            print(f"speed: {len(articles)} items in one 72 h window → {groups} stories,", end=" ")
            print(f"{wall:,.0f} items/s wall clock, {cpu:,.0f} items per CPU second")
    if args.json:
        print(json.dumps(output, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
