"""A resident's data: everything held about a subscriber exported, erased for good, or forgotten when unconfirmed.

Erasure keeps the row, so a scheme's counts stay true, and removes the address and the name everywhere they
were written: the subscriber, the confirmation emails sent to them, their bulletins' outbox rows (and the
mail servers' answers, which often quote the address), their bounces and complaints, the client addresses
in the audit log, and the .eml files the outbox folder holds for the address (with no MAIL_SERVER, every
message is written there).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, func, or_, select, update

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.bulletins.bounces import forget_bounces
from coordinator.bulletins.models import BulletinDelivery, DeliveryState, Subscriber, SubscriberStatus
from coordinator.bulletins.subscribers import CONFIRM_MAIL_KIND, confirm_max_age
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.language_tags import ENGLISH
from coordinator.mail import MailStatus, OutboxErasure, OutgoingMail, erase_outbox_files_to, outbox_file_stem
from coordinator.schemes.models import Scheme


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _confirmation_mail(email: str) -> Select:
    return select(OutgoingMail).where(OutgoingMail.to_address == email, OutgoingMail.kind == CONFIRM_MAIL_KIND)


def _audit_about(subscriber: Subscriber) -> Select:
    return select(AuditEntry).where(AuditEntry.object_type == "Subscriber", AuditEntry.object_id == str(subscriber.id))


def _record_of(subscriber: Subscriber) -> dict:
    street = subscriber.street
    return {
        "id": subscriber.id,
        "email": subscriber.email,
        "name": subscriber.name,
        "street": {"id": street.id, "name": street.name, "postcode": street.postcode} if street else None,
        "language": subscriber.language,
        "status": subscriber.status.value,
        "created_at": _iso(subscriber.created_at),
        "hard_bounce_count": subscriber.hard_bounce_count,
        "erased_at": _iso(subscriber.erased_at),
    }


def _consent_of(subscriber: Subscriber) -> dict:
    return {
        "consented_at": _iso(subscriber.consented_at),
        "method": subscriber.consent_method,
        "wording": subscriber.consent_wording,
        "confirmation_sent_at": _iso(subscriber.confirmation_sent_at),
        "confirmed_at": _iso(subscriber.confirmed_at),
        "unsubscribed_at": _iso(subscriber.unsubscribed_at),
    }


def _emails_sent_to(subscriber: Subscriber) -> list[dict]:
    # Erased: the messages sent to the address were scrubbed with it; nothing of theirs is left to show.
    if subscriber.is_erased:
        return []
    return [
        {
            "kind": m.kind,
            "subject": m.subject,
            "status": m.status.value,
            "queued_at": _iso(m.created_at),
            "sent_at": _iso(m.sent_at),
        }
        for m in db.session.scalars(_confirmation_mail(subscriber.email).order_by(OutgoingMail.id))
    ]


def _bulletins_sent_to(subscriber: Subscriber) -> list[dict]:
    deliveries = db.session.scalars(
        select(BulletinDelivery).where(BulletinDelivery.subscriber_id == subscriber.id).order_by(BulletinDelivery.id)
    )
    return [
        {
            "bulletin_id": d.bulletin_id,
            "subject": d.bulletin.subject,
            "to": d.to_address,
            "state": d.state.value,
            "attempts": d.attempts,
            "sent_at": _iso(d.sent_at),
        }
        for d in deliveries
    ]


def export_subscriber(subscriber: Subscriber, actor: User | None) -> dict:
    """Everything held about one subscriber, as a JSON-ready dict (audited as subscribers.exported)."""
    history = list(db.session.scalars(_audit_about(subscriber).order_by(AuditEntry.id)))
    data = {
        "exported_at": _iso(utcnow()),
        "scheme": {"id": subscriber.scheme_id, "name": subscriber.scheme.name},
        "subscriber": _record_of(subscriber),
        "consent": _consent_of(subscriber),
        "emails_sent": _emails_sent_to(subscriber),
        "bulletins": _bulletins_sent_to(subscriber),
        "history": [{"at": _iso(e.at), "action": e.action, "by": e.actor_label, "summary": e.summary} for e in history],
    }
    audit.record(
        "subscribers.exported",
        subscriber,
        f"Data of subscriber #{subscriber.id} of {subscriber.scheme.name} exported",
        actor=actor,
        scheme_id=subscriber.scheme_id,
    )
    return data


def erased_placeholder(subscriber: Subscriber) -> str:
    """The address an erased subscriber keeps: unique, undeliverable (RFC 6761 .invalid) and not derived from theirs."""
    return f"erased-{subscriber.id}@invalid"


def _forget_traces(subscriber: Subscriber, email: str, placeholder: str) -> None:
    """Remove an address from the confirmation messages sent to it and the client addresses logged with it."""
    # Another scheme may be waiting to confirm the same person: its queued request is theirs, not ours to cancel.
    others_pending = db.session.scalar(
        select(
            exists().where(
                Subscriber.email == email,
                Subscriber.id != subscriber.id,
                Subscriber.status == SubscriberStatus.PENDING,
            )
        )
    )
    to_them = (OutgoingMail.to_address == email, OutgoingMail.kind == CONFIRM_MAIL_KIND)
    if not others_pending:
        # A request still waiting to go would carry their address and a link that no longer works.
        db.session.execute(
            update(OutgoingMail)
            .where(*to_them, OutgoingMail.status == MailStatus.QUEUED)
            .values(status=MailStatus.FAILED, last_error="not sent: the subscriber was erased"),
            execution_options={"synchronize_session": False},
        )
    scrub = update(OutgoingMail).where(*to_them)
    if others_pending:
        scrub = scrub.where(OutgoingMail.status != MailStatus.QUEUED)
    db.session.execute(
        scrub.values(to_address=placeholder, to_name="", text_body="", html_body=""),
        execution_options={"synchronize_session": False},
    )
    # The audit log keeps what happened to the subscriber, not where the resident was browsing from.
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.object_type == "Subscriber", AuditEntry.object_id == str(subscriber.id))
        .values(ip_address=""),
        execution_options={"synchronize_session": False},
    )
    # A mail server's refusal kept with "marked bouncing" often quotes the address: the code stays, the words go.
    for entry in db.session.scalars(_audit_about(subscriber).where(AuditEntry.action == "subscribers.bouncing")):
        if "last_error" in (entry.details or {}):
            entry.details = {**entry.details, "last_error": "(erased with the subscriber)"}
    # Which languages they chose goes with the name (see `erase_subscriber`); that they changed it stays.
    for entry in db.session.scalars(
        _audit_about(subscriber).where(AuditEntry.action == "subscribers.language_changed")
    ):
        entry.details = {k: v for k, v in (entry.details or {}).items() if k not in ("language", "previous_language")}


def _is_held_elsewhere(subscriber: Subscriber, email: str) -> bool:
    """Another unerased subscriber, in any scheme, or an account still has this address."""
    other_subscriber = exists().where(
        Subscriber.email == email, Subscriber.id != subscriber.id, Subscriber.erased_at.is_(None)
    )
    account = exists().where(func.lower(User.email) == email.lower())
    return bool(db.session.scalar(select(or_(other_subscriber, account))))


def _own_outbox_files(subscriber: Subscriber, email: str) -> Callable[[str], bool] | None:
    """Which of the outbox folder's files to the address go with this subscriber (None: every one). Read before
    their rows are scrubbed.

    While another scheme or an account still has the address, the files that are someone else's stay (their
    bulletins, an invitation): only this subscriber's bulletin copies and the confirmation requests to the address,
    whose rows the erasure scrubs too, go. The last holder's erasure takes every file left.
    """
    if not _is_held_elsewhere(subscriber, email):
        return None
    # Bulletin copies are written as bulletin-<bulletin id>-<delivery id>.eml (coordinator/bulletins/sending.py).
    stems = {
        f"bulletin-{bulletin_id}-{delivery_id}"
        for delivery_id, bulletin_id in db.session.execute(
            select(BulletinDelivery.id, BulletinDelivery.bulletin_id).where(
                BulletinDelivery.subscriber_id == subscriber.id
            )
        )
    }
    stems |= {outbox_file_stem(row) for row in db.session.scalars(_confirmation_mail(email))}
    return stems.__contains__


def erase_subscriber(subscriber: Subscriber, actor: User | None) -> bool:
    """Remove a subscriber's personal data for good (see `erase`); False when they were already erased."""
    return erase(subscriber, actor) is not None


def erase(subscriber: Subscriber, actor: User | None) -> OutboxErasure | None:
    """Remove a subscriber's personal data for good, keeping the row so the scheme's counts stay true.

    Kept: scheme, street, status dates and the consent wording and method (the association's own text, and
    the coordinator who imported them). Gone: the address, the name, the language chosen (back to English, in the
    audit log too), the address in confirmation emails and client addresses in the audit log, and the outbox
    folder's files to the address (see `_own_outbox_files`), counted in the audit entry. Returns what went from
    the outbox folder; None when they were already erased.
    """
    if subscriber.is_erased:
        return None
    now = utcnow()
    email = subscriber.email
    outbox_files = _own_outbox_files(subscriber, email)
    placeholder = erased_placeholder(subscriber)
    previous = subscriber.status.value
    subscriber.email = placeholder
    subscriber.name = ""
    # The language a resident reads may say where they come from: it goes with the name.
    subscriber.language = ENGLISH
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = now
    subscriber.erased_at = now
    db.session.flush()
    _forget_traces(subscriber, email, placeholder)
    _forget_deliveries(subscriber, placeholder)
    forget_bounces(subscriber)
    outbox = erase_outbox_files_to(email, outbox_files)
    audit.record(
        "subscribers.erased",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} erased",
        actor=actor,
        scheme_id=subscriber.scheme_id,
        previous_status=previous,
        **outbox.as_details(),
    )
    return outbox


def _forget_deliveries(subscriber: Subscriber, placeholder: str) -> None:
    """Scrub an erased subscriber's bulletin outbox rows: the address goes, and copies not yet sent never will be."""
    rows = select(BulletinDelivery.id).where(BulletinDelivery.subscriber_id == subscriber.id)
    db.session.execute(
        update(BulletinDelivery)
        .where(
            BulletinDelivery.id.in_(rows),
            BulletinDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.DEFERRED]),
        )
        .values(state=DeliveryState.SKIPPED, next_attempt_at=None),
        execution_options={"synchronize_session": False},
    )
    # Mail servers' error messages often quote the address: they go too.
    db.session.execute(
        update(BulletinDelivery)
        .where(BulletinDelivery.id.in_(rows))
        .values(
            to_address=placeholder,
            last_error=case(
                (BulletinDelivery.state == DeliveryState.SKIPPED, "not sent: the subscriber was erased"),
                (BulletinDelivery.state == DeliveryState.FAILED, "not delivered (details erased with the subscriber)"),
                else_="",
            ),
        ),
        execution_options={"synchronize_session": False},
    )


def expire_unconfirmed(now: datetime | None = None) -> int:
    """Forget sign-ups whose confirmation link has expired unanswered; returns how many.

    Never confirmed: the row goes with everything it held. Confirmed once, left, then asked to rejoin
    without confirming: back to unsubscribed, as before the request.
    """
    now = now or utcnow()
    cutoff = now - confirm_max_age()
    stale = list(
        db.session.scalars(
            select(Subscriber).where(
                Subscriber.status == SubscriberStatus.PENDING,
                or_(
                    Subscriber.confirmation_sent_at < cutoff,
                    and_(Subscriber.confirmation_sent_at.is_(None), Subscriber.created_at < cutoff),
                ),
            )
        )
    )
    by_scheme: dict[int, int] = {}
    for subscriber in stale:
        by_scheme[subscriber.scheme_id] = by_scheme.get(subscriber.scheme_id, 0) + 1
        if subscriber.confirmed_at is None:
            email = subscriber.email
            outbox_files = _own_outbox_files(subscriber, email)
            _forget_traces(subscriber, email, erased_placeholder(subscriber))
            # The confirmation request written to the outbox folder holds the address too.
            erase_outbox_files_to(email, outbox_files)
            db.session.delete(subscriber)
        else:
            subscriber.status = SubscriberStatus.UNSUBSCRIBED
    db.session.flush()
    for scheme_id, count in by_scheme.items():
        scheme = db.session.get(Scheme, scheme_id)
        audit.record(
            "subscribers.expired",
            scheme,
            f"{count} unconfirmed sign-up{'s' if count != 1 else ''} to {scheme.name} expired",
            actor_label="system",
            count=count,
        )
    return len(stale)
