"""HTML fragments (feed titles and summaries) as one line of plain text: `html_to_text`.

Pure functions over strings that run on every item of every poll: each takes a fast path
for the common case and bounds the work it does on long input.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

__all__ = ["html_to_text", "is_link_labels"]


# A paragraph-level break while the text is being rebuilt. Control characters cannot occur in
# XML text, so this one cannot collide with content.
_BREAK = "\x1e"

_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)(?:\]\]>|\Z)", re.S)
# Browsers drop an unclosed <script> up to the end of the document; we do the same.
_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b[^>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I)
_DOUBLE_BR = re.compile(r"(?:<br\b[^>]*>\s*){2,}", re.I)
_BLOCK_TAG = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|dl|dt|dd|tr|table|blockquote|pre|section|article|header"
    r"|footer|aside|figure|figcaption|hr|address|main|nav)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>",
    re.I,
)
# Any other tag, quoted attribute values included (they may contain ">").
_ANY_TAG = re.compile(r"</?[a-zA-Z!?][^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*>")
# A tag whose quote never closes: drop it up to its ">" as the quotes cannot be trusted.
_LOOSE_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
# What a truncated summary leaves at its end: "… read <a href=\"https://exa".
_TRAILING_PARTIAL_TAG = re.compile(r"<[a-zA-Z/][^<>]*\Z")
_SOFT_BREAK_TAG = re.compile(r"<(?:br|td|th|img)\b[^>]*>", re.I)
# "&amp;amp;" or "&amp;quot;": an entity escaped twice. Undo one level before unescaping.
_DOUBLE_ESCAPED = re.compile(
    r"&amp;(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[a-zA-Z][a-zA-Z0-9]{1,31};)"
)
_BLANK_LINES = re.compile(r"\n[ \t\r\f\v]*\n")
_INVISIBLE_CHAR_LIST = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\xad")
_INVISIBLE_CHARS = str.maketrans("", "", "".join(_INVISIBLE_CHAR_LIST))
_BR_START = re.compile("<br", re.I)
# What str.split() splits on besides " " and _BREAK (str.isspace; none is above U+3000),
# and a double space. Most frequent first: `any` stops at the first one found.
_UNEVEN_SPACING = (
    "  ",
    "\n",
    *(char for char in map(chr, range(0x3001)) if char.isspace() and char not in " \n" + _BREAK),
)
_SPACING_CHECK_FROM = 200
# html.unescape's own pattern (CPython 3.11 Lib/html/__init__.py). What it makes of a reference
# depends on the matched text alone, so each distinct one is decoded once, by html.unescape.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_DECODED_CHARREFS: dict[str, str] = {}
_MAX_DECODED_CHARREFS = 4096
_SENTENCE_END_CHARS = frozenset(".!?…:;。！？")
_CLOSING_QUOTES = "\"'”’»"


def html_to_text(markup: str) -> str:
    """Turn an HTML fragment into one line of plain text.

    Tags are removed (script, style and noscript with their content), entities are decoded
    (an entity escaped twice is decoded both times, a third level is left alone), and
    paragraph-level boundaries become sentence breaks so that `summarize` still sees them.
    Broken markup never raises: whatever cannot be read as a tag is kept as text.
    """
    if not markup:
        return ""
    if "<" not in markup:
        # Plain text: a blank line is the only paragraph marker it can carry.
        text = _BLANK_LINES.sub(_BREAK, markup) if "\n" in markup else markup
        return _finish(text)
    # Each guard is a necessary condition for the pattern after it to match (a literal it
    # starts with), checked far faster than the pattern itself scans a text it does not match.
    text = _COMMENT.sub(" ", markup) if "<!--" in markup else markup
    if "<![" in text:
        text = _CDATA.sub(r"\1", text)
    text = _INVISIBLE.sub(" ", text)
    if _BR_START.search(text):  # _DOUBLE_BR gets no prefix scan of its own: it is slow
        text = _DOUBLE_BR.sub(_BREAK, text)
    text = _BLOCK_TAG.sub(_BREAK, text)
    text = _SOFT_BREAK_TAG.sub(" ", text)
    text = _ANY_TAG.sub("", text)
    if "<" in text:
        text = _LOOSE_TAG.sub("", text)
        text = _TRAILING_PARTIAL_TAG.sub("", text)
    return _finish(text)


def _finish(text: str) -> str:
    """Decode entities, then rebuild the text from its paragraphs."""
    if "&" in text:
        if "&amp;" in text:
            text = _DOUBLE_ESCAPED.sub(r"&\1", text)
        text = _CHARREF.sub(_decoded_charref, text)
    # translate() is slow (one dict lookup a character) and so is a character-class search;
    # an ASCII text has none of these characters, and one `in` each is a memchr.
    if not text.isascii() and any(map(text.__contains__, _INVISIBLE_CHAR_LIST)):
        text = text.translate(_INVISIBLE_CHARS)
    # Where every space is a single " " already, strip() does what split() and join() would;
    # finding that out costs more than it saves on a short text.
    spaced = len(text) > _SPACING_CHECK_FROM and not any(map(text.__contains__, _UNEVEN_SPACING))
    if _BREAK not in text:
        return text.strip() if spaced else " ".join(text.split())
    if spaced:
        return _join_paragraphs([part for chunk in text.split(_BREAK) if (part := chunk.strip())])
    return _join_paragraphs(
        [" ".join(words) for part in text.split(_BREAK) if (words := part.split())]
    )


def _decoded_charref(match: re.Match[str]) -> str:
    reference = match.group()
    decoded = _DECODED_CHARREFS.get(reference)
    if decoded is None:
        decoded = html.unescape(reference)
        if len(_DECODED_CHARREFS) >= _MAX_DECODED_CHARREFS:
            _DECODED_CHARREFS.clear()
        _DECODED_CHARREFS[reference] = decoded
    return decoded


def _join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Join paragraphs, ending each with a full stop when it has no end punctuation.

    Headings and list items carry no final punctuation; without one, the sentence splitter
    would glue them to the next paragraph.
    """
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not _ends_sentence(joined[-1]):
            joined[-1] += "."
        joined.append(paragraph)
    return " ".join(joined)


def _ends_sentence(paragraph: str) -> bool:
    # A bracketed paragraph, "(Photo: …)", is an aside: a full stop after it would be
    # stranded once strip_boilerplate removes the aside.
    return paragraph[-1] in ")]" or paragraph.rstrip(_CLOSING_QUOTES)[-1:] in _SENTENCE_END_CHARS


# A link and its text (links do not nest, so the first "</a>" closes it).
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.I | re.S)
_MAX_LABEL_WORDS = 3
# Longer markup is an article, whatever its links say; the check stays cheap on every item.
_MAX_LABELS_MARKUP = 2000
_LABEL_SEPARATORS = " .,;:|·•()[]-–—/"


def is_link_labels(markup: str) -> bool:
    """True when all the text of `markup` is the labels of its links, each of a few words:
    Hacker News' "<a href=…>Comments</a>", a forum's "[link] [comments]". Such a summary says
    nothing of the article; a link whose text is a sentence is content and does not count."""
    if len(markup) > _MAX_LABELS_MARKUP or ("<a" not in markup and "<A" not in markup):
        return False
    first = _ANCHOR.search(markup)
    if first is None:
        return False
    # Most summaries with a link have text before it ("<p>The council… <a href=…>"): that
    # text is text outside every link, which is enough to say no without converting the rest.
    if _has_visible_text(markup, first.start()):
        return False
    labels = _ANCHOR.findall(markup)
    if not labels or any(len(html_to_text(label).split()) > _MAX_LABEL_WORDS for label in labels):
        return False
    if not any(html_to_text(label) for label in labels):
        return False  # empty links around images: the text beside them decides
    rest = html_to_text(_ANCHOR.sub(" ", markup))
    return not rest.strip(_LABEL_SEPARATORS)


# A tag that every pattern of html_to_text removes exactly as written (no attributes, so no
# quotes that could run past its ">"; not one whose content is dropped), or a character that
# html_to_text drops or is a label separator (str.isspace and _INVISIBLE_CHAR_LIST decide the
# rest, one character, in _has_visible_text).
_SKIPPABLE = re.compile(
    r"(?:</?(?!(?i:script|style|noscript|template)\b)[a-zA-Z][a-zA-Z0-9]*>|[\s.,;:|·•()\[\]/-])*"
)
_NOT_VISIBLE = frozenset(_LABEL_SEPARATORS + "".join(_INVISIBLE_CHAR_LIST))


def _has_visible_text(markup: str, end: int) -> bool:
    """True when `markup[:end]` certainly gives html_to_text a character that is no label
    separator: one that follows only simple tags, separators and spaces. False means "not
    known" (a "<" or "&" came first, whose meaning depends on what follows them).

    Every pattern html_to_text removes starts with "<", and a simple tag is removed alone, so
    the characters of that stretch come out as they are, but for entities (hence "&").
    """
    skipped = _SKIPPABLE.match(markup, 0, end)  # it matches everywhere, if only ""
    position = skipped.end() if skipped else 0
    if position >= end:
        return False
    char = markup[position]
    return char not in "<&" and not char.isspace() and char not in _NOT_VISIBLE
