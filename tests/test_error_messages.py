"""No message shown to a person carries a library's own words (a Python exception's text): it says what to do."""

from __future__ import annotations

import pytest

from coordinator.content.packs import check_pack


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"not json at all {", "The file is not valid JSON: the first problem is at line 1, column 1."),
        (b'{"format": "nwc-content-pack",\n "items": [}', "The file is not valid JSON: the first problem is at line 2"),
        (b"[" * 100_000 + b"]" * 100_000, "The file is not valid JSON, or is nested too deeply to be a content pack."),
    ],
)
def test_a_pack_that_is_not_json_says_where_without_pythons_words(app, data, expected):
    problems = check_pack(data).problems
    assert problems == [expected] or problems[0].startswith(expected), problems
    assert not any(word in problems[0] for word in ("Expecting", "char ", "delimiter", "recursion"))
