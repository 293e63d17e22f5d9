"""policywire's composition root and command line.

`python scheduler.py run` is the same as `policywire run`. This module wires config, store,
bots and the one APScheduler together; the work itself lives in `policywire/` and `bots/`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from policywire.config import Config, ConfigError, default_config_path, load_config
from policywire.i18n import SUPPORTED_LANGUAGES

log = logging.getLogger("policywire")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


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
    parser.set_defaults(config=None, verbose=False)

    commands.add_parser("check", parents=[common], help="validate the configuration and exit")

    preview = commands.add_parser(
        "preview", parents=[common], help="fetch feeds now and print the digests that would be sent"
    )
    preview.add_argument("--topic", help="one digest for this topic id only")
    preview.add_argument(
        "--language", choices=SUPPORTED_LANGUAGES, help="digest language (default: the config's)"
    )
    preview.add_argument("--json", action="store_true", help="machine-readable output")

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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.verbose)
    config = _load(args.config)
    if config is None:
        return EXIT_ERROR
    if args.command == "check":
        return _check(config)
    if args.command == "preview":
        return _preview(config, args)
    if args.command == "run":
        return asyncio.run(serve(config, os.environ, once=args.once))
    raise AssertionError(f"unhandled command {args.command}")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Keep the libraries' per-request chatter out of the one-line-per-event log.
    for noisy in ("httpx", "aiohttp.access", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _load(path: Path | None) -> Config | None:
    try:
        return load_config(path or default_config_path())
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return None


def _check(config: Config) -> int:
    print(
        f"{config.path.name}: OK — {len(config.feeds)} feeds, {len(config.topics)} topics, "
        f"{len(config.destinations)} destinations"
    )
    return EXIT_OK


def _preview(config: Config, args: argparse.Namespace) -> int:
    from policywire.preview import preview_json, run_preview
    from policywire.render import render_console, view_digest

    if args.topic and args.topic not in config.topics:
        known = ", ".join(sorted(config.topics)) or "none"
        print(f"unknown topic {args.topic!r} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    result = asyncio.run(run_preview(config, topic=args.topic, language=args.language))
    if args.json:
        print(json.dumps(preview_json(result), ensure_ascii=False, indent=2))
    else:
        for digest in result.digests:
            print(render_console(view_digest(digest)))
    for feed, error in result.errors:
        print(f"feed error: {feed}: {error}", file=sys.stderr)
    return EXIT_OK


async def serve(config: Config, env: Mapping[str, str], *, once: bool = False) -> int:
    """Run the service until SIGTERM/SIGINT (or one round with `once`); returns the exit code."""
    from bots.console import ConsoleTransport
    from policywire.service import Service
    from policywire.store import Store, StoreError

    try:
        store = await Store.open(config.settings.database)
    except StoreError as exc:
        log.error("%s", exc)
        return EXIT_ERROR
    service = Service(config, store, {"console": ConsoleTransport()})
    bots = await _start_bots(config, env, service)
    try:
        if once:
            sent = await service.run_once()
            log.info("one round done: %d messages sent", sent)
        else:
            await service.start()
            await _wait_for_stop_signal()
            log.info("stopping")
    finally:
        for bot in bots:
            await bot.stop()
        await service.stop()
        await store.close()
    return EXIT_OK


async def _start_bots(config: Config, env: Mapping[str, str], service: Any) -> list[Any]:
    """Start each chat bot whose token is set; say in one line which did not start."""
    from policywire.logsafe import redact_secrets

    bots: list[Any] = []
    telegram = config.settings.telegram
    token = env.get(telegram.token_env, "").strip()
    if not token:
        log.info("telegram bot not started: %s is not set", telegram.token_env)
        return bots
    redact_secrets([token])
    from bots.telegram import TelegramBot

    bot = TelegramBot(token, telegram.api_base_url, service.subscriptions, service.send_digest)
    await bot.start()
    service.add_transport(bot)
    bots.append(bot)
    return bots


async def _wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


if __name__ == "__main__":
    sys.exit(main())
