"""Mail: transactional messages from a saved outbox, and the one way every message leaves.

Transactional email (invitations, password resets, residents' confirmation requests ...) is a saved outbox
row per message, sent after the commit by `deliver_queued_mail`. Messages are built from a template pair
`templates/email/<name>.txt` + `.html`; the subject is set in the .txt template with
`{% set subject = "..." %}`. The headers are written by `coordinator.mailheaders`, as bulletins' are: the
subject and the recipient's name are stored as a person reads them and encoded there.

Bulletins keep their own outbox, lease and pacing (`bulletins/sending.py`), but every message, transactional
or bulletin, leaves the same way:
- `MailTransport`: one SMTP connection kept open for many messages (MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS,
  MAIL_USERNAME, MAIL_PASSWORD), a connection the server dropped replaced once, and `ServerUnavailable` when
  no connection can be made; or, when `is_outbox_folder()` (no MAIL_SERVER), .eml files written to
  MAIL_OUTBOX_DIR (instance/outbox/). `server_problem()` tells a failure that is the server's or ours
  from one about the recipient;
- `dkim_sign()`: with DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH set, every message is signed for DKIM_DOMAIN,
  or else for the domain of its From address.

An outage costs no one a message: while the server cannot be reached, or refuses our TLS, login or sender
address, a transactional message waits in the queue with the try not counted, and the sweeper tries again a
minute later.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import HeaderParser
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import JSON, Enum, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.jobs import Job, job, register_sweeper
from coordinator.mailheaders import MessageError, encode_text, header_lines, mailbox, needs_smtputf8

log = logging.getLogger(__name__)

# The body parts (MIME) are made by the email package, with CRLF line ends; the headers a person reads are not.
_BODY_POLICY = policy.default.clone(linesep="\r\n")
SMTP_TIMEOUT_SECONDS = 30.0


class MailStatus(enum.StrEnum):
    """Where one message stands."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class OutgoingMail(db.Model):
    """One message waiting to go, or gone: the database is the record of what must still be sent."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[MailStatus] = mapped_column(
        Enum(MailStatus, name="mail_status", native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=MailStatus.QUEUED,
        index=True,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def render_pair(template_name: str, **context: object) -> tuple[str, str, str]:
    """Render email/<name>.txt and .html; return (subject, text, html)."""
    env = current_app.jinja_env
    text_template = env.get_template(f"email/{template_name}.txt")
    current_app.update_template_context(context)
    module = text_template.make_module(context)
    subject = " ".join(str(getattr(module, "subject", "")).split())
    text = str(module).strip() + "\n"
    html = render_template(f"email/{template_name}.html", subject=subject, **context)
    return subject, text, html


def queue_mail(kind: str, to_address: str, template: str, to_name: str = "", **context: object) -> OutgoingMail:
    """Render a message and save it as queued; `deliver_queued_mail` is queued when the caller commits."""
    subject, text, html = render_pair(template, **context)
    domain = current_app.config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "localhost"
    row = OutgoingMail(
        kind=kind,
        to_address=to_address,
        to_name=to_name,
        subject=subject,
        text_body=text,
        html_body=html,
        message_id=make_msgid(domain=domain),
    )
    db.session.add(row)
    deliver_queued_mail.after_commit()
    return row


def sender() -> tuple[str, str]:
    """(display name, address) of MAIL_DEFAULT_SENDER, which may be written `Name <address>`."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return name, address or "watch@localhost"


def build_message(row: OutgoingMail) -> bytes:
    """The RFC 5322 message for one outbox row, CRLF line ends, DKIM-signed when a key is configured.

    MessageError when an address is not one.
    """
    from_name, from_address = sender()
    try:
        from_header = mailbox(from_address, from_name, "From")
    except MessageError as exc:
        raise MessageError(f"MAIL_DEFAULT_SENDER cannot be the From address ({exc})") from exc
    headers = [
        ("From", from_header),
        ("To", mailbox(row.to_address, row.to_name)),
        ("Subject", encode_text(row.subject)),
        ("Date", format_datetime(row.created_at)),
        ("Message-ID", row.message_id),
    ]
    headers += [(name, encode_text(str(value), name)) for name, value in (row.headers or {}).items()]
    body = EmailMessage(policy=_BODY_POLICY)
    body.set_content(row.text_body)
    if row.html_body:
        body.add_alternative(row.html_body, subtype="html")
    # The body's own headers (MIME-Version, Content-Type ...) follow ours; it carries no header a person reads.
    return dkim_sign(header_lines(headers) + body.as_bytes(), from_address.rpartition("@")[2])


# --- The way out: SMTP, or the outbox folder -------------------------------------------------------------------


# An OSError, like the failures it stands for, so that a caller handling network failures handles it too.
class ServerUnavailable(OSError):
    """The mail server could not be reached, or refused the connection, TLS or login: nothing about a recipient."""


def is_outbox_folder() -> bool:
    """True when no SMTP server is configured, so messages are written to the outbox folder instead."""
    return not current_app.config.get("MAIL_SERVER")


def is_connection_lost(exc: BaseException) -> bool:
    """The connection broke (hung up, reset, timed out), as opposed to a reply from the server."""
    # smtplib's exceptions are OSErrors too: only the ones that carry no reply count here.
    return isinstance(exc, smtplib.SMTPServerDisconnected) or (
        isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)
    )


def reply_code(exc: BaseException) -> int | None:
    """The server's reply code behind an smtplib exception (the recipient's, when it refused the recipient)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return next(iter(exc.recipients.values()), (None, b""))[0]
    return getattr(exc, "smtp_code", None)


def reply_text(code: int | None, message: bytes | str) -> str:
    """A server's reply as one line of at most 500 characters, its code first."""
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return " ".join(f"{code or ''} {text}".split())[:500]


def server_problem(exc: BaseException) -> str:
    """Why nothing could go to anyone, when a failure is the server's or ours; "" when it is about the recipient.

    The server's or ours: no connection could be made (unreachable, TLS or login refused), the connection
    broke again on a fresh one, or the server refused our sender address. Such a try is counted against no one.
    """
    if isinstance(exc, ServerUnavailable) or is_connection_lost(exc):
        return f"the mail server is unavailable: {exc}"[:500]
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the mail server refused the sender address: {reply_text(exc.smtp_code, exc.smtp_error)}"[:500]
    return ""


class MailTransport:
    """One SMTP connection kept open for many messages, or, with no MAIL_SERVER, .eml files in MAIL_OUTBOX_DIR."""

    def __init__(self, timeout: float = SMTP_TIMEOUT_SECONDS) -> None:
        config = current_app.config
        self.server = config.get("MAIL_SERVER") or ""
        self.port = int(config.get("MAIL_PORT") or 25)
        self.use_tls = bool(config.get("MAIL_USE_TLS"))
        self.username = config.get("MAIL_USERNAME") or ""
        self.password = config.get("MAIL_PASSWORD") or ""
        self.outbox = Path(config["MAIL_OUTBOX_DIR"])
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    @property
    def is_outbox_folder(self) -> bool:
        """True when messages go to the outbox folder, not to a server."""
        return not self.server

    def send(self, from_address: str, to_address: str, data: bytes, filename: str) -> None:
        """Hand one message to the server, or write it to the outbox folder as `<filename>.eml`.

        A connection the server has closed since the last message (421, hung up, reset) is replaced once.
        Raises ServerUnavailable when no connection can be made, and smtplib's exceptions when the server
        refuses the message.
        """
        if self.is_outbox_folder:
            self.outbox.mkdir(parents=True, exist_ok=True)
            path = self.outbox / f"{filename}.eml"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(data)
            temporary.replace(path)
            return
        options = ["SMTPUTF8"] if needs_smtputf8(to_address) else []
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.sendmail(from_address, [to_address], data, mail_options=options)
                return
            except (smtplib.SMTPException, OSError) as exc:
                # Servers close long-used connections (421, hanging up, a reset): once more, on a fresh one.
                if is_connection_lost(exc) or reply_code(exc) == 421:
                    self.drop()
                    if attempt == 1:
                        continue
                raise

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            smtp = None
            try:
                smtp = smtplib.SMTP(self.server, self.port, timeout=self.timeout)
                if self.use_tls:
                    smtp.starttls()
                if self.username:
                    smtp.login(self.username, self.password)
            except BaseException as exc:
                if smtp is not None:
                    smtp.close()
                if isinstance(exc, (smtplib.SMTPException, OSError)):
                    raise ServerUnavailable(f"{type(exc).__name__}: {exc}") from exc
                raise
            self._smtp = smtp
        return self._smtp

    def drop(self) -> None:
        """Forget the connection without a goodbye (it has gone bad); the next send opens a new one."""
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        """Say goodbye to the server and close the connection."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None


# --- The outbox folder's files, when an address is erased ----------------------------------------------------------

# Our own messages' headers fit in a few kilobytes; a larger head is not read, so a huge file costs no memory.
_OUTBOX_HEAD_BYTES = 64 * 1024
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def outbox_file_stem(row: OutgoingMail) -> str:
    """The name (without .eml) a transactional message is written under in the outbox folder."""
    return f"{row.created_at:%Y%m%d-%H%M%S}-{row.kind}-{row.id}"


@dataclass(frozen=True)
class OutboxFiles:
    """The outbox folder's .eml files addressed to one address, and how many files could not be read."""

    paths: tuple[Path, ...]
    unreadable: int


def _addressed_to(path: Path, wanted: str) -> bool:
    """True when one of the message's To: addresses is `wanted` (already casefolded). OSError when unreadable."""
    with path.open("rb") as file:
        head = file.read(_OUTBOX_HEAD_BYTES)
    header_block = _END_OF_HEADERS.split(head, maxsplit=1)[0].decode("utf-8", "replace")
    # compat32 keeps each header as written and never raises on a malformed one; getaddresses does the parsing.
    headers = HeaderParser(policy=policy.compat32).parsestr(header_block, headersonly=True)
    return any(address.strip().casefold() == wanted for _, address in getaddresses(headers.get_all("To", [])))


def outbox_files_to(address: str) -> OutboxFiles:
    """The .eml files directly in MAIL_OUTBOX_DIR whose To: holds `address` (any case), whatever MAIL_SERVER is now.

    Only regular files are read: a link or a folder named *.eml is skipped, so nothing outside the folder is ever
    read or removed. A file that cannot be read is counted, not guessed at.
    """
    wanted = address.strip().casefold()
    folder = Path(current_app.config["MAIL_OUTBOX_DIR"])
    if not wanted or not folder.is_dir():
        return OutboxFiles((), 0)
    found, unreadable = [], 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.endswith(".eml") or not entry.is_file(follow_symlinks=False):
                continue
            try:
                if _addressed_to(Path(entry.path), wanted):
                    found.append(Path(entry.path))
            except (OSError, ValueError) as exc:
                unreadable += 1
                log.warning("outbox file %r not read: %s", entry.name, exc)
    return OutboxFiles(tuple(sorted(found)), unreadable)


@dataclass(frozen=True)
class OutboxErasure:
    """What erasing an address from the outbox folder did: files removed, and files that could not be read or removed."""

    deleted: int
    not_removed: int

    def as_details(self) -> dict[str, int]:
        """For an audit entry's details: the counts only, never the address."""
        details = {"outbox_files_deleted": self.deleted}
        if self.not_removed:
            details["outbox_files_not_removed"] = self.not_removed
        return details


def erase_outbox_files_to(address: str, only: Callable[[str], bool] | None = None) -> OutboxErasure:
    """Delete the outbox folder's .eml files addressed to `address`; with `only`, just those whose stem it accepts.

    Files cannot be rolled back with the transaction: they go when the erasure is made, before the commit. A commit
    that fails leaves the address in the database and the caller erases again; a copy of a message gone early
    harms no one.
    """
    files = outbox_files_to(address)
    deleted, not_removed = 0, files.unreadable
    for path in files.paths:
        if only is not None and not only(path.name[: -len(".eml")]):
            continue
        try:
            path.unlink()
            deleted += 1
        except FileNotFoundError:
            pass  # removed meanwhile by another erasure
        except OSError as exc:
            not_removed += 1
            log.warning("outbox file %r not removed: %s", path.name, exc)
    return OutboxErasure(deleted, not_removed)


# --- The return path (VERP) ---------------------------------------------------------------------------------------


def return_path(token: str) -> str:
    """The envelope sender naming one message, `bounces+<token>@domain` from BOUNCE_ADDRESS; "" when that is unset.

    A bounce goes to the envelope sender (RFC 5321 section 4.5.5), so the address it arrives at says which
    message bounced, whatever the bounce's own text is like (VERP).
    """
    local, _, domain = (current_app.config.get("BOUNCE_ADDRESS") or "").strip().rpartition("@")
    if not local or not domain or not token:
        return ""
    return f"{local}+{token}@{domain}"


def return_path_token(address: str) -> str:
    """The token of an address made by `return_path` (any case), or "" when it is not one of ours."""
    local, _, domain = (current_app.config.get("BOUNCE_ADDRESS") or "").strip().rpartition("@")
    got_local, _, got_domain = address.strip().strip("<>").rpartition("@")
    base, plus, token = got_local.partition("+")
    if not local or not plus or base.lower() != local.lower() or got_domain.lower() != domain.lower():
        return ""
    return token


# --- DKIM ----------------------------------------------------------------------------------------------------------


# Which headers a DKIM signature covers, of those a message has; RFC 8058 asks for both List-Unsubscribe headers.
DKIM_HEADERS = (
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"Reply-To", b"List-Id", b"List-Unsubscribe",
    b"List-Unsubscribe-Post", b"MIME-Version", b"Content-Type",
)
# The key file's contents, read again when the file changes (a rotated key needs no restart).
_dkim_keys: dict[tuple[str, int], bytes] = {}


def dkim_sign(message: bytes, from_domain: str) -> bytes:
    """The message with a DKIM-Signature header in front, when DKIM_SELECTOR and DKIM_PRIVATE_KEY_PATH are set.

    The signing domain is DKIM_DOMAIN, else `from_domain` (the From address's, as DMARC alignment wants).
    An unreadable key raises OSError: the message is not sent unsigned.
    """
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
    domain = config.get("DKIM_DOMAIN") or from_domain or "localhost"
    present = {line.split(b":", 1)[0].lower() for line in message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")}
    headers = [h for h in DKIM_HEADERS if h.lower() in present]
    signature = dkim.sign(message, selector.encode(), domain.encode(), key, include_headers=headers)
    return signature + message


# --- Sending the transactional outbox ----------------------------------------------------------------------------


def _send_row(row: OutgoingMail, transport: MailTransport, max_attempts: int) -> bool:
    """Build and hand over one claimed row and record the answer (the caller commits); False on an outage.

    Raises what building raised when it is not the message's fault (an unreadable DKIM key).
    """
    row.attempts += 1
    try:
        data = build_message(row)
    except MessageError as exc:
        # Nothing a retry would change: failed once, with the reason, instead of on every sweep.
        row.status = MailStatus.FAILED
        row.last_error = f"not sent: {exc}"[:500]
        log.warning("mail %s to %s not built: %s", row.id, row.to_address, exc)
        return True
    try:
        transport.send(sender()[1], row.to_address, data, outbox_file_stem(row))
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        log.warning("mail %s to %s not sent: %s", row.id, row.to_address, exc)
        problem = server_problem(exc)
        if problem:
            # The server, or our own setup, was the problem, not the message: the try is not counted.
            row.attempts -= 1
            row.last_error = problem
            return False
        row.last_error = str(exc)[:500]
        code = reply_code(exc)
        if row.attempts >= max_attempts or (code is not None and 500 <= code < 600):
            row.status = MailStatus.FAILED
        return True
    row.status = MailStatus.SENT
    row.sent_at = utcnow()
    return True


@job
def deliver_queued_mail(max_attempts: int = 5) -> int:
    """Send every queued transactional message; return how many went. Safe to run twice.

    Each row is read again just before its send and marked sent right after it, in one transaction; on
    PostgreSQL the read locks the row, so a second worker waits and then skips it. A crash between the
    server's "250 OK" and that commit leaves the row queued and the next run sends it again: a crash costs
    at most one duplicate message, and never loses one. While the server is unavailable, or a message cannot
    be built for a reason of ours (an unreadable DKIM key), the run stops and the rest wait for the next.
    """
    ids = list(db.session.scalars(select(OutgoingMail.id).where(OutgoingMail.status == MailStatus.QUEUED)))
    transport = MailTransport()
    sent = 0
    # At the association's messages per second (Settings), as bulletins go: a campaign's opening queues an email
    # for every coordinator at once, and the mail server should see them at the pace it was promised.
    from coordinator.settings import get_settings  # here: settings -> audit -> auth -> this module

    interval = 1.0 / max(1, get_settings().messages_per_second)
    next_at = time.monotonic()
    try:
        for row_id in ids:
            time.sleep(max(0.0, next_at - time.monotonic()))
            next_at = max(next_at, time.monotonic()) + interval
            # Read the row again just before sending: another worker may have sent it meanwhile.
            row = db.session.get(OutgoingMail, row_id, with_for_update=True)
            if row is None or row.status != MailStatus.QUEUED:
                db.session.rollback()
                continue
            try:
                is_server_up = _send_row(row, transport, max_attempts)
            except Exception:  # e.g. an unreadable DKIM key: ours to fix, and no one's message is lost meanwhile
                db.session.rollback()
                log.exception("mail %s not built; the queue waits", row_id)
                break
            if row.status == MailStatus.SENT:
                sent += 1
            db.session.commit()
            if not is_server_up:
                break
    finally:
        transport.close()
    return sent


@register_sweeper
def pending_mail_jobs() -> list[tuple[Job, tuple]]:
    """Sweeper: while queued messages exist, `deliver_queued_mail` still has to run."""
    queued = db.session.scalar(select(OutgoingMail.id).where(OutgoingMail.status == MailStatus.QUEUED).limit(1))
    return [(deliver_queued_mail, ())] if queued is not None else []
