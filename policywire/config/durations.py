"""Time values as people write them in feeds.yaml: durations ("1h30m") and schedules.

A schedule is when a destination gets its digest: ``instant`` (as soon as items match), a
daily ``HH:MM``, or a five-field crontab expression. Schedules become APScheduler triggers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from apscheduler.triggers.cron import CronTrigger

_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_UNIT_ORDER = "wdhms"
_DURATION_SHAPE = re.compile(r"(?:\d+\s*[wdhms]\s*)+")
_DURATION_PART = re.compile(r"(\d+)\s*([wdhms])")
_DURATION_HINT = "use a number and a unit s, m, h, d or w, e.g. 30s, 15m, 1h30m, 7d"


def parse_duration(text: str | int, *, allow_zero: bool = False) -> timedelta:
    """Read ``30s``, ``15m``, ``2h``, ``1d``, ``1w`` or combinations like ``1h30m``.

    A bare whole number (int or digits) counts as seconds. Units go from largest to smallest
    and appear at most once. Zero is refused unless ``allow_zero``: a zero interval or
    timeout is almost always a mistake.
    """
    if isinstance(text, bool):
        raise ValueError(f"expected a duration, got {text}; {_DURATION_HINT}")
    seconds = text if isinstance(text, int) else _duration_seconds(text)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative, got {text}")
    if seconds == 0 and not allow_zero:
        raise ValueError(f"must be longer than zero, got {text!r}")
    return timedelta(seconds=seconds)


def _duration_seconds(text: str) -> int:
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return int(cleaned)
    if not _DURATION_SHAPE.fullmatch(cleaned):
        raise ValueError(f"invalid duration {text!r}: {_DURATION_HINT}")
    parts = _DURATION_PART.findall(cleaned)
    positions = [_UNIT_ORDER.index(unit) for _, unit in parts]
    if positions != sorted(set(positions)):
        raise ValueError(
            f"invalid duration {text!r}: give each unit once, largest first (e.g. 1h30m)"
        )
    return sum(int(amount) * _UNIT_SECONDS[unit] for amount, unit in parts)


ScheduleKind = Literal["instant", "daily", "cron"]
_DAILY_SHAPE = re.compile(r"(\d{1,2}):(\d{2})")
_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NUMERIC_WEEKDAYS = re.compile(r"(\*|\d+(?:-\d+)?)(?:/(\d+))?")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule; ``text`` is its normalized spelling ("instant", "08:00", cron)."""

    kind: ScheduleKind
    text: str

    def to_trigger(self, tz: str) -> CronTrigger | None:
        """The APScheduler trigger for this schedule in time zone ``tz`` (None: instant)."""
        if self.kind == "instant":
            return None
        if self.kind == "daily":
            hour, minute = self.text.split(":")
            return CronTrigger(hour=int(hour), minute=int(minute), timezone=tz)
        return CronTrigger.from_crontab(_crontab_for_apscheduler(self.text), timezone=tz)


def parse_schedule(text: str) -> Schedule:
    """Read ``instant``, ``HH:MM`` or a five-field cron expression; ValueError if neither."""
    cleaned = " ".join(text.split())
    if cleaned.lower() == "instant":
        return Schedule("instant", "instant")
    daily = _DAILY_SHAPE.fullmatch(cleaned)
    if daily:
        return _daily(int(daily.group(1)), int(daily.group(2)), text)
    fields = cleaned.split(" ")
    if len(fields) != 5:
        raise ValueError(
            f"invalid schedule {text!r}: use 'instant', a daily time like '08:00', "
            "or a cron expression with 5 fields (minute hour day month weekday)"
        )
    try:
        CronTrigger.from_crontab(_crontab_for_apscheduler(cleaned), timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {text!r}: {exc}") from None
    return Schedule("cron", cleaned)


def _daily(hour: int, minute: int, text: str) -> Schedule:
    if hour > 23 or minute > 59:
        raise ValueError(f"invalid time {text!r}: hours go from 00 to 23, minutes from 00 to 59")
    return Schedule("daily", f"{hour:02d}:{minute:02d}")


def _crontab_for_apscheduler(expression: str) -> str:
    """Make a crontab expression mean in APScheduler 3 what it means to cron.

    APScheduler 3 counts weekdays from Monday = 0, while crontab counts from Sunday = 0 (and
    7 is Sunday again), so ``1-5`` would silently shift to Tuesday–Saturday. Numeric weekday
    parts are therefore rewritten as day names, which both read the same way.
    """
    fields = expression.split(" ")
    fields[4] = ",".join(_weekday_part_as_names(part) for part in fields[4].split(","))
    return " ".join(fields)


def _weekday_part_as_names(part: str) -> str:
    numeric = _NUMERIC_WEEKDAYS.fullmatch(part)
    if numeric is None or part == "*":
        return part  # names ("mon-fri") and anything else are already unambiguous
    span, step_text = numeric.groups()
    first, last = (0, 6) if span == "*" else _weekday_span(span)
    step = int(step_text) if step_text else 1
    if step == 0:
        raise ValueError("a step of 0 is not allowed in the weekday field")
    days = range(first, last + 1, step)
    return ",".join(dict.fromkeys(_WEEKDAY_NAMES[day % 7] for day in days))


def _weekday_span(span: str) -> tuple[int, int]:
    first_text, _, last_text = span.partition("-")
    first = int(first_text)
    last = int(last_text) if last_text else first
    if not 0 <= first <= last <= 7:
        raise ValueError(f"weekday {span!r} is out of range: use 0-7 (0 and 7 are Sunday)")
    return first, last
