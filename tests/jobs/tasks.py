"""Job functions for the background-work tests: each reports the process that ran it."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from coordinator import jobs
from coordinator.auth.models import User
from coordinator.extensions import db


def process_facts() -> dict:
    """Which process ran this, and what it sees of the app and its database."""
    return {
        "pid": os.getpid(),
        "database": current_app.config["SQLALCHEMY_DATABASE_URI"],
        "users": db.session.scalar(select(func.count(User.id))),
        "niceness": os.nice(0),
    }


@jobs.job
def refuse(reason: str) -> None:
    """A job that fails."""
    raise ValueError(reason)


@jobs.job
def write_process_facts(path: str) -> None:
    """Write this job's pid, and the pid `run_in_subprocess` ran in, to a JSON file."""
    facts = {"job_pid": os.getpid(), "render_pid": jobs.run_in_subprocess(process_facts)["pid"]}
    Path(path).write_text(json.dumps(facts))


def die() -> None:
    """A render whose process is killed (as the out-of-memory killer would)."""
    os.kill(os.getpid(), signal.SIGKILL)


def linger(seconds: float) -> None:
    """A render that takes too long."""
    time.sleep(seconds)


@jobs.job
def note(path: str, text: str) -> None:
    """Add a line to a file: a job whose every run can be counted."""
    with open(path, "a") as file:
        file.write(text + "\n")
