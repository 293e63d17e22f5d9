"""Story grouping: quality on the labelled set, and speed over a synthetic 25,000-item window.

Run from the repository root::

    python bench/grouping_eval.py            # quality + speed
    python bench/grouping_eval.py --quality  # quality only (a second or so)

Quality: every article of `tests/data/grouping/articles.json` (written by us: en/it/fr/de,
one label per article naming its story) goes through `group_articles` at once, as a digest
would see them; each labelled pair of `pairs.csv` (all same-story pairs, and all
different-story pairs published within a week of each other) is then predicted "same story"
when both articles landed in the same group. Precision and recall are over the same-story
class. The pairwise decision alone (`explain_pair`, before clustering) is reported too.

Speed: 25,000 generated items inside one 72-hour window (5,000 events told by 1–9 outlets,
names drawn from a Zipf-like vocabulary of 20,000 made-up names plus the real institutions,
so some names are very common), timed end to end: name extraction, candidate generation,
scoring and clustering. Best of three runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from policywire.curate.stories import Article, GroupingParams, explain_pair, group_articles
from policywire.models import Item, MatchedItem, TopicHit

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "grouping"


@dataclass(frozen=True, slots=True)
class Labelled:
    articles: dict[str, MatchedItem]  # by id
    stories: dict[str, str]  # article id → story label
    pairs: list[tuple[str, str, bool, str]]  # a, b, same story, kind


@dataclass(frozen=True, slots=True)
class Scores:
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


def load(directory: Path = DATA) -> Labelled:
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
    with (directory / "pairs.csv").open(encoding="utf-8", newline="") as handle:
        pairs = [
            (r["a"], r["b"], r["same_story"] == "1", r["kind"]) for r in csv.DictReader(handle)
        ]
    return Labelled(articles, stories, pairs)


def evaluate(labelled: Labelled, params: GroupingParams | None = None) -> Scores:
    """Pairwise precision/recall of the clusters `group_articles` makes of the whole set."""
    groups = group_articles([Article(m) for m in labelled.articles.values()], params)
    cluster = {a.item.item.id: n for n, g in enumerate(groups) for a in g.articles}
    predicted = {(a, b): cluster[a] == cluster[b] for a, b, _, _ in labelled.pairs}
    return _scores(labelled, predicted)


def evaluate_pairwise(labelled: Labelled, params: GroupingParams | None = None) -> Scores:
    """The same, with each pair decided on its own by `explain_pair` (no clustering)."""
    predicted = {
        (a, b): explain_pair(labelled.articles[a], labelled.articles[b], params).same_story
        for a, b, _, _ in labelled.pairs
    }
    return _scores(labelled, predicted)


def _scores(labelled: Labelled, predicted: dict[tuple[str, str], bool]) -> Scores:
    tp = fp = fn = 0
    errors: list[str] = []
    for a, b, same, kind in labelled.pairs:
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
    return Scores(precision, recall, f1, tp, fp, fn, len(labelled.pairs), tuple(errors))


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


def items_per_second(articles: list[Article], runs: int = 3) -> tuple[float, float, int]:
    """Items per wall-clock second and per CPU second (best of `runs`), and the story count.

    CPU time is reported too because a shared machine's other work slows the wall clock.
    """
    best_wall = best_cpu = float("inf")
    groups = 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        groups = len(group_articles(articles))
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(articles) / best_wall, len(articles) / best_cpu, groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quality", action="store_true", help="skip the speed run")
    parser.add_argument("--errors", action="store_true", help="list the misjudged pairs")
    parser.add_argument("--items", type=int, default=25_000)
    args = parser.parse_args(argv)
    labelled = load()
    same = sum(1 for *_, s, _ in labelled.pairs if s)
    print(
        f"labelled set: {len(labelled.articles)} articles, {len(set(labelled.stories.values()))}"
        f" stories, {len(labelled.pairs)} pairs ({same} same-story)"
    )
    clustered = evaluate(labelled)
    print(f"grouping (clusters):    {clustered.line()}")
    pairwise = evaluate_pairwise(labelled)
    print(f"pairwise (explain_pair): {pairwise.line()}")
    if args.errors:
        for error in clustered.errors:
            print("  ", error)
    if not args.quality:
        articles = synthetic_window(args.items)
        wall, cpu, groups = items_per_second(articles)
        print(f"speed: {len(articles)} items in one 72 h window → {groups} stories,", end=" ")
        print(f"{wall:,.0f} items/s wall clock, {cpu:,.0f} items per CPU second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
