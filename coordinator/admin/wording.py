"""Approving a language's fixed wording: what each catalogue says beside the English, and the admin's approval.

An admin reads a language's catalogue (coordinator/translations/<language>/LC_MESSAGES/messages.po) beside the
English and approves it as it is: the approval keeps the sha256 of its messages (coordinator.wording), so a
catalogue changed afterwards prints in English again until approved again. One admin is enough (the association
checks its translations outside the toolkit); every approval is in the audit log.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from coordinator import audit
from coordinator.auth.models import User
from coordinator.extensions import db
from coordinator.languages import text_direction
from coordinator.wording import (
    DRAFT_LANGUAGES,
    WordingApproval,
    catalogue_languages,
    catalogue_path,
    catalogue_sha256,
    is_approved,
    latest_approval,
    messages_digest,
)

# What a catalogue's state is called on the page.
APPROVED = "approved"
CHANGED = "changed"  # approved once, but its wording has changed since
DRAFT = "draft"  # never approved
NOT_COMPILED = "not-compiled"  # its .po says other words than the .mo that prints
MISSING = "missing"  # no catalogue at all


class WordingError(ValueError):
    """The wording cannot be approved as asked; the message says why."""


@dataclass(frozen=True)
class CatalogueMessage:
    """One fixed phrase: the English, the catalogue's words for it ("" while untranslated), and where it is used."""

    english: str
    translation: str
    notes: str
    is_fuzzy: bool


@dataclass(frozen=True)
class CatalogueState:
    """A language's catalogue as the approval page lists it."""

    language: str
    name: str  # in English: "Polish"
    own_name: str  # in the language itself: "polski"
    direction: str  # "ltr" or "rtl", for the own name and the translations
    state: str
    translated: int
    total: int
    digest: str | None
    approval: WordingApproval | None

    @property
    def is_ready(self) -> bool:
        return self.state == APPROVED


# The English names London's residents and the association use, where CLDR's differ ("Bangla").
ENGLISH_NAMES = {"bn": "Bengali", "pa": "Punjabi (Gurmukhi)"}


def language_names(language: str) -> tuple[str, str]:
    """("Polish", "polski") for "pl"; the tag twice for a language Babel does not know."""
    try:
        locale = Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return language, language
    name = ENGLISH_NAMES.get(language) or locale.get_display_name("en") or language
    return name, locale.get_display_name(locale) or language


def _read_source(language: str):
    path = catalogue_path(language, ".po")
    if not path.is_file():
        return None
    with open(path, "rb") as file:
        return read_po(file, locale=language)


def _source_digest(catalogue) -> str:
    # The source compiled in memory as `pybabel compile` would (untranslated and fuzzy entries left out): the same
    # digest as the shipped .mo when that was compiled from this source.
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    buffer.seek(0)
    return messages_digest(buffer)


def catalogue_messages(language: str) -> list[CatalogueMessage]:
    """Every phrase of the language's catalogue source, in the catalogue's order; [] when there is none."""
    catalogue = _read_source(language)
    if catalogue is None:
        return []
    return [
        CatalogueMessage(
            english=message.id if isinstance(message.id, str) else message.id[0],
            translation=(message.string if isinstance(message.string, str) else (message.string or ("",))[0]) or "",
            notes="; ".join([*message.auto_comments, *message.user_comments]),
            is_fuzzy=message.fuzzy,
        )
        for message in catalogue
        if message.id
    ]


def catalogue_state(language: str) -> CatalogueState:
    """Where one language's wording stands: approved as it is, changed since approved, a draft, or missing."""
    name, own_name = language_names(language)
    catalogue = _read_source(language)
    digest = catalogue_sha256(language)
    approval = latest_approval(language)
    messages = [message for message in catalogue if message.id] if catalogue is not None else []
    translated = sum(1 for message in messages if message.string and not message.fuzzy)
    if catalogue is None or digest is None:
        state = MISSING
    elif _source_digest(catalogue) != digest:
        state = NOT_COMPILED
    elif is_approved(language, digest):
        state = APPROVED
    elif approval is not None:
        state = CHANGED
    else:
        state = DRAFT
    return CatalogueState(language, name, own_name, text_direction(language), state, translated, len(messages),
                          digest, approval)


def catalogue_states() -> list[CatalogueState]:
    """Every language the project ships wording for, and any other catalogue present, by English name."""
    languages = sorted(set(DRAFT_LANGUAGES) | set(catalogue_languages()))
    return sorted((catalogue_state(language) for language in languages), key=lambda state: state.name)


def approve_wording(language: str, digest_seen: str, actor: User) -> WordingApproval:
    """Record that `actor` approved the language's wording as shown to them (`digest_seen`); audited.

    Refused when the catalogue is missing, not compiled from its source, or changed since the page was shown.
    The caller commits.
    """
    state = catalogue_state(language)
    if state.state == MISSING:
        raise WordingError(f"There is no catalogue of fixed wording in {state.name}.")
    if state.state == NOT_COMPILED:
        raise WordingError(f"The {state.name} catalogue has changed but was not compiled: a developer must run "
                           "make translations before it can be approved.")
    if digest_seen != state.digest:
        raise WordingError(f"The {state.name} wording changed after you opened the page: read it again, then approve.")
    approval = WordingApproval(language=language, catalogue_sha256=state.digest, approved_by=actor,
                               approved_by_label=actor.email)
    db.session.add(approval)
    db.session.flush()
    audit.record("wording.approved", approval, f"Fixed wording in {state.name} approved "
                 f"({state.translated} of {state.total} phrases translated)",
                 language=language, catalogue_sha256=state.digest)
    return approval
