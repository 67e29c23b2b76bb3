"""Forms for logging in and managing one's own account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from coordinator.auth.services import MIN_PASSWORD_LENGTH
from coordinator.plain_text import PlainText


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email address", validators=[DataRequired(message="Enter your email address")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password")])
    remember = BooleanField("Keep me logged in on this device")


class RequestResetForm(FlaskForm):
    """Ask for a password-reset link."""

    email = EmailField(
        "Email address",
        validators=[DataRequired(message="Enter your email address"), Email(message="Enter a valid email address")],
    )


class SetPasswordForm(FlaskForm):
    """Choose a password from an invitation or reset link."""

    password = PasswordField(
        "New password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters, not a common password and not your email address. "
        "A few unrelated words make a good one.",
        validators=[
            DataRequired(message="Enter a new password"),
            Length(min=MIN_PASSWORD_LENGTH, max=200, message=f"Use at least {MIN_PASSWORD_LENGTH} characters"),
        ],
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[DataRequired(message="Type the new password again"), EqualTo("password", "The passwords differ")],
    )


class ChangePasswordForm(SetPasswordForm):
    """Change one's own password, proving the current one."""

    current_password = PasswordField("Current password", validators=[DataRequired(message="Enter your current password")])


class ProfileForm(FlaskForm):
    """One's own name and email; a new email needs the current password."""

    name = StringField("Your name", validators=[DataRequired(message="Enter your name"), Length(max=120), PlainText()])
    email = EmailField(
        "Email address",
        validators=[
            DataRequired(message="Enter your email address"),
            Email(message="Enter a valid email address"),
            Length(max=254),
        ],
    )
    current_password = PasswordField(
        "Current password",
        description="Needed only to change your email address. We send a link to the new address to confirm it.",
    )


class CampaignEmailsForm(FlaskForm):
    """Which emails about campaigns opening the account gets."""

    campaign_emails = RadioField("Campaign emails", validate_choice=False,
                                 description="When the association's campaigns open, with a link to your scheme's "
                                 "leaflet for each.")


class ConfirmEmailForm(FlaskForm):
    """The button that makes a confirmed address the account's email (following the link alone changes nothing)."""
