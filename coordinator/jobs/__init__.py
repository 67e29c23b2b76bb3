"""One small face over background work: jobs are functions, queued after the commit.

A job is a module-level function registered with `@job`, known by its own dotted name (module + name), so a
rename is seen by every tool and no string names it. Services ask for work next to the change that needs it:

    @job
    def deliver_queued_mail() -> int: ...

    after_commit(deliver_queued_mail)   # queued when db.session's transaction commits; dropped on rollback
    deliver_queued_mail.later()         # queued at once (code outside a transaction, e.g. a sweep)

Where queued jobs run:
- in tests (`JOBS_MODE=eager`) at once (just after the commit, for `after_commit`), so a test reads the effect
  straight after; a test that needs the state before the job runs (mail still queued, a print order waiting)
  sets it up inside `with jobs.held():`, which keeps what the commits ask for instead of queueing it;
- by default on one thread of the web process (the embedded default: no Redis, no worker; `in_process.py`);
- with `REDIS_URL` set, on an RQ worker (`rq_worker.py`): `flask --app coordinator worker`, or
  `rq worker -w coordinator.jobs.CoordinatorWorker --with-scheduler coordinator`; a plain
  `rq worker coordinator` runs the jobs too (building the app for each), but does not sweep (below).
Renders run in recycled processes (`render_pool.py`, `run_in_subprocess`).

The database, not the queue, is the record of what must still happen. Job functions take plain arguments
(ids, not objects), read the rows they work on when they start, and are safe to run twice. Each domain
registers a *sweeper* (`register_sweeper`): a function that looks at the database and answers which jobs
still need to run, e.g. "queued outbox rows exist, so `deliver_queued_mail` must run". `requeue_pending()`
asks every sweeper and enqueues the answers. It runs when a worker starts, every `JOBS_SWEEP_SECONDS`
(default 60) and as soon as a worker finds Redis empty (the machine's Redis keeps nothing on disk, so a
restart loses the queue); in the in-process mode it runs at the first request and as often afterwards. A
job lost with Redis, never queued because Redis was down when the web process asked, or lost because the
process died between the commit and the queueing, therefore still runs, a sweep later.

Duplicates: a job is known by its key, the function and its arguments (`job_key`). While one copy is
*waiting* in the queue another `enqueue` of the same key does nothing; once that copy has *started*, a
new `enqueue` queues a new copy, because the running one may already have read the
database before the caller's rows were committed. So a sweep every minute never piles up copies, and
nothing committed is left unseen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from coordinator.extensions import db
from coordinator.jobs.in_process import enqueue_on_thread, start_sweeping
from coordinator.jobs.registry import (
    AFTER_COMMIT,
    QUEUE_NAME,
    Job,
    JobsState,
    job,
    job_key,
    jobs_mode,
    resolve,
    state_of,
)
from coordinator.jobs.render_pool import RenderPool, RenderProcessDied, render_processes, run_in_subprocess
from coordinator.jobs.rq_worker import CoordinatorWorker, enqueue_on_redis, run_in_app, run_worker

__all__ = [
    "QUEUE_NAME",
    "CoordinatorWorker",
    "Job",
    "RenderPool",
    "RenderProcessDied",
    "Sweeper",
    "after_commit",
    "enqueue",
    "held",
    "init_app",
    "job",
    "job_key",
    "jobs_mode",
    "register_sweeper",
    "render_processes",
    "requeue_pending",
    "resolve",
    "run_in_app",
    "run_in_subprocess",
    "run_worker",
    "shutdown",
    "start_sweeping",
]

log = logging.getLogger(__name__)

# A sweeper answers, from the database, which jobs still need to run: [(job, args), ...].
Sweeper = Callable[[], Iterable[tuple[Job, tuple]]]
_sweepers: dict[str, Sweeper] = {}


def register_sweeper(fn: Sweeper) -> Sweeper:
    """Add a function answering, from the database, which jobs `[(job, args), ...]` still need to run."""
    _sweepers[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


@job
def requeue_pending() -> int:
    """Ask every sweeper what the database still needs and enqueue it; return how many jobs were asked for."""
    count = 0
    for name, sweeper in list(_sweepers.items()):
        try:
            wanted = list(sweeper())
        except Exception:  # one broken sweeper must not stop the others, nor the worker
            log.exception("sweeper %s failed", name)
            db.session.rollback()
            continue
        for fn, args in wanted:
            enqueue(fn, *args)
            count += 1
    if count:
        log.info("sweep: %d job(s) the database still needs were enqueued", count)
    return count


def enqueue(fn: Job, *args: object) -> None:
    """Run the job in the background with these plain arguments, now (after the commit, or outside one)."""
    _enqueue_by_name(_registered(fn).name, args)


def _registered(fn: Job) -> Job:
    # Only a registered job is known by name in every process (a string would hide a rename from the tools).
    if not isinstance(fn, Job):
        raise TypeError(f"{fn!r} is not a job: register its function with @job and pass the function")
    return fn


def _enqueue_by_name(name: str, args: tuple) -> None:
    app = current_app._get_current_object()
    mode = jobs_mode(app)
    if mode == "eager":
        resolve(name)(*args)
    elif mode == "rq":
        enqueue_on_redis(app, name, args)
    elif mode == "thread":
        enqueue_on_thread(app, name, args)
    else:
        raise RuntimeError(f"JOBS_MODE must be eager, thread or rq, not {mode!r}")


def after_commit(fn: Job, *args: object) -> None:
    """Queue the job when db.session's transaction commits, once however often asked; drop it on rollback.

    Services call this next to the change the job is for, so no view or command has to remember to start work.
    """
    wanted = (_registered(fn).name, tuple(args))
    pending: list[tuple[str, tuple]] = db.session.info.setdefault(AFTER_COMMIT, [])
    if wanted not in pending:
        pending.append(wanted)


@contextmanager
def held() -> Iterator[list[tuple[Job, tuple]]]:
    """Within the block, jobs this app's commits ask for are kept in the list it yields, not queued; none run.

    For setting up a state the jobs would move on at once in the eager mode, e.g. mail still queued, a print
    order or a bulletin whose job has not started; the caller may run what it holds, or let it drop.
    """
    # Kept on the app, not in a context variable: a test client runs each request in a context of its own.
    state = state_of(current_app)
    kept: list[tuple[Job, tuple]] = []
    outer, state.held = state.held, kept
    try:
        yield kept
    finally:
        state.held = outer


# The outermost transaction's end is where held jobs go: at that moment the commit is done and the session can
# run queries again (an eager job does, in this same session). `after_commit` fires for savepoints too, and
# while the transaction is still closing, so it only notes that the commit happened.
_COMMITTED = "coordinator_jobs_committed"


@event.listens_for(Session, "after_commit")
def _note_commit(session: Session) -> None:
    if session.get_nested_transaction() is None:
        session.info[_COMMITTED] = True


@event.listens_for(Session, "after_transaction_end")
def _queue_held_jobs(session: Session, transaction) -> None:
    if transaction.parent is not None:
        return
    is_committed = session.info.pop(_COMMITTED, False)
    if not is_committed:
        session.info.pop(AFTER_COMMIT, None)  # rolled back or closed: what it was for never happened
        return
    # Queueing does not raise (a Redis failure is logged and the sweep covers it); an eager job's failure is
    # raised from the commit, so a test sees it as it saw it from `enqueue`.
    kept = state_of(current_app).held if has_app_context() else None
    for name, args in session.info.pop(AFTER_COMMIT, []):
        if kept is not None:
            kept.append((resolve(name), args))
        else:
            _enqueue_by_name(name, args)


def init_app(app: Flask) -> None:
    """Give the app its in-process worker, and start sweeping at the first request in the in-process mode."""
    app.extensions["coordinator_jobs"] = JobsState()

    @app.before_request
    def start_sweeping_once() -> None:
        if state_of(app).sweeping is None:
            start_sweeping(app)


def shutdown(app: Flask) -> None:
    """Stop this app's sweeping, job thread and render processes, and close its Redis connections."""
    state = state_of(app)
    state.stop.set()
    state.executor.shutdown(wait=True)
    if state.redis is not None:
        state.redis.close()
        state.redis = None
    if state.render_pool is not None:
        state.render_pool.close()
        state.render_pool = None
