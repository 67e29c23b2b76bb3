"""Fixtures: an app on a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), a client, a runner.

`make test` runs the suite twice: on SQLite, then on PostgreSQL. Each run creates the schema once
and empties every table after each test.
"""

from __future__ import annotations

import contextvars
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from config import TestConfig
from coordinator import create_app
from coordinator.extensions import db, limiter

# One schema per test run, so runs side by side (two checkouts, a developer and CI) never collide.
TEST_SCHEMA = f"nwc_tests_{os.getpid()}"


def _postgres_url(base: str, schema: str) -> str:
    url = base
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def postgres_base_url() -> str | None:
    """The PostgreSQL server the suite runs against, or None for the SQLite run."""
    return os.environ.get("TEST_DATABASE_URL") or None


def make_schema(base: str, schema: str) -> str:
    """(Re)create an empty PostgreSQL schema and return a URL whose search_path is that schema."""
    engine = create_engine(_postgres_url(base, "public"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return _postgres_url(base, schema)


def drop_schema(base: str, schema: str) -> None:
    """Remove a test schema and everything in it."""
    engine = create_engine(_postgres_url(base, "public"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    base = postgres_base_url()
    if base:
        yield make_schema(base, TEST_SCHEMA)
        drop_schema(base, TEST_SCHEMA)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory) -> str:
    app = _build_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return database_url


def rate_limit_storage(url: str) -> str:
    """The Redis database of this test process's rate limits: the next one down for each parallel worker.

    Each test empties the limiter's keys; two workers sharing a database would empty each other's.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("redis://") or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - int(worker[2:])}"


def _build_app(database_url: str, instance: Path) -> Flask:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        INSTANCE_DIR = instance
        MAIL_OUTBOX_DIR = instance / "outbox"
        RATELIMIT_STORAGE_URI = rate_limit_storage(TestConfig.RATELIMIT_STORAGE_URI)

    return create_app(Config)


class IsolatedClient(FlaskClient):
    """A test client whose requests run like real ones: their own app context, `g` and database session.

    The test's own session is committed before each request (so the request sees the test's data) and
    again after it (so the test reads what the request wrote, not a stale snapshot).
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect being followed, already inside the request's own context
            return super().open(*args, **kwargs)
        db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            db.session.commit()


@pytest.fixture
def app(_schema, tmp_path) -> Iterator[Flask]:
    app = _build_app(_schema, tmp_path / "instance")
    app.test_client_class = IsolatedClient
    limiter.reset()
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_form(client: FlaskClient, url: str, data: dict | None = None, page: str | None = None, **kwargs):
    """POST like a browser: fetch the page holding the form, take its CSRF token, send the form."""
    html = client.get(page or url).get_data(as_text=True)
    payload = dict(data or {})
    payload["csrf_token"] = csrf_from(html)
    return client.post(url, data=payload, **kwargs)


def login_as(client: FlaskClient, user, password: str = "correct horse battery") -> None:
    """Log in through the real login form."""
    response = post_form(client, "/account/login", {"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def outbox_messages(app: Flask):
    """Every .eml written to the outbox folder, parsed, oldest first."""
    import email
    from email import policy

    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]
