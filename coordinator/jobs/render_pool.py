"""Renders in recycled processes: `run_in_subprocess` and the `RenderPool` behind it.

Rendering grows a long-lived process (WeasyPrint keeps ~0.3 MB per render), so renders never run in one. An RQ
work-horse is thrown away after its job, so there they run in place; the in-process mode has no such horse, so
it hands renders to a small pool of processes that are each replaced after `RENDER_TASKS_PER_PROCESS` (default
200) tasks.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import time
from collections.abc import Callable

from flask import Flask, current_app
from rq import get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session

from coordinator.extensions import db
from coordinator.jobs.registry import AFTER_COMMIT, WROTE, Job, jobs_mode, name_of, resolve, state_of

DEFAULT_RENDER_TASKS_PER_PROCESS = 200
DEFAULT_RENDER_TIMEOUT = 300


class RenderProcessDied(RuntimeError):
    """The process running a render ended before answering (killed, out of memory, crashed)."""


def run_in_subprocess(fn: Job | Callable, *args: object, timeout: float | None = None) -> object:
    """Run `fn(*args)` in a render process (replaced after a bounded number of tasks) and return its result.

    Inside an RQ job it runs in place: RQ's `Worker` runs each job in a work-horse that is thrown away after
    it (rq's `SimpleWorker`, which does not fork, is not for this app). In eager mode it runs in place too.
    Arguments and the result cross a process boundary, so both must pickle (ids in, bytes out). An exception
    raised by the function is raised here; a process that dies raises `RenderProcessDied`, one that takes
    longer than `timeout` (default `RENDER_TIMEOUT`, 300 s) is killed and raises `TimeoutError`.
    """
    app = current_app._get_current_object()
    if jobs_mode(app) == "eager" or get_current_job() is not None:
        return fn(*args)
    limit = float(timeout or app.config.get("RENDER_TIMEOUT") or DEFAULT_RENDER_TIMEOUT)
    _end_read_only_transaction()
    # The function crosses to the render process by name: it must be a module-level function (or a `@job`).
    return _render_pool(app).run(name_of(fn), args, limit)


def _end_read_only_transaction() -> None:
    """Give the session's database connection back to the pool while a render is awaited, if it wrote nothing.

    A render takes a fraction of a second alone but many seconds when a campaign launch queues hundreds: a
    request holding its connection all that time would leave none for the pages (the pool holds 15), and they
    would fail. A session that has changed or written anything, or holds jobs for its commit, keeps its
    transaction: its caller commits it.
    """
    session = db.session
    if session.info.get(WROTE) or session.info.get(AFTER_COMMIT) or session.new or session.dirty or session.deleted:
        return
    session.rollback()


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, flush_context) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)


class RenderPool:
    """A few processes for renders, each started on first use and replaced after `tasks_per_process` tasks.

    Not multiprocessing.Pool, which never answers for a task whose process died, nor ProcessPoolExecutor,
    whose max_tasks_per_child deadlocks on Python 3.11-3.13 (https://github.com/python/cpython/issues/115634).
    Processes are spawned, not forked: forking a process that runs threads (web server, job thread) is unsafe.
    """

    def __init__(self, settings: dict, processes: int, tasks_per_process: int) -> None:
        self.settings = settings
        self.tasks_per_process = tasks_per_process
        self.context = multiprocessing.get_context("spawn")
        # One slot per process; None is a slot whose process has not started yet (or was retired).
        self.slots: queue.Queue[_RenderProcess | None] = queue.Queue()
        for _ in range(processes):
            self.slots.put(None)
        self.started: set[_RenderProcess] = set()

    def run(self, name: str, args: tuple, timeout: float) -> object:
        """Run one task on a free process, waiting for one if all are busy."""
        process = self.slots.get()
        try:
            if process is not None and not process.is_alive():  # died while idle
                self._retire(process)
                process = None
            if process is None:
                process = _RenderProcess(self.context, self.settings)
                self.started.add(process)
            try:
                is_ok, value = process.call(name, args, timeout)
            except BaseException:
                # The exchange did not finish (the process died, was too slow, or we were interrupted): an
                # answer may still come down the pipe, so the process cannot serve anyone else.
                self._retire(process, at_once=True)
                process = None
                raise
            if process.tasks >= self.tasks_per_process:
                self._retire(process)
                process = None
        finally:
            self.slots.put(process)
        if is_ok:
            return value
        raise value

    def _retire(self, process: _RenderProcess, at_once: bool = False) -> None:
        process.stop(at_once)
        self.started.discard(process)

    def close(self) -> None:
        """Stop every process."""
        for process in list(self.started):
            self._retire(process)


class _RenderProcess:
    """One spawned process that builds the app once, then runs tasks sent over a pipe."""

    def __init__(self, context, settings: dict) -> None:
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_render_process_main, args=(child_end, settings), name="coordinator-render", daemon=True
        )
        self.process.start()
        child_end.close()
        self.tasks = 0

    def is_alive(self) -> bool:
        return self.process.is_alive()

    def call(self, name: str, args: tuple, timeout: float) -> tuple[bool, object]:
        """Send one task and wait for its answer: (True, result) or (False, the exception it raised)."""
        self.tasks += 1
        self.connection.send((name, args))
        deadline = time.monotonic() + timeout
        while not self.connection.poll(0.2):
            if not self.process.is_alive():
                raise RenderProcessDied(f"render process ended (exit code {self.process.exitcode}) running {name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} took longer than {timeout:g} s")
        try:
            return self.connection.recv()
        except (EOFError, ConnectionError) as exc:
            raise RenderProcessDied(f"render process ended running {name}") from exc
        except (pickle.UnpicklingError, TypeError, AttributeError) as exc:  # e.g. an exception class with odd args
            raise RuntimeError(f"the answer of {name} cannot be read: {exc!r}") from exc

    def stop(self, at_once: bool = False) -> None:
        """Ask the process to finish (or, `at_once`, kill it) and wait for it to end."""
        if self.process.is_alive() and not at_once:
            try:
                self.connection.send(None)
            except OSError:
                pass
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.connection.close()


def _render_process_main(connection, settings: dict) -> None:
    """A render process: build the app with the parent's configuration, then run tasks until told to stop."""
    from config import Config
    from coordinator import create_app

    app = create_app(type("RenderProcessConfig", (Config,), settings))
    # Renders yield the CPU to the web process that waits for them: pages stay quick while leaflets render.
    os.nice(int(app.config.get("RENDER_NICE") or 0))
    while True:
        try:
            task = connection.recv()
        except EOFError:  # the parent has gone
            return
        if task is None:
            return
        name, args = task
        try:
            with app.app_context():
                answer = (True, resolve(name)(*args))
        except Exception as exc:  # noqa: BLE001 - the caller gets the error; this process stays for the next task
            answer = (False, exc)
        try:
            connection.send(answer)  # pickles first, so a failure here has written nothing to the pipe
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            connection.send((False, RuntimeError(f"the answer of {name} cannot be sent back: {exc!r}")))


def render_processes(app: Flask) -> int:
    """How many render processes this web process keeps: RENDER_PROCESSES, or its share of the cores (up to 4).

    Each of gunicorn's WEB_CONCURRENCY workers has a pool of its own; more renders at once than cores only
    makes each slower (measured by bench/load.py: 278 leaflets a minute with one a worker on 2 cores, 261 with two).
    """
    if app.config.get("RENDER_PROCESSES"):
        return int(app.config["RENDER_PROCESSES"])
    web_processes = max(1, int(os.environ.get("WEB_CONCURRENCY") or 1))
    return max(1, min(4, (os.cpu_count() or 1) // web_processes))


def _render_pool(app: Flask) -> RenderPool:
    state = state_of(app)
    with state.lock:
        if state.render_pool is None:
            settings = {}
            for name, value in app.config.items():
                try:
                    pickle.dumps(value)
                except (pickle.PicklingError, TypeError, AttributeError):  # not needed by a render, then
                    continue
                settings[name] = value
            state.render_pool = RenderPool(
                settings,
                processes=render_processes(app),
                tasks_per_process=int(app.config.get("RENDER_TASKS_PER_PROCESS") or DEFAULT_RENDER_TASKS_PER_PROCESS),
            )
        return state.render_pool
