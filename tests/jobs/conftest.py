"""Background-work fixtures: a Redis server, an SMTP server and RQ worker processes of the test's own.

Each test gets a `redis-server` on a free loopback port (so it can kill and restart it without touching the
machine's Redis), an aiosmtpd server that keeps every message it accepts, and, when it asks, workers
started as a deployment starts them (`flask --app coordinator worker`) on the test's own database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from coordinator import jobs
from tests.jobs.helpers import NOT_FOR_WORKERS, RedisServer, WorkerProcess
from tests.smtp import SMTPServer


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.kill()
        server.client.close()


@pytest.fixture
def smtp_sink() -> Iterator[SMTPServer]:
    """The one SMTP server of the tests (tests/smtp.py), keeping every message, repeats included."""
    sink = SMTPServer()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def rq_app(app, redis_server, smtp_sink) -> Iterator[Flask]:
    """The test's app as a deployment with Redis runs it: jobs go to RQ (derived from REDIS_URL)."""
    app.config.update(JOBS_MODE="", REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_sink.port)
    assert jobs.jobs_mode(app) == "rq"
    yield app
    jobs.shutdown(app)


@pytest.fixture
def start_worker(rq_app, redis_server, smtp_sink, tmp_path) -> Iterator[Callable[[], WorkerProcess]]:
    """Start workers on the test's database, Redis and SMTP server; every one is killed at the end."""
    started: list[WorkerProcess] = []
    env = {name: value for name, value in os.environ.items() if name not in NOT_FOR_WORKERS}
    env.update(
        COORDINATOR_ENV="development",
        DATABASE_URL=rq_app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=rq_app.config["SECRET_KEY"],
        COORDINATOR_INSTANCE=str(tmp_path / "worker-instance"),
        REDIS_URL=redis_server.url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_sink.port),
        MAIL_DEFAULT_SENDER=rq_app.config["MAIL_DEFAULT_SENDER"],
        PYTHONUNBUFFERED="1",
    )

    def start() -> WorkerProcess:
        worker = WorkerProcess(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        # Before the app fixture empties the tables: a live worker would hold the database.
        for worker in started:
            worker.kill()
