"""The fake Telegram server is only useful if it answers like Telegram; these tests drive it
with the real python-telegram-bot client, so PTB's own request layer and exception mapping
are what judge it."""

from __future__ import annotations

import asyncio
import datetime as dtm
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import FakeTelegram, parse_html

TOKEN = "123456:TEST-token"


class ManualClock:
    """Time for the rate windows that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # PTB 22 warns on every int time period (RetryAfter builds one) unless this opt-in is set,
    # and our pytest settings turn warnings into errors.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    yield


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(tokens={TOKEN}) as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=tg.base_url) as client:
        yield client


# -- basics ----------------------------------------------------------------------------------


async def test_get_me_describes_the_bot_with_the_tokens_id(bot: telegram.Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.id == 123456  # the token's numeric part, as on Telegram
    assert me.username == "policywire_test_bot"
    assert me.can_join_groups is True


async def test_unknown_token_is_rejected_when_tokens_are_configured() -> None:
    async with FakeTelegram(tokens={TOKEN}) as tg:
        wrong = telegram.Bot("999:WRONG", base_url=tg.base_url)
        with pytest.raises(InvalidToken):
            await wrong.initialize()
        await wrong.shutdown()
        assert tg.tokens_seen == {"999:WRONG"}


async def test_answers_json_bodies_and_unknown_methods_like_telegram(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{TOKEN}"
        async with http.post(f"{url}/sendMessage", json={"chat_id": 42, "text": "hi"}) as ok:
            assert ok.status == 200
            assert ok.content_type == "application/json"
            body = await ok.json()
        async with http.post(f"{url}/noSuchMethod", data={"x": "1"}) as missing:
            error = await missing.json()
            status = missing.status

    assert body["ok"] is True
    assert body["result"]["chat"]["id"] == 42
    assert body["result"]["text"] == "hi"
    assert (status, error) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


# -- sendMessage and HTML --------------------------------------------------------------------


async def test_html_message_is_recorded_with_its_visible_text(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])
    html = '<b>AI Act</b> &amp; you: <a href="https://example.org/?a=1&amp;b=2">read</a> 😀'

    message = await bot.send_message(
        -100500,
        html,
        parse_mode="HTML",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        reply_markup=keyboard,
    )

    assert message.text == "AI Act & you: read 😀"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 6),
        ("text_link", 14, 4),
    ]
    assert message.entities[1].url == "https://example.org/?a=1&b=2"
    [recorded] = await tg.wait_for_messages(1)
    assert recorded.chat_id == -100500
    assert recorded.text == html
    assert recorded.plain_text == "AI Act & you: read 😀"
    assert recorded.parse_mode == "HTML"
    assert recorded.link_preview_disabled is True
    assert recorded.reply_markup == keyboard.to_dict()
    assert tg.sent_to(-100500) == [recorded]


async def test_message_ids_increase_per_chat_and_replies_must_exist(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    first = await bot.send_message(1, "one")
    second = await bot.send_message(1, "two", reply_parameters=ReplyParameters(first.message_id))
    other_chat = await bot.send_message(2, "elsewhere")

    assert (first.message_id, second.message_id, other_chat.message_id) == (1, 2, 1)
    assert second.reply_to_message is not None
    assert second.reply_to_message.text == "one"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(1, "three", reply_parameters=ReplyParameters(99))


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        # offsets count UTF-8 bytes: "é" is two
        ("é <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<a>x</a>", 'Tag "a" must have a non-empty "href" at byte offset 0'),
        ('<a href="x', "Unclosed start tag at byte offset 0"),
    ],
)
async def test_invalid_html_is_rejected_like_telegram(
    tg: FakeTelegram, bot: telegram.Bot, html: str, reason: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as caught:
        await bot.send_message(1, html, parse_mode="HTML")

    # PTB strips "Bad Request: " and lower-cases the rest of the description.
    assert caught.value.message.lower() == f"can't parse entities: {reason}".lower()
    assert tg.sent == []


@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        ("Tom & Jerry, AT&T", "Tom & Jerry, AT&T", []),
        ("&#128512;&#x41;&lt;&gt;&quot;", '😀A<>"', []),
        ("😀<i>x</i>", "😀x", [{"type": "italic", "offset": 2, "length": 1}]),
        ("<B>x</B>", "x", [{"type": "bold", "offset": 0, "length": 1}]),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            "<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>",
            "qs",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 1},
                {"type": "spoiler", "offset": 1, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">s</span>'
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "s👍",
            [
                {"type": "spoiler", "offset": 0, "length": 1},
                {
                    "type": "custom_emoji",
                    "offset": 1,
                    "length": 2,  # 👍 is outside the BMP: a surrogate pair
                    "custom_emoji_id": "5368324170671202286",
                },
            ],
        ),
        ("  <b> padded </b>\n", "padded", []),  # trimming happens after send; see below
    ],
)
def test_valid_html_parses_to_text_and_utf16_entities(
    html: str, text: str, entities: list[dict[str, object]]
) -> None:
    parsed = parse_html(html)

    assert parsed.text.strip() == text
    if entities:
        assert list(parsed.entities) == entities


async def test_sending_trims_whitespace_and_shifts_entities(bot: telegram.Bot) -> None:
    message = await bot.send_message(1, "  <b> padded </b>\n", parse_mode="HTML")

    assert message.text == "padded"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 6)]


async def test_lenient_mode_shows_unknown_entities_literally_like_telegram() -> None:
    async with (
        FakeTelegram(strict_html=False) as tg,
        telegram.Bot(TOKEN, base_url=tg.base_url) as bot,
    ):
        message = await bot.send_message(1, "a&nbsp;b <a>x.org</a>", parse_mode="HTML")

    assert message.text == "a&nbsp;b x.org"
    assert message.entities[0].url == "x.org"


async def test_length_is_counted_in_utf16_units_after_parsing(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    await bot.send_message(1, "😀" * 2048)  # 4096 UTF-16 units
    await bot.send_message(1, "<b>" + "&amp;" * 4096 + "</b>", parse_mode="HTML")

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "😀" * 2048 + "a")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "a" * 4097)
    assert [len(m.plain_text) for m in tg.sent] == [2048, 4096]


@pytest.mark.parametrize(("text", "parse_mode"), [("   ", None), ("<b></b> ", "HTML")])
async def test_empty_text_is_rejected(bot: telegram.Bot, text: str, parse_mode: str | None) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1, text, parse_mode=parse_mode)


# -- injected faults -------------------------------------------------------------------------


async def test_429_raises_retry_after_once(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.fail_next("sendMessage", retry_after=2)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "hello")
    await bot.send_message(1, "hello again")

    assert caught.value.retry_after == dtm.timedelta(seconds=2)
    assert [m.plain_text for m in tg.sent] == ["hello again"]
    assert tg.stats.rejected_429 == 1


async def test_faults_can_target_one_chat_and_repeat(tg: FakeTelegram, bot: telegram.Bot) -> None:
    fault = tg.fail_next("sendMessage", status=403, chat_id=7, times=2)

    await bot.send_message(8, "other chat is fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(7, "x")
    await bot.send_message(7, "fault used up")

    assert fault.hits == 2
    assert tg.faults == []


async def test_blocking_the_bot_makes_every_send_forbidden(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    user = tg.user(first_name="Ada", language_code="it")
    chat = tg.private_chat(user)
    tg.push_my_chat_member(chat, user, "kicked", old_status="member")

    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(chat["id"], "x")
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"


async def test_group_migration_raises_chat_migrated(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.fail_next("sendMessage", migrate_to_chat_id=-1001234)
    with pytest.raises(ChatMigrated) as injected:
        await bot.send_message(-55, "x")

    supergroup = tg.migrate(-55)
    with pytest.raises(ChatMigrated) as persistent:
        await bot.send_message(-55, "x")
    await bot.send_message(supergroup["id"], "new home")

    assert injected.value.new_chat_id == -1001234
    assert persistent.value.new_chat_id == supergroup["id"]


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_raise_network_error(
    tg: FakeTelegram, bot: telegram.Bot, status: int
) -> None:
    tg.fail_next(None, status=status)

    with pytest.raises(NetworkError) as caught:
        await bot.send_message(1, "x")
    assert not isinstance(caught.value, TimedOut)


async def test_dropped_connection_raises_network_error(tg: FakeTelegram, bot: telegram.Bot) -> None:
    tg.fail_next("sendMessage", drop=True)

    with pytest.raises(NetworkError, match="disconnected"):
        await bot.send_message(1, "x")
    await bot.send_message(1, "the next one goes through")


async def test_delay_longer_than_read_timeout_raises_timed_out(tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", delay=5)
    impatient = HTTPXRequest(read_timeout=0.1)

    async with telegram.Bot(TOKEN, base_url=tg.base_url, request=impatient) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(1, "x")
    assert tg.sent == []


# -- commands, members, callbacks ------------------------------------------------------------


async def test_commands_are_recorded_per_scope_and_language(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("digest", "Digest")])
    await bot.set_my_commands(
        [BotCommand("start", "Inizia")], scope=BotCommandScopeChat(-77), language_code="it"
    )

    assert tg.commands_for() == [
        {"command": "start", "description": "Start"},
        {"command": "digest", "description": "Digest"},
    ]
    italian = await bot.get_my_commands(scope=BotCommandScopeChat(-77), language_code="it")
    assert [(c.command, c.description) for c in italian] == [("start", "Inizia")]
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Name", "x")])


async def test_chat_member_status_follows_scripted_admins(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    group = tg.supergroup(title="Policy nerds")
    owner, admin, member = tg.user(1, "Olga"), tg.user(2, "Ada"), tg.user(3, "Max")
    tg.set_admins(group["id"], [admin["id"]], creator=owner["id"])

    statuses = [
        (await bot.get_chat_member(group["id"], user["id"])).status
        for user in (owner, admin, member)
    ]
    admins = await bot.get_chat_administrators(group["id"])

    assert statuses == ["creator", "administrator", "member"]
    assert [(m.user.id, m.status) for m in admins] == [(1, "creator"), (2, "administrator")]
    assert (await bot.get_chat(group["id"])).title == "Policy nerds"


async def test_callback_queries_can_be_answered_once_and_messages_edited(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    user = tg.user()
    chat = tg.private_chat(user)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Mute", callback_data="mute")]])
    sent = await bot.send_message(chat["id"], "Digest", reply_markup=keyboard)
    tg.push_callback_query(chat, user, "mute")

    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert query.message is not None
    assert (query.data, query.message.message_id) == ("mute", sent.message_id)
    assert await bot.answer_callback_query(query.id, text="Muted")
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):
        await bot.answer_callback_query(query.id)

    edited = await bot.edit_message_text(
        "<i>Muted</i>", chat["id"], sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Muted"
    assert edited.reply_markup is None  # no markup sent with the edit removes the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<i>Muted</i>", chat["id"], sent.message_id, parse_mode="HTML")
    assert [e.plain_text for e in tg.edits] == ["Muted"]
    assert await bot.delete_message(chat["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(chat["id"], sent.message_id)


# -- getUpdates ------------------------------------------------------------------------------


async def test_long_poll_wakes_when_an_update_is_pushed(
    tg: FakeTelegram, bot: telegram.Bot
) -> None:
    user = tg.user()
    poll = asyncio.create_task(bot.get_updates(timeout=dtm.timedelta(seconds=10)))
    await tg.wait_for_calls("getUpdates")
    tg.push_message(tg.private_chat(user), user, "/start@policywire_test_bot now")

    async with asyncio.timeout(1):  # far less than the poll's 10 s
        [update] = await poll
    assert update.message is not None
    entity = update.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 26)

    # Asking from the next offset confirms the update: it is not delivered again.
    assert await bot.get_updates(offset=update.update_id + 1) == ()
    assert tg.pending_updates == []


async def test_a_second_poller_terminates_the_first(tg: FakeTelegram) -> None:
    async with (
        telegram.Bot(TOKEN, base_url=tg.base_url) as first,
        telegram.Bot(TOKEN, base_url=tg.base_url) as second,
    ):
        old_poll = asyncio.create_task(first.get_updates(timeout=dtm.timedelta(seconds=10)))
        await tg.wait_for_calls("getUpdates")
        new_poll = asyncio.create_task(second.get_updates(timeout=dtm.timedelta(seconds=0)))

        with pytest.raises(Conflict, match=r"(?i)terminated by other getupdates"):
            await old_poll
        assert await new_poll == ()


async def test_application_replies_to_start_and_shuts_down_cleanly(tg: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html("<b>Benvenuto!</b>")

    app = Application.builder().token(TOKEN).base_url(tg.base_url).job_queue(None).build()
    app.add_handler(CommandHandler("start", start))
    user = tg.user(first_name="Ada", language_code="it")
    chat = tg.private_chat(user)

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=1))
        tg.push_message(chat, user, "/start")
        [reply] = await tg.wait_for_messages(1)
        await app.updater.stop()
        await app.stop()

    assert (reply.chat_id, reply.plain_text, reply.parse_mode) == (chat["id"], "Benvenuto!", "HTML")
    assert reply.reply_to_message_id is None
    assert tg.pending_updates == []  # PTB confirmed the update on shutdown


async def test_wait_for_messages_gives_up_with_a_useful_error(tg: FakeTelegram) -> None:
    with pytest.raises(TimeoutError, match="no 1 messages"):
        await tg.wait_for_messages(1, timeout=0.05)


# -- flood control ---------------------------------------------------------------------------


async def test_rate_enforcement_answers_429_per_chat_with_retry_after() -> None:
    clock = ManualClock()
    async with (
        FakeTelegram(enforce_rates=True, clock=clock) as tg,
        telegram.Bot(TOKEN, base_url=tg.base_url) as bot,
    ):
        await bot.send_message(1, "first")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1, "too soon")
        await bot.send_message(2, "another chat has its own window")
        clock.advance(1.0)
        await bot.send_message(1, "after the window")

    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert (tg.stats.accepted, tg.stats.rejected_429) == (3, 1)


async def test_rate_enforcement_limits_groups_per_minute_and_all_chats_per_second() -> None:
    clock = ManualClock()
    limits = FakeTelegram(
        enforce_rates=True,
        clock=clock,
        per_chat_per_second=100,
        global_per_second=5,
        group_per_minute=3,
    )
    async with (
        limits as tg,
        telegram.Bot(TOKEN, base_url=tg.base_url) as bot,
    ):
        for _ in range(3):
            await bot.send_message(-42, "group post")
        with pytest.raises(RetryAfter) as group_limit:
            await bot.send_message(-42, "fourth within a minute")
        await bot.send_message(7, "private chats are not in the group window")
        await bot.send_message(8, "fifth this second")
        with pytest.raises(RetryAfter):
            await bot.send_message(9, "sixth this second")
        clock.advance(59.5)
        with pytest.raises(RetryAfter) as still_limited:
            await bot.send_message(-42, "not yet")
        clock.advance(0.5)
        await bot.send_message(-42, "a minute later")

    assert group_limit.value.retry_after == dtm.timedelta(seconds=60)
    assert still_limited.value.retry_after == dtm.timedelta(seconds=1)
    assert tg.stats.rejected_429 == 3
