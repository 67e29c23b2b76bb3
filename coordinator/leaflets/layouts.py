"""The leaflet layouts (A5 flyer, A4 poster, DL, folded A4, A6 postcard, folded wallet card) and how they go on paper.

Each layout has one stylesheet in static/print/ holding its page size. A layout is a flat piece of paper, one
or two sides (pages), each side cut into panels: one panel a side for the A5, DL and A6 leaflets (the campaign on
the front, where to get help on the back) and the A4 poster (everything on one side); three a side for the folded
A4 (a DL tri-fold: outside the inside flap, back and front cover; inside three panels) and two a side for the
folded wallet card. `Layout.panels` names each side's panels, left to right; the print template fills each with
its part of the leaflet and render.py sets each panel's type size to fill it.

For the home printer, copies go on A4 at 100% (2 x A5, 3 x DL, 4 x A6, 5 wallet cards): type prints at the size
it was set. Copies that fill the sheet touch its edges, where home printers print nothing, so every panel keeps a
safe zone (`SAFE_ZONE_MM`) free of text, and the cut marks sit on the cut lines inside that zone, where a cut
takes them away. The sheets of a two-sided layout come in front/back pairs for double-sided printing, flipped
on the long edge. For the print shop, each copy is its flat size plus 3 mm bleed with crop marks
(static/print/shop.css), its pages front then back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from coordinator.pdf import Placement, SheetPlan, mm

A4_MM = (210.0, 297.0)
# Home printers cannot print within ~3-5 mm of the paper's edge. Copies are placed at 100% (shrinking them to
# make room for a margin printed 12 pt body text at 11 pt), so no text comes nearer a copy's edge than this;
# the print stylesheets pad every panel by at least as much (--safe in common.css).
SAFE_ZONE_MM = 6.0
HOME_SHEET_MARGIN_MM = 8.0  # where the sheet has room, cut marks go in a margin this wide, outside the trim
CUT_MARK_GAP_MM = 1.5  # between the trim and the start of a mark, so a mark never shows on a copy
CUT_MARK_LENGTH_MM = 3.0  # ends 3.5 mm from the paper edge, where home printers still print
# Where copies fill the sheet, a mark lies on its cut line from here in from the paper's edge, on blank paper.
INNER_MARK_FROM_MM = 4.0

HOME = "home"
SHOP = "shop"
PRINT_MODES = (HOME, SHOP)


@dataclass(frozen=True)
class HomeGrid:
    """How copies of a layout sit on an A4 sheet for a home printer."""

    columns: int
    rows: int
    is_rotated: bool = False  # copies turned 90 degrees, e.g. two landscape-placed A5s on portrait A4

    @property
    def copies_per_sheet(self) -> int:
        """Copies of the leaflet on one side of one sheet."""
        return self.columns * self.rows


@dataclass(frozen=True)
class Layout:
    """One printed format of a leaflet."""

    key: str
    label: str  # as the coordinator sees it: "A5 flyer"
    short_name: str  # in messages: "A5"
    width_mm: float
    height_mm: float
    pages: int  # sides of one copy: 2, or 1 for the A4 poster
    is_card: bool  # cards allow smaller type (>= 8 pt) than leaflets (>= 12 pt)
    has_large_print: bool
    larger: str | None  # the layout to suggest when the text does not fit
    home_grid: HomeGrid | None  # None: the layout is already A4, one copy per sheet
    # Each side's panels, left to right, by what they hold (see templates/print/leaflet.html).
    panels: tuple[tuple[str, ...], ...] = (("front",), ("back",))
    max_fit: float = 2.0  # the most the type may grow over its minimum to fill a panel
    folds: int = 0  # folds across the width: 2 for a tri-fold, 1 for the folded wallet card

    @property
    def min_body_pt(self) -> float:
        """The smallest body text this layout prints (large print: 14 pt)."""
        return 9.0 if self.is_card else 12.0

    @property
    def panel_width_mm(self) -> float:
        """The width of one panel once folded."""
        return self.width_mm / (self.folds + 1)

    @property
    def stylesheet(self) -> str:
        """The asset path of this layout's stylesheet."""
        return f"print/{self.key}.css"

    @property
    def size_points(self) -> tuple[float, float]:
        """Trim width and height in PDF points."""
        return mm(self.width_mm), mm(self.height_mm)

    @property
    def copies_per_sheet(self) -> int:
        """Copies on one A4 sheet for a home printer."""
        return self.home_grid.copies_per_sheet if self.home_grid else 1

    @property
    def is_two_sided(self) -> bool:
        """Printed on both sides of the paper."""
        return self.pages == 2


LAYOUTS: dict[str, Layout] = {
    layout.key: layout
    for layout in (
        Layout("a5", "A5 flyer", "A5", 148, 210, 2, False, True, "a4", HomeGrid(1, 2, is_rotated=True)),
        Layout("a4", "A4 poster", "A4", 210, 297, 1, False, True, None, None, panels=(("poster",),), max_fit=2.2),
        Layout("dl", "DL leaflet", "DL", 99, 210, 2, False, True, "a4-folded", HomeGrid(1, 3, is_rotated=True)),
        # A sheet of A4 folded in three to DL: the most common door-drop leaflet. Outside, left to right: the
        # flap that folds in, the back cover and the front cover; inside, three panels read left to right.
        Layout("a4-folded", "folded A4 leaflet (DL tri-fold)", "folded A4", 297, 210, 2, False, True, "a4", None,
               panels=(("flap", "back-cover", "front"), ("inside-1", "inside-2", "inside-3")), folds=2, max_fit=2.0),
        Layout("a6", "A6 postcard", "A6", 105, 148, 2, False, False, "a5", HomeGrid(2, 2)),
        # Folded once to bank-card size (85 x 55 mm): outside the back and a neutral front, inside the numbers.
        Layout("wallet", "folded wallet card", "the wallet card", 170, 55, 2, True, False, "a6", HomeGrid(1, 5),
               panels=(("card-back", "card-front"), ("card-inside-1", "card-inside-2")), folds=1, max_fit=2.4),
    )
}


def get_layout(key: str) -> Layout:
    """The layout called `key`; ValueError naming the choices for anything else."""
    try:
        return LAYOUTS[key]
    except KeyError:
        raise ValueError(f"Unknown layout {key!r}: choose one of {', '.join(LAYOUTS)}") from None


@dataclass(frozen=True)
class PrintPlan:
    """How many copies, sheets of paper and PDF pages a print of one leaflet takes."""

    copies: int  # leaflets that come out, after cutting (home sheets are filled, so this may round up)
    copies_per_sheet: int
    sheets: int  # sheets of paper
    pages: int  # pages in the PDF
    sides: int = 1  # printed sides of each sheet: 2 means print double-sided

    @property
    def is_double_sided(self) -> bool:
        """Each sheet is printed on both sides."""
        return self.sides == 2


def plan_print(layout: Layout, mode: str, copies: int) -> PrintPlan:
    """Copies, sheets of paper and PDF pages for `copies` of `layout` printed in `mode`."""
    if mode not in PRINT_MODES:
        raise ValueError(f"Unknown print mode {mode!r}: choose home or shop")
    if copies < 1:
        raise ValueError("copies must be at least 1")
    if mode == SHOP:
        # The shop prints the trim-size pages; a two-sided card is two pages per copy.
        return PrintPlan(copies, 1, copies, copies * layout.pages, layout.pages)
    per_sheet = layout.copies_per_sheet
    sheets = math.ceil(copies / per_sheet)
    return PrintPlan(sheets * per_sheet, per_sheet, sheets, sheets * layout.pages, layout.pages)


def home_scale(layout: Layout) -> float:
    """How much copies shrink on a home sheet: never (1.0), so type prints at the size it was set."""
    return 1.0


def home_sheet_plan(layout: Layout) -> SheetPlan:
    """Where copies go on an A4 sheet for a home printer, at 100%, with cut marks.

    Copies touch, so one cut separates two. Where the sheet leaves a margin round the copies, the marks sit in
    it, outside the trim; where copies reach the paper's edge, a mark lies on each cut line near the edge, in
    the copies' safe zone, and the cut removes it. For a two-sided layout the second sheet holds the backs: printed
    on the other side of the paper, flipped on the long edge, each back lands behind its front the right way
    up for a reader who turns the leaflet over like a page of a book.
    """
    sheet_w, sheet_h = mm(A4_MM[0]), mm(A4_MM[1])
    grid = layout.home_grid
    if grid is None:
        return SheetPlan(sheet_w, sheet_h, tuple((Placement(0, 0),) for _ in range(layout.pages)))
    scale = home_scale(layout)
    trim_w, trim_h = layout.size_points
    cell_w, cell_h = (trim_h * scale, trim_w * scale) if grid.is_rotated else (trim_w * scale, trim_h * scale)
    grid_w, grid_h = cell_w * grid.columns, cell_h * grid.rows
    left, bottom = (sheet_w - grid_w) / 2, (sheet_h - grid_h) / 2

    def placement(column: int, row: int, rotation: int) -> Placement:
        return Placement(left + column * cell_w, bottom + (grid.rows - 1 - row) * cell_h, scale, rotation)

    # Copies turned on the sheet have their tops to its left. Flipping the paper on its long edge turns them
    # top to bottom, so their backs are turned the other way, tops to the right.
    front_turn, back_turn = (90, -90) if grid.is_rotated else (0, 0)
    fronts = tuple(placement(c, r, front_turn) for r in range(grid.rows) for c in range(grid.columns))
    # A back sits behind its front: mirrored left to right once the sheet is turned over.
    backs = tuple(
        placement(grid.columns - 1 - c, r, back_turn) for r in range(grid.rows) for c in range(grid.columns)
    )
    placements = (fronts, backs) if layout.pages == 2 else (fronts,)

    return SheetPlan(sheet_w, sheet_h, placements, tuple(_cut_marks(sheet_w, sheet_h, left, bottom, cell_w, cell_h, grid)))


def _cut_marks(sheet_w: float, sheet_h: float, left: float, bottom: float, cell_w: float, cell_h: float,
               grid: HomeGrid) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    gap, length = mm(CUT_MARK_GAP_MM), mm(CUT_MARK_LENGTH_MM)
    top, right = bottom + cell_h * grid.rows, left + cell_w * grid.columns
    room = mm(CUT_MARK_GAP_MM + CUT_MARK_LENGTH_MM + 3.5)  # a mark outside the trim, and the printer's edge
    inner_from, inner_to = mm(INNER_MARK_FROM_MM), mm(INNER_MARK_FROM_MM + CUT_MARK_LENGTH_MM)
    marks = []
    for column in range(grid.columns + 1):
        x = left + column * cell_w
        if bottom >= room:
            marks.append(((x, top + gap), (x, top + gap + length)))
            marks.append(((x, bottom - gap), (x, bottom - gap - length)))
        elif 0 < column < grid.columns:
            marks.append(((x, sheet_h - inner_from), (x, sheet_h - inner_to)))
            marks.append(((x, inner_from), (x, inner_to)))
    for row in range(grid.rows + 1):
        y = bottom + row * cell_h
        if left >= room:
            marks.append(((left - gap, y), (left - gap - length, y)))
            marks.append(((right + gap, y), (right + gap + length, y)))
        elif 0 < row < grid.rows:
            marks.append(((inner_from, y), (inner_to, y)))
            marks.append(((sheet_w - inner_from, y), (sheet_w - inner_to, y)))
    return marks
