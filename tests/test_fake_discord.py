"""The fake Discord against the real discord.py client.

discord.py is pointed at the fake only through documented Client options:
``connector=dc.connector()`` (resolves discord.com and gateway.discord.gg to the fake's TLS
port) and ``guild_ready_timeout=0`` (on_ready right after the scripted GUILD_CREATEs
instead of two seconds later).
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from tests.fakes.discord_api import (
    MANAGE_CHANNELS,
    SEND_MESSAGES,
    DiscordError,
    FakeChannel,
    FakeDiscord,
    FakeMember,
    Overwrite,
    validate_message,
)

with warnings.catch_warnings():
    # discord.py imports the stdlib audioop module, deprecated since Python 3.11; with
    # filterwarnings=error that import would fail collection. Belongs in pyproject.toml.
    warnings.simplefilter("ignore", DeprecationWarning)
    import discord
    from discord import app_commands

GUILD_ID = 1_100_000_000_000_000_001
NEWS_ID = 1_100_000_000_000_000_002
LOCKED_ID = 1_100_000_000_000_000_003
ADMIN = FakeMember(1_100_000_000_000_000_010, "alice", MANAGE_CHANNELS)
PLAIN = FakeMember(1_100_000_000_000_000_011, "bob")
TOPICS = ["ai-act", "ai-safety", "export-controls"]


@dataclass
class Bot:
    client: discord.Client
    tree: app_commands.CommandTree[discord.Client]
    ready: asyncio.Event


def _build_bot(connector: aiohttp.BaseConnector) -> Bot:
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(intents=intents, connector=connector, guild_ready_timeout=0)
    tree = app_commands.CommandTree(client)
    ready = asyncio.Event()
    client.event(_on_ready(ready))

    @tree.command(name="subscribe", description="Subscribe this channel to a topic")
    @app_commands.describe(topic="Topic to follow")
    async def subscribe(interaction: discord.Interaction, topic: str) -> None:
        can_manage = interaction.permissions.manage_channels
        verdict = "subscribed to" if can_manage else "you need Manage Channels for"
        await interaction.response.send_message(f"{verdict} {topic}", ephemeral=True)

    @tree.command(name="digest", description="Post the digest now")
    async def digest(interaction: discord.Interaction) -> None:
        # The slow path bots take: defer, post a follow-up, then edit the "thinking" message.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("3 stories queued", ephemeral=True)
        await interaction.edit_original_response(content="done")

    @subscribe.autocomplete("topic")
    async def topic_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if t.startswith(current)]

    return Bot(client, tree, ready)


def _on_ready(ready: asyncio.Event):  # type: ignore[no-untyped-def]
    async def on_ready() -> None:
        ready.set()

    return on_ready


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as dc:
        locked = FakeChannel(LOCKED_ID, "locked", (Overwrite(GUILD_ID, deny=SEND_MESSAGES),))
        dc.add_guild(
            GUILD_ID, "Policy Lab", channels=[FakeChannel(NEWS_ID, "news"), locked],
            members=[ADMIN, PLAIN],
        )  # fmt: skip
        yield dc


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[Bot]:
    bot = _build_bot(fake.connector())
    await bot.client.login(fake.token)
    runner = asyncio.create_task(bot.client.connect(reconnect=False))
    try:
        async with asyncio.timeout(5):
            await bot.ready.wait()
        yield bot
    finally:
        await bot.client.close()
        await runner


async def test_login_connect_ready_and_guild_create(fake: FakeDiscord, bot: Bot) -> None:
    guild = bot.client.get_guild(GUILD_ID)
    assert guild is not None and guild.name == "Policy Lab"
    channel = guild.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    assert channel.permissions_for(guild.me).send_messages
    assert not guild.get_channel(LOCKED_ID).permissions_for(guild.me).send_messages  # type: ignore[union-attr]
    assert bot.client.user is not None and bot.client.user.id == fake.bot.user_id
    assert bot.client.application_id == fake.application_id
    # Intents.none() + guilds: message_content is not requested.
    assert fake.identify_payloads[0]["intents"] == discord.Intents(guilds=True).value
    assert fake.heartbeats >= 1
    # discord.py asks for zlib-stream; the fake answers with compressed binary frames.
    assert fake.gateway_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}


async def test_tree_sync_to_guild_is_recorded(fake: FakeDiscord, bot: Bot) -> None:
    bot.tree.copy_global_to(guild=discord.Object(GUILD_ID))
    synced = await bot.tree.sync(guild=discord.Object(GUILD_ID))

    assert [c.name for c in synced] == ["subscribe", "digest"]
    assert synced[0].guild_id == GUILD_ID
    recorded = fake.commands[GUILD_ID]
    assert recorded[0]["name"] == "subscribe"
    assert recorded[0]["options"][0]["autocomplete"] is True
    assert GUILD_ID in fake.commands and None not in fake.commands


@pytest.mark.parametrize(
    ("member", "expected"),
    [(ADMIN, "subscribed to ai-act"), (PLAIN, "you need Manage Channels for ai-act")],
)
async def test_slash_command_replies_ephemerally(
    fake: FakeDiscord, bot: Bot, member: FakeMember, expected: str
) -> None:
    bot.tree.copy_global_to(guild=discord.Object(GUILD_ID))
    await bot.tree.sync(guild=discord.Object(GUILD_ID))

    callback = await fake.dispatch_interaction(
        GUILD_ID, NEWS_ID, member, "subscribe", {"topic": "ai-act"}
    )

    assert callback.type == 4
    assert callback.flags == 64
    assert callback.data["content"] == expected


async def test_deferred_command_follow_up_and_edit(fake: FakeDiscord, bot: Bot) -> None:
    callback = await fake.dispatch_interaction(GUILD_ID, NEWS_ID, ADMIN, "digest")
    assert (callback.type, callback.ephemeral) == (5, True)

    await fake.wait_for(lambda: bool(fake.original_edits(callback.interaction_id)))

    [followup] = fake.followups(callback.interaction_id)
    assert (followup["content"], followup["flags"]) == ("3 stories queued", 64)
    assert fake.original_edits(callback.interaction_id)[0]["content"] == "done"


async def test_autocomplete_returns_choices(fake: FakeDiscord, bot: Bot) -> None:
    callback = await fake.dispatch_autocomplete(
        GUILD_ID, NEWS_ID, PLAIN, "subscribe", {"topic": "ai-"}, focused="topic"
    )

    assert callback.type == 8
    assert [c["value"] for c in callback.data["choices"]] == ["ai-act", "ai-safety"]


async def test_send_embed_records_payload_with_allowed_mentions(
    fake: FakeDiscord, bot: Bot
) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="EU AI Act", description="Trilogue agreed")
    embed.add_field(name="Source", value="Euractiv")

    sent = await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())

    [payload] = fake.messages(NEWS_ID)
    assert payload["embeds"][0]["title"] == "EU AI Act"
    assert payload["allowed_mentions"] == {"parse": []}
    assert sent.embeds[0].fields[0].value == "Euractiv"


async def test_file_upload_is_recorded(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)

    sent = await channel.send(file=discord.File(io.BytesIO(b"a,b"), filename="digest.csv"))

    [recorded] = fake.recorded_messages(NEWS_ID)
    assert recorded.files == ("digest.csv",)
    assert sent.attachments[0].filename == "digest.csv"


async def test_over_limit_embed_is_rejected(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(title="t" * 257, description="d" * 4096)

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=embed)

    assert caught.value.status == 400 and caught.value.code == 50035
    assert fake.messages(NEWS_ID) == []


def _embed(**fields: object) -> dict[str, object]:
    return {"title": "t", **fields}


@pytest.mark.parametrize(
    ("payload", "code", "error_path"),
    [
        ({"content": "x" * 2001}, 50035, ("content",)),
        ({"embeds": [_embed()] * 11}, 50035, ("embeds",)),
        ({"embeds": [_embed(title="t" * 257)]}, 50035, ("embeds", "0", "title")),
        ({"embeds": [_embed(description="d" * 4097)]}, 50035, ("embeds", "0", "description")),
        ({"embeds": [_embed(fields=[{"name": "n", "value": "v"}] * 26)]}, 50035,
         ("embeds", "0", "fields")),
        ({"embeds": [_embed(fields=[{"name": "n" * 257, "value": "v"}])]}, 50035,
         ("embeds", "0", "fields", "0", "name")),
        ({"embeds": [_embed(fields=[{"name": "n", "value": "v" * 1025}])]}, 50035,
         ("embeds", "0", "fields", "0", "value")),
        ({"embeds": [_embed(footer={"text": "f" * 2049})]}, 50035, ("embeds", "0", "footer")),
        ({"embeds": [_embed(author={"name": "a" * 257})]}, 50035, ("embeds", "0", "author")),
        ({"content": "", "embeds": []}, 50006, ()),
        ({"content": None, "allowed_mentions": {"parse": []}}, 50006, ()),
    ],
)  # fmt: skip
def test_message_limits(payload: dict[str, object], code: int, error_path: tuple[str, ...]) -> None:
    with pytest.raises(DiscordError) as caught:
        validate_message(payload)

    assert (caught.value.status, caught.value.code) == (400, code)
    errors = caught.value.errors
    for key in error_path:
        assert errors is not None and key in errors
        errors = errors[key]


@pytest.mark.parametrize(
    "payload",
    [
        {"content": "x" * 2000},
        {"embeds": [_embed(title="t" * 256, description="d" * 4096)]},
        {"embeds": [_embed(fields=[{"name": "n" * 256, "value": "v" * 1024}] * 4)]},
    ],
)
def test_messages_at_the_limits_are_accepted(payload: dict[str, object]) -> None:
    assert validate_message(payload) is None  # raises on any limit exceeded


async def test_embeds_share_a_6000_character_budget(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    embeds = [discord.Embed(description="x" * 4000) for _ in range(2)]

    with pytest.raises(discord.HTTPException, match="6000"):
        await channel.send(embeds=embeds)


async def test_rate_limit_is_retried_transparently(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST /channels/{channel_id}/messages", status=429, retry_after=0.05)

    await channel.send("digest")

    assert [m["content"] for m in fake.messages(NEWS_ID)] == ["digest"]
    assert len(fake.requests_to("create_message")) == 2


async def test_forbidden_and_not_found(fake: FakeDiscord, bot: Bot) -> None:
    channel = bot.client.get_channel(NEWS_ID)
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("create_message", status=403)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("hello")
    assert forbidden.value.code == 50013

    fake.fail_next(f"POST /channels/{NEWS_ID}/messages", status=404)
    with pytest.raises(discord.NotFound) as not_found:
        await channel.send("hello")
    assert not_found.value.code == 10003


async def test_channel_overwrites_are_enforced(fake: FakeDiscord, bot: Bot) -> None:
    locked = bot.client.get_channel(LOCKED_ID)
    assert isinstance(locked, discord.TextChannel)

    with pytest.raises(discord.Forbidden) as caught:
        await locked.send("hello")

    assert caught.value.code == 50013


async def test_unknown_channel_fetch(fake: FakeDiscord, bot: Bot) -> None:
    with pytest.raises(discord.NotFound) as caught:
        await bot.client.fetch_channel(1_100_000_000_000_000_999)
    assert caught.value.code == 10003


async def test_gateway_resume_after_reconnect_request(fake: FakeDiscord, bot: Bot) -> None:
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    bot.client.event(on_resumed)
    await fake.request_reconnect()

    async with asyncio.timeout(5):
        await resumed.wait()
    assert fake.resumes == 1


async def test_webhook_from_url(fake: FakeDiscord) -> None:
    hook = fake.add_webhook(NEWS_ID)
    async with aiohttp.ClientSession(connector=fake.connector()) as session:
        webhook = discord.Webhook.from_url(hook.url, session=session)
        fake.fail_next("execute_webhook", status=429, retry_after=0.05)

        message = await webhook.send("from a webhook", username="policywire", wait=True)

    assert message.content == "from a webhook"
    [recorded] = fake.recorded_messages(NEWS_ID)
    assert recorded.webhook_id == hook.webhook_id
    assert recorded.payload["username"] == "policywire"


async def test_fault_responses_carry_discord_headers(fake: FakeDiscord) -> None:
    fake.fail_next("get_me", status=429, retry_after=1.5, global_=True)
    fake.fail_next("get_channel", status=502)
    headers = {"Authorization": f"Bot {fake.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{fake.api_base_url}/users/@me", headers=headers) as limited:
            body = await limited.json(content_type=None)
        async with session.get(f"{fake.api_base_url}/channels/{NEWS_ID}", headers=headers) as bad:
            bad_status = bad.status
        async with session.get(f"{fake.api_base_url}/users/@me") as unauthorized:
            unauthorized_status = unauthorized.status

    assert limited.status == 429
    assert limited.headers["Content-Type"] == "application/json"
    assert limited.headers["Retry-After"] == "2"
    assert limited.headers["X-RateLimit-Scope"] == "global"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert body == {
        "message": "You are being rate limited.", "retry_after": 1.5, "global": True, "code": 0,
    }  # fmt: skip
    assert bad_status == 502
    assert unauthorized_status == 401


def test_fail_next_rejects_unknown_route_names() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        FakeDiscord().fail_next("create_mesage")
