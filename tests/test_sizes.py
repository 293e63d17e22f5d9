"""The size rules, read from the source with `ast`: small pieces stay small.

A module over ~600 lines or a class over ~25 methods has grown a second job; split it when this
fails rather than raising the limits (docs/architecture.md, "Size rules").
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 600
MAX_CLASS_METHODS = 25
SOURCES = sorted(
    [*(ROOT / "policywire").rglob("*.py"), *(ROOT / "bots").rglob("*.py"), ROOT / "scheduler.py"]
)


def method_counts(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: sum(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) for n in node.body)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }


def test_the_checker_counts_methods(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("class A:\n    def a(self): ...\n    async def b(self): ...\n    x = 1\n")
    assert method_counts(sample) == {"A": 2}
    assert len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_classes_stay_small(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"
    big = {name: n for name, n in method_counts(path).items() if n > MAX_CLASS_METHODS}
    assert not big, f"{path.relative_to(ROOT)}: classes with too many methods: {big}"
