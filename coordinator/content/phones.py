"""UK helpline numbers: parsed and checked with `phonenumbers`, stored once, shown in UK grouping.

A number is stored in E.164 ("+448088024040"), or as its digits for a short code ("101"), and
printed the way UK helplines publish it. The standard grouping comes from `phonenumbers`
("0808 8024040" -> "0808 802 4040"). Some helplines publish a different but equally tidy
grouping of the same digits ("0808 2000 247"); when the number is typed in blocks of at most
four digits after the same dialling code, that grouping is kept, so the printed number matches
what the helpline itself prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberFormat, shortnumberinfo

from coordinator.wording import N_

REGION = "GB"
UK_COUNTRY_CODE = 44
# Freephone ranges: calls to 0800 and 0808 numbers cost the caller nothing from UK landlines and mobiles.
FREEPHONE_PREFIXES = ("800", "808")
# Leaflets print these in their police block and the campaign pages give them in words: never in a helpline list.
POLICE_NUMBERS = frozenset({"999", "101", "112"})
# 101 is not free: 15p a call from landlines and mobiles, however long it lasts. Never print "free" beside it.
# One constant for every leaflet and bulletin; the msgid is the catalogues' own, so changing it means retranslating.
POLICE_NON_EMERGENCY_COST = N_("15p a call")

_ALLOWED_CHARACTERS = re.compile(r"^[0-9 +()\-.]+$")
_TIDY_GROUPING = re.compile(r"^\d+( \d+)*$")


class PhoneNumberError(ValueError):
    """The text is not a usable UK helpline number; the message names the field and says why."""


@dataclass(frozen=True)
class HelplineNumber:
    """A checked helpline number."""

    number: str  # E.164, or the digits of a short code
    shown: str  # as printed: "0808 802 4040", "101"
    is_short_code: bool
    is_free_to_call: bool


def parse_helpline_number(text: str, field: str = "Number") -> HelplineNumber:
    """Check a typed UK number or short code; PhoneNumberError names `field` and says what is wrong."""
    typed = " ".join((text or "").split())
    if not typed:
        raise PhoneNumberError(f"{field}: enter the helpline's phone number.")
    if not _ALLOWED_CHARACTERS.match(typed):
        raise PhoneNumberError(
            f"{field}: use digits only (spaces are fine), not letters or other signs – for example 0808 802 4040."
        )
    digits = re.sub(r"\D", "", typed)
    if not typed.startswith("+") and not digits.startswith("0") and len(digits) <= 6:
        return _short_code(typed, digits, field)
    try:
        parsed = phonenumbers.parse(typed, REGION)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(f"{field}: '{typed}' is not a complete UK phone number.") from exc
    if parsed.country_code != UK_COUNTRY_CODE:
        raise PhoneNumberError(f"{field}: '{typed}' is not a UK number. Helplines here must be UK numbers.")
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberError(
            f"{field}: '{typed}' is not a complete UK phone number. Check the digits – for example 0808 802 4040."
        )
    standard = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    national = phonenumbers.national_significant_number(parsed)
    return HelplineNumber(
        number=phonenumbers.format_number(parsed, PhoneNumberFormat.E164),
        shown=_kept_grouping(typed, standard) or standard,
        is_short_code=False,
        is_free_to_call=national.startswith(FREEPHONE_PREFIXES),
    )


def _short_code(typed: str, digits: str, field: str) -> HelplineNumber:
    try:
        parsed = phonenumbers.parse(digits, REGION)
        is_valid = shortnumberinfo.is_valid_short_number_for_region(parsed, REGION)
    except phonenumbers.NumberParseException:
        is_valid = False
    if not is_valid:
        raise PhoneNumberError(
            f"{field}: '{typed}' is not a UK short code or a complete phone number. Short codes such as 101 "
            "and 999 are fine; other numbers start with 0, for example 0808 802 4040."
        )
    # Emergency calls and the 116 helplines (116 123 and the like) are free by law.
    is_free = shortnumberinfo.is_emergency_number(digits, REGION) or digits.startswith("116")
    shown = typed if _TIDY_GROUPING.match(typed) and all(len(g) <= 3 for g in typed.split(" ")) else digits
    return HelplineNumber(number=digits, shown=shown, is_short_code=True, is_free_to_call=is_free)


def _kept_grouping(typed: str, standard: str) -> str | None:
    """The typed grouping, if it is the same digits in tidy blocks after the same dialling code."""
    if not _TIDY_GROUPING.match(typed):
        return None
    groups = typed.split(" ")
    if len(groups) < 2 or groups[0] != standard.split(" ")[0] or any(len(g) > 4 for g in groups[1:]):
        return None
    if typed.replace(" ", "") != standard.replace(" ", ""):
        return None
    return typed


def tel_href(number: str) -> str:
    """A tel: link target for a stored number."""
    return f"tel:{number}"


def is_police_number(number: str) -> bool:
    """999, 101 or 112, however it is written."""
    return re.sub(r"\D", "", number) in POLICE_NUMBERS
