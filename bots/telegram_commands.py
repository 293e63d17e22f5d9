"""The Telegram bot's slash commands: /start, /help, /topics, /subscribe … /timezone.

Apart from bots/telegram.py, which builds the Application and registers these handlers
(`Commands.by_name`), so that the transport (sending, editing, errors, pacing) and what each
command says are read separately. Handlers are thin: parse the command, call `Subscriptions`,
reply with a message of `policywire.chat.wording` through `Conversation` (bots/telegram_chat.py).
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from functools import partial

from telegram import Update
from telegram.ext import ContextTypes

from bots.telegram_chat import (
    PLATFORM,
    Conversation,
    Handler,
    chat_id,
    is_shared,
    log,
    render_html,
    reply,
)
from policywire.chat import wording
from policywire.chat.wording import Message
from policywire.storage.store import DestinationRow

SendNow = Callable[[DestinationRow], Awaitable[int]]

COMMANDS = wording.TELEGRAM_COMMANDS  # (name, description key), in menu order


class Commands:
    """One handler a command, answering through `chat`; /digest sends through `send_now`."""

    def __init__(self, chat: Conversation, send_now: SendNow) -> None:
        self.chat = chat
        self.subscriptions = chat.subscriptions
        self.send_now = send_now

    def by_name(self) -> dict[str, Handler]:
        """The command handlers, by the command's name (without its slash)."""
        return {
            "start": self._start,
            "help": self._help,
            "topics": self._topics,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "list": self._list,
            "digest": self._digest,
            "schedule": self._schedule,
            "language": self._language,
            "timezone": self._timezone,
        }

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        language = await self.chat.reply_language(update)
        title = render_html(Message(wording.WELCOME_TITLE), language)
        text = render_html(Message(wording.WELCOME), language)
        if await self._first_poll_running(update):
            text += "\n\n" + render_html(Message(wording.FIRST_POLL_RUNNING), language)
        await reply(update, f"<b>{title}</b>\n{text}", await self.chat.keyboard(update))

    async def _first_poll_running(self, update: Update) -> bool:
        """Right after a start: a subscribed chat gets its digest when the first poll ends."""
        row = await self.subscriptions.get(PLATFORM, chat_id(update))
        if row is not None and row.active and row.topics:
            return self.subscriptions.wait_for_first_poll(row)
        return self.subscriptions.first_poll.running()

    async def _help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        language = await self.chat.reply_language(update)
        lines = [f"/{name} — {render_html(Message(about), language)}" for name, about in COMMANDS]
        lines.append("\n" + render_html(Message(wording.HELP_GROUPS), language))
        if not is_shared(update):
            lines.append(render_html(Message(wording.HELP_CHANNELS), language))
        await reply(update, "\n".join(lines))

    async def _topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        topics = self.subscriptions.defaults().topics
        lines = [f"<code>{html.escape(t)}</code> — {html.escape(n)}" for t, n in topics.items()]
        if not lines:
            await self.chat.say(update, Message(wording.NO_TOPICS_CONFIGURED))
            return
        await reply(update, "\n".join(lines))

    async def _subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self.chat.where(update, context)
        if not where.args:
            await self.chat.say(
                update, Message(wording.PICK_TOPICS), await self.chat.keyboard(update)
            )
            return
        if not await self.chat.may_change(update, context, where):
            return
        row = await self.subscriptions.subscribe(
            PLATFORM,
            where.chat,
            where.args,
            title=where.title,
            language=self.chat.initial_language(update, where),
        )
        replies = [Message(wording.SUBSCRIBED, {"settings": self.chat.describe(row)})]
        if self.subscriptions.first_poll_pending(row):
            replies.append(Message(wording.FIRST_POLL_RUNNING))
        await self.chat.answer(update, where, *replies)

    async def _unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self.chat.where(update, context)
        if not where.args:
            await self.chat.say(update, Message(wording.WHICH_TOPICS))
            return
        if not await self.chat.may_change(update, context, where):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, where.chat, where.args)
        if not row.topics:
            await self.chat.answer(update, where, Message(wording.UNSUBSCRIBED_ALL))
            return
        done = Message(wording.DONE, {"settings": self.chat.describe(row)})
        await self.chat.answer(update, where, done)

    async def _list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self.chat.where(update, context)
        row = await self.subscriptions.get(PLATFORM, where.chat)
        if row is None or not row.active or not row.topics:
            await self.chat.answer(update, where, Message(wording.CHAT_FOLLOWS_NOTHING))
            return
        await self.chat.answer(update, where, self.chat.describe(row))

    async def _digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self.chat.where(update, context)
        row = await self.subscriptions.get(PLATFORM, where.chat)
        if row is None or not row.active or not row.topics:
            await self.chat.answer(update, where, Message(wording.NOTHING_TO_SEND))
            return
        if self.subscriptions.wait_for_first_poll(row):  # right after a start: it follows
            await self.chat.answer(update, where, Message(wording.FIRST_POLL_RUNNING))
            return
        if await self.send_now(row) == 0:
            # "Since your last digest" only once there was one.
            nothing = wording.NOTHING_NEW_SINCE_YOURS if row.last_digest_at else wording.NOTHING_YET
            await self.chat.answer(update, where, Message(nothing))

    async def _schedule(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "schedule", Message(wording.USAGE_SCHEDULE))

    async def _language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        usage = Message(wording.USAGE_LANGUAGE, {"languages": wording.language_choices()})
        await self._setting(update, context, "language", usage)

    async def _timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "timezone", Message(wording.USAGE_TIMEZONE))

    async def _setting(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, what: str, usage: Message
    ) -> None:
        where = await self.chat.where(update, context)
        if not where.args:
            await self.chat.say(update, usage)
            return
        if not await self.chat.may_change(update, context, where):
            return
        value, chat = " ".join(where.args), where.chat
        setters: dict[str, Callable[[str, str, str], Awaitable[DestinationRow]]] = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": partial(
                self.subscriptions.set_timezone, language=self.chat.initial_language(update, where)
            ),
        }
        row = await setters[what](PLATFORM, chat, value)
        saved = Message(wording.SAVED, {"settings": self.chat.describe(row)})
        await self.chat.answer(update, where, saved)

    async def unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.chat.say(update, Message(wording.UNKNOWN_COMMAND))

    async def in_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply would go to every reader of the channel: say why in the log instead."""
        chat = update.effective_chat
        log.info(
            "telegram: a command posted in channel %s was ignored; channels are managed from "
            "a private chat with the bot (/subscribe @channel topic)",
            chat.username or chat.id if chat is not None else "-",
        )
