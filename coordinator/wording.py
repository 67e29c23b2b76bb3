"""Fixed wording by language: the words a leaflet, bulletin or public page prints around the campaign content.

"Where to get help", "Turn over", the police block, the unsubscribe footer: they come from gettext catalogues,
coordinator/translations/<language>/LC_MESSAGES/messages.po (the drafts the association checks), compiled to
messages.mo beside them (what prints). A language's fixed words print only once an admin has approved its
catalogue (Settings, "Fixed wording by language"). An approval records the sha256 of the catalogue's messages,
so a catalogue whose wording changes needs approving again; until then, and for a language with no catalogue,
the fixed words print in English.

Nothing follows the browser's Accept-Language: coordinator and admin pages are English, and the language of the
thing being rendered (a leaflet's, a bulletin's, a public page's) is chosen by its code, with `wording_in`:

    with wording_in(leaflet.language):
        html = template.render(...)       # {{ _("Where to get help") }} in Polish once Polish is approved

Dates and numbers (`format_day`, `format_count`) follow the language given, through Babel's CLDR data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_date
from babel.messages.mofile import read_mo
from babel.numbers import format_decimal
from flask import current_app, has_app_context
from flask_babel import force_locale
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coordinator.auth.models import User
from coordinator.db import UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.languages import primary_subtag

# The languages the project ships draft wording for: Polish, Romanian, Bulgarian, Turkish, Arabic, Urdu, Bengali,
# Gujarati, Punjabi (Gurmukhi), Tamil, Somali and Welsh. Drafts, until the association approves each.
DRAFT_LANGUAGES: tuple[str, ...] = ("pl", "ro", "bg", "tr", "ar", "ur", "bn", "gu", "pa", "ta", "so", "cy")

ENGLISH = "en"
# English dates as London writes them: "7 December 2026", not "December 7, 2026".
ENGLISH_LOCALE = "en_GB"
CATALOGUE_DOMAIN = "messages"
TRANSLATIONS_FOLDER = Path(__file__).resolve().parent / "translations"


def N_(text: str) -> str:  # gettext's own name for it, which the extractor looks for
    """Mark `text` as fixed wording to translate where it is printed (`gettext(CONSTANT)`), not where it is defined.

    For module-level constants: translating them at import time would fix them in whatever language was in effect.
    """
    return text


class WordingApproval(db.Model):
    """An admin approved a language's fixed wording, as the catalogue's messages were then (their sha256)."""

    __tablename__ = "wording_approvals"

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(20), index=True)
    catalogue_sha256: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The account may later be erased; approved_by_label keeps who it was at the time.
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    approved_by_label: Mapped[str] = mapped_column(String(254), default="")

    approved_by: Mapped[User | None] = relationship()


def is_english(language: str | None) -> bool:
    """English (any region), or no language given: the words as written in the templates."""
    return primary_subtag(language) in {"", ENGLISH}


def translations_folder() -> Path:
    """Where the catalogues are: the app's Flask-Babel folder when there is an app, else the package's own."""
    if has_app_context():
        babel = current_app.extensions.get("babel")
        folders = getattr(babel, "translation_directories", None) if babel is not None else None
        if folders:
            return Path(folders[0])
    return TRANSLATIONS_FOLDER


def catalogue_path(language: str, suffix: str = ".mo") -> Path:
    """The compiled catalogue (".mo") or its source (".po") of a catalogue language such as "pl"."""
    return translations_folder() / language / "LC_MESSAGES" / f"{CATALOGUE_DOMAIN}{suffix}"


def catalogue_languages() -> list[str]:
    """Every language with a compiled catalogue, sorted."""
    folder = translations_folder()
    if not folder.is_dir():
        return []
    return sorted(path.name for path in folder.iterdir() if (path / "LC_MESSAGES" / f"{CATALOGUE_DOMAIN}.mo").is_file())


def _likely_script(primary: str) -> str:
    # CLDR's likely subtags: "pa" is written in Gurmukhi ("pa_Guru_IN"), "ur" in Arabic script.
    likely = get_global("likely_subtags").get(primary, "")
    parts = likely.split("_")
    return parts[1].lower() if len(parts) > 1 and len(parts[1]) == 4 else ""


def catalogue_language(language: str | None) -> str | None:
    """The catalogue that holds the fixed words for a language tag: "pl-PL" -> "pl", "pa-Guru" -> "pa".

    None for English and for a tag no catalogue serves. A script subtag other than the catalogue's own is not
    served: Punjabi in Shahmukhi ("pa-Arab") is not read by those who read the Gurmukhi catalogue.
    """
    if is_english(language):
        return None
    subtags = language.strip().replace("_", "-").lower().split("-")
    primary = subtags[0]
    scripts = [subtag for subtag in subtags[1:] if len(subtag) == 4 and subtag.isalpha()]
    if scripts and scripts[0] != _likely_script(primary):
        return None
    return primary if catalogue_path(primary).is_file() else None


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def messages_digest(compiled) -> str:
    """The sha256 of a compiled catalogue's messages (a binary file), sorted: its words and nothing else."""
    # The header (its dates, the tool's version) changes when a catalogue is merged or compiled again, which must
    # not undo an approval; any change to a message's words must.
    catalogue = read_mo(compiled)
    entries = sorted(
        json.dumps([message.context or "", _plain(message.id), _plain(message.string)], ensure_ascii=False)
        for message in catalogue
        if message.id
    )
    return hashlib.sha256("\n".join(entries).encode("utf-8")).hexdigest()


@lru_cache(maxsize=64)
def _file_digest(path: str, modified_ns: int, size: int) -> str:
    with open(path, "rb") as file:
        return messages_digest(file)


def catalogue_sha256(language: str) -> str | None:
    """The sha256 of the messages in a catalogue language's compiled catalogue, as printed; None when there is none."""
    path = catalogue_path(language)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return _file_digest(str(path), stat.st_mtime_ns, stat.st_size)


def latest_approval(language: str) -> WordingApproval | None:
    """The latest approval of a catalogue language's wording, whatever catalogue it was for."""
    return db.session.scalars(
        select(WordingApproval).where(WordingApproval.language == language)
        .order_by(WordingApproval.approved_at.desc(), WordingApproval.id.desc()).limit(1)
    ).first()


def is_approved(language: str, digest: str) -> bool:
    """An admin approved this catalogue language's wording as it is in the catalogue with this digest."""
    return db.session.scalar(
        select(WordingApproval.id).where(
            WordingApproval.language == language, WordingApproval.catalogue_sha256 == digest
        ).limit(1)
    ) is not None


def wording_ready(language: str) -> bool:
    """English always; else the language's catalogue exists and the association approved its wording (the
    approved catalogue's hash matches the file shipped, so a changed catalogue needs approving again)."""
    if is_english(language):
        return True
    code = catalogue_language(language)
    if code is None or not has_app_context():
        return False
    digest = catalogue_sha256(code)
    return digest is not None and is_approved(code, digest)


def printed_language(language: str) -> str:
    """The language a thing in `language` prints its fixed words in: its catalogue's when ready, else English."""
    if not is_english(language) and wording_ready(language):
        return catalogue_language(language) or ENGLISH
    return ENGLISH


@contextmanager
def wording_in(language: str) -> Iterator[None]:
    """Fixed words (gettext in templates and code) in `language` inside the block:
    flask_babel.force_locale for a ready language, else English."""
    with force_locale(printed_language(language)):
        yield


def babel_locale(language: str | None) -> Locale:
    """The Babel locale of a language tag ("pl-PL", "ar", "pa-Guru"); British English for English or a bad tag."""
    if is_english(language):
        return Locale.parse(ENGLISH_LOCALE)
    tag = language.strip().replace("_", "-")
    for candidate in (tag, primary_subtag(tag)):
        try:
            return Locale.parse(candidate, sep="-")
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse(ENGLISH_LOCALE)


def format_day(day: date, language: str) -> str:
    """A date as the language writes it in full: "7 December 2026", "7 grudnia 2026" (Babel, CLDR's long form)."""
    return format_date(day, format="long", locale=babel_locale(language))


def format_count(count: int, language: str) -> str:
    """A whole number grouped as the language groups it: "1,250" in English, "1 250" in Polish, in Latin digits
    (those a phone number on the same page is written in)."""
    return format_decimal(count, locale=babel_locale(language))


def install_gettext(environment) -> None:
    """Give a Jinja environment of its own (the print templates') `_`, gettext and ngettext that follow
    `wording_in`, as the app's templates do; a bare `%` in a message is then written `%%`."""
    from flask_babel import get_translations

    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(
        lambda text: get_translations().ugettext(text),
        lambda singular, plural, n: get_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
