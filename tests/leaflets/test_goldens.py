"""Pictures as tests: every format of every starter leaflet looks as its golden picture does.

A change of design updates the pictures on purpose, with `make goldens`, and the new pictures are looked at
before they are committed. The tolerance allows for anti-aliasing differences between machines, not for a
moved block of text: a line of 12 pt body text moved by its own height changes far more pixels than this.
"""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops

from coordinator.leaflets.layouts import LAYOUTS
from tests.leaflets.goldens import GOLDENS_DIR, golden_name, side_pictures
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS

MAX_MEAN_DIFFERENCE = 1.5  # grey levels of 255, over the whole picture
MAX_CHANGED_SHARE = 0.01  # pixels more than 64 grey levels apart


@pytest.mark.parametrize("campaign", list(CAMPAIGN_SETS))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_the_starter_leaflet_looks_as_its_golden_picture(layout, campaign):
    pictures = side_pictures(layout, campaign)
    assert len(pictures) == LAYOUTS[layout].pages
    for side, picture in enumerate(pictures, start=1):
        path = GOLDENS_DIR / golden_name(layout, campaign, side)
        assert path.exists(), f"no golden picture {path.name}: run `make goldens` and look at it"
        with Image.open(path) as golden:
            golden = golden.convert("L")
            assert golden.size == picture.size, path.name
            difference = ImageChops.difference(golden, picture)
        histogram = difference.histogram()
        pixels = picture.size[0] * picture.size[1]
        mean = sum(level * count for level, count in enumerate(histogram)) / pixels
        changed = sum(histogram[65:]) / pixels
        assert mean <= MAX_MEAN_DIFFERENCE and changed <= MAX_CHANGED_SHARE, (
            f"{path.name} differs from its golden picture (mean {mean:.2f}, {changed:.1%} of pixels changed): "
            "if the design changed on purpose, run `make goldens` and look at the new pictures"
        )


def test_a_changed_leaflet_is_seen():
    # The comparison is not blind: the same leaflet in another format's golden is far off.
    picture = side_pictures("a5", "its-not-ok")[0]
    with Image.open(GOLDENS_DIR / golden_name("a5", "metoo-bystanders", 2)) as other:
        other = other.convert("L")
        difference = ImageChops.difference(other, picture)
    histogram = difference.histogram()
    assert sum(histogram[65:]) / (picture.size[0] * picture.size[1]) > MAX_CHANGED_SHARE
