"""Subscriber rules: sign-up with double opt-in, confirmation and unsubscribe links, import, export and erasure.

Nobody is emailed who did not agree: a new address is `pending` and receives exactly one kind of
message, the confirmation request, until its owner follows the link in it. Bulletins go only to
`recipients_for(...)`: confirmed, not erased.

Links carry signed tokens (itsdangerous, each kind with its own salt):
- a confirmation link expires (SUBSCRIPTION_CONFIRM_MAX_AGE, default 7 days) and is good only for
  the request it came with, so it works once and never brings back someone who has since left;
- an unsubscribe link never expires (an old email's link must still work) and is bound to one
  subscriber of one scheme.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Select, and_, case, exists, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.bulletins.models import (
    UNFINISHED_DELIVERY_STATES,
    Bulletin,
    BulletinDelivery,
    BulletinState,
    DeliveryState,
    Subscriber,
    SubscriberStatus,
)
from coordinator.content import services as content
from coordinator.content.models import (
    CampaignVersion,
    ContentImage,
    HelplineSetVersion,
    LocalNoticeVersion,
    VersionState,
)
from coordinator.csvfiles import CSVFileError, ImportLine, ImportReport, looks_like_formula, read_csv
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import MailStatus, OutgoingMail, queue_mail
from coordinator.mailheaders import check_header_text
from coordinator.schemes.models import Scheme, Street
from coordinator.settings import get_settings

MAX_EMAIL = 254
MAX_NAME = 120
PER_PAGE = 50
# A scheme covers a few hundred households; a file far bigger than that is the wrong file.
MAX_IMPORT_ROWS = 2_000
CONFIRM_MAIL_KIND = "subscription_confirm"
DEFAULT_CONFIRM_MAX_AGE = timedelta(days=7)
# Asking again within this time sends nothing: a form sent twice, or by someone else, is not a second email.
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)
METHOD_WEB_FORM = "web form"

IMPORT_COLUMNS = ("email", "name", "street")
IMPORT_REQUIRED_COLUMNS = ("email",)

CONSENT_WORDING = (
    "I agree that {scheme} may email me its Neighbourhood Watch bulletins: crime prevention advice, local "
    "notices and helpline numbers. My address is used for nothing else, and I can unsubscribe at any time "
    "with the link in every email."
)

_CONFIRM_SALT = "coordinator.subscriber-confirm"
_UNSUBSCRIBE_SALT = "coordinator.subscriber-unsubscribe"


class SubscriberProblems(Exception):
    """Values that break a subscriber rule; `errors` maps each field name to messages fit to show."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = dict(errors)


class LinkError(Exception):
    """A confirmation or unsubscribe link that cannot be used; the message is fit to show to the resident."""

    def __init__(self, message: str, scheme: Scheme | None = None):
        super().__init__(message)
        self.scheme = scheme


# ---------------------------------------------------------------------------------------------------------------------
# Checking what a resident or a coordinator typed


def consent_wording(scheme: Scheme) -> str:
    """The exact sentence a resident agrees to for this scheme; it is stored with their consent."""
    return CONSENT_WORDING.format(scheme=scheme.name)


def check_subscriber_email(text: str) -> str:
    """The address in its stored form (lower case); ValueError with a message when it is not an address."""
    text = (text or "").strip()
    if not text:
        raise ValueError("Enter your email address")
    if len(text) > MAX_EMAIL:
        raise ValueError(f"An email address has at most {MAX_EMAIL} characters")
    try:
        # Deliverability needs DNS, which the app must not depend on (it runs offline).
        normalised = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"Enter an email address in the right form, like name@example.org ({exc})") from exc
    return normalised.lower()


def check_subscriber_name(text: str) -> str:
    """The name on one line ("" for none); ValueError with a message when it cannot be stored."""
    # The name goes into the To header of every email the resident gets: the header rule, then spaces tidied.
    name = " ".join(check_header_text((text or "").strip(), "The name").split())
    if len(name) > MAX_NAME:
        raise ValueError(f"The name must be {MAX_NAME} characters or fewer")
    if looks_like_formula(name):
        raise ValueError("The name starts with =, +, - or @; type it as it is written")
    return name


def street_choices(scheme: Scheme) -> list[tuple[str, str]]:
    """(street id, label) for a scheme's streets; the postcode is added where two streets share a name."""
    streets = list(scheme.streets)
    names = [s.name.casefold() for s in streets]
    return [(str(s.id), f"{s.name} ({s.postcode})" if names.count(s.name.casefold()) > 1 else s.name) for s in streets]


def _street_of(scheme: Scheme, street_id: object) -> Street | None:
    """The scheme's street with this id; None for "not listed"; ValueError for any other street."""
    if street_id in (None, "", 0, "0"):
        return None
    text = str(street_id)
    street = None
    if text.isdigit() and len(text) <= 9:  # longer would overflow the id column on PostgreSQL
        street = db.session.scalar(select(Street).where(Street.id == int(text), Street.scheme_id == scheme.id))
    if street is None:
        raise ValueError("Choose your street from the list, or 'My street is not listed'")
    return street


def find_subscriber(scheme: Scheme, email: str) -> Subscriber | None:
    """The scheme's subscriber with this address (already checked and in lower case)."""
    return db.session.scalar(select(Subscriber).where(Subscriber.scheme_id == scheme.id, Subscriber.email == email))


def find_scheme_by_slug(slug: str) -> Scheme | None:
    """The scheme whose public sign-up page is /join/<slug>."""
    return db.session.scalar(select(Scheme).where(Scheme.slug == slug))


def find_scheme_by_name(text: str) -> Scheme | None:
    """The scheme with this name (any case) or short name (slug), for the command line."""
    key = " ".join((text or "").split()).casefold()
    for scheme in db.session.scalars(select(Scheme)):
        if scheme.name.casefold() == key or scheme.slug == key:
            return scheme
    return None


# ---------------------------------------------------------------------------------------------------------------------
# Sign-up and confirmation (double opt-in)


def sign_up(scheme: Scheme, email: str, name: str = "", street_id: object = None) -> None:
    """A resident asks for bulletins by the web form; the page answers the same whatever happened here.

    A new address, or one that had left, becomes pending and is sent one confirmation request. A confirmed
    address, or one asked a moment ago, is sent nothing and nothing about it changes.
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for key, check in (
        ("email", lambda: check_subscriber_email(email)),
        ("name", lambda: check_subscriber_name(name)),
        ("street", lambda: _street_of(scheme, street_id)),
    ):
        try:
            clean[key] = check()
        except ValueError as exc:
            errors[key] = [str(exc)]
    if errors:
        raise SubscriberProblems(errors)

    now = utcnow()
    subscriber = find_subscriber(scheme, clean["email"])
    if subscriber is None:
        subscriber = Subscriber(scheme=scheme, email=clean["email"], status=SubscriberStatus.PENDING)
        try:
            # Two sign-ups for one new address at the same moment: the second finds the first's row.
            with db.session.begin_nested():
                db.session.add(subscriber)
        except IntegrityError:
            if find_subscriber(scheme, clean["email"]) is None:
                raise
            return
    elif subscriber.status == SubscriberStatus.CONFIRMED or _was_asked_recently(subscriber, now):
        return
    subscriber.status = SubscriberStatus.PENDING
    subscriber.name = clean["name"]
    subscriber.street = clean["street"]
    subscriber.consented_at = now
    subscriber.consent_method = METHOD_WEB_FORM
    subscriber.consent_wording = consent_wording(scheme)
    db.session.flush()
    request_confirmation(subscriber, now=now)
    audit.record(
        "subscribers.signed_up",
        subscriber,
        f"Subscriber #{subscriber.id} signed up to {scheme.name} by the web form",
        actor_label="resident",
        scheme_id=scheme.id,
    )


def _was_asked_recently(subscriber: Subscriber, now: datetime) -> bool:
    sent = subscriber.confirmation_sent_at
    return subscriber.status == SubscriberStatus.PENDING and sent is not None and now - sent < CONFIRMATION_RESEND_AFTER


def confirm_max_age() -> timedelta:
    """How long a confirmation link works."""
    return current_app.config.get("SUBSCRIPTION_CONFIRM_MAX_AGE") or DEFAULT_CONFIRM_MAX_AGE


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_CONFIRM_SALT)


def _confirmation_fingerprint(subscriber: Subscriber) -> str:
    # Changes when the subscriber confirms, leaves, is erased or is asked again: each of those spends the link.
    sent = subscriber.confirmation_sent_at.astimezone(UTC).isoformat() if subscriber.confirmation_sent_at else ""
    material = f"{subscriber.id}|{subscriber.scheme_id}|{subscriber.email}|{subscriber.status.value}|{sent}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def make_confirmation_token(subscriber: Subscriber) -> str:
    """A signed, expiring token for the link in a confirmation request."""
    return _confirm_serializer().dumps(
        {"s": subscriber.id, "k": subscriber.scheme_id, "f": _confirmation_fingerprint(subscriber)}
    )


def request_confirmation(subscriber: Subscriber, now: datetime | None = None) -> OutgoingMail:
    """Queue the one message a pending subscriber may receive: the request to confirm. The caller commits."""
    subscriber.confirmation_sent_at = now or utcnow()
    db.session.flush()
    scheme = subscriber.scheme
    imported = subscriber.consent_method != METHOD_WEB_FORM
    return queue_mail(
        CONFIRM_MAIL_KIND,
        subscriber.email,
        "subscription_confirm",
        to_name=subscriber.name,
        name=subscriber.name,
        scheme_name=scheme.name,
        link=public_url("bulletins.confirm", token=make_confirmation_token(subscriber)),
        days=confirm_max_age().days,
        wording=subscriber.consent_wording or consent_wording(scheme),
        is_imported=imported,
    )


def subscriber_for_confirmation(token: str) -> Subscriber:
    """The pending subscriber a confirmation link is for; LinkError when it is forged, expired or used."""
    serializer = _confirm_serializer()
    try:
        data, signed_at = serializer.loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise LinkError("This link is not valid. Check that you copied all of it from the email.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(data.get("k"), int):
        raise LinkError("This link is not valid. Check that you copied all of it from the email.")
    scheme = db.session.get(Scheme, data["k"])
    if utcnow() - signed_at > confirm_max_age():
        raise LinkError("This link has expired. You can ask for bulletins again; we will send a new link.", scheme)
    subscriber = db.session.get(Subscriber, data["s"])
    if (
        subscriber is None
        or subscriber.scheme_id != data["k"]
        or subscriber.status != SubscriberStatus.PENDING
        or data.get("f") != _confirmation_fingerprint(subscriber)
    ):
        raise LinkError(
            "This link has already been used, or a newer one was sent. If you confirmed before, you are "
            "subscribed and there is nothing more to do.",
            scheme,
        )
    return subscriber


def confirm_subscription(subscriber: Subscriber) -> None:
    """The owner of the address followed the link: from now on they receive the scheme's bulletins."""
    now = utcnow()
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.hard_bounce_count = 0
    if subscriber.consented_at is None:
        # An imported address agrees by following the link: this is the moment of consent.
        subscriber.consented_at = now
    db.session.flush()
    audit.record(
        "subscribers.confirmed",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} confirmed by email link",
        actor_label="resident",
        scheme_id=subscriber.scheme_id,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Unsubscribing


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def make_unsubscribe_token(subscriber: Subscriber) -> str:
    """A signed token for one subscriber of one scheme; it never expires."""
    return make_unsubscribe_token_for(subscriber.id, subscriber.scheme_id)


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The absolute unsubscribe link for an email (also the RFC 8058 one-click target)."""
    return unsubscribe_url_for(subscriber.id, subscriber.scheme_id)


def make_unsubscribe_token_for(subscriber_id: int, scheme_id: int) -> str:
    """`make_unsubscribe_token` from the ids alone, for the sending job's many recipients."""
    return _unsubscribe_serializer().dumps({"s": subscriber_id, "k": scheme_id})


def unsubscribe_url_for(subscriber_id: int, scheme_id: int) -> str:
    """`unsubscribe_url` from the ids alone."""
    return public_url("bulletins.unsubscribe", token=make_unsubscribe_token_for(subscriber_id, scheme_id))


def unsubscribe_headers(subscriber: Subscriber) -> dict[str, str]:
    """The List-Unsubscribe and List-Unsubscribe-Post headers (RFC 2369, RFC 8058) for one message."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscriber)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def subscriber_for_unsubscribe(token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for; LinkError when the link is not one of ours."""
    try:
        data = _unsubscribe_serializer().loads(token)
    except BadSignature as exc:
        raise LinkError("This link is not valid. Check that you copied all of it from the email.") from exc
    subscriber = None
    if isinstance(data, dict) and isinstance(data.get("s"), int):
        subscriber = db.session.get(Subscriber, data["s"])
    if subscriber is None or subscriber.scheme_id != data.get("k"):
        raise LinkError("This link is not valid, or the address it was for has been removed from the list.")
    return subscriber


def unsubscribe(subscriber: Subscriber, is_one_click: bool = False) -> bool:
    """Stop every bulletin to this subscriber; False when they had already left."""
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    previous = subscriber.status.value
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    db.session.flush()
    how = "one-click unsubscribe from the mail program" if is_one_click else "unsubscribe link"
    audit.record(
        "subscribers.unsubscribed",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} unsubscribed by {how}",
        actor_label="resident",
        scheme_id=subscriber.scheme_id,
        method="one-click" if is_one_click else "link",
        previous_status=previous,
    )
    return True


def masked_email(email: str) -> str:
    """An address shown only in part ("p…@example.org"), for a page anyone holding the link may open."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


# ---------------------------------------------------------------------------------------------------------------------
# The coordinator's list


@dataclass(frozen=True)
class SubscriberCounts:
    """How many subscribers a scheme has in each status; erased ones are counted apart."""

    pending: int = 0
    confirmed: int = 0
    unsubscribed: int = 0
    bouncing: int = 0
    erased: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.confirmed + self.unsubscribed + self.bouncing + self.erased


def count_subscribers(scheme: Scheme) -> SubscriberCounts:
    """The scheme's subscribers by status; erasing one moves it to `erased` and keeps the total."""
    rows = db.session.execute(
        select(Subscriber.status, func.count())
        .where(Subscriber.scheme_id == scheme.id, Subscriber.erased_at.is_(None))
        .group_by(Subscriber.status)
    ).all()
    by_status = {status.value: count for status, count in rows}
    erased = db.session.scalar(
        select(func.count())
        .select_from(Subscriber)
        .where(Subscriber.scheme_id == scheme.id, Subscriber.erased_at.is_not(None))
    )
    return SubscriberCounts(erased=erased or 0, **{s.value: by_status.get(s.value, 0) for s in SubscriberStatus})


STATUS_FILTERS = (*(s.value for s in SubscriberStatus), "erased")


def subscribers_query(scheme: Scheme, status: str = "", search: str = "") -> Select:
    """The scheme's subscribers, newest first, narrowed by status ("erased" for erased ones) and a search."""
    stmt = select(Subscriber).where(Subscriber.scheme_id == scheme.id).order_by(Subscriber.id.desc())
    if status == "erased":
        stmt = stmt.where(Subscriber.erased_at.is_not(None))
    elif status in STATUS_FILTERS:
        stmt = stmt.where(Subscriber.status == SubscriberStatus(status), Subscriber.erased_at.is_(None))
    if search:
        pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Subscriber.email.ilike(pattern, escape="\\"), Subscriber.name.ilike(pattern, escape="\\"))
        )
    return stmt


def get_scheme_subscriber(scheme: Scheme, subscriber_id: int) -> Subscriber | None:
    """A subscriber of this scheme; None for any other id."""
    return db.session.scalar(
        select(Subscriber).where(Subscriber.id == subscriber_id, Subscriber.scheme_id == scheme.id)
    )


def recipients_query(scheme: Scheme, street_ids: Sequence[int] | None = None) -> Select:
    """The query behind `recipients_for`: confirmed, not erased, of this scheme (and of these streets, if given)."""
    stmt = (
        select(Subscriber)
        .where(
            Subscriber.scheme_id == scheme.id,
            Subscriber.status == SubscriberStatus.CONFIRMED,
            Subscriber.erased_at.is_(None),
        )
        .order_by(Subscriber.id)
    )
    if street_ids is not None:
        # An empty list of streets is nobody (false() keeps it one query on both databases).
        stmt = stmt.where(Subscriber.street_id.in_(list(street_ids)) if street_ids else false())
    return stmt


def recipients_for(scheme: Scheme, street_ids: Sequence[int] | None = None) -> list[Subscriber]:
    """The subscribers a bulletin goes to: confirmed, not erased, of this scheme (and of these streets, if given)."""
    return list(db.session.scalars(recipients_query(scheme, street_ids)))


def count_recipients(scheme: Scheme, street_ids: Sequence[int] | None = None) -> int:
    """How many subscribers `recipients_for` would give now."""
    return db.session.scalar(select(func.count()).select_from(recipients_query(scheme, street_ids).subquery())) or 0


def record_hard_bounce(subscriber_id: int, error: str, limit: int) -> bool:
    """A mail server refused this address for good (5xx); after `limit` such refusals it is marked bouncing.

    Returns True when this refusal made the subscriber bouncing. Confirming again (a new sign-up) resets the count.
    """
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    subscriber.hard_bounce_count += 1
    if subscriber.hard_bounce_count < limit or subscriber.status != SubscriberStatus.CONFIRMED:
        db.session.flush()
        return False
    subscriber.status = SubscriberStatus.BOUNCING
    db.session.flush()
    audit.record(
        "subscribers.bouncing",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} marked bouncing after "
        f"{subscriber.hard_bounce_count} refused deliveries",
        actor_label="system",
        scheme_id=subscriber.scheme_id,
        last_error=error[:200],
    )
    return True


# ---------------------------------------------------------------------------------------------------------------------
# Residents' data: export and erasure


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _confirmation_mail(email: str) -> Select:
    return select(OutgoingMail).where(OutgoingMail.to_address == email, OutgoingMail.kind == CONFIRM_MAIL_KIND)


def _audit_about(subscriber: Subscriber) -> Select:
    return select(AuditEntry).where(AuditEntry.object_type == "Subscriber", AuditEntry.object_id == str(subscriber.id))


def export_subscriber(subscriber: Subscriber, actor: User | None) -> dict:
    """Everything held about one subscriber, as a JSON-ready dict (audited as subscribers.exported)."""
    messages = (
        []
        if subscriber.is_erased
        else list(db.session.scalars(_confirmation_mail(subscriber.email).order_by(OutgoingMail.id)))
    )
    history = list(db.session.scalars(_audit_about(subscriber).order_by(AuditEntry.id)))
    data = {
        "exported_at": _iso(utcnow()),
        "scheme": {"id": subscriber.scheme_id, "name": subscriber.scheme.name},
        "subscriber": {
            "id": subscriber.id,
            "email": subscriber.email,
            "name": subscriber.name,
            "street": (
                {"id": subscriber.street.id, "name": subscriber.street.name, "postcode": subscriber.street.postcode}
                if subscriber.street
                else None
            ),
            "status": subscriber.status.value,
            "created_at": _iso(subscriber.created_at),
            "hard_bounce_count": subscriber.hard_bounce_count,
            "erased_at": _iso(subscriber.erased_at),
        },
        "consent": {
            "consented_at": _iso(subscriber.consented_at),
            "method": subscriber.consent_method,
            "wording": subscriber.consent_wording,
            "confirmation_sent_at": _iso(subscriber.confirmation_sent_at),
            "confirmed_at": _iso(subscriber.confirmed_at),
            "unsubscribed_at": _iso(subscriber.unsubscribed_at),
        },
        "emails_sent": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "status": m.status.value,
                "queued_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in messages
        ],
        "bulletins": [
            {
                "bulletin_id": d.bulletin_id,
                "subject": d.bulletin.subject,
                "to": d.to_address,
                "state": d.state.value,
                "attempts": d.attempts,
                "sent_at": _iso(d.sent_at),
            }
            for d in db.session.scalars(
                select(BulletinDelivery)
                .where(BulletinDelivery.subscriber_id == subscriber.id)
                .order_by(BulletinDelivery.id)
            )
        ],
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


def erase_subscriber(subscriber: Subscriber, actor: User | None) -> bool:
    """Remove a subscriber's personal data for good, keeping the row so the scheme's counts stay true.

    Kept: scheme, street, status dates and the consent wording and method (the association's own text, and
    the coordinator who imported them). Gone: the address, the name, and the address in confirmation emails
    and client addresses in the audit log. False when they were already erased.
    """
    if subscriber.is_erased:
        return False
    now = utcnow()
    email = subscriber.email
    placeholder = erased_placeholder(subscriber)
    previous = subscriber.status.value
    subscriber.email = placeholder
    subscriber.name = ""
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = now
    subscriber.erased_at = now
    db.session.flush()
    _forget_traces(subscriber, email, placeholder)
    _forget_deliveries(subscriber, placeholder)
    audit.record(
        "subscribers.erased",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} erased",
        actor=actor,
        scheme_id=subscriber.scheme_id,
        previous_status=previous,
    )
    return True


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
            _forget_traces(subscriber, subscriber.email, erased_placeholder(subscriber))
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


# ---------------------------------------------------------------------------------------------------------------------
# CSV import of existing members


@dataclass
class SubscriberImportLine(ImportLine):
    """One row of an uploaded file: what will happen to it, or what is wrong with it."""

    email: str
    # What the row does when the file is imported: "added ...", or why it adds nothing ("already on the list").
    outcome: str = ""
    is_new: bool = False

    @property
    def label(self) -> str:
        return self.email or "(no email)"


@dataclass
class SubscriberImportReport(ImportReport[SubscriberImportLine]):
    """The row-by-row answer to an upload. Addresses are only added when every row is fine."""

    added: int = 0
    already: int = 0

    def imported_summary(self) -> str:
        if not self.added:
            return f"No new addresses: all {self.already} are already on the list or repeated in the file."
        return (
            f"Added {self.added} address{'es' if self.added != 1 else ''}, each sent a request to confirm; "
            f"{self.already} already on the list or repeated in the file."
        )

    def outcome(self, row: SubscriberImportLine) -> str:
        # A good row of a refused file says OK: "added" would not be true of it.
        if not row.is_ok:
            return "; ".join(row.problems)
        return row.outcome if self.ok or not row.is_new else "OK"


def _street_lookup(scheme: Scheme) -> dict[str, list[Street]]:
    # Keyed by the name and by "name (postcode)", so two streets sharing a name can still be told apart.
    lookup: dict[str, list[Street]] = {}
    for street in scheme.streets:
        for key in (street.name, f"{street.name} ({street.postcode})"):
            lookup.setdefault(" ".join(key.split()).casefold(), []).append(street)
    return lookup


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def import_subscribers(scheme: Scheme, data: bytes, actor: User | None) -> SubscriberImportReport:
    """Check every row of an `email,name,street` CSV; only if all are fine, add the new addresses as pending.

    Each added address is sent a confirmation request and nothing else until its owner confirms. Addresses
    the scheme already has are reported and left exactly as they are. The caller commits when `report.ok`,
    then calls `send_queued_mail_later()`; otherwise nothing was added.
    """
    report = SubscriberImportReport()
    try:
        csv_rows = read_csv(
            data, IMPORT_COLUMNS, max_bytes=current_app.config["CSV_MAX_BYTES"], required=IMPORT_REQUIRED_COLUMNS
        )
    except CSVFileError as exc:
        report.file_problems.append(str(exc))
        return report
    if not csv_rows:
        report.file_problems.append("The file has a header but no addresses under it.")
        return report
    if len(csv_rows) > MAX_IMPORT_ROWS:
        report.file_problems.append(
            f"The file has {len(csv_rows):,} rows; one import takes at most {MAX_IMPORT_ROWS:,}."
        )
        return report

    existing = {
        s.email: s for s in db.session.scalars(select(Subscriber).where(Subscriber.scheme_id == scheme.id))
    }
    streets = _street_lookup(scheme)
    seen: dict[str, int] = {}
    accepted: list[tuple[str, str, Street | None]] = []
    for csv_row in csv_rows:
        values = csv_row.values
        raw_email = values.get("email", "")
        row = SubscriberImportLine(line=csv_row.line, email=_shorten(raw_email))
        report.rows.append(row)
        if csv_row.has_extra_cells:
            row.problems.append("This row has more cells than the header has columns")
        for column in IMPORT_COLUMNS:
            if looks_like_formula(values.get(column, "")):
                row.problems.append(
                    f"{column} starts with {values[column][0]!r}, which a spreadsheet would run as a formula; "
                    "remove that character"
                )
        email = ""
        try:
            email = check_subscriber_email(raw_email)
        except ValueError as exc:
            row.problems.append(str(exc).replace("Enter your email address", "The email is missing"))
        name = ""
        try:
            name = check_subscriber_name(values.get("name", ""))
        except ValueError as exc:
            if not looks_like_formula(values.get("name", "")):
                row.problems.append(str(exc))
        street = None
        street_text = " ".join(values.get("street", "").split())
        if street_text:
            matches = streets.get(street_text.casefold(), [])
            if not matches:
                row.problems.append(f"{scheme.name} has no street called {_shorten(street_text, 60)}")
            elif len(matches) > 1:
                row.problems.append(
                    f"{scheme.name} has {len(matches)} streets called {matches[0].name}; write it with its "
                    f"postcode, like {matches[0].name} ({matches[0].postcode})"
                )
            else:
                street = matches[0]
        if not row.is_ok:
            continue
        if email in seen:
            row.outcome = f"same address as line {seen[email]}; added once"
            report.already += 1
            continue
        seen[email] = row.line
        if email in existing:
            row.outcome = f"already on the list ({existing[email].status.value}); left as it is"
            report.already += 1
            continue
        row.outcome = "added; a request to confirm is sent"
        row.is_new = True
        accepted.append((email, name, street))

    if not report.ok:
        report.already = 0
        return report
    method = f"imported by coordinator {actor.email}" if actor is not None else "imported from the command line"
    wording = consent_wording(scheme)
    added = [
        Subscriber(
            scheme=scheme,
            email=email,
            name=name,
            street=street,
            status=SubscriberStatus.PENDING,
            consent_method=method,
            consent_wording=wording,
        )
        for email, name, street in accepted
    ]
    db.session.add_all(added)
    db.session.flush()
    now = utcnow()
    for subscriber in added:
        request_confirmation(subscriber, now=now)
    report.added = len(added)
    audit.record(
        "subscribers.imported",
        scheme,
        f"{report.added} addresses imported into {scheme.name}, each asked to confirm",
        actor=actor,
        actor_label=None if actor is not None else "command line",
        count=report.added,
        already=report.already,
    )
    db.session.flush()
    return report


# ---------------------------------------------------------------------------------------------------------------------
# Bulletins: composing, the approval state machine, and what the sending job asks of the rules
#
# Every change of a bulletin's state goes through `_transition()`: it checks the move is in
# BULLETIN_TRANSITIONS, makes it as a compare-and-set in the database (so two people, or a person and the
# sending job, can never both make a move from the same state), and writes the audit entry `bulletins.<move>`.

MAX_SUBJECT = 150
MAX_INTRO = 600
REASON_MAX = 1000
# The furthest ahead a bulletin may be scheduled.
MAX_SCHEDULE_AHEAD = timedelta(days=90)
LOCAL_TIME = ZoneInfo("Europe/London")

B = BulletinState
BULLETIN_TRANSITIONS: dict[str, frozenset[tuple[BulletinState, BulletinState]]] = {
    # Saved as a draft, then either sent for approval (when the association requires it) or queued.
    "submitted": frozenset({(B.DRAFT, B.AWAITING_APPROVAL)}),
    "withdrawn": frozenset({(B.AWAITING_APPROVAL, B.DRAFT)}),
    "changes_requested": frozenset({(B.AWAITING_APPROVAL, B.DRAFT)}),
    "approved": frozenset({(B.AWAITING_APPROVAL, B.APPROVED), (B.AWAITING_APPROVAL, B.SCHEDULED)}),
    "queued": frozenset({(B.DRAFT, B.APPROVED), (B.DRAFT, B.SCHEDULED)}),
    # The sending job's moves.
    "started": frozenset({(B.APPROVED, B.SENDING), (B.SCHEDULED, B.SENDING)}),
    "sent": frozenset({(B.SENDING, B.SENT)}),
    "cancelled": frozenset(
        (state, B.CANCELLED) for state in (B.DRAFT, B.AWAITING_APPROVAL, B.APPROVED, B.SCHEDULED, B.SENDING)
    ),
}
ADMIN_ONLY_MOVES = frozenset({"approved", "changes_requested"})
SYSTEM_MOVES = frozenset({"started", "sent"})


class BulletinError(Exception):
    """A bulletin rule was broken; the message is fit to show."""


class BulletinPermissionError(BulletinError):
    """The person may not do this to this bulletin."""


class BulletinProblems(BulletinError):
    """What was typed or chosen breaks the rules; `errors` maps each field name to messages fit to show."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = dict(errors)


@dataclass
class BulletinDraft:
    """What a coordinator typed and chose for a bulletin, before it is checked."""

    subject: str = ""
    intro: str = ""
    campaign_version_ids: list[int] = field(default_factory=list)
    helpline_set_version_id: int | None = None
    local_notice_version_ids: list[int] = field(default_factory=list)
    is_whole_scheme: bool = True
    street_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BulletinChoices:
    """What a bulletin of this scheme may use today: current approved campaigns, approved sets, the scheme's notices."""

    campaigns: list[CampaignVersion]
    helpline_sets: list[HelplineSetVersion]
    notices: list[LocalNoticeVersion]
    streets: list[Street]


def bulletin_choices(scheme: Scheme) -> BulletinChoices:
    """The campaigns, helpline sets, local notices and streets a bulletin of this scheme can choose from."""
    return BulletinChoices(
        campaigns=content.current_campaigns(),
        helpline_sets=content.approved_helpline_sets(),
        notices=content.local_notices_for_scheme(scheme),
        streets=list(scheme.streets),
    )


def _has_control_characters(text: str, allowed: str = "") -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cf") and c not in allowed for c in text)


def check_subject(text: str) -> str:
    """The subject on one line; ValueError with a message when it is empty, too long or has line breaks."""
    subject = (text or "").strip()
    if not subject:
        raise ValueError("Enter a subject")
    # Refused, not tidied: a line break or mail code (=?...?=) in a subject is a mistake, or an attempt to add
    # mail headers.
    subject = " ".join(check_header_text(subject, "The subject").split())
    if len(subject) > MAX_SUBJECT:
        raise ValueError(f"The subject must be {MAX_SUBJECT} characters or fewer (it has {len(subject)})")
    return subject


def check_intro(text: str) -> str:
    """The introduction as plain text with its line breaks; ValueError when it is too long or has control characters."""
    intro = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    intro = "\n".join(line.rstrip() for line in intro.split("\n")).strip()
    while "\n\n\n" in intro:
        intro = intro.replace("\n\n\n", "\n\n")
    if _has_control_characters(intro, allowed="\n\t"):
        raise ValueError("The introduction contains a control character; type it again")
    if len(intro) > MAX_INTRO:
        raise ValueError(f"The introduction must be {MAX_INTRO} characters or fewer (it has {len(intro)})")
    return intro


def _clean_draft(scheme: Scheme, draft: BulletinDraft) -> dict:
    """The draft's values checked against the rules and today's choices; BulletinProblems names every field wrong."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for name, check, value in (("subject", check_subject, draft.subject), ("intro", check_intro, draft.intro)):
        try:
            clean[name] = check(value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    choices = bulletin_choices(scheme)

    campaign_ids = {v.id for v in choices.campaigns}
    chosen = list(dict.fromkeys(draft.campaign_version_ids or []))
    if not chosen:
        errors["campaigns"] = ["Choose at least one campaign"]
    elif any(vid not in campaign_ids for vid in chosen):
        errors["campaigns"] = ["Choose campaigns from the list: only current, approved campaigns can be sent"]
    clean["campaign_version_ids"] = [v.id for v in choices.campaigns if v.id in chosen]

    set_ids = {v.id for v in choices.helpline_sets}
    if draft.helpline_set_version_id is None:
        errors["helpline_set"] = ["Choose a helpline set"]
    elif draft.helpline_set_version_id not in set_ids:
        errors["helpline_set"] = ["Choose a helpline set from the list: only approved sets can be sent"]
    clean["helpline_set_version_id"] = draft.helpline_set_version_id

    notice_ids = {v.id for v in choices.notices}
    notices = list(dict.fromkeys(draft.local_notice_version_ids or []))
    if any(vid not in notice_ids for vid in notices):
        errors["notices"] = ["Choose notices from the list: only this scheme's approved notices can be sent"]
    clean["local_notice_version_ids"] = [v.id for v in choices.notices if v.id in notices]

    clean["is_whole_scheme"] = bool(draft.is_whole_scheme)
    street_ids = {s.id for s in choices.streets}
    streets = list(dict.fromkeys(draft.street_ids or []))
    if not draft.is_whole_scheme:
        if not streets:
            errors["streets"] = ["Choose at least one street, or send to everyone subscribed to the scheme"]
        elif any(sid not in street_ids for sid in streets):
            errors["streets"] = ["Choose streets from the list of this scheme's streets"]
    clean["street_ids"] = [s.id for s in choices.streets if s.id in streets] if not draft.is_whole_scheme else []
    if errors:
        raise BulletinProblems(errors)
    return clean


def _check_may_work_on(scheme: Scheme, actor: User | None) -> None:
    # None is the command line acting for the association.
    if actor is None:
        return
    if not actor.is_active_account:
        raise BulletinPermissionError("This account is not active.")
    if not actor.is_admin and not content.is_coordinator_of(actor, scheme.id):
        raise BulletinPermissionError("Only the scheme's coordinators can write or send its bulletins.")


def create_bulletin(
    scheme: Scheme, draft: BulletinDraft, actor: User | None, *, actor_label: str | None = None, batch: str = ""
) -> Bulletin:
    """Save a new draft bulletin for a scheme (audited as bulletins.created); BulletinProblems when a value is wrong."""
    _check_may_work_on(scheme, actor)
    clean = _clean_draft(scheme, draft)
    bulletin = Bulletin(
        scheme=scheme,
        batch=batch,
        created_by=actor,
        created_by_label=actor_label or (actor.email if actor else "command line"),
        state=BulletinState.DRAFT,
        **clean,
    )
    db.session.add(bulletin)
    db.session.flush()
    audit.record(
        "bulletins.created",
        bulletin,
        f"Bulletin “{bulletin.subject}” drafted for {scheme.name}",
        actor=actor,
        actor_label=None if actor is not None else (actor_label or "command line"),
        scheme_id=scheme.id,
        batch=batch or None,
    )
    return bulletin


def update_bulletin(bulletin: Bulletin, draft: BulletinDraft, actor: User) -> Bulletin:
    """Change a draft's subject, text, content or audience; only drafts change."""
    _check_may_work_on(bulletin.scheme, actor)
    if not bulletin.is_editable:
        raise BulletinError(f"This bulletin is {bulletin.state.label}; only a draft can be changed.")
    clean = _clean_draft(bulletin.scheme, draft)
    for name, value in clean.items():
        setattr(bulletin, name, value)
    # Helplines are fixed again when it is next queued or submitted.
    bulletin.helpline_version_ids = []
    db.session.flush()
    audit.record("bulletins.updated", bulletin, f"Bulletin “{bulletin.subject}” changed", actor=actor,
                 scheme_id=bulletin.scheme_id)
    return bulletin


def draft_from_bulletin(bulletin: Bulletin) -> BulletinDraft:
    """A saved bulletin as form values; content that has a newer approved version is offered as that version."""

    def current_id(version_id: int) -> int | None:
        version = content.get_version(version_id)
        current = version.item.current_version if version is not None else None
        return current.id if current is not None else None

    return BulletinDraft(
        subject=bulletin.subject,
        intro=bulletin.intro,
        campaign_version_ids=[v for v in map(current_id, bulletin.campaign_version_ids) if v is not None],
        helpline_set_version_id=current_id(bulletin.helpline_set_version_id),
        local_notice_version_ids=[v for v in map(current_id, bulletin.local_notice_version_ids) if v is not None],
        is_whole_scheme=bulletin.is_whole_scheme,
        street_ids=list(bulletin.street_ids),
    )


def _transition(
    bulletin: Bulletin,
    name: str,
    to_state: BulletinState,
    actor: User | None,
    *,
    actor_label: str | None = None,
    summary: str = "",
    **details: object,
) -> None:
    """Make one move of the state machine as a compare-and-set; BulletinError if it is not allowed from here."""
    from_state = bulletin.state
    if (from_state, to_state) not in BULLETIN_TRANSITIONS[name]:
        raise BulletinError(
            f"This bulletin is {from_state.label}; it cannot be {name.replace('_', ' ')} from there."
        )
    db.session.flush()
    result = db.session.execute(
        update(Bulletin).where(Bulletin.id == bulletin.id, Bulletin.state == from_state).values(state=to_state),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db.session.expire(bulletin, ["state"])
        raise BulletinError("Someone changed this bulletin a moment ago. Reload the page to see where it stands.")
    set_committed_value(bulletin, "state", to_state)
    audit.record(
        f"bulletins.{name}",
        bulletin,
        summary or f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} {name.replace('_', ' ')}",
        actor=actor,
        actor_label=None if actor is not None else (actor_label or "system"),
        scheme_id=bulletin.scheme_id,
        previous_state=from_state.value,
        **details,
    )


def _check_still_current(bulletin: Bulletin) -> None:
    """Refuse content changed since the bulletin was saved: residents only ever get current approved content."""
    problems = []
    current_campaigns = {v.id for v in content.current_campaigns()}
    for version_id in bulletin.campaign_version_ids:
        if version_id not in current_campaigns:
            version = content.get_version(version_id)
            title = version.title if version is not None else f"#{version_id}"
            problems.append(f"The campaign “{title}” is no longer current: it changed, ended or was withdrawn.")
    set_version = bulletin.helpline_set_version
    if set_version is None or set_version.state != VersionState.APPROVED:
        problems.append("The helpline set has changed since this bulletin was saved.")
    current_notices = {v.id for v in content.local_notices_for_scheme(bulletin.scheme)}
    for version_id in bulletin.local_notice_version_ids:
        if version_id not in current_notices:
            version = content.get_version(version_id)
            title = version.title if version is not None else f"#{version_id}"
            problems.append(f"The local notice “{title}” has changed or was withdrawn.")
    if problems:
        raise BulletinError(" ".join(problems) + " Edit the bulletin, check your choices and save it again.")


def _fix_helplines(bulletin: Bulletin) -> None:
    usable, _left_out = content.usable_helplines(bulletin.helpline_set_version)
    bulletin.helpline_version_ids = [v.id for v in usable]


def check_send_at(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """A chosen sending time as UTC (a naive value is Europe/London time); ValueError when it is past or too far off."""
    if value is None:
        return None
    now = now or utcnow()
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TIME)
    value = value.astimezone(UTC)
    if value <= now:
        raise ValueError("Choose a time that is still to come, or send it now")
    if value - now > MAX_SCHEDULE_AHEAD:
        raise ValueError(f"Choose a time within the next {MAX_SCHEDULE_AHEAD.days} days")
    return value


def is_approval_required() -> bool:
    """Whether the association wants an admin to approve each bulletin before it goes."""
    return get_settings().is_bulletin_approval_required


def queue_bulletin(
    bulletin: Bulletin, actor: User | None, send_at: datetime | None = None, *, actor_label: str | None = None
) -> BulletinState:
    """Send a draft now or at `send_at`, or, when the association requires it, submit it for approval first.

    Returns the new state: `approved` (the caller commits, then starts its sending job), `scheduled`, or
    `awaiting_approval`. The helplines are fixed here, so an approver sees exactly what residents will get.
    """
    _check_may_work_on(bulletin.scheme, actor)
    if bulletin.state != BulletinState.DRAFT:
        raise BulletinError(f"This bulletin is {bulletin.state.label}; only a draft can be sent.")
    _check_still_current(bulletin)
    try:
        send_at = check_send_at(send_at)
    except ValueError as exc:
        raise BulletinProblems({"send_at": [str(exc)]}) from exc
    _fix_helplines(bulletin)
    bulletin.send_at = send_at
    bulletin.change_request_reason = ""
    when = f"at {local_time_text(send_at)}" if send_at else "now"
    if is_approval_required():
        bulletin.submitted_by, bulletin.submitted_at = actor, utcnow()
        _transition(bulletin, "submitted", B.AWAITING_APPROVAL, actor, actor_label=actor_label,
                    summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} submitted for approval, "
                            f"to send {when}", send_at=_iso(send_at))
    else:
        to_state = B.SCHEDULED if send_at else B.APPROVED
        _transition(bulletin, "queued", to_state, actor, actor_label=actor_label,
                    summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} queued to send {when}",
                    send_at=_iso(send_at))
    db.session.flush()
    return bulletin.state


def withdraw_bulletin(bulletin: Bulletin, actor: User) -> None:
    """Take a bulletin awaiting approval back to draft, to change it."""
    _check_may_work_on(bulletin.scheme, actor)
    _transition(bulletin, "withdrawn", B.DRAFT, actor)


def _check_may_approve(bulletin: Bulletin, actor: User) -> None:
    if actor is None or not actor.is_active_account or not actor.is_admin:
        raise BulletinPermissionError("Only an admin can approve bulletins or ask for changes.")
    submitted_by = bulletin.submitted_by_id or bulletin.created_by_id
    if content.four_eyes_required() and submitted_by == actor.id and content.other_active_admin_exists(actor):
        raise BulletinPermissionError(
            "You submitted this bulletin, so another admin must approve it. Four eyes see everything we send."
        )


def approve_bulletin(bulletin: Bulletin, actor: User, now: datetime | None = None) -> BulletinState:
    """An admin approves a bulletin awaiting approval: it goes now (`approved`) or at its time (`scheduled`).

    The caller commits, then starts the sending job if the answer is `approved`.
    """
    if bulletin.state == B.AWAITING_APPROVAL:
        _check_may_approve(bulletin, actor)
    now = now or utcnow()
    to_state = B.SCHEDULED if bulletin.send_at is not None and bulletin.send_at > now else B.APPROVED
    bulletin.approved_by, bulletin.approved_at = actor, now
    _transition(bulletin, "approved", to_state, actor)
    return to_state


def request_bulletin_changes(bulletin: Bulletin, actor: User, reason: str) -> None:
    """An admin sends a bulletin back to its author as a draft, with what to change."""
    if bulletin.state == B.AWAITING_APPROVAL:
        _check_may_approve(bulletin, actor)
    reason = (reason or "").strip()
    if not reason:
        raise BulletinProblems({"reason": ["Say what needs to change, so the coordinator knows what to do"]})
    if len(reason) > REASON_MAX:
        raise BulletinProblems({"reason": [f"Keep the reason to {REASON_MAX:,} characters or fewer"]})
    bulletin.change_request_reason = reason
    _transition(bulletin, "changes_requested", B.DRAFT, actor, reason=reason)


def decide_bulletin(bulletin: Bulletin, actor: User, decision: str, reason: str = "") -> BulletinState:
    """The review form's one call: "approve" or "request_changes" (with a reason)."""
    if decision == "approve":
        return approve_bulletin(bulletin, actor)
    if decision == "request_changes":
        request_bulletin_changes(bulletin, actor, reason)
        return bulletin.state
    raise BulletinProblems({"decision": ["Choose whether to approve this bulletin or ask for changes"]})


def approve_batch(batch: str, actor: User) -> tuple[list[Bulletin], list[str]]:
    """Approve every bulletin of an all-schemes batch still awaiting approval; returns (approved, problems)."""
    approved, problems = [], []
    for bulletin in bulletins_awaiting_approval(batch=batch):
        try:
            approve_bulletin(bulletin, actor)
        except BulletinError as exc:
            problems.append(f"{bulletin.scheme.name}: {exc}")
        else:
            approved.append(bulletin)
    return approved, problems


def cancel_bulletin(bulletin: Bulletin, actor: User | None, *, actor_label: str | None = None) -> int:
    """Stop a bulletin before or while it goes; copies not yet sent never will be. Returns how many that is.

    A copy the job is handing to the mail server at this moment still goes.
    """
    _check_may_work_on(bulletin.scheme, actor)
    was_sending = bulletin.state == B.SENDING
    bulletin.cancelled_by, bulletin.cancelled_at = actor, utcnow()
    _transition(bulletin, "cancelled", B.CANCELLED, actor, actor_label=actor_label)
    stopped = 0
    if was_sending:
        stopped = db.session.execute(
            update(BulletinDelivery)
            .where(
                BulletinDelivery.bulletin_id == bulletin.id,
                BulletinDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.DEFERRED]),
            )
            .values(state=DeliveryState.SKIPPED, next_attempt_at=None, last_error="not sent: the bulletin was stopped"),
            execution_options={"synchronize_session": False},
        ).rowcount
        refresh_counts(bulletin)
    return stopped


def record_test_message(bulletin: Bulletin, actor: User) -> str:
    """Note that a test copy is going to the person themselves (audited); returns the address it goes to."""
    _check_may_work_on(bulletin.scheme, actor)
    audit.record("bulletins.test_sent", bulletin, f"Test of bulletin “{bulletin.subject}” sent to {actor.email}",
                 actor=actor, scheme_id=bulletin.scheme_id)
    return actor.email


# --- What the sending job asks of the rules -------------------------------------------------------------------


def new_message_id(bulletin_id: int, subscriber_id: int, domain: str) -> str:
    """A Message-ID for one recipient's copy, fixed when the outbox row is made."""
    return f"<bulletin-{bulletin_id}.{subscriber_id}.{secrets.token_hex(6)}@{domain}>"


def start_sending(bulletin: Bulletin, domain: str, now: datetime | None = None) -> bool:
    """Make one outbox row per recipient and mark the bulletin sending; False when it is not due (or not ready).

    Recipients are read now, at send time: whoever is confirmed at this moment gets it; unconfirmed,
    unsubscribed, bouncing and erased addresses never do. The caller commits.
    """
    now = now or utcnow()
    if bulletin.state not in (B.APPROVED, B.SCHEDULED) or (bulletin.send_at is not None and bulletin.send_at > now):
        return False
    street_ids = None if bulletin.is_whole_scheme else list(bulletin.street_ids)
    if not bulletin.helpline_version_ids:
        _fix_helplines(bulletin)
    bulletin.started_at = now
    _transition(bulletin, "started", B.SENDING, None, actor_label="system")
    rows = [
        {
            "bulletin_id": bulletin.id,
            "subscriber_id": subscriber.id,
            "to_address": subscriber.email,
            "message_id": new_message_id(bulletin.id, subscriber.id, domain),
            "state": DeliveryState.QUEUED,
            "attempts": 0,
            "last_error": "",
            "created_at": now,
        }
        for subscriber in recipients_for(bulletin.scheme, street_ids)
    ]
    if rows:
        db.session.execute(insert(BulletinDelivery), rows)
    bulletin.recipient_count = len(rows)
    db.session.flush()
    return True


@dataclass(frozen=True)
class BulletinProgress:
    """How far a bulletin's sending has gone, from its outbox rows."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0
    waiting: int = 0

    @property
    def done(self) -> int:
        """Copies that will not be tried again: sent, failed or skipped."""
        return self.sent + self.failed + self.skipped

    @property
    def percent(self) -> int:
        """How far it has gone, in whole per cent."""
        return 100 * self.done // self.total if self.total else 100


def bulletin_progress(bulletin: Bulletin) -> BulletinProgress:
    """Sent / total / failed (and skipped, deferred, still waiting) for one bulletin, counted afresh."""
    counts = dict(
        db.session.execute(
            select(BulletinDelivery.state, func.count())
            .where(BulletinDelivery.bulletin_id == bulletin.id)
            .group_by(BulletinDelivery.state)
        ).all()
    )
    return BulletinProgress(
        total=sum(counts.values()),
        sent=counts.get(DeliveryState.SENT, 0),
        failed=counts.get(DeliveryState.FAILED, 0),
        skipped=counts.get(DeliveryState.SKIPPED, 0),
        deferred=counts.get(DeliveryState.DEFERRED, 0),
        waiting=sum(counts.get(state, 0) for state in UNFINISHED_DELIVERY_STATES),
    )


def waiting_problem(bulletin: Bulletin) -> str:
    """What the mail server last said about a copy still waiting to go ("" when nothing is wrong)."""
    return db.session.scalar(
        select(BulletinDelivery.last_error)
        .where(
            BulletinDelivery.bulletin_id == bulletin.id,
            BulletinDelivery.state.in_([DeliveryState.QUEUED, DeliveryState.DEFERRED]),
            BulletinDelivery.last_error != "",
        )
        .order_by(BulletinDelivery.id.desc())
        .limit(1)
    ) or ""


def refresh_counts(bulletin: Bulletin) -> BulletinProgress:
    """Copy the outbox's figures onto the bulletin, for lists."""
    progress = bulletin_progress(bulletin)
    bulletin.recipient_count = progress.total
    bulletin.sent_count = progress.sent
    bulletin.failed_count = progress.failed
    db.session.flush()
    return progress


def finish_sending(bulletin: Bulletin, now: datetime | None = None) -> bool:
    """Mark a sending bulletin sent once no copy is waiting any more; False while some still are."""
    progress = bulletin_progress(bulletin)
    if bulletin.state != B.SENDING or progress.waiting:
        return False
    bulletin.finished_at = now or utcnow()
    refresh_counts(bulletin)
    _transition(
        bulletin, "sent", B.SENT, None, actor_label="system",
        summary=f"Bulletin “{bulletin.subject}” of {bulletin.scheme.name} sent: {progress.sent:,} of "
                f"{progress.total:,} delivered, {progress.failed:,} failed",
        total=progress.total, sent=progress.sent, failed=progress.failed, skipped=progress.skipped,
    )
    return True


# --- Lists -----------------------------------------------------------------------------------------------------


def scheme_bulletins(scheme: Scheme) -> list[Bulletin]:
    """A scheme's bulletins, newest first."""
    return list(db.session.scalars(
        select(Bulletin).where(Bulletin.scheme_id == scheme.id).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
    ))


def get_scheme_bulletin(scheme: Scheme, bulletin_id: int) -> Bulletin | None:
    """A bulletin of this scheme; None for any other id."""
    return db.session.scalar(select(Bulletin).where(Bulletin.id == bulletin_id, Bulletin.scheme_id == scheme.id))


def bulletins_awaiting_approval(batch: str | None = None) -> list[Bulletin]:
    """Bulletins waiting for an admin, oldest submission first (only one batch's, if given)."""
    stmt = select(Bulletin).where(Bulletin.state == B.AWAITING_APPROVAL)
    if batch is not None:
        stmt = stmt.where(Bulletin.batch == batch)
    return list(db.session.scalars(stmt.order_by(Bulletin.submitted_at, Bulletin.id)))


def recent_bulletins(limit: int = 50) -> list[Bulletin]:
    """The latest bulletins of every scheme, newest first, for admins."""
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc())
                                   .limit(limit)))


def campaign_picture(sha256: str) -> ContentImage | None:
    """A picture residents may load from a bulletin: one of an approved (or since retired) campaign version."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        return None
    return db.session.scalar(
        select(ContentImage)
        .join(CampaignVersion, CampaignVersion.image_id == ContentImage.id)
        .where(ContentImage.sha256 == sha256, CampaignVersion.state.in_([VersionState.APPROVED, VersionState.RETIRED]))
        .limit(1)
    )


def local_time_text(value: datetime | None) -> str:
    """A time as people in Bromley read it: "Tuesday 7 October 2025, 18:30 (UK time)"."""
    if value is None:
        return ""
    return value.astimezone(LOCAL_TIME).strftime("%A %-d %B %Y, %H:%M") + " (UK time)"


# --- One campaign bulletin for many schemes (the admin page and `flask bulletin send`) ---------------------------


@dataclass
class BatchReport:
    """What sending one campaign bulletin to several schemes did: a bulletin per scheme, or why not."""

    batch: str
    bulletins: list[Bulletin] = field(default_factory=list)
    skipped: list[tuple[Scheme, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as printable lines."""
        out = [
            f"{b.scheme.name}: bulletin #{b.id} {b.state.label}, {b.recipient_count or count_recipients(b.scheme):,} "
            "recipient(s)"
            for b in self.bulletins
        ]
        out += [f"{scheme.name}: no bulletin ({reason})" for scheme, reason in self.skipped]
        return out


def send_campaign_to_schemes(
    schemes: Sequence[Scheme],
    campaign_slugs: Sequence[str],
    helpline_set_slug: str,
    subject: str,
    intro: str,
    actor: User | None,
    *,
    actor_label: str | None = None,
) -> BatchReport:
    """One bulletin per scheme, each with its own name, contact and unsubscribe links, queued to send now.

    When the association requires approval they wait for an admin instead (the batch can be approved at once).
    Schemes with no confirmed subscriber get no bulletin. The caller commits, then starts the sending jobs.
    """
    if actor is not None and (not actor.is_admin or not actor.is_active_account):
        raise BulletinPermissionError("Only an admin can send a bulletin to several schemes.")
    errors: dict[str, list[str]] = {}
    campaign_ids = []
    current = {v.item.slug: v for v in content.current_campaigns()}
    for slug in campaign_slugs:
        if slug not in current:
            errors.setdefault("campaigns", []).append(f"No current, approved campaign has the slug {slug!r}")
        else:
            campaign_ids.append(current[slug].id)
    sets = {v.item.slug: v for v in content.approved_helpline_sets()}
    if helpline_set_slug not in sets:
        errors["helpline_set"] = [f"No approved helpline set has the slug {helpline_set_slug!r}"]
    for name, check, value in (("subject", check_subject, subject), ("intro", check_intro, intro)):
        try:
            check(value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if not campaign_slugs:
        errors["campaigns"] = ["Choose at least one campaign"]
    if not schemes:
        errors["schemes"] = ["There are no schemes to send to"]
    if errors:
        raise BulletinProblems(errors)
    report = BatchReport(batch=secrets.token_hex(8) if len(schemes) > 1 else "")
    draft = BulletinDraft(
        subject=subject,
        intro=intro,
        campaign_version_ids=campaign_ids,
        helpline_set_version_id=sets[helpline_set_slug].id,
    )
    for scheme in schemes:
        if not count_recipients(scheme):
            report.skipped.append((scheme, "no confirmed subscribers"))
            continue
        bulletin = create_bulletin(scheme, draft, actor, actor_label=actor_label, batch=report.batch)
        queue_bulletin(bulletin, actor, actor_label=actor_label)
        report.bulletins.append(bulletin)
    return report
