"""A bulletin as residents get it: both parts, every header, personalisation, dark mode, DKIM, and hostile text."""

from __future__ import annotations

import email
import re
from email import policy
from html import unescape

import dkim
import pytest
from dkim import dknewkey

from coordinator.bulletins import transitions
from coordinator.bulletins.render import (
    html_to_text,
    public_eml,
    public_html,
    public_text,
    render_bulletin,
)
from coordinator.extensions import db
from coordinator.mailheaders import MessageError, mailbox
from coordinator.settings import get_settings
from tests.bulletins.helpers import body
from tests.factories import make_bulletin
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.images import png

UNSUBSCRIBE = "https://watch.example.org/unsubscribe/eyJzIjo3LCJrIjoxfQ.c2lnbmF0dXJl"


def parse(data: bytes):
    return email.message_from_bytes(data, policy=policy.default)


def message_for(bulletin, name="Robin Ash", address="robin@example.net", message_id="<b-1.7.abc@example.org>"):
    return parse(render_bulletin(bulletin).message(address, name, message_id, UNSUBSCRIBE))


def test_a_message_has_both_parts_and_every_header(world):
    world.s.scheme_a.contact_email = "hayes.watch@example.org"
    get_settings().sender_address = "bulletins@bromley-watch.example.org"
    bulletin = make_bulletin(world)
    message = message_for(bulletin)

    assert message["From"].addresses[0].display_name == "Hayes Lane Watch via Bromley Neighbourhood Watch Association"
    assert message["From"].addresses[0].addr_spec == "bulletins@bromley-watch.example.org"
    assert message["To"].addresses[0].display_name == "Robin Ash"
    assert message["To"].addresses[0].addr_spec == "robin@example.net"
    assert message["Reply-To"].addresses[0].addr_spec == "hayes.watch@example.org"
    assert message["Subject"] == "Doorstep scams: what to do"
    assert message["Message-ID"] == "<b-1.7.abc@example.org>"
    assert message["Date"].datetime is not None
    assert message["List-Id"] == "Hayes Lane Watch bulletins <hayes-lane-watch.bulletins.bromley-watch.example.org>"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    assert not message.defects

    text = body(message, "plain")
    html = body(message, "html")
    assert text.startswith(
        "Bromley Neighbourhood Watch Association\nHayes Lane Watch · Neighbourhood Watch\nDoorstep scams: what to do\n\n"
        "Emergency: call 999 if someone is in danger or a crime is happening now.\n"
    )
    assert "\n\nHello Robin Ash,\n\n" in text
    assert "Hello Robin Ash," in html
    assert UNSUBSCRIBE in text and f'href="{UNSUBSCRIBE}"' in html


def test_a_scheme_without_a_contact_address_has_no_reply_to(world):
    bulletin = make_bulletin(world)
    assert world.s.scheme_a.contact_email == ""
    assert message_for(bulletin)["Reply-To"] is None


@pytest.mark.parametrize("is_full_text", [False, True], ids=["short", "full"])
def test_the_plain_text_part_has_every_number_and_every_link(world, is_full_text):
    world.s.scheme_a.is_bulletin_full_text = is_full_text
    bulletin = make_bulletin(world)
    message = message_for(bulletin)
    text = body(message, "plain")
    html = unescape(body(message, "html")).replace("\u00a0", " ")
    numbers = ["999", "101", "0808 168 9111", "0800 555 111"] + (["0300 123 2040"] if is_full_text else [])
    for number in numbers:
        assert number in text, number
        assert number in html, number
    links = set(re.findall(r'href="(https?://[^"]+)"', html))
    expected = {"https://www.met.police.uk", "https://www.victimsupport.org.uk", UNSUBSCRIBE}
    if is_full_text:
        expected |= {"https://www.actionfraud.police.uk", "https://www.met.police.uk/scams"}
    else:
        expected |= {"http://127.0.0.1:5000/campaigns/doorstep-scams"}
    assert links == expected
    for link in links:
        assert link in text or link.removeprefix("https://") in text, link
    words = ["Doorstep scams", "Take your time", "Ask a neighbour", "Victims and witnesses", "Residents' meeting",
             "Tuesday 7pm at St Mary's hall.", "Hello from your coordinators."]
    for word in words + (["#ScamAware", "Never let a caller rush you"] if is_full_text else ["Read more"]):
        assert word in text, word
        assert word in html, word


def test_the_html_is_one_600_pixel_column_with_inlined_styles_and_dark_mode_kept(world):
    html = body(message_for(make_bulletin(world)), "html")
    assert '<meta name="color-scheme" content="light dark">' in html
    assert 'width="600"' in html and "max-width: 600px" in html
    # Light colours are inlined where Gmail and Outlook need them...
    assert re.search(r'<body style="[^"]*background: #f3f2f1;color: #0b0c0c;', html)
    assert re.search(r'<a href="https://www.victimsupport.org.uk" style="color: #1d4f91;', html)
    # ... and the media queries stay in a <style> block for the mail programs that honour them.
    style = re.search(r"<style>(.*?)</style>", html, re.DOTALL).group(1)
    assert "@media (prefers-color-scheme: dark)" in style and "@media (max-width: 620px)" in style
    assert "border-collapse" not in style  # ordinary rules were inlined, not kept
    assert "<script" not in html.lower()


def test_pictures_have_alt_text_and_load_without_a_login(client, world):
    from coordinator.content.models import VersionState
    from tests.factories import make_campaign

    campaign = make_campaign(world.admin, title="Lock up", image_upload=png())
    draft = make_campaign(world.admin, title="Not yet", image_upload=png("red"), state=VersionState.SUBMITTED)
    world.s.scheme_a.is_bulletin_full_text = True  # the short version shows no pictures
    db.session.commit()
    message = message_for(make_bulletin(world, campaign_version_ids=[world.campaign.id, campaign.id]))
    html = body(message, "html")
    text = body(message, "plain")
    [image] = re.findall(r"<img [^>]*>", html)
    assert 'alt="Picture for the campaign: Lock up"' in image
    assert 'width="80"' in image and 'height="60"' in image  # its size, so nothing jumps as it loads
    source = re.search(r'src="([^"]+)"', image).group(1)
    assert source == f"http://127.0.0.1:5000/bulletin-images/{campaign.image.sha256}.png"
    assert f"Picture: {source}" in text

    response = client.get(source.removeprefix("http://127.0.0.1:5000"))
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data == campaign.image.data
    # A picture still in review is not public; nor is a made-up name, nor the wrong extension.
    assert client.get(f"/bulletin-images/{draft.image.sha256}.png").status_code == 404
    assert client.get(f"/bulletin-images/{'0' * 64}.png").status_code == 404
    assert client.get(f"/bulletin-images/{campaign.image.sha256}.jpg").status_code == 404
    assert client.get("/bulletin-images/..%2F..%2Fetc.png").status_code == 404


def test_the_plain_text_of_a_campaign_body_keeps_lists_and_links():
    html = ('<h3>Say no</h3><p>See <a href="https://a.example">Action Fraud</a> or '
            '<a href="mailto:help@example.org">help@example.org</a>.</p>'
            "<ul><li>One</li><li>Two</li></ul><ol><li>First</li><li>Second</li></ol><p>End</p>")
    assert html_to_text(html) == (
        "SAY NO\n\nSee Action Fraud (https://a.example) or help@example.org.\n\n- One\n- Two\n\n1. First\n2. Second"
        "\n\nEnd"
    )


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_hostile_intro_text_is_escaped_in_the_html_and_literal_in_the_text(world, hostile):
    bulletin = make_bulletin(world, intro=f"Before {hostile} after")
    message = message_for(bulletin)
    html = body(message, "html")
    text = body(message, "plain")
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert f"Before {unescape(hostile)} after" in unescape(html)  # the words are all there, as text
    assert f"Before {hostile} after" in text


def test_hostile_names_are_escaped_and_cannot_break_the_to_header(world):
    bulletin = make_bulletin(world)
    message = message_for(bulletin, name='"><img src=x onerror=alert(1)> <script>')
    html = body(message, "html")
    assert "Hello &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;," in html
    assert "<img src=x" not in html
    assert message["To"].addresses[0].addr_spec == "robin@example.net"
    assert len(message["To"].addresses) == 1


def test_cr_lf_in_a_subject_is_refused_by_the_service(world):
    with pytest.raises(transitions.BulletinProblems) as raised:
        make_bulletin(world, subject="Hello\r\nBcc: everyone@example.net")
    assert "one line" in raised.value.errors["subject"][0]


@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r", "\r\n\t", "\u2028"])
def test_cr_lf_in_a_stored_subject_or_name_never_makes_a_header(world, line_break):
    bulletin = make_bulletin(world)
    # As if the database had been written to some other way: the message must still be safe.
    bulletin.subject = f"Hello{line_break}Bcc: everyone@example.net"
    db.session.commit()
    data = render_bulletin(bulletin).message(
        "robin@example.net", f"Robin{line_break}Bcc: victim@example.net", "<b-1.7.abc@example.org>", UNSUBSCRIBE
    )
    header_block = data.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^Bcc:", header_block, re.MULTILINE | re.IGNORECASE)
    message = parse(data)
    assert message["Bcc"] is None
    assert message["Subject"] == "Hello Bcc: everyone@example.net"
    assert [a.addr_spec for a in message["To"].addresses] == ["robin@example.net"]
    assert "victim@example.net" not in [a.addr_spec for a in message["To"].addresses]


def test_an_address_with_a_line_break_is_refused():
    with pytest.raises(MessageError):
        mailbox("robin@example.net\r\nBcc: x@example.net", "Robin")


def test_names_in_other_scripts_are_encoded_and_read_back(world):
    message = message_for(make_bulletin(world), name="Zoë Łukasz 王")
    assert message["To"].addresses[0].display_name == "Zoë Łukasz 王"
    assert "Hello Zoë Łukasz 王," in body(message, "plain")


def test_without_a_name_the_greeting_is_plain(world):
    message = message_for(make_bulletin(world), name="")
    assert "\nHello,\n" in body(message, "plain")
    assert message["To"] == "robin@example.net"


def test_messages_are_dkim_signed_when_a_key_is_configured(app, world, tmp_path):
    key_file = tmp_path / "dkim.key"
    dknewkey.GenRSAKeys(str(key_file), verbose=False)
    dknewkey.ExtractRSADnsPublicKey(str(key_file), str(tmp_path / "dkim.dns"), verbose=False)
    dns_record = (tmp_path / "dkim.dns").read_text().strip().encode()
    app.config.update(DKIM_SELECTOR="bulletins", DKIM_DOMAIN="bromley-watch.example.org",
                      DKIM_PRIVATE_KEY_PATH=str(key_file))
    bulletin = make_bulletin(world)
    data = render_bulletin(bulletin).message("robin@example.net", "Robin", "<b-1.7.abc@example.org>", UNSUBSCRIBE)

    assert data.startswith(b"DKIM-Signature: ")
    signature = parse(data)["DKIM-Signature"]
    assert "d=bromley-watch.example.org" in signature and "s=bulletins" in signature
    signed = re.search(r"h=([^;]+)", signature.replace(" ", "")).group(1).lower().split(":")
    assert {"from", "to", "subject", "list-unsubscribe", "list-unsubscribe-post", "message-id"} <= set(signed)

    def dns(name, timeout=5):
        assert name == b"bulletins._domainkey.bromley-watch.example.org."
        return dns_record

    assert dkim.verify(data, dnsfunc=dns)
    assert not dkim.verify(data.replace(b"Doorstep scams", b"Doorstep scans"), dnsfunc=dns)


def test_without_a_key_nothing_is_signed(world):
    rendered = render_bulletin(make_bulletin(world))
    data = rendered.message("robin@example.net", "", "<b-1.7.abc@example.org>", UNSUBSCRIBE)
    assert b"DKIM-Signature" not in data


def test_the_public_versions_carry_no_name_and_no_unsubscribe_link(world):
    bulletin = make_bulletin(world)
    text = public_text(bulletin)
    html = public_html(bulletin)
    eml = parse(public_eml(bulletin))
    for part in (text, html, body(eml, "plain")):
        assert "unsubscribe" not in part.lower()
        assert "Hello neighbours," in part
        assert "http://127.0.0.1:5000/join/hayes-lane-watch" in part
    assert eml["To"] == "undisclosed-recipients:;"
    assert eml["List-Unsubscribe"] is None
    assert "0808 168 9111" in text and "Doorstep scams" in text
