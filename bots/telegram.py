"""Telegram: chat commands in DMs and groups, and digest delivery (python-telegram-bot v22).

The PTB `Application` runs inside the service's event loop (no `run_polling`) and without its
own JobQueue: the service's APScheduler is the only scheduler. This module is the transport:
building the Application, sending and editing messages, translating errors, pacing replies.
The handlers it registers live in bots/telegram_commands.py (slash commands) and
bots/telegram_buttons.py (inline buttons); what they share (replies rendered from
`policywire.chat.wording`, the chat's language, whose subscription a command is about) in
bots/telegram_chat.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import re
import warnings
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
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
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from bots.telegram_buttons import Buttons
from bots.telegram_chat import PLATFORM as PLATFORM
from bots.telegram_chat import Conversation, render_text
from bots.telegram_commands import COMMANDS as COMMANDS
from bots.telegram_commands import Commands
from bots.telegram_commands import SendNow as SendNow
from bots.telegram_webhook import WebhookEndpoint
from policywire.chat.feedback import Feedback
from policywire.chat.subscriptions import Subscriptions
from policywire.chat.wording import Message
from policywire.deliver.sender import MessageGone, Pacing, RateLimiter
from policywire.errors import Rejected, RetryLater, TargetGone, TargetMoved
from policywire.languages import SUPPORTED_LANGUAGES

log = logging.getLogger(__name__)

# PTB 22 is moving time periods (RetryAfter.retry_after…) from int to timedelta and warns on
# every RetryAfter unless this documented opt-in is set; we handle both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")

_TAG = re.compile(r"<[^>]+>")
# Digests come through the sender, which waited for their turn already (`rate_limit_args`).
SENT_BY_SENDER = "sender"
_PACED_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
# A reply refused with 429 anyway is tried once more after at most this wait, else dropped.
MAX_REPLY_WAIT = 10.0


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
        receive_updates: bool = True,
        feedback: Feedback | None = None,
        webhook: WebhookEndpoint | None = None,
    ) -> None:
        self.pacing = pacing or TelegramBot.pacing
        self.subscriptions = subscriptions
        self.feedback = feedback  # what story cards' buttons do (None: they answer nothing)
        self.send_now = send_now
        self.poll_timeout = poll_timeout
        # False: start sending only, and receive when told (`set_receiving`): with several
        # workers on one database, one at a time holds the updates lease (coordination/).
        self.receive_updates = receive_updates
        self.webhook = webhook  # None: long polling; else updates come to PTB's webhook server
        self.replies = RepliesPacer()
        self.chat = Conversation(subscriptions)  # what the handlers below share
        self.commands = Commands(self.chat, send_now)
        self.buttons = Buttons(self.chat, feedback)
        self.app = (
            Application.builder()
            .token(token)
            .base_url(base_url)
            .job_queue(None)
            .get_updates_read_timeout(poll_timeout + 10)
            .rate_limiter(self.replies)
            .build()
        )
        self._add_handlers()

    def share_pacing(self, limiter: RateLimiter) -> None:
        """The sender's limiter for this platform: replies wait for it like digests do."""
        self.replies.limiter = limiter

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, publish the command menu, and start long polling in this event loop."""
        await self.app.initialize()
        await self._publish_menu()
        await self.app.start()
        if self.receive_updates:
            await self._start_polling()
        log.info("telegram bot @%s started", self.app.bot.username)

    async def _start_polling(self) -> None:
        updater = self.app.updater
        assert updater is not None
        if self.webhook is not None:
            await self._start_webhook(self.webhook)
            return
        await updater.start_polling(
            poll_interval=0.0,
            timeout=timedelta(seconds=self.poll_timeout),
            allowed_updates=Update.ALL_TYPES,
        )

    async def _start_webhook(self, webhook: WebhookEndpoint) -> None:
        """Listen for Telegram's posts and (again, harmlessly) register the public URL; every
        worker does, and stopping one leaves the webhook set for the others."""
        updater = self.app.updater
        assert updater is not None
        await updater.start_webhook(
            listen=webhook.host,
            port=webhook.port,
            url_path=webhook.path,
            webhook_url=webhook.url,
            secret_token=webhook.secret,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=0,  # a failure goes to the supervisor, which retries with backoff
        )
        log.info("telegram webhook listening on %s:%s", webhook.host, webhook.port)

    async def set_receiving(self, on: bool) -> None:
        """Receive updates (long polling) or stop; a bot not up yet follows this when it
        starts. Idempotent: the worker's heartbeat calls it with its lease's state."""
        self.receive_updates = on
        updater = self.app.updater
        if updater is None or not self.app.running:
            return
        if on and not updater.running:
            await self._start_polling()
        elif not on and updater.running:
            await updater.stop()

    async def _publish_menu(self) -> None:
        """The command menu in each language we speak, and in the configured default language
        for users of any other (Telegram picks by the user's language_code)."""
        bot = self.app.bot
        await bot.set_my_commands(_menu(self.subscriptions.defaults().language))
        for language in SUPPORTED_LANGUAGES:
            await bot.set_my_commands(_menu(language), language_code=language)

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
        thread = payload.get("message_thread_id")  # a forum topic's digest goes into it
        send = _Send(chat_id, thread if isinstance(thread, int) else None)
        extra = _card_extras(payload)  # a story card's buttons, or the card a reply answers
        try:
            return await self._send_html(send, text, **extra)
        except BadRequest as exc:
            if isinstance(_translate(exc), TargetGone):  # gone: no text would help
                raise _translate(exc) from exc
            if "can't parse entities" in exc.message.lower():
                # Our renderer escapes everything, so this is our bug: say so, deliver anyway.
                log.error("BUG: Telegram could not parse our HTML (%s); sent as plain text", exc)
            else:  # a 400 ends a message only when its plain text gets one too
                log.warning("Telegram refused the HTML message (%s); trying plain text", exc)
            return await self._send_plain(send, _html_to_plain(text), **extra)
        except TelegramError as exc:
            raise _translate(exc) from exc

    async def _send_html(self, send: _Send, text: str, **extra: Any) -> str:
        message = await self.app.bot.send_message(
            send.chat_id,
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            message_thread_id=send.thread_id,
            rate_limit_args=SENT_BY_SENDER,
            **extra,
        )
        return str(message.message_id)

    async def _send_plain(self, send: _Send, text: str, **extra: Any) -> str:
        try:
            message = await self.app.bot.send_message(
                send.chat_id,
                text,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                message_thread_id=send.thread_id,
                rate_limit_args=SENT_BY_SENDER,
                **extra,
            )
        except TelegramError as exc:
            raise _translate(exc) from exc
        return str(message.message_id)

    # Telegram lets a bot edit its message for 48 hours; a story card older than that gets a
    # short reply instead (deliver/sender.py).
    edit_window = timedelta(hours=48)

    async def edit(self, target: str, message_id: str, payload: Mapping[str, Any]) -> None:
        """A story card edited in place (its text and buttons); MessageGone when it cannot be."""
        chat_id: int | str = int(target) if target.lstrip("-").isdigit() else target
        try:
            await self.app.bot.edit_message_text(
                str(payload["html"]),
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                reply_markup=_card_extras(payload).get("reply_markup"),
                rate_limit_args=SENT_BY_SENDER,
            )
        except BadRequest as exc:
            text = exc.message.lower()
            if "not modified" in text:
                return  # already what the card should say (an edit repeated after a crash)
            if "to edit not found" in text or "can't be edited" in text:
                raise MessageGone(f"Telegram: {exc.message}") from exc
            raise _translate(exc) from exc
        except TelegramError as exc:
            raise _translate(exc) from exc

    # --- handlers (bots/telegram_commands.py, bots/telegram_buttons.py) --------------------

    def _add_handlers(self) -> None:
        for name, handler in self.commands.by_name().items():
            self.app.add_handler(CommandHandler(name, self.chat.guarded(handler)))
        self.app.add_handler(CallbackQueryHandler(self.buttons.toggle, pattern=r"^t:"))
        self.app.add_handler(CallbackQueryHandler(self.buttons.card_button, pattern=r"^pw:"))
        self.app.add_handler(ChatMemberHandler(self._membership, ChatMemberHandler.MY_CHAT_MEMBER))
        # A command posted in a channel is seen by all its readers: never answered there.
        in_channel = filters.UpdateType.CHANNEL_POSTS & filters.COMMAND
        self.app.add_handler(MessageHandler(in_channel, self.commands.in_channel))
        self.app.add_handler(MessageHandler(filters.COMMAND, self.commands.unknown))
        self.app.add_error_handler(self._on_error)

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

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        where = chat.id if chat is not None else "-"
        log.error(
            "telegram handler failed (chat %s): %s", where, context.error, exc_info=context.error
        )


@dataclass(frozen=True, slots=True)
class _Send:
    chat_id: int | str
    thread_id: int | None  # a forum topic (message_thread_id)


class RepliesPacer(BaseRateLimiter[str]):
    """PTB's rate limiter hook, made of the sender's own limiter (`share_pacing`): command
    replies and keyboard edits wait for their turn like digests, so a burst of commands never
    uses up a chat's budget and earns the next digest a 429. Digests come marked
    `SENT_BY_SENDER` (they waited already); other methods (answers to button presses, look-ups)
    are not limited by Telegram the same way and go at once."""

    def __init__(self) -> None:
        self.limiter: RateLimiter | None = None  # until the sender shares it

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        reply = rate_limit_args != SENT_BY_SENDER and endpoint in _PACED_METHODS
        paced = (
            self.limiter.turn(str(data.get("chat_id")))
            if reply and self.limiter is not None
            else contextlib.nullcontext()
        )
        try:
            async with paced:
                return await callback(*args, **kwargs)
        except RetryAfter as exc:
            wait = _retry_seconds(exc)
            if not reply or wait > MAX_REPLY_WAIT:
                raise  # a digest's retry is the sender's; a long flood wait drops the reply
            log.warning("telegram: a reply to chat %s waits %.0fs (429)", data.get("chat_id"), wait)
            await asyncio.sleep(wait)
            return await callback(*args, **kwargs)


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
        if "chat not found" in exc.message.lower() or "thread not found" in exc.message.lower():
            return TargetGone(f"Telegram: {exc.message}")  # the chat, or its forum topic, went
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


def _card_extras(payload: Mapping[str, Any]) -> dict[str, Any]:
    """send_message arguments for a story card's buttons, or the card a reply answers."""
    extra: dict[str, Any] = {}
    rows = payload.get("buttons")
    if rows:
        extra["reply_markup"] = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(b["text"], callback_data=b["data"]) for b in row]
                for row in rows
            ]
        )
    reply_to = payload.get("reply_to")
    if reply_to:
        extra["reply_parameters"] = ReplyParameters(int(reply_to), allow_sending_without_reply=True)
    return extra


def _html_to_plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, render_text(Message(about), language)) for name, about in COMMANDS]
