"""Hostile text in every field that reaches a leaflet prints literally or is refused with a message, and no local
file ever reaches a PDF: campaign fields as approved content, the scheme's contact line, the association's name and
footer, local notices and helplines."""

from __future__ import annotations

import pytest

from coordinator.content.fields import FieldErrors
from coordinator.content.models import ContentKind, VersionState
from coordinator.extensions import db
from coordinator.leaflets import builder, pdfs
from coordinator.leaflets.offers import LeafletChoice, LeafletChoiceError
from coordinator.leaflets.render import LeafletPreflightFailed
from coordinator.schemes.services import check_contact_other
from coordinator.settings import get_settings
from tests.factories import (
    current,
    load_starter,
    make_campaign,
    make_coordinated_scheme,
    make_helpline,
    make_helpline_set,
    make_notice,
    settle,
    verify_helplines,
)
from tests.helpers.pdf import Sentinel, reader, squeeze
from tests.helpers.web import login_as, post_form
from tests.pdf.samples import pdf_everything

LONG = ("Look out for your neighbours. " * 170)[:5000]


@pytest.fixture
def sentinel():
    made = Sentinel()
    yield made
    made.remove()


def hostile_values(sentinel: Sentinel) -> dict[str, str]:
    return {
        "img": f'<img src="{sentinel.svg.as_uri()}">',
        "css": f"<p style='background:url({sentinel.svg.as_uri()})'>",
        "stylesheet": f'<link rel="stylesheet" href="{sentinel.css.as_uri()}">',
        "template": "{{ 7*7 }} {% if 1 %}x{% endif %}",
        "style": "</style><style>body{display:none}</style>",
        "script": '"><script>alert(1)</script>',
        "rtl": "Call \u202e742 0002 8080",
        "long": LONG,
    }


HOSTILE = ["img", "css", "stylesheet", "template", "style", "script", "rtl", "long"]


def pdf_text(pdf: bytes) -> str:
    return squeeze("".join(page.extract_text() for page in reader(pdf).pages))


def leaflet_or_refusal(scheme, choice):
    """The PDF of a previewed leaflet, or the refusal's message."""
    try:
        prepared = builder.preview_leaflet(scheme, choice)
    except LeafletChoiceError as error:
        return None, " ".join(error.errors.values())
    try:
        return pdfs.leaflet_pdf(prepared.recipe), ""
    except LeafletPreflightFailed as error:
        return None, str(error)


def check(pdf, refusal, value, sentinel, kind):
    if kind == "rtl":
        assert pdf is None and "hidden control characters (such as a right-to-left override)" in refusal
        return
    if kind == "long":
        assert pdf is None and refusal.startswith("Too long for A5: choose A4.")
        return
    if pdf is None and "is split in the middle of a word" in refusal:
        # A path with no place to break cannot print whole: preflight refuses it, naming its field, and the
        # file it names was never fetched (the refusal quotes the text, not the file).
        assert kind == "css" and sentinel.token not in refusal
        return
    assert pdf is not None, refusal
    assert squeeze(value) in pdf_text(pdf)
    assert sentinel.token not in pdf_everything(pdf)
    assert not reader(pdf).attachments


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_campaign_fields_approved_as_content(kind, sentinel):
    admin = load_starter()
    scheme, _ = make_coordinated_scheme()
    value = hostile_values(sentinel)[kind]
    fields = {"title": value, "summary": value, "key_messages": [value], "call_to_action": value}
    try:
        campaign = make_campaign(author=admin, **fields)
    except FieldErrors as refused:
        # The library takes no campaign text that long: refused with a message per field.
        assert kind == "long" and "Title must be 120 characters or fewer" in str(refused)
        # Longer text than the library allows can only come another way (an old pack, the database): the leaflet
        # still refuses it rather than cut it.
        campaign = make_campaign(author=admin, state=VersionState.DRAFT, title="Fine", summary="Fine")
        campaign.key_messages = [value]
        settle(campaign, VersionState.APPROVED)
    # A set not marked sensitive, so the front carries the headline, its key messages and the call to action.
    choice = LeafletChoice(campaign.id, current(ContentKind.HELPLINE_SET, "emergency-and-reporting").id,
                                    layout="a5", print_mode="shop")
    pdf, refusal = leaflet_or_refusal(scheme, choice)
    check(pdf, refusal, value, sentinel, kind)
    if pdf is not None:
        assert pdf_text(pdf).count(squeeze(value)) >= 3  # headline, key message, call to action


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_scheme_contact_line_and_association_settings(kind, sentinel):
    load_starter()
    value = hostile_values(sentinel)[kind]
    scheme, _ = make_coordinated_scheme(contact_email="", contact_phone="")
    if kind == "long":
        with pytest.raises(ValueError, match="200 characters or fewer"):
            check_contact_other(value)
    scheme.name = value[:120] if kind != "long" else "Long Street scheme"
    scheme.contact_other = value[:200]
    settings = get_settings()
    settings.association_name = value[:160]
    settings.footer_text = value
    pdf, refusal = leaflet_or_refusal(scheme, LeafletChoice(
        current(ContentKind.CAMPAIGN, "its-not-ok").id, current(ContentKind.HELPLINE_SET, "sexual-violence").id,
        print_mode="shop"))
    check(pdf, refusal, value, sentinel, kind)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_local_notice_and_helpline(kind, sentinel):
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme()
    value = hostile_values(sentinel)[kind]
    notice_fields = {"title": value[:120], "body": value}
    try:
        notice = make_notice(scheme, coordinator, approver=admin, **notice_fields)
    except FieldErrors as refused:
        assert kind == "long" and "Notice must be 600 characters or fewer" in str(refused)
        notice = make_notice(scheme, coordinator, state=VersionState.DRAFT, title="Meeting", body="Short")
        notice.body = value  # as if it came another way: the leaflet refuses it rather than cut it
        settle(notice, VersionState.APPROVED, approver=admin)
    helpline = make_helpline(author=admin, title=value[:120], who_for=value[:300], opening_hours=value[:200])
    verify_helplines(admin)
    helpline_set = make_helpline_set([helpline], author=admin)
    choice = LeafletChoice(current(ContentKind.CAMPAIGN, "its-not-ok").id, helpline_set.id,
                                    local_notice_version_id=notice.id, layout="a5", print_mode="shop")
    pdf, refusal = leaflet_or_refusal(scheme, choice)
    if kind == "long":
        assert pdf is None and "Too long for A5: choose A4." in refusal
        assert "Leaving out the local notice may also make it fit." in refusal
        return
    check(pdf, refusal, value, sentinel, kind)
    if pdf is not None:
        assert squeeze(value[:120]) in pdf_text(pdf)


def test_hostile_titles_show_literally_in_the_builder(client, sentinel):
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme()
    make_campaign(author=admin, title='<script>alert(1)</script> {{ 7*7 }}')
    make_notice(scheme, coordinator, approver=admin, title='"><img src=x onerror=alert(1)>')
    db.session.commit()
    login_as(client, coordinator)
    html = client.get(f"/leaflets/schemes/{scheme.id}/new").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in html and "<script>alert" not in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html


def test_a_refused_leaflet_is_a_form_error_in_the_builder_and_404_for_its_preview(client, sentinel):
    load_starter()
    scheme, coordinator = make_coordinated_scheme(contact_other="Call \u202e742 0002 8080")
    db.session.commit()
    login_as(client, coordinator)
    choice = {"campaign": str(current(ContentKind.CAMPAIGN, "its-not-ok").id),
              "helplines": str(current(ContentKind.HELPLINE_SET, "sexual-violence").id),
              "layout": "a5", "print_mode": "home"}
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", {**choice, "preview": "Preview"})
    assert "The contact line contains hidden control characters" in response.get_data(as_text=True)
    query = "&".join(f"{k}={v}" for k, v in choice.items())
    assert client.get(f"/leaflets/schemes/{scheme.id}/preview?{query}").status_code == 404
    assert client.get(f"/leaflets/schemes/{scheme.id}/thumbnail.png?{query}").status_code == 404
