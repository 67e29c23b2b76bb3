"""Checks on content fields: phone numbers, the Markdown sanitiser, campaign and notice limits."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from coordinator.content.fields import FieldErrors, clean_campaign, clean_helpline, clean_local_notice, web_href
from coordinator.content.phones import PhoneNumberError, parse_helpline_number
from coordinator.content.sanitise import markdown_problems, render_markdown, sanitise_html
from tests.factories import campaign_fields

# Every number in the seed facts, as typed in the facts file and as it must be printed.
SEED_NUMBERS = {
    "0808 2000 247": ("+448082000247", "0808 2000 247", True),
    "0808 802 4040": ("+448088024040", "0808 802 4040", True),
    "0808 8024040": ("+448088024040", "0808 802 4040", True),  # as the Respect source prints it
    "0808 801 0327": ("+448088010327", "0808 801 0327", True),
    "0800 5999 247": ("+448005999247", "0800 5999 247", True),
    "0808 808 8141": ("+448088088141", "0808 808 8141", True),
    "0800 999 5428": ("+448009995428", "0800 999 5428", True),
    "0800 1111": ("+448001111", "0800 1111", True),
    "0808 802 9999": ("+448088029999", "0808 802 9999", True),
    "0808 168 9111": ("+448081689111", "0808 168 9111", True),
    "101": ("101", "101", False),
    "999": ("999", "999", True),
}


@pytest.mark.parametrize("typed", sorted(SEED_NUMBERS))
def test_every_seed_number_is_stored_once_and_printed_as_in_the_facts(typed):
    number = parse_helpline_number(typed)
    assert (number.number, number.shown, number.is_free_to_call) == SEED_NUMBERS[typed]


def test_the_same_number_typed_differently_is_stored_the_same():
    forms = ["0808 8024040", "08088024040", "+44 808 802 4040", "(0808) 802-4040"]
    assert {parse_helpline_number(f).number for f in forms} == {"+448088024040"}
    assert parse_helpline_number("08088024040").shown == "0808 802 4040"


def test_short_codes_are_valid():
    assert parse_helpline_number("111").number == "111"
    assert parse_helpline_number("999").is_short_code


def test_ordinary_numbers_are_not_free():
    number = parse_helpline_number("020 7946 0018")
    assert number.shown == "020 7946 0018" and not number.is_free_to_call


@pytest.mark.parametrize(
    "typed, why",
    [
        ("0808 2000 24", "not a complete UK phone number"),
        ("+44 7", "not a complete UK phone number"),
        ("0808 FLOWERS", "digits only"),
        ("call us", "digits only"),
        ("12345", "not a UK short code"),
        ("1", "not a UK short code"),
        ("+1 202 555 0143", "not a UK number"),
        ("", "enter the helpline's phone number"),
        ("0808 802 4040; DROP TABLE", "digits only"),
    ],
)
def test_bad_numbers_are_refused_with_a_message_naming_the_field(typed, why):
    with pytest.raises(PhoneNumberError) as caught:
        parse_helpline_number(typed, field="Number")
    assert str(caught.value).startswith("Number:")
    assert why in str(caught.value)


def test_helpline_form_errors_name_the_field():
    with pytest.raises(FieldErrors) as caught:
        clean_helpline({"title": "Line", "number": "0808 2000 24"})
    assert set(caught.value.errors) == {"number"}
    assert caught.value.errors["number"].startswith("Number:")


def test_free_to_call_is_derived_but_can_be_set():
    assert clean_helpline({"title": "A", "number": "0800 1111"})["is_free_to_call"] is True
    assert clean_helpline({"title": "A", "number": "020 7946 0018"})["is_free_to_call"] is False
    assert clean_helpline({"title": "A", "number": "0800 1111", "is_free_to_call": False})["is_free_to_call"] is False


def test_review_interval_defaults_to_six_months_and_is_checked():
    assert clean_helpline({"title": "A", "number": "101"})["review_interval_months"] == 6
    with pytest.raises(FieldErrors, match="Review interval"):
        clean_helpline({"title": "A", "number": "101", "review_interval_months": 0})


# --- Markdown -----------------------------------------------------------------------------------

HOSTILE_HTML = [
    "<script>alert(1)</script>",
    '<iframe src="https://evil.example"></iframe>',
    '<a href="javascript:alert(1)">x</a>',
    '<p style="color:red">styled</p>',
    '<p onclick="alert(1)">clicky</p>',
    '<img src=x onerror=alert(1)>',
]


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_sanitiser_strips_scripts_frames_script_links_styles_and_event_attributes(html):
    cleaned = sanitise_html(html).lower()
    for bad in ("<script", "alert(1)</", "<iframe", "javascript:", "style=", "onclick", "onerror", "<img"):
        assert bad not in cleaned


def test_sanitiser_keeps_the_allowed_subset():
    source = "# Heading\n\nSome **bold** and *soft* words.\n\n- one\n- two\n\n1. first\n\n[Met](https://www.met.police.uk)"
    html = str(render_markdown(source))
    assert "<h2>Heading</h2>" in html
    assert "<strong>bold</strong>" in html and "<em>soft</em>" in html
    assert "<ul>" in html and "<ol>" in html and "<li>one</li>" in html
    assert '<a href="https://www.met.police.uk" rel="noopener noreferrer">Met</a>' in html


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def real_tags(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("source", HOSTILE_HTML + ["[click](javascript:alert(1))", "[x](data:text/html,hi)",
                                                   "[ok](https://example.org) <b onmouseover=x>b</b>"])
def test_markdown_never_renders_hostile_html_or_links(source):
    for tag, attrs in real_tags(str(render_markdown(source))):
        assert tag in {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a"}
        assert set(attrs) <= ({"href", "rel"} if tag == "a" else set())
        if tag == "a":
            assert attrs["href"].startswith(("https:", "http:", "mailto:"))
            assert attrs["rel"] == "noopener noreferrer"


@pytest.mark.parametrize("source", HOSTILE_HTML + ["[click](javascript:alert(1))", "[r]: vbscript:x"])
def test_campaign_body_with_html_or_script_links_is_refused(source):
    assert markdown_problems(source)
    with pytest.raises(FieldErrors) as caught:
        clean_campaign(campaign_fields(body=source))
    assert caught.value.errors["body"].startswith("Body:")


def test_plain_markdown_and_autolinks_are_fine():
    assert markdown_problems("a < b, see <https://www.met.police.uk> or <help@example.org>") == []


# --- Campaign fields ----------------------------------------------------------------------------


def test_campaign_limits():
    with pytest.raises(FieldErrors) as caught:
        clean_campaign(campaign_fields(
            title="", summary="x" * 201, key_messages=["ok"] * 7, hashtag="no hash", web_address="javascript:alert(1)",
            first_day="2026-12-10", last_day="2026-12-01", language="english",
        ))
    assert set(caught.value.errors) == {"title", "summary", "key_messages", "hashtag", "web_address", "last_day",
                                        "language"}
    assert "200 characters or fewer" in caught.value.errors["summary"]


def test_key_messages_are_short_lines():
    cleaned = clean_campaign(campaign_fields(key_messages="  Lock up \n\n Tell someone  \n"))
    assert cleaned["key_messages"] == ["Lock up", "Tell someone"]
    with pytest.raises(FieldErrors, match="120 characters"):
        clean_campaign(campaign_fields(key_messages=["x" * 121]))


def test_campaign_defaults_and_tags():
    cleaned = clean_campaign(campaign_fields(audience_tags="residents, young people,", first_day="2026-02-04"))
    assert cleaned["language"] == "en-GB"
    assert cleaned["audience_tags"] == ["residents", "young people"]
    assert cleaned["first_day"].isoformat() == "2026-02-04" and cleaned["last_day"] is None


def test_web_addresses_as_printed_and_as_links():
    for address in ("www.met.police.uk", "galop.org.uk", "https://www.gov.uk/government/publications/x-y"):
        assert clean_campaign(campaign_fields(web_address=address))["web_address"] == address
    assert web_href("www.met.police.uk") == "https://www.met.police.uk"
    assert web_href("http://example.org") == "http://example.org"


def test_hostile_text_is_kept_literally_for_the_page_to_escape():
    cleaned = clean_campaign(campaign_fields(title="{{ 7*7 }} \"><img src=x onerror=alert(1)>"))
    assert cleaned["title"] == "{{ 7*7 }} \"><img src=x onerror=alert(1)>"


def test_local_notice_is_short_plain_text():
    assert clean_local_notice({"title": "Meeting", "body": "Tuesday\n7pm"})["body"] == "Tuesday\n7pm"
    with pytest.raises(FieldErrors, match="600 characters or fewer"):
        clean_local_notice({"title": "Meeting", "body": "x" * 601})
    with pytest.raises(FieldErrors, match="Enter the heading"):
        clean_local_notice({"title": " ", "body": "x"})


def test_wrong_types_from_a_pack_are_refused_not_crashed_on():
    with pytest.raises(FieldErrors) as caught:
        clean_campaign({"title": 7, "summary": ["x"], "key_messages": "fine", "first_day": 20260101})
    assert {"title", "summary", "first_day"} <= set(caught.value.errors)
    with pytest.raises(FieldErrors) as caught:
        clean_helpline({"title": "A", "number": 8088024040, "is_24_7": "yes"})
    assert {"number", "is_24_7"} <= set(caught.value.errors)


def test_body_headings_fit_the_page_they_sit_in():
    body = "## Section\n\n### Part\n\n#### Detail"
    assert [t for t in ("<h2>Section", "<h3>Part", "<h4>Detail") if t in str(render_markdown(body))] == [
        "<h2>Section", "<h3>Part", "<h4>Detail"]
    nested = str(render_markdown(body, top_heading=3))
    assert "<h3>Section" in nested and "<h4>Part" in nested and "<h4>Detail" in nested
    assert "<h2>Top" in str(render_markdown("# Top"))
