"""The plain text helpers of policywire/ingest/text.py, kept as the reference for its fast paths.

A verbatim copy of the plain implementation (html_to_text, strip_boilerplate, canonical_link,
extract_links and the rest), used only by tests/test_text.py, which asserts that the
optimized module gives exactly the same output on the synthetic corpus, the real feeds and
randomized inputs. Do not "fix" anything here: it is the behaviour being preserved. When a rule
deliberately changes (issue 13: tracking parameters and Google redirects, bylines, datelines,
credits, newsletter and podcast trailers), it changes here too, in its plainest form.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

# The list of tracking parameters is data kept in one place; what is checked here is how the
# fast path applies it.
from policywire.ingest.links import TRACKING_PARAMETERS, TRACKING_PREFIXES

__all__ = [
    "canonical_link",
    "detect_language_hint",
    "extract_links",
    "fold",
    "html_to_text",
    "strip_boilerplate",
    "summarize",
    "truncate",
]

# ---------------------------------------------------------------------------------------------
# html_to_text
# ---------------------------------------------------------------------------------------------

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
_INVISIBLE_CHARS = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff\xad")
_HAS_INVISIBLE_CHAR = re.compile("[\u200b\u200c\u200d\u2060\ufeff\xad]")
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
    text = _COMMENT.sub(" ", markup)
    if "<![" in text:
        text = _CDATA.sub(r"\1", text)
    text = _INVISIBLE.sub(" ", text)
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
        text = html.unescape(text)
    if _HAS_INVISIBLE_CHAR.search(text):  # translate() is slow: one dict lookup a character
        text = text.translate(_INVISIBLE_CHARS)
    if _BREAK not in text:
        return " ".join(text.split())
    paragraphs = (" ".join(part.split()) for part in text.split(_BREAK))
    return _join_paragraphs(part for part in paragraphs if part)


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


# ---------------------------------------------------------------------------------------------
# strip_boilerplate
# ---------------------------------------------------------------------------------------------

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
    r"photo credit|image credit|picture credit|image source|credits?|photographs?|photos?"
    r"|images?|pictures?|illustrations?|foto|fonte foto|crédits? photo|crédit|bild(?:quelle)?"
    r"|fotos?"
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
    r"\A\s*(?:by|di|par|von|por)\s+(?P<name>" + _NAME_WORD + r"(?:,?\s+" + _NAME_WORD + r"){0,11})"
    r"\s*(?:[|•·–—]|\s-\s|(?<![\s.])\.\s)\s*",
    re.I,
)
_BYLINE_WORDS = ("by ", "di ", "par ", "von ", "por ")
_NAME_CONNECTORS = frozenset({"and", "e", "et", "und", "y", "&", "de", "di", "da", "van", "von"})

# Where a trailer that never makes up a whole text starts: the end of a sentence or clause.
_AFTER_SENTENCE = r"(?:(?<=[.!?…:;|»›→”\"')\]–—-])\s*|\s+[–—|-]\s*)"
# Newsletter sign-ups ("Sign up here to get our morning briefing."), from there to the end:
# what follows one is more promotion. Only after a sentence, so a title is never emptied.
_SIGN_UP = re.compile(
    _AFTER_SENTENCE
    + r"(?:sign up|subscribe|iscriviti|inscrivez-vous|abonnez-vous|abonnieren sie)\b"
    r"[^.!?]{0,150}?\b(?:newsletters?|e-?mails?|inbox|here|now|qui|ici)\b.{0,600}\Z",
    re.I | re.S,
)
# Podcast hosts' footers: "See omny.example/listener for privacy information.", "Hosted on
# Acast. See acast.com/privacy for more information.", "Learn more about your ad choices.
# Visit megaphone.fm/adchoices".
_PODCAST_FOOTER = re.compile(
    r"(?<=[.!?…])\s+(?:(?:hosted on acast\.\s*)?see\s+\S{3,80}\s+for\s+(?:privacy|more)\s+"
    r"(?:and\s+opt-out\s+)?information|learn more about your ad choices\.\s*visit\s+\S{3,80}?)"
    r"\.?\s*\Z",
    re.I,
)
# Live blogs' "Follow live." (and "follow our live coverage", "segui la diretta").
_FOLLOW_LIVE = re.compile(
    _AFTER_SENTENCE
    + r"(?:follow (?:live|along|our live coverage|the latest|live updates)(?: updates)?"
    r"|segui (?:la )?diretta|suivez (?:le direct|en direct))(?: here| below)?[\s.:…»›→]*\Z",
    re.I,
)
_CLICK_HERE = re.compile(
    _AFTER_SENTENCE + r"(?:to read (?:this|the) (?:article|story|post) in full,? (?:please )?"
    r"click here|click here to (?:read more|continue reading|read the full (?:article|story)))"
    r"[\s.…»›→>:\])]*\Z",
    re.I,
)
# Reddit's "submitted by /u/name [link] [comments]", which may be all a link post has.
_SUBMITTED_BY = re.compile(
    _AFTER_BREAK + r"submitted by\s+/?u/[\w-]{1,40}\s*(?:\[link\]\s*)?(?:\[comments\])?\s*\Z",
    re.I,
)
# Google News lists end with "View Full Coverage on Google News" (and its translations),
# capitalized: the lower-case letter after "nejm.org" (no space before "View") is no start.
_FULL_COVERAGE = re.compile(
    _AFTER_SENTENCE
    + r"(?-i:(?=[A-ZÀ-Þ]))[^.!?]{0,40}?(?:full coverage|couverture complète|copertura completa"
    r"|berichterstattung|cobertura completa)[^.!?]{0,30}?google\s+(?:news|actualités|notizie"
    r"|nachrichten|noticias)\s*\.?\s*\Z",
    re.I,
)
# A credit's name: capitalized words, initials, and the words that join them ("Jane Doe for
# Example Wire", "Ann Lee / The Outlet"); lower-case words end it, so "Pictures by children
# show the war." is no credit.
_CREDIT_TOKEN = r"(?:[^\W\d_]\.|[A-ZÀ-ÖØ-Þ][\w'’&-]*)"
_CREDIT_JOIN = r"(?:\s*/\s*|\s+(?:(?:for|via|and|de|di|da|van|von|der|e|et|und)\s+)?)"
_CREDIT_NAME = _CREDIT_TOKEN + r"(?:" + _CREDIT_JOIN + _CREDIT_TOKEN + r"){0,10}?"
# A credit ends at a full stop (not an initial's: "A. Lee") or a bar or dash.
_CREDIT_END = r"(?:(?<=[\w'’&-]{2})\.\s+|\s*[|–—]\s*)"
_CREDIT_NOUN = (
    r"(?i:(?:photo(?:graph)?|image|picture|illustration|photo illustration|video|foto|bild)s?)"
)
# "Photo by Ann Lee / The Outlet. Text…" and "Text… Photo by Ann Lee / The Outlet".
_CREDIT_BY_AT_START = re.compile(
    r"\A\s*" + _CREDIT_NOUN + r"\s+(?i:by|di|de|par|von)\s+" + _CREDIT_NAME + _CREDIT_END
)
_CREDIT_BY_AT_END = re.compile(
    r"(?<=[.!?…])\s+" + _CREDIT_NOUN + r"\s+(?i:by|di|de|par|von)\s+" + _CREDIT_NAME + r"\.?\s*\Z"
)
# "Caption. Image by Ann Lee/Example Wire. Text…": a whole sentence crediting a photographer and
# their agency (the slash) is a credit wherever it stands.
_CREDIT_SENTENCE = re.compile(
    r"(?<=[.!?…])\s+"
    + _CREDIT_NOUN
    + r"\s+(?i:by|di|de|par|von)\s+(?=[^.!?]{0,80}?/)"
    + _CREDIT_NAME
    + r"(?<=[\w'’&-]{2})\.(?=\s)"
)
# "Photo: Ann Lee/Example Images. Text…": after a colon only a credit with a slash (photographer
# / agency) or a picture library, since "Photos: protesters gather outside…" is a headline.
_CREDIT_COLON_AT_START = re.compile(
    r"\A\s*" + _CREDIT_NOUN + r"\s*:\s*(?=[^.!?|]{0,80}?(?:/|(?i:getty images|shutterstock"
    r"|alamy)))" + _CREDIT_NAME + _CREDIT_END
)
_CREDIT_START_HINTS = ("photo", "image", "picture", "illustr", "video", "foto", "bild")
# Wire datelines: "WASHINGTON/GENEVA, Feb 17 (Reuters) -", "Berlin (dpa) -", "(ANSA) - ROMA,
# 17 FEB -". The agencies are a short, fixed list: with any word in brackets, "EU (European
# Union) - …" would lose its subject.
_WIRE_AGENCIES = (
    r"Reuters|AP|AFP|dpa|ANSA|EFE|Bloomberg|Xinhua|Kyodo|Yonhap|AGI|Adnkronos|Belga|APA|SDA"
    r"|KNA|epd|Lusa|PAP|ČTK|TASS|Interfax|IANS|PTI|ANI|Anadolu|AA|Agencia Brasil|Europa Press"
)
_PLACE_WORD = r"[A-ZÀ-ÖØ-Þ][\w.'’-]*"
_DATELINE_PLACE = (
    _PLACE_WORD + r"(?:[ /]" + _PLACE_WORD + r"){0,4}"
    r"(?:,\s*[\w.]{1,12}(?:\s+[\w.]{1,12}){0,2}(?:,?\s+\d{4})?)?"
)
_DATELINE_DASH = r"\s*(?:--|[-–—])\s*"
_DATELINE = re.compile(
    r"\A\s*(?:"
    + _DATELINE_PLACE
    + r"\s*\((?:"
    + _WIRE_AGENCIES
    + r")\)"
    + _DATELINE_DASH
    + r"|\((?:"
    + _WIRE_AGENCIES
    + r")\)"
    + _DATELINE_DASH
    + _DATELINE_PLACE
    + _DATELINE_DASH
    + r")"
)

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
    (
        _CREDIT_AT_END,
        ("credit", "crédit", "photo", "foto", "image", "picture", "illustration", "bild"),
    ),
    (_CREDIT_BY_AT_END, ("photo", "image", "picture", "illustration", "video", "foto", "bild")),
    (_SIGN_UP, ("sign up", "subscribe", "iscriviti", "inscrivez", "abonnez", "abonnieren")),
    (_PODCAST_FOOTER, ("information", "ad choices")),
    (_FOLLOW_LIVE, ("follow ", "segui", "suivez")),
    (_CLICK_HERE, ("click here",)),
    (_SUBMITTED_BY, ("submitted by",)),
    (_FULL_COVERAGE, ("google",)),
)

_LEADER_HINTS = ("credit", "crédit", "foto", "bildquelle", "image source")


def strip_boilerplate(text: str) -> str:
    """Remove what feeds append or prepend to every entry, and nothing else.

    Handles WordPress footers, "read more" links, "[…]" trailers, image credits, share
    blocks and leading bylines, in English, Italian, French and German (plus Spanish footers).
    Every pattern is anchored to the start or end of the text or to a sentence boundary,
    except parenthesized credits, which name themselves.
    """
    if not text:
        return ""
    if "(" in text:
        text = _CREDIT_IN_PARENS.sub("", text)
    text = _CREDIT_SENTENCE.sub("", text)
    text = _strip_trailers(text.strip())
    text = _strip_leaders(text)
    return text.strip()


def _strip_trailers(text: str) -> str:
    # Trailers stack ("… […] Continue reading → The post … appeared first on …"), so peel
    # them one by one until none is left.
    for _ in range(6):
        head, tail = _split_tail(text)
        lowered = tail.lower()
        for pattern, hints in _TRAILERS:
            if not any(hint in lowered for hint in hints):
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
    if any(hint in lowered_head for hint in _LEADER_HINTS):
        text = _CREDIT_AT_START.sub("", text, count=1)
    text = _CREDIT_BY_AT_START.sub("", text, count=1)
    text = _CREDIT_COLON_AT_START.sub("", text, count=1)
    match = _BYLINE.match(text) if text[:4].lower().startswith(_BYLINE_WORDS) else None
    if match and _looks_like_name(match.group("name")):
        text = text[match.end() :]
    return _DATELINE.sub("", text, count=1)


def _looks_like_name(candidate: str) -> bool:
    """True for "Jane Doe" or "Mario Rossi, Ansa"; false for "Maio" or "the way".

    The part before any comma must be two capitalized words at least, so that "Di Maio: …"
    (a surname) and "By Monday." survive; after a comma comes the affiliation, any case.
    """
    name = candidate.split(",", 1)[0]
    words = [word for word in name.split() if word.lower() not in _NAME_CONNECTORS]
    return len(words) >= 2 and all(word[0].isupper() for word in words)


# ---------------------------------------------------------------------------------------------
# summarize
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# links
# ---------------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_link(url: str, base: str | None = None) -> str:
    """The form of `url` we store and compare: resolved, tracking-free, fragment-free.

    The scheme and host are lower-cased and a default port is dropped; everything else
    (path, the order and spelling of the remaining query parameters) is kept as written.
    A Google redirect (Google Alerts' `google.com/url?url=…`) becomes the page it leads to.
    A URL that cannot be parsed comes back stripped, unchanged otherwise.
    """
    link = _canonical(url, base)
    target = _redirect_target(link)
    return _canonical(target, None) if target is not None else link


def _redirect_target(link: str) -> str | None:
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    host = parts.netloc
    if parts.path != "/url" or not re.fullmatch(r"(?:www\.)?google(?:\.[a-z]{2,3}){1,2}", host):
        return None
    for parameter in parts.query.split("&"):
        name, _, value = parameter.partition("=")
        if name in ("url", "q") and unquote(value).startswith(("http://", "https://")):
            return unquote(value)
    return None


def _canonical(url: str, base: str | None) -> str:
    stripped = url.strip()
    try:
        absolute = urljoin(base, stripped) if base else stripped
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return stripped
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(parts.netloc, parts.hostname, port, scheme)
    query = _drop_tracking(parts.query)
    return urlunsplit((scheme, netloc, parts.path, query, ""))


def _canonical_netloc(netloc: str, hostname: str | None, port: int | None, scheme: str) -> str:
    if not netloc or hostname is None:
        return netloc
    userinfo, _, _hostport = netloc.rpartition("@")
    host = f"[{hostname}]" if ":" in hostname else hostname  # hostname is already lower-case
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _drop_tracking(query: str) -> str:
    if not query:
        return ""
    kept = [part for part in query.split("&") if part and not _is_tracking(part)]
    return "&".join(kept)


def _is_tracking(parameter: str) -> bool:
    name = parameter.split("=", 1)[0].lower()
    return any(name.startswith(prefix) for prefix in TRACKING_PREFIXES) or (
        name in TRACKING_PARAMETERS
    )


_ANCHOR_HREF = re.compile(
    r"<a\s(?:[^>]*?\s)?href\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))", re.I
)
_NOT_A_PAGE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|ico|mp3|m4a|ogg|wav|mp4|m4v|mov|webm|pdf|zip)\Z", re.I
)


def extract_links(markup: str, base: str | None = None, *, limit: int = 20) -> list[str]:
    """Canonical http(s) links to pages found in `<a href>`s, in order, without repeats.

    Links to images, audio, video and archives are left out: they do not tell which
    article this one talks about.
    """
    if "<a" not in markup and "<A" not in markup:
        return []
    found: dict[str, None] = {}
    for match in _ANCHOR_HREF.finditer(markup):
        href = html.unescape(match.group(1) or match.group(2) or match.group(3) or "")
        link = canonical_link(href, base)
        if link.startswith(("http://", "https://")) and not _NOT_A_PAGE.search(urlsplit(link).path):
            found[link] = None
            if len(found) == limit:
                break
    return list(found)


# ---------------------------------------------------------------------------------------------
# fold and language
# ---------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents, for accent- and case-blind comparison.

    `casefold` rather than `lower`, so that "Straße" and "STRASSE" compare equal.
    """
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


_LANGUAGE_TAG = re.compile(r"\A([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*\Z")
_THREE_LETTER_CODES = {
    "eng": "en",
    "ita": "it",
    "fra": "fr",
    "fre": "fr",
    "deu": "de",
    "ger": "de",
    "spa": "es",
    "por": "pt",
    "nld": "nl",
    "dut": "nl",
}
_LANGUAGE_NAMES = {
    "english": "en",
    "italian": "it",
    "italiano": "it",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "german": "de",
    "deutsch": "de",
    "spanish": "es",
    "español": "es",
}


def detect_language_hint(lang: str | None) -> str | None:
    """ISO 639-1 code from a feed's language tag: "en-US" → "en", "IT" → "it".

    Returns None for anything that is not a language tag ("und", "x-default", "", None).
    """
    if not lang:
        return None
    value = lang.strip()
    named = _LANGUAGE_NAMES.get(value.lower())
    if named:
        return named
    match = _LANGUAGE_TAG.match(value)
    if match is None:
        return None
    primary = match.group(1).lower()
    if len(primary) == 2:
        return primary
    return _THREE_LETTER_CODES.get(primary)
