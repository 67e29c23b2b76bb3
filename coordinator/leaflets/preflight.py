"""Preflight: what a print shop's checks would refuse, found in the laid-out document before any PDF is written.

`check_document(document, rules)` reads WeasyPrint's laid-out pages (the box tree of `Document.pages`) once and
returns every problem it finds, each naming the leaflet field it came from and saying what to change:
- text printed under the format's minimum size (RNIB Clear Print: 12 pt on leaflets), measured as it prints,
  after a home sheet's scale; the small print (an element with class "small-print") has its own minimum;
- content that runs out of its panel (an element with `data-panel`) or off its page;
- a phone number split across two lines, a web address split in the middle of a word (after "/" or "." it may
  break: that is where a reader expects it to), or any other word cut where it does not break;
- a character none of the fonts its text asks for has (its CSS font-family, each family's bundled @font-face
  files in static/print/): it would print as an empty box, or in whatever font the machine happens to have;
- text whose colour has less than 4.5:1 contrast with the background painted behind it (WCAG 2.2 AA).

The field is the nearest `data-field` attribute around the text in the print template (templates/print/); a
builder shows the message at that field. `coordinator.pdf.render_pdf` runs it on every render and raises
`PreflightFailed`.

Cost measured on this machine (bench/preflight.py): 1-3 ms of CPU a leaflet, 0.4-1.2% of laying it out.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from coordinator.numbers import PHONE_NUMBER

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
FONTS_DIR = STATIC_DIR / "fonts"
PRINT_CSS_DIR = STATIC_DIR / "print"

MIN_CONTRAST = 4.5  # WCAG 2.2 AA for body text; print is held to the same
PX_TO_PT = 0.75  # WeasyPrint lays out in CSS pixels, 96 to the inch; a point is 1/72 inch
SMALL_PRINT_CLASS = "small-print"

# Something a reader would type: a scheme, a www., a domain ending (.org, .uk) or an email's @.
_ADDRESS = re.compile(r"://|^\W*www\.|[\w-]\.[a-z]{2,}\b|@[\w-]+\.", re.IGNORECASE)
_DIGITS = re.compile(r"^\+?[\d()\-]{3,}$")
_TAIL = re.compile(r"\S+$")
_HEAD = re.compile(r"^\S+")

FIELD_LABELS = {
    "headline": "The headline",
    "hashtag": "The hashtag",
    "summary": "The summary",
    "key_messages": "A key message",
    "call_to_action": "The call to action",
    "web_address": "The web address",
    "helplines": "The helplines",
    "police": "The police block",
    "notice": "The local notice",
    "local_notice": "The local notice",
    "contact_line": "The contact line",
    "association_name": "The association's name",
    "signup": "The sign-up panel",
    "sign_up": "The sign-up panel",
    "small_print": "The small print",
}


@dataclass(frozen=True)
class PrintRules:
    """What a document must meet. Without a minimum size, the size of text is not checked."""

    min_text_pt: float | None = None
    min_small_print_pt: float | None = None  # for the small print (date, reference); None: as min_text_pt
    scale: float = 1.0  # how much the page is shrunk where it prints (a home sheet's scale)
    min_contrast: float = MIN_CONTRAST


@dataclass(frozen=True)
class Problem:
    """One thing preflight refuses: the rule, the field it came from ("" when none says), the page, and what to do."""

    rule: str  # "small-text", "overflow", "split-number", "split-address", "split-word", "missing-glyph", "contrast"
    field: str
    page: int
    text: str
    message: str


class PreflightFailed(ValueError):
    """The laid-out document breaks a preflight rule; `problems` says each one and where, the message the first."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        first = self.problems[0].message
        more = len(self.problems) - 1
        super().__init__(first if not more else f"{first} (and {more} more problem{'s' if more > 1 else ''})")

    def __reduce__(self):
        # A render process sends its exceptions back pickled: rebuild from the problems, not the message.
        return type(self), (self.problems,)

    @property
    def fields(self) -> dict[str, str]:
        """The first message for each field, for a form to show at the field ("" for the rest)."""
        found: dict[str, str] = {}
        for problem in self.problems:
            found.setdefault(problem.field, problem.message)
        return found


def field_label(field: str) -> str:
    """How a message names a field: "The contact line"; "The leaflet" when no field is known."""
    if not field:
        return "The leaflet"
    return FIELD_LABELS.get(field, f"The {field.replace('_', ' ')}")


# --- Reading the box tree ---------------------------------------------------------------------------------------


@dataclass
class _Where:
    field: str
    is_small_print: bool
    left: float
    right: float
    panel: tuple[float, float, float, float] | None  # x0, y0, x1, y1 of the nearest data-panel's border box
    panel_element: object
    background: tuple[float, float, float]


def check_document(document, rules: PrintRules) -> list[Problem]:
    """Every preflight problem in a laid-out WeasyPrint document, in page order; [] when it may print."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()

    def add(rule: str, where_field: str, page: int, text: str, message: str) -> None:
        # One message per rule, field and text: a word repeated on every line of a panel is said once.
        key = (rule, where_field, text)
        if key not in seen:
            seen.add(key)
            problems.append(Problem(rule, where_field, page, text, message))

    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        page_background = _paint(page_box.style["background_color"], (1.0, 1.0, 1.0))
        on_page = _OnPage(number, page, rules, add)
        _walk(page_box, _Where("", False, 0.0, page.width, None, None, page_background), on_page)
    return problems


@dataclass(frozen=True)
class _OnPage:
    number: int
    page: object
    rules: PrintRules
    add: object


def _walk(box, where: _Where, on: _OnPage) -> None:
    from weasyprint.formatting_structure.boxes import BlockContainerBox, LineBox, ParentBox, ReplacedBox, TextBox

    element = getattr(box, "element", None)
    if element is not None and getattr(box, "element_tag", None) is not None:
        field = element.get("data-field")
        classes = (element.get("class") or "").split()
        if field or SMALL_PRINT_CLASS in classes or element.get("data-panel") is not None:
            where = _Where(**vars(where))
            if field:
                where.field = field
            if SMALL_PRINT_CLASS in classes:
                where.is_small_print = True
            # Anonymous boxes inside a panel share its element: the panel is its first (principal) box.
            if element.get("data-panel") is not None and box.width is not None and element is not where.panel_element:
                where.panel_element = element
                where.panel = (box.border_box_x(), box.border_box_y(),
                               box.border_box_x() + box.border_width(), box.border_box_y() + box.border_height())
    if not isinstance(box, TextBox):
        background = _paint(box.style["background_color"], where.background)
        if background != where.background:
            where = _Where(**{**vars(where), "background": background})
    if isinstance(box, BlockContainerBox) and box.width is not None:
        where = _Where(**{**vars(where), "left": box.padding_box_x(),
                          "right": box.padding_box_x() + box.padding_width()})
        if box.children and isinstance(box.children[0], LineBox):
            _check_line_breaks(box, where, on.number, on.add)
    if isinstance(box, TextBox) and box.text.strip():
        _check_text(box, where, on.number, on.page, on.rules, on.add)
    elif isinstance(box, ReplacedBox) and where.panel is not None:
        _check_inside(box, where, on.number, on.page, "a picture", on.add)
    if isinstance(box, ParentBox):
        for child in box.children:
            _walk(child, where, on)


def _check_text(box, where: _Where, page_number: int, page, rules: PrintRules, add) -> None:
    text = box.text.strip()
    label = field_label(where.field)
    minimum = rules.min_text_pt
    if where.is_small_print and rules.min_small_print_pt is not None:
        minimum = rules.min_small_print_pt
    # A bullet or a rule drawn with a character is decoration, not words to read: its size and colour are the
    # design's to choose.
    is_words = any(character.isalnum() for character in text)
    if minimum is not None and is_words:
        size = box.style["font_size"] * PX_TO_PT * rules.scale
        if size < minimum - 0.05:
            add("small-text", where.field, page_number, text,
                f"{label} prints at {size:.1f} pt on page {page_number}, under this format's {minimum:g} pt "
                "minimum: shorten the text so the type can be larger, or choose a larger format.")
    _check_inside(box, where, page_number, page, _snippet(text), add)
    if missing := _uncovered(text, tuple(box.style["font_family"])):
        named = [f"“{character}” (U+{ord(character):04X})" for character in missing[:5]]
        which = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        add("missing-glyph", where.field, page_number, "".join(missing),
            f"{label} has {'the character' if len(missing) == 1 else 'characters'} {which}, which none of the "
            "leaflet's fonts can print: remove them or write them another way." if len(missing) > 1 else
            f"{label} has the character {which}, which none of the leaflet's fonts can print: remove it or write it "
            "another way.")
    colour = _paint(box.style["color"], where.background)
    ratio = contrast(colour, where.background)
    if is_words and ratio < rules.min_contrast - 0.005:
        add("contrast", where.field, page_number, text,
            f"{label} on page {page_number} has a contrast of {ratio:.1f}:1 with the colour behind it, under "
            f"{rules.min_contrast:g}:1: choose a darker text colour or a lighter background (or the other way round).")


def _check_inside(box, where: _Where, page_number: int, page, what: str, add) -> None:
    # WeasyPrint clips nothing: text wider than its block is drawn over its neighbour, text below its panel over
    # the next panel, and text off the page is cut at the paper's edge.
    x0, y0 = box.position_x, box.position_y
    x1, y1 = x0 + box.margin_width(), y0 + box.margin_height()
    tolerance = 0.5
    left, right = max(where.left, 0.0), min(where.right, page.width)
    is_out = y0 < -tolerance or y1 > page.height + tolerance or x0 < left - tolerance or x1 > right + tolerance
    if where.panel is not None:
        px0, py0, px1, py1 = where.panel
        is_out = is_out or x0 < px0 - tolerance or x1 > px1 + tolerance or y0 < py0 - tolerance or y1 > py1 + tolerance
    if is_out:
        add("overflow", where.field, page_number, what,
            f"{field_label(where.field)} runs out of its panel on page {page_number} ({what}): shorten it, or choose "
            "a larger format.")


def _line_text(line) -> str:
    from weasyprint.formatting_structure.boxes import ParentBox, TextBox

    parts: list[str] = []

    def collect(box) -> None:
        if isinstance(box, TextBox):
            parts.append(box.text)
        elif isinstance(box, ParentBox):
            for child in box.children:
                collect(child)

    collect(line)
    # <wbr> lays out as a zero-width space, which the element's own text does not have.
    return "".join(parts).replace("\u200b", "")


def _source_text(box) -> str:
    element = box.element
    text = "".join(element.itertext()) if element is not None else ""
    return re.sub(r"[ \t\r\n]+", " ", text)


def _word_around(source: str, lowered: str, joined: str) -> str:
    """The whole word of the element's text that holds `joined` (a line's last word run into the next's first)."""
    start = lowered.find(joined)
    end = start + len(joined)
    while start > 0 and not source[start - 1].isspace():
        start -= 1
    while end < len(source) and not source[end].isspace():
        end += 1
    return source[start:end]


def _check_line_breaks(block, where: _Where, page_number: int, add) -> None:
    lines = [_line_text(line) for line in block.children]
    if len(lines) < 2:
        return
    source = None
    for before, after in itertools.pairwise(lines):
        before, after = before.rstrip(" "), after.lstrip(" ")
        tail, head = _TAIL.search(before), _HEAD.search(after)
        if tail is None or head is None:
            continue
        # WeasyPrint drops the space a line ends at, so whether a break fell between two words or inside one is
        # read from the element's own text.
        if source is None:
            source = _source_text(block)
            lowered = source.lower()
        joined, spaced = (tail.group() + head.group()).lower(), f"{tail.group()} {head.group()}".lower()
        is_inside_a_word = joined in lowered and spaced not in lowered
        label = field_label(where.field)
        if is_inside_a_word:
            token = _word_around(source, lowered, joined)
            if _ADDRESS.search(token):
                if not tail.group().endswith(("/", ".")):
                    add("split-address", where.field, page_number, token,
                        f"{label}: the address {token} is split in the middle of a word on page {page_number}: "
                        "print a shorter address, or let it break only after “/” or “.”.")
            elif _DIGITS.match(token):
                add("split-number", where.field, page_number, token, _split_number_message(label, token, page_number))
            elif not tail.group().endswith(("-", "\u2010", "\u00ad", "/")) and token.isalpha():
                # A word cut where it does not break ("neighbour" / "s"), as WeasyPrint does to a word wider than
                # its line rather than let it run out: a hyphenated word may break at its hyphen.
                add("split-word", where.field, page_number, token,
                    f"{label}: the word “{token}” is cut across two lines on page {page_number}: shorten it or the "
                    "text around it, or choose a larger format.")
            continue
        combined = f"{before} {after}"
        boundary = len(before)
        for match in PHONE_NUMBER.finditer(combined):
            if match.start() < boundary < match.end():
                number = match.group().replace("\u00a0", " ")
                add("split-number", where.field, page_number, number,
                    _split_number_message(label, number, page_number))


def _split_number_message(label: str, number: str, page_number: int) -> str:
    return (f"{label}: the number {number} is split across two lines on page {page_number}: keep it on one line "
            "(shorten the text around it, or choose a larger format).")


# --- Fonts and colours ------------------------------------------------------------------------------------------


@cache
def bundled_characters() -> frozenset[int]:
    """Every character one of the bundled fonts (static/fonts/) can print."""
    covered: set[int] = set()
    for path in sorted(FONTS_DIR.glob("*.[ot]tf")):
        covered |= _font_characters(path)
    return frozenset(covered)


@cache
def _font_characters(path: Path) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


@cache
def _font_faces() -> dict[str, tuple[Path, ...]]:
    """Each @font-face family of the bundled print stylesheets, with its font files."""
    import tinycss2

    faces: dict[str, list[Path]] = {}
    for sheet in sorted(PRINT_CSS_DIR.glob("*.css")):
        rules = tinycss2.parse_stylesheet(sheet.read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True)
        for rule in rules:
            if rule.type != "at-rule" or rule.lower_at_keyword != "font-face" or rule.content is None:
                continue
            family, files = "", []
            for declaration in tinycss2.parse_blocks_contents(rule.content, skip_comments=True, skip_whitespace=True):
                if declaration.type != "declaration":
                    continue
                tokens = [token for token in declaration.value if token.type not in ("whitespace", "comment")]
                if declaration.lower_name == "font-family":
                    family = " ".join(str(token.value) for token in tokens if token.type in ("string", "ident"))
                elif declaration.lower_name == "src":
                    for token in tokens:
                        url = token.value if token.type == "url" else None
                        if token.type == "function" and token.lower_name == "url":
                            url = next((arg.value for arg in token.arguments if arg.type == "string"), None)
                        if url:
                            files.append((sheet.parent / url).resolve())
            if family:
                faces.setdefault(family, []).extend(path for path in files if path.is_file())
    return {family: tuple(paths) for family, paths in faces.items()}


@cache
def family_characters(families: tuple[str, ...]) -> frozenset[int]:
    """Every character the bundled fonts of these CSS font families can print (the machine's own fonts do not count)."""
    faces = _font_faces()
    covered: set[int] = set()
    for family in families:
        for path in faces.get(family, ()):
            covered |= _font_characters(path)
    return frozenset(covered)


def _uncovered(text: str, families: tuple[str, ...]) -> list[str]:
    if text.isascii() and families and family_characters(families) >= _ASCII_PRINTABLE:
        return []  # most lines need no look-up
    covered = family_characters(families)
    found = []
    for character in dict.fromkeys(text):
        # Spaces, joiners and other format characters print nothing of their own.
        if ord(character) not in covered and unicodedata.category(character) not in {"Zs", "Cc", "Cf"}:
            found.append(character)
    return found


_ASCII_PRINTABLE = frozenset(range(0x21, 0x7F))


def _rgb(colour) -> tuple[tuple[float, float, float], float]:
    if colour.space == "device-cmyk":
        c, m, y, k = colour.coordinates
        return ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)), colour.alpha
    r, g, b = colour.to("srgb").coordinates
    return (min(max(r, 0.0), 1.0), min(max(g, 0.0), 1.0), min(max(b, 0.0), 1.0)), colour.alpha


def _paint(colour, under: tuple[float, float, float]) -> tuple[float, float, float]:
    """The colour seen when `colour` (perhaps see-through) is painted over `under`."""
    if colour is None or isinstance(colour, str):
        return under
    rgb, alpha = _rgb(colour)
    if alpha >= 1:
        return rgb
    if alpha <= 0:
        return under
    return tuple(alpha * top + (1 - alpha) * bottom for top, bottom in zip(rgb, under))


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(channel) for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: tuple[float, float, float], second: tuple[float, float, float]) -> float:
    """The WCAG contrast ratio of two sRGB colours (channels 0-1): 1 to 21."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _snippet(text: str) -> str:
    return text if len(text) <= 40 else text[:39] + "…"
