"""Telegram: chat commands in DMs and groups, and digest delivery (python-telegram-bot v22).

The PTB `Application` runs inside the service's event loop (no `run_polling`) and without its
own JobQueue: the service's APScheduler is the only scheduler. Handlers are thin: parse the
command, call `Subscriptions`, reply with a message of `policywire.chat.wording`, rendered in
`_text` and escaped for Telegram's HTML in `_html`.
"""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
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

from policywire.chat import wording
from policywire.chat.feedback import Feedback, parse_press
from policywire.chat.locale import chat_language, initial_language
from policywire.chat.subscriptions import Subscriptions, place
from policywire.chat.wording import Message, describe
from policywire.deliver.sender import MessageGone, Pacing, RateLimiter
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
# A channel named in a private chat's command: /subscribe @channel ai-act (or its -100… id).
_CHANNEL_ARGUMENT = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}|-100\d+")
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
    ) -> None:
        self.pacing = pacing or TelegramBot.pacing
        self.subscriptions = subscriptions
        self.feedback = feedback  # what story cards' buttons do (None: they answer nothing)
        self.send_now = send_now
        self.poll_timeout = poll_timeout
        # False: start sending only, and receive when told (`set_receiving`): with several
        # workers on one database, one at a time holds the updates lease (coordination/).
        self.receive_updates = receive_updates
        self.replies = RepliesPacer()
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
        await updater.start_polling(
            poll_interval=0.0,
            timeout=timedelta(seconds=self.poll_timeout),
            allowed_updates=Update.ALL_TYPES,
        )

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
        self.app.add_handler(CallbackQueryHandler(self._card_button, pattern=r"^pw:"))
        self.app.add_handler(ChatMemberHandler(self._membership, ChatMemberHandler.MY_CHAT_MEMBER))
        # A command posted in a channel is seen by all its readers: never answered there.
        in_channel = filters.UpdateType.CHANNEL_POSTS & filters.COMMAND
        self.app.add_handler(MessageHandler(in_channel, self._in_channel))
        self.app.add_handler(MessageHandler(filters.COMMAND, self._unknown))
        self.app.add_error_handler(self._on_error)

    def _guarded(self, handler: Handler) -> Handler:
        """Turn a CommandError into a short reply instead of an error-handler trip."""

        async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                await handler(update, context)
            except CommandError as exc:
                await self._say(update, Message(exc.key, exc.arguments))

        return run

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        language = await self._reply_language(update)
        title = _html(Message(wording.WELCOME_TITLE), language)
        text = _html(Message(wording.WELCOME), language)
        if await self._first_poll_running(update):
            text += "\n\n" + _html(Message(wording.FIRST_POLL_RUNNING), language)
        await _reply(update, f"<b>{title}</b>\n{text}", await self._keyboard(update))

    async def _first_poll_running(self, update: Update) -> bool:
        """Right after a start: a subscribed chat gets its digest when the first poll ends."""
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        if row is not None and row.active and row.topics:
            return self.subscriptions.wait_for_first_poll(row)
        return self.subscriptions.first_poll.running()

    async def _help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        language = await self._reply_language(update)
        lines = [f"/{name} — {_html(Message(about), language)}" for name, about in COMMANDS]
        lines.append("\n" + _html(Message(wording.HELP_GROUPS), language))
        if not _shared(update):
            lines.append(_html(Message(wording.HELP_CHANNELS), language))
        await _reply(update, "\n".join(lines))

    async def _topics(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        topics = self.subscriptions.defaults().topics
        lines = [f"<code>{html.escape(t)}</code> — {html.escape(n)}" for t, n in topics.items()]
        if not lines:
            await self._say(update, Message(wording.NO_TOPICS_CONFIGURED))
            return
        await _reply(update, "\n".join(lines))

    async def _subscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self._where(update, context)
        if not where.args:
            await self._say(update, Message(wording.PICK_TOPICS), await self._keyboard(update))
            return
        if not await self._may_change(update, context, where):
            return
        row = await self.subscriptions.subscribe(
            PLATFORM,
            where.chat,
            where.args,
            title=where.title,
            language=self._initial_language(update, where),
        )
        replies = [Message(wording.SUBSCRIBED, {"settings": self._describe(row)})]
        if self.subscriptions.first_poll_pending(row):
            replies.append(Message(wording.FIRST_POLL_RUNNING))
        await self._answer(update, where, *replies)

    async def _unsubscribe(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self._where(update, context)
        if not where.args:
            await self._say(update, Message(wording.WHICH_TOPICS))
            return
        if not await self._may_change(update, context, where):
            return
        row = await self.subscriptions.unsubscribe(PLATFORM, where.chat, where.args)
        if not row.topics:
            await self._answer(update, where, Message(wording.UNSUBSCRIBED_ALL))
            return
        await self._answer(update, where, Message(wording.DONE, {"settings": self._describe(row)}))

    async def _list(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self._where(update, context)
        row = await self.subscriptions.get(PLATFORM, where.chat)
        if row is None or not row.active or not row.topics:
            await self._answer(update, where, Message(wording.CHAT_FOLLOWS_NOTHING))
            return
        await self._answer(update, where, self._describe(row))

    async def _digest(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = await self._where(update, context)
        row = await self.subscriptions.get(PLATFORM, where.chat)
        if row is None or not row.active or not row.topics:
            await self._answer(update, where, Message(wording.NOTHING_TO_SEND))
            return
        if self.subscriptions.wait_for_first_poll(row):  # right after a start: it follows
            await self._answer(update, where, Message(wording.FIRST_POLL_RUNNING))
            return
        if await self.send_now(row) == 0:
            # "Since your last digest" only once there was one.
            nothing = wording.NOTHING_NEW_SINCE_YOURS if row.last_digest_at else wording.NOTHING_YET
            await self._answer(update, where, Message(nothing))

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
        where = await self._where(update, context)
        if not where.args:
            await self._say(update, usage)
            return
        if not await self._may_change(update, context, where):
            return
        value, chat = " ".join(where.args), where.chat
        setters: dict[str, Callable[[str, str, str], Awaitable[DestinationRow]]] = {
            "schedule": self.subscriptions.set_schedule,
            "language": self.subscriptions.set_language,
            "timezone": partial(
                self.subscriptions.set_timezone, language=self._initial_language(update, where)
            ),
        }
        row = await setters[what](PLATFORM, chat, value)
        await self._answer(update, where, Message(wording.SAVED, {"settings": self._describe(row)}))

    async def _toggle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        if not await self._may_change(update, context):
            language = await self._reply_language(update)
            await query.answer(_text(Message(wording.ADMINS_ONLY), language), show_alert=True)
            return
        topic = query.data.removeprefix("t:")
        try:
            _row, on = await self.subscriptions.toggle(
                PLATFORM,
                _chat_id(update),
                topic,
                title=_title(update),
                language=self._initial_language(update),
            )
        except CommandError as exc:
            refusal = _text(Message(exc.key, exc.arguments), await self._reply_language(update))
            await query.answer(refusal[:200], show_alert=True)
            return
        name = self._names().get(topic, topic)
        answer = Message(wording.FOLLOWING if on else wording.STOPPED, {"topic": name})
        await query.answer(_text(answer, await self._reply_language(update))[:200])
        await query.edit_message_reply_markup(await self._keyboard(update))
        if on and self.subscriptions.first_poll_pending(_row):
            await self._say(update, Message(wording.FIRST_POLL_RUNNING))

    async def _card_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
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
            language = await self._reply_language(update)
            await query.answer(_text(Message(wording.ADMINS_ONLY), language), show_alert=True)
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
        await self._say(update, Message(wording.UNKNOWN_COMMAND))

    async def _in_channel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A reply would go to every reader of the channel: say why in the log instead."""
        chat = update.effective_chat
        log.info(
            "telegram: a command posted in channel %s was ignored; channels are managed from "
            "a private chat with the bot (/subscribe @channel topic)",
            chat.username or chat.id if chat is not None else "-",
        )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        where = chat.id if chat is not None else "-"
        log.error(
            "telegram handler failed (chat %s): %s", where, context.error, exc_info=context.error
        )

    # --- helpers ---------------------------------------------------------------------------

    def _names(self) -> Mapping[str, str]:
        return self.subscriptions.defaults().topics

    async def _reply_language(self, update: Update) -> str:
        """The language of a reply in this chat: its setting, else (in a private chat) the
        user's Telegram language, else the configured default (`policywire.chat.locale`)."""
        row = await self.subscriptions.get(PLATFORM, _chat_id(update))
        return chat_language(
            row.language if row is not None else None,
            _client_language(update),
            self.subscriptions.defaults().language,
            shared=_shared(update),
        )

    def _initial_language(self, update: Update, where: _Where | None = None) -> str:
        """What a chat's subscription starts in: a group (or a channel managed from a private
        chat) never takes a member's language."""
        shared = _shared(update) or (where is not None and where.channel is not None)
        return initial_language(
            _client_language(update), self.subscriptions.defaults().language, shared=shared
        )

    async def _answer(self, update: Update, where: _Where, *messages: Message) -> None:
        """Reply with `messages`, one a line; about a channel, each says which one."""
        if where.channel is not None:
            messages = tuple(
                Message(wording.FOR_CHANNEL, {"channel": where.channel, "reply": m})
                for m in messages
            )
        language = await self._reply_language(update)
        await _reply(update, "\n".join(_html(m, language) for m in messages))

    async def _where(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> _Where:
        """Whose subscription a command is about: this chat (or forum topic), or the channel
        a private chat names first (/subscribe @channel ai-act), once its admin rights hold."""
        args = list(context.args or ())
        if _shared(update) or not args or not _CHANNEL_ARGUMENT.fullmatch(args[0]):
            return _Where(_chat_id(update), args, title=_title(update))
        user = update.effective_user
        assert user is not None  # a private chat's message has its sender
        return await self._channel(context, args[0], user.id, args[1:])

    async def _channel(
        self, context: ContextTypes.DEFAULT_TYPE, name: str, user_id: int, args: list[str]
    ) -> _Where:
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
        return _Where(str(chat.id), args, channel=label, title=chat.title or label)

    async def _say(
        self, update: Update, message: Message, markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await _reply(update, _html(message, await self._reply_language(update)), markup)

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

    async def _may_change(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, where: _Where | None = None
    ) -> bool:
        """In groups only admins change the subscription; anyone may in a private chat (a
        channel named there was checked by `_where`)."""
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
            await self._say(update, Message(wording.ADMINS_ONLY_SUBSCRIPTION))
        return False


@dataclass(frozen=True, slots=True)
class _Where:
    """Whose subscription a command changes, and the command's arguments after that."""

    chat: str  # as `Subscriptions` names it (a forum topic: "chat/thread")
    args: list[str]
    channel: str | None = None  # a channel managed from a private chat: its @name
    title: str = ""


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
        if reply and self.limiter is not None:
            await self.limiter.wait_turn(str(data.get("chat_id")))
        try:
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


def _chat_id(update: Update) -> str:
    """This chat as `Subscriptions` names it; a forum topic is a chat of its own."""
    chat = update.effective_chat
    assert chat is not None
    message = update.effective_message
    topic = message is not None and message.is_topic_message
    return place(str(chat.id), message.message_thread_id if message and topic else None)


def _title(update: Update) -> str:
    chat = update.effective_chat
    if chat is None:
        return ""
    return chat.title or chat.username or chat.full_name or ""


def _client_language(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user is not None else None


def _shared(update: Update) -> bool:
    """A group, supergroup or channel: the chat's setting holds, not one member's language."""
    chat = update.effective_chat
    return chat is None or chat.type != ChatType.PRIVATE


def _menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, _text(Message(about), language)) for name, about in COMMANDS]


def _text(message: Message, language: str) -> str:
    return message.text(language)


def _html(message: Message, language: str) -> str:
    """The rendered message as Telegram HTML text: keys are plain text, so all of it is escaped."""
    return html.escape(_text(message, language), quote=False)  # only <, > and & need escaping


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
