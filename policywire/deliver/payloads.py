"""A digest as the outbox stores it: one JSON payload per platform call, per platform.

Every platform renders from the same view (`render.view_digest`); the outbox keeps the result,
so a restart sends exactly what was rendered, and the bots never re-format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policywire.deliver.discord_embeds import render_discord
from policywire.deliver.render import render_console, view_digest
from policywire.deliver.telegram_html import render_telegram
from policywire.models import Digest

Renderer = Callable[[Digest], list[dict[str, Any]]]


def _console_payloads(digest: Digest) -> list[dict[str, Any]]:
    return [{"text": render_console(view_digest(digest))}]


def _telegram_payloads(digest: Digest) -> list[dict[str, Any]]:
    return [{"html": text} for text in render_telegram(view_digest(digest))]


def _discord_payloads(digest: Digest) -> list[dict[str, Any]]:
    return render_discord(view_digest(digest))


RENDERERS: dict[str, Renderer] = {
    "console": _console_payloads,
    "telegram": _telegram_payloads,
    "discord": _discord_payloads,
    "discord_webhook": _discord_payloads,
}
