"""Forms for the admin pages: filters (GET, no CSRF) and actions (POST, with CSRF)."""

from __future__ import annotations

import re

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, Form, RadioField, SelectField, StringField
from wtforms.fields import DateField, SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from coordinator.admin.services import AccountStatus, AdminError, UserFilter, check_person_name
from coordinator.audit.services import AuditFilter
from coordinator.auth.models import Role
from coordinator.schemes.models import CoordinatorRole


def options(*pairs: tuple[object, str]) -> list[SelectChoice]:
    """Select or radio options from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


SCHEME_ROLE_CHOICES = options(
    (CoordinatorRole.MAIN.value, "Main coordinator"),
    (CoordinatorRole.DEPUTY.value, "Deputy coordinator"),
)
ACCOUNT_ROLE_CHOICES = options((Role.COORDINATOR.value, "Coordinator"), (Role.ADMIN.value, "Admin"))
POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


def _person_name(form, field) -> None:
    try:
        check_person_name(field.data or "")
    except AdminError as exc:
        raise ValidationError(str(exc)) from exc


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


# --- Filters (read with GET: nothing changes, so no CSRF token) ---------------------------------


class UserFilterForm(Form):
    """Search and narrow the coordinators list."""

    q = StringField("Name or email contains", filters=[_strip], validators=[Optional(), Length(max=100)])
    role = SelectField("Role", choices=options(("", "Any role")) + ACCOUNT_ROLE_CHOICES, default="")
    status = SelectField(
        "Status",
        default="",
        choices=options(
            ("", "Any status"),
            (AccountStatus.ACTIVE.value, "Active"),
            (AccountStatus.INVITED.value, "Invited, no password yet"),
            (AccountStatus.DEACTIVATED.value, "Deactivated"),
        ),
    )
    scheme = SelectField("Scheme", coerce=int, default=0)

    def __init__(self, formdata, scheme_choices: list[tuple[int, str]]) -> None:
        super().__init__(formdata)
        self.scheme.choices = options((0, "Any scheme"), *scheme_choices)

    def _valid(self, name: str):
        field = self[name]
        return None if field.errors else field.data

    def to_filter(self) -> UserFilter:
        """The filter these fields describe; a field with an error narrows nothing."""
        return UserFilter(
            search=self._valid("q") or "",
            role=self._valid("role") or "",
            status=self._valid("status") or "",
            scheme_id=self._valid("scheme") or None,
        )

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links."""
        return {name: str(self._valid(name)) for name in ("q", "role", "status", "scheme") if self._valid(name)}


class SchemeFilterForm(Form):
    """Search the schemes list."""

    q = StringField("Name or ward contains", filters=[_strip], validators=[Optional(), Length(max=100)])


class AuditFilterForm(Form):
    """Narrow the audit log."""

    actor = StringField("Person (email or label contains)", filters=[_strip], validators=[Optional(), Length(max=254)])
    action = SelectField("Action", default="")
    object_type = SelectField("Kind of object", default="")
    object_id = StringField("Object number", filters=[_strip], validators=[Optional(), Length(max=64)])
    date_from = DateField("From (date)", validators=[Optional()], description="For example 2026-11-24")
    date_to = DateField("To (date, included)", validators=[Optional()], description="For example 2026-11-30")

    def __init__(self, formdata, actions: list[str], object_types: list[str]) -> None:
        super().__init__(formdata)
        groups = sorted({a.split(".", 1)[0] + "." for a in actions if "." in a})
        self.action.choices = options(
            ("", "Any action"), *((g, f"{g}* (every {g[:-1]} action)") for g in groups), *((a, a) for a in actions)
        )
        self.object_type.choices = options(("", "Any kind"), *((t, t) for t in object_types))

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")

    def _valid(self, name: str):
        field = self[name]
        return None if field.errors else field.data

    def to_filter(self) -> AuditFilter:
        """The filter these fields describe; a field with an error narrows nothing."""
        return AuditFilter(
            actor=self._valid("actor") or "",
            action=self._valid("action") or "",
            object_type=self._valid("object_type") or "",
            object_id=self._valid("object_id") or "",
            date_from=self._valid("date_from"),
            date_to=self._valid("date_to"),
        )

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links and the CSV export."""
        names = ("actor", "action", "object_type", "object_id", "date_from", "date_to")
        return {name: str(self._valid(name)) for name in names if self._valid(name)}


# --- Actions (POST, with CSRF) -------------------------------------------------------------------


class InviteForm(FlaskForm):
    """Invite one coordinator by email, optionally into a scheme."""

    email = EmailField(
        "Email address",
        filters=[_strip],
        validators=[
            DataRequired(message="Enter the coordinator's email address"),
            Email(message="Enter a valid email address, like name@example.org"),
            Length(max=254),
        ],
    )
    name = StringField(
        "Name",
        description="As the coordinator would like it shown to other coordinators and admins.",
        filters=[_strip],
        validators=[DataRequired(message="Enter the coordinator's name"), _person_name],
    )
    scheme = SelectField("Scheme (optional)", coerce=int, default=0)
    scheme_role = RadioField("Place in the scheme", choices=SCHEME_ROLE_CHOICES, default=CoordinatorRole.MAIN.value)

    def __init__(self, *args, scheme_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme.choices = options((0, "No scheme yet"), *scheme_choices)


class RoleForm(FlaskForm):
    """Make an account a coordinator or an admin."""

    role = RadioField("Role", choices=ACCOUNT_ROLE_CHOICES, validators=[DataRequired(message="Choose a role")])


class MembershipForm(FlaskForm):
    """Put an account into a scheme as main coordinator or deputy."""

    scheme = SelectField("Scheme", coerce=int, validators=[DataRequired(message="Choose a scheme")])
    scheme_role = RadioField(
        "Place in the scheme",
        choices=SCHEME_ROLE_CHOICES,
        default=CoordinatorRole.MAIN.value,
        validators=[DataRequired(message="Choose main or deputy")],
    )

    def __init__(self, *args, scheme_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme.choices = options((0, "Choose a scheme"), *scheme_choices)


class SchemeForm(FlaskForm):
    """A scheme's name, ward and postcode district."""

    name = StringField(
        "Scheme name",
        filters=[_strip],
        validators=[DataRequired(message="Enter the scheme's name"), Length(max=120)],
    )
    ward = StringField("Ward or area", filters=[_strip], validators=[Optional(), Length(max=120)])
    postcode_district = StringField(
        "Postcode district",
        description="The first half of the postcode, for example BR2.",
        filters=[_strip, lambda v: v.upper() if isinstance(v, str) else v],
        validators=[Optional(), Length(max=8)],
    )

    def validate_postcode_district(self, field) -> None:
        if field.data and not POSTCODE_DISTRICT.match(field.data):
            raise ValidationError("Enter a postcode district like BR2 or SE9")


class SchemeCoordinatorForm(FlaskForm):
    """Add an existing account to this scheme by email."""

    email = EmailField(
        "Coordinator's email address",
        filters=[_strip],
        validators=[DataRequired(message="Enter the coordinator's email address"), Length(max=254)],
    )
    scheme_role = RadioField(
        "Place in the scheme",
        choices=SCHEME_ROLE_CHOICES,
        default=CoordinatorRole.MAIN.value,
        validators=[DataRequired(message="Choose main or deputy")],
    )


class ImportForm(FlaskForm):
    """Upload a coordinators CSV."""

    file = FileField(
        "CSV file",
        description="A .csv file saved as 'CSV UTF-8', with the header email,name,scheme,role.",
        validators=[
            FileRequired(message="Choose a CSV file to upload"),
            FileAllowed(["csv"], message="The file must be a CSV file ending in .csv"),
        ],
        render_kw={"accept": ".csv,text/csv"},
    )
    send_invitations = BooleanField(
        "Email each new coordinator an invitation to choose a password",
        description="Untick this to create the accounts now and send each invitation later from the person's page.",
        default=True,
    )

    def validate_file(self, field) -> None:
        limit = current_app.config["CSV_MAX_BYTES"]
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > limit:
            raise ValidationError(
                f"The file is {size // 1024:,} KB; the largest file this import takes is {limit // 1024:,} KB"
            )
        if size == 0:
            raise ValidationError("The file is empty")
