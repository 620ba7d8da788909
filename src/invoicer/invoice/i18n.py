"""The labels of the PDF and XLSX invoices in the document's language.

Catalogues are gettext ``.po`` files kept in the package,
``locale/<language>/LC_MESSAGES/invoicer.po``, one per language of
:data:`LANGUAGES`; their msgids are the English labels. They are read with
Babel (:func:`babel.messages.pofile.read_po`) once per language and process;
there is no compile step, so no compiled file can go stale.

A language is chosen from a CLDR locale (``de_DE`` -> ``de``); a language
without a catalogue falls back to English. The wording is each country's
legal one: a credit note (EN 16931 BT-3 code 381) in German is a
"Rechnungskorrektur", never a "Gutschrift" (which under § 14 (2) UStG means
self-billing); in French an "Avoir", in Spanish a "Factura rectificativa".
"""

from __future__ import annotations

import string
from functools import lru_cache
from importlib.resources import files

from babel import Locale
from babel.messages.pofile import read_po

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "Translator", "catalogue", "language_of", "placeholders", "translator"]

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt")
"""Languages with a catalogue; ``en`` is the source language."""
DEFAULT_LANGUAGE = "en"
DOMAIN = "invoicer"


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> dict[str, str]:
    """``{msgid: msgstr}`` of ``language``'s catalogue (messages with an
    empty msgstr left out). Raises ``ValueError`` for a language without one."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for language {language!r}; expected one of {LANGUAGES}")
    path = files(__package__ or "invoicer.invoice") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string and isinstance(m.id, str)}


def language_of(locale: Locale | str) -> str:
    """The catalogue language for a CLDR locale: its language if it has a
    catalogue (``de_AT`` -> ``de``), else :data:`DEFAULT_LANGUAGE`."""
    language = locale.language if isinstance(locale, Locale) else str(locale).replace("-", "_").split("_")[0].lower()
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (``str.format`` syntax)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """Labels in one language: ``tr("BILL TO")``, ``tr("Page {page} of {pages}",
    page=1, pages=2)``. A msgid that the English catalogue does not hold is a
    programming error and raises ``KeyError``; one that the language's
    catalogue lacks is written in English (the catalogue test fails first)."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._source = catalogue(DEFAULT_LANGUAGE)
        self._messages = catalogue(language)

    def __call__(self, msgid: str, **fields: object) -> str:
        if msgid not in self._source:
            raise KeyError(f"label {msgid!r} is not in the {DEFAULT_LANGUAGE} catalogue")
        text = self._messages.get(msgid) or msgid
        return text.format(**fields) if fields else text


@lru_cache(maxsize=len(LANGUAGES))
def _translator(language: str) -> Translator:
    return Translator(language)


def translator(locale: Locale | str) -> Translator:
    """The (shared, per process) :class:`Translator` for a CLDR locale, with
    :func:`language_of`'s fallback to English."""
    return _translator(language_of(locale))
