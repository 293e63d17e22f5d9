"""How long to wait before polling a feed again: exponential backoff after failures, jitter,
and a server's Retry-After.

Part of `policywire.ingest.fetch` (see its docstring), which re-exports these; apart because
they are pure arithmetic on what a fetch returned, no part of the exchange itself (the service
schedules polls with `next_delay`; the Fetcher reads a Retry-After with `parse_retry_after`).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_MAX_DOUBLINGS = 64  # 2**64 times any sane interval is far beyond every cap; avoids overflow
_default_rng = random.Random()


def next_delay(
    interval: float,
    failures: int,
    retry_after: float | None = None,
    *,
    max_backoff: float = 6 * 3600,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before polling a feed again.

    A healthy feed (no failures) waits `interval`. Each consecutive failure doubles the wait,
    up to `max_backoff` (never below `interval` itself). A server's Retry-After is a minimum
    that jitter cannot undercut. `jitter` spreads the result by ±that fraction using `rng`;
    with a seeded `rng`, or no jitter, the function is pure.
    """
    interval = max(0.0, interval)
    doublings = min(max(0, failures), _MAX_DOUBLINGS)
    delay = min(interval * 2.0**doublings, max(interval, max_backoff))
    if jitter > 0:
        delay = jittered(delay, jitter, rng or _default_rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def jittered(seconds: float, fraction: float, rng: random.Random) -> float:
    """`seconds` moved at random by up to ±`fraction` of itself (fraction clamped to 0..1)."""
    spread = min(max(fraction, 0.0), 1.0)
    return max(0.0, seconds * (1.0 + rng.uniform(-spread, spread)))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
