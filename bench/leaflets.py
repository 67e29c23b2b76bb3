"""Leaflet rendering benchmark: prints medians and ratios against the goals in issue 4 ("Speed"), and the design
figures of issue 13: the smallest printed text per format, how full each panel is, and what fitting the type costs.

The A5 flyer is two-sided (front and back pages); its home sheets are A4 fronts and backs for double-sided printing.
Home sheets print copies at 100%, so the size set is the size printed. Issue 14's figure comes last but one: an
Urdu A5 against the same A5 in English (bench/scripts.py has the other scripts and the pictures).

Run: .venv/bin/python bench/leaflets.py [--runs 15] [--renders 200] [--design-only] [--pictures docs/leaflets]
(--pictures writes the README's picture of each format.)
"""

from __future__ import annotations

import argparse
import importlib.util
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weasyprint import CSS, HTML

from coordinator.leaflets import render as leaflet_render
from coordinator.leaflets.cache import LeafletCache
from coordinator.leaflets.layouts import LAYOUTS, get_layout
from coordinator.leaflets.recipes import LeafletRecipe
from coordinator.leaflets.render import (
    LeafletData,
    LeafletDoesNotFit,
    LeafletHelpline,
    content_reference,
    fit_panels,
    leaflet_metadata,
    render_leaflet_html,
    render_leaflet_pdf,
    render_leaflet_sides,
)
from coordinator.pdf import ASSET_BASE_URL, STATIC_DIR, render_pdf
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet
from tests.pdf.samples import text_sizes

LEAFLET = LeafletData(
    headline="It's not OK: domestic abuse is a crime",
    hashtag="#ITSNOTOK",
    key_messages=(
        "Abuse can be physical, emotional, financial or controlling behaviour.",
        "It can happen to anyone, whatever their age, gender or background.",
        "You are not alone: help is free and confidential.",
    ),
    call_to_action="Call a helpline, day or night.",
    web_address="https://www.ourwatch.org.uk/itsnotok",
    helplines=(
        LeafletHelpline(
            "National Domestic Abuse Helpline",
            "0808 2000 247",
            who_for="Anyone experiencing abuse",
            is_free=True,
            is_24_7=True,
        ),
        LeafletHelpline("Men's Advice Line", "0808 8010 327", hours="Mon to Fri, 9am to 8pm", is_free=True),
        LeafletHelpline("Galop LGBT+ Helpline", "0800 999 5428", hours="Mon to Fri, 10am to 5pm", is_free=True),
        LeafletHelpline("Samaritans", "116 123", who_for="Anyone who needs to talk", is_free=True, is_24_7=True),
    ),
    contact_line="Your coordinator: Zoë Łukasz, 07700 900123",
    association_name="Bromley Neighbourhood Watch Association",
    printed_on=date(2026, 3, 12),
    reference=content_reference(campaign=1, helplines=1),
)

# The same leaflet with CSS multi-column layout where the app uses grids.
COLUMNS_CSS = (
    "<style>.helplines, .closing { display: block; columns: 2; column-gap: 5mm; }"
    " .key-messages { columns: 2; } .helpline, .police, .qr-box { break-inside: avoid; }</style>"
)


def medians(actions: dict, runs: int) -> dict:
    """Median CPU seconds of each action, measured in interleaved rounds after a warm-up.

    Interleaving and CPU time keep the ratios steady on a shared, busy machine; the renderer is
    single-threaded, so on an idle machine CPU time and wall time agree.
    """
    for action in actions.values():
        action()
    times: dict = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            start = time.process_time()
            action()
            times[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def line(label: str, value: str, goal: str = "") -> None:
    print(f"{label:<58} {value:>18}  {goal}")


SMALL_PRINT_PT = {"a4": 10.0, "a6": 8.5, "wallet": 8.0}  # --small in common.css; 9 pt elsewhere
LARGE_SMALL_PRINT_PT = {"a4": 12.0}  # large-print.css; 10 pt elsewhere
# The README's picture of each format (docs/leaflets/<format>.png): one starter campaign each.
PICTURES = {"a5": "you-are-not-alone", "a4": "its-not-ok", "dl": "vawg-prevention",
            "a4-folded": "you-are-not-alone", "a6": "metoo-bystanders", "wallet": "you-are-not-alone"}
STACKED = frozenset({"a4-folded", "wallet"})  # wide formats: outside above inside
PIXELS_PER_MM = {"a4": 1.6, "a4-folded": 1.6}  # 2 elsewhere


def _unfitted_render(data: LeafletData, key: str) -> None:
    # The same leaflet laid out and written once at its smallest type: a render with no fitting.
    layout = get_layout(key)
    html = leaflet_render._leaflet_html(data, layout, False, ASSET_BASE_URL, None)
    render_pdf(html, metadata=leaflet_metadata(data, layout), expected_pages=layout.pages,
               preflight=leaflet_render.preflight_rules(layout, False))


def _fitted_render(data: LeafletData, key: str) -> None:
    leaflet_render.clear_fittings()  # measure again, as a render process meeting the leaflet first does
    render_leaflet_sides(data, key)


def panel_shares(data: LeafletData, key: str, is_large_print: bool) -> dict[str, float]:
    """Each panel's share of its height filled, as printed (the print's own layout, not the measuring one)."""
    layout = get_layout(key)
    fits = fit_panels(data, layout, is_large_print)
    _, fills = leaflet_render._layout_fills(data, layout, is_large_print, fits, is_measuring=False)
    return {role: min(fill.share, 1.0) for role, fill in fills.items()}


def design_figures(runs: int, *, with_times: bool = True) -> None:
    """Per format, over the four starter leaflets: smallest printed text, panel fill, and fitting's cost."""
    print("Leaflet design: the four starter leaflets in every format (sides at trim size; home sheets are at 100%)\n")
    print(f"{'format':<19} {'smallest body':>13} {'small print':>11} {'panels filled':>14} {'emptiest panel':<34} "
          f"{'first render: fitted / plain':>29} {'again':>6}")
    for key, layout in LAYOUTS.items():
        for is_large_print in (False, True) if layout.has_large_print else (False,):
            small_pt = (LARGE_SMALL_PRINT_PT.get(key, 10.0) if is_large_print else SMALL_PRINT_PT.get(key, 9.0))
            body, small, shares, printed = [], [], [], 0
            for campaign in CAMPAIGN_SETS:
                data = starter_leaflet(campaign)
                try:
                    pdf = render_leaflet_sides(data, key, is_large_print=is_large_print)
                except LeafletDoesNotFit:
                    continue  # the seven-number set in large print: the folded A4 carries it
                printed += 1
                for index in range(layout.pages):
                    for size, text in text_sizes(pdf, index):
                        # The small print (date and reference, the footer) is set at --small (common.css).
                        (small if abs(size - small_pt) < 0.01 else body).append(size)
                shares += [(share, f"{campaign} {role}")
                           for role, share in panel_shares(data, key, is_large_print).items()]
            emptiest = min(shares)
            name = (f"{key} large" if is_large_print else key) + ("" if printed == 4 else f" ({printed} of 4)")
            row = (f"{name:<19} {min(body):>10.1f} pt {min(small) if small else 0:>8.1f} pt "
                   f"{emptiest[0] * 100:>5.0f}% / {statistics.mean(s for s, _ in shares) * 100:>3.0f}% "
                   f"{emptiest[1]:<34}")
            if with_times and not is_large_print:
                data = starter_leaflet("you-are-not-alone")
                t = medians({"plain": lambda d=data, k=key: _unfitted_render(d, k),
                             "fitted": lambda d=data, k=key: _fitted_render(d, k),
                             "again": lambda d=data, k=key: render_leaflet_sides(d, k)}, runs)
                row += f" {t['fitted'] / t['plain']:>28.2f}x {t['again'] / t['plain']:>5.2f}x"
            print(row)
    print(f"\n{'goal':<19} {'>= 12 pt':>13} {'':>11} {'>= ~70% / min':>14} {'':<34} {'<= 1.5x':>29}")
    print("(large print: >= 14 pt; the wallet card: body >= 9 pt, numbers >= 10 pt bold; panels filled: the share of\n"
          " each panel's height its content takes as printed, the emptiest of the 4 leaflets' panels / the mean;\n"
          " again: the same leaflet rendered again, its fitting kept)\n")


def write_pictures(folder: Path) -> None:
    """One picture of each format for the README (docs/leaflets/): its sides at one scale, as the builder shows them."""
    import pypdfium2
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for key, campaign in PICTURES.items():
        scale = PIXELS_PER_MM.get(key, 2.0) * 25.4 / 72
        document = pypdfium2.PdfDocument(render_leaflet_sides(starter_leaflet(campaign), key))
        try:
            sides = [page.render(scale=scale).to_pil() for page in document]
        finally:
            document.close()
        gap = 12
        if key in STACKED:
            size = (max(side.width for side in sides), sum(side.height for side in sides) + gap * (len(sides) - 1))
        else:
            size = (sum(side.width for side in sides) + gap * (len(sides) - 1), max(side.height for side in sides))
        sheet = Image.new("RGB", size, "#d8dde0")
        offset = 0
        for side in sides:
            sheet.paste(side, (0, offset) if key in STACKED else (offset, 0))
            offset += (side.height if key in STACKED else side.width) + gap
        # A palette of 128 colours: a third of the bytes, the type's edges still smooth.
        sheet.quantize(colors=128).save(folder / f"{key}.png", optimize=True)
        print(f"wrote {folder / f'{key}.png'}")


def _scripts_bench():
    """bench/scripts.py as a module (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_scripts", Path(__file__).with_name("scripts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Measure and print every figure of the issue's Speed section, and the design figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--design-only", action="store_true", help="only the design figures of issue 13")
    parser.add_argument("--pictures", type=Path, help="also write one picture of each format to this folder")
    args = parser.parse_args()
    runs = args.runs
    if args.pictures:
        write_pictures(args.pictures)
    design_figures(max(3, runs // 3))
    if args.design_only:
        return

    html = render_leaflet_html(LEAFLET, "a5")
    metadata = leaflet_metadata(LEAFLET, "a5")
    raw_html = html.replace(ASSET_BASE_URL, STATIC_DIR.as_uri() + "/")

    def app_render():
        render_pdf(html, metadata=metadata, expected_pages=2)

    def raw_render():
        # WeasyPrint as it comes: default fetcher reading the same files, a new font configuration each time.
        HTML(string=raw_html).write_pdf()

    def columns_render():
        render_pdf(html.replace("</head>", COLUMNS_CSS + "</head>"), metadata=metadata)

    def tagged_render():
        render_pdf(html, metadata=metadata, expected_pages=2, variant="pdf/ua-1")

    def shop_raw():
        HTML(string=raw_html).write_pdf(
            stylesheets=[CSS(filename=STATIC_DIR / "print/shop.css")], pdf_variant="pdf/ua-1"
        )

    a6_html = render_leaflet_html(LEAFLET, "a6")
    # The leaflet cache as the app uses it: the key over every input, then the file read back (services.leaflet_pdf).
    recipe = LeafletRecipe(LEAFLET, "a5", "shop", False, 1, 1, 1, (1, 2, 3, 4), None)
    cache = LeafletCache(Path(tempfile.mkdtemp(prefix="leaflet-cache-")), 500 * 1024 * 1024)
    cache.put(recipe.key, render_leaflet_pdf(LEAFLET, "a5", mode="shop"))

    def cached():
        assert cache.get(recipe.key) is not None
    t = medians(
        {
            "app": app_render,
            "raw": raw_render,
            "columns": columns_render,
            "tagged": tagged_render,
            "shop_one": lambda: render_leaflet_pdf(LEAFLET, "a5", mode="shop"),
            "shop_raw": shop_raw,
            "shop_500": lambda: render_leaflet_pdf(LEAFLET, "a5", mode="shop", copies=500),
            "home_2up": lambda: render_leaflet_pdf(LEAFLET, "a5", mode="home"),
            "a6_one": lambda: render_pdf(a6_html, expected_pages=2),
            # One fitted leaflet: what a home sheet imposes (the type fitted once for the leaflet, not per copy).
            "a5_fitted": lambda: render_leaflet_sides(LEAFLET, "a5"),
            "a6_fitted": lambda: render_leaflet_sides(LEAFLET, "a6"),
            "cached": cached,
            "home_4up": lambda: render_leaflet_pdf(LEAFLET, "a6", mode="home"),
            "home_500": lambda: render_leaflet_pdf(LEAFLET, "a5", mode="home", copies=500),
        },
        runs,
    )
    size_one = len(render_leaflet_pdf(LEAFLET, "a5", mode="shop"))
    size_500 = len(render_leaflet_pdf(LEAFLET, "a5", mode="shop", copies=500))
    home_size_one = len(render_leaflet_pdf(LEAFLET, "a5", mode="home", copies=2))
    home_size_500 = len(render_leaflet_pdf(LEAFLET, "a5", mode="home", copies=500))

    print(f"Leaflet benchmark: A5 #ITSNOTOK leaflet, median CPU time of {runs} interleaved runs after a warm-up\n")
    line("raw WeasyPrint, same HTML (default fetcher, new fonts)", f"{t['raw'] * 1000:.0f} ms")
    line("app render_pdf (restricted fetcher, cached fonts, fit check)", f"{t['app'] * 1000:.0f} ms")
    line("  app vs raw", f"{t['app'] / t['raw']:.2f}x", "goal <= 1.2x")
    line(
        "shop file: app vs raw WeasyPrint (bleed, marks, PDF/UA)",
        f"{t['shop_one'] / t['shop_raw']:.2f}x",
        "goal <= 1.2x",
    )
    line("A5 laid out with CSS columns instead of grids", f"{t['columns'] * 1000:.0f} ms")
    line("  grid vs columns", f"{t['app'] / t['columns']:.2f}x", "goal <= 0.5x")
    line("cached A5 shop file (key + read from disk)", f"{t['cached'] * 1000:.2f} ms")
    line("  cached vs fresh", f"{t['cached'] / t['shop_one'] * 100:.2f}%", "goal <= 1%")
    line("shop run of 500 copies", f"{t['shop_500'] * 1000:.0f} ms")
    line("  500 copies vs one copy, time", f"{t['shop_500'] / t['shop_one']:.2f}x", "goal <= 1.3x")
    line("  500 copies vs one copy, bytes per extra copy", f"{(size_500 - size_one) / 499:.0f} B", "goal <= 512 B")
    line("home run of 500 copies (250 A4 sheets of 2 x A5, both sides)", f"{t['home_500'] * 1000:.0f} ms")
    line("  500 copies vs one sheet, time", f"{t['home_500'] / t['home_2up']:.2f}x", "goal <= 1.3x")
    line(
        "  500 copies vs one sheet, bytes per extra copy",
        f"{(home_size_500 - home_size_one) / 498:.0f} B",
        "goal <= 512 B",
    )
    line("2-up A5 home sheet vs one A5 leaflet (both fitted)", f"{t['home_2up'] / t['a5_fitted']:.2f}x", "goal <= 2x")
    line("4-up A6 home sheet vs one A6 leaflet (both fitted)", f"{t['home_4up'] / t['a6_fitted']:.2f}x", "goal <= 2x")
    line("PDF/UA-1 (tagged) vs plain", f"{t['tagged'] / t['app']:.2f}x", "goal <= 1.1x")

    # London's scripts (issue 14): an Urdu A5 against the same A5 in English, measured as bench/scripts.py does.
    urdu = _scripts_bench().timed(["en-GB", "ur"], max(3, runs // 2))
    (english_s, english_bytes), (urdu_s, urdu_bytes) = urdu["en-GB"], urdu["ur"]
    line("Urdu A5 vs the same A5 in English: time", f"{urdu_s / english_s:.2f}x", "goal <= 1.5x")
    line("  file size", f"{(urdu_bytes - english_bytes) / 1024:+.1f} KB", "goal <= +150 KB")

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line("peak RSS of this process so far (ru_maxrss)", f"{peak_mb:.0f} MB", "goal <= 250 MB")
    before = rss_mb()
    for _ in range(args.renders):
        render_pdf(html, metadata=metadata, expected_pages=2)
    after = rss_mb()
    line(f"RSS before / after {args.renders} more renders", f"{before:.0f} / {after:.0f} MB")
    line(
        "  growth per render",
        f"{(after - before) / args.renders * 1024:.0f} KB",
        "recycle rendering workers after a few hundred jobs",
    )
    raw_renders = max(args.renders // 2, 1)
    before = rss_mb()
    for _ in range(raw_renders):
        raw_render()
    after = rss_mb()
    line(
        f"  raw WeasyPrint, new fonts each time ({raw_renders} renders)",
        f"{(after - before) / raw_renders * 1024:.0f} KB",
        "per render: why the app keeps one FontConfiguration",
    )


if __name__ == "__main__":
    main()
