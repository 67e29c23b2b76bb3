"""The association's brand on the record: a leaflet keeps the colour and logo it printed, and prints them again.

A real logo (made with Pillow, set through Settings) and a real campaign picture on an approved campaign version are
rendered on an A5 front, the format that shows pictures; the PDF's image XObjects are read back with pypdf and its
page rendered to pixels. Then the brand changes, and the old record still prints the old one.
"""

from __future__ import annotations

import io
from dataclasses import fields

import pypdfium2
import pytest
from PIL import Image
from sqlalchemy import func, select

from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import builder, print_runs, recipes
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.models import PrintedLogo
from coordinator.leaflets.offers import LeafletChoice
from coordinator.leaflets.render import LeafletError
from coordinator.settings import SettingsChange, get_settings, logo_version, update_settings
from tests.factories import current, load_starter, make_campaign, make_coordinated_scheme
from tests.helpers.pdf import reader

OLD_COLOUR, NEW_COLOUR = "#7a1f5c", "#0b5d1e"  # both carry white text at 4.5:1 or more
OLD_LOGO, NEW_LOGO = (230, 126, 34), (22, 160, 133)  # orange, then teal
PICTURE = (51, 102, 204)
PICTURE_SIZE = (640, 400)


def solid_png(colour: tuple[int, int, int], size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def set_brand(colour: str, logo: bytes | None = None, *, remove_logo: bool = False) -> None:
    """Change the brand through the settings service, leaving every other setting as it is."""
    settings = get_settings()
    values = {f.name: getattr(settings, f.name) for f in fields(SettingsChange) if hasattr(settings, f.name)}
    update_settings(SettingsChange(**{**values, "brand_colour": colour, "logo_upload": logo,
                                      "remove_logo": remove_logo}))
    db.session.flush()


def dominant(image: Image.Image) -> tuple[int, int, int]:
    colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    return max(colours)[1]


def images_on(pdf: bytes, page: int = 0) -> list[Image.Image]:
    """The page's image XObjects (those inside its forms too), as pypdf reads them."""
    return [item.image for item in reader(pdf).pages[page].images]


def share_of(pdf: bytes, colour: str, page: int = 0) -> float:
    """The share of the page's pixels within a small distance of `colour`, rendered at 40 dpi."""
    target = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[page].render(scale=40 / 72).to_pil().convert("RGB")
    finally:
        document.close()
    close = sum(count for count, pixel in image.getcolors(maxcolors=1 << 20)
                if sum(abs(a - b) for a, b in zip(pixel, target, strict=True)) <= 24)
    return close / (image.width * image.height)


def make_pictured_leaflet():
    admin = load_starter()
    campaign = make_campaign(admin, title="Lock up, light up", image_upload=solid_png(PICTURE, PICTURE_SIZE))
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    choice = LeafletChoice(campaign_version_id=campaign.id,
                           helpline_set_version_id=current(ContentKind.HELPLINE_SET, "emergency-and-reporting").id,
                           layout="a5", print_mode="shop")
    return scheme, coordinator, choice


def clear_cached_pdfs() -> None:
    for path in app_cache().folder.rglob("*.pdf"):
        path.unlink()


def test_the_logo_and_picture_print_and_a_record_keeps_its_brand_after_settings_change(tmp_path):
    scheme, coordinator, choice = make_pictured_leaflet()
    old_logo = solid_png(OLD_LOGO, (300, 120))
    set_brand(OLD_COLOUR, old_logo)
    record, _ = builder.generate_leaflet(scheme, choice, coordinator)
    db.session.commit()
    assert record.brand_colour == OLD_COLOUR and record.logo_version == logo_version(get_settings().logo_png)
    first = builder.record_pdf(record)
    (tmp_path / "first.pdf").write_bytes(first)

    # The front of the A5: the logo (a PNG of its own size) and the campaign's picture, both as images.
    images = images_on(first)
    assert len(images) == 2, [image.size for image in images]
    logo = next(image for image in images if image.size == (300, 120))
    picture = next(image for image in images if image.size == PICTURE_SIZE)
    assert dominant(logo) == OLD_LOGO
    assert max(abs(a - b) for a, b in zip(dominant(picture), PICTURE, strict=True)) <= 3  # JPEG or PNG, near enough
    assert share_of(first, OLD_COLOUR) > 0.01

    # Settings get a new colour and logo: a new leaflet prints them ...
    set_brand(NEW_COLOUR, solid_png(NEW_LOGO, (300, 120)))
    db.session.commit()
    second, _ = builder.generate_leaflet(scheme, choice, coordinator)
    db.session.commit()
    fresh = builder.record_pdf(second)
    assert second.brand_colour == NEW_COLOUR and second.logo_version != record.logo_version
    assert NEW_LOGO in {dominant(image) for image in images_on(fresh)}
    assert share_of(fresh, NEW_COLOUR) > 0.01 and share_of(fresh, OLD_COLOUR) < 0.001

    # ... and the old record, made again from nothing in the cache, still prints the brand of its day.
    clear_cached_pdfs()
    again = builder.record_pdf(record)
    (tmp_path / "again.pdf").write_bytes(again)
    colours = {dominant(image) for image in images_on(again)}
    assert OLD_LOGO in colours and NEW_LOGO not in colours
    assert share_of(again, OLD_COLOUR) > 0.01 and share_of(again, NEW_COLOUR) < 0.001
    assert recipes.recipe_of(record).data.brand_colour == OLD_COLOUR
    assert db.session.scalar(select(func.count()).select_from(PrintedLogo)) == 2

    # The logo is removed from Settings altogether: the record still has its own.
    set_brand(NEW_COLOUR, remove_logo=True)
    db.session.commit()
    assert get_settings().logo_png is None
    kept = db.session.get(PrintedLogo, record.logo_version).png
    assert recipes.printed_logo_png(recipes.recipe_of(record).data) == kept
    assert dominant(Image.open(io.BytesIO(kept))) == OLD_LOGO


def test_a_leaflet_without_a_logo_keeps_none_and_a_print_run_keeps_its_colour():
    scheme, coordinator, choice = make_pictured_leaflet()
    set_brand(OLD_COLOUR)
    run = print_runs.create_print_run(scheme, choice, [s.id for s in scheme.streets], coordinator)
    db.session.commit()
    assert (run.brand_colour, run.logo_version) == (OLD_COLOUR, "")
    assert db.session.scalar(select(func.count()).select_from(PrintedLogo)) == 0
    set_brand(NEW_COLOUR, solid_png(NEW_LOGO, (200, 200)))
    db.session.commit()
    recipe = print_runs.print_run_recipe(run)
    assert recipe.data.brand_colour == OLD_COLOUR and recipe.data.logo_src == ""
    # A leaflet now has the logo: the record keeps its version and the logo is kept once, however many print it.
    first, _ = builder.generate_leaflet(scheme, choice, coordinator)
    second, _ = builder.generate_leaflet(scheme, choice, coordinator)
    db.session.commit()
    assert first.logo_version == second.logo_version == logo_version(get_settings().logo_png)
    assert db.session.scalar(select(func.count()).select_from(PrintedLogo)) == 1


def test_a_record_whose_logo_is_not_kept_says_so():
    scheme, coordinator, choice = make_pictured_leaflet()
    record, _ = builder.generate_leaflet(scheme, choice, coordinator)
    record.logo_version = "0123456789ab"
    db.session.commit()
    # Never today's logo in its place: a reprint that cannot be the same says so.
    with pytest.raises(LeafletError, match="logo this was printed with is no longer kept"):
        recipes.recipe_of(record)
