"""Wall time, CPU time and peak RSS of this process *and its descendants*.

`ParsePool` workers are forkserver children (grandchildren of this process), which
`getrusage(RUSAGE_CHILDREN)` never sees while they live. So this reads /proc for the whole
process tree: CPU is utime+stime (+ the cutime/cstime of reaped children) summed over the
tree, before and after; peak RSS is VmHWM, reset at the start through /proc/PID/clear_refs
(Linux ≥ 4.0), summed over the tree (an upper bound: the peaks need not coincide). Where /proc
is missing, it falls back to getrusage for this process and its reaped children.
"""

from __future__ import annotations

import contextlib
import os
import resource
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PROC = Path("/proc")


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in _PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(root: int | None = None) -> list[int]:
    """This process and every live descendant."""
    root = os.getpid() if root is None else root
    if not _PROC.is_dir():
        return [root]
    children = _children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _cpu_of(pid: int) -> float:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(")") + 2 :].split()
    # fields[11..14] = utime stime cutime cstime (stat fields 14–17)
    return sum(int(x) for x in fields[11:15]) / _TICK


def _hwm_kb(pid: int) -> int:
    try:
        for line in (_PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _reset_hwm(pid: int) -> None:
    with contextlib.suppress(OSError):
        (_PROC / str(pid) / "clear_refs").write_text("5")


class Meter:
    """`with Meter() as m: ...` then m.wall, m.cpu, m.peak_rss_mb (self + descendants)."""

    def __init__(self) -> None:
        self.wall = self.cpu = self.cpu_main = self.peak_rss_mb = 0.0
        self._known: dict[int, float] = {}
        self._procfs = _PROC.is_dir()

    def __enter__(self) -> Meter:
        if self._procfs:
            for pid in tree_pids():
                self._known[pid] = _cpu_of(pid)
                _reset_hwm(pid)
        self._ru = _rusage()
        self._start = time.perf_counter()
        return self

    def sample(self) -> None:
        """Record the peak of processes that may exit before `__exit__` (pool workers)."""
        if self._procfs:
            total = sum(_hwm_kb(pid) for pid in tree_pids()) / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, total)

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._start
        if self._procfs:
            pids = tree_pids()
            cpu = 0.0
            for pid in pids:
                cpu += _cpu_of(pid) - self._known.get(pid, 0.0)
            self.cpu = cpu
            self.cpu_main = _cpu_of(os.getpid()) - self._known.get(os.getpid(), 0.0)
            total = sum(_hwm_kb(pid) for pid in pids) / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, total)
        else:
            after = _rusage()
            self.cpu = self.cpu_main = after[0] - self._ru[0]
            self.peak_rss_mb = after[1] / 1024


def _rusage() -> tuple[float, int]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    scale = 1024 if sys.platform == "darwin" else 1
    return (
        me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
        max(me.ru_maxrss, kids.ru_maxrss) // scale,
    )


@dataclass
class Result:
    """One measured run of one tool in one scenario."""

    wall: float
    cpu: float
    peak_rss_mb: float
    items: int  # the unit the rate is counted in (items, or messages for delivery)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.items / self.wall if self.wall > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "wall": self.wall,
            "cpu": self.cpu,
            "peak_rss_mb": self.peak_rss_mb,
            "items": self.items,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        return cls(data["wall"], data["cpu"], data["peak_rss_mb"], data["items"], data["extra"])


@dataclass(frozen=True)
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def show(self, fmt: str = "{:,.2f}") -> str:
        if self.low == self.high:
            return fmt.format(self.median)
        return f"{fmt.format(self.median)} ({fmt.format(self.low)}–{fmt.format(self.high)})"


def spreads(results: Sequence[Result]) -> dict[str, Spread]:
    return {
        "wall": Spread.of([r.wall for r in results]),
        "cpu": Spread.of([r.cpu for r in results]),
        "rss": Spread.of([r.peak_rss_mb for r in results]),
        "rate": Spread.of([r.rate for r in results]),
    }


def chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
