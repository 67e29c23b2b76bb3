"""Pictures for upload tests, made on the spot with Pillow."""

from __future__ import annotations

import io

from PIL import Image


def png(colour: str = "navy") -> bytes:
    """An 80 x 60 PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), colour).save(buffer, "PNG")
    return buffer.getvalue()
