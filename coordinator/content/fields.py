"""The fields of each kind of content, checked and tidied the same way for the forms and for content packs.

Each `clean_*` function takes loose input (form data or a pack's JSON) and returns the values to
store, or raises `FieldErrors` with one message per field; every message names its field, so a
pack report or a form can show it as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from coordinator.content.phones import PhoneNumberError, parse_helpline_number
from coordinator.content.sanitise import markdown_problems

TITLE_MAX = 120
SUMMARY_MAX = 200
BODY_MAX = 20_000
KEY_MESSAGES_MAX = 6
KEY_MESSAGE_MAX = 120
CALL_TO_ACTION_MAX = 200
HASHTAG_MAX = 60
WEB_ADDRESS_MAX = 300
AUDIENCE_TAGS_MAX = 10
AUDIENCE_TAG_MAX = 40
OPENING_HOURS_MAX = 200
WHO_FOR_MAX = 300
NOTICE_BODY_MAX = 600
SET_SIZE_MAX = 12
REVIEW_INTERVAL_CHOICES = range(1, 25)
DEFAULT_REVIEW_INTERVAL_MONTHS = 6
DEFAULT_LANGUAGE = "en-GB"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HASHTAG_RE = re.compile(r"^#[A-Za-z0-9_]+$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
# A web address as printed: "www.met.police.uk", "galop.org.uk", or with http(s):// and a path.
WEB_ADDRESS_RE = re.compile(
    r"^(?:https?://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}(?::\d{2,5})?(?:/[^\s<>\"'`\\]*)?$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class FieldErrors(ValueError):
    """One message per field that is wrong."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class _Checker:
    data: dict
    errors: dict

    def text(self, name: str, label: str, max_length: int, required: bool = False, multiline: bool = False) -> str:
        value = self.data.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = f"{label} must be text."
            return ""
        value = value.replace("\r\n", "\n").strip()
        if not multiline:
            value = " ".join(value.split())
        if _CONTROL.search(value):
            self.errors[name] = f"{label} contains control characters; type it again as plain text."
        elif required and not value:
            self.errors[name] = f"Enter the {label.lower()}."
        elif len(value) > max_length:
            self.errors[name] = f"{label} must be {max_length:,} characters or fewer (it has {len(value):,})."
        return value

    def lines(self, name: str, label: str, max_items: int, max_length: int, separator: str = "\n") -> list[str]:
        value = self.data.get(name)
        if value is None:
            value = []
        if isinstance(value, str):
            value = value.split(separator)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[name] = f"{label} must be a list of short lines of text."
            return []
        items = [" ".join(v.split()) for v in value]
        items = [v for v in items if v]
        if any(_CONTROL.search(v) for v in items):
            self.errors[name] = f"{label} contain control characters; type them again as plain text."
        elif len(items) > max_items:
            self.errors[name] = f"{label}: give at most {max_items} (there are {len(items)})."
        else:
            too_long = [v for v in items if len(v) > max_length]
            if too_long:
                self.errors[name] = (
                    f"{label}: each must be {max_length} characters or fewer; "
                    f"'{too_long[0][:40]}…' has {len(too_long[0])}."
                )
        return items

    def day(self, name: str, label: str) -> date | None:
        value = self.data.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.errors[name] = f"{label} must be a date written as YYYY-MM-DD."
        return None

    def month_day(self, name: str, label: str) -> str | None:
        """A day of every year, typed "4 February", "4 Feb" or "02-04", kept as "MM-DD"."""
        value = self.data.get(name)
        if value in (None, ""):
            return None
        if isinstance(value, str):
            found = parse_month_day(value)
            if found is not None:
                return found
        self.errors[name] = f"{label} must be a day and a month, such as 4 February."
        return None

    def flag(self, name: str, label: str, default: bool | None = False) -> bool | None:
        value = self.data.get(name, default)
        if value is None or isinstance(value, bool):
            return value
        self.errors[name] = f"{label} must be true or false."
        return default

    def web_address(self, name: str, label: str) -> str:
        value = self.text(name, label, WEB_ADDRESS_MAX)
        if value and name not in self.errors and not WEB_ADDRESS_RE.match(value):
            self.errors[name] = (
                f"{label} must be a web address such as www.met.police.uk or https://www.example.org/page."
            )
        return value


MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
# Days in each month of a leap year: a yearly window may name 29 February (it ends on the 28th in other years).
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_month_day(text: str) -> str | None:
    """ "4 February", "4 feb", "February 4" or "02-04" as "02-04"; None when it is not a day of the year."""
    text = " ".join(text.strip().lower().replace(",", " ").split())
    numeric = re.fullmatch(r"(\d{2})-(\d{2})", text)  # "MM-DD", as packs write it
    if numeric:
        month, day = int(numeric.group(1)), int(numeric.group(2))
    else:
        words = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)|([a-z]+) (\d{1,2})(?:st|nd|rd|th)?", text)
        if not words:
            return None
        day_text, name = (words.group(1), words.group(2)) if words.group(1) else (words.group(4), words.group(3))
        month = next((i for i, m in enumerate(MONTHS, 1) if len(name) >= 3 and m.startswith(name)), 0)
        day = int(day_text)
    if not 1 <= month <= 12 or not 1 <= day <= MONTH_DAYS[month - 1]:
        return None
    return f"{month:02d}-{day:02d}"


def month_day_words(value: str | None) -> str:
    """ "02-04" as "4 February" (empty for none)."""
    if not value:
        return ""
    month, day = (int(part) for part in value.split("-"))
    return f"{day} {MONTHS[month - 1].title()}"


def web_href(address: str) -> str:
    """The link target for a printed web address: "www.met.police.uk" -> "https://www.met.police.uk"."""
    if not address:
        return ""
    return address if re.match(r"^https?://", address, re.IGNORECASE) else f"https://{address}"


def check_slug(value: object, field: str = "Slug") -> str:
    """A slug as used in content packs: lower-case letters, digits and single hyphens."""
    if not isinstance(value, str) or not SLUG_RE.match(value) or len(value) > 120:
        raise FieldErrors({"slug": f"{field} must be lower-case letters, digits and hyphens, like 'its-not-ok'."})
    return value


def clean_campaign(data: dict) -> dict:
    """A campaign's fields, checked: title, summary, Markdown body, key messages, window, tags."""
    check = _Checker(data, {})
    cleaned = {
        "title": check.text("title", "Title", TITLE_MAX, required=True),
        "summary": check.text("summary", "Summary", SUMMARY_MAX, required=True),
        "body": check.text("body", "Body", BODY_MAX, multiline=True),
        "key_messages": check.lines("key_messages", "Key messages", KEY_MESSAGES_MAX, KEY_MESSAGE_MAX),
        "call_to_action": check.text("call_to_action", "Call to action", CALL_TO_ACTION_MAX),
        "hashtag": check.text("hashtag", "Hashtag", HASHTAG_MAX),
        "web_address": check.web_address("web_address", "Web address"),
        "first_day": check.day("first_day", "First day"),
        "last_day": check.day("last_day", "Last day"),
        "every_year_from": check.month_day("every_year_from", "Every year from"),
        "every_year_until": check.month_day("every_year_until", "Every year until"),
        "recommended_set_item_id": _optional_id(data.get("recommended_set_item_id"), check, "recommended_set_item_id",
                                                "Recommended helpline set"),
        "language": check.text("language", "Language", 20) or DEFAULT_LANGUAGE,
        "audience_tags": check.lines("audience_tags", "Audience tags", AUDIENCE_TAGS_MAX, AUDIENCE_TAG_MAX, ","),
        "is_sensitive": check.flag("is_sensitive", "Sensitive"),
    }
    if "body" not in check.errors:
        problems = markdown_problems(cleaned["body"])
        if problems:
            check.errors["body"] = "Body: " + " ".join(problems)
    if cleaned["hashtag"] and "hashtag" not in check.errors and not HASHTAG_RE.match(cleaned["hashtag"]):
        check.errors["hashtag"] = "Hashtag must start with # and have only letters, digits or _ after it, like #ITSNOTOK."
    if "language" not in check.errors and not LANGUAGE_RE.match(cleaned["language"]):
        check.errors["language"] = "Language must be a language tag such as en-GB or cy-GB."
    first, last = cleaned["first_day"], cleaned["last_day"]
    if first and last and last < first and "last_day" not in check.errors:
        check.errors["last_day"] = "Last day must be on or after the first day."
    yearly = (cleaned["every_year_from"], cleaned["every_year_until"])
    if (yearly[0] is None) != (yearly[1] is None) and not {"every_year_from", "every_year_until"} & set(check.errors):
        missing = "every_year_until" if yearly[1] is None else "every_year_from"
        check.errors[missing] = ("A yearly window needs both days, such as 1 February to 14 February; leave both "
                                 "empty for none.")
    if check.errors:
        raise FieldErrors(check.errors)
    return cleaned


def _optional_id(value: object, check: _Checker, name: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    check.errors[name] = f"{label}: choose one of the approved helpline sets, or none."
    return None


def clean_helpline(data: dict) -> dict:
    """A helpline's fields, checked; the number is parsed and stored once, free-to-call worked out if not given."""
    check = _Checker(data, {})
    cleaned = {
        "title": check.text("title", "Name", TITLE_MAX, required=True),
        "opening_hours": check.text("opening_hours", "Opening hours", OPENING_HOURS_MAX),
        "is_24_7": check.flag("is_24_7", "Open 24 hours, 7 days"),
        "who_for": check.text("who_for", "Who it is for", WHO_FOR_MAX),
        "web_address": check.web_address("web_address", "Web address"),
    }
    free = check.flag("is_free_to_call", "Free to call", default=None)
    number_text = data.get("number")
    if not isinstance(number_text, str):
        check.errors["number"] = "Number must be text, such as 0808 802 4040."
    else:
        try:
            number = parse_helpline_number(number_text, field="Number")
        except PhoneNumberError as exc:
            check.errors["number"] = str(exc)
        else:
            cleaned["phone_number"] = number.number
            cleaned["phone_number_shown"] = number.shown
            cleaned["is_free_to_call"] = number.is_free_to_call if free is None else free
    interval = data.get("review_interval_months", DEFAULT_REVIEW_INTERVAL_MONTHS)
    if interval in (None, ""):
        interval = DEFAULT_REVIEW_INTERVAL_MONTHS
    if isinstance(interval, str) and interval.strip().isdigit():
        interval = int(interval)
    if isinstance(interval, bool) or not isinstance(interval, int) or interval not in REVIEW_INTERVAL_CHOICES:
        check.errors["review_interval_months"] = "Review interval must be a whole number of months from 1 to 24."
    else:
        cleaned["review_interval_months"] = interval
    if check.errors:
        raise FieldErrors(check.errors)
    return cleaned


def clean_helpline_set(data: dict) -> dict:
    """A helpline set's title and its helplines (already looked up by the caller), in order, each once."""
    check = _Checker(data, {})
    cleaned = {
        "title": check.text("title", "Title", TITLE_MAX, required=True),
        "is_sensitive": check.flag("is_sensitive", "Sensitive"),
    }
    helplines = data.get("helplines") or []
    if not helplines:
        check.errors["helplines"] = "Choose at least one helpline for the set."
    elif len(helplines) > SET_SIZE_MAX:
        check.errors["helplines"] = f"A helpline set holds at most {SET_SIZE_MAX} helplines."
    elif len({id(h) for h in helplines}) != len(helplines):
        check.errors["helplines"] = "Helplines: each helpline can be in the set only once."
    cleaned["helplines"] = list(helplines)
    if check.errors:
        raise FieldErrors(check.errors)
    return cleaned


def clean_local_notice(data: dict) -> dict:
    """A local notice: a heading and up to 600 characters of plain text."""
    check = _Checker(data, {})
    cleaned = {
        "title": check.text("title", "Heading", TITLE_MAX, required=True),
        "body": check.text("body", "Notice", NOTICE_BODY_MAX, required=True, multiline=True),
    }
    if check.errors:
        raise FieldErrors(check.errors)
    return cleaned
