"""Preflight and print-shop benchmark: what the checks and the PDF/X-4 finishing cost a render.

For each starter campaign on each format: the median CPU time to lay the leaflet out (WeasyPrint's render), and to
preflight the laid-out document (coordinator/leaflets/preflight.py), and their ratio. Then the print-shop file of the
A5 leaflet: the app's PDF/X-4 (output intent, DefaultRGB, crop marks outside the bleed, added with pikepdf) against
the plain tagged file it replaced and against WeasyPrint embedding the same CMYK profile through CSS
(@color-profile), in time and in bytes.

Run: .venv/bin/python bench/preflight.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weasyprint import CSS, HTML

from coordinator.leaflets.layouts import LAYOUTS
from coordinator.leaflets.preflight import PrintRules, check_document
from coordinator.leaflets.render import render_leaflet_html
from coordinator.pdf import (
    ASSET_BASE_URL,
    CMYK_PROFILE,
    PRINT_SHOP_VARIANT,
    AssetFetcher,
    _font_configuration,
    asset_url,
    render_pdf,
)
from tests.leaflets.starter_leaflets import CAMPAIGN_SETS, starter_leaflet

# WeasyPrint's own way to a PDF/X-4 file: the profile named in CSS, read and compressed on every render.
COLOR_PROFILE_CSS = (
    f'@color-profile device-cmyk {{ src: url("{CMYK_PROFILE.as_uri()}"); components: cyan, magenta, yellow, black; }}'
)


def median_cpu(action, runs: int) -> float:
    """Median CPU seconds of `action` over `runs` calls, after one warm-up call."""
    action()
    times = []
    for _ in range(runs):
        start = time.process_time()
        action()
        times.append(time.process_time() - start)
    return statistics.median(times)


def line(label: str, value: str, goal: str = "") -> None:
    print(f"{label:<52} {value:>16}  {goal}")


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    fetcher, fonts = AssetFetcher(), _font_configuration()

    print(f"Preflight: median CPU time of {args.runs} runs, per starter leaflet (smallest type, home file)\n")
    ratios = []
    for key, layout in LAYOUTS.items():
        rules = PrintRules(min_text_pt=layout.min_body_pt, min_small_print_pt=8.0)
        for slug in CAMPAIGN_SETS:
            html = render_leaflet_html(starter_leaflet(slug), layout)
            document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher).render(font_config=fonts)
            layout_time = median_cpu(
                lambda html=html: HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher).render(
                    font_config=fonts), args.runs)
            check_time = median_cpu(lambda document=document, rules=rules: check_document(document, rules), args.runs)
            ratios.append(check_time / layout_time)
            line(f"{key:<10} {slug}", f"{check_time * 1000:.1f} / {layout_time * 1000:.0f} ms",
                 f"{check_time / layout_time * 100:.1f}% of the layout")
    line("preflight vs layout, median over all", f"{statistics.median(ratios) * 100:.1f}%", "goal: a few %")
    line("  worst", f"{max(ratios) * 100:.1f}%")

    print("\nPrint-shop file of the A5 #ITSNOTOK leaflet (median CPU time, bytes)\n")
    html = render_leaflet_html(starter_leaflet("its-not-ok"), "a5")
    shop = ["print/shop.css"]
    app_x4 = median_cpu(lambda: render_pdf(html, shop, variant=PRINT_SHOP_VARIANT), args.runs)
    app_ua = median_cpu(lambda: render_pdf(html, shop, variant="pdf/ua-1"), args.runs)
    shop_css = [CSS(url=asset_url("print/shop.css"), url_fetcher=fetcher, font_config=fonts)]
    profile_html = html.replace("</head>", f"<style>{COLOR_PROFILE_CSS}</style></head>")

    def weasyprint_x4() -> bytes:
        return HTML(string=profile_html, base_url=ASSET_BASE_URL, url_fetcher=_ProfileFetcher()).write_pdf(
            stylesheets=shop_css, pdf_variant=PRINT_SHOP_VARIANT, font_config=fonts)

    raw_x4 = median_cpu(weasyprint_x4, args.runs)
    size_x4 = len(render_pdf(html, shop, variant=PRINT_SHOP_VARIANT))
    size_ua = len(render_pdf(html, shop, variant="pdf/ua-1"))
    size_raw = len(weasyprint_x4())
    line("app PDF/X-4 (profile compressed once a process)", f"{app_x4 * 1000:.0f} ms, {size_x4 / 1024:.0f} KB")
    line("app tagged PDF/UA, as before (no output intent)", f"{app_ua * 1000:.0f} ms, {size_ua / 1024:.0f} KB")
    line("WeasyPrint's PDF/X-4 via @color-profile", f"{raw_x4 * 1000:.0f} ms, {size_raw / 1024:.0f} KB")
    line("  app PDF/X-4 vs before", f"{app_x4 / app_ua:.2f}x")
    line("  app PDF/X-4 vs WeasyPrint's", f"{app_x4 / raw_x4:.2f}x")


class _ProfileFetcher(AssetFetcher):
    """The app's fetcher, plus the one ICC file, for WeasyPrint's own @color-profile route."""

    def fetch(self, url: str, headers: dict | None = None):
        """Serve the CMYK profile from its file URL; everything else as the app's fetcher does."""
        if url == CMYK_PROFILE.as_uri():
            from weasyprint.urls import URLFetcherResponse

            return URLFetcherResponse(url, CMYK_PROFILE.read_bytes(), {"Content-Type": "application/vnd.iccprofile"})
        return super().fetch(url, headers)


if __name__ == "__main__":
    main()
