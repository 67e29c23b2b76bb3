"""Data requests across schemes: an admin finds a resident's address in every scheme at once and exports or erases
all of it in one step; and a coordinator's own account exported, or erased by pseudonymising it.

A resident's address is erased scheme by scheme with `subscriber_data.erase` (the row, its
confirmation mail, its bulletin outbox rows and bounces, the outbox folder's files to it), all in one
transaction. The audit entries written here name subscribers and accounts by number, never by address, so the
log still reads after the address is gone; they count the outbox folder's files removed.

A coordinator's account is never deleted: what they did stays in the audit log, under the same account
number, with their address and name replaced by "erased account #N" (pseudonymised, so the trail still shows
one person's actions as one person's). The account can no longer log in and leaves its schemes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, cast, delete, exists, func, or_, select, update

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import KeptForm, LoginSession, Role, User, new_session_token
from coordinator.auth.services import normalise_email
from coordinator.bulletins import subscriber_data
from coordinator.bulletins.models import Bulletin, Subscriber
from coordinator.db import UTC, utcnow
from coordinator.extensions import db
from coordinator.mail import (
    MailStatus,
    OutboxErasure,
    OutgoingMail,
    erase_outbox_files_to,
    outbox_file_stem,
    outbox_files_to,
)
from coordinator.schemes.models import SchemeCoordinator


class DataRequestError(Exception):
    """A data request that cannot be carried out as asked; the message says why."""


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# --- A resident's address in every scheme -------------------------------------------------------------------------


@dataclass
class AddressFindings:
    """Where an address is held: as a subscriber of which schemes, and whether an account has it."""

    email: str
    subscribers: list[Subscriber] = field(default_factory=list)
    account: User | None = None

    @property
    def is_found(self) -> bool:
        return bool(self.subscribers) or self.account is not None


def find_address(email: str) -> AddressFindings:
    """Every unerased subscriber with this address, in any scheme (any case), and the account with it, if any."""
    key = normalise_email(email)
    findings = AddressFindings(email=key)
    if not key:
        return findings
    findings.subscribers = list(db.session.scalars(
        select(Subscriber).where(Subscriber.email == key, Subscriber.erased_at.is_(None)).order_by(Subscriber.id)
    ))
    findings.account = db.session.scalar(select(User).where(func.lower(User.email) == key))
    return findings


def export_address(email: str, actor: User) -> dict:
    """Everything held about an address across schemes, as one JSON-ready dict (each subscriber's export audited)."""
    findings = find_address(email)
    if not findings.subscribers:
        raise DataRequestError("No scheme has a subscriber with this address.")
    data = {
        "exported_at": _iso(utcnow()),
        "address": findings.email,
        "subscriptions": [subscriber_data.export_subscriber(s, actor) for s in findings.subscribers],
        # How many, not what: a file may be a message of another scheme's to the same address.
        "outbox_files_addressed_to_it": len(outbox_files_to(findings.email).paths),
    }
    audit.record(
        "data_requests.exported",
        None,
        f"A resident's data exported from {len(findings.subscribers)} scheme(s) at once",
        actor=actor,
        subscriber_ids=[s.id for s in findings.subscribers],
    )
    return data


def erase_address(email: str, actor: User) -> int:
    """Erase the address from every scheme in one step; returns how many subscribers were erased. The caller commits."""
    findings = find_address(email)
    if not findings.subscribers:
        raise DataRequestError("No scheme has a subscriber with this address.")
    ids = [s.id for s in findings.subscribers]
    # Each erasure takes its own files while the address is still held elsewhere; the last takes the rest.
    deleted = not_removed = 0
    for subscriber in findings.subscribers:
        outbox = subscriber_data.erase(subscriber, actor)
        if outbox is not None:
            deleted, not_removed = deleted + outbox.deleted, not_removed + outbox.not_removed
    audit.record(
        "data_requests.erased",
        None,
        f"A resident's address erased from {len(ids)} scheme(s) at once",
        actor=actor,
        subscriber_ids=ids,
        **OutboxErasure(deleted, not_removed).as_details(),
    )
    db.session.flush()
    return len(ids)


# --- A coordinator's own account --------------------------------------------------------------------------------


def export_account(user: User, actor: User) -> dict:
    """Everything held about one account: its details, schemes, logins, what it did, and the bulletins it made."""
    memberships = db.session.scalars(
        select(SchemeCoordinator).where(SchemeCoordinator.user_id == user.id).order_by(SchemeCoordinator.id)
    )
    logins = db.session.scalars(
        select(LoginSession.created_at).where(LoginSession.user_id == user.id).order_by(LoginSession.id)
    )
    actions = db.session.scalars(select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id))
    bulletins = db.session.scalars(select(Bulletin).where(Bulletin.created_by_id == user.id).order_by(Bulletin.id))
    data = {
        "exported_at": _iso(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": user.role.value,
            "is_active": user.is_active_account,
            "created_at": _iso(user.created_at),
            "invited_at": _iso(user.invited_at),
            "last_login_at": _iso(user.last_login_at),
        },
        "schemes": [{"id": m.scheme_id, "name": m.scheme.name, "role": m.role.value} for m in memberships],
        "logins_open": [_iso(at) for at in logins],
        "actions": [
            {"at": _iso(e.at), "action": e.action, "summary": e.summary, "from_address": e.ip_address}
            for e in actions
        ],
        "bulletins_made": [{"id": b.id, "scheme_id": b.scheme_id, "subject": b.subject, "state": b.state.value}
                           for b in bulletins],
        "outbox_files_addressed_to_it": len(outbox_files_to(user.email).paths),
    }
    audit.record("users.exported", user, f"Data of account #{user.id} exported", actor=actor)
    return data


def pseudonym(user: User) -> str:
    """What an erased account is called everywhere its address and name were: "erased account #12"."""
    return f"erased account #{user.id}"


def _scrub(value: object, pattern: re.Pattern, replacement: str) -> object:
    """A JSON value with every mention of the address (any case) replaced."""
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [_scrub(v, pattern, replacement) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern, replacement) for k, v in value.items()}
    return value


# A coordinator's test copy of a bulletin, written as bulletin-<id>-test-<hex>.eml (coordinator/bulletins/sending.py).
_BULLETIN_TEST_COPY = re.compile(r"bulletin-\d+-test-[0-9a-f]+")


def _account_outbox_files(email: str) -> Callable[[str], bool] | None:
    """Which outbox files to the address go with the account (None: every one). Read before the rows are scrubbed.

    While a scheme still has the address as a subscriber's, its bulletins to it stay: only the account's own
    messages go (invitations, password resets, campaign emails: the rows erased with it) and its test copies.
    """
    if not db.session.scalar(select(exists().where(Subscriber.email == email.lower(),
                                                   Subscriber.erased_at.is_(None)))):
        return None
    stems = {outbox_file_stem(row) for row in db.session.scalars(
        select(OutgoingMail).where(func.lower(OutgoingMail.to_address) == email.lower()))}
    return lambda stem: stem in stems or _BULLETIN_TEST_COPY.fullmatch(stem) is not None


def erase_account(user: User, actor: User) -> None:
    """Pseudonymise a coordinator's account: address and name gone everywhere, the audit trail kept under its number.

    The account stops working (no password, logged out everywhere, out of every scheme). Admins' accounts are
    refused: make them a coordinator first, so the association never loses an admin by mistake. The caller commits.
    """
    if user.id == actor.id:
        raise DataRequestError("You cannot erase your own account. Ask another admin.")
    if user.role == Role.ADMIN:
        raise DataRequestError("This account is an admin's. Make it a coordinator first, then erase it.")
    if user.email.endswith("@invalid"):
        raise DataRequestError("This account is already erased.")
    email, name, replacement = user.email, user.name, pseudonym(user)
    outbox_files = _account_outbox_files(email)
    # The name only as a whole word, so that "Pat" leaves "Patrol" alone.
    pattern = re.compile(re.escape(email) + (rf"|\b{re.escape(name)}\b" if len(name) >= 3 else ""), re.IGNORECASE)

    # The audit log: the account's own actions keep its number; where it was named, its pseudonym stands.
    entries = db.session.scalars(select(AuditEntry).where(or_(
        AuditEntry.actor_id == user.id,
        (AuditEntry.object_type == "User") & (AuditEntry.object_id == str(user.id)),
        func.lower(AuditEntry.summary).contains(email.lower(), autoescape=True),
        func.lower(AuditEntry.actor_label) == email.lower(),
        func.lower(cast(AuditEntry.details, String)).contains(email.lower(), autoescape=True),
    )))
    for entry in entries:
        entry.summary = str(_scrub(entry.summary, pattern, replacement))
        entry.details = _scrub(dict(entry.details or {}), pattern, replacement)
        if entry.actor_id == user.id or entry.actor_label.lower() == email.lower():
            entry.actor_label = replacement
            entry.ip_address = ""
    # Invitations and password resets sent to the address: their links and the address go.
    db.session.execute(
        update(OutgoingMail).where(func.lower(OutgoingMail.to_address) == email.lower(),
                                   OutgoingMail.status == MailStatus.QUEUED)
        .values(status=MailStatus.FAILED, last_error="not sent: the account was erased"),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(OutgoingMail).where(func.lower(OutgoingMail.to_address) == email.lower())
        .values(to_address=f"erased-user-{user.id}@invalid", to_name="", text_body="", html_body=""),
        execution_options={"synchronize_session": False},
    )
    for model in (LoginSession, KeptForm, SchemeCoordinator):
        db.session.execute(delete(model).where(model.user_id == user.id), execution_options={"synchronize_session": False})
    user.email = f"erased-user-{user.id}@invalid"
    user.name = replacement
    user.password_hash = None
    user.is_active_account = False
    user.session_token = new_session_token()
    user.last_login_at = None
    db.session.flush()
    outbox = erase_outbox_files_to(email, outbox_files)
    audit.record("users.erased", user, f"Account #{user.id} erased (pseudonymised)", actor=actor,
                 **outbox.as_details())
