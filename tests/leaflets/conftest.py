"""Every leaflet test runs inside the app, on the real database, with a cache folder of its own."""

import pytest


@pytest.fixture(autouse=True)
def _in_app(app):
    yield app
