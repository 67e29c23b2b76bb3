"""Leaflets from plain data: every layout, both print modes, both sides, sizes, QR codes, fit checks and hostile text."""

from __future__ import annotations

import re
from io import BytesIO

import pikepdf
import pytest

from coordinator.leaflets.layouts import (
    A4_MM,
    HOME_SHEET_MARGIN_MM,
    LAYOUTS,
    get_layout,
    home_scale,
    home_sheet_plan,
    plan_print,
)
from coordinator.leaflets.render import (
    WALLET_FRONT_TITLE,
    LeafletDoesNotFit,
    LeafletError,
    LeafletHelpline,
    LeafletPreflightFailed,
    LocalNotice,
    content_reference,
    render_leaflet_html,
    render_leaflet_pdf,
    template_version,
)
from coordinator.pdf import SLUG_MM, mm
from tests.helpers.pdf import decode_qr, reader, squeeze
from tests.pdf.samples import (
    HELPLINES,
    WEB_ADDRESS,
    all_text,
    page_text,
    pdf_everything,
    sample_leaflet,
    text_sizes,
)

A5_POINTS = (419.53, 595.28)
A4_POINTS = (595.28, 841.89)
BLEED = 8.504
SLUG = mm(SLUG_MM)  # the paper round the trim of a print-shop page, for its crop marks


def box_size(box) -> tuple[float, float]:
    return float(box.width), float(box.height)


# Sizes and content of the A5 flyer.


def test_a5_for_the_shop_is_two_sided_with_exact_trim_and_bleed_and_reads_back_in_order(tmp_path):
    pdf = render_leaflet_pdf(sample_leaflet(), "a5", mode="shop")
    pages = reader(pdf).pages
    assert len(pages) == 2
    for page in pages:
        assert box_size(page.trimbox) == pytest.approx(A5_POINTS, abs=0.01)
        assert box_size(page.bleedbox) == pytest.approx((A5_POINTS[0] + 2 * BLEED, A5_POINTS[1] + 2 * BLEED), abs=0.01)
        assert float(page.trimbox.left) - float(page.bleedbox.left) == pytest.approx(BLEED, abs=0.01)
        assert float(page.bleedbox.top) - float(page.trimbox.top) == pytest.approx(BLEED, abs=0.01)
        assert box_size(page.mediabox) == pytest.approx((A5_POINTS[0] + 2 * SLUG, A5_POINTS[1] + 2 * SLUG), abs=0.01)
    front, back = pages[0].extract_text(), pages[1].extract_text()
    # The front: the campaign, its web address and QR code; nothing of the helplines.
    positions = [front.index(part) for part in ("It's not OK", "Abuse can be", "Call a helpline", "ourwatch", "Turn over")]
    assert positions == sorted(positions), front
    assert "0808" not in front and "Police" not in front
    # The back: where to get help, the police, the scheme's contact line and the small print.
    for helpline in HELPLINES:
        assert helpline.number_display in back
    positions = [
        back.index(part)
        for part in (
            "0808 2000 247",
            "0800 999 5428",
            "Police",
            "Emergency 999",
            "Non-emergency 101",
            "Zoë Łukasz",
            "Bromley Neighbourhood Watch Association",
            "TEST-REF1",
        )
    ]
    assert positions == sorted(positions), back
    assert "12March2026" in squeeze(back)
    assert decode_qr(pdf, tmp_path, 0) == [WEB_ADDRESS]
    assert decode_qr(pdf, tmp_path, 1) == []


def test_a5_for_the_shop_is_pdf_x4_with_metadata():
    # A print shop's file is for its RIP: PDF/X-4 with an output intent (tests/pdf/test_print_shop.py), not tagged.
    pdf = render_leaflet_pdf(sample_leaflet(), "a5", mode="shop")
    read = reader(pdf)
    root = read.trailer["/Root"]
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFX" and root["/Lang"] == "en-GB"
    assert read.metadata.title == "It's not OK: domestic abuse is a crime"
    assert read.metadata.author == "Bromley Neighbourhood Watch Association"
    assert read.metadata.subject == "A5 flyer #ITSNOTOK"


def test_a5_on_home_sheets_is_two_to_an_a4_fronts_then_backs_with_metadata_kept(tmp_path):
    pdf = render_leaflet_pdf(sample_leaflet(), "a5", mode="home", copies=3)
    read = reader(pdf)
    assert len(read.pages) == 4  # 3 copies fill 2 sheets of 2, each printed on both sides
    for page in read.pages:
        assert box_size(page.mediabox) == pytest.approx(A4_POINTS, abs=0.01)
    texts = [page.extract_text() for page in read.pages]
    assert [text.count("Turn over for where to get help") for text in texts] == [2, 0, 2, 0]
    assert [text.count("0808 2000 247") for text in texts] == [0, 2, 0, 2]
    assert read.metadata.title == "It's not OK: domestic abuse is a crime"
    assert read.metadata.subject == "A5 flyer #ITSNOTOK"
    assert read.trailer["/Root"]["/Lang"] == "en-GB"
    assert decode_qr(pdf, tmp_path) == [WEB_ADDRESS, WEB_ADDRESS]


def test_the_a4_poster_stays_one_side():
    pdf = render_leaflet_pdf(sample_leaflet(), "a4", mode="shop")
    assert len(reader(pdf).pages) == 1
    text = page_text(pdf)
    assert "0808 2000 247" in text and "Emergency 999" in text and "It's not OK" in text
    assert "Turn over" not in text


@pytest.mark.parametrize("key", list(LAYOUTS))
def test_every_layout_has_its_size_in_both_modes(key):
    layout = get_layout(key)
    leaflet = sample_leaflet(helplines=HELPLINES[:2], key_messages=sample_leaflet().key_messages[:2])
    width, height = layout.size_points
    shop = reader(render_leaflet_pdf(leaflet, key, mode="shop"))
    assert len(shop.pages) == layout.pages
    for page in shop.pages:
        assert box_size(page.trimbox) == pytest.approx((width, height), abs=0.01)
        assert box_size(page.bleedbox) == pytest.approx((width + 2 * BLEED, height + 2 * BLEED), abs=0.01)
        assert box_size(page.mediabox) == pytest.approx((width + 2 * SLUG, height + 2 * SLUG), abs=0.01)
    home = reader(render_leaflet_pdf(leaflet, key, mode="home"))
    assert len(home.pages) == layout.pages
    for page in home.pages:
        # The folded A4 is an A4 sheet already, printed landscape.
        sheet = A4_POINTS[::-1] if key == "a4-folded" else A4_POINTS
        assert box_size(page.mediabox) == pytest.approx(sheet, abs=0.01)
    numbers_on_sheet = home.pages[-1].extract_text().count("0808 2000 247")
    copies = {"a5": 2, "a4": 1, "dl": 3, "a4-folded": 1, "a6": 4, "wallet": 5}[key]
    assert numbers_on_sheet == layout.copies_per_sheet == copies
    assert layout.pages == (1 if key == "a4" else 2)


# Type sizes: body >= 12 pt on leaflets, >= 14 pt in large print, >= 9 pt on the wallet card (its numbers >= 10 pt
# and bold). Home sheets print copies at 100%, so the printed size is the size set.


@pytest.mark.parametrize(
    ("key", "is_large_print", "minimum", "home_minimum"),
    [
        ("a5", False, 12, 12),
        ("a4", False, 12, 12),
        ("dl", False, 12, 12),
        ("a4-folded", False, 12, 12),
        ("a6", False, 12, 12),
        ("wallet", False, 9, 9),
        ("a5", True, 14, 14),
        ("a4", True, 14, 14),
        ("dl", True, 14, 14),
        ("a4-folded", True, 14, 14),
    ],
)
def test_type_is_never_below_the_minimum(key, is_large_print, minimum, home_minimum):
    leaflet = sample_leaflet(helplines=HELPLINES[:1], key_messages=("Help is free.",), footer_text="")
    pdf = render_leaflet_pdf(leaflet, key, mode="shop", is_large_print=is_large_print)
    scale = home_scale(get_layout(key))
    for index in range(len(reader(pdf).pages)):
        sizes = text_sizes(pdf, index)
        small_print = [size for size, text in sizes if "TEST-REF1" in text or "Printed" in text]
        body = [size for size, text in sizes if size not in small_print]
        assert body and min(body) >= minimum and min(body) * scale >= home_minimum, sizes
        assert all(size * scale >= 8 for size in small_print), sizes


def test_large_print_is_only_for_a5_a4_dl_and_folded_a4():
    for key in ("a6", "wallet"):
        with pytest.raises(LeafletError, match="Large print is for the A5, A4, DL and folded A4 layouts"):
            render_leaflet_pdf(sample_leaflet(), key, is_large_print=True)


# The wallet card.


def test_wallet_card_outside_names_nothing_and_numbers_are_inside(tmp_path):
    pdf = render_leaflet_pdf(sample_leaflet(), "wallet", mode="shop")
    assert len(reader(pdf).pages) == 2
    outside, inside = page_text(pdf, 0), page_text(pdf, 1)
    assert squeeze(WALLET_FRONT_TITLE) in squeeze(outside)
    for revealing in ("abuse", "Abuse", "ITSNOTOK", "It's not OK", "Helpline", "Samaritans", "0808", "ourwatch"):
        assert revealing not in outside
    for helpline in HELPLINES:
        assert helpline.number_display in inside
    # The police block is on the outside, on the back panel: 999, 101 with its cost, the web and a police station.
    assert "Emergency 999" in outside and "Non-emergency 101 (15p a call)" in outside
    assert "www.met.police.uk" in outside and "police station" in outside
    assert reader(pdf).metadata.title == WALLET_FRONT_TITLE
    assert "abuse" not in (reader(pdf).metadata.subject or "")


def test_wallet_cards_on_home_sheets_have_backs_behind_fronts():
    plan = home_sheet_plan(get_layout("wallet"))
    fronts, backs = plan.placements
    assert len(fronts) == len(backs) == 5
    width = mm(170)  # flat, before it is folded to 85 x 55 mm
    # Turned over on the long edge, a back's position mirrors its front's.
    for front, back in zip(fronts, backs):
        assert back.y == pytest.approx(front.y)
        assert back.x == pytest.approx(plan.width - front.x - width)
    pdf = render_leaflet_pdf(sample_leaflet(), "wallet", mode="home", copies=25)
    read = reader(pdf)
    assert len(read.pages) == 10  # 5 sheets, front and back
    assert [squeeze(page.extract_text()).count(squeeze(WALLET_FRONT_TITLE)) for page in read.pages] == [5, 0] * 5
    assert [page.extract_text().count("0808 2000 247") for page in read.pages] == [0, 5] * 5


def _matrix(placement, layout):
    """The matrix that draws one copy of `layout` at `placement` (what impose writes), as a point mapper."""
    from coordinator.pdf import _form_matrix

    a, b, c, d, e, f = _form_matrix(placement, (0, 0, *layout.size_points))
    return lambda x, y: (a * x + c * y + e, b * x + d * y + f)


@pytest.mark.parametrize("key", ["a5", "dl", "a6", "wallet"])
def test_backs_land_behind_their_fronts_the_right_way_up_when_flipped_on_the_long_edge(key):
    layout = get_layout(key)
    plan = home_sheet_plan(layout)
    width, height = layout.size_points
    fronts, backs = plan.placements
    for front, back in zip(fronts, backs, strict=True):
        draw_front, draw_back = _matrix(front, layout), _matrix(back, layout)
        # Turned over like a page of a book, the front's top-left corner is behind the back's top-right one,
        # and its bottom-right behind the back's bottom-left. Flipping A4 on its long edge takes x to width - x.
        for front_corner, back_corner in (((0, height), (width, height)), ((width, 0), (0, 0))):
            fx, fy = draw_front(*front_corner)
            bx, by = draw_back(*back_corner)
            assert (plan.width - bx, by) == pytest.approx((fx, fy), abs=0.01)


@pytest.mark.parametrize("key", ["a5", "dl", "a6", "wallet"])
def test_cut_marks_sit_outside_the_trim_or_on_a_cut_line_and_inside_the_printable_area(key):
    layout = get_layout(key)
    plan = home_sheet_plan(layout)
    scale = home_scale(layout)
    assert scale == 1.0  # copies print at 100%: type prints at the size it was set
    width, height = layout.size_points
    cell = (height * scale, width * scale) if layout.home_grid.is_rotated else (width * scale, height * scale)
    cells = [(p.x, p.y, p.x + cell[0], p.y + cell[1]) for p in plan.placements[0]]
    margin = mm(3)  # home printers print from about 3 mm in
    assert plan.cut_marks
    for (x1, y1), (x2, y2) in plan.cut_marks:
        for x, y in ((x1, y1), (x2, y2), ((x1 + x2) / 2, (y1 + y2) / 2)):
            assert margin <= x <= plan.width - margin and margin <= y <= plan.height - margin
            assert not any(left < x < right and bottom < y < top for left, bottom, right, top in cells)
    # Every copy is on the sheet; where the sheet has room, inside the margin that holds the marks.
    has_margin = key == "wallet"
    margin = mm(HOME_SHEET_MARGIN_MM) if has_margin else 0
    for left, bottom, right, top in cells:
        assert left >= margin - 0.01 and right <= mm(A4_MM[0]) - margin + 0.01
        assert bottom >= margin - 0.01 and top <= mm(A4_MM[1]) - margin + 0.01
    # Where copies reach the paper's edge, each mark lies on a cut line between two copies.
    if not has_margin:
        cuts_x = {round(left, 2) for left, _, _, _ in cells} | {round(right, 2) for _, _, right, _ in cells}
        cuts_y = {round(bottom, 2) for _, bottom, _, _ in cells} | {round(top, 2) for _, _, _, top in cells}
        for (x1, y1), (x2, y2) in plan.cut_marks:
            assert (x1 == x2 and round(x1, 2) in cuts_x) or (y1 == y2 and round(y1, 2) in cuts_y)


def test_print_plans_count_copies_sheets_and_pages():
    assert plan_print(get_layout("a5"), "home", 41) == plan_print(get_layout("a5"), "home", 42)
    assert plan_print(get_layout("a5"), "home", 41).sheets == 21
    assert plan_print(get_layout("dl"), "home", 10).copies == 12
    assert plan_print(get_layout("wallet"), "home", 11).pages == 6  # 5 to a sheet: 3 sheets, both sides
    assert plan_print(get_layout("wallet"), "shop", 11).pages == 22
    assert plan_print(get_layout("a4"), "home", 7).sheets == 7
    with pytest.raises(ValueError):
        plan_print(get_layout("a5"), "office", 1)


# Print runs: render once, repeat by reference.


def test_a_500_copy_run_is_the_leaflet_laid_out_once():
    leaflet = sample_leaflet()
    one = render_leaflet_pdf(leaflet, "a5", mode="shop")
    run = render_leaflet_pdf(leaflet, "a5", mode="shop", copies=500)
    assert len(reader(run).pages) == 1000  # front and back of each copy
    assert (len(run) - len(one)) / 499 <= 512
    # Every copy draws the same front and back: laid out once, so the time does not grow with the copies either
    # (bench/leaflets.py measures it: 1.15x one copy's time).
    with pikepdf.open(BytesIO(run)) as document:
        assert len({page.Contents.objgen for page in document.pages}) == 2


def test_a_500_copy_home_run_is_250_double_sided_sheets_sharing_one_front_and_one_back():
    pdf = render_leaflet_pdf(sample_leaflet(), "a5", mode="home", copies=500)
    with pikepdf.open(BytesIO(pdf)) as document:
        assert len(document.pages) == 500
        assert len({page.Contents.objgen for page in document.pages}) == 2


# Text that does not fit.


@pytest.mark.parametrize(
    ("key", "is_large_print", "message"),
    [
        ("a6", False, "Too long for A6: choose A5."),
        ("dl", False, "Too long for DL: choose folded A4."),
        ("a5", False, "Too long for A5: choose A4."),
        ("a5", True, "Too long for A5 in large print: choose A4."),
        ("a4", False, "Too long for A4: shorten the text."),
        ("a4", True, "Too long for A4 in large print: turn off large print or shorten the text."),
    ],
)
def test_5000_characters_are_refused_with_the_layout_to_choose(key, is_large_print, message):
    long_text = ("Please look out for your neighbours. " * 140)[:5000]
    with pytest.raises(LeafletDoesNotFit) as raised:
        render_leaflet_pdf(
            # The A6 postcard prints its call to action where larger formats print the summary.
            sample_leaflet(summary=long_text, call_to_action=long_text, key_messages=()), key, mode="home",
            is_large_print=is_large_print,
        )
    assert str(raised.value) == message


def test_text_overflowing_either_side_is_refused():
    # The A6 front carries the headline and the call to action (its key messages are for larger formats).
    call = " ".join(f"Step {n}: please look out for your neighbours and report concerns." for n in range(8))
    with pytest.raises(LeafletDoesNotFit, match="Too long for A6: choose A5."):
        render_leaflet_pdf(sample_leaflet(call_to_action=call), "a6")
    messages = tuple(f"Key message number {n}: please look out for your neighbours and report concerns." for n in range(8))
    helplines = tuple(
        LeafletHelpline(f"Helpline {n}", f"0800 000 00{n}", hours="Mon to Fri, 9am to 5pm", who_for="anyone who needs it")
        for n in range(9)
    )
    with pytest.raises(LeafletDoesNotFit, match="Too long for A6: choose A5."):
        render_leaflet_pdf(sample_leaflet(helplines=helplines), "a6")
    # Each alone fits on A5.
    assert len(reader(render_leaflet_pdf(sample_leaflet(key_messages=messages), "a5", mode="shop")).pages) == 2
    assert len(reader(render_leaflet_pdf(sample_leaflet(helplines=helplines), "a5", mode="shop")).pages) == 2


def test_too_many_helplines_for_a_wallet_card_suggest_a6():
    many = tuple(LeafletHelpline(f"Helpline {n}", f"0800 000 00{n}", hours="Mon to Fri, 9am to 5pm") for n in range(9))
    with pytest.raises(LeafletDoesNotFit, match="Too long for the wallet card: choose A6."):
        render_leaflet_pdf(sample_leaflet(helplines=many), "wallet")


def test_one_5000_character_word_is_refused_not_cut():
    with pytest.raises(LeafletDoesNotFit):
        render_leaflet_pdf(sample_leaflet(headline="W" * 5000), "a5")


def test_a_long_number_is_refused_before_it_could_run_off_the_card():
    helpline = LeafletHelpline("Line", "0" * 31)
    with pytest.raises(LeafletError, match="longer than 30 characters"):
        render_leaflet_pdf(sample_leaflet(helplines=(helpline,)), "wallet")
    # Numbers never wrap; one within the limit but wider than its panel is refused, not drawn over the next. (The
    # folded wallet card's panels are a whole card wide and hold it; on an A5 with three or four helplines, two to a
    # row, it is wider than its column.)
    nowrap = LeafletHelpline("Line", "0808 2000 247 0808 2000 247 0")
    with pytest.raises(LeafletDoesNotFit):
        render_leaflet_pdf(sample_leaflet(helplines=(nowrap, *HELPLINES[:2])), "a5")


# Hostile text.

HOSTILE = [
    "<script>alert(1)</script>",
    "{{ 7*7 }}",
    "</style><style>body{display:none}</style>",
    '"><img src=x onerror=alert(1)>',
]


def hostile_values(sentinel) -> list[str]:
    return [f'<img src="{sentinel.svg.as_uri()}">', f"<p style='background:url({sentinel.svg.as_uri()})'>", *HOSTILE]


def hostile_leaflet(value: str, fields: str):
    if fields == "campaign":
        return sample_leaflet(
            headline=value,
            hashtag=f"#{value}",
            summary=value,
            call_to_action=value,
            key_messages=(),
            helplines=HELPLINES[:1],
        )
    if fields == "messages":
        return sample_leaflet(key_messages=(value, value, value), helplines=HELPLINES[:1])
    return sample_leaflet(
        helplines=(LeafletHelpline(value[:30], "{{ 7*7 }}", hours=value, who_for=value),),
        local_notice=LocalNotice(value, value),
        contact_line=value,
        association_name=value,
        footer_text=value,
    )


@pytest.mark.parametrize("fields", ["campaign", "messages", "local"])
@pytest.mark.parametrize("which", range(6))
def test_hostile_text_in_every_field_prints_literally_and_fetches_nothing(sentinel, which, fields):
    value = hostile_values(sentinel)[which]
    try:
        pdf = render_leaflet_pdf(hostile_leaflet(value, fields), "a4", mode="shop")
    except LeafletPreflightFailed as refused:
        # A path with no place to break cannot print whole: preflight refuses it, naming the field, before anything
        # is written; the file it names was never fetched (the refusal quotes the text, not the file).
        assert "is split in the middle of a word" in str(refused) and refused.fields
        assert sentinel.token not in str(refused)
        return
    text = squeeze(page_text(pdf))
    assert text.count(squeeze(value)) >= 3
    if fields == "campaign":
        assert squeeze(f"#{value}") in text
    if fields == "local":
        assert squeeze(value[:30]) in text and "{{7*7}}" in text
    # The sentinel's file path is pytest's numbered folder (pytest-49 one day): look only at the rest.
    assert "49" not in re.sub(r"file:[^\"')]*", "", text)
    assert sentinel.token not in pdf_everything(pdf)
    assert not reader(pdf).attachments


def test_hostile_text_in_the_html_is_escaped():
    html = render_leaflet_html(sample_leaflet(headline="</style><script>alert(1)</script>", hashtag="{{ 7*7 }}"), "a5")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "{{ 7*7 }}" in html


@pytest.mark.parametrize("field", ["headline", "contact_line", "footer_text"])
def test_direction_overrides_are_refused(field):
    with pytest.raises(LeafletError, match="right-to-left override"):
        render_leaflet_pdf(sample_leaflet(**{field: "Call \u202e742 0002 8080"}), "a5")


def test_a_direction_override_in_a_number_is_refused():
    helpline = LeafletHelpline("Line", "\u202e742 0002 8080")
    with pytest.raises(LeafletError, match="helpline number display"):
        render_leaflet_pdf(sample_leaflet(helplines=(helpline,)), "a5")


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "localhost",
        "ftp://example.org",
        'https://example.org/"><img src=x>',
        "https://" + "a" * 300 + ".org",
        "example.org/a b",
    ],
)
def test_web_addresses_must_be_plain_http_links(address):
    with pytest.raises(LeafletError, match="web address"):
        render_leaflet_pdf(sample_leaflet(web_address=address), "a5")


def test_a_bare_web_address_is_printed_as_given_and_opened_over_https(tmp_path):
    pdf = render_leaflet_pdf(sample_leaflet(web_address="www.met.police.uk/advice"), "a5", mode="shop")
    assert "More at www.met.police.uk/advice" in page_text(pdf)
    assert decode_qr(pdf, tmp_path) == ["https://www.met.police.uk/advice"]


def test_police_numbers_in_a_helpline_set_are_left_to_the_police_block():
    police = (
        LeafletHelpline("Police, emergency", "999", who_for="someone in immediate danger", is_free=True),
        LeafletHelpline("Police, non-emergency", "101", who_for="reporting", is_free=True),
    )
    rape_crisis = LeafletHelpline("Rape Crisis", "0808 802 9999", who_for="people affected by rape", is_free=True)
    text = all_text(render_leaflet_pdf(sample_leaflet(helplines=(*police, rape_crisis)), "a5", mode="shop"))
    assert "Police, emergency" not in text and "Police, non-emergency" not in text
    assert "0808 802 9999" in text and "Emergency 999" in text and "Non-emergency 101" in text


def test_many_helplines_are_listed_one_to_a_row_and_all_printed():
    many = tuple(
        LeafletHelpline(f"Helpline {n}", f"0800 123 45{n}", who_for=f"people in need {n}", is_free=True)
        for n in range(7)
    )
    html = render_leaflet_html(sample_leaflet(helplines=many), "a4")
    assert 'class="helplines is-compact"' in html
    text = page_text(render_leaflet_pdf(sample_leaflet(helplines=many), "a4", mode="shop"))
    assert all(f"0800 123 45{n}" in text for n in range(7))
    assert "Where to get help: all free to call" in text


def test_free_to_call_is_said_per_helpline_unless_all_are_free():
    mixed = (HELPLINES[0], LeafletHelpline("Paid line", "0300 123 4567", hours="Mon to Fri"))
    text = all_text(render_leaflet_pdf(sample_leaflet(helplines=mixed), "a5", mode="shop"))
    assert "Where to get help\n" in text and "Free·24hours,7days" in squeeze(text) and "Mon to Fri" in text
    text = all_text(render_leaflet_pdf(sample_leaflet(), "a5", mode="shop"))
    assert "all free to call" in text and "Free ·" not in text


def test_a_hashtag_already_in_the_headline_is_not_printed_twice():
    leaflet = sample_leaflet(headline="#ITSNOTOK: Sexual Abuse Awareness Week", hashtag="#ITSNOTOK")
    assert squeeze(page_text(render_leaflet_pdf(leaflet, "a5", mode="shop"))).count("#ITSNOTOK") == 1


def test_right_to_left_text_without_overrides_prints():
    pdf = render_leaflet_pdf(sample_leaflet(contact_line="Contact: Zoë, שלום"), "a5", mode="shop")
    assert "Zoë" in all_text(pdf)


def test_a_leaflet_needs_a_headline_and_a_language_tag():
    with pytest.raises(LeafletError, match="headline"):
        render_leaflet_pdf(sample_leaflet(headline="  "), "a5")
    with pytest.raises(LeafletError, match="language tag"):
        render_leaflet_pdf(sample_leaflet(language='en"><x'), "a5")


def test_unknown_layouts_and_modes_are_refused():
    with pytest.raises(ValueError, match="Unknown layout 'a3'"):
        render_leaflet_pdf(sample_leaflet(), "a3")
    with pytest.raises(LeafletError, match="Unknown print mode"):
        render_leaflet_pdf(sample_leaflet(), "a5", mode="office")


# Preview and references.


def test_the_preview_html_uses_the_static_stylesheets():
    html = render_leaflet_html(sample_leaflet(), "dl", is_large_print=True, asset_base="/static/")
    assert '<link rel="stylesheet" href="/static/print/dl.css">' in html
    assert '<link rel="stylesheet" href="/static/print/large-print.css">' in html
    assert 'class="leaflet layout-dl large-print wording-en"' in html


def test_content_reference_is_short_stable_and_changes_with_versions():
    reference = content_reference(campaign=12, helplines=4)
    assert reference == content_reference(helplines=4, campaign=12)
    assert reference != content_reference(campaign=13, helplines=4)
    assert len(reference) == 9 and reference[4] == "-"
    assert len(template_version()) == 16
