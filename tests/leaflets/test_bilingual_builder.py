"""Choosing a leaflet's languages (coordinator/leaflets/languages.py): in the builder, on the command line, and on
the record that is kept; and every refusal, said at the language's field.

The translations are the tests' own lines (not approved wording for anyone to print), approved through the real
four-eyes flow; a language's fixed wording is approved as an admin does it (coordinator/wording.py).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from coordinator.content import approval, drafting, translations
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import builder, pdfs, print_runs, recipes
from coordinator.leaflets.languages import check_languages, normalised_tag, offered_languages, with_language_hints
from coordinator.leaflets.models import LeafletRecord
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError, content_offer
from coordinator.wording import WordingApproval
from tests.factories import current, make_admin
from tests.helpers.bilingual_leaflets import ARABIC, CAMPAIGN, POLISH
from tests.helpers.bilingual_leaflets import content_in_languages as make_content_in_languages
from tests.helpers.languages import approved_translation
from tests.helpers.pdf import pdftotext, squeeze
from tests.helpers.web import login_as, post_form


def translate(version, language: str, fields: dict):
    """An approved translation: one admin writes it, another approves it."""
    return approved_translation(version, language, fields)


@pytest.fixture
def content_in_languages():
    """The VAWG campaign with a set of two helplines that is not marked sensitive, in Polish and Arabic."""
    return make_content_in_languages()


def choice(campaign, helpline_set, **changes) -> LeafletChoice:
    return replace(LeafletChoice(campaign.id, helpline_set.id, layout="a5", print_mode="shop"), **changes)


def refusal(scheme, chosen: LeafletChoice) -> dict[str, str]:
    with pytest.raises(LeafletChoiceError) as caught:
        recipes.prepare_leaflet(scheme, chosen)
    return caught.value.errors


def test_a_polish_leaflet_prints_the_translation_and_the_polish_wording(content_in_languages, tmp_path):
    scheme, coordinator, campaign, helpline_set = content_in_languages
    record, prepared = builder.generate_leaflet(scheme, choice(campaign, helpline_set, language="pl"), coordinator)
    db.session.commit()
    assert (record.language, record.second_language) == ("pl", "")
    text = squeeze(pdftotext(pdfs.leaflet_pdf(prepared.recipe), tmp_path))
    assert squeeze("Przemoc wobec kobiet i dziewcząt") in text and "ViolenceAgainstWomen" not in text
    assert squeeze("ofiary każdego przestępstwa") in text and "08081689111" in text
    assert "Policja" in text  # the fixed wording, from the approved Polish catalogue


def test_english_and_polish_a5_is_recorded_and_made_again_with_the_same_translation(content_in_languages, tmp_path):
    scheme, coordinator, campaign, helpline_set = content_in_languages
    english, _ = builder.generate_leaflet(scheme, choice(campaign, helpline_set), coordinator)
    record, prepared = builder.generate_leaflet(scheme, choice(campaign, helpline_set, second_language="pl"),
                                                coordinator)
    db.session.commit()
    assert (record.language, record.second_language) == ("en-GB", "pl")
    assert record.reference != english.reference  # the small print names the translations too
    first = pdfs.leaflet_pdf(prepared.recipe)
    front, back = (squeeze(pdftotext(first, tmp_path).split("\f")[page]) for page in (0, 1))
    assert "ViolenceAgainstWomen" in front and "Przemocwobeckobiet" in back
    # Later a new Polish translation is approved: the record still prints the one it printed.
    item = translations.find_translation(campaign.item, "pl")
    author = make_admin()
    draft = translations.edit_translation(item, {**POLISH["campaign"], "title": "Nowy tytuł"}, author)
    approval.submit_version(draft, author)
    approval.approve_version(draft, make_admin())
    db.session.commit()
    assert recipes.recipe_of(record) == prepared.recipe
    assert squeeze(pdftotext(builder.record_pdf(record), tmp_path)) == squeeze(pdftotext(first, tmp_path))
    # A new leaflet prints the new translation.
    now = recipes.prepare_leaflet(scheme, choice(campaign, helpline_set, second_language="pl"))
    assert now.recipe.data.second.headline == "Nowy tytuł" and now.recipe.key != prepared.recipe.key


def test_english_and_arabic_a4_poster_side_by_side(content_in_languages, tmp_path):
    scheme, coordinator, campaign, helpline_set = content_in_languages
    record, prepared = builder.generate_leaflet(
        scheme, choice(campaign, helpline_set, layout="a4", second_language="ar"), coordinator)
    assert (record.layout, record.second_language) == ("a4", "ar")
    assert prepared.recipe.data.second.language == "ar"
    text = re.sub(r"[\u202a-\u202e]", "", squeeze(pdftotext(pdfs.leaflet_pdf(prepared.recipe), tmp_path)))
    assert "ViolenceAgainstWomen" in text and "08005999247" in text and squeeze(ARABIC["campaign"]["title"]) in text


def test_no_translation_yet_is_said_at_the_language_field(content_in_languages):
    scheme, _, campaign, helpline_set = content_in_languages
    errors = refusal(scheme, choice(campaign, helpline_set, layout="dl", second_language="ur"))
    assert set(errors) == {"second_language"}
    assert f"No approved Urdu translation of “{campaign.title}” yet." in errors["second_language"]
    assert "No approved Urdu translation of “Karma Nirvana” yet." in errors["second_language"]
    errors = refusal(scheme, choice(campaign, helpline_set, language="ur"))
    assert set(errors) == {"language"} and "Urdu" in errors["language"]


def test_a_translation_whose_original_changed_needs_an_admin_to_confirm_it(content_in_languages):
    scheme, _, campaign, helpline_set = content_in_languages
    author = make_admin()
    fields = {name: getattr(campaign, name) for name in ("title", "summary", "body", "key_messages",
                                                         "call_to_action", "web_address")}
    newer = drafting.edit_item(campaign.item, {**fields, "summary": "A newer summary."}, author)
    approval.submit_version(newer, author)
    approval.approve_version(newer, make_admin())
    db.session.commit()
    errors = refusal(scheme, choice(newer, helpline_set, second_language="pl"))
    assert "changed since its Polish translation was approved: an admin must confirm" in errors["second_language"]
    translations.confirm_translation(translations.find_translation(campaign.item, "pl"), make_admin())
    db.session.commit()
    prepared = recipes.prepare_leaflet(scheme, choice(newer, helpline_set, second_language="pl"))
    assert prepared.recipe.data.second.headline == POLISH["campaign"]["title"]


def test_wording_not_approved_is_said_and_english_only_leaflets_are_not_affected(content_in_languages):
    scheme, _, campaign, helpline_set = content_in_languages
    db.session.execute(WordingApproval.__table__.delete().where(WordingApproval.language == "pl"))
    db.session.commit()
    errors = refusal(scheme, choice(campaign, helpline_set, second_language="pl"))
    assert "Polish wording of the leaflet's headings and police block is not approved yet" in errors["second_language"]
    assert recipes.prepare_leaflet(scheme, choice(campaign, helpline_set)).recipe.data.second is None


@pytest.mark.parametrize(("layout", "language", "second", "field", "message"), [
    ("a6", "", "pl", "second_language", "print in one language"),
    ("wallet", "", "pl", "second_language", "print in one language"),
    ("a4-folded", "", "pl", "second_language", "print in one language"),
    ("a5", "pl", "ar", "second_language", "English with one other"),
    ("a5", "", "en", "second_language", "other than English"),
    ("a5", "x<y", "", "language", "is not a language tag"),
    ("a5", "", "'; drop table", "second_language", "is not a language tag"),
])
def test_languages_that_cannot_go_together_are_refused_before_any_content_is_read(layout, language, second, field,
                                                                                   message):
    errors = check_languages(layout, language, second)
    assert set(errors) == {field} and message in errors[field]


def test_two_languages_too_long_for_a_dl_are_told_the_poster_has_room():
    errors = {"layout": "Too long for DL: choose folded A4.", "campaign": "x"}
    hinted = with_language_hints(errors, "dl", "ur")
    assert hinted["layout"].startswith("Too long for DL in two languages: choose the A4 poster")
    assert hinted["campaign"] == "x"
    assert with_language_hints(errors, "dl", "") == errors and with_language_hints(errors, "a4", "ur") == errors


def test_a_sensitive_leaflet_in_two_languages_is_inside_an_a5_and_refused_on_a_dl(content_in_languages):
    scheme, _, _, _ = content_in_languages
    campaign = current(ContentKind.CAMPAIGN, "you-are-not-alone")
    translate(campaign, "pl", {"title": "Nie jesteś sama", "summary": "Pomoc jest blisko.", "body": "Zadzwoń.",
                               "key_messages": [], "call_to_action": ""})
    helpline_set = current(ContentKind.HELPLINE_SET, "emergency-and-reporting")
    errors = refusal(scheme, choice(campaign, helpline_set, layout="dl", second_language="pl"))
    assert "inside an A5 flyer, behind a neutral outside" in errors["second_language"]
    prepared = recipes.prepare_leaflet(scheme, choice(campaign, helpline_set, second_language="pl"))
    assert prepared.recipe.data.is_sensitive and prepared.recipe.data.second.headline == "Nie jesteś sama"


def test_tags_are_written_one_way_and_the_builder_offers_the_shipped_and_translated_languages(content_in_languages):
    assert normalised_tag(" UR_pk ") == "ur-PK" and normalised_tag("pa-guru") == "pa-Guru" and normalised_tag("") == ""
    offered = dict(offered_languages(content_offer(None).campaigns))
    assert offered["pl"] == "Polski (Polish)" and offered["ar"].endswith("(Arabic)") and "ur" in offered
    assert offered["pa"].endswith("(Punjabi (Gurmukhi))") or offered["pa"].endswith("(Punjabi)")
    assert not any(tag.startswith("en") for tag in offered)


def test_the_builder_round_trip_with_two_languages(client, content_in_languages):
    scheme, coordinator, campaign, helpline_set = content_in_languages
    login_as(client, coordinator)
    page = client.get(f"/leaflets/schemes/{scheme.id}/new").get_data(as_text=True)
    assert 'name="second_language"' in page and "print in one language" in page
    form = {"campaign": str(campaign.id), "helplines": str(helpline_set.id), "notice": "", "layout": "dl",
            "print_mode": "home", "second_language": "ur", "preview": "Preview"}
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", form)
    html = response.get_data(as_text=True)
    assert "No approved Urdu translation of" in html
    assert 'id="second_language-error"' in html or "second_language" in html
    form["second_language"] = "pl"
    html = post_form(client, f"/leaflets/schemes/{scheme.id}/new", form).get_data(as_text=True)
    assert "Both sides" in html and "second_language=pl" in html
    preview = client.get(f"/leaflets/schemes/{scheme.id}/preview?campaign={campaign.id}&helplines={helpline_set.id}"
                         "&layout=dl&print_mode=home&second_language=pl").get_data(as_text=True)
    assert 'lang="pl"' in preview and "Przemoc wobec kobiet" in preview
    # The record's page says which languages it printed.
    record, _ = builder.generate_leaflet(scheme, choice(campaign, helpline_set, second_language="pl"), coordinator)
    db.session.commit()
    page = client.get(f"/leaflets/{record.id}").get_data(as_text=True)
    assert "<dt>Language</dt><dd>English, with Polski (Polish)</dd>" in page


def test_a_print_run_keeps_its_languages(client, content_in_languages):
    scheme, coordinator, campaign, helpline_set = content_in_languages
    run = print_runs.create_print_run(scheme, choice(campaign, helpline_set, second_language="ar"),
                                      [street.id for street in scheme.streets], coordinator)
    db.session.commit()
    assert (run.language, run.second_language) == ("en-GB", "ar")
    assert recipes.recipe_of(run).data.second.language == "ar"


def test_the_command_line_prints_in_two_languages_and_refuses_with_the_reason(runner, content_in_languages, tmp_path):
    out = tmp_path / "leaflet.pdf"
    base = ["leaflet", "render", "--campaign", CAMPAIGN, "--helplines", "emergency-and-reporting", "--layout", "a5",
            "--mode", "shop", "--out", str(out)]
    result = runner.invoke(args=[*base, "--second-language", "pl"])
    assert result.exit_code == 0, result.output
    record = db.session.scalar(select(LeafletRecord).order_by(LeafletRecord.id.desc()))
    assert (record.language, record.second_language) == ("en-GB", "pl")
    assert "Przemocwobeckobiet" in squeeze(pdftotext(out.read_bytes(), tmp_path))
    result = runner.invoke(args=[*base, "--second-language", "ur"])
    assert result.exit_code != 0 and "No approved Urdu translation" in result.output
    result = runner.invoke(args=[*base, "--layout", "a6", "--language", "pl", "--second-language", "ar"])
    assert result.exit_code != 0 and "English with one other" in result.output


def test_the_cache_keeps_each_language_apart(content_in_languages):
    scheme, _, campaign, helpline_set = content_in_languages
    keys = {recipes.prepare_leaflet(scheme, choice(campaign, helpline_set, **languages)).recipe.key
            for languages in ({}, {"language": "pl"}, {"second_language": "pl"}, {"second_language": "ar"})}
    assert len(keys) == 4


def test_a_leaflet_made_by_any_way_is_stamped_with_the_same_wording(content_in_languages):
    # The builder and a central print order (which builds its data without a choice of language) share one file.
    scheme, _, campaign, helpline_set = content_in_languages
    prepared = recipes.prepare_leaflet(scheme, choice(campaign, helpline_set))
    helplines = [current(ContentKind.HELPLINE, slug) for slug in ("karma-nirvana", "victim-support")]
    data = recipes.build_leaflet_data(scheme, campaign, helpline_set, helplines=helplines)
    assert data.wording == prepared.recipe.data.wording == "en"
    assert data == prepared.recipe.data
    polish = recipes.prepare_leaflet(scheme, choice(campaign, helpline_set, language="pl")).recipe.data
    assert polish.wording.startswith("pl:") and len(polish.wording) == len("pl:") + 16
