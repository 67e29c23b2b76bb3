"""Campaign-launch load test: coordinators log in, open the leaflet builder and download a leaflet, all in a minute.

Each simulated coordinator, starting at an even pace over `--seconds`, does what a person does on launch day:
the login page, logging in (and the home page it leads to), the builder for their scheme, "Download PDF" (the
leaflet is checked and rendered), the leaflet's page and the PDF itself. Every coordinator has a scheme of their
own, so every leaflet is a fresh render (its contact line differs), and the starter campaigns take turns.

Two worlds, each on a database, an instance folder and a port of its own, all on this machine:
- production: gunicorn (2 workers, gunicorn.conf.py) + `flask --app coordinator worker` (RQ) + PostgreSQL +
  Redis, with COORDINATOR_ENV=production;
- embedded: `flask --app coordinator run` on SQLite with in-process jobs, as `make run` serves it.

Printed: p50/p95/max of the HTML pages and of PDF delivery (from pressing "Download PDF" to holding the file),
errors, leaflets per minute, and the peak RSS of the web and worker process trees (render processes included).
All coordinators share 127.0.0.1, so the per-address login limit is lifted for the run; on launch day they
log in from 600 homes.

Run: .venv/bin/python bench/load.py [--coordinators 600] [--seconds 60] [--world both|production|embedded]
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
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/10"
SCHEMA = "nwc_load_bench"
# The starter campaigns and the helpline set each is naturally printed with.
CAMPAIGNS = {
    "its-not-ok": "sexual-violence",
    "metoo-bystanders": "sexual-violence",
    "vawg-prevention": "domestic-abuse",
    "you-are-not-alone": "domestic-abuse",
}
REQUEST_TIMEOUT = 180
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# --- Seeding (runs in a subprocess with the world's environment, like any flask command) -----------------------


def seed(count: int) -> None:
    """Starter content approved and verified, `count` coordinators each with a scheme of three streets; JSON out."""
    sys.path.insert(0, str(ROOT))
    from coordinator import create_app
    from coordinator.auth.models import Role, User
    from coordinator.auth.services import hash_password
    from coordinator.content import services as content
    from coordinator.content.models import ContentKind
    from coordinator.content.starter import load_starter_content
    from coordinator.extensions import db
    from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street

    app = create_app()
    with app.app_context():
        admin = User(email="admin@load.example.org", name="Ada Admin", role=Role.ADMIN, is_active_account=True,
                     password_hash=hash_password(PASSWORD))
        db.session.add(admin)
        db.session.flush()
        report = load_starter_content(admin)
        assert report is not None and report.ok, "the starter content did not load"
        for item in content.library_items(ContentKind.HELPLINE):
            if item.current_version is not None:
                content.reverify_helpline(item, admin)
        choices = {
            slug: (content.find_item(ContentKind.CAMPAIGN, slug).current_version.id,
                   content.find_item(ContentKind.HELPLINE_SET, helplines).current_version.id)
            for slug, helplines in CAMPAIGNS.items()
        }
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
        json.dump({"choices": choices, "people": [(u.email, s.id) for u, s in people]}, sys.stdout)


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
    return World("embedded", {"COORDINATOR_ENV": "development"},
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


def coordinator_session(port: int, email: str, scheme_id: int, choice: tuple[int, int], results: Results) -> None:
    """Log in, open the builder, download a leaflet; every page's time goes into `results`."""
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
        step = "download"
        campaign_id, helpline_set_id = choice
        pressed = time.perf_counter()
        status, headers, body, took = browser.request("POST", builder, {
            "csrf_token": _csrf(page), "campaign": campaign_id, "helplines": helpline_set_id, "notice": "",
            "layout": "a5", "print_mode": "home", "download": "Download PDF"})
        results.add(step, took, is_html=False)
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


def launch(port: int, people: list, choices: list, seconds: float, results: Results) -> float:
    """Start one coordinator every `seconds / len(people)`; return when all have finished (bounded)."""
    threads = []
    started = time.monotonic()
    gap = seconds / max(1, len(people))
    for n, (email, scheme_id) in enumerate(people):
        delay = started + n * gap - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread = threading.Thread(target=coordinator_session, daemon=True,
                                  args=(port, email, scheme_id, choices[n % len(choices)], results))
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


def run_world(world: World, instance: Path, count: int, seconds: float) -> dict:
    env = world_env(world, instance)
    logs = instance / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    subprocess.run([str(BIN / "flask"), "--app", "coordinator", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    seeded = subprocess.run([sys.executable, __file__, "--seed", str(count + 2)], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    data = json.loads(seeded.stdout)
    choices = list(data["choices"].values())
    people = data["people"]
    web = start(world.web, env, logs / "web.log")
    worker = start(world.worker, env, logs / "worker.log") if world.worker else None
    try:
        wait_until_healthy(world.port, web, logs / "web.log")
        # Two coordinators first, not counted: the render processes start on first use, as after any restart.
        warm = Results()
        for email, scheme_id in people[:2]:
            coordinator_session(world.port, email, scheme_id, choices[0], warm)
        if warm.errors:
            raise RuntimeError(f"warm-up failed: {warm.errors}\n{(logs / 'web.log').read_text()[-3000:]}")
        roots = {"web": web.pid}
        if worker is not None:
            roots["worker"] = worker.pid
        sampler = ProcessSampler(roots)
        sampler.start()
        results = Results()
        own_cpu = resource.getrusage(resource.RUSAGE_SELF)
        started = launch(world.port, people[2:], choices, seconds, results)
        finished = time.monotonic()
        sampler.stop.set()
        sampler.join()
        sampler.sample()
        cpu = sampler.cpu_seconds()
        now = resource.getrusage(resource.RUSAGE_SELF)
        cpu["load generator"] = now.ru_utime + now.ru_stime - own_cpu.ru_utime - own_cpu.ru_stime
    finally:
        if worker is not None:
            stop(worker)
        stop(web)
        for step in world.cleanup:
            step()
        # The logs outlive the run's folder, for reading what went wrong.
        for log in logs.glob("*.log"):
            (Path(tempfile.gettempdir()) / f"nwc-load-{world.name}-{log.name}").write_bytes(log.read_bytes())
    done = len(results.pdf)
    in_first_minute = sum(1 for t in results.leaflet_done_at if t - started <= 60)
    return {
        "world": world.name,
        "coordinators": count,
        "errors": results.errors,
        "html": results.html,
        "pdf": results.pdf,
        "leaflets": done,
        "leaflets_first_minute": in_first_minute,
        "wall": finished - started,
        "per_minute": done / ((finished - started) / 60) if done else 0.0,
        "peaks": sampler.peaks,
        "steps": results.steps,
        "cpu": cpu,
    }


def report(figures: dict) -> None:
    html, pdf = figures["html"], figures["pdf"]
    print(f"\n== {figures['world']}: {figures['coordinators']} coordinators ==")
    if html:
        print(f"  HTML pages    : {len(html):5d} requests, p50 {statistics.median(html) * 1000:7.1f} ms, "
              f"p95 {percentile(html, 0.95) * 1000:7.1f} ms, max {max(html) * 1000:7.1f} ms")
    if pdf:
        print(f"  PDF delivery  : {len(pdf):5d} leaflets, p50 {statistics.median(pdf) * 1000:7.1f} ms, "
              f"p95 {percentile(pdf, 0.95) * 1000:7.1f} ms, max {max(pdf) * 1000:7.1f} ms")
    for step, times in figures["steps"].items():
        print(f"    {step:<14}: p50 {statistics.median(times) * 1000:7.1f} ms, p95 {percentile(times, 0.95) * 1000:7.1f} ms")
    print(f"  leaflets      : {figures['leaflets']} in {figures['wall']:.1f} s = {figures['per_minute']:.0f} a minute; "
          f"{figures['leaflets_first_minute']} within the first minute")
    print(f"  errors        : {len(figures['errors'])}")
    for line in figures["errors"][:10]:
        print(f"    {line}")
    wall = figures["wall"]
    print("  CPU seconds   : " + ", ".join(f"{name} {used:.0f}" for name, used in figures["cpu"].items() if used >= 0.5)
          + f" (of {wall * (os.cpu_count() or 1):.0f} on {os.cpu_count()} cores in {wall:.0f} s)")
    print("  peak RSS      : " + ", ".join(f"{name} {mb:.0f} MB" for name, mb in figures["peaks"].items()))
    if html:
        goal = percentile(html, 0.95) <= 0.300 and not figures["errors"]
        print(f"  goal (0 errors, HTML p95 <= 300 ms): {'met' if goal else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coordinators", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--world", choices=("both", "production", "embedded"), default="both")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL server for production")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis database for production (emptied)")
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed is not None:
        seed(args.seed)
        return
    worlds = ["production", "embedded"] if args.world == "both" else [args.world]
    print(f"{args.coordinators} coordinators over {args.seconds:g} s on {os.cpu_count()} cores "
          "(the load comes from this machine too)")
    for name in worlds:
        with tempfile.TemporaryDirectory(prefix=f"nwc-load-{name}-") as folder:
            instance = Path(folder)
            world = production_world(instance, args.database_url, args.redis_url) if name == "production" \
                else embedded_world()
            report(run_world(world, instance, args.coordinators, args.seconds))


if __name__ == "__main__":
    main()
