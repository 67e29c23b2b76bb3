"""One small face over background work.

`enqueue("coordinator.mail:deliver_queued_mail")` runs the named function later:
- with `REDIS_URL` set, on an RQ worker (`flask --app coordinator worker`);
- otherwise on a thread of this process (the embedded default);
- in tests (`JOBS_MODE=eager`) at once, so a test can read the effect straight after.

Job functions take plain arguments (ids, not objects) and are safe to run twice: the database is
the record of what still has to happen, the queue only says "look now".
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

log = logging.getLogger(__name__)


def resolve(path: str) -> Callable:
    """Turn "package.module:function" into the function."""
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def jobs_mode(app: Flask) -> str:
    """"eager", "thread" or "rq", from the configuration."""
    if app.config.get("JOBS_MODE"):
        return app.config["JOBS_MODE"]
    return "rq" if app.config.get("REDIS_URL") else "thread"


def enqueue(path: str, *args: object) -> None:
    """Run the job function at `path` in the background with these plain arguments."""
    app = current_app._get_current_object()
    mode = jobs_mode(app)
    if mode == "eager":
        resolve(path)(*args)
    elif mode == "rq":
        from redis import Redis
        from rq import Queue

        Queue("default", connection=Redis.from_url(app.config["REDIS_URL"])).enqueue(
            "coordinator.jobs.run_in_app", path, *args
        )
    else:
        executor: ThreadPoolExecutor = app.extensions["coordinator_jobs"]
        executor.submit(_run_logged, app, path, args)


def _run_logged(app: Flask, path: str, args: tuple) -> None:
    with app.app_context():
        try:
            resolve(path)(*args)
        except Exception:  # a failed background job must not vanish silently
            log.exception("background job %s failed", path)


def run_in_app(path: str, *args: object) -> None:
    """Entry point for RQ: run the job inside an application context."""
    from coordinator import create_app

    app = create_app()
    with app.app_context():
        resolve(path)(*args)


def init_app(app: Flask) -> None:
    """Give the app its in-process worker (one thread: jobs run in order, like a queue)."""
    app.extensions["coordinator_jobs"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coordinator-job")
