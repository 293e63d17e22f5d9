"""Refresh the catalogues from the code: ``python -m policywire.locale.update``.

1. Extracts every marked message (`N_`, `NP_`, `NC_` of `policywire.locale.catalogues`) from
   ``policywire/`` and ``bots/`` with Babel's Python extractor, with the ``TRANSLATORS:``
   comments above them, into ``policywire/locale/policywire.pot``.
2. Merges that template into each language's ``.po`` file: a new message arrives untranslated,
   a changed one with its old translation marked fuzzy (shown in English until a translator
   checks it and removes the mark), a removed one disappears. The English catalogue is the
   source text itself and is rewritten whole.

Files are written only when their messages changed, so running it twice changes nothing.
`tests/test_i18n.py` fails while the template lags behind the code or a language lacks a
translation. Run from a checkout; it needs Babel's extractor only, no network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from policywire.languages import SUPPORTED_LANGUAGES
from policywire.locale.catalogues import DOMAIN, SOURCE_LANGUAGE

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "policywire" / "locale"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
SOURCES = ("policywire", "bots")
# Only our markers: a call like gettext(language, message) must not be taken for a msgid.
KEYWORDS = {"N_": None, "NP_": (1, 2), "NC_": ((1, "c"), 2)}
COMMENT_TAGS = ("TRANSLATORS:",)
HEADER = "Messages of policywire, the chat bots and the digests. See docs/commands.md."


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract(root: Path = ROOT) -> Catalog:
    """Every marked message of the code, in file and line order."""
    template = _new_catalog(None)
    for source in SOURCES:
        found = extract_from_dir(
            root / source,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=COMMENT_TAGS,
            strip_comment_tags=True,
        )
        for filename, lineno, message, comments, context in found:
            template.add(
                message,
                locations=[(f"{source}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
                flags=("python-brace-format",) if _has_placeholders(message) else (),
            )
    return template


def read(path: Path, language: str | None) -> Catalog:
    with path.open("rb") as source:
        return read_po(source, locale=language, domain=DOMAIN)


def update(root: Path = ROOT) -> list[Path]:
    """Write the template and every language's catalogue; returns the files that changed."""
    template = extract(root)
    changed = []
    if _write_if_changed(TEMPLATE, template):
        changed.append(TEMPLATE)
    for language in SUPPORTED_LANGUAGES:
        path = po_path(language)
        if language == SOURCE_LANGUAGE:
            catalog = _source_catalog(template)
        elif path.exists():
            catalog = read(path, language)
            catalog.update(template, update_header_comment=False)
        else:  # a new language: every message untranslated
            catalog = _new_catalog(language)
            catalog.update(template)
        if _write_if_changed(path, catalog):
            changed.append(path)
    return changed


def _new_catalog(language: str | None) -> Catalog:
    return Catalog(
        locale=language,
        domain=DOMAIN,
        project="policywire",
        header_comment=f"# {HEADER}\n#",
        msgid_bugs_address="",
        copyright_holder="",
        fuzzy=False,
    )


def _source_catalog(template: Catalog) -> Catalog:
    """English: each message is its own translation."""
    catalog = _new_catalog(SOURCE_LANGUAGE)
    for message in _messages(template):
        string = tuple(message.id) if isinstance(message.id, list | tuple) else message.id
        catalog.add(
            message.id,
            string,
            locations=message.locations,
            auto_comments=message.auto_comments,
            flags=message.flags,
            context=message.context,
        )
    return catalog


def _messages(catalog: Catalog) -> Iterable[Message]:
    return (message for message in catalog if message.id)  # not the header entry


def _has_placeholders(message: str | tuple[str, ...]) -> bool:
    texts = message if isinstance(message, tuple) else (message,)
    return any("{" in text for text in texts)


def _signature(catalog: Catalog) -> list[tuple[object, ...]]:
    """What a catalogue says, without its dates: the file is rewritten only when this changes."""
    return [
        (
            m.context,
            _normal(m.id),
            _normal(m.string),
            tuple(sorted(m.flags)),
            tuple(m.auto_comments),
            tuple(sorted({filename for filename, _ in m.locations})),  # files, not lines
        )
        for m in _messages(catalog)
    ]


def _normal(text: object) -> object:
    """A msgid or msgstr as one shape (read back, a template's missing string is "")."""
    if isinstance(text, (list, tuple)):
        return tuple(t or "" for t in text)
    return text or ""


def _write_if_changed(path: Path, catalog: Catalog) -> bool:
    if path.exists() and _signature(read(path, catalog.locale_identifier)) == _signature(catalog):
        return False
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, include_lineno=False, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policywire.locale.update",
        description="Extract the messages of the code into the .pot and merge it into each .po.",
    )
    parser.parse_args(argv)
    for path in update():
        print(f"updated {path.relative_to(ROOT)}")  # noqa: T201 - a developer's command
    return 0


if __name__ == "__main__":
    sys.exit(main())
