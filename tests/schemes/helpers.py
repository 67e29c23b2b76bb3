"""Small things the schemes tests share: hostile text and CSV uploads."""

from __future__ import annotations

HOSTILE_TEXTS = ("<script>alert(1)</script>", "{{ 7*7 }}", '"><img src=x onerror=alert(1)>')


def csv_bytes(*lines: str, header: str = "name,postcode,households,no_leaflets,delivery_notes") -> bytes:
    """A small CSV upload, header first, lines joined with CRLF as a spreadsheet saves them."""
    return "\r\n".join([header, *lines]).encode("utf-8") + b"\r\n"
