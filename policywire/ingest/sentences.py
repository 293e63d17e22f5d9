"""Sentence-bounded excerpts: `summarize` keeps the first sentences of a text (abbreviations,
initials and decimals do not end one), `truncate` cuts at a word boundary.

Pure functions over strings that run on every item of every poll: each takes a fast path
for the common case and bounds the work it does on long input.
"""

from __future__ import annotations

import re

__all__ = ["summarize", "truncate"]


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Titles and abbreviations that are followed by a name or a word, never end a sentence.
_COMMON_ABBREVIATIONS = _words(
    "mr mrs ms dr prof sr jr st vs gen gov sen rep col lt capt sgt mt ft"
)
# These end a sentence often enough ("the answer was no.") that they only count before a number.
_BEFORE_NUMBER = _words(
    "no nos nr n art fig ca approx p pp pag vol jan feb mar apr jun jul aug sep sept oct nov dec"
)
_ABBREVIATIONS_BY_LANGUAGE = {
    "en": _words("inc ltd corp rev hon cf op"),
    "it": _words("sig sigg dott avv ing ecc cfr geom rag"),
    "fr": _words("m mm mme mlle pr av env cf"),
    "de": _words("hr fr bzw vgl usw evtl ggf inkl bspw str abs dt zzgl"),
    "es": _words("sr sra srta dña"),
}
_ALL_ABBREVIATIONS = _COMMON_ABBREVIATIONS.union(*_ABBREVIATIONS_BY_LANGUAGE.values())
# A sentence ends at ".", "!" or "?" (with closing quotes) followed by space, or at an
# ideographic full stop, which needs no space.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’»)\]]*(?=\s)|[。！？]+")
_DOTTED_ABBREVIATION = re.compile(r"(?:[^\W\d_]\.){1,4}[^\W\d_]?\Z")
_WORD_BEFORE = re.compile(r"([\w.'’-]+)\Z")
_OPENERS = "\"'“‘«¿¡([—–-"


def summarize(
    text: str, *, max_chars: int = 500, max_sentences: int = 3, language: str | None = None
) -> str:
    """The first sentences of `text` (at most `max_sentences`), within `max_chars`.

    Cuts only at sentence boundaries; abbreviations, initials, decimals and ellipses do not
    end a sentence. When even the first sentence is too long, it is cut at a word boundary
    and "…" is appended (the result still fits `max_chars`).
    """
    text = " ".join(text.split())
    if max_chars <= 0 or max_sentences <= 0:
        return ""
    abbreviations = _abbreviations_for(language)
    # No boundary past max_chars can be used, so never scan further.
    ends = _sentence_ends(text[: max_chars + 2], abbreviations, max_sentences)
    if len(text) <= max_chars and len(ends) < max_sentences:
        return text
    fitting = [end for end in ends if end <= max_chars]
    if fitting:
        return text[: fitting[-1]]
    return truncate(text, max_chars)


def _abbreviations_for(language: str | None) -> frozenset[str]:
    extra = _ABBREVIATIONS_BY_LANGUAGE.get(language or "")
    return _COMMON_ABBREVIATIONS | extra if extra is not None else _ALL_ABBREVIATIONS


def _sentence_ends(text: str, abbreviations: frozenset[str], limit: int) -> list[int]:
    """Offsets just past each sentence end found in `text`, at most `limit` of them."""
    ends: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        if _is_sentence_end(text, match, abbreviations):
            ends.append(match.end())
            if len(ends) == limit:
                break
    return ends


def _is_sentence_end(text: str, match: re.Match[str], abbreviations: frozenset[str]) -> bool:
    mark = match.group()
    if mark[0] in "。！？":
        return True
    following = text[match.end() :].lstrip()[:1]
    if not following:
        return match.end() >= len(text)  # the window may have cut the next sentence off
    if following.islower():
        return False  # "Apple Inc. said", "e.g. this": a lower-case start continues
    if following not in _OPENERS and not following.isalnum():
        return False
    if ".." in mark:
        return False  # an ellipsis trails off; it does not close the sentence
    if mark != ".":
        return True
    return not _ends_with_abbreviation(text[: match.start()], following, abbreviations)


def _ends_with_abbreviation(before: str, following: str, abbreviations: frozenset[str]) -> bool:
    word_match = _WORD_BEFORE.search(before)
    if word_match is None:
        return False
    word = word_match.group(1).lstrip("'’-")
    if len(word) == 1 and word.isalpha():
        return True  # an initial: "J. Smith", "M. Macron"
    if "." in word and _DOTTED_ABBREVIATION.search(word + "."):
        return True  # "U.S.", "e.g.", "z.B."
    lowered = word.lower()
    if lowered in _BEFORE_NUMBER:
        return following.isdigit()  # "No. 5", "Art. 52", "Jan. 31"
    return lowered in abbreviations


def truncate(text: str, max_chars: int) -> str:
    """`text` if it fits, else cut at the last word boundary with "…" (within `max_chars`)."""
    if len(text) <= max_chars:
        return text
    if max_chars <= 1:
        return "…"[:max_chars]
    room = text[: max_chars - 1]
    cut = room.rfind(" ")
    if cut > max_chars // 3:
        room = room[:cut]
    return room.rstrip(" ,;:–—-") + "…"
