"""What every form shares: the problems a service found beside their fields, CSV uploads, filters and periods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from flask import current_app
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms.validators import ValidationError


class ProblemsMixin:
    """Puts a service's problems (field name -> message or messages) beside their fields, or above the form."""

    # Service field names that a form shows under another name.
    problem_fields: ClassVar[Mapping[str, str]] = {}

    def add_problems(self, problems: Mapping[str, str | Sequence[str]]) -> None:
        """Show each message beside its field (or in the summary above the form when no field has that name)."""
        for name, found in problems.items():
            messages = [found] if isinstance(found, str) else list(found)
            target = self._fields.get(self.problem_fields.get(name, name))
            if target is None or name == "csrf_token":
                self.form_errors.extend(messages)
            elif isinstance(target.errors, list | tuple):
                target.errors = [*target.errors, *messages]
            else:
                # A form within the form keeps its subfields' errors in a dict: the message takes their place.
                target.errors = messages


def csv_file_field(label: str, description: str) -> FileField:
    """A required CSV upload, refused by its name when it is plainly not one (a spreadsheet's .xlsx, say)."""
    return FileField(
        label,
        description=description,
        validators=[
            FileRequired("Choose a CSV file to upload"),
            FileAllowed(["csv", "txt"], "The file must be a CSV file (ending .csv or .txt). "
                        "In your spreadsheet choose Save As, then 'CSV UTF-8'."),
        ],
        render_kw={"accept": ".csv,.txt,text/csv"},
    )


class CsvUploadMixin:
    """Refuses an empty `file`, or one larger than CSV_MAX_BYTES, before anything reads it."""

    def validate_file(self, field) -> None:
        limit = current_app.config["CSV_MAX_BYTES"]
        stream = field.data.stream
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(0)
        if size > limit:
            raise ValidationError(f"The file is {size // 1024:,} KB; the most this import takes is {limit // 1024:,} KB")
        if size == 0:
            raise ValidationError("The file is empty")


class FilterMixin:
    """A list's filter form: a field with an error narrows nothing."""

    def _valid(self, name: str):
        field = self[name]
        return None if field.errors else field.data


class PeriodMixin:
    """A `date_from` / `date_to` pair whose end may not come before its start."""

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date must be the same as or after the 'from' date")


def checked_by(check):
    """A form validator from a service's check: the check's ValueError becomes the field's message."""

    def validator(form, field):
        try:
            check(field.data or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc

    return validator
