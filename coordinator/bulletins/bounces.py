"""Bounces and complaints: reading the bounce mailbox back, so dead addresses and unwanted mail stop.

Each bulletin copy goes out with its own envelope sender, `bounces+<token>@domain` (BOUNCE_ADDRESS; VERP),
so a bounce arrives at an address that names the delivery it is about, with no guessing from its text.
The token is the delivery's id and an HMAC of it under SECRET_KEY (`delivery_token`): signed rather than
random and stored, so the outbox (millions of rows) needs no extra column and index and nothing is kept
to erase, while a token cannot be made up to unsubscribe someone else. A key rotated with the old one in
SECRET_KEY_FALLBACKS still reads bounces of mail sent before; without it those are reported as unknown.

Reports are read from the mailbox over IMAP (`process_mailbox`: the command `flask bulletin
process-bounces`, and the worker's sweep when BOUNCE_IMAP_HOST is set) or one at a time from an MTA's pipe
(`process-bounces --stdin`). They are parsed with the standard library's email package, which reads
multipart/report natively: a message/delivery-status part comes back as one header block per message and
per recipient (RFC 3464), a message/feedback-report part as one block (RFC 5965). Since VERP names the
delivery, no heuristics over free-text bounces are needed, which is what bounce libraries (flufl.bounce,
Mailman's) add; they also give addresses rather than status codes, and read no abuse reports.

What a report does (`apply_reports`), each step audited and listed on the scheme's subscribers page:
- a permanent failure (Action: failed, status 5.x.x other than a full mailbox) marks the address bouncing;
- a soft one (4.x.x, or X.2.2 mailbox full) is kept; BOUNCE_SOFT_LIMIT (3) within BOUNCE_SOFT_DAYS (30)
  mark it bouncing;
- a complaint (a feedback report) unsubscribes the resident at once;
- "delayed", "delivered", "relayed" and "expanded" notices change nothing.
A message that is not a report (an auto-reply, a bounce from a server that writes no DSN) is left in the
mailbox, flagged, for a person to read. Reports read are deleted from the mailbox after the commit: a crash
in between reads them again, and `report_key` (the report's SHA-256) makes the second reading count for nothing.
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import hmac
import imaplib
import logging
import re
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from email.message import Message

from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from coordinator import audit, jobs
from coordinator.bulletins.models import BounceKind, BulletinDelivery, Subscriber, SubscriberBounce, SubscriberStatus
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import return_path_token
from coordinator.schemes.models import Scheme

log = logging.getLogger(__name__)

_TOKEN = re.compile(r"^([0-9]{1,12})\.([0-9a-f]{20})$")
# Headers a local delivery agent writes with the address a message was delivered to, most trustworthy first;
# To: last, since a bounce's To: is the envelope sender it returns to but is written by the remote server.
_DELIVERED_TO = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([245])\d\d\b")
# IMAP keyword on messages that are not reports, so the next run passes over them (a person reads them).
NOT_A_REPORT_FLAG = "NotAReport"
FETCH_BATCH = 200


# --- The token in the return path ---------------------------------------------------------------------------------


def _signature(delivery_id: int, key: str | bytes) -> str:
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, f"bulletin-delivery:{delivery_id}".encode(), hashlib.sha256).hexdigest()[:20]


def delivery_token(delivery_id: int) -> str:
    """The token naming one delivery in its return path: its id and a signature ("123.9f86d081884c7d659a2f")."""
    return f"{delivery_id}.{_signature(delivery_id, current_app.config['SECRET_KEY'])}"


def delivery_of_token(token: str) -> int | None:
    """The delivery id a token names, when its signature is good under SECRET_KEY or one of its fallbacks."""
    match = _TOKEN.match(token.strip().lower())
    if match is None:
        return None
    delivery_id = int(match.group(1))
    keys = [current_app.config["SECRET_KEY"], *(current_app.config.get("SECRET_KEY_FALLBACKS") or [])]
    if any(hmac.compare_digest(_signature(delivery_id, key), match.group(2)) for key in keys if key):
        return delivery_id
    return None


# --- Reading a report ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """What one bounce or complaint message says: about which delivery, and how bad it is."""

    kind: BounceKind | None  # None: a notice that changes nothing ("delayed", "delivered" ...)
    delivery_id: int | None
    status: str = ""
    detail: str = ""


def _addresses(message: Message, names: Iterable[str]) -> list[str]:
    found = []
    for name in names:
        for value in message.get_all(name, []):
            found.extend(address for _, address in email.utils.getaddresses([str(value)]) if address)
    return found


def _delivery_from(addresses: Iterable[str]) -> int | None:
    for address in addresses:
        token = return_path_token(address)
        if token and (delivery_id := delivery_of_token(token)) is not None:
            return delivery_id
    return None


def _report_part(message: Message, content_type: str) -> Message | None:
    if message.get_content_type() != "multipart/report":
        return None
    return next((part for part in message.walk() if part.get_content_type() == content_type), None)


def _one_line(text: object, limit: int = 300) -> str:
    return " ".join(str(text or "").split())[:limit]


def _field(block: Message, name: str) -> str:
    """A DSN field's value without its type prefix ("smtp; 550 5.1.1 ..." -> "550 5.1.1 ...")."""
    value = _one_line(block.get(name, ""))
    kind, semicolon, rest = value.partition(";")
    return rest.strip() if semicolon and " " not in kind.strip() else value


def _classify(action: str, status: str, diagnostic: str) -> tuple[BounceKind | None, str]:
    """The kind of one recipient's DSN block, and the status code it gives (or is read from the diagnostic)."""
    match = _STATUS.search(status) or _STATUS.search(diagnostic)
    code = match.group(0) if match else ""
    action = action.lower()
    if action and action != "failed":
        return None, code  # delayed, delivered, relayed, expanded: a notice, not a bounce
    if match is None:
        smtp = _SMTP_CODE.search(diagnostic)
        klass = smtp.group(1) if smtp else "4"  # no code at all: we cannot know it is for good
    else:
        klass = match.group(1)
    if klass == "5" and not (match is not None and match.group(2, 3) == ("2", "2")):  # X.2.2: mailbox full
        return BounceKind.HARD, code
    return BounceKind.SOFT, code


def _dsn(message: Message, part: Message, delivered_to: int | None) -> Report:
    blocks = part.get_payload()
    recipients = blocks[1:] if isinstance(blocks, list) else []
    worst: tuple[BounceKind | None, str, str] = (None, "", "")
    rank = {None: 0, BounceKind.SOFT: 1, BounceKind.HARD: 2}
    for block in recipients:
        diagnostic = _field(block, "Diagnostic-Code")
        kind, code = _classify(_field(block, "Action"), _field(block, "Status"), diagnostic)
        if rank[kind] >= rank[worst[0]]:
            worst = (kind, code, diagnostic)
    kind, code, diagnostic = worst
    return Report(kind, delivered_to, code, diagnostic)


def _complaint(message: Message, part: Message, delivered_to: int | None) -> Report:
    blocks = part.get_payload()
    block = blocks[0] if isinstance(blocks, list) and blocks else part
    feedback_type = _field(block, "Feedback-Type").lower() or "abuse"
    # Feedback loops send to an address of their own, not the return path: the token is in the report's
    # Original-Mail-From, or the Return-Path the receiving server wrote on the copy it sends back.
    delivery_id = _delivery_from(_addresses(block, ("Original-Mail-From",)))
    if delivery_id is None:
        original = next(
            (p for p in message.walk() if p.get_content_type() in ("message/rfc822", "text/rfc822-headers")), None
        )
        if original is not None:
            copy = original.get_payload(0) if original.get_content_type() == "message/rfc822" else (
                email.message_from_string(original.get_content(), policy=policy.compat32))
            delivery_id = _delivery_from(_addresses(copy, ("Return-Path",)))
    if delivery_id is None:
        delivery_id = delivered_to
    # "not-spam" is the opposite of a complaint; the other types (abuse, fraud, virus, other) are complaints.
    return Report(None if feedback_type == "not-spam" else BounceKind.COMPLAINT, delivery_id, feedback_type[:20])


def read_report(data: bytes) -> Report | None:
    """What a message read from the bounce mailbox says, or None when it is not a DSN or an abuse report."""
    message = email.message_from_bytes(data, policy=policy.compat32)
    delivered_to = _delivery_from(_addresses(message, _DELIVERED_TO))
    if (part := _report_part(message, "message/delivery-status")) is not None:
        return _dsn(message, part, delivered_to)
    if (part := _report_part(message, "message/feedback-report")) is not None:
        return _complaint(message, part, delivered_to)
    return None


def report_key(data: bytes) -> str:
    """The key a report is counted once by: the SHA-256 of the message as received."""
    return hashlib.sha256(data).hexdigest()


# --- What a report does -------------------------------------------------------------------------------------------


@dataclass
class BounceRun:
    """What one reading of the mailbox (or of one piped message) did."""

    hard: int = 0
    soft: int = 0
    complaints: int = 0
    notices: int = 0
    already_read: int = 0
    unknown: int = 0
    not_reports: int = 0
    marked_bouncing: int = 0
    unsubscribed: int = 0

    @property
    def read(self) -> int:
        """Reports read (everything but the messages that were not reports)."""
        return self.hard + self.soft + self.complaints + self.notices + self.already_read + self.unknown

    def lines(self) -> list[str]:
        """The run in words, for the command line."""
        return [
            (f"{self.read} report(s) read: {self.hard} hard bounce(s), {self.soft} soft bounce(s), "
             f"{self.complaints} complaint(s), {self.notices} notice(s) that change nothing, "
             f"{self.already_read} read before, {self.unknown} about no bulletin we know."),
            f"{self.marked_bouncing} address(es) marked bouncing, {self.unsubscribed} unsubscribed after a complaint.",
            *([f"{self.not_reports} message(s) were not reports and are left for a person to read."]
              if self.not_reports else []),
        ]


def _mark_bouncing(subscriber: Subscriber, why: str, **details: object) -> bool:
    if subscriber.status != SubscriberStatus.CONFIRMED:
        return False
    subscriber.status = SubscriberStatus.BOUNCING
    audit.record(
        "subscribers.bouncing",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} marked bouncing: {why}",
        actor_label="system",
        scheme_id=subscriber.scheme_id,
        **details,
    )
    return True


def _soft_counts(subscriber_ids: set[int]) -> dict[int, int]:
    """Soft bounces on record within BOUNCE_SOFT_DAYS, per subscriber (one grouped query)."""
    if not subscriber_ids:
        return {}
    since = utcnow() - timedelta(days=int(current_app.config.get("BOUNCE_SOFT_DAYS") or 30))
    rows = db.session.execute(
        select(SubscriberBounce.subscriber_id, func.count())
        .where(
            SubscriberBounce.subscriber_id.in_(subscriber_ids),
            SubscriberBounce.kind == BounceKind.SOFT,
            SubscriberBounce.received_at >= since,
        )
        .group_by(SubscriberBounce.subscriber_id)
    )
    return {subscriber_id: count for subscriber_id, count in rows}


def _unsubscribe_after_complaint(subscriber: Subscriber, report: Report, delivery: BulletinDelivery) -> bool:
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    previous = subscriber.status.value
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    audit.record(
        "subscribers.complained",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} unsubscribed: "
        "their mail program reported a bulletin as unwanted",
        actor_label="system",
        scheme_id=subscriber.scheme_id,
        previous_status=previous,
        feedback_type=report.status,
        bulletin_id=delivery.bulletin_id,
    )
    return True


def apply_reports(reports: list[tuple[Report | None, str]], run: BounceRun) -> list[bool]:
    """Record reports (each with its `report_key`) and change the subscribers they are about, in a few queries.

    Returns, per report, False when the message was not a report. The caller commits. Audit entries carry
    the status code, never the server's words, which quote addresses.
    """
    wanted = {r.delivery_id for r, _key in reports if r is not None and r.kind is not None and r.delivery_id}
    deliveries = {
        d.id: d for d in db.session.scalars(
            select(BulletinDelivery).where(BulletinDelivery.id.in_(wanted))
            .options(joinedload(BulletinDelivery.subscriber).joinedload(Subscriber.scheme))
        )
    } if wanted else {}
    keys = {key for r, key in reports if r is not None and r.kind is not None}
    seen = set(db.session.scalars(
        select(SubscriberBounce.report_key).where(SubscriberBounce.report_key.in_(keys))
    )) if keys else set()
    soft = _soft_counts({d.subscriber_id for d in deliveries.values()})
    limit = int(current_app.config.get("BOUNCE_SOFT_LIMIT") or 3)
    days = int(current_app.config.get("BOUNCE_SOFT_DAYS") or 30)
    now = utcnow()
    rows, results = [], []
    with db.session.no_autoflush:
        for report, key in reports:
            results.append(report is not None)
            if report is None:
                run.not_reports += 1
                continue
            if report.kind is None:
                run.notices += 1
                continue
            delivery = deliveries.get(report.delivery_id)
            subscriber = delivery.subscriber if delivery is not None else None
            if subscriber is None or subscriber.is_erased:
                # Erased residents keep no bounce history: nothing of theirs is written again.
                run.unknown += 1
                continue
            if key in seen:
                run.already_read += 1
                continue
            seen.add(key)
            rows.append({
                "subscriber_id": subscriber.id, "scheme_id": subscriber.scheme_id, "delivery_id": delivery.id,
                "kind": report.kind, "status": report.status, "detail": report.detail[:300], "report_key": key,
                "received_at": now,
            })
            details = {"bulletin_id": delivery.bulletin_id, "status": report.status or None}
            if report.kind == BounceKind.HARD:
                run.hard += 1
                run.marked_bouncing += _mark_bouncing(
                    subscriber, f"a permanent failure ({report.status or 'no code'})", reason="hard", **details
                )
            elif report.kind == BounceKind.SOFT:
                run.soft += 1
                count = soft[subscriber.id] = soft.get(subscriber.id, 0) + 1
                if count >= limit:
                    run.marked_bouncing += _mark_bouncing(
                        subscriber, f"{count} temporary failures within {days} days", reason="soft", count=count,
                        **details,
                    )
            else:
                run.complaints += 1
                run.unsubscribed += _unsubscribe_after_complaint(subscriber, report, delivery)
    if rows:
        db.session.execute(insert(SubscriberBounce), rows)
    db.session.flush()
    return results


def process_message(data: bytes, run: BounceRun | None = None) -> BounceRun:
    """Read one message (from an MTA's pipe, say) and act on it; the caller commits."""
    run = run or BounceRun()
    apply_reports([(read_report(data), report_key(data))], run)
    return run


# --- The mailbox --------------------------------------------------------------------------------------------------


class BounceMailboxError(Exception):
    """The bounce mailbox could not be reached, logged into or read."""


def is_mailbox_configured() -> bool:
    """True when BOUNCE_IMAP_HOST is set: the worker's sweep then reads the mailbox."""
    return bool(current_app.config.get("BOUNCE_IMAP_HOST"))


def _connect() -> imaplib.IMAP4:
    config = current_app.config
    host, port = config["BOUNCE_IMAP_HOST"], int(config.get("BOUNCE_IMAP_PORT") or 993)
    security = (config.get("BOUNCE_IMAP_SECURITY") or "ssl").lower()
    try:
        if security == "ssl":
            imap = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(), timeout=30)
        else:
            imap = imaplib.IMAP4(host, port, timeout=30)
            if security == "starttls":
                imap.starttls(ssl.create_default_context())
        imap.login(config.get("BOUNCE_IMAP_USERNAME") or "", config.get("BOUNCE_IMAP_PASSWORD") or "")
        status, _ = imap.select(_quoted(config.get("BOUNCE_IMAP_FOLDER") or "INBOX"))
        if status != "OK":
            raise BounceMailboxError(f"the folder {config.get('BOUNCE_IMAP_FOLDER')!r} cannot be opened")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise BounceMailboxError(f"the bounce mailbox at {host}:{port} cannot be read: {exc}") from exc
    return imap


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(imap: imaplib.IMAP4, uids: list[bytes]) -> list[tuple[bytes, bytes]]:
    status, data = imap.uid("FETCH", b",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise BounceMailboxError(f"the bounce mailbox refused to hand over messages: {data!r}")
    messages = []
    for item in data:
        if isinstance(item, tuple):
            uid = re.search(rb"UID (\d+)", item[0])
            if uid:
                messages.append((uid.group(1), item[1]))
    return messages


def process_mailbox() -> BounceRun:
    """Read every report waiting in the bounce mailbox, act on it, and delete what was read (commits itself)."""
    run = BounceRun()
    imap = _connect()
    try:
        status, data = imap.uid("SEARCH", None, "UNDELETED", "UNKEYWORD", NOT_A_REPORT_FLAG)
        if status != "OK":
            raise BounceMailboxError(f"the bounce mailbox cannot be searched: {data!r}")
        uids = data[0].split() if data and data[0] else []
        for start in range(0, len(uids), FETCH_BATCH):
            fetched = _fetch(imap, uids[start:start + FETCH_BATCH])
            results = apply_reports([(read_report(raw), report_key(raw)) for _uid, raw in fetched], run)
            done = [uid for (uid, _raw), is_report in zip(fetched, results, strict=True) if is_report]
            skipped = [uid for (uid, _raw), is_report in zip(fetched, results, strict=True) if not is_report]
            # What was read is in the database before it leaves the mailbox.
            db.session.commit()
            if done:
                imap.uid("STORE", b",".join(done), "+FLAGS.SILENT", r"(\Deleted)")
            if skipped:
                imap.uid("STORE", b",".join(skipped), "+FLAGS.SILENT", f"({NOT_A_REPORT_FLAG})")
        imap.expunge()
    except (OSError, imaplib.IMAP4.error) as exc:
        db.session.rollback()
        raise BounceMailboxError(f"reading the bounce mailbox failed: {exc}") from exc
    except IntegrityError:
        # Another worker read the same reports a moment ago (report_key is unique): what it recorded stands, and
        # what is left in the mailbox is read by the next sweep.
        db.session.rollback()
        log.info("bounce mailbox: another reader recorded these reports first; stopping this run")
    finally:
        try:
            imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    if run.read or run.not_reports:
        log.info("bounce mailbox: %s", " ".join(run.lines()))
    return run


@jobs.job
def read_bounce_mailbox() -> int:
    """The job: read the bounce mailbox once; returns how many reports were read."""
    if not is_mailbox_configured():
        return 0
    try:
        return process_mailbox().read
    except BounceMailboxError as exc:  # the next sweep tries again; nothing was lost
        log.warning("%s", exc)
        return 0


@jobs.register_sweeper
def bounce_mailbox_jobs() -> list[tuple[jobs.Job, tuple]]:
    """Sweeper: with a bounce mailbox configured, read it every sweep."""
    return [(read_bounce_mailbox, ())] if is_mailbox_configured() else []


# --- What the coordinator sees ----------------------------------------------------------------------------------


def recent_bounces(scheme: Scheme, days: int = 30, limit: int = 50) -> list[SubscriberBounce]:
    """The scheme's bounces and complaints of the last `days`, newest first, for its subscribers page."""
    since = utcnow() - timedelta(days=days)
    return list(db.session.scalars(
        select(SubscriberBounce)
        .where(SubscriberBounce.scheme_id == scheme.id, SubscriberBounce.received_at >= since)
        .order_by(SubscriberBounce.received_at.desc(), SubscriberBounce.id.desc())
        .limit(limit)
    ))


def forget_bounces(subscriber: Subscriber) -> None:
    """Delete a subscriber's bounce history (the servers' words quote their address): used when they are erased."""
    db.session.execute(
        delete(SubscriberBounce).where(SubscriberBounce.subscriber_id == subscriber.id),
        execution_options={"synchronize_session": False},
    )
