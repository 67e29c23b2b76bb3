"""Phone numbers kept whole, and web addresses that break only where a reader expects.

A number split across two lines ("0808 2000 / 247") is misdialled, so wherever the toolkit shows one (web pages,
delivery sheets) its spaces become no-break spaces and, in HTML, it sits in a `<span class="number">` that
app.css keeps on one line. Preflight (coordinator/leaflets/preflight.py) refuses a printed number split all the
same, finding numbers with the same pattern.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

NO_BREAK_SPACE = "\u00a0"

# UK numbers as people write them, groups separated by a space (or a no-break space) or not at all: 0808 2000 247,
# 020 7946 0018, 07700 900123, +44 20 7946 0018, and the 116 numbers (116 123). 999 and 101 are one group already.
PHONE_NUMBER = re.compile(r"(?<![\d+])(?:\+44[ \u00a0]?\d{2,4}|0\d{2,4}|116)(?:[ \u00a0]?\d{3,4}){1,2}(?!\d)")


def keep_numbers_whole(text: str) -> str:
    """The text with the spaces inside each phone number made no-break spaces (plain text in, plain text out)."""
    return PHONE_NUMBER.sub(lambda match: match.group().replace(" ", NO_BREAK_SPACE), text)


def numbers_kept_whole(text: object) -> Markup:
    """Jinja filter: the text, escaped, with each phone number one unbreakable `<span class="number">`.

    Markup (HTML made elsewhere) is returned as it is: a number inside an attribute must not be wrapped.
    """
    if isinstance(text, Markup):
        return text
    escaped = str(escape("" if text is None else str(text)))
    # Escaping leaves digits, spaces and "+" alone, so the numbers are found in the escaped text as they were typed.
    return Markup(PHONE_NUMBER.sub(
        lambda match: f'<span class="number">{match.group().replace(" ", "&nbsp;")}</span>', escaped))


# A part of an address longer than this may not fit a phone's line whole (about 30 characters at 320 pixels): it is
# left free to break anywhere (app.css .address), which beats a page that scrolls sideways.
LONGEST_WHOLE_PART = 28


def breakable_address(address: object) -> Markup:
    """Jinja filter: a web address, escaped, that breaks after "/" or "." and not at a hyphen inside a part.

    Each part up to and including its "/" or "." is a `<span class="address-part">` kept on one line, with a
    `<wbr>` after it; a part too long for a phone's line is left as plain text, free to break where it must.
    """
    text = "" if address is None else str(address)
    pieces = []
    for part in re.findall(r"[^/.]*[/.]|[^/.]+$", text):
        escaped = str(escape(part))
        pieces.append(f'<span class="address-part">{escaped}</span>' if len(part) <= LONGEST_WHOLE_PART else escaped)
    return Markup("<wbr>".join(pieces))
