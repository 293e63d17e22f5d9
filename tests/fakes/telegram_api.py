"""A local fake of the Telegram Bot API, for tests and benchmarks.

It is a real HTTP server on 127.0.0.1 speaking the Bot API wire protocol, so a real
python-telegram-bot ``Bot``/``Application`` built with ``.base_url(tg.base_url)`` talks to it
unchanged::

    async with FakeTelegram() as tg:
        bot = telegram.Bot("123:ABC", base_url=tg.base_url)
        user = tg.user(first_name="Ada", language_code="it")
        tg.push_message(tg.private_chat(user), user, "/start")   # scripted update
        tg.fail_next("sendMessage", status=429, retry_after=2)   # injected fault
        ...
        [message] = await tg.wait_for_messages(1)                # what the bot sent
        assert message.plain_text == "Ciao"

What is modelled, and how faithfully:

* Requests: JSON bodies, ``application/x-www-form-urlencoded`` (what PTB sends: every value a
  string, objects JSON-encoded), multipart and query strings are all accepted. Responses are
  ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
  "parameters"?}`` with the matching HTTP status, exactly the shape PTB maps to its exceptions.
* HTML: ``parse_html`` follows tdlib's parser (the one behind the Bot API), including its error
  texts and UTF-8 byte offsets. With ``strict_html=True`` (the default) it is stricter than
  Telegram in two places, to catch renderer bugs Telegram would let through silently:
  an unknown named reference such as ``&nbsp;`` is an error (Telegram shows it literally), and
  ``<a>`` needs a non-empty ``href`` (Telegram links the inner text instead).
* Lengths are counted in UTF-16 code units after parsing and trimming, as Telegram does.
* Markdown parse modes are accepted but not parsed: the text is recorded as-is.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from aiohttp import web

from tests.fakes.telegram_webhook import Webhook, WebhookDelivery

JSON = dict[str, Any]
T = TypeVar("T")

MAX_MESSAGE_UTF16: Final = 4096
EDIT_WINDOW_SECONDS: Final = 48 * 3600

# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------

# tdlib's is_space() counts NUL as a space; reading past the end yields NUL like a C string,
# which is what makes every scanning loop below stop at the end of the text.
_SPACES: Final = frozenset(b" \t\r\n\x00\v\f")
_DIGITS: Final = frozenset(b"0123456789")
_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
_LETTERS: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_TOKEN: Final = _LETTERS | _DIGITS | frozenset(b".-")
_NAMED_REFERENCES: Final = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_TAG_ENTITY_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is the reason Telegram would give."""


@dataclass(frozen=True)
class ParsedText:
    """Visible text and its entities (Bot API JSON, UTF-16 offsets) after parsing."""

    text: str
    entities: tuple[JSON, ...] = ()


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    output_pos: int  # where the tag's content starts in the output, for <a> without href
    source_pos: int


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_reference(src: bytes, pos: int, *, strict: bool) -> tuple[str, int] | None:
    """Decode the character reference at ``src[pos] == '&'`` as tdlib does.

    Returns the character and the position after the reference, or None when the ampersand
    is literal text. Like Telegram, the ``;`` is optional and bad numbers are literal.
    """
    end = pos + 1
    if _byte_at(src, end) == ord("#"):
        end += 1
        is_hex = _byte_at(src, end) == ord("x")
        end += is_hex
        digits_start = end
        allowed = _HEX_DIGITS if is_hex else _DIGITS
        while _byte_at(src, end) in allowed and end < len(src):
            end += 1
        digits = src[digits_start:end]
        code = int(digits, 16 if is_hex else 10) if digits else 0
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
        char = chr(code)
    else:
        while _byte_at(src, end) in _LETTERS:
            end += 1
        name = src[pos + 1 : end]
        known = _NAMED_REFERENCES.get(name)
        if known is None:
            # Only "&name;" looks like an intended reference; "AT&T" or "Tom & Jerry" do not.
            if strict and name and _byte_at(src, end) == ord(";"):
                reference = name.decode()
                raise EntityParseError(
                    f'Unsupported HTML entity "&{reference};" at byte offset {pos}'
                )
            return None
        char = known
    if _byte_at(src, end) == ord(";"):
        end += 1
    return char, end


def _byte_at(src: bytes, index: int) -> int:
    return src[index] if index < len(src) else 0


class _HtmlParser:
    """One pass over the UTF-8 bytes, so error offsets are byte offsets like Telegram's."""

    def __init__(self, source: str, *, strict: bool) -> None:
        self.src = source.encode()
        self.strict = strict
        self.pos = 0
        self.out = bytearray()
        self.utf16 = 0
        self.open_tags: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def parse(self) -> ParsedText:
        while self.pos < len(self.src):
            byte = self.src[self.pos]
            if byte == ord("&") and self._reference():
                continue
            if byte == ord("<"):
                self._tag()
            else:
                self._literal(byte)
        if self.open_tags:
            name = self.open_tags[-1].name
            raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        try:
            text = self.out.decode()
        except UnicodeDecodeError:
            # &#xD800; and friends decode to lone surrogates.
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            ) from None
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)  # a language only survives inside <pre>
        ordered = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText(text, tuple(ordered))

    def _literal(self, byte: int) -> None:
        self.out.append(byte)
        if byte & 0xC0 != 0x80:  # first byte of a character; 4-byte ones are surrogate pairs
            self.utf16 += 2 if byte >= 0xF0 else 1
        self.pos += 1

    def _reference(self) -> bool:
        decoded = _decode_reference(self.src, self.pos, strict=self.strict)
        if decoded is None:
            return False
        char, self.pos = decoded
        self.out += char.encode("utf-8", "surrogatepass")
        self.utf16 += 2 if ord(char) > 0xFFFF else 1
        return True

    def _tag(self) -> None:
        if _byte_at(self.src, self.pos + 1) == ord("/"):
            self._end_tag(self.pos)
        else:
            self._start_tag(self.pos)

    def _start_tag(self, start: int) -> None:
        i = start + 1
        while self._at(i) not in _SPACES and self._at(i) != ord(">"):
            i += 1
        if i >= len(self.src):
            raise EntityParseError(f"Unclosed start tag at byte offset {start}")
        name = self.src[start + 1 : i].decode().lower()
        if name not in _TAG_ENTITY_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {start}')
        argument, i = self._attributes(name, start, i)
        self._check_argument(name, argument, start)
        self.open_tags.append(_OpenTag(name, argument, self.utf16, len(self.out), start))
        self.pos = i + 1

    def _attributes(self, tag: str, start: int, i: int) -> tuple[str, int]:
        """Read attributes up to the closing '>'; return the one that matters and its index."""
        argument = ""
        while self._at(i) != ord(">"):
            i = self._skip_spaces(i)
            if self._at(i) == ord(">"):
                break
            name_start = i
            while self._at(i) not in _SPACES and self._at(i) not in b"=>":
                i += 1
            attribute = self.src[name_start:i].decode()
            if not attribute:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {start}'
                )
            i = self._skip_spaces(i)
            if self._at(i) != ord("="):
                if tag == "blockquote" and attribute == "expandable":
                    argument = "expandable"  # the one attribute that takes no value
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {start}'
                )
            i = self._skip_spaces(i + 1)
            if i >= len(self.src):
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {start}')
            value, i = self._attribute_value(i)
            if i >= len(self.src):
                raise EntityParseError(f"Unclosed start tag at byte offset {start}")
            argument = _tag_argument(tag, attribute, value, argument)
        return argument, i

    def _attribute_value(self, i: int) -> tuple[str, int]:
        quote = self._at(i)
        if quote not in b"'\"":
            # An unquoted HTML name token: letters, digits, '.' and '-'; case-insensitive.
            token_start = i
            while self._at(i) in _NAME_TOKEN and i < len(self.src):
                i += 1
            if self._at(i) not in _SPACES and self._at(i) != ord(">"):
                raise EntityParseError(f"Unexpected end of name token at byte offset {token_start}")
            return self.src[token_start:i].decode().lower(), i
        i += 1
        value = bytearray()
        while i < len(self.src) and self.src[i] != quote:
            decoded = _decode_reference(self.src, i, strict=self.strict)
            if decoded is None:
                value.append(self.src[i])
                i += 1
            else:
                char, i = decoded
                value += char.encode("utf-8", "surrogatepass")
        if self._at(i) == quote:
            i += 1
        return value.decode(errors="replace"), i

    def _check_argument(self, tag: str, argument: str, start: int) -> None:
        if tag == "span" and argument != "spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {start}'
            )
        if tag == "tg-emoji" and not argument.isdigit():
            raise EntityParseError("Invalid custom emoji identifier specified")
        if tag == "a" and not argument and self.strict:
            raise EntityParseError(f'Tag "a" must have a non-empty "href" at byte offset {start}')

    def _end_tag(self, start: int) -> None:
        if not self.open_tags:
            raise EntityParseError(f"Unexpected end tag at byte offset {start}")
        i = start + 2
        while self._at(i) not in _SPACES and self._at(i) != ord(">"):
            i += 1
        end_name = self.src[start + 2 : i].decode().lower()
        i = self._skip_spaces(i)
        if self._at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {start}")
        tag = self.open_tags.pop()
        if end_name and end_name != tag.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {start}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        self._close(tag)
        self.pos = i + 1

    def _close(self, tag: _OpenTag) -> None:
        length = self.utf16 - tag.utf16_offset
        if length <= 0:
            return  # Telegram silently drops empty entities
        entity: JSON = {
            "type": _TAG_ENTITY_TYPES[tag.name],
            "offset": tag.utf16_offset,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.argument or self.out[tag.output_pos :].decode(errors="replace")
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "blockquote" and tag.argument:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "code" and tag.argument:
            entity["language"] = tag.argument
        elif tag.name == "pre" and self._wraps_code_with_language(entity):
            # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
            entity["language"] = self.entities.pop()["language"]
        self.entities.append(entity)

    def _wraps_code_with_language(self, pre: JSON) -> bool:
        if not self.entities:
            return False
        last = self.entities[-1]
        return (
            last["type"] == "code"
            and "language" in last
            and (last["offset"], last["length"]) == (pre["offset"], pre["length"])
        )

    def _at(self, index: int) -> int:
        return _byte_at(self.src, index)

    def _skip_spaces(self, i: int) -> int:
        while i < len(self.src) and self.src[i] in _SPACES:
            i += 1
        return i


def _tag_argument(tag: str, attribute: str, value: str, current: str) -> str:
    """The attribute value a tag keeps (href, language, spoiler class, emoji id), if any."""
    if tag == "a" and attribute == "href":
        return value
    if tag == "code" and attribute == "class" and value.startswith("language-"):
        return value.removeprefix("language-")
    if tag == "span" and attribute == "class" and value.startswith("tg-"):
        return value.removeprefix("tg-")
    if tag == "tg-emoji" and attribute == "emoji-id":
        return value
    return current  # other attributes are ignored, as Telegram does


def parse_html(source: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML into visible text and entities, or raise EntityParseError."""
    return _HtmlParser(source, strict=strict).parse()


def trim(parsed: ParsedText) -> ParsedText:
    """Strip surrounding whitespace as Telegram does, shifting and clipping the entities."""
    text = parsed.text.strip()
    if not text:
        return ParsedText("")
    lead = _utf16_len(parsed.text[: len(parsed.text) - len(parsed.text.lstrip())])
    size = _utf16_len(text)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(text, tuple(entities))


# --------------------------------------------------------------------------------------------
# Records, faults and rates
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: HTTP status, Telegram description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters or {}

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class ApiCall:
    """One HTTP request as received, whatever the answer was."""

    method: str
    params: JSON
    token: str
    at: float


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted (sendMessage) or an accepted edit of one."""

    method: str
    chat_id: int
    message_id: int
    text: str  # as sent, markup included
    parse_mode: str | None
    plain_text: str  # what a user would see
    entities: tuple[JSON, ...]
    link_preview_disabled: bool
    reply_markup: JSON | None
    reply_to_message_id: int | None
    message_thread_id: int | None
    received_at: float  # the fake's clock
    token: str


@dataclass
class Fault:
    """A scripted failure; see ``FakeTelegram.fail_next``. ``hits`` counts uses."""

    method: str | None
    chat_id: int | str | None
    error: ApiError | None
    delay: float
    drop: bool
    remaining: int | None
    hits: int = 0

    def matches(self, method: str, chat_id: object) -> bool:
        if self.method is not None and self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


@dataclass
class Stats:
    requests: int = 0
    accepted: int = 0  # sendMessage and edit calls that succeeded
    rejected_429: int = 0  # every 429, from flood control or injected
    errors: int = 0  # every non-2xx answer


class _SlidingWindow:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.stamps: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.period:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return 0.0
        return self.stamps[0] + self.period - now


class RateLimiter:
    """Telegram's documented flood limits as sliding windows over the fake's clock."""

    def __init__(self, per_chat_per_second: int, global_per_second: int, group_per_minute: int):
        self._global = _SlidingWindow(global_per_second, 1.0)
        self._per_chat: defaultdict[int, _SlidingWindow] = defaultdict(
            lambda: _SlidingWindow(per_chat_per_second, 1.0)
        )
        self._per_group: defaultdict[int, _SlidingWindow] = defaultdict(
            lambda: _SlidingWindow(group_per_minute, 60.0)
        )

    def admit(self, chat_id: int, now: float) -> int | None:
        """Record a send and return None, or return retry_after seconds without recording."""
        windows = [self._global, self._per_chat[chat_id]]
        if chat_id < 0:  # groups, supergroups and channels
            windows.append(self._per_group[chat_id])
        wait = max(window.wait_needed(now) for window in windows)
        if wait > 0:
            return max(1, math.ceil(wait))
        for window in windows:
            window.stamps.append(now)
        return None


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


class Params:
    """Typed access to request parameters, whichever encoding the client used.

    Form-encoded values are strings (PTB JSON-encodes objects and numbers), JSON bodies carry
    native values; each getter accepts both.
    """

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def number(self, name: str, default: float) -> float:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from None


async def _read_params(request: web.Request) -> Params:
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise ApiError(400, "Bad Request: invalid JSON in the request body") from None
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: the request body must be a JSON object")
            raw.update(body)
        else:
            raw.update(await request.post())  # urlencoded and multipart alike
    return Params(raw)


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------

_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_HTTPS_WEBHOOK = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_DEFAULT_DESCRIPTIONS: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: _CONFLICT_POLL,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"
# Without allowed_updates, Telegram leaves these out.
_OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_RATE_LIMITED: Final = frozenset({"sendmessage", "editmessagetext", "editmessagereplymarkup"})

Handler = Callable[[Params, str], Awaitable[Any]]


class FakeTelegram:
    """A scriptable Bot API server on 127.0.0.1; use as ``async with FakeTelegram() as tg``.

    Scripting: ``user``/``private_chat``/``group``/``supergroup``/``channel`` build and register
    objects; ``push_message``, ``push_callback_query``, ``push_my_chat_member`` and
    ``push_update`` queue updates for getUpdates; ``set_admins``, ``set_bot_status``,
    ``migrate`` and ``forum_topic`` set chat state. In a channel, getChatMember answers only
    when the bot is one of its admins (``set_admins``), as on Telegram.
    Faults: ``fail_next`` (one-shot or repeated errors, delays, dropped connections) and the
    ``enforce_rates`` flood control.
    Observing: ``sent``/``sent_to``, ``edits``, ``calls``/``calls_to``, ``commands_for``,
    ``callback_answers``, ``chat_actions``, ``deleted``, ``stats``, and the waiters
    ``wait_for_messages``/``wait_for_calls``.
    """

    def __init__(
        self,
        *,
        tokens: set[str] | None = None,
        bot_username: str = "policywire_test_bot",
        bot_first_name: str = "PolicyWire",
        bot_id: int | None = None,
        strict_html: bool = True,
        auto_chats: bool = True,
        enforce_rates: bool = False,
        per_chat_per_second: int = 1,
        global_per_second: int = 30,
        group_per_minute: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the fake; nothing listens until ``start()`` / ``async with``.

        tokens: when given, other tokens get 401 Unauthorized (PTB's InvalidToken).
        bot_id: defaults to the numeric part of the only configured token, as on Telegram.
        auto_chats: unknown chat ids are created on first use instead of "chat not found".
        clock: time source for rate windows and ``received_at``; pass a fake to control it.
        """
        self.tokens = tokens
        self.strict_html = strict_html
        self.auto_chats = auto_chats
        self.clock = clock
        self.bot_user: JSON = {
            "id": bot_id or _id_from_tokens(tokens) or 7_000_000_001,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.rate_limiter = (
            RateLimiter(per_chat_per_second, global_per_second, group_per_minute)
            if enforce_rates
            else None
        )
        self.stats = Stats()
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.sent: list[SentMessage] = []
        self.sent_by_chat: defaultdict[int, list[SentMessage]] = defaultdict(list)
        self.edits: list[SentMessage] = []
        self.calls: list[ApiCall] = []
        self.tokens_seen: set[str] = set()
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.callback_answers: list[JSON] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.deleted: list[tuple[int, int]] = []
        self.faults: list[Fault] = []
        self._updates: list[JSON] = []
        self._allowed_updates: frozenset[str] | None = None
        self._messages: defaultdict[int, dict[int, JSON]] = defaultdict(dict)
        self._next_message_id: defaultdict[int, int] = defaultdict(lambda: 1)
        self._owners: dict[int, int] = {}
        self._admins: defaultdict[int, set[int]] = defaultdict(set)
        self._statuses: dict[tuple[int, int], str] = {}
        self._migrations: dict[int, int] = {}
        self._forum_topics: defaultdict[int, dict[int, str]] = defaultdict(dict)
        self._open_callbacks: set[str] = set()
        self._ids = itertools.count(1001)
        self._update_ids = itertools.count(500_000_001)
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.webhooks = WebhookDelivery(self._next_for_webhook, self._forget_update, self._event)
        self._handlers: dict[str, Handler] = {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setwebhook": self._set_webhook,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "sendchataction": self._send_chat_action,
            "deletemessage": self._delete_message,
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client went away must not linger;
        # a short shutdown_timeout keeps teardown fast even if one does.
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self.webhooks.start()

    async def close(self) -> None:
        self._closing = True
        self._bump()  # wake long polls and delays so they answer before shutdown
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """PTB's base_url: requests go to ``f"{base_url}{token}/{method}"``."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    # -- building chats and users ------------------------------------------------------------

    def user(
        self,
        id: int | None = None,
        first_name: str = "Ada",
        *,
        language_code: str | None = "en",
        username: str | None = None,
        last_name: str | None = None,
    ) -> JSON:
        user: JSON = {"id": id or next(self._ids), "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value is not None})
        self.users[user["id"]] = user
        return user

    def private_chat(self, user: JSON) -> JSON:
        chat: JSON = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self.users[user["id"]] = user
        return self._register(chat)

    def group(self, id: int | None = None, title: str = "Test group") -> JSON:
        chat_id = id or -(4_000_000_000 + next(self._ids))
        return self._register({"id": chat_id, "type": "group", "title": title})

    def supergroup(
        self,
        id: int | None = None,
        title: str = "Test supergroup",
        *,
        username: str | None = None,
        is_forum: bool = False,
    ) -> JSON:
        chat: JSON = {
            "id": id or -(1_000_000_000_000 + next(self._ids)),
            "type": "supergroup",
            "title": title,
        }
        if username:
            chat["username"] = username
        if is_forum:
            chat["is_forum"] = True
        return self._register(chat)

    def channel(
        self,
        id: int | None = None,
        title: str = "Test channel",
        *,
        username: str | None = None,
    ) -> JSON:
        chat: JSON = {
            "id": id or -(1_000_000_000_000 + next(self._ids)),
            "type": "channel",
            "title": title,
        }
        if username:
            chat["username"] = username
        return self._register(chat)

    def _register(self, chat: JSON) -> JSON:
        self.chats[chat["id"]] = chat
        return chat

    def forum_topic(self, chat: JSON | int, name: str) -> int:
        """Open a topic in a forum supergroup; returns its message_thread_id (the id of the
        service message that opened it, as on Telegram)."""
        chat = self._chat_object(chat)
        if not chat.get("is_forum"):
            raise ValueError(f"chat {chat['id']} is not a forum")
        opening = self._new_message(chat, "")
        opening["forum_topic_created"] = {"name": name, "icon_color": 7322096}
        self._forum_topics[chat["id"]][opening["message_id"]] = name
        return int(opening["message_id"])

    # -- chat state --------------------------------------------------------------------------

    def set_admins(self, chat_id: int, user_ids: list[int], *, creator: int | None = None) -> None:
        """Script getChatMember/getChatAdministrators; include ``tg.bot_id`` to make the bot one."""
        self._admins[chat_id] = set(user_ids)
        if creator is not None:
            self._owners[chat_id] = creator

    def set_bot_status(self, chat_id: int, status: str) -> None:
        """The bot's membership ("member", "administrator", "left", "kicked"); no update sent.

        In a private chat "kicked" means the user blocked the bot.
        """
        self._statuses[(chat_id, self.bot_id)] = status

    def age_message(self, chat_id: int, message_id: int, seconds: float) -> None:
        """Make a stored message `seconds` older (past 48 h it can no longer be edited)."""
        self._messages[chat_id][message_id]["date"] -= int(seconds)

    def forget_message(self, chat_id: int, message_id: int) -> None:
        """A message deleted by a chat admin: edits answer "message to edit not found"."""
        del self._messages[chat_id][message_id]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """The stored message as it is now (after any edits)."""
        return self._messages[chat_id][message_id]

    def migrate(self, chat_id: int, new_chat_id: int | None = None) -> JSON:
        """Upgrade a group: from now on sends to ``chat_id`` answer 400 migrate_to_chat_id."""
        old = self.chats.get(chat_id, {})
        supergroup = self.supergroup(new_chat_id, old.get("title", "Test supergroup"))
        self._migrations[chat_id] = supergroup["id"]
        return supergroup

    # -- scripting updates -------------------------------------------------------------------

    def push_update(self, payload: JSON) -> JSON:
        """Queue a raw update such as ``{"message": {...}}``; the update_id is assigned here."""
        if len(payload) != 1 or "update_id" in payload:
            raise ValueError("an update carries exactly one object, e.g. {'message': {...}}")
        update = {"update_id": next(self._update_ids), **payload}
        self._updates.append(update)
        self._bump()
        return update

    def push_message(
        self,
        chat: JSON | int,
        user: JSON | None,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        message_thread_id: int | None = None,
    ) -> JSON:
        """A user (or, in a channel, the channel) writes ``text``; "/cmd" gets its entity."""
        chat = self._chat_object(chat)
        message = self._new_message(chat, text)
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = user or self._private_sender(chat)
        match = _BOT_COMMAND.match(text)
        if match:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": match.end()}]
        if reply_to_message_id is not None:
            message["reply_to_message"] = self._messages[chat["id"]][reply_to_message_id]
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        kind = "channel_post" if chat["type"] == "channel" else "message"
        return self.push_update({kind: message})

    def push_callback_query(
        self, chat: JSON | int, user: JSON, data: str, message_id: int | None = None
    ) -> JSON:
        """A button press on ``message_id`` (default: the bot's latest message in the chat)."""
        chat = self._chat_object(chat)
        stored = self._messages[chat["id"]]
        if message_id is None:
            own = [m for m in stored.values() if m.get("from", {}).get("id") == self.bot_id]
            if not own:
                raise ValueError(f"the bot has sent nothing to chat {chat['id']} yet")
            message_id = own[-1]["message_id"]
        query_id = str(next(self._ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": user,
            "message": stored[message_id],
            "chat_instance": f"{chat['id']}-instance",
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def push_my_chat_member(
        self,
        chat: JSON | int,
        user: JSON,
        new_status: str,
        old_status: str | None = None,
    ) -> JSON:
        """The bot's status changes (added, promoted, kicked; "kicked" in private = blocked)."""
        chat = self._chat_object(chat)
        key = (chat["id"], self.bot_id)
        old_status = old_status or self._statuses.get(key, "left")
        self._statuses[key] = new_status
        change = {
            "chat": chat,
            "from": user,
            "date": int(time.time()),
            "old_chat_member": _member(old_status, self.bot_user),
            "new_chat_member": _member(new_status, self.bot_user),
        }
        return self.push_update({"my_chat_member": change})

    # -- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        *,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        chat_id: int | str | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        drop: bool = False,
    ) -> Fault:
        """Make the next ``times`` calls of ``method`` (None: any) fail; ``times=None``: forever.

        ``retry_after`` implies 429 and ``migrate_to_chat_id`` implies 400, each with its
        ``parameters``; ``delay`` waits before answering (pair it with a short client read
        timeout for TimedOut); ``drop`` closes the connection without an answer. Faults are
        tried in the order they were added; ``chat_id`` narrows one to a chat.
        """
        parameters: JSON = {}
        if retry_after is not None:
            status = status or 429
            parameters["retry_after"] = retry_after
            description = description or f"Too Many Requests: retry after {retry_after}"
        if migrate_to_chat_id is not None:
            status = status or 400
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
            description = description or _MIGRATED
        if status is None and not delay and not drop:
            raise ValueError(
                "a fault needs a status, retry_after, migrate_to_chat_id, delay or drop"
            )
        error = None
        if status is not None:
            text = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
            error = ApiError(status, text, parameters)
        fault = Fault(method, chat_id, error, delay, drop, times)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    # -- observing ---------------------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return list(self.sent_by_chat.get(chat_id, []))

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self.commands.get((_scope_key(scope), language_code), []))

    @property
    def pending_updates(self) -> list[JSON]:
        return list(self._updates)

    async def wait_for_messages(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - a test helper; a deadline reads clearest here
        *,
        chat_id: int | None = None,
    ) -> list[SentMessage]:
        """Wait until at least ``n`` messages were accepted (in ``chat_id``); return them."""

        def probe() -> list[SentMessage] | None:
            messages = self.sent if chat_id is None else self.sent_by_chat.get(chat_id, [])
            return list(messages) if len(messages) >= n else None

        where = "" if chat_id is None else f" in chat {chat_id}"
        return await self._wait_until(probe, timeout, f"{n} messages{where}")

    async def wait_for_calls(
        self,
        method: str,
        n: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_for_messages
    ) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``n`` times (answered or not)."""

        def probe() -> list[ApiCall] | None:
            calls = self.calls_to(method)
            return calls if len(calls) >= n else None

        return await self._wait_until(probe, timeout, f"{n} {method} calls")

    async def _wait_until(self, probe: Callable[[], T | None], seconds: float, what: str) -> T:
        try:
            async with asyncio.timeout(seconds):
                while True:
                    changed = self._changed  # take it before probing so no change is missed
                    result = probe()
                    if result is not None:
                        return result
                    await changed.wait()
        except TimeoutError:
            raise TimeoutError(
                f"FakeTelegram: no {what} within {seconds}s; "
                f"{len(self.sent)} sent, last calls: {[c.method for c in self.calls[-5:]]}"
            ) from None

    def _bump(self) -> None:
        """Wake every waiter; a fresh Event lets sync code signal without a lock."""
        self._changed.set()
        self._changed = asyncio.Event()

    # -- HTTP plumbing -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = request.match_info["method"]
        self.stats.requests += 1
        self.tokens_seen.add(token)
        try:
            params = await _read_params(request)
            self.calls.append(ApiCall(method, dict(params.raw), token, self.clock()))
            self._bump()
            if self.tokens is not None and token not in self.tokens:
                raise ApiError(401, "Unauthorized")
            fault = self._take_fault(method, params)
            if fault is not None:
                await self._pause(fault.delay)
                if fault.drop:
                    return await _drop_connection(request)
                if fault.error is not None:
                    raise fault.error
            handler = self._handlers.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, token)
        except ApiError as error:
            self.stats.errors += 1
            self.stats.rejected_429 += error.status == 429
            return web.json_response(error.body(), status=error.status)
        return web.json_response({"ok": True, "result": result})

    def _take_fault(self, method: str, params: Params) -> Fault | None:
        chat_id = params.raw.get("chat_id")
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _pause(self, seconds: float) -> None:
        """Sleep, but give up early when the server closes so teardown stays quick."""
        if seconds <= 0:
            return
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return

    # -- chats, messages and membership helpers ----------------------------------------------

    def _chat_object(self, chat: JSON | int) -> JSON:
        if isinstance(chat, dict):
            return self._register(chat) if chat["id"] not in self.chats else self.chats[chat["id"]]
        return self._chat_by_id(chat)

    def _chat_by_id(self, chat_id: int) -> JSON:
        chat = self.chats.get(chat_id)
        if chat is not None:
            return chat
        if not self.auto_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id > 0:
            return self.private_chat(self.users.get(chat_id) or self.user(chat_id, "User"))
        if str(chat_id).startswith("-100"):
            return self.supergroup(chat_id)
        return self.group(chat_id)

    def _resolve_chat(self, params: Params) -> JSON:
        raw = params.raw.get("chat_id")
        if raw is None or raw == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(raw, str) and raw.startswith("@"):
            for chat in self.chats.values():
                if chat.get("username", "").lower() == raw[1:].lower():
                    return chat
            raise ApiError(400, "Bad Request: chat not found")
        try:
            chat_id = int(raw)
        except ValueError:
            raise ApiError(400, "Bad Request: chat not found") from None
        return self._chat_by_id(chat_id)

    def _check_can_post(self, chat: JSON) -> None:
        new_id = self._migrations.get(chat["id"])
        if new_id is not None:
            raise ApiError(400, _MIGRATED, {"migrate_to_chat_id": new_id})
        status = self._statuses.get((chat["id"], self.bot_id), "member")
        if status not in {"kicked", "left"}:
            return
        if chat["type"] == "private":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if status == "kicked":
            raise ApiError(403, f"Forbidden: bot was kicked from the {chat['type']} chat")
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat['type']} chat")

    def _check_thread(self, chat: JSON, thread: int | None) -> None:
        """In a forum with scripted topics, a message_thread_id must name one of them."""
        topics = self._forum_topics.get(chat["id"])
        if thread is not None and topics and thread not in topics:
            raise ApiError(400, "Bad Request: message thread not found")

    def _new_message(self, chat: JSON, text: str) -> JSON:
        message_id = self._next_message_id[chat["id"]]
        self._next_message_id[chat["id"]] = message_id + 1
        message: JSON = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "text": text,
        }
        self._messages[chat["id"]][message_id] = message
        return message

    def _stored_message(self, params: Params, missing: str) -> tuple[JSON, JSON]:
        if params.raw.get("inline_message_id"):
            raise ApiError(400, "Bad Request: inline messages are not supported by the fake")
        chat = self._resolve_chat(params)
        message_id = params.integer("message_id")
        message = self._messages[chat["id"]].get(message_id or 0)
        if message is None:
            raise ApiError(400, f"Bad Request: {missing}")
        return chat, message

    def _private_sender(self, chat: JSON) -> JSON:
        if chat["type"] != "private":
            raise ValueError(f"push_message needs a user for the {chat['type']} {chat['id']}")
        return self._user_object(chat["id"])

    def _status_of(self, chat: JSON, user_id: int) -> str:
        if chat["type"] == "private":
            return "member"
        if self._owners.get(chat["id"]) == user_id:
            return "creator"
        if user_id in self._admins[chat["id"]]:
            return "administrator"
        return self._statuses.get((chat["id"], user_id), "member")

    def _user_object(self, user_id: int) -> JSON:
        if user_id == self.bot_id:
            return self.bot_user
        return self.users.get(user_id) or self.user(user_id, "User")

    def _admit(self, method: str, chat_id: int) -> None:
        if self.rate_limiter is None or method.lower() not in _RATE_LIMITED:
            return
        retry_after = self.rate_limiter.admit(chat_id, self.clock())
        if retry_after is not None:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )

    def _format(self, params: Params) -> ParsedText:
        """Validate text/parse_mode/entities exactly where Telegram does, in its order."""
        text = params.text("text") or ""
        parse_mode = (params.text("parse_mode") or "").lower()
        if parse_mode == "html":
            try:
                parsed = parse_html(text, strict=self.strict_html)
            except EntityParseError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        elif parse_mode in {"", "markdown", "markdownv2"}:
            parsed = ParsedText(text, tuple(params.json("entities") or ()))
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        parsed = trim(parsed)
        if not parsed.text:
            raise ApiError(400, "Bad Request: message text is empty")
        if _utf16_len(parsed.text) > MAX_MESSAGE_UTF16:
            raise ApiError(400, "Bad Request: message is too long")
        return parsed

    def _record(
        self,
        method: str,
        chat: JSON,
        message: JSON,
        params: Params,
        token: str,
        reply_markup: Any,
    ) -> SentMessage:
        """Remember an accepted send or edit; the markup as sent, since Telegram only echoes
        inline keyboards back on the message."""
        record = SentMessage(
            method=method,
            chat_id=chat["id"],
            message_id=message["message_id"],
            text=params.text("text") or message.get("text", ""),
            parse_mode=params.text("parse_mode"),
            plain_text=message.get("text", ""),
            entities=tuple(message.get("entities", ())),
            link_preview_disabled=bool(message.get("link_preview_options", {}).get("is_disabled")),
            reply_markup=reply_markup,
            reply_to_message_id=message.get("reply_to_message", {}).get("message_id"),
            message_thread_id=message.get("message_thread_id"),
            received_at=self.clock(),
            token=token,
        )
        if method == "sendMessage":
            self.sent.append(record)
            self.sent_by_chat[chat["id"]].append(record)
        else:
            self.edits.append(record)
        self.stats.accepted += 1
        self._bump()
        return record

    # -- Bot API methods ---------------------------------------------------------------------

    async def _true(self, params: Params, token: str) -> bool:
        return True

    async def _get_me(self, params: Params, token: str) -> JSON:
        return self.bot_user

    async def _delete_webhook(self, params: Params, token: str) -> bool:
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        self.webhooks.webhook = None
        self._bump()
        return True

    async def _set_webhook(self, params: Params, token: str) -> bool:
        url = params.text("url") or ""
        if not url:  # an empty url removes the webhook, as on Telegram
            return await self._delete_webhook(params, token)
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise ApiError(400, _HTTPS_WEBHOOK)
        secret = params.text("secret_token")
        if secret is not None and not _WEBHOOK_SECRET.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self._updates.clear()
        allowed = params.json("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) or None
        self.webhooks.webhook = Webhook(url, secret)
        self._bump()
        return True

    async def _get_webhook_info(self, params: Params, token: str) -> JSON:
        hook = self.webhooks.webhook
        info: JSON = {
            "url": "" if hook is None else hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if hook is not None and hook.last_error is not None:
            info["last_error_message"] = hook.last_error
        return info

    def _next_for_webhook(self) -> JSON | None:
        deliverable = self._deliverable()
        return deliverable[0] if deliverable else None

    def _forget_update(self, update: JSON) -> None:
        self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
        self._bump()

    def _event(self) -> asyncio.Event:
        return self._changed

    async def _set_my_commands(self, params: Params, token: str) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = (_scope_key(params.json("scope")), params.text("language_code") or "")
        self.commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _get_my_commands(self, params: Params, token: str) -> list[JSON]:
        return self.commands_for(params.json("scope"), params.text("language_code") or "")

    async def _delete_my_commands(self, params: Params, token: str) -> bool:
        key = (_scope_key(params.json("scope")), params.text("language_code") or "")
        self.commands.pop(key, None)
        return True

    async def _get_updates(self, params: Params, token: str) -> list[JSON]:
        if self.webhooks.webhook is not None:
            raise ApiError(409, _CONFLICT_WEBHOOK)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = params.number("timeout", 0.0)
        allowed = params.json("allowed_updates")
        if allowed is not None:  # remembered until changed, as Telegram does
            self._allowed_updates = frozenset(allowed) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._bump()  # an older long poll now answers 409, like Telegram
        if offset is not None and offset < 0:
            return self._deliverable()[offset:][:limit]
        if offset is not None:
            # Asking for `offset` confirms every earlier update; Telegram forgets them.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            changed = self._changed
            batch = self._deliverable()[:limit]
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT_POLL)
            remaining = deadline - asyncio.get_running_loop().time()
            if batch or remaining <= 0 or self._closing:
                return batch
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return []

    def _deliverable(self) -> list[JSON]:
        def wanted(update: JSON) -> bool:
            kind = next(key for key in update if key != "update_id")
            if self._allowed_updates is None:
                return kind not in _OPT_IN_UPDATES
            return kind in self._allowed_updates

        return [update for update in self._updates if wanted(update)]

    async def _send_message(self, params: Params, token: str) -> JSON:
        chat = self._resolve_chat(params)
        self._check_can_post(chat)
        self._check_thread(chat, params.integer("message_thread_id"))
        parsed = self._format(params)
        reply_to = self._reply_target(chat, params)
        preview_off = self._link_preview_disabled(params)
        markup = params.json("reply_markup")
        self._admit("sendMessage", chat["id"])
        message = self._new_message(chat, parsed.text)
        if chat["type"] == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = self.bot_user
        if parsed.entities:
            message["entities"] = list(parsed.entities)
        if preview_off:
            message["link_preview_options"] = {"is_disabled": True}
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        thread = params.integer("message_thread_id")
        if thread is not None:
            message["message_thread_id"] = thread
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards come back on the message
        self._record("sendMessage", chat, message, params, token, markup)
        return message

    def _reply_target(self, chat: JSON, params: Params) -> JSON | None:
        reply: JSON = params.json("reply_parameters") or {}
        message_id = reply.get("message_id") or params.integer("reply_to_message_id")
        if not isinstance(message_id, int):
            return None
        allow_missing = reply.get("allow_sending_without_reply") or params.flag(
            "allow_sending_without_reply"
        )
        target_chat = self._chat_by_id(int(reply.get("chat_id") or chat["id"]))
        target = self._messages[target_chat["id"]].get(message_id)
        if target is None and not allow_missing:
            raise ApiError(400, "Bad Request: message to be replied not found")
        return target

    def _link_preview_disabled(self, params: Params) -> bool:
        options = params.json("link_preview_options")
        if options is not None and "disable_web_page_preview" in params.raw:
            raise ApiError(
                400,
                "Bad Request: can't use link_preview_options and disable_web_page_preview together",
            )
        if options is not None:
            return bool(options.get("is_disabled"))
        return params.flag("disable_web_page_preview")

    async def _edit_message_text(self, params: Params, token: str) -> JSON:
        chat, message = self._stored_message(params, "message to edit not found")
        self._check_editable(message)
        parsed = self._format(params)
        markup = params.json("reply_markup")
        entities = list(parsed.entities)
        if (
            message["text"] == parsed.text
            and message.get("entities", []) == entities
            and message.get("reply_markup") == markup
        ):
            raise ApiError(400, _NOT_MODIFIED)
        self._admit("editMessageText", chat["id"])
        message["text"] = parsed.text
        message["entities"] = entities
        if not entities:
            del message["entities"]
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._record("editMessageText", chat, message, params, token, markup)
        return message

    async def _edit_message_reply_markup(self, params: Params, token: str) -> JSON:
        chat, message = self._stored_message(params, "message to edit not found")
        self._check_editable(message)
        markup = params.json("reply_markup")
        if message.get("reply_markup") == markup:
            raise ApiError(400, _NOT_MODIFIED)
        self._admit("editMessageReplyMarkup", chat["id"])
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        self._record("editMessageReplyMarkup", chat, message, params, token, markup)
        return message

    def _check_editable(self, message: JSON) -> None:
        if message.get("from", {}).get("id") != self.bot_id and "sender_chat" not in message:
            raise ApiError(400, "Bad Request: message can't be edited")
        # Telegram lets a bot edit its text messages for 48 hours after sending them.
        if time.time() - message["date"] > EDIT_WINDOW_SECONDS:
            raise ApiError(400, "Bad Request: message can't be edited")

    @staticmethod
    def _set_markup(message: JSON, markup: Any) -> None:
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)

    async def _answer_callback_query(self, params: Params, token: str) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self._open_callbacks:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_callbacks.discard(query_id)
        self.callback_answers.append(dict(params.raw))
        self._bump()
        return True

    async def _get_chat(self, params: Params, token: str) -> JSON:
        chat = self._resolve_chat(params)
        gifts = {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        }
        # PTB 22 parses getChat into ChatFullInfo, which needs these three fields.
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _get_chat_member(self, params: Params, token: str) -> JSON:
        chat = self._resolve_chat(params)
        user_id = params.integer("user_id")
        if user_id is None:
            raise ApiError(400, "Bad Request: invalid user_id specified")
        status = self._status_of(chat, user_id)
        if chat["type"] == "channel":
            # Telegram shows a channel's members only to its admins, the bot included.
            if user_id != self.bot_id and self._status_of(chat, self.bot_id) != "administrator":
                raise ApiError(400, "Bad Request: member list is inaccessible")
            if status == "member":
                status = "left"  # a channel's readers are not members a bot can see
        member = _member(status, self._user_object(user_id))
        if chat["type"] == "channel" and status == "administrator":
            member.update(_CHANNEL_ADMIN_RIGHTS)
        return member

    async def _get_chat_administrators(self, params: Params, token: str) -> list[JSON]:
        chat = self._resolve_chat(params)
        if chat["type"] == "private":
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        owner = self._owners.get(chat["id"])
        members = [] if owner is None else [_member("creator", self._user_object(owner))]
        for user_id in sorted(self._admins[chat["id"]]):
            members.append(_member("administrator", self._user_object(user_id)))
        return members

    async def _send_chat_action(self, params: Params, token: str) -> bool:
        chat = self._resolve_chat(params)
        self._check_can_post(chat)
        action = params.text("action") or ""
        if action not in _CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat["id"], action))
        self._bump()
        return True

    async def _delete_message(self, params: Params, token: str) -> bool:
        chat, message = self._stored_message(params, "message to delete not found")
        del self._messages[chat["id"]][message["message_id"]]
        self.deleted.append((chat["id"], message["message_id"]))
        self._bump()
        return True


def _id_from_tokens(tokens: set[str] | None) -> int | None:
    """Telegram's bot id is the part of the token before the colon."""
    if not tokens or len(tokens) != 1:
        return None
    prefix = next(iter(tokens)).split(":", 1)[0]
    return int(prefix) if prefix.isdigit() else None


def _scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


# What a typical moderator may do; the fake grants the same set to every scripted admin.
_ADMIN_RIGHTS: Final = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_pin_messages": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}


# A channel's admins may post and edit there (set_admins grants both).
_CHANNEL_ADMIN_RIGHTS: Final = {"can_post_messages": True, "can_edit_messages": True}


def _member(status: str, user: JSON) -> JSON:
    """A ChatMember object with every field PTB requires for that status."""
    if status == "creator":
        return {"status": status, "user": user, "is_anonymous": False}
    if status == "administrator":
        return {"status": status, "user": user, **_ADMIN_RIGHTS}
    if status == "kicked":
        return {"status": status, "user": user, "until_date": 0}
    return {"status": status, "user": user}


async def _drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without an answer, like a proxy dying mid-request."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    # aiohttp cannot write to an aborted transport and drops the response quietly.
    return web.Response(status=204)
