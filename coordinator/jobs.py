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

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

QUEUE_NAME = "coordinator"


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

        Queue(QUEUE_NAME, connection=Redis.from_url(app.config["REDIS_URL"])).enqueue(
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
    """Entry point for RQ: run the job inside an application context.

    Under `flask --app coordinator worker` the app already exists (RQ forks a work-horse per job from
    it, so a job's memory, WeasyPrint's growth included, goes when the job ends). Under a bare
    `rq worker` the app is built here.
    """
    from coordinator.extensions import db

    if has_app_context():
        # Connections inherited through fork belong to the parent: start with a fresh pool.
        db.engine.dispose(close=False)
        try:
            resolve(path)(*args)
        finally:
            db.session.remove()
        return
    from coordinator import create_app

    with create_app().app_context():
        resolve(path)(*args)


def run_worker(burst: bool = False, max_jobs: int | None = None) -> None:
    """Work the RQ queue inside this app's context (`flask --app coordinator worker`)."""
    from redis import Redis
    from rq import Queue, Worker

    app = current_app._get_current_object()
    if jobs_mode(app) != "rq":
        raise RuntimeError("REDIS_URL is not set: background work runs inside the web process, no worker is needed.")
    connection = Redis.from_url(app.config["REDIS_URL"])
    Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst, max_jobs=max_jobs)


def init_app(app: Flask) -> None:
    """Give the app its in-process worker (one thread: jobs run in order, like a queue)."""
    app.extensions["coordinator_jobs"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coordinator-job")
