"""What every form shares: the problems a service found, shown beside the fields they are about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar


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
