"""How the Discord bot answers an interaction: in which language, in which words, and how.

Slash commands (`bots.discord_bot_commands`) and story card buttons
(`bots.discord_bot_buttons`) answer the same way: ephemerally, in the asker's language, with
the messages of `policywire.chat.wording` and their command mentions in the names Discord shows.
That shared part lives here, apart from both, so neither has to reach into the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import discord

from policywire.chat import wording
from policywire.chat.locale import client_language, personal_language
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message, describe
from policywire.locale.catalogues import pgettext
from policywire.storage.store import DestinationRow

PLATFORM = "discord"

Interaction = discord.Interaction[discord.Client]


class Replies:
    """The answers' language and wording, read from the subscriptions' defaults and rows."""

    def __init__(self, subscriptions: Subscriptions) -> None:
        self.subscriptions = subscriptions

    def names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    def describe(self, row: DestinationRow) -> Message:
        return describe(row, self.names())

    async def reply_language(self, interaction: Interaction) -> str:
        row = await self.subscriptions.get(PLATFORM, channel_id(interaction))
        return self.first_language(interaction, row)

    def first_language(self, interaction: Interaction, row: DestinationRow | None) -> str:
        """Answers are ephemeral, seen by the asker only: the channel's language when it was
        chosen (feeds.yaml, /language), else the asker's Discord language, else the channel's,
        else the server's, else the configured default (`policywire.chat.locale`)."""
        setting = row.language if row is not None else server_language(interaction)
        default = self.subscriptions.defaults().language
        chosen = row is not None and row.language_chosen
        return personal_language(str(interaction.locale.value), setting, default, chosen=chosen)

    async def say(self, interaction: Interaction, message: Message) -> None:
        await reply(interaction, message_text(message, await self.reply_language(interaction)))


# A command as replies write it ("/subscribe", as on Telegram), not inside a path like
# "Europe/list".
_MENTION = re.compile(r"(?<![\w/])/(" + "|".join(wording.DISCORD_COMMAND_NAMES) + r")\b")


def message_text(message: Message, language: str) -> str:
    """A message in `language`, its command mentions in the names Discord shows in it."""
    return _MENTION.sub(
        lambda found: "/" + pgettext(language, wording.DISCORD_COMMAND_CONTEXT, found[1]),
        message.text(language),
    )


async def reply(interaction: Interaction, text: str) -> None:
    """An ephemeral answer, as the first response or as a follow-up after a defer."""
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text[:2000], ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(
            text[:2000], ephemeral=True, allowed_mentions=mentions
        )


def channel_id(interaction: Interaction) -> str:
    assert interaction.channel_id is not None
    return str(interaction.channel_id)


def channel_title(interaction: Interaction) -> str:
    channel = getattr(interaction.channel, "name", None) or str(interaction.channel_id)
    guild = interaction.guild.name if interaction.guild is not None else ""
    return f"#{channel} ({guild})" if guild else f"#{channel}"


def server_language(interaction: Interaction) -> str | None:
    """The server's preferred locale, when we speak it: a new channel's digests start in it."""
    locale = interaction.guild_locale
    return client_language(str(locale.value)) if locale is not None else None
