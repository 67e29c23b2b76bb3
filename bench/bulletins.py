"""Bulletin sending benchmark: prints messages per second against the goals in issue 5 ("Speed").

5,000 personalised messages (each with its resident's name, unsubscribe link and fixed Message-ID) go to an
aiosmtpd sink on loopback (in a process of its own, like a real mail server), twice, taking turns:

- through the app's worker (`coordinator.bulletins.sending.send_bulletin`): one render, then per message a
  claim and a record in the database and one SMTP transaction, all on one connection;
- through a bare smtplib loop on one connection, sending ready-made messages of the same size.

Goals: >= 200 messages a second through the worker, and >= 0.5 of the bare loop.
The association's messages-per-second limit is lifted for the run (the bench measures sending, not pacing).

`--sizes` measures instead the HTML and plain-text parts of the four starter bulletins: each starter campaign
with the helpline set it recommends, as one resident gets it (issue 17: HTML under 60 KB each; Gmail clips
a message past 102 KB of HTML).

Run: .venv/bin/python bench/bulletins.py [--messages 5000] [--database-url postgresql://...]
     .venv/bin/python bench/bulletins.py --sizes
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller
from sqlalchemy import insert, text

from config import TestConfig
from coordinator import create_app, jobs
from coordinator.auth.models import Role, User
from coordinator.bulletins import approval, drafts
from coordinator.bulletins.models import Bulletin, BulletinDelivery, Subscriber, SubscriberStatus
from coordinator.bulletins.render import render_bulletin
from coordinator.bulletins.sending import send_bulletin
from coordinator.content import drafting
from coordinator.content import services as content
from coordinator.content.approval import approve_version, submit_version
from coordinator.content.models import ContentKind
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.schemes.models import Scheme
from coordinator.settings import get_settings

GOAL_RATE = 200.0
GOAL_RATIO = 0.5
GOAL_HTML_BYTES = 60 * 1024
GMAIL_CLIPS_AT = 102 * 1024


class Sink:
    """An aiosmtpd server in a process of its own, as a real mail server would be; it accepts and counts."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        context = multiprocessing.get_context("spawn")
        self._messages = context.Value("q", 0)
        self._sessions = context.Value("q", 0)
        self._ready, self._stop = context.Event(), context.Event()
        self._process = context.Process(
            target=_serve, args=(self.port, self._messages, self._sessions, self._ready, self._stop), daemon=True
        )

    def start(self) -> None:
        """Start the server's process and wait until it listens."""
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> None:
        """Stop the server and its process."""
        self._stop.set()
        self._process.join(30)

    @property
    def count(self) -> int:
        """Messages accepted so far."""
        return self._messages.value

    @property
    def sessions(self) -> int:
        """SMTP sessions (EHLOs) so far."""
        return self._sessions.value


class _CountingHandler:
    def __init__(self, messages, sessions) -> None:
        self.messages, self.sessions = messages, sessions

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.sessions.get_lock():
            self.sessions.value += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        with self.messages.get_lock():
            self.messages.value += 1
        return "250 OK"


def _serve(port, messages, sessions, ready, stop) -> None:
    controller = Controller(_CountingHandler(messages, sessions), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def postgres_schema_url(base: str, schema: str) -> str:
    """(Re)create an empty schema of the bench's own on a PostgreSQL server; the URL uses it."""
    from sqlalchemy import create_engine

    url = base.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def drop_postgres_schema(base: str, schema: str) -> None:
    """Remove the bench's schema and everything in it."""
    from sqlalchemy import create_engine

    url = base.replace("postgresql://", "postgresql+psycopg://", 1).replace("postgres://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def build_app(database_url: str, instance: Path, port: int):
    """The app on this database, sending to the sink on `port`, with jobs run at once."""
    class BenchConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        INSTANCE_DIR = instance
        MAIL_OUTBOX_DIR = instance / "outbox"
        MAIL_SERVER = "127.0.0.1"
        MAIL_PORT = port
        MAIL_DEFAULT_SENDER = "bulletins@bromley-watch.example.org"
        PUBLIC_BASE_URL = "https://watch.example.org"

    return create_app(BenchConfig)


def make_scheme(count: int) -> tuple[Scheme, User, int, int]:
    """A scheme with `count` confirmed subscribers, its coordinator, and real content to send (version ids)."""
    admin = User(email="admin@example.org", name="Ada Admin", role=Role.ADMIN, is_active_account=True)
    coordinator = User(email="pat@example.org", name="Pat Okafor", role=Role.COORDINATOR, is_active_account=True)
    scheme = Scheme(name="Hayes Lane Watch", slug="hayes-lane-watch", contact_email="hayes@example.org")
    db.session.add_all([admin, coordinator, scheme])
    db.session.flush()
    campaign = drafting.create_item(ContentKind.CAMPAIGN, {
        "title": "Doorstep scams",
        "summary": "Cold callers who pressure you are not to be trusted.",
        "body": "## Say no\n\nNever let a caller rush you into anything. Shut the door and ask a neighbour.\n\n"
                "- Check identity cards\n- Never hand over bank cards\n- Report it on 0300 123 2040\n\n"
                "See [Action Fraud](https://www.actionfraud.police.uk) for more.",
        "key_messages": ["Take your time", "Ask a neighbour", "Report every scam"],
        "call_to_action": "Report scams to Action Fraud on 0300 123 2040.",
        "hashtag": "#ScamAware",
        "web_address": "www.met.police.uk/scams",
    }, admin)
    helplines = [
        drafting.create_item(ContentKind.HELPLINE, {"title": name, "number": number, "who_for": who}, admin)
        for name, number, who in (
            ("Victim Support", "0808 168 9111", "anyone affected by crime"),
            ("Crimestoppers", "0800 555 111", "reporting crime anonymously"),
            ("Samaritans", "116 123", "anyone who needs to talk"),
        )
    ]
    for version in (campaign, *helplines):
        submit_version(version, admin)
        approve_version(version, admin)
    for helpline in helplines:
        content.reverify_helpline(helpline.item, admin)
    helpline_set = drafting.create_item(
        ContentKind.HELPLINE_SET, {"title": "Victims and witnesses", "helplines": [h.item for h in helplines]}, admin
    )
    submit_version(helpline_set, admin)
    approve_version(helpline_set, admin)
    now = utcnow()
    db.session.execute(insert(Subscriber), [
        {"scheme_id": scheme.id, "email": f"resident{n}@example.net", "name": f"Resident Number {n}",
         "status": SubscriberStatus.CONFIRMED, "consented_at": now, "consent_method": "web form",
         "consent_wording": "I agree.", "confirmed_at": now, "hard_bounce_count": 0, "created_at": now,
         "updated_at": now}
        for n in range(count)
    ])
    from coordinator.schemes.models import SchemeCoordinator

    db.session.add(SchemeCoordinator(scheme=scheme, user=coordinator))
    # Lifted above the settings page's range: the bench measures sending, not the association's pacing.
    get_settings().messages_per_second = 1_000_000
    db.session.commit()
    return scheme, coordinator, campaign.id, helpline_set.id


def make_bulletin(scheme: Scheme, coordinator: User, campaign_id: int, helpline_set_id: int) -> int:
    """A bulletin of the scheme's, queued to go to every subscriber (its sending job held: the bench runs it)."""
    # Queuing asks for the sending job at the commit, and the bench's jobs run at once: held, so the timed
    # send_bulletin below is the one that sends.
    with jobs.held():
        bulletin = drafts.create_bulletin(scheme, drafts.BulletinDraft(
            subject="Doorstep scams: what to do this autumn",
            intro="Hello from your coordinators. Please read this one and pass it on to a neighbour who is not online.",
            campaign_version_ids=[campaign_id],
            helpline_set_version_id=helpline_set_id,
        ), coordinator)
        approval.queue_bulletin(bulletin, coordinator)
        db.session.commit()
    return bulletin.id


def bare_loop(port: int, sample: bytes, count: int) -> float:
    """Messages per second of a plain smtplib loop on one connection, sending ready-made messages."""
    smtp = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for n in range(count):
        smtp.sendmail("bulletins@bromley-watch.example.org", [f"resident{n}@example.net"], sample)
    elapsed = time.perf_counter() - started
    smtp.quit()
    return count / elapsed


def starter_sizes(instance: Path) -> list[tuple[str, int, int]]:
    """(campaign, HTML bytes, text bytes) of one resident's copy of each starter campaign's bulletin."""
    from coordinator.content.models import CampaignVersion, ContentItem, VersionState
    from coordinator.content.starter import load_starter_content

    app = build_app(f"sqlite:///{instance / 'sizes.sqlite3'}", instance, 25)
    sizes = []
    with app.app_context():
        db.create_all()
        admin = User(email="admin@example.org", name="Ada Admin", role=Role.ADMIN, is_active_account=True)
        scheme = Scheme(name="Hayes Lane Watch", slug="hayes-lane-watch", contact_email="hayes@example.org",
                        contact_phone="020 7946 0018")
        db.session.add_all([admin, scheme])
        db.session.flush()
        load_starter_content(admin)
        # Starter helplines wait for an admin's check; checked, each bulletin carries its set's every helpline.
        for item in db.session.scalars(db.select(ContentItem).where(ContentItem.kind == ContentKind.HELPLINE)):
            content.reverify_helpline(item, admin)
        campaigns = db.session.scalars(db.select(CampaignVersion).where(CampaignVersion.state == VersionState.APPROVED)
                                       .order_by(CampaignVersion.id))
        for version in campaigns:
            set_version = version.recommended_set_item.current_version
            usable, _left_out = content.usable_helplines(set_version)
            # Made directly, not through the compose form: #ITSNOTOK is only offered in its February window.
            bulletin = Bulletin(scheme=scheme, subject=f"{version.title}: what you can do", created_by_label="bench",
                                intro="Hello from your coordinators. Please pass this on to a neighbour who is "
                                "not online.", campaign_version_ids=[version.id],
                                helpline_set_version_id=set_version.id, helpline_version_ids=[v.id for v in usable])
            db.session.add(bulletin)
            db.session.flush()
            rendered = render_bulletin(bulletin)
            unsubscribe = "https://watch.example.org/unsubscribe/eyJzIjoxLCJrIjoxfQ.abcdefghijklmnopqrstuvwxyz0"
            html = rendered.html_for("Resident Number 0", unsubscribe).encode()
            plain = rendered.text_for("Resident Number 0", unsubscribe).encode()
            sizes.append((version.title, len(html), len(plain)))
        db.session.remove()
        db.engine.dispose()
    return sizes


def print_sizes() -> None:
    """Print the starter bulletins' sizes against the goal."""
    with tempfile.TemporaryDirectory() as folder:
        sizes = starter_sizes(Path(folder))
    print("Starter bulletins, one resident's copy (HTML part, plain-text part):")
    for title, html, plain in sizes:
        print(f"  {title[:52]:54}{html / 1024:>7.1f} KB HTML {plain / 1024:>6.1f} KB text")
    largest = max(html for _title, html, _plain in sizes)
    print(f"goal HTML < {GOAL_HTML_BYTES // 1024} KB each: {'met' if largest < GOAL_HTML_BYTES else 'NOT met'}; "
          f"Gmail clips past {GMAIL_CLIPS_AT // 1024} KB: {'none clipped' if largest < GMAIL_CLIPS_AT else 'CLIPPED'}")


def main() -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="Worker and bare loop take turns this many times; the medians are compared.")
    parser.add_argument("--database-url", default="",
                        help="A PostgreSQL server to use (in a schema of the bench's own, dropped afterwards). "
                        "Default: a new SQLite file in a temporary folder.")
    parser.add_argument("--sizes", action="store_true", help="Measure the starter bulletins' sizes instead.")
    args = parser.parse_args()
    if args.sizes:
        print_sizes()
        return
    schema = f"nwc_bench_{os.getpid()}"

    sink = Sink()
    sink.start()
    worker_rates, bare_rates, checks = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        instance = Path(folder)
        if args.database_url:
            database_url = postgres_schema_url(args.database_url, schema)
        else:
            database_url = f"sqlite:///{instance / 'bench.sqlite3'}"
        app = build_app(database_url, instance, sink.port)
        with app.app_context():
            db.create_all()
            dialect = db.engine.dialect.name
            scheme, coordinator, campaign_id, helpline_set_id = make_scheme(args.messages)
            sample = b""
            for _ in range(args.rounds):
                bulletin_id = make_bulletin(scheme, coordinator, campaign_id, helpline_set_id)
                if not sample:
                    rendered = render_bulletin(db.session.get(Bulletin, bulletin_id))
                    sample = rendered.message(
                        "resident0@example.net", "Resident Number 0",
                        "<bulletin-1.1.000000000000@bromley-watch.example.org>",
                        "https://watch.example.org/unsubscribe/eyJzIjoxLCJrIjoxfQ.abcdefghijklmnopqrstuvwxyz0",
                    )
                    db.session.rollback()
                received, sessions = sink.count, sink.sessions
                started = time.perf_counter()
                sent = send_bulletin(bulletin_id)
                worker_rates.append(sent / (time.perf_counter() - started))
                rows = db.session.query(BulletinDelivery).filter_by(bulletin_id=bulletin_id, state="sent").count()
                checks.append((sent, sink.count - received, rows, sink.sessions - sessions))
                db.session.commit()
                bare_rates.append(bare_loop(sink.port, sample, args.messages))
            db.session.remove()
            db.engine.dispose()
        if args.database_url:
            drop_postgres_schema(args.database_url, schema)
    sink.stop()

    worker_rate, bare_rate = statistics.median(worker_rates), statistics.median(bare_rates)
    ratio = worker_rate / bare_rate
    print(f"Bulletin sending: {args.messages:,} personalised messages to an aiosmtpd sink on loopback, "
          f"{args.rounds} round(s) each ({dialect}, {len(sample):,} bytes a message)")
    print(f"{'':36}{'median msg/s':>14}   each round")
    for label, median, rates in (("app worker (send_bulletin)", worker_rate, worker_rates),
                                 ("bare smtplib loop, one connection", bare_rate, bare_rates)):
        print(f"{label:36}{median:>14,.0f}   " + ", ".join(f"{rate:,.0f}" for rate in rates))
    print(f"ratio worker / bare loop: {ratio:.2f}")
    for number, (sent, received, rows, sessions) in enumerate(checks, 1):
        print(f"round {number}: {sent:,} sent by the worker, {received:,} received by the sink, {rows:,} outbox rows "
              f"marked sent, {sessions} SMTP connection(s)")
    print(f"goal >= {GOAL_RATE:.0f} msg/s: {'met' if worker_rate >= GOAL_RATE else 'NOT met'}; "
          f"goal ratio >= {GOAL_RATIO}: {'met' if ratio >= GOAL_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
