"""Names in an article: the organisations, people, laws, places and figures it is about.

Story grouping compares articles by the names they share, so the names must compare equal
across languages: "Commissione europea", "European Commission", "Commission européenne" and
"Europäische Kommission" are all `eu-commission`. Three sources of names, all found with
regular expressions over the title and the first few sentences of the summary:

* **aliases** — the institutions, laws and authorities that matter to AI policy, in English,
  Italian, French and German, each mapped to one id (`ALIASES`). Ids of the ones nearly every
  AI-policy article names (the AI Act, the Commission, the EU…) carry a low weight: sharing
  them says little about sharing an event;
* **proper names** — capitalized words that are not common words ("Mistral", "Microsoft",
  "Azure", "Benifei"). A capitalized word at the start of a sentence counts only when the
  article also capitalizes it elsewhere, or when it looks like a name on its own (CNIL,
  OpenAI, GPT-4); a Title Case Headline counts only its words that the summary confirms;
  German capitalizes every noun, so there a capitalized word weighs less;
* **figures** — numbers of two digits or more ("523 votes", "€15 million", "15 milioni"),
  years left out. Day-of-month-sized numbers weigh less.

Pure and deterministic: the same text always gives the same names. Bounded: only the first
`SUMMARY_CHARS` characters of a summary are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "ALIASES",
    "COMMON_WORDS",
    "GENERIC",
    "Entities",
    "extract_entities",
    "fold_name",
    "label",
    "weight",
]

SUMMARY_CHARS = 600

# id → spellings (any case and accents; the hyphen and the space are interchangeable).
ALIASES: Mapping[str, tuple[str, ...]] = {
    "eu-commission": (
        "European Commission",
        "EU Commission",
        "Commissione europea",
        "Commissione Ue",
        "Commission européenne",
        "Commission de Bruxelles",
        "Europäische Kommission",
        "EU-Kommission",
        "Brüsseler Kommission",
        "Commission",
        "Commissione",
        "Kommission",
    ),
    "eu-parliament": (
        "European Parliament",
        "Parlamento europeo",
        "Europarlamento",
        "Parlement européen",
        "Europäisches Parlament",
        "Europäische Parlament",
        "Europäischen Parlament",
        "Europäischen Parlaments",
        "EU-Parlament",
        "EU Parliament",
        "MEPs",
        "MEP",
        "eurodeputati",
        "eurodéputés",
        "europarlamentari",
        "Europaabgeordnete",
        "EU-Abgeordnete",
    ),
    "eu-council": (
        "Council of the EU",
        "Council of the European Union",
        "EU Council",
        "Consiglio dell'Ue",
        "Consiglio Ue",
        "Consiglio dell'Unione europea",
        "Conseil de l'UE",
        "Conseil de l'Union européenne",
        "Rat der EU",
        "EU-Rat",
        "EU-Staaten",
        "member states",
        "Stati membri",
        "États membres",
        "Mitgliedstaaten",
        "Mitgliedsstaaten",
        "Vingt-Sept",
        "Ventisette",
        "EU ministers",
        "ministri Ue",
    ),
    "ai-office": (
        "AI Office",
        "EU AI Office",
        "European AI Office",
        "Ufficio per l'IA",
        "Ufficio europeo per l'IA",
        "Ufficio europeo per l'intelligenza artificiale",
        "Ufficio IA",
        "Bureau de l'IA",
        "Bureau européen de l'IA",
        "Bureau européen de l'intelligence artificielle",
        "KI-Büro",
        "Europäisches KI-Büro",
        "Europäische KI-Büro",
        "Europäischen KI-Büros",
    ),
    "ai-act": (
        "AI Act",
        "EU AI Act",
        "Artificial Intelligence Act",
        "AI Regulation",
        "legge sull'IA",
        "legge europea sull'IA",
        "legge sull'intelligenza artificiale",
        "regolamento sull'intelligenza artificiale",
        "regolamento europeo sull'intelligenza artificiale",
        "regolamento sull'IA",
        "règlement sur l'intelligence artificielle",
        "règlement européen sur l'intelligence artificielle",
        "règlement sur l'IA",
        "règlement IA",
        "KI-Verordnung",
        "KI-Gesetz",
        "KI-Gesetzes",
        "Regulation (EU) 2024/1689",
    ),
    "gpai": (
        "GPAI",
        "general-purpose AI",
        "general purpose AI",
        "IA per finalità generali",
        "IA à usage général",
        "KI mit allgemeinem Verwendungszweck",
    ),
    "gpai-code": (
        "code of practice",
        "codice di buone pratiche",
        "codice di condotta",
        "code de bonnes pratiques",
        "code de conduite",
        "Verhaltenskodex",
        "Praxisleitfaden",
    ),
    "gdpr": (
        "GDPR",
        "RGPD",
        "DSGVO",
        "General Data Protection Regulation",
        "regolamento generale sulla protezione dei dati",
        "règlement général sur la protection des données",
        "Datenschutz-Grundverordnung",
    ),
    "edpb": (
        "EDPB",
        "European Data Protection Board",
        "Comitato europeo per la protezione dei dati",
        "Comité européen de la protection des données",
        "CEPD",
        "Europäischer Datenschutzausschuss",
        "Europäische Datenschutzausschuss",
        "Europäischen Datenschutzausschuss",
    ),
    "edps": (
        "EDPS",
        "European Data Protection Supervisor",
        "Garante europeo della protezione dei dati",
        "Contrôleur européen de la protection des données",
        "Europäischer Datenschutzbeauftragter",
    ),
    "garante": (
        "Garante privacy",
        "Garante per la protezione dei dati personali",
        "Garante della privacy",
        "Garante",
        "Italian data protection authority",
        "Italy's data protection authority",
        "Italian privacy watchdog",
        "Italy's privacy watchdog",
        "autorité italienne de protection des données",
        "gendarme italien de la vie privée",
        "italienische Datenschutzbehörde",
        "italienische Datenschutzaufsicht",
    ),
    "cnil": ("CNIL",),
    "dsa": (
        "Digital Services Act",
        "DSA",
        "legge sui servizi digitali",
        "règlement sur les services numériques",
        "Gesetz über digitale Dienste",
    ),
    "dma": (
        "Digital Markets Act",
        "DMA",
        "legge sui mercati digitali",
        "règlement sur les marchés numériques",
        "Gesetz über digitale Märkte",
    ),
    "data-act": ("Data Act",),
    "ftc": ("FTC", "Federal Trade Commission"),
    "cma": ("CMA", "Competition and Markets Authority"),
    "agcm": ("AGCM", "Antitrust italiana", "Autorità antitrust"),
    "bundeskartellamt": ("Bundeskartellamt",),
    "noyb": ("noyb", "NOYB"),
    "council-of-europe": (
        "Council of Europe",
        "Consiglio d'Europa",
        "Conseil de l'Europe",
        "Europarat",
    ),
    "un": ("United Nations", "Nazioni Unite", "Nations unies", "Vereinte Nationen", "ONU", "UNO"),
    "g7": ("G7", "G-7"),
    "oecd": ("OECD", "OCSE", "OCDE"),
    "uk": ("United Kingdom", "UK", "Regno Unito", "Royaume-Uni", "Großbritannien", "Britain"),
    "us": ("United States", "Stati Uniti", "États-Unis", "Vereinigte Staaten", "USA", "US"),
    "china": ("China", "Cina", "Chine"),
    "france": ("France", "Francia", "Frankreich", "French government", "governo francese"),
    "italy": ("Italy", "Italia", "Italie", "Italien", "Italian government", "governo italiano"),
    "germany": ("Germany", "Germania", "Allemagne", "Deutschland", "Bundesregierung"),
    "spain": ("Spain", "Spagna", "Espagne", "Spanien"),
    "brussels": ("Brussels", "Bruxelles", "Brüssel", "Brussel"),
    "strasbourg": ("Strasbourg", "Strasburgo", "Straßburg", "Strassburg"),
    "paris": ("Paris", "Parigi", "Paris-based", "parigina", "parigino", "parisienne", "Pariser"),
    "rome": ("Rome", "Roma"),
    "berlin": ("Berlin", "Berlino"),
    "luxembourg": ("Luxembourg", "Lussemburgo", "Luxemburg"),
    "cjeu": (
        "Court of Justice",
        "Corte di giustizia",
        "Cour de justice",
        "Gerichtshof",
        "EuGH",
        "CJEU",
    ),
    "lombardy": ("Lombardy", "Lombardia", "Lombardie", "Lombardei"),
    "microsoft": ("Microsoft", "Redmond"),
    "google": ("Google", "Alphabet"),
    "meta": ("Meta", "Facebook"),
    "x-twitter": ("Twitter",),
    "openai": ("OpenAI", "ChatGPT"),
    "mistral": ("Mistral AI", "Mistral"),
}

# What AI-policy articles are about, named the same way in any language: weaker than a name
# (two articles may share a subject without sharing an event), stronger than the AI Act.
CONCEPTS: Mapping[str, tuple[str, ...]] = {
    "social-scoring": ("social scoring", "punteggio sociale", "notation sociale"),
    "emotion-recognition": (
        "emotion recognition",
        "riconoscimento delle emozioni",
        "reconnaissance des émotions",
        "Emotionserkennung",
    ),
    "facial-recognition": (
        "facial recognition",
        "face recognition",
        "riconoscimento facciale",
        "reconnaissance faciale",
        "Gesichtserkennung",
        "facial images",
        "immagini di volti",
        "images faciales",
        "Gesichtsbildern",
        "Gesichtsbilder",
    ),
    "ai-literacy": (
        "AI literacy",
        "alfabetizzazione in materia di IA",
        "alfabetizzazione sull'IA",
        "maîtrise de l'IA",
        "culture de l'IA",
        "KI-Kompetenz",
    ),
    "prohibited-practices": (
        "prohibited practices",
        "prohibited AI practices",
        "pratiche vietate",
        "pratiche di IA vietate",
        "pratiques interdites",
        "pratiques d'IA interdites",
        "verbotene Praktiken",
    ),
    "guidelines": (
        "guidelines",
        "guidance",
        "linee guida",
        "orientamenti",
        "lignes directrices",
        "Leitlinien",
    ),
    "ai-system": (
        "AI system",
        "AI systems",
        "sistema di IA",
        "sistemi di IA",
        "système d'IA",
        "systèmes d'IA",
        "KI-System",
        "KI-Systeme",
    ),
    "definition": ("definition", "definizione", "définition", "Definition"),
    "liability": (
        "AI Liability Directive",
        "liability directive",
        "direttiva sulla responsabilità",
        "responsabilità civile",
        "responsabilité civile",
        "directive sur la responsabilité",
        "KI-Haftungsrichtlinie",
        "Haftungsrichtlinie",
    ),
    "work-programme": (
        "work programme",
        "programma di lavoro",
        "programme de travail",
        "Arbeitsprogramm",
    ),
    "deepfake": ("deepfake", "deepfakes", "deep fake"),
    "gigafactory": (
        "gigafactory",
        "gigafactories",
        "Gigafabrik",
        "Gigafabriken",
        "KI-Gigafabriken",
        "gigafactories d'IA",
    ),
    "legitimate-interest": (
        "legitimate interest",
        "interesse legittimo",
        "intérêt légitime",
        "berechtigtes Interesse",
        "berechtigtem Interesse",
    ),
    "legal-basis": ("legal basis", "base giuridica", "base légale", "Rechtsgrundlage"),
    "age-verification": (
        "age verification",
        "verifica dell'età",
        "vérification de l'âge",
        "Altersüberprüfung",
        "Altersprüfung",
    ),
    "hallucination": (
        "hallucination",
        "hallucinations",
        "allucinazioni",
        "Halluzinationen",
        "false information",
        "informazioni inesatte",
        "informations erronées",
    ),
    "open-letter": (
        "open letter",
        "lettera aperta",
        "lettre ouverte",
        "offener Brief",
        "offenen Brief",
    ),
    "stop-the-clock": ("stop the clock", "pause", "pausa", "Pause", "moratorium", "moratoria"),
    "copyright": ("copyright", "diritto d'autore", "droit d'auteur", "Urheberrecht"),
    "data-centres": (
        "data centres",
        "data centers",
        "data center",
        "centri dati",
        "centres de données",
        "Rechenzentren",
    ),
    "anonymous-models": ("anonymous", "anonimo", "anonyme", "anonym"),
    "national-ai-law": (
        "national AI law",
        "legge italiana sull'intelligenza artificiale",
        "ddl sull'IA",
        "loi nationale sur l'IA",
    ),
    "entry-into-force": (
        "enters into force",
        "entered into force",
        "entry into force",
        "entra in vigore",
        "entrata in vigore",
        "entre en vigueur",
        "entrée en vigueur",
        "tritt in Kraft",
        "in Kraft getreten",
        "Inkrafttreten",
    ),
    "fine": ("fined", "fines", "sanzione", "sanziona", "multa", "amende", "Bußgeld"),
    "declaration": ("declaration", "dichiarazione", "déclaration", "Erklärung"),
    "investment": ("investment", "investments", "investimenti", "investissements", "Investitionen"),
}
_CONCEPT_WEIGHT = 0.6
# Subjects too broad to tell events apart: they weigh what the AI Act weighs.
_BROAD_CONCEPTS = frozenset(
    {"~guidelines", "~fine", "~declaration", "~investment", "~copyright", "~legal-basis"}
)

# Ids nearly every AI-policy article names: they join little on their own.
GENERIC: frozenset[str] = frozenset(
    {
        "eu-commission",
        "eu-parliament",
        "eu-council",
        "ai-act",
        "gpai",
        "gdpr",
        "uk",
        "us",
        "china",
        "france",
        "italy",
        "germany",
        "spain",
        "brussels",
        "paris",
        "rome",
        "berlin",
        "luxembourg",
        "strasbourg",
    }
)

_GENERIC_WEIGHT = 0.35
_ALIAS_WEIGHT = 1.0
_NAME_WEIGHT = 1.0
_GERMAN_NOUN_WEIGHT = 0.4
_SMALL_NUMBER_WEIGHT = 0.35
_NUMBER_WEIGHT = 0.8


def _spaced(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Common words that a headline or a sentence start capitalizes, in en/it/fr/de: never names.
_COMMON = _spaced(
    # English
    "a an the and or but if of in on at to for from by with without into over under after"
    " before about against between as is are was were be been being has have had do does did"
    " will would can could should may might must shall it its this that these those there here"
    " what which who whom whose when where why how all any both each few more most other some"
    " such no nor not only own same so than too very just now new news also says said say"
    " update updated breaking exclusive report reports analysis opinion explainer live watch"
    " week weekly today yesterday tomorrow first last next one two three four five six seven"
    " eight nine ten year years month months day days time people government minister ministers"
    " law laws rules rule bill act court deal deals plan plans vote votes report company"
    " companies start-up startup firm group state states union data model models system systems"
    " via read more says how why our your we they he she his her their them us i you my"
    " large big small high low late early open free official final draft"
    # Italian
    " il lo la i gli le un uno una di da del dello della dei degli delle al allo alla ai agli"
    " alle dal dalla dai dalle nel nello nella nei negli nelle sul sulla sui sulle con per tra"
    " fra e ed o ma se che chi cui non piu anche come dove quando perche questo questa questi"
    " queste quello quella ecco ora oggi ieri domani nuovo nuova nuovi nuove secondo dopo prima"
    " sono e stato stata hanno ha era erano essere sara gia ancora tutto tutti tutte"
    " governo legge regole voto accordo societa azienda aziende modello modelli dati sistema"
    # French
    " le la les un une des du de d l au aux et ou mais si que qui quoi dont ne pas plus pour par"
    " avec sans sur sous dans chez entre vers ce cette ces cet son sa ses leur leurs il elle ils"
    " elles on nous vous est sont etait ete etre avoir a ont fait c'est apres avant selon aussi"
    " comme quand comment pourquoi tout tous toute toutes nouveau nouvelle nouveaux aujourd'hui"
    " hier demain loi regles vote accord societe entreprise modele modeles donnees systeme"
    # German
    " der die das den dem des ein eine einer einem einen eines und oder aber wenn dass ob nicht"
    " kein keine mit ohne fur von vom zu zum zur im in am an auf aus bei nach vor uber unter"
    " zwischen durch gegen seit bis ist sind war waren wird werden wurde hat haben hatte auch"
    " noch schon nur jetzt heute gestern morgen neue neuer neues neuen wie warum wann wo was"
    " wer dieser diese dieses es er sie wir ihr man sich so mehr erste ersten"
    # months and weekdays
    " january february march april may june july august september october november december"
    " gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre"
    " dicembre janvier fevrier mars avril mai juin juillet aout septembre octobre decembre"
    " januar februar marz juni juli oktober dezember"
    " monday tuesday wednesday thursday friday saturday sunday lunedi martedi mercoledi giovedi"
    " venerdi sabato domenica lundi mardi mercredi jeudi vendredi samedi dimanche montag"
    " dienstag mittwoch donnerstag freitag samstag sonntag"
    # the field's own vocabulary: every article of ours says it
    " ai ia ki eu ue europe europa european europeo europea europeen europeenne europaische"
    " europaischen europaisches artificial intelligence intelligenza artificiale intelligence"
    " kunstliche intelligenz tech big regulators regulator watchdog authority autorita"
    " autorite behorde article articolo artikel absatz paragraph journal official ufficiale"
    " officiel amtsblatt section cloud"
    " euro euros million millions billion billions milione milioni miliardo miliardi milliard"
    " milliards millionen milliarden dollar dollars dollari"
)

COMMON_WORDS = _COMMON


def fold_name(text: str) -> str:
    """Lower case, accents stripped, "’" as "'": how names are compared."""
    text = text.replace("’", "'")
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    # Only non-ASCII characters can be combining marks: test those, not every letter.
    return _NON_ASCII.sub(_drop_combining, decomposed).casefold()


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _drop_combining(match: re.Match[str]) -> str:
    run = match.group()
    return "".join(c for c in run if not unicodedata.combining(c))


_Trie = dict[str, "_Trie"]


def _trie_pattern(words: list[str]) -> str:
    """One regex matching exactly `words` (spaces match any run of spaces and hyphens)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _node_pattern(trie)


def _node_pattern(node: _Trie) -> str:
    branches = []
    for char in sorted(k for k in node if k):
        head = r"[\s-]+" if char == " " else re.escape(char)
        branches.append(head + _node_pattern(node[char]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


def _build_aliases() -> tuple[re.Pattern[str], dict[str, str], frozenset[str]]:
    spellings: dict[str, str] = {}
    every = {**ALIASES, **{f"~{key}": value for key, value in CONCEPTS.items()}}
    for entity_id in sorted(every):
        for spelling in every[entity_id]:
            key = " ".join(re.split(r"[\s-]+", fold_name(spelling)))
            spellings.setdefault(key, entity_id)
    # A trie-shaped pattern: the regex engine follows one branch per character instead of
    # trying every spelling at every position (ten times faster on 400 spellings). Greedy
    # branches with a fallback, so "European Parliament" wins over "European".
    pattern = re.compile(r"(?<![\w])" + _trie_pattern(sorted(spellings)) + r"(?![\w])")
    part_words = frozenset(
        word for key in spellings if " " in key for word in key.split() if word not in spellings
    )
    return pattern, spellings, part_words


_ALIAS_RE, _ALIAS_IDS, _ALIAS_PART_WORDS = _build_aliases()
_CAPITALIZED_ONLY = frozenset({"eu-commission", "garante", "mistral", "meta"})
_ALIAS_LABELS: dict[str, str] = {
    **{entity_id: spellings[0] for entity_id, spellings in sorted(ALIASES.items())},
    **{f"~{key}": spellings[0] for key, spellings in sorted(CONCEPTS.items())},
}

# A word that may be a name: a capital letter first (Latin, Greek, Cyrillic scripts), then
# letters, digits, apostrophes and hyphens; or a figure of two digits or more. Lower-case
# words never reach Python code, which keeps extraction fast.
_UPPER = "".join(chr(c) for c in range(0x41, 0x530) if chr(c).isupper() and chr(c).isalpha())
# A capitalized word or a number, not inside another word. Each branch starts with its first
# character and only then looks behind it (two characters back): the regex engine can then
# skip ahead to candidate characters instead of testing a lookbehind at every position.
_WORD = re.compile(rf"[{_UPPER}](?<![\w'’-].)[\w'’-]*|\d(?<![\w.,].)[\d.,]*\d")
_SENTENCE_BREAK = re.compile(r"[.!?:;—–|«»\"“”(]\s*\Z")
_YEAR = re.compile(r"\A(?:19|20)\d\d\Z")
_MONTH_NAMES = (
    ("january", "gennaio", "janvier", "januar", "jan"),
    ("february", "febbraio", "fevrier", "februar", "feb"),
    ("march", "marzo", "mars", "marz"),
    ("april", "aprile", "avril", "apr"),
    ("may", "maggio", "mai"),
    ("june", "giugno", "juin", "juni", "jun"),
    ("july", "luglio", "juillet", "juli", "jul"),
    ("august", "agosto", "aout", "aug"),
    ("september", "settembre", "septembre", "sep", "sept"),
    ("october", "ottobre", "octobre", "oktober", "oct"),
    ("november", "novembre", "nov"),
    ("december", "dicembre", "decembre", "dezember", "dec"),
)
_MONTHS = {name: number for number, names in enumerate(_MONTH_NAMES, 1) for name in names}
# "2 February", "2 febbraio", "2. Februar", "1er août" (folded: no accents, lower case).
# The lookahead repeats what the day's first character must be: checked first, it spares the
# lookbehind at every other position (twice as fast; the matches are the same by construction).
_DATE_RE = re.compile(
    r"(?=[1-9])(?<!\d)([1-9]|[12]\d|3[01])(?:er|st|nd|rd|th)?\.?\s+("
    + "|".join(sorted(_MONTHS, key=lambda m: (-len(m), m)))
    + r")\b"
)
_DATE_WEIGHT = 0.6


@dataclass(frozen=True, slots=True)
class Entities:
    """What `extract_entities` found; keys are ids ("eu-commission") or folded names."""

    title: frozenset[str]  # the keys found in the title
    all: frozenset[str]  # title and summary together
    weights: Mapping[str, float]  # key → weight, for every key in `all`

    def weight_of(self, keys: Iterable[str]) -> float:
        return sum(self.weights[key] for key in keys)


def extract_entities(title: str, summary: str, language: str | None = None) -> Entities:
    """The names in an article's title and the first sentences of its summary."""
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0]
    weights: dict[str, float] = {}
    title_keys = _names(title, summary, language, weights, is_title=True)
    summary_keys = _names(summary, title, language, weights, is_title=False)
    return Entities(frozenset(title_keys), frozenset(title_keys | summary_keys), weights)


def _names(
    text: str, other: str, language: str | None, weights: dict[str, float], *, is_title: bool
) -> set[str]:
    keys: set[str] = set()
    if not text:
        return keys
    folded = fold_name(text)
    aligned = len(folded) == len(text)
    for match in _ALIAS_RE.finditer(folded):
        entity_id = _ALIAS_IDS[" ".join(re.split(r"[\s-]+", match.group()))]
        # "commissione" and "garante" are common words; "mistral" is also a wind: the bare
        # spelling counts only when capitalized.
        if entity_id in _CAPITALIZED_ONLY and aligned and not text[match.start()].isupper():
            continue
        keys.add(entity_id)
        if entity_id[0] == "~":
            broad = entity_id in _BROAD_CONCEPTS
            weights[entity_id] = _GENERIC_WEIGHT if broad else _CONCEPT_WEIGHT
        else:
            weights[entity_id] = _GENERIC_WEIGHT if entity_id in GENERIC else _ALIAS_WEIGHT
    for match in _DATE_RE.finditer(folded):
        month = _MONTHS[match.group(2)]
        key = f"@{month:02d}-{int(match.group(1)):02d}"
        keys.add(key)
        weights[key] = _DATE_WEIGHT
    title_case = is_title and _is_title_case(text)
    for match in _WORD.finditer(text):
        word = match.group()
        first = word[0]
        if first.isdigit():
            _add_number(word, keys, weights)
            continue
        if not first.isupper():
            continue
        name, head, distinctive = _word_info(word)
        if head is not None:
            # "Replika-Anbieter", "DSA-Verfahren": the name before the hyphen counts too.
            keys.add(head)
            weights[head] = max(weights.get(head, 0.0), _GERMAN_NOUN_WEIGHT)
        if name is None:
            continue
        initial = title_case or _starts_sentence(text, match.start())
        if initial and not distinctive and not _capitalized_inside(word, other):
            continue
        weight = _GERMAN_NOUN_WEIGHT if language == "de" and not distinctive else _NAME_WEIGHT
        keys.add(name)
        if weights.get(name, 0.0) < weight:
            weights[name] = weight
    return keys


def _add_number(word: str, keys: set[str], weights: dict[str, float]) -> None:
    digits = word.replace(",", "").replace(".", "")
    if len(digits) < 2 or _YEAR.match(digits):
        return
    key = "#" + digits.lstrip("0")
    keys.add(key)
    weights[key] = (
        _SMALL_NUMBER_WEIGHT if len(digits) <= 2 and int(digits) <= 31 else _NUMBER_WEIGHT
    )


@lru_cache(maxsize=1 << 16)
def _word_info(word: str) -> tuple[str | None, str | None, bool]:
    """A capitalized word → (its key or None when it is no name, the name before its hyphen
    or None, whether it looks like a name wherever it stands). Cached: words repeat."""
    key = fold_name(word).rstrip("'-")
    if key.endswith("'s"):
        key = key[:-2]
    head = None
    if "-" in key:
        if key.replace("-", " ") in _ALIAS_IDS:
            return None, None, False  # an alias, already counted under its id
        first = key.split("-", 1)[0]
        if first not in _COMMON and first not in _ALIAS_IDS and len(first) > 2:
            head = first
    if "'" in key:  # "L'Europa", "dell'UE": the article is not part of the name
        key = key.rsplit("'", 1)[1]
    if len(key) < 2 or key in _COMMON or key in _ALIAS_IDS or key in _ALIAS_PART_WORDS:
        return None, head, False
    return key, head, _looks_like_a_name(word)


# A digit, or an upper-case letter right after a lower-case one ("OpenAI", "DeepMind");
# "KI-Modelle" and "US-Investor" are German compounds, not names.
_CAMEL_OR_DIGIT = re.compile(rf"[^\W\d_](?<![{_UPPER}])[{_UPPER}]|\d")


def _looks_like_a_name(word: str) -> bool:
    """CNIL, OpenAI, GPT-4, McKinsey: a name whatever its place in the sentence."""
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True
    return _CAMEL_OR_DIGIT.search(word) is not None


def _starts_sentence(text: str, start: int) -> bool:
    if start == 0:
        return True
    return _SENTENCE_BREAK.search(text, max(0, start - 4), start) is not None


def _capitalized_inside(word: str, other: str) -> bool:
    """The word also appears capitalized somewhere else, not at a sentence start."""
    return word in other or word.rstrip("'’s") in other


def _is_title_case(title: str) -> bool:
    words = [w for w in title.split() if len(w) >= 4 and w[0].isalpha()]
    return len(words) >= 4 and sum(w[0].isupper() for w in words) * 3 >= len(words) * 2


def weight(entities: Entities, key: str) -> float:
    return entities.weights.get(key, 0.0)


def label(key: str) -> str:
    """How a key reads in an explanation: the alias's first spelling, a name, a figure."""
    if key in _ALIAS_LABELS:
        return _ALIAS_LABELS[key]
    if key.startswith("#"):
        return key[1:]
    return key.title() if key.islower() else key
