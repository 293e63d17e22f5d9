"""Topic matching: precision and recall of a configuration's topics on the relevance sample.

Run from the repository root::

    python bench/relevance_eval.py                    # the shipped feeds.yaml topics
    python bench/relevance_eval.py --errors           # also list every miss and false hit
    python bench/relevance_eval.py --errors --half tune   # only the tuning part's
    python bench/relevance_eval.py --write-splits     # re-split the rows after labelling more
    python bench/relevance_eval.py --config my.yaml   # another configuration's topics
    python bench/relevance_eval.py --json             # the same figures as JSON

The sample (`tests/data/relevance/labels.csv`, method in its README) holds links and verdicts
only. The items themselves are read at evaluation time from `../shared/realfeeds/` with
policywire's own parser (`parse_realfeed`: items published on or after 2026-02-15 are dropped
right after parsing, before anything looks at them) and matched exactly as the service matches
them (`match_items`, what the parser pool runs), then joined to the labelled rows by canonical
link.

An item counts as predicted relevant when it hits at least one topic, and as relevant when its
verdict is `relevant`; per topic, when it hits that topic and when the topic is in its `topics`
column. The rows are split into a tuning part and a check part (`splits.csv`, one line per row,
made by `split_rows`): the topics were tuned looking at the tuning part only, so the check part
says how well they carry over.
"Unlabelled hits" counts the eligible items of the sample's feeds that hit a topic but have no
row: the sample claims to list every such item, so a non-zero count means the figures above are
incomplete and the new hits need a verdict.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/relevance_eval.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.devsets import REALFEEDS, ROOT, DevSetUnavailable, parse_realfeed
from policywire.config.load import load_config
from policywire.errors import ParseError
from policywire.ingest.links import canonical_link
from policywire.ingest.match import Matcher, match_items
from policywire.models import Item, TopicRule

__all__ = [
    "Evaluation",
    "Figures",
    "LabelledRow",
    "evaluate",
    "load_sample",
    "main",
    "split_rows",
]

SAMPLE = ROOT / "tests" / "data" / "relevance"
HALVES = ("tune", "check")
# Of every five articles of a stratum (same feed, verdict and topics) in hash order, the second
# and the fourth go to the check part: 40 %, and a stratum of two or more has one there.
_CHECK_POSITIONS = (1, 3)


@dataclass(frozen=True, slots=True)
class LabelledRow:
    feed_file: str
    link: str
    relevant: bool
    topics: frozenset[str]
    half: str


@dataclass(frozen=True, slots=True)
class Figures:
    """Precision and recall of one class (any topic, or one topic) over some rows."""

    true_positive: int
    false_positive: int
    false_negative: int

    @property
    def precision(self) -> float:
        predicted = self.true_positive + self.false_positive
        return self.true_positive / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        relevant = self.true_positive + self.false_negative
        return self.true_positive / relevant if relevant else 1.0

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"(TP {self.true_positive}, FP {self.false_positive}, FN {self.false_negative})"
        )


@dataclass(frozen=True, slots=True)
class Outcome:
    """One labelled row with what the matcher made of its item."""

    row: LabelledRow
    hits: frozenset[str]  # topic ids the item hit
    title: str  # for --errors on the terminal only; never written to a file


@dataclass(frozen=True, slots=True)
class Evaluation:
    outcomes: tuple[Outcome, ...]
    unjoined: tuple[LabelledRow, ...]  # rows whose item the parser did not produce
    unlabelled_hits: tuple[tuple[str, str, tuple[str, ...]], ...]  # (feed file, link, topics)

    def figures(self, half: str | None = None, topic: str | None = None) -> Figures:
        tp = fp = fn = 0
        for outcome in self.outcomes:
            if half is not None and outcome.row.half != half:
                continue
            if topic is None:
                relevant, predicted = outcome.row.relevant, bool(outcome.hits)
            else:
                relevant, predicted = topic in outcome.row.topics, topic in outcome.hits
            tp += relevant and predicted
            fp += predicted and not relevant
            fn += relevant and not predicted
        return Figures(tp, fp, fn)

    def counts(self, half: str | None = None) -> tuple[int, int]:
        rows = [o.row for o in self.outcomes if half is None or o.row.half == half]
        return len(rows), sum(row.relevant for row in rows)


def load_sample(directory: Path = SAMPLE) -> list[LabelledRow]:
    halves = _read_halves(directory / "splits.csv")
    rows: list[LabelledRow] = []
    for raw in _read_labels(directory / "labels.csv"):
        key = (raw["feed_file"], canonical_link(raw["link"]))
        rows.append(
            LabelledRow(
                feed_file=raw["feed_file"],
                link=raw["link"],
                relevant=raw["verdict"] == "relevant",
                topics=frozenset(t for t in raw["topics"].split(";") if t),
                half=halves.get(key, "tune"),
            )
        )
    return rows


def _read_labels(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _read_halves(path: Path) -> dict[tuple[str, str], str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["feed_file"], canonical_link(row["link"])): row["half"]
            for row in csv.DictReader(handle)
        }


def split_rows(labels: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], str]:
    """Each labelled row's part, tune or check, stratified by feed, verdict and topics.

    An article two feeds carry (TIME cross-posts) is one article: both rows get the part of the
    copy in the alphabetically first feed, so no article is tuned on in one feed and checked in
    another. Within a stratum the articles are ordered by the SHA-1 of their canonical link
    (stable, and blind to what they say), and the positions in `_CHECK_POSITIONS` go to check.
    """
    first: dict[str, Mapping[str, str]] = {}
    for raw in sorted(labels, key=lambda raw: raw["feed_file"]):
        first.setdefault(canonical_link(raw["link"]), raw)
    strata: dict[tuple[str, str, str], list[str]] = {}
    for link, raw in first.items():
        stratum = (raw["feed_file"], raw["verdict"], raw["topics"])
        strata.setdefault(stratum, []).append(link)
    part: dict[str, str] = {}
    for links in strata.values():
        ordered = sorted(links, key=lambda link: hashlib.sha1(link.encode()).hexdigest())
        for position, link in enumerate(ordered):
            part[link] = "check" if position % 5 in _CHECK_POSITIONS else "tune"
    return {
        (raw["feed_file"], canonical_link(raw["link"])): part[canonical_link(raw["link"])]
        for raw in labels
    }


def write_splits(directory: Path = SAMPLE) -> None:
    """Rewrite `splits.csv` from `labels.csv` (run after adding rows; see the README)."""
    labels = _read_labels(directory / "labels.csv")
    halves = split_rows(labels)
    with (directory / "splits.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["feed_file", "link", "half"])
        for raw in labels:
            key = (raw["feed_file"], canonical_link(raw["link"]))
            writer.writerow([raw["feed_file"], raw["link"], halves[key]])


def evaluate(
    rules: Iterable[TopicRule], rows: Sequence[LabelledRow], realfeeds: Path = REALFEEDS
) -> Evaluation:
    """Match every eligible item of the sample's feeds; score the labelled ones."""
    if not realfeeds.is_dir():
        raise DevSetUnavailable(f"{realfeeds} is not there")
    matcher = Matcher.compile(rules)
    labelled = {(row.feed_file, canonical_link(row.link)) for row in rows}
    by_key: dict[tuple[str, str], tuple[Item, frozenset[str]]] = {}
    unlabelled: list[tuple[str, str, tuple[str, ...]]] = []
    for feed_file in sorted({row.feed_file for row in rows}):
        items = _items(realfeeds / feed_file)
        hits = match_items(matcher, items)
        for item in items:
            topics = tuple(hit.topic for hit in hits.get((item.feed, item.id), ()))
            key = (feed_file, canonical_link(item.link))
            by_key.setdefault(key, (item, frozenset(topics)))
            if topics and key not in labelled:
                unlabelled.append((feed_file, item.link, topics))
    outcomes: list[Outcome] = []
    unjoined: list[LabelledRow] = []
    for row in rows:
        found = by_key.get((row.feed_file, canonical_link(row.link)))
        if found is None:
            unjoined.append(row)
        else:
            outcomes.append(Outcome(row, found[1], found[0].title))
    return Evaluation(tuple(outcomes), tuple(unjoined), tuple(unlabelled))


def _items(path: Path) -> tuple[Item, ...]:
    if not path.is_file():
        return ()
    try:
        return parse_realfeed(path)
    except ParseError:
        return ()  # the two broken captures: nothing to match


def report(
    evaluation: Evaluation, topics: Sequence[str], errors: bool, half: str | None = None
) -> str:
    """The figures of every part and topic; with `errors`, the rows it got wrong (in `half`)."""
    lines: list[str] = []
    for part in (None, *HALVES):
        rows, relevant = evaluation.counts(part)
        name = part or "all"
        lines.append(
            f"{name:<6} ({rows} rows, {relevant} relevant): {evaluation.figures(part).line()}"
        )
    lines.append("per topic (P / R, TP/FP/FN):")
    for topic in topics:
        parts = "  ".join(
            f"{part or 'all'} {_short(evaluation.figures(part, topic))}" for part in (None, *HALVES)
        )
        lines.append(f"  {topic:<16} {parts}")
    lines.append(
        f"unjoined rows: {len(evaluation.unjoined)}; "
        f"unlabelled hits: {len(evaluation.unlabelled_hits)}"
    )
    if errors:
        lines += _error_lines(evaluation, half)
    return "\n".join(lines)


def _short(figures: Figures) -> str:
    counts = f"{figures.true_positive}/{figures.false_positive}/{figures.false_negative}"
    return f"{figures.precision:.2f}/{figures.recall:.2f} ({counts})"


def _error_lines(evaluation: Evaluation, half: str | None = None) -> list[str]:
    lines: list[str] = []
    for outcome in evaluation.outcomes:
        row, hits = outcome.row, outcome.hits
        if half is not None and row.half != half:
            continue
        if row.relevant and not hits:
            kind = "missed"
        elif hits and not row.relevant:
            kind = "false hit"
        elif row.relevant and not row.topics & hits:
            kind = "wrong topic"
        else:
            continue
        shown = ",".join(sorted(hits)) or "-"
        wanted = ",".join(sorted(row.topics)) or "-"
        lines.append(f"{kind} [{row.half}] hit={shown} want={wanted} {row.feed_file} {row.link}")
        lines.append(f"    {outcome.title[:110]}")
    for feed_file, link, topics in evaluation.unlabelled_hits:
        lines.append(f"unlabelled hit {','.join(topics)} {feed_file} {link}")
    for row in evaluation.unjoined:
        lines.append(f"unjoined {row.feed_file} {row.link}")
    return lines


def as_json(evaluation: Evaluation, topics: Sequence[str]) -> dict[str, Any]:
    def shaped(figures: Figures) -> Mapping[str, Any]:
        return {**asdict(figures), "precision": figures.precision, "recall": figures.recall}

    return {
        "halves": {
            half or "all": {
                "rows": evaluation.counts(half)[0],
                "relevant": evaluation.counts(half)[1],
                **shaped(evaluation.figures(half)),
            }
            for half in (None, *HALVES)
        },
        "topics": {
            topic: {
                part or "all": shaped(evaluation.figures(part, topic)) for part in (None, *HALVES)
            }
            for topic in topics
        },
        "unjoined": len(evaluation.unjoined),
        "unlabelled_hits": len(evaluation.unlabelled_hits),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "feeds.yaml"), help="whose topics")
    parser.add_argument("--errors", action="store_true", help="list misses and false hits")
    parser.add_argument("--half", choices=HALVES, help="list the errors of this part only")
    parser.add_argument("--json", action="store_true", help="figures as JSON")
    parser.add_argument(
        "--write-splits", action="store_true", help="rewrite splits.csv from labels.csv and exit"
    )
    args = parser.parse_args(argv)
    if args.write_splits:
        write_splits()
        return 0
    rules = load_config(args.config, env={}).topic_rules()
    try:
        evaluation = evaluate(rules.values(), load_sample())
    except DevSetUnavailable as missing:
        print(f"skipped: {missing}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(as_json(evaluation, list(rules)), indent=2))
    else:
        print(report(evaluation, list(rules), args.errors, args.half))
    return 0


if __name__ == "__main__":
    sys.exit(main())
