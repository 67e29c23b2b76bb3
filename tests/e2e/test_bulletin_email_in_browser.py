"""The bulletin's HTML part opened as a phone's mail app shows it: the four starter bulletins at 320, 375 and
600 px wide, in light and dark mode. Nothing scrolls sideways, the preheader is the first text, the police's 999
comes before the first campaign, every phone number is one tel: link on one line, the plain-text part gives the
same numbers in the same order, text keeps 4.5:1 contrast, and pictures have their size and alt text.

Set SCREENSHOTS_DIR to keep a screenshot of each width (the README's come from here:
`SCREENSHOTS_DIR=docs/screenshots pytest tests/e2e/test_bulletin_email_in_browser.py`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from coordinator.bulletins.render import PHONE_NUMBER, render_bulletin
from coordinator.extensions import db
from coordinator.settings import SettingsChange, get_settings, update_settings
from tests.bulletins.starter import starter_bulletins
from tests.factories import make_admin

UNSUBSCRIBE = "https://watch.example.org/unsubscribe/eyJzIjo3LCJrIjoxfQ.c2lnbmF0dXJl"
WIDTHS = (320, 375, 600)

# What the page reports about itself, in one round trip per width.
MEASURE = """() => {
  const width = window.innerWidth;
  const tooWide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.preheader')) continue;
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5) tooWide.push(el.tagName + '.' + el.className + ' ' + Math.round(box.right));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let first = null;
  while (walker.nextNode()) { if (walker.currentNode.textContent.trim()) { first = walker.currentNode; break; } }
  const tels = [...document.querySelectorAll('a[href^="tel:"]')];
  const firstCampaign = document.querySelector('.campaign h2');
  const police999 = tels.find(a => a.getAttribute('href') === 'tel:999');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: width,
    tooWide,
    firstTextIsPreheader: !!(first && first.parentElement.closest('.preheader')),
    firstText: first ? first.textContent.trim().slice(0, 60) : '',
    emergencyBeforeCampaign: !!(police999 && firstCampaign &&
      (police999.compareDocumentPosition(firstCampaign) & Node.DOCUMENT_POSITION_FOLLOWING)),
    tels: tels.map(a => ({text: a.textContent, href: a.getAttribute('href'), lines: a.getClientRects().length,
                          nowrap: getComputedStyle(a).whiteSpace === 'nowrap'})),
    // Visible text outside tel: links, where a number would be one a resident cannot tap.
    otherText: (() => {
      const parts = [];
      const all = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      while (all.nextNode()) {
        const node = all.currentNode;
        if (node.parentElement.closest('a[href^="tel:"], .preheader, style, title')) continue;
        parts.push(node.textContent);
      }
      return parts.join(' ');
    })(),
  };
}"""

# Every element with text of its own: its colour against the first background behind it that is not transparent.
CONTRAST = """() => {
  const rgb = s => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(c => c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c.slice(0, 3);
      if (e.getAttribute && e.getAttribute('bgcolor')) {
        const hex = e.getAttribute('bgcolor').slice(1);
        return [0, 2, 4].map(i => parseInt(hex.slice(i, i + 2), 16));
      }
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.preheader')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const fg = lum(rgb(getComputedStyle(el).color).slice(0, 3)), bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) low.push(el.tagName + '.' + el.className + ' ' + ratio.toFixed(2) + ' ' + el.textContent.trim().slice(0, 30));
  }
  return low;
}"""


def _logo() -> bytes:
    # A plain mark: a house under an eye-shaped roof, in the association's blue, on a transparent ground.
    from PIL import ImageDraw

    logo = Image.new("RGBA", (480, 160), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    draw.ellipse((8, 8, 152, 152), fill="#1d4e89")
    draw.polygon([(40, 88), (80, 44), (120, 88)], fill="#ffffff")
    draw.rectangle((52, 88, 108, 124), fill="#ffffff")
    draw.rectangle((72, 100, 88, 124), fill="#1d4e89")
    for row, width in ((40, 300), (76, 240), (112, 270)):
        draw.rounded_rectangle((176, row, 176 + width, row + 18), radius=9, fill="#1d4e89")
    out = io.BytesIO()
    logo.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def bulletins(two_schemes):
    admin = make_admin()
    scheme = two_schemes.scheme_a
    scheme.contact_email = "hayes.watch@example.org"
    scheme.contact_phone = "020 7946 0018"
    db.session.flush()
    settings = get_settings()
    update_settings(SettingsChange(**{
        name: getattr(settings, name) for name in SettingsChange.__dataclass_fields__ if hasattr(settings, name)
    } | {"logo_upload": _logo()}))
    db.session.commit()
    return starter_bulletins(scheme, admin)


def _numbers_in_text(text: str) -> list[str]:
    # Addresses are left out: an unsubscribe token's characters are not a phone number.
    lines = [line for line in text.splitlines() if "://" not in line]
    return [" ".join(m.group().split()) for m in PHONE_NUMBER.finditer("\n".join(lines))]


def _screenshot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # A palette of 64 colours keeps the README's pictures small and the text sharp.
        shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        shot.quantize(64).save(Path(folder) / name, optimize=True)


def test_the_starter_bulletins_read_well_on_a_phone(page, bulletins):
    for bulletin in bulletins:
        rendered = render_bulletin(bulletin)
        html = rendered.html_for("Robin Ash", UNSUBSCRIBE)
        text = rendered.text_for("Robin Ash", UNSUBSCRIBE)
        summary = bulletin_summary(bulletin)
        for width in WIDTHS:
            label = f"{bulletin.subject} at {width} px"
            page.set_viewport_size({"width": width, "height": 800})
            page.set_content(html, wait_until="load")
            seen = page.evaluate(MEASURE)
            assert seen["scrollWidth"] <= seen["innerWidth"], label
            assert seen["tooWide"] == [], label
            assert seen["firstTextIsPreheader"], (label, seen["firstText"])
            assert summary.startswith(seen["firstText"].rstrip("…")[:40]), label
            assert seen["emergencyBeforeCampaign"], label
            for tel in seen["tels"]:
                assert tel["lines"] == 1 and tel["nowrap"], (label, tel)
                assert " " not in tel["text"], (label, tel)  # no-break spaces only
            assert not PHONE_NUMBER.search(seen["otherText"]), (label, PHONE_NUMBER.search(seen["otherText"]))
            html_numbers = [" ".join(tel["text"].replace("\u00a0", " ").split()) for tel in seen["tels"]]
            assert html_numbers == _numbers_in_text(text), label
            assert html_numbers[:2] == ["999", "101"], label
            # The logo loads from the app, at the size the email gives it, with its alt text.
            logo = page.locator("img.logo")
            assert logo.get_attribute("alt") == "Bromley Neighbourhood Watch Association logo"
            assert logo.get_attribute("width") == "144" and logo.get_attribute("height") == "48"
            assert logo.evaluate("img => img.naturalWidth") > 0, label
            if bulletin.subject.startswith("Domestic abuse"):
                _screenshot(page, f"bulletin-{width}.png")


def bulletin_summary(bulletin) -> str:
    from coordinator.content import services as content

    return " ".join(content.get_version(bulletin.campaign_version_ids[0]).summary.split())


@pytest.mark.parametrize("scheme_colours", ["light", "dark"])
def test_text_keeps_its_contrast_in_light_and_dark_mode(page, bulletins, scheme_colours):
    page.emulate_media(color_scheme=scheme_colours)
    page.set_viewport_size({"width": 375, "height": 800})
    for bulletin in bulletins:
        page.set_content(render_bulletin(bulletin).html_for("Robin Ash", UNSUBSCRIBE), wait_until="load")
        assert page.evaluate(CONTRAST) == [], (bulletin.subject, scheme_colours)


def test_the_full_version_fits_a_phone_too(page, bulletins):
    bulletins[0].scheme.is_bulletin_full_text = True
    db.session.commit()
    for bulletin in bulletins:
        rendered = render_bulletin(bulletin)
        html = rendered.html_for("Robin Ash", UNSUBSCRIBE)
        page.set_viewport_size({"width": 320, "height": 800})
        page.set_content(html, wait_until="load")
        seen = page.evaluate(MEASURE)
        assert seen["scrollWidth"] <= seen["innerWidth"] and seen["tooWide"] == [], bulletin.subject
        assert all(tel["lines"] == 1 for tel in seen["tels"]), bulletin.subject
        assert not PHONE_NUMBER.search(seen["otherText"]), (bulletin.subject, PHONE_NUMBER.search(seen["otherText"]))
        html_numbers = [" ".join(tel["text"].replace("\u00a0", " ").split()) for tel in seen["tels"]]
        assert html_numbers == _numbers_in_text(rendered.text_for("Robin Ash", UNSUBSCRIBE)), bulletin.subject
