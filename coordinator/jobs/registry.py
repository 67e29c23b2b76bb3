"""The job registry: `@job` functions by name, their keys, the mode, and each app's background-work state."""

from __future__ import annotations

import functools
import hashlib
import importlib
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

from flask import Flask

if TYPE_CHECKING:
    from coordinator.jobs.render_pool import RenderPool

P = ParamSpec("P")
R = TypeVar("R")

QUEUE_NAME = "coordinator"
DEFAULT_SWEEP_SECONDS = 60

_registry: dict[str, Job] = {}


class Job(Generic[P, R]):
    """A function registered with `@job`: call it to run it now, `.later(...)` or `after_commit(...)` to queue it."""

    def __init__(self, fn: Callable[P, R]) -> None:
        self.fn = fn
        # Its own dotted name: renaming the function renames the job, and no string elsewhere needs editing.
        self.name = f"{fn.__module__}.{fn.__qualname__}"
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<job {self.name}>"

    def later(self, *args: object) -> None:
        """Queue this job now, with plain arguments (outside a transaction, or after it committed)."""
        from coordinator.jobs import enqueue

        enqueue(self, *args)

    def after_commit(self, *args: object) -> None:
        """Queue this job when the current database transaction commits; forget it if it rolls back."""
        from coordinator.jobs import after_commit

        after_commit(self, *args)


def job(fn: Callable[P, R]) -> Job[P, R]:
    """Register a module-level function as a background job, under its module and name."""
    registered = Job(fn)
    _registry[registered.name] = registered
    return registered


def name_of(fn: Job | Callable) -> str:
    """The dotted name a job (or a plain module-level function, for renders) is sent across processes by."""
    if isinstance(fn, Job):
        return fn.name
    return f"{fn.__module__}.{fn.__qualname__}"


def resolve(name: str) -> Callable[..., Any]:
    """The function a name stands for: "package.module.function", or an older release's "package.module:function".

    RQ payloads already in Redis when a new release starts may still name a job the old way.
    """
    if name in _registry:
        return _registry[name]
    if ":" in name:
        module_name, _, attr = name.partition(":")
    else:
        module_name, _, attr = name.rpartition(".")
    if f"{module_name}.{attr}" in _registry:
        return _registry[f"{module_name}.{attr}"]
    # Importing the module registers its jobs (and finds plain render functions too).
    return getattr(importlib.import_module(module_name), attr)


def jobs_mode(app: Flask) -> str:
    """"eager", "thread" or "rq", from the configuration."""
    if app.config.get("JOBS_MODE"):
        return app.config["JOBS_MODE"]
    return "rq" if app.config.get("REDIS_URL") else "thread"


def job_key(fn: Job | str, args: tuple) -> str:
    """The name of a job for spotting duplicates: its function and arguments, e.g. `coordinator-mail-deliver_queued_mail`."""
    parts = [name_of(fn) if not isinstance(fn, str) else fn, *(str(arg) for arg in args)]
    key = re.sub(r"[^A-Za-z0-9_]+", "-", "-".join(parts)).strip("-")
    # Arguments that are not plain words (a slug, a date) or are long get a digest, so two never share a key.
    if len(key) > 100 or not all(re.fullmatch(r"[A-Za-z0-9_]+", part) for part in parts[1:]):
        key = f"{key[:80].rstrip('-')}-{hashlib.sha256(chr(31).join(parts).encode()).hexdigest()[:16]}"
    return key


class JobsState:
    """What one app needs for background work: the job thread, its waiting keys, the render pool, Redis."""

    def __init__(self) -> None:
        # One thread: jobs run in order, like a queue, and two deliveries never overlap in this process.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="coordinator-job")
        self.waiting: set[str] = set()
        self.lock = threading.Lock()
        self.sweeping: threading.Thread | None = None
        self.stop = threading.Event()
        self.render_pool: RenderPool | None = None
        self.redis = None
        # Inside `held()`: the jobs commits ask for, kept instead of queued.
        self.held: list[tuple[Job, tuple]] | None = None


def state_of(app: Flask) -> JobsState:
    """This app's background-work state (made by `init_app`)."""
    return app.extensions["coordinator_jobs"]


# Per-transaction notes kept in `Session.info`, cleared when the outermost transaction ends:
# set by its first flush (the session wrote something) ...
WROTE = "coordinator_jobs_wrote"
# ... and the jobs `after_commit` holds until the commit, as [(name, args), ...].
AFTER_COMMIT = "coordinator_jobs_after_commit"
