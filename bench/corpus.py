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


# --- a news window for semantic grouping ------------------------------------------------------
#
# The feed corpus above repeats one small vocabulary, so any two of its items look alike to an
# embedding model (mean cosine ~0.5 between unrelated items, where real news windows sit near
# 0.15). `news_window` writes items the way a day of news reads instead: each event has a
# subject (one of the domains below), three or four of that domain's concepts, people, an
# organisation, a place and a figure; several outlets retell it, in their own words and often
# in another language. The concepts are aligned across languages ("en | it | fr | de"), so a
# retelling in German names the same things as the English one. Every word here was written
# for this generator; nothing comes from a feed.

_DOMAINS: dict[str, tuple[str, str]] = {
    "weather": (
        """flooding | le alluvioni | les inondations | das Hochwasser
        the storm | la tempesta | la tempête | der Sturm
        a heatwave | l'ondata di caldo | la canicule | die Hitzewelle
        wildfires | gli incendi boschivi | les feux de forêt | die Waldbrände
        the drought | la siccità | la sécheresse | die Dürre
        heavy rainfall | le piogge torrenziali | les pluies diluviennes | der Starkregen
        the evacuation | l'evacuazione | l'évacuation | die Evakuierung
        power cuts | i blackout | les coupures de courant | die Stromausfälle
        the river banks | gli argini del fiume | les berges du fleuve | die Flussufer
        snow and ice | la neve e il ghiaccio | la neige et le verglas | Schnee und Eis
        landslides | le frane | les glissements de terrain | die Erdrutsche
        the weather warning | l'allerta meteo | l'alerte météo | die Unwetterwarnung""",
        """orders an evacuation over | dichiara lo stato di emergenza per
        | ordonne l'évacuation face à | ordnet die Evakuierung wegen
        warns residents about | avverte i residenti per
        | met en garde les habitants contre | warnt die Anwohner vor
        counts the damage from | conta i danni di | fait le bilan de | zählt die Schäden durch""",
    ),
    "markets": (
        """share prices | i prezzi delle azioni | le cours des actions | die Aktienkurse
        the central bank | la banca centrale | la banque centrale | die Zentralbank
        interest rates | i tassi di interesse | les taux d'intérêt | die Leitzinsen
        inflation | l'inflazione | l'inflation | die Inflation
        quarterly profits | gli utili trimestrali | les bénéfices trimestriels | die Quartalsgewinne
        the bond market | il mercato obbligazionario | le marché obligataire | der Anleihemarkt
        a takeover bid | l'offerta pubblica di acquisto | l'offre de rachat | das Übernahmeangebot
        the stock exchange | la borsa | la bourse | die Börse
        consumer spending | la spesa delle famiglie | la consommation des ménages | der Konsum
        the currency | la valuta | la monnaie | die Währung
        shareholders | gli azionisti | les actionnaires | die Aktionäre
        job cuts | i tagli al personale | les suppressions d'emplois | der Stellenabbau""",
        """raises its forecast for | rivede al rialzo le stime su
        | relève ses prévisions pour | hebt die Prognose an für
        reports a fall in | registra un calo de | annonce un recul de | meldet einen Rückgang bei
        surprises investors with | sorprende gli investitori con
        | surprend les investisseurs avec | überrascht Anleger mit""",
    ),
    "labour": (
        """a general strike | lo sciopero generale | la grève générale | der Generalstreik
        the trade unions | i sindacati | les syndicats | die Gewerkschaften
        wage talks | la trattativa sui salari | les négociations salariales | die Tarifverhandlungen
        the minimum wage | il salario minimo | le salaire minimum | der Mindestlohn
        pension reform | la riforma delle pensioni | la réforme des retraites | die Rentenreform
        factory workers | gli operai | les ouvriers | die Fabrikarbeiter
        nurses and teachers | infermieri e insegnanti
        | infirmiers et enseignants | Pflegekräfte und Lehrer
        the picket lines | i picchetti | les piquets de grève | die Streikposten
        working hours | l'orario di lavoro | le temps de travail | die Arbeitszeit
        layoffs | i licenziamenti | les licenciements | die Entlassungen
        the employers' federation | la confindustria | le patronat | der Arbeitgeberverband
        unemployment figures | i dati sulla disoccupazione
        | les chiffres du chômage | die Arbeitslosenzahlen""",
        """calls a walkout over | proclama uno sciopero contro
        | appelle à la grève contre | ruft zum Streik auf gegen
        reaches a deal on | raggiunge un accordo su | trouve un accord sur | einigt sich auf
        rejects the offer on | respinge la proposta su
        | rejette la proposition sur | lehnt das Angebot ab zu""",
    ),
    "health": (
        """the hospital waiting lists | le liste d'attesa negli ospedali
        | les listes d'attente à l'hôpital | die Wartelisten der Kliniken
        a measles outbreak | un focolaio di morbillo | une épidémie de rougeole | ein Masernausbruch
        the vaccination campaign | la campagna vaccinale
        | la campagne de vaccination | die Impfkampagne
        cancer screening | lo screening oncologico | le dépistage du cancer | die Krebsvorsorge
        emergency wards | i pronto soccorso | les urgences | die Notaufnahmen
        drug prices | il prezzo dei farmaci | le prix des médicaments | die Arzneimittelpreise
        a shortage of doctors | la carenza di medici | la pénurie de médecins | der Ärztemangel
        mental health services | i servizi di salute mentale
        | les services de santé mentale | die psychiatrische Versorgung
        a new treatment | una nuova terapia | un nouveau traitement | eine neue Therapie
        the clinical trial | la sperimentazione clinica | l'essai clinique | die klinische Studie
        flu cases | i casi di influenza | les cas de grippe | die Grippefälle
        health insurance | l'assicurazione sanitaria
        | l'assurance maladie | die Krankenversicherung""",
        """approves funding for | stanzia fondi per | débloque des fonds pour | bewilligt Geld für
        sounds the alarm over | lancia l'allarme su
        | tire la sonnette d'alarme sur | schlägt Alarm wegen
        publishes results on | pubblica i risultati su
        | publie les résultats sur | veröffentlicht Ergebnisse zu""",
    ),
    "schools": (
        """the school year | l'anno scolastico | la rentrée scolaire | das Schuljahr
        university fees | le tasse universitarie | les frais d'inscription | die Studiengebühren
        exam results | i risultati degli esami | les résultats du bac | die Abiturnoten
        teacher shortages | la mancanza di insegnanti | le manque de professeurs | der Lehrermangel
        the curriculum | i programmi scolastici | les programmes scolaires | der Lehrplan
        student housing | gli alloggi per studenti
        | les logements étudiants | die Studentenwohnheime
        school meals | le mense scolastiche | les cantines scolaires | das Schulessen
        classroom sizes | le classi pollaio | les effectifs des classes | die Klassengrößen
        research grants | i fondi per la ricerca | les bourses de recherche | die Forschungsgelder
        the entrance exams | i test d'ingresso | les concours d'entrée | die Aufnahmeprüfungen
        pupils with disabilities | gli alunni con disabilità
        | les élèves handicapés | Schüler mit Behinderung
        smartphones in class | gli smartphone in classe
        | les portables en classe | Handys im Unterricht""",
        """overhauls the rules on | riforma le regole su
        | réforme les règles sur | reformiert die Regeln für
        bans | vieta | interdit | verbietet
        promises more money for | promette più risorse per
        | promet plus de moyens pour | verspricht mehr Geld für""",
    ),
    "courts": (
        """the murder trial | il processo per omicidio | le procès pour meurtre | der Mordprozess
        the supreme court | la corte suprema | la cour suprême | das Verfassungsgericht
        a corruption probe | un'inchiesta per corruzione
        | une enquête pour corruption | die Korruptionsermittlungen
        the verdict | la sentenza | le verdict | das Urteil
        prosecutors | i pubblici ministeri | les procureurs | die Staatsanwälte
        a bank robbery | una rapina in banca | un braquage de banque | ein Banküberfall
        drug trafficking | il traffico di droga | le trafic de drogue | der Drogenhandel
        the police raid | il blitz della polizia | la descente de police | die Razzia
        the appeal | il ricorso in appello | l'appel | die Berufung
        a prison sentence | una condanna al carcere | une peine de prison | eine Haftstrafe
        witnesses | i testimoni | les témoins | die Zeugen
        money laundering | il riciclaggio di denaro | le blanchiment d'argent | die Geldwäsche""",
        """is charged over | viene incriminato per | est inculpé pour | wird angeklagt wegen
        is acquitted in | viene assolto nel | est acquitté dans | wird freigesprochen im
        opens an inquiry into | apre un'indagine su
        | ouvre une enquête sur | leitet Ermittlungen ein zu""",
    ),
    "elections": (
        """the general election | le elezioni politiche
        | les élections législatives | die Bundestagswahl
        the opinion polls | i sondaggi | les sondages | die Umfragen
        the coalition talks | le trattative per la coalizione
        | les négociations de coalition | die Koalitionsverhandlungen
        the party leader | il segretario del partito | le chef du parti | der Parteichef
        voter turnout | l'affluenza alle urne | le taux de participation | die Wahlbeteiligung
        the runoff | il ballottaggio | le second tour | die Stichwahl
        campaign funding | i finanziamenti della campagna
        | le financement de la campagne | die Wahlkampffinanzierung
        the opposition | l'opposizione | l'opposition | die Opposition
        a no-confidence vote | la mozione di sfiducia | la motion de censure | das Misstrauensvotum
        the cabinet reshuffle | il rimpasto di governo | le remaniement | die Kabinettsumbildung
        the regional vote | il voto regionale | le scrutin régional | die Landtagswahl
        the prime minister | il presidente del consiglio
        | le premier ministre | der Regierungschef""",
        """wins | vince | remporte | gewinnt
        concedes defeat in | ammette la sconfitta nel
        | reconnaît sa défaite dans | räumt die Niederlage ein bei
        launches a bid for | si candida per | se lance dans la course pour | kandidiert für""",
    ),
    "energy": (
        """gas prices | il prezzo del gas | le prix du gaz | die Gaspreise
        the nuclear plant | la centrale nucleare | la centrale nucléaire | das Atomkraftwerk
        wind farms | i parchi eolici | les parcs éoliens | die Windparks
        solar panels | i pannelli solari | les panneaux solaires | die Solaranlagen
        the power grid | la rete elettrica | le réseau électrique | das Stromnetz
        oil production | la produzione di petrolio | la production de pétrole | die Ölförderung
        electricity bills | le bollette della luce
        | les factures d'électricité | die Stromrechnungen
        the pipeline | il gasdotto | le gazoduc | die Pipeline
        carbon emissions | le emissioni di carbonio | les émissions de carbone | der CO2-Ausstoß
        heating costs | i costi del riscaldamento | les frais de chauffage | die Heizkosten
        coal mines | le miniere di carbone | les mines de charbon | die Kohlebergwerke
        hydrogen | l'idrogeno | l'hydrogène | der Wasserstoff""",
        """shuts down | chiude | ferme | schaltet ab
        invests billions in | investe miliardi in
        | investit des milliards dans | investiert Milliarden in
        caps | fissa un tetto a | plafonne | deckelt""",
    ),
    "transport": (
        """the rail strike | lo sciopero dei treni | la grève des trains | der Bahnstreik
        flight cancellations | i voli cancellati | les annulations de vols | die Flugausfälle
        the new metro line | la nuova linea della metropolitana
        | la nouvelle ligne de métro | die neue U-Bahn-Linie
        train tickets | i biglietti del treno | les billets de train | die Bahntickets
        the motorway | l'autostrada | l'autoroute | die Autobahn
        electric cars | le auto elettriche | les voitures électriques | die Elektroautos
        the airport | l'aeroporto | l'aéroport | der Flughafen
        a derailment | un deragliamento | un déraillement | eine Entgleisung
        traffic jams | gli ingorghi | les embouteillages | die Staus
        the bridge | il ponte | le pont | die Brücke
        bus drivers | gli autisti degli autobus | les chauffeurs de bus | die Busfahrer
        fuel prices | il prezzo della benzina | le prix de l'essence | die Spritpreise""",
        """halts | sospende | suspend | stoppt
        opens | inaugura | inaugure | eröffnet
        is blamed for | viene accusato per
        | est mis en cause pour | wird verantwortlich gemacht für""",
    ),
    "technology": (
        """a data breach | una violazione dei dati | une fuite de données | ein Datenleck
        the smartphone launch | il lancio dello smartphone
        | le lancement du smartphone | die Smartphone-Vorstellung
        chip factories | le fabbriche di chip | les usines de puces | die Chipfabriken
        a cyberattack | un attacco informatico | une cyberattaque | ein Hackerangriff
        social media | i social network | les réseaux sociaux | die sozialen Netzwerke
        online privacy | la privacy online | la vie privée en ligne | der Datenschutz im Netz
        the app store | l'app store | la boutique d'applications | der App-Store
        satellite internet | internet satellitare
        | l'internet par satellite | das Satelliteninternet
        a software update | un aggiornamento del software
        | une mise à jour logicielle | ein Software-Update
        video games | i videogiochi | les jeux vidéo | die Videospiele
        robots | i robot | les robots | die Roboter
        the search engine | il motore di ricerca | le moteur de recherche | die Suchmaschine""",
        """unveils | presenta | dévoile | stellt vor
        is fined over | viene multata per | écope d'une amende pour | wird bestraft wegen
        recalls | ritira dal mercato | rappelle | ruft zurück""",
    ),
    "football": (
        """the cup final | la finale di coppa | la finale de la coupe | das Pokalfinale
        the head coach | l'allenatore | l'entraîneur | der Cheftrainer
        a transfer deal | il calciomercato | un transfert | ein Wechsel
        the league title | lo scudetto | le titre de champion | die Meisterschaft
        a hat-trick | una tripletta | un triplé | ein Hattrick
        the penalty shootout | i calci di rigore | la séance de tirs au but | das Elfmeterschießen
        the stadium | lo stadio | le stade | das Stadion
        the fans | i tifosi | les supporters | die Fans
        a knee injury | un infortunio al ginocchio | une blessure au genou | eine Knieverletzung
        relegation | la retrocessione | la relégation | der Abstieg
        the derby | il derby | le derby | das Derby
        the goalkeeper | il portiere | le gardien | der Torwart""",
        """beats | batte | bat | schlägt
        sacks | esonera | limoge | entlässt
        signs | ingaggia | recrute | verpflichtet""",
    ),
    "culture": (
        """the film festival | il festival del cinema | le festival du film | das Filmfestival
        the museum | il museo | le musée | das Museum
        a stolen painting | un dipinto rubato | un tableau volé | ein gestohlenes Gemälde
        the opera house | il teatro dell'opera | l'opéra | das Opernhaus
        the best-selling novel | il romanzo più venduto | le roman à succès | der Bestseller
        the concert tour | la tournée | la tournée de concerts | die Konzerttournee
        the literary prize | il premio letterario | le prix littéraire | der Literaturpreis
        ancient ruins | le rovine antiche | les ruines antiques | die antiken Ruinen
        the orchestra | l'orchestra | l'orchestre | das Orchester
        street art | la street art | l'art urbain | die Straßenkunst
        the box office | il botteghino | le box-office | die Kinokassen
        a documentary | un documentario | un documentaire | ein Dokumentarfilm""",
        """wins the top award at | vince il premio principale a
        | remporte le grand prix de | gewinnt den Hauptpreis bei
        returns | restituisce | restitue | gibt zurück
        cancels | annulla | annule | sagt ab""",
    ),
    "space": (
        """the rocket launch | il lancio del razzo | le lancement de la fusée | der Raketenstart
        the space station | la stazione spaziale | la station spatiale | die Raumstation
        a distant galaxy | una galassia lontana | une galaxie lointaine | eine ferne Galaxie
        the telescope | il telescopio | le télescope | das Teleskop
        the moon landing | l'allunaggio | l'alunissage | die Mondlandung
        astronauts | gli astronauti | les astronautes | die Astronauten
        a fossil discovery | la scoperta di un fossile
        | la découverte d'un fossile | ein Fossilienfund
        climate models | i modelli climatici | les modèles climatiques | die Klimamodelle
        the particle accelerator | l'acceleratore di particelle
        | l'accélérateur de particules | der Teilchenbeschleuniger
        a new species | una nuova specie | une nouvelle espèce | eine neue Art
        Arctic sea ice | il ghiaccio artico | la banquise arctique | das arktische Meereis
        the Mars rover | il rover marziano | le rover martien | der Marsrover""",
        """discovers | scopre | découvre | entdeckt
        postpones | rinvia | reporte | verschiebt
        publishes images of | pubblica le immagini di
        | publie des images de | veröffentlicht Bilder von""",
    ),
    "housing": (
        """rents | gli affitti | les loyers | die Mieten
        house prices | i prezzi delle case | les prix de l'immobilier | die Immobilienpreise
        social housing | l'edilizia popolare | les logements sociaux | der soziale Wohnungsbau
        mortgages | i mutui | les crédits immobiliers | die Hypotheken
        evictions | gli sfratti | les expulsions locatives | die Zwangsräumungen
        holiday rentals | gli affitti brevi | les locations touristiques | die Ferienwohnungen
        building permits | i permessi di costruzione
        | les permis de construire | die Baugenehmigungen
        homelessness | i senzatetto | le sans-abrisme | die Obdachlosigkeit
        the construction sector | il settore edilizio | le secteur du bâtiment | die Baubranche
        tenants | gli inquilini | les locataires | die Mieter
        empty flats | gli appartamenti sfitti | les logements vacants | der Leerstand
        the city centre | il centro storico | le centre-ville | die Innenstadt""",
        """freezes | congela | gèle | friert ein
        cracks down on | dichiara guerra a | s'attaque à | geht vor gegen
        builds thousands of | costruisce migliaia di | construit des milliers de | baut Tausende""",
    ),
    "farming": (
        """farmers | gli agricoltori | les agriculteurs | die Landwirte
        the harvest | il raccolto | la récolte | die Ernte
        food prices | i prezzi dei generi alimentari
        | les prix alimentaires | die Lebensmittelpreise
        pesticides | i pesticidi | les pesticides | die Pestizide
        bird flu | l'influenza aviaria | la grippe aviaire | die Vogelgrippe
        the wine sector | il settore vinicolo | la filière viticole | die Weinbranche
        tractors | i trattori | les tracteurs | die Traktoren
        fishing quotas | le quote di pesca | les quotas de pêche | die Fangquoten
        milk prices | il prezzo del latte | le prix du lait | die Milchpreise
        organic farming | l'agricoltura biologica | l'agriculture biologique | der Ökolandbau
        the supermarkets | i supermercati | les supermarchés | die Supermärkte
        farm subsidies | i sussidi agricoli | les subventions agricoles | die Agrarsubventionen""",
        """protests against | protesta contro | manifeste contre | protestiert gegen
        culls | abbatte | abat | keult
        cuts | taglia | réduit | kürzt""",
    ),
    "diplomacy": (
        """the peace talks | i colloqui di pace | les pourparlers de paix | die Friedensgespräche
        a ceasefire | il cessate il fuoco | le cessez-le-feu | die Waffenruhe
        sanctions | le sanzioni | les sanctions | die Sanktionen
        the summit | il vertice | le sommet | der Gipfel
        the ambassador | l'ambasciatore | l'ambassadeur | der Botschafter
        border controls | i controlli alle frontiere
        | les contrôles aux frontières | die Grenzkontrollen
        military aid | gli aiuti militari | l'aide militaire | die Militärhilfe
        refugees | i rifugiati | les réfugiés | die Flüchtlinge
        the trade agreement | l'accordo commerciale | l'accord commercial | das Handelsabkommen
        a prisoner swap | lo scambio di prigionieri
        | l'échange de prisonniers | der Gefangenenaustausch
        drone strikes | gli attacchi con i droni | les frappes de drones | die Drohnenangriffe
        the foreign minister | il ministro degli esteri
        | le ministre des affaires étrangères | der Außenminister""",
        """hosts | ospita | accueille | richtet aus
        breaks off | interrompe | rompt | bricht ab
        signs | firma | signe | unterzeichnet""",
    ),
}

# How each language tells an event: headlines, opening sentences and further sentences.
# Slots: {actor} a person, {org} an organisation, {place}, {a} the event's action, {n1} {n2}
# {n3} its concepts (in the retelling's order), {d} another concept of the domain, {num} a
# figure, {day} the weekday. `_fill` capitalizes the first letter.
_TELLING: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "title": (
            "{actor} {a} {n1}",
            "{place}: {org} {a} {n1}",
            "{n1} in {place}: {actor} {a} {n2}",
            "{org} {a} {n1} as {n2} worries {place}",
            "{num} affected as {org} {a} {n1} in {place}",
            "Why {actor} {a} {n1}, and what it means for {n2}",
            "{place} braces for {n1}",
            "{n1}: what we know so far",
            "Live: {n1} in {place}",
        ),
        "lead": (
            "{actor}, of {org}, {a} {n1} in {place} {day}, after weeks of debate over {n2}.",
            "In {place}, {org} {a} {n1}; {actor} said {n2} and {n3} were at stake.",
            "{org} {a} {n1} {day}, {actor} told reporters in {place}.",
            '"We had no choice," said {actor} as {org} {a} {n1}.',
            "Is {n1} the new normal? {place} is asking after {org} {a} it.",
            "{n1} and {n2}: {place} wakes up to a decision few expected.",
        ),
        "more": (
            "About {num} people are concerned, according to figures from {org}.",
            "Local officials said {n2} had been a concern for months.",
            "Critics say the decision does little for {n3} and {d}.",
            "{actor} is expected to speak again about {n2} later this week.",
            "The announcement comes as {d} dominates the debate in {place}.",
            "Residents in {place} described {n3} as the main worry.",
            "A spokesperson declined to comment.",
            "More details are due next month.",
            "Shares of nearby firms barely moved.",
            "It is the third such case this year.",
        ),
        "days": ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday"),
    },
    "it": {
        "title": (
            "{actor} {a} {n1}",
            "{place}, {org} {a} {n1}",
            "{n1} a {place}: {actor} {a} {n2}",
            "{org} {a} {n1}, a {place} preoccupano {n2}",
            "{num} persone coinvolte: {org} {a} {n1} a {place}",
            "Perché {actor} {a} {n1} e cosa cambia per {n2}",
            "{place} si prepara a {n1}",
            "{n1}, cosa sappiamo finora",
            "Diretta: {n1} a {place}",
        ),
        "lead": (
            "{actor}, di {org}, {a} {n1} a {place} {day}, dopo settimane di polemiche su {n2}.",
            "A {place} {org} {a} {n1}; secondo {actor} sono in gioco {n2} e {n3}.",
            "{org} {a} {n1} {day}, ha detto {actor} ai giornalisti a {place}.",
            "«Non avevamo scelta», ha spiegato {actor}: {org} {a} {n1}.",
            "{n1} è ormai la regola? A {place} se lo chiedono dopo la mossa di {org}.",
            "{n1} e {n2}: {place} si sveglia con una decisione che pochi attendevano.",
        ),
        "more": (
            "Sono circa {num} le persone interessate, secondo i dati di {org}.",
            "Le autorità locali hanno spiegato che {n2} preoccupa da mesi.",
            "Per i critici la decisione fa poco per {n3} e {d}.",
            "{actor} tornerà a parlare di {n2} nei prossimi giorni.",
            "L'annuncio arriva mentre a {place} si discute soprattutto di {d}.",
            "Gli abitanti di {place} indicano {n3} come il problema principale.",
            "Un portavoce non ha voluto commentare.",
            "Altri dettagli sono attesi il mese prossimo.",
            "È il terzo caso dall'inizio dell'anno.",
            "Nessuna reazione per ora da Roma.",
        ),
        "days": ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì"),
    },
    "fr": {
        "title": (
            "{actor} {a} {n1}",
            "{place} : {org} {a} {n1}",
            "{n1} à {place} : {actor} {a} {n2}",
            "{org} {a} {n1}, {n2} inquiète {place}",
            "{num} personnes concernées : {org} {a} {n1} à {place}",
            "Pourquoi {actor} {a} {n1}, et ce que cela change pour {n2}",
            "{place} se prépare à {n1}",
            "{n1} : ce que l'on sait",
            "En direct : {n1} à {place}",
        ),
        "lead": (
            "{actor}, de {org}, {a} {n1} à {place} {day}, après des semaines de débat sur {n2}.",
            "À {place}, {org} {a} {n1} ; selon {actor}, {n2} et {n3} sont en jeu.",
            "{org} {a} {n1} {day}, a déclaré {actor} à la presse à {place}.",
            "« Nous n'avions pas le choix », a expliqué {actor} : {org} {a} {n1}.",
            "{n1}, désormais la règle ? À {place}, on s'interroge après le geste de {org}.",
            "{n1} et {n2} : {place} se réveille avec une décision que peu attendaient.",
        ),
        "more": (
            "Environ {num} personnes sont concernées, selon les chiffres de {org}.",
            "Les autorités locales expliquent que {n2} inquiète depuis des mois.",
            "Pour les critiques, la décision ne change guère {n3} ni {d}.",
            "{actor} doit à nouveau s'exprimer sur {n2} dans les prochains jours.",
            "L'annonce intervient alors que {d} domine le débat à {place}.",
            "Les habitants de {place} citent {n3} comme leur principale inquiétude.",
            "Un porte-parole n'a pas souhaité commenter.",
            "D'autres précisions sont attendues le mois prochain.",
            "C'est le troisième cas depuis janvier.",
            "Paris n'a pas encore réagi.",
        ),
        "days": ("lundi", "mardi", "mercredi", "jeudi", "vendredi"),
    },
    "de": {
        "title": (
            "{actor} {a} {n1}",
            "{place}: {org} {a} {n1}",
            "{n1} in {place}: {actor} {a} {n2}",
            "{org} {a} {n1} – {n2} beunruhigt {place}",
            "{num} Betroffene: {org} {a} {n1} in {place}",
            "Warum {actor} {a} {n1} – und was das für {n2} bedeutet",
            "{place} wappnet sich für {n1}",
            "{n1}: Was bisher bekannt ist",
            "Liveticker: {n1} in {place}",
        ),
        "lead": (
            "{actor} von {org} {a} {n1} in {place}, nach wochenlangem Streit über {n2}.",
            "{org} {a} {n1} in {place}; laut {actor} stehen {n2} und {n3} auf dem Spiel.",
            "{org} {a} {n1}, sagte {actor} {day} vor Journalisten in {place}.",
            "„Wir hatten keine Wahl“, erklärte {actor}: {org} {a} {n1}.",
            "{n1} als neue Normalität? In {place} fragt man sich das nach dem Schritt von {org}.",
            "{n1} und {n2}: {place} erwacht mit einer Entscheidung, "
            "die kaum jemand erwartet hatte.",
        ),
        "more": (
            "Rund {num} Menschen sind betroffen, wie Zahlen von {org} zeigen.",
            "Die Behörden vor Ort erklärten, {n2} bereite seit Monaten Sorgen.",
            "Kritiker sagen, die Entscheidung helfe kaum bei {n3} und {d}.",
            "{actor} will sich in den kommenden Tagen erneut zu {n2} äußern.",
            "Die Ankündigung kommt, während in {place} vor allem über {d} gestritten wird.",
            "Anwohner in {place} nennen {n3} als größte Sorge.",
            "Ein Sprecher wollte sich nicht äußern.",
            "Weitere Einzelheiten sollen im nächsten Monat folgen.",
            "Es ist bereits der dritte Fall in diesem Jahr.",
            "Aus Berlin gab es zunächst keine Reaktion.",
        ),
        "days": ("am Montag", "am Dienstag", "am Mittwoch", "am Donnerstag", "am Freitag"),
    },
}


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST_NAMES = _words(
    "Anna Marco Lena Pierre Sofia Jonas Clara Luca Emma Felix Giulia Hugo Marta Paul Ines "
    "Tomas Elena Noah Chiara Lucas Nina Matteo Julie Max Sara Leon Alice Karim Maya Omar "
    "Irene David Laura Yusuf Eva Samuel Hanna Diego Lea Victor"
)
# Surnames and towns as a day of world news names them: common everywhere, so none is a hint
# of one story, and known to the model as what they are (made-up words all look alike to it).
_SURNAMES = _words(
    "Müller Schmidt Weber Fischer Wagner Becker Hoffmann Koch Rossi Russo Ferrari Esposito "
    "Bianchi Romano Colombo Ricci Martin Bernard Dubois Thomas Robert Petit Durand Leroy Moreau "
    "Garcia Fernandez Lopez Martinez Gonzalez Rodriguez Silva Santos Pereira Costa Oliveira "
    "Smith Jones Taylor Brown Williams Wilson Evans Walker Wright Hughes Clarke Murphy Kelly "
    "Nowak Kowalski Wisniewski Novak Horvat Kovacs Nagy Popescu Ionescu Petrov Ivanova Sokolov "
    "Jansen Visser Peeters Janssens Nielsen Hansen Larsen Andersson Johansson Virtanen Korhonen "
    "Yilmaz Kaya Demir Haddad Khalil Mansour Nasser Cohen Levi Mizrahi Okafor Mensah Diallo "
    "Traore Kamara Mwangi Otieno Banda Patel Sharma Singh Gupta Khan Rahman Hossain Nguyen "
    "Tran Pham Kim Lee Park Choi Tanaka Suzuki Sato Watanabe Wang Zhang Chen Liu Santoro "
    "Gallo Conti Marino Greco Bruno Lambert Fontaine Girard Roux Vogel Braun Krüger Hartmann"
)
_TOWNS = _words(
    "Lyon Marseille Toulouse Nantes Lille Bordeaux Strasbourg Rennes Grenoble Nice Hamburg "
    "Munich Cologne Leipzig Dresden Hanover Nuremberg Bremen Stuttgart Düsseldorf Milan Turin "
    "Naples Genoa Bologna Florence Palermo Bari Verona Trieste Madrid Valencia Seville Bilbao "
    "Porto Lisbon Coimbra Rotterdam Utrecht Antwerp Ghent Liège Bruges Geneva Basel Zurich "
    "Lausanne Graz Linz Salzburg Innsbruck Krakow Gdansk Poznan Wroclaw Brno Ostrava Bratislava "
    "Debrecen Cluj Timisoara Varna Plovdiv Thessaloniki Patras Split Zagreb Ljubljana Tallinn "
    "Riga Vilnius Tampere Turku Gothenburg Malmö Aarhus Bergen Trondheim Cork Galway Belfast "
    "Glasgow Leeds Bristol Manchester Cardiff Montreal Toronto Vancouver Chicago Denver "
    "Houston Seattle Boston Atlanta Monterrey Guadalajara Medellín Quito Lima Santiago Córdoba "
    "Rosario Recife Curitiba Lagos Accra Dakar Nairobi Kampala Lusaka Durban Casablanca Tunis "
    "Izmir Ankara Beirut Amman Haifa Basra Karachi Lahore Pune Chennai Dhaka Colombo Hanoi "
    "Osaka Sapporo Busan Incheon Cebu Surabaya Perth Adelaide Auckland Wellington"
)
_ORG_KINDS = ("Group", "Bank", "Partners", "Holding", "Foundation", "Institute", "Alliance")
NEWS_OUTLETS = 400  # feeds in the window, a quarter per language


@dataclass(frozen=True, slots=True)
class NewsArticle:
    """One retelling of an event: the item a parser would produce, and the event's label."""

    item: Item
    story: str


@dataclass(frozen=True, slots=True)
class _Event:
    number: int
    domain: str
    concepts: tuple[int, ...]  # indices into the domain's concepts; the first is the main one
    action: int
    other: int  # a further concept of the domain, mentioned in passing
    actor: str
    org: str
    place: str
    figure: int
    day: int
    start: datetime
    language: str  # where it happened: most outlets retelling it write in this language


def _table(block: str) -> list[dict[str, str]]:
    """Rows of "en | it | fr | de"; a line starting with "|" continues the one above."""
    lines: list[str] = []
    for line in block.strip().splitlines():
        line = line.strip()
        if line.startswith("|"):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return [
        dict(zip(LANGUAGES, (c.strip() for c in line.split("|")), strict=True)) for line in lines
    ]


_CONCEPTS = {domain: _table(nouns) for domain, (nouns, _) in _DOMAINS.items()}
_ACTIONS = {domain: _table(actions) for domain, (_, actions) in _DOMAINS.items()}


# Names as varied as a day of world news: several sound systems, each with its endings, so
# that two unrelated names do not look alike to the model the way one syllable game would.
_SOUNDS = (
    (
        "b br d f g gr h k kl l m n p r s sch st t w z",
        "a e i o u au ei ie",
        "mann berg er el ing hof",
    ),
    ("b c d f g l m n p r s t v z", "a e i o u ia io", "elli ini ano ari etti one esi"),
    ("b d k kr l m n p pr r s st t v z", "a e i o u y", "ov ova ski enko ić ak ek"),
    ("b br c ch d f g h j l m n p r s sh t th w", "a e i o ou ee", "son ton ford ley ham wood s"),
    ("b d f h j k l m n r s t y z", "a i u aa ou", "i a ah an id our"),
    ("b ch d g h j k l m n p s t w y", "a e i o u ao ei", "ng n ta ko ra da"),
)


def _made_up(rng: random.Random, syllables: tuple[int, int]) -> str:
    onsets, vowels, endings = (part.split() for part in rng.choice(_SOUNDS))
    count = rng.randint(*syllables)
    word = "".join(rng.choice(onsets) + rng.choice(vowels) for _ in range(count - 1))
    return (word + rng.choice(onsets) + rng.choice(endings)).capitalize()


def _zipf_names(rng: random.Random, names: list[str], k: int) -> list[str]:
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(names))]
    return rng.choices(names, weights, k=k)


def _organisation(rng: random.Random) -> str:
    """A brand-like name, an acronym, or a name and what it is."""
    roll = rng.random()
    if roll < 0.3:
        return "".join(rng.choice("ABCDEFGHIKLMNOPRSTUVZ") for _ in range(rng.randint(3, 4)))
    if roll < 0.6:
        return f"{_made_up(rng, (2, 3))} {rng.choice(_ORG_KINDS)}"
    return _made_up(rng, (2, 3))


def _story_size(rng: random.Random) -> int:
    """Outlets telling one event: half the events one outlet, a few big stories many."""
    roll = rng.random()
    if roll < 0.45:
        return 1
    if roll < 0.63:
        return 2
    if roll < 0.75:
        return 3
    if roll < 0.83:
        return 4
    if roll < 0.95:
        return rng.randint(5, 8)
    return rng.randint(9, 24)


def _events(rng: random.Random, count: int, start: datetime) -> list[_Event]:
    people = sorted({f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}" for _ in range(4000)})
    rng.shuffle(people)
    orgs = [_organisation(rng) for _ in range(1500)]
    places = list(_TOWNS)
    rng.shuffle(places)
    domains = sorted(_DOMAINS)
    events = []
    for number in range(count):
        domain = rng.choice(domains)
        picked = rng.sample(range(len(_CONCEPTS[domain])), 5)
        events.append(
            _Event(
                number=number,
                domain=domain,
                concepts=tuple(picked[:4]),
                action=rng.randrange(len(_ACTIONS[domain])),
                other=picked[4],
                actor=_zipf_names(rng, people, 1)[0],
                org=_zipf_names(rng, orgs, 1)[0],
                place=_zipf_names(rng, places, 1)[0],
                figure=rng.choice((rng.randint(12, 990), rng.randint(1, 99) * 1000)),
                day=rng.randrange(5),
                start=start + timedelta(minutes=rng.randint(0, 66 * 60)),
                language=rng.choice(LANGUAGES),
            )
        )
    return events


def _fill(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


def _retell(rng: random.Random, event: _Event, language: str) -> tuple[str, str]:
    """One outlet's title and summary of `event`, in `language`, in its own words."""
    concepts = _CONCEPTS[event.domain]
    order = list(event.concepts)
    if rng.random() < 0.5:  # another angle: the outlet leads with another concept
        rng.shuffle(order)
    surname = event.actor.split()[-1]
    telling = _TELLING[language]
    slots = {
        "actor": event.actor if rng.random() < 0.7 else surname,
        "org": event.org,
        "place": event.place,
        "a": _ACTIONS[event.domain][event.action][language],
        "n1": concepts[order[0]][language],
        "n2": concepts[order[1]][language],
        "n3": concepts[order[2]][language],
        "d": concepts[rng.choice([event.other, *order[3:]])][language],
        "num": f"{event.figure:,}".replace(",", "." if language in ("it", "de") else ","),
        "day": telling["days"][event.day],
    }
    title = _fill(rng.choice(telling["title"]), slots)
    slots["actor"] = surname  # named in full once, in the title or the lead
    sentences = [_fill(rng.choice(telling["lead"]), {**slots, "actor": event.actor})]
    sentences += [_fill(t, slots) for t in rng.sample(telling["more"], rng.randint(1, 3))]
    return title, " ".join(sentences)


def news_window(count: int, seed: int = SEED, hours: int = 72) -> list[NewsArticle]:
    """`count` items inside one `hours` window, oldest first: events told by 1–24 outlets.

    Deterministic for (count, seed). About 3 items per event, half the events told once; an
    outlet retells in the event's language seven times in ten, otherwise in another. One
    retelling in 20 links to an earlier one (an aggregator's "via" link).
    """
    rng = random.Random(seed * 3571 + count)
    start = EPOCH - timedelta(hours=hours)
    events = _events(rng, count // 2 + 1, start)
    outlets = {language: list(range(n, NEWS_OUTLETS, 4)) for n, language in enumerate(LANGUAGES)}
    found: list[NewsArticle] = []
    for event in events:
        earlier: list[str] = []
        used: set[int] = set()
        for n in range(min(_story_size(rng), count - len(found))):
            language = event.language if rng.random() < 0.7 else rng.choice(LANGUAGES)
            outlet = rng.choice([o for o in outlets[language] if o not in used])
            used.add(outlet)
            published = event.start + timedelta(minutes=min(360, int(rng.expovariate(1 / 90))))
            title, summary = _retell(rng, event, language)
            link = f"https://news{outlet}.example/{published:%Y/%m/%d}/{event.number}-{n}"
            links = (rng.choice(earlier),) if earlier and rng.random() < 0.05 else ()
            item = Item(
                feed=f"https://news{outlet}.example/feed",
                id=link,
                link=link,
                title=title,
                summary=summary,
                published=published,
                language=language,
                source=f"Newswire {outlet}",
                links=links,
            )
            found.append(NewsArticle(item, f"event-{event.number}"))
            earlier.append(link)
        if len(found) >= count:
            break
    found.sort(key=lambda a: (a.item.published, a.item.link))
    return found
