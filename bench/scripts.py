"""London's scripts on leaflets (issue 14): the render time and file size of an A5 leaflet whose campaign is in
Urdu (Nastaliq), against the same leaflet in English; other scripts alongside. Goal: at most 1.5 times the time and
at most 150 KB more.

The leaflet is the one a coordinator downloads (A5, home sheets, preflighted as tests do), its headline, key
messages and call to action in the language (tests/leaflets/languages.py), the rest of its wording English.

Two last lines time English with Urdu behind it (a bilingual A5: coordinator/leaflets/bilingual.py) against the
English A5, both with the first two helplines (an Urdu side holding the whole message has room for two): two whole
messages, so it has no goal of its own.

With --pictures DIR, also writes a picture of both sides of the Urdu and the Arabic A5 leaflet (docs/leaflets/).

Run: .venv/bin/python bench/scripts.py [--runs 7] [--languages ur,ar,bn] [--pictures docs/leaflets]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pypdfium2
from PIL import Image

from coordinator.leaflets.render import render_leaflet_pdf, render_leaflet_sides
from tests.leaflets.languages import SENTENCES, leaflet

TIME_GOAL = 1.5
SIZE_GOAL = 150 * 1024
PICTURES = {"ur": "a5-urdu.png", "ar": "a5-arabic.png"}
BILINGUAL = "en-GB+ur"
BILINGUAL_REFERENCE = "en-GB/2"
BILINGUAL_HELPLINES = 2


def leaflet_of(name: str):
    """The test leaflet in one language; "en-GB/2": with two helplines; "en-GB+ur": the first with the second's
    behind it, with two helplines."""
    if name == BILINGUAL_REFERENCE:
        return replace(leaflet("en-GB"), helplines=leaflet("en-GB").helplines[:BILINGUAL_HELPLINES])
    first, _, second = name.partition("+")
    if not second:
        return leaflet(first)
    lines = leaflet(first).helplines[:BILINGUAL_HELPLINES]
    return replace(leaflet(first, helplines=lines), second=leaflet(second, helplines=lines))


def timed(languages: list[str], runs: int) -> dict[str, tuple[float, int]]:
    """Each language's median seconds over `runs` renders (after one to load its fonts) and its file's size.

    The languages take turns, round by round, so a busy machine slows them alike.
    """
    data = {language: leaflet_of(language) for language in languages}
    sizes = {language: len(render_leaflet_pdf(data[language], "a5")) for language in languages}
    times: dict[str, list[float]] = {language: [] for language in languages}
    for _ in range(runs):
        for language in languages:
            start = time.perf_counter()
            render_leaflet_pdf(data[language], "a5")
            times[language].append(time.perf_counter() - start)
    return {language: (statistics.median(times[language]), sizes[language]) for language in languages}


def picture(language: str, path: Path, dpi: int = 90) -> None:
    """Both sides of the A5 leaflet side by side, as the builder shows them."""
    document = pypdfium2.PdfDocument(render_leaflet_sides(leaflet(language), "a5"))
    try:
        sides = [page.render(scale=dpi / 72).to_pil() for page in document]
    finally:
        document.close()
    gap = 16
    width = sum(side.width for side in sides) + gap * (len(sides) + 1)
    height = max(side.height for side in sides) + 2 * gap
    sheet = Image.new("RGB", (width, height), "#d0d0d0")
    x = gap
    for side in sides:
        sheet.paste(side, (x, gap))
        x += side.width + gap
    # A palette of 128 colours: a third of the bytes, the type's edges still smooth.
    sheet.quantize(colors=128).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--languages", default="ur,ar,bn,ta,pl", help="compared with English, comma-separated")
    parser.add_argument("--pictures", type=Path, help="write the Urdu and Arabic pictures to this folder")
    options = parser.parse_args()

    languages = options.languages.split(",")
    for language in languages:
        if language not in SENTENCES:
            parser.error(f"no sentences for {language}: choose from {', '.join(SENTENCES)}")
    figures = timed(["en-GB", *languages, BILINGUAL_REFERENCE, BILINGUAL], options.runs)
    english_time, english_size = figures["en-GB"]
    print(f"{'language':<8} {'median s':>9} {'x English':>10} {'bytes':>8} {'+ KB':>7}")
    failed = False
    for language, (seconds, size) in figures.items():
        # English with Urdu is set against the same English leaflet (two helplines), not the seven-helpline one.
        base_time, base_size = figures[BILINGUAL_REFERENCE] if language == BILINGUAL else (english_time, english_size)
        ratio, extra = seconds / base_time, size - base_size
        print(f"{language:<8} {seconds:>9.3f} {ratio:>10.2f} {size:>8} {extra / 1024:>7.1f}")
        if language == "ur":
            met = ratio <= TIME_GOAL and extra <= SIZE_GOAL
            failed |= not met
            print(f"  Urdu goal (at most {TIME_GOAL}x the time, at most +{SIZE_GOAL // 1024} KB): "
                  f"{'met' if met else 'NOT met'}")
    if options.pictures:
        options.pictures.mkdir(parents=True, exist_ok=True)
        for language, name in PICTURES.items():
            picture(language, options.pictures / name)
            print(f"wrote {options.pictures / name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
