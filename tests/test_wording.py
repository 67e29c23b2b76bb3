"""Fixed wording by language: the catalogues as shipped, the approval that lets a language print, and dates and
numbers as each language writes them (coordinator/wording.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from flask import render_template_string
from flask_babel import gettext

from coordinator import wording
from coordinator.admin.wording import APPROVED, CHANGED, DRAFT, approve_wording, catalogue_state
from coordinator.extensions import db
from coordinator.leaflets.render import LeafletData, LeafletHelpline, render_leaflet_pdf, render_leaflet_sides
from coordinator.wording import (
    DRAFT_LANGUAGES,
    catalogue_language,
    catalogue_sha256,
    format_count,
    format_day,
    printed_language,
    wording_in,
    wording_ready,
)
from tests.factories import make_admin
from tests.helpers.pdf import pdftotext, squeeze

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _catalogue(language: str, folder: Path = wording.TRANSLATIONS_FOLDER):
    with open(folder / language / "LC_MESSAGES" / "messages.po", "rb") as file:
        return read_po(file, locale=language)


def _approve(language: str) -> None:
    approve_wording(language, catalogue_state(language).digest, make_admin())
    db.session.commit()


# --- The catalogues as shipped ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", DRAFT_LANGUAGES)
def test_each_catalogue_parses_says_it_is_a_draft_and_is_compiled_from_its_source(app, language):
    catalogue = _catalogue(language)
    assert "DRAFT" in catalogue.header_comment
    messages = [message for message in catalogue if message.id]
    assert len(messages) > 40
    # The .mo that prints holds the words of the .po the admins read: `make translations` was run.
    state = catalogue_state(language)
    assert state.state == DRAFT, state
    assert state.translated == state.total


@pytest.mark.parametrize("language", DRAFT_LANGUAGES)
def test_every_translation_keeps_the_placeholders_of_its_english(language):
    for message in _catalogue(language):
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(message.id)), (
                language, message.id, message.string)
            # A bare % (not a placeholder) would break the templates' formatting.
            assert "%" not in PLACEHOLDER.sub("", message.string), (language, message.string)


KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def _not_skipped(folder: str) -> bool:
    # As the Makefile's `pybabel extract --ignore-dirs ".* __pycache__ instance"`: templates/_macros is read.
    name = Path(folder).name
    return not (name.startswith(".") or name in {"__pycache__", "instance"})


def test_every_phrase_the_templates_and_code_mark_is_in_every_catalogue():
    """Babel's own extractor over the checkout, as `make translations` runs it: a phrase marked since (a new
    heading on a leaflet) and not yet in the catalogues fails here, naming it."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    marked = {
        message if isinstance(message, str) else message[0]
        for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS,
                                                     directory_filter=_not_skipped)
    }
    assert {"Where to get help", "Police", "Turn over.", "15p a call", "Printed %(date)s", "Exit this page"} <= marked
    for language in DRAFT_LANGUAGES:
        present = {message.id for message in _catalogue(language) if message.id}
        missing = sorted(marked - present)
        assert not missing, f"not in the {language} catalogue (run make translations, then translate): {missing}"


# --- Which catalogue serves a language tag -------------------------------------------------------------------


@pytest.mark.parametrize(("tag", "expected"), [
    ("pl", "pl"), ("pl-PL", "pl"), ("ar", "ar"), ("ur-PK", "ur"), ("pa", "pa"), ("pa-Guru", "pa"),
    # Punjabi in Shahmukhi is another script: the Gurmukhi catalogue does not serve it.
    ("pa-Arab", None), ("en-GB", None), ("en", None), ("", None), ("xx", None), ("de", None),
])
def test_a_language_tag_finds_its_catalogue(tag, expected):
    assert catalogue_language(tag) == expected


# --- Approval: English until approved, and again after a change ----------------------------------------------


def test_fixed_words_are_english_until_the_language_is_approved_then_polish_and_arabic(app):
    assert wording_ready("en-GB") and wording_ready("en")
    assert not wording_ready("pl") and not wording_ready("ar")
    with wording_in("pl"):
        assert gettext("Where to get help") == "Where to get help"
        assert render_template_string('{{ _("Police") }}') == "Police"
    assert printed_language("pl-PL") == "en"

    _approve("pl")
    _approve("ar")
    assert wording_ready("pl-PL") and wording_ready("ar")
    assert printed_language("pl-PL") == "pl"
    with wording_in("pl-PL"):
        assert gettext("Where to get help") == "Gdzie szukać pomocy"
        assert gettext("Printed %(date)s", date="7 grudnia 2026") == "Wydrukowano 7 grudnia 2026"
        # Inside, another language not approved prints English; leaving it, Polish again.
        with wording_in("ro"):
            assert gettext("Police") == "Police"
        assert render_template_string('{{ _("Police") }}') == "Policja"
    with wording_in("ar"):
        assert render_template_string('{{ _("Police") }}') == "الشرطة"
    # Outside any wording_in, the app's pages stay English.
    assert gettext("Police") == "Police"


def test_a_placeholder_in_a_translation_is_filled_and_escaped_in_templates(app):
    _approve("pl")
    with wording_in("pl"):
        page = render_template_string('{{ _("More at %(web_address)s", web_address=address) }}',
                                      address='<script>alert("x")</script>')
    assert page == "Więcej na &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def test_outside_the_app_wording_in_is_english_and_does_not_fail():
    with wording_in("pl"):
        assert gettext("Police") == "Police"
    assert not wording_ready("pl")


def _copy_of_the_catalogues(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "translations"
    shutil.copytree(wording.TRANSLATIONS_FOLDER, folder)
    monkeypatch.setattr(wording, "translations_folder", lambda: folder)
    return folder


def _change_a_phrase(folder: Path, language: str, english: str, words: str) -> None:
    catalogue = _catalogue(language, folder)
    catalogue[english].string = words
    with open(folder / language / "LC_MESSAGES" / "messages.po", "wb") as file:
        write_po(file, catalogue)
    with open(folder / language / "LC_MESSAGES" / "messages.mo", "wb") as file:
        write_mo(file, catalogue)


def test_a_catalogue_whose_words_change_needs_approving_again(app, tmp_path, monkeypatch):
    folder = _copy_of_the_catalogues(tmp_path, monkeypatch)
    _approve("pl")
    approved_digest = catalogue_sha256("pl")
    assert wording_ready("pl") and catalogue_state("pl").state == APPROVED

    _change_a_phrase(folder, "pl", "Police", "Policja!")
    assert catalogue_sha256("pl") != approved_digest
    assert not wording_ready("pl")
    assert catalogue_state("pl").state == CHANGED
    assert printed_language("pl") == "en"

    _approve("pl")
    assert wording_ready("pl") and catalogue_state("pl").state == APPROVED
    # Changing it back to the first approved words needs no new approval: those words were approved.
    _change_a_phrase(folder, "pl", "Police", "Policja")
    assert catalogue_sha256("pl") == approved_digest and wording_ready("pl")


def test_compiling_again_with_a_new_header_keeps_the_approval(app, tmp_path, monkeypatch):
    folder = _copy_of_the_catalogues(tmp_path, monkeypatch)
    _approve("ar")
    catalogue = _catalogue("ar", folder)
    catalogue.revision_date = datetime(2030, 1, 1, tzinfo=UTC)
    catalogue.last_translator = "Someone Else <someone@example.org>"
    with open(folder / "ar" / "LC_MESSAGES" / "messages.mo", "wb") as file:
        write_mo(file, catalogue)
    assert wording_ready("ar")


def test_a_source_changed_but_not_compiled_cannot_be_approved(app, tmp_path, monkeypatch):
    from coordinator.admin.wording import NOT_COMPILED, WordingError

    folder = _copy_of_the_catalogues(tmp_path, monkeypatch)
    catalogue = _catalogue("tr", folder)
    catalogue["Police"].string = "Polis!"
    with open(folder / "tr" / "LC_MESSAGES" / "messages.po", "wb") as file:
        write_po(file, catalogue)
    state = catalogue_state("tr")
    assert state.state == NOT_COMPILED
    # What the admin would read (the .po) is not what prints (the .mo): refused until compiled.
    with pytest.raises(WordingError, match="make translations"):
        approve_wording("tr", state.digest, make_admin())
    assert not wording_ready("tr")


def test_an_approval_of_a_missing_catalogue_or_an_unseen_version_is_refused(app):
    from coordinator.admin.wording import WordingError

    admin = make_admin()
    with pytest.raises(WordingError, match="changed after you opened"):
        approve_wording("pl", "0" * 64, admin)
    with pytest.raises(WordingError, match="no catalogue"):
        approve_wording("de", "0" * 64, admin)
    assert not wording_ready("pl")


# --- Dates and numbers --------------------------------------------------------------------------------------------


def test_dates_are_written_as_each_language_writes_them():
    day = date(2026, 12, 7)
    assert format_day(day, "en-GB") == "7 December 2026"
    assert format_day(day, "en") == "7 December 2026"
    assert format_day(day, "pl") == "7 grudnia 2026"
    assert format_day(day, "pl-PL") == "7 grudnia 2026"
    arabic = format_day(day, "ar")
    assert "ديسمبر" in arabic and "2026" in arabic and "7" in arabic
    assert format_day(day, "cy") == "7 Rhagfyr 2026"
    # A tag Babel does not know is written in English rather than failing a leaflet.
    assert format_day(day, "xx-Bad") == "7 December 2026"


def test_counts_are_grouped_as_each_language_groups_them_in_latin_digits():
    assert format_count(1250, "en-GB") == "1,250"
    assert format_count(12500, "pl") == "12\u00a0500"
    assert format_count(1250, "ar").replace("\u066c", ",").replace("\u061c", "") == "1,250"
    assert format_count(7, "bn") == "7"


# --- A leaflet read back ----------------------------------------------------------------------------------------


def _polish_leaflet() -> LeafletData:
    return LeafletData(
        headline="Oszustwa przy drzwiach",
        printed_on=date(2026, 12, 7),
        reference="TEST-0001",
        key_messages=("Nie spiesz się.", "Zapytaj sąsiada."),
        helplines=(LeafletHelpline("Victim Support", "0808 168 9111", is_free=True, is_24_7=True),),
        language="pl",
    )


def test_a_polish_leaflet_prints_english_fixed_words_until_approved_then_polish(app, tmp_path):
    before = " ".join(pdftotext(render_leaflet_pdf(_polish_leaflet(), "a5"), tmp_path).split())
    assert "Where to get help" in before and "Police" in before and "Printed 7 December 2026" in before

    _approve("pl")
    after = " ".join(pdftotext(render_leaflet_pdf(_polish_leaflet(), "a5"), tmp_path).split())
    assert "Gdzie szukać pomocy" in after
    assert "Policja" in after and "Nagłe wypadki" in after and "Sprawy niepilne" in after
    assert squeeze("Wydrukowano 7 grudnia 2026") in squeeze(after)
    assert "Where to get help" not in after and "Printed" not in after
    # The campaign's own words and the numbers print as they were given.
    assert "Oszustwa przy drzwiach" in after and "0808 168 9111" in after


def _word_boxes(pdf: bytes, tmp_path) -> list[tuple[float, float, float, str]]:
    path = tmp_path / "boxes.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(["/usr/bin/pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    return [(float(x0), float(x1), float(y1), unicodedata.normalize("NFKC", word)) for x0, x1, y1, word in re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]


def _beside(boxes, word: str, number: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """The boxes (x0, x1) of `word` and of `number` on the same line, the nearest to each other ("Emergency 999" and
    "Non-emergency 101" may share a line)."""
    word = unicodedata.normalize("NFKC", word)
    # pdftotext gives a right-to-left word's letters in the order they stand on the page.
    pairs = [((w0, w1), (x0, x1)) for x0, x1, y1, text in boxes if text == number
             for w0, w1, v1, other in boxes if other in (word, word[::-1]) and abs(v1 - y1) < 8]
    assert pairs, (word, number, [text for *_, text in boxes])
    return min(pairs, key=lambda pair: abs((pair[0][0] + pair[0][1]) - (pair[1][0] + pair[1][1])))


def test_an_arabic_leaflet_sets_english_fixed_words_left_to_right_and_approved_arabic_ones_right_to_left(
        app, tmp_path):
    data = LeafletData(headline="الاحتيال عند الباب", printed_on=date(2026, 12, 7), reference="TEST-0002",
                       key_messages=("خذ وقتك.",), language="ar",
                       helplines=(LeafletHelpline("Victim Support", "0808 168 9111", is_free=True, is_24_7=True),))
    # English, before approval: "Emergency 999", the word on the left of its number.
    boxes = _word_boxes(render_leaflet_sides(data, "a5"), tmp_path)
    word, number = _beside(boxes, "Emergency", "999")
    assert word[1] < number[0]

    _approve("ar")
    # Arabic, once approved: read from the right, the word first, so it stands to the right of its number; the
    # reference after the date, so on the left.
    boxes = _word_boxes(render_leaflet_sides(data, "a5"), tmp_path)
    word, number = _beside(boxes, "الطوارئ", "999")
    assert word[0] > number[1]
    reference, year = _beside(boxes, "TEST-0002", "2026")
    assert reference[1] < year[0]
    assert not [text for *_, text in boxes if text == "Emergency"]
