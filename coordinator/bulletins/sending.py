"""Sending bulletins: one job per bulletin, working through its outbox over one SMTP connection.

`send_bulletin(bulletin_id)` is the job, queued at the commit of the approval that makes the bulletin due
(the sweep starts scheduled ones when their time comes). When the bulletin is due it makes one outbox row
per recipient (`progress.start_sending`, recipients read at that moment),
then takes the bulletin's *lease* (one worker per bulletin; the lease is renewed while it works) and
goes through the rows in order:

The bulletin is rendered once per language its recipients read (`render_bulletin`), up front, and each message is
made from its resident's language's render: their name and unsubscribe link swapped in.

1. claim the row: one UPDATE that moves it from queued (or deferred, when due) to sending, and only if
   the resident is still a confirmed, unerased subscriber with the same address; committed before
   anything is sent. A row that can no longer be claimed is skipped, never sent;
2. hand the message to the mail server through `coordinator.mail.MailTransport`, as transactional mail
   goes (or write it to instance/outbox/ when MAIL_SERVER is empty), paced to the association's
   messages-per-second setting, on one SMTP connection kept open throughout;
3. record the answer: sent; deferred for a 4xx ("try later": again after 1, 2, 4 ... times
   BULLETIN_RETRY_BASE_SECONDS, up to an hour, at most BULLETIN_RETRY_MAX_ATTEMPTS tries); or failed for
   a 5xx, which also counts against the address: after BULLETIN_HARD_BOUNCE_LIMIT (3) refusals the
   subscriber is marked bouncing and gets nothing more. The answer is written just before the next
   row's claim, each statement committing on its own; on PostgreSQL the usual pair ("sent", then the
   next claim) travels as one statement, so a message costs one round trip to the database.

A message that cannot be built (an address, the resident's or the scheme's Reply-To, that no mail server
would take) is marked failed with the reason at its turn, once: a retry would change nothing, and the
bulletin finishes instead of showing "Sending" while every sweep tries again.

An outage costs no resident anything: when the server cannot be reached, or refuses our TLS, login or
sender address, the row goes back to the queue with the try not counted and the run stops; the sweeper
tries again a minute later, for as long as it takes.

A row caught in "sending" by a crash (the worker killed, the machine restarted) is re-sent. The policy:
**at most one duplicate per crash, never a loss.** A worker has at most one row in "sending" at any
moment, and cannot know whether the server took that message before the crash; sending it again
costs at most that one resident a second copy, with the same Message-ID (some mail services, Gmail
among them, then show it once), while skipping it could lose it. The next job for the bulletin finds
the dead worker's lease expired (BULLETIN_LEASE_SECONDS, default 60), puts that row back in the queue
and carries on from there; every row already marked sent stays sent. The outbox's commits do not wait
for the disk (`_relax_durability`): that changes nothing when a worker dies, but a power cut of the
database's own machine may forget the last moment's "sent" marks, and those few messages go twice.

The job resumes by itself: `resume_unfinished_bulletins()` (and the sweeper registered with
`coordinator.jobs`, which runs it at a worker's start and every minute) queues the job for every
bulletin that is ready and due (scheduled ones included, once their time comes), or is sending with
rows still to do and no live lease. Rows deferred for later are picked up the same way when due.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Connection, and_, bindparam, event, exists, func, not_, or_, select, update
from sqlalchemy.pool import Pool

from coordinator import jobs
from coordinator.auth.models import User
from coordinator.bulletins import progress, subscribers
from coordinator.bulletins.bounces import delivery_token
from coordinator.bulletins.models import (
    UNFINISHED_DELIVERY_STATES,
    Bulletin,
    BulletinDelivery,
    BulletinState,
    DeliveryState,
    Subscriber,
    SubscriberStatus,
)
from coordinator.bulletins.render import RenderedBulletin, render_bulletin, sender_domain
from coordinator.bulletins.transitions import BulletinError
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.links import public_url
from coordinator.mail import SMTP_TIMEOUT_SECONDS, MailTransport, reply_code, reply_text, return_path, server_problem
from coordinator.mailheaders import MessageError
from coordinator.settings import get_settings

log = logging.getLogger(__name__)

# A job waits this long at most for a deferred row to fall due; later ones are left to the sweeper, so the
# in-process job thread is never held for long.
IN_JOB_WAIT_SECONDS = 30.0
MAX_RETRY_DELAY_SECONDS = 3600.0
PAGE_SIZE = 500
_TOKEN_MARK = "TOKEN0unsubscribe0TOKEN"

_DUE = (DeliveryState.QUEUED, DeliveryState.DEFERRED)
_RELAXED = "coordinator.bulletins.synchronous_before"

# The per-message statements, built once (Core, on the tables): per message only parameters change.
_deliveries = BulletinDelivery.__table__
_subscribers = Subscriber.__table__
_CLAIM = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("row_id"),
        _deliveries.c.state.in_(_DUE),
        # Still a recipient: confirmed, not erased, the same address as when the bulletin started.
        exists().where(
            _subscribers.c.id == _deliveries.c.subscriber_id,
            _subscribers.c.status == SubscriberStatus.CONFIRMED,
            _subscribers.c.erased_at.is_(None),
            _subscribers.c.email == _deliveries.c.to_address,
        ),
    )
    .values(state=DeliveryState.SENDING, attempts=_deliveries.c.attempts + 1, claimed_at=bindparam("now"))
)
_SKIP = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("row_id"), _deliveries.c.state.in_(_DUE))
    .values(
        state=DeliveryState.SKIPPED,
        next_attempt_at=None,
        last_error="not sent: the resident left the list (unsubscribed, bouncing or erased) before their turn",
    )
)
# The try is not counted: the server, not the resident, was the problem.
_RELEASE = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("row_id"),
        _deliveries.c.state == DeliveryState.SENDING,
        _deliveries.c.claimed_at == bindparam("claimed"),
    )
    .values(state=DeliveryState.QUEUED, attempts=_deliveries.c.attempts - 1, claimed_at=None,
            last_error=bindparam("error"))
)
_RECORD = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("row_id"),
        _deliveries.c.state == DeliveryState.SENDING,
        _deliveries.c.claimed_at == bindparam("claimed"),
    )
    .values(
        state=bindparam("new_state"),
        last_error=bindparam("error"),
        next_attempt_at=bindparam("next_at"),
        sent_at=bindparam("sent_time"),
    )
)
# On PostgreSQL the usual pair, "the last message was sent" and the next claim, travel as one statement
# (a data-modifying WITH): one round trip to the database per message instead of two.
_MARK_SENT = (
    update(_deliveries)
    .where(
        _deliveries.c.id == bindparam("sent_id"),
        _deliveries.c.state == DeliveryState.SENDING,
        _deliveries.c.claimed_at == bindparam("sent_claimed"),
    )
    .values(state=DeliveryState.SENT, last_error="", next_attempt_at=None, sent_at=bindparam("sent_time"))
    .returning(_deliveries.c.id)
    .cte("marked_sent")
)
_SENT_AND_CLAIM = _CLAIM.returning(_deliveries.c.id).add_cte(_MARK_SENT)


# --- What a server's answer means -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What to record for one claimed row."""

    state: DeliveryState
    error: str = ""
    retry_in: float | None = None
    is_bounce: bool = False

    @property
    def is_server_down(self) -> bool:
        """Nothing could be sent to anyone: the row goes back to the queue as it was and this run stops."""
        return self.state == DeliveryState.QUEUED


SENT = Outcome(DeliveryState.SENT)


def classify_failure(exc: BaseException, attempts: int, retry_base: float, max_attempts: int) -> Outcome:
    """What a failed hand-over means for the row.

    - About this resident: a 5xx is failed (and counts against the address, towards bouncing); a 4xx is
      deferred with backoff, and failed after `max_attempts` tries.
    - About us or the server (unreachable, TLS or login refused, our sender address refused, the
      connection lost twice): the row goes back to the queue with the try not counted, and the run stops.
      The sweeper tries again a minute later, as long as it takes: an outage never costs a resident.
    """
    problem = server_problem(exc)
    if problem:
        return Outcome(DeliveryState.QUEUED, problem)
    if isinstance(exc, smtplib.SMTPNotSupportedError):  # connection-time refusals are ServerUnavailable
        return Outcome(DeliveryState.FAILED, f"the mail server cannot take this address ({exc})"[:500])
    code = reply_code(exc)
    message = next(iter(exc.recipients.values()), (None, b""))[1] if isinstance(
        exc, smtplib.SMTPRecipientsRefused) else getattr(exc, "smtp_error", str(exc))
    error = reply_text(code, message)
    if code is not None and 500 <= code < 600:
        return Outcome(DeliveryState.FAILED, error, is_bounce=True)
    if attempts >= max_attempts:
        return Outcome(DeliveryState.FAILED, f"gave up after {attempts} attempts: {error}"[:500])
    delay = min(retry_base * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY_SECONDS)
    return Outcome(DeliveryState.DEFERRED, error, retry_in=delay)


# --- The job's own database connection ------------------------------------------------------------------------


def _relax_durability(connection: Connection) -> None:
    """Let this connection's commits return once the database has them, without waiting for the disk (fsync).

    Each message costs a commit or two; waiting for the disk each time would halve the sending speed. A commit
    still reaches the database before the next message goes, so a crashed *worker* loses nothing. Only a
    power cut or crash of the database's own machine can forget the last moment's commits (PostgreSQL:
    synchronous_commit off, at most 3 x wal_writer_delay, 0.6 s by default; SQLite in WAL mode: synchronous
    NORMAL). Those messages are then sent again: duplicates, never a loss.
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.exec_driver_sql("SET synchronous_commit TO OFF")
        connection.info[_RELAXED] = "RESET synchronous_commit"
    elif dialect == "sqlite":
        before = int(connection.exec_driver_sql("PRAGMA synchronous").scalar())
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        connection.info[_RELAXED] = f"PRAGMA synchronous={before}"
    connection.commit()


@event.listens_for(Pool, "checkin")
def _restore_durability(dbapi_connection, connection_record) -> None:
    """A connection going back to the pool gets its usual durability back, however the job ended."""
    if connection_record is None or _RELAXED not in connection_record.info:
        return
    statement = connection_record.info.pop(_RELAXED)
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()
    dbapi_connection.commit()


# --- The sending job --------------------------------------------------------------------------------------------


class _LeaseLost(Exception):
    """The bulletin was cancelled, or another worker took over: stop at once."""


@dataclass
class _Row:
    id: int
    subscriber_id: int
    to_address: str
    message_id: str
    attempts: int
    name: str
    language: str
    claimed_at: datetime | None = None


class _Pacer:
    """At most `per_second` messages a second: each one waits for its slot."""

    def __init__(self, per_second: int) -> None:
        self.interval = 1.0 / max(int(per_second or 1), 1)
        self.next_at = time.monotonic()

    def delay(self) -> float:
        """Seconds to wait before the next message may go (zero or less: go now)."""
        return self.next_at - time.monotonic()

    def used(self) -> None:
        """A message went: the next slot is one interval later."""
        self.next_at = max(self.next_at, time.monotonic()) + self.interval


_bulletins = Bulletin.__table__
_RENEW = (
    update(_bulletins)
    .where(
        _bulletins.c.id == bindparam("bulletin_id"),
        _bulletins.c.lease_token == bindparam("token"),
        _bulletins.c.state == BulletinState.SENDING,
    )
    .values(lease_expires_at=bindparam("until"))
)


class BulletinSender:
    """Works through one bulletin's outbox while holding its lease (see the module's docstring).

    The outbox rows and the lease are read and written on a connection of the job's own, in short
    transactions; the ORM session is used only before and after (and to mark a bouncing address).
    """

    def __init__(self, bulletin_id: int) -> None:
        config = current_app.config
        self.bulletin_id = bulletin_id
        self.lease = timedelta(seconds=float(config.get("BULLETIN_LEASE_SECONDS") or 60))
        self.retry_base = float(config.get("BULLETIN_RETRY_BASE_SECONDS") or 0)
        self.max_attempts = int(config.get("BULLETIN_RETRY_MAX_ATTEMPTS") or 8)
        self.bounce_limit = int(config.get("BULLETIN_HARD_BOUNCE_LIMIT") or 3)
        self.token = secrets.token_hex(16)
        self.renewed_at = 0.0
        self.sent = 0
        self.bounced: list[tuple[int, str]] = []
        # The last message's answer, written with the next claim (one statement on PostgreSQL).
        self.pending: tuple[_Row, Outcome] | None = None
        self.conn: Connection | None = None
        self.transport: MailTransport | None = None
        # The bulletin rendered in each language its recipients read, by language tag.
        self.renders: dict[str, RenderedBulletin] = {}
        self.scheme_id = 0
        # The unsubscribe link with a mark where each resident's token goes: the URL is built once.
        self.unsubscribe_url = ""

    # The lease -------------------------------------------------------------------------------------------------

    def _take_lease(self) -> bool:
        now = utcnow()
        taken = db.session.execute(
            update(Bulletin)
            .where(
                Bulletin.id == self.bulletin_id,
                Bulletin.state == BulletinState.SENDING,
                or_(Bulletin.lease_token == "", Bulletin.lease_expires_at.is_(None), Bulletin.lease_expires_at < now),
            )
            .values(lease_token=self.token, lease_expires_at=now + self.lease),
            execution_options={"synchronize_session": False},
        ).rowcount
        self.renewed_at = time.monotonic()
        return taken == 1

    def _renew_lease(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.renewed_at < self.lease.total_seconds() / 4:
            return
        until = utcnow() + self.lease
        renewed = self.conn.execute(_RENEW, {"bulletin_id": self.bulletin_id, "token": self.token, "until": until})
        if renewed.rowcount != 1:
            raise _LeaseLost()
        self.renewed_at = time.monotonic()

    def _release_lease(self) -> None:
        db.session.execute(
            update(Bulletin)
            .where(Bulletin.id == self.bulletin_id, Bulletin.lease_token == self.token)
            .values(lease_token="", lease_expires_at=None),
            execution_options={"synchronize_session": False},
        )

    def _requeue_abandoned(self) -> int:
        """Rows left in "sending" under a lease that ran out: their worker died, so they go again."""
        count = db.session.execute(
            update(BulletinDelivery)
            .where(BulletinDelivery.bulletin_id == self.bulletin_id, BulletinDelivery.state == DeliveryState.SENDING)
            .values(state=DeliveryState.QUEUED, claimed_at=None),
            execution_options={"synchronize_session": False},
        ).rowcount
        if count:
            log.warning("bulletin %s: %d message(s) caught in sending by a stopped worker are sent again",
                        self.bulletin_id, count)
        return count

    # Rows ----------------------------------------------------------------------------------------------------

    def _due_rows(self) -> list[_Row]:
        d, s = _deliveries.c, _subscribers.c
        stmt = (
            select(d.id, d.subscriber_id, d.to_address, d.message_id, d.attempts, s.name, s.language)
            .join_from(_deliveries, _subscribers, s.id == d.subscriber_id)
            .where(
                d.bulletin_id == self.bulletin_id,
                or_(
                    d.state == DeliveryState.QUEUED,
                    and_(d.state == DeliveryState.DEFERRED, d.next_attempt_at <= utcnow()),
                ),
            )
            .order_by(d.id)
            .limit(PAGE_SIZE)
        )
        rows = [_Row(*values) for values in self.conn.execute(stmt).all()]
        self.conn.commit()
        return rows

    def _languages_to_send(self) -> list[str]:
        """The languages of the residents whose copies are still to go (a resident may change theirs meanwhile:
        their copy is then rendered when their turn comes)."""
        return list(db.session.scalars(
            select(Subscriber.language)
            .join(BulletinDelivery, BulletinDelivery.subscriber_id == Subscriber.id)
            .where(BulletinDelivery.bulletin_id == self.bulletin_id,
                   BulletinDelivery.state.in_(list(UNFINISHED_DELIVERY_STATES)))
            .distinct()
            .order_by(Subscriber.language)
        ))

    def _seconds_to_next_retry(self) -> float | None:
        d = _deliveries.c
        soonest = self.conn.execute(
            select(func.min(d.next_attempt_at)).where(
                d.bulletin_id == self.bulletin_id, d.state == DeliveryState.DEFERRED
            )
        ).scalar()
        self.conn.commit()
        return None if soonest is None else max((soonest - utcnow()).total_seconds(), 0.0)

    def _claim(self, row: _Row) -> bool:
        """Queued or deferred -> sending, if the resident is still a recipient; otherwise the row is skipped."""
        now = utcnow()
        if self.conn.execute(_CLAIM, {"row_id": row.id, "now": now}).rowcount == 1:
            row.claimed_at, row.attempts = now, row.attempts + 1
            return True
        # Not claimed: the resident left the list (or another worker has the row, and then this does nothing).
        self.conn.execute(_SKIP, {"row_id": row.id})
        return False

    def _record_and_claim(self, pending: tuple[_Row, Outcome] | None, row: _Row) -> bool:
        """Write the last answer, then claim `row`; on PostgreSQL a plain "sent" goes in the claim's statement."""
        if pending is not None and pending[1] is SENT and self.conn.dialect.name == "postgresql":
            sent_row, now = pending[0], utcnow()
            claimed = self.conn.execute(_SENT_AND_CLAIM, {
                "sent_id": sent_row.id, "sent_claimed": sent_row.claimed_at, "sent_time": now,
                "row_id": row.id, "now": now,
            }).first() is not None
            self.sent += 1
            if claimed:
                row.claimed_at, row.attempts = now, row.attempts + 1
                return True
            self.conn.execute(_SKIP, {"row_id": row.id})
            return False
        if pending is not None:
            self._record(*pending)
        return self._claim(row)

    def _record(self, row: _Row, outcome: Outcome) -> None:
        """Write what happened to a claimed row (in the connection's open transaction)."""
        if outcome.state == DeliveryState.QUEUED:
            self.conn.execute(_RELEASE, {"row_id": row.id, "claimed": row.claimed_at, "error": outcome.error})
            return
        now = utcnow()
        next_at = now + timedelta(seconds=outcome.retry_in) if outcome.retry_in is not None else None
        self.conn.execute(_RECORD, {
            "row_id": row.id,
            "claimed": row.claimed_at,
            "new_state": outcome.state,
            "error": outcome.error,
            "next_at": next_at,
            "sent_time": now if outcome.state == DeliveryState.SENT else None,
        })
        if outcome.is_bounce:
            self.bounced.append((row.subscriber_id, outcome.error))
        if outcome.state == DeliveryState.SENT:
            self.sent += 1

    def _commit(self) -> None:
        """Close the connection's unit of work (autocommit has written it), then mark bounced addresses."""
        self.conn.commit()
        if self.bounced:
            # After the failure itself is on record; the session holds no snapshot older than it.
            db.session.rollback()
            for subscriber_id, error in self.bounced:
                subscribers.record_hard_bounce(subscriber_id, error, self.bounce_limit)
            db.session.commit()
            self.bounced = []

    def _rendered_in(self, language: str) -> RenderedBulletin:
        """The bulletin in this language, rendered the first time a resident reading it comes up, then kept."""
        rendered = self.renders.get(language)
        if rendered is None:
            rendered = self.renders[language] = render_bulletin(
                db.session.get(Bulletin, self.bulletin_id), language=language
            )
            # The session holds no transaction while the job's connection writes (SQLite allows one writer).
            db.session.commit()
        return rendered

    def _deliver(self, row: _Row) -> Outcome:
        """Build one resident's message, in their language, and hand it over."""
        assert self.transport is not None
        rendered = self._rendered_in(row.language)
        try:
            token = subscribers.make_unsubscribe_token_for(row.subscriber_id, self.scheme_id)
            data = rendered.message(
                row.to_address, row.name, row.message_id, self.unsubscribe_url.replace(_TOKEN_MARK, token)
            )
        except MessageError as exc:  # an address or header no server would take: nothing a retry would change
            return Outcome(DeliveryState.FAILED, f"not sent: {exc}"[:500])
        except Exception as exc:  # e.g. an unreadable DKIM key: ours to fix, and the resident must not lose out
            log.exception("bulletin %s: message not built", self.bulletin_id)
            return Outcome(DeliveryState.QUEUED, f"not sent: the message could not be built ({exc})"[:500])
        try:
            # A connection the server dropped is replaced once by the transport; ServerUnavailable is an OSError.
            # The envelope sender names this copy (bounces+<token>@...), so its bounce says which it was.
            envelope_sender = return_path(delivery_token(row.id)) or rendered.sender
            self.transport.send(envelope_sender, row.to_address, data, f"bulletin-{self.bulletin_id}-{row.id}")
        except (smtplib.SMTPException, OSError) as exc:
            return classify_failure(exc, row.attempts, self.retry_base, self.max_attempts)
        return SENT

    def _sleep(self, seconds: float) -> None:
        """Wait, renewing the lease as it goes."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, max(self.lease.total_seconds() / 4, 0.05)))
            self._renew_lease()
            self._commit()

    # The run -------------------------------------------------------------------------------------------------

    def _prepare(self) -> _Pacer:
        """Requeue a dead worker's rows, render the bulletin once per language its recipients still to send to read,
        open the transport and the job's connection."""
        self._requeue_abandoned()
        db.session.commit()
        bulletin = db.session.get(Bulletin, self.bulletin_id)
        self.scheme_id = bulletin.scheme_id
        self.unsubscribe_url = public_url("bulletins.unsubscribe", token=_TOKEN_MARK)
        for language in self._languages_to_send():
            self._rendered_in(language)
        pacer = _Pacer(get_settings().messages_per_second)
        # The session holds no transaction while the job's connection writes (SQLite allows one writer).
        db.session.commit()
        self.transport = MailTransport(timeout=min(SMTP_TIMEOUT_SECONDS, max(self.lease.total_seconds() / 2, 1)))
        # Autocommit: each statement is its own transaction, with no BEGIN or COMMIT round trips. Nothing here
        # needs two statements to stand or fall together: an answer is recorded before the next claim, and a
        # claim before its message goes, which is all the crash policy asks.
        self.conn = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return pacer

    def _record_pending(self) -> None:
        """Write the last message's answer, if one is still to be written."""
        if self.pending:
            self._record(*self.pending)
            self.pending = None

    def _work_through_outbox(self, pacer: _Pacer) -> bool:
        """Send every due row, page by page, waiting here for retries due soon; False when the server is down."""
        while True:
            rows = self._due_rows()
            if not rows:
                self._record_pending()
                self._renew_lease(force=True)
                self._commit()
                wait = self._seconds_to_next_retry()
                if wait is None or wait > IN_JOB_WAIT_SECONDS:
                    return True
                self._sleep(wait)
                continue
            for row in rows:
                if not self._send_next(row, pacer):
                    return False

    def _send_next(self, row: _Row, pacer: _Pacer) -> bool:
        """Claim one row and hand its message over, at the association's pace; False when the server is down."""
        delay = pacer.delay()
        if delay > 0:
            # Record the last answer before waiting, so the page shows it while we wait.
            if self.pending:
                self._record_pending()
                self._commit()
            time.sleep(delay)
        # The last answer, then this row's claim: both in the database before its message goes.
        self._renew_lease()  # stops here if cancelled; the last answer is recorded on the way out
        is_claimed = self._record_and_claim(self.pending, row)
        self.pending = None
        self._commit()
        if not is_claimed:
            return True
        pacer.used()
        outcome = self._deliver(row)
        self.pending = (row, outcome)
        if outcome.is_server_down:
            log.warning("bulletin %s: mail server unavailable (%s); the next sweep tries again",
                        self.bulletin_id, outcome.error)
            self._record_pending()
            self._commit()
            return False
        return True

    def run(self) -> int:
        """Send every due copy; returns how many were sent. Does nothing if another worker holds the lease."""
        if not self._take_lease():
            db.session.rollback()
            return 0
        pacer = self._prepare()
        try:
            _relax_durability(self.conn)
            if not self._work_through_outbox(pacer):
                return self.sent
            self._close_connection()
            bulletin = db.session.get(Bulletin, self.bulletin_id)
            if progress.finish_sending(bulletin):
                db.session.commit()
            return self.sent
        except _LeaseLost:
            # Nothing was claimed after the lease was found gone; what was recorded before stands.
            self._commit()
            log.info("bulletin %s: stopped (cancelled, or another worker took over)", self.bulletin_id)
            return self.sent
        finally:
            self._tidy_up()

    def _tidy_up(self) -> None:
        """Record the last answer, close the connections, give the lease back, and recount a cancelled bulletin."""
        try:
            if self.pending and self.conn is not None:
                self._record_pending()
                self._commit()
            self._close_connection()
            self.transport.close()
            db.session.rollback()
            self._release_lease()
            bulletin = db.session.get(Bulletin, self.bulletin_id)
            if bulletin is not None and bulletin.state == BulletinState.CANCELLED:
                progress.refresh_counts(bulletin)
            db.session.commit()
        except Exception:  # the lease runs out by itself; a later job finishes the bookkeeping
            db.session.rollback()
            log.exception("bulletin %s: could not tidy up after sending", self.bulletin_id)

    def _close_connection(self) -> None:
        if self.conn is not None:
            try:
                self.conn.rollback()
            finally:
                self.conn.close()
                self.conn = None


@jobs.job
def send_bulletin(bulletin_id: int) -> int:
    """The job: start the bulletin if it is due, then send its outbox; safe to run twice, or after a crash.

    Returns how many messages this run sent.
    """
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None:
        return 0
    if bulletin.state in (BulletinState.APPROVED, BulletinState.SCHEDULED):
        try:
            is_started = progress.start_sending(bulletin, sender_domain())
        except BulletinError:  # started (or cancelled) by someone else a moment ago
            is_started = False
        if not is_started:
            db.session.rollback()
            return 0
        db.session.commit()
    if bulletin.state != BulletinState.SENDING:
        db.session.rollback()
        return 0
    return BulletinSender(bulletin_id).run()


@jobs.job
def send_test_message(bulletin_id: int, user_id: int) -> bool:
    """The job behind "send a test to myself": the bulletin as residents get it, to one account's address."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    user = db.session.get(User, user_id)
    if bulletin is None or user is None:
        return False
    rendered = render_bulletin(bulletin, subject_prefix="[Test] ")
    message_id = f"<bulletin-{bulletin.id}.test.{secrets.token_hex(6)}@{sender_domain()}>"
    # A test message's unsubscribe link is not anyone's: it opens the page that says the link is not valid.
    try:
        data = rendered.message(user.email, user.name, message_id, public_url("bulletins.unsubscribe", token="test"))
    except MessageError as exc:  # the bulletin's page says why when it is sent; a retry would change nothing
        log.warning("test of bulletin %s to %s not built: %s", bulletin.id, user.email, exc)
        db.session.rollback()
        return False
    transport = MailTransport()
    try:
        transport.send(rendered.sender, user.email, data, f"bulletin-{bulletin.id}-test-{secrets.token_hex(4)}")
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("test of bulletin %s to %s not sent: %s", bulletin.id, user.email, exc)
        return False
    finally:
        transport.close()
        db.session.rollback()
    return True


# --- Resuming by itself -----------------------------------------------------------------------------------------


def bulletins_needing_a_job(now: datetime | None = None) -> list[int]:
    """Ids of bulletins whose sending job should run now.

    Ready and due (approved, or scheduled and its time has come); or sending, with no live lease, and with
    rows queued, left in "sending" by a dead worker, deferred and due, or none left at all (to finish it).
    """
    now = now or utcnow()
    d = BulletinDelivery
    is_due = or_(
        Bulletin.state == BulletinState.APPROVED,
        and_(Bulletin.state == BulletinState.SCHEDULED, or_(Bulletin.send_at.is_(None), Bulletin.send_at <= now)),
    )
    has_live_lease = and_(Bulletin.lease_token != "", Bulletin.lease_expires_at >= now)
    has_work = exists().where(
        d.bulletin_id == Bulletin.id,
        or_(d.state.in_([DeliveryState.QUEUED, DeliveryState.SENDING]),
            and_(d.state == DeliveryState.DEFERRED, d.next_attempt_at <= now)),
    )
    is_unfinished = exists().where(d.bulletin_id == Bulletin.id, d.state.in_(list(UNFINISHED_DELIVERY_STATES)))
    needs_sender = and_(
        Bulletin.state == BulletinState.SENDING, not_(has_live_lease), or_(has_work, not_(is_unfinished))
    )
    return list(db.session.scalars(select(Bulletin.id).where(or_(is_due, needs_sender)).order_by(Bulletin.id)))


def resume_unfinished_bulletins() -> int:
    """Queue the sending job of every bulletin with work left (after a crash, a restart, or a scheduled time).

    Returns how many jobs were queued. The sweeper below does the same every minute.
    """
    ids = bulletins_needing_a_job()
    db.session.rollback()  # end the read; each job reads afresh
    for bulletin_id in ids:
        send_bulletin.later(bulletin_id)
    return len(ids)


@jobs.register_sweeper
def unfinished_bulletin_jobs() -> list[tuple[jobs.Job, tuple]]:
    """Sweeper: the sending job of every bulletin that still has work to do now."""
    return [(send_bulletin, (bulletin_id,)) for bulletin_id in bulletins_needing_a_job()]
