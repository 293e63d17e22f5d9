"""What feeds append or prepend to every entry, removed: `strip_boilerplate` (footers, "read
more" links, credits, share blocks, bylines) and `html_to_clean_text`, which converts first.

Pure functions over strings that run on every item of every poll: each takes a fast path
for the common case and bounds the work it does on long input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from policywire.ingest.html_text import html_to_text
from policywire.ingest.text import fold

__all__ = [
    "html_to_clean_text",
    "listed_outlet",
    "strip_boilerplate",
    "strip_outlet_suffix",
    "summary_is_metadata",
    "summary_says_nothing",
    "title_outlet",
]


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
# "By Jane Doe |", "Di Mario Rossi.", "Par Jean-Luc Martin –", "Von Hans Müller, dpa |",
# "By Ann Lee, Bo Chan and Cy Diaz." (wire stories name up to four reporters: twelve words).
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


def _ends_in_bracket(tail: str) -> bool:
    return tail.rstrip()[-1:] in ("]", ")")


def _has_colon(tail: str) -> bool:
    return ":" in tail


def _ends_in_name(tail: str) -> bool:
    """Whether `tail` can end as _CREDIT_BY_AT_END does, in a name: its last word (after the
    last space or "/", where a name's words start) is capitalized or an initial ("J.", and
    "J.." with a final full stop). Most texts end in a lower-case word."""
    text = tail.rstrip()
    if not text:
        return False
    last = text.rsplit(None, 1)[-1].rpartition("/")[2]
    return last[:1].isupper() or last[1:] in (".", "..")


# A cheaper necessary condition tried before the hints, where a pattern has one: the ellipsis
# trailer ends in a bracket, the share block and the credit need a colon, a credit by someone
# ends in their name.
_TRAILER_NEEDS: dict[re.Pattern[str], Callable[[str], bool]] = {
    _ELLIPSIS_TRAILER: _ends_in_bracket,
    _SHARE_THIS: _has_colon,
    _CREDIT_AT_END: _has_colon,
    _CREDIT_BY_AT_END: _ends_in_name,
}
_IGNORECASE_ONLY = ("\u0130", "\u0131", "\u017f")  # İ ı ſ
_READ_MORE_CLOSERS = " .…»›→>:])"
# Where a trailer's key phrase (so its hint) must start, counted from the end of a collapsed
# text (every whitespace run one " "): the most characters its match holds from the start of a
# hint on, but for the run of closing characters it may end with (None: whitespace), counted
# on the tail itself, and a margin of 8.
_Reach = tuple[int, str | None]
_TRAILER_REACH: dict[re.Pattern[str], _Reach] = {
    # the phrase (25 at most, "est apparu en premier sur"), " ", up to 200, "."
    _APPEARED_FIRST: (25 + 1 + 200 + 1, None),
    # "condividi questo articolo" (25), " :", up to 200 characters of anything
    _SHARE_THIS: (25 + 2 + 200, ""),
    # the phrase (28, "read the rest of the article"), " at The Outlet" (" " + 4 + " " + 40)
    _READ_MORE: (28 + 46, _READ_MORE_CLOSERS),
    _ELLIPSIS_TRAILER: (8 + 1, " "),  # "&hellip;" (8), the closing bracket
    # "picture credit" (14), " : ", up to 60 characters, "."
    _CREDIT_AT_END: (14 + 3 + 60 + 1, " "),
    # "follow our live coverage updates" (32), " here" or " below"
    _FOLLOW_LIVE: (32 + 6, " .:…»›→"),
    _CLICK_HERE: (35, _READ_MORE_CLOSERS),  # "click here to read the full article" (35)
    # "ad choices" (10), ". visit " (8), up to 80, "." (or "information", ".")
    _PODCAST_FOOTER: (10 + 8 + 80 + 1, " "),
    # "submitted by /u/" (16), 40, " [link] [comments]" (18)
    _SUBMITTED_BY: (16 + 40 + 18, " "),
    # "google" (6), " ", "actualités" (10), " . " at most
    _FULL_COVERAGE: (6 + 1 + 10 + 3, " "),
}
_SHORTEST_REACH = 6 + 1 + 10 + 3 + 8  # _FULL_COVERAGE's: a shorter tail is searched whole


_MARGIN = 8


def _reach_start(tail: str, reach: _Reach) -> int:
    """Where in `tail` the hint of a trailer of this reach (its fixed part with the margin)
    starts, if anywhere (0 or less: the tail is searched whole). _peel_trailer inlines it."""
    span, closers = reach
    return len(tail.rstrip(closers)) - span


def _with_margin(reach: _Reach | None) -> _Reach | None:
    return None if reach is None else (reach[0] + _MARGIN, reach[1])


_TrailerCheck = tuple[re.Pattern[str], tuple[str, ...], Callable[[str], bool] | None, _Reach | None]
_TRAILER_CHECKS = tuple(
    (pattern, hints, _TRAILER_NEEDS.get(pattern), _with_margin(_TRAILER_REACH.get(pattern)))
    for pattern, hints in _TRAILERS
)
# The newsletter and podcast trailers, tried in _TRAILERS' order after the others, behind one
# look for any of their hints: most texts have none, and one check costs less than six. The
# sign-up call may start anywhere in the tail; the others' hints are looked for in the last
# stretch any of them reaches: the largest fixed part (_PODCAST_FOOTER's), and the widest class
# of closers (which holds the others').
_PROMO_TRAILERS = frozenset(
    (_SIGN_UP, _PODCAST_FOOTER, _FOLLOW_LIVE, _CLICK_HERE, _SUBMITTED_BY, _FULL_COVERAGE)
)
_FIRST_PROMO = next(i for i, check in enumerate(_TRAILER_CHECKS) if check[0] in _PROMO_TRAILERS)
if _TRAILER_CHECKS[_FIRST_PROMO][0] is not _SIGN_UP:
    raise ImportError("boilerplate: the sign-up trailer must open the promotional ones")
_REACHING_PROMOS = _TRAILER_CHECKS[_FIRST_PROMO + 1 :]
_TrailerGroup = tuple[tuple[str, ...], _Reach | None, tuple[_TrailerCheck, ...]]
_TRAILER_GROUPS: tuple[_TrailerGroup, ...] = (
    ((), None, _TRAILER_CHECKS[:_FIRST_PROMO]),
    (_TRAILER_CHECKS[_FIRST_PROMO][1], None, _TRAILER_CHECKS[_FIRST_PROMO : _FIRST_PROMO + 1]),
    (
        tuple(hint for check in _REACHING_PROMOS for hint in check[1]),
        (10 + 8 + 80 + 1 + _MARGIN, _READ_MORE_CLOSERS),
        _REACHING_PROMOS,
    ),
)
_LEADER_HINTS = ("credit", "crédit", "foto", "bildquelle", "image source")
# What _CREDIT_NOUN can start with in ASCII (re.IGNORECASE also matches İ and ı as "i").
_CREDIT_FIRST_LETTERS = frozenset("pPiIvVfFbB")


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
    if "/" in text:  # every credit sentence has one: skip the scan for most texts
        text = _CREDIT_SENTENCE.sub("", text)
    text = _strip_trailers(text.strip(), collapsed)
    text = _strip_leaders(text)
    return text.strip()


def _strip_trailers(text: str, collapsed: bool) -> str:
    """Peel the trailers off `text`.

    `collapsed`: every whitespace in `text` is a single " " (html_to_text's output; removing
    a trailer or a parenthesized credit keeps it so). Then a match of a pattern in
    _TRAILER_REACH ends a bounded distance after its key phrase, and the hints need only be
    looked for in that last stretch of the text, not in the whole tail.
    """
    # Trailers stack ("… […] Continue reading → The post … appeared first on …"), so peel
    # them one by one until none is left.
    for _ in range(6):
        head, tail = _split_tail(text)
        stripped = _peel_trailer(tail, collapsed)
        if stripped is None:
            return text
        text = (head + stripped).rstrip()
    return text


def _peel_trailer(tail: str, collapsed: bool) -> str | None:
    """`tail` without the first trailer of _TRAILERS that it ends with; None when it has none."""
    lowered = tail.lower()
    # lower() agrees with re.IGNORECASE on every letter of the hints but for these three,
    # which the patterns match as "i" or "s" and lower() keeps apart.
    reaching = (
        collapsed
        and len(tail) > _SHORTEST_REACH
        and (tail.isascii() or not any(map(tail.__contains__, _IGNORECASE_ONLY)))
    )
    for group_hints, group_reach, checks in _TRAILER_GROUPS:
        if group_hints:
            searched = lowered
            if reaching and group_reach is not None:
                start = len(tail.rstrip(group_reach[1])) - group_reach[0]  # _reach_start
                searched = lowered[start:] if start > 0 else lowered
            if not any(map(searched.__contains__, group_hints)):
                continue
        for pattern, hints, needs, reach in checks:
            if needs is not None and not needs(tail):
                continue
            searched = lowered
            if reaching and reach is not None:
                # Without İ (reaching), lower() keeps every offset: the slice of the lowered
                # tail is the lowered slice of the tail, and the tail is lowered only once.
                start = len(tail.rstrip(reach[1])) - reach[0]  # _reach_start, inlined
                searched = lowered[start:] if start > 0 else lowered
            if not any(map(searched.__contains__, hints)):  # no Python frame per hint
                continue
            stripped = pattern.sub("", tail, count=1)
            if stripped != tail:
                return stripped
    return None


def _split_tail(text: str) -> tuple[str, str]:
    if len(text) <= _EDGE_WINDOW:
        return "", text
    cut = text.rfind(" ", 0, len(text) - _EDGE_WINDOW)
    cut = cut if cut > 0 else len(text) - _EDGE_WINDOW
    return text[:cut], text[cut:]


def _strip_leaders(text: str) -> str:
    """Credits, then a byline, then a wire dateline, each only at the very start."""
    lowered_head = text[:12].lower()
    if any(map(lowered_head.__contains__, _LEADER_HINTS)):
        text = _CREDIT_AT_START.sub("", text, count=1)
    # match(), not sub(): anchored at the start, it gives up at the first character that
    # cannot begin a credit or a dateline instead of trying every position of the text.
    first = text[:1]
    if first in _CREDIT_FIRST_LETTERS or not first.isascii() or first.isspace():
        text = _without_match(_CREDIT_BY_AT_START, text)
        text = _without_match(_CREDIT_COLON_AT_START, text)
    match = _BYLINE.match(text) if text[:4].lower().startswith(_BYLINE_WORDS) else None
    if match and _looks_like_name(match.group("name")):
        text = text[match.end() :]
    if "(" in text:  # every dateline names its agency in brackets
        text = _without_match(_DATELINE, text)
    return text


def _without_match(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.match(text)
    return text[match.end() :] if match else text


def _looks_like_name(candidate: str) -> bool:
    """True for "Jane Doe" or "Mario Rossi, Ansa"; false for "Maio" or "the way".

    The part before any comma must be two capitalized words at least, so that "Di Maio: …"
    (a surname) and "By Monday." survive; after a comma comes the affiliation, any case.
    """
    name = candidate.split(",", 1)[0]
    words = [word for word in name.split() if word.lower() not in _NAME_CONNECTORS]
    return len(words) >= 2 and all(word[0].isupper() for word in words)


# --- whole summaries and titles ------------------------------------------------------------
#
# The rules above remove a part of a text and hold for titles and summaries alike. These look
# at a summary as a whole, beside its item's title: parse.py asks them which of an entry's
# bodies to summarize, and whether the end of its title is the outlet's name.

# A title's last segment after " - ", " | ", " – " or " — ": where outlets put their name.
_TITLE_SUFFIX = re.compile(r"\s+[-|–—]\s+((?:(?![-|–—]\s).){1,40}?)\s*\Z")
_TITLE_SEPARATORS = ("-", "|", "–", "—")
_MAX_OUTLET_WORDS = 5
# Hacker News feeds from hnrss: the item's links and counts, nothing of the article.
_HN_METADATA = re.compile(
    r"\A(?:article url:\s*\S+\s*)?comments url:\s*\S+\s*points:\s*\d+\s*#\s*comments:\s*\d+\Z",
    re.I,
)
# A summary that is a byline and nothing else ("Por Ann Lee e Bo Chan"): for summaries only,
# since a title in title case ("Von Der Leyen Visits Rome") reads the same.
_LONE_BYLINE = re.compile(
    r"\A(?:by|di|par|von|por)\s+(?P<name>" + _NAME_WORD + r"(?:,?\s+" + _NAME_WORD + r"){1,11})"
    r"\s*\.?\Z",
    re.I,
)
_OUTLET_PART_SEPARATOR = re.compile(r"\s+[-|–—:]\s+")
_DOMAIN_ENDING = re.compile(r"\.(?:[a-z]{2,3})(?:\.[a-z]{2})?\Z", re.I)


def title_outlet(title: str) -> tuple[str, str] | None:
    """`title` split into headline and a short last segment that may name the outlet:
    "Deal agreed - Example News" → ("Deal agreed", "Example News"); None when there is none."""
    # Most titles have no separator at all: one look for each is cheaper than the search.
    if not any(map(title.__contains__, _TITLE_SEPARATORS)):
        return None
    match = _TITLE_SUFFIX.search(title)
    if match is None:
        return None
    headline, outlet = title[: match.start()].rstrip(), match.group(1)
    if len(outlet.split()) > _MAX_OUTLET_WORDS or len(headline.split()) < 2:
        return None
    return headline, outlet


def listed_outlet(summary: str, title: str) -> str | None:
    """The outlet an aggregator's summary names for this item, when the summary is a list of
    headlines glued to outlet names (Google News: "Deal agreed  Example News  Other headline
    Other Outlet…") that opens with this item's own headline and the outlet in its title."""
    split = title_outlet(title)
    if split is None:
        return None
    headline, outlet = split
    return outlet if summary.startswith(f"{headline} {outlet}") else None


def summary_says_nothing(summary: str, title: str) -> bool:
    """True for a summary that tells nothing of its article: an aggregator's list of other
    headlines, Hacker News metadata, or a lone byline. (Link labels alone, such as
    "Comments", are found in the markup: see html_text.is_link_labels.)"""
    return listed_outlet(summary, title) is not None or summary_is_metadata(summary)


def summary_is_metadata(summary: str) -> bool:
    """`summary_says_nothing` but for the aggregator's list, which needs the title: Hacker News
    metadata or a lone byline."""
    if _HN_METADATA.match(summary):
        return True
    byline = _LONE_BYLINE.match(summary)
    return byline is not None and _looks_like_name(byline.group("name"))


def strip_outlet_suffix(title: str, outlets: Iterable[str], link: str = "") -> str:
    """`title` without a trailing " - Outlet" that names the outlet: one of `outlets` (the feed's
    title or any part of it, an aggregator's listed outlet) or the link's site ("Example" for
    example.com). Any other segment ("… | Opinion", "… – video") stays."""
    split = title_outlet(title)
    if split is None:
        return title
    headline, segment = split
    names = set().union(*(_outlet_keys(name) for name in outlets if name))
    names |= _site_keys(link)
    return headline if _name_keys(segment) & names else title


def _outlet_keys(outlet: str) -> set[str]:
    """Keys of an outlet's name and of each part of it ("World - Example.com": world, example)."""
    keys = _name_keys(outlet)
    for part in _OUTLET_PART_SEPARATOR.split(outlet):
        keys |= _name_keys(_DOMAIN_ENDING.sub("", part.strip()))
    return keys


def _name_keys(name: str) -> set[str]:
    """ "The Example Post" → {"theexamplepost", "examplepost"}: letters and digits, case- and
    accent-blind, with and without a leading article."""
    words = re.findall(r"\w+", fold(name))
    keys = {"".join(words)}
    if len(words) > 1 and words[0] in ("the", "il", "la", "le", "les", "der", "die", "das", "el"):
        keys.add("".join(words[1:]))
    return keys - {""}


def _site_keys(link: str) -> set[str]:
    """The labels of a link's host that name the site: "www.example.co.uk" → {"example"}."""
    host = link.partition("://")[2].partition("/")[0].partition("?")[0].rpartition("@")[2]
    labels = host.partition(":")[0].lower().split(".")[:-1]
    return {label for label in labels if label not in ("www", "co", "com")}
