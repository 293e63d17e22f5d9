"""Every word policywire says comes from here: gettext catalogues, one `.po` file a language.

``policywire/locale/<language>/LC_MESSAGES/policywire.po`` are package data, read at run time:
the first time a language is needed its `.po` file is parsed by Babel and compiled in memory
into the standard library's `GNUTranslations`. No build step makes `.mo` files, so a fresh
`pip install` (wheel, sdist or editable) has every translation, and no compiled file can lag
behind its `.po` source. The cost is a few milliseconds per language, once per process.

A message is keyed by its English source text (the msgid). The markers below only mark text
for extraction (``python -m policywire.locale.update``) and return it unchanged; the lookups
(`gettext`, `ngettext`, `pgettext`) turn it into a language. Importing this module loads no
Babel: `check` and the chat layer's imports stay cheap.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from io import BytesIO
from typing import NamedTuple

from policywire.languages import SUPPORTED_LANGUAGES

DOMAIN = "policywire"
# The language msgids are written in; anything we do not speak falls back to it.
SOURCE_LANGUAGE = "en"


class Plural(NamedTuple):
    """A message with a singular and a plural msgid; the count picks the form per language."""

    singular: str
    plural: str


def N_(message: str) -> str:
    """Mark `message` for translation; the value is the message itself."""
    return message


def NP_(singular: str, plural: str) -> Plural:
    """Mark a message with plural forms ("{n} story" / "{n} stories")."""
    return Plural(singular, plural)


def NC_(context: str, message: str) -> str:
    """Mark `message` in `context` (a short word like a command name, which needs telling apart
    from the same English word elsewhere); look it up with `pgettext(language, context, …)`."""
    return message


def catalogue_file(language: str) -> Traversable:
    return files("policywire.locale") / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def known(language: str) -> str:
    """`language` when we speak it, else the source language."""
    return language if language in SUPPORTED_LANGUAGES else SOURCE_LANGUAGE


@cache
def translations(language: str) -> stdlib_gettext.GNUTranslations:
    """The compiled catalogue of `language` (the source language's for one we do not speak)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    language = known(language)
    with catalogue_file(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy entry is unreviewed: English instead
    compiled.seek(0)
    return stdlib_gettext.GNUTranslations(compiled)


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)


def ngettext(language: str, message: Plural, count: int) -> str:
    return translations(language).ngettext(message.singular, message.plural, count)


def pgettext(language: str, context: str, message: str) -> str:
    return translations(language).pgettext(context, message)


@cache
def language_name(code: str, language: str) -> str:
    """Language `code` by name, in `language`: ("it", "it") → "italiano", ("it", "de") →
    "Italienisch" (CLDR through Babel)."""
    from babel import Locale

    return Locale.parse(code).get_display_name(known(language)) or code


def own_name(code: str) -> str:
    """A language in its own words, as pickers show it: "italiano", "Deutsch"."""
    return language_name(code, code)
