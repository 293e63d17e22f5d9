"""Digest wording in the reader's language: headings, labels, plurals and dates.

The words come from the gettext catalogues (`policywire.locale.catalogues`, one ``.po`` file a
language), like everything the chat bots say; dates come from Babel (CLDR data), so
"1 notizia / 3 notizie" and "27 novembre 2026" follow each language's own rules.

To add a label: a field in `Wording`, its English text in `SOURCE` marked with ``N_()`` (a
count: ``NP_()`` and a function like `count_stories`), then ``python -m
policywire.locale.update`` and a translation in every ``.po`` file (tests/test_i18n.py fails
until each language has it).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import dates as babel_dates

from policywire.languages import SUPPORTED_LANGUAGES as SUPPORTED_LANGUAGES
from policywire.locale.catalogues import N_, NP_, gettext, known, ngettext


@dataclass(frozen=True, slots=True)
class Wording:
    further_reading: str
    new_on_story: str
    no_stories: str
    undated: str  # an article the feed gave no date: when we first saw it ({date})
    source: str
    machine_written: str  # marks a headline and summary written by the story summarizer
    # Story cards (docs/cards.md): when a card last grew, its buttons, what pressing them says.
    updated: str
    not_relevant: str
    wrong_grouping: str
    pick_article: str
    muted: str
    split: str
    single_article: str


# The English source text of every label: the msgids.
SOURCE = Wording(
    further_reading=N_("Further reading:"),
    # TRANSLATORS: a digest's heading over a story already sent, which has new articles.
    new_on_story=N_("New on this story"),
    no_stories=N_("Nothing new on these topics."),
    # TRANSLATORS: {date} is when policywire first saw an article its feed gave no date.
    undated=N_("undated, seen {date}"),
    source=N_("Source"),
    # TRANSLATORS: marks a headline and summary written by a language model.
    machine_written=N_("Machine-written summary"),
    # TRANSLATORS: on a story card that grew; {time} is when its last article joined.
    updated=N_("updated {time}"),
    # TRANSLATORS: a button under a story card: the story is off-topic for this chat.
    not_relevant=N_("Not relevant"),
    # TRANSLATORS: a button under a story card: an article there is about another event.
    wrong_grouping=N_("Wrong grouping"),
    pick_article=N_("Which article does not belong to this story?"),
    muted=N_("Muted: this chat gets no more updates on this story."),
    split=N_("Thanks: that article is kept apart from this story here."),
    single_article=N_("This story has only one article."),
)
STORIES = NP_("{n} story", "{n} stories")
# TRANSLATORS: on a story card: how many independent outlets (web sites) told the story.
OUTLETS = NP_("{n} outlet", "{n} outlets")
# TRANSLATORS: a digest's footer: how many more stories matched than fit.
MORE_STORIES = NP_(
    "{n} more matching story did not fit in this digest.",
    "{n} more matching stories did not fit in this digest.",
)


@cache
def wording(language: str) -> Wording:
    """Every label of a digest in `language` (English for a language we do not speak)."""
    language = known(language)
    return Wording(**{f.name: gettext(language, getattr(SOURCE, f.name)) for f in fields(Wording)})


def count_stories(language: str, count: int) -> str:
    return ngettext(language, STORIES, count).format(n=count)


def more_stories(language: str, count: int) -> str:
    return ngettext(language, MORE_STORIES, count).format(n=count)


def count_outlets(language: str, count: int) -> str:
    """A story card's "3 outlets" (owned domains, curate/outlets.py)."""
    return ngettext(language, OUTLETS, count).format(n=count)


def long_date(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """The digest's date in the reader's language and zone: "27 novembre 2026"."""
    local = moment.astimezone(ZoneInfo(timezone))
    return babel_dates.format_date(local.date(), format="long", locale=known(language))


def short_datetime(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """An article's date: "26 feb 2024, 14:05" (Babel's medium date + short time)."""
    local = moment.astimezone(ZoneInfo(timezone))
    day = babel_dates.format_date(local.date(), format="medium", locale=known(language))
    return f"{day}, {local:%H:%M}"


def seen_datetime(moment: datetime, language: str, timezone: str = "UTC") -> str:
    """An undated article's date, which is when we first saw it: "senza data, visto il 26 feb
    2024, 14:05"."""
    return wording(language).undated.format(date=short_datetime(moment, language, timezone))
