"""Server time of the admin list pages at the association's full size, on SQLite.

Builds a throw-away SQLite database with 600 coordinators, ~600 schemes across Bromley's wards, 5,000
streets and 20,000 audit entries, logs in as an admin through the real login form, then requests each
list page many times through the Flask test client and prints the median and 95th percentile in
milliseconds beside the goal (under 100 ms). The time is measured around `client.get`: the whole
request in the server (routing, queries, templates), without a network.

    .venv/bin/python bench/admin_lists.py              # the figures for the README
    .venv/bin/python bench/admin_lists.py --repeat 200 # steadier figures
    .venv/bin/python bench/admin_lists.py --keep       # keep the database to look at it afterwards

Exits with status 1 when any page's 95th percentile is over the goal.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config import Config
from coordinator import create_app
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import Role, User
from coordinator.auth.services import hash_password
from coordinator.extensions import db
from coordinator.schemes.models import CoordinatorRole, Scheme, SchemeCoordinator, Street

GOAL_MS = 100.0
PASSWORD = "a bench password nobody uses"
ADMIN_EMAIL = "bench.admin@example.org"

# Bromley's wards (2022 boundaries): the "ward or area" of the schemes.
WARDS = [
    "Beckenham Town and Copers Cope",
    "Bickley and Sundridge",
    "Biggin Hill",
    "Bromley Common and Holwood",
    "Bromley Town",
    "Chelsfield",
    "Chislehurst",
    "Clock House",
    "Crystal Palace and Anerley",
    "Darwin",
    "Hayes and Coney Hall",
    "Kelsey and Eden Park",
    "Mottingham",
    "Orpington",
    "Penge and Cator",
    "Petts Wood and Knoll",
    "Plaistow",
    "Shortlands and Park Langley",
    "St Mary Cray",
    "St Paul's Cray",
    "West Wickham",
]
FIRST_NAMES = ["Pat", "Sam", "Alex", "Jo", "Chris", "Nia", "Ravi", "Zoë", "Łukasz", "Aisha", "Omar", "Mei", "Ade"]
LAST_NAMES = ["Okafor", "Reid", "Smith", "Patel", "Jones", "Chan", "Nowak", "Khan", "Evans", "Murphy", "Ahmed"]
STREET_WORDS = ["Hayes", "Lane", "Road", "Avenue", "Close", "Gardens", "Crescent", "Grove", "Rise", "Hill", "Park"]
AUDIT_ACTIONS = [
    ("auth.login", "User", 40),
    ("auth.login_failed", "User", 6),
    ("users.invited", "User", 8),
    ("auth.invitation_accepted", "User", 6),
    ("auth.password_changed", "User", 4),
    ("users.role_changed", "User", 1),
    ("users.deactivated", "User", 1),
    ("schemes.coordinator_added", "Scheme", 8),
    ("schemes.changed", "Scheme", 4),
    ("streets.added", "Street", 12),
    ("streets.changed", "Street", 8),
    ("settings.changed", "AssociationSettings", 1),
    ("audit.exported", "", 1),
]


class BenchConfig(Config):
    """Production-like settings on a throw-away SQLite file; mail goes to a folder nobody reads."""

    ENV_NAME = "bench"
    SECRET_KEY = "bench-secret-not-for-production"
    JOBS_MODE = "eager"
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = ""


def build_app(folder: Path):
    """The app on an empty SQLite database in `folder`."""

    class Settings(BenchConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        INSTANCE_DIR = folder
        MAIL_OUTBOX_DIR = folder / "outbox"

    return create_app(Settings)


def fill(coordinators: int, schemes: int, streets: int, audit_entries: int, seed: int = 6) -> dict[str, int]:
    """Insert the data set in a few bulk statements; returns some ids the pages are asked about."""
    rng = random.Random(seed)
    db.create_all()
    now = datetime.now(UTC)
    one_hash = hash_password(PASSWORD)  # one Argon2 hash for every account that has set a password

    users = [
        {
            "email": ADMIN_EMAIL,
            "name": "Bench Admin",
            "role": Role.ADMIN,
            "is_active_account": True,
            "password_hash": one_hash,
            "invited_at": now - timedelta(days=400),
        }
    ]
    for n in range(1, coordinators + 1):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)} {n}"
        status = rng.random()
        users.append(
            {
                "email": f"coordinator{n}@example.org",
                "name": name,
                "role": Role.ADMIN if n % 100 == 0 else Role.COORDINATOR,
                "is_active_account": status > 0.05,
                "password_hash": one_hash if status > 0.15 else None,
                "invited_at": now - timedelta(days=rng.randint(1, 700)),
                "last_login_at": now - timedelta(days=rng.randint(0, 90)) if status > 0.15 else None,
            }
        )
    db.session.execute(insert(User), users)

    scheme_rows = []
    for n in range(1, schemes + 1):
        ward = WARDS[n % len(WARDS)]
        name = f"{rng.choice(STREET_WORDS)} {rng.choice(STREET_WORDS)} Watch {n}"
        scheme_rows.append(
            {
                "name": name,
                "slug": f"scheme-{n}",
                "ward": ward,
                "postcode_district": f"BR{n % 8 + 1}",
            }
        )
    db.session.execute(insert(Scheme), scheme_rows)

    user_ids = list(db.session.scalars(select(User.id).where(User.email != ADMIN_EMAIL).order_by(User.id)))
    scheme_ids = list(db.session.scalars(select(Scheme.id).order_by(Scheme.id)))

    # Every coordinator runs one scheme as main coordinator; about a third are deputies somewhere else too.
    places = set()
    memberships = []
    for index, user_id in enumerate(user_ids):
        main_scheme = scheme_ids[index % len(scheme_ids)]
        places.add((main_scheme, user_id))
        memberships.append({"scheme_id": main_scheme, "user_id": user_id, "role": CoordinatorRole.MAIN})
        if rng.random() < 0.35:
            deputy_scheme = rng.choice(scheme_ids)
            if (deputy_scheme, user_id) not in places:
                places.add((deputy_scheme, user_id))
                memberships.append({"scheme_id": deputy_scheme, "user_id": user_id, "role": CoordinatorRole.DEPUTY})
    db.session.execute(insert(SchemeCoordinator), memberships)

    street_rows = []
    for n in range(streets):
        households = rng.randint(4, 180)
        street_rows.append(
            {
                "scheme_id": scheme_ids[n % len(scheme_ids)],
                "name": f"{rng.choice(STREET_WORDS)} {rng.choice(STREET_WORDS)} {n}",
                "postcode": f"BR{n % 8 + 1} {n % 9}{chr(65 + n % 26)}{chr(65 + (n // 26) % 26)}",
                "households": households,
                "households_no_leaflets": rng.randint(0, households // 10),
                "delivery_notes": "",
            }
        )
    db.session.execute(insert(Street), street_rows)

    weighted = [(action, kind) for action, kind, weight in AUDIT_ACTIONS for _ in range(weight)]
    entries = []
    for _ in range(audit_entries):
        action, kind = rng.choice(weighted)
        actor = rng.choice(user_ids)
        object_id = {"User": actor, "Scheme": rng.choice(scheme_ids), "Street": rng.randint(1, streets)}.get(kind, 1)
        entries.append(
            {
                "at": now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600)),
                "actor_id": actor,
                "actor_label": f"coordinator{actor - 1}@example.org",
                "action": action,
                "object_type": kind,
                "object_id": str(object_id) if kind else "",
                "summary": f"{action.split('.')[-1].replace('_', ' ')} ({kind} {object_id})",
                "details": {},
                "ip_address": "127.0.0.1",
            }
        )
    db.session.execute(insert(AuditEntry), entries)
    db.session.commit()
    return {
        "scheme_id": scheme_ids[len(scheme_ids) // 2],
        "user_id": user_ids[len(user_ids) // 2],
        "memberships": len(memberships),
    }


def log_in(client) -> None:
    """Log in as the bench admin through the real form."""
    page = client.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/account/login", data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token})
    if response.status_code != 302:
        raise SystemExit("The bench admin could not log in.")


def pages(ids: dict[str, int]) -> list[tuple[str, str]]:
    """(label, URL) of every list page timed."""
    today = datetime.now(UTC).date()
    month_ago = today - timedelta(days=30)
    return [
        ("Coordinators", "/admin/users"),
        ("Coordinators, page 7", "/admin/users?page=7"),
        ("Coordinators, search 'smith'", "/admin/users?q=smith"),
        ("Coordinators, invited", "/admin/users?status=invited"),
        ("Coordinators, one scheme", f"/admin/users?scheme={ids['scheme_id']}"),
        ("Coordinators, one ward", "/admin/users?ward=Chislehurst"),
        ("Coordinators, four filters", "/admin/users?q=a&role=coordinator&status=active&ward=Orpington"),
        ("Schemes", "/admin/schemes"),
        ("Schemes, page 6", "/admin/schemes?page=6"),
        ("Schemes, search 'hayes'", "/admin/schemes?q=hayes"),
        ("A scheme's page", f"/admin/schemes/{ids['scheme_id']}"),
        ("A scheme's page, coordinators'", f"/schemes/{ids['scheme_id']}"),
        ("Audit log", "/admin/audit"),
        ("Audit log, page 200", "/admin/audit?page=200"),
        ("Audit log, person", "/admin/audit?actor=coordinator12"),
        ("Audit log, kind + dates", f"/admin/audit?action=users.&date_from={month_ago}&date_to={today}"),
        ("Audit log, one object", f"/admin/audit?object_type=Scheme&object_id={ids['scheme_id']}"),
        ("Dashboard", "/admin/"),
    ]


def time_page(client, url: str, repeat: int, warm_up: int = 3) -> tuple[list[float], list[float]]:
    """Milliseconds of `repeat` requests to `url` after a few untimed ones: elapsed, and CPU time of this thread.

    The test client runs the request in this thread, so the CPU figure is the server's own work, whatever
    else the machine is doing; the elapsed figure is what the goal is measured against.
    """
    for _ in range(warm_up):
        client.get(url)
    elapsed, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.get(url)
        elapsed.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed, cpu


def count_queries(engine, client, url: str) -> int:
    """SQL statements one request to `url` sends: a figure that grows with the page means a query per row."""
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered)))
    return ordered[rank - 1]


def main(argv: list[str] | None = None) -> int:
    """Build the data set, time every page, print the table; 1 if any page misses the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100, help="timed requests per page (default 100)")
    parser.add_argument("--coordinators", type=int, default=600)
    parser.add_argument("--schemes", type=int, default=600)
    parser.add_argument("--streets", type=int, default=5000)
    parser.add_argument("--audit", type=int, default=20000, help="audit entries")
    parser.add_argument("--keep", action="store_true", help="keep the database and print where it is")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="nwc-bench-"))
    try:
        app = build_app(folder)
        started = time.perf_counter()
        with app.app_context():
            ids = fill(args.coordinators, args.schemes, args.streets, args.audit)
            engine = db.engine
        built = time.perf_counter() - started
        print(
            f"Data set: {args.coordinators} coordinators (+1 admin), {args.schemes} schemes, "
            f"{ids['memberships']} scheme places, {args.streets} streets, {args.audit} audit entries "
            f"(built in {built:.1f} s, SQLite {folder / 'bench.sqlite3'})"
        )

        # Requests run outside any app context, each with its own session, as they would in production.
        client = app.test_client()
        log_in(client)
        header = f"{'Page':<32} {'median ms':>10} {'p95 ms':>8} {'goal ms':>8} {'CPU median':>11} {'CPU p95':>8}"
        print(f"\n{header} {'queries':>8}  result")
        over = []
        for label, url in pages(ids):
            queries = count_queries(engine, client, url)
            elapsed, cpu = time_page(client, url, args.repeat)
            median, p95 = statistics.median(elapsed), percentile(elapsed, 0.95)
            verdict = "ok" if p95 < GOAL_MS else "OVER"
            if verdict == "OVER":
                over.append(label)
            print(
                f"{label:<32} {median:>10.1f} {p95:>8.1f} {'< ' + str(int(GOAL_MS)):>8} "
                f"{statistics.median(cpu):>11.1f} {percentile(cpu, 0.95):>8.1f} {queries:>8}  {verdict}"
            )
        print(
            f"\n{args.repeat} timed requests per page through the Flask test client; 'ms' is elapsed (perf_counter), "
            f"'CPU' the server's CPU time.\nPython {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end."
        )
        if over:
            print(f"Over the goal: {', '.join(over)}")
        return 1 if over else 0
    finally:
        if args.keep:
            print(f"Database kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
