"""A scheme's own rules: the contact lines it prints and its streets.

The same street checks serve the street form and the CSV import (`street_import`), so a street that
the form refuses is refused by the import with the same words. Setting a scheme up is in `setup`, who
coordinates it in `membership`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coordinator import audit
from coordinator.extensions import db
from coordinator.mailheaders import MessageError, mailbox
from coordinator.schemes.models import STREET_UNIQUE_INDEX, Scheme, Street

MAX_STREET_NAME = 120
MAX_DELIVERY_NOTES = 500
# Well above the largest street in the borough; it keeps a slipped finger from overflowing the column.
MAX_HOUSEHOLDS = 10_000
MAX_CONTACT_OTHER = 200
PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 20
# Royal Mail's shape: outward code A9, A99, AA9, AA99, A9A or AA9A; inward code a digit and two
# letters, never C, I, K, M, O or V (so "BR2 9E0" and "BR2 9EO" are caught as typos).
_POSTCODE_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][ABD-HJLNP-UW-Z]{2})")
_PHONE_RE = re.compile(r"\+?[0-9 ]+")
_WHOLE_NUMBER_RE = re.compile(r"[0-9]+")


class SchemeError(Exception):
    """A scheme rule was broken; the message is fit to show."""


class SchemeProblems(SchemeError):
    """Values that break a scheme or street rule; `errors` maps each field name to messages fit to show."""

    def __init__(self, errors: Mapping[str, list[str]]):
        super().__init__("; ".join(m for messages in errors.values() for m in messages))
        self.errors = dict(errors)


# ---------------------------------------------------------------------------------------------------------------------
# Contact lines printed on leaflets


def check_contact_email(text: str) -> str:
    """The scheme email as it will be printed ("" for none); ValueError with a message when it is not an address.

    It is also the Reply-To of every bulletin the scheme sends, so it must be an address the mail library
    writes into a header, in plain ASCII: a resident's mail server may not take any other (SMTPUTF8).
    """
    text = (text or "").strip()
    if not text:
        return ""
    try:
        # Deliverability needs DNS, which the app must not depend on (it runs offline).
        address = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"Enter an email address in the right form, like watch@example.org ({exc})") from exc
    if not address.isascii():
        raise ValueError(
            "Enter an address without accented letters or other alphabets, like watch@example.org: it is the "
            "reply address of every bulletin, and many residents' mail servers take no other"
        )
    try:
        mailbox(address, header_name="Reply-To")
    except MessageError as exc:
        raise ValueError(f"Enter an email address in the right form, like watch@example.org ({exc})") from exc
    return address


def check_contact_phone(text: str) -> str:
    """The scheme phone with its spaces tidied ("" for none); ValueError with a message when it is not a number."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    if not _PHONE_RE.fullmatch(text):
        raise ValueError("Enter a phone number using only digits and spaces, with + only at the start")
    digits = sum(c.isdigit() for c in text)
    if not PHONE_MIN_DIGITS <= digits <= PHONE_MAX_DIGITS:
        raise ValueError(f"Enter a phone number of {PHONE_MIN_DIGITS} to {PHONE_MAX_DIGITS} digits, like 020 7946 0018")
    return text


def check_contact_other(text: str) -> str:
    """The free-text contact line, stripped; ValueError with a message when it is too long."""
    text = (text or "").strip()
    if len(text) > MAX_CONTACT_OTHER:
        raise ValueError(f"Other contact details must be {MAX_CONTACT_OTHER} characters or fewer")
    return text


def update_scheme_contact(scheme: Scheme, contact_email: str, contact_phone: str, contact_other: str) -> list[str]:
    """Save the contact lines a scheme prints; returns the names of the lines that changed (audited when any did)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name, check, raw in (
        ("contact_email", check_contact_email, contact_email),
        ("contact_phone", check_contact_phone, contact_phone),
        ("contact_other", check_contact_other, contact_other),
    ):
        try:
            values[name] = check(raw)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise SchemeProblems(errors)
    changed = [name for name, value in values.items() if getattr(scheme, name) != value]
    if not changed:
        return []
    before = {name: getattr(scheme, name) for name in changed}
    for name in changed:
        setattr(scheme, name, values[name])
    db.session.flush()
    audit.record(
        "schemes.contact_changed",
        scheme,
        f"Contact lines of {scheme.name} changed: {', '.join(changed)}",
        changed=changed,
        before=before,
        after={name: values[name] for name in changed},
    )
    return changed


# ---------------------------------------------------------------------------------------------------------------------
# Streets


@dataclass(frozen=True)
class StreetTotals:
    """The figures of the totals row under a scheme's streets."""

    streets: int
    households: int
    households_no_leaflets: int
    households_for_leaflets: int


def total_streets(streets: list[Street]) -> StreetTotals:
    """Add up households, refusals and leaflets to deliver over some streets."""
    households = sum(s.households for s in streets)
    no_leaflets = sum(s.households_no_leaflets for s in streets)
    return StreetTotals(len(streets), households, no_leaflets, households - no_leaflets)


@dataclass(frozen=True)
class StreetDetails:
    """A street's values after checking: tidy, typed and within the rules."""

    name: str
    postcode: str
    households: int
    households_no_leaflets: int
    delivery_notes: str = ""


def normalise_postcode(text: str) -> str | None:
    """A UK postcode in upper case with one space ("br2 9ea" -> "BR2 9EA"); None when it is not shaped like one."""
    compact = "".join((text or "").split()).upper()
    match = _POSTCODE_RE.fullmatch(compact)
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def _whole_number(text: str, label: str, errors: list[str]) -> int | None:
    text = (text or "").strip()
    if not text:
        errors.append(f"Enter the number of {label}")
        return None
    if not _WHOLE_NUMBER_RE.fullmatch(text):
        errors.append(f"The number of {label} must be a whole number, 0 or more")
        return None
    number = int(text)
    if number > MAX_HOUSEHOLDS:
        errors.append(f"The number of {label} must be {MAX_HOUSEHOLDS:,} or fewer")
        return None
    return number


def check_street_details(
    name: str, postcode: str, households: str, no_leaflets: str, delivery_notes: str = ""
) -> tuple[StreetDetails | None, dict[str, list[str]]]:
    """Check a street's values as typed; gives the tidy details, or None and the problems keyed by field name."""
    errors: dict[str, list[str]] = {}

    def problem(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    # Runs of spaces, tabs and line breaks become one space: the name is printed on one line.
    clean_name = " ".join((name or "").split())
    if not clean_name:
        problem("name", "Enter the street name")
    elif len(clean_name) > MAX_STREET_NAME:
        problem("name", f"The street name must be {MAX_STREET_NAME} characters or fewer")
    elif any(unicodedata.category(c) == "Cc" for c in clean_name):
        problem("name", "The street name contains a control character; type it again")

    clean_postcode = normalise_postcode(postcode)
    if not (postcode or "").strip():
        problem("postcode", "Enter the postcode")
    elif clean_postcode is None:
        problem("postcode", "Enter a UK postcode, like BR2 9EA")

    households_errors: list[str] = []
    count = _whole_number(households, "households", households_errors)
    for message in households_errors:
        problem("households", message)
    no_leaflets_errors: list[str] = []
    refusals = _whole_number(no_leaflets, "households that asked for no leaflets", no_leaflets_errors)
    for message in no_leaflets_errors:
        problem("no_leaflets", message)
    if count is not None and refusals is not None and refusals > count:
        problem("no_leaflets", f"Households that asked for no leaflets cannot be more than the households ({count})")

    notes = (delivery_notes or "").strip().replace("\r\n", "\n")
    if len(notes) > MAX_DELIVERY_NOTES:
        problem("delivery_notes", f"Delivery notes must be {MAX_DELIVERY_NOTES} characters or fewer")

    if errors:
        return None, errors
    return StreetDetails(clean_name, clean_postcode, count, refusals, notes), {}


def street_key(name: str, postcode: str) -> tuple[str, str]:
    """What makes two streets one: the name in any case, and the postcode."""
    # "Hayes Lane" and "HAYES LANE" in the same postcode are one street on a delivery sheet.
    return name.casefold(), normalise_postcode(postcode) or postcode


def find_duplicate_street(scheme: Scheme, name: str, postcode: str, exclude: Street | None = None) -> Street | None:
    """Another street of this scheme with the same name (in any case) and postcode."""
    # Compared in Python: SQLite's lower() only folds ASCII, and a scheme has a few dozen streets.
    key = street_key(name, postcode)
    for street in db.session.scalars(select(Street).where(Street.scheme_id == scheme.id)):
        if street is not exclude and street_key(street.name, street.postcode) == key:
            return street
    return None


def _duplicate_problem(details: StreetDetails) -> SchemeProblems:
    return SchemeProblems(
        {"name": [f"This scheme already has {details.name} in {details.postcode}. Change that street instead."]}
    )


def write_streets(scheme: Scheme, write: Callable[[], None]) -> bool:
    """Make the change in a savepoint and write it; False when a twin that someone added a moment ago stopped it.

    The change itself happens inside the savepoint: beginning one writes whatever is pending first, outside it.
    """
    try:
        with db.session.begin_nested():
            write()
            db.session.flush()
    except IntegrityError as exc:
        if STREET_UNIQUE_INDEX not in str(exc.orig):
            raise
        # The failed streets must not come back with the next flush through the scheme's list of streets.
        db.session.expire(scheme, ["streets"])
        return False
    return True


def new_street(details: StreetDetails) -> Street:
    """A street made of checked details, not yet in any scheme."""
    return Street(
        name=details.name,
        postcode=details.postcode,
        households=details.households,
        households_no_leaflets=details.households_no_leaflets,
        delivery_notes=details.delivery_notes,
    )


def add_street(scheme: Scheme, details: StreetDetails) -> Street:
    """Add a checked street to a scheme; SchemeProblems when the scheme already has it."""
    if find_duplicate_street(scheme, details.name, details.postcode):
        raise _duplicate_problem(details)
    street = new_street(details)

    def write() -> None:
        street.scheme = scheme  # this puts the street in the session
        db.session.add(street)

    if not write_streets(scheme, write):
        raise _duplicate_problem(details)
    audit.record(
        "streets.created",
        street,
        f"Street {street.name} ({street.postcode}) added to {scheme.name}",
        scheme_id=scheme.id,
        households=street.households,
        no_leaflets=street.households_no_leaflets,
    )
    return street


_STREET_FIELDS = ("name", "postcode", "households", "households_no_leaflets", "delivery_notes")


def update_street(street: Street, details: StreetDetails) -> list[str]:
    """Change a street to the checked details; returns the fields that changed (audited when any did)."""
    if find_duplicate_street(street.scheme, details.name, details.postcode, exclude=street):
        raise _duplicate_problem(details)
    changed = [attr for attr in _STREET_FIELDS if getattr(street, attr) != getattr(details, attr)]
    if not changed:
        return []
    before = {attr: getattr(street, attr) for attr in changed}

    def write() -> None:
        for attr in changed:
            setattr(street, attr, getattr(details, attr))

    if not write_streets(street.scheme, write):
        raise _duplicate_problem(details)
    audit.record(
        "streets.changed",
        street,
        f"Street {street.name} ({street.postcode}) of {street.scheme.name} changed: {', '.join(changed)}",
        scheme_id=street.scheme_id,
        changed=changed,
        before=before,
        after={attr: getattr(street, attr) for attr in changed},
    )
    return changed


def delete_street(street: Street) -> None:
    """Remove a street from its scheme, keeping what it was in the audit log."""
    audit.record(
        "streets.deleted",
        street,
        f"Street {street.name} ({street.postcode}) removed from {street.scheme.name}",
        scheme_id=street.scheme_id,
        name=street.name,
        postcode=street.postcode,
        households=street.households,
        no_leaflets=street.households_no_leaflets,
    )
    db.session.delete(street)
    db.session.flush()
