"""`policywire status`: what the database says about feeds, destinations and the outbox.

Also the health verdicts a supervisor acts on: `status --check` (`check_health`) and the exit
code of `run --once` (`RoundReport.problems`); their thresholds are documented in
docs/commands.md ("Exit codes").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from policywire.config.durations import parse_schedule
from policywire.config.model import Config
from policywire.storage.leases import SHARD, SHARD_MEMBER
from policywire.storage.lock import lock_holder
from policywire.storage.outbox import Backlog, PlatformState
from policywire.storage.store import DestinationRow, FeedRow, Store

# A feed is a problem for `status --check` once it has failed for longer than
# max(FEED_GRACE, FEED_INTERVALS × its poll interval): a feed polled daily is not "down" after
# one failed poll, and a minute-by-minute feed is not fine after five hours of errors.
FEED_GRACE = timedelta(hours=6)
FEED_INTERVALS = 3
# The outbox is stuck when a message of an active destination has waited longer than this.
OUTBOX_GRACE = timedelta(hours=1)
# A worker whose heartbeat (every 10 s by default) is older than this is shown as gone.
WORKER_SILENT = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class FeedStatus:
    name: str
    url: str
    last_success: datetime | None
    last_error: str | None
    items: int
    next_poll: datetime | None
    failures: int
    failing_since: datetime | None = None  # the last success (or first poll) of a failing feed


@dataclass(frozen=True, slots=True)
class DestinationStatus:
    key: str
    origin: str
    topics: tuple[str, ...]
    schedule: str
    active: bool
    last_digest: datetime | None
    next_digest: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    """One worker sharing a PostgreSQL database (policywire/coordination/)."""

    id: str
    host: str
    pid: int
    started: datetime
    heartbeat: datetime
    config_version: str
    alive: bool  # beat within WORKER_SILENT
    leases: Mapping[str, int]  # unexpired leases by kind: feed, outbox, updates
    shards: tuple[str, ...] = ()  # the gateway shards it runs ("discord/0"), from its leases


@dataclass(frozen=True, slots=True)
class Status:
    feeds: tuple[FeedStatus, ...]
    destinations: tuple[DestinationStatus, ...]
    outbox: dict[str, int]
    # The chat platforms' clients as their supervisors last recorded them; all "stopped" when
    # no instance runs (`running` None), whatever a killed one last wrote.
    platforms: Mapping[str, PlatformState] = field(default_factory=dict)
    backlogs: tuple[Backlog, ...] = ()
    running: int | None = None  # the pid of the instance running on this database (0: unknown)
    workers: tuple[WorkerStatus, ...] = ()  # PostgreSQL: every registered worker

    def summary(self) -> str:
        outbox = self.outbox
        return (
            f"{len(self.feeds)} feeds, {len(self.destinations)} destinations, outbox "
            f"{outbox['pending']} pending, {outbox['failed']} failed"
        )


async def collect_status(config: Config, store: Store, now: datetime) -> Status:
    rows = {row.url: row for row in await store.feed_rows()}
    feeds = tuple(_feed_status(feed.name, feed.url, rows.get(feed.url)) for feed in config.feeds)
    destinations = tuple(
        _destination_status(row, now) for row in await store.destinations(active_only=False)
    )
    running = lock_holder(config.settings.database)
    workers = await _workers(store, now) if store.shared else ()
    live = [worker.pid for worker in workers if worker.alive]
    if live:
        running = live[0] if len(live) == 1 else 0
    platforms = await store.platform_states()
    if running is None:  # nothing runs: a killed instance's last word is not the truth
        platforms = {
            name: PlatformState(name, "stopped", state.since, state.error)
            for name, state in platforms.items()
        }
    return Status(
        feeds,
        destinations,
        await store.outbox_counts(),
        platforms,
        tuple(await store.backlogs()),
        running,
        workers=workers,
    )


async def _workers(store: Store, now: datetime) -> tuple[WorkerStatus, ...]:
    counts = await store.lease_counts(now)
    shards = [lease for lease in await store.leases(SHARD) if lease.expires_at > now]
    return tuple(
        WorkerStatus(
            row.id,
            row.host,
            row.pid,
            row.started_at,
            row.heartbeat_at,
            row.config_version,
            now - row.heartbeat_at <= WORKER_SILENT,
            {
                kind: n
                for (holder, kind), n in sorted(counts.items())
                if holder == row.id and kind not in (SHARD, SHARD_MEMBER)  # shown by name
            },
            tuple(lease.name for lease in shards if lease.holder == row.id),
        )
        for row in await store.workers()
    )


def _feed_status(name: str, url: str, row: FeedRow | None) -> FeedStatus:
    if row is None:  # never polled yet
        return FeedStatus(name, url, None, None, 0, None, 0)
    return FeedStatus(
        name=name,
        url=url,
        last_success=row.last_success,
        last_error=row.last_error if row.failures else None,  # an old error is history
        items=row.items_total,
        next_poll=row.next_poll,
        failures=row.failures,
        failing_since=(row.last_success or row.first_polled) if row.failures else None,
    )


def _destination_status(row: DestinationRow, now: datetime) -> DestinationStatus:
    return DestinationStatus(
        key=row.key,
        origin=row.origin,
        topics=row.topics,
        schedule=row.schedule,
        active=row.active,
        last_digest=row.last_digest_at,
        next_digest=next_digest(row, now),
        last_error=row.last_error,
    )


def next_digest(row: DestinationRow, now: datetime) -> datetime | None:
    """When the destination's next scheduled digest fires (None: instant or inactive)."""
    if not row.active:
        return None
    trigger = parse_schedule(row.schedule).to_trigger(row.timezone)
    if trigger is None:
        return None
    fire: datetime | None = trigger.get_next_fire_time(None, now.astimezone(ZoneInfo(row.timezone)))
    return fire


def format_status(status: Status, timezone: str) -> str:
    zone = ZoneInfo(timezone)

    def when(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "-"

    def platform_problem(destination: DestinationStatus) -> str | None:
        """Why an active destination's messages wait: its platform's client is not up."""
        platform = destination.key.split(":", 1)[0]
        state = status.platforms.get(platform)
        if status.running is None or state is None or state.state == "up":
            return None
        return f"waiting: {platform} {_describe_platform(state, when)}"

    feed_rows = [
        [
            f.name,
            when(f.last_success),
            str(f.items),
            when(f.next_poll),
            str(f.failures),
            _short(f.last_error or ""),
        ]
        for f in status.feeds
    ]
    destination_rows = [
        [
            d.key,
            d.origin,
            ",".join(d.topics),
            d.schedule,
            when(d.last_digest),
            when(d.next_digest) if d.schedule != "instant" else "on match",
            _short(platform_problem(d) or "active")
            if d.active
            else f"inactive: {_short(d.last_error or '')}",
        ]
        for d in status.destinations
    ]
    outbox = status.outbox
    return "\n".join(
        [
            _service_line(status),
            "",
            f"Feeds (times in {timezone})",
            _table(
                ["feed", "last success", "items", "next poll", "failures", "last error"],
                feed_rows,
            ),
            "",
            "Destinations and subscriptions",
            _table(
                [
                    "destination",
                    "from",
                    "topics",
                    "schedule",
                    "last digest",
                    "next digest",
                    "state",
                ],
                destination_rows,
            ),
            "",
            *_platform_lines(status, when),
            *_worker_lines(status, when),
            f"Outbox: {outbox['pending']} pending, {outbox['failed']} failed, "
            f"{outbox['sent']} sent",
            *_backlog_lines(status.backlogs, when),
        ]
    )


def _worker_lines(status: Status, when: Callable[[datetime | None], str]) -> list[str]:
    """Several workers: each one's heartbeat, config version and leases."""
    if not status.workers:
        return []
    versions = {worker.config_version for worker in status.workers if worker.alive}
    rows = [
        [
            w.id,
            f"{w.host}:{w.pid}",
            when(w.started),
            when(w.heartbeat) + ("" if w.alive else " (gone)"),
            w.config_version,
            ", ".join([*(f"{n} {kind}" for kind, n in w.leases.items()), *_shard_names(w)]) or "-",
        ]
        for w in status.workers
    ]
    header = ["worker", "host:pid", "started", "heartbeat", "config", "leases"]
    lines = ["Workers", _table(header, rows)]
    if len(versions) > 1:
        lines.append(f"  workers run {len(versions)} different config versions")
    return [*lines, ""]


def _shard_names(worker: WorkerStatus) -> list[str]:
    """ "discord shards 0, 2" for the shard leases "discord/0" and "discord/2"."""
    by_platform: dict[str, list[str]] = {}
    for name in worker.shards:
        platform, _, shard = name.partition("/")
        by_platform.setdefault(platform, []).append(shard)
    return [
        f"{p} shards {', '.join(sorted(ids, key=lambda i: (len(i), i)))}"  # 2 before 10
        for p, ids in sorted(by_platform.items())
    ]


def _service_line(status: Status) -> str:
    live = sum(worker.alive for worker in status.workers)
    if live > 1:
        return f"Service: running ({live} workers)"
    if status.running is None:
        return "Service: not running"
    return "Service: running" + (f" (pid {status.running})" if status.running else "")


def _describe_platform(state: PlatformState, when: Callable[[datetime | None], str]) -> str:
    if state.state == "retrying":
        tries = f", {state.attempts} failed tries" if state.attempts > 1 else ""
        return f"retrying since {when(state.since)}{tries}: {_short(state.error or '')}"
    return f"{state.state} since {when(state.since)}"


def _platform_lines(status: Status, when: Callable[[datetime | None], str]) -> list[str]:
    if not status.platforms:
        return []
    rows = [
        [name, _describe_platform(state, when)] for name, state in sorted(status.platforms.items())
    ]
    return ["Chat platforms", _table(["platform", "state"], rows), ""]


def _backlog_lines(
    backlogs: Sequence[Backlog], when: Callable[[datetime | None], str]
) -> list[str]:
    """Per destination: what waits and why its head waits, and why messages were given up."""
    lines = []
    for backlog in backlogs:
        if backlog.pending:
            why = f": {_short(backlog.head_error)}" if backlog.head_error else ""
            lines.append(
                f"  {backlog.destination}: {backlog.pending} pending since "
                f"{when(backlog.oldest_pending)}, next try {when(backlog.head_next_attempt)} "
                f"(tried {backlog.head_attempts} times){why}"
            )
        if backlog.failed:
            lines.append(
                f"  {backlog.destination}: {backlog.failed} failed for good, the last because: "
                f"{_short(backlog.last_failure or 'unknown', 120)}"
            )
    return lines


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When `status --check` calls a feed or the outbox a problem (see the constants)."""

    feed_grace: timedelta = FEED_GRACE
    outbox_grace: timedelta = OUTBOX_GRACE


def check_health(
    config: Config, status: Status, now: datetime, thresholds: Thresholds | None = None
) -> list[str]:
    """One line per problem: feeds failing too long, messages waiting too long, bots down."""
    limits = thresholds or Thresholds()
    intervals = {feed.url: feed.interval for feed in config.feeds}
    problems = []
    for feed in status.feeds:
        if feed.failing_since is None:
            continue
        limit = max(limits.feed_grace, FEED_INTERVALS * intervals.get(feed.url, timedelta(0)))
        if now - feed.failing_since > limit:
            problems.append(
                f"feed {feed.name} failing since {feed.failing_since:%Y-%m-%d %H:%M} UTC "
                f"({feed.failures} failures, more than {_span(limit)}): {feed.last_error}"
            )
    active = {d.key for d in status.destinations if d.active}
    for backlog in status.backlogs:
        oldest = backlog.oldest_pending
        if backlog.destination in active and oldest and now - oldest > limits.outbox_grace:
            problems.append(
                f"outbox stuck: {backlog.destination} has {backlog.pending} messages waiting "
                f"since {oldest:%Y-%m-%d %H:%M} UTC (more than {_span(limits.outbox_grace)})"
                + (f": {backlog.head_error}" if backlog.head_error else "")
            )
    return problems


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} min"
    return f"{minutes // 60} h"


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What one `run --once` round did, and what it could not do."""

    sent: int
    feeds: int
    feeds_failed: int
    undelivered: Mapping[str, str] = field(default_factory=dict)  # destination → why

    def problems(self) -> list[str]:
        found = []
        if self.feeds and self.feeds_failed == self.feeds:
            found.append(f"every feed failed ({self.feeds})")
        found += [f"{key} not delivered to: {why}" for key, why in sorted(self.undelivered.items())]
        return found

    def describe(self) -> str:
        text = f"{self.sent} messages sent, {self.feeds - self.feeds_failed}/{self.feeds} feeds ok"
        problems = self.problems()
        return text + (f"; {'; '.join(problems)}" if problems else "")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    if not rows:
        return "  (none)"
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [header, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  "
        + "  ".join(
            str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )
