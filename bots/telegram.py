"""Telegram: chat commands in DMs and groups, and digest delivery (python-telegram-bot v22).

The PTB `Application` runs inside the service's event loop (no `run_polling`) and without its
own JobQueue: the service's APScheduler is the only scheduler. Handlers are thin: parse the
command, call `Subscriptions`, reply with a message of `policywire.chat.wording`, rendered in
`_text` and escaped for Telegram's HTML in `_html`.
"""

from __future__ import annotations

import html
import logging
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from policywire.chat import wording
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message, describe
from policywire.deliver.sender import Pacing
from policywire.errors import CommandError, Rejected, RetryLater, TargetGone, TargetMoved
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.storage.store import DestinationRow

log = logging.getLogger(__name__)

# PTB 22 is moving time periods (RetryAfter.retry_after…) from int to timedelta and warns on
# every RetryAfter unless this documented opt-in is set; we handle both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

PLATFORM = "telegram"
SendNow = Callable[[DestinationRow], Awaitable[int]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

COMMANDS = wording.TELEGRAM_COMMANDS  # (name, description key), in menu order

_TAG = re.compile(r"<[^>]+>")


class TelegramBot:
    """The Telegram adapter: command handlers in, `Transport.send` out."""

    platform = PLATFORM
    # About 1 message/s per chat, 20/min per group or channel, 30/s overall.
    pacing = Pacing(per_target_interval=1.0, group_interval=3.0, per_second=30)

    def __init__(
        self,
        token: str,
        base_url: str,
        subscriptions: Subscriptions,
        send_now: SendNow,
        *,
        poll_timeout: float = 30.0,
        pacing: Pacing | None = None,
    ) -> None:
        self.pacing = pacing or TelegramBot.pacing
        self.subscriptions = subscriptions
        self.send_now = send_now
        self.poll_timeout = poll_timeout
        self.app = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .job_queue(None)
            .get_updates_read_timeout(poll_timeout + 10)
            .build()
        )
        self._add_handlers()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, publish the command menu, and start long polling in this event loop."""
        await self.app.initialize()
        await self.app.bot.set_my_commands([BotCommand(n, _text(Message(d))) for n, d in COMMANDS])
        await self.app.start()
        updater = self.app.updater
        assert updater is not None
        await updater.start_polling(
            poll_interval=0.0,
            timeout=timedelta(seconds=self.poll_timeout),
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("telegram bot @%s started", self.app.bot.username)

    async def stop(self) -> None:
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    # --- sending (the Transport protocol) --------------------------------------------------

    async def send(self, target: str, payload: Mapping[str, Any]) -> str | None:
        text = str(payload["html"])
        chat_id: int | str = int(target) if target.lstrip("-").isdigit() else target
        try:
            return await self._send_html(chat_id, text)
        except BadRequest as exc:
            if "can't parse entities" not in exc.message.lower():
                raise _translate(exc) from exc
            # Our renderer escapes everything, so this is our bug: say so, deliver anyway.
            log.error("BUG: Telegram could not parse our HTML (%s); sent as plain text", exc)
            return await self._send_plain(chat_id, _html_to_plain(text))
        except TelegramError as exc:
            raise _translate(exc) from exc

    async def _send_html(self, chat_id: int | str, text: str) -> str:
        message = await self.app.bot.send_message(
            chat_id,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        return str(message.message_id)

    async def _send_plain(self, chat_id: int | str, text: str) -> str:
        try:
            message = await self.app.bot.send_message(
                chat_id, text, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        except TelegramError as exc:
            raise _translate(exc) from exc
        return str(message.message_id)

    # --- commands --------------------------------------------------------------------------

    def _add_handlers(self) -> None:
        simple: dict[str, Handler] = {
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
        for name, handler in simple.items():
            self.app.add_handler(CommandHandler(name, self._guarded(handler)))
        self.app.add_handler(CallbackQueryHandler(self._toggle, pattern=r"^t:"))
        self.app.add_handler(ChatMemberHandler(self._membership, ChatMemberHandler.MY_CHAT_MEMBER))
        self.app.add_handler(MessageHandler(filters.COMMAND, self._unknown))
        self.app.add_error_handler(self._on_error)

    def _guarded(self, handler: Handler) -> Handler:
        """Turn a CommandError into a short reply instead of an error-handler trip."""

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                await handler(update, context)
            except CommandError as exc:
                await _say(update, Message(exc.key, exc.arguments))

        return run

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        title, text = _html(Message(wording.WELCOME_TITLE)), _html(Message(wording.WELCOME))
        await _reply(update, f"<b>{title}</b>\n{text}", await self._keyboard(update))

    async def _help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lines = [f"/{name} — {_html(Message(description))}" for name, description in COMMANDS]
        lines.append("\n" + _html(Message(wording.HELP_GROUPS)))
        await _reply(update, "\n".join(lines))

    async def _topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        topics = self.subscriptions.defaults().topics
        lines = [f"<code>{html.escape(t)}</code> — {html.escape(n)}" for t, n in topics.items()]
        await _reply(update, "\n".join(lines) or _html(Message(wording.NO_TOPICS_CONFIGURED)))

    async def _subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not context.args:
            await _say(update, Message(wording.PICK_TOPICS), await self._keyboard(update))
            return
        if not await self._may_change(update, context):
            return
        chat = _chat_id(update)
        row = await self.subscriptions.subscribe(
            PLATFORM, chat, context.args, title=_title(update), language=_user_language(update)
        )
        await _say(update, Message(wording.SUBSCRIBED, {"settings": self._describe(row)}))

    async def _unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not context.args:
            await _say(update, Message(wording.WHICH_TOPICS))
            return
        if not await self._may_change(update, context):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, _chat_id(update), context.args)
        if not row.topics:
            await _say(update, Message(wording.UNSUBSCRIBED_ALL))
            return
        await _say(update, Message(wording.DONE, {"settings": self._describe(row)}))

    async def _list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        if row is None or not row.active or not row.topics:
            await _say(update, Message(wording.CHAT_FOLLOWS_NOTHING))
            return
        await _say(update, self._describe(row))

    async def _digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        if row is None or not row.active or not row.topics:
            await _say(update, Message(wording.NOTHING_TO_SEND))
            return
        if await self.send_now(row) == 0:
            await _say(update, Message(wording.NOTHING_NEW_SINCE_YOURS))

    async def _schedule(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "schedule", Message(wording.USAGE_SCHEDULE))

    async def _language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        usage = Message(wording.USAGE_LANGUAGE, {"languages": "|".join(SUPPORTED_LANGUAGES)})
        await self._setting(update, context, "language", usage)

    async def _timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "timezone", Message(wording.USAGE_TIMEZONE))

    async def _setting(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, what: str, usage: Message
    ) -> None:
        if not context.args:
            await _say(update, usage)
            return
        if not await self._may_change(update, context):
            return
        value, chat = " ".join(context.args), _chat_id(update)
        setters = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": self.subscriptions.set_timezone,
        }
        row = await setters[what](PLATFORM, chat, value)
        await _say(update, Message(wording.SAVED, {"settings": self._describe(row)}))

    async def _toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        if not await self._may_change(update, context):
            await query.answer(_text(Message(wording.ADMINS_ONLY)), show_alert=True)
            return
        topic = query.data.removeprefix("t:")
        try:
            _row, on = await self.subscriptions.toggle(
                PLATFORM,
                _chat_id(update),
                topic,
                title=_title(update),
                language=_user_language(update),
            )
        except CommandError as exc:
            await query.answer(_text(Message(exc.key, exc.arguments))[:200], show_alert=True)
            return
        name = self._names().get(topic, topic)
        answer = Message(wording.FOLLOWING if on else wording.STOPPED, {"topic": name})
        await query.answer(_text(answer)[:200])
        await query.edit_message_reply_markup(await self._keyboard(update))

    async def _membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The bot was blocked, kicked or left: deactivate at once, not at the next send."""
        change = update.my_chat_member
        if change is None:
            return
        status = change.new_chat_member.status
        if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            reason = "bot was blocked" if change.chat.type == ChatType.PRIVATE else "bot removed"
            if await self.subscriptions.deactivate(PLATFORM, str(change.chat.id), reason):
                log.info("telegram:%s deactivated: %s", change.chat.id, reason)

    async def _unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await _say(update, Message(wording.UNKNOWN_COMMAND))

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        where = chat.id if chat is not None else "-"
        log.error(
            "telegram handler failed (chat %s): %s", where, context.error, exc_info=context.error
        )

    # --- helpers ---------------------------------------------------------------------------

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    def _describe(self, row: DestinationRow) -> Message:
        return describe(row, self._names())

    async def _keyboard(self, update: Update) -> InlineKeyboardMarkup:
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        following = set(row.topics) if row is not None and row.active else set()
        buttons = [
            [InlineKeyboardButton(("✅ " if t in following else "▫️ ") + n, callback_data=f"t:{t}")]
            for t, n in self._names().items()
        ]
        return InlineKeyboardMarkup(buttons)

    async def _may_change(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """In groups only admins change the subscription; anyone may in a private chat."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
            return True
        member = await context.bot.get_chat_member(chat.id, user.id)
        if member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
            return True
        if update.callback_query is None:
            await _say(update, Message(wording.ADMINS_ONLY_SUBSCRIPTION))
        return False


def _translate(exc: TelegramError) -> Exception:
    """PTB's errors → the delivery policy's (wait, move, stop, retry, give up)."""
    if isinstance(exc, RetryAfter):
        return RetryLater("Telegram flood control", after=_retry_seconds(exc))
    if isinstance(exc, ChatMigrated):
        return TargetMoved("the group became a supergroup", str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return TargetGone(f"Telegram: {exc.message}")
    if isinstance(exc, InvalidToken):
        return RetryLater("Telegram rejected the bot token", after=300.0)
    if isinstance(exc, BadRequest):
        if "chat not found" in exc.message.lower():
            return TargetGone(f"Telegram: {exc.message}")
        return Rejected(f"Telegram refused the message: {exc.message}")
    if isinstance(exc, NetworkError):  # timeouts, connection errors, 5xx
        return RetryLater(f"Telegram unreachable: {exc.message}")
    return RetryLater(f"Telegram error: {exc.message}")


def _retry_seconds(exc: RetryAfter) -> float:
    # PTB 22 is moving retry_after from int to timedelta and warns on the old access path.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _chat_id(update: Update) -> str:
    chat = update.effective_chat
    assert chat is not None
    return str(chat.id)


def _title(update: Update) -> str:
    chat = update.effective_chat
    if chat is None:
        return ""
    return chat.title or chat.username or chat.full_name or ""


def _user_language(update: Update) -> str | None:
    user = update.effective_user
    code = (user.language_code or "")[:2].lower() if user else ""
    return code if code in SUPPORTED_LANGUAGES else None


def _text(message: Message) -> str:
    """A message as this adapter says it: rendered in the source language until issue 14."""
    return message.text(wording.SOURCE_LANGUAGE)


def _html(message: Message) -> str:
    """The rendered message as Telegram HTML text: keys are plain text, so all of it is escaped."""
    return html.escape(_text(message), quote=False)  # Telegram needs only <, > and & escaped


async def _say(
    update: Update, message: Message, markup: InlineKeyboardMarkup | None = None
) -> None:
    await _reply(update, _html(message), markup)


async def _reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    message = update.effective_message
    if message is None:
        return
    await message.reply_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )
