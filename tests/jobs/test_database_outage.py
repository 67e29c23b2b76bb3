"""The database failing under the web app: what the next request gets, and that the one after it works.

Each database has its own real fault, so the cases are the ones the database in use can have:

- PostgreSQL drops the app's connections (a server restart, a failover, an administrator): here every
  connection the app holds is ended with `pg_terminate_backend` from another session.
  - With `pool_pre_ping`, the app's setting, the pool tests a connection before lending it and replaces a
    dead one: the next request simply succeeds.
  - Without it, the request that meets a dead connection gets the 503 page; the pool then throws away every
    connection as old as that one, and the next request succeeds.
- SQLite has no connection to drop. Its fault is another process holding the write lock for longer than the
  busy timeout: the request gets the 503 page, and once the lock is gone the next request succeeds.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from typing import ClassVar, Self

import psycopg
import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from config import Config, TestConfig
from coordinator import create_app
from coordinator.extensions import db
from tests.factories import PASSWORD, make_user
from tests.helpers.databases import postgres_base_url, postgres_url
from tests.helpers.web import csrf_from
from tests.jobs.helpers import wait_for

UNAVAILABLE = "Sorry, the service is unavailable"

if postgres_base_url():
    CASES = [
        pytest.param((True, 302), id="postgres-connections-dropped-pre-ping"),
        pytest.param((False, 503), id="postgres-connections-dropped-no-pre-ping"),
    ]
else:
    CASES = [pytest.param((True, 503), id="sqlite-locked-by-another-writer")]


def build_app(database_url: str, instance, pre_ping: bool) -> Flask:
    """An app of its own on the test's database, so the test can hold every connection its pool makes."""

    class OutageConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        SQLALCHEMY_ENGINE_OPTIONS: ClassVar[dict] = {"pool_pre_ping": pre_ping}
        INSTANCE_DIR = instance
        MAIL_OUTBOX_DIR = instance / "outbox"

    return create_app(OutageConfig)


class DroppedConnections:
    """Ends, from a session of its own, every PostgreSQL connection the app has opened."""

    def __init__(self, app: Flask) -> None:
        self.backend_pids: set[int] = set()
        with app.app_context():
            event.listen(db.engine, "connect", self._remember)

    def _remember(self, dbapi_connection, connection_record) -> None:
        self.backend_pids.add(dbapi_connection.info.backend_pid)

    def __enter__(self) -> Self:
        assert self.backend_pids, "the app has no connection to drop yet"
        with psycopg.connect(postgres_url(postgres_base_url(), "public").replace("+psycopg", ""),
                             autocommit=True) as admin:
            pids = list(self.backend_pids)
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
            wait_for(lambda: admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                                           [pids]).fetchone()[0] == 0, 10, "the connections to end")
        return self

    def __exit__(self, *exc) -> None:
        pass


class LockedByAnotherWriter:
    """Holds SQLite's write lock from another connection, as a long import or a backup script might."""

    def __init__(self, app: Flask) -> None:
        self.path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
        with app.app_context():
            # 0.3 s instead of the app's 5 s before giving up on the lock: the same path, a faster test.
            event.listen(db.engine, "connect", self._short_busy_timeout)

    @staticmethod
    def _short_busy_timeout(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=300")

    def __enter__(self) -> Self:
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc) -> None:
        self.connection.execute("ROLLBACK")
        self.connection.close()


@pytest.fixture
def coordinator(app):
    user = make_user(name="Olu Coordinator", email="olu@example.org")
    db.session.commit()
    return user


@pytest.fixture(params=CASES)
def outage(request, app, tmp_path) -> Iterator[tuple[Flask, object, int]]:
    """(an app of its own, its database fault, the status the first request after the fault gets)."""
    pre_ping, first_status = request.param
    outage_app = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "outage-instance", pre_ping)
    fault = DroppedConnections(outage_app) if postgres_base_url() else LockedByAnotherWriter(outage_app)
    yield outage_app, fault, first_status
    with outage_app.app_context():
        db.engine.dispose()


def test_production_setting_tests_connections_before_use():
    assert Config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


def test_database_fault_then_recovery_on_the_next_request(outage, coordinator):
    outage_app, fault, first_status = outage
    client = outage_app.test_client()
    assert client.get("/healthz").status_code == 200  # the pool now holds a connection
    token = csrf_from(client.get("/account/login").get_data(as_text=True))
    form = {"email": coordinator.email, "password": PASSWORD, "csrf_token": token}

    with fault:
        started = time.monotonic()
        response = client.post("/account/login", data=form)
        page = response.get_data(as_text=True)
        assert response.status_code == first_status, page[:1500]
        assert time.monotonic() - started < 5, "the failure was quick, not a hang"
        if first_status == 503:
            assert UNAVAILABLE in page

    if first_status == 503:
        response = client.post("/account/login", data=form)
        assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    home = client.get("/")
    assert home.status_code == 200
    assert "Olu Coordinator" in home.get_data(as_text=True)
