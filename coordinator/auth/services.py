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
from zxcvbn import zxcvbn

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
# zxcvbn's scale: 3 is "safely unguessable", about 10^8 guesses or more. Below it are the passwords on its lists of
# the most common ones (and their l33t and capitalised forms), dictionary words, names, dates, keyboard runs, and
# anything built from the account's own email or name.
MIN_PASSWORD_SCORE = 3
# zxcvbn refuses to judge more than 72 characters; the first 72 of a longer password are judged.
_ZXCVBN_MAX_LENGTH = 72
# Words anyone would try first against a Neighbourhood Watch account.
_OUR_WORDS = ("neighbourhood", "neighborhood", "watch", "coordinator", "toolkit")


class AccountError(Exception):
    """A rule about accounts was broken; the message is fit to show, next to `field` when it names one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


def validate_new_password(password: str, email: str = "", name: str = "") -> None:
    """Refuse passwords that are too short, common, or made from the account's own email or name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    local, _, domain = normalise_email(email).partition("@")
    if len(_letters_and_digits(local)) >= 3 and _letters_and_digits(local) in _letters_and_digits(password):
        raise AccountError("Choose a password that does not contain your email address.")
    own_words = [w for w in (normalise_email(email), local, domain, *domain.split("."), *name.lower().split()) if w]
    verdict = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[*own_words, *_OUR_WORDS])
    if verdict["score"] < MIN_PASSWORD_SCORE:
        warning = verdict["feedback"]["warning"]
        reason = f" ({warning.rstrip('.').lower()})" if warning else ""
        raise AccountError(f"That password would be too easy to guess{reason}. "
                           "A few unrelated words make a good one.")


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def end_every_login(user: User) -> None:
    """End every login of this account on every device, remembered or not; the caller logs this device in again."""
    user.session_token = new_session_token()
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))
    user.login_session = None


def set_password(user: User, password: str) -> None:
    """Set a new password and end every login of this account."""
    validate_new_password(password, user.email, user.name)
    user.password_hash = hash_password(password)
    end_every_login(user)
    audit.record("auth.password_changed", user, f"password set for {user.email}")


def change_password(user: User, current_password: str, password: str) -> None:
    """Change one's own password, proving the current one; every login of the account ends."""
    if not check_password(user, current_password):
        raise AccountError("That is not your current password.", field="current_password")
    set_password(user, password)


def create_user(email: str, name: str, role: Role = Role.COORDINATOR, password: str | None = None) -> User:
    """A new account. The email must not belong to anyone yet."""
    email = email.strip()
    if find_user_by_email(email) is not None:
        raise AccountError("That email already has an account.")
    user = User(email=email, name=name.strip(), role=role, is_active_account=True)
    if password is not None:
        validate_new_password(password, email, name)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def update_profile(user: User, name: str, email: str, current_password: str = "") -> str | None:
    """Change one's own name at once; a new email only after the current password and a link sent to it.

    Returns the new address the link went to, or None when the email stays as it is.
    """
    new_email = email.strip()
    is_new_email = new_email != user.email
    if is_new_email:
        if not current_password:
            raise AccountError("Enter your current password to change your email address", field="current_password")
        if not check_password(user, current_password):
            raise AccountError("That is not your current password.", field="current_password")
        other = find_user_by_email(new_email)
        if other is not None and other.id != user.id:
            raise AccountError("That email already has an account.", field="email")
    if user.name != name.strip():
        user.name = name.strip()
        audit.record("auth.profile_changed", user, "name changed", fields=["name"])
    if not is_new_email:
        return None
    request_email_change(user, new_email)
    return new_email


# --- What an admin does to an account -------------------------------------------------------------------------
#
# An admin never acts on their own account here: the association always keeps the admin who is acting, so it
# cannot be left without one.


def deactivate_user(user: User, by: User) -> None:
    """Stop an account from logging in and end its sessions at once; nobody can deactivate their own."""
    if user.id == by.id:
        raise AccountError("You cannot deactivate your own account. Ask another admin.")
    if not user.is_active_account:
        raise AccountError(f"{user.email} is already deactivated.")
    user.is_active_account = False
    end_every_login(user)
    audit.record("users.deactivated", user, f"{user.email} deactivated", actor=by)


def reactivate_user(user: User, by: User) -> None:
    """Let a deactivated account log in again."""
    if user.is_active_account:
        raise AccountError(f"{user.email} is already active.")
    user.is_active_account = True
    audit.record("users.reactivated", user, f"{user.email} reactivated", actor=by)


def change_role(user: User, role: Role, by: User) -> None:
    """Make an account a coordinator or an admin and end its logins; an admin cannot demote themselves."""
    if user.id == by.id and role != Role.ADMIN:
        raise AccountError("You cannot take away your own admin role. Ask another admin.")
    if user.role == role:
        raise AccountError(f"{user.email} is already {'an admin' if role == Role.ADMIN else 'a coordinator'}.")
    old = user.role
    user.role = role
    end_every_login(user)
    audit.record(
        "users.role_changed", user, f"{user.email}: {old.value} -> {role.value}", actor=by, old=old.value, new=role.value
    )


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
    # The email is in it too: a link sent to an address the account has since left no longer works.
    material = f"{user.password_hash or ''}|{user.session_token}|{user.is_active_account}|{user.email}"
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


# --- A new email address ---------------------------------------------------------------------------------------
#
# The new address is confirmed by a link sent to it (it carries the address and the account's fingerprint, so it
# works once, and not after the password or email changed meanwhile); the old address is told once it changed.


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="coordinator.email-change")


def email_link_hours() -> int:
    """How many hours a link confirming a new email address works: as long as a password-reset link."""
    return int(current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds() // 3600)


def request_email_change(user: User, new_email: str) -> None:
    """Queue a link to the new address that makes it the account's email; the caller commits and sends."""
    token = _email_serializer().dumps({"u": user.id, "e": new_email, "f": _fingerprint(user)})
    queue_mail(
        "email_change",
        new_email,
        "email_change",
        to_name=user.name,
        name=user.name,
        link=public_url("auth.confirm_email", token=token),
        hours=email_link_hours(),
    )
    audit.record("auth.email_change_asked", user, f"{user.email} asked to change their email", actor=user)


def email_change_for_token(token: str) -> tuple[User, str]:
    """The account and new address of a still-valid email link; AccountError if expired, used or forged."""
    try:
        data = _email_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"].total_seconds())
    except BadSignature as exc:  # SignatureExpired is one
        raise AccountError("This link is not valid or has expired. Change your email on My account again.") from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) and isinstance(data.get("u"), int) else None
    if user is None or data.get("f") != _fingerprint(user) or not user.is_active_account:
        raise AccountError("This link has already been used or is no longer valid.")
    return user, str(data.get("e", ""))


def confirm_email_change(token: str) -> User:
    """Make the link's address the account's email, and tell the old address; the caller commits and sends."""
    user, new_email = email_change_for_token(token)
    other = find_user_by_email(new_email)
    if other is not None and other.id != user.id:
        raise AccountError("That email already has an account.")
    old_email = user.email
    user.email = new_email
    queue_mail("email_changed", old_email, "email_changed", to_name=user.name, name=user.name,
               old_email=old_email, new_email=new_email)
    audit.record("auth.profile_changed", user, "email changed", actor=user, fields=["email"])
    return user


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


# --- Campaign emails ----------------------------------------------------------------------------------------------

CAMPAIGN_EMAILS_EACH = "each"
CAMPAIGN_EMAILS_WEEKLY = "weekly"
CAMPAIGN_EMAILS = {
    CAMPAIGN_EMAILS_EACH: "An email for each campaign when it opens",
    CAMPAIGN_EMAILS_WEEKLY: "One email on Mondays listing the campaigns that opened the week before",
    "none": "No campaign emails",
}


def set_campaign_emails(user: User, choice: str) -> bool:
    """Change which campaign emails the account gets (coordinator/leaflets/announcements.py); True if it changed."""
    if choice not in CAMPAIGN_EMAILS:
        raise AccountError("Choose one of the campaign email options.", field="campaign_emails")
    if user.campaign_emails == choice:
        return False
    before, user.campaign_emails = user.campaign_emails, choice
    db.session.flush()
    audit.record("auth.campaign_emails_changed", user, f"campaign emails: {CAMPAIGN_EMAILS[choice].lower()}",
                 actor=user, before=before, after=choice)
    return True
