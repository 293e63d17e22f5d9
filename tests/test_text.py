"""Tables for the plain-text helpers: each row is one behaviour we rely on downstream."""

from __future__ import annotations

import pytest

from policywire.text import (
    canonical_link,
    detect_language_hint,
    extract_links,
    fold,
    html_to_text,
    strip_boilerplate,
    summarize,
    truncate,
)


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("", ""),
        ("plain text", "plain text"),
        ("  spaced \n\t out  ", "spaced out"),
        ("<p>Hello <b>world</b></p>", "Hello world"),
        ("<p>One.</p><p>Two</p>", "One. Two"),
        (
            "<h2>Key points</h2><ul><li>First</li><li>Second.</li></ul>",
            "Key points. First. Second.",
        ),
        ("<div><span><em>deeply</em> <a href='x'>nested</a></span></div>", "deeply nested"),
        ("line<br>break", "line break"),
        ("para<br/><br />next", "para. next"),
        ("Caf&eacute; &amp; bar &#8217;s &#x2014; ok", "Café & bar ’s — ok"),
        ("AT&amp;amp;T", "AT&T"),
        ("&amp;quot;quoted&amp;quot;", '"quoted"'),
        ("&amp;amp;amp;", "&amp;"),  # three levels: only the extra one is undone
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
        ("a&nbsp;b\u200bc", "a bc"),
        ("<script>var x = '<p>hi</p>';</script>Text", "Text"),
        ("<style>p { color: red }</style>Styled", "Styled"),
        ("Before<noscript><img src=x>Enable JS</noscript> after", "Before after"),
        ("<SCRIPT type='text/javascript'>bad()</SCRIPT>Good", "Good"),
        ("Visible<script>never closed", "Visible"),
        ("<!-- a comment -->Shown", "Shown"),
        ("<![CDATA[kept text]]>", "kept text"),
        ("<a title='a > b' href=\"/x\">link</a> end", "link end"),
        ('Broken <a href="x>Hello</a> and <b>bold', "Broken Hello and bold"),
        ("Unclosed <b>bold <i>italic", "Unclosed bold italic"),
        ('Cut off in a tag <a href="https://exa', "Cut off in a tag"),
        ("a < b and c > d", "a < b and c > d"),
        ("3<4", "3<4"),
        ("Para one\n\nPara two", "Para one. Para two"),
        ("<p>(Photo: Agency)</p><p>Text.</p>", "(Photo: Agency) Text."),
    ],
)
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # WordPress footers, en / it / fr / de
        (
            "The deal was signed. The post Deal signed appeared first on Policy Desk.",
            "The deal was signed.",
        ),
        (
            "Il governo ha deciso. L'articolo Il governo decide proviene da Cronache.",
            "Il governo ha deciso.",
        ),
        (
            "Le texte est adopté. L’article Texte adopté est apparu en premier sur Le Site.",
            "Le texte est adopté.",
        ),
        (
            "Der Text ist da. Der Beitrag Text da erschien zuerst auf Netz Beispiel.",
            "Der Text ist da.",
        ),
        # read-more links
        ("The deal was signed. Continue reading…", "The deal was signed."),
        ("The deal was signed… Continue reading →", "The deal was signed…"),
        ("The deal was signed. Read more", "The deal was signed."),
        ("The deal was signed. [Read more]", "The deal was signed."),
        ("The deal was signed - Read More »", "The deal was signed"),
        ("Il governo ha deciso. Leggi tutto", "Il governo ha deciso."),
        ("Il governo ha deciso. Continua a leggere…", "Il governo ha deciso."),
        ("Le texte est adopté. Lire la suite", "Le texte est adopté."),
        ("Der Text ist da. Weiterlesen", "Der Text ist da."),
        # truncation trailers
        ("The commission said it would [...]", "The commission said it would"),
        ("The commission said it would […]", "The commission said it would"),
        # image credits
        ("The vote (Photo: Example Agency) was close.", "The vote was close."),
        ("The vote was close. (Foto: Agenzia Esempio)", "The vote was close."),
        ("Le vote (Photo de Jean Exemple) est serré.", "Le vote est serré."),
        ("The vote was close. Image credit: Example Images", "The vote was close."),
        ("The vote was close. Credit: Example Wire", "The vote was close."),
        ("Credit: Example Wire. The vote was close.", "The vote was close."),
        ("Foto: Agenzia Esempio. Il voto è stato combattuto.", "Il voto è stato combattuto."),
        ("Die Abstimmung war knapp. Foto: Beispiel Agentur", "Die Abstimmung war knapp."),
        # share blocks
        ("The vote was close. Share this: Twitter Facebook", "The vote was close."),
        ("Il voto. Condividi: Facebook", "Il voto."),
        # bylines
        ("By Jane Doe | The vote was close.", "The vote was close."),
        ("By J. Doe - The vote was close.", "The vote was close."),
        ("Di Mario Rossi. Il voto è stato combattuto.", "Il voto è stato combattuto."),
        ("Par Jean-Luc Exemple – Le vote est serré.", "Le vote est serré."),
        ("Von Hans Müller, dpa | Die Abstimmung war knapp.", "Die Abstimmung war knapp."),
        # stacked trailers
        (
            "It passed […] Continue reading → The post It passed appeared first on Desk.",
            "It passed",
        ),
    ],
)
def test_strip_boilerplate_removes(text: str, expected: str) -> None:
    assert strip_boilerplate(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Schools need to read more.",
        "Children who read more do better at school.",
        "Read more about the AI Act in our explainer on the vote today.",
        "By Monday, the council must decide.",
        "By the end of 2025 every provider must comply.",
        "Di Maio: il governo deve decidere entro venerdì.",
        "Photos: protesters gather outside the parliament in Brussels.",
        "Access to credit: banks tighten lending after the ruling.",
        "The post of data protection officer appeared in the draft.",
        "Continua il confronto tra governo e sindacati sul testo.",
        "Weiterlesen lohnt sich: die Verordnung hat 113 Artikel und viele Anhänge.",
        "Lire la suite du rapport demande du temps.",
        "The ratio (3:2) was unchanged.",
        "Mistral (the French start-up) raised money.",
    ],
)
def test_strip_boilerplate_keeps_real_content(text: str) -> None:
    assert strip_boilerplate(text) == text


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("Short text without an end", {}, "Short text without an end"),
        (
            "Mr. Smith met Dr. Jones in the U.S. capital. They talked. A third one. A fourth.",
            {},
            "Mr. Smith met Dr. Jones in the U.S. capital. They talked. A third one.",
        ),
        (
            "The rate rose to 3.5 percent. See e.g. the annex. Next. Last.",
            {"max_sentences": 2},
            "The rate rose to 3.5 percent. See e.g. the annex.",
        ),
        ("J. R. Tolkien wrote books. Another.", {"max_sentences": 1}, "J. R. Tolkien wrote books."),
        (
            "He waited... Then he left. And so on.",
            {"max_sentences": 1},
            "He waited... Then he left.",
        ),
        ("He waited… Then he left. And so on.", {"max_sentences": 1}, "He waited… Then he left."),
        ("See No. 5 of the list. Next.", {"max_sentences": 1}, "See No. 5 of the list."),
        ("The answer was no. Then it changed.", {"max_sentences": 1}, "The answer was no."),
        ('He said "Stop." Then he left.', {"max_sentences": 1}, 'He said "Stop."'),
        (
            "Il sig. Rossi ha citato leggi, regolamenti ecc. Poi è andato via. Fine. Altro.",
            {"max_sentences": 2, "language": "it"},
            "Il sig. Rossi ha citato leggi, regolamenti ecc. Poi è andato via. Fine.",
        ),
        (
            "M. Macron a parlé à l’Élysée. Les députés ont voté. Troisième. Quatrième.",
            {"language": "fr"},
            "M. Macron a parlé à l’Élysée. Les députés ont voté. Troisième.",
        ),
        (
            "Die Regeln, z.B. Art. 5, gelten ab Nr. 3. Das ist neu. Drei. Vier.",
            {"language": "de"},
            "Die Regeln, z.B. Art. 5, gelten ab Nr. 3. Das ist neu. Drei.",
        ),
        (
            "Erste Sätze über Größe. Zweiter Satz für Übersicht.",
            {"max_chars": 30},
            "Erste Sätze über Größe.",
        ),
        ("中文句子。第二句。第三句。第四句。", {}, "中文句子。第二句。第三句。"),
    ],
)
def test_summarize(text: str, kwargs: dict[str, object], expected: str) -> None:
    assert summarize(text, **kwargs) == expected  # type: ignore[arg-type]


def test_summarize_cuts_a_long_first_sentence_at_a_word() -> None:
    text = "This first sentence keeps going " * 30 + ". Second."
    result = summarize(text, max_chars=100)
    assert len(result) <= 100
    assert result.endswith("…")
    assert result[:-1] == result[:-1].rstrip()
    assert text.startswith(result[:-1])
    assert text[len(result) - 1] == " "  # the cut fell between words


@pytest.mark.parametrize("max_chars", [20, 50, 80, 120, 200])
def test_summarize_respects_max_chars(max_chars: int) -> None:
    text = "Sentence number one is here. " * 10
    assert len(summarize(text, max_chars=max_chars)) <= max_chars


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("one two three four", 10) == "one two…"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (
            "https://Example.COM/a?utm_source=x&b=2&fbclid=1&a=1#frag",
            None,
            "https://example.com/a?b=2&a=1",
        ),
        (
            "https://ex.org/p?UTM_Campaign=x&gclid=1&mc_cid=2&mc_eid=3&igshid=4&ref_src=5"
            "&_hsenc=6&_hsmi=7&yclid=8&msclkid=9&utm_whatever=10",
            None,
            "https://ex.org/p",
        ),
        ("https://ex.org/p?utm_source=x", None, "https://ex.org/p"),
        ("HTTP://ex.org:80/p", None, "http://ex.org/p"),
        ("https://ex.org:443/p", None, "https://ex.org/p"),
        ("https://ex.org:8443/p", None, "https://ex.org:8443/p"),
        ("https://User@Ex.org/Case/Path?Q=Kept", None, "https://User@ex.org/Case/Path?Q=Kept"),
        ("https://ex.org/p?ref=home&x=%20y", None, "https://ex.org/p?ref=home&x=%20y"),
        (
            "/2025/03/story?utm_medium=rss",
            "https://News.Ex.org/feed.xml",
            "https://news.ex.org/2025/03/story",
        ),
        ("story.html", "https://ex.org/section/feed", "https://ex.org/section/story.html"),
        ("//cdn.ex.org/x", "https://ex.org/", "https://cdn.ex.org/x"),
        ("http://[::1]:80/x", None, "http://[::1]/x"),
        ("  https://ex.org/padded  ", None, "https://ex.org/padded"),
        ("http://[::1", None, "http://[::1"),
        ("http://host:notaport/", None, "http://host:notaport/"),
        ("  not a url  ", None, "not a url"),
        ("mailto:someone@ex.org", None, "mailto:someone@ex.org"),
    ],
)
def test_canonical_link(url: str, base: str | None, expected: str) -> None:
    assert canonical_link(url, base) == expected


def test_extract_links_keeps_pages_only() -> None:
    markup = (
        "<a href=\"/x?utm_source=1\">a</a> <A HREF='https://b.org/p#f'>b</A> "
        '<a href=https://c.org/pic.JPG>img</a> <a href="mailto:x@y.org">m</a> '
        '<a class="k" href="https://b.org/p">again</a> <a href="https://d.org/?a=1&amp;b=2">d</a>'
    )
    assert extract_links(markup, "https://site.org/feed") == [
        "https://site.org/x",
        "https://b.org/p",
        "https://d.org/?a=1&b=2",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AI Act", "ai act"),
        ("Élysée Café", "elysee cafe"),
        ("Straße", "strasse"),
        ("Ünïcödé ÀÉÎÕÜ", "unicode aeiou"),
        ("ﬁnance", "finance"),
        ("città già più", "citta gia piu"),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("en-US", "en"),
        ("it_IT", "it"),
        ("IT", "it"),
        ("IT-it", "it"),
        (" fr ", "fr"),
        ("deu", "de"),
        ("English", "en"),
        (None, None),
        ("", None),
        ("x-default", None),
        ("und", None),
        ("not a language", None),
        ("12", None),
    ],
)
def test_detect_language_hint(tag: str | None, expected: str | None) -> None:
    assert detect_language_hint(tag) == expected
