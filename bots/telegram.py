"""Telegram: chat commands in DMs and groups, and digest delivery (python-telegram-bot v22).

The PTB `Application` runs inside the service's event loop (no `run_polling`) and without its
own JobQueue: the service's APScheduler is the only scheduler. Handlers are thin: parse the
command, call `Subscriptions`, reply.
"""

from __future__ import annotations

import html
import logging
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
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

from policywire.chat.subscriptions import Subscriptions
from policywire.deliver.i18n import SUPPORTED_LANGUAGES
from policywire.deliver.sender import Pacing
from policywire.errors import CommandError, Rejected, RetryLater, TargetGone, TargetMoved
from policywire.storage.store import DestinationRow

log = logging.getLogger(__name__)

# PTB 22 is moving time periods (RetryAfter.retry_after…) from int to timedelta and warns on
# every RetryAfter unless this documented opt-in is set; we handle both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

PLATFORM = "telegram"
SendNow = Callable[[DestinationRow], Awaitable[int]]
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]

COMMANDS: Sequence[tuple[str, str]] = (
    ("start", "Welcome and the topics to pick from"),
    ("help", "What this bot can do"),
    ("topics", "All topics you can follow"),
    ("subscribe", "Follow topics: /subscribe ai-act mistral"),
    ("unsubscribe", "Stop topics: /unsubscribe ai-act, or all"),
    ("list", "This chat's topics and schedule"),
    ("digest", "Send this chat's digest now"),
    ("schedule", "When to send: HH:MM, a cron line, or instant"),
    ("language", "Digest language: en, it, fr or de"),
    ("timezone", "Time zone for the schedule, e.g. Europe/Rome"),
)

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
        await self.app.bot.set_my_commands([BotCommand(n, d) for n, d in COMMANDS])
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
                await _reply(update, html.escape(str(exc)))

        return run

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        text = (
            "<b>Welcome to policywire.</b>\n"
            "I send curated digests of the news on the topics you pick. "
            "Tap a topic to follow it, or see /help."
        )
        await _reply(update, text, await self._keyboard(update))

    async def _help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lines = [f"/{name} — {html.escape(description)}" for name, description in COMMANDS]
        lines.append("\nIn groups, only admins can change the group's subscription.")
        await _reply(update, "\n".join(lines))

    async def _topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        topics = self.subscriptions.defaults().topics
        lines = [f"<code>{html.escape(t)}</code> — {html.escape(n)}" for t, n in topics.items()]
        await _reply(update, "\n".join(lines) or "No topics are configured.")

    async def _subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not context.args:
            await _reply(update, "Tap the topics to follow:", await self._keyboard(update))
            return
        if not await self._may_change(update, context):
            return
        chat = _chat_id(update)
        row = await self.subscriptions.subscribe(
            PLATFORM, chat, context.args, title=_title(update), language=_user_language(update)
        )
        await _reply(update, f"Subscribed. {_describe(row, self._names())}")

    async def _unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not context.args:
            await _reply(update, "Which topics? /unsubscribe ai-act, or /unsubscribe all")
            return
        if not await self._may_change(update, context):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, _chat_id(update), context.args)
        if not row.topics:
            await _reply(update, "Unsubscribed from everything. /subscribe to come back.")
            return
        await _reply(update, f"Done. {_describe(row, self._names())}")

    async def _list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        if row is None or not row.active or not row.topics:
            await _reply(update, "This chat follows no topic yet. Try /subscribe.")
            return
        await _reply(update, _describe(row, self._names()))

    async def _digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        if row is None or not row.active or not row.topics:
            await _reply(update, "Nothing to send yet: /subscribe to a topic first.")
            return
        if await self.send_now(row) == 0:
            await _reply(update, "Nothing new since your last digest.")

    async def _schedule(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "schedule", "/schedule 08:00, or instant")

    async def _language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        usage = "/language " + "|".join(SUPPORTED_LANGUAGES)
        await self._setting(update, context, "language", usage)

    async def _timezone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._setting(update, context, "timezone", "/timezone Europe/Rome")

    async def _setting(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, what: str, usage: str
    ) -> None:
        if not context.args:
            await _reply(update, f"Usage: {html.escape(usage)}")
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
        await _reply(update, f"Saved. {_describe(row, self._names())}")

    async def _toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        if not await self._may_change(update, context):
            await query.answer("Only the group's admins can change this.", show_alert=True)
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
            await query.answer(str(exc)[:200], show_alert=True)
            return
        name = self._names().get(topic, topic)
        await query.answer(f"{'Following' if on else 'Stopped'}: {name}"[:200])
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
        await _reply(update, "I don't know that command. /help lists what I can do.")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        where = chat.id if chat is not None else "-"
        log.error(
            "telegram handler failed (chat %s): %s", where, context.error, exc_info=context.error
        )

    # --- helpers ---------------------------------------------------------------------------

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

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
            await _reply(update, "Only the group's admins can change its subscription.")
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


def _describe(row: DestinationRow, names: Mapping[str, str]) -> str:
    topics = ", ".join(html.escape(names.get(t, t)) for t in row.topics) or "none"
    schedule = "as soon as news arrives" if row.schedule == "instant" else f"at {row.schedule}"
    return (
        f"Topics: {topics}. Digest {html.escape(schedule)} ({html.escape(row.timezone)}), "
        f"in {row.language}."
    )


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
