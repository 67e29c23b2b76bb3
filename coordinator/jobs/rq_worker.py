"""RQ on Redis: queueing a job with its waiting mark, running it in an app, and the worker that also sweeps.

Failures: an RQ job that raises, or whose process dies, is retried three times (after 5 s, 30 s, 2 min);
after that the next sweep finds the work still undone and queues it again.

Memory: RQ's `Worker` (rq 3.0: `Worker.execute_job` -> `fork_work_horse`) forks a work-horse process for every
job and the horse exits when its job ends: whatever a job allocated (a render's ~0.3 MB included) goes with it,
and the worker stays small.
"""

from __future__ import annotations

import logging
import signal
import time
import uuid

from flask import Flask, current_app, has_app_context
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import InvalidJobOperation
from rq.job import Job as RQJob
from rq.job import JobStatus

from coordinator.extensions import db
from coordinator.jobs.registry import DEFAULT_SWEEP_SECONDS, QUEUE_NAME, job_key, jobs_mode, resolve, state_of

log = logging.getLogger(__name__)

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
# The function RQ calls for every job; admins' and older releases' payloads name it by this path.
RUN_IN_APP = "coordinator.jobs.run_in_app"
# Deletes a job's waiting mark only if the mark is still that job's own.
_CLEAR_OWN_MARK = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def redis_of(app: Flask):
    """This app's Redis connection, made on first use."""
    state = state_of(app)
    if state.redis is None:
        from redis import Redis

        # Short timeouts: a web request must not hang on a Redis that has gone away (the sweep covers it).
        state.redis = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5)
    return state.redis


def enqueue_on_redis(app: Flask, name: str, args: tuple) -> None:
    """Put the job in the RQ queue, unless a copy of it is still waiting there."""
    from redis.exceptions import RedisError

    key = job_key(name, args)
    job_id = f"{key}-{uuid.uuid4().hex[:12]}"
    mark = WAITING_MARK_PREFIX + key
    connection = redis_of(app)
    try:
        if not connection.set(mark, job_id, nx=True, ex=WAITING_MARK_TTL):
            if _is_waiting(connection, connection.get(mark)):
                return
            connection.set(mark, job_id, ex=WAITING_MARK_TTL)
        Queue(QUEUE_NAME, connection=connection).enqueue(
            RUN_IN_APP,
            name,
            *args,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT,
            result_ttl=0,
            failure_ttl=FAILURE_TTL,
            retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
            description=f"{name}{args!r}",
        )
    except RedisError as exc:
        # What the job is for is already committed to the database: a worker's sweep will find it.
        log.warning("job %s not queued, Redis failed (%s); the next sweep will queue it", key, exc)


def _is_waiting(connection, job_id: bytes | None) -> bool:
    if not job_id:
        return False
    try:
        status = RQJob(job_id.decode(), connection=connection).get_status(refresh=True)
    except InvalidJobOperation:  # the job is gone: the mark is stale
        return False
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def _clear_waiting_mark(name: str, args: tuple) -> None:
    """A started job is no longer waiting: from now on an `enqueue` of the same key queues a new copy."""
    from redis.exceptions import RedisError

    job = get_current_job()
    if job is None:
        return
    try:
        job.connection.eval(_CLEAR_OWN_MARK, 1, WAITING_MARK_PREFIX + job_key(name, args), job.id)
    except RedisError as exc:  # a stale mark is harmless: `_is_waiting` sees this job has started
        log.warning("waiting mark of job %s not cleared: %s", job.id, exc)


def run_in_app(name: str, *args: object) -> object:
    """Entry point for RQ: run the job named `name` inside an application context.

    Under `flask --app coordinator worker` the app already exists and RQ runs each job in a work-horse forked
    from it. Under a bare `rq worker` the app is built here, once per job. `name` may be an older release's
    "module:function" string: payloads already in Redis still run.
    """
    _clear_waiting_mark(name, args)
    if has_app_context():
        # Connections inherited through fork belong to the parent: start with a fresh pool.
        db.engine.dispose(close=False)
        try:
            return resolve(name)(*args)
        finally:
            db.session.remove()
    from coordinator import create_app

    with create_app().app_context():
        return resolve(name)(*args)


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

        from coordinator.jobs import requeue_pending

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
