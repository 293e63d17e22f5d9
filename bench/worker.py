"""Run one measured scenario in this fresh process and print its results as one JSON line.

    python -m bench.worker SCENARIO '{"port": 8080, "feeds": 100}'

A fresh process per run keeps each peak RSS clean (nothing left over from an earlier
scenario) and gives every run the same cold start.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from bench.measure import Result

RESULT_PREFIX = "RESULT "


def _scenarios() -> dict[str, Callable[[dict[str, Any]], dict[str, Result]]]:
    from bench.scenarios import (
        delivery,
        embedding,
        grouping,
        matching,
        parsing,
        poll,
        profile,
        workers,
    )

    return {
        "poll.policywire": poll.run_policywire,
        "poll.naive": poll.run_naive,
        "poll.reader": poll.run_reader,
        "match.policywire": matching.run_policywire,
        "match.naive": matching.run_naive,
        "group.policywire": grouping.run_policywire,
        "group.naive": grouping.run_naive,
        "group.semantic": embedding.run_group_semantic,
        "embed.default": embedding.run_embed,
        "deliver.policywire": delivery.run_policywire,
        "deliver.naive": delivery.run_naive,
        "parse.compare": parsing.run_compare,
        "profile.stages": profile.run_profile,
        "workers.postgresql": workers.run,  # needs PostgreSQL; see bench/scenarios/workers.py
    }


def main() -> None:
    name, raw = sys.argv[1], sys.argv[2]
    results = _scenarios()[name](json.loads(raw))
    payload = {key: result.to_json() for key, result in results.items()}
    print(RESULT_PREFIX + json.dumps(payload), flush=True)


if __name__ == "__main__":
    main()
