"""Account rules: passwords, logins, invitations, resets and sessions."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from coordinator import audit
from coordinator.auth.models import LoginSession, Role, User, new_session_token
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import queue_mail

# OWASP's minimum for Argon2id is m=19 MiB, t=2, p=1; this is above it (m=19 MiB, t=3).
password_hasher = PasswordHasher(time_cost=3, memory_cost=19 * 1024, parallelism=1)

# Checking a password for an unknown email costs the same as for a known one.
_DUMMY_HASH = password_hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


class AccountError(Exception):
    """A rule about accounts was broken; the message is fit to show."""


def normalise_email(email: str) -> str:
    """Emails are matched without regard to case or surrounding space."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return password_hasher.hash(password)


def find_user_by_email(email: str) -> User | None:
    """The account with this email, whatever its case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active account these credentials belong to, or None. Audits success and failure alike."""
    user = find_user_by_email(email)
    ok = False
    if user is None or not user.password_hash:
        _verify(_DUMMY_HASH, password)
    else:
        ok = _verify(user.password_hash, password)
    if ok and user is not None and user.is_active_account:
        if password_hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.last_login_at = utcnow()
        audit.record("auth.login", user, f"{user.email} logged in", actor=user)
        return user
    audit.record(
        "auth.login_failed",
        user,
        "failed login",
        actor=None,
        actor_label=normalise_email(email)[:254],
        reason="inactive" if ok else "bad credentials",
    )
    return None


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(user: User, password: str) -> bool:
    """Whether `password` is this user's current password."""
    return bool(user.password_hash) and _verify(user.password_hash, password)


def validate_new_password(password: str) -> None:
    """Refuse passwords that are too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")


def end_every_login(user: User) -> None:
    """End every login of this account on every device, remembered or not; the caller logs this device in again."""
    user.session_token = new_session_token()
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    user.login_session = None


def set_password(user: User, password: str) -> None:
    """Set a new password and end every login of this account."""
    validate_new_password(password)
    user.password_hash = hash_password(password)
    end_every_login(user)
    audit.record("auth.password_changed", user, f"password set for {user.email}")


def create_user(email: str, name: str, role: Role = Role.COORDINATOR, password: str | None = None) -> User:
    """A new account. The email must not belong to anyone yet."""
    email = email.strip()
    if find_user_by_email(email) is not None:
        raise AccountError("That email already has an account.")
    user = User(email=email, name=name.strip(), role=role, is_active_account=True)
    if password is not None:
        validate_new_password(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_profile(user: User, name: str, email: str) -> None:
    """Change one's own name and email."""
    other = find_user_by_email(email)
    if other is not None and other.id != user.id:
        raise AccountError("That email already has an account.")
    changed = []
    if user.name != name.strip():
        changed.append("name")
    if normalise_email(user.email) != normalise_email(email) or user.email != email.strip():
        changed.append("email")
    user.name = name.strip()
    user.email = email.strip()
    if changed:
        audit.record("auth.profile_changed", user, f"{', '.join(changed)} changed", fields=changed)


def deactivate_user(user: User) -> None:
    """Stop an account from logging in and end its sessions at once."""
    user.is_active_account = False
    end_every_login(user)
    audit.record("users.deactivated", user, f"{user.email} deactivated")


def reactivate_user(user: User) -> None:
    """Let a deactivated account log in again."""
    user.is_active_account = True
    audit.record("users.reactivated", user, f"{user.email} reactivated")


def change_role(user: User, role: Role) -> None:
    """Make an account a coordinator or an admin."""
    if user.role == role:
        return
    old = user.role
    user.role = role
    end_every_login(user)
    audit.record("users.role_changed", user, f"{user.email}: {old.value} -> {role.value}", old=old.value, new=role.value)


# --- Signed links -------------------------------------------------------------------------------
#
# A link carries the account id, its purpose and a fingerprint of the current password hash and
# session token. Setting a password changes both, so a used link no longer matches: single use
# without a table of spent tokens.

PURPOSE_INVITATION = "invitation"
PURPOSE_RESET = "reset"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="coordinator.account-link")


def _fingerprint(user: User) -> str:
    material = f"{user.password_hash or ''}|{user.session_token}|{user.is_active_account}"
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def make_account_token(user: User, purpose: str) -> str:
    """A signed token for an invitation or password-reset link."""
    return _serializer().dumps({"u": user.id, "p": purpose, "f": _fingerprint(user)})


def _max_age(purpose: str) -> timedelta:
    key = "INVITATION_MAX_AGE" if purpose == PURPOSE_INVITATION else "PASSWORD_RESET_MAX_AGE"
    return current_app.config[key]


def user_for_token(token: str) -> tuple[User, str]:
    """The account and purpose of a still-valid link; AccountError if it is expired, used or forged."""
    invalid = "This link is not valid. Check you copied all of it, or ask for a new one."
    try:
        data, signed_at = _serializer().loads(token, return_timestamp=True)
    except BadSignature as exc:
        raise AccountError(invalid) from exc
    if not isinstance(data, dict) or data.get("p") not in (PURPOSE_INVITATION, PURPOSE_RESET):
        raise AccountError(invalid)
    purpose = data["p"]
    if utcnow() - signed_at > _max_age(purpose):
        raise AccountError("This link has expired. Ask for a new one.")
    user = db.session.get(User, data.get("u")) if isinstance(data.get("u"), int) else None
    if user is None or data.get("f") != _fingerprint(user) or not user.is_active_account:
        raise AccountError("This link has already been used or is no longer valid. Ask for a new one.")
    return user, purpose


def account_link(user: User, purpose: str) -> str:
    """The absolute URL of the set-password page for this token."""
    return public_url("auth.set_password", token=make_account_token(user, purpose))


def invite_user(user: User, invited_by: User | None = None) -> None:
    """Queue an invitation email with a set-password link; the caller commits and sends."""
    user.invited_at = utcnow()
    queue_mail(
        "invitation",
        user.email,
        "invitation",
        to_name=user.name,
        name=user.name,
        link=account_link(user, PURPOSE_INVITATION),
        days=current_app.config["INVITATION_MAX_AGE"].days,
        invited_by=invited_by.name if invited_by else "",
    )
    audit.record("users.invited", user, f"invitation to {user.email}", actor=invited_by)


def request_password_reset(email: str) -> None:
    """Queue a reset email if the address has an active account; the caller says the same either way."""
    user = find_user_by_email(email)
    if user is None or not user.is_active_account:
        return
    purpose = PURPOSE_RESET if user.has_password else PURPOSE_INVITATION
    queue_mail(
        "password_reset",
        user.email,
        "password_reset",
        to_name=user.name,
        name=user.name,
        link=account_link(user, purpose),
        hours=int(_max_age(purpose).total_seconds() // 3600),
    )
    audit.record("auth.reset_requested", user, f"password reset asked for {user.email}", actor=user)


def redeem_account_token(token: str, password: str) -> User:
    """Set the password through an invitation or reset link; the link is spent by it."""
    user, purpose = user_for_token(token)
    set_password(user, password)
    audit.record(f"auth.{purpose}_accepted", user, f"{user.email} set a password by {purpose} link", actor=user)
    return user


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
