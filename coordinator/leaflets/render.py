"""Leaflet rendering: plain leaflet data in, print-ready PDF bytes out.

A leaflets service builds a `LeafletData` from approved content (never ORM objects: the print template sees
only these dataclasses), then calls `render_leaflet_pdf(data, "a5", mode="home", copies=40)`. The text
is checked first (`check_leaflet_data`), then the type is fitted to the space: the leaflet is laid out once
with every panel at its layout's smallest type, each panel's share of its height filled is measured, and each
panel's type grows (within the layout's bounds) to fill it (`fit_panels`). That layout is then rendered and
must fit its layout's page count exactly (`LeafletDoesNotFit` says which layout to choose instead); it is
placed on home-printer sheets at 100% or repeated for the print shop by reference.

`render_leaflet_html` gives the same HTML for a browser preview (pass `asset_base="/static/"`).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, fields
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import segno
from flask_babel import gettext
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from coordinator.content.phones import is_police_number
from coordinator.languages import text_direction
from coordinator.leaflets.layouts import HOME, PRINT_MODES, SHOP, Layout, get_layout, home_sheet_plan, plan_print
from coordinator.leaflets.preflight import PreflightFailed, PrintRules
from coordinator.pdf import (
    ASSET_BASE_URL,
    PRINT_SHOP_VARIANT,
    STATIC_DIR,
    AssetFetcher,
    DoesNotFit,
    PDFMetadata,
    impose,
    render_pdf,
    repeat_pages,
)
from coordinator.plain_text import HIDDEN_CHARACTERS
from coordinator.wording import N_, format_day, install_gettext, printed_language, wording_in

# The top-level templates/ folder: coordinator/templates links to it in a checkout and is a copy in the wheel.
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "print/leaflet.html"

POLICE_EMERGENCY = "999"
POLICE_NON_EMERGENCY = "101"
# 101 is not free: 15p a call from landlines and mobiles, however long it lasts. Never print "free" beside it.
POLICE_NON_EMERGENCY_COST = N_("15p a call")
POLICE_WEB = "www.met.police.uk"
# The outside of the folded wallet card: it may be seen by the person a resident needs help with.
WALLET_FRONT_TITLE = N_("Free, confidential support")
WALLET_FRONT_TEXT = N_("Numbers you can call, day or night, are inside.")
# The outside of a leaflet marked sensitive (domestic abuse, sexual violence): the subject is on the inside.
NEUTRAL_TITLE = N_("Support for you and your neighbours")
NEUTRAL_TEXT = N_("Free, confidential help, and how to reach the police.")
# The folded A4's flap, in the association's own words (its three objectives).
ABOUT_WATCH = N_(
    "Neighbourhood Watch volunteers help prevent crime, help the police detect it, and reduce the fear of "
    "crime, with a caring community that looks out for its more vulnerable neighbours."
)
DEFAULT_BRAND_COLOUR = "#1d4e89"
_BRAND_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# Type fitting: each panel's type is its layout's smallest times --fit, in steps of FIT_STEP, up to the
# layout's max_fit. FIT_SAFETY keeps the estimate a little short of full, as wrapping text grows in steps.
FIT_STEP = 0.05
FIT_SAFETY = 0.97
# Growth of a panel's content with its type: lines that do not wrap grow with the size, wrapping paragraphs
# with its square (longer lines, and more of them). The square never overshoots on the starter leaflets, so the
# first render is the last (1.5 overshot on 9 of the 24 and each overshoot costs a render more).
FIT_EXPONENT = 2.0
# Which layouts show who each helpline is for, the campaign picture, and the key messages: at 12 pt the A6
# postcard has room for the headline, its call to action and the numbers only.
SHOWS_WHO_FOR = frozenset({"a5", "a4", "a4-folded"})
POLICE_ON_FRONT = frozenset({"a6"})  # the back of the A6 postcard is all numbers
HAS_PICTURE = frozenset({"a5", "a4", "a4-folded"})
SHOWS_KEY_MESSAGES = frozenset({"a5", "a4", "dl", "a4-folded"})

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
# The fixed words ({{ _("Police") }}) in the language `wording_in` chose: coordinator/wording.py.
install_gettext(_jinja)


class LeafletError(ValueError):
    """The leaflet cannot be made from this data; the message says what to change."""


class LeafletDoesNotFit(LeafletError):
    """The leaflet's text does not fit its layout."""


class LeafletPreflightFailed(LeafletError):
    """The laid-out leaflet breaks a print rule (coordinator/leaflets/preflight.py); `fields` maps each leaflet field
    (the template's data-field) to its first message, "" the rest."""

    def __init__(self, message: str, fields: dict[str, str]):
        super().__init__(message)
        self.fields = fields

    def __reduce__(self):
        # Renders run in a render process and their refusals come back pickled: keep the fields too.
        return type(self), (str(self), self.fields)


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
    # The association's short address for the campaign (PUBLIC_BASE_URL/c/<slug>): printed and opened by the QR
    # code instead of the campaign's own, longer, web address.
    short_address: str = ""
    signup_address: str = ""  # the scheme's bulletin sign-up page (/join/<scheme>), when the leaflet carries it
    is_sensitive: bool = False  # domestic abuse, sexual violence: a neutral outside, the subject inside
    brand_colour: str = DEFAULT_BRAND_COLOUR  # "#rrggbb", white text on it at 4.5:1 or more
    logo_src: str = ""  # the association's logo as an image data: URI
    picture_src: str = ""  # the campaign's approved picture as an image data: URI
    picture_alt: str = ""
    # A bilingual leaflet: the same message in a second language, printed beside or behind this one
    # (coordinator/leaflets/bilingual.py); its own texts and language, the rest of it as this one's.
    second: LeafletData | None = None
    # The language its fixed words print in when it was made ("en" until the association approves its language's
    # wording: coordinator/wording.py printed_language): part of every cache key, so an approval makes new files.
    wording: str = ""


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
    if not _BRAND_COLOUR.fullmatch(data.brand_colour):
        raise LeafletError(f"{data.brand_colour[:20]!r} is not a colour such as #1d4e89.")
    if not _LANGUAGE.fullmatch(data.language):
        raise LeafletError(f"{data.language[:20]!r} is not a language tag such as en-GB.")
    if data.second is not None:
        check_leaflet_data(data.second)


def helpline_hours(helpline: LeafletHelpline, *, says_free: bool = True) -> str:
    """The line under a helpline's number: free to call (unless the heading says so for all), and when it is open."""
    parts = [gettext("Free")] if helpline.is_free and says_free else []
    if helpline.is_24_7:
        parts.append(gettext("24 hours, 7 days"))
    elif helpline.hours:
        parts.append(helpline.hours)
    return " · ".join(parts)


def web_address_display(web_address: str) -> str:
    """The web address as printed: without the https:// people need not type, nor a trailing slash."""
    return _SCHEME.sub("", web_address).rstrip("/")


def qr_target(web_address: str) -> str:
    """What the QR code opens: the web address, with https:// when the campaign gave none."""
    return web_address if _SCHEME.match(web_address) else f"https://{web_address}"


MAX_WHOLE_PIECE = 28  # characters of an address between breaks that always fit a line of the narrowest panel
# In running text: a phone number, groups of digits with single spaces between ("0808 2000 247", "116 123"),
# or an email or web address (a word with dots or an @ inside it, such as bickley.park@example.org).
_PHONE_NUMBER = r"(?<![\w£])\+?\d{2,5}(?: \d{2,6}){1,3}(?!\w)"
_ADDRESS = r"(?<!\S)(?:https?://)?[\w-]+(?:[.@][\w-]+)+(?:/[^\s]*)?"
_IN_RUNNING_TEXT = re.compile(f"(?P<number>{_PHONE_NUMBER})|(?P<address>{_ADDRESS})")


def numbers_kept_whole(text: str) -> Markup:
    """`text` escaped, each phone number in it one unbreakable unit and each address breakable only after / . @.

    Both are wrapped in `<span class="number">` (never broken across lines: common.css); an address's pieces
    are each such a span, with a zero-width space after each / . or @ where a line may break.
    """
    out, last = [], 0
    for match in _IN_RUNNING_TEXT.finditer(text):
        found = match.group()
        if match.group("address"):
            found = found.rstrip(".,;:!?)")
        out.append(escape(text[last:match.start()]))
        if match.group("number"):
            # white-space: nowrap keeps it whole; plain spaces keep it the same text when read back or searched.
            out.append(Markup('<span class="number">{}</span>').format(found))
        else:
            out.append(address_breakable(found))
        last = match.start() + len(found)
    out.append(escape(text[last:]))
    return Markup("").join(out)


_jinja.filters["numbers_kept_whole"] = numbers_kept_whole
_jinja.filters["text_direction"] = text_direction
SCRIPTS_STYLESHEET = "print/scripts.css"


def address_breakable(address: str) -> Markup:
    """A printed web address that may break only after a / or a ., never inside a word or at a hyphen.

    Each piece up to a / or . is kept on one line; a zero-width space after it is where a line may break. A
    piece too long for any line (a campaign's slug made from a long title) may also break at its hyphens.
    """
    pieces = [piece for piece in re.split(r"(?<=[/.@])", address) if piece]
    return Markup("\u200b").join(
        Markup('<span class="{}">{}</span>').format("number" if len(piece) <= MAX_WHOLE_PIECE else "piece", piece)
        for piece in pieces
    )


def printed_helplines(data: LeafletData) -> tuple[LeafletHelpline, ...]:
    """The helplines printed in the helpline block: all but 999, 101 and 112, which the police block carries."""
    # The police block always prints these; a helpline set that lists them would print them twice.
    return tuple(h for h in data.helplines if not is_police_number(h.number_display))


def _small_print(data: LeafletData, layout: Layout) -> str:
    # The wallet card has room for the date and reference only.
    parts = [data.footer_text] if data.footer_text and layout.key != "wallet" else []
    parts.append(gettext("Printed %(date)s", date=format_day(data.printed_on, printed_language(data.language))))
    parts.append(gettext("Ref %(reference)s", reference=data.reference))
    return " · ".join(parts)


def _resolve(layout: Layout | str, is_large_print: bool) -> Layout:
    layout = get_layout(layout) if isinstance(layout, str) else layout
    if is_large_print and not layout.has_large_print:
        raise LeafletError(f"Large print is for the A5, A4, DL and folded A4 layouts, not {layout.short_name}.")
    return layout


def is_discreet(data: LeafletData, layout: Layout) -> bool:
    """The leaflet's outside is neutral: it is marked sensitive, or it is the wallet card (always discreet)."""
    return data.is_sensitive or layout.key == "wallet"


def panel_roles(layout: Layout) -> tuple[str, ...]:
    """Every panel of the layout, front side first, left to right."""
    return tuple(role for side in layout.panels for role in side)


def _inline_css(data: LeafletData, layout: Layout, fits: dict[str, float] | None) -> str:
    # One small style block: the brand colour and each panel's type size. The preview's CSP allows it by hash.
    rules = [f":root{{--accent:{data.brand_colour.lower()};--rule:{data.brand_colour.lower()}}}"]
    for role in panel_roles(layout):
        rules.append(f".panel-{role}{{--fit:{(fits or {}).get(role, 1.0):.2f}}}")
    return "".join(rules)


def leaflet_context(
    data: LeafletData,
    layout: Layout | str,
    *,
    is_large_print: bool = False,
    asset_base: str = ASSET_BASE_URL,
    fits: dict[str, float] | None = None,
) -> dict:
    """The print template's context: the data, the layout, and what the renderer adds (police, QR, small print)."""
    layout = _resolve(layout, is_large_print)
    helplines = printed_helplines(data)
    # After the layout's: London's scripts and right-to-left leaflets (print/scripts.css), measured as printed.
    hrefs = [asset_base + layout.stylesheet, asset_base + SCRIPTS_STYLESHEET]
    if is_large_print:
        hrefs.append(asset_base + "print/large-print.css")
    address = data.short_address or data.web_address
    shown = web_address_display(address)
    signup = web_address_display(data.signup_address)
    discreet = is_discreet(data, layout)
    half = math.ceil(len(helplines) / 2)
    return {
        "leaflet": data,
        "layout": layout,
        "is_large_print": is_large_print,
        "is_sensitive": discreet,
        "stylesheet_hrefs": hrefs,
        "inline_css": Markup(_inline_css(data, layout, fits)),
        "title": gettext(WALLET_FRONT_TITLE) if layout.key == "wallet" else gettext(NEUTRAL_TITLE) if discreet
        else data.headline,
        # Key messages or, when there are none, the summary: both would crowd out the helplines.
        "show_summary": bool(data.summary) and not data.key_messages,
        # "#ITSNOTOK: ..." as the headline already shows its hashtag.
        "show_hashtag": bool(data.hashtag) and data.hashtag.casefold() not in data.headline.casefold(),
        "are_all_free": bool(helplines) and all(h.is_free for h in helplines),
        "qr_src": qr_data_uri(qr_target(address)) if address and layout.key != "wallet" else "",
        "helplines": helplines,
        "wallet_halves": (helplines[:half], helplines[half:]),
        "compact_from": COMPACT_HELPLINES_FROM,
        "helpline_hours": helpline_hours,
        "small_print": _small_print(data, layout),
        "contact_line": numbers_kept_whole(data.contact_line),
        "web_address_display": shown if layout.key != "wallet" else "",
        "web_address_breakable": address_breakable(shown),
        "signup_display": signup,
        "signup_breakable": address_breakable(signup),
        "signup_qr_src": qr_data_uri(data.signup_address) if data.signup_address and layout.key != "wallet" else "",
        "layout_shows_who_for": layout.key in SHOWS_WHO_FOR,
        "layout_has_picture": layout.key in HAS_PICTURE,
        "layout_shows_key_messages": layout.key in SHOWS_KEY_MESSAGES,
        "police_on_front": layout.key in POLICE_ON_FRONT,
        "police_emergency": POLICE_EMERGENCY,
        "police_non_emergency": POLICE_NON_EMERGENCY,
        "police_non_emergency_cost": gettext(POLICE_NON_EMERGENCY_COST),
        "police_web": POLICE_WEB,
        # The language the fixed words print in ("en" until the leaflet's language is approved): print/scripts.css
        # sets English fixed words left to right inside a right-to-left leaflet, approved ones right to left.
        "wording_language": printed_language(data.language),
        "neutral_title": gettext(NEUTRAL_TITLE),
        "neutral_text": gettext(NEUTRAL_TEXT),
        "about_watch": gettext(ABOUT_WATCH),
        "wallet_front_title": gettext(WALLET_FRONT_TITLE),
        "wallet_front_text": gettext(WALLET_FRONT_TEXT),
    }


def render_print_html(template_name: str, **context: object) -> str:
    """A print template (templates/print/...) rendered outside any request, autoescaped, for the PDF engine."""
    return _jinja.get_template(template_name).render(context)


def _leaflet_html(data: LeafletData, layout: Layout, is_large_print: bool, asset_base: str,
                  fits: dict[str, float] | None) -> str:
    if data.second is not None:
        from coordinator.leaflets.bilingual import bilingual_html  # it builds on this module

        return bilingual_html(data, layout, is_large_print, asset_base, fits)
    # Its fixed words in its language once the association approved them, else in English.
    with wording_in(data.language):
        context = leaflet_context(data, layout, is_large_print=is_large_print, asset_base=asset_base, fits=fits)
        return _jinja.get_template(TEMPLATE_NAME).render(context)


def render_leaflet_html(
    data: LeafletData, layout: Layout | str, *, is_large_print: bool = False, asset_base: str = ASSET_BASE_URL
) -> str:
    """The leaflet's HTML with its type fitted, for the PDF or (with asset_base="/static/") a browser preview."""
    check_leaflet_data(data)
    layout = _resolve(layout, is_large_print)
    fits = fit_panels(data, layout, is_large_print)
    return _leaflet_html(data, layout, is_large_print, asset_base, fits)


# --- Type that fits the space ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFill:
    """How much of one panel's height its content takes, laid out at the layout's smallest type."""

    role: str
    used: float  # points
    room: float  # points

    @property
    def share(self) -> float:
        """Used over room: above 1.0 the content does not fit."""
        return self.used / self.room if self.room else 0.0


def _panel_fills(document) -> dict[str, PanelFill]:
    # Each panel is a flex column: its main part, then its end pushed to the foot. Their heights as laid out
    # (not their positions, which the flex container spreads) are what the content needs. A panel that ran onto
    # another page is measured on both: its share is then over 1.
    fills: dict[str, PanelFill] = {}

    def walk(box):
        element = getattr(box, "element", None)
        role = element.get("data-panel") if element is not None and getattr(box, "element_tag", "") == "div" else None
        if role and box.height is not None:
            used = sum(child.margin_height() for child in box.children)
            before = fills.get(role)
            fills[role] = PanelFill(role, used + (before.used if before else 0), before.room if before else box.height)
            return
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return fills


def _layout_fills(data: LeafletData, layout: Layout, is_large_print: bool, fits: dict[str, float] | None):
    from weasyprint import HTML

    from coordinator.pdf import _font_configuration  # the renderer's own, so the bundled fonts load once

    html = _leaflet_html(data, layout, is_large_print, ASSET_BASE_URL, fits)
    document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=AssetFetcher()).render(
        font_config=_font_configuration()
    )
    return len(document.pages), _panel_fills(document)


def measure_panels(data: LeafletData, layout: Layout | str, is_large_print: bool = False) -> dict[str, PanelFill]:
    """Lay the leaflet out once (no PDF) at its smallest type and measure each panel's fill.

    LeafletDoesNotFit when even the smallest type runs over a panel.
    """
    layout = _resolve(layout, is_large_print)
    pages, measured = _first_layout(data, layout.key, is_large_print)
    fills = dict(measured)
    if pages != layout.pages or any(fill.share > 1.0 + 1e-3 for fill in fills.values()):
        raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print))
    return fills


@lru_cache(maxsize=64)
def _first_layout(data: LeafletData, layout_key: str, is_large_print: bool) -> tuple[int, tuple]:
    # The builder's preview, its pictures of each side and the PDF are the same leaflet: measured once.
    pages, fills = _layout_fills(data, get_layout(layout_key), is_large_print, None)
    return pages, tuple(fills.items())


def _grown(share: float, exponent: float, layout: Layout) -> float:
    if share <= 0:
        return layout.max_fit
    grow = (1 / share) ** (1 / exponent) * FIT_SAFETY
    steps = math.floor((min(grow, layout.max_fit) - 1.0) / FIT_STEP + 1e-9)
    return round(1.0 + max(0, steps) * FIT_STEP, 2)


def fit_for(fill: PanelFill, layout: Layout) -> float:
    """The type size, as a multiple of the smallest, that fills the panel (its area grows as the size squared)."""
    return _grown(fill.share, FIT_EXPONENT, layout)


def refit(first: dict[str, PanelFill], fits: dict[str, float], now: dict[str, PanelFill], layout: Layout):
    """Better sizes for the panels that ran over at `fits`, from how much their content grew since the first layout.

    Two layouts give each panel's own growth (its exponent); panels that fitted keep their size.
    """
    refitted = {}
    for role, fit in fits.items():
        fill = now.get(role)
        if fill is None or fill.share <= FIT_SAFETY or fit <= 1.0:
            refitted[role] = fit
            continue
        exponent = max(1.0, math.log(fill.share / first[role].share) / math.log(fit))
        refitted[role] = min(round(fit - FIT_STEP, 2), _grown(first[role].share, exponent, layout))
    return refitted


def fit_panels(data: LeafletData, layout: Layout, is_large_print: bool = False) -> dict[str, float]:
    """Each panel's type size (a multiple of the layout's smallest) that fills it, from one measured layout."""
    return {role: fit_for(fill, layout) for role, fill in measure_panels(data, layout, is_large_print).items()}


def leaflet_metadata(data: LeafletData, layout: Layout | str) -> PDFMetadata:
    """Title, author, subject and language of the leaflet's PDF."""
    layout = get_layout(layout) if isinstance(layout, str) else layout
    discreet = is_discreet(data, layout)
    with wording_in(data.language):
        title = gettext(WALLET_FRONT_TITLE) if layout.key == "wallet" else gettext(NEUTRAL_TITLE) if discreet \
            else data.headline
    subject = f"{layout.label[:1].upper()}{layout.label[1:]}"
    if data.hashtag and not discreet:
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


def preflight_rules(layout: Layout, is_large_print: bool) -> PrintRules:
    """What every leaflet is checked against as it is laid out: its format's smallest body type as printed (14 pt
    in large print), 8 pt small print, and the rules every leaflet meets (preflight.py)."""
    if layout.key == "wallet":
        # The folded card's association name prints at 8 pt, under its 9 pt: its type size is not checked until
        # the design lifts it; every other rule is.
        return PrintRules(min_text_pt=None)
    return PrintRules(min_text_pt=14.0 if is_large_print else layout.min_body_pt, min_small_print_pt=8.0)


def _fitted_pdf(data: LeafletData, layout: Layout, is_large_print: bool, stylesheets: list[str],
                variant: str | None) -> bytes:
    first = measure_panels(data, layout, is_large_print)
    fits = {role: fit_for(fill, layout) for role, fill in first.items()}
    smallest = dict.fromkeys(fits, 1.0)
    for attempt in range(1, 4):
        html = _leaflet_html(data, layout, is_large_print, ASSET_BASE_URL, fits)
        try:
            return render_pdf(html, stylesheets, metadata=leaflet_metadata(data, layout), variant=variant,
                              expected_pages=layout.pages, preflight=preflight_rules(layout, is_large_print))
        except PreflightFailed as error:
            raise LeafletPreflightFailed(str(error), error.fields) from error
        except DoesNotFit as error:
            if fits == smallest:
                raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print)) from error
            # The estimate overshot (this panel's text wraps more as it grows): measure again and refit the
            # panels that ran over. If none did (a word or number grown wider than its line), step every grown
            # panel back; after two tries, the smallest type, which the first measure showed fits.
            _, now = _layout_fills(data, layout, is_large_print, fits)
            refitted = refit(first, fits, now, layout)
            if refitted == fits:
                refitted = {role: max(1.0, round(fit - 4 * FIT_STEP, 2)) for role, fit in fits.items()}
            fits = refitted if attempt < 2 else smallest
    raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print))


def render_leaflet_sides(data: LeafletData, layout: Layout | str, *, is_large_print: bool = False) -> bytes:
    """The leaflet's own sides at trim size, one page each, no bleed and no sheet: for pictures of it.

    The same fitted layout as the printed file; the builder's thumbnails and the golden pictures are made from it.
    """
    check_leaflet_data(data)
    layout = _resolve(layout, is_large_print)
    return _fitted_pdf(data, layout, is_large_print, [], None)


def render_leaflet_pdf(
    data: LeafletData, layout: Layout | str, *, mode: str = HOME, copies: int = 1, is_large_print: bool = False
) -> bytes:
    """The print-ready PDF of `copies` of the leaflet: A4 home-printer sheets, or trim size with bleed for a shop.

    Raises LeafletError for unprintable text and LeafletDoesNotFit when the text is too long for the layout.
    """
    if mode not in PRINT_MODES:
        raise LeafletError(f"Unknown print mode {mode!r}: choose home or shop.")
    check_leaflet_data(data)
    layout = _resolve(layout, is_large_print)
    plan = plan_print(layout, mode, copies)
    # Sheets of several copies draw the leaflet through repeated form XObjects, which a structure tree
    # cannot describe, so they are rendered untagged; a file of whole leaflets is tagged (PDF/UA), but for a print
    # shop, whose file is PDF/X-4 (output intent, bleed and crop marks: coordinator/pdf.py).
    is_sheet = mode == HOME and layout.home_grid is not None
    pdf = _fitted_pdf(
        data, layout, is_large_print, ["print/shop.css"] if mode == SHOP else [],
        PRINT_SHOP_VARIANT if mode == SHOP else None if is_sheet else PDF_VARIANT,
    )
    if is_sheet:
        return impose(pdf, home_sheet_plan(layout), sheets=plan.sheets)
    return repeat_pages(pdf, plan.sheets)
