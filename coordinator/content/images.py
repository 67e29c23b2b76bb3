"""Campaign pictures: PNG or JPEG only, checked by their content, re-encoded without metadata.

An upload is judged by its first bytes, never by its name: SVG (which can carry scripts), a text
file renamed .png, or any other format is refused. The size on disk and the size in pixels are
both limited before anything is decoded, so a small file that would unpack to a huge bitmap (a
decompression bomb) is refused without using the memory. What is kept is a fresh encoding of the
pixels, shrunk to at most 1,600 pixels on the long side, with EXIF (camera, place, time),
comments and colour profiles left behind.

The association's logo goes through the same checks and is kept as a PNG (transparency survives, and
emails and leaflets need one kind only), at most 800 pixels on the long side.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
MAX_SIDE = 1600
LOGO_MAX_SIDE = 800
JPEG_QUALITY = 85

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("PNG", "image/png"),
    b"\xff\xd8\xff": ("JPEG", "image/jpeg"),
}


def picture_extension(media_type: str) -> str:
    """The file extension a stored picture is served under: the app keeps PNG and JPEG only."""
    return "png" if media_type == "image/png" else "jpg"


class ImageError(ValueError):
    """The file is not an acceptable picture; the message says why."""


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded picture ready to store."""

    data: bytes
    media_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _sniff(data: bytes) -> tuple[str, str]:
    for signature, kinds in _SIGNATURES.items():
        if data.startswith(signature):
            return kinds
    raise ImageError("The picture must be a PNG or JPEG file. Other kinds, including SVG, are not accepted.")


def clean_image(data: bytes, field: str = "Picture", *, max_side: int = MAX_SIDE, as_png: bool = False) -> CleanImage:
    """Check an uploaded picture and return it re-encoded (as PNG if asked); ImageError says what is wrong."""
    if not data:
        raise ImageError(f"{field}: the file is empty.")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageError(
            f"{field}: the file is {len(data) / (1024 * 1024):.1f} MB; the largest picture accepted is "
            f"{MAX_IMAGE_BYTES // (1024 * 1024)} MB."
        )
    try:
        pillow_format, _media_type = _sniff(data)
    except ImageError as exc:
        raise ImageError(f"{field}: {exc}") from exc
    try:
        with warnings.catch_warnings():
            # Pillow only warns below its own hard limit; any such warning is a refusal here.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[pillow_format]) as picture:
                width, height = picture.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise ImageError(
                        f"{field}: the picture is {width:,} × {height:,} pixels, larger than the "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels accepted. Make it smaller and try again."
                    )
                picture.load()
                cleaned = _reencode(picture, "PNG" if as_png else pillow_format, max_side)
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{field}: the picture is too large to open safely.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(f"{field}: the file could not be read as a {pillow_format} picture. It may be damaged.") \
            from exc
    return cleaned


def clean_logo(data: bytes) -> CleanImage:
    """Check an uploaded logo like a campaign picture and return it as a PNG of at most 800 pixels a side."""
    return clean_image(data, field="Logo", max_side=LOGO_MAX_SIDE, as_png=True)


def _reencode(picture: Image.Image, pillow_format: str, max_side: int) -> CleanImage:
    # Turn the pixels upright as the camera meant, before the orientation tag is left behind.
    upright = ImageOps.exif_transpose(picture)
    if pillow_format == "JPEG":
        upright = upright.convert("RGB")
    elif upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    # Nothing from the original file's metadata travels with the new encoding.
    upright.info = {}
    out = io.BytesIO()
    if pillow_format == "JPEG":
        upright.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        upright.save(out, "PNG", optimize=True)
    media_type = "image/jpeg" if pillow_format == "JPEG" else "image/png"
    return CleanImage(data=out.getvalue(), media_type=media_type, width=upright.width, height=upright.height)
