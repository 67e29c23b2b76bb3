"""Campaign pictures: only real PNG or JPEG, limited in size and pixels, re-encoded without metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from coordinator.content import drafting
from coordinator.content.fields import FieldErrors
from coordinator.content.images import MAX_SIDE, ImageError, clean_image
from coordinator.content.models import ContentImage, ContentKind
from coordinator.extensions import db
from tests.factories import campaign_fields, make_admin


def picture(fmt: str = "JPEG", size=(80, 60), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "navy").save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0132] = "2026:01:01 10:00:00"  # DateTime
    return picture("JPEG", exif=exif.tobytes())


def test_a_jpeg_with_exif_comes_out_without_it():
    original = jpeg_with_exif()
    assert b"SecretCam" in original and "exif" in Image.open(io.BytesIO(original)).info
    cleaned = clean_image(original)
    assert cleaned.media_type == "image/jpeg"
    assert b"SecretCam" not in cleaned.data
    reopened = Image.open(io.BytesIO(cleaned.data))
    assert "exif" not in reopened.info and not reopened.getexif()


def test_png_text_chunks_are_dropped_and_png_stays_png():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "home address 12 Hayes Lane")
    cleaned = clean_image(picture("PNG", mode="RGBA", pnginfo=info))
    assert cleaned.media_type == "image/png"
    assert b"Hayes Lane" not in cleaned.data


def test_large_pictures_are_shrunk_to_the_longest_side():
    cleaned = clean_image(picture("PNG", size=(3200, 800)))
    assert (cleaned.width, cleaned.height) == (MAX_SIDE, 400)


def test_svg_is_refused():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    with pytest.raises(ImageError, match="PNG or JPEG.*SVG"):
        clean_image(svg)


def test_a_text_file_renamed_png_is_refused():
    with pytest.raises(ImageError, match="PNG or JPEG"):
        clean_image(b"just some notes, saved as notes.png\n")


def test_a_file_that_starts_like_a_png_but_is_not_one_is_refused():
    with pytest.raises(ImageError, match="could not be read"):
        clean_image(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)


def test_a_decompression_bomb_is_refused_before_decoding():
    # 10,000 x 10,000 one-bit pixels: a few kilobytes on disk, 100 megapixels when opened.
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG", optimize=True)
    bomb = out.getvalue()
    assert len(bomb) < 200_000
    with pytest.raises(ImageError, match="megapixels|too large"):
        clean_image(bomb)


def test_files_over_5_mb_are_refused_with_their_size():
    with pytest.raises(ImageError, match=r"50\.0 MB.*5 MB"):
        clean_image(b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024 - 3))


def test_a_campaign_keeps_its_cleaned_picture_once():
    admin = make_admin()
    original = jpeg_with_exif()
    first = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(image_upload=original), admin)
    second = drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(image_upload=original), admin)
    assert first.image is not None and first.image is second.image
    assert b"SecretCam" not in first.image.data
    assert db.session.query(ContentImage).count() == 1


def test_a_bad_picture_is_a_field_error_on_the_campaign():
    with pytest.raises(FieldErrors) as caught:
        drafting.create_item(ContentKind.CAMPAIGN, campaign_fields(image_upload=b"<svg/>"), make_admin())
    assert caught.value.errors["image_upload"].startswith("Picture:")
