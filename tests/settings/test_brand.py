"""The association's face: a brand colour white text can be read on, and a logo checked and re-encoded like a
campaign picture (PNG only, metadata gone, hostile files refused); brand() hands both to emails and leaflets."""

from __future__ import annotations

import base64
import dataclasses
import io

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from coordinator.audit.models import AuditEntry
from coordinator.colours import contrast_ratio, normalise_hex
from coordinator.content.images import LOGO_MAX_SIDE, MAX_IMAGE_BYTES
from coordinator.extensions import db
from coordinator.settings import (
    DEFAULT_BRAND_COLOUR,
    SettingsChange,
    SettingsError,
    brand,
    get_settings,
    update_settings,
)


def _change(**overrides) -> SettingsChange:
    settings = get_settings()
    values = {f.name: getattr(settings, f.name) for f in dataclasses.fields(SettingsChange) if hasattr(settings, f.name)}
    values.update(overrides)
    return SettingsChange(**values)


def picture(fmt: str = "PNG", size=(300, 100), mode="RGBA", colour="navy", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def _audit_changes() -> list[dict]:
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "settings.changed")).all()
    return [entry.details["changes"] for entry in entries]


# --- Colour ---------------------------------------------------------------------------------------


def test_contrast_is_measured_as_wcag_does():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#ffffff", "#ffffff"), 2) == 1.0
    # The two greys either side of AA's line for white text.
    assert contrast_ratio("#767676", "#ffffff") >= 4.5 > contrast_ratio("#777777", "#ffffff")
    assert normalise_hex(" 1D4E89 ") == "#1d4e89" and normalise_hex("#14a") == "#1144aa"
    assert normalise_hex("navy") is None and normalise_hex("#1d4e8") is None


def test_the_default_brand_is_the_colour_leaflets_already_use_and_no_logo(app):
    current = brand()
    assert current.name == "Bromley Neighbourhood Watch Association"
    assert current.colour == DEFAULT_BRAND_COLOUR == "#1d4e89"
    assert (current.logo_png, current.logo_width, current.logo_height, current.logo_version) == (None, None, None, "")
    assert current.logo_data_uri() is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        current.colour = "#000000"


@pytest.mark.parametrize("typed", ["#0B0C0C", "0b0c0c", "#767676", "  #005ea5 "])
def test_a_dark_colour_is_kept_in_lower_case_with_its_hash(app, typed):
    assert update_settings(_change(brand_colour=typed)) == ["brand_colour"]
    assert brand().colour == normalise_hex(typed)
    [changes] = _audit_changes()
    assert changes["brand_colour"] == {"old": "#1d4e89", "new": normalise_hex(typed)}


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("#777777", r"contrast of 4\.5:1.*at least 4\.5:1"),  # 4.48:1, just under
        ("#ffcc00", r"contrast of 1\.\d:1"),
        ("#ffffff", r"contrast of 1\.0:1"),
        ("navy", "hex colour code"),
        ("#12345", "hex colour code"),
        ("", "hex colour code"),
    ],
)
def test_a_colour_white_text_cannot_be_read_on_is_refused(app, typed, words):
    with pytest.raises(SettingsError, match=words) as refused:
        update_settings(_change(brand_colour=typed))
    assert refused.value.field == "brand_colour"
    db.session.rollback()
    assert brand().colour == DEFAULT_BRAND_COLOUR


# --- Logo -----------------------------------------------------------------------------------------


def test_a_logo_is_kept_as_a_png_with_its_size_and_audited_by_its_short_name(app):
    info = PngInfo()
    info.add_text("Comment", "made at 12 Hayes Lane")
    changed = update_settings(_change(logo_upload=picture(pnginfo=info)))
    db.session.commit()
    assert changed == ["logo"]
    current = brand()
    assert current.logo_png.startswith(b"\x89PNG\r\n\x1a\n") and b"Hayes Lane" not in current.logo_png
    assert (current.logo_width, current.logo_height) == (300, 100)
    assert len(current.logo_version) == 12
    assert current.logo_data_uri() == "data:image/png;base64," + base64.b64encode(current.logo_png).decode()
    # The audit log names the logo, never holds its bytes.
    [changes] = _audit_changes()
    assert changes == {"logo": {"old": None, "new": current.logo_version}}


def test_a_jpeg_logo_becomes_a_png_and_a_large_one_is_shrunk(app):
    update_settings(_change(logo_upload=picture("JPEG", size=(2400, 1200), mode="RGB")))
    current = brand()
    with Image.open(io.BytesIO(current.logo_png)) as reopened:
        assert reopened.format == "PNG"
        assert reopened.size == (LOGO_MAX_SIDE, LOGO_MAX_SIDE // 2) == (current.logo_width, current.logo_height)


def test_the_same_logo_again_changes_nothing_and_removing_it_is_audited(app):
    logo = picture()
    update_settings(_change(logo_upload=logo))
    version = brand().logo_version
    assert update_settings(_change(logo_upload=logo)) == []
    assert update_settings(_change(remove_logo=True)) == ["logo"]
    assert brand().logo_version == "" and brand().logo_png is None and brand().logo_width is None
    assert _audit_changes()[-1] == {"logo": {"old": version, "new": None}}
    # Removing a logo that is not there is no change.
    assert update_settings(_change(remove_logo=True)) == []


def test_an_admin_who_changes_other_settings_keeps_the_logo(app):
    update_settings(_change(logo_upload=picture()))
    version = brand().logo_version
    update_settings(_change(spare_copies_percent=7))
    assert brand().logo_version == version


HOSTILE_FILES = {
    # A script in an SVG: refused by its first bytes, whatever the file is called.
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>',
            "PNG or JPEG.*SVG"),
    "svg after a byte-order mark": (b"\xef\xbb\xbf<?xml version='1.0'?><svg><script>alert(1)</script></svg>",
                                    "PNG or JPEG"),
    # PNG's signature followed by an SVG: passes the first look, fails the decoding.
    "png signature then svg": (b"\x89PNG\r\n\x1a\n<svg><script>alert(1)</script></svg>", "could not be read"),
    "html renamed": (b"<html><script>alert(1)</script></html>", "PNG or JPEG"),
    "gif": (b"GIF89a" + b"\x00" * 64, "PNG or JPEG"),
    "empty": (b"", "empty"),
}


@pytest.mark.parametrize("kind", list(HOSTILE_FILES))
def test_files_that_are_not_a_png_or_jpeg_are_refused_and_the_old_logo_stays(app, kind):
    update_settings(_change(logo_upload=picture()))
    db.session.commit()
    version = brand().logo_version
    data, words = HOSTILE_FILES[kind]
    with pytest.raises(SettingsError, match=f"Logo: .*{words}") as refused:
        update_settings(_change(logo_upload=data, spare_copies_percent=9))
    assert refused.value.field == "logo_upload"
    db.session.rollback()
    # Nothing else in the same change was saved either.
    assert brand().logo_version == version and get_settings().spare_copies_percent == 5


def test_a_png_html_polyglot_keeps_its_pixels_and_loses_its_script(app):
    # A real PNG carrying a script in a text chunk and an HTML page after its last chunk: a browser sniffing it
    # could run either. The re-encoded PNG holds the pixels alone.
    info = PngInfo()
    info.add_text("Description", "<script>alert('chunk')</script>")
    polyglot = picture(pnginfo=info) + b"<html><body><script>alert('tail')</script></body></html>"
    update_settings(_change(logo_upload=polyglot))
    kept = brand().logo_png
    assert b"<script" not in kept and b"alert" not in kept and b"<html" not in kept
    with Image.open(io.BytesIO(kept)) as reopened:
        assert reopened.size == (300, 100) and not reopened.info.get("Description")


def test_an_oversized_file_is_refused_before_it_is_opened(app):
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * MAX_IMAGE_BYTES
    with pytest.raises(SettingsError, match=r"Logo: the file is 5\.0 MB; the largest picture accepted is 5 MB"):
        update_settings(_change(logo_upload=too_big))


def test_a_picture_of_too_many_pixels_is_refused(app):
    # 8,000 × 6,000 one-bit pixels: a small file that would unpack to 48 megapixels.
    huge = picture(size=(8000, 6000), mode="1", colour=1)
    assert len(huge) < MAX_IMAGE_BYTES
    with pytest.raises(SettingsError, match="Logo: the picture is 8,000 × 6,000 pixels"):
        update_settings(_change(logo_upload=huge))
