"""The Discord bot's story card buttons: component presses, handled by custom id.

A card's buttons (docs/cards.md, `policywire.chat.feedback`) come back as component
interactions, not slash commands: `bots.discord_bot` routes them here. They are apart from the
client wiring and from the slash commands because they answer to `Feedback`, not to
`Subscriptions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord

from bots.discord_bot_replies import (
    PLATFORM,
    Interaction,
    Replies,
    channel_id,
    message_text,
    reply,
)
from policywire.chat import wording
from policywire.chat.feedback import Feedback, Press, parse_press
from policywire.chat.wording import Message
from policywire.storage.store import DestinationRow


class CardButtons:
    """What a press on a story card's button does (nothing when there is no `Feedback`)."""

    def __init__(self, replies: Replies, feedback: Feedback | None) -> None:
        self.replies = replies
        self.feedback = feedback

    async def on_card_button(self, interaction: Interaction) -> None:
        """A card's button (chat/feedback.py): not relevant, wrong grouping, or the article
        picked after wrong grouping. The verdict holds for the channel, so only members with
        Manage Channels give one; every answer is ephemeral, in the presser's language."""
        data: Mapping[str, Any] = interaction.data or {}
        press = parse_press(str(data.get("custom_id", "")))
        if press is None or self.feedback is None or interaction.channel_id is None:
            return  # not one of ours (another view's button): discord.py's view store has it
        row = await self.feedback.destination(PLATFORM, [channel_id(interaction)])
        language = self.replies.first_language(interaction, row)
        if row is None or not row.active:
            await reply(
                interaction, message_text(Message(wording.CHANNEL_FOLLOWS_NOTHING), language)
            )
            return
        if not interaction.permissions.manage_channels:
            await reply(
                interaction, message_text(Message(wording.MANAGE_CHANNELS_NEEDED), language)
            )
            return
        await self._decide(interaction, row, press, language)

    async def _decide(
        self, interaction: Interaction, row: DestinationRow, press: Press, language: str
    ) -> None:
        assert self.feedback is not None
        reader = str(interaction.user.id)
        if press.action == "nr":
            answer = await self.feedback.not_relevant(row, press.story_id, reader, language)
            # Muted: the card's buttons are done (the card itself stays as it is).
            await interaction.response.edit_message(view=None)
            await reply(interaction, answer)
            return
        if press.action == "wg":
            choices = await self.feedback.choices(row, press.story_id, language)
            if isinstance(choices, str):
                await reply(interaction, choices)
                return
            # The articles to pick from, in an answer only the presser sees: the card keeps
            # its buttons for everyone else.
            view = discord.ui.View(timeout=None)
            for choice in choices[:25]:
                view.add_item(discord.ui.Button(label=choice.label[:80], custom_id=choice.data))
            view.stop()  # its presses come back to on_card_button by custom id
            await interaction.response.send_message(
                self.feedback.question(row, language)[:2000],
                view=view,
                ephemeral=True,
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        assert press.item_pk is not None
        answer = await self.feedback.wrong_grouping(
            row, press.story_id, press.item_pk, reader, language
        )
        await reply(interaction, answer)
