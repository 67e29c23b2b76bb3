"""Transactional email: a saved outbox row per message, sent after the commit.

Messages are built from a template pair `templates/email/<name>.txt` + `.html`; the subject is
set in the .txt template with `{% set subject = "..." %}`. The headers are written by
`coordinator.mailheaders`, as bulletins' are: the subject and the recipient's name are stored as a person
reads them and encoded there. With `MAIL_SERVER` unset, messages are written as .eml files to
`instance/outbox/` instead of being sent.
"""

from __future__ import annotations

import enum
import logging
import smtplib
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import JSON, Enum, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import UTCDateTime, utcnow
from coordinator.extensions import db
from coordinator.jobs import register_sweeper
from coordinator.mailheaders import MessageError, encode_text, header_lines, mailbox, needs_smtputf8

log = logging.getLogger(__name__)

# The body parts (MIME) are made by the email package, with CRLF line ends; the headers a person reads are not.
_BODY_POLICY = policy.default.clone(linesep="\r\n")


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
    """Render a message and save it as queued; the caller commits, then calls `send_queued_mail_later()`."""
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
    return row


def send_queued_mail_later() -> None:
    """Ask the background worker to send whatever is queued (call after the commit)."""
    from coordinator import jobs

    jobs.enqueue("coordinator.mail:deliver_queued_mail")


def sender() -> tuple[str, str]:
    """(display name, address) of MAIL_DEFAULT_SENDER, which may be written `Name <address>`."""
    name, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return name, address or "watch@localhost"


def build_message(row: OutgoingMail) -> bytes:
    """The RFC 5322 message for one outbox row, CRLF line ends; MessageError when an address is not one."""
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
    return header_lines(headers) + body.as_bytes()


class MailTransport:
    """Sends messages over one reused SMTP connection, or writes them to the outbox folder."""

    def __init__(self) -> None:
        config = current_app.config
        self.server = config["MAIL_SERVER"]
        self.outbox = Path(config["MAIL_OUTBOX_DIR"])
        self._smtp: smtplib.SMTP | None = None

    @property
    def is_outbox_folder(self) -> bool:
        return not self.server

    def send(self, from_address: str, to_address: str, data: bytes, filename: str) -> None:
        """Deliver one message; raises smtplib exceptions on refusal."""
        if self.is_outbox_folder:
            self.outbox.mkdir(parents=True, exist_ok=True)
            path = self.outbox / f"{filename}.eml"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            return
        options = ["SMTPUTF8"] if needs_smtputf8(to_address) else []
        self._connection().sendmail(from_address, [to_address], data, mail_options=options)

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            config = current_app.config
            smtp = smtplib.SMTP(self.server, config["MAIL_PORT"], timeout=30)
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            self._smtp = smtp
        return self._smtp

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except smtplib.SMTPException:
                pass
            self._smtp = None


def deliver_queued_mail(max_attempts: int = 5) -> int:
    """Send every queued transactional message; return how many went. Safe to run twice.

    Each row is read again just before its send and marked sent right after it, in one transaction; on
    PostgreSQL the read locks the row, so a second worker waits and then skips it. A crash between the
    server's "250 OK" and that commit leaves the row queued and the next run sends it again: a crash costs
    at most one duplicate message, and never loses one.
    """
    ids = list(db.session.scalars(select(OutgoingMail.id).where(OutgoingMail.status == MailStatus.QUEUED)))
    transport = MailTransport()
    sent = 0
    try:
        for row_id in ids:
            # Read the row again just before sending: another worker may have sent it meanwhile.
            row = db.session.get(OutgoingMail, row_id, with_for_update=True)
            if row is None or row.status != MailStatus.QUEUED:
                db.session.rollback()
                continue
            row.attempts += 1
            try:
                data = build_message(row)
            except MessageError as exc:
                # Nothing a retry would change: failed once, with the reason, instead of on every sweep.
                row.status = MailStatus.FAILED
                row.last_error = f"not sent: {exc}"[:500]
                log.warning("mail %s to %s not built: %s", row.id, row.to_address, exc)
                db.session.commit()
                continue
            try:
                transport.send(sender()[1], row.to_address, data, f"{row.created_at:%Y%m%d-%H%M%S}-{row.kind}-{row.id}")
            except (smtplib.SMTPException, OSError, ValueError) as exc:
                row.last_error = str(exc)[:500]
                if row.attempts >= max_attempts or (
                    isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
                ):
                    row.status = MailStatus.FAILED
                log.warning("mail %s to %s not sent: %s", row.id, row.to_address, exc)
                transport.close()
            else:
                row.status = MailStatus.SENT
                row.sent_at = utcnow()
                sent += 1
            db.session.commit()
    finally:
        transport.close()
    return sent


@register_sweeper
def pending_mail_jobs() -> list[tuple[str, tuple]]:
    """Sweeper: while queued messages exist, `deliver_queued_mail` still has to run."""
    queued = db.session.scalar(select(OutgoingMail.id).where(OutgoingMail.status == MailStatus.QUEUED).limit(1))
    return [("coordinator.mail:deliver_queued_mail", ())] if queued is not None else []
