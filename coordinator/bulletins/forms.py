"""Forms for residents' sign-up and for the coordinator's subscriber pages.

The rules live in `coordinator.bulletins.services`; these forms label the fields and hand what was
typed to the same checks the CSV import uses.
"""

from __future__ import annotations

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, Form, SelectField, StringField, ValidationError
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional

from coordinator.bulletins import services as subscribers
from coordinator.schemes.forms import ProblemsMixin
from coordinator.schemes.models import Scheme


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _checked_by(check):
    def validator(form, field):
        try:
            check(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return validator


def _ticked(form, field) -> None:
    if not field.data:
        raise ValidationError("Tick the box to say you agree, or we cannot send you bulletins")


class SignupForm(ProblemsMixin, FlaskForm):
    """A resident asks for a scheme's bulletins: address, optional name and street, and their consent."""

    email = EmailField(
        "Email address",
        filters=[_strip],
        description="We will send a link to this address. Nothing else is sent until you follow it.",
        validators=[_checked_by(subscribers.check_subscriber_email)],
        render_kw={"spellcheck": "false", "maxlength": subscribers.MAX_EMAIL},
    )
    name = StringField(
        "Your name (optional)",
        description="So your coordinators know who you are. It is never shown to other residents.",
        validators=[_checked_by(subscribers.check_subscriber_name)],
        render_kw={"maxlength": subscribers.MAX_NAME},
    )
    street = SelectField(
        "Your street (optional)",
        description="Some bulletins are only about a few streets. Choose yours to get those too.",
        validate_choice=False,
    )
    consent = BooleanField(
        "",
        description="We keep these words, and when you agreed to them, for as long as you are on the list.",
        validators=[_ticked],
    )

    @classmethod
    def for_scheme(cls, scheme: Scheme) -> SignupForm:
        """The form with this scheme's streets to choose from and its consent wording beside the box."""
        form = cls()
        form.street.choices = [
            SelectChoice(value=value, label=label)
            for value, label in [("", "My street is not listed"), *subscribers.street_choices(scheme)]
        ]
        form.consent.label.text = subscribers.consent_wording(scheme)
        return form


class ConfirmSubscriptionForm(FlaskForm):
    """The button that confirms a subscription: nothing but the CSRF token."""


class SubscriberFilterForm(Form):
    """Narrow a scheme's subscriber list (read with GET: nothing changes, so no CSRF token)."""

    status = SelectField(
        "Status",
        default="",
        choices=[
            SelectChoice(value=value, label=label)
            for value, label in (
                ("", "Any status"),
                ("confirmed", "Confirmed"),
                ("pending", "Waiting for confirmation"),
                ("unsubscribed", "Unsubscribed"),
                ("bouncing", "Bouncing"),
                ("erased", "Erased"),
            )
        ],
    )
    q = StringField("Email or name contains", filters=[_strip], validators=[Optional(), Length(max=100)])

    def _valid(self, name: str) -> str:
        field = self[name]
        return "" if field.errors else (field.data or "")

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links."""
        return {name: self._valid(name) for name in ("status", "q") if self._valid(name)}


class SubscriberImportForm(ProblemsMixin, FlaskForm):
    """A CSV file of a scheme's existing members."""

    file = FileField(
        "CSV file of members",
        description="A .csv file saved from your spreadsheet as 'CSV UTF-8', with the header line shown above.",
        validators=[
            FileRequired("Choose a CSV file to upload"),
            FileAllowed(["csv", "txt"], "The file must be a CSV file (ending .csv or .txt). "
                        "In your spreadsheet choose Save As, then 'CSV UTF-8'."),
        ],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )

    def validate_file(self, field) -> None:
        limit = current_app.config["CSV_MAX_BYTES"]
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > limit:
            raise ValidationError(
                f"The file is {size // 1024:,} KB; the most this import takes is {limit // 1024:,} KB"
            )


class EraseSubscriberForm(FlaskForm):
    """The confirmation button for erasing a subscriber: nothing but the CSRF token."""


class ExportSubscriberForm(FlaskForm):
    """The button that downloads a subscriber's data: nothing but the CSRF token."""
