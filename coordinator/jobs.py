"""One small face over background work.

`enqueue("coordinator.mail:deliver_queued_mail")` runs the named function later:
- in tests (`JOBS_MODE=eager`) at once, so a test can read the effect straight after;
- by default on one thread of the web process (the embedded default: no Redis, no worker). This suits one
  web process (`make run`); several (gunicorn's workers) should share a queue by setting `REDIS_URL`, since
  each would sweep and send, and on SQLite two could send the same message;
- with `REDIS_URL` set, on an RQ worker: `flask --app coordinator worker`, or
  `rq worker -w coordinator.jobs.CoordinatorWorker --with-scheduler coordinator`; a plain
  `rq worker coordinator` runs the jobs too (building the app for each), but does not sweep (below).

The database, not the queue, is the record of what must still happen. Job functions take plain arguments
(ids, not objects), read the rows they work on when they start, and are safe to run twice. Each domain
registers a *sweeper* (`register_sweeper`): a function that looks at the database and answers which jobs
still need to run, e.g. "queued outbox rows exist, so `deliver_queued_mail` must run". `requeue_pending()`
asks every sweeper and enqueues the answers. It runs when a worker starts, every `JOBS_SWEEP_SECONDS`
(default 60) and as soon as a worker finds Redis empty (the machine's Redis keeps nothing on disk, so a
restart loses the queue); in the in-process mode it runs at the first request and as often afterwards. A
job lost with Redis, or never queued because Redis was down when the web process asked, therefore still
runs, a sweep later.

Duplicates: a job is known by its key, the function and its arguments (`job_key`). While one copy is
*waiting* in the queue another `enqueue` of the same key does nothing; once that copy has *started*, a
new `enqueue` queues a new copy, because the running one may already have read the
database before the caller's rows were committed. So a sweep every minute never piles up copies, and
nothing committed is left unseen.

Failures: an RQ job that raises, or whose process dies, is retried three times (after 5 s, 30 s, 2 min);
after that the next sweep finds the work still undone and queues it again.

Memory: rendering grows a long-lived process (WeasyPrint keeps ~0.3 MB per render), so renders never run in
one. RQ's `Worker` (rq 3.0: `Worker.execute_job` -> `fork_work_horse`) forks a work-horse process for every
job and the horse exits when its job ends: whatever a job allocated goes with it, and the worker stays
small. The in-process mode has no such horse, so it hands renders to `run_in_subprocess`, a small pool of
processes that are each replaced after `RENDER_TASKS_PER_PROCESS` (default 200) tasks.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import multiprocessing
import os
import pickle
import queue
import re
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import InvalidJobOperation
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from coordinator.extensions import db

log = logging.getLogger(__name__)

QUEUE_NAME = "coordinator"
DEFAULT_SWEEP_SECONDS = 60
DEFAULT_RENDER_TASKS_PER_PROCESS = 200
DEFAULT_RENDER_TIMEOUT = 300
# A bulletin to a few thousand residents takes minutes at most; a job that outlives this is stuck, and is
# killed and retried (it resumes from the database).
JOB_TIMEOUT = 30 * 60
RETRY_INTERVALS = (5, 30, 120)
FAILURE_TTL = 7 * 24 * 3600
# Only tidies up: whether a mark still stands for a waiting job is checked against the job itself.
WAITING_MARK_TTL = 24 * 3600
WAITING_MARK_PREFIX = "coordinator:jobs:waiting:"
# Set at each sweep; when a worker finds it gone, Redis was emptied (restarted) and the queue must be rebuilt.
SWEPT_MARK = "coordinator:jobs:swept"
# Deletes a job's waiting mark only if the mark is still that job's own.
_CLEAR_OWN_MARK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""

Sweeper = Callable[[], Iterable[tuple[str, tuple]]]
_sweepers: dict[str, Sweeper] = {}


def resolve(path: str) -> Callable:
    """Turn "package.module:function" into the function."""
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def jobs_mode(app: Flask) -> str:
    """"eager", "thread" or "rq", from the configuration."""
    if app.config.get("JOBS_MODE"):
        return app.config["JOBS_MODE"]
    return "rq" if app.config.get("REDIS_URL") else "thread"


def job_key(path: str, args: tuple) -> str:
    """The name of a job for spotting duplicates: its function and arguments, e.g. `coordinator-mail-deliver_queued_mail`."""
    parts = [path, *(str(arg) for arg in args)]
    key = re.sub(r"[^A-Za-z0-9_]+", "-", "-".join(parts)).strip("-")
    # Arguments that are not plain words (a slug, a date) or are long get a digest, so two never share a key.
    if len(key) > 100 or not all(re.fullmatch(r"[A-Za-z0-9_]+", part) for part in parts[1:]):
        key = f"{key[:80].rstrip('-')}-{hashlib.sha256(chr(31).join(parts).encode()).hexdigest()[:16]}"
    return key


def register_sweeper(fn: Sweeper) -> Sweeper:
    """Add a function answering, from the database, which jobs `[(path, args), ...]` still need to run."""
    _sweepers[f"{fn.__module__}.{fn.__qualname__}"] = fn
    return fn


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
        for path, args in wanted:
            enqueue(path, *args)
            count += 1
    if count:
        log.info("sweep: %d job(s) the database still needs were enqueued", count)
    return count


def enqueue(path: str, *args: object) -> None:
    """Run the job function at `path` in the background with these plain arguments (call after the commit)."""
    app = current_app._get_current_object()
    mode = jobs_mode(app)
    if mode == "eager":
        resolve(path)(*args)
    elif mode == "rq":
        _enqueue_on_redis(app, path, args)
    elif mode == "thread":
        _enqueue_on_thread(app, path, args)
    else:
        raise RuntimeError(f"JOBS_MODE must be eager, thread or rq, not {mode!r}")


# --- RQ on Redis -------------------------------------------------------------------------------------------


def _redis(app: Flask):
    state = _state(app)
    if state.redis is None:
        from redis import Redis

        # Short timeouts: a web request must not hang on a Redis that has gone away (the sweep covers it).
        state.redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
    return state.redis


def _enqueue_on_redis(app: Flask, path: str, args: tuple) -> None:
    from redis.exceptions import RedisError

    key = job_key(path, args)
    job_id = f"{key}-{uuid.uuid4().hex[:12]}"
    mark = WAITING_MARK_PREFIX + key
    connection = _redis(app)
    try:
        if not connection.set(mark, job_id, nx=True, ex=WAITING_MARK_TTL):
            if _is_waiting(connection, connection.get(mark)):
                return
            connection.set(mark, job_id, ex=WAITING_MARK_TTL)
        Queue(QUEUE_NAME, connection=connection).enqueue(
            "coordinator.jobs.run_in_app",
            path,
            *args,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT,
            result_ttl=0,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            description=f"{path}{args!r}",
        )
    except RedisError as exc:
        # What the job is for is already committed to the database: a worker's sweep will find it.
        log.warning("job %s not queued, Redis failed (%s); the next sweep will queue it", key, exc)


def _is_waiting(connection, job_id: bytes | None) -> bool:
    if not job_id:
        return False
    try:
        status = Job(job_id.decode(), connection=connection).get_status(refresh=True)
    except InvalidJobOperation:  # the job is gone: the mark is stale
        return False
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _clear_waiting_mark(path: str, args: tuple) -> None:
    """A started job is no longer waiting: from now on an `enqueue` of the same key queues a new copy."""
    from redis.exceptions import RedisError

    job = get_current_job()
    if job is None:
        return
    try:
        job.connection.eval(_CLEAR_OWN_MARK, 1, WAITING_MARK_PREFIX + job_key(path, args), job.id)
    except RedisError as exc:  # a stale mark is harmless: `_is_waiting` sees this job has started
        log.warning("waiting mark of job %s not cleared: %s", job.id, exc)


def run_in_app(path: str, *args: object) -> object:
    """Entry point for RQ: run the job inside an application context.

    Under `flask --app coordinator worker` the app already exists and RQ runs each job in a work-horse forked
    from it. Under a bare `rq worker` the app is built here, once per job.
    """
    _clear_waiting_mark(path, args)
    if has_app_context():
        # Connections inherited through fork belong to the parent: start with a fresh pool.
        db.engine.dispose(close=False)
        try:
            return resolve(path)(*args)
        finally:
            db.session.remove()
    from coordinator import create_app

    with create_app().app_context():
        return resolve(path)(*args)


class CoordinatorWorker(Worker):
    """RQ's forking worker, which also sweeps the database for work the queue does not know about.

    Recycling: like `rq.Worker` it forks a work-horse for each job and the horse exits when the job ends, so
    a job's memory (a render's included) is returned to the system after every job.

    Sweeping: at start, every `sweep_seconds`, and as soon as it finds Redis emptied. The sweep runs in this
    long-lived parent, so it only queries and enqueues; the jobs it asks for run in horses.
    """

    def __init__(self, *args, sweep_seconds: int | None = None, **kwargs) -> None:
        if has_app_context():
            self.app = current_app._get_current_object()
        else:  # started by `rq worker -w coordinator.jobs.CoordinatorWorker`
            from coordinator import create_app

            self.app = create_app()
        self.sweep_seconds = int(sweep_seconds or self.app.config.get("JOBS_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS)
        kwargs.setdefault("maintenance_interval", self.sweep_seconds)
        # An idle worker waits on Redis for at most worker_ttl - 15 s, then checks whether a sweep is due.
        kwargs.setdefault("worker_ttl", self.sweep_seconds + 15)
        super().__init__(*args, **kwargs)
        self.is_stopping = False

    def request_stop(self, signum, frame) -> None:
        """SIGTERM or Ctrl+C: finish the current job, then stop for good."""
        self.is_stopping = True
        super().request_stop(signum, frame)

    def work(self, *args, **kwargs) -> bool:
        """Work the queues inside the app context, which every forked work-horse inherits."""
        if has_app_context():
            return super().work(*args, **kwargs)
        with self.app.app_context():
            return super().work(*args, **kwargs)

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ's own schedule (at start, then every `maintenance_interval`), or at once if Redis was emptied."""
        return super().should_run_maintenance_tasks or self._redis_was_emptied()

    def _redis_was_emptied(self) -> bool:
        from redis.exceptions import RedisError

        try:
            return not self.connection.exists(SWEPT_MARK)
        except RedisError:  # Redis is away: RQ's loop, or run_worker's, waits for it and comes back here
            return False

    def run_maintenance_tasks(self) -> None:
        """RQ's registry cleaning, then a sweep of the database."""
        super().run_maintenance_tasks()
        self.sweep()

    def sweep(self) -> None:
        """Re-enqueue whatever the database says is still to do; never stops the worker."""
        from redis.exceptions import RedisError

        try:
            # Marked first: if Redis restarts during the sweep, the mark is gone and the next loop sweeps again.
            self.connection.set(SWEPT_MARK, "1")
        except RedisError as exc:
            log.warning("sweep postponed, Redis failed: %s", exc)
            return
        try:
            requeue_pending()
        except Exception:  # the database may be away; the next sweep tries again
            log.exception("sweep failed")
        finally:
            db.session.remove()


def run_worker(burst: bool = False, max_jobs: int | None = None) -> None:
    """Work the RQ queue inside this app's context (`flask --app coordinator worker`) until asked to stop.

    If RQ's worker gives up (it does when Redis goes away at some moments), a new one starts after a pause
    that grows to 30 s; its first sweep puts back whatever the queue lost.
    """
    from redis import Redis
    from redis.exceptions import RedisError

    app = current_app._get_current_object()
    if jobs_mode(app) != "rq":
        raise RuntimeError("REDIS_URL is not set: background work runs inside the web process, no worker is needed.")
    connection = Redis.from_url(app.config["REDIS_URL"])
    pause = 1.0
    while True:
        worker = CoordinatorWorker([QUEUE_NAME], connection=connection)
        started = time.monotonic()
        try:
            # The scheduler (a process of its own, forked by RQ) puts retries back in the queue when they are due.
            worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=True)
        except RedisError as exc:
            log.warning("worker stopped, Redis failed: %s", exc)
        else:
            if burst or max_jobs is not None or worker.is_stopping:
                return
            # RQ's worker gives up when Redis goes away at some moments (e.g. while it records its state).
            log.warning("worker stopped without being asked to")
        # Between two workers a stop signal should just stop: there is no job to finish.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if time.monotonic() - started > 60:
            pause = 1.0
        log.warning("starting a new worker in %.0f s", pause)
        time.sleep(pause)
        pause = min(pause * 2, 30.0)


# --- In-process mode -------------------------------------------------------------------------------------


class _JobsState:
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


def _state(app: Flask) -> _JobsState:
    return app.extensions["coordinator_jobs"]


def _enqueue_on_thread(app: Flask, path: str, args: tuple) -> None:
    state = _state(app)
    key = job_key(path, args)
    with state.lock:
        if key in state.waiting:
            return
        state.waiting.add(key)
    state.executor.submit(_run_logged, app, path, args, key)


def _run_logged(app: Flask, path: str, args: tuple, key: str) -> None:
    state = _state(app)
    with state.lock:
        state.waiting.discard(key)
    with app.app_context():
        try:
            resolve(path)(*args)
        except Exception:  # a failed background job must not vanish silently; the next sweep tries again
            log.exception("background job %s failed", path)


def _sweep_every(app: Flask, seconds: int, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            _enqueue_on_thread(app, "coordinator.jobs:requeue_pending", ())
        except RuntimeError:  # the job thread was shut down
            return
        stop.wait(seconds)


def start_sweeping(app: Flask) -> bool:
    """In the in-process mode, sweep now and every `JOBS_SWEEP_SECONDS`; return False if already sweeping."""
    state = _state(app)
    with state.lock:
        if state.sweeping is not None or jobs_mode(app) != "thread":
            return False
        seconds = int(app.config.get("JOBS_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS)
        state.sweeping = threading.Thread(
            target=_sweep_every, args=(app, seconds, state.stop), name="coordinator-sweep", daemon=True
        )
    state.sweeping.start()
    return True


# --- Renders in recycled processes ---------------------------------------------------------------------------


class RenderProcessDied(RuntimeError):
    """The process running a render ended before answering (killed, out of memory, crashed)."""


def run_in_subprocess(path: str, *args: object, timeout: float | None = None) -> object:
    """Run `path(*args)` in a render process (replaced after a bounded number of tasks) and return its result.

    Inside an RQ job it runs in place: RQ's `Worker` runs each job in a work-horse that is thrown away after
    it (rq's `SimpleWorker`, which does not fork, is not for this app). In eager mode it runs in place too.
    Arguments and the result cross a process boundary, so both must pickle (ids in, bytes out). An exception
    raised by the function is raised here; a process that dies raises `RenderProcessDied`, one that takes
    longer than `timeout` (default `RENDER_TIMEOUT`, 300 s) is killed and raises `TimeoutError`.
    """
    app = current_app._get_current_object()
    if jobs_mode(app) == "eager" or get_current_job() is not None:
        return resolve(path)(*args)
    limit = float(timeout or app.config.get("RENDER_TIMEOUT") or DEFAULT_RENDER_TIMEOUT)
    _end_read_only_transaction()
    return _render_pool(app).run(path, args, limit)


# Set on a session by its first flush in a transaction, cleared when the transaction ends.
_WROTE = "coordinator_jobs_wrote"


def _end_read_only_transaction() -> None:
    """Give the session's database connection back to the pool while a render is awaited, if it wrote nothing.

    A render takes a fraction of a second alone but many seconds when a campaign launch queues hundreds: a
    request holding its connection all that time would leave none for the pages (the pool holds 15), and they
    would fail. A session that has changed or written anything keeps its transaction: its caller commits it.
    """
    session = db.session
    if session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        return
    session.rollback()


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, flush_context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_write(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WROTE, None)


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

    def run(self, path: str, args: tuple, timeout: float) -> object:
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
                is_ok, value = process.call(path, args, timeout)
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

    def call(self, path: str, args: tuple, timeout: float) -> tuple[bool, object]:
        """Send one task and wait for its answer: (True, result) or (False, the exception it raised)."""
        self.tasks += 1
        self.connection.send((path, args))
        deadline = time.monotonic() + timeout
        while not self.connection.poll(0.2):
            if not self.process.is_alive():
                raise RenderProcessDied(f"render process ended (exit code {self.process.exitcode}) running {path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} took longer than {timeout:g} s")
        try:
            return self.connection.recv()
        except (EOFError, ConnectionError) as exc:
            raise RenderProcessDied(f"render process ended running {path}") from exc
        except (pickle.UnpicklingError, TypeError, AttributeError) as exc:  # e.g. an exception class with odd args
            raise RuntimeError(f"the answer of {path} cannot be read: {exc!r}") from exc

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
        path, args = task
        try:
            with app.app_context():
                answer = (True, resolve(path)(*args))
        except Exception as exc:  # noqa: BLE001 - the caller gets the error; this process stays for the next task
            answer = (False, exc)
        try:
            connection.send(answer)  # pickles first, so a failure here has written nothing to the pipe
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            connection.send((False, RuntimeError(f"the answer of {path} cannot be sent back: {exc!r}")))


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
    state = _state(app)
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


# --- Set-up --------------------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Give the app its in-process worker, and start sweeping at the first request in the in-process mode."""
    app.extensions["coordinator_jobs"] = _JobsState()

    @app.before_request
    def start_sweeping_once() -> None:
        if _state(app).sweeping is None:
            start_sweeping(app)


def shutdown(app: Flask) -> None:
    """Stop this app's sweeping, job thread and render processes, and close its Redis connections."""
    state = _state(app)
    state.stop.set()
    state.executor.shutdown(wait=True)
    if state.redis is not None:
        state.redis.close()
        state.redis = None
    if state.render_pool is not None:
        state.render_pool.close()
        state.render_pool = None
