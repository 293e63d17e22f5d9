"""What every Telegram handler shares: the chat an update comes from, its language, its replies.

Apart from bots/telegram.py (the transport) and from the handlers themselves
(bots/telegram_commands.py, bots/telegram_buttons.py) because both kinds of handler need it:
naming the chat (`chat_id`), rendering a `policywire.chat.wording` message (`render_text`, and
escaped for Telegram's HTML in `render_html`), replying, and `Conversation`, which answers in
the chat's language, works out whose subscription a command is about (`Where`: this chat, or a
channel named in a private chat) and who may change it.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from policywire.chat import wording
from policywire.chat.locale import chat_language, initial_language
from policywire.chat.subscriptions import Subscriptions, place
from policywire.chat.wording import Message, describe
from policywire.errors import CommandError
from policywire.storage.store import DestinationRow

# The Telegram bot's one logger, whichever of its modules logs (log lines name it).
log = logging.getLogger("bots.telegram")

PLATFORM = "telegram"
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

# A channel named in a private chat's command: /subscribe @channel ai-act (or its -100… id).
_CHANNEL_ARGUMENT = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d+")


@dataclass(frozen=True, slots=True)
class Where:
    """Whose subscription a command changes, and the command's arguments after that."""

    chat: str  # as `Subscriptions` names it (a forum topic: "chat/thread")
    args: list[str]
    channel: str | None = None  # a channel managed from a private chat: its @name
    title: str = ""


class Conversation:
    """A handler's side of the chat: replies in its language, whose subscription a command
    changes, and whether the one who sent it may."""

    def __init__(self, subscriptions: Subscriptions) -> None:
        self.subscriptions = subscriptions

    def guarded(self, handler: Handler) -> Handler:
        """Turn a CommandError into a short reply instead of an error-handler trip."""

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                await handler(update, context)
            except CommandError as exc:
                await self.say(update, Message(exc.key, exc.arguments))

        return run

    def names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    async def reply_language(self, update: Update) -> str:
        """The language of a reply in this chat: its setting, else (in a private chat) the
        user's Telegram language, else the configured default (`policywire.chat.locale`)."""
        row = await self.subscriptions.get(PLATFORM, chat_id(update))
        return chat_language(
            row.language if row is not None else None,
            client_language(update),
            self.subscriptions.defaults().language,
            shared=is_shared(update),
        )

    def initial_language(self, update: Update, where: Where | None = None) -> str:
        """What a chat's subscription starts in: a group (or a channel managed from a private
        chat) never takes a member's language."""
        shared = is_shared(update) or (where is not None and where.channel is not None)
        return initial_language(
            client_language(update), self.subscriptions.defaults().language, shared=shared
        )

    async def answer(self, update: Update, where: Where, *messages: Message) -> None:
        """Reply with `messages`, one a line; about a channel, each says which one."""
        if where.channel is not None:
            messages = tuple(
                Message(wording.FOR_CHANNEL, {"channel": where.channel, "reply": m})
                for m in messages
            )
        language = await self.reply_language(update)
        await reply(update, "\n".join(render_html(m, language) for m in messages))

    async def where(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> Where:
        """Whose subscription a command is about: this chat (or forum topic), or the channel
        a private chat names first (/subscribe @channel ai-act), once its admin rights hold."""
        args = list(context.args or ())
        if is_shared(update) or not args or not _CHANNEL_ARGUMENT.fullmatch(args[0]):
            return Where(chat_id(update), args, title=chat_title(update))
        user = update.effective_user
        assert user is not None  # a private chat's message has its sender
        return await self.channel(context, args[0], user.id, args[1:])

    async def channel(
        self, context: ContextTypes.DEFAULT_TYPE, name: str, user_id: int, args: list[str]
    ) -> Where:
        """The channel `name`, if `user_id` is one of its admins and the bot may post there."""
        bot = context.bot
        try:
            chat = await bot.get_chat(name)
            if chat.type != ChatType.CHANNEL:
                raise CommandError(wording.CHANNEL_NOT_FOUND, channel=name)
            member = await bot.get_chat_member(chat.id, user_id)
            if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
                raise CommandError(wording.CHANNEL_ADMINS_ONLY, channel=name)
            me = await bot.get_chat_member(chat.id, bot.id)
        except (BadRequest, Forbidden) as exc:  # unknown, or the bot is not in it
            log.info("telegram: channel %s not managed from a private chat: %s", name, exc)
            if "inaccessible" in str(exc).lower() or isinstance(exc, Forbidden):
                raise CommandError(wording.CHANNEL_BOT_NOT_ADMIN, channel=name) from exc
            raise CommandError(wording.CHANNEL_NOT_FOUND, channel=name) from exc
        if me.status != ChatMemberStatus.ADMINISTRATOR or not getattr(
            me, "can_post_messages", False
        ):
            raise CommandError(wording.CHANNEL_BOT_NOT_ADMIN, channel=name)
        label = f"@{chat.username}" if chat.username else (chat.title or name)
        if chat.username:  # set in feeds.yaml by its @name: the operator's to change
            await self.subscriptions.check_not_configured(PLATFORM, f"@{chat.username}")
        return Where(str(chat.id), args, channel=label, title=chat.title or label)

    async def say(
        self, update: Update, message: Message, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await reply(update, render_html(message, await self.reply_language(update)), markup)

    def describe(self, row: DestinationRow) -> Message:
        return describe(row, self.names())

    async def keyboard(self, update: Update) -> InlineKeyboardMarkup:
        row = await self.subscriptions.get(PLATFORM, chat_id(update))
        following = set(row.topics) if row is not None and row.active else set()
        buttons = [
            [InlineKeyboardButton(("✅ " if t in following else "▫️ ") + n, callback_data=f"t:{t}")]
            for t, n in self.names().items()
        ]
        return InlineKeyboardMarkup(buttons)

    async def may_change(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, where: Where | None = None
    ) -> bool:
        """In groups only admins change the subscription; anyone may in a private chat (a
        channel named there was checked by `where`)."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if (where is not None and where.channel) or chat.type not in (
            ChatType.GROUP,
            ChatType.SUPERGROUP,
        ):
            return True
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
            return True
        if update.callback_query is None:
            await self.say(update, Message(wording.ADMINS_ONLY_SUBSCRIPTION))
        return False


def chat_id(update: Update) -> str:
    """This chat as `Subscriptions` names it; a forum topic is a chat of its own."""
    chat = update.effective_chat
    assert chat is not None
    message = update.effective_message
    topic = message is not None and message.is_topic_message
    return place(str(chat.id), message.message_thread_id if message and topic else None)


def chat_title(update: Update) -> str:
    chat = update.effective_chat
    if chat is None:
        return ""
    return chat.title or chat.username or chat.full_name or ""


def client_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user is not None else None


def is_shared(update: Update) -> bool:
    """A group, supergroup or channel: the chat's setting holds, not one member's language."""
    chat = update.effective_chat
    return chat is None or chat.type != ChatType.PRIVATE


def render_text(message: Message, language: str) -> str:
    return message.text(language)


def render_html(message: Message, language: str) -> str:
    """The rendered message as Telegram HTML text: keys are plain text, so all of it is escaped."""
    return html.escape(render_text(message, language), quote=False)  # only <, > and & need it


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
