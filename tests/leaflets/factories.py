"""Leaflet factories: the starter content loaded and verified, schemes with streets, choices and PDF readers."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO

import pypdfium2
from pypdf import PdfReader

from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.content.starter import load_starter_content
from coordinator.leaflets.offers import LeafletChoice
from tests.factories import make_admin, make_scheme, make_street, make_user

NATURAL_SETS = {
    "its-not-ok": "sexual-violence",
    "metoo-bystanders": "sexual-violence",
    "vawg-prevention": "domestic-abuse",
    "you-are-not-alone": "domestic-abuse",
}


def verify_helplines(admin, on=None) -> None:
    """An admin confirms every approved helpline today, so leaflets may print them."""
    for item in content.library_items(ContentKind.HELPLINE):
        if item.current_version is not None:
            content.reverify_helpline(item, admin, on)


def load_starter(verified: bool = True):
    """The starter pack, approved by a new admin (and its helplines verified); returns the admin."""
    admin = make_admin()
    report = load_starter_content(admin)
    assert report is not None and report.ok
    if verified:
        verify_helplines(admin)
    return admin


def current(kind: ContentKind, slug: str):
    """The approved version of the item with this slug."""
    item = content.find_item(kind, slug)
    assert item is not None and item.current_version is not None, slug
    return item.current_version


def starter_choice(campaign: str = "its-not-ok", helplines: str | None = None, **changes) -> LeafletChoice:
    """A choice of a starter campaign and (by default) its natural helpline set."""
    values = {
        "campaign_version_id": current(ContentKind.CAMPAIGN, campaign).id,
        "helpline_set_version_id": current(ContentKind.HELPLINE_SET, helplines or NATURAL_SETS[campaign]).id,
        "layout": "a5",
        "print_mode": "home",
    }
    values.update(changes)
    return LeafletChoice(**values)


def make_coordinated_scheme(name: str | None = None, coordinator=None, streets=((20, 0),), **fields):
    """A scheme with a coordinator and streets of (households, households that asked for none)."""
    coordinator = coordinator or make_user()
    fields.setdefault("contact_email", "watch@example.org")
    fields.setdefault("contact_phone", "020 7946 0018")
    scheme = make_scheme(name, coordinators=[coordinator], **fields)
    for index, (households, none) in enumerate(streets, start=1):
        make_street(scheme, name=f"{scheme.name} Road {index}", households=households, no_leaflets=none,
                    postcode=f"BR1 {index}AA")
    return scheme, coordinator


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(BytesIO(pdf))


def pdftotext(pdf: bytes, tmp_path, *, layout: bool = False) -> str:
    """The PDF's text as Poppler's pdftotext reads it back, every page (`layout`: rows kept as on the page)."""
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    options = ["-layout"] if layout else []
    result = subprocess.run(["/usr/bin/pdftotext", "-enc", "UTF-8", *options, str(path), "-"], capture_output=True,
                            text=True, check=True, timeout=60)
    return result.stdout


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def decode_qr(pdf: bytes, tmp_path, index: int = 0) -> list[str]:
    """What zbarimg reads from the QR codes on one page, rendered to PNG at 300 dpi with pypdfium2."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[index].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    path = tmp_path / f"page-{index}.png"
    image.save(path)
    result = subprocess.run(["/usr/bin/zbarimg", "--quiet", "--raw", str(path)], capture_output=True, text=True,
                            check=False, timeout=60)
    return result.stdout.split()


class Sentinel:
    """Files holding a unique token in a short folder: if the token shows up in a PDF, a local file leaked into it."""

    def __init__(self):
        import tempfile
        import uuid
        from pathlib import Path

        self.token = f"SENTINEL{uuid.uuid4().hex}"
        self.folder = Path(tempfile.mkdtemp(prefix="s"))
        self.svg = self.folder / "s.svg"
        self.svg.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="40"><text y="20">'
                            f"{self.token}</text></svg>")
        self.css = self.folder / "s.css"
        self.css.write_text(f'body::after {{ content: "{self.token}"; }}')

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
