"""Behind a proxy (TRUSTED_PROXIES): rate limits and the audit log see each visitor's own address, and a visitor
cannot choose theirs when no proxy is trusted."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from config import TestConfig
from coordinator import create_app
from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from tests.helpers.web import IsolatedClient, post_form


def _app_behind(app: Flask, proxies: int) -> Flask:
    """The same database and rate-limit store as `app`, with `proxies` proxies trusted."""

    class BehindProxies(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        INSTANCE_DIR = app.config["INSTANCE_DIR"]
        MAIL_OUTBOX_DIR = app.config["MAIL_OUTBOX_DIR"]
        RATELIMIT_STORAGE_URI = app.config["RATELIMIT_STORAGE_URI"]
        LOGIN_LIMIT_PER_ADDRESS = "3 per minute"
        TRUSTED_PROXIES = proxies

    proxied = create_app(BehindProxies)
    proxied.test_client_class = IsolatedClient
    return proxied


@pytest.fixture
def behind(app):
    made: list[Flask] = []

    def build(proxies: int) -> Flask:
        made.append(_app_behind(app, proxies))
        return made[-1]

    yield build
    for proxied in made:
        with proxied.app_context():
            db.engine.dispose()


def _failed_login(client, n: int, forwarded_for: str) -> int:
    # A different unknown email each time, so only the per-address limit can refuse it.
    data = {"email": f"guess{n}@example.org", "password": "wrong"}
    return post_form(client, "/account/login", data, headers={"X-Forwarded-For": forwarded_for}).status_code


def _addresses() -> list[str]:
    return list(db.session.scalars(
        select(AuditEntry.ip_address).where(AuditEntry.action == "auth.login_failed").order_by(AuditEntry.id)))


def test_a_forwarded_address_counts_only_when_a_proxy_is_trusted(behind):
    # No proxy trusted (the default): four made-up addresses are still one visitor, over the limit of three.
    direct = behind(0).test_client()
    assert [_failed_login(direct, n, f"198.51.100.{n}") for n in range(4)] == [200, 200, 200, 429]
    assert set(_addresses()) == {"127.0.0.1"}

    # Behind one proxy, everyone reaches the app from the proxy's address (127.0.0.1 here); the proxy appends the
    # address it saw after whatever the visitor sent, and each visitor has a limit and an audit address of their own.
    proxied = behind(1)
    alice, bob = proxied.test_client(), proxied.test_client()
    assert [_failed_login(alice, n, "10.9.9.9, 203.0.113.7") for n in range(10, 14)] == [200, 200, 200, 429]
    assert _failed_login(bob, 20, "203.0.113.8") == 200
    assert _addresses()[3:] == ["203.0.113.7"] * 3 + ["203.0.113.8"]


def test_a_negative_number_of_proxies_is_refused_at_start(app):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        _app_behind(app, -1)
