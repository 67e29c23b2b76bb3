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
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.csvfiles import CSVFileError, looks_like_formula, read_csv
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import MailStatus, OutgoingMail, queue_mail
from coordinator.schemes.models import Scheme, Street

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
    # Runs of spaces and line breaks become one space: the name may end up in an email's To header.
    name = " ".join((text or "").split())
    if len(name) > MAX_NAME:
        raise ValueError(f"The name must be {MAX_NAME} characters or fewer")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise ValueError("The name contains a control character; type it again")
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
    return _unsubscribe_serializer().dumps({"s": subscriber.id, "k": subscriber.scheme_id})


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The absolute unsubscribe link for an email (also the RFC 8058 one-click target)."""
    return public_url("bulletins.unsubscribe", token=make_unsubscribe_token(subscriber))


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


def recipients_for(scheme: Scheme, street_ids: Sequence[int] | None = None) -> list[Subscriber]:
    """The subscribers a bulletin goes to: confirmed, not erased, of this scheme (and of these streets, if given)."""
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
        if not street_ids:
            return []
        stmt = stmt.where(Subscriber.street_id.in_(list(street_ids)))
    return list(db.session.scalars(stmt))


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
    audit.record(
        "subscribers.erased",
        subscriber,
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} erased",
        actor=actor,
        scheme_id=subscriber.scheme_id,
        previous_status=previous,
    )
    return True


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
class SubscriberImportLine:
    """One row of an uploaded file: what will happen to it, or what is wrong with it."""

    line: int
    email: str
    problems: list[str] = field(default_factory=list)
    # What the row does when the file is imported: "added ...", or why it adds nothing ("already on the list").
    outcome: str = ""
    is_new: bool = False

    @property
    def is_ok(self) -> bool:
        return not self.problems


@dataclass
class SubscriberImportReport:
    """The row-by-row answer to an upload. Addresses are only added when every row is fine."""

    rows: list[SubscriberImportLine] = field(default_factory=list)
    file_problems: list[str] = field(default_factory=list)
    added: int = 0
    already: int = 0

    @property
    def ok(self) -> bool:
        """True when the whole file was good (and, once the caller commits, imported)."""
        return not self.file_problems and bool(self.rows) and all(line.is_ok for line in self.rows)

    @property
    def bad_rows(self) -> list[SubscriberImportLine]:
        return [line for line in self.rows if not line.is_ok]

    def summary(self) -> str:
        """One sentence saying what happened."""
        if self.ok:
            if not self.added:
                return f"No new addresses: all {self.already} are already on the list or repeated in the file."
            return (
                f"Added {self.added} address{'es' if self.added != 1 else ''}, each sent a request to confirm; "
                f"{self.already} already on the list or repeated in the file."
            )
        if self.file_problems:
            return "Nothing was imported: the file cannot be read."
        bad = len(self.bad_rows)
        return (
            f"Nothing was imported: {bad} of {len(self.rows)} row{'s' if len(self.rows) != 1 else ''} "
            f"{'has' if bad == 1 else 'have'} problems. Correct the file and upload all of it again."
        )

    def lines(self) -> list[str]:
        """The report as printable lines: file problems, one line per row, then the summary."""
        out = list(self.file_problems)
        for row in self.rows:
            if not row.is_ok:
                outcome = "; ".join(row.problems)
            else:
                outcome = row.outcome if self.ok or not row.is_new else "OK"
            out.append(f"Line {row.line}: {row.email or '(no email)'}: {outcome}")
        out.append(self.summary())
        return out


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
