"""The message catalogues: current with the code, complete in every language, shipped.

`policywire/locale/policywire.pot` must hold exactly what the code marks (``python -m
policywire.locale.update`` refreshes it), and every language's `.po` file must translate every
message of it, all plural forms, with the same placeholders and nothing fuzzy.
"""

from __future__ import annotations

import string
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message

from policywire.deliver import i18n
from policywire.languages import SUPPORTED_LANGUAGES
from policywire.locale import catalogues
from policywire.locale.update import ROOT, TEMPLATE, extract, po_path, read

Key = tuple[str | None, str]


def key(message: Message) -> Key:
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return message.context, msgid


def messages(catalog: Catalog) -> dict[Key, Message]:
    return {key(m): m for m in catalog if m.id}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def problems(template: Catalog, translated: Catalog) -> list[str]:
    """What keeps `translated` from saying every message of `template`; empty when complete."""
    found: list[str] = []
    have = messages(translated)
    for wanted, source in messages(template).items():
        message = have.get(wanted)
        label = f"{translated.locale_identifier}: {wanted[1]!r}"
        if message is None:
            found.append(f"{label}: missing (run python -m policywire.locale.update)")
            continue
        if message.fuzzy:
            found.append(f"{label}: fuzzy (check the translation, then remove the mark)")
        sources = list(source.id) if isinstance(source.id, tuple | list) else [source.id]
        forms = (
            list(message.string) if isinstance(message.string, tuple | list) else [message.string]
        )
        if isinstance(source.id, tuple | list) and len(forms) != translated.num_plurals:
            found.append(
                f"{label}: {len(forms)} plural forms, the language has {translated.num_plurals}"
            )
        allowed = set().union(*(placeholders(s) for s in sources))
        for form in forms:
            if not form:
                found.append(f"{label}: not translated")
            elif not placeholders(form) <= allowed:
                found.append(f"{label}: unknown placeholder in {form!r}")
            elif len(sources) == 1 and placeholders(form) != allowed:
                found.append(f"{label}: must keep {sorted(allowed)} in {form!r}")
    stale = set(have) - set(messages(template))
    found += [f"{translated.locale_identifier}: {k[1]!r} is no message of the code" for k in stale]
    return found


def test_the_template_is_current_with_the_code() -> None:
    in_code, in_template = messages(extract()), messages(read(TEMPLATE, None))
    added = sorted(k[1] for k in set(in_code) - set(in_template))
    removed = sorted(k[1] for k in set(in_template) - set(in_code))
    assert not added and not removed, (
        f"policywire.pot is stale (run python -m policywire.locale.update): "
        f"new {added}, gone {removed}"
    )
    plural = {k for k, m in in_code.items() if isinstance(m.id, tuple)}
    assert plural == {k for k, m in in_template.items() if isinstance(m.id, tuple | list)}


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    found = problems(read(TEMPLATE, None), read(po_path(language), language))
    assert not found, "\n".join(found)


def test_the_check_catches_what_a_translator_can_get_wrong() -> None:
    template = Catalog()
    template.add("Saved. {settings}")
    template.add(("{n} story", "{n} stories"))
    template.add("subscribe", context="command name")
    template.add("Done.")
    translated = Catalog(locale="it")
    translated.add("Saved. {settings}", "Salvato. {impostazioni}")  # a renamed placeholder
    translated.add(("{n} story", "{n} stories"), ("{n} notizia", "{n} notizie"))  # 2 of 3 forms
    translated.add("Done.", "Fatto.", flags=("fuzzy",))
    translated.add("Gone.", "Sparito.")  # no longer in the code
    found = "\n".join(problems(template, translated))
    assert "'Saved. {settings}': unknown placeholder" in found
    assert "2 plural forms, the language has 3" in found
    assert "'subscribe': missing" in found  # the context counts: "subscribe" alone is not it
    assert "'Done.': fuzzy" in found
    assert "'Gone.' is no message of the code" in found


def test_a_fresh_install_ships_every_catalogue() -> None:
    """The .po files are package data (read at run time, no .mo build step)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["policywire.locale"]
    package = ROOT / "policywire" / "locale"
    shipped = {path for pattern in patterns for path in package.glob(pattern)}
    assert {po_path(language) for language in SUPPORTED_LANGUAGES} <= shipped
    assert TEMPLATE in shipped


def test_lookups_fall_back_to_english_for_a_language_we_do_not_speak() -> None:
    assert catalogues.gettext("es", "Further reading:") == "Further reading:"
    assert catalogues.gettext("it", "Further reading:") == "Per chi volesse approfondire:"
    assert catalogues.pgettext("de", "command name", "subscribe") == "abonnieren"
    assert catalogues.pgettext("de", "option name", "language") == "sprache"


@pytest.mark.parametrize(
    ("language", "one", "two", "zero"),
    [
        ("en", "1 story", "2 stories", "0 stories"),
        ("it", "1 notizia", "2 notizie", "0 notizie"),
        ("fr", "1 article", "2 articles", "0 article"),  # French counts 0 as singular
        ("de", "1 Meldung", "2 Meldungen", "0 Meldungen"),
    ],
)
def test_digest_counts_use_each_languages_plural_rule(
    language: str, one: str, two: str, zero: str
) -> None:
    assert i18n.count_stories(language, 1) == one
    assert i18n.count_stories(language, 2) == two
    assert i18n.count_stories(language, 0) == zero


def test_digest_labels_come_from_the_catalogues() -> None:
    assert i18n.wording("it").further_reading == "Per chi volesse approfondire:"
    assert i18n.wording("fr").machine_written == "Résumé automatique"
    assert i18n.wording("de").source == "Quelle"
    assert i18n.wording("xx") == i18n.SOURCE  # unknown: English
    assert i18n.more_stories("it", 1) == (
        "Un'altra notizia pertinente non è entrata in questo riepilogo."
    )
    assert i18n.more_stories("en", 3) == "3 more matching stories did not fit in this digest."
    seen = datetime(2026, 2, 26, 13, 5, tzinfo=UTC)
    assert (
        i18n.seen_datetime(seen, "it", "Europe/Rome") == "senza data, visto il 26 feb 2026, 14:05"
    )
    assert i18n.long_date(seen, "de") == "26. Februar 2026"


def test_every_digest_label_is_a_message_of_the_catalogues() -> None:
    """A label added to `Wording` reaches the catalogues only through `SOURCE` and N_()."""
    in_code = {k[1] for k in messages(extract())}
    labels = [getattr(i18n.SOURCE, name) for name in i18n.Wording.__dataclass_fields__]
    assert all(label in in_code for label in labels)
    for language in SUPPORTED_LANGUAGES:
        if language != catalogues.SOURCE_LANGUAGE:
            words = i18n.wording(language)
            untranslated = [
                n
                for n in i18n.Wording.__dataclass_fields__
                if getattr(words, n) == getattr(i18n.SOURCE, n) and n != "source"
            ]
            assert not untranslated, (language, untranslated)


@pytest.mark.parametrize(
    ("code", "reader", "name"),
    [
        ("it", "it", "italiano"),
        ("it", "en", "Italian"),
        ("it", "de", "Italienisch"),
        ("de", "fr", "allemand"),
        ("fr", "xx", "French"),
    ],
)
def test_languages_are_shown_by_name(code: str, reader: str, name: str) -> None:
    assert catalogues.language_name(code, reader) == name


def test_the_catalogues_live_in_the_package() -> None:
    assert Path(str(catalogues.catalogue_file("it"))) == po_path("it")


def command_tables() -> list[str]:
    """The rows docs/commands.md shows under "Every command in every language"."""
    from policywire.chat import wording

    spoken = SUPPORTED_LANGUAGES
    rows = [
        f"| `/{name}` | " + " | ".join(catalogues.gettext(lang, about) for lang in spoken) + " |"
        for name, about in wording.TELEGRAM_COMMANDS
    ]
    for name, about in wording.DISCORD_COMMANDS:
        cells = [
            f"`/{catalogues.pgettext(lang, 'command name', name)}` — "
            + catalogues.gettext(lang, about)
            for lang in spoken
        ]
        rows.append(f"| `/{name}` | " + " | ".join(cells) + " |")
    for name in wording.DISCORD_OPTION_NAMES:
        cells = [f"`{catalogues.pgettext(lang, 'option name', name)}`" for lang in spoken]
        rows.append(f"| `{name}` | " + " | ".join(cells) + " |")
    return rows


def test_the_docs_list_every_command_in_every_language() -> None:
    docs = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8").splitlines()
    missing = [row for row in command_tables() if row not in docs]
    assert not missing, "docs/commands.md, section Languages, lags behind the .po files:\n" + (
        "\n".join(missing)
    )
