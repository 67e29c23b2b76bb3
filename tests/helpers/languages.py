"""Content in residents' languages for tests: approved translations, approved fixed wording, and a campaign's words in
Polish and Arabic, written for these tests (drafts of nobody's approved wording, no machine translation)."""

from __future__ import annotations

from coordinator.admin.wording import approve_wording, catalogue_state
from coordinator.content import approval, translations
from tests.factories import make_admin

# The world's "Doorstep scams" campaign (tests/fixtures/bulletins.py), a line or two each.
POLISH_CAMPAIGN = {
    "title": "Oszustwa przy drzwiach",
    "summary": "Nie wpuszczaj nikogo, kto cię pospiesza.",
    "body": "## Powiedz nie\n\nNikt nie może cię pospieszać przy drzwiach.",
    "key_messages": ["Nie spiesz się", "Zapytaj sąsiada"],
    "call_to_action": "Zgłoś oszustwo do Action Fraud: 0300 123 2040.",
}
ARABIC_CAMPAIGN = {
    "title": "الاحتيال عند الباب",
    "summary": "لا تدع أحداً يستعجلك عند بابك.",
    "body": "## قل لا\n\nلا يحق لأحد أن يستعجلك عند الباب.",
    "key_messages": ["خذ وقتك", "اسأل جارك"],
    "call_to_action": "أبلغ عن الاحتيال على الرقم 0300 123 2040.",
}
POLISH_HELPLINE = {"who_for": "każdego, kogo dotknęło przestępstwo", "opening_hours": ""}


def approved_translation(original_version, language: str, fields: dict, author=None, approver=None):
    """A translation of the original's item in `language`, approved by a second admin (four eyes)."""
    author, approver = author or make_admin(), approver or make_admin()
    version = translations.add_translation(original_version.item, language, fields, author)
    approval.submit_version(version, author)
    approval.approve_version(version, approver)
    return version


def approve_fixed_wording(language: str, admin=None) -> None:
    """An admin approves a language's fixed wording as its catalogue is now (Settings, "Fixed wording by language")."""
    approve_wording(language, catalogue_state(language).digest, admin or make_admin())
