"""Done when: each starter campaign on A5 with its natural helpline set prints every number, at exact sizes,
with a QR code that opens the association's short address for the campaign (which leads on to its site)."""

from __future__ import annotations

import pytest

from coordinator.content.models import ContentKind
from coordinator.leaflets import builder, pdfs
from coordinator.links import printable_address, short_campaign_url
from tests.factories import NATURAL_SETS, current, load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.pdf import decode_qr, pdftotext, reader, squeeze

A5_POINTS = (419.53, 595.28)
BLEED = 3 * 72 / 25.4


def box_size(box) -> tuple[float, float]:
    return float(box.width), float(box.height)


@pytest.mark.parametrize("campaign_slug", list(NATURAL_SETS))
def test_each_starter_campaign_on_a5_prints_every_number_at_exact_size_with_a_working_qr(campaign_slug, tmp_path):
    admin = load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    helpline_set = current(ContentKind.HELPLINE_SET, NATURAL_SETS[campaign_slug])
    record, prepared = builder.generate_leaflet(scheme, starter_choice(campaign_slug, print_mode="shop"), admin)
    pdf = pdfs.leaflet_pdf(prepared.recipe)

    text = pdftotext(pdf, tmp_path)
    numbers = [item.current_version.phone_number_shown for item in helpline_set.helpline_items]
    assert len(numbers) == {"sexual-violence": 4, "domestic-abuse": 7}[NATURAL_SETS[campaign_slug]]
    for number in [*numbers, "101", "999"]:
        assert number in text, number
    assert "Emergency 999" in text and "Non-emergency 101" in text
    assert record.reference in text and "Contact your local scheme, Bickley Park" in text

    pages = reader(pdf).pages
    assert len(pages) == 2  # front and back
    for page in pages:
        assert box_size(page.trimbox) == pytest.approx(A5_POINTS, abs=0.01)
        assert box_size(page.bleedbox) == pytest.approx((A5_POINTS[0] + 2 * BLEED, A5_POINTS[1] + 2 * BLEED), abs=0.01)
    short = short_campaign_url(campaign_slug)
    assert decode_qr(pdf, tmp_path, 0) == [short]
    # Printed without its http(s)://, breaking only after a / or a . if it must.
    assert printable_address(short) in squeeze(text).replace("\u200b", "")


def test_the_largest_starter_set_fits_the_back_of_an_a5_for_the_home_printer_too(tmp_path):
    admin = load_starter()
    scheme, _ = make_coordinated_scheme()
    _, prepared = builder.generate_leaflet(scheme, starter_choice("you-are-not-alone"), admin)
    pdf = pdfs.leaflet_pdf(prepared.recipe)
    pages = reader(pdf).pages
    assert len(pages) == 2  # one A4 sheet, front then back
    assert box_size(pages[0].mediabox) == pytest.approx((595.28, 841.89), abs=0.01)
    back = pages[1].extract_text()
    assert back.count("0808 2000 247") == 2 and back.count("0800 1111") == 2
    assert decode_qr(pdf, tmp_path, 0) == [short_campaign_url("you-are-not-alone")] * 2


def test_a_leaflet_marked_sensitive_keeps_its_outside_neutral_and_one_not_marked_does_not(tmp_path):
    admin = load_starter()
    scheme, _ = make_coordinated_scheme("Bickley Park")
    assert current(ContentKind.HELPLINE_SET, "domestic-abuse").is_sensitive
    assert current(ContentKind.CAMPAIGN, "you-are-not-alone").is_sensitive
    assert not current(ContentKind.HELPLINE_SET, "emergency-and-reporting").is_sensitive
    _, prepared = builder.generate_leaflet(scheme, starter_choice("vawg-prevention", print_mode="shop"), admin)
    front, back = (page.extract_text() for page in reader(pdfs.leaflet_pdf(prepared.recipe)).pages)
    # The side seen first on the doormat: no subject, no helpline name; the police and the way to reach the scheme.
    assert "Supportforyouandyourneighbours" in squeeze(front)
    for revealing in ("Violence", "VAWG", "abuse", "Abuse", "Helpline", "0808"):
        assert revealing not in front, revealing
    assert "Emergency 999" in front and "Non-emergency 101" in front and "15p a call" in front
    assert "Violence Against" in back and "0808 2000 247" in back
    # The same campaign with a set not marked sensitive prints its subject on the front.
    choice = starter_choice("vawg-prevention", "emergency-and-reporting", print_mode="shop")
    _, prepared = builder.generate_leaflet(scheme, choice, admin)
    front = reader(pdfs.leaflet_pdf(prepared.recipe)).pages[0].extract_text()
    assert "Violence Against" in front and "Support for you" not in front
