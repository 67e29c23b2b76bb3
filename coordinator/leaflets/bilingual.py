"""Bilingual leaflets: English with one other language, each a complete message with the numbers.

On the A4 poster the two stand side by side, two columns on its one side; on the A5 flyer and the DL leaflet the
English is the front and the other language the back, so a resident reads the whole message on the side in their
language. A leaflet marked sensitive keeps its subject off the outside: its A5 has a neutral outside in both
languages and, inside, a column for each (`is_inside`); its DL has no room for that and is refused. `LeafletData.second` holds the other language's texts (coordinator/leaflets/languages.py decides what
may be printed in which language); render.py hands a leaflet with one to `bilingual_html`.

Each half is its own panel (`data-panel` "first" and "second"), measured and fitted as any leaflet's panel
(render.py fit_panels); both then print at the smaller of their two sizes, so neither language looks the lesser beside
or behind the other. Each is rendered with the fixed words ("Where to get help", the police block) of its own
language (`wording_in`: the print templates' `_`, coordinator/wording.py). A right-to-left half carries `dir="rtl"` on its panel: its text is set from the right,
its phone numbers and web addresses still left to right (static/print/bilingual.css).
"""

from __future__ import annotations

import re

from flask_babel import gettext
from markupsafe import Markup

from coordinator.language_tags import native_name as language_name
from coordinator.languages import text_direction
from coordinator.leaflets.layouts import Layout
from coordinator.leaflets.render import (
    NEUTRAL_TEXT,
    NEUTRAL_TITLE,
    LeafletData,
    LeafletError,
    leaflet_context,
    render_print_html,
)
from coordinator.wording import printed_language, wording_in

# The layouts with room for two complete messages, and how the two are placed.
BILINGUAL_LAYOUTS = {"a4": "side by side", "a5": "front and back", "dl": "front and back"}
ROLES = ("first", "second")
COVER = "cover"  # the neutral outside of a sensitive A5
COVER_TEMPLATE = "print/bilingual_cover.html"
PAGE_TEMPLATE = "print/bilingual.html"
HALF_TEMPLATE = "print/bilingual_half.html"
STYLESHEET = "print/bilingual.css"
TURN_OVER = "Turn over."  # the same words as the one-language leaflet's, so its catalogues have them


def is_inside(data: LeafletData, layout: Layout) -> bool:
    """A sensitive A5: the neutral outside in both languages, the two messages side by side inside."""
    return data.is_sensitive and layout.key == "a5"


def sides(layout: Layout, data: LeafletData | None = None) -> tuple[tuple[str, ...], ...]:
    """Each side's panels: both halves on the poster's one side, or on the inside of a sensitive A5 behind its neutral
    cover; else one a side, English first."""
    if data is not None and is_inside(data, layout):
        return (COVER,), ROLES
    return (ROLES,) if layout.pages == 1 else tuple((role,) for role in ROLES)


def short_who_for(helpline) -> str:
    """Who the helpline is for, up to its first comma, semicolon or bracket ("children and young people"): each
    half holds every number on one side, so it keeps whom the line is for and drops what it adds."""
    return re.split(r"\s*[,;(]", " ".join(helpline.who_for.split()), maxsplit=1)[0].rstrip(" .")


def check_bilingual(data: LeafletData, layout: Layout) -> None:
    """LeafletError when this leaflet cannot carry two languages in this layout."""
    if layout.key not in BILINGUAL_LAYOUTS:
        raise LeafletError(f"Two languages print on the A4 poster, the A5 flyer and the DL leaflet, not "
                           f"{layout.short_name}: choose one language.")
    if data.is_sensitive and layout.is_two_sided and not is_inside(data, layout):
        # A DL's side is too narrow for two columns behind a neutral outside.
        raise LeafletError("A leaflet marked sensitive keeps its subject off the front: in two languages it prints "
                           "inside an A5 flyer, behind a neutral outside, or side by side on the A4 poster.")


def _inline_css(data: LeafletData, fits: dict[str, float] | None) -> str:
    rules = [f":root{{--accent:{data.brand_colour.lower()};--rule:{data.brand_colour.lower()}}}"]
    rules += [f".panel-{role}{{--fit:{(fits or {}).get(role, 1.0):.2f}}}" for role in (*ROLES, COVER)]
    return "".join(rules)


def _in_other_words(other: LeafletData | None) -> str:
    if other is None:
        return ""
    with wording_in(other.language):
        return gettext(TURN_OVER)


def _cover(data: LeafletData, second: LeafletData, layout: Layout, is_large_print: bool, asset_base: str) -> Markup:
    with wording_in(second.language):
        other_words = {"other_neutral_title": gettext(NEUTRAL_TITLE), "other_neutral_text": gettext(NEUTRAL_TEXT),
                       "other_turn_over": gettext(TURN_OVER)}
    with wording_in(data.language):
        context = leaflet_context(data, layout, is_large_print=is_large_print, asset_base=asset_base)
        context.update(
            other_words,
            wording_language=printed_language(data.language),
            other_language=second.language,
            other_language_name=language_name(second.language),
            other_direction=text_direction(second.language),
            other_wording_language=printed_language(second.language),
        )
        return Markup(render_print_html(COVER_TEMPLATE, **context))


def _half(texts: LeafletData, role: str, layout: Layout, is_large_print: bool, asset_base: str,
          other: LeafletData | None, *, inside: bool = False) -> Markup:
    # A front that has the other language on its back says so in that language, so its readers turn it over.
    turn_over = _in_other_words(other)
    # The context is made inside the language's wording too: the small print's date and a helpline's hours
    # ("Free", "24 hours, 7 days") are words of the language.
    with wording_in(texts.language):
        context = leaflet_context(texts, layout, is_large_print=is_large_print, asset_base=asset_base)
        context.update(
            role=role,
            # The language its fixed words print in: "en" until that language's wording is approved (bilingual.css).
            wording_language=printed_language(texts.language),
            who_for_line=short_who_for,
            # The DL's narrow side holds the whole message: its address is printed, without the QR code's square.
            qr_src=context["qr_src"] if layout.key != "dl" else "",
            is_first=role == ROLES[0],
            direction=text_direction(texts.language),
            language_name=language_name(texts.language),
            other_language=other.language if other is not None else "",
            other_language_name=language_name(other.language) if other is not None else "",
            other_direction=text_direction(other.language) if other is not None else "",
            other_turn_over=turn_over,
            # "Turn over." in English while the other language's wording is not approved: marked as English.
            other_wording_language=printed_language(other.language) if other is not None else "en",
            # A column inside a sensitive A5: its cover has the brand, the address and the contact line.
            inside=inside,
        )
        return Markup(render_print_html(HALF_TEMPLATE, **context))


def bilingual_html(data: LeafletData, layout: Layout, is_large_print: bool, asset_base: str,
                   fits: dict[str, float] | None) -> str:
    """The page of a bilingual leaflet: `data` in English and `data.second` in the other language."""
    second = data.second
    if second is None:
        raise LeafletError("A bilingual leaflet needs its second language's texts.")
    check_bilingual(data, layout)
    inside = is_inside(data, layout)
    turns_over = layout.is_two_sided and not inside
    halves = {
        ROLES[0]: _half(data, ROLES[0], layout, is_large_print, asset_base, second if turns_over else None,
                        inside=inside),
        ROLES[1]: _half(second, ROLES[1], layout, is_large_print, asset_base, None, inside=inside),
    }
    if inside:
        halves[COVER] = _cover(data, second, layout, is_large_print, asset_base)
    hrefs = leaflet_context(data, layout, is_large_print=is_large_print, asset_base=asset_base)["stylesheet_hrefs"]
    return render_print_html(
        PAGE_TEMPLATE,
        leaflet=data,
        layout=layout,
        is_large_print=is_large_print,
        title=f"{data.headline} / {second.headline}",
        stylesheet_hrefs=[*hrefs, asset_base + STYLESHEET],
        inline_css=Markup(_inline_css(data, fits)),
        sides=sides(layout, data),
        halves=halves,
        is_inside=inside,
    )
