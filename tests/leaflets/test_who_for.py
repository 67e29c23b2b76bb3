"""Who each helpline is for, printed on every format (render.py who_for_line): a reader must never ring Respect, the
line for people worried about their own behaviour, thinking it is for victims, nor a victims' line the other way
round. Read back from the PDF's text. And the wallet card's numbers: at least 10 pt, bold."""

from __future__ import annotations

import pytest

from coordinator.leaflets.layouts import LAYOUTS
from coordinator.leaflets.render import LeafletHelpline, is_for_people_who_harm, render_leaflet_pdf, who_for_line
from tests.helpers.pdf import pdftotext, reader, squeeze
from tests.leaflets.starter_leaflets import starter_leaflet

RESPECT = "Respect Phoneline"
RESPECT_FOR = "perpetrators who want to stop being violent and abusive"
WIDE = ("a5", "a4", "a4-folded")
NARROW = ("dl", "a6", "wallet")


def test_the_short_forms_keep_whom_a_line_is_for_and_drop_what_it_adds():
    respect = LeafletHelpline(RESPECT, "0808 802 4040", who_for=f"{RESPECT_FOR} (confidential)")
    assert who_for_line(respect) == f"{RESPECT_FOR} (confidential)"
    assert who_for_line(respect, is_short=True) == RESPECT_FOR
    assert who_for_line(respect, is_shortest=True) == "perpetrators who want to stop being violent"
    childline = LeafletHelpline("Childline", "0800 1111",
                                who_for="children and young people, including abuse at home or in a relationship")
    # The group named first is kept whole when it is named in fewer than three words.
    assert who_for_line(childline, is_short=True) == who_for_line(childline, is_shortest=True) == \
        "children and young people"
    helpline = LeafletHelpline("National Domestic Abuse Helpline", "0808 2000 247",
                               who_for="victims of domestic abuse and people affected by it")
    assert who_for_line(helpline, is_short=True) == "victims of domestic abuse and people affected by it"
    assert who_for_line(helpline, is_shortest=True) == "victims of domestic abuse"
    assert who_for_line(LeafletHelpline("A", "0800 000 000", who_for="  anyone;  "), is_short=True) == "anyone"
    assert who_for_line(LeafletHelpline("A", "0800 000 000", who_for=" \n ")) == ""
    assert who_for_line(LeafletHelpline("A", "0800 000 000", who_for="(confidential)"), is_short=True) == ""


def test_lines_for_people_who_harm_are_told_from_lines_for_the_people_they_harm():
    for who_for in (RESPECT_FOR, "people worried about their own behaviour", "Abusers who want help to change",
                    "men who want to stop being abusive"):
        assert is_for_people_who_harm(LeafletHelpline("A", "0800 000 000", who_for=who_for)), who_for
    for who_for in ("victims of domestic abuse and people affected by it", "victims of any crime",
                    "abuse of older people, in all its forms", "people affected by rape and sexual abuse", ""):
        assert not is_for_people_who_harm(LeafletHelpline("A", "0800 000 000", who_for=who_for)), who_for


def _text(pdf: bytes, tmp_path) -> str:
    return squeeze(pdftotext(pdf, tmp_path))


@pytest.mark.parametrize("key", list(LAYOUTS))
def test_every_format_says_the_respect_line_is_for_perpetrators_after_its_number(key, tmp_path):
    data = starter_leaflet("you-are-not-alone")
    # In the order it is drawn, which is the leaflet's reading order (pdftotext mixes a folded leaflet's columns).
    text = squeeze("".join(page.extract_text() for page in reader(render_leaflet_pdf(data, key, mode="shop")).pages))
    start = text.index(squeeze(RESPECT))
    after = text[start:text.index(squeeze("Men's Advice Line"), start)]
    assert squeeze("0808 802 4040") in after and squeeze("perpetrators who want to stop being violent") in after


@pytest.mark.parametrize("key", WIDE)
def test_wide_formats_say_who_every_line_is_for_in_full(key, tmp_path):
    data = starter_leaflet("you-are-not-alone")
    text = _text(render_leaflet_pdf(data, key, mode="shop"), tmp_path)
    for helpline in data.helplines:
        assert squeeze(helpline.who_for) in text, helpline.name


@pytest.mark.parametrize("key", NARROW)
def test_narrow_formats_say_who_each_of_a_few_lines_is_for(key, tmp_path):
    data = starter_leaflet("its-not-ok")
    text = _text(render_leaflet_pdf(data, key), tmp_path)
    assert squeeze("people affected by rape and sexual abuse") in text
    assert squeeze("victims of any crime") in text


@pytest.mark.parametrize("key", NARROW)
def test_narrow_formats_with_many_lines_mark_only_the_line_for_people_who_harm(key, tmp_path):
    # No room at 12 pt (9 pt on the card) for seven: the victims' lines are the ones left unmarked.
    data = starter_leaflet("you-are-not-alone")
    text = _text(render_leaflet_pdf(data, key), tmp_path)
    assert squeeze("perpetrators who want to stop being violent") in text
    assert squeeze("LGBT+ people experiencing domestic abuse") not in text


def test_the_wallet_cards_numbers_print_at_10_pt_or_more_in_bold():
    pdf = render_leaflet_pdf(starter_leaflet("you-are-not-alone"), "wallet", mode="shop")
    numbers = {h.number_display for h in starter_leaflet("you-are-not-alone").helplines} | {"999", "101"}
    seen = {}

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() in numbers and font_dict is not None:
            seen[text.strip()] = (font_size * abs(tm[0]) * abs(cm[0]), str(font_dict.get("/BaseFont", "")))

    for page in reader(pdf).pages:
        page.extract_text(visitor_text=visit)
    assert set(seen) == numbers
    for number, (size, font) in seen.items():
        assert size >= 10 - 0.01 and "Bold" in font, (number, size, font)
