"""Every content test runs inside the app, on the real database."""

import pytest


@pytest.fixture(autouse=True)
def _in_app(app):
    yield app
