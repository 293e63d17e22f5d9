"""The Telegram bot's inline buttons: the topic menu's toggles and story cards' feedback buttons.

Apart from bots/telegram.py (the transport, which registers these callback-query handlers) and
from the slash commands (bots/telegram_commands.py): a press answers with a short notice on the
button and edits the buttons in place, rather than replying with a message, and a card's
verdict (chat/feedback.py) is given for the whole chat, so only its admins may give one.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.telegram_chat import PLATFORM, Conversation, chat_id, chat_title, log, render_text
from policywire.chat import wording
from policywire.chat.feedback import Feedback, parse_press
from policywire.chat.wording import Message
from policywire.errors import CommandError
from policywire.storage.store import DestinationRow


class Buttons:
    """Button presses, answered through `chat`; cards' buttons do what `feedback` says (None:
    they answer nothing)."""

    def __init__(self, chat: Conversation, feedback: Feedback | None) -> None:
        self.chat = chat
        self.subscriptions = chat.subscriptions
        self.feedback = feedback

    async def toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A topic menu's button (callback data "t:<topic>"): follow it, or stop."""
        query = update.callback_query
        assert query is not None and query.data is not None
        if not await self.chat.may_change(update, context):
            language = await self.chat.reply_language(update)
            await query.answer(render_text(Message(wording.ADMINS_ONLY), language), show_alert=True)
            return
        topic = query.data.removeprefix("t:")
        try:
            _row, on = await self.subscriptions.toggle(
                PLATFORM,
                chat_id(update),
                topic,
                title=chat_title(update),
                language=self.chat.initial_language(update),
            )
        except CommandError as exc:
            language = await self.chat.reply_language(update)
            refusal = render_text(Message(exc.key, exc.arguments), language)
            await query.answer(refusal[:200], show_alert=True)
            return
        name = self.chat.names().get(topic, topic)
        answer = Message(wording.FOLLOWING if on else wording.STOPPED, {"topic": name})
        await query.answer(render_text(answer, await self.chat.reply_language(update))[:200])
        await query.edit_message_reply_markup(await self.chat.keyboard(update))
        if on and self.subscriptions.first_poll_pending(_row):
            await self.chat.say(update, Message(wording.FIRST_POLL_RUNNING))

    async def card_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A story card's button (chat/feedback.py): not relevant, wrong grouping, or the
        article picked after wrong grouping. Only admins decide for a group or channel."""
        query = update.callback_query
        assert query is not None and query.data is not None
        press, chat = parse_press(query.data), update.effective_chat
        if press is None or self.feedback is None or chat is None:
            await query.answer()
            return
        targets = [str(chat.id), *([f"@{chat.username}"] if chat.username else [])]
        row = await self.feedback.destination(PLATFORM, targets)
        if row is None:
            await query.answer()
            return
        if not await self._may_decide(update, context):
            language = await self.chat.reply_language(update)
            await query.answer(render_text(Message(wording.ADMINS_ONLY), language), show_alert=True)
            return
        reader = str(update.effective_user.id) if update.effective_user else ""
        if press.action == "nr":
            answer = await self.feedback.not_relevant(row, press.story_id, reader)
            await query.answer(answer[:200], show_alert=True)
            await query.edit_message_reply_markup(None)  # muted: the buttons are done
            return
        if press.action == "wg":
            await self._pick_article(query, row, press.story_id)
            return
        assert press.item_pk is not None
        answer = await self.feedback.wrong_grouping(row, press.story_id, press.item_pk, reader)
        await query.answer(answer[:200], show_alert=True)

    async def _pick_article(self, query: Any, row: DestinationRow, story_id: int) -> None:
        """Wrong grouping: the card's buttons become its articles, one to pick."""
        assert self.feedback is not None
        choices = await self.feedback.choices(row, story_id)
        if isinstance(choices, str):
            await query.answer(choices[:200], show_alert=True)
            return
        await query.answer(self.feedback.question(row)[:200])
        buttons = [[InlineKeyboardButton(c.label, callback_data=c.data)] for c in choices]
        await query.edit_message_reply_markup(InlineKeyboardMarkup(buttons))

    async def _may_decide(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """A card's verdict holds for the whole chat: in a group or a channel only its
        admins may give one; in a private chat its one reader."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if chat.type == ChatType.PRIVATE:
            return True
        try:
            member = await context.bot.get_chat_member(chat.id, user.id)
        except TelegramError as exc:  # a channel whose bot is no admin hides its members
            log.warning("telegram:%s: cannot check %s is an admin (%s)", chat.id, user.id, exc)
            return False
        return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)
