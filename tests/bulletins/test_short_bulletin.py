"""Bulletins residents read on a phone (issue 17): help first, each campaign once and short unless the scheme chose
the full text, a preheader and the association's face, numbers that are one tel: link, addresses that break only
after "/" or ".", a size Gmail never clips, and a text to share that fits a group chat."""

from __future__ import annotations

import io
import re
from html import unescape

from PIL import Image

from coordinator.audit.models import AuditEntry
from coordinator.bulletins.render import (
    PHONE_NUMBER,
    SHARE_TEXT_LIMIT,
    address_html,
    link_phone_numbers,
    phone_link,
    preheader,
    render_bulletin,
    share_text,
)
from coordinator.extensions import db
from coordinator.settings import SettingsChange, brand, get_settings, update_settings
from tests.bulletins.helpers import compose_values
from tests.bulletins.starter import starter_bulletins
from tests.factories import make_admin, make_bulletin, make_campaign, make_scheme
from tests.helpers.web import login_as, post_form

UNSUBSCRIBE = "https://watch.example.org/unsubscribe/eyJzIjo3LCJrIjoxfQ.c2lnbmF0dXJl"
FIVE_MESSAGES = ["Lock the door", "Call 101 to report it", "Ask a neighbour", "Fourth message", "Fifth message"]


def parts(bulletin, name="Robin Ash") -> tuple[str, str]:
    rendered = render_bulletin(bulletin)
    return rendered.html_for(name, UNSUBSCRIBE), rendered.text_for(name, UNSUBSCRIBE)


def _set_logo(size=(300, 100)) -> None:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    settings = get_settings()
    values = {name: getattr(settings, name) for name in SettingsChange.__dataclass_fields__ if hasattr(settings, name)}
    update_settings(SettingsChange(**values | {"logo_upload": out.getvalue()}))
    db.session.commit()


# --- Short by default, full when the scheme chooses ----------------------------------------------------------------


def test_each_campaign_appears_once_short_with_a_link_to_its_page(world):
    campaign = make_campaign(world.admin, title="Lock up", summary="Lock up before bed: it takes a minute.",
                             key_messages=FIVE_MESSAGES, body="## Why\n\nBurglars try doors at night.",
                             call_to_action="Lock up tonight.", web_address="www.example.org/lock-up")
    db.session.commit()
    html, text = parts(make_bulletin(world, campaign_version_ids=[campaign.id]))
    assert html.count("<h2>Lock up</h2>") + html.count(">Lock up</h2>") == 1
    assert html.count("Lock up before bed") == 2  # the preheader and the summary, nothing more
    for shown in ("Lock the door", "Ask a neighbour"):
        assert shown in html and shown in text
    for left in ("Fourth message", "Fifth message", "Burglars try doors", "Lock up tonight.", "Find out more",
                 "Remember", "www.example.org/lock-up"):
        assert left not in html and left not in text, left
    assert re.search(r'<a href="http://127.0.0.1:5000/campaigns/lock-up"[^>]*>Read more about Lock up</a>', html)
    assert "Read more: http://127.0.0.1:5000/campaigns/lock-up" in text


def test_a_scheme_that_prefers_it_gets_the_full_text(world):
    campaign = make_campaign(world.admin, title="Lock up", key_messages=FIVE_MESSAGES,
                             body="## Why\n\nBurglars try doors at night.", call_to_action="Lock up tonight.",
                             web_address="www.example.org/lock-up")
    world.s.scheme_a.is_bulletin_full_text = True
    db.session.commit()
    html, text = parts(make_bulletin(world, campaign_version_ids=[campaign.id]))
    for shown in ("Fifth message", "Burglars try doors", "Lock up tonight.", "Remember"):
        assert shown in html and shown in text, shown
    assert "Find out more" in html and html.count("Find out more") == 1
    assert "Read more about" not in html


def test_the_coordinator_chooses_the_full_version_for_the_scheme_on_the_compose_form(client, world):
    s = world.s
    login_as(client, s.coordinator_a)
    page = client.get(f"/schemes/{s.scheme_a.id}/bulletins/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="short"|<input[^>]*value="short"[^>]*checked', page)
    response = post_form(client, f"/schemes/{s.scheme_a.id}/bulletins/new", compose_values(world, length="full"))
    assert response.status_code == 302
    db.session.expire_all()
    assert s.scheme_a.is_bulletin_full_text is True
    [entry] = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "schemes.bulletin_length_changed"))
    assert entry.details["changes"]["is_bulletin_full_text"] == {"old": False, "new": True}
    # The next bulletin starts from the scheme's choice; the other scheme keeps the short version.
    page = client.get(f"/schemes/{s.scheme_a.id}/bulletins/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="full"|<input[^>]*value="full"[^>]*checked', page)
    assert s.scheme_b.is_bulletin_full_text is False
    # Saving again with the same choice records nothing more.
    post_form(client, f"/schemes/{s.scheme_a.id}/bulletins/new", compose_values(world, length="full"))
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "schemes.bulletin_length_changed")) == 1


# --- Help first ----------------------------------------------------------------------------------------------------


def test_the_police_and_the_helplines_come_before_the_campaigns_in_both_parts(world):
    html, text = parts(make_bulletin(world))
    for part in (html, unescape(text)):
        police = part.index("999")
        assert police < part.index("101") < part.index("0808") < part.index("Doorstep scams</h2>"
                                                                            if part is html else "== Doorstep scams")
    # The police block carries the seed's facts: 999, 101 with its cost, the website, a police station.
    for fact in ("15p a call from landlines and mobiles", "www.met.police.uk", "in person to a police station"):
        assert fact in text and fact in unescape(re.sub(r"<wbr>", "", html)), fact
    # 101 is never called free.
    assert not re.search(r"101[^.]*free", text, re.IGNORECASE)


def test_every_phone_number_is_one_tel_link_that_cannot_break(world):
    campaign = make_campaign(world.admin, title="Help", summary="Call 0808 2000 247 any time, or 999.",
                             key_messages=["Report it on 101.", "Childline: 0800 1111"])
    world.s.scheme_a.contact_phone = "020 7946 0018"
    db.session.commit()
    html, text = parts(make_bulletin(world, campaign_version_ids=[campaign.id]))
    links = re.findall(r'<a class="tel" href="(tel:[^"]+)"[^>]*>([^<]+)</a>', html)
    shown = [unescape(number) for _href, number in links]
    assert all(" " not in number for number in shown)  # no-break spaces only
    numbers = [" ".join(number.replace("\u00a0", " ").split()) for number in shown]
    assert numbers == ["999", "101", "0808 168 9111", "0800 555 111", "0808 2000 247", "999", "101", "0800 1111",
                       "020 7946 0018"]
    assert ("tel:+448082000247", "0808&nbsp;2000&nbsp;247") in links and ("tel:+442079460018",
                                                                         "020&nbsp;7946&nbsp;0018") in links
    assert re.search(r'<a class="tel" href="tel:999" style="[^"]*white-space: nowrap', html)
    # The plain-text part gives the same numbers in the same order.
    lines = "\n".join(line for line in text.splitlines() if "://" not in line)  # a token is not a number
    plain = [" ".join(m.group().split()) for m in PHONE_NUMBER.finditer(lines)]
    assert plain == numbers


def test_numbers_are_linked_in_text_but_not_in_addresses_links_or_character_references():
    assert link_phone_numbers("Call 0808 802 4040 &#101; www.x.org/101 or 101.") == (
        'Call <a class="tel" href="tel:+448088024040">0808&nbsp;802&nbsp;4040</a> &#101; www.x.org/101 or '
        '<a class="tel" href="tel:101">101</a>.'
    )
    already = '<a href="tel:999">999</a> and <a href="https://x.org/0800-1111">0800 1111</a>'
    assert link_phone_numbers(already) == already
    assert str(phone_link("0808 2000 247")) == '<a class="tel" href="tel:+448082000247">0808&nbsp;2000&nbsp;247</a>'
    for not_a_number in ("2018", "24/7", "9am to 5pm", "15p a call", "1010", "£101.50"):
        assert not PHONE_NUMBER.search(not_a_number), not_a_number


def test_addresses_are_printed_without_https_and_break_only_after_a_slash_or_a_dot():
    assert str(address_html("https://www.met.police.uk/advice/daa/")) == (
        "www.<wbr>met.<wbr>police.<wbr>uk/<wbr>advice/<wbr>daa"
    )
    # A piece too long for a 320 px screen is named in words; the plain-text part gives it in full.
    assert str(address_html("sexualabuseandsexualviolenceawarenessweek.org", "the campaign's website")) == (
        "the campaign&#39;s website"
    )
    assert str(address_html("<script>.org")) == "&lt;script&gt;.<wbr>org"


# --- Preheader and the association's face --------------------------------------------------------------------------


def test_the_preheader_is_the_first_campaigns_summary_and_the_first_text(world):
    html, _text = parts(make_bulletin(world))
    body = html[html.index("<body"):]
    first_text = re.search(r">([^<>\s][^<>]*)<", body).group(1)
    assert first_text.startswith("Cold callers who pressure you")
    assert re.search(r'<div class="preheader" style="[^"]*display: none', body)
    long = {"summary": "word " * 60}
    assert len(preheader([long])) <= 141 and preheader([long]).endswith("…")
    assert preheader([]) == ""


def test_the_header_shows_the_logo_with_its_size_and_alt_text_and_the_brand_colour(world):
    html, _text = parts(make_bulletin(world))
    assert "<img" not in html  # no logo yet, and the short version shows no pictures
    assert "Bromley Neighbourhood Watch Association</p>" in html
    assert 'bgcolor="#1d4e89"' in html
    _set_logo((300, 100))
    settings = get_settings()
    values = {name: getattr(settings, name) for name in SettingsChange.__dataclass_fields__ if hasattr(settings, name)}
    update_settings(SettingsChange(**values | {"brand_colour": "#0b0c0c"}))
    db.session.commit()
    html, _text = parts(make_bulletin(world))
    [logo] = re.findall(r"<img [^>]*>", html)
    assert f'src="http://127.0.0.1:5000/brand/logo-{brand().logo_version}.png"' in logo
    assert 'alt="Bromley Neighbourhood Watch Association logo"' in logo
    assert 'width="144"' in logo and 'height="48"' in logo
    assert 'bgcolor="#0b0c0c"' in html


def test_the_layout_is_tables_not_div_or_p_boxes(world):
    html, _text = parts(make_bulletin(world))
    # Outlook for Windows drops the padding of div and p boxes: the one div is the hidden preheader.
    assert re.findall(r"<div[^>]*>", html) == [re.search(r'<div class="preheader"[^>]*>', html).group(0)]
    assert re.search(r'<td class="helpline" style="[^"]*padding', html)
    assert "<!--[if mso]>" in html  # a fixed 600 px column for Outlook, fluid for everyone else


# --- Size and the text to share ------------------------------------------------------------------------------------


def test_the_starter_bulletins_are_well_under_the_size_gmail_clips(two_schemes):
    for bulletin in starter_bulletins(two_schemes.scheme_a, make_admin()):
        html, _text = parts(bulletin)
        assert len(html.encode()) < 60 * 1024, bulletin.subject


def test_the_text_to_share_fits_a_group_chat(two_schemes):
    bulletins = starter_bulletins(two_schemes.scheme_a, make_admin())
    for bulletin in bulletins:
        text = share_text(bulletin)
        assert len(text) <= SHARE_TEXT_LIMIT, (bulletin.subject, len(text))
        assert text.startswith(bulletin.subject + "\n")
        for fact in ("999", "101 (15p a call)", "www.met.police.uk", "police station",
                     "Read more: http://127.0.0.1:5000/campaigns/", "http://127.0.0.1:5000/join/hayes-lane-watch"):
            assert fact in text, fact
        assert "Hello" not in text and "unsubscribe" not in text.lower()
    # The seven-number domestic abuse set: the helplines go in their order, as many as fit.
    [domestic] = [b for b in bulletins if b.subject.startswith("Domestic abuse")]
    names = [line.split(":")[0] for line in share_text(domestic).splitlines() if re.search(r": 0\d{3}", line)]
    assert names[:3] == ["National Domestic Abuse Helpline", "Respect Phoneline", "Men's Advice Line"]


def test_the_text_to_share_stays_within_the_limit_with_many_campaigns_and_long_names(world):
    world.s.scheme_a.name = "S" * 120
    campaigns = [make_campaign(world.admin, title=f"Campaign {n}") for n in range(8)]
    db.session.commit()
    bulletin = make_bulletin(world, subject="W" * 150, campaign_version_ids=[c.id for c in campaigns])
    text = share_text(bulletin)
    assert len(text) <= SHARE_TEXT_LIMIT
    assert "Read more: http://127.0.0.1:5000/campaigns/\n" in text + "\n"  # one address for them all


def test_a_new_scheme_gets_the_short_version(app):
    scheme = make_scheme("Elm Road Watch", [])
    db.session.commit()
    assert scheme.is_bulletin_full_text is False
