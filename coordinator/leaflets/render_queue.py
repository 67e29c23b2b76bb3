"""Leaflets a page asks for but never waits for: a cache miss starts a render in the background and answers at once.

`pdf_state(recipe)` says where a leaflet's PDF stands: ready in the cache, refused (its text does not fit or
fails a check: the reason, at once, every time it is asked for again), or waiting, with the render queue's
estimate of how long. The first page to ask for a key marks it pending in the cache folder and hands the render
to this web process's render threads, which pass it to the render processes (`jobs.run_in_subprocess`, niced
below the pages); every web process reads the same marks, so a coordinator's next look may land on any of them.

The estimate: the renders asked for before this one, shared among every web process's render processes, times
how long a render has lately taken (measured, shared through the cache folder), and a margin. A mark whose
owner died (a web process restarted) is taken over by the next page that asks.

In tests (`JOBS_MODE=eager`) there is no background: the render runs when asked, as the rest of the jobs do.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import Flask, current_app

from coordinator import jobs
from coordinator.jobs.registry import state_of
from coordinator.leaflets.cache import LeafletCache, app_cache
from coordinator.leaflets.pdfs import render_recipe
from coordinator.leaflets.recipes import LeafletRecipe
from coordinator.leaflets.render import LeafletDoesNotFit, LeafletError

log = logging.getLogger(__name__)

READY = "ready"
WAITING = "waiting"
REFUSED = "refused"

# Before the first page's render is timed: a leaflet takes about 0.3 s of CPU alone, and about 2 s of a render
# process's time beside a launch's pages (bench/load.py, its cold phase).
DEFAULT_RENDER_SECONDS = 2.0
# Each new timing moves the shared average by this much: quick to follow a launch's load, steady between renders.
TIMING_WEIGHT = 0.2
# The estimate shown is the queue's arithmetic times this, so a leaflet comes within it even when pages are busy.
ESTIMATE_MARGIN = 1.25
# A mark older than this (render timeout and a minute) is an abandoned render, whoever owns it.
ABANDONED_AFTER_SECONDS = 360
# While a queue is being worked through, how fast renders finish (the last this many, across every process) is
# a better guide than one render's time: under a launch's load the pages and other renders share the cores.
RECENT_FINISHES = 20
RATE_IS_CURRENT_SECONDS = 60
# A web process starts its render processes on first use (after a restart): the app is built in each, once.
PROCESS_START_SECONDS = 5
EXECUTOR = "coordinator_render_queue"


@dataclass(frozen=True)
class PdfState:
    """Where a leaflet's PDF stands."""

    status: str
    ahead: int = 0  # renders asked for before this one and not yet done
    estimate_seconds: int = 0  # how long until it is ready, as the page says it
    problems: dict[str, str] = field(default_factory=dict)  # when refused: form field (or "form") -> message

    @property
    def is_ready(self) -> bool:
        return self.status == READY

    @property
    def is_refused(self) -> bool:
        return self.status == REFUSED


def problems_of(error: LeafletError) -> dict[str, str]:
    """Why a leaflet cannot be printed, as the builder shows it: at the layout when it does not fit."""
    if isinstance(error, LeafletDoesNotFit):
        return {"layout": str(error)}
    return {"form": str(error)}


def pdf_state(recipe: LeafletRecipe) -> PdfState:
    """The PDF's state; on a miss its render is asked for, in the background, and never awaited."""
    return _state(recipe.key, recipe)


def known_state(key: str) -> PdfState | None:
    """The state of the PDF called `key` when something is known of it (ready, refused, being made), else None.

    A waiting page's cheap look: no content is read. None means it must ask again with the recipe.
    """
    try:
        return _state(key, None)
    except ValueError:  # not a cache key
        return None


def _state(key: str, recipe: LeafletRecipe | None) -> PdfState | None:
    cache = app_cache()
    if cache.has(key):
        return PdfState(READY)
    refused = _refusal(cache, key)
    if refused is not None:
        return PdfState(REFUSED, problems=refused)
    pending = cache.pending_owner(key)
    if pending is not None and _is_abandoned(*pending):
        log.warning("leaflet render %s was abandoned by %s; asking again", key[:12], pending[1])
        cache.clear_pending(key)
        pending = None
    if pending is None:
        if recipe is None:
            return None
        if jobs.jobs_mode(current_app) == "eager":
            return _render_now(cache, recipe)
        if cache.mark_pending(key, _owner()):
            app = current_app._get_current_object()
            _executor(app).submit(_render_in_background, app, recipe).add_done_callback(_log_failure)
        pending = cache.pending_owner(key) or (time.time(), "")
        if cache.has(key):  # done while we marked it
            return PdfState(READY)
    asked_at = pending[0]
    ahead = sum(1 for when in cache.pending_times() if when < asked_at)
    return PdfState(WAITING, ahead=ahead, estimate_seconds=_estimate(cache, ahead))


def refresh_seconds(state: PdfState) -> int:
    """How often a waiting page looks again: often when the leaflet is close, less often in a long queue."""
    return _refresh_for(state.estimate_seconds)


# --- Rendering --------------------------------------------------------------------------------------------------


def _render_now(cache: LeafletCache, recipe: LeafletRecipe) -> PdfState:
    try:
        data = render_recipe(recipe)
    except LeafletError as error:
        cache.put(recipe.key, refusal_bytes(error), ".json")
        return PdfState(REFUSED, problems=problems_of(error))
    cache.put(recipe.key, data)
    return PdfState(READY)


def _render_in_background(app: Flask, recipe: LeafletRecipe) -> None:
    """A render thread: the render process makes the PDF, the cache keeps it (or the reason it was refused)."""
    key = recipe.key
    with app.app_context():
        cache = app_cache()
        began = time.monotonic()
        try:
            data = jobs.run_in_subprocess(render_recipe, recipe)
        except LeafletError as error:
            cache.put(key, refusal_bytes(error), ".json")
        except Exception:  # the process died or timed out: forget the mark, so the next look asks again
            log.exception("leaflet render %s failed", key[:12])
        else:
            cache.put(key, data)
            note_render_seconds(cache, time.monotonic() - began)
        finally:
            cache.clear_pending(key)


def _log_failure(future) -> None:
    if future.exception() is not None:
        log.error("leaflet render thread failed", exc_info=future.exception())


def note_render_seconds(cache: LeafletCache, seconds: float) -> None:
    """Fold one render's time into the shared average the estimates use, and note when it finished."""
    timings = cache.read_timings()
    average = float(timings.get("average", seconds))
    timings["average"] = average + TIMING_WEIGHT * (seconds - average)
    timings["count"] = int(timings.get("count", 0)) + 1
    timings["finished"] = [*timings.get("finished", [])[-(RECENT_FINISHES - 1):], time.time()]
    try:
        cache.write_timings(timings)
    except OSError:  # only an estimate: the next render writes it again
        log.warning("could not record the render time", exc_info=True)


def _executor(app: Flask) -> ThreadPoolExecutor:
    state = state_of(app)
    with state.lock:
        executor = app.extensions.get(EXECUTOR)
        if executor is None:
            # As many threads as render processes: each thread waits on one render at a time.
            executor = ThreadPoolExecutor(max_workers=jobs.render_processes(app), thread_name_prefix="leaflet-render")
            app.extensions[EXECUTOR] = executor
        return executor


def shutdown(app: Flask) -> None:
    """Stop this app's render threads (after the renders already asked for)."""
    executor = app.extensions.pop(EXECUTOR, None)
    if executor is not None:
        executor.shutdown(wait=True)


# --- Marks, refusals and the estimate ---------------------------------------------------------------------------


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _is_abandoned(asked_at: float, owner: str) -> bool:
    if time.time() - asked_at > ABANDONED_AFTER_SECONDS:
        return True
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine's: only its age tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def refusal_bytes(error: LeafletError) -> bytes:
    """Why a leaflet cannot be printed, as the cache keeps it beside where its PDF would be."""
    return json.dumps({"problems": problems_of(error)}).encode("utf-8")


def _refusal(cache: LeafletCache, key: str) -> dict[str, str] | None:
    data = cache.get(key, ".json")
    if data is None:
        return None
    try:
        problems = json.loads(data)["problems"]
    except (ValueError, KeyError, TypeError):
        return None
    return {str(k): str(v) for k, v in problems.items()}


def render_slots(app: Flask) -> int:
    """Render processes across every web process (gunicorn's WEB_CONCURRENCY of them, each with its own)."""
    web_processes = max(1, int(os.environ.get("WEB_CONCURRENCY") or 1))
    return web_processes * jobs.render_processes(app)


def average_render_seconds(cache: LeafletCache) -> float:
    """How long a render has lately taken, as the render threads measured it."""
    return float(cache.read_timings().get("average", DEFAULT_RENDER_SECONDS))


def finishing_rate(cache: LeafletCache) -> float | None:
    """Renders finished a second lately, across every process; None when too few finished lately to say.

    Only finishes of the last RATE_IS_CURRENT_SECONDS count: one from an earlier burst would make the rate look slow.
    """
    now = time.time()
    finished = [t for t in cache.read_timings().get("finished", []) if now - t <= RATE_IS_CURRENT_SECONDS]
    if len(finished) < 5 or finished[-1] <= finished[0]:
        return None
    return (len(finished) - 1) / (finished[-1] - finished[0])


def _estimate(cache: LeafletCache, ahead: int) -> int:
    """Seconds until the page can show the leaflet: the queue's work, with a margin, and the page's next look."""
    rounds = ahead // render_slots(current_app) + 1
    seconds = rounds * average_render_seconds(cache)
    rate = finishing_rate(cache)
    if rate is not None:
        seconds = max(seconds, (ahead + 1) / rate)
    work = seconds * ESTIMATE_MARGIN
    pool = state_of(current_app).render_pool
    if pool is None or not pool.started:
        work += PROCESS_START_SECONDS
    return max(1, math.ceil(work + _refresh_for(work)))


def _refresh_for(seconds: float) -> int:
    return max(2, min(10, int(seconds) // 4))
