"""Localized digest wording for en, it, fr and de: headings, plurals and dates.

Dates and plural categories come from Babel (CLDR data), so "1 notizia / 3 notizie" and
"27 novembre 2026" follow each language's own rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date

from policywire.languages import SUPPORTED_LANGUAGES as SUPPORTED_LANGUAGES


@dataclass(frozen=True, slots=True)
class Wording:
    story_one: str
    story_many: str
    further_reading: str
    new_on_story: str
    more_one: str  # footer: how many more matched than fit
    more_many: str
    no_stories: str
    undated: str  # an article the feed gave no date: when we first saw it ({date})
    source: str
    machine_written: str  # marks a headline and summary written by the story summarizer


WORDING: dict[str, Wording] = {
    "en": Wording(
        story_one="{n} story",
        story_many="{n} stories",
        further_reading="Further reading:",
        new_on_story="New on this story",
        more_one="{n} more matching story did not fit in this digest.",
        more_many="{n} more matching stories did not fit in this digest.",
        no_stories="Nothing new on these topics.",
        undated="undated, seen {date}",
        source="Source",
        machine_written="Machine-written summary",
    ),
    "it": Wording(
        story_one="{n} notizia",
        story_many="{n} notizie",
        further_reading="Per chi volesse approfondire:",
        new_on_story="Aggiornamento su questa notizia",
        more_one="Un'altra notizia pertinente non è entrata in questo riepilogo.",
        more_many="Altre {n} notizie pertinenti non sono entrate in questo riepilogo.",
        no_stories="Nessuna novità su questi temi.",
        undated="senza data, visto il {date}",
        source="Fonte",
        machine_written="Riassunto automatico",
    ),
    "fr": Wording(
        story_one="{n} article",
        story_many="{n} articles",
        further_reading="Pour aller plus loin :",
        new_on_story="Du nouveau sur ce sujet",
        more_one="{n} autre article correspondant n'a pas trouvé place dans ce résumé.",
        more_many="{n} autres articles correspondants n'ont pas trouvé place dans ce résumé.",
        no_stories="Rien de nouveau sur ces sujets.",
        undated="non daté, vu le {date}",
        source="Source",
        machine_written="Résumé automatique",
    ),
    "de": Wording(
        story_one="{n} Meldung",
        story_many="{n} Meldungen",
        further_reading="Zum Weiterlesen:",
        new_on_story="Neu zu dieser Meldung",
        more_one="{n} weitere passende Meldung hatte keinen Platz mehr.",
        more_many="{n} weitere passende Meldungen hatten keinen Platz mehr.",
        no_stories="Nichts Neues zu diesen Themen.",
        undated="ohne Datum, gesehen am {date}",
        source="Quelle",
        machine_written="Automatische Zusammenfassung",
    ),
}


def wording(language: str) -> Wording:
    return WORDING.get(language, WORDING["en"])


def plural(language: str, count: int, one: str, many: str) -> str:
    """Pick the singular or plural template by the language's CLDR plural rule."""
    locale = Locale.parse(_known(language))
    template = one if locale.plural_form(count) == "one" else many
    return template.format(n=count)


def count_stories(language: str, count: int) -> str:
    words = wording(language)
    return plural(language, count, words.story_one, words.story_many)


def more_stories(language: str, count: int) -> str:
    words = wording(language)
    return plural(language, count, words.more_one, words.more_many)


def long_date(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """The digest's date in the reader's language and zone: "27 novembre 2026"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return format_date(local.date(), format="long", locale=_known(language))


def short_datetime(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """An article's date: "26 feb 2024, 14:05" (Babel's medium date + short time)."""
    local = moment.astimezone(ZoneInfo(timezone))
    day = format_date(local.date(), format="medium", locale=_known(language))
    return f"{day}, {local:%H:%M}"


def seen_datetime(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """An undated article's date, which is when we first saw it: "senza data, visto il 26 feb
    2024, 14:05"."""
    return wording(language).undated.format(date=short_datetime(moment, language, timezone))


def _known(language: str) -> str:
    return language if language in WORDING else "en"
