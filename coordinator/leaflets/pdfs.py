"""A leaflet's PDF and thumbnail: from the cache, or rendered once in a render process and kept.

Renders run through `jobs.run_in_subprocess` (a recycled process; in place in tests and RQ work-horses) and
are counted in `render_count()`; a cache hit renders nothing (coordinator/leaflets/cache.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from io import BytesIO

from coordinator import jobs
from coordinator.leaflets.cache import app_cache, cache_key
from coordinator.leaflets.offers import LeafletChoiceError
from coordinator.leaflets.recipes import LeafletRecipe, PreparedLeaflet
from coordinator.leaflets.render import (
    LeafletDoesNotFit,
    LeafletError,
    render_leaflet_html,
    render_leaflet_pdf,
    render_leaflet_sides,
)

THUMBNAIL_WIDTH_PX = 480
# The builder's pictures of each side share one scale, so an A6 looks smaller than an A5 beside it: true proportions.
SIDE_PIXELS_PER_MM = 2.2

# Renders done by this process, by kind: a cache hit adds nothing (tests count renders this way).
_renders: Counter[str] = Counter()


def render_count(kind: str = "leaflet") -> int:
    """How many PDFs (or thumbnails, "thumbnail"; delivery sheets, "delivery_sheet") this process has rendered."""
    return _renders[kind]


def count_render(kind: str) -> None:
    """Count one render of this kind; each render function calls it, in whichever process it runs."""
    _renders[kind] += 1


def cached_render(key: str, render: Callable[..., bytes], *args: object, suffix: str = ".pdf") -> bytes:
    """The cached file called `key`, or `render` run once in a render process with `args`, its bytes kept."""
    cache = app_cache()
    data = cache.get(key, suffix)
    if data is None:
        data = jobs.run_in_subprocess(render, *args)
        cache.put(key, data, suffix)
    return data


def render_recipe(recipe: LeafletRecipe) -> bytes:
    """Render a recipe's PDF now (the render process's entry point; counted): a print shop's is the one artwork."""
    count_render("leaflet")
    return render_leaflet_pdf(
        recipe.data, recipe.layout, mode=recipe.print_mode, copies=recipe.copies_in_file,
        is_large_print=recipe.is_large_print,
    )


def leaflet_pdf(recipe: LeafletRecipe) -> bytes:
    """The recipe's PDF: from the cache, or rendered once (in a render process) and kept.

    Raises LeafletError (LeafletDoesNotFit) when the text cannot be printed in this layout.
    """
    return cached_render(recipe.key, render_recipe, recipe)


def render_thumbnail(pdf: bytes, width_px: int = THUMBNAIL_WIDTH_PX) -> bytes:
    """A PNG of the PDF's first page, `width_px` wide (counted)."""
    import pypdfium2

    count_render("thumbnail")
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        try:
            bitmap = page.render(scale=width_px / page.get_width())
            try:
                image = bitmap.to_pil()
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        document.close()
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def leaflet_thumbnail(recipe: LeafletRecipe) -> bytes:
    """A PNG of page 1 of the recipe's real PDF, cached beside it."""
    cache = app_cache()
    key = cache_key(kind="thumbnail", pdf=recipe.key, width=THUMBNAIL_WIDTH_PX)
    png = cache.get(key, ".png")
    if png is None:
        pdf = leaflet_pdf(recipe)
        png = jobs.run_in_subprocess(render_thumbnail, pdf)
        cache.put(key, png, ".png")
    return png


def render_side_pictures(sides_pdf: bytes, pixels_per_mm: float = SIDE_PIXELS_PER_MM) -> list[bytes]:
    """A PNG of each side of the leaflet, all at one scale (counted as one thumbnail)."""
    import pypdfium2

    count_render("thumbnail")
    pictures = []
    document = pypdfium2.PdfDocument(sides_pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=pixels_per_mm * 25.4 / 72)
                try:
                    image = bitmap.to_pil()
                finally:
                    bitmap.close()
            finally:
                page.close()
            out = BytesIO()
            image.save(out, "PNG", optimize=True)
            pictures.append(out.getvalue())
    finally:
        document.close()
    return pictures


def _render_sides(recipe: LeafletRecipe) -> bytes:
    count_render("leaflet")
    return render_leaflet_sides(recipe.data, recipe.layout, is_large_print=recipe.is_large_print)


def side_picture(recipe: LeafletRecipe, side: int) -> bytes:
    """A PNG of one side (1 = front or outside) at true proportions, from the same fitted layout; cached."""
    cache = app_cache()
    key = cache_key(kind="side", recipe=recipe.key, side=side, scale=SIDE_PIXELS_PER_MM)
    png = cache.get(key, ".png")
    if png is None:
        sides = cached_render(cache_key(kind="sides", recipe=recipe.key), _render_sides, recipe)
        pictures = jobs.run_in_subprocess(render_side_pictures, sides)
        if not 1 <= side <= len(pictures):
            raise LeafletError(f"The leaflet has {len(pictures)} sides.")
        for number, picture in enumerate(pictures, start=1):
            cache.put(cache_key(kind="side", recipe=recipe.key, side=number, scale=SIDE_PIXELS_PER_MM), picture,
                      ".png")
        png = pictures[side - 1]
    return png


def preview_html(recipe: LeafletRecipe, asset_base: str) -> str:
    """The leaflet's HTML for the browser preview, from the same template as the PDF."""
    return render_leaflet_html(recipe.data, recipe.layout, is_large_print=recipe.is_large_print, asset_base=asset_base)


# The builder's field for each leaflet field preflight names: what the coordinator can change to mend it.
PREFLIGHT_FORM_FIELDS = {
    "headline": "campaign", "hashtag": "campaign", "summary": "campaign", "key_messages": "campaign",
    "call_to_action": "campaign", "web_address": "campaign", "helplines": "helplines", "local_notice": "notice",
    "sign_up": "has_signup_panel", "signup": "has_signup_panel",
}


def does_not_fit_hints(prepared: PreparedLeaflet) -> str:
    """What else the coordinator may leave out to make a leaflet fit: the local notice, the sign-up panel."""
    hints = []
    if prepared.chosen.local_notice is not None:
        hints.append("the local notice")
    if prepared.recipe.data.signup_address:
        hints.append("the sign-up panel")
    return f" Leaving out {' or '.join(hints)} may also make it fit." if hints else ""


def checked_pdf(prepared: PreparedLeaflet) -> bytes:
    """The PDF, or LeafletChoiceError saying why it cannot be printed (too long, hidden characters, preflight).

    A preflight problem is shown at the builder's field that chose the text it came from (the campaign, the
    helpline set, the local notice); the rest (type too small, the police block, the small print) at the layout.
    """
    try:
        return leaflet_pdf(prepared.recipe)
    except LeafletDoesNotFit as error:
        raise LeafletChoiceError({"layout": str(error) + does_not_fit_hints(prepared)}) from error
    except LeafletError as error:
        # A preflight refusal (render.LeafletPreflightFailed) names the leaflet field of each problem.
        fields = getattr(error, "fields", None)
        if not fields:
            raise LeafletChoiceError({"form": str(error)}) from error
        errors: dict[str, str] = {}
        for field, message in fields.items():
            errors.setdefault(PREFLIGHT_FORM_FIELDS.get(field, "layout"), message)
        raise LeafletChoiceError(errors) from error
