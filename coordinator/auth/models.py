"""Accounts: coordinators and admins."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Enum, ForeignKey, Index, String, false, func, true
from sqlalchemy.orm import Mapped, mapped_column

from coordinator.db import TimestampMixin, UTCDateTime, utcnow
from coordinator.extensions import db


class Role(enum.StrEnum):
    """What an account may do: coordinators run schemes, admins run the association."""

    COORDINATOR = "coordinator"
    ADMIN = "admin"


def new_session_token() -> str:
    """A random token that ties sessions to one generation of the account's credentials."""
    return secrets.token_urlsafe(16)


class User(UserMixin, TimestampMixin, db.Model):
    """A person who logs in: a coordinator or an admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(
        Enum(Role, name="user_role", native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        default=Role.COORDINATOR,
    )
    is_active_account: Mapped[bool] = mapped_column(default=True, server_default=true())
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Rotated when the password changes or the account is deactivated: every other session and
    # remember-me cookie carries the old value and stops working at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a campaign opens: an email for each one ("each"), one a week listing them ("weekly"), or none ("none").
    campaign_emails: Mapped[str] = mapped_column(String(10), default="each", server_default="each")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    # The login session (one browser's login) this object was loaded for or is logging in with; not a column.
    login_session = None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def get_login_id(self) -> str:
        """What the session and remember-me cookies keep: the account, its credentials' generation and this login."""
        login = self.login_session.token if self.login_session is not None else ""
        return f"{self.get_id()}:{login}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


# One account per email whatever its case: "Pat@Example.org" and "pat@example.org" are the same person.
Index("uq_users_email_lower", func.lower(User.email), unique=True)


def new_login_token() -> str:
    """A random token that names one login session (one browser's login) in its cookies."""
    return secrets.token_urlsafe(32)


class LoginSession(db.Model):
    """One login on one browser: logging out deletes it, so a copied cookie or remember-me cookie stops working.

    Rows also end with the account's other sessions (password changed, deactivated, role changed) and are
    deleted once older than the absolute lifetime (SESSION_ABSOLUTE_HOURS) when another login begins.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_login_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def new_kept_form_token() -> str:
    return secrets.token_urlsafe(32)


class KeptForm(db.Model):
    """A form refused because its session had ended, kept for its account to send again after logging in.

    The session holds only the token; rows are deleted when sent, thrown away or two days old.
    """

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_kept_form_token)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(500))
    fields: Mapped[list] = mapped_column(JSON)  # [[name, value], ...] in the form's order
    # A file chosen for the form cannot be kept: the person is asked to choose it again.
    had_files: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
