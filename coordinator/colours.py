"""Colours as WCAG 2.2 measures them: a "#rrggbb" string, its relative luminance, and the contrast of two colours.

One place for the arithmetic, so the brand colour's check in Settings and any later check of printed or emailed
colours give the same figure for the same pair.
"""

from __future__ import annotations

import re

WHITE = "#ffffff"
# WCAG 2.2 success criterion 1.4.3 (AA): normal-size text needs at least 4.5:1 against its background.
MINIMUM_TEXT_CONTRAST = 4.5

_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def normalise_hex(value: str) -> str | None:
    """'#1D4E89', '1d4e89' or '#14a' as '#1d4e89' / '#1144aa'; None when it is not a hex colour."""
    match = _HEX.fullmatch(value.strip())
    if match is None:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return "#" + digits


def relative_luminance(colour: str) -> float:
    """The WCAG relative luminance of a "#rrggbb" colour, from 0 (black) to 1 (white)."""
    channels = []
    for i in (1, 3, 5):
        c = int(colour[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two "#rrggbb" colours, from 1 (none) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
