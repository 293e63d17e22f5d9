"""A local fake of Discord (REST API v10 + gateway) for tests, served on 127.0.0.1.

The fake speaks just enough of the real protocol for an unmodified ``discord.Client`` to
log in, connect, receive guilds, sync application commands, answer interactions and send
messages. Every payload the client sends is recorded so tests can assert on it, and any
route can be made to fail the way Discord fails (429 with real rate-limit headers, 403,
404, 5xx).

Pointing discord.py at the fake needs no change to discord.py's globals: discord.py always
talks to ``https://discord.com/api/v10`` and ``wss://gateway.discord.gg``, so we hand it an
aiohttp connector (``Client(connector=...)``, a documented parameter) whose resolver maps
those host names to the fake's TLS port and whose SSL context trusts the fake's
throw-away certificate. Any other host name fails to resolve, so a test using the
connector cannot reach the real network by accident::

    async with FakeDiscord() as dc:
        dc.add_guild(GUILD, "Policy Lab", channels=[FakeChannel(CHANNEL, "news")])
        client = discord.Client(intents=..., connector=dc.connector(), guild_ready_timeout=0)
        await client.login(dc.token)
        task = asyncio.create_task(client.connect())
        await client.wait_until_ready()

The same routes are also served over plain HTTP (``dc.api_base_url``, ``dc.gateway_url``)
for raw aiohttp tests. TLS needs the ``openssl`` command line tool to make the certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import secrets
import socket
import ssl
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

API_PREFIX = "/api/v10"

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
# What @everyone may do in a freshly created guild, roughly.
PLAIN_MEMBER_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS
)

EPHEMERAL = 1 << 6  # message flag

# Host names discord.py uses; the connector resolves only these.
DISCORD_HOSTS = ("discord.com", "gateway.discord.gg", "discordapp.com", "cdn.discordapp.com")

# Discord's documented message limits.
MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_FIELDS = 25
EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}

ERROR_MESSAGES = {
    0: "General error",
    10003: "Unknown Channel",
    10008: "Unknown Message",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50005: "Cannot edit a message authored by another user",
    50006: "Cannot send an empty message",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
}
DEFAULT_CODES = {400: 50035, 401: 0, 403: 50013, 404: 10003}

_snowflakes = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    """A fresh, unique, realistic-looking (19 digit) Discord id."""
    return next(_snowflakes)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(payload: Any, status: int = 200) -> web.Response:
    # discord.py compares Content-Type to exactly "application/json"; aiohttp's
    # json_response would append "; charset=utf-8" and make it parse the body as text.
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def _error(status: int, code: int, errors: Mapping[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"message": ERROR_MESSAGES.get(code, "Error"), "code": code}
    if errors is not None:
        body["errors"] = errors
    return _json_response(body, status)


class DiscordError(Exception):
    """Raised inside handlers to produce a Discord-shaped error response."""

    def __init__(self, status: int, code: int, errors: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.errors = errors


# --------------------------------------------------------------------------- scripted world


@dataclass(frozen=True)
class FakeMember:
    """A guild member. ``permissions`` become a role of their own in each guild."""

    user_id: int
    name: str
    permissions: int = 0
    bot: bool = False
    locale: str = "en-US"  # the member's Discord language: their interactions' `locale`

    def user_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.user_id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class Overwrite:
    """A channel permission overwrite; ``kind`` 0 targets a role, 1 a member."""

    target_id: int
    allow: int = 0
    deny: int = 0
    kind: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.target_id),
            "type": self.kind,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(frozen=True)
class FakeChannel:
    """A guild text channel (type 0)."""

    channel_id: int
    name: str
    overwrites: tuple[Overwrite, ...] = ()
    position: int = 0


@dataclass
class FakeGuild:
    guild_id: int
    name: str
    owner_id: int
    channels: list[FakeChannel]
    members: list[FakeMember]
    everyone_permissions: int = PLAIN_MEMBER_PERMISSIONS
    locale: str = "en-US"  # the server's preferred locale: interactions' `guild_locale`

    def role_id_for(self, member: FakeMember) -> int:
        # One role per member, derived from ids so it is stable across payloads.
        return self.guild_id + member.user_id % 1_000_000 + 1

    def channel(self, channel_id: int) -> FakeChannel | None:
        return next((c for c in self.channels if c.channel_id == channel_id), None)

    def permissions_in(self, member: FakeMember, channel: FakeChannel) -> int:
        """Discord's permission algorithm: base permissions, then channel overwrites."""
        if member.user_id == self.owner_id:
            return ALL_PERMISSIONS
        base = self.everyone_permissions | member.permissions
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        by_target = {o.target_id: o for o in channel.overwrites}
        for target in (self.guild_id, self.role_id_for(member), member.user_id):
            overwrite = by_target.get(target)
            if overwrite is not None:
                base = (base & ~overwrite.deny) | overwrite.allow
        return base

    def role_payloads(self) -> list[dict[str, Any]]:
        everyone = _role(self.guild_id, "@everyone", self.everyone_permissions, 0)
        own = [
            _role(self.role_id_for(m), f"{m.name} role", m.permissions, i + 1, managed=m.bot)
            for i, m in enumerate(self.members)
        ]
        return [everyone, *own]

    def member_payload(self, member: FakeMember) -> dict[str, Any]:
        return {
            "user": member.user_payload(),
            "roles": [str(self.role_id_for(member))],
            "nick": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
        }

    def channel_payload(self, channel: FakeChannel) -> dict[str, Any]:
        return {
            "id": str(channel.channel_id),
            "type": 0,
            "guild_id": str(self.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [o.payload() for o in channel.overwrites],
            "topic": None,
            "nsfw": False,
            "parent_id": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
        }

    def create_payload(self) -> dict[str, Any]:
        """The GUILD_CREATE event data."""
        return {
            "id": str(self.guild_id),
            "name": self.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": len(self.members),
            "joined_at": "2024-01-01T00:00:00+00:00",
            "roles": self.role_payloads(),
            "channels": [self.channel_payload(c) for c in self.channels],
            "members": [self.member_payload(m) for m in self.members],
            "threads": [],
            "emojis": [],
            "stickers": [],
            "features": [],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "preferred_locale": self.locale,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "system_channel_id": None,
            "afk_channel_id": None,
            "description": None,
        }


def _role(
    role_id: int, name: str, permissions: int, position: int, *, managed: bool = False
) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "hoist": False,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


# --------------------------------------------------------------------------- recordings


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # relative to /api/v10 for API routes
    route: str  # aiohttp route name, "" when nothing matched
    query: dict[str, str]
    body: Any


@dataclass(frozen=True)
class RecordedMessage:
    """A message that Discord accepted, with the payload exactly as the client sent it."""

    channel_id: int
    payload: dict[str, Any]
    message: dict[str, Any]  # what the fake answered
    webhook_id: int | None = None
    files: tuple[str, ...] = ()  # names of uploaded attachments


@dataclass(frozen=True)
class RecordedEdit:
    """A message edit Discord accepted (bot PATCH or webhook PATCH), payload as sent."""

    channel_id: int
    message_id: int
    payload: dict[str, Any]
    webhook_id: int | None = None


@dataclass(frozen=True)
class RecordedCallback:
    """An interaction callback (POST /interactions/{id}/{token}/callback)."""

    interaction_id: int
    token: str
    type: int
    data: dict[str, Any]

    @property
    def flags(self) -> int:
        return int(self.data.get("flags", 0))

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


@dataclass
class _Interaction:
    id: int
    token: str
    channel_id: int
    callback: RecordedCallback | None = None
    message_id: str | None = None  # a component interaction: the message it was pressed on
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Fault:
    key: str
    status: int
    retry_after: float
    times: int
    code: int | None
    global_: bool
    hang: float = 0.0


@dataclass(frozen=True)
class FakeWebhook:
    webhook_id: int
    token: str
    channel_id: int

    @property
    def url(self) -> str:
        # The real URL shape: discord.Webhook.from_url only accepts discord.com URLs, and
        # the fake's connector sends them to the fake.
        return f"https://discord.com/api/webhooks/{self.webhook_id}/{self.token}"


# --------------------------------------------------------------------------- validation


def _too_long(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def _embed_errors(embed: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    for key, limit in EMBED_TEXT_LIMITS.items():
        if len(embed.get(key) or "") > limit:
            errors[key] = _too_long(limit)
    fields = embed.get("fields") or []
    if len(fields) > MAX_FIELDS:
        errors["fields"] = _too_long(MAX_FIELDS)
    field_errors: dict[str, Any] = {}
    for index, item in enumerate(fields):
        problems = {
            key: _too_long(limit)
            for key, limit in (("name", 256), ("value", 1024))
            if len(item.get(key) or "") > limit
        }
        if problems:
            field_errors[str(index)] = problems
    if field_errors:
        errors.setdefault("fields", {}).update(field_errors)
    for parent, limit in (("footer", 2048), ("author", 256)):
        key = "text" if parent == "footer" else "name"
        if len((embed.get(parent) or {}).get(key) or "") > limit:
            errors[parent] = {key: _too_long(limit)}
    return errors


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 limit shared by all embeds of a message."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    for item in embed.get("fields") or []:
        total += len(item.get("name") or "") + len(item.get("value") or "")
    return total


def validate_message(payload: Mapping[str, Any], *, has_files: bool = False) -> None:
    """Raise DiscordError the way Discord rejects a message body."""
    errors: dict[str, Any] = {}
    content = payload.get("content") or ""
    embeds = payload.get("embeds") or []
    if len(content) > MAX_CONTENT:
        errors["content"] = _too_long(MAX_CONTENT)
    if len(embeds) > MAX_EMBEDS:
        errors["embeds"] = _too_long(MAX_EMBEDS)
    for index, embed in enumerate(embeds):
        problems = _embed_errors(embed)
        if problems:
            errors.setdefault("embeds", {})[str(index)] = problems
    if sum(embed_length(e) for e in embeds) > MAX_EMBED_TOTAL:
        errors.setdefault("embeds", {}).setdefault("_errors", []).append(
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": "Embed size exceeds maximum size of 6000",
            }
        )
    if errors:
        raise DiscordError(400, 50035, errors)
    substance = ("embeds", "components", "sticker_ids", "poll", "attachments")
    if not content and not has_files and not any(payload.get(k) for k in substance):
        raise DiscordError(400, 50006)


_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def validate_commands(commands: Iterable[Mapping[str, Any]]) -> None:
    """The checks Discord applies to a bulk command overwrite that bots most often trip."""
    errors: dict[str, Any] = {}
    for index, command in enumerate(commands):
        problems: dict[str, Any] = {}
        name = command.get("name") or ""
        if not _COMMAND_NAME.match(name) or (command.get("type", 1) == 1 and name != name.lower()):
            problems["name"] = {
                "_errors": [
                    {
                        "code": "APPLICATION_COMMAND_INVALID_NAME",
                        "message": "Command name is invalid",
                    }
                ]
            }
        description = command.get("description") or ""
        if command.get("type", 1) == 1 and not 1 <= len(description) <= 100:
            problems["description"] = _too_long(100)
        problems |= _localization_problems(command)
        if problems:
            errors[str(index)] = problems
    if errors:
        raise DiscordError(400, 50035, errors)


def _localization_problems(command: Mapping[str, Any]) -> dict[str, Any]:
    """Localized names follow the name rules (lowercase for slash commands and options),
    localized descriptions the length limit, on the command and on each of its options."""
    problems: dict[str, Any] = {}
    options = enumerate(command.get("options") or [])
    invalid = {"code": "APPLICATION_COMMAND_INVALID_NAME", "message": "Command name is invalid"}
    for prefix, part in [("", command), *((f"options.{i}.", o) for i, o in options)]:
        for locale, name in (part.get("name_localizations") or {}).items():
            if not _COMMAND_NAME.match(name) or name != name.lower():
                problems[f"{prefix}name_localizations.{locale}"] = {"_errors": [invalid]}
        for locale, text in (part.get("description_localizations") or {}).items():
            if not 1 <= len(text) <= 100:
                problems[f"{prefix}description_localizations.{locale}"] = _too_long(100)
    return problems


# --------------------------------------------------------------------------- networking


class LoopbackResolver(AbstractResolver):
    """Resolves Discord's host names to the fake and refuses every other name."""

    def __init__(self, port: int, hosts: Iterable[str] = DISCORD_HOSTS) -> None:
        self._port = port
        self._hosts = frozenset(hosts)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self._hosts:
            raise OSError(f"FakeDiscord refuses to resolve {host!r}: tests stay on loopback")
        return [
            ResolveResult(
                hostname=host,
                host="127.0.0.1",
                port=self._port,
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


async def _make_certificate(directory: Path) -> tuple[Path, Path]:
    """A throw-away self-signed certificate valid for Discord's host names."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    names = ",".join(f"DNS:{h}" for h in DISCORD_HOSTS)
    process = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "2", "-subj", "/CN=discord.com",
        "-addext", f"subjectAltName={names}",
        "-keyout", str(key), "-out", str(cert),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"openssl failed: {stderr.decode(errors='replace')}")
    return cert, key


def _listening_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


# --------------------------------------------------------------------------- gateway


class _GatewaySession:
    """One websocket connection from a client."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.session_id = secrets.token_hex(16)
        self.sequence = 0
        self.identified = False
        self.shard: tuple[int, int] | None = None  # (shard id, shard count) from IDENTIFY
        # Only zlib-stream is implemented; without it we send plain text frames, which
        # discord.py parses as JSON whatever compression it asked for.
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._send_lock = asyncio.Lock()

    def serves(self, guild_id: int | None) -> bool:
        """Whether this connection gets the guild's events: Discord's shard formula; a DM's
        (no guild) go to shard 0."""
        if self.shard is None:
            return True
        shard, count = self.shard
        return shard == (0 if guild_id is None else (guild_id >> 22) % count)

    async def send(self, op: int, data: Any, event: str | None = None) -> None:
        frame: dict[str, Any] = {"op": op, "d": data, "s": None, "t": event}
        # The lock keeps compression order equal to send order across tasks.
        async with self._send_lock:
            if op == 0:
                self.sequence += 1
                frame["s"] = self.sequence
            text = json.dumps(frame)
            if self._zlib is None:
                await self.ws.send_str(text)
            else:
                chunk = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(chunk)

    async def dispatch(self, event: str, data: Any) -> None:
        await self.send(0, data, event)


# --------------------------------------------------------------------------- the fake


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FakeDiscord:
    """A scripted Discord on loopback. Use as ``async with FakeDiscord() as dc:``."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_id: int = 1_200_000_000_000_000_001,
        bot_name: str = "policywire",
        bot_permissions: int = PLAIN_MEMBER_PERMISSIONS,
        heartbeat_interval_ms: int = 41_250,
        tls: bool = True,
        wait_timeout: float = 5.0,
    ) -> None:
        self.token = token
        self.bot = FakeMember(bot_id, bot_name, bot_permissions, bot=True)
        self.application_id = bot_id
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._tls = tls
        self.wait_timeout = wait_timeout
        self.guilds: dict[int, FakeGuild] = {}
        self.webhooks: dict[int, FakeWebhook] = {}
        # Synced commands by scope: None for global, else the guild id.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self.identify_payloads: list[dict[str, Any]] = []
        # Query strings of gateway connections (v, encoding, compress), oldest first.
        self.gateway_queries: list[dict[str, str]] = []
        self.heartbeats = 0
        self.resumes = 0
        self._messages: list[RecordedMessage] = []
        # Messages as they stand now (edits applied), by id; deleted ones are dropped.
        self._current: dict[str, dict[str, Any]] = {}
        self._edits: list[RecordedEdit] = []
        self._interactions: dict[str, _Interaction] = {}
        self._faults: list[_Fault] = []
        self._closing = asyncio.Event()
        self._sessions: list[_GatewaySession] = []
        self.recommended_shards = 1  # what GET /gateway/bot advises
        self._changed = asyncio.Condition()
        self._ready = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._client_ssl: ssl.SSLContext | None = None
        self.port = 0
        self.tls_port = 0

    # ---- lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        self._runner = web.AppRunner(self._build_app(), handle_signals=False)
        await self._runner.setup()
        plain = _listening_socket()
        self.port = plain.getsockname()[1]
        await web.SockSite(self._runner, plain).start()
        if self._tls:
            await self._start_tls_site(self._runner)

    async def _start_tls_site(self, runner: web.AppRunner) -> None:
        self._tempdir = tempfile.TemporaryDirectory(prefix="fake-discord-")
        cert, key = await _make_certificate(Path(self._tempdir.name))
        server_ssl = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_ssl.load_cert_chain(cert, key)
        # A real verifying client context: hostname checks stay on, only the CA differs.
        self._client_ssl = ssl.create_default_context(cafile=str(cert))
        sock = _listening_socket()
        self.tls_port = sock.getsockname()[1]
        await web.SockSite(runner, sock, ssl_context=server_ssl).start()

    async def close(self) -> None:
        self._closing.set()
        for session in list(self._sessions):
            with contextlib.suppress(ConnectionError):
                await session.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    # ---- how clients reach the fake

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def connector(self) -> aiohttp.TCPConnector:
        """A connector that sends discord.com / gateway.discord.gg traffic to this fake.

        Pass it as ``discord.Client(connector=...)`` or to an ``aiohttp.ClientSession`` used
        with ``discord.Webhook.from_url``. The session that receives it owns and closes it.
        """
        if self._client_ssl is None:
            raise RuntimeError("FakeDiscord(tls=False) has no connector; use api_base_url")
        return aiohttp.TCPConnector(
            resolver=LoopbackResolver(self.tls_port), ssl=self._client_ssl, limit=0
        )

    # ---- scripting the world

    @staticmethod
    def member(user_id: int, name: str, permissions: int = 0) -> FakeMember:
        """A human member; ``permissions`` are granted on top of @everyone."""
        return FakeMember(user_id, name, permissions)

    def add_guild(
        self,
        guild_id: int,
        name: str,
        *,
        channels: Iterable[FakeChannel] = (),
        members: Iterable[FakeMember] = (),
        owner_id: int | None = None,
        everyone_permissions: int = PLAIN_MEMBER_PERMISSIONS,
        locale: str = "en-US",
    ) -> FakeGuild:
        """Script a guild the bot is in. Add guilds before the client connects."""
        people = [*members, self.bot]
        guild = FakeGuild(
            guild_id=guild_id,
            name=name,
            owner_id=owner_id if owner_id is not None else snowflake(),
            channels=list(channels),
            members=people,
            everyone_permissions=everyone_permissions,
            locale=locale,
        )
        self.guilds[guild_id] = guild
        return guild

    def add_webhook(self, channel_id: int) -> FakeWebhook:
        webhook = FakeWebhook(snowflake(), secrets.token_urlsafe(48), channel_id)
        self.webhooks[webhook.webhook_id] = webhook
        return webhook

    def fail_next(
        self,
        route: str,
        status: int = 429,
        retry_after: float = 1.0,
        times: int = 1,
        code: int | None = None,
        global_: bool = False,
        hang: float = 0.0,
    ) -> None:
        """Make the next ``times`` requests to ``route`` fail with ``status``; ``hang`` holds
        each for that many seconds first (a request on its way when its client is killed).

        ``route`` is a route name (``"create_message"``), a method and template
        (``"POST /channels/{channel_id}/messages"``) or a method and concrete path
        (``"POST /channels/123/messages"``); paths are relative to /api/v10.
        """
        if route not in self.route_names() and " " not in route:
            raise ValueError(f"unknown route {route!r}; known: {sorted(self.route_names())}")
        self._faults.append(_Fault(route, status, retry_after, times, code, global_, hang))

    # ---- reading what happened

    def messages(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Payloads of accepted messages (bot and webhook), oldest first."""
        return [m.payload for m in self.recorded_messages(channel_id)]

    def recorded_messages(self, channel_id: int | None = None) -> list[RecordedMessage]:
        return [m for m in self._messages if channel_id in (None, m.channel_id)]

    def message(self, message_id: int | str) -> dict[str, Any]:
        """A posted message as it stands now, its edits applied."""
        return self._current[str(message_id)]

    def edits(self, channel_id: int | None = None) -> list[RecordedEdit]:
        """Accepted message edits (bot and webhook), oldest first."""
        return [e for e in self._edits if channel_id in (None, e.channel_id)]

    def delete_message(self, message_id: int | str) -> None:
        """A member deleted the message: editing it answers 404 Unknown Message."""
        self._current.pop(str(message_id), None)

    def followups(self, interaction_id: int) -> list[dict[str, Any]]:
        return list(self._interaction_by_id(interaction_id).followups)

    def original_edits(self, interaction_id: int) -> list[dict[str, Any]]:
        return list(self._interaction_by_id(interaction_id).edits)

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    # Every wait_* gives up after self.wait_timeout so a broken bot fails the test instead
    # of hanging it; wrap a call in asyncio.timeout() for a shorter deadline.

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; it is re-checked whenever the fake records."""
        async with asyncio.timeout(self.wait_timeout), self._changed:
            await self._changed.wait_for(predicate)

    async def wait_for_messages(
        self, n: int, channel_id: int | None = None
    ) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.recorded_messages(channel_id)) >= n)
        return self.messages(channel_id)

    async def wait_until_ready(self) -> None:
        """Wait until a client identified and got READY plus its GUILD_CREATEs."""
        async with asyncio.timeout(self.wait_timeout):
            await self._ready.wait()

    # ---- gateway scripting

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a DISPATCH event to the most recent identified client whose shard has the
        event's guild (any client when the event names none)."""
        guild = data.get("guild_id") if isinstance(data, Mapping) else None
        await self._session(None if guild is None else int(guild)).dispatch(event, data)

    def live_shards(self) -> list[tuple[int, int] | None]:
        """The shard (id, count) of each identified, open gateway connection."""
        return [s.shard for s in self._sessions if s.identified and not s.ws.closed]

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py then reconnects and RESUMEs."""
        await self._session().send(7, None)

    async def dispatch_interaction(
        self,
        guild_id: int,
        channel_id: int,
        member: FakeMember,
        command_name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
    ) -> RecordedCallback:
        """Send a slash-command INTERACTION_CREATE and wait for the bot's callback."""
        return await self._interact(2, guild_id, channel_id, member, command_name, options, None)

    async def dispatch_autocomplete(
        self,
        guild_id: int,
        channel_id: int,
        member: FakeMember,
        command_name: str,
        options: Mapping[str, Any] | list[dict[str, Any]],
        focused: str,
    ) -> RecordedCallback:
        """Send an autocomplete interaction (type 4); the callback should be type 8."""
        return await self._interact(4, guild_id, channel_id, member, command_name, options, focused)

    async def dispatch_component(
        self,
        guild_id: int,
        channel_id: int,
        member: FakeMember,
        custom_id: str,
        message: Mapping[str, Any],
    ) -> RecordedCallback:
        """A button press (a type 3 interaction) on ``message``; waits for the bot's callback."""
        interaction = _Interaction(
            snowflake(), secrets.token_urlsafe(60), channel_id, message_id=str(message["id"])
        )
        self._interactions[interaction.token] = interaction
        payload = self._interaction_payload(3, interaction, guild_id, member, "", None, None)
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = dict(message)
        await self.dispatch("INTERACTION_CREATE", payload)
        await self.wait_for(lambda: interaction.callback is not None)
        assert interaction.callback is not None
        return interaction.callback

    def interaction_message(self, interaction_id: int) -> dict[str, Any]:
        """The message an interaction's callback created (an ephemeral answer, say)."""
        original = self._interaction_by_id(interaction_id).original
        assert original is not None, "the callback created no message"
        return original

    async def _interact(
        self,
        kind: int,
        guild_id: int,
        channel_id: int,
        member: FakeMember,
        command_name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        focused: str | None,
    ) -> RecordedCallback:
        interaction = _Interaction(snowflake(), secrets.token_urlsafe(60), channel_id)
        self._interactions[interaction.token] = interaction
        payload = self._interaction_payload(
            kind, interaction, guild_id, member, command_name, options, focused
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        await self.wait_for(lambda: interaction.callback is not None)
        assert interaction.callback is not None
        return interaction.callback

    def _interaction_payload(
        self,
        kind: int,
        interaction: _Interaction,
        guild_id: int,
        member: FakeMember,
        command_name: str,
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        focused: str | None,
    ) -> dict[str, Any]:
        guild = self.guilds[guild_id]
        channel = guild.channel(interaction.channel_id)
        if channel is None:
            raise KeyError(f"channel {interaction.channel_id} is not in guild {guild_id}")
        command, scope = self._find_command(command_name, guild_id) if kind != 3 else ({}, None)
        data: dict[str, Any] = {
            "id": command.get("id", str(snowflake())),
            "name": command_name,
            "type": 1,
            "options": _typed_options(options, command, focused),
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        member_payload = guild.member_payload(member)
        member_payload["permissions"] = str(guild.permissions_in(member, channel))
        return {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": kind,
            "token": interaction.token,
            "version": 1,
            "data": data,
            "guild_id": str(guild_id),
            "guild": {"id": str(guild_id), "locale": guild.locale, "features": []},
            "channel_id": str(channel.channel_id),
            "channel": guild.channel_payload(channel),
            "member": member_payload,
            "app_permissions": str(guild.permissions_in(self.bot, channel)),
            "locale": member.locale,
            "guild_locale": guild.locale,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _find_command(self, name: str, guild_id: int) -> tuple[dict[str, Any], int | None]:
        # Guild commands shadow global ones, as in Discord's client.
        for scope in (guild_id, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name:
                    return command, scope
        return {}, None

    def _session(self, guild_id: int | None = None) -> _GatewaySession:
        live = [s for s in self._sessions if s.identified and not s.ws.closed]
        if guild_id is not None:
            live = [s for s in live if s.serves(guild_id)]
        if not live:
            raise RuntimeError("no client is connected to the fake gateway")
        return live[-1]

    def _interaction_by_id(self, interaction_id: int) -> _Interaction:
        return next(i for i in self._interactions.values() if i.id == interaction_id)

    # ---- app and middleware

    def _routes(self) -> list[tuple[str, str, Handler, str]]:
        """(method, path under /api/v10, handler, route name) for every REST route."""
        return [
            ("GET", "/gateway", self._get_gateway, "get_gateway"),
            ("GET", "/gateway/bot", self._get_gateway_bot, "get_gateway_bot"),
            ("GET", "/users/@me", self._get_me, "get_me"),
            ("GET", "/oauth2/applications/@me", self._application_info, "application_info"),
            ("PUT", "/applications/{app_id}/commands", self._put_commands, "put_global_commands"),
            ("GET", "/applications/{app_id}/commands", self._get_commands, "get_global_commands"),
            ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands", self._put_commands,
             "put_guild_commands"),
            ("GET", "/applications/{app_id}/guilds/{guild_id}/commands", self._get_commands,
             "get_guild_commands"),
            ("GET", "/channels/{channel_id}", self._get_channel, "get_channel"),
            ("POST", "/channels/{channel_id}/messages", self._create_message, "create_message"),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message,
             "edit_message"),
            ("POST", "/webhooks/{webhook_id}/{token}", self._execute_webhook, "execute_webhook"),
            ("GET", "/webhooks/{webhook_id}/{token}/messages/{message_id}",
             self._get_webhook_message, "get_webhook_message"),
            ("PATCH", "/webhooks/{webhook_id}/{token}/messages/{message_id}",
             self._edit_webhook_message, "edit_webhook_message"),
            ("POST", "/interactions/{interaction_id}/{token}/callback",
             self._interaction_callback, "interaction_callback"),
        ]  # fmt: skip

    def route_names(self) -> set[str]:
        return {name for *_, name in self._routes()}

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        for method, path, handler, name in self._routes():
            app.router.add_route(method, API_PREFIX + path, handler, name=name)
        # Gateway at "/" for wss://gateway.discord.gg and at "/gateway" for plain URLs.
        app.router.add_get("/", self._gateway, name="gateway_root")
        app.router.add_get("/gateway", self._gateway, name="gateway")
        return app

    _UNAUTHENTICATED = frozenset(
        {"execute_webhook", "get_webhook_message", "edit_webhook_message", "interaction_callback"}
    )

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in ("/", "/gateway"):
            return await handler(request)
        recorded = await self._record_request(request)
        fault = self._take_fault(request, recorded)
        if fault is not None:
            await self._notify()  # the request was seen, even if it hangs now
            with contextlib.suppress(TimeoutError):  # a hang ends early when the fake closes
                await asyncio.wait_for(self._closing.wait(), fault.hang)
            return _fault_response(fault, recorded.route)
        try:
            self._check_auth(request, recorded.route)
            response = await handler(request)
        except DiscordError as exc:
            response = _error(exc.status, exc.code, exc.errors)
        except web.HTTPNotFound:
            self.unhandled.append(recorded)
            response = _json_response({"message": "404: Not Found", "code": 0}, 404)
        except web.HTTPMethodNotAllowed:
            self.unhandled.append(recorded)
            response = _json_response({"message": "405: Method Not Allowed", "code": 0}, 405)
        _add_rate_limit_headers(response, recorded.route, remaining=4, reset_after=1.0)
        await self._notify()
        return response

    async def _record_request(self, request: web.Request) -> RecordedRequest:
        route = request.match_info.route.name or ""
        body: Any = None
        if request.content_type == "application/json":
            body = await request.json()
        path = request.path.removeprefix(API_PREFIX)
        recorded = RecordedRequest(request.method, path, route, dict(request.query), body)
        self.requests.append(recorded)
        return recorded

    def _take_fault(self, request: web.Request, recorded: RecordedRequest) -> _Fault | None:
        resource = request.match_info.route.resource
        template = resource.canonical.removeprefix(API_PREFIX) if resource else recorded.path
        keys = {recorded.route, f"{request.method} {template}", f"{request.method} {recorded.path}"}
        for fault in self._faults:
            if fault.key in keys and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _check_auth(self, request: web.Request, route: str) -> None:
        if route in self._UNAUTHENTICATED or not route:
            return
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # ---- REST handlers

    def _gateway_base(self, request: web.Request) -> str:
        # Answer with the address the client used, so TLS clients stay on TLS.
        if request.secure:
            return "wss://gateway.discord.gg"
        return self.gateway_url

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json_response({"url": self._gateway_base(request)})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        return _json_response(
            {
                "url": self._gateway_base(request),
                "shards": self.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json_response(self.bot.user_payload() | {"verified": True, "flags": 0})

    async def _application_info(self, request: web.Request) -> web.Response:
        owner = FakeMember(1_200_000_000_000_000_099, "owner")
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot.name,
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": owner.user_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "bot": self.bot.user_payload(),
            }
        )

    async def _put_commands(self, request: web.Request) -> web.Response:
        commands = await request.json()
        validate_commands(commands)
        guild = request.match_info.get("guild_id")
        scope = int(guild) if guild else None
        known = {(c["name"], c.get("type", 1)): c["id"] for c in self.commands.get(scope, [])}
        stored = [self._stored_command(c, scope, known) for c in commands]
        self.commands[scope] = stored
        return _json_response(stored)

    def _stored_command(
        self, command: Mapping[str, Any], scope: int | None, known: Mapping[tuple[str, int], str]
    ) -> dict[str, Any]:
        kind = command.get("type", 1)
        # Overwriting keeps the id of a command with the same name and type, like Discord.
        stored = {
            "id": known.get((command["name"], kind), str(snowflake())),
            "application_id": str(self.application_id),
            "version": str(snowflake()),
            "type": kind,
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
        }
        stored.update(command)
        if scope is not None:
            stored["guild_id"] = str(scope)
        return stored

    async def _get_commands(self, request: web.Request) -> web.Response:
        guild = request.match_info.get("guild_id")
        return _json_response(self.commands.get(int(guild) if guild else None, []))

    async def _get_channel(self, request: web.Request) -> web.Response:
        guild, channel = self._locate_channel(int(request.match_info["channel_id"]))
        return _json_response(guild.channel_payload(channel))

    def _locate_channel(self, channel_id: int) -> tuple[FakeGuild, FakeChannel]:
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        raise DiscordError(404, 10003)

    async def _create_message(self, request: web.Request) -> web.Response:
        guild, channel = self._locate_channel(int(request.match_info["channel_id"]))
        allowed = guild.permissions_in(self.bot, channel)
        if not allowed & VIEW_CHANNEL:
            raise DiscordError(403, 50001)
        if not allowed & SEND_MESSAGES:
            raise DiscordError(403, 50013)
        payload, files = await _message_body(request)
        validate_message(payload, has_files=bool(files))
        message = self._message(
            channel.channel_id, guild.guild_id, payload, self.bot.user_payload(),
            attachments=[_attachment(name) for name in files],
        )  # fmt: skip
        record = RecordedMessage(channel.channel_id, payload, message, files=tuple(files))
        self._messages.append(record)
        self._current[message["id"]] = message
        return _json_response(message)

    async def _edit_message(self, request: web.Request) -> web.Response:
        guild, channel = self._locate_channel(int(request.match_info["channel_id"]))
        if not guild.permissions_in(self.bot, channel) & VIEW_CHANNEL:
            raise DiscordError(403, 50001)
        current = self._current.get(request.match_info["message_id"])
        if current is None or current["channel_id"] != str(channel.channel_id):
            raise DiscordError(404, 10008)
        if current["author"]["id"] != str(self.bot.user_id):
            raise DiscordError(403, 50005)  # another author's message
        return await self._apply_edit(request, current, None)

    async def _apply_edit(
        self, request: web.Request, current: dict[str, Any], webhook_id: int | None
    ) -> web.Response:
        """PATCH semantics: the fields sent replace the message's, the others stay."""
        payload, _ = await _message_body(request)
        changed = {k: v for k, v in payload.items() if k in ("content", "embeds", "components")}
        validate_message({**current, **changed})
        if "embeds" in changed:
            changed["embeds"] = [{"type": "rich", **e} for e in changed["embeds"] or []]
        current.update(changed, edited_timestamp=_now_iso())
        channel_id = int(current["channel_id"])
        self._edits.append(RecordedEdit(channel_id, int(current["id"]), payload, webhook_id))
        return _json_response(current)

    def _message(
        self, channel_id: int, guild_id: int | None, payload: Mapping[str, Any],
        author: dict[str, Any], **extra: Any,
    ) -> dict[str, Any]:  # fmt: skip
        message = {
            "id": str(snowflake()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": author,
            "content": payload.get("content") or "",
            "embeds": [{"type": "rich", **e} for e in payload.get("embeds") or []],
            "components": payload.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(payload.get("tts")),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": int(payload.get("flags") or 0),
            **extra,
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
        return message

    async def _execute_webhook(self, request: web.Request) -> web.StreamResponse:
        webhook_id, token = int(request.match_info["webhook_id"]), request.match_info["token"]
        if webhook_id == self.application_id and token in self._interactions:
            return await self._followup(request, self._interactions[token])
        webhook = self.webhooks.get(webhook_id)
        if webhook is None or webhook.token != token:
            raise DiscordError(404, 10015)
        payload, files = await _message_body(request)
        validate_message(payload, has_files=bool(files))
        guild, _ = self._locate_channel(webhook.channel_id)
        author = {
            "id": str(webhook_id),
            "username": payload.get("username") or "Captain Hook",
            "discriminator": "0000",
            "avatar": None,
            "bot": True,
        }
        message = self._message(
            webhook.channel_id, guild.guild_id, payload, author, webhook_id=str(webhook_id)
        )
        self._messages.append(
            RecordedMessage(webhook.channel_id, payload, message, webhook_id, tuple(files))
        )
        self._current[message["id"]] = message
        if request.query.get("wait") in ("1", "true", "True"):
            return _json_response(message)
        return web.Response(status=204)

    async def _followup(self, request: web.Request, interaction: _Interaction) -> web.Response:
        if interaction.callback is None:
            raise DiscordError(404, 10015)  # a token is only usable after the callback
        payload, files = await _message_body(request)
        validate_message(payload, has_files=bool(files))
        interaction.followups.append(payload)
        return _json_response(self._interaction_message(interaction, payload))

    def _interaction_message(
        self, interaction: _Interaction, payload: Mapping[str, Any]
    ) -> dict[str, Any]:
        guild, _ = self._locate_channel(interaction.channel_id)
        return self._message(
            interaction.channel_id, guild.guild_id, payload, self.bot.user_payload(),
            webhook_id=str(self.application_id), application_id=str(self.application_id),
        )  # fmt: skip

    def _original_interaction(self, request: web.Request) -> _Interaction:
        interaction = self._interactions.get(request.match_info["token"])
        if interaction is None or request.match_info["message_id"] != "@original":
            raise DiscordError(404, 10008)
        if interaction.original is None:
            raise DiscordError(404, 10008)
        return interaction

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._original_interaction(request)
        assert interaction.original is not None
        return _json_response(interaction.original)

    async def _edit_webhook_message(self, request: web.Request) -> web.Response:
        webhook_id, token = int(request.match_info["webhook_id"]), request.match_info["token"]
        if webhook_id != self.application_id or token not in self._interactions:
            webhook = self.webhooks.get(webhook_id)
            if webhook is None or webhook.token != token:
                raise DiscordError(404, 10015)
            current = self._current.get(request.match_info["message_id"])
            if current is None or current.get("webhook_id") != str(webhook_id):
                raise DiscordError(404, 10008)  # gone, or not this webhook's message
            return await self._apply_edit(request, current, webhook_id)
        interaction = self._original_interaction(request)
        assert interaction.original is not None
        payload, _ = await _message_body(request)
        validate_message({**interaction.original, **payload})
        interaction.edits.append(payload)
        interaction.original = {**interaction.original, **payload, "edited_timestamp": _now_iso()}
        return _json_response(interaction.original)

    async def _interaction_callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self._interactions.get(request.match_info["token"])
        if interaction is None or str(interaction.id) != request.match_info["interaction_id"]:
            raise DiscordError(404, 10062)
        if interaction.callback is not None:
            raise DiscordError(400, 40060)
        body, _ = await _message_body(request)
        kind, data = int(body["type"]), dict(body.get("data") or {})
        if kind == 4:
            validate_message(data)
        if kind == 7:  # an update of the pressed message: what it keeps counts too
            validate_message({**self._current.get(interaction.message_id or "", {}), **data})
        interaction.callback = RecordedCallback(interaction.id, interaction.token, kind, data)
        if kind in (4, 5):
            interaction.original = self._interaction_message(interaction, data)
        if kind == 7 and interaction.message_id in self._current:  # the pressed message
            message = self._current[interaction.message_id]
            changed = {k: v for k, v in data.items() if k in ("content", "embeds", "components")}
            message.update(changed, edited_timestamp=_now_iso())
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        return _json_response(self._callback_response(interaction, kind, data))

    def _callback_response(
        self, interaction: _Interaction, kind: int, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        summary: dict[str, Any] = {"id": str(interaction.id), "type": 2}
        resource: dict[str, Any] = {"type": kind}
        if interaction.original is not None and kind in (4, 5):
            summary["response_message_id"] = interaction.original["id"]
            summary["response_message_loading"] = kind == 5
            summary["response_message_ephemeral"] = bool(int(data.get("flags", 0)) & EPHEMERAL)
            resource["message"] = interaction.original
        return {"interaction": summary, "resource": resource}

    # ---- gateway handler

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        session = _GatewaySession(ws, request.query.get("compress"))
        self._sessions.append(session)
        resume_url = self._gateway_base(request)
        try:
            await session.send(10, {"heartbeat_interval": self.heartbeat_interval_ms})
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await self._on_gateway_frame(session, json.loads(message.data), resume_url)
        finally:
            self._sessions.remove(session)
        return ws

    async def _on_gateway_frame(
        self, session: _GatewaySession, frame: Mapping[str, Any], resume_url: str
    ) -> None:
        op, data = frame.get("op"), frame.get("d")
        if op == 1:
            self.heartbeats += 1
            await session.send(11, None)
        elif op == 2:
            await self._identify(session, data, resume_url)
        elif op == 6:
            await self._resume(session, data)

    async def _identify(self, session: _GatewaySession, data: Any, resume_url: str) -> None:
        if data.get("token") != self.token:
            await session.ws.close(code=4004, message=b"Authentication failed.")
            return
        self.identify_payloads.append(data)
        session.identified = True
        if "shard" in data:
            session.shard = (int(data["shard"][0]), int(data["shard"][1]))
        guilds = [g for g in self.guilds.values() if session.serves(g.guild_id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": self.bot.user_payload() | {"verified": True, "flags": 0},
            "guilds": [{"id": str(g.guild_id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": resume_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }
        if "shard" in data:
            ready["shard"] = data["shard"]
        await session.dispatch("READY", ready)
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", guild.create_payload())
        self._ready.set()
        await self._notify()

    async def _resume(self, session: _GatewaySession, data: Any) -> None:
        # Minimal RESUME: accept it when the session is known; events are not replayed.
        known = data.get("token") == self.token and data.get("session_id")
        if not known:
            await session.send(9, False)
            return
        self.resumes += 1
        session.session_id = data["session_id"]
        session.sequence = int(data.get("seq") or 0)
        session.identified = True
        await session.dispatch("RESUMED", {})
        await self._notify()


# --------------------------------------------------------------------------- helpers


async def _message_body(request: web.Request) -> tuple[dict[str, Any], list[str]]:
    """The JSON payload of a message request and the names of any uploaded files."""
    if request.content_type == "application/json":
        return dict(await request.json()), []
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        files = [f.filename for f in form.values() if isinstance(f, web.FileField)]
        raw = form.get("payload_json")
        return (json.loads(raw) if isinstance(raw, str) else {}), files
    return {}, []


def _attachment(filename: str) -> dict[str, Any]:
    attachment_id = snowflake()
    url = f"https://cdn.discordapp.com/attachments/{attachment_id}/{filename}"
    return {"id": str(attachment_id), "filename": filename, "size": 0, "url": url,
            "proxy_url": url}  # fmt: skip


def _typed_options(
    options: Mapping[str, Any] | list[dict[str, Any]] | None,
    command: Mapping[str, Any],
    focused: str | None,
) -> list[dict[str, Any]]:
    """Raw option list for an interaction; a mapping is typed from the synced command."""
    if options is None:
        return []
    if isinstance(options, list):
        return options
    declared = {o["name"]: o.get("type") for o in command.get("options") or []}
    result = []
    for name, value in options.items():
        option = {"name": name, "type": declared.get(name) or _option_type(value), "value": value}
        if name == focused:
            option["focused"] = True
        result.append(option)
    return result


def _option_type(value: Any) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


def _add_rate_limit_headers(
    response: web.StreamResponse, route: str, *, remaining: int, reset_after: float
) -> None:
    """The headers discord.py's bucket logic reads on every response."""
    response.headers.update(
        {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fake-{route or 'unknown'}",
            # discord.py treats a 429 without Via as a Cloudflare ban, so say we are proxied.
            "Via": "1.1 google",
        }
    )


def _fault_response(fault: _Fault, route: str) -> web.Response:
    if fault.status == 429:
        response = _json_response(
            {
                "message": "You are being rate limited.",
                "retry_after": fault.retry_after,
                "global": fault.global_,
                "code": fault.code or 0,
            },
            429,
        )
        _add_rate_limit_headers(response, route, remaining=0, reset_after=fault.retry_after)
        response.headers["Retry-After"] = str(math.ceil(fault.retry_after))
        response.headers["X-RateLimit-Scope"] = "global" if fault.global_ else "user"
        if fault.global_:
            response.headers["X-RateLimit-Global"] = "true"
        return response
    if fault.status >= 500:
        # 5xx bodies come from Discord's edge and are not JSON for 502/503/504.
        if fault.status == 500:
            response = _json_response({"message": "500: Internal Server Error", "code": 0}, 500)
        else:
            response = web.Response(
                status=fault.status, text=f"{fault.status} Bad Gateway", content_type="text/html"
            )
    else:
        code = fault.code if fault.code is not None else DEFAULT_CODES.get(fault.status, 0)
        errors: dict[str, Any] | None = {} if code == 50035 else None
        response = _error(fault.status, code, errors)
    _add_rate_limit_headers(response, route, remaining=4, reset_after=1.0)
    return response
