"""Erasure reaches the outbox folder: with no MAIL_SERVER every message is an .eml file in instance/outbox/, and
erasing a subscriber, a resident's address across schemes, or a coordinator's account removes the files addressed
to it (To:), leaves everyone else's, and counts them in the audit entry without naming the address.

Every file here is written by the real mail path (a sign-up's confirmation, a bulletin, an invitation), except the
hostile ones, which stand for whatever else may lie in the folder.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from coordinator import jobs
from coordinator.admin.data_requests import erase_account, erase_address, export_account, export_address
from coordinator.admin.services import invite_coordinator
from coordinator.bulletins import approval, subscriber_data, subscribers
from coordinator.bulletins.models import Subscriber
from coordinator.bulletins.sending import send_bulletin
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.mail import erase_outbox_files_to, outbox_files_to
from tests.admin.helpers import actions
from tests.bulletins.helpers import fast_sending
from tests.factories import make_admin, make_bulletin
from tests.helpers.web import csrf_from, login_as

ADDRESS = "forget.me@example.net"
OTHER = "stay.here@example.net"


def outbox(app) -> Path:
    return Path(app.config["MAIL_OUTBOX_DIR"])


def files_to(app, address: str) -> list[str]:
    """Names of the outbox files whose raw bytes mention `address` at all (any case): a looser test than To:."""
    folder = outbox(app)
    return sorted(
        p.name for p in folder.iterdir()
        if p.is_file() and not p.is_symlink() and address.lower().encode() in p.read_bytes().lower()
    )


def sign_up_and_confirm(scheme, address: str, name: str = "") -> object:
    subscribers.sign_up(scheme, address, name)
    db.session.commit()  # the confirmation request is written to the outbox folder after the commit
    subscriber = subscribers.find_subscriber(scheme, address.lower())
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    return subscriber


def send_a_bulletin(world, scheme=None, actor=None) -> None:
    bulletin = make_bulletin(world, scheme=scheme, actor=actor)
    with jobs.held():
        approval.queue_bulletin(bulletin, actor or world.s.coordinator_a, None)
        db.session.commit()
    assert send_bulletin(bulletin.id) >= 1


@pytest.fixture
def residents(world, app):
    """ADDRESS and OTHER confirmed in scheme A, ADDRESS also in scheme B; one bulletin sent by each scheme."""
    assert not app.config["MAIL_SERVER"]
    fast_sending()
    s = world.s
    sign_up_and_confirm(s.scheme_a, "Forget.Me@Example.NET", "Fran Forget")
    sign_up_and_confirm(s.scheme_a, OTHER, "Stella Stay")
    sign_up_and_confirm(s.scheme_b, ADDRESS, "Fran Forget")
    send_a_bulletin(world)
    send_a_bulletin(world, scheme=s.scheme_b, actor=s.coordinator_b)
    return world


def test_the_real_mail_path_wrote_the_files_this_test_erases(residents, app):
    # Three confirmations and three bulletin copies, each a file addressed to its resident.
    assert len(files_to(app, ADDRESS)) == 4 and len(files_to(app, OTHER)) == 2
    assert len(outbox_files_to("FORGET.ME@example.net").paths) == 4


def test_erasing_the_last_subscription_removes_every_file_to_the_address_and_no_other(residents, app):
    s = residents.s
    in_b = subscribers.find_subscriber(s.scheme_b, ADDRESS)
    in_a = subscribers.find_subscriber(s.scheme_a, ADDRESS)
    others_before = files_to(app, OTHER)

    assert subscriber_data.erase_subscriber(in_a, actor=s.coordinator_a) is True
    db.session.commit()
    # Scheme B still has the address: its bulletin to them stays; A's copy and the confirmations (scrubbed in the
    # database with A's erasure) go.
    [left] = files_to(app, ADDRESS)
    assert left.startswith("bulletin-") and "Secret Close Watch" in (outbox(app) / left).read_text()
    first = actions("subscribers.erased")[-1]
    assert first.details["outbox_files_deleted"] == 3

    assert subscriber_data.erase_subscriber(in_b, actor=s.coordinator_b) is True
    db.session.commit()
    assert files_to(app, ADDRESS) == []
    assert files_to(app, OTHER) == others_before
    second = actions("subscribers.erased")[-1]
    assert second.details["outbox_files_deleted"] == 1
    for entry in (first, second):
        assert ADDRESS not in (entry.summary + json.dumps(entry.details)).lower()
    # Erased once: nothing is done or counted again.
    assert subscriber_data.erase_subscriber(in_b, actor=s.coordinator_b) is False


def test_a_data_request_counts_the_files_then_erases_them_in_every_scheme(residents, app):
    admin = residents.admin
    data = export_address(ADDRESS, admin)
    db.session.commit()
    assert data["outbox_files_addressed_to_it"] == 4
    assert "Doorstep scams" not in json.dumps(data["outbox_files_addressed_to_it"])  # a count, not their content

    assert erase_address("  FORGET.ME@example.net ", admin) == 2
    db.session.commit()

    assert files_to(app, ADDRESS) == []
    assert len(files_to(app, OTHER)) == 2
    entry = actions("data_requests.erased")[0]
    assert entry.details["outbox_files_deleted"] == 4
    assert ADDRESS not in json.dumps(entry.details).lower()
    assert sum(e.details["outbox_files_deleted"] for e in actions("subscribers.erased")) == 4


def test_a_coordinator_cannot_erase_another_schemes_subscriber_or_their_files(residents, client, app):
    s = residents.s
    in_a = subscribers.find_subscriber(s.scheme_a, ADDRESS)
    in_b = subscribers.find_subscriber(s.scheme_b, ADDRESS)
    login_as(client, s.coordinator_a)
    own_page = f"/schemes/{s.scheme_a.id}/subscribers/{in_a.id}/erase"
    token = csrf_from(client.get(own_page).get_data(as_text=True))

    # Scheme B's subscriber, with a valid token of A's coordinator: not found, and nothing is touched.
    for url in (f"/schemes/{s.scheme_b.id}/subscribers/{in_b.id}/erase",
                f"/schemes/{s.scheme_a.id}/subscribers/{in_b.id}/erase"):
        assert client.post(url, data={"csrf_token": token}).status_code == 404
    db.session.expire_all()
    assert not in_b.is_erased and len(files_to(app, ADDRESS)) == 4

    # Their own scheme's subscriber: erased, and B's bulletin to the same person stays.
    response = client.post(own_page, data={"csrf_token": token})
    assert response.status_code == 302
    db.session.expire_all()
    assert in_a.is_erased and not in_b.is_erased
    [left] = files_to(app, ADDRESS)
    assert "Secret Close Watch" in (outbox(app) / left).read_text()


def test_erasing_an_account_removes_its_invitation_but_not_a_schemes_bulletins_to_the_same_address(world, app):
    fast_sending()
    s = world.s
    sign_up_and_confirm(s.scheme_a, ADDRESS, "Fran Forget")
    send_a_bulletin(world)
    user = invite_coordinator(ADDRESS.upper(), "Fran Forget", invited_by=world.admin)
    db.session.commit()
    names = files_to(app, ADDRESS)
    assert len(names) == 3 and sum("invitation" in name for name in names) == 1
    data = export_account(user, world.admin)
    assert data["outbox_files_addressed_to_it"] == 3

    erase_account(user, world.admin)
    db.session.commit()

    left = files_to(app, ADDRESS)
    # The confirmation request was scrubbed from the database with the account's mail (same address): it goes too.
    assert len(left) == 1 and left[0].startswith("bulletin-")
    entry = actions("users.erased")[0]
    assert entry.details["outbox_files_deleted"] == 2
    assert ADDRESS not in json.dumps(entry.details).lower()


def test_an_account_nobody_else_shares_takes_all_its_files(two_schemes, app):
    admin = make_admin(email="ada.admin@example.org")
    user = invite_coordinator("lone.coordinator@example.org", "Lone Coordinator", invited_by=admin)
    db.session.commit()
    assert len(files_to(app, "lone.coordinator@example.org")) == 1
    erase_account(user, admin)
    db.session.commit()
    assert files_to(app, "lone.coordinator@example.org") == []
    assert actions("users.erased")[0].details == {"outbox_files_deleted": 1}


# --- Hostile files and names ---------------------------------------------------------------------------------------


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_only_regular_files_in_the_folder_whose_to_is_the_address_go(app, tmp_path, monkeypatch):
    folder = outbox(app)
    folder.mkdir(parents=True, exist_ok=True)
    message = b"From: watch@localhost\r\nTo: %s\r\nSubject: hi\r\n\r\nbody\r\n"
    gone = [
        write(folder, "plain.eml", message % ADDRESS.encode()),
        write(folder, "upper case.eml", message % b"FORGET.ME@EXAMPLE.NET"),
        write(folder, "named.eml", message % b'"Fran, \\"the\\" Forget" <forget.me@example.net>'),
        write(folder, "several.eml", message % b"a@example.org, Fran <forget.me@example.net>, b@example.org"),
        write(folder, "folded.eml", b"To: someone@example.org,\r\n Fran <Forget.Me@example.net>\r\n\r\nx"),
        write(folder, "--rf $(rm -rf ~) \u00e9\n.eml", message % ADDRESS.encode()),
        write(folder, "unix-newlines.eml", b"To: forget.me@example.net\nSubject: x\n\nbody"),
    ]
    kept = [
        # The address looks like a name, or only in the body, Cc or a header below the body: not addressed to them.
        write(folder, "lookalike.eml", message % b'"forget.me@example.net" <attacker@example.org>'),
        write(folder, "in-body.eml", b"To: stay.here@example.net\r\n\r\nTo: forget.me@example.net\r\n"),
        write(folder, "cc.eml", b"To: stay.here@example.net\r\nCc: forget.me@example.net\r\n\r\nx"),
        write(folder, "longer.eml", message % b"xforget.me@example.net.evil"),
        write(folder, "garbage.eml", bytes(range(256)) * 40),
        write(folder, "bad-utf8.eml", b"To: \xff\xfe<<<@@@>>> \xc3(\r\n\r\nx"),
        write(folder, "no-headers-end.eml", b"X-Pad: " + b"a" * 70_000 + b"\r\nTo: forget.me@example.net\r\n\r\n"),
        write(folder, "not-eml.txt", message % ADDRESS.encode()),
    ]
    (folder / "a-folder.eml").mkdir()
    outside = write(tmp_path, "outside.eml", message % ADDRESS.encode())
    (folder / "link.eml").symlink_to(outside)
    (folder / "dangling.eml").symlink_to(tmp_path / "nowhere.eml")
    nested = folder / "nested"
    nested.mkdir()
    kept.append(write(nested, "deeper.eml", message % ADDRESS.encode()))

    # One file cannot be read (as root, permissions would not stop the read: its opening fails instead).
    unreadable = write(folder, "unreadable.eml", message % ADDRESS.encode())
    real_open = Path.open

    def open_or_fail(self, *args, **kwargs):
        if self.name == "unreadable.eml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_or_fail)

    assert {p.name for p in outbox_files_to(ADDRESS).paths} == {p.name for p in gone}
    erased = erase_outbox_files_to(ADDRESS)

    assert (erased.deleted, erased.not_removed) == (len(gone), 1)
    assert erased.as_details() == {"outbox_files_deleted": len(gone), "outbox_files_not_removed": 1}
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in [*kept, unreadable, outside])
    assert (folder / "link.eml").is_symlink() and (folder / "dangling.eml").is_symlink()
    assert (folder / "a-folder.eml").is_dir()


def test_an_empty_address_or_a_missing_folder_erases_nothing(app):
    folder = outbox(app)
    assert not folder.exists() or not any(folder.iterdir())
    assert erase_outbox_files_to(ADDRESS).deleted == 0
    folder.mkdir(parents=True, exist_ok=True)
    write(folder, "blank-to.eml", b"To: \r\n\r\nx")
    write(folder, "x.eml", b"To: forget.me@example.net\r\n\r\nx")
    for address in ("", "   "):
        assert erase_outbox_files_to(address).deleted == 0
    assert sorted(os.listdir(folder)) == ["blank-to.eml", "x.eml"]


def test_the_files_of_an_expired_sign_up_go_with_it(two_schemes, app):
    subscribers.sign_up(two_schemes.scheme_a, ADDRESS)
    subscribers.sign_up(two_schemes.scheme_a, OTHER)
    db.session.commit()
    assert len(files_to(app, ADDRESS)) == 1
    subscriber = subscribers.find_subscriber(two_schemes.scheme_a, OTHER)
    subscribers.confirm_subscription(subscriber)
    db.session.commit()
    with freeze_time(utcnow() + timedelta(days=30)):
        assert subscriber_data.expire_unconfirmed() == 1
        db.session.commit()
    assert files_to(app, ADDRESS) == [] and len(files_to(app, OTHER)) == 1
    assert db.session.scalar(select(Subscriber).where(Subscriber.email == ADDRESS)) is None
