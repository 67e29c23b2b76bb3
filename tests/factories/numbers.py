"""One counter for the people, schemes and streets factories, so every name and email they make is new."""

from __future__ import annotations

import itertools

_numbers = itertools.count(1)


def next_number() -> int:
    """The next number of the run: 1, 2, 3 ..."""
    return next(_numbers)
