"""What the service counts for Prometheus (`prometheus-client`), on a registry of its own.

Counters are bumped where things happen (a poll recorded, a digest built, a message sent);
the outbox gauges and bot states are read when `/metrics` is scraped, so they are never stale.
One `Metrics` per service: tests run several services in one process, each with its registry.

Metric names (docs/operations.md has alert rules on them):

    policywire_polls_total{outcome}               new | unchanged | error
    policywire_fetch_errors_total{kind}           http_4xx, http_5xx, timeout, network, refused,
                                                  too_large, parse, store, other
    policywire_items_matched_total
    policywire_digests_built_total
    policywire_messages_sent_total{platform}
    policywire_messages_retried_total{platform}
    policywire_rate_limited_total{platform}       answers 429 (and discord.py's rate limits)
    policywire_outbox_depth                       pending messages, all destinations
    policywire_outbox_oldest_age_seconds          age of the oldest pending message (0: none)
    policywire_bot_up{platform}                   1 up, 0 starting, retrying or stopped
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# A feed's error, as the pipeline logs it in one line, to a label of few values: a label per
# message would give every distinct URL or status text a time series of its own.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # The address guard's refusals (policywire/ingest/netguard.py), not a refused connection.
    ("refused", re.compile(r"private|loopback|link-local|multicast|reserved|: refused", re.I)),
    ("timeout", re.compile(r"time(d)? ?out|deadline", re.I)),
    ("too_large", re.compile(r"too large|larger than|exceeds|limit", re.I)),
    ("http_5xx", re.compile(r"\b(HTTP )?5\d\d\b")),
    ("http_4xx", re.compile(r"\b(HTTP )?4\d\d\b")),
    ("parse", re.compile(r"pars|not a feed|xml|json|malformed|html page", re.I)),
    ("store", re.compile(r"database|store", re.I)),
    ("network", re.compile(r"connect|dns|resolve|unreachable|reset|ssl|tls|certificate", re.I)),
)


def error_kind(message: str | None) -> str:
    """The `kind` label of a feed error message."""
    for kind, pattern in _KINDS:
        if message and pattern.search(message):
            return kind
    return "other"


@dataclass(frozen=True, slots=True)
class OutboxSnapshot:
    depth: int
    oldest_age_seconds: float


class Metrics:
    """The service's counters and gauges; `render` gives the text Prometheus scrapes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.polls = Counter("policywire_polls", "Feed polls by outcome", ["outcome"], registry=r)
        self.fetch_errors = Counter(
            "policywire_fetch_errors", "Failed polls by kind of error", ["kind"], registry=r
        )
        self.items_matched = Counter(
            "policywire_items_matched", "New items that matched a topic", registry=r
        )
        self.digests_built = Counter("policywire_digests_built", "Digests built", registry=r)
        self.sent = Counter(
            "policywire_messages_sent", "Messages delivered", ["platform"], registry=r
        )
        self.retried = Counter(
            "policywire_messages_retried", "Deliveries to try again", ["platform"], registry=r
        )
        self.rate_limited = Counter(
            "policywire_rate_limited",
            "Answers that asked us to slow down",
            ["platform"],
            registry=r,
        )
        self.outbox_depth = Gauge("policywire_outbox_depth", "Pending messages", registry=r)
        self.outbox_age = Gauge(
            "policywire_outbox_oldest_age_seconds",
            "Age of the oldest pending message (0 when none)",
            registry=r,
        )
        self.bot_up = Gauge(
            "policywire_bot_up", "Chat client up (1) or not", ["platform"], registry=r
        )

    def poll(self, outcome: str, error: str | None = None) -> None:
        self.polls.labels(outcome).inc()
        if outcome == "error":
            self.fetch_errors.labels(error_kind(error)).inc()

    def delivery(self, platform: str, outcome: str) -> None:
        """One delivery attempt's outcome: sent, retry or rate_limited (a retry too)."""
        if outcome == "sent":
            self.sent.labels(platform).inc()
            return
        self.retried.labels(platform).inc()
        if outcome == "rate_limited":
            self.rate_limited.labels(platform).inc()

    def render(self, outbox: OutboxSnapshot, bots: Mapping[str, bool]) -> bytes:
        """The exposition text, with the gauges set from what was just read."""
        self.outbox_depth.set(outbox.depth)
        self.outbox_age.set(outbox.oldest_age_seconds)
        for platform, up in bots.items():
            self.bot_up.labels(platform).set(1 if up else 0)
        return generate_latest(self.registry)
