"""Golden pictures of the starter leaflets: every format, the four starter campaigns, each side as a PNG.

`make goldens` (python -m tests.leaflets.goldens) writes them to tests/leaflets/goldens/ on purpose, after a
change of design; tests/leaflets/test_goldens.py renders them again and compares pixels. They are the leaflet's
own sides at trim size (render_leaflet_sides: no bleed, no home sheet), greyscale at 50 dpi to stay small.
"""

from __future__ import annotations

import sys
from io import BytesIO
from pathlib import Path

import pypdfium2
from PIL import Image

from coordinator.leaflets.layouts import LAYOUTS
from coordinator.leaflets.render import render_leaflet_sides
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet

GOLDENS_DIR = Path(__file__).resolve().parent / "goldens"
DPI = 50


def golden_name(layout: str, campaign: str, side: int) -> str:
    """The file name of one side's picture, e.g. a5-its-not-ok-1.png."""
    return f"{layout}-{campaign}-{side}.png"


def side_pictures(layout: str, campaign: str) -> list[Image.Image]:
    """Each side of the starter leaflet in this layout, rendered now, greyscale at DPI."""
    pdf = render_leaflet_sides(starter_leaflet(campaign), layout)
    document = pypdfium2.PdfDocument(pdf)
    try:
        return [document[index].render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
                for index in range(len(document))]
    finally:
        document.close()


def png_bytes(image: Image.Image) -> bytes:
    """The picture as a small PNG."""
    out = BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def write_goldens() -> list[Path]:
    """Render every format of every starter campaign and write the pictures, replacing the old ones."""
    GOLDENS_DIR.mkdir(exist_ok=True)
    for old in GOLDENS_DIR.glob("*.png"):
        old.unlink()
    written = []
    for layout in LAYOUTS:
        for campaign in CAMPAIGN_SETS:
            for side, image in enumerate(side_pictures(layout, campaign), start=1):
                path = GOLDENS_DIR / golden_name(layout, campaign, side)
                path.write_bytes(png_bytes(image))
                written.append(path)
    return written


if __name__ == "__main__":
    paths = write_goldens()
    size = sum(path.stat().st_size for path in paths)
    print(f"Wrote {len(paths)} pictures ({size / 1024:.0f} KB) to {GOLDENS_DIR}", file=sys.stderr)
