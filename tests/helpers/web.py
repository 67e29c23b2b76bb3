"""Pages and forms as a browser sends them: CSRF tokens, posted forms, logging in, and the mail the app wrote."""

from __future__ import annotations

import contextvars
import email
import re
from email import policy
from pathlib import Path

from flask import Flask, has_app_context
from flask.testing import FlaskClient

from coordinator.extensions import db

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


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
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]
