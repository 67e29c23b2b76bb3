"""Forms for a scheme's contact lines and its streets.

The rules live in `coordinator.schemes.services`; these forms only label the fields and hand what
was typed to the same checks the CSV import uses, so both say the same thing about a bad value.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField, ValidationError

from coordinator.csvfiles import looks_like_formula
from coordinator.forms import CsvUploadMixin, ProblemsMixin, checked_by, csv_file_field
from coordinator.plain_text import PlainText, field_name
from coordinator.schemes import services as schemes
from coordinator.schemes.models import Street


def _not_a_formula(form, field) -> None:
    # The same refusal as the streets CSV import: a street's name and notes go out again in CSV files.
    if looks_like_formula(field.data or ""):
        raise ValidationError(
            f"{field_name(field)} starts with {(field.data or '').lstrip()[0]!r}, which a spreadsheet would run as a "
            "formula; remove that character"
        )


class SchemeContactForm(ProblemsMixin, FlaskForm):
    """The contact lines a scheme prints on its leaflets and bulletins."""

    contact_email = EmailField(
        "Scheme email address (optional)",
        description="Printed on leaflets and bulletins. A shared scheme address is better than a personal one.",
        validators=[checked_by(schemes.check_contact_email)],
    )
    contact_phone = StringField(
        "Scheme phone number (optional)",
        description="Digits and spaces, with + only at the start. For example, 020 7946 0018.",
        validators=[checked_by(schemes.check_contact_phone)],
        render_kw={"inputmode": "tel", "maxlength": 40},
    )
    contact_other = StringField(
        "Other contact details (optional)",
        description=(
            "Printed on leaflets, so never put a home address here unless you mean every household to see it. "
            f"Up to {schemes.MAX_CONTACT_OTHER} characters."
        ),
        validators=[checked_by(schemes.check_contact_other), PlainText()],
    )


class StreetForm(ProblemsMixin, FlaskForm):
    """One street: its name, postcode, households and delivery notes."""

    name = StringField(
        "Street name",
        validators=[PlainText(), _not_a_formula],
        render_kw={"maxlength": schemes.MAX_STREET_NAME, "autocomplete": "off"},
    )
    postcode = StringField(
        "Postcode",
        description="For example, BR2 9EA. Use the postcode of most of the houses you deliver to.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 10},
    )
    households = StringField(
        "Households",
        description="How many letterboxes on this street (or the part of it your scheme covers).",
        render_kw={"inputmode": "numeric"},
    )
    no_leaflets = StringField(
        "Households that asked for no leaflets",
        description="Leave as 0 if nobody has asked. It cannot be more than the households.",
        render_kw={"inputmode": "numeric"},
    )
    delivery_notes = TextAreaField(
        "Delivery notes (optional)",
        description=f"Printed on the street's delivery sheets, for whoever delivers: for example, 'flats 1-12: "
        f"letterboxes in the lobby' or 'no leaflets at 12 and 14'. No residents' names. "
        f"Up to {schemes.MAX_DELIVERY_NOTES} characters.",
        validators=[PlainText(), _not_a_formula],
        render_kw={"rows": 3},
    )

    details: schemes.StreetDetails | None = None

    @classmethod
    def for_street(cls, street: Street) -> StreetForm:
        """The form filled in with a street's current values (what was posted wins on a POST)."""
        return cls(
            data={
                "name": street.name,
                "postcode": street.postcode,
                "households": str(street.households),
                "no_leaflets": str(street.households_no_leaflets),
                "delivery_notes": street.delivery_notes,
            }
        )

    def validate(self, extra_validators=None) -> bool:
        """The CSRF check, then the street rules shared with the CSV import; sets `details` when all is well."""
        is_valid = super().validate(extra_validators)
        self.details, errors = schemes.check_street_details(
            self.name.data or "",
            self.postcode.data or "",
            self.households.data or "",
            self.no_leaflets.data or "",
            self.delivery_notes.data or "",
        )
        self.add_problems(errors)
        return is_valid and not errors


class StreetImportForm(CsvUploadMixin, ProblemsMixin, FlaskForm):
    """A CSV file of streets to add to one scheme."""

    file = csv_file_field(
        "CSV file of streets",
        "A .csv file saved from your spreadsheet as 'CSV UTF-8', with the header line shown above.",
    )


class DeleteStreetForm(FlaskForm):
    """The confirmation button for removing a street: nothing but the CSRF token."""
