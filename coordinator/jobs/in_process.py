"""The in-process mode: jobs on one thread of the web process, and the sweep every `JOBS_SWEEP_SECONDS`.

The embedded default (no Redis, no worker). It suits one web process (`make run`); several (gunicorn's
workers) should share a queue by setting `REDIS_URL`, since each would sweep and send, and on SQLite two could
send the same message.
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from coordinator.jobs.registry import DEFAULT_SWEEP_SECONDS, job_key, jobs_mode, resolve, state_of

log = logging.getLogger(__name__)

# The sweep, run on the job thread like any job.
REQUEUE_PENDING = "coordinator.jobs.requeue_pending"


def enqueue_on_thread(app: Flask, name: str, args: tuple) -> None:
    """Run the job on this app's job thread, unless a copy of it is still waiting there."""
    state = state_of(app)
    key = job_key(name, args)
    with state.lock:
        if key in state.waiting:
            return
        state.waiting.add(key)
    state.executor.submit(_run_logged, app, name, args, key)


def _run_logged(app: Flask, name: str, args: tuple, key: str) -> None:
    state = state_of(app)
    with state.lock:
        state.waiting.discard(key)
    with app.app_context():
        try:
            resolve(name)(*args)
        except Exception:  # a failed background job must not vanish silently; the next sweep tries again
            log.exception("background job %s failed", name)


def _sweep_every(app: Flask, seconds: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            enqueue_on_thread(app, REQUEUE_PENDING, ())
        except RuntimeError:  # the job thread was shut down
            return
        stop.wait(seconds)


def start_sweeping(app: Flask) -> bool:
    """In the in-process mode, sweep now and every `JOBS_SWEEP_SECONDS`; return False if already sweeping."""
    state = state_of(app)
    with state.lock:
        if state.sweeping is not None or jobs_mode(app) != "thread":
            return False
        seconds = int(app.config.get("JOBS_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS)
        state.sweeping = threading.Thread(
            target=_sweep_every, args=(app, seconds, state.stop), name="coordinator-sweep", daemon=True
        )
    state.sweeping.start()
    return True
