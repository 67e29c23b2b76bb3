"""Reading back the PDFs the app makes: pypdf, Poppler's pdftotext, zbarimg for QR codes, and a sentinel file."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO

import pypdfium2
from pypdf import PdfReader


def reader(pdf: bytes) -> PdfReader:
    """The PDF opened with pypdf."""
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
    """Text without any whitespace, to compare across the line breaks a layout adds."""
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
