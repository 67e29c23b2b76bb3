"""Campaign-launch load test: coordinators log in, open the leaflet builder and download a leaflet, all in a minute.

Each simulated coordinator, starting at an even pace over `--seconds`, does what a person does on launch day:
the login page, logging in (and the home page it leads to), the builder for their scheme, "Download PDF", and
then, as a browser without JavaScript does, the waiting page (refreshed as often as it says) until the leaflet is
ready, its "Download PDF" again, the leaflet's page and the PDF itself. Every coordinator has a scheme of their
own, so every leaflet is a different file (its contact line differs).

Three phases in each world, one campaign launching (#MeToo bystanders, which recommends "Sexual violence"; the
other starter campaigns recommend no set here, so only the launch is warmed):
1. warm-up: the worker's sweep makes every scheme's leaflet ready (A5, each scheme's usual format), while
   `--browsing` coordinators log in and open their builder, so pages are timed during the warm-up;
2. warmed launch: `--coordinators` coordinators over `--seconds` press "Download PDF" (cache hits);
3. cold: `--cold` coordinators over a quarter of `--seconds` ask for a DL leaflet nobody warmed; each leaflet's
   delivery is compared with the estimate its waiting page first showed.

Two worlds, each on a database, an instance folder and a port of its own, all on this machine:
- production: gunicorn (2 workers, gunicorn.conf.py) + `flask --app coordinator worker` (RQ) + PostgreSQL +
  Redis, with COORDINATOR_ENV=production;
- embedded: `flask --app coordinator run` on SQLite with in-process jobs, as `make run` serves it.

Printed per phase: p50/p95/max of the HTML pages and of PDF delivery (from pressing "Download PDF" to holding the
file), errors, leaflets per minute, CPU seconds and peak RSS of the web and worker process trees (render processes
included); for the warm-up its wall time, CPU time and the cache's size on disk; for the cold phase how many
leaflets came within the estimate shown.
All coordinators share 127.0.0.1, so the per-address login limit is lifted for the run; on launch day they
log in from 600 homes.

Run: .venv/bin/python bench/load.py [--coordinators 600] [--seconds 60] [--browsing 300] [--cold 120]
     [--world both|production|embedded]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "launch day password 2026"
DEFAULT_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
DEFAULT_REDIS_URL = os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/10")
SCHEMA = os.environ.get("LOAD_SCHEMA", "nwc_load_bench")
# The campaign launching, and the set it recommends (the builder preselects it, the warm-up makes it ready).
LAUNCH = ("metoo-bystanders", "sexual-violence")
REQUEST_TIMEOUT = 180
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
REFRESH_RE = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')
ESTIMATE_RE = re.compile(r"It should be ready within\s+(\d+) (second|seconds|minutes)")
HIDDEN_RE = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')


# --- Seeding (runs in a subprocess with the world's environment, like any flask command) -----------------------


def seed(count: int) -> None:
    """Starter content approved and verified, `count` coordinators each with a scheme of three streets; JSON out."""
    sys.path.insert(0, str(ROOT))
    from coordinator import create_app
    from coordinator.auth.models import Role, User
    from coordinator.auth.services import hash_password
    from coordinator.content import services as content
    from coordinator.content.models import ContentKind
    from coordinator.content.packs import import_pack
    from coordinator.content.starter import STARTER_PACK
    from coordinator.extensions import db
    from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street

    app = create_app()
    with app.app_context():
        admin = User(email="admin@load.example.org", name="Ada Admin", role=Role.ADMIN, is_active_account=True,
                     password_hash=hash_password(PASSWORD))
        db.session.add(admin)
        db.session.flush()
        # The launching campaign alone recommends a set, so only it is warmed; every campaign runs today.
        pack = json.loads(STARTER_PACK.read_text(encoding="utf-8"))
        for item in pack["items"]:
            item["fields"].pop("every_year_from", None)
            item["fields"].pop("every_year_until", None)
            if item["kind"] == "campaign" and item["slug"] != LAUNCH[0]:
                item["fields"].pop("recommended_helpline_set", None)
        report = import_pack(json.dumps(pack).encode(), None, approve_as=admin, system_label="starter content")
        assert report is not None and report.ok, "the starter content did not load"
        for item in content.library_items(ContentKind.HELPLINE):
            if item.current_version is not None:
                content.reverify_helpline(item, admin)
        choice = (content.find_item(ContentKind.CAMPAIGN, LAUNCH[0]).current_version.id,
                  content.find_item(ContentKind.HELPLINE_SET, LAUNCH[1]).current_version.id)
        password_hash = hash_password(PASSWORD)  # one hash for all: seeding measures nothing
        people = []
        for n in range(count):
            user = User(email=f"coordinator{n}@load.example.org", name=f"Coordinator {n}", role=Role.COORDINATOR,
                        is_active_account=True, password_hash=password_hash)
            scheme = Scheme(name=f"Launch Street Watch {n}", slug=f"launch-street-watch-{n}",
                            contact_email=f"watch{n}@load.example.org", contact_phone="020 7946 0018")
            scheme.memberships.append(SchemeCoordinator(user=user, role=CoordinatorRole.MAIN))
            for s in range(3):
                scheme.streets.append(Street(name=f"Launch Road {n}-{s}", postcode="BR1 1AA", households=40 + s,
                                             households_no_leaflets=s))
            db.session.add_all([user, scheme])
            people.append((user, scheme))
        db.session.commit()
        json.dump({"choice": choice, "people": [(u.email, s.id) for u, s in people]}, sys.stdout)


def warmup_status() -> None:
    """The warm-ups as the database has them, as JSON (run with the world's environment)."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from coordinator import create_app
    from coordinator.extensions import db
    from coordinator.leaflets.models import LeafletWarmup

    app = create_app()
    with app.app_context():
        rows = db.session.scalars(select(LeafletWarmup)).all()
        json.dump([{"state": w.state.value, "total": w.total, "done": w.done, "rendered": w.rendered,
                    "refused": w.refused, "failed": w.failed, "cpu_seconds": w.cpu_seconds,
                    "bytes": w.bytes_written, "nice": w.render_nice,
                    "seconds": (w.finished_at - w.started_at).total_seconds() if w.finished_at and w.started_at
                    else None} for w in rows], sys.stdout)


# --- The worlds --------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_schema_url(base: str, schema: str, *, fresh: bool) -> str:
    """A URL on the bench's own schema (made empty when `fresh`; dropped when not)."""
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if fresh:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


def empty_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@dataclass
class World:
    """One way of running the toolkit: its environment, and the commands of its web and worker processes."""

    name: str
    env: dict
    web: list[str]
    worker: list[str] | None
    port: int
    cleanup: list = field(default_factory=list)


def production_world(instance: Path, database_url: str, redis_url: str) -> World:
    port = free_port()
    env = {
        "COORDINATOR_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": postgres_schema_url(database_url, SCHEMA, fresh=True),
        "REDIS_URL": redis_url,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }
    empty_redis(redis_url)
    world = World("production", env,
                  [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--access-logfile", "/dev/null",
                   "coordinator:create_app()"],
                  [str(BIN / "flask"), "--app", "coordinator", "worker"], port)
    world.cleanup += [lambda: postgres_schema_url(database_url, SCHEMA, fresh=False), lambda: empty_redis(redis_url)]
    return world


def embedded_world() -> World:
    port = free_port()
    # The address leaflets print (the QR code's): the warm-up, made by the job thread, uses PUBLIC_BASE_URL, and a
    # page without it the address it was opened on; set, as a deployment sets it, both make the same file.
    return World("embedded", {"COORDINATOR_ENV": "development", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
                 [str(BIN / "flask"), "--app", "coordinator", "run", "--port", str(port)], None, port)


def world_env(world: World, instance: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL")}
    env.update(world.env)
    env.update({
        "COORDINATOR_INSTANCE": str(instance),
        "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "100 per minute",
        "MAIL_SERVER": "",
        "PYTHONUNBUFFERED": "1",
        # The sweep plans the warm-up; every 5 s, so the bench need not wait a minute for it.
        "JOBS_SWEEP_SECONDS": "5",
    })
    return env


# --- Processes and their memory ---------------------------------------------------------------------------------


def _processes() -> tuple[dict[int, list[int]], dict[int, tuple[str, int]]]:
    """Every process's children, and its name and CPU ticks used so far (user + system)."""
    tree: dict[int, list[int]] = {}
    facts: dict[int, tuple[str, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1:stat.rindex(")")], stat.rsplit(")", 1)[1].split()
        tree.setdefault(int(rest[1]), []).append(int(entry.name))
        facts[int(entry.name)] = (name, int(rest[11]) + int(rest[12]))
    return tree, facts


def _descendants(root: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, []))
    return found


def _is_spawned(pid: int) -> bool:
    try:
        return b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class ProcessSampler(threading.Thread):
    """Every 0.25 s: the RSS of each named process tree (its peak is kept) and the CPU its processes used.

    CPU seconds are counted per process from its first sample, so processes that come and go (RQ's work-horses,
    render processes) count too, up to their last sample; PostgreSQL's server processes are counted by name.
    """

    def __init__(self, roots: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.roots = roots
        self.peaks = {name: 0.0 for name in roots}
        self.ticks: dict[str, dict[int, list[int]]] = {name: {} for name in [*roots, "renders", "postgres"]}
        self.stop = threading.Event()
        self.sample(is_first=True)

    def sample(self, is_first: bool = False) -> None:
        tree, facts = _processes()
        groups = {name: _descendants(pid, tree) for name, pid in self.roots.items()}
        groups["postgres"] = [pid for pid, (name, _) in facts.items() if name == "postgres"]
        # The web's render processes apart from the web itself (multiprocessing's spawned children).
        groups["renders"] = [pid for pid in groups["web"] if _is_spawned(pid)]
        for name, pids in groups.items():
            if name in self.peaks:
                self.peaks[name] = max(self.peaks[name], sum(_rss_kb(pid) for pid in pids) / 1024)
            for pid in pids:
                if pid in facts:
                    # A process born during the run counts from its start.
                    first_last = self.ticks[name].setdefault(pid, [facts[pid][1] if is_first else 0, 0])
                    first_last[1] = facts[pid][1]

    def cpu_seconds(self) -> dict[str, float]:
        hertz = os.sysconf("SC_CLK_TCK")
        return {name: sum(last - first for first, last in pids.values()) / hertz for name, pids in self.ticks.items()}

    def run(self) -> None:
        while not self.stop.wait(0.25):
            self.sample()


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def wait_until_healthy(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web process exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"the web process never answered /healthz:\n{log.read_text()[-3000:]}")


# --- One coordinator --------------------------------------------------------------------------------------------


class Browser:
    """One coordinator's connection and cookies: a keep-alive HTTP/1.1 client, as a browser tab is."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, dict, bytes, float]:
        headers = {"Accept": "text/html,application/pdf", "User-Agent": "load-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed the kept-alive connection while this tab sat on a waiting page: as a browser
            # does, send a GET again on a new connection (never a form: it may have arrived).
            self.conn.close()
            if method != "GET":
                raise
            started = time.perf_counter()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # a dropped keep-alive connection: the next request opens a new one
            raise
        elapsed = time.perf_counter() - started
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if val:
                    self.cookies[key.strip()] = val.strip()
                else:
                    self.cookies.pop(key.strip(), None)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data, elapsed

    def close(self) -> None:
        self.conn.close()


@dataclass
class Results:
    html: list[float] = field(default_factory=list)
    pdf: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaflet_done_at: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=dict)
    # For each leaflet that went through the waiting page: (the estimate it first showed, seconds until ready).
    estimates: list[tuple[float, float]] = field(default_factory=list)
    waited: int = 0  # leaflets that were not ready when asked for
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, seconds: float, is_html: bool = True) -> None:
        with self.lock:
            self.steps.setdefault(step, []).append(seconds)
            if is_html:
                self.html.append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def _csrf(page: bytes) -> str:
    match = CSRF_RE.search(page.decode("utf-8", "replace"))
    if not match:
        raise AssertionError("no CSRF token on the page")
    return match.group(1)


def _estimate_seconds(page: str) -> float | None:
    match = ESTIMATE_RE.search(page)
    if not match:
        return None
    return float(match.group(1)) * (60 if match.group(2) == "minutes" else 1)


def coordinator_session(port: int, email: str, scheme_id: int, choice: tuple[int, int], results: Results,
                        layout: str = "a5", download: bool = True) -> None:
    """Log in, open the builder, download a leaflet (following the waiting page); every page's time is kept."""
    browser = Browser(port)
    step = "login page"
    try:
        status, _, page, took = browser.request("GET", "/account/login")
        results.add(step, took)
        assert status == 200, f"HTTP {status}"
        step = "log in"
        status, headers, _, took = browser.request("POST", "/account/login", {
            "csrf_token": _csrf(page), "email": email, "password": PASSWORD})
        results.add(step, took)
        assert status == 302, f"HTTP {status}"
        step = "home page"
        status, _, _, took = browser.request("GET", urlsplit(headers["location"]).path or "/")
        results.add(step, took)
        assert status == 200, f"HTTP {status}"
        step = "builder"
        builder = f"/leaflets/schemes/{scheme_id}/new"
        status, _, page, took = browser.request("GET", builder)
        results.add(step, took)
        assert status == 200, f"HTTP {status}"
        if not download:
            return
        step = "download"
        campaign_id, helpline_set_id = choice
        pressed = time.perf_counter()
        status, headers, body, took = browser.request("POST", builder, {
            "csrf_token": _csrf(page), "campaign": campaign_id, "helplines": helpline_set_id, "notice": "",
            "layout": layout, "print_mode": "home", "download": "Download PDF"})
        results.add(step, took)
        if status == 303:  # not made yet: the waiting page, refreshed as a browser without JavaScript does
            with results.lock:
                results.waited += 1
            waiting = headers["location"]
            estimate = None
            step = "waiting page"
            while True:
                status, _, page, took = browser.request("GET", urlsplit(waiting).path + "?" + urlsplit(waiting).query)
                results.add(step, took)
                assert status == 200, f"HTTP {status}"
                text = page.decode("utf-8", "replace")
                if estimate is None:
                    estimate = _estimate_seconds(text)
                refresh = REFRESH_RE.search(text)
                if refresh is None:
                    break
                time.sleep(int(refresh.group(1)))
            assert "Your leaflet is ready." in text, f"not ready and not waiting: {text[:300]!r}"
            ready_after = time.perf_counter() - pressed
            if estimate is not None:
                with results.lock:
                    results.estimates.append((estimate, ready_after))
            step = "download when ready"
            status, headers, body, took = browser.request("POST", builder, dict(HIDDEN_RE.findall(text)))
            results.add(step, took)
        assert status == 302, f"HTTP {status}: {body[:300]!r}"
        step = "leaflet page"
        record = urlsplit(headers["location"]).path
        status, _, _, took = browser.request("GET", record)
        results.add(step, took)
        assert status == 200, f"HTTP {status}"
        step = "PDF"
        status, headers, pdf, took = browser.request("GET", f"{record}/leaflet.pdf")
        results.add(step, took, is_html=False)
        assert status == 200 and pdf.startswith(b"%PDF-"), f"HTTP {status}, {headers.get('content-type')}"
        with results.lock:
            results.pdf.append(time.perf_counter() - pressed)
            results.leaflet_done_at.append(time.monotonic())
    except Exception as exc:  # noqa: BLE001 - every failure is counted and shown, none stops the run
        results.error(f"{email} at {step}: {exc!r}"[:300])
    finally:
        browser.close()


def launch(port: int, people: list, choice: tuple[int, int], seconds: float, results: Results, **how) -> float:
    """Start one coordinator every `seconds / len(people)`; return when all have finished (bounded)."""
    threads = []
    started = time.monotonic()
    gap = seconds / max(1, len(people))
    for n, (email, scheme_id) in enumerate(people):
        delay = started + n * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=coordinator_session, daemon=True,
                                  args=(port, email, scheme_id, choice, results), kwargs=how)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + 10 * 60
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    unfinished = sum(thread.is_alive() for thread in threads)
    if unfinished:
        results.error(f"{unfinished} coordinator(s) still waiting after the 10-minute limit")
    return started


# --- A run --------------------------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _warmups(env: dict) -> list[dict]:
    done = subprocess.run([sys.executable, __file__, "--warmup-status"], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout)


def _folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


class Phase:
    """CPU and memory of the world's processes over one phase, with the load generator's own CPU apart."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.sampler = ProcessSampler(roots)
        self.sampler.start()
        self.own = resource.getrusage(resource.RUSAGE_SELF)
        self.started = time.monotonic()

    def end(self) -> tuple[dict[str, float], dict[str, float], float]:
        wall = time.monotonic() - self.started
        self.sampler.stop.set()
        self.sampler.join()
        self.sampler.sample()
        cpu = self.sampler.cpu_seconds()
        now = resource.getrusage(resource.RUSAGE_SELF)
        cpu["load generator"] = now.ru_utime + now.ru_stime - self.own.ru_utime - self.own.ru_stime
        return cpu, self.sampler.peaks, wall


def _figures(name: str, results: Results, started: float, finished: float, cpu: dict, peaks: dict) -> dict:
    done = len(results.pdf)
    return {
        "phase": name,
        "errors": results.errors,
        "html": results.html,
        "pdf": results.pdf,
        "leaflets": done,
        "leaflets_first_minute": sum(1 for t in results.leaflet_done_at if t - started <= 60),
        "wall": finished - started,
        "per_minute": done / ((finished - started) / 60) if done else 0.0,
        "peaks": peaks,
        "steps": results.steps,
        "cpu": cpu,
        "estimates": results.estimates,
        "waited": results.waited,
    }


def run_world(world: World, instance: Path, count: int, seconds: float, browsing: int, cold: int) -> dict:
    env = world_env(world, instance)
    logs = instance / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "flask"), "--app", "coordinator", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    seeded = subprocess.run([sys.executable, __file__, "--seed", str(count + 2)], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    data = json.loads(seeded.stdout)
    choice = tuple(data["choice"])
    people = data["people"]
    web = start(world.web, env, logs / "web.log")
    worker = start(world.worker, env, logs / "worker.log") if world.worker else None
    phases = []
    warmup: dict = {}
    try:
        wait_until_healthy(world.port, web, logs / "web.log")
        roots = {"web": web.pid}
        if worker is not None:
            roots["worker"] = worker.pid

        # 1. The warm-up, planned by the sweep (at the worker's start, or the web process's first request), with
        # coordinators browsing meanwhile: their pages are timed while it runs.
        phase = Phase(roots)
        results = Results()
        began = time.monotonic()
        browsing_started = time.monotonic()
        browsers = threading.Thread(target=launch, args=(world.port, people[2:2 + browsing], choice, seconds, results),
                                    kwargs={"download": False}, daemon=True)
        browsers.start()
        while True:
            rows = _warmups(env)
            if rows and all(row["state"] == "done" for row in rows):
                break
            if time.monotonic() - began > 30 * 60:
                raise RuntimeError(f"the warm-up did not finish in 30 minutes: {rows}")
            time.sleep(2)
        warm_wall = time.monotonic() - began
        browsers.join()
        cpu, peaks, _ = phase.end()
        phases.append(_figures("warm-up, coordinators browsing", results, browsing_started, time.monotonic(), cpu,
                               peaks))
        warmup = {"rows": rows, "wall": warm_wall, "disk": _folder_bytes(instance / "leaflet-cache"),
                  "cpu": cpu}

        # 2. The launch: every leaflet warmed.
        phase = Phase(roots)
        results = Results()
        started = launch(world.port, people[2:], choice, seconds, results)
        finished = time.monotonic()
        cpu, peaks, _ = phase.end()
        phases.append(_figures("warmed launch", results, started, finished, cpu, peaks))

        # 3. Cold: a layout nobody warmed, through the waiting page.
        phase = Phase(roots)
        results = Results()
        started = launch(world.port, people[2:2 + cold], choice, seconds / 4, results, layout="dl")
        finished = time.monotonic()
        cpu, peaks, _ = phase.end()
        phases.append(_figures("cold (DL, not warmed)", results, started, finished, cpu, peaks))
    finally:
        if worker is not None:
            stop(worker)
        stop(web)
        for step in world.cleanup:
            step()
        # The logs outlive the run's folder, for reading what went wrong.
        for log in logs.glob("*.log"):
            (Path(tempfile.gettempdir()) / f"nwc-load-{world.name}-{log.name}").write_bytes(log.read_bytes())
    return {"world": world.name, "coordinators": count, "phases": phases, "warmup": warmup}


def report(figures: dict) -> None:
    print(f"\n== {figures['world']}: {figures['coordinators']} coordinators ==")
    warmup = figures["warmup"]
    rows = warmup.get("rows", [])
    if rows:
        rendered = sum(row["rendered"] for row in rows)
        print(f"  warm-up       : {sum(row['total'] for row in rows)} schemes, {rendered} rendered, "
              f"{sum(row['refused'] for row in rows)} refused, {sum(row['failed'] for row in rows)} failed, "
              f"in {warmup['wall']:.0f} s (nice {', '.join(str(row['nice']) for row in rows)})")
        print(f"    CPU seconds : the job's own {sum(row['cpu_seconds'] for row in rows):.1f} (RQ renders in it); "
              f"worker tree {warmup['cpu'].get('worker', 0):.1f}, render processes {warmup['cpu'].get('renders', 0):.1f}, "
              f"web {warmup['cpu'].get('web', 0):.1f}")
        print(f"    disk        : {warmup['disk'] / 1048576:.1f} MB in the cache "
              f"({sum(row['bytes'] for row in rows) / max(1, rendered) / 1024:.0f} KB a leaflet)")
    for phase in figures["phases"]:
        html, pdf = phase["html"], phase["pdf"]
        print(f"  -- {phase['phase']}")
        if html:
            print(f"  HTML pages    : {len(html):5d} requests, p50 {statistics.median(html) * 1000:7.1f} ms, "
                  f"p95 {percentile(html, 0.95) * 1000:7.1f} ms, max {max(html) * 1000:7.1f} ms")
        if pdf:
            print(f"  PDF delivery  : {len(pdf):5d} leaflets, p50 {statistics.median(pdf) * 1000:7.1f} ms, "
                  f"p95 {percentile(pdf, 0.95) * 1000:7.1f} ms, max {max(pdf) * 1000:7.1f} ms; "
                  f"{phase['waited']} went through the waiting page")
        for step, times in phase["steps"].items():
            print(f"    {step:<20}: p50 {statistics.median(times) * 1000:7.1f} ms, "
                  f"p95 {percentile(times, 0.95) * 1000:7.1f} ms")
        if phase["estimates"]:
            within = sum(1 for shown, took in phase["estimates"] if took <= shown)
            ratios = [took / shown for shown, took in phase["estimates"]]
            print(f"  estimates     : {within} of {len(phase['estimates'])} ready within the estimate first shown; "
                  f"ready/estimate p50 {statistics.median(ratios):.2f}, p95 {percentile(ratios, 0.95):.2f}; "
                  f"estimates shown p50 {statistics.median(s for s, _ in phase['estimates']):.0f} s, "
                  f"max {max(s for s, _ in phase['estimates']):.0f} s")
        if pdf:
            print(f"  leaflets      : {phase['leaflets']} in {phase['wall']:.1f} s = {phase['per_minute']:.0f} a minute")
        print(f"  errors        : {len(phase['errors'])}")
        for line in phase["errors"][:10]:
            print(f"    {line}")
        wall = phase["wall"]
        print("  CPU seconds   : " + ", ".join(f"{name} {used:.0f}" for name, used in phase["cpu"].items()
                                             if used >= 0.5)
              + f" (of {wall * (os.cpu_count() or 1):.0f} on {os.cpu_count()} cores in {wall:.0f} s)")
        print("  peak RSS      : " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in phase["peaks"].items()))
    html = [t for phase in figures["phases"] for t in phase["html"]]
    errors = sum(len(phase["errors"]) for phase in figures["phases"])
    warmed = figures["phases"][1]["pdf"] if len(figures["phases"]) > 1 else []
    cold = figures["phases"][2]["estimates"] if len(figures["phases"]) > 2 else []
    print(f"  goals: HTML p95 <= 300 ms in every phase: "
          f"{'met' if all(percentile(p['html'], 0.95) <= 0.300 for p in figures['phases'] if p['html']) else 'NOT met'}"
          f" (all pages {percentile(html, 0.95) * 1000:.0f} ms); 0 errors: {'met' if not errors else 'NOT met'}; "
          f"warmed PDF p95 <= 2 s: {'met' if warmed and percentile(warmed, 0.95) <= 2 else 'NOT met'}; "
          f"cold within the estimate: {sum(1 for s, t in cold if t <= s)} of {len(cold)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinators", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--browsing", type=int, default=300, help="coordinators browsing during the warm-up")
    parser.add_argument("--cold", type=int, default=120, help="coordinators asking for a leaflet nobody warmed")
    parser.add_argument("--world", choices=("both", "production", "embedded"), default="both")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL server for production")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis database for production (emptied)")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup-status", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        seed(args.seed)
        return
    if args.warmup_status:
        warmup_status()
        return
    worlds = ["production", "embedded"] if args.world == "both" else [args.world]
    print(f"{args.coordinators} coordinators over {args.seconds:g} s on {os.cpu_count()} cores "
          "(the load comes from this machine too)")
    for name in worlds:
        with tempfile.TemporaryDirectory(prefix=f"nwc-load-{name}-") as folder:
            instance = Path(folder)
            world = production_world(instance, args.database_url, args.redis_url) if name == "production" \
                else embedded_world()
            report(run_world(world, instance, args.coordinators, args.seconds, args.browsing, args.cold))


if __name__ == "__main__":
    main()
