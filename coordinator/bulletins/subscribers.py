"""Subscriber rules: sign-up with double opt-in, confirmation and unsubscribe links, the lists and recipients.

Nobody is emailed who did not agree: a new address is `pending` and receives exactly one kind of
message, the confirmation request, until its owner follows the link in it. Bulletins go only to
`recipients_for(...)`: confirmed, not erased.

Links carry signed tokens (itsdangerous, each kind with its own salt):
- a confirmation link expires (SUBSCRIPTION_CONFIRM_MAX_AGE, default 7 days) and is good only for
  the request it came with, so it works once and never brings back someone who has since left;
- an unsubscribe link never expires (an old email's link must still work) and is bound to one
  subscriber of one scheme.

A coordinator's import of existing members is `subscriber_import.py`; a resident's data, exported or erased,
and the expiry of unanswered sign-ups are `subscriber_data.py`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import Select, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from coordinator import audit
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.csvfiles import looks_like_formula
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.language_tags import ENGLISH, check_language_tag
from coordinator.languages import text_direction
from coordinator.links import public_url
from coordinator.mail import OutgoingMail, queue_mail
from coordinator.mailheaders import check_header_text
from coordinator.schemes.models import Scheme, Street
from coordinator.wording import is_english, wording_in, wording_ready

MAX_EMAIL = 254
MAX_NAME = 120
PER_PAGE = 50
CONFIRM_MAIL_KIND = "subscription_confirm"
DEFAULT_CONFIRM_MAX_AGE = timedelta(days=7)
# Asking again within this time sends nothing: a form sent twice, or by someone else, is not a second email.
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)
METHOD_WEB_FORM = "web form"

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


def check_offered_language(text: str | None, offered: Sequence[str]) -> str:
    """The chosen language's tag if it is offered (English when none was chosen); ValueError, fit to show, if not."""
    if not (text or "").strip():
        return ENGLISH
    tag = check_language_tag(text)
    if tag not in offered:
        raise ValueError("Choose one of the languages listed")
    return tag


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


# ---------------------------------------------------------------------------------------------------------------------
# Sign-up and confirmation (double opt-in)


def sign_up(
    scheme: Scheme,
    email: str,
    name: str = "",
    street_id: object = None,
    language: str = "",
    offered_languages: Sequence[str] = (ENGLISH,),
) -> None:
    """A resident asks for bulletins by the web form; the page answers the same whatever happened here.

    A new address, or one that had left, becomes pending and is sent one confirmation request; its bulletins
    will come in `language`, one of the scheme's `offered_languages` (English when none was chosen). A confirmed
    address, or one asked a moment ago, is sent nothing and nothing about it changes (its language included:
    anyone may type an address into the form).
    """
    errors: dict[str, list[str]] = {}
    clean: dict[str, object] = {}
    for key, check in (
        ("email", lambda: check_subscriber_email(email)),
        ("name", lambda: check_subscriber_name(name)),
        ("street", lambda: _street_of(scheme, street_id)),
        ("language", lambda: check_offered_language(language, offered_languages)),
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
    subscriber.language = clean["language"]
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


def shown_language(language: str) -> str:
    """The language a resident's page or email in `language` is in (its lang and Content-Language): that language
    once the association has approved its fixed wording, else English, as public campaign pages do."""
    return language if not is_english(language) and wording_ready(language) else ENGLISH


def request_confirmation(subscriber: Subscriber, now: datetime | None = None) -> OutgoingMail:
    """Queue the one message a pending subscriber may receive: the request to confirm. The caller commits."""
    subscriber.confirmation_sent_at = now or utcnow()
    db.session.flush()
    scheme = subscriber.scheme
    imported = subscriber.consent_method != METHOD_WEB_FORM
    # In the language they chose at sign-up once its wording is approved (English until then, and for an import).
    language = shown_language(subscriber.language)
    with wording_in(subscriber.language):
        mail = queue_mail(
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
            mail_language=language,
            mail_dir=text_direction(language),
        )
    mail.headers = {**(mail.headers or {}), "Content-Language": language}
    return mail


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


# ---------------------------------------------------------------------------------------------------------------------
# Who a bulletin goes to


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
