"""The one way the app writes a mail header: text as a person reads it in, exactly those characters out.

Every message is read back with the email package's parser (policy.default), as a mail program would.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest

from coordinator.mailheaders import (
    MessageError,
    check_header_text,
    encode_text,
    header_lines,
    header_text_problem,
    mailbox,
    phrase,
)

NAMES = [
    "Bickley, Sundridge and Plaistow Watch",
    "J. R. Smith",
    "Smith, J. R.",
    "Ash <second@evil.example>",
    'Robin "Bob" Ash',
    "back\\slash",
    "Zoë Łukasz",
    "Zoë, second@evil.example",
    "Łukasz, <second@evil.example>",
    "王小明",
    "مهرنوش\u200cزاده",
    "Siobhán O'Brien-Ní Fhloinn, St. Mary's Close",
    "=?utf-8?q?a=2C_b_=3Csecond=40evil.example=3E?=",
    "=?utf-8?q?Robin=0D=0ABcc:_victim@evil.example?=",
    "Hayes =?utf-8?b?4oCu?= Lane",
    "x =? y ?= z",
    "Bickley, Sundridge and Plaistow Watch via Bromley Neighbourhood Watch Association, Zoë's long name",
]
SUBJECTS = [
    "Doorstep scams: what to do",
    "=?utf-8?q?Hello=0D=0AReply-To:_x@evil.example=0D=0A=0D=0Abody?=",
    "=?utf-8?q?Call_=E2=80=AE0404_208_8080?=",
    "Zoë's list, the 3rd. <Read it>",
    "Scams " * 24 + "end",
    "Łukasz " * 20 + "end",
    "Our family \U0001f468\u200d\U0001f469\u200d\U0001f467 thanks you",
]


def read_back(*headers: tuple[str, str]):
    data = header_lines(headers) + b"\r\nbody\r\n"
    return data, BytesParser(policy=policy.default).parsebytes(data)


@pytest.mark.parametrize("name", NAMES)
def test_a_display_name_reads_back_exactly_and_stays_one_mailbox(name):
    data, message = read_back(("From", mailbox("watch@example.org", name, "From")),
                              ("To", mailbox("robin@example.net", name)))
    assert list(message.keys()) == ["From", "To"] and not message.defects
    for header, address in (("From", "watch@example.org"), ("To", "robin@example.net")):
        assert len(message[header].addresses) == 1
        assert (message[header].addresses[0].display_name, message[header].addresses[0].addr_spec) == (name, address)
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert data.isascii()


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_subject_reads_back_exactly_on_lines_a_mail_server_takes(subject):
    data, message = read_back(("Subject", encode_text(subject)), ("X-Next", "still a header"))
    assert message["Subject"] == subject
    assert message["X-Next"] == "still a header" and list(message.keys()) == ["Subject", "X-Next"]
    assert all(len(line) <= 78 for line in data.split(b"\r\n"))


def test_a_phrase_in_front_of_a_list_id_is_left_plain_when_it_can_be():
    assert phrase("Hayes Lane Watch bulletins", "List-Id") == "Hayes Lane Watch bulletins"
    assert phrase("Bickley, Sundridge and Plaistow Watch bulletins") == '"Bickley, Sundridge and Plaistow Watch bulletins"'


def test_a_stored_name_with_line_breaks_and_overrides_becomes_one_line_without_them():
    _, message = read_back(("To", mailbox("robin@example.net", "Robin\r\nBcc: victim@example.net\u202e")))
    assert [(a.display_name, a.addr_spec) for a in message["To"].addresses] == [
        ("Robin Bcc: victim@example.net", "robin@example.net")
    ]


@pytest.mark.parametrize("address", ["robin@", "@example.net", "robin@example.net, eve@example.net",
                                     "Robin <robin@example.net>", "robin@example.net\r\nBcc: eve@example.net",
                                     "rob in@example.net", "robin@exa@mple.net", "robin.@example.net", ""])
def test_an_address_no_mail_server_would_take_is_refused(address):
    with pytest.raises(MessageError):
        mailbox(address, "Robin")


@pytest.mark.parametrize("value", ["one\r\nBcc: eve@example.net", "one\nBcc: eve@example.net", "one\rtwo",
                                   "one\r\nnot folded"])
def test_a_value_that_would_end_its_line_early_is_never_written(value):
    with pytest.raises(MessageError):
        header_lines([("Subject", value)])


@pytest.mark.parametrize("text", [
    "Hello\r\nBcc: eve@example.net", "Hello\nthere", "Tab\there", "Line\u2028separator", "Para\u2029graph",
    "Call \u202a0404", "Call \u202b0404", "Call \u202c0404", "Call \u202d0404", "Call \u202e0404",
    "Call \u20660404", "Call \u20670404", "Call \u20680404", "Call \u20690404", "zero\u200bwidth", "\ufeffBOM",
])
def test_line_breaks_and_invisible_characters_are_refused_where_typed(text):
    problem = header_text_problem(text, "The subject")
    assert problem.startswith("The subject must be one line, without line breaks, invisible characters")
    with pytest.raises(ValueError, match="must be one line"):
        check_header_text(text, "The subject")


@pytest.mark.parametrize(("text", "hides"), [
    ("=?utf-8?q?Hello=0D=0AReply-To:_x@evil.example?=", True),
    ("=?UTF-8?B?SGVsbG8NCkJjYzogeEBldmlsLmV4YW1wbGU=?=", True),
    ("Call =?utf-8?q?=E2=80=AE0404?=", True),
    ("=?utf-8?q?Doorstep_scams?=", False),
    ("Meeting =?iso-8859-1?q?caf=E9?= tonight", False),
])
def test_mail_code_is_refused_where_typed_and_its_decoded_form_checked_too(text, hides):
    problem = header_text_problem(text, "The subject")
    assert problem.startswith("The subject contains mail code like =?utf-8?q?...?=")
    assert ("hides a line break or an invisible character" in problem) is hides
    assert "Type the words themselves" in problem


@pytest.mark.parametrize("text", ["Doorstep scams: what to do", "Zoë Łukasz, 王", "Is it = or ? or ?= or =?", "",
                                  "مهرنوش\u200cزاده", "Family \U0001f468\u200d\U0001f469\u200d\U0001f467"])
def test_ordinary_text_is_accepted_as_typed(text):
    assert check_header_text(text, "The subject") == text
