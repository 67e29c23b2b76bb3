"""Finding a scheme from what a person typed: a name in any case or a slug on the command line, a slug in a link."""

from __future__ import annotations

from coordinator.schemes.lookup import find_scheme_by_name, find_scheme_by_slug


def test_find_scheme_by_name_for_the_command_line(two_schemes):
    assert find_scheme_by_name("hayes lane WATCH") == two_schemes.scheme_a
    assert find_scheme_by_name("  Hayes   Lane Watch ") == two_schemes.scheme_a
    assert find_scheme_by_name(two_schemes.scheme_b.slug) == two_schemes.scheme_b
    assert find_scheme_by_name("Nowhere Watch") is None


def test_find_scheme_by_slug_for_the_sign_up_page(two_schemes):
    assert find_scheme_by_slug(two_schemes.scheme_b.slug) == two_schemes.scheme_b
    assert find_scheme_by_slug("Secret Close Watch") is None
