"""Leaflet data and ways to read a PDF's text and sizes, shared by the PDF tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO

import pikepdf

from coordinator.leaflets.render import LeafletData, LeafletHelpline
from tests.helpers.pdf import reader

HELPLINES = (
    LeafletHelpline(
        "National Domestic Abuse Helpline",
        "0808 2000 247",
        who_for="Anyone experiencing domestic abuse",
        is_free=True,
        is_24_7=True,
    ),
    LeafletHelpline(
        "Men's Advice Line",
        "0808 8010 327",
        hours="Mon to Fri, 9am to 8pm",
        who_for="Men experiencing domestic abuse",
        is_free=True,
    ),
    LeafletHelpline(
        "Galop LGBT+ Helpline", "0800 999 5428", hours="Mon to Fri, 10am to 5pm", who_for="LGBT+ people", is_free=True
    ),
)
WEB_ADDRESS = "https://www.ourwatch.org.uk/itsnotok"


def sample_leaflet(**changes) -> LeafletData:
    """An #ITSNOTOK leaflet of ordinary length, with a coordinator whose name needs more than ASCII."""
    leaflet = LeafletData(
        headline="It's not OK: domestic abuse is a crime",
        hashtag="#ITSNOTOK",
        key_messages=(
            "Abuse can be physical, emotional, financial or controlling behaviour.",
            "It can happen to anyone, whatever their age, gender or background.",
            "You are not alone: help is free and confidential.",
        ),
        summary="Neighbourhood Watch in Bromley supports the #ITSNOTOK campaign.",
        call_to_action="Call a helpline, day or night.",
        web_address=WEB_ADDRESS,
        helplines=HELPLINES,
        contact_line="Your coordinator: Zoë Łukasz, 07700 900123",
        association_name="Bromley Neighbourhood Watch Association",
        footer_text="Delivered by volunteers.",
        printed_on=date(2026, 3, 12),
        reference="TEST-REF1",
    )
    return replace(leaflet, **changes)


def page_text(pdf: bytes, index: int = 0) -> str:
    """The text of one page, as pypdf reads it back."""
    return reader(pdf).pages[index].extract_text()


def all_text(pdf: bytes) -> str:
    """The text of every page, front to back."""
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def pdf_everything(pdf: bytes) -> str:
    """Everything a PDF holds as text: raw bytes, every decompressed stream, page text and attachments."""
    parts = [pdf.decode("latin-1")]
    read = reader(pdf)
    parts += [page.extract_text() for page in read.pages]
    for name, contents in read.attachments.items():
        parts.append(name)
        parts += [content.decode("latin-1") for content in contents]
    with pikepdf.open(BytesIO(pdf)) as document:
        for obj in document.objects:
            if isinstance(obj, pikepdf.Stream):
                parts.append(obj.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def text_sizes(pdf: bytes, index: int = 0) -> list[tuple[float, str]]:
    """(size in points, text) for every run of text on a page drawn directly on it (not through forms)."""
    sizes: list[tuple[float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            sizes.append((round(font_size * abs(tm[0]) * abs(cm[0]), 2), text))

    reader(pdf).pages[index].extract_text(visitor_text=visit)
    return sizes
