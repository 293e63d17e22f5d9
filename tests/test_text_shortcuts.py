"""The shortcuts parse_feed's text helpers take give what the plain checks give.

`is_link_labels` answers "no" from the text before its first link when it can, and the trailer
rules look for their hints only where a match could start; the plain forms of both are here,
checked on corpus markup and on random inputs built from the pieces the shortcuts reason
about (names and initials at the end, colons and brackets near the window edges, tags the
simple-tag scan skips or stops at).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from bench.corpus import feed_body
from policywire.ingest import boilerplate
from policywire.ingest.fastparse import parse_fast
from policywire.ingest.html_text import (
    _ANCHOR,
    _LABEL_SEPARATORS,
    _MAX_LABEL_WORDS,
    _MAX_LABELS_MARKUP,
    html_to_text,
    is_link_labels,
)
from tests import text_reference as reference
from tests.test_text import REALFEEDS, _random_texts


def _plain_is_link_labels(markup: str) -> bool:
    """is_link_labels as it was written before the shortcut."""
    if len(markup) > _MAX_LABELS_MARKUP or ("<a" not in markup and "<A" not in markup):
        return False
    labels = _ANCHOR.findall(markup)
    if not labels or any(len(html_to_text(label).split()) > _MAX_LABEL_WORDS for label in labels):
        return False
    if not any(html_to_text(label) for label in labels):
        return False
    rest = html_to_text(_ANCHOR.sub(" ", markup))
    return not rest.strip(_LABEL_SEPARATORS)


_LABEL_PIECES = (
    *('<a href="x">', "<A HREF='y'>", "<a>", "</a>", "</A >", "Comments", "[link]", "a b c d"),
    *("<p>", "</p>", "<b>", "</b>", "<br>", "<br/>", "<span class='c'>", "</span>", "<h2>"),
    *("<script>", "</script>", "<ſcript>", "<Style>", "</style>", "<noscript>", "<template>"),
    *("<!-- c -->", "<!--", "-->", "<![CDATA[", "]]>", "<", ">", "<b title='a > b'>", '"', "'"),
    *("&amp;", "&nbsp;", "&#8203;", "&shy;", "&period;", "&", "\u200b", "\xad", "\ufeff"),
    *(" ", "\n", "\t", "\xa0", "\x1e", "|", "·", "•", "(", ")", "[", "]", "-", "–", "—", "/"),
    *(".", ",", ";", ":", "word", "É", "x"),
)


def _label_markups(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_LABEL_PIECES) for _ in range(rng.randint(1, 25)))


def test_is_link_labels_equals_plain_on_random_markup() -> None:
    for markup in _label_markups(11, 20_000):
        assert is_link_labels(markup) is _plain_is_link_labels(markup), markup


def _corpus_markup() -> list[str]:
    """Every summary and content of the synthetic feeds and, when present, the real ones."""
    bodies = [feed_body(index, 20) for index in range(40)]
    if REALFEEDS.is_dir():
        bodies += [path.read_bytes() for path in sorted(REALFEEDS.iterdir()) if path.is_file()]
    markup: list[str] = []
    for body in bodies:
        fast = parse_fast(body, {"content-type": "application/xml"})
        for entry in fast.entries if fast is not None else []:
            markup.append(entry.get("summary", ""))
            markup += [content["value"] for content in entry.get("content", [])]
    return markup


def test_is_link_labels_equals_plain_on_the_corpus() -> None:
    markups = [*_corpus_markup(), *_random_texts(5, 2_000)]
    assert len(markups) > 2_500
    for markup in markups:
        assert is_link_labels(markup) is _plain_is_link_labels(markup), markup


# Endings that decide the trailer shortcuts: a name's last word (capitalized, an initial, after
# a slash), a lower-case word, credits and share blocks near the edge of their reach.
_TRAILER_PIECES = (
    *("Photo by Ann Lee", "Image by J.", "Video di Mario Rossi/Ansa.", "picture by ann lee"),
    *("photos by A. B. Cy..", "Foto de Lee/", "Bild von Ümit Öz", "Illustration by X/Y/Z Q."),
    *("Credit: AP", "Photo credit : Jane Roe.", "Share this: ", "condividi questo articolo :"),
    *("[…]", "(...)", "[&hellip;]", "Follow live", "click here", "Google News", "information."),
    *("x" * 59, "y " * 30, "lorem ipsum dolor sit amet " * 9, "word", "Word", "É", "ǅ", "/"),
    *(" ", ". ", "! ", "? ", "… ", ": ", "|", " - ", "»", "→", ")", "]", ".", "..", "İ", "ſ"),
)


def _trailer_texts(seed: int, count: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(_TRAILER_PIECES) for _ in range(rng.randint(1, 40)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_trailer_shortcuts_equal_reference(seed: int) -> None:
    for text in _trailer_texts(seed, 4_000):
        collapsed = " ".join(text.split())
        assert boilerplate.strip_boilerplate(text) == reference.strip_boilerplate(text), text
        assert boilerplate._strip_boilerplate(collapsed, collapsed=True) == (
            reference.strip_boilerplate(collapsed)
        ), collapsed


def test_promo_window_holds_every_promo_reach() -> None:
    group_reach = boilerplate._TRAILER_GROUPS[-1][1]
    assert group_reach is not None
    for text in _trailer_texts(4, 2_000):
        tail = " ".join(text.split())
        start = boilerplate._reach_start(tail, group_reach)
        for _, _, _, reach in boilerplate._REACHING_PROMOS:
            assert reach is not None
            assert start <= boilerplate._reach_start(tail, reach), tail
