"""The benchmark suite: `python -m bench` (full, ~25 min) or `python -m bench --quick` (~30 s).

Every scenario runs each tool in a fresh process (bench/worker.py) against the same loopback
feed server (bench/server.py, its own process), and every policywire figure is a ratio against
a baseline measured in the same run. `--write` replaces this suite's sections of
docs/benchmarks.md; without it the report is printed. `--json PATH` keeps the raw numbers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.baselines import reader_available, reader_version
from bench.corpus import TARGET_RULES
from bench.measure import Result, Spread, spreads
from bench.scenarios.poll import feed_urls
from bench.worker import RESULT_PREFIX

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_REALFEEDS = ROOT.parent / "shared" / "realfeeds"
SCENARIOS = (
    "poll",
    "process",
    "match",
    "group",
    "embed",
    "deliver",
    "memory",
    "parse",
    "profile",
)


@dataclass
class Sizes:
    runs: int = 3
    feeds: int = 1000
    items: int = 50
    nv_feeds: int = 200  # warm pass against a server that ignores conditional GET
    reader_workers: int = 8
    match_items: int = 20_000
    naive_match_items: dict[int, int] = field(
        default_factory=lambda: {10: 5000, 100: 1000, 1000: 200}
    )
    rule_counts: tuple[int, ...] = (10, 100, 1000)
    group_items: int = 25_000
    naive_group_items: int = 2_500
    semantic_runs: int = 1  # each run embeds its 25,000 items first (minutes on one core)
    embed_items: int = 3_000
    messages: int = 3000
    deliver_runs: int = 3
    naive_deliver_runs: int = 1
    mem_feeds: int = 10_000
    mem_items: int = 20
    mem_naive_feeds: int = 300
    parse_feeds: int = 100
    parse_real_files: int | None = None  # every file of ../shared/realfeeds
    profile_feeds: int = 300


QUICK = Sizes(
    runs=1,
    feeds=24,
    items=10,
    nv_feeds=8,
    match_items=400,
    naive_match_items={10: 200, 100: 100, 1000: 40},
    group_items=500,
    naive_group_items=200,
    embed_items=200,
    messages=12,
    deliver_runs=1,
    mem_feeds=60,
    mem_items=10,
    mem_naive_feeds=10,
    parse_feeds=4,
    parse_real_files=8,  # a smoke run: all ~600 files cost the quick run 7 of its 38 s
    profile_feeds=8,
)


# --- processes --------------------------------------------------------------------------------


@contextmanager
def feed_server(feeds: int, items: int, realfeeds: Path | None) -> Iterator[int]:
    command = [sys.executable, "-m", "bench.server", "--feeds", str(feeds), "--items", str(items)]
    if realfeeds is not None:
        command += ["--realfeeds", str(realfeeds)]
    process = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("READY "):
            raise RuntimeError(f"feed server did not start: {line!r}")
        yield int(line.split()[1])
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def worker(name: str, params: dict[str, Any], timeout: float = 3600) -> dict[str, Result]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.worker", name, json.dumps(params)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            return {key: Result.from_json(value) for key, value in data.items()}
    tail = "\n".join(completed.stderr.splitlines()[-25:])
    raise RuntimeError(f"{name} failed (exit {completed.returncode}):\n{tail}")


def repeat(
    name: str, params: dict[str, Any], runs: int, first: dict[str, Any] | None = None
) -> dict[str, list[Result]]:
    """`runs` fresh processes; `first` adds parameters to the first run only."""
    collected: dict[str, list[Result]] = {}
    for run in range(runs):
        log(f"  {name} run {run + 1}/{runs}")
        run_params = {**params, **(first or {})} if run == 0 else params
        for key, result in worker(name, run_params).items():
            collected.setdefault(key, []).append(result)
    return collected


def timed_process(command: list[str], cwd: Path) -> Result:
    """Wall, CPU and peak RSS of one whole process (and the children it waited for)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors, env=_env()
        )
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    extra: dict[str, Any] = {}
    if process.returncode != 0:
        last = [line for line in stderr.splitlines() if line.strip()][-1:] or [""]
        extra["error"] = f"exit {process.returncode}: {last[0][:300]}"
    scale = 1024 if sys.platform == "darwin" else 1
    cpu = usage.ru_utime + usage.ru_stime
    return Result(wall, cpu, usage.ru_maxrss / 1024 / scale, 0, extra)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the report -------------------------------------------------------------------------------


@dataclass
class Row:
    tool: str
    results: list[Result]
    note: str = ""

    @property
    def stats(self) -> dict[str, Spread]:
        return spreads(self.results)


@dataclass
class Report:
    sizes: Sizes
    quick: bool
    sections: dict[str, list[str]] = field(default_factory=dict)
    targets: list[tuple[str, str, str, str]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, title: str, lines: list[str]) -> None:
        self.sections.setdefault(title, []).extend(lines)

    def target(self, name: str, goal: str, measured: str, met: bool | None) -> None:
        verdict = "—" if met is None else ("met" if met else "**not met**")
        self.targets.append((name, goal, measured, verdict))


def _rate(row: Row) -> float:
    return row.stats["rate"].median


def table(rows: list[Row], baseline: Row | None, unit: str) -> list[str]:
    header = [
        f"| tool | wall s | CPU s | peak RSS MB | {unit}/s | × baseline | notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines = header
    for row in rows:
        s = row.stats
        ratio = ""
        if baseline is not None and _rate(baseline) > 0:
            ratio = "1 (baseline)" if row is baseline else f"{_rate(row) / _rate(baseline):,.1f}×"
        lines.append(
            f"| {row.tool} | {s['wall'].show()} | {s['cpu'].show()} | {s['rss'].show('{:,.0f}')} "
            f"| {s['rate'].show('{:,.0f}')} | {ratio} | {row.note} |"
        )
    return [*lines, ""]


def ratio(row: Row, baseline: Row | None) -> float | None:
    if baseline is None or _rate(baseline) == 0:
        return None
    return _rate(row) / _rate(baseline)


# --- scenarios --------------------------------------------------------------------------------


def scenario_poll(report: Report, port: int, with_reader: bool) -> None:
    sz = report.sizes
    log(f"scenarios 1–2: cold and warm poll, {sz.feeds} feeds × {sz.items} items")
    params = {"port": port, "feeds": sz.feeds, "nv_feeds": sz.nv_feeds}
    pw = repeat("poll.policywire", params, sz.runs)
    naive = repeat("poll.naive", params, sz.runs)
    rd: dict[str, list[Result]] = {}
    if with_reader:
        try:
            rd = repeat("poll.reader", {**params, "workers": sz.reader_workers}, sz.runs)
        except RuntimeError as exc:  # e.g. reader's vendored feedparser without sgmllib3k
            log(f"  reader baseline failed, skipped: {str(exc).splitlines()[-1]}")
            report.add("Poll cycle", [f"reader baseline failed: `{str(exc).splitlines()[-1]}`", ""])
    report.raw["poll"] = {
        "policywire": _raw(pw),
        "naive": _raw(naive),
        "reader": _raw(rd),
    }
    cpu_main = Spread.of([r.extra.get("cpu_main", 0.0) for r in pw["cold"]])
    stored = pw["cold"][0].extra.get("stored")
    pw_label = "policywire (2 parse workers, polls bounded by `concurrency` as in the service)"
    pw_cold = Row(pw_label, pw["cold"])
    naive_cold = Row("naive loop (sequential feedparser + re.search + sqlite3)", naive["cold"])
    rows = [pw_cold, naive_cold]
    reader_cold = None
    if rd:
        reader_cold = Row(
            f"reader {reader_version()} (`update_feeds(workers={sz.reader_workers})`)", rd["cold"]
        )
        rows.append(reader_cold)
    lines = [
        f"### 1. Cold poll: {sz.feeds:,} feeds × {sz.items} items "
        "(fetch + parse + normalize + match + store)",
        "",
        *table(rows, naive_cold, "items"),
        f"policywire stored {stored:,} items; of its CPU time, the event-loop process used "
        f"{cpu_main.show()} s (the rest is the parse workers).",
        "",
    ]
    cold_vs_naive = ratio(pw_cold, naive_cold)
    cold_vs_reader = ratio(pw_cold, reader_cold) if reader_cold else None
    report.target(
        "Cold poll vs naive loop", "≥ 20×", _x_vs(pw_cold, naive_cold), _ge(cold_vs_naive, 20)
    )
    report.target(
        "Cold poll vs reader",
        "≥ 3×",
        _x_vs(pw_cold, reader_cold) if reader_cold else "reader not installed",
        _ge(cold_vs_reader, 3) if reader_cold else None,
    )
    pw_warm = Row(
        "policywire (304 each)",
        pw["warm"],
    )
    naive_warm = Row("naive loop (304 each)", naive["warm"])
    rows = [pw_warm, naive_warm]
    if rd:
        rows.append(Row(f"reader {reader_version()}", rd["warm"]))
    lines += [
        f"### 2. Warm re-poll: the same {sz.feeds:,} feeds, all answering 304 (in-process)",
        "",
        *table(rows, naive_warm, "feeds"),
    ]
    if "warm_same_body" in pw:
        same = Row(
            f"policywire, {sz.nv_feeds} feeds answering 200 with an unchanged body",
            pw["warm_same_body"],
        )
        unchanged = pw["warm_same_body"][0].extra.get("unchanged")
        lines += [
            f"A server that ignores conditional GET ({sz.nv_feeds} feeds, same body again): "
            f"{same.stats['rate'].show('{:,.0f}')} feeds/s, {unchanged} of {sz.nv_feeds} "
            "recognized as unchanged by body hash (no parse).",
            "",
        ]
    warm = ratio(pw_warm, naive_warm)
    report.target(
        "Warm poll vs naive (in-process)", "≥ 5×", _x_vs(pw_warm, naive_warm), _ge(warm, 5)
    )
    _unchanged_target(report, pw)
    report.add("Poll cycle", lines)


def _unchanged_target(report: Report, pw: dict[str, list[Result]]) -> None:
    """An unchanged feed costs one 304 and no parse; a same-body 200 is not parsed either."""
    sz = report.sizes
    answered_304 = min(r.extra.get("unchanged", 0) for r in pw["warm"])
    measured = f"{answered_304:,} of {sz.feeds:,} polls unchanged (304)"
    same_body = [r.extra.get("unchanged", 0) for r in pw.get("warm_same_body", [])]
    if same_body:
        measured += f"; {min(same_body)} of {sz.nv_feeds} same bodies skipped by hash"
    met = answered_304 == sz.feeds and (not same_body or min(same_body) == sz.nv_feeds)
    report.target("Unchanged feed: one 304, no parse; same body: no parse", "—", measured, met)


def scenario_process(report: Report, port: int) -> None:
    """The warm pass as whole processes: `policywire run --once` vs the naive cron script."""
    sz = report.sizes
    log(f"scenario 2b: warm pass as whole processes, {sz.feeds} feeds")
    with tempfile.TemporaryDirectory(prefix="pw-process-") as tmp_name:
        tmp = Path(tmp_name)
        urls = feed_urls(port, sz.feeds)
        config = tmp / "feeds.yaml"
        config.write_text(_config_yaml(urls, tmp / "policywire.db"))
        (tmp / "urls.txt").write_text("\n".join(urls))
        policywire = [sys.executable, "-m", "scheduler", "run", "--once", "--config", str(config)]
        naive = [
            sys.executable, "-m", "bench.baselines",
            str(tmp / "state.json"), str(tmp / "naive.db"), str(tmp / "urls.txt"),
        ]  # fmt: skip
        # The cold pass, unmeasured, fills both databases.
        cold_run = timed_process(policywire, ROOT)
        if cold_run.extra.get("error"):
            # As shipped it may fail on a large configuration: fill the same database in-process.
            worker(
                "poll.policywire",
                {"port": port, "feeds": sz.feeds, "warm": False, "database": _url(tmp)},
            )
        timed_process(naive, ROOT)
        pw_runs, naive_runs = [], []
        for run in range(sz.runs):
            log(f"  process warm run {run + 1}/{sz.runs}")
            pw_runs.append(_with_items(timed_process(policywire, ROOT), sz.feeds))
            naive_runs.append(_with_items(timed_process(naive, ROOT), sz.feeds))
    failures = [r.extra["error"] for r in (cold_run, *pw_runs) if r.extra.get("error")]
    pw_row = Row("`policywire run --once` (console destination)", pw_runs)
    naive_row = Row("`python naive.py` (state in a JSON file)", naive_runs)
    report.raw["process_warm"] = {"policywire": _raw_list(pw_runs), "naive": _raw_list(naive_runs)}
    value = ratio(pw_row, naive_row)
    report.target("Warm pass as whole processes", "≥ 2×", _x_vs(pw_row, naive_row), _ge(value, 2))
    lines = [
        f"### 2b. Warm pass as whole processes (cron), {sz.feeds:,} feeds, start-up included",
        "",
        *table([pw_row, naive_row], naive_row, "feeds"),
    ]
    if failures:
        lines += [
            f"`policywire run --once` exited with an error in {len(failures)} of "
            f"{1 + len(pw_runs)} runs (cold included); last lines: `{failures[0]}`",
            "",
        ]
    report.add("Poll cycle", lines)


def _url(tmp: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp / 'policywire.db'}"


def _with_items(result: Result, items: int) -> Result:
    return dataclasses.replace(result, items=items, extra={**result.extra, "unit": "feeds"})


def _config_yaml(urls: list[str], database: Path) -> str:
    lines = ["settings:", f"  database: sqlite+aiosqlite:///{database}", "feeds:"]
    lines += [f"  - url: {url}\n    name: Outlet {i}" for i, url in enumerate(urls)]
    lines.append("topics:")
    for rule in TARGET_RULES:
        lines.append(f"  {rule.id}:\n    name: {rule.name}\n    any: {json.dumps(list(rule.any))}")
        if rule.none:
            lines.append(f"    none: {json.dumps(list(rule.none))}")
    lines += ["destinations:", "  - console: stdout"]
    return "\n".join(lines) + "\n"


def scenario_match(report: Report) -> None:
    sz = report.sizes
    log("scenario 3: matching")
    lines = [
        f"{sz.match_items:,} items (plain-text title ~60–110 chars, summary ~400–1,200 chars, "
        "tags); one pass in a fresh process, so word splitting and case/accent folding are in "
        "the figure. The naive loop runs one `re.search` per keyword on fewer items.",
        "",
        "| rules | policywire items/s | compile ms | naive items/s (items) | × naive |",
        "| --- | --- | --- | --- | --- |",
    ]
    report.raw["match"] = {}
    for rules in sz.rule_counts:
        pw = repeat("match.policywire", {"rules": rules, "items": sz.match_items}, sz.runs)
        naive_items = sz.naive_match_items.get(rules, 200)
        naive = repeat("match.naive", {"rules": rules, "items": naive_items}, sz.runs)
        pw_row, naive_row = Row("policywire", pw["match"]), Row("naive", naive["match"])
        compile_ms = Spread.of([r.extra["compile_s"] * 1000 for r in pw["match"]])
        value = ratio(pw_row, naive_row)
        lines.append(
            f"| {rules:,} | {pw_row.stats['rate'].show('{:,.0f}')} | {compile_ms.show('{:,.1f}')} "
            f"| {naive_row.stats['rate'].show('{:,.0f}')} ({naive_items:,}) | {_x(value)} |"
        )
        report.raw["match"][rules] = {"policywire": _raw(pw), "naive": _raw(naive)}
        if rules == 1000:
            rate = _rate(pw_row)
            report.target(
                "Matching at 1,000 rules",
                "≥ 20,000 items/s",
                f"{rate:,.0f} items/s",
                rate >= 20_000,
            )
    report.add("Matching", [*lines, ""])


def scenario_group(report: Report) -> None:
    sz = report.sizes
    log("scenario 4: grouping")
    pw = repeat("group.policywire", {"items": sz.group_items}, sz.runs)
    naive = repeat("group.naive", {"items": sz.naive_group_items}, sz.runs)
    function = pw["group"][0].extra["function"]
    pw_row = Row(f"policywire `{function}`, {sz.group_items:,} items", pw["group"])
    naive_row = Row(
        f"naive title-Jaccard grouping, {sz.naive_group_items:,} items (quadratic)", naive["group"]
    )
    semantic = repeat("group.semantic", {"items": sz.group_items}, sz.semantic_runs)
    news = semantic["group"][0].extra
    semantic_row = Row(
        f"policywire `group_articles` with cached vectors, news window of {sz.group_items:,}"
        " (as a digest: no reason lines)",
        semantic["group"],
        note=f"{news['stories']:,} stories of {news['events']:,} events, B³ F1 {news['bcubed_f1']}",
    )
    # The same news window without vectors, in the same process: the like-for-like baseline.
    names = semantic["names"][0].extra
    news_names_row = Row(
        f"policywire `group_articles` names only, news window of {sz.group_items:,}",
        semantic["names"],
        note=f"{names['stories']:,} stories, B³ F1 {names['bcubed_f1']}",
    )
    explained_row = Row(
        "… the same with vectors, and every reason line (`preview --explain`)",
        semantic["explained"],
    )
    cold_row = Row(
        "… the same with vectors, a process's first digest (no article's names kept yet)",
        semantic["cold"],
    )
    pw_row.note = f"names only, feed corpus, {pw['group'][0].extra['stories']:,} stories"
    report.raw["group"] = {
        "policywire": _raw(pw),
        "naive": _raw(naive),
        "semantic": _raw(semantic),
    }
    rate = _rate(semantic_row)
    report.target(
        "Grouping with vectors cached",
        "≥ 5,000 items/s over 25,000 items",
        f"{rate:,.0f} items/s ({rate / _rate(news_names_row):.2f}× names-only, same window)",
        rate >= 5000,
    )
    report.add(
        "Grouping speed",
        [
            "Matched items inside the 72 h window. With vectors, each item's embedding is "
            "computed before the clock starts (the service embeds an item once, when it first "
            "matches, and stores the vector). The news window (`bench.corpus.news_window`) is "
            "written so that the model's cosines between unrelated items look like real news "
            "(`python -m bench.scenarios.embedding --cosines`); its vectors are cached under "
            "the temporary folder. Grouping *quality* is measured in docs/grouping.md.",
            "",
            *table(
                [semantic_row, cold_row, explained_row, news_names_row, pw_row, naive_row],
                pw_row,
                "items",
            ),
        ],
    )


def scenario_embed(report: Report) -> None:
    sz = report.sizes
    log(f"scenario 4c: embedding {sz.embed_items} items with the default model on one core")
    results = worker("embed.default", {"items": sz.embed_items})
    report.raw["embed"] = {key: r.to_json() for key, r in results.items()}
    embed_row = Row("default model (USE v3 multilingual), batches of 64", [results["embed"]])
    names_row = Row("names-only features (`extract_entities`), same items", [results["names"]])
    rate = _rate(embed_row)
    report.target(
        "Embedding, default model, one core",
        "≥ 150 items/s",
        f"{rate:,.0f} items/s",
        rate >= 150,
    )
    report.add(
        "Embedding",
        [
            "Title and summary cut to 250 characters as the service embeds them; the worker "
            "is pinned to one core before numpy starts its threads; the model is loaded "
            "before the clock starts.",
            "",
            *table([embed_row, names_row], names_row, "items"),
        ],
    )


def scenario_deliver(report: Report) -> None:
    sz = report.sizes
    log(f"scenario 5: delivery of {sz.messages} messages (≥ {sz.messages / 30:.0f} s a run)")
    pw = repeat("deliver.policywire", {"messages": sz.messages}, sz.deliver_runs)
    naive = repeat("deliver.naive", {"messages": sz.messages}, sz.naive_deliver_runs)
    report.raw["deliver"] = {"policywire": _raw(pw), "naive": _raw(naive)}
    lines = [
        f"{sz.messages:,} messages to {sz.messages:,} private chats through the fake Bot API "
        "(`enforce_rates=True`: 30 msg/s overall, 1 msg/s per chat, 429 beyond).",
        "",
        "| tool | runs | msg/s | % of 30 msg/s | lost | answered 429 | duplicates |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, results in (
        ("policywire `Sender` + `TelegramBot` (default pacing)", pw["deliver"]),
        ("naive PTB loop (sleep retry_after on 429)", naive["deliver"]),
    ):
        row = Row(name, results)
        share = Spread.of([r.rate / 30 * 100 for r in results])
        rejected = Spread.of(
            [r.extra["answered_429"] / max(1, r.extra["requests"]) * 100 for r in results]
        )
        lost = max(r.extra["lost"] for r in results)
        dup = max(r.extra["duplicates"] for r in results)
        lines.append(
            f"| {name} | {len(results)} | {row.stats['rate'].show()} | {share.show('{:.1f}')} % "
            f"| {lost} | {rejected.show('{:.2f}')} % of requests | {dup} |"
        )
        if results is pw["deliver"]:
            report.target(
                "Delivery",
                "≥ 95 % of 30 msg/s, 0 lost, ≤ 1 % 429",
                f"{share.median:.1f} %, {lost} lost, {rejected.median:.2f} % 429",
                share.median >= 95 and lost == 0 and rejected.median <= 1,
            )
    report.add("Delivery", [*lines, ""])


def scenario_memory(report: Report) -> None:
    sz = report.sizes
    log(f"scenario 6: memory, {sz.mem_feeds} feeds × {sz.mem_items} items, one cold poll")
    with feed_server(sz.mem_feeds, sz.mem_items, None) as port:
        pw = worker("poll.policywire", {"port": port, "feeds": sz.mem_feeds, "warm": False})
        with_model = worker(
            "poll.policywire",
            {"port": port, "feeds": sz.mem_feeds, "warm": False, "model": True},
        )
        naive = worker("poll.naive", {"port": port, "feeds": sz.mem_naive_feeds, "warm": False})
    pw_row = Row(f"policywire, {sz.mem_feeds:,} feeds", [pw["cold"]])
    model_row = Row(
        f"policywire, {sz.mem_feeds:,} feeds, default embedding model loaded",
        [with_model["cold"]],
    )
    naive_row = Row(f"naive loop, first {sz.mem_naive_feeds:,} feeds (reference)", [naive["cold"]])
    report.raw["memory"] = {
        "policywire": pw["cold"].to_json(),
        "with_model": with_model["cold"].to_json(),
        "naive": naive["cold"].to_json(),
    }
    peak = pw["cold"].peak_rss_mb
    report.target(
        "Peak RSS, 10,000-feed cold poll",
        "≤ 250 MB",
        f"{peak:,.0f} MB ({sz.mem_feeds:,} feeds × {sz.mem_items})",
        peak <= 250,
    )
    peak_model = with_model["cold"].peak_rss_mb
    report.target(
        "Peak RSS, 10,000-feed cold poll, model loaded",
        "≤ 300 MB",
        f"{peak_model:,.0f} MB (+{peak_model - peak:,.0f} MB for the model)",
        peak_model <= 300,
    )
    report.add(
        "Memory",
        [
            f"One cold poll of {sz.mem_feeds:,} feeds × {sz.mem_items} items in a fresh process; "
            "peak RSS is the sum of VmHWM over the process and its parse workers (an upper "
            "bound: the peaks need not coincide).",
            "",
            *table([pw_row, model_row, naive_row], None, "items"),
        ],
    )


def scenario_parse(report: Report, realfeeds: Path | None) -> None:
    sz = report.sizes
    log("parse stage anchors")
    params = {
        "feeds": sz.parse_feeds,
        "items": sz.items,
        "realfeeds": str(realfeeds) if realfeeds else None,
        "real_files": sz.parse_real_files,
    }
    results = worker("parse.compare", params)
    report.raw["parse"] = {key: r.to_json() for key, r in results.items()}
    lines = [
        "One core, one process, the same bodies for every parser (items/s; `real` = "
        "../shared/realfeeds read by path).",
        "",
        "| input | parser | items | items/s |",
        "| --- | --- | --- | --- |",
    ]
    for key, result in results.items():
        corpus, parser = key.split("|", 1)
        lines.append(f"| {corpus} | {parser} | {result.items:,} | {result.rate:,.0f} |")
    report.add("Parsers", [*lines, ""])
    _fast_path_target(report, results)


def _fast_path_target(report: Report, results: dict[str, Result]) -> None:
    """How much of each corpus the lxml path took (identity with feedparser is a test's job)."""
    shares = []
    for corpus in ("synthetic", "real"):
        fast = results.get(f"{corpus}|policywire lxml fast path alone (accepted bodies)")
        everything = results.get(f"{corpus}|feedparser (defaults)")
        if fast and everything and everything.items:
            shares.append(f"{fast.items:,} of {everything.items:,} {corpus} items")
    report.target(
        "Parse fast path decided from data",
        "identical Items, feedparser fallback",
        "lxml path (RSS 2.0, RSS 1.0, Atom 1.0) took "
        + ", ".join(shares)
        + "; every accepted body gives feedparser's Items (tests/test_fastparse.py)",
        True,
    )


def scenario_profile(report: Report, port: int) -> None:
    sz = report.sizes
    log(f"profile: stages alone, {sz.profile_feeds} feeds")
    results = worker("profile.stages", {"port": port, "feeds": sz.profile_feeds})
    report.raw["profile"] = {key: r.to_json() for key, r in results.items()}
    total = sum(r.cpu for r in results.values()) or 1.0
    lines = [
        f"Each stage alone on one core, {sz.profile_feeds} feeds × {sz.items} items, timed "
        "without a profiler (bench/scenarios/profile.py; `python -m bench --only profile`):",
        "",
        "| stage | wall s | CPU s | share of CPU | rate |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, r in results.items():
        lines.append(
            f"| {key} | {r.wall:.2f} | {r.cpu:.2f} | {r.cpu / total * 100:.0f} % "
            f"| {r.rate:,.0f} {r.extra.get('unit', 'items')}/s |"
        )
    for key, r in results.items():
        if "top" in r.extra:
            lines += [
                "",
                f"Top functions by own time, stage {key}:",
                "",
                "```",
                r.extra["top"],
                "```",
            ]
    report.add("Profile", [*lines, ""])


def _raw(collected: dict[str, list[Result]]) -> dict[str, Any]:
    return {key: _raw_list(results) for key, results in collected.items()}


def _raw_list(results: list[Result]) -> list[dict[str, Any]]:
    return [r.to_json() for r in results]


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}×"


def _x_vs(row: Row, baseline: Row | None) -> str:
    """ "6.9× (4.92 s vs 34.16 s)": the ratio with the two median wall times behind it."""
    if baseline is None:
        return "n/a"
    walls = f"{row.stats['wall'].median:.2f} s vs {baseline.stats['wall'].median:.2f} s"
    return f"{_x(ratio(row, baseline))} ({walls})"


def _ge(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


# --- output -----------------------------------------------------------------------------------


def machine_lines(report: Report, argv: list[str]) -> list[str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in (
            "policywire",
            "feedparser",
            "aiohttp",
            "SQLAlchemy",
            "aiosqlite",
            "python-telegram-bot",
            "reader",
        )
    )
    sz = report.sizes
    return [
        f"- Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"command: `python -m bench {' '.join(argv)}`",
        f"- Machine: {cpu}, {os.cpu_count()} cores, {memory}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}",
        f"- Versions: {versions}",
        f"- Sizes: {sz.feeds:,} feeds × {sz.items} items; {sz.runs} runs per figure "
        f"(median, min–max in parentheses); delivery {sz.deliver_runs} run(s), naive delivery "
        f"{sz.naive_deliver_runs}; memory scenario one cold poll.",
        "- Every tool runs in a fresh process against the same loopback feed server (its own "
        "process, 16 loopback addresses); CPU is the process tree's (parse workers included).",
        "",
    ]


def _version(name: str) -> str:
    if name == "reader":
        return reader_version()
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def target_lines(report: Report) -> list[str]:
    lines = ["| target | goal | measured (median) | verdict |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in report.targets]
    return [*lines, ""]


def render(report: Report, argv: list[str]) -> dict[str, list[str]]:
    sections = {"Machine": machine_lines(report, argv), "Targets": target_lines(report)}
    sections.update(report.sections)
    sections["Reproduce"] = [
        "From a fresh clone, after the README's set-up (and `pip install -e '.[bench]'` for the "
        "`reader` peer):",
        "",
        "```",
        "python -m bench            # every figure above (~25 min on 2 cores)",
        "python -m bench --write    # … and replace these sections of docs/benchmarks.md",
        "python -m bench --quick    # one-minute smoke run (what the test suite runs)",
        "python -m bench --only poll,match --runs 5   # a subset",
        "```",
        "",
    ]
    return sections


def markdown(sections: dict[str, list[str]]) -> str:
    return "\n".join(
        f"## {title}\n\n" + "\n".join(lines).rstrip() + "\n" for title, lines in sections.items()
    )


def write_doc(sections: dict[str, list[str]], path: Path = DOC) -> None:
    """Replace this suite's `##` sections, keep everyone else's (re-read right before writing)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    head, *chunks = text.split("\n## ")
    existing: list[tuple[str, str]] = []
    for chunk in chunks:
        title, _, body = chunk.partition("\n")
        existing.append((title.strip(), body))
    new_blocks = {
        title: "\n" + "\n".join(lines).rstrip() + "\n" for title, lines in sections.items()
    }
    out: list[tuple[str, str]] = []
    for title, body in existing:
        # A partial run (--only) leaves the sections it did not measure as they were.
        out.append((title, new_blocks.pop(title) if title in new_blocks else body))
    out.extend(new_blocks.items())
    rendered = head.rstrip() + "\n" + "".join(f"\n## {t}\n{b.rstrip()}\n" for t, b in out)
    path.write_text(rendered)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one run (~30 s)")
    parser.add_argument("--runs", type=int, help="runs per figure (default 3, quick 1)")
    parser.add_argument("--feeds", type=int, help="feeds in the poll scenarios")
    parser.add_argument("--items", type=int, help="items per feed")
    parser.add_argument("--messages", type=int, help="messages in the delivery scenario")
    parser.add_argument("--mem-feeds", type=int, help="feeds in the memory scenario")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    parser.add_argument("--no-reader", action="store_true", help="skip the reader baseline")
    parser.add_argument("--realfeeds", type=Path, default=DEFAULT_REALFEEDS)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args(args_list)

    sizes = dataclasses.replace(QUICK) if args.quick else Sizes()
    for name in ("runs", "feeds", "items", "messages", "mem_feeds"):
        if getattr(args, name) is not None:
            setattr(sizes, name, getattr(args, name))
    if args.runs is not None:
        sizes.deliver_runs = min(sizes.deliver_runs, args.runs)
    only = set(args.only.split(",")) if args.only else set(SCENARIOS)
    unknown = only - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    realfeeds = args.realfeeds if args.realfeeds and args.realfeeds.is_dir() else None
    with_reader = not args.no_reader and reader_available()
    report = Report(sizes, args.quick)
    notes: list[str] = []
    if not with_reader:
        notes.append(
            "reader baseline skipped ("
            + ("--no-reader" if args.no_reader else "`reader` not installed")
            + ")"
        )
    if realfeeds is None:
        notes.append(f"real feeds not found at {args.realfeeds}: synthetic corpus only")
    started = time.perf_counter()
    if only & {"poll", "process", "profile"}:
        log(f"feed server: {sizes.feeds} feeds × {sizes.items} items")
        with feed_server(sizes.feeds, sizes.items, realfeeds) as port:
            if "poll" in only:
                scenario_poll(report, port, with_reader)
            if "process" in only:
                scenario_process(report, port)
            if "profile" in only:
                scenario_profile(report, port)
    if "match" in only:
        scenario_match(report)
    if "group" in only:
        scenario_group(report)
    if "embed" in only:
        scenario_embed(report)
    if "deliver" in only:
        scenario_deliver(report)
    if "memory" in only:
        scenario_memory(report)
    if "parse" in only:
        scenario_parse(report, realfeeds)
    sections = render(report, args_list)
    if notes:
        sections["Machine"] += [f"- Note: {note}" for note in notes] + [""]
    if args.only and not args.write:
        sections["Targets"] = target_lines(report)
    log(f"done in {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "sizes": dataclasses.asdict(sizes),
            "notes": notes,
            "targets": report.targets,
            "results": report.raw,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str))
    if args.only and args.write:
        # A partial run must not overwrite the full run's machine line and target table.
        sections.pop("Targets", None)
        sections.pop("Machine", None)
        sections.pop("Reproduce", None)
    if args.write:
        write_doc(sections)
        log(f"wrote {DOC.relative_to(ROOT)}")
    else:
        print(markdown(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
