"""Bounce reading benchmark: prints reports read per second against the goal in issue 16 (">= 200 a second").

A scheme of 10,000 confirmed subscribers gets a bulletin (its outbox rows made as sending starts); then one
report per copy, in the shapes mail servers write (RFC 3464 bounces, 60% permanent and 30% temporary, and 10%
RFC 5965 complaints), is dropped into the Maildir of a Dovecot IMAP server on loopback, as a local delivery
agent would. The figure is the time `flask bulletin process-bounces` takes to read them all over IMAP, act on
each (bouncing, unsubscribed, audited) and delete them from the mailbox.

Run: .venv/bin/python bench/bounces.py [--reports 10000] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench.bulletins import build_app, drop_postgres_schema, make_bulletin, make_scheme, postgres_schema_url
from coordinator import jobs
from coordinator.bulletins import bounces, progress
from coordinator.bulletins.models import Bulletin, BulletinDelivery, Subscriber
from coordinator.bulletins.render import sender_domain
from coordinator.extensions import db
from coordinator.mail import return_path
from tests.bulletins.reports import arf, dsn
from tests.helpers.dovecot import Dovecot, dovecot_binary

GOAL_RATE = 200.0


def reports_for(deliveries: list[tuple[int, str]]) -> list[bytes]:
    """One report per delivery: 6 in 10 permanent failures, 3 temporary, 1 complaint."""
    messages = []
    for n, (delivery_id, address) in enumerate(deliveries):
        path = return_path(bounces.delivery_token(delivery_id))
        if n % 10 == 9:
            messages.append(arf(path, address))
        elif n % 10 >= 6:
            messages.append(dsn(path, address, "4.2.2", delivered_to=path))
        else:
            messages.append(dsn(path, address, "5.1.1", delivered_to=path))
    return messages


def main() -> None:
    """Fill the mailbox, read it once, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--database-url", default="",
                        help="A PostgreSQL server to use (in a schema of the bench's own, dropped afterwards). "
                        "Default: a new SQLite file in a temporary folder.")
    args = parser.parse_args()
    binary = dovecot_binary()
    if binary is None:
        sys.exit("Dovecot is not installed: apt-get install dovecot-imapd (make system-packages-test does).")
    schema = f"nwc_bench_bounces_{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        url = postgres_schema_url(args.database_url, schema) if args.database_url else \
            f"sqlite:///{instance / 'bench.sqlite3'}"
        server = Dovecot(binary).start()
        try:
            app = build_app(url, instance, 25)
            app.config.update(BOUNCE_ADDRESS="bounces@bromley-watch.example.org", **server.config_for())
            with app.app_context():
                db.create_all()
                scheme, coordinator, campaign_id, helpline_set_id = make_scheme(args.reports)
                with jobs.held():  # the bench makes the outbox rows itself; nothing is sent
                    bulletin_id = make_bulletin(scheme, coordinator, campaign_id, helpline_set_id)
                bulletin = db.session.get(Bulletin, bulletin_id)
                progress.start_sending(bulletin, sender_domain())
                db.session.commit()
                deliveries = list(db.session.execute(
                    select(BulletinDelivery.id, BulletinDelivery.to_address)
                    .where(BulletinDelivery.bulletin_id == bulletin.id).order_by(BulletinDelivery.id)
                ))
                server.drop_into_maildir(reports_for(deliveries))

                started = time.perf_counter()
                if os.environ.get("BENCH_PROFILE"):
                    import cProfile
                    import pstats
                    profile = cProfile.Profile()
                    run = profile.runcall(bounces.process_mailbox)
                    pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
                else:
                    run = bounces.process_mailbox()
                elapsed = time.perf_counter() - started

                statuses = Counter(
                    s.value for s in db.session.scalars(select(Subscriber.status).where(Subscriber.scheme_id == scheme.id))
                )
                left = len(server.messages())
                audited = db.session.scalar(select(func.count()).select_from(
                    db.metadata.tables["audit_entries"]).where(db.metadata.tables["audit_entries"].c.action.in_(
                        ["subscribers.bouncing", "subscribers.complained"])))
                db.session.remove()
                db.engine.dispose()
        finally:
            server.stop()
            if args.database_url:
                drop_postgres_schema(args.database_url, schema)

    rate = run.read / elapsed
    print(f"Database: {'PostgreSQL' if args.database_url else 'SQLite'}; Dovecot {binary} on loopback")
    for line in run.lines():
        print(f"  {line}")
    print(f"  subscribers now: {dict(statuses)}; audit entries written: {audited}; messages left in the mailbox: {left}")
    print(f"{run.read:,} reports in {elapsed:.1f} s: {rate:,.0f} a second "
          f"(goal >= {GOAL_RATE:.0f}: {'met' if rate >= GOAL_RATE else 'NOT met'})")


if __name__ == "__main__":
    main()
