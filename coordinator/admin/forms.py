"""Forms for the admin pages: filters (GET, no CSRF) and actions (POST, with CSRF)."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    Form,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField, SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import Select, TextInput, html_params

from coordinator.admin.services import AccountStatus, AdminError, UserFilter, check_person_name
from coordinator.audit.services import AuditFilter
from coordinator.auth.models import Role
from coordinator.content.images import LOGO_MAX_SIDE, MAX_IMAGE_BYTES
from coordinator.forms import CsvUploadMixin, FilterMixin, PeriodMixin, csv_file_field
from coordinator.plain_text import PlainText
from coordinator.schemes.models import CoordinatorRole
from coordinator.settings import DEFAULT_BRAND_COLOUR, LIMITS, SettingsChange, SettingsError


def options(*pairs: tuple[object, str]) -> list[SelectChoice]:
    """Select or radio options from (value, label) pairs."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


SCHEME_ROLE_CHOICES = options(
    (CoordinatorRole.MAIN.value, "Main coordinator"),
    (CoordinatorRole.DEPUTY.value, "Deputy coordinator"),
)
ACCOUNT_ROLE_CHOICES = options((Role.COORDINATOR.value, "Coordinator"), (Role.ADMIN.value, "Admin"))
POSTCODE_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")


class LongSelect(Select):
    """WTForms' select box, built in one pass: the scheme lists run to 600 options each.

    The stock widget makes an object per option and formats each through `html_params` and `Markup.format`
    (about 50 microseconds an option): the coordinators page's four scheme lists cost it 30 ms, and the
    garbage they left set off the collector's slow full passes. Same HTML; the scheme lists stay plain
    (id, name) pairs, shared by every list on the page.
    """

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in dir(flags):
            if name in self.validation_attrs and name not in kwargs:
                kwargs[name] = getattr(flags, name)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        data, coerce = field.data, field.coerce
        for choice in field.choices:
            value, label = (choice.value, choice.label) if isinstance(choice, SelectChoice) else choice
            selected = " selected" if coerce(value) == data else ""
            html.append(
                f'<option{selected} value="{escape(value)}">{escape(value if label is None else label)}</option>'
            )
        html.append("</select>")
        return Markup("".join(html))


def scheme_select(label: str, **kwargs) -> SelectField:
    """A select box of schemes by id (its choices are set when the form is made)."""
    return SelectField(label, coerce=int, widget=LongSelect(), **kwargs)


def _person_name(form, field) -> None:
    try:
        check_person_name(field.data or "")
    except AdminError as exc:
        raise ValidationError(str(exc)) from exc


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


# --- Filters (read with GET: nothing changes, so no CSRF token) ---------------------------------


class UserFilterForm(FilterMixin, Form):
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
    scheme = scheme_select("Scheme", default=0)
    ward = SelectField("Ward or area of their schemes", default="")

    def __init__(self, formdata, scheme_choices: list[tuple[int, str]], ward_choices: list[str] = ()) -> None:
        super().__init__(formdata)
        self.scheme.choices = [(0, "Any scheme"), *scheme_choices]
        self.ward.choices = options(("", "Any ward"), *((ward, ward) for ward in ward_choices))

    def to_filter(self) -> UserFilter:
        """The filter these fields describe; a field with an error narrows nothing."""
        return UserFilter(
            search=self._valid("q") or "",
            role=self._valid("role") or "",
            status=self._valid("status") or "",
            scheme_id=self._valid("scheme") or None,
            ward=self._valid("ward") or "",
        )

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links."""
        names = ("q", "role", "status", "scheme", "ward")
        return {name: str(self._valid(name)) for name in names if self._valid(name)}


class SchemeFilterForm(Form):
    """Search the schemes list."""

    q = StringField("Name or ward contains", filters=[_strip], validators=[Optional(), Length(max=100)])


class AuditFilterForm(PeriodMixin, FilterMixin, Form):
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
        validators=[DataRequired(message="Enter the coordinator's name"), _person_name, PlainText()],
    )
    scheme = scheme_select("Scheme (optional)", default=0)
    scheme_role = RadioField("Place in the scheme", choices=SCHEME_ROLE_CHOICES, default=CoordinatorRole.MAIN.value)

    def __init__(self, *args, scheme_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme.choices = [(0, "No scheme yet"), *scheme_choices]


class RoleForm(FlaskForm):
    """Make an account a coordinator or an admin."""

    role = RadioField("Role", choices=ACCOUNT_ROLE_CHOICES, validators=[DataRequired(message="Choose a role")])


class MembershipForm(FlaskForm):
    """Put an account into a scheme as main coordinator or deputy."""

    scheme = scheme_select("Scheme", validators=[DataRequired(message="Choose a scheme")])
    scheme_role = RadioField(
        "Place in the scheme",
        choices=SCHEME_ROLE_CHOICES,
        default=CoordinatorRole.MAIN.value,
        validators=[DataRequired(message="Choose main or deputy")],
    )

    def __init__(self, *args, scheme_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scheme.choices = [(0, "Choose a scheme"), *scheme_choices]


class SchemeForm(FlaskForm):
    """A scheme's name, ward and postcode district."""

    name = StringField(
        "Scheme name",
        filters=[_strip],
        validators=[DataRequired(message="Enter the scheme's name"), Length(max=120), PlainText()],
    )
    ward = StringField("Ward or area", filters=[_strip], validators=[Optional(), Length(max=120), PlainText()])
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


class ImportForm(CsvUploadMixin, FlaskForm):
    """Upload a coordinators CSV."""

    file = csv_file_field("CSV file", "A .csv file saved as 'CSV UTF-8', with the header email,name,scheme,role.")
    send_invitations = BooleanField(
        "Email each new coordinator an invitation to choose a password",
        description="Untick this to create the accounts now and send each invitation later from the person's page.",
        default=True,
    )


# --- Bulk actions on the coordinators list -------------------------------------------------------

ID_MAX = 2**31 - 1  # the largest id the database's integer column holds


class IdListField(Field):
    """Every value of a repeated field (ticked boxes, the ids on the page) as ids; the template renders it."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, default=list, **kwargs)
        self.has_bad_values = False

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        for value in valuelist:
            try:
                number = int(value)
            except ValueError:
                number = 0
            if 1 <= number <= ID_MAX:
                self.data.append(number)
            else:
                self.has_bad_values = True


BULK_ACTIONS = ("resend", "deactivate", "reactivate", "role", "add", "move")
KEEP_PLACE = "keep"


class BulkForm(FlaskForm):
    """Act at once on the accounts ticked on one page of the coordinators list."""

    ids = IdListField("People ticked")
    # The ids shown on the page the admin ticked from, sent back as hidden fields.
    visible = IdListField("People on the page")
    bulk_action = StringField("What to do")
    new_role = SelectField("New role", default="", choices=[*options(("", "Choose a role")), *ACCOUNT_ROLE_CHOICES])
    add_scheme = scheme_select("Scheme", default=0)
    add_place = RadioField("Place in the scheme", choices=SCHEME_ROLE_CHOICES, default=CoordinatorRole.MAIN.value)
    move_from = scheme_select("From the scheme", default=0)
    move_to = scheme_select("To the scheme", default=0)
    move_place = RadioField(
        "Place in the new scheme",
        choices=[*options((KEEP_PLACE, "The same place they had")), *SCHEME_ROLE_CHOICES],
        default=KEEP_PLACE,
    )

    def __init__(self, *args, scheme_choices: list[tuple[int, str]] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.add_scheme.choices = [(0, "Choose a scheme"), *scheme_choices]
        self.move_from.choices = [(0, "Choose the scheme they leave"), *scheme_choices]
        self.move_to.choices = [(0, "Choose the scheme they join"), *scheme_choices]

    def offer_move_from(self, schemes: list[tuple[int, str]]) -> None:
        """Offer only these schemes (those of the people on the page) as the one they leave."""
        self.move_from.choices = [(0, "Choose the scheme they leave"), *schemes]

    def _doing(self, action: str) -> bool:
        return self.bulk_action.data == action

    def validate_bulk_action(self, field) -> None:
        if field.data not in BULK_ACTIONS:
            raise ValidationError("Choose what to do with the people ticked")

    def validate_ids(self, field) -> None:
        if field.has_bad_values:
            raise ValidationError("The people ticked were not sent correctly. Nothing was changed: tick them again")
        if not field.data:
            raise ValidationError("Tick at least one person in the list")

    def validate_new_role(self, field) -> None:
        if self._doing("role") and not field.data:
            raise ValidationError("Choose the new role")

    def validate_add_scheme(self, field) -> None:
        if self._doing("add") and not field.data:
            raise ValidationError("Choose the scheme to add them to")

    def validate_move_from(self, field) -> None:
        if self._doing("move") and not field.data:
            raise ValidationError("Choose the scheme they leave")

    def validate_move_to(self, field) -> None:
        if self._doing("move") and not field.data:
            raise ValidationError("Choose the scheme they join")
        if self._doing("move") and field.data and field.data == self.move_from.data:
            raise ValidationError("Choose a different scheme from the one they leave")

    @property
    def move_role(self) -> CoordinatorRole | None:
        """The place chosen in the new scheme, or None to keep the place each person had."""
        return None if self.move_place.data == KEEP_PLACE else CoordinatorRole(self.move_place.data)


# --- Settings ------------------------------------------------------------------------------------


def _whole_number(label: str, name: str, hint: str, noun: str, example: int) -> IntegerField:
    # The range comes from the settings' own limits, so the hint and the check never disagree.
    low, high, _message = LIMITS[name]
    return IntegerField(
        label,
        description=f"{hint} A whole number from {low} to {high}.",
        widget=TextInput(),
        render_kw={"inputmode": "numeric", "spellcheck": "false"},
        validators=[InputRequired(message=f"Enter {noun}, like {example}")],
        invalid_value_message=f"Enter {noun} as a whole number from {low} to {high}, like {example}",
    )


class SettingsForm(FlaskForm):
    """Every association setting an admin may change."""

    association_name = StringField(
        "Association name",
        description="As it should appear on leaflets and bulletins.",
        filters=[_strip],
        validators=[DataRequired(message="Enter the association's name"), Length(max=160), PlainText()],
    )
    footer_text = TextAreaField(
        "Footer text",
        description="A line or two printed at the foot of leaflets and bulletins.",
        filters=[_strip],
        validators=[Optional(), Length(max=1000), PlainText()],
    )
    sender_address = EmailField(
        "Sender address",
        description="The email address the association's emails come from, such as watch@example.org.",
        filters=[_strip],
        validators=[Optional(), Length(max=254)],
    )
    spare_copies_percent = _whole_number(
        "Spare copies (%)",
        "spare_copies_percent",
        "Printed on top of the households' copies, for replacements and doors missed.",
        "the percentage of spare copies",
        5,
    )
    helpline_review_months = _whole_number(
        "Helpline review interval (months)",
        "helpline_review_months",
        "How often a new helpline's number must be checked again.",
        "the review interval in months",
        6,
    )
    helpline_grace_days = _whole_number(
        "Helpline grace period (days)",
        "helpline_grace_days",
        "How long after its review falls due a helpline is still printed and sent.",
        "the grace period in days",
        30,
    )
    is_four_eyes_required = BooleanField(
        "Four-eyes rule: an admin's own content needs another admin's approval",
        description="While another active admin exists, nobody approves what they submitted themselves.",
    )
    is_bulletin_approval_required = BooleanField(
        "Bulletins need an admin's approval before they are sent",
    )
    messages_per_second = _whole_number(
        "Messages per second",
        "messages_per_second",
        "How fast bulletins are handed to the mail server; lower it if the mail provider complains.",
        "the messages per second",
        20,
    )
    brand_colour = StringField(
        "Brand colour",
        description=f"A hex colour code, like {DEFAULT_BRAND_COLOUR} (the toolkit's dark blue). Headings and bars in "
        "this colour carry white text, so it must be dark enough for white text to be read on it.",
        filters=[_strip],
        render_kw={"spellcheck": "false", "autocapitalize": "none"},
        validators=[DataRequired(message=f"Enter the brand colour, like {DEFAULT_BRAND_COLOUR}")],
    )
    logo_upload = FileField(
        "Logo",
        description=f"Optional. A PNG or JPEG file up to {MAX_IMAGE_BYTES // (1024 * 1024)} MB, shown at the top of "
        f"bulletins and leaflets. It is kept as a PNG of at most {LOGO_MAX_SIDE} pixels a side, and details such as "
        "the camera and place are removed.",
    )
    remove_logo = BooleanField("Remove the current logo")

    def to_change(self) -> SettingsChange:
        """The change these fields ask for, for `update_settings`."""
        return SettingsChange(
            association_name=self.association_name.data or "",
            footer_text=self.footer_text.data or "",
            sender_address=self.sender_address.data or "",
            spare_copies_percent=self.spare_copies_percent.data,
            helpline_review_months=self.helpline_review_months.data,
            helpline_grace_days=self.helpline_grace_days.data,
            is_four_eyes_required=bool(self.is_four_eyes_required.data),
            is_bulletin_approval_required=bool(self.is_bulletin_approval_required.data),
            messages_per_second=self.messages_per_second.data,
            brand_colour=self.brand_colour.data or "",
            logo_upload=self._logo_bytes(),
            remove_logo=bool(self.remove_logo.data),
        )

    def _logo_bytes(self) -> bytes | None:
        # No file chosen is no change; a file chosen but empty is sent on, to be refused by name.
        upload = self.logo_upload.data
        if not upload:
            return None
        # A large upload waits in a temporary file: close it once read rather than leave it to the garbage collector.
        with upload.stream:
            return upload.read()

    def show_settings_error(self, error: SettingsError) -> None:
        """Put a refusal from `update_settings` beside the field it is about, or in the summary at the top."""
        message = str(error)
        name = error.field or next((name for name, (_low, _high, text) in LIMITS.items() if text == message), None)
        if name is None and message.startswith("The sender address"):
            name = "sender_address"
        elif name is None and "association's name" in message:
            name = "association_name"
        if name is None:
            self.form_errors.append(message)
        else:
            self[name].errors = [*self[name].errors, message]

    def changed_labels(self, names: list[str]) -> list[str]:
        """Short names of these settings, for the message after saving."""
        return [SETTING_SHORT_NAMES[name] if name in SETTING_SHORT_NAMES else self[name].label.text for name in names]


# The tick boxes' labels are whole sentences; the message after saving names them briefly.
SETTING_SHORT_NAMES = {
    "is_four_eyes_required": "Four-eyes rule",
    "is_bulletin_approval_required": "Bulletin approval",
    "logo": "Logo",
}
