"""policywire's composition root and command line.

`python scheduler.py run` is the same as `policywire run`. This module wires config, store,
bots and the one APScheduler together; the work itself lives in `policywire/` and `bots/`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from policywire.config.load import (
    default_config_path,
    load_config,
    load_config_without_secrets,
)
from policywire.config.model import Config, TelegramSettings
from policywire.errors import ConfigError, PolicywireError
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.logsafe import redact_secrets

if TYPE_CHECKING:
    from policywire.coordination.workers import Coordination
    from policywire.ops.supervise import Client, Supervisor
    from policywire.service import Service
    from policywire.status import RoundReport
    from policywire.storage.store import Store


class Bot(Protocol):
    """What the composition root needs of a chat bot (it also serves as a Transport)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


log = logging.getLogger("policywire")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 2  # usage errors, like argparse's
# `run --once` did its round but a feed or destination needs a look; `status --check` found
# a problem (docs/commands.md, "Exit codes").
EXIT_UNHEALTHY = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policywire",
        description="Curated topic news from feeds to Telegram, Discord and the console.",
    )
    _add_common_options(parser, argparse.SUPPRESS)
    # The same options after the command too ("policywire preview --config x.yaml"); SUPPRESS
    # keeps a sub-command's unset option from overwriting the top-level one.
    common = argparse.ArgumentParser(add_help=False)
    _add_common_options(common, argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(config=None, verbose=False, log_format="text")

    commands.add_parser("check", parents=[common], help="validate the configuration and exit")

    preview = commands.add_parser(
        "preview", parents=[common], help="fetch feeds now and print the digests that would be sent"
    )
    preview.add_argument("--topic", help="one digest for this topic id only")
    preview.add_argument(
        "--language", choices=SUPPORTED_LANGUAGES, help="digest language (default: the config's)"
    )
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    preview.add_argument(
        "--explain",
        action="store_true",
        help="also say why items matched their topics (or not) and were grouped or kept apart",
    )

    status = commands.add_parser(
        "status", parents=[common], help="feeds, destinations and the outbox, from the database"
    )
    status.add_argument(
        "--check",
        action="store_true",
        help="print only problems; exit 3 when a feed has failed too long or the outbox is stuck",
    )
    status.add_argument(
        "--feed-grace",
        default="6h",
        metavar="DURATION",
        help="a failing feed is a problem after max(this, 3 × its interval) (default: 6h)",
    )
    status.add_argument(
        "--outbox-grace",
        default="1h",
        metavar="DURATION",
        help="the outbox is stuck when a message has waited longer than this (default: 1h)",
    )

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_actions = db.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    db_actions.add_parser(
        "upgrade", parents=[common], help="upgrade the database to this version's schema and exit"
    )

    backup = commands.add_parser(
        "backup", parents=[common], help="copy the SQLite database to PATH (safe while running)"
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")

    labels = commands.add_parser("labels", parents=[common], help="readers' verdicts")
    label_actions = labels.add_subparsers(dest="labels_action", required=True, metavar="ACTION")
    export = label_actions.add_parser(
        "export",
        parents=[common],
        help="write the verdicts of story cards' buttons as evaluation data (docs/cards.md)",
    )
    export.add_argument("directory", metavar="DIR", type=Path, help="the folder to write")

    run = commands.add_parser(
        "run", parents=[common], help="run the service: poll, digest, deliver, answer chats"
    )
    run.add_argument(
        "--once",
        action="store_true",
        help="poll every feed once, send every pending digest, wait for delivery, exit",
    )
    return parser


def _add_common_options(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=default,
        help="configuration file (default: $POLICYWIRE_CONFIG, else ./feeds.yaml)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log debug details"
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=default,
        help="log lines as text (default) or as one JSON object each",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The console script: a PolicywireError is one readable line (exit 1), anything else a
    bug with its traceback (exit 2)."""
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose, json_lines=args.log_format == "json")
    try:
        return _dispatch(args)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
    except PolicywireError as exc:
        print(f"policywire: {exc}", file=sys.stderr)
    except Exception:
        log.exception("policywire stopped on an unexpected error (a bug; please report it)")
        return EXIT_BUG
    return EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    from policywire.storage.lock import instance_lock  # here: `check` needs no SQLAlchemy

    config = _load(args)
    if args.command == "check":
        return _check(config)
    if args.command == "preview":
        return _preview(config, args)
    if args.command == "status":
        return asyncio.run(_status(config, args))
    if args.command == "db":  # "upgrade", its only action
        with instance_lock(config.settings.database):  # never under a running service
            return asyncio.run(_db_upgrade(config))
    if args.command == "backup":
        return _backup(config, args.path, force=args.force)
    if args.command == "labels":  # "export", its only action
        return asyncio.run(_labels_export(config, args.directory))
    if args.command == "run":
        # One instance per SQLite file: two would send everything twice (issue 15).
        with instance_lock(config.settings.database):
            return asyncio.run(serve(config, os.environ, once=args.once))
    raise AssertionError(f"unhandled command {args.command}")


# The one command that sends: every other one loads the configuration without the token and
# webhook variables (`check` in CI, `status`, `backup` and `db upgrade` from a shell).
TOKENS_NEEDED = frozenset({"run"})


def _load(args: argparse.Namespace) -> Config:
    """The configuration; for every command but `run` an unset token or webhook variable is a
    warning that `run` will need it, not an error (issue 14)."""
    path = args.config or default_config_path()
    if args.command in TOKENS_NEEDED:
        return load_config(path)
    config, unset = load_config_without_secrets(path)
    for name in unset:
        print(f"warning: {name} is not set; `policywire run` will need it", file=sys.stderr)
    return config


def _setup_logging(verbose: bool, *, json_lines: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.INFO
    if json_lines:
        # One JSON object a line for log shippers (Loki, Elasticsearch): same records, same
        # secret filters, fields instead of a layout.
        from policywire.ops.jsonlog import json_handler

        logging.basicConfig(level=level, handlers=[json_handler(sys.stderr)])
    else:
        logging.basicConfig(
            level=level,
            format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
            stream=sys.stderr,
        )
    # Keep the libraries' per-request chatter out of the one-line-per-event log.
    # APScheduler says INFO for every job added, run and removed: warnings and errors only.
    for noisy in ("httpx", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _check(config: Config) -> int:
    counts = (
        _count(len(config.feeds), "feed"),
        _count(len(config.topics), "topic"),
        _count(len(config.destinations), "destination"),
    )
    print(f"{config.path.name}: OK — {', '.join(counts)}")
    return EXIT_OK


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _preview(config: Config, args: argparse.Namespace) -> int:
    from policywire.curate.stories import format_explanations
    from policywire.deliver.render import render_console, view_digest
    from policywire.preview import format_match_explanations, preview_json, run_preview

    if args.topic and args.topic not in config.topics:
        known = ", ".join(sorted(config.topics)) or "none"
        print(f"unknown topic {args.topic!r} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    result = asyncio.run(
        run_preview(config, topic=args.topic, language=args.language, explain=args.explain)
    )
    if args.json:
        print(json.dumps(preview_json(result, explain=args.explain), ensure_ascii=False, indent=2))
    else:
        for digest in result.digests:
            print(render_console(view_digest(digest)))
            if args.explain:
                print(format_explanations(digest.stories))
        if args.explain:
            print(format_match_explanations(result))
    for feed, error in result.errors:
        print(f"feed error: {feed}: {error}", file=sys.stderr)
    return EXIT_OK


async def _status(config: Config, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from policywire.config.durations import parse_duration
    from policywire.status import Thresholds, check_health, collect_status, format_status
    from policywire.storage.store import Store

    thresholds = Thresholds(
        parse_duration(args.feed_grace, allow_zero=True),
        parse_duration(args.outbox_grace, allow_zero=True),
    )
    now = datetime.now(UTC)
    store = await Store.open(config.settings.database)
    try:
        status = await collect_status(config, store, now)
    finally:
        await store.close()
    if not args.check:
        print(format_status(status, config.settings.timezone))
        return EXIT_OK
    problems = check_health(config, status, now, thresholds)
    for line in problems or [f"OK: {status.summary()}"]:
        print(line)
    return EXIT_UNHEALTHY if problems else EXIT_OK


async def _db_upgrade(config: Config) -> int:
    """`policywire db upgrade`: opening the store upgrades it; say from which revision to which."""
    from policywire.storage.store import Store

    store = await Store.open(config.settings.database)
    await store.close()
    assert store.schema_upgrade is not None  # set by every open
    print(store.schema_upgrade.describe())
    return EXIT_OK


async def _labels_export(config: Config, directory: Path) -> int:
    """`policywire labels export DIR`: readers' verdicts as grouping and relevance labels."""
    from policywire.chat.feedback import export_labels
    from policywire.storage.store import Store

    store = await Store.open(config.settings.database)
    try:
        done = await export_labels(store, directory)
    finally:
        await store.close()
    print(
        f"{done.pairs} grouping pairs ({done.articles} articles) and {done.relevance} relevance "
        f"labels written to {directory}"
    )
    return EXIT_OK


def _backup(config: Config, path: Path, *, force: bool) -> int:
    """`policywire backup PATH`: progress lines on stderr for a large database, then one line."""
    from policywire.storage.backup import backup_database, progress_lines

    report = progress_lines(lambda line: print(line, file=sys.stderr, flush=True))
    result = backup_database(config.settings.database, path, force=force, progress=report)
    print(result.describe())
    return EXIT_OK


async def serve(config: Config, env: Mapping[str, str], *, once: bool = False) -> int:
    """Run the service until SIGTERM/SIGINT (or one round with `once`); returns the exit code."""
    from bots.console import ConsoleTransport
    from policywire.service import Service
    from policywire.storage.store import Store

    store = await Store.open(config.settings.database)
    service = Service(
        config,
        store,
        {"console": ConsoleTransport()},
        config_loader=lambda: load_config(config.path, env),
        coordination=_coordination(store, env),
    )
    stop = None if once else _stop_on_signals()  # early: a SIGTERM during start-up counts
    bots = await _start_bots(config, env, service, once=once)
    code = EXIT_OK
    try:
        if stop is None:
            report = await service.run_round()
            log.info("one round done: %s", report.describe())
            code = _round_exit_code(report)
        else:
            await service.start()
            from policywire.ops import systemd

            async with _ops_port(config, service, bots), systemd.running(env):
                await _until_stopped(stop, service)  # READY=1, watchdog pings, STOPPING=1
            log.info("stopping")
    finally:
        await service.stop()  # first: the send in flight still needs its bot
        for bot in bots:
            await bot.stop()
        await store.close()
    if service.failure is not None:
        raise service.failure  # one line, exit 1 (the database vanished…)
    return code


@contextlib.asynccontextmanager
async def _ops_port(
    config: Config, service: Service, bots: Sequence[Supervisor]
) -> AsyncIterator[None]:
    """/healthz and /metrics on `settings.ops_listen` while the service runs (opt-in)."""
    if config.settings.ops_listen is None:
        yield
        return
    from policywire.ops.http import Health, OpsServer, OpsSources

    def bot_states() -> dict[str, bool]:
        return {bot.platform: bot.state.state == "up" for bot in bots}

    async def health() -> Health:
        detail = {"bots": bot_states(), "failure": str(service.failure or "") or None}
        return Health(not service.failed.is_set(), detail)

    sources = OpsSources(health, service.outbox_snapshot, bot_states)
    server = OpsServer(service.metrics, sources, config.settings.ops_listen)
    await server.start()  # a port in use is one line and exit 1, like any start error
    try:
        yield
    finally:
        await server.stop()


def _coordination(store: Store, env: Mapping[str, str]) -> Coordination:
    """Several workers on one PostgreSQL database share the work (docs/scaling.md);
    POLICYWIRE_LEASE_SECONDS (default 30) is how long a dead worker's outbox and updates
    leases outlive it."""
    from datetime import UTC, datetime, timedelta

    from policywire.coordination.workers import LEASE_TTL, coordination_for

    raw = env.get("POLICYWIRE_LEASE_SECONDS", "").strip()
    try:
        ttl = timedelta(seconds=float(raw)) if raw else LEASE_TTL
    except ValueError:
        raise PolicywireError(f"POLICYWIRE_LEASE_SECONDS={raw!r} is not a number") from None
    if ttl.total_seconds() < 1:
        raise PolicywireError("POLICYWIRE_LEASE_SECONDS must be at least 1")
    return coordination_for(store, lambda: datetime.now(UTC), ttl=ttl)


async def _until_stopped(stop: asyncio.Event, service: Service) -> None:
    """Until SIGTERM/SIGINT, or until the service cannot go on (`service.failed`)."""
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(service.failed.wait())]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _round_exit_code(report: RoundReport) -> int:
    """`run --once`: non-zero when every feed failed or a destination was not delivered to."""
    return EXIT_UNHEALTHY if report.problems() else EXIT_OK


async def _start_bots(
    config: Config, env: Mapping[str, str], service: Service, *, once: bool
) -> list[Supervisor]:
    """Start each chat bot whose token is set, supervised; say in one line which did not."""
    bots: list[Supervisor] = []
    telegram = config.settings.telegram
    token = env.get(telegram.token_env, "").strip()
    if not token:
        log.info("telegram bot not started: %s is not set", telegram.token_env)
    else:
        redact_secrets([token])
        bot = _telegram_bot(token, telegram, env, service)
        if bot is not None:
            bots.append(await _supervised("telegram bot", bot, service, once=once))
    bots += await _start_discord(config, env, service, once=once)
    return bots


def _telegram_bot(
    token: str, telegram: TelegramSettings, env: Mapping[str, str], service: Service
) -> Client | None:
    """Long polling by the worker holding the updates lease (one worker: always that one), or
    webhook mode, where every worker answers what the load balancer hands it."""
    from bots.telegram import TelegramBot
    from bots.telegram_webhook import webhook_endpoint

    webhook = None
    if telegram.webhook_url is not None:
        secret = env.get(telegram.webhook_secret_env, "").strip()
        redact_secrets([secret] if secret else [])
        try:
            webhook = webhook_endpoint(telegram, secret)
        except ValueError as exc:
            log.error("telegram bot not started: %s", exc)
            return None
    shared = service.coordination.shared and webhook is None
    bot = TelegramBot(
        token,
        telegram.api_base_url,
        service.subscriptions,
        service.send_digest,
        receive_updates=not shared,
        feedback=service.feedback,  # story cards' buttons (docs/cards.md)
        webhook=webhook,
    )
    if shared:  # several workers: one receives updates at a time
        service.coordination.add_receiver("telegram", bot)
    return bot


async def _start_discord(
    config: Config, env: Mapping[str, str], service: Service, *, once: bool
) -> list[Supervisor]:
    """The Discord bot when its token is set; the webhook transport when a destination uses it.

    discord.py is imported only here, so a run without Discord never loads it.
    """
    settings = config.settings.discord
    started: list[Supervisor] = []
    token = env.get(settings.token_env, "").strip()
    if not token:
        log.info("discord bot not started: %s is not set", settings.token_env)
    else:
        redact_secrets([token])
        from bots.discord_bot import DiscordBot

        shared = service.coordination.shared  # several workers: each runs its share of shards
        bot = DiscordBot(
            token,
            settings,
            service.subscriptions,
            service.send_digest,
            feedback=service.feedback,  # story cards' buttons (docs/cards.md)
            shard_ids=() if shared else None,  # () until the shard leases say which
        )
        service.coordination.add_shards("discord", settings.shard_count or 1, bot)
        started.append(await _supervised("discord bot", bot, service, once=once))
    hooks = [d.target for d in config.destinations if d.kind == "discord_webhook"]
    if hooks:
        from bots.discord_webhook import DiscordWebhookTransport, webhook_secrets

        redact_secrets([secret for name in hooks for secret in webhook_secrets(env.get(name, ""))])
        transport = DiscordWebhookTransport(settings, env)
        started.append(await _supervised("discord webhook", transport, service, once=once))
    return started


async def _supervised(name: str, bot: Client, service: Service, *, once: bool) -> Supervisor:
    """A bot that cannot start (API unreachable, token refused) is retried with backoff while
    the service runs, and its messages wait in the outbox; `--once` tries once (one line)."""
    from policywire.ops.supervise import Supervisor

    supervisor = Supervisor(
        name,
        bot,
        on_up=service.add_transport,
        on_down=service.remove_transport,
        record=service.store.set_platform_state,
        clock=service.clock,
    )
    if once:
        await supervisor.start_once()
    else:
        supervisor.run()
    return supervisor


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C): the service then stops cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


if __name__ == "__main__":
    sys.exit(main())
