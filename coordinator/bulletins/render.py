"""A bulletin as email: the HTML and plain-text parts, the headers, and one message per recipient.

`render_bulletin()` renders the template pair `email/bulletin.html` + `.txt` once per bulletin, inlines
the CSS with css-inline (the dark-mode and narrow-screen rules stay in a <style> block, since media
queries cannot be inlined), and leaves two marks in both parts: the greeting and the unsubscribe link.
Each recipient's message then only swaps in their name and their link, so thousands of messages cost
one render. The marks carry a random token per render, so nothing a coordinator types can imitate one.

Every header is written by `coordinator.mailheaders`, as transactional mail's are: the texts a person
reads (the subject, the scheme's and association's names, the resident's name) go in as typed and are
encoded there, and every address header is one mailbox checked by `email.headerregistry.Address`.
Headers that are the same for every recipient (From, Reply-To, Subject, List-Id) are made once; the
recipient's own (To, Date, Message-ID, List-Unsubscribe) per message. When the common headers cannot
be made (a scheme contact address no mail server would take, stored before it was checked), the
previews still show and each resident's message fails with the reason, once. The message is
multipart/alternative, both parts quoted-printable, with a boundary starting "=_" (which
quoted-printable text can never contain). With DKIM configured
(DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH), every message is signed by `coordinator.mail.dkim_sign`, as
transactional mail is, the List-Unsubscribe headers included, as RFC 8058 asks.

The same code renders the preview pages, the test message, the downloads (.eml, .html) and the
short text for WhatsApp or Facebook: what a coordinator checks is what residents get.

What residents read first, on a phone (issue 17): a hidden preheader from the first campaign's approved summary,
the association's logo and name, the police numbers and the bulletin's helplines, then each campaign short (its
summary, at most three key messages and a link to its public page) unless the scheme chose the full text. Every
phone number is one `tel:` link that never breaks across lines (no-break spaces inside, `white-space: nowrap`);
web addresses are printed without https:// and may break only after a "/" or "." (<wbr>). The plain-text part
gives the same numbers in the same order.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parseaddr
from html.parser import HTMLParser

import css_inline
from flask import current_app, render_template
from flask_babel import gettext
from markupsafe import Markup, escape

from coordinator.bulletins.models import Bulletin
from coordinator.bulletins.subscriber_languages import offered_languages
from coordinator.colours import MINIMUM_TEXT_CONTRAST, WHITE, contrast_ratio, normalise_hex
from coordinator.content import services as content
from coordinator.content.images import picture_extension
from coordinator.content.models import ContentKind
from coordinator.content.phones import POLICE_NON_EMERGENCY_COST
from coordinator.content.translated_data import in_language
from coordinator.content.translations import same_language
from coordinator.db import utcnow
from coordinator.language_tags import ENGLISH
from coordinator.languages import text_direction
from coordinator.links import printable_address, public_url
from coordinator.mail import dkim_sign
from coordinator.mailheaders import MessageError, encode_text, header_lines, mailbox, one_line, phrase
from coordinator.settings import DEFAULT_BRAND_COLOUR, brand, get_settings
from coordinator.wording import is_english, wording_in, wording_ready

# Media queries (dark mode, narrow screens) cannot be inlined: keep_at_rules leaves them in a <style> block.
_inliner = css_inline.CSSInliner(load_remote_stylesheets=False, keep_at_rules=True)
_MESSAGE_ID = re.compile(r"<[!-~]+@[!-~]+>")
# Where a recipient's name goes in the greeting of a bulletin's language ("Hello %(name)s," in its catalogue).
NAME_MARK = "\x00name\x00"
_NOT_IN_MESSAGE_ID = re.compile(r"[\s<>\"(),;:\\\[\]]")


# --- Small pieces ------------------------------------------------------------------------------------------------


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


# --- Numbers and addresses that never break badly -----------------------------------------------------------------

# A UK number as people write it in running text: 0808 2000 247, 020 7946 0018, 0800 1111, 116 123, or the police's
# 999 and 101 standing alone. Not part of a word, an address or a character reference (&#101; is an "e").
PHONE_NUMBER = re.compile(
    r"(?<![\w/.#&;+-])(?:0\d{2,4}(?:[ \u00a0]\d{3,4}){1,2}|0\d{9,10}|116[ \u00a0]\d{3}|999|101)(?![\w/]|\.\w)"
)
_TAG = re.compile(r"(<[^>]*>)")
# Keep each web address short enough to fit a 320 px screen between its break points; a longer piece is named
# in words instead (the plain-text part still gives the address in full).
_LONGEST_ADDRESS_PIECE = 28
POLICE_WEBSITE = "www.met.police.uk"


def tel_target(number: str) -> str:
    """The tel: link of a number as written: "0808 2000 247" -> "tel:+448082000247", "101" -> "tel:101"."""
    digits = re.sub(r"\D", "", number)
    return f"tel:+44{digits[1:]}" if digits.startswith("0") else f"tel:{digits}"


def phone_link(number: str, href: str = "") -> Markup:
    """A phone number as one unbreakable tel: link: no-break spaces inside, and the `tel` class (nowrap)."""
    shown = escape(" ".join(number.split())).replace(" ", Markup("&nbsp;"))
    return Markup('<a class="tel" href="{}">{}</a>').format(href or tel_target(number), shown)


def link_phone_numbers(html: str) -> Markup:
    """Safe HTML with each phone number in its text (outside an existing link) made a tel: link."""
    out, in_link = [], 0
    for part in _TAG.split(str(html)):
        if part.startswith("<"):
            tag = part[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            if tag == "a":
                in_link += -1 if part.startswith("</") else 1
            out.append(part)
        elif in_link:
            out.append(part)
        else:
            out.append(PHONE_NUMBER.sub(lambda m: str(phone_link(m.group())), part))
    return Markup("".join(out))


def text_html(text: str) -> Markup:
    """Plain text (a summary, a key message) escaped, with its phone numbers linked."""
    return link_phone_numbers(escape(text))


def address_html(address: str, too_long: str = "the website") -> Markup:
    """A web address as printed in the email: no https://, a <wbr> after each "/" and ".", or words if too long."""
    shown = printable_address(address)
    if not shown:
        return Markup("")
    if max(len(piece) for piece in re.split(r"[/.]", shown)) > _LONGEST_ADDRESS_PIECE:
        return escape(too_long)
    return Markup("<wbr>").join(escape(piece) for piece in re.split(r"(?<=[/.])", shown))


def _unbreakable_link_text(html: str) -> Markup:
    """Campaign body HTML: phone numbers linked; link texts that are addresses printed as `address_html` does."""

    def address(match: re.Match) -> str:
        text = match.group(2)
        if " " in text or "." not in text:
            return match.group(0)
        return f"{match.group(1)}{address_html(Markup(text).unescape(), 'this link')}</a>"

    linked = link_phone_numbers(html)
    return Markup(re.sub(r"(<a [^>]*>)([^<]*)</a>", address, str(linked)))


def preheader(campaigns: list[dict], limit: int = 140) -> str:
    """The line a mail program shows after the subject: the first campaign's approved summary, cut at a word."""
    summary = " ".join(campaigns[0]["summary"].split()) if campaigns else ""
    if len(summary) <= limit:
        return summary
    return summary[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _logo(settings_brand) -> dict | None:
    # Shown at most 48 px high and 200 px wide in the email, at the logo's own proportions.
    if not settings_brand.logo_version:
        return None
    width, height = settings_brand.logo_width, settings_brand.logo_height
    scale = min(1.0, 48 / height, 200 / width)
    return {
        "src": public_url("main.brand_logo", version=settings_brand.logo_version),
        "width": max(1, round(width * scale)),
        "height": max(1, round(height * scale)),
        "alt": gettext("%(name)s logo", name=settings_brand.name),
    }


def _brand_colour(colour: str) -> str:
    # Settings only keep colours white text is readable on; checked again here, as the colour goes into CSS.
    colour = normalise_hex(colour or "") or DEFAULT_BRAND_COLOUR
    return colour if contrast_ratio(colour, WHITE) >= MINIMUM_TEXT_CONTRAST else DEFAULT_BRAND_COLOUR


# --- What the templates get --------------------------------------------------------------------------------------


def _image_url(image: dict | None, sha256: str) -> str:
    if image is None:
        return ""
    return public_url("campaigns.picture", sha256=sha256, extension=picture_extension(image["media_type"]))


def _part_language(language: str, main: str) -> dict | None:
    """lang and dir for words not in the bulletin's main language (None when they are in it)."""
    if same_language(language, main):
        return None
    return {"lang": language, "dir": text_direction(language)}


def _marked_html(text: str, part: dict | None) -> Markup:
    """Plain text escaped (phone numbers linked), in a span with its own lang and dir when it is not in the main
    language; for words that sit inside a sentence of the fixed wording ("For {who}")."""
    html = text_html(text)
    if part is None or not text:
        return html
    return Markup('<span lang="{}" dir="{}">{}</span>').format(part["lang"], part["dir"], html)


def main_language(language: str) -> str:
    """The language a bulletin for a reader of `language` is in: theirs once the association approved its fixed
    wording (the police, the headings, the footer), else English, with each part in their language marked as such."""
    return language if not is_english(language) and wording_ready(language) else ENGLISH


def bulletin_data(bulletin: Bulletin, language: str = ENGLISH) -> dict:
    """Everything the bulletin templates show to a reader of `language`, as plain data (never ORM objects).

    Each campaign, helpline, the set's title and each local notice in its approved translation where one may be
    used, else as written (`is_fallback` when that is English to a reader of another language, and the fixed
    wording can say so in theirs). Words not in the main language (`main_language`) carry their own `lang`/`dir`
    (`part`). Fixed words made here (a picture's description) follow the caller's `wording_in`.
    """
    settings = get_settings()
    association = brand()
    scheme = bulletin.scheme
    is_full_text = bool(scheme.is_bulletin_full_text)
    main = main_language(language)
    # The fallback line is fixed wording: it is only written when it can be in the reader's language.
    can_say_fallback = main != ENGLISH
    english_part = _part_language(ENGLISH, main)  # what coordinators and the association type is English
    campaigns = []
    for version_id in bulletin.campaign_version_ids:
        version = content.get_version(version_id, ContentKind.CAMPAIGN)
        if version is None:
            continue
        shown = in_language(version, language)
        data = content.campaign_data(shown.version, top_heading=3)
        data["language"] = shown.language
        data["part"] = _part_language(shown.language, main)
        data["is_fallback"] = shown.is_fallback and can_say_fallback
        data["image_url"] = _image_url(data["image"], version.image.sha256 if version.image else "")
        data["image_alt"] = gettext("Picture for the campaign: %(title)s", title=data["title"])
        if data["image"]:
            width, height = int(data["image"]["width"]), int(data["image"]["height"])
            data["image_width"] = min(width, 552)
            data["image_height"] = max(1, round(height * data["image_width"] / width))
        data.pop("image")  # the bytes are served by the image link, not carried in every message
        data["body_text"] = html_to_text(data["body_html"])
        data["body_html"] = _unbreakable_link_text(data["body_html"])
        # Short by default: at most three key messages, and the rest of the campaign on its public page.
        if not is_full_text:
            data["key_messages"] = data["key_messages"][:3]
        data["summary_html"] = text_html(data["summary"])
        data["key_messages_html"] = [text_html(message) for message in data["key_messages"]]
        data["call_to_action_html"] = text_html(data["call_to_action"])
        data["web_address_html"] = address_html(data["web_address"], gettext("the campaign's website"))
        # The public page in the language the reader got the campaign in.
        data["read_more_url"] = (
            public_url("campaigns.show_in", slug=data["slug"], language=shown.language) if shown.is_translation
            else public_url("campaigns.show", slug=data["slug"])
        )
        campaigns.append(data)
    set_version = bulletin.helpline_set_version
    if bulletin.helpline_version_ids:
        helpline_versions = [content.get_version(i, ContentKind.HELPLINE) for i in bulletin.helpline_version_ids]
    else:
        helpline_versions = content.usable_helplines(set_version)[0]
    helplines = []
    for version in helpline_versions:
        if version is None:
            continue
        shown = in_language(version, language)
        helpline = content.helpline_data(shown.version)
        part = _part_language(shown.language, main)
        helpline["number_html"] = phone_link(helpline["number"], helpline["tel_href"])
        helpline["web_address_html"] = address_html(helpline["web_address"], gettext("the website"))
        helpline["who_for_html"] = _marked_html(helpline["who_for"], part)
        helpline["opening_hours_html"] = _marked_html(helpline["opening_hours"], part)
        # Only its own words can be in English: a name and a number read the same in every language.
        helpline["is_fallback"] = shown.is_fallback and bool(helpline["who_for"] or helpline["opening_hours"])
        helplines.append(helpline)
    set_title = {"title": "", "part": None}
    if set_version is not None:
        shown = in_language(set_version, language)
        set_title = {"title": shown.version.title, "part": _part_language(shown.language, main)}
    notices = []
    for version_id in bulletin.local_notice_version_ids:
        version = content.get_version(version_id, ContentKind.LOCAL_NOTICE)
        if version is not None:
            shown = in_language(version, language)
            data = content.local_notice_data(shown.version)
            data["part"] = _part_language(shown.language, main)
            data["is_fallback"] = shown.is_fallback and can_say_fallback
            data["paragraphs"] = paragraphs(data["body"])
            data["paragraphs_html"] = [[text_html(line) for line in para] for para in data["paragraphs"]]
            notices.append(data)
    join_url = public_url("bulletins.join", slug=scheme.slug)
    return {
        "can_choose_language": len(offered_languages(scheme)) > 1,
        "language": main,
        "dir": text_direction(main),
        "english_part": english_part,
        "subject": one_line(bulletin.subject),
        "preheader": preheader(campaigns),
        "intro": bulletin.intro,
        "intro_paragraphs": paragraphs(bulletin.intro),
        "intro_paragraphs_html": [[text_html(line) for line in para] for para in paragraphs(bulletin.intro)],
        "is_full_text": is_full_text,
        "scheme": {
            "name": one_line(scheme.name),
            "contact_email": scheme.contact_email,
            "contact_phone": scheme.contact_phone,
            "contact_phone_html": phone_link(scheme.contact_phone) if scheme.contact_phone else "",
            "contact_other": scheme.contact_other,
            "contact_other_html": text_html(scheme.contact_other),
            "join_url": join_url,
            "join_address_html": address_html(join_url),
        },
        "association": {
            "name": one_line(settings.association_name),
            "footer_text": settings.footer_text,
            "colour": _brand_colour(association.colour),
            "logo": _logo(association),
        },
        "police": {
            "emergency_html": phone_link("999"),
            "non_emergency_html": phone_link("101"),
            "website": POLICE_WEBSITE,
            "website_href": f"https://{POLICE_WEBSITE}",
            "website_html": address_html(POLICE_WEBSITE),
        },
        "campaigns": campaigns,
        "helpline_set": {
            "title": set_title["title"],
            "part": set_title["part"],
            "helplines": helplines,
            "is_fallback": can_say_fallback and any(h["is_fallback"] for h in helplines),
        },
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
    # Why no message can be built from this bulletin ("" when they can); the previews do not need headers.
    header_problem: str = ""
    # The language it is in (its Content-Language, and the lang of its HTML), and its greetings in that language:
    # "Hello {name}," with NAME_MARK where the name goes, and the one for no name.
    language: str = ENGLISH
    greeting_named: str = f"Hello {NAME_MARK},"
    greeting_nameless: str = "Hello,"

    def greeting(self, name: str = "") -> str:
        """The first line for one recipient, in the bulletin's language: "Hello Robin," or "Hello,"."""
        name = one_line(name)
        return self.greeting_named.replace(NAME_MARK, name) if name else self.greeting_nameless

    def html_for(self, name: str = "", unsubscribe_url: str = "") -> str:
        """The HTML part for one recipient: their name (escaped) and their unsubscribe link."""
        return self._html(self.greeting(name), unsubscribe_url)

    def text_for(self, name: str = "", unsubscribe_url: str = "") -> str:
        """The plain-text part for one recipient."""
        return self._text(self.greeting(name), unsubscribe_url)

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

        An empty `to_address` makes a message to nobody (`undisclosed-recipients:;`), for downloads. Raises
        MessageError, saying why, when the message cannot be built.
        """
        if self.header_problem:
            raise MessageError(self.header_problem)
        name = one_line(to_name)
        hello = self.greeting(name)
        if not _MESSAGE_ID.fullmatch(message_id or "") or _NOT_IN_MESSAGE_ID.search(message_id[1:-1]):
            raise MessageError(f"not a usable Message-ID: {message_id!r}")
        own = [
            ("To", mailbox(to_address, name) if to_address else "undisclosed-recipients:;"),
            ("Date", format_datetime(date or utcnow())),
            ("Message-ID", message_id),
        ]
        if unsubscribe_url and self.is_personal:
            if not unsubscribe_url.isascii() or not unsubscribe_url.isprintable() or " " in unsubscribe_url:
                raise MessageError("the unsubscribe link must be plain ASCII")
            own += [("List-Unsubscribe", f"<{unsubscribe_url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]
        own += [("MIME-Version", "1.0"), ("Content-Type", f'multipart/alternative; boundary="{self.boundary}"')]
        b = self.boundary
        lines = [
            self.common_headers,
            header_lines(own),
            b"\r\n",
            f"--{b}\r\n".encode(),
            b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            _quoted_printable(self._text(hello, unsubscribe_url)),
            f"\r\n--{b}\r\n".encode(),
            b'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
            _quoted_printable(self._html(hello, unsubscribe_url)),
            f"\r\n--{b}--\r\n".encode(),
        ]
        return dkim_sign(b"".join(lines), self.sender.rpartition("@")[2])


def _quoted_printable(text: str) -> bytes:
    # binascii's encoder (C): a few microseconds per part, where the email package's takes milliseconds.
    data = "\r\n".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).encode("utf-8")
    return binascii.b2a_qp(data, istext=True)


def _common_headers(
    scheme_name: str, scheme_slug: str, reply_to: str, subject: str, sender: str, language: str = ENGLISH
) -> bytes:
    """From, Reply-To, Subject, List-Id and Content-Language; MessageError naming what to correct when an address
    is not one."""
    settings = get_settings()
    try:
        from_header = mailbox(sender, from_name(scheme_name, settings.association_name), "From")
    except MessageError as exc:
        raise MessageError(f"the sender address cannot be used ({exc}); correct it in Settings") from exc
    headers = [("From", from_header)]
    if reply_to:
        try:
            headers.append(("Reply-To", mailbox(reply_to, header_name="Reply-To")))
        except MessageError as exc:
            raise MessageError(
                f"the scheme's contact email cannot be the Reply-To address ({exc}); correct it on the scheme's page"
            ) from exc
    headers.append(("Subject", encode_text(subject)))
    headers.append(("List-Id", f"{phrase(f'{scheme_name} bulletins', 'List-Id')} {list_id(scheme_slug, sender_domain())}"))
    # The language a reader gets (RFC 3282): a tag checked when it was stored, so plain ASCII.
    headers.append(("Content-Language", language))
    return header_lines(headers)


def render_bulletin(
    bulletin: Bulletin, *, is_public: bool = False, subject_prefix: str = "", language: str = ENGLISH
) -> RenderedBulletin:
    """Render a bulletin once: personal (each recipient's name and unsubscribe link) or public (no one's data).

    In `language`: each part in its approved translation where one may be used, the fixed wording in it once
    approved (see `bulletin_data`), so a bulletin to residents of five languages is rendered five times, once
    each, not once per resident. The public version, for downloads and for pasting into WhatsApp or Facebook,
    greets no one by name and has the scheme's sign-up link where the unsubscribe link would be.
    """
    token = secrets.token_hex(8)
    greeting_mark, unsubscribe_mark = f"nwcgreeting{token}x", f"nwcunsubscribe{token}x"
    with wording_in(language):
        data = bulletin_data(bulletin, language)
        context = dict(
            data,
            greeting=greeting_mark if not is_public else gettext("Hello neighbours,"),
            unsubscribe_url=unsubscribe_mark,
            is_public=is_public,
        )
        html = _inliner.inline(render_template("email/bulletin.html", **context))
        text = render_template("email/bulletin.txt", **context)
        greeting_named, greeting_nameless = gettext("Hello %(name)s,", name=NAME_MARK), gettext("Hello,")
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    subject = one_line(subject_prefix + data["subject"])
    sender = sender_address()
    scheme = bulletin.scheme
    try:
        common_headers = _common_headers(
            scheme.name, scheme.slug, scheme.contact_email, subject, sender, data["language"]
        )
        problem = ""
    except MessageError as exc:
        # The previews need no headers; each message built from this fails with the reason (see the sender).
        common_headers, problem = b"", str(exc)
    return RenderedBulletin(
        subject=subject,
        html=html,
        text=text,
        greeting_mark=greeting_mark,
        unsubscribe_mark=unsubscribe_mark,
        sender=sender,
        common_headers=common_headers,
        boundary=f"=_nwc_{secrets.token_hex(12)}",
        is_personal=not is_public,
        header_problem=problem,
        language=data["language"],
        greeting_named=greeting_named,
        greeting_nameless=greeting_nameless,
    )


def public_text(bulletin: Bulletin) -> str:
    """The whole bulletin as plain text, for the .txt download: no one's name, no unsubscribe link."""
    return render_bulletin(bulletin, is_public=True).text_for()


# A message a group chat shows whole, without "Read more": the headline, the help and where to read on.
SHARE_TEXT_LIMIT = 700


def share_text(bulletin: Bulletin) -> str:
    """The bulletin for a WhatsApp or Facebook group, at most 700 characters: its headline, the police and as many
    of its helplines as fit, each campaign's public page and the scheme's sign-up page. No one's name."""
    data = bulletin_data(bulletin)
    headline = f"{data['subject']}\n{data['scheme']['name']} · Neighbourhood Watch"
    police = (
        f"Emergency: call 999. Not an emergency: call 101 ({POLICE_NON_EMERGENCY_COST}), report at "
        f"{POLICE_WEBSITE}, or go to a police station."
    )
    join = f"Get these bulletins by email: {data['scheme']['join_url']}"
    pages = [f"Read more: {campaign['read_more_url']}" for campaign in data["campaigns"]]

    def whole(read_on: list[str], helplines: list[str]) -> str:
        blocks = [headline, police, "\n".join(helplines), "\n".join(read_on), join]
        return "\n\n".join(block for block in blocks if block)

    if len(whole(pages, [])) > SHARE_TEXT_LIMIT:
        # Many campaigns: one address for all of them, the list of running campaigns.
        pages = [f"Read more: {public_url('campaigns.index')}"]
    chosen: list[str] = []
    for helpline in data["helpline_set"]["helplines"]:
        line = f"{helpline['name']}: {helpline['number']}" + (" (free)" if helpline["is_free_to_call"] else "")
        if len(whole(pages, [*chosen, line])) > SHARE_TEXT_LIMIT:
            break
        chosen.append(line)
    return whole(pages, chosen)


def public_html(bulletin: Bulletin) -> str:
    """The bulletin as a web page to download: no one's name, no unsubscribe link."""
    return render_bulletin(bulletin, is_public=True).html_for()


def public_eml(bulletin: Bulletin) -> bytes:
    """The bulletin as an .eml file addressed to nobody, with no one's name or unsubscribe link."""
    rendered = render_bulletin(bulletin, is_public=True)
    return rendered.message("", "", f"<bulletin-{bulletin.id}.download.{secrets.token_hex(6)}@{sender_domain()}>")
