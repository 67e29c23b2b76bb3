"""Killing the sending worker in the middle of a 2,000-recipient bulletin, and starting it again.

The worker runs in a process of its own against the test's database and a real SMTP server on loopback;
it is killed with SIGKILL (no chance to tidy up) once a few hundred messages are through. A second process
then does what a restarted worker does first: sweep for unfinished bulletins. At the end every recipient
has the bulletin, and at most one has it twice (the one message caught in "sending" by the kill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from coordinator import jobs
from coordinator.bulletins import approval
from coordinator.bulletins.models import Bulletin, BulletinDelivery, BulletinState, DeliveryState
from coordinator.db import utcnow
from coordinator.extensions import db
from tests.bulletins.helpers import fast_sending
from tests.factories import make_bulletin, make_recipients
from tests.helpers.servers import wait_for
from tests.smtp import SMTPServer

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 2000
LEASE_SECONDS = 1


def start_worker(app, tmp_path: Path, port: int, action: str, bulletin_id: int) -> subprocess.Popen:
    settings = tmp_path / f"{action}.json"
    settings.write_text(json.dumps({
        "database_url": app.config["SQLALCHEMY_DATABASE_URI"],
        "secret_key": app.config["SECRET_KEY"],
        "instance": str(tmp_path / "worker-instance"),
        "smtp_port": port,
        "lease_seconds": LEASE_SECONDS,
        "action": action,
        "bulletin_id": bulletin_id,
    }))
    with open(tmp_path / f"{action}.log", "wb") as log:  # the process keeps its own copy of the file
        return subprocess.Popen([sys.executable, "-m", "tests.bulletins.send_process", str(settings)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def outbox_states(bulletin_id: int) -> Counter:
    db.session.commit()  # a new transaction sees what the worker committed
    states = Counter(db.session.scalars(
        select(BulletinDelivery.state).where(BulletinDelivery.bulletin_id == bulletin_id)
    ))
    db.session.commit()
    return states


def test_killing_the_worker_mid_send_and_starting_again_delivers_everyone_with_at_most_one_duplicate(
    app, world, tmp_path
):
    server = SMTPServer(keep_messages=False)
    server.start()
    fast_sending()
    make_recipients(world.s.scheme_a, RECIPIENTS)
    bulletin = make_bulletin(world)
    with jobs.held():  # the worker processes below send it
        approval.queue_bulletin(bulletin, world.s.coordinator_a)
        db.session.commit()
    bulletin_id = bulletin.id
    workers: list[subprocess.Popen] = []
    try:
        first = start_worker(app, tmp_path, server.port, "send", bulletin_id)
        workers.append(first)
        wait_for(lambda: server.count() >= 400 or first.poll() is not None, 120, "400 messages through")
        assert first.poll() is None, (tmp_path / "send.log").read_text()
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        killed_at = server.count()
        assert 400 <= killed_at < RECIPIENTS

        states = outbox_states(bulletin_id)
        assert sum(states.values()) == RECIPIENTS
        assert states[DeliveryState.SENDING] <= 1  # a worker never has more than one message in hand
        assert states[DeliveryState.SENT] >= killed_at - 1
        db.session.expire_all()
        assert db.session.get(Bulletin, bulletin_id).state == BulletinState.SENDING

        # The dead worker's lease runs out; then a restarted worker's first sweep picks the bulletin up.
        lease_end = db.session.get(Bulletin, bulletin_id).lease_expires_at
        db.session.commit()
        time.sleep(max((lease_end - utcnow()).total_seconds(), 0) + 0.2)
        second = start_worker(app, tmp_path, server.port, "resume", bulletin_id)
        workers.append(second)
        assert second.wait(180) == 0, (tmp_path / "resume.log").read_text()
        assert "resumed 1" in (tmp_path / "resume.log").read_text()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(30)
        server.stop()

    received = server.per_recipient()
    expected = {f"resident{n}@example.net" for n in range(RECIPIENTS)}
    assert set(received) == expected  # every recipient delivered
    assert all(times >= 1 for times in received.values())
    duplicates = sum(times - 1 for times in received.values())
    assert duplicates <= 1  # at most one duplicate for the one crash
    assert outbox_states(bulletin_id) == Counter({DeliveryState.SENT: RECIPIENTS})
    db.session.expire_all()
    finished = db.session.get(Bulletin, bulletin_id)
    assert finished.state == BulletinState.SENT
    assert (finished.sent_count, finished.failed_count) == (RECIPIENTS, 0)
