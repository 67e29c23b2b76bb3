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
import logging
import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import cache, lru_cache
from pathlib import Path

import segno
from flask_babel import gettext
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from coordinator.content.phones import POLICE_NON_EMERGENCY_COST, is_police_number
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
    asset_url,
    impose,
    render_pdf,
    repeat_pages,
    resolve_asset,
)
from coordinator.plain_text import HIDDEN_CHARACTERS
from coordinator.wording import N_, format_day, install_gettext, printed_language, wording_in

log = logging.getLogger(__name__)

# The top-level templates/ folder: coordinator/templates links to it in a checkout and is a copy in the wheel.
TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
TEMPLATE_NAME = "print/leaflet.html"

POLICE_EMERGENCY = "999"
POLICE_NON_EMERGENCY = "101"
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
# layout's max_fit. The fitting lays the leaflet out once in the measuring layout (print/measuring.css) and
# estimates the sizes (fit_panels); where the print runs over, MEASURES - 1 more find sizes that fit (_refit).
FIT_STEP = 0.05
MEASURES = 3
MEASURING_STYLESHEET = "print/measuring.css"
# The estimate fills a panel to FIRST_TARGET of its height: wrapping text grows in steps of a line, and the end of
# the panel keeps a little air above it. It ran over on 1 of the 34 starter leaflets' formats and print sizes.
# A second estimate, from two measures, aims at FILL_TARGET.
FIRST_TARGET = 0.92
FILL_TARGET = 0.97
WIDEN_SAFETY = 0.95
PARAGRAPH_WASTE = 0.08
# Growth of a panel's content with its type, the first estimate: lines that do not wrap grow with the size,
# wrapping paragraphs with its square (longer lines, and more of them). The QR code and the addresses keep their
# size, so a panel with them grows more slowly; its second measure gives the panel's own exponent, kept between
# these bounds.
FIT_EXPONENT = 2.0
MIN_EXPONENT = 0.5
MAX_EXPONENT = 3.0
# Which layouts print the short form of who each helpline is for (who_for_line), the campaign picture, and the
# key messages: at 12 pt the A6 postcard has room for the headline, its call to action and the numbers only.
SHORT_WHO_FOR = frozenset({"dl", "a6", "wallet"})
# A neutral outside with room for what the Watch is (the folded A4 has its flap for it; not the DL in large print).
ABOUT_ON_NEUTRAL_FRONT = frozenset({"a5", "dl"})
NO_HASHTAG = frozenset({"a6"})  # the headline says it: the postcard's room is for the numbers
POLICE_ON_FRONT = frozenset({"a6"})  # the back of the A6 postcard is all numbers
HAS_PICTURE = frozenset({"a5", "a4", "a4-folded"})
SHOWS_KEY_MESSAGES = frozenset({"a5", "a4", "dl", "a4-folded"})

PDF_VARIANT = "pdf/ua-1"  # tagged for screen readers; measured at no extra cost (bench/leaflets.py)
MAX_NUMBER_CHARS = 30
COMPACT_HELPLINES_FROM = 4  # more helplines than this are listed one to a row
# So few helplines that they are listed one under another, their numbers free to grow across the panel, and a
# sensitive leaflet's inside has room for its key messages beside them.
FEW_HELPLINES = 2
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


@lru_cache(maxsize=256)  # a leaflet is laid out several times as its type is fitted, its QR codes made once
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


# Who a helpline is for names people who harm others, not those they harm (Respect: "perpetrators who want to stop
# being violent and abusive"): a reader who took it for a victims' line would ring the wrong one.
_FOR_PEOPLE_WHO_HARM = re.compile(
    r"perpetrat|\babusers?\b|\bown behaviou?r|\bstop (?:being )?(?:violent|abusive)|\bharm(?:ing)? others", re.IGNORECASE
)


def is_for_people_who_harm(helpline: LeafletHelpline) -> bool:
    """The helpline says it is for people who harm others (perpetrators, their own behaviour), not for victims."""
    return bool(_FOR_PEOPLE_WHO_HARM.search(helpline.who_for))


def who_for_line(helpline: LeafletHelpline, *, is_short: bool = False, is_shortest: bool = False) -> str:
    """Who the helpline is for, as printed under its number: "perpetrators who want to stop being violent and abusive".

    The short form, for narrow panels, runs up to the first comma, semicolon or bracket ("children and young
    people"): whom the line is for, not what it adds. The shortest, for narrow panels with many numbers, also ends
    before an "and" that follows a group named in three words or more ("victims of domestic abuse").
    """
    text = " ".join(helpline.who_for.split())
    if is_short or is_shortest:
        text = re.split(r"\s*[,;(]", text, maxsplit=1)[0]
    if is_shortest:
        first, _, rest = text.partition(" and ")
        if rest and len(first.split()) >= 3:
            text = first
    return text.rstrip(" .")


def printed_who_for(helpline: LeafletHelpline, layout: Layout, helplines: int) -> str:
    """What a layout prints of who the helpline is for ("" for nothing), with `helplines` numbers on the leaflet.

    Wide panels print it whole and narrow ones (DL, A6, the wallet card) its short form. Narrow panels holding many
    numbers have no room to say it for each at the smallest type: there it is printed for the lines for people who
    harm others, so nobody rings one thinking it is for victims, and the lines left unmarked read as the victims'.
    """
    if layout.key not in SHORT_WHO_FOR:
        return who_for_line(helpline)
    if helplines <= COMPACT_HELPLINES_FROM:
        return who_for_line(helpline, is_short=True)
    return who_for_line(helpline, is_shortest=True) if is_for_people_who_harm(helpline) else ""


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


def _card_halves(helplines: tuple[LeafletHelpline, ...]) -> tuple[tuple[LeafletHelpline, ...], ...]:
    # The wallet card's two inside panels share the helplines by the lines they print (a name and a number each, and
    # a line for its hours and for who it is for), so neither runs over while the other has room.
    def lines(helpline: LeafletHelpline) -> int:
        return 2 + bool(helpline_hours(helpline, says_free=False)) + bool(
            printed_who_for(helpline, get_layout("wallet"), len(helplines)))

    weights = [lines(helpline) for helpline in helplines]
    split = min(range(len(helplines) + 1), key=lambda k: (max(sum(weights[:k]), sum(weights[k:])), -k))
    return helplines[:split], helplines[split:]


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
        "show_hashtag": bool(data.hashtag) and data.hashtag.casefold() not in data.headline.casefold()
        and layout.key not in NO_HASHTAG,
        "are_all_free": bool(helplines) and all(h.is_free for h in helplines),
        "qr_src": qr_data_uri(qr_target(address)) if address and layout.key != "wallet" else "",
        "helplines": helplines,
        "wallet_halves": _card_halves(helplines) if layout.key == "wallet" else (helplines[:half], helplines[half:]),
        "compact_from": COMPACT_HELPLINES_FROM,
        # The poster lists them side by side: it is wide enough for that at any size.
        "few_helplines": FEW_HELPLINES if layout.key != "a4" else 0,
        "back_has_key_messages": layout.key == "a5" or (layout.key == "dl" and not is_large_print),
        "helpline_hours": helpline_hours,
        "small_print": _small_print(data, layout),
        "contact_line": numbers_kept_whole(data.contact_line),
        "web_address_display": shown if layout.key != "wallet" else "",
        "web_address_breakable": address_breakable(shown),
        "signup_display": signup,
        "signup_breakable": address_breakable(signup),
        "signup_qr_src": qr_data_uri(data.signup_address) if data.signup_address and layout.key != "wallet" else "",
        # Every layout says who each helpline is for (who_for_line), the narrow ones in short.
        "layout_shows_who_for": True,
        "who_for_line": lambda helpline: printed_who_for(helpline, layout, len(helplines)),
        "layout_has_picture": layout.key in HAS_PICTURE,
        "layout_shows_key_messages": layout.key in SHOWS_KEY_MESSAGES,
        "police_on_front": layout.key in POLICE_ON_FRONT,
        "neutral_front_has_about": layout.key in ABOUT_ON_NEUTRAL_FRONT and not (is_large_print and layout.key == "dl"),
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
    fitting = _fitting(data, layout, is_large_print)
    return _leaflet_html(fitting.data, layout, is_large_print, asset_base, fitting.fits)


# --- Type that fits the space ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelFill:
    """How much of one panel's height its content takes, as laid out at some type size."""

    role: str
    used: float  # CSS pixels, as WeasyPrint lays out
    room: float  # CSS pixels
    # A word or number wider than its line: the measuring layout keeps it whole, so it runs out of the panel.
    is_too_wide: bool = False
    fixed: float = 0.0  # CSS pixels of `used` whose size does not grow with the type (FIXED_CLASSES)
    widen: float = math.inf  # how much the widest word or whole number could grow and still fit its line
    # Its blocks of text, each as (height, lines, width of its text over its line's): how they will wrap as they grow.
    paragraphs: tuple[tuple[float, int, float], ...] = ()

    @property
    def share(self) -> float:
        """Used over room: above 1.0 the content does not fit."""
        return self.used / self.room if self.room else 0.0

    @property
    def fits(self) -> bool:
        """The content fits the panel's height and every word its line."""
        return self.share <= 1.0 + 1e-3 and not self.is_too_wide


def _text_out_of(box, left: float, right: float) -> bool:
    from weasyprint.formatting_structure.boxes import ParentBox, TextBox

    if isinstance(box, TextBox):
        return bool(box.text.strip()) and (box.position_x < left - 0.5 or box.position_x + box.width > right + 0.5)
    return isinstance(box, ParentBox) and any(_text_out_of(child, left, right) for child in box.children)


def _is_fixed(box) -> bool:
    # An element of FIXED_CLASSES: its size does not follow the panel's --fit.
    element = getattr(box, "element", None)
    return (element is not None and getattr(box, "element_tag", None) is not None
            and bool(FIXED_CLASSES & set((element.get("class") or "").split())))


def _room_to_widen(box, width: float, in_flex_row: bool = False) -> float:
    """How many times wider the panel's widest unbreakable piece of text (a word, or a number kept whole) could grow
    before it is wider than its line: a bound on the panel's type, which grows it as much."""
    from weasyprint.formatting_structure.boxes import BlockContainerBox, FlexContainerBox, ParentBox, TextBox

    if _is_fixed(box):
        return math.inf  # its size does not grow with the panel's
    # A flex item that does not grow is as wide as its text (a bilingual half's language name beside the
    # association's): its room is its flex row's, which it takes from the items beside it as it grows.
    if isinstance(box, BlockContainerBox) and box.width is not None and not in_flex_row:
        width = box.width
    if isinstance(box, TextBox):
        text = box.text.strip()
        if not text or box.width <= 0 or not any(character.isalnum() for character in text):
            return math.inf
        if box.style["white_space"] in ("nowrap", "pre"):
            return width / box.width
        # Its longest word, by its share of the run's characters.
        longest = max(len(word) for word in text.split())
        return width / (box.width * longest / len(text))
    if isinstance(box, FlexContainerBox) and box.style["flex_direction"].startswith("row") and box.width is not None:
        return min((_room_to_widen(child, box.width, in_flex_row=child.style["flex_grow"] == 0)
                    for child in box.children), default=math.inf)
    if isinstance(box, ParentBox):
        return min((_room_to_widen(child, width) for child in box.children), default=math.inf)
    return math.inf


# Parts of a panel whose size does not follow its --fit (common.css): the addresses with their QR codes, and the
# small print.
FIXED_CLASSES = frozenset({"web", "signup", "small-print"})


def _paragraphs(box) -> list[tuple[float, int, float]]:
    """Each block of text in the panel (one holding lines, outside FIXED_CLASSES): its height, its lines, and the
    width of all its text over the width of its line."""
    from weasyprint.formatting_structure.boxes import BlockContainerBox, LineBox

    if _is_fixed(box):
        return []
    children = getattr(box, "children", ())
    if isinstance(box, BlockContainerBox) and children and isinstance(children[0], LineBox):
        if not box.width or box.height is None:
            return []
        text = sum(child.margin_width() for line in children for child in line.children)
        return [(box.height, len(children), text / box.width)]
    return [found for child in children for found in _paragraphs(child)]


def _fixed_height(box) -> float:
    if _is_fixed(box) and box.height is not None:
        return box.margin_height()
    return sum(_fixed_height(child) for child in getattr(box, "children", ()))


def _panel_fills(document, *, is_measuring: bool = True) -> dict[str, PanelFill]:
    # Each panel holds two parts, its main part and its end; their heights as laid out (not their positions,
    # which the print's flex column spreads) are what the content needs. A panel that ran onto another page is
    # measured on both: its share is then over 1.
    fills: dict[str, PanelFill] = {}

    def walk(box):
        element = getattr(box, "element", None)
        role = element.get("data-panel") if element is not None and getattr(box, "element_tag", "") == "div" else None
        if role and box.height is not None:
            used = sum(child.margin_height() for child in box.children)
            # Measuring, each panel is a block at least its page tall (less its padding); printed, a flex column
            # exactly as tall as its page unless its content runs over.
            room = box.min_height if is_measuring else box.height
            left = box.content_box_x()
            wide = _text_out_of(box, left, left + box.width)
            fixed = _fixed_height(box)
            widen = _room_to_widen(box, box.width)
            paragraphs = tuple(_paragraphs(box))
            before = fills.get(role)
            fills[role] = (PanelFill(role, used, room, wide, fixed, widen, paragraphs) if before is None else
                           PanelFill(role, before.used + used, before.room, before.is_too_wide or wide,
                                     before.fixed + fixed, min(before.widen, widen), before.paragraphs + paragraphs))
            return
        for child in getattr(box, "children", ()):
            walk(child)

    for page in document.pages:
        walk(page._page_box)
    return fills


_parsed = threading.local()
_LINKED_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"<>]*)">')


def _stylesheet(url: str, fetcher: AssetFetcher, font_config):
    # A bundled stylesheet parsed once per thread (with that thread's font configuration, as coordinator/pdf.py keeps
    # one per thread) and again only when its file changes: parsing the print CSS is a fifth of a measuring layout.
    from weasyprint import CSS

    path, _ = resolve_asset(url)
    key = (url, path.stat().st_mtime_ns)
    if getattr(_parsed, "font_config", None) is not font_config:
        _parsed.font_config, _parsed.sheets = font_config, {}
    if key not in _parsed.sheets:
        _parsed.sheets[key] = CSS(url=url, url_fetcher=fetcher, font_config=font_config)
    return _parsed.sheets[key]


def _layout_fills(data: LeafletData, layout: Layout, is_large_print: bool, fits: dict[str, float] | None, *,
                  is_measuring: bool = True, roles: frozenset[str] | None = None) -> tuple[int, dict[str, PanelFill]]:
    """Lay the leaflet out (no PDF) at `fits` and measure each panel: in the measuring layout (print/measuring.css),
    only the panels in `roles` (all when None), or as printed (is_measuring=False), which costs three times as much."""
    from weasyprint import CSS, HTML

    from coordinator.pdf import _font_configuration  # the renderer's own, so the bundled fonts load once

    html = _leaflet_html(data, layout, is_large_print, ASSET_BASE_URL, fits)
    fetcher, font_config = AssetFetcher(), _font_configuration()
    stylesheets = []
    if is_measuring:
        # The leaflet's own stylesheets, parsed once, then the measuring one. Given to WeasyPrint rather than linked
        # they rank below the leaflet's inline style block (its brand colour and --fit), as when linked.
        stylesheets = [_stylesheet(url, fetcher, font_config) for url in _LINKED_STYLESHEET.findall(html)]
        html = _LINKED_STYLESHEET.sub("", html)
        stylesheets.append(_stylesheet(asset_url(MEASURING_STYLESHEET), fetcher, font_config))
        if roles is not None:
            hidden = [role for role in panel_roles(layout) if role not in roles]
            if hidden:
                stylesheets.append(CSS(string=",".join(f".panel-{role}" for role in hidden)
                                       + "{display:none !important}", font_config=font_config))
    document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=stylesheets
    )
    return len(document.pages), _panel_fills(document, is_measuring=is_measuring)


def measure_panels(data: LeafletData, layout: Layout | str, is_large_print: bool = False,
                   fits: dict[str, float] | None = None, *, roles: frozenset[str] | None = None) -> dict[str, PanelFill]:
    """Lay the leaflet out once in the measuring layout (no PDF) at `fits` (its smallest type when None) and measure
    each panel's fill (only those in `roles` when given).

    LeafletDoesNotFit when even the smallest type runs over a panel.
    """
    layout = _resolve(layout, is_large_print)
    _, fills = _layout_fills(data, layout, is_large_print, fits, roles=roles)
    if fits is None and any(fill.share > 1.0 + 1e-3 for fill in fills.values()):
        raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print))
    return fills


def _grown(fill: PanelFill, exponent: float, layout: Layout, target: float = FILL_TARGET) -> float:
    """The type size, in FIT_STEPs down from the exact one, that takes a panel measured at its smallest type (`fill`)
    to `target`, if the part of it that grows does so as the size to the power `exponent`."""
    growing = fill.used - fill.fixed
    if growing <= 0:
        return layout.max_fit
    room = target * fill.room - fill.fixed
    grow = (room / growing) ** (1 / exponent) if room > 0 else 1.0
    # Grown, a word or number must still fit its line (a little short of it: its line narrows as gaps in em grow).
    grow = min(grow, layout.max_fit, fill.widen * WIDEN_SAFETY)
    steps = math.floor((grow - 1.0) / FIT_STEP + 1e-9)
    return round(1.0 + max(0, steps) * FIT_STEP, 2)


def _growth(fill: PanelFill, fit: float) -> float:
    # How much the panel's text grows at `fit`: each block's lines grow taller with the type, and more of them wrap
    # (a line as wide again takes two; text cut into lines wastes a little at each end: PARAGRAPH_WASTE).
    def height(paragraph: tuple[float, int, float], at: float) -> float:
        block, lines, width = paragraph
        wrapped = lines if at == 1.0 else max(lines, math.ceil(width * at * (1 + PARAGRAPH_WASTE * (lines > 1))))
        return block / lines * at * wrapped

    return sum(height(paragraph, fit) for paragraph in fill.paragraphs)


def fit_for(fill: PanelFill, layout: Layout) -> float:
    """A first estimate of the type size, as a multiple of the smallest, that fills the panel to FIRST_TARGET.

    The panel's growing part (all but FIXED_CLASSES) grows as its blocks of text do, each taller with the type and
    wrapping onto more lines as it widens; the largest size, in FIT_STEPs, whose estimate fits. Without blocks of
    text measured, as the size squared.
    """
    base = _growth(fill, 1.0)
    growing = fill.used - fill.fixed
    if not base or growing <= 0:
        return _grown(fill, FIT_EXPONENT, layout, FIRST_TARGET)
    largest = min(layout.max_fit, fill.widen * WIDEN_SAFETY)
    # The space between blocks (in em) grows with the size, as the blocks' text does or only in proportion: the
    # estimate is halfway. (Where a grid sets blocks side by side, their heights add up to more than the panel holds.)
    rest = growing - base
    fit = 1.0
    while (candidate := round(fit + FIT_STEP, 2)) <= largest + 1e-9:
        grown = _growth(fill, candidate)
        used = fill.fixed + (growing * grown / base + rest * candidate + grown) / 2
        if used > FIRST_TARGET * fill.room:
            break
        fit = candidate
    return fit


def _next_fit(first: PanelFill, fit: float, now: PanelFill, layout: Layout) -> float:
    growing, grown = first.used - first.fixed, now.used - now.fixed
    if growing <= 0 or grown <= 0:
        return fit  # nothing in the panel grows
    # Two layouts give this panel's own growth: its exponent, from its share at the smallest type and at `fit`.
    exponent = min(max(math.log(grown / growing) / math.log(fit), MIN_EXPONENT), MAX_EXPONENT)
    estimate = _grown(first, exponent, layout)
    return estimate if now.fits else min(estimate, round(fit - FIT_STEP, 2))


def fit_panels(data: LeafletData, layout: Layout | str, is_large_print: bool = False) -> dict[str, float]:
    """Each panel's type size, as a multiple of the layout's smallest, that fills it without running over.

    One measuring layout at the smallest type gives each panel's share filled, the part of it that does not grow
    and its widest word; the size is estimated from them (fit_for). The print checks it: a panel that runs over
    there is measured again (_fitted_pdf). Kept per leaflet, so the builder's preview, its pictures of each side
    and every PDF of it share one fitting.
    """
    layout = _resolve(layout, is_large_print)
    return dict(_fitting(data, layout, is_large_print).fits)


@dataclass(frozen=True)
class _Fitting:
    data: LeafletData  # as it prints on the layout: without its picture where the picture leaves no room
    first: dict[str, PanelFill]  # measured at the smallest type
    fits: dict[str, float]


_fittings: OrderedDict = OrderedDict()
_fittings_lock = threading.Lock()
FITTINGS_KEPT = 32


def _fitting(data: LeafletData, layout: Layout, is_large_print: bool) -> _Fitting:
    key = (data, layout.key, is_large_print)
    with _fittings_lock:
        if key in _fittings:
            _fittings.move_to_end(key)
            return _fittings[key]
    printed = data
    try:
        first = measure_panels(data, layout, is_large_print)
    except LeafletDoesNotFit:
        # The campaign's picture prints where the format has room for it: a leaflet too long with it prints without.
        if not (data.picture_src and layout.key in HAS_PICTURE):
            raise
        printed = replace(data, picture_src="", picture_alt="")
        first = measure_panels(printed, layout, is_large_print)
    # A word too wide for its line at the smallest type is preflight's to refuse; growing it would not help.
    fits = {role: 1.0 if fill.is_too_wide else fit_for(fill, layout) for role, fill in first.items()}
    return _keep_fitting(key, _Fitting(printed, first, _halves_alike(data, fits)))


def _halves_alike(data: LeafletData, fits: dict[str, float]) -> dict[str, float]:
    # A bilingual leaflet's two halves print at one size, the smaller of their fits: a reader compares the two
    # languages line by line, and the larger half would look the more important.
    if data.second is None or not {"first", "second"} <= fits.keys():
        return fits
    return {**fits, "first": min(fits["first"], fits["second"]), "second": min(fits["first"], fits["second"])}


def _keep_fitting(key: tuple, fitting: _Fitting) -> _Fitting:
    with _fittings_lock:
        _fittings[key] = fitting
        _fittings.move_to_end(key)
        while len(_fittings) > FITTINGS_KEPT:
            _fittings.popitem(last=False)
    return fitting


def clear_fittings() -> None:
    """Forget every leaflet's fitting (the benchmark and tests measure afresh)."""
    with _fittings_lock:
        _fittings.clear()


def _refit(data: LeafletData, layout: Layout, is_large_print: bool, tried: dict[str, float]) -> dict[str, float]:
    """Sizes measured to fit, after the print ran over at `tried`: each grown panel is measured at its size and, where
    it runs over, at a smaller one from how much it grew; it keeps the largest size measured to fit."""
    fitting = _fitting(data, layout, is_large_print)
    first = fitting.first
    best = dict.fromkeys(first, 1.0)
    trying = {role: fit for role, fit in tried.items() if fit > 1.0}
    for _ in range(MEASURES - 1):
        if not trying:
            break
        # Only the panels being tried are laid out.
        now = measure_panels(fitting.data, layout, is_large_print, {**best, **trying}, roles=frozenset(trying))
        again = {}
        for role, fit in trying.items():
            if now[role].fits:
                best[role] = fit
            elif (estimate := _next_fit(first[role], fit, now[role], layout)) > 1.0:
                again[role] = estimate
        trying = again
    best = _halves_alike(data, best)
    _keep_fitting((data, layout.key, is_large_print), replace(fitting, fits=best))
    return best


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
    return PrintRules(min_text_pt=14.0 if is_large_print else layout.min_body_pt, min_small_print_pt=8.0)


# Problems that grown type can make and smaller type undoes: a panel run over, a word or number cut to fit its line.
_GROWN_TOO_FAR = frozenset({"overflow", "split-word", "split-number", "split-address"})


def _fitted_pdf(data: LeafletData, layout: Layout, is_large_print: bool, stylesheets: list[str],
                variant: str | None) -> bytes:
    fitting = _fitting(data, layout, is_large_print)
    fits, smallest = fitting.fits, dict.fromkeys(fitting.fits, 1.0)
    for attempt in range(3):
        html = _leaflet_html(fitting.data, layout, is_large_print, ASSET_BASE_URL, fits)
        try:
            return render_pdf(html, stylesheets, metadata=leaflet_metadata(data, layout), variant=variant,
                              expected_pages=layout.pages, preflight=preflight_rules(layout, is_large_print))
        except PreflightFailed as error:
            if fits == smallest or not {problem.rule for problem in error.problems} <= _GROWN_TOO_FAR:
                raise LeafletPreflightFailed(str(error), error.fields) from error
            failure = error
        except DoesNotFit as error:
            if fits == smallest:
                raise LeafletDoesNotFit(_does_not_fit_message(layout, is_large_print)) from error
            failure = error
        # The estimate grew the type too far: measure the grown panels and keep sizes measured to fit; should the
        # print still run over, step every grown panel back, then the smallest type (measured to fit).
        log.info("Leaflet %s on %s: refitting after %s", data.reference, layout.key, failure)
        fits = _refit(data, layout, is_large_print, fits) if attempt == 0 else \
            {role: max(1.0, round(fit - 4 * FIT_STEP, 2)) for role, fit in fits.items()} if attempt == 1 else smallest
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
