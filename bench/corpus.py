"""A deterministic feed corpus: N feeds × M items, the same bytes on every machine.

Feed `i` depends only on (seed, i, items per feed), so the server process and the scenario
processes can each rebuild what they need without passing megabytes around.

* Formats: RSS 2.0 (60 %), Atom (30 %), RDF/RSS 1.0 (10 %).
* Languages: en, it, fr, de in turn, accents included.
* Titles ~60–110 characters; HTML summaries ~400–1,200 characters with links, bold and
  entities; 0–3 categories per item.
* ~3 % of items mention a target topic (the AI Act, Mistral, GDPR…), see `TARGET_RULES`.
* ~8 % of items retell one of a pool of shared "events" under a varied title; a third of those
  carry the event's canonical link with tracking parameters, so same-link merging has work too.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape, unescape

from policywire.models import Item, TopicRule

SEED = 20250601
# Every item is dated relative to this instant, so bodies never change between runs.
EPOCH = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
LAST_MODIFIED = format_datetime(EPOCH, usegmt=True)
LANGUAGES = ("en", "it", "fr", "de")
TARGET_SHARE = 0.03
EVENT_SHARE = 0.08
EVENT_POOL = 400

_WORDS = {
    "en": [
        "government",
        "announces",
        "new",
        "plan",
        "for",
        "the",
        "economy",
        "while",
        "markets",
        "react",
        "to",
        "the",
        "latest",
        "figures",
        "on",
        "inflation",
        "energy",
        "prices",
        "housing",
        "schools",
        "hospitals",
        "transport",
        "workers",
        "union",
        "strike",
        "weather",
        "storm",
        "football",
        "league",
        "election",
        "campaign",
        "minister",
        "council",
        "report",
        "city",
        "police",
        "court",
        "ruling",
        "company",
        "profits",
        "quarter",
        "growth",
        "investors",
        "trade",
        "tariffs",
        "climate",
        "summit",
        "research",
        "university",
        "students",
        "budget",
        "taxes",
        "health",
        "science",
        "space",
        "mission",
    ],
    "it": [
        "governo",
        "annuncia",
        "nuovo",
        "piano",
        "per",
        "l'economia",
        "mentre",
        "i",
        "mercati",
        "reagiscono",
        "agli",
        "ultimi",
        "dati",
        "sull'inflazione",
        "prezzi",
        "dell'energia",
        "città",
        "università",
        "perché",
        "però",
        "più",
        "già",
        "sciopero",
        "sindacato",
        "lavoratori",
        "tempesta",
        "campionato",
        "elezioni",
        "ministro",
        "consiglio",
        "rapporto",
        "polizia",
        "tribunale",
        "sentenza",
        "società",
        "profitti",
        "crescita",
        "investitori",
        "commercio",
        "dazi",
        "clima",
        "vertice",
        "ricerca",
        "studenti",
        "bilancio",
        "tasse",
        "salute",
        "scienza",
        "missione",
        "attività",
        "qualità",
    ],
    "fr": [
        "gouvernement",
        "annonce",
        "un",
        "nouveau",
        "plan",
        "pour",
        "l'économie",
        "alors",
        "que",
        "les",
        "marchés",
        "réagissent",
        "aux",
        "derniers",
        "chiffres",
        "de",
        "l'inflation",
        "prix",
        "de",
        "l'énergie",
        "logement",
        "écoles",
        "hôpitaux",
        "grève",
        "syndicat",
        "tempête",
        "élection",
        "ministre",
        "conseil",
        "rapport",
        "ville",
        "police",
        "tribunal",
        "décision",
        "société",
        "bénéfices",
        "croissance",
        "investisseurs",
        "commerce",
        "droits",
        "climat",
        "sommet",
        "recherche",
        "université",
        "étudiants",
        "budget",
        "impôts",
        "santé",
        "espace",
        "mission",
        "été",
        "déjà",
        "à",
        "où",
        "très",
    ],
    "de": [
        "Regierung",
        "kündigt",
        "neuen",
        "Plan",
        "für",
        "die",
        "Wirtschaft",
        "an",
        "während",
        "Märkte",
        "auf",
        "die",
        "neuesten",
        "Zahlen",
        "zur",
        "Inflation",
        "reagieren",
        "Energiepreise",
        "Wohnungen",
        "Schulen",
        "Krankenhäuser",
        "Verkehr",
        "Streik",
        "Gewerkschaft",
        "Sturm",
        "Wahl",
        "Minister",
        "Rat",
        "Bericht",
        "Stadt",
        "Polizei",
        "Gericht",
        "Urteil",
        "Unternehmen",
        "Gewinne",
        "Wachstum",
        "Anleger",
        "Handel",
        "Zölle",
        "Klima",
        "Gipfel",
        "Forschung",
        "Universität",
        "Studenten",
        "Haushalt",
        "Steuern",
        "Gesundheit",
        "Wissenschaft",
        "Raumfahrt",
        "Mission",
        "größer",
        "über",
    ],
}

# What the ~3 % of on-topic items mention, per language (phrases a rule below catches).
_TARGET_PHRASES = {
    "en": ("the AI Act", "Mistral AI", "the AI Office", "GPAI models", "GDPR fines", "OpenAI"),
    "it": ("l'AI Act", "Mistral AI", "il Garante privacy", "GPAI", "GDPR", "OpenAI"),
    "fr": ("l'AI Act", "Mistral AI", "la CNIL", "modèles GPAI", "RGPD", "OpenAI"),
    "de": ("den AI Act", "Mistral AI", "die KI-Verordnung", "GPAI-Modelle", "DSGVO", "OpenAI"),
}

TARGET_RULES: tuple[TopicRule, ...] = (
    TopicRule("ai-act", "EU AI Act", any=("AI Act", "AI Office", "GPAI", "KI-Verordnung")),
    TopicRule("mistral", "Mistral AI", any=("Mistral AI", "Mixtral"), none=("gusts",)),
    TopicRule(
        "data-protection",
        "Data protection",
        any=("GDPR", "RGPD", "DSGVO", "CNIL", "Garante privacy", "re:\\bdatenschutz\\w*"),
    ),
    TopicRule("openai", "OpenAI", any=("OpenAI", "ChatGPT")),
)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    index: int
    path: str  # served at this path
    format: str  # "rss" | "atom" | "rdf"
    language: str
    title: str


def feed_spec(index: int) -> FeedSpec:
    rng = random.Random(SEED * 7919 + index)
    roll = rng.random()
    kind = "rss" if roll < 0.6 else "atom" if roll < 0.9 else "rdf"
    language = LANGUAGES[index % len(LANGUAGES)]
    extension = {"rss": "xml", "atom": "atom", "rdf": "rdf"}[kind]
    return FeedSpec(index, f"/f/{index}.{extension}", kind, language, f"Outlet {index} news")


def feed_body(index: int, items: int) -> bytes:
    """Feed `index` with `items` entries: the exact bytes the server sends."""
    spec = feed_spec(index)
    rng = random.Random(SEED * 104729 + index * 31 + items)
    entries = [_entry(rng, spec, j) for j in range(items)]
    render = {"rss": _rss, "atom": _atom, "rdf": _rdf}[spec.format]
    return render(spec, entries).encode()


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True, slots=True)
class _Entry:
    title: str
    link: str
    guid: str
    summary_html: str
    published: datetime
    categories: tuple[str, ...]


def _sentence(rng: random.Random, words: list[str] | tuple[str, ...], length: int) -> str:
    pieces: list[str] = []
    total = 0
    while total < length:
        word = rng.choice(words)
        pieces.append(word)
        total += len(word) + 1
    text = " ".join(pieces)
    return text[0].upper() + text[1:]


def _event(language: str, number: int) -> tuple[str, str, list[str]]:
    """A shared story: its canonical link and the key words every retelling keeps."""
    rng = random.Random(SEED + 17 * number)
    words = _WORDS[language]
    key = rng.sample(words, 5)
    if rng.random() < 0.15:
        key[0] = rng.choice(_TARGET_PHRASES[language])
    return language, f"https://wire{number % 7}.example/story/{number}", key


def _entry(rng: random.Random, spec: FeedSpec, j: int) -> _Entry:
    words = _WORDS[spec.language]
    published = EPOCH - timedelta(minutes=37 * j + spec.index % 50)
    slug = f"{spec.index}-{j}-{rng.randrange(10**6)}"
    link = f"https://outlet{spec.index}.example/{published:%Y/%m}/{slug}"
    title = _sentence(rng, words, rng.randint(55, 105))
    on_target = rng.random() < TARGET_SHARE
    roll = rng.random()
    if roll < EVENT_SHARE:
        number = rng.randrange(EVENT_POOL)
        _, event_link, key = _event(LANGUAGES[number % 4], number)
        varied = key[:]
        rng.shuffle(varied)
        title = " ".join(varied[:4]) + " " + _sentence(rng, words, rng.randint(15, 45)).lower()
        if rng.random() < 0.33:
            link = f"{event_link}?utm_source=outlet{spec.index}&utm_medium=rss"
    if on_target:
        phrase = rng.choice(_TARGET_PHRASES[spec.language])
        cut = rng.randint(0, max(1, len(title) // 2))
        title = f"{title[:cut].rstrip()} {phrase} {title[cut:].lstrip()}".strip()
    summary = _summary_html(rng, words, spec, on_target)
    categories = tuple(rng.sample(words, rng.randint(0, 3)))
    return _Entry(title, link, f"urn:outlet{spec.index}:{slug}", summary, published, categories)


def _summary_html(rng: random.Random, words: list[str], spec: FeedSpec, on_target: bool) -> str:
    paragraphs = []
    for p in range(rng.randint(2, 4)):
        text = escape(_sentence(rng, words, rng.randint(120, 300)))
        if p == 0 and on_target:
            text += " " + escape(rng.choice(_TARGET_PHRASES[spec.language]))
        if rng.random() < 0.5:
            cut = text.find(" ", len(text) // 3)
            if cut > 0:
                text = f"{text[:cut]} <b>{text[cut + 1 : cut + 20]}</b>{text[cut + 20 :]}"
        if rng.random() < 0.4:
            ref = f"https://ref{rng.randrange(50)}.example/a/{rng.randrange(10**5)}"
            text += f' <a href="{ref}">{escape(rng.choice(words))}</a> &amp; more&hellip;'
        paragraphs.append(f"<p>{text}</p>")
    return "".join(paragraphs)


def _rss(spec: FeedSpec, entries: list[_Entry]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{spec.title}</title><link>https://outlet{spec.index}.example/</link>"
        f"<description>News from outlet {spec.index}</description>"
        f"<language>{spec.language}</language>"
        f"<lastBuildDate>{LAST_MODIFIED}</lastBuildDate>"
    ]
    for e in entries:
        cats = "".join(f"<category>{escape(c)}</category>" for c in e.categories)
        parts.append(
            f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
            f'<guid isPermaLink="false">{e.guid}</guid>'
            f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>{cats}"
            f"<description><![CDATA[{e.summary_html}]]></description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts)


def _atom(spec: FeedSpec, entries: list[_Entry]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{spec.language}">'
        f"<title>{spec.title}</title><id>urn:outlet{spec.index}</id>"
        f'<link href="https://outlet{spec.index}.example/"/>'
        f"<updated>{EPOCH.isoformat()}</updated>"
    ]
    for e in entries:
        cats = "".join(f'<category term="{escape(c)}"/>' for c in e.categories)
        parts.append(
            f"<entry><title>{escape(e.title)}</title>"
            f'<link rel="alternate" href="{escape(e.link)}"/><id>{e.guid}</id>'
            f"<published>{e.published.isoformat()}</published>"
            f"<updated>{e.published.isoformat()}</updated>{cats}"
            f'<summary type="html">{escape(e.summary_html)}</summary></entry>'
        )
    parts.append("</feed>\n")
    return "".join(parts)


def _rdf(spec: FeedSpec, entries: list[_Entry]) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://outlet{spec.index}.example/">'
        f"<title>{spec.title}</title><link>https://outlet{spec.index}.example/</link>"
        f"<description>News</description><dc:language>{spec.language}</dc:language></channel>"
    ]
    for e in entries:
        parts.append(
            f'<item rdf:about="{escape(e.link)}"><title>{escape(e.title)}</title>'
            f"<link>{escape(e.link)}</link>"
            f"<dc:date>{e.published.isoformat()}</dc:date>"
            f"<description>{escape(e.summary_html)}</description></item>"
        )
    parts.append("</rdf:RDF>\n")
    return "".join(parts)


# --- rules for the matching scenario ---------------------------------------------------------


def filler_rules(count: int, seed: int = SEED) -> list[TopicRule]:
    """`count` rules: the four target rules, then rules over the corpus vocabulary and made-up
    words (most rarely hit, as in a large public instance's configuration)."""
    rng = random.Random(seed)
    rules = list(TARGET_RULES[:count])
    vocabulary = sorted({w for words in _WORDS.values() for w in words if w.isalpha()})
    letters = "abcdefghijklmnopqrstuvwxyzéèàüö"
    while len(rules) < count:
        number = len(rules)

        def keyword() -> str:
            size = rng.choice((1, 1, 2, 3))
            pool = vocabulary if rng.random() < 0.1 else None
            if pool is not None:
                return " ".join(rng.choice(pool) for _ in range(size))
            return " ".join(
                "".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(size)
            )

        rules.append(
            TopicRule(
                id=f"t{number}",
                name=f"Topic {number}",
                any=tuple(keyword() for _ in range(rng.randint(2, 6))),
                all=tuple(keyword() for _ in range(rng.random() < 0.1)),
                none=tuple(keyword() for _ in range(rng.random() < 0.2)),
            )
        )
    return rules


# --- ready-made Items, for the stages after parsing ------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def corpus_items(count: int, items_per_feed: int = 50) -> list[Item]:
    """`count` Items as the parse stage would hand them on (HTML stripped, links kept)."""
    found: list[Item] = []
    index = 0
    while len(found) < count:
        spec = feed_spec(index)
        rng = random.Random(SEED * 104729 + index * 31 + items_per_feed)
        for j in range(items_per_feed):
            entry = _entry(rng, spec, j)
            found.append(
                Item(
                    feed=f"https://outlet{index}.example{spec.path}",
                    id=entry.guid,
                    link=entry.link.split("?", 1)[0],
                    title=entry.title,
                    summary=unescape(_TAG.sub(" ", entry.summary_html)).strip(),
                    published=entry.published,
                    language=spec.language,
                    tags=entry.categories,
                    source=spec.title,
                    links=tuple(re.findall(r'href="([^"]+)"', entry.summary_html)),
                )
            )
        index += 1
    return found[:count]
