"""Fixtures: an app on a real database (SQLite file, or PostgreSQL with TEST_DATABASE_URL), a client, a runner.

`make test` runs the suite twice: on SQLite, then on PostgreSQL. Each run creates the schema once
and empties every table after each test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from config import TestConfig
from coordinator import create_app
from coordinator.extensions import db, limiter
from tests.helpers.databases import drop_schema, make_schema, postgres_base_url, rate_limit_storage
from tests.helpers.web import IsolatedClient

# One schema per test run, so runs side by side (two checkouts, a developer and CI) never collide.
TEST_SCHEMA = f"nwc_tests_{os.getpid()}"

# Fixtures that tests in several folders use, each defined once (pytest reads pytest_plugins only here).
pytest_plugins = ["tests.fixtures.schemes", "tests.fixtures.bulletins", "tests.fixtures.mail", "tests.fixtures.browser",
                  "tests.fixtures.migrations"]


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


def _build_app(database_url: str, instance: Path) -> Flask:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        INSTANCE_DIR = instance
        MAIL_OUTBOX_DIR = instance / "outbox"
        RATELIMIT_STORAGE_URI = rate_limit_storage(TestConfig.RATELIMIT_STORAGE_URI)

    return create_app(Config)


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
