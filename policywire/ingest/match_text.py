"""What the topic matcher reads of an item: its title, summary, tags and the start of its body,
with what publishers and aggregators wrap around every entry taken out.

Matching an aggregator's own trailer ("View Full Coverage on Google News") or a cross-link
("Read more: <another article's headline>") makes an item hit topics it is not about, so these
are removed from the matcher's input here; the summary readers see is `boilerplate.py`'s
business. Pure functions over strings that run on every item of every poll: each bounds the
work it does on long input.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from policywire.ingest.boilerplate import strip_boilerplate
from policywire.ingest.html_text import html_to_text
from policywire.ingest.match_rules import BODY_CHARS
from policywire.ingest.sentences import truncate
from policywire.models import Item

__all__ = [
    "BODY_CHARS",
    "DEEP_BODY_CHARS",
    "MatchFields",
    "body_text",
    "matching_fields",
    "strip_for_matching",
]

# How much of an entry's body is kept for the matcher: every keyword reads the first
# BODY_CHARS (match_rules), `deep:re:` keywords read on to here, where a section about AI law
# in a long feature or newsletter sits (tests/data/relevance: passages at 3-7 KB).
DEEP_BODY_CHARS: Final = 8000
# Markup is read up to this much before conversion, so a megabyte body costs what 48 KB does.
_BODY_MARKUP_CHARS: Final = DEEP_BODY_CHARS * 6


# A body's first sentence, up to this long, is its lede (or the standfirst, when the feed puts
# it in the body): it says what the article is about, so it counts like the summary, from one
# mention. Later sentences of the same paragraph are body: "Talks went on. The AI Act came up."
LEDE_CHARS: Final = 300
# The first sentence: up to a full stop, "!", "?" or "…" followed by a space or the end, where
# a stop after a lone capital ("U.S.") does not end it; within one paragraph.
_FIRST_SENTENCE: Final = re.compile(rf"[^\n]{{1,{LEDE_CHARS}}}?(?<!\b[A-Z])[.!?…](?=\s|\Z)")


class MatchFields(NamedTuple):
    """An item's text as the matcher reads it, field by field."""

    title: str
    summary: str
    tags: tuple[str, ...]
    body: str
    lede: tuple[str, ...] = ()  # the body's first sentence (LEDE_CHARS at most), if any

    def head_tags(self) -> tuple[str, ...]:
        """The tags, then the lede: the fields read like the title, after the summary."""
        return (*self.tags, *self.lede)


def matching_fields(item: Item) -> MatchFields:
    """The item's title, summary, tags and body with aggregator and publisher boilerplate out."""
    body = strip_for_matching(item.content)
    return MatchFields(
        title=item.title,
        summary=strip_for_matching(item.summary),
        tags=item.tags,
        body=body,
        lede=_lede(body),
    )


def _lede(body: str) -> tuple[str, ...]:
    """The body's first sentence, when it is no longer than LEDE_CHARS."""
    first = _FIRST_SENTENCE.match(body)
    return (first.group().strip(),) if first else ()


# Block-level tags: a cross-link or promo is one paragraph, so the body is judged block by block.
_BLOCK: Final = re.compile(
    r"</?(?:p|div|li|h[1-6]|blockquote|section|aside|figure|figcaption|ul|ol|table|tr|br)\b[^>]*>",
    re.I,
)

# A paragraph that points at other articles or sells a subscription, in the languages we
# follow. Anchored at the start of a paragraph, so "Critics read more into it" stays.
_PROMO_BLOCK: Final = re.compile(
    r"\A\W{0,3}(?:"
    r"read (?:more|also|next)|related(?: articles?| stories| coverage)?|see also|more on this"
    r"|(?:sign up|subscribe)\b|listen to (?:this|the) (?:post|article|episode)"
    r"|leggi anche|leggi di più|potrebbe interessarti|iscriviti"
    r"|(?:à )?lire aussi|voir aussi|abonnez-vous|inscrivez-vous"
    r"|lesen sie auch|mehr zum thema|auch interessant|siehe auch|jetzt abonnieren"
    r"|lee también|más información"
    r")\b",
    re.I,
)


def body_text(markup: str) -> str:
    """The start of an entry's body (HTML) as plain text, with promo and cross-link paragraphs out.

    At most `DEEP_BODY_CHARS` characters, cut at a word.
    """
    if not markup.strip():
        return ""
    kept: list[str] = []
    length = 0
    for block in _BLOCK.split(markup[:_BODY_MARKUP_CHARS]):
        text = html_to_text(block)
        if not text or _PROMO_BLOCK.match(text):
            continue
        kept.append(text)
        length += len(text) + 1
        if length > DEEP_BODY_CHARS:
            break
    # Paragraphs are joined with a line break, which phrases cross like a space: a phrase may
    # run on over a paragraph break only as far as any text would let it.
    return truncate(strip_boilerplate("\n".join(kept)), DEEP_BODY_CHARS)


# Aggregators append their own name: Google News ends every summary with a link to its full
# coverage page, in the reader's language ("View Full Coverage on Google News", "Voir la
# couverture complète sur Google Actualités"). Only a short final sentence that offers the
# coverage goes, so "Publishers sue Google News." keeps its words.
_AGGREGATOR_TRAILER: Final = re.compile(
    r"(?:\A|(?<=[.!?…\s]))[^.!?…]{0,40}\b(?:coverage|couverture|copertura|berichterstattung"
    r"|cobertura)\b[^.!?…]{0,40}\bGoogle (?:News|Actualités|Notizie|Nachrichten|Noticias|Notícias)"
    r"\s*[.…]?\s*\Z",
    re.I,
)
# Reddit's "submitted by /u/name [link] [comments]" and Hacker News feeds' "Article URL: …
# Comments URL: … Points: … # Comments: …".
_FORUM_TRAILER: Final = re.compile(
    r"\s*(?:submitted by\s+/?u/\S+(?:\s*\[link\])?(?:\s*\[comments?\])?"
    r"|article url:.*?comments url:.*|\[link\]\s*\[comments?\])\s*\Z",
    re.I | re.S,
)
# Sentences a publisher adds to every entry, anywhere in it: follow-us and newsletter calls,
# podcast hosts' privacy notices and machine-translation or AI-assistance disclosures (the
# last would make every entry "mention AI").
_EVERYWHERE: Final = re.compile(
    r"(?:\A|(?<=[.!?…]))\s*[^.!?…]{0,80}?(?:"
    r"follow us on (?:google news|facebook|twitter|x|instagram|linkedin|whatsapp|telegram)"
    r"|as a preferred source on google"
    r"|(?:see|visit) \S+ for privacy information"
    r"|(?:sign up|subscribe) (?:here|now|to (?:our|the) \w+ newsletter)"
    r"|(?:this|the) (?:article|text|story|summary|content) (?:was|has been|is)"
    r" (?:partly |partially )?"
    r"(?:generated|translated|written|created|produced|summari[sz]ed) (?:with|using|by|from)"
    r" (?:the help of |the assistance of |an? )?(?:ai|artificial intelligence|machine translation"
    r"|an? (?:ai|language model))"
    r")[^.!?…]{0,120}[.!?…]?",
    re.I,
)
_EVERYWHERE_HINTS: Final = (
    "follow us",
    "preferred source",
    "privacy information",
    "sign up",
    "subscribe",
    "generated",
    "translated",
    "written",
    "created",
    "produced",
    "summari",
)
# Where trailers are looked for: the end of a text.
_TAIL: Final = 300


def strip_for_matching(text: str) -> str:
    """`text` without aggregator trailers and publisher boilerplate that would match topics."""
    if not text:
        return ""
    head, tail = text[:-_TAIL], text[-_TAIL:]
    lowered_tail = tail.lower()
    if "google" in lowered_tail:
        tail = _AGGREGATOR_TRAILER.sub("", tail)
    if "comments" in lowered_tail or "[link]" in lowered_tail:
        tail = _FORUM_TRAILER.sub("", tail)
    text = head + tail
    lowered = text.lower()
    if any(map(lowered.__contains__, _EVERYWHERE_HINTS)):
        text = _EVERYWHERE.sub("", text)
    return text.strip()
