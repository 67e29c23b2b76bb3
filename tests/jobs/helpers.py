"""Servers and processes for the background-work tests: Redis, RQ workers, and ways to wait on them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from redis import Redis
from sqlalchemy import select

from coordinator import jobs
from coordinator.admin.services import invite_coordinator
from coordinator.extensions import db
from coordinator.mail import MailStatus, OutgoingMail, deliver_queued_mail
from tests.helpers.servers import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
REDIS_SERVER = "/usr/bin/redis-server"
# Variables of the test run that must not leak into a worker: it reads its settings as a deployment does.
NOT_FOR_WORKERS = ("JOBS_MODE", "TEST_DATABASE_URL", "TEST_SQLALCHEMY_URI", "DATABASE_URL", "REDIS_URL",
                   "MAIL_SERVER", "MAIL_PORT", "COORDINATOR_ENV", "COORDINATOR_INSTANCE", "SECRET_KEY")


class RedisServer:
    """A redis-server process that keeps nothing on disk, like the machine's own: a restart empties it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None
        self.client = Redis.from_url(self.url, socket_timeout=5)

    def start(self) -> None:
        """Start an empty server and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--daemonize", "no", "--dir", str(self.folder)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        wait_for(self._answers, 10, f"redis-server on port {self.port}", self.log)

    def _answers(self) -> bool:
        try:
            return bool(self.client.ping())
        except Exception:  # noqa: BLE001 - not up yet
            return False

    def kill(self) -> None:
        """SIGKILL: whatever the server held is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
        if self.process is not None:
            self.process.wait(10)
        self.process = None

    def queued_job_ids(self) -> list[str]:
        """Ids of the jobs waiting in the coordinator queue."""
        return [job_id.decode() for job_id in self.client.lrange(f"rq:queue:{jobs.QUEUE_NAME}", 0, -1)]

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def is_gone(pid: int) -> bool:
    """True once a process has ended (a zombie nobody has reaped yet counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


class WorkerProcess:
    """`flask --app coordinator worker` in a process group of its own (its work-horses make their own)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "coordinator", "worker"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.pid = self.process.pid

    def descendants(self) -> list[int]:
        """Every live process started under this worker: its scheduler, its work-horse, their children."""
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            if fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry.name))
        found, todo = [], [self.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def horse_pid(self) -> int | None:
        """The work-horse running a job now, if any: RQ puts each horse in a process group of its own."""
        for pid in self.descendants():
            try:
                if os.getpgid(pid) == pid:
                    return pid
            except ProcessLookupError:
                continue
        return None

    def kill_horse(self) -> int:
        """SIGKILL the work-horse only, as the kernel's out-of-memory killer would."""
        pid = wait_for(self.horse_pid, 10, "a work-horse to kill", self.log)
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill(self) -> list[int]:
        """SIGKILL the worker and everything under it, as a power cut would; return the pids killed."""
        pids = [self.pid, *self.descendants()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:] if self.log_path.exists() else ""


def invite_coordinators(count: int) -> list[OutgoingMail]:
    """Invite `count` new coordinators and commit, queueing the delivery the commit asks for; return their emails."""
    # Held until the rows are read: the job thread would otherwise race the check that they are still queued.
    with jobs.held() as asked:
        for n in range(count):
            invite_coordinator(f"new.coordinator{n}@example.org", f"New Coordinator {n}")
        db.session.commit()
        rows = list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))
        assert len(rows) == count and all(row.status == MailStatus.QUEUED for row in rows)
    assert asked == [(deliver_queued_mail, ())], "the invitation service asks for their delivery itself"
    for job, args in asked:
        job.later(*args)
    return rows


def mail_states() -> dict[str, tuple[MailStatus, int]]:
    """Message-ID -> (status, attempts) of every outbox row, read afresh from the database."""
    db.session.commit()  # end the test's transaction: a new one sees what the worker committed
    rows = db.session.execute(select(OutgoingMail.message_id, OutgoingMail.status, OutgoingMail.attempts)).all()
    db.session.commit()
    return {message_id: (status, attempts) for message_id, status, attempts in rows}


def all_sent(expected: int) -> Callable[[], bool]:
    """A check for wait_for: the outbox has `expected` rows and every one is sent."""

    def check() -> bool:
        states = mail_states()
        return len(states) == expected and all(status == MailStatus.SENT for status, _ in states.values())

    return check


def duplicates(message_ids: list[str]) -> int:
    """How many messages arrived more than once (a message received three times counts two)."""
    return sum(times - 1 for times in Counter(message_ids).values())
