"""What feeds append or prepend to every entry, removed: `strip_boilerplate` (footers, "read
more" links, credits, share blocks, bylines) and `html_to_clean_text`, which converts first.

Pure functions over strings that run on every item of every poll: each takes a fast path
for the common case and bounds the work it does on long input.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from policywire.ingest.html_text import html_to_text

__all__ = ["html_to_clean_text", "strip_boilerplate"]


# Where a trailer may start: the beginning of the text or the end of a sentence or clause.
_AFTER_BREAK = r"(?:\A|(?<=[.!?…:;|»›→”\"')\]–—-])\s*|\s+[–—|-]\s*)"

_READ_MORE_PHRASES = (
    r"continue reading|read more|read the (?:full|rest of the|whole) (?:story|article|post)"
    r"|read full (?:story|article)|keep reading|full story"
    r"|leggi tutto|leggi di più|leggi l['’]articolo(?: completo)?|continua a leggere"
    r"|lire la suite|lire l['’]article|en savoir plus"
    r"|weiterlesen|mehr lesen|zum artikel|ganzen artikel lesen"
    r"|seguir leyendo|leer más"
)
# After the phrase only an arrow, an ellipsis or "at The Outlet" may follow, so that
# "Read more about the vote in our explainer." stays.
_READ_MORE = re.compile(
    _AFTER_BREAK
    + r"[\[(«]?\s*(?:"
    + _READ_MORE_PHRASES
    + r")(?:\s+(?:at|on|from|in|su|sur|auf|bei|en)\s+[^.!?\n]{1,40}?)?[\s.…»›→>:\])]*\Z",
    re.I,
)
# WordPress's RSS footer in the languages we follow ("The post X appeared first on Y.").
_APPEARED_FIRST = re.compile(
    _AFTER_BREAK + r"(?:the post .{1,300}? appeared first on"
    r"|l['’]articolo .{1,300}? proviene da"
    r"|l['’]article .{1,300}? est apparu en premier sur"
    r"|der beitrag .{1,300}? erschien zuerst auf"
    r"|la entrada .{1,300}? se publicó primero en"
    r") .{1,200}?\.?\s*\Z",
    re.I | re.S,
)
_ELLIPSIS_TRAILER = re.compile(r"\s*[\[(](?:…|\.{3}|&hellip;)[\])]\s*\Z")
_SHARE_THIS = re.compile(
    _AFTER_BREAK + r"(?:share this|condividi(?: questo articolo)?|partager|teilen)\s*:.{0,200}\Z",
    re.I | re.S,
)
_CREDIT_WORDS = (
    r"photo credit|image credit|picture credit|image source|credits?|photos?|images?|pictures?"
    r"|foto|fonte foto|crédits? photo|crédit|bild(?:quelle)?|fotos?"
)
# "(Photo: Reuters)", "(Foto di Mario Rossi / Ansa)": parenthesized, so safe to drop anywhere.
_CREDIT_IN_PARENS = re.compile(
    r"\s*\((?:" + _CREDIT_WORDS + r")(?:\s*:|\s+(?:by|di|de|par|von)\b)[^()]{1,150}\)",
    re.I,
)
# Only after a sentence: a text that starts with "Photos:" is a headline, not a credit.
_CREDIT_AT_END = re.compile(
    r"(?<=[.!?…])\s+(?:" + _CREDIT_WORDS + r")\s*:\s*[^.!?:]{1,60}[.]?\s*\Z",
    re.I,
)
# At the start only the words that cannot open a real sentence ("Photo: …" may be a title).
_CREDIT_AT_START = re.compile(
    r"\A\s*(?:photo credit|image credit|picture credit|image source|credits?|crédits? photo"
    r"|foto|bildquelle)\s*:\s*[^.!?:]{1,60}?(?:[.!?]\s+|\s*[|–—]\s*)",
    re.I,
)
# "By Jane Doe |", "Di Mario Rossi.", "Par Jean-Luc Martin –", "Von Hans Müller, dpa |".
# A name word is an initial ("J.") or a word without dots, so "Rossi." ends the name.
_NAME_WORD = r"(?:[^\W\d_]\.|[^\W\d_][\w'’-]*|&)"
_BYLINE = re.compile(
    r"\A\s*(?:by|di|par|von|por)\s+(?P<name>" + _NAME_WORD + r"(?:,?\s+" + _NAME_WORD + r"){0,5})"
    r"\s*(?:[|•·–—]|\s-\s|(?<![\s.])\.\s)\s*",
    re.I,
)
_BYLINE_WORDS = ("by ", "di ", "par ", "von ", "por ")
_NAME_CONNECTORS = frozenset({"and", "e", "et", "und", "y", "&", "de", "di", "da", "van", "von"})

# Trailers and credits live near the edges; looking at a bounded window keeps long texts fast.
_EDGE_WINDOW = 700
# Each trailer with the lower-case words that must occur for it to match: a substring test
# is far cheaper than the regex, and most texts carry no trailer at all.
_TRAILERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (
        _APPEARED_FIRST,
        ("appeared first", "proviene da", "apparu en premier", "erschien zuerst", "primero en"),
    ),
    (_SHARE_THIS, ("share this", "condividi", "partager", "teilen")),
    (
        _READ_MORE,
        (
            "continue reading",
            "read ",
            "keep reading",
            "full story",
            "leggi",
            "continua a",
            "lire l",
            "en savoir",
            "weiterlesen",
            "mehr lesen",
            "artikel",
            "seguir",
            "leer m",
        ),
    ),
    (_ELLIPSIS_TRAILER, ("…]", "...]", "…)", "...)", "&hellip;")),
    (_CREDIT_AT_END, ("credit", "crédit", "photo", "foto", "image", "picture", "bild")),
)


def _ends_in_bracket(tail: str) -> bool:
    return tail.rstrip()[-1:] in ("]", ")")


def _has_colon(tail: str) -> bool:
    return ":" in tail


# A cheaper necessary condition tried before the hints, where a pattern has one: the ellipsis
# trailer ends in a bracket, the share block and the credit need a colon.
_TRAILER_NEEDS: dict[re.Pattern[str], Callable[[str], bool]] = {
    _ELLIPSIS_TRAILER: _ends_in_bracket,
    _SHARE_THIS: _has_colon,
    _CREDIT_AT_END: _has_colon,
}
_IGNORECASE_ONLY = ("\u0130", "\u0131", "\u017f")  # İ ı ſ
# Where a trailer's key phrase (so its hint) must start, counted from the end of a collapsed
# text. _APPEARED_FIRST: the phrase (25 characters at most, "est apparu en premier sur"),
# " ", up to 200 characters, ".", then only whitespace. _READ_MORE: the phrase (28 at most,
# "read the rest of the article"), an optional " at The Outlet" (" " + 4 + " " + 40), then
# only characters of its closing class.
_READ_MORE_CLOSERS = " .…»›→>:])"


def _appeared_first_reach(tail: str) -> int:
    return 25 + 1 + 200 + 1 + (len(tail) - len(tail.rstrip())) + 8


def _read_more_reach(tail: str) -> int:
    return 28 + 46 + (len(tail) - len(tail.rstrip(_READ_MORE_CLOSERS))) + 8


_TRAILER_REACH: dict[re.Pattern[str], Callable[[str], int]] = {
    _APPEARED_FIRST: _appeared_first_reach,
    _READ_MORE: _read_more_reach,
}
_SHORTEST_REACH = 28 + 46 + 8
_TRAILER_CHECKS = tuple(
    (pattern, hints, _TRAILER_NEEDS.get(pattern), _TRAILER_REACH.get(pattern))
    for pattern, hints in _TRAILERS
)
_LEADER_HINTS = ("credit", "crédit", "foto", "bildquelle", "image source")


def strip_boilerplate(text: str) -> str:
    """Remove what feeds append or prepend to every entry, and nothing else.

    Handles WordPress footers, "read more" links, "[…]" trailers, image credits, share
    blocks and leading bylines, in English, Italian, French and German (plus Spanish footers).
    Every pattern is anchored to the start or end of the text or to a sentence boundary,
    except parenthesized credits, which name themselves.
    """
    return _strip_boilerplate(text, collapsed=False)


def html_to_clean_text(markup: str) -> str:
    """`strip_boilerplate(html_to_text(markup))`, the same text, found faster."""
    return _strip_boilerplate(html_to_text(markup), collapsed=True)


def _strip_boilerplate(text: str, *, collapsed: bool) -> str:
    if not text:
        return ""
    if "(" in text:
        text = _CREDIT_IN_PARENS.sub("", text)
    text = _strip_trailers(text.strip(), collapsed)
    text = _strip_leaders(text)
    return text.strip()


def _strip_trailers(text: str, collapsed: bool) -> str:
    """Peel the trailers off `text`.

    `collapsed`: every whitespace in `text` is a single " " (html_to_text's output; removing
    a trailer or a parenthesized credit keeps it so). Then a match of _APPEARED_FIRST or
    _READ_MORE ends a bounded distance after its key phrase (_TRAILER_REACH), and the hints
    need only be looked for in that last stretch of the text, not in the whole tail.
    """
    # Trailers stack ("… […] Continue reading → The post … appeared first on …"), so peel
    # them one by one until none is left.
    for _ in range(6):
        head, tail = _split_tail(text)
        lowered = ""
        # lower() agrees with re.IGNORECASE on every letter of the hints but for these three,
        # which the patterns match as "i" or "s" and lower() keeps apart.
        reaching = (
            collapsed
            and len(tail) > _SHORTEST_REACH
            and (tail.isascii() or not any(map(tail.__contains__, _IGNORECASE_ONLY)))
        )
        for pattern, hints, needs, reach in _TRAILER_CHECKS:
            if needs is not None and not needs(tail):
                continue
            if reaching and reach is not None and (start := len(tail) - reach(tail)) > 0:
                searched = tail[start:].lower()
            else:
                searched = lowered = lowered or tail.lower()
            if not any(map(searched.__contains__, hints)):  # no Python frame per hint
                continue
            stripped = pattern.sub("", tail, count=1)
            if stripped != tail:
                text = (head + stripped).rstrip()
                break
        else:
            return text
    return text


def _split_tail(text: str) -> tuple[str, str]:
    if len(text) <= _EDGE_WINDOW:
        return "", text
    cut = text.rfind(" ", 0, len(text) - _EDGE_WINDOW)
    cut = cut if cut > 0 else len(text) - _EDGE_WINDOW
    return text[:cut], text[cut:]


def _strip_leaders(text: str) -> str:
    lowered_head = text[:12].lower()
    if any(map(lowered_head.__contains__, _LEADER_HINTS)):
        text = _CREDIT_AT_START.sub("", text, count=1)
    match = _BYLINE.match(text) if text[:4].lower().startswith(_BYLINE_WORDS) else None
    if match and _looks_like_name(match.group("name")):
        text = text[match.end() :]
    return text


def _looks_like_name(candidate: str) -> bool:
    """True for "Jane Doe" or "Mario Rossi, Ansa"; false for "Maio" or "the way".

    The part before any comma must be two capitalized words at least, so that "Di Maio: …"
    (a surname) and "By Monday." survive; after a comma comes the affiliation, any case.
    """
    name = candidate.split(",", 1)[0]
    words = [word for word in name.split() if word.lower() not in _NAME_CONNECTORS]
    return len(words) >= 2 and all(word[0].isupper() for word in words)
