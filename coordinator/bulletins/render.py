"""A bulletin as email: the HTML and plain-text parts, the headers, and one message per recipient.

`render_bulletin()` renders the template pair `email/bulletin.html` + `.txt` once per bulletin, inlines
the CSS with css-inline (the dark-mode and narrow-screen rules stay in a <style> block, since media
queries cannot be inlined), and leaves two marks in both parts: the greeting and the unsubscribe link.
Each recipient's message then only swaps in their name and their link, so thousands of messages cost
one render. The marks carry a random token per render, so nothing a coordinator types can imitate one.

Headers that are the same for every recipient (From, Reply-To, Subject, List-Id) are made once with
Python's `email` package, whose default policy refuses a line break in any header value; the
recipient's own (To, Message-ID, Date, List-Unsubscribe) are built from values that have none:
names and subjects are put on one line first, wherever they came from, so CR/LF can never start a
header of its own. The message is multipart/alternative, both parts quoted-printable, with a
boundary starting "=_" (which quoted-printable text can never contain). With DKIM configured
(DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH), every message is signed with dkimpy, the
List-Unsubscribe headers included, as RFC 8058 asks.

The same code renders the preview pages, the test message, the downloads (.eml, .html) and the
plain text for WhatsApp or Facebook: what a coordinator checks is what residents get.
"""

from __future__ import annotations

import binascii
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from html.parser import HTMLParser
from pathlib import Path

import css_inline
from flask import current_app, render_template
from markupsafe import escape

from coordinator.bulletins.models import Bulletin
from coordinator.content import services as content
from coordinator.content.images import picture_extension
from coordinator.content.models import ContentKind
from coordinator.db import utcnow
from coordinator.links import public_url
from coordinator.settings import get_settings

# Media queries (dark mode, narrow screens) cannot be inlined: keep_at_rules leaves them in a <style> block.
_inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
# Headers made by the email package: CRLF line ends, and any CR/LF in a value refused.
_HEADER_POLICY = policy.default.clone(linesep="\r\n")
# Which headers the DKIM signature covers; RFC 8058 asks for both List-Unsubscribe headers.
DKIM_HEADERS = (
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"List-Id", b"List-Unsubscribe",
    b"List-Unsubscribe-Post", b"MIME-Version", b"Content-Type",
)
_ASCII_ADDRESS = re.compile(r"[!-~]+@[!-~]+")
_NOT_IN_ADDRESS = re.compile(r"[\s<>\"(),;:\\\[\]]")


class MessageError(ValueError):
    """A recipient's message cannot be built (an address no mail server would take); the message says why."""


# --- Small pieces ------------------------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Text fit for a mail header: runs of spaces, tabs and line breaks become one space, control characters go."""
    text = text or ""
    # The usual case, checked in C: nothing but printable characters and single inner spaces.
    if text.isprintable() and "  " not in text and text == text.strip():
        return text
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf") or c in "\t\n\r")
    return " ".join(text.split())


def sender_address() -> str:
    """The address bulletins come from: the association's setting, else MAIL_DEFAULT_SENDER."""
    configured = get_settings().sender_address or current_app.config["MAIL_DEFAULT_SENDER"]
    return parseaddr(configured)[1] or "watch@localhost"


def sender_domain() -> str:
    """The domain of the sender address, used in Message-IDs and List-Ids."""
    return sender_address().rpartition("@")[2] or "localhost"


def list_id(scheme_slug: str, domain: str) -> str:
    """The List-Id value of a scheme's bulletins: `<scheme-slug.bulletins.domain>` (RFC 2919)."""
    return f"<{scheme_slug}.bulletins.{domain}>"


def from_name(scheme_name: str, association_name: str) -> str:
    """The From display name: "<Scheme> via <Association>"."""
    return one_line(f"{scheme_name} via {association_name}")


def is_outbox_folder() -> bool:
    """True when no SMTP server is configured, so messages are written to instance/outbox/ instead."""
    return not current_app.config.get("MAIL_SERVER")


class _TextFromHTML(HTMLParser):
    """A campaign body (already cleaned to p, h2-h4, ul, ol, li, strong, em, a) as plain text with its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[int, str]] = []  # (group, text): the items of one list share a group
        self.current: list[str] = []
        self.group = 0
        self.is_item = False
        self.href = ""
        self.link_text: list[str] = []
        self.lists: list[list[int | None]] = []

    def _end_block(self) -> None:
        text = " ".join("".join(self.current).split())
        if text:
            if not self.is_item:
                self.group += 1
            self.blocks.append((self.group, text))
        self.current = []
        self.is_item = False

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "h2", "h3", "h4", "li"):
            self._end_block()
        if tag == "li" and self.lists:
            self.is_item = True
            counter = self.lists[-1]
            if counter[0] is None:
                self.current.append("- ")
            else:
                counter[0] += 1
                self.current.append(f"{counter[0]}. ")
        elif tag in ("ul", "ol"):
            self._end_block()
            self.group += 1
            self.lists.append([None] if tag == "ul" else [0])
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []

    def handle_endtag(self, tag):
        if tag == "a" and self.href:
            text = " ".join("".join(self.link_text).split())
            target = self.href.removeprefix("mailto:")
            if target and target != text:
                self.current.append(f" ({target})")
            self.href = ""
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self._end_block()
        elif tag in ("p", "h2", "h3", "h4", "li"):
            if tag in ("h2", "h3", "h4"):
                self.current = [t.upper() for t in self.current]
            self._end_block()

    def handle_data(self, data):
        self.current.append(data)
        if self.href:
            self.link_text.append(data)


def html_to_text(html: str) -> str:
    """Cleaned campaign HTML as plain text: one paragraph per block, list items marked, every link written out."""
    parser = _TextFromHTML()
    parser.feed(str(html))
    parser.close()
    parser._end_block()
    out: list[str] = []
    previous_group = None
    for group, text in parser.blocks:
        # The items of one list sit together; everything else is a paragraph of its own.
        if out and group != previous_group:
            out.append("")
        out.append(text)
        previous_group = group
    return "\n".join(out)


def paragraphs(text: str) -> list[list[str]]:
    """Plain text as paragraphs (split at blank lines) of lines, for templates to escape and join with <br>."""
    return [block.split("\n") for block in re.split(r"\n\s*\n", (text or "").strip()) if block.strip()]


# --- What the templates get --------------------------------------------------------------------------------------


def _image_url(image: dict | None, sha256: str) -> str:
    if image is None:
        return ""
    return public_url("bulletins.bulletin_image", sha256=sha256, extension=picture_extension(image["media_type"]))


def bulletin_data(bulletin: Bulletin) -> dict:
    """Everything the bulletin templates show, as plain data (never ORM objects)."""
    settings = get_settings()
    scheme = bulletin.scheme
    campaigns = []
    for version_id in bulletin.campaign_version_ids:
        version = content.get_version(version_id, ContentKind.CAMPAIGN)
        if version is None:
            continue
        data = content.campaign_data(version, top_heading=3)
        data["image_url"] = _image_url(data["image"], version.image.sha256 if version.image else "")
        data["image_alt"] = f"Picture for the campaign: {version.title}"
        if data["image"]:
            data["image_width"] = min(int(data["image"]["width"]), 552)
        data.pop("image")  # the bytes are served by the image link, not carried in every message
        data["body_text"] = html_to_text(data["body_html"])
        campaigns.append(data)
    set_version = bulletin.helpline_set_version
    if bulletin.helpline_version_ids:
        helplines = [
            content.helpline_data(v)
            for v in (content.get_version(i, ContentKind.HELPLINE) for i in bulletin.helpline_version_ids)
            if v is not None
        ]
    else:
        helplines = content.helpline_set_data(set_version)["helplines"]
    notices = []
    for version_id in bulletin.local_notice_version_ids:
        version = content.get_version(version_id, ContentKind.LOCAL_NOTICE)
        if version is not None:
            data = content.local_notice_data(version)
            data["paragraphs"] = paragraphs(data["body"])
            notices.append(data)
    return {
        "subject": one_line(bulletin.subject),
        "intro": bulletin.intro,
        "intro_paragraphs": paragraphs(bulletin.intro),
        "scheme": {
            "name": one_line(scheme.name),
            "contact_email": scheme.contact_email,
            "contact_phone": scheme.contact_phone,
            "contact_other": scheme.contact_other,
            "join_url": public_url("bulletins.join", slug=scheme.slug),
        },
        "association": {"name": one_line(settings.association_name), "footer_text": settings.footer_text},
        "campaigns": campaigns,
        "helpline_set": {"title": set_version.title if set_version else "", "helplines": helplines},
        "notices": notices,
    }


# --- The rendered bulletin and one message per recipient -----------------------------------------------------


@dataclass(frozen=True)
class RenderedBulletin:
    """A bulletin rendered once: both parts with marks where each recipient's greeting and link go, and the headers."""

    subject: str
    html: str
    text: str
    greeting_mark: str
    unsubscribe_mark: str
    sender: str
    common_headers: bytes
    boundary: str
    is_personal: bool

    def html_for(self, name: str = "", unsubscribe_url: str = "") -> str:
        """The HTML part for one recipient: their name (escaped) and their unsubscribe link."""
        return self._html(greeting(name), unsubscribe_url)

    def text_for(self, name: str = "", unsubscribe_url: str = "") -> str:
        """The plain-text part for one recipient."""
        return self._text(greeting(name), unsubscribe_url)

    def _html(self, hello: str, unsubscribe_url: str) -> str:
        return self.html.replace(self.greeting_mark, str(escape(hello))).replace(
            self.unsubscribe_mark, str(escape(unsubscribe_url))
        )

    def _text(self, hello: str, unsubscribe_url: str) -> str:
        return self.text.replace(self.greeting_mark, hello).replace(self.unsubscribe_mark, unsubscribe_url)

    def message(
        self,
        to_address: str,
        to_name: str,
        message_id: str,
        unsubscribe_url: str = "",
        date: datetime | None = None,
    ) -> bytes:
        """One recipient's message, ready for SMTP (CRLF line ends), DKIM-signed when a key is configured.

        An empty `to_address` makes a message to nobody (`undisclosed-recipients:;`), for downloads.
        """
        name = one_line(to_name)
        hello = f"Hello {name}," if name else "Hello,"
        if not re.fullmatch(r"<[!-~]+@[!-~]+>", message_id or "") or _NOT_IN_ADDRESS.search(message_id[1:-1]):
            raise MessageError(f"not a usable Message-ID: {message_id!r}")
        lines = [self.common_headers, f"To: {address_header(to_address, name)}\r\n".encode()]
        lines.append(f"Date: {format_datetime(date or utcnow())}\r\nMessage-ID: {message_id}\r\n".encode("ascii"))
        if unsubscribe_url and self.is_personal:
            url = one_line(unsubscribe_url)
            if not url.isascii() or " " in url:
                raise MessageError("the unsubscribe link must be plain ASCII")
            lines.append(f"List-Unsubscribe: <{url}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n".encode())
        lines.append(
            f'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="{self.boundary}"\r\n\r\n'.encode()
        )
        b = self.boundary
        lines += [
            f"--{b}\r\n".encode(),
            b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            _quoted_printable(self._text(hello, unsubscribe_url)),
            f"\r\n--{b}\r\n".encode(),
            b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            _quoted_printable(self._html(hello, unsubscribe_url)),
            f"\r\n--{b}--\r\n".encode(),
        ]
        data = b"".join(lines)
        return dkim_sign(data)


def greeting(name: str) -> str:
    """The first line of a bulletin: "Hello Robin," or "Hello,"."""
    name = one_line(name)
    return f"Hello {name}," if name else "Hello,"


def address_header(address: str, name: str = "") -> str:
    """A To header value for one address; the name is quoted (or RFC 2047-encoded) and always on one line."""
    if not address:
        return "undisclosed-recipients:;"
    if _NOT_IN_ADDRESS.search(address) or address.count("@") != 1:
        raise MessageError("the address has characters no mail server would accept")
    name = one_line(name)  # whoever calls, a name is one line
    if not name:
        return address
    if name.isascii():
        # Always quoted: inside quotes nothing in a name can be read as an encoded word or an address.
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    # RFC 2047 encoded words, folded onto continuation lines (each starts with a space, so none is a new header).
    encoded = Header(name, "utf-8", header_name="To").encode(linesep="\r\n")
    return f"{encoded} <{address}>"


def needs_smtputf8(address: str) -> bool:
    """Whether an address has non-ASCII characters, which only an SMTPUTF8 server takes."""
    return not _ASCII_ADDRESS.fullmatch(address or "")


def _quoted_printable(text: str) -> bytes:
    # binascii's encoder (C): a few microseconds per part, where the email package's takes milliseconds.
    data = "\r\n".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).encode("utf-8")
    return binascii.b2a_qp(data, istext=True)


def _common_headers(scheme_name: str, scheme_slug: str, reply_to: str, subject: str, sender: str) -> bytes:
    message = EmailMessage(policy=_HEADER_POLICY)
    settings = get_settings()
    message["From"] = formataddr((from_name(scheme_name, settings.association_name), sender))
    if reply_to:
        message["Reply-To"] = one_line(reply_to)
    message["Subject"] = one_line(subject)
    message["List-Id"] = f"{one_line(scheme_name)} bulletins {list_id(scheme_slug, sender_domain())}"
    # Only the header block: the message has no body yet, so its bytes end with the blank line.
    return message.as_bytes().rstrip(b"\r\n") + b"\r\n"


def render_bulletin(bulletin: Bulletin, *, is_public: bool = False, subject_prefix: str = "") -> RenderedBulletin:
    """Render a bulletin once: personal (each recipient's name and unsubscribe link) or public (no one's data).

    The public version, for downloads and for pasting into WhatsApp or Facebook, greets no one by name and
    has the scheme's sign-up link where the unsubscribe link would be.
    """
    data = bulletin_data(bulletin)
    token = secrets.token_hex(8)
    greeting_mark, unsubscribe_mark = f"nwcgreeting{token}x", f"nwcunsubscribe{token}x"
    context = dict(
        data,
        greeting=greeting_mark if not is_public else "Hello neighbours,",
        unsubscribe_url=unsubscribe_mark,
        is_public=is_public,
    )
    html = _inliner.inline(render_template("email/bulletin.html", **context))
    text = render_template("email/bulletin.txt", **context)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    subject = one_line(subject_prefix + data["subject"])
    sender = sender_address()
    return RenderedBulletin(
        subject=subject,
        html=html,
        text=text,
        greeting_mark=greeting_mark,
        unsubscribe_mark=unsubscribe_mark,
        sender=sender,
        common_headers=_common_headers(
            bulletin.scheme.name, bulletin.scheme.slug, bulletin.scheme.contact_email, subject, sender
        ),
        boundary=f"=_nwc_{secrets.token_hex(12)}",
        is_personal=not is_public,
    )


def public_text(bulletin: Bulletin) -> str:
    """The plain text to paste into a WhatsApp or Facebook group: no one's name, no unsubscribe link."""
    return render_bulletin(bulletin, is_public=True).text_for()


def public_html(bulletin: Bulletin) -> str:
    """The bulletin as a web page to download: no one's name, no unsubscribe link."""
    return render_bulletin(bulletin, is_public=True).html_for()


def public_eml(bulletin: Bulletin) -> bytes:
    """The bulletin as an .eml file addressed to nobody, with no one's name or unsubscribe link."""
    rendered = render_bulletin(bulletin, is_public=True)
    return rendered.message("", "", f"<bulletin-{bulletin.id}.download.{secrets.token_hex(6)}@{sender_domain()}>")


# --- DKIM ----------------------------------------------------------------------------------------------------------


# The key file's contents, read again when the file changes (a rotated key needs no restart).
_dkim_keys: dict[tuple[str, int], bytes] = {}


def dkim_sign(message: bytes) -> bytes:
    """The message with a DKIM-Signature header in front, when DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH are set."""
    config = current_app.config
    selector, key_path = config.get("DKIM_SELECTOR"), config.get("DKIM_PRIVATE_KEY_PATH")
    if not selector or not key_path:
        return message
    import dkim

    path = Path(key_path)
    version = (str(path), path.stat().st_mtime_ns)
    key = _dkim_keys.get(version)
    if key is None:
        _dkim_keys.clear()
        key = _dkim_keys[version] = path.read_bytes()
    domain = config.get("DKIM_DOMAIN") or sender_domain()
    present = {line.split(b":", 1)[0].lower() for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")}
    headers = [h for h in DKIM_HEADERS if h.lower() in present]
    signature = dkim.sign(message, selector.encode(), domain.encode(), key, include_headers=headers)
    return signature + message
