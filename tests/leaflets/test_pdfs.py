"""A leaflet's PDF through the cache: rendered once, then the same bytes from the cache."""

from __future__ import annotations

from datetime import timedelta

from coordinator.content import services as content
from coordinator.leaflets import builder, pdfs, recipes
from coordinator.settings import get_settings
from tests.factories import load_starter, make_coordinated_scheme, starter_choice


def test_the_same_leaflet_again_comes_from_the_cache_byte_for_byte_without_rendering():
    load_starter()
    scheme, coordinator = make_coordinated_scheme()
    before = pdfs.render_count()
    _, first = builder.generate_leaflet(scheme, starter_choice(), coordinator)
    pdf = pdfs.leaflet_pdf(first.recipe)
    assert pdfs.render_count() == before + 1
    record, second = builder.generate_leaflet(scheme, starter_choice(), coordinator)
    assert pdfs.leaflet_pdf(second.recipe) == pdf
    assert builder.record_pdf(record) == pdf
    assert pdfs.render_count() == before + 1
    # Anything that changes the bytes is a new key: copies, layout, mode, large print, the contact line, the date.
    keys = {first.recipe.key}
    for choice, copies in [
        (starter_choice(), 2),
        (starter_choice(layout="dl"), 1),
        (starter_choice(print_mode="shop"), 1),
        (starter_choice(is_large_print=True), 1),
    ]:
        keys.add(recipes.prepare_leaflet(scheme, choice, copies=copies).recipe.key)
    scheme.contact_phone = "020 7946 0999"
    keys.add(recipes.prepare_leaflet(scheme, starter_choice()).recipe.key)
    keys.add(recipes.prepare_leaflet(scheme, starter_choice(), on=content.today() + timedelta(days=1)).recipe.key)
    get_settings().footer_text = "Printed by volunteers."
    keys.add(recipes.prepare_leaflet(scheme, starter_choice()).recipe.key)
    assert len(keys) == 8
