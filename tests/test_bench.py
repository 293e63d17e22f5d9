"""The benchmark suite runs: `python -m bench --quick` end to end (the figures are not tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.run import write_doc

ROOT = Path(__file__).resolve().parents[1]


def test_quick_bench_runs_and_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    data = json.loads(results.read_text())
    for scenario in ("poll", "process_warm", "match", "group", "deliver", "memory", "parse"):
        assert scenario in data["results"], scenario
    cold = data["results"]["poll"]["policywire"]["cold"][0]
    assert cold["items"] > 0 and cold["extra"]["error"] == 0
    delivered = data["results"]["deliver"]["policywire"]["deliver"][0]
    assert delivered["extra"]["lost"] == 0
    assert "## Targets" in completed.stdout and "## Poll cycle" in completed.stdout


def test_write_doc_replaces_only_its_own_sections(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\nIntro.\n\n## Poll cycle\n\nold numbers\n\n"
        "## Story grouping quality\n\nsomeone else's\n"
    )
    write_doc({"Poll cycle": ["new numbers"], "Matching": ["match numbers"]}, doc)
    text = doc.read_text()
    assert "old numbers" not in text and "new numbers" in text
    assert "## Story grouping quality\n\nsomeone else's" in text
    assert text.index("## Poll cycle") < text.index("## Story grouping quality")
    assert text.index("## Story grouping quality") < text.index("## Matching")
    assert text.startswith("# Benchmarks\n\nIntro.")
