"""DKIM: one signer for every message that leaves; a resident's confirmation request is signed as bulletins are."""

from __future__ import annotations

import email
import re
from email import policy

import dkim
from dkim import dknewkey
from sqlalchemy import select

from coordinator import jobs
from coordinator.bulletins import subscribers
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from tests.helpers.web import outbox_messages

SENDER_DOMAIN = "bromley-watch.example.org"


def dkim_key(app, tmp_path) -> bytes:
    """A new RSA key, configured for DKIM signing with the selector "watch"; returns its DNS record."""
    key_file = tmp_path / "dkim.key"
    dknewkey.GenRSAKeys(str(key_file), verbose=False)
    dknewkey.ExtractRSADnsPublicKey(str(key_file), str(tmp_path / "dkim.dns"), verbose=False)
    app.config.update(DKIM_SELECTOR="watch", DKIM_DOMAIN="", DKIM_PRIVATE_KEY_PATH=str(key_file))
    return (tmp_path / "dkim.dns").read_text().strip().encode()


def test_a_residents_confirmation_request_is_dkim_signed_for_the_senders_domain(app, two_schemes, tmp_path):
    app.config["MAIL_DEFAULT_SENDER"] = f"Bromley Watch <watch@{SENDER_DOMAIN}>"
    dns_record = dkim_key(app, tmp_path)
    with jobs.held():  # the test runs the delivery itself
        subscribers.sign_up(two_schemes.scheme_a, "robin@example.net", "Robin Ash")
        db.session.commit()
    assert deliver_queued_mail() == 1

    [path] = app.config["MAIL_OUTBOX_DIR"].glob("*subscription_confirm*.eml")
    data = path.read_bytes()
    assert data.startswith(b"DKIM-Signature: ")
    message = email.message_from_bytes(data, policy=policy.default)
    assert message["To"] == "Robin Ash <robin@example.net>"
    signature = message["DKIM-Signature"]
    # Signed for the From address's domain (DKIM_DOMAIN is not set), as DMARC alignment wants.
    assert f"d={SENDER_DOMAIN}" in signature and "s=watch" in signature
    signed = re.search(r"h=([^;]+)", signature.replace(" ", "")).group(1).lower().split(":")
    assert {"from", "to", "subject", "date", "message-id"} <= set(signed)

    def dns(name, timeout=5):
        assert name == f"watch._domainkey.{SENDER_DOMAIN}.".encode()
        return dns_record

    assert dkim.verify(data, dnsfunc=dns)
    assert not dkim.verify(data.replace(b"Robin Ash", b"Robin Ask"), dnsfunc=dns)


def test_an_unreadable_key_keeps_the_request_queued_and_untried(app, two_schemes, tmp_path):
    app.config.update(DKIM_SELECTOR="watch", DKIM_PRIVATE_KEY_PATH=str(tmp_path / "missing.key"))
    with jobs.held():  # the test runs the delivery itself
        subscribers.sign_up(two_schemes.scheme_a, "robin@example.net")
        db.session.commit()
    assert deliver_queued_mail() == 0  # never sent unsigned
    assert outbox_messages(app) == []
    db.session.expire_all()
    [row] = db.session.scalars(select(OutgoingMail)).all()
    assert (row.status, row.attempts) == (MailStatus.QUEUED, 0)

    app.config.update(DKIM_SELECTOR="", DKIM_PRIVATE_KEY_PATH="")
    assert deliver_queued_mail() == 1
