"""Leaflet rendering: plain leaflet data in, print-ready PDF bytes out.

A leaflets service builds a `LeafletData` from approved content (never ORM objects: the print template sees
only these dataclasses), then calls `render_leaflet_pdf(data, "a5", mode="home", copies=40)`. The text
is checked first (`check_leaflet_data`), the leaflet is laid out once at its trim size and must fit its
layout's page count exactly (`LeafletDoesNotFit` says which layout to choose instead), then it is placed on
home-printer sheets or repeated for the print shop by reference.

`render_leaflet_html` gives the same HTML for a browser preview (pass `asset_base="/static/"`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, fields
from datetime import date
from functools import cache
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from coordinator.content.phones import is_police_number
from coordinator.leaflets.layouts import HOME, PRINT_MODES, SHOP, Layout, get_layout, home_sheet_plan, plan_print
from coordinator.pdf import (
    ASSET_BASE_URL,
    PRINT_SHOP_VARIANT,
    STATIC_DIR,
    DoesNotFit,
    PDFMetadata,
    impose,
    render_pdf,
    repeat_pages,
)
from coordinator.plain_text import HIDDEN_CHARACTERS

# The top-level templates/ folder: coordinator/templates links to it in a checkout and is a copy in the wheel.
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "print/leaflet.html"

POLICE_EMERGENCY = "999"
POLICE_NON_EMERGENCY = "101"
# The outside of the wallet card: it may be seen by the person a resident needs help with.
WALLET_FRONT_TITLE = "Free, confidential support"
WALLET_FRONT_TEXT = "Numbers you can call are inside."

PDF_VARIANT = "pdf/ua-1"  # tagged for screen readers; measured at no extra cost (bench/leaflets.py)
MAX_NUMBER_CHARS = 30
COMPACT_HELPLINES_FROM = 4  # more helplines than this are listed one to a row
MAX_WEB_ADDRESS_CHARS = 300

# Print templates are rendered outside any request (CLI, background jobs, the benchmark), always with
# autoescaping and with a missing value as an error rather than a silent blank on paper.
_jinja = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class LeafletError(ValueError):
    """The leaflet cannot be made from this data; the message says what to change."""


class LeafletDoesNotFit(LeafletError):
    """The leaflet's text does not fit its layout."""


@dataclass(frozen=True)
class LeafletHelpline:
    """One helpline as printed: the number as people dial it, when it is open, who it is for."""

    name: str
    number_display: str
    hours: str = ""
    who_for: str = ""
    is_free: bool = False
    is_24_7: bool = False


@dataclass(frozen=True)
class LocalNotice:
    """An approved local notice printed below the campaign's messages."""

    title: str
    body: str


@dataclass(frozen=True)
class LeafletData:
    """Everything one leaflet prints, as plain values. The police block (999, 101) is always added."""

    headline: str
    printed_on: date
    reference: str  # short reference to the exact content versions: content_reference(...)
    key_messages: tuple[str, ...] = ()
    summary: str = ""
    call_to_action: str = ""
    hashtag: str = ""
    web_address: str = ""  # "www.example.org/page" or with https://; printed, and opened by the QR code
    helplines: tuple[LeafletHelpline, ...] = ()
    local_notice: LocalNotice | None = None
    contact_line: str = ""  # the scheme's chosen way to reach its coordinator
    association_name: str = ""
    footer_text: str = ""
    language: str = "en-GB"


def content_reference(**versions: object) -> str:
    """A short, stable reference to the exact content versions a leaflet uses, e.g. campaign=12, helplines=4."""
    text = "&".join(f"{name}={versions[name]}" for name in sorted(versions))
    digest = hashlib.sha256(text.encode()).hexdigest()[:8].upper()
    return f"{digest[:4]}-{digest[4:]}"


@cache
def template_version() -> str:
    """A digest of the print templates, stylesheets and fonts: part of any cache key for rendered PDFs."""
    digest = hashlib.sha256()
    paths = [*sorted((TEMPLATES_DIR / "print").glob("*.html")), *sorted((STATIC_DIR / "print").glob("*.css"))]
    paths += sorted((STATIC_DIR / "fonts").glob("*.ttf"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def qr_data_uri(web_address: str) -> str:
    """An SVG QR code of `web_address` as a data: URI (the PDF fetcher accepts image data: URIs only)."""
    # omitsize gives the SVG a viewBox and no fixed size, so the stylesheet sets its printed size.
    return segno.make(web_address, micro=False, error="m").svg_data_uri(border=4, omitsize=True)


_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
# A web address as campaigns give it: "www.met.police.uk/advice" or with its https:// (or http://).
_WEB_ADDRESS = re.compile(r"(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?(/[^\s<>\"'\\]*)?", re.IGNORECASE)
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)


def _texts(data: LeafletData):
    for item in fields(data):
        value = getattr(data, item.name)
        if isinstance(value, str):
            yield item.name.replace("_", " "), value
    for message in data.key_messages:
        yield "key message", message
    for helpline in data.helplines:
        for item in fields(helpline):
            value = getattr(helpline, item.name)
            if isinstance(value, str):
                yield f"helpline {item.name.replace('_', ' ')}", value
    if data.local_notice:
        yield "local notice title", data.local_notice.title
        yield "local notice", data.local_notice.body


def check_leaflet_data(data: LeafletData) -> None:
    """Raise LeafletError, naming the field, for text that cannot be printed as it is."""
    if not data.headline.strip():
        raise LeafletError("A leaflet needs a headline.")
    for name, value in _texts(data):
        # The rule the forms apply as text is typed; content from a pack or an older version meets it here.
        if HIDDEN_CHARACTERS.search(value):
            raise LeafletError(
                f"The {name} contains hidden control characters (such as a right-to-left "
                f"override) that could change how it prints: remove them."
            )
    for helpline in data.helplines:
        if not helpline.name.strip() or not helpline.number_display.strip():
            raise LeafletError("Every helpline needs a name and a number.")
        if len(helpline.number_display) > MAX_NUMBER_CHARS:
            raise LeafletError(f"The number of {helpline.name[:40]} is longer than {MAX_NUMBER_CHARS} characters.")
    if data.web_address and not (
        len(data.web_address) <= MAX_WEB_ADDRESS_CHARS and _WEB_ADDRESS.fullmatch(data.web_address)
    ):
        raise LeafletError(
            "The web address must be a site address such as www.example.org/page (https:// may "
            f"come first), with no spaces, at most {MAX_WEB_ADDRESS_CHARS} characters."
        )
    if not _LANGUAGE.fullmatch(data.language):
        raise LeafletError(f"{data.language[:20]!r} is not a language tag such as en-GB.")


def helpline_hours(helpline: LeafletHelpline, *, says_free: bool = True) -> str:
    """The line under a helpline's number: free to call (unless the heading says so for all), and when it is open."""
    parts = ["Free"] if helpline.is_free and says_free else []
    if helpline.is_24_7:
        parts.append("24 hours, 7 days")
    elif helpline.hours:
        parts.append(helpline.hours)
    return " · ".join(parts)


def web_address_display(web_address: str) -> str:
    """The web address as printed: without the https:// people need not type."""
    return _SCHEME.sub("", web_address)


def qr_target(web_address: str) -> str:
    """What the QR code opens: the web address, with https:// when the campaign gave none."""
    return web_address if _SCHEME.match(web_address) else f"https://{web_address}"


def printed_helplines(data: LeafletData) -> tuple[LeafletHelpline, ...]:
    """The helplines printed in the helpline block: all but 999, 101 and 112, which the police block carries."""
    # The police block always prints these; a helpline set that lists them would print them twice.
    return tuple(h for h in data.helplines if not is_police_number(h.number_display))


def _small_print(data: LeafletData, layout: Layout) -> str:
    # The wallet card has room for the date and reference only.
    parts = [data.footer_text] if data.footer_text and layout.key != "wallet" else []
    parts.append(f"Printed {data.printed_on.day} {data.printed_on:%B %Y}")
    parts.append(f"Ref {data.reference}")
    return " · ".join(parts)


def _resolve(layout: Layout | str, is_large_print: bool) -> Layout:
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if is_large_print and not layout.has_large_print:
        raise LeafletError(f"Large print is for the A5, A4 and DL layouts, not {layout.short_name}.")
    return layout


def leaflet_context(
    data: LeafletData, layout: Layout | str, *, is_large_print: bool = False, asset_base: str = ASSET_BASE_URL
) -> dict:
    """The print template's context: the data, the layout, and what the renderer adds (police, QR, small print)."""
    layout = _resolve(layout, is_large_print)
    helplines = printed_helplines(data)
    hrefs = [asset_base + layout.stylesheet]
    if is_large_print:
        hrefs.append(asset_base + "print/large-print.css")
    return {
        "leaflet": data,
        "layout": layout,
        "is_large_print": is_large_print,
        "stylesheet_hrefs": hrefs,
        "title": WALLET_FRONT_TITLE if layout.key == "wallet" else data.headline,
        # Key messages or, when there are none, the summary: both would crowd out the helplines.
        "show_summary": bool(data.summary) and not data.key_messages,
        # "#ITSNOTOK: ..." as the headline already shows its hashtag.
        "show_hashtag": bool(data.hashtag) and data.hashtag.casefold() not in data.headline.casefold(),
        "are_all_free": bool(helplines) and all(h.is_free for h in helplines),
        "qr_src": qr_data_uri(qr_target(data.web_address)) if data.web_address and layout.key != "wallet" else "",
        "helplines": helplines,
        "compact_from": COMPACT_HELPLINES_FROM,
        "helpline_hours": helpline_hours,
        "small_print": _small_print(data, layout),
        "web_address_display": web_address_display(data.web_address),
        "police_emergency": POLICE_EMERGENCY,
        "police_non_emergency": POLICE_NON_EMERGENCY,
        "wallet_front_title": WALLET_FRONT_TITLE,
        "wallet_front_text": WALLET_FRONT_TEXT,
    }


def render_print_html(template_name: str, **context: object) -> str:
    """A print template (templates/print/...) rendered outside any request, autoescaped, for the PDF engine."""
    return _jinja.get_template(template_name).render(context)


def render_leaflet_html(
    data: LeafletData, layout: Layout | str, *, is_large_print: bool = False, asset_base: str = ASSET_BASE_URL
) -> str:
    """The leaflet's HTML, for the PDF or (with asset_base="/static/") for a browser preview."""
    check_leaflet_data(data)
    context = leaflet_context(data, layout, is_large_print=is_large_print, asset_base=asset_base)
    return _jinja.get_template(TEMPLATE_NAME).render(context)


def leaflet_metadata(data: LeafletData, layout: Layout | str) -> PDFMetadata:
    """Title, author, subject and language of the leaflet's PDF."""
    layout = get_layout(layout) if isinstance(layout, str) else layout
    title = WALLET_FRONT_TITLE if layout.key == "wallet" else data.headline
    subject = f"{layout.label[:1].upper()}{layout.label[1:]}"
    if data.hashtag and layout.key != "wallet":
        subject += f" {data.hashtag}"
    return PDFMetadata(
        title=title[:300],
        author=data.association_name or "Neighbourhood Watch",
        subject=subject[:300],
        language=data.language,
    )


def _does_not_fit_message(layout: Layout, is_large_print: bool) -> str:
    name = f"{layout.short_name} in large print" if is_large_print else layout.short_name
    if is_large_print and layout.larger is None:
        return f"Too long for {name}: turn off large print or shorten the text."
    if layout.larger is None:
        return f"Too long for {name}: shorten the text."
    return f"Too long for {name}: choose {get_layout(layout.larger).short_name}."


def render_leaflet_pdf(
    data: LeafletData, layout: Layout | str, *, mode: str = HOME, copies: int = 1, is_large_print: bool = False
) -> bytes:
    """The print-ready PDF of `copies` of the leaflet: A4 home-printer sheets, or trim size with bleed for a shop.

    Raises LeafletError for unprintable text and LeafletDoesNotFit when the text is too long for the layout.
    """
    if mode not in PRINT_MODES:
        raise LeafletError(f"Unknown print mode {mode!r}: choose home or shop.")
    layout = _resolve(layout, is_large_print)
    plan = plan_print(layout, mode, copies)
    html = render_leaflet_html(data, layout, is_large_print=is_large_print)
    # Sheets of several copies draw the leaflet through repeated form XObjects, which a structure tree
    # cannot describe, so they are rendered untagged; a file of whole leaflets is tagged (PDF/UA), but for a print
    # shop, whose file is PDF/X-4 (output intent, bleed and crop marks: coordinator/pdf.py).
    is_sheet = mode == HOME and layout.home_grid is not None
    try:
        pdf = render_pdf(
            html,
            ["print/shop.css"] if mode == SHOP else [],
            metadata=leaflet_metadata(data, layout),
            variant=PRINT_SHOP_VARIANT if mode == SHOP else None if is_sheet else PDF_VARIANT,
            expected_pages=layout.pages,
        )
    except DoesNotFit as error:
        raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print)) from error
    if is_sheet:
        return impose(pdf, home_sheet_plan(layout), sheets=plan.sheets)
    return repeat_pages(pdf, plan.sheets)
