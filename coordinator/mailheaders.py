"""Mail headers: every header line the app writes, made from the text a person reads.

Subjects, display names, scheme and association names and residents' names are stored as the words a
person reads, and become header text only here:

- `check_header_text()` is the rule where such text is typed: one line, no control or invisible
  characters (bidi overrides included), and no RFC 2047 encoded words, decoded or not;
- `encode_text()` makes an unstructured value (Subject), `phrase()` the words before an address (List-Id),
  `mailbox()` an address with its display name (From, To, Reply-To), checked by `email.headerregistry.Address`;
- `header_lines()` writes the lines, refusing any value that would end its line early.

The app, never the author, does the RFC 2047 encoding. Text that is not plain ASCII, or that holds "=?" and
so could be read as an encoded word, is encoded here (a subject whole, a name by its runs of such words): a
mail program decodes it back to exactly the characters typed, never to a line break, and a comma or "<" in
a name stays inside the one mailbox.

The values are written out by this module, not by the email package's header objects: on Python 3.11 a
Subject such as `=?utf-8?q?Hi=0D=0AReply-To:_x@evil.example?=` set on an EmailMessage is decoded by its
parser and written back with the line break it decoded to (CVE-2024-6923), and a non-ASCII display name
holding a comma is written back unquoted, as two mailboxes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from email import policy
from email.charset import Charset
from email.errors import HeaderParseError
from email.header import Header
from email.headerregistry import Address

# Control characters, format characters (bidi overrides and isolates, zero-width characters), line and
# paragraph separators, and lone surrogates: none belongs in a line a person reads. The zero-width joiner and
# non-joiner stay: Persian, several Indian scripts and emoji need them, and they reorder nothing.
_INVISIBLE_CATEGORIES = frozenset(("Cc", "Cf", "Zl", "Zp", "Cs"))
_JOINERS = frozenset("\u200c\u200d")
# An RFC 2047 encoded word, read as leniently as mail programs read them.
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bq]\?[^?]*\?=", re.IGNORECASE)
# Characters that never appear in an address as this app stores it (validated where typed).
_NOT_IN_ADDRESS = re.compile(r"[\s<>\"(),;:\\\[\]]")
_ASCII_ADDRESS = re.compile(r"[!-~]+@[!-~]+")
# atext of RFC 5322 (3.2.3): words of these need no quotes in a phrase.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
# RFC 5322: lines SHOULD stay within 78 characters and MUST within 998.
_FOLD_AT = 78
_MAX_LINE = 998
# The longest encoded word put in a phrase: with the folded space and an address of 254 characters behind it,
# its line stays within 998.
_MAX_PHRASE_WORD = 700
_UTF8 = Charset("utf-8")


class MessageError(ValueError):
    """A message cannot be built (an address no mail server would take, a header that cannot be written)."""


# --- Where header text is typed ---------------------------------------------------------------------------------


def _is_invisible(c: str) -> bool:
    return unicodedata.category(c) in _INVISIBLE_CATEGORIES and c not in _JOINERS


def _has_invisible(text: str) -> bool:
    return any(_is_invisible(c) for c in text)


def _as_a_mail_program_reads_it(text: str) -> str:
    """`text` with any encoded words decoded, the way the email package's parser (and most mail programs) would."""
    try:
        return str(policy.default.header_factory("Subject", text))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return text


def header_text_problem(text: str, what: str) -> str:
    """Why `text` cannot be put in a mail header as typed, in words for whoever typed it ("" when it can).

    `what` names the field, e.g. "The subject".
    """
    text = text or ""
    if _has_invisible(text):
        return (f"{what} must be one line, without line breaks, invisible characters or characters that "
                "change the direction of the text")
    if _ENCODED_WORD.search(text):
        hidden = _has_invisible(_as_a_mail_program_reads_it(text))
        return (f"{what} contains mail code like =?utf-8?q?...?="
                + (" that hides a line break or an invisible character" if hidden else "")
                + ". Type the words themselves, as people should read them: the toolkit encodes them for email")
    return ""


def check_header_text(text: str, what: str) -> str:
    """`text` unchanged when it can become a header; ValueError with a message for whoever typed it when not."""
    problem = header_text_problem(text, what)
    if problem:
        raise ValueError(problem)
    return text


# --- Building values ----------------------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Stored text fit for a header: runs of spaces and line breaks become one space, invisible characters go."""
    text = text or ""
    # The usual case, checked in C: nothing but printable characters and single inner spaces.
    if text.isprintable() and "  " not in text and text == text.strip():
        return text
    # Line breaks and tabs count as spaces here: a stored value is made one line, not refused.
    text = "".join(c for c in text if c.isspace() or not _is_invisible(c))
    return " ".join(text.split())


def _is_plain(text: str) -> bool:
    # "=?" in plain text could be read as the start of an encoded word: such text is encoded, so it reads as typed.
    return text.isascii() and text.isprintable() and "=?" not in text


def _encoded_words(text: str, header_name: str) -> str:
    """The whole of `text` as RFC 2047 encoded words (UTF-8), folded onto continuation lines."""
    return Header(text, "utf-8", header_name=header_name).encode(linesep="\r\n")


def _fold(tokens: list[str], header_name: str) -> str:
    """Tokens joined by single spaces, a line folded before a token that would pass 78 characters.

    Unfolding gives back exactly the tokens joined by spaces; a token is never cut.
    """
    lines: list[str] = []
    line = ""
    room = _FOLD_AT - len(header_name) - 2  # "Name: "
    for token in tokens:
        if line and len(line) + 1 + len(token) > room:
            lines.append(line)
            line, room = " " + token, _FOLD_AT
        else:
            line = f"{line} {token}" if line else token
    lines.append(line)
    return "\r\n".join(lines)


def encode_text(text: str, header_name: str = "Subject") -> str:
    """An unstructured header value (a Subject) that a mail program shows as exactly `text`, on one line."""
    text = one_line(text)
    if _is_plain(text):
        return _fold(text.split(" "), header_name)
    return _encoded_words(text, header_name)


def _quoted(text: str) -> str:
    # Inside quotes a comma, full stop or "<" is part of the name, never the start of another address.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def phrase(text: str, header_name: str = "To") -> str:
    """Words in front of an address (a display name, a List-Id's name): atoms, quoted strings and encoded words.

    Only the words that need it are encoded, each run of them as one encoded word. RFC 2047 asks encoded
    words to stay within 75 characters, but a name cut into several would not read back the same everywhere:
    the space between two encoded words counts for nothing in RFC 2047, while the email package's parser
    reads a space there. So a run is cut only when one word would make its line too long for a mail server.
    """
    text = one_line(text)
    if _is_plain(text):
        return text if _ATOMS.fullmatch(text) else _quoted(text)
    tokens: list[str] = []
    run: list[str] = []
    is_encoded_run = False
    for word in [*text.split(" "), None]:
        is_encoded = word is not None and not _is_plain(word)
        if run and (word is None or is_encoded != is_encoded_run):
            words = " ".join(run)
            encoded = _UTF8.header_encode(words) if is_encoded_run else ""
            if len(encoded) > _MAX_PHRASE_WORD:
                tokens += Header(words, "utf-8").encode(linesep="\n").split("\n ")
            elif encoded:
                tokens.append(encoded)
            else:
                tokens.append(words if _ATOMS.fullmatch(words) else _quoted(words))
            run = []
        if word is not None:
            run.append(word)
            is_encoded_run = is_encoded
    return _fold(tokens, header_name)


def mailbox(address: str, name: str = "", header_name: str = "To") -> str:
    """One mailbox for an address header: the display name as read and the address; MessageError if it is not one."""
    address = address or ""
    if not address or _NOT_IN_ADDRESS.search(address) or address.count("@") != 1:
        raise MessageError(f"{address!r} is not an email address a mail server would take")
    name = one_line(name)
    try:
        if address.isascii():
            checked = Address(display_name=name, addr_spec=address)
        else:
            # An internationalised address (RFC 6531), checked where it was typed; it is only ever sent with SMTPUTF8.
            username, _, domain = address.rpartition("@")
            checked = Address(display_name=name, username=username, domain=domain)
    except (ValueError, IndexError, HeaderParseError) as exc:  # the email package's defects are ValueErrors
        raise MessageError(f"{address!r} is not an email address a mail server would take ({exc})") from exc
    if not checked.display_name:
        return checked.addr_spec
    return f"{phrase(checked.display_name, header_name)} <{checked.addr_spec}>"


def needs_smtputf8(address: str) -> bool:
    """Whether an address has non-ASCII characters, which only an SMTPUTF8 server takes."""
    return not _ASCII_ADDRESS.fullmatch(address or "")


# --- Writing the lines --------------------------------------------------------------------------------------------


def header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """Header lines (CRLF ends) from (name, value) pairs made above; MessageError if a value would end its line early."""
    out = []
    for name, value in headers:
        if not _HEADER_NAME.fullmatch(name):
            raise MessageError(f"{name!r} is not a header name")
        lines = f"{name}: {value}".split("\r\n")
        # A continuation line starts with a space; any other CR or LF would start a header of its own.
        if any("\r" in line or "\n" in line for line in lines) or any(not line.startswith(" ") for line in lines[1:]):
            raise MessageError(f"the {name} header would end early")
        data = "\r\n".join(lines).encode("utf-8")
        if any(len(line) > _MAX_LINE for line in data.split(b"\r\n")):
            raise MessageError(f"the {name} header is too long for a mail server")
        out.append(data + b"\r\n")
    return b"".join(out)
