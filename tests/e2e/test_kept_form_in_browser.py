"""Logged out while typing: in a real browser, the words come back after logging in, with no JavaScript needed."""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from coordinator.bulletins.models import Bulletin
from coordinator.extensions import db
from tests.factories import PASSWORD
from tests.helpers.browser import axe_violations, log_in

HOSTILE = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


def test_a_bulletin_typed_past_the_idle_timeout_is_kept_through_logging_in_again(app, page, world):
    # The idle limit is set before the cookie is issued, as a coordinator meets it: the browser itself decides
    # whether it still sends the cookie after a minute without a request.
    app.config["SESSION_IDLE_LIFETIME"] = timedelta(minutes=1)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, world.s.coordinator_a.email, PASSWORD)
    page.goto(f"/schemes/{world.s.scheme_a.id}/bulletins/new")
    words = f"Dear neighbours,\n\nA long letter {HOSTILE}\nwritten slowly."
    page.get_by_label("Subject").fill(f"Scams {HOSTILE}")
    page.get_by_label("A few words from you (optional)").fill(words)
    page.get_by_label("Doorstep scams").check()
    page.get_by_label("Victims and witnesses (2 helplines)").check()
    time.sleep(65)  # writing slowly: more than the idle minute since the page was opened
    assert "nwc_session" in {cookie["name"] for cookie in page.context.cookies()}

    with page.expect_navigation():
        page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(page.get_by_role("status")).to_contain_text("What you typed is kept: log in again to send it.")
    page.get_by_label("Email address").fill(world.s.coordinator_a.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Send what you typed")
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Send it now").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Scams {HOSTILE}")
    db.session.expire_all()
    [bulletin] = db.session.scalars(select(Bulletin)).all()
    assert bulletin.intro.replace("\r\n", "\n") == words  # line breaks and all
    assert dialogs == []
