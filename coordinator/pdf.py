"""The app's one way to make a PDF: HTML plus bundled stylesheets in, bytes out.

Every resource a document names (stylesheets, `@import`, fonts, images, `<link rel="attachment">`) goes
through `AssetFetcher`, which denies by default. It serves only the app's bundled print assets from
`coordinator/static/` (print CSS, fonts, images) under `ASSET_BASE_URL`, and image `data:` URIs such as the
QR codes the app makes. It never reads a `file://` URL (relative paths included: the base URL is not a
directory), never opens a socket and never follows a redirect. WeasyPrint's own fetcher does all three:
it reads local files, embeds them as PDF attachments and follows http to loopback (CVE-2024-28184,
CVE-2025-68616, CVE-2026-55073), hence weasyprint>=70 and this module.

Pages are placed on sheets (`impose`) and repeated (`repeat_pages`) with pikepdf, by reference: a print run
of 500 copies is laid out once, and each extra page costs tens of bytes.

Costs measured on this machine (bench/leaflets.py):
- Without Debian's libharfbuzz-subset0 WeasyPrint subsets fonts with fontTools and PDF writing is ~6x
  slower; a warning is logged when this module is imported without it.
- Memory: WeasyPrint with a new FontConfiguration per render grows a long-lived process by ~0.25-0.3 MB per
  render (fontconfig and Pango state that is never freed). Reusing one configuration per thread, as here,
  measured no growth over 200 renders; rendering workers are still recycled after a few hundred jobs, as
  other WeasyPrint caches may grow with content we have not measured.
"""

from __future__ import annotations

import base64
import ctypes.util
import logging
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import pikepdf
from weasyprint import CSS, HTML
from weasyprint.pdf import VARIANTS
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

if TYPE_CHECKING:
    from coordinator.leaflets.preflight import PrintRules

log = logging.getLogger(__name__)

STATIC_DIR = (Path(__file__).parent / "static").resolve()

# A fixed base URL on a domain reserved never to resolve (RFC 2606). Relative references in the print CSS
# (`@import "common.css"`, `url("../fonts/...")`) resolve against it with the standard rules, and the same
# files work from /static/ in a browser preview. AssetFetcher maps it to STATIC_DIR and never opens it.
ASSET_SCHEME = "https"
ASSET_HOST = "print-assets.invalid"
ASSET_BASE_URL = f"{ASSET_SCHEME}://{ASSET_HOST}/"
ASSET_FOLDERS = ("print/", "fonts/", "img/")
ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
DATA_IMAGE_TYPES = frozenset({"image/svg+xml", "image/png", "image/jpeg"})
MAX_DATA_URI_CHARS = 2 * 1024 * 1024

POINTS_PER_MM = 72 / 25.4

# Print-shop files are PDF/X-4: colour with a stated output condition, so a shop's RIP converts it predictably.
# The output intent is ISO Coated v2 300% (basICColor): the freely licensed (zlib licence, from Debian's
# scribus-data) profile of FOGRA39, sheet-fed offset on coated paper, what most UK print shops print leaflets to.
# It is bundled rather than installed from Debian: one 1 MB file, served to nothing but this module, and the
# wheel works without the package (static/print/icc/, licence beside it).
PRINT_SHOP_VARIANT = "pdf/x-4"
CMYK_PROFILE = STATIC_DIR / "print" / "icc" / "ISOcoated_v2_300_bas.icc"
OUTPUT_CONDITION_IDENTIFIER = "FOGRA39"
OUTPUT_CONDITION = ("Offset printing, according to ISO 12647-2:2004/Amd 1, paper type 1 or 2 (coated), "
                    "300% total area coverage")
OUTPUT_PROFILE_NAME = "ISO Coated v2 300% (basICColor)"
BLEED_MM = 3.0  # as static/print/shop.css asks WeasyPrint for
CROP_MARK_OFFSET_MM = 4.0  # from the trim to a crop mark: outside the bleed, so no mark shows on a trimmed copy
CROP_MARK_LENGTH_MM = 5.0
SLUG_MM = CROP_MARK_OFFSET_MM + CROP_MARK_LENGTH_MM + 1.0  # paper round the trim that the file describes


def check_font_subsetter() -> bool:
    """True when Debian's libharfbuzz-subset0 is installed; otherwise log a warning (PDF writing is ~6x slower)."""
    if ctypes.util.find_library("harfbuzz-subset") is not None:
        return True
    log.warning(
        "libharfbuzz-subset0 is not installed: PDF writing falls back to fontTools and is about 6x slower. "
        "Install it (apt-get install libharfbuzz-subset0, or `make`)."
    )
    return False


check_font_subsetter()  # at import, i.e. when the app that renders PDFs starts


class AssetRefused(ValueError):
    """A document named a resource that is not one of the app's bundled assets."""


class DoesNotFit(ValueError):
    """The document laid out on more or fewer pages than expected, or text ran out of its box or off the page."""

    def __init__(self, message: str, *, page_count: int, expected_pages: int | None):
        super().__init__(message)
        self.page_count = page_count
        self.expected_pages = expected_pages


@dataclass(frozen=True)
class PDFMetadata:
    """What the PDF says about itself: shown by viewers and read by screen readers."""

    title: str
    author: str = ""
    subject: str = ""
    language: str = "en-GB"
    keywords: tuple[str, ...] = ()


def asset_url(path: str) -> str:
    """The URL under which the fetcher serves static/<path>, e.g. asset_url("print/a5.css")."""
    return ASSET_BASE_URL + path.lstrip("/")


def resolve_asset(url: str) -> tuple[Path, str]:
    """The bundled file and content type behind an asset URL; AssetRefused for anything else."""
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise AssetRefused("not a valid URL") from error
    if parts.scheme.lower() != ASSET_SCHEME or parts.netloc.lower() != ASSET_HOST:
        raise AssetRefused("not a bundled asset")
    if parts.query:
        raise AssetRefused("asset URLs take no query")
    path = unquote(parts.path)
    # Percent-encoded dots and backslashes survive urljoin's dot-segment removal: refuse them outright.
    if "\\" in path or "\x00" in path or any(segment in {".", ".."} for segment in path.split("/")):
        raise AssetRefused("path leaves the asset folders")
    relative = path.lstrip("/")
    if not relative.startswith(ASSET_FOLDERS):
        raise AssetRefused("not in an asset folder")
    content_type = ASSET_TYPES.get(PurePosixPath(relative).suffix.lower())
    if content_type is None:
        raise AssetRefused("not an asset file type")
    # resolve() follows symlinks, so a link inside static/ cannot point outside it either.
    full_path = (STATIC_DIR / relative).resolve()
    if not full_path.is_relative_to(STATIC_DIR) or not full_path.is_file():
        raise AssetRefused("no such asset")
    return full_path, content_type


def _data_image(url: str) -> tuple[bytes, str]:
    if len(url) > MAX_DATA_URI_CHARS:
        raise AssetRefused("data: URI too large")
    header, comma, payload = url[len("data:") :].partition(",")
    if not comma:
        raise AssetRefused("malformed data: URI")
    params = [param.strip().lower() for param in header.split(";")]
    media_type = params[0]
    if media_type not in DATA_IMAGE_TYPES:
        raise AssetRefused("data: URIs are for images only")
    raw = unquote_to_bytes(payload)
    if "base64" in params[1:]:
        try:
            raw = base64.b64decode(raw, validate=False)
        except ValueError as error:
            raise AssetRefused("malformed base64 in data: URI") from error
    return raw, media_type


class AssetFetcher(URLFetcher):
    """WeasyPrint's fetcher, narrowed: bundled assets and image data: URIs only; everything else refused.

    It never calls the parent's urllib machinery, and that machinery is built with no allowed protocol
    and no redirect handler in case a WeasyPrint code path ever reaches it directly.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        """Serve a bundled asset or an image data: URI; raise AssetRefused for anything else."""
        try:
            if url[:5].lower() == "data:":
                body, content_type = _data_image(url)
            else:
                path, content_type = resolve_asset(url)
                body = path.read_bytes()
        except AssetRefused as refused:
            shown = url if len(url) <= 120 else url[:120] + "..."
            log.warning("PDF: refused to fetch %s (%s)", shown, refused)
            raise
        return URLFetcherResponse(url, body, {"Content-Type": content_type})


_fonts = threading.local()


def _font_configuration() -> FontConfiguration:
    # One per thread: WeasyPrint keeps each @font-face file in the configuration, so a cached one loads
    # the bundled fonts once per process instead of once per render. Fontconfig objects are not shared
    # across threads.
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def _overflowing_text(document) -> str | None:
    # WeasyPrint clips nothing and warns about nothing when text is wider than its box or taller than its page:
    # it is drawn over its neighbour or cut at the paper's edge. Find such text in the laid-out box tree
    # (Page._page_box; pinned by weasyprint>=70 and covered by tests/pdf): every run of text must lie on its
    # page and, across, within the padding box of the block that holds it.
    from weasyprint.formatting_structure.boxes import BlockContainerBox, ParentBox, TextBox

    def walk(box, left: float, right: float):
        if isinstance(box, BlockContainerBox) and box.width is not None:
            left, right = box.padding_box_x(), box.padding_box_x() + box.padding_width()
        if isinstance(box, TextBox) and box.text.strip():
            yield box, left, right
        if isinstance(box, ParentBox):
            for child in box.children:
                yield from walk(child, left, right)

    for number, page in enumerate(document.pages, start=1):
        for box, left, right in walk(page._page_box, 0.0, page.width):
            x, y, width, height = box.position_x, box.position_y, box.width, box.height
            is_off_page = y < -0.5 or y + height > page.height + 0.5
            if is_off_page or x < max(left, 0) - 0.5 or x + width > min(right, page.width) + 0.5:
                return f"page {number}: {box.text[:40]!r}"
    return None


def render_pdf(
    html: str,
    stylesheets: Sequence[str] = (),
    *,
    metadata: PDFMetadata | None = None,
    variant: str | None = None,
    expected_pages: int | None = None,
    preflight: PrintRules | None = None,
) -> bytes:
    """Render an HTML string to PDF bytes, fetching only bundled assets.

    `stylesheets` are asset paths such as "print/shop.css", applied after the document's own.
    `variant` is a WeasyPrint PDF variant such as "pdf/ua-1" (tagged for accessibility).
    With `expected_pages`, raise DoesNotFit unless the document lays out on exactly that many pages;
    text running out of its box or off its page always raises DoesNotFit (WeasyPrint would just cut it).
    With `preflight` rules, the laid-out document is then checked as a print shop would (coordinator/leaflets/
    preflight.py: type size, panels, numbers and addresses kept whole, glyphs the fonts have, contrast) and
    PreflightFailed lists every problem, each naming the field it came from.
    """
    from coordinator.leaflets.preflight import PreflightFailed, check_document

    if variant is not None and variant not in VARIANTS:
        raise ValueError(f"Unknown PDF variant {variant!r}")
    fetcher = AssetFetcher()
    font_config = _font_configuration()
    urls = [asset_url(name) for name in stylesheets]
    for url in urls:
        resolve_asset(url)  # refuse a stylesheet that is not bundled before any work is done
    css = [CSS(url=url, url_fetcher=fetcher, font_config=font_config) for url in urls]
    document = HTML(string=html, base_url=ASSET_BASE_URL, url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=css, pdf_variant=variant
    )
    page_count = len(document.pages)
    if expected_pages is not None and page_count != expected_pages:
        raise DoesNotFit(
            f"laid out on {page_count} pages, not {expected_pages}",
            page_count=page_count,
            expected_pages=expected_pages,
        )
    if (overflowing := _overflowing_text(document)) is not None:
        raise DoesNotFit(
            f"text runs out of its box or off the page ({overflowing})",
            page_count=page_count,
            expected_pages=expected_pages,
        )
    if preflight is not None and (problems := check_document(document, preflight)):
        raise PreflightFailed(problems)
    if metadata is not None:
        document.metadata.title = metadata.title
        document.metadata.authors = [metadata.author] if metadata.author else []
        document.metadata.description = metadata.subject or None
        document.metadata.lang = metadata.language
        document.metadata.keywords = list(metadata.keywords)
    pdf = document.write_pdf(pdf_variant=variant)
    if variant == PRINT_SHOP_VARIANT:
        pdf = _finish_for_print_shop(pdf)
    return pdf


# Print-shop files: the output intent, colour and the paper round the trim, added to what WeasyPrint writes.


@cache
def _output_profile() -> bytes:
    # WeasyPrint would embed the profile itself (@color-profile device-cmyk in CSS), but compresses its 1 MB at
    # zlib's level 9 on every render: 1.2 s a file. Compressed once here at level 6, in 0.07 s, 0.6% larger.
    return zlib.compress(CMYK_PROFILE.read_bytes(), 6)


@cache
def _srgb_profile() -> bytes:
    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _finish_for_print_shop(pdf_bytes: bytes) -> bytes:
    """A PDF/X-4 file as a print shop takes it: output intent, sRGB colour stated, crop marks outside the bleed.

    WeasyPrint writes each page as its trim (TrimBox) plus the bleed that shop.css asks for. Here each page gets
    paper round that bleed (MediaBox), the bleed box exactly BLEED_MM, its content clipped to the bleed, and crop
    marks in the paper outside the bleed, drawn in all four inks (registration) so they show on every plate.
    Colours and pictures given in RGB are stated to be sRGB (DefaultRGB), so the shop's RIP converts them to the
    output condition's CMYK as a screen shows them; text black is pure K (shop.css).
    """
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        profile = pdf.make_stream(b"")
        profile.write(_output_profile(), filter=pikepdf.Name.FlateDecode)
        profile.N = 4
        pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent,
            S=pikepdf.Name.GTS_PDFX,
            OutputConditionIdentifier=OUTPUT_CONDITION_IDENTIFIER,
            OutputCondition=OUTPUT_CONDITION,
            RegistryName="http://www.color.org",
            Info=OUTPUT_PROFILE_NAME,
            DestOutputProfile=profile,
        )])
        srgb = pdf.make_stream(_srgb_profile())
        srgb.N = 3
        default_rgb = pdf.make_indirect(pikepdf.Array([pikepdf.Name.ICCBased, srgb]))
        for obj in list(pdf.objects):
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)) and "/Resources" in obj:
                resources = obj.Resources
                if "/ColorSpace" not in resources:
                    resources.ColorSpace = pikepdf.Dictionary()
                resources.ColorSpace.DefaultRGB = default_rgb
        bleed, slug = mm(BLEED_MM), mm(SLUG_MM)
        for page in pdf.pages:
            x0, y0, x1, y1 = (float(value) for value in page.TrimBox)
            page.BleedBox = [x0 - bleed, y0 - bleed, x1 + bleed, y1 + bleed]
            page.MediaBox = [x0 - slug, y0 - slug, x1 + slug, y1 + slug]
            clip = f"q {_number(x0 - bleed)} {_number(y0 - bleed)} {_number(x1 - x0 + 2 * bleed)} " \
                   f"{_number(y1 - y0 + 2 * bleed)} re W n\n"
            # Streams of a page join into one: the newline keeps a last operator of the page from running into "Q".
            marks = f"\nQ\nq 1 1 1 1 K 0.25 w {_crop_marks(x0, y0, x1, y1)} S Q\n"
            contents = page.obj.Contents
            parts = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
            # Indirect, so that copies of the page made by reference (repeat_pages) share it.
            page.obj.Contents = pdf.make_indirect(pikepdf.Array([pdf.make_stream(clip.encode()), *parts,
                                                                 pdf.make_stream(marks.encode())]))
        return _save(pdf)


def _crop_marks(x0: float, y0: float, x1: float, y1: float) -> str:
    start, end = mm(CROP_MARK_OFFSET_MM), mm(CROP_MARK_OFFSET_MM + CROP_MARK_LENGTH_MM)
    lines = []
    for x in (x0, x1):
        lines += [((x, y0 - start), (x, y0 - end)), ((x, y1 + start), (x, y1 + end))]
    for y in (y0, y1):
        lines += [((x0 - start, y), (x0 - end, y)), ((x1 + start, y), (x1 + end, y))]
    return " ".join(f"{_number(a[0])} {_number(a[1])} m {_number(b[0])} {_number(b[1])} l" for a, b in lines)


# Imposition: placing rendered pages on larger sheets, and repeating pages, by reference.

Point = tuple[float, float]


@dataclass(frozen=True)
class Placement:
    """Where one copy of a page lands on a sheet: its trim box's lower-left corner, scale and rotation."""

    x: float
    y: float
    scale: float = 1.0
    # Degrees anticlockwise: 90 turns the page's top edge to face the sheet's left, -90 to face its right.
    rotation: int = 0

    def __post_init__(self) -> None:
        if self.rotation not in (0, 90, -90):
            raise ValueError("a placement turns 0, 90 or -90 degrees")


@dataclass(frozen=True)
class SheetPlan:
    """A sheet size, where each source page's copies go on its own sheet, and cut marks to draw."""

    width: float
    height: float
    placements: tuple[tuple[Placement, ...], ...]  # one tuple per source page
    cut_marks: tuple[tuple[Point, Point], ...] = field(default=())
    mark_width: float = 0.25


def _form_matrix(placement: Placement, bbox: Sequence[float]) -> tuple[float, ...]:
    x0, y0, x1, y1 = (float(value) for value in bbox)
    width, height = x1 - x0, y1 - y0
    s = placement.scale
    if placement.rotation == 90:
        # (u, v) -> (x + s*(height - (v - y0)), y + s*(u - x0))
        return (0.0, s, -s, 0.0, placement.x + s * height + s * y0, placement.y - s * x0)
    if placement.rotation == -90:
        # (u, v) -> (x + s*(v - y0), y + s*(width - (u - x0)))
        return (0.0, -s, s, 0.0, placement.x - s * y0, placement.y + s * width + s * x0)
    return (s, 0.0, 0.0, s, placement.x - s * x0, placement.y - s * y0)


def _number(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def _save(pdf: pikepdf.Pdf) -> bytes:
    out = BytesIO()
    # Object streams pack the repeated page dictionaries, which keeps each extra copy to tens of bytes.
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, deterministic_id=True)
    return out.getvalue()


def _drop_structure(pdf: pikepdf.Pdf) -> None:
    # Imposed sheets draw the leaflet through repeated form XObjects, which a structure tree cannot describe;
    # a file that kept the tree, or its PDF/UA claim, would mislead screen readers and validators.
    for key in ("/StructTreeRoot", "/MarkInfo"):
        if key in pdf.Root:
            del pdf.Root[key]
    if "/Metadata" in pdf.Root:
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            for key in ("pdfuaid:part", "pdfuaid:conformance"):
                if key in meta:
                    del meta[key]


def impose(pdf_bytes: bytes, plan: SheetPlan, *, sheets: int = 1) -> bytes:
    """Place copies of each page on sheets per `plan`, draw the cut marks, and repeat the sheets by reference.

    Each source page becomes one sheet (a two-sided card gives a front sheet and a back sheet); the result
    has `sheets` repetitions of them. Title, author, subject and language are kept.
    """
    if sheets < 1:
        raise ValueError("sheets must be at least 1")
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        sources = list(pdf.pages)
        if len(plan.placements) != len(sources):
            raise ValueError(f"plan places {len(plan.placements)} pages, the document has {len(sources)}")
        marks = ""
        if plan.cut_marks:
            lines = " ".join(
                f"{_number(a[0])} {_number(a[1])} m {_number(b[0])} {_number(b[1])} l" for a, b in plan.cut_marks
            )
            marks = f"q 0 0 0 RG {_number(plan.mark_width)} w 0 J {lines} S Q\n"
        sheet_pages = []
        for source, placements in zip(sources, plan.placements):
            form = source.as_form_xobject()
            bbox = form.BBox
            content = "".join(
                "q {} cm /Leaflet Do Q\n".format(" ".join(_number(v) for v in _form_matrix(placement, bbox)))
                for placement in placements
            )
            sheet = pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, plan.width, plan.height],
                Resources=pikepdf.Dictionary(XObject=pikepdf.Dictionary(Leaflet=form)),
                Contents=pdf.make_stream((content + marks).encode("ascii")),
            )
            sheet_pages.append(pdf.make_indirect(sheet))
        for sheet in sheet_pages:
            pdf.pages.append(pikepdf.Page(sheet))
        del pdf.pages[: len(sources)]
        _drop_structure(pdf)
        _repeat_in_place(pdf, sheets)
        return _save(pdf)


def _repeat_in_place(pdf: pikepdf.Pdf, times: int) -> None:
    if times == 1:
        return
    tree = pdf.Root.Pages
    originals = [page.obj for page in pdf.pages]
    kids = list(originals)
    for _ in range(times - 1):
        # A shallow copy of each page dictionary: the content stream, fonts and images are shared, not copied.
        # Building the page list at once is twice as fast as appending 500 pages through pikepdf's PageList.
        kids.extend(pdf.make_indirect(pikepdf.Dictionary(page)) for page in originals)
    for page in kids:
        page.Parent = tree
    tree.Kids = pikepdf.Array(kids)
    tree.Count = len(kids)


def repeat_pages(pdf_bytes: bytes, copies: int) -> bytes:
    """The document `copies` times over, each repeated page sharing the first copy's content and fonts."""
    if copies < 1:
        raise ValueError("copies must be at least 1")
    if copies == 1:
        return pdf_bytes
    with pikepdf.open(BytesIO(pdf_bytes)) as pdf:
        _repeat_in_place(pdf, copies)
        return _save(pdf)


def mm(value: float) -> float:
    """Millimetres in PDF points."""
    return value * POINTS_PER_MM
