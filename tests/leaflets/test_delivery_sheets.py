"""Delivery sheets carry each street's delivery notes and how many of its households asked for no leaflets."""

from __future__ import annotations

import re

from coordinator.extensions import db
from coordinator.leaflets import delivery_sheets, print_runs
from tests.factories import load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.pdf import pdftotext


def _run(streets=((30, 2), (12, 0))):
    load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=streets)
    run = print_runs.create_print_run(scheme, starter_choice(), [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    return scheme, run


def test_each_street_shows_its_no_leaflet_count_and_its_notes(tmp_path):
    scheme, run = _run()
    first, second = scheme.streets
    first.delivery_notes = "Gate code 4417.\nNo leaflets at 12 and 14."
    db.session.commit()
    sheet = delivery_sheets.delivery_sheet_data(run)
    assert [(row.name, row.households_no_leaflets, row.delivery_notes) for row in sheet.rows] == [
        (first.name, 2, "Gate code 4417.\nNo leaflets at 12 and 14."), (second.name, 0, "")]
    assert sheet.total_no_leaflets == 2
    text = pdftotext(delivery_sheets.delivery_sheet_pdf(run), tmp_path, layout=True)
    assert re.search(rf"{first.name}\s+BR1 1AA\s+30\s+2\s+30", text), text
    squeezed = " ".join(text.split())
    assert "No leaflets" in squeezed and "Notes: Gate code 4417. No leaflets at 12 and 14." in squeezed
    assert squeezed.count("Notes:") == 1  # a street without notes has no empty line for them


def test_the_notes_are_the_streets_today_and_a_changed_note_makes_a_new_sheet(tmp_path):
    scheme, run = _run()
    before = delivery_sheets.delivery_sheet_pdf(run)
    scheme.streets[0].delivery_notes = "Side gate: ring the bell"
    db.session.commit()
    after = delivery_sheets.delivery_sheet_pdf(run)
    assert after != before and "Notes: Side gate: ring the bell" in " ".join(pdftotext(after, tmp_path).split())
    # A street deleted since the run is still on the sheet, with the run's numbers, and no notes.
    db.session.delete(scheme.streets[0])
    db.session.commit()
    db.session.refresh(run)
    sheet = delivery_sheets.delivery_sheet_data(run)
    assert sheet.rows[0].households == 30 and sheet.rows[0].delivery_notes == ""


def test_a_phone_number_in_the_notes_is_kept_whole(tmp_path):
    scheme, run = _run()
    scheme.streets[0].delivery_notes = ("The caretaker lets you into the flats if you ring the office first on "
                                        "020 7946 0018 or the mobile 07700 900123")
    db.session.commit()
    sheet = delivery_sheets.delivery_sheet_data(run)
    assert "020\u00a07946\u00a00018" in sheet.rows[0].delivery_notes
    lines = pdftotext(delivery_sheets.delivery_sheet_pdf(run), tmp_path, layout=True).splitlines()
    for number in ("020 7946 0018", "07700 900123"):
        assert any(number in line.replace("\u00a0", " ") for line in lines), number


def test_hostile_notes_print_as_text(tmp_path):
    scheme, run = _run()
    scheme.streets[0].delivery_notes = " ".join(HOSTILE_TEXTS)
    db.session.commit()
    sheet = delivery_sheets.delivery_sheet_data(run)
    html = delivery_sheets.render_print_html(delivery_sheets.DELIVERY_TEMPLATE, sheet=sheet, qr_src="")
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = " ".join(pdftotext(delivery_sheets.delivery_sheet_pdf(run), tmp_path).split())
    assert "<script>alert(1)</script> {{ 7*7 }}" in text and "49" not in text
