"""Delivery rounds: a print run's streets split between deliverers, and what was delivered in each street.

A deliverer has no account. Each round has a link, signed with the app's secret key (itsdangerous), that names
the round, its link version and the last day it works; the round's delivery sheet prints it with a QR code. The
link opens a page with the round's streets only (street, postcode, households, copies: nothing about residents,
not even the streets' delivery notes, which coordinators write freely), where the deliverer records each street
as delivered (today or on a date), partly delivered (to how many households) or not delivered (and why).

Why 28 days: leaflets are delivered within a week or two of printing (a campaign's window is often a fortnight),
and a sheet left in a porch or passed on should stop opening the page soon after. The coordinator can make a new
link at any time (a new deliverer, a lost sheet, a late round): that gives the round a new link key, so the old
link stops at once, and the new one works for another 28 days. DELIVERY_ROUND_LINK_DAYS changes the figure.

The form on the deliverer's page needs no session (coordinator/leaflets/round_pages.py says why and how).
Services flush; the view commits. Every change is audited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import delete, select

from coordinator import audit, dates
from coordinator.auth.models import User
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.leaflets.cache import cache_key
from coordinator.leaflets.delivery_sheets import DeliverySheet, delivery_sheet_data, render_delivery_sheet
from coordinator.leaflets.models import (
    DeliveryRound,
    DeliveryState,
    PrintRun,
    PrintRunStreet,
    StreetDelivery,
    new_link_key,
)
from coordinator.leaflets.pdfs import cached_render
from coordinator.leaflets.render import template_version
from coordinator.links import public_url
from coordinator.plain_text import hidden_character_problem

LINK_DAYS = 28
_LINK_SALT = "coordinator.delivery-round"
MAX_ROUNDS = 50
RECORDED_STATES = (DeliveryState.DELIVERED, DeliveryState.PARTLY, DeliveryState.NOT_DELIVERED)
STATE_LABELS = {
    DeliveryState.TO_DELIVER: "To deliver",
    DeliveryState.DELIVERED: "Delivered",
    DeliveryState.PARTLY: "Partly delivered",
    DeliveryState.NOT_DELIVERED: "Could not deliver",
}


class RoundProblem(ValueError):
    """A change to the rounds that cannot be made: field name -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class RoundLinkError(ValueError):
    """A deliverer's link that does not open a round: the message says why, in words for the deliverer."""


# --- Links ---------------------------------------------------------------------------------------------------------


def link_days() -> int:
    """How many days a new link works (DELIVERY_ROUND_LINK_DAYS, 28 unless set)."""
    return int(current_app.config.get("DELIVERY_ROUND_LINK_DAYS", LINK_DAYS))


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_LINK_SALT)


def round_token(delivery_round: DeliveryRound) -> str:
    """The round's signed token: [round id, link key, last day as a day number]. The same every time it is made,
    so the round's delivery sheet (and its QR code) can be kept in the cache."""
    return _serializer().dumps([delivery_round.id, delivery_round.link_key,
                                delivery_round.link_expires_on.toordinal()])


def round_url(delivery_round: DeliveryRound) -> str:
    """The absolute address of the round's page, for the delivery sheet and its QR code."""
    return public_url("leaflets.deliver", token=round_token(delivery_round))


def link_digest(token: str) -> str:
    """A short digest of a link, for the page's form token and the audit log (never the link itself)."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def round_for_token(token: str, today: date | None = None) -> DeliveryRound:
    """The round a link opens; RoundLinkError when it is not one of ours, has expired or was replaced."""
    try:
        data = _serializer().loads(token)
    except BadData as exc:
        raise RoundLinkError("This link is not a delivery round's link. Check it against the delivery sheet, or "
                             "ask your coordinator for the link again.") from exc
    if not (isinstance(data, list) and len(data) == 3 and isinstance(data[0], int) and isinstance(data[1], str)
            and isinstance(data[2], int)):
        raise RoundLinkError("This link is not a delivery round's link.")
    round_id, key, last_day = data
    if (today or dates.today()).toordinal() > last_day:
        raise RoundLinkError(f"This link stopped working after {date.fromordinal(last_day):%d %B %Y}. "
                             "Ask your coordinator for a new one.")
    delivery_round = db.session.get(DeliveryRound, round_id)
    if delivery_round is None or delivery_round.link_key != key:
        raise RoundLinkError("Your coordinator has replaced this link, or the round is no longer there. "
                             "Ask them for the new one.")
    return delivery_round


def renew_link(delivery_round: DeliveryRound, actor: User) -> None:
    """A new link for the round, working for another LINK_DAYS; the old one stops at once."""
    delivery_round.link_key = new_link_key()
    delivery_round.link_expires_on = dates.today() + timedelta(days=link_days())
    db.session.flush()
    audit.record("delivery_rounds.link_renewed", delivery_round,
                 f"new link for {delivery_round.name} of print run {delivery_round.print_run_id}, "
                 f"until {delivery_round.link_expires_on:%d %b %Y}",
                 actor=actor, print_run_id=delivery_round.print_run_id)


# --- Splitting a run into rounds -----------------------------------------------------------------------------------


def rounds_of(run: PrintRun) -> list[DeliveryRound]:
    """The run's rounds, in order."""
    return list(db.session.scalars(
        select(DeliveryRound).where(DeliveryRound.print_run_id == run.id).order_by(DeliveryRound.position)
    ))


def deliveries_of(run: PrintRun) -> dict[int, StreetDelivery]:
    """Each street of the run that is in a round or has a delivery recorded, by its print-run street id."""
    rows = db.session.scalars(
        select(StreetDelivery).join(PrintRunStreet, PrintRunStreet.id == StreetDelivery.print_run_street_id)
        .where(PrintRunStreet.print_run_id == run.id)
    )
    return {row.print_run_street_id: row for row in rows}


def deliverable_streets(run: PrintRun) -> list[PrintRunStreet]:
    """The run's streets with copies to deliver (a street where every household asked for none has nothing)."""
    return [street for street in run.streets if street.copies > 0]


def balanced_split(copies: list[int], count: int) -> list[int]:
    """Where each of `count` rounds starts in streets taken in order, so each round has about the same copies.

    Streets stay in the scheme's order (neighbouring streets make one walk); every round gets at least one street.
    """
    total = sum(copies)
    starts = [0]
    running = 0
    for index, street_copies in enumerate(copies):
        rounds_left = count - len(starts)
        streets_left = len(copies) - index
        # A street goes to the next round when more than half of its copies would fall past this round's share.
        if rounds_left and index > starts[-1] and (
            running + street_copies / 2 > total * len(starts) / count or streets_left == rounds_left
        ):
            starts.append(index)
        running += street_copies
    return starts


def split_into_rounds(run: PrintRun, count: int, actor: User) -> list[DeliveryRound]:
    """Split the run's streets into `count` rounds of about the same copies, replacing rounds not yet started."""
    streets = deliverable_streets(run)
    if not 1 <= count <= min(len(streets), MAX_ROUNDS):
        raise RoundProblem({"rounds": f"Choose between 1 and {min(len(streets), MAX_ROUNDS)} rounds: "
                                      f"the run has {len(streets)} streets with copies to deliver."})
    existing = deliveries_of(run)
    if any(row.state != DeliveryState.TO_DELIVER for row in existing.values()):
        raise RoundProblem({"rounds": "Deliveries have been recorded in this run's rounds: move streets between "
                                      "rounds instead of splitting the run again."})
    old_rounds = rounds_of(run)
    db.session.execute(delete(StreetDelivery).where(StreetDelivery.id.in_([row.id for row in existing.values()])))
    db.session.execute(delete(DeliveryRound).where(DeliveryRound.id.in_([r.id for r in old_rounds])))
    expires_on = dates.today() + timedelta(days=link_days())
    starts = balanced_split([street.copies for street in streets], count)
    rounds = []
    for position, start in enumerate(starts, start=1):
        end = starts[position] if position < len(starts) else len(streets)
        delivery_round = DeliveryRound(print_run_id=run.id, position=position, name=f"Round {position}",
                                       link_expires_on=expires_on)
        delivery_round.deliveries = [StreetDelivery(print_run_street_id=street.id) for street in streets[start:end]]
        db.session.add(delivery_round)
        rounds.append(delivery_round)
    db.session.flush()
    audit.record("delivery_rounds.split", run, f"print run {run.id} split into {count} delivery round(s)",
                 actor=actor, rounds={r.name: [d.print_run_street_id for d in r.deliveries] for r in rounds},
                 replaced=len(old_rounds) or None)
    return rounds


def move_streets(run: PrintRun, assignment: dict[int, int], actor: User) -> int:
    """Put streets in other rounds of the same run (print-run street id -> round id); how many moved."""
    rounds = {r.id: r for r in rounds_of(run)}
    deliveries = deliveries_of(run)
    moved = {}
    for street_id, round_id in assignment.items():
        row = deliveries.get(street_id)
        if row is None or round_id not in rounds:
            raise RoundProblem({"streets": "Choose one of this run's rounds for each of its streets."})
        if row.round_id != round_id:
            row.round_id = round_id
            moved[str(street_id)] = rounds[round_id].name
    db.session.flush()
    if moved:
        audit.record("delivery_rounds.streets_moved", run, f"{len(moved)} street(s) of print run {run.id} moved "
                     "to other rounds", actor=actor, moved=moved)
    return len(moved)


def deliverer_problems(name: str, deliverer_name: str, contact: str, has_agreed: bool) -> dict[str, str]:
    """What is wrong with a round's name and deliverer, field by field."""
    problems = {}
    for field, value, label in (("name", name, "The round's name"), ("deliverer_name", deliverer_name,
                                                                     "The deliverer's name"),
                                ("deliverer_contact", contact, "The email or phone")):
        found = hidden_character_problem(value, label)
        if found:
            problems[field] = found
    if not name.strip():
        problems.setdefault("name", "Give the round a name, such as Round 1 or Station Road side.")
    if contact.strip() and not has_agreed:
        problems["has_agreed"] = "Tick the box if the deliverer agreed to their email or phone being kept here; " \
                                 "otherwise leave it empty."
    return problems


def name_deliverer(delivery_round: DeliveryRound, name: str, deliverer_name: str, contact: str,
                   has_agreed: bool, actor: User) -> None:
    """Name the round and its deliverer, and keep their email or phone only when they agreed to it."""
    problems = deliverer_problems(name, deliverer_name, contact, has_agreed)
    if problems:
        raise RoundProblem(problems)
    delivery_round.name = name.strip()
    delivery_round.deliverer_name = deliverer_name.strip()
    delivery_round.deliverer_contact = contact.strip() if has_agreed else ""
    db.session.flush()
    # The contact is the deliverer's own: the audit log says only whether one is kept.
    audit.record("delivery_rounds.deliverer_named", delivery_round,
                 f"{delivery_round.name} of print run {delivery_round.print_run_id}: deliverer "
                 f"“{delivery_round.deliverer_name or 'not named'}”", actor=actor,
                 print_run_id=delivery_round.print_run_id, has_contact=bool(delivery_round.deliverer_contact))


# --- Recording deliveries ------------------------------------------------------------------------------------------


def households_to_deliver(street: PrintRunStreet) -> int:
    """Households of the street that did not ask for no leaflets."""
    return max(street.households - street.households_no_leaflets, 0)


@dataclass(frozen=True)
class DeliveryReport:
    """What a deliverer (or coordinator) says happened in one street."""

    state: DeliveryState
    delivered_on: date | None = None
    households: int | None = None
    reason: str = ""


def delivery_problems(street: PrintRunStreet, report: DeliveryReport, printed_on: date,
                      today: date | None = None) -> dict[str, str]:
    """What is wrong with a report, field by field."""
    today = today or dates.today()
    problems: dict[str, str] = {}
    if report.state not in RECORDED_STATES:
        problems["state"] = "Choose delivered, partly delivered or could not deliver."
    if report.delivered_on is not None and report.state != DeliveryState.NOT_DELIVERED:
        if report.delivered_on > today:
            problems["delivered_on"] = "The date cannot be in the future: leave it empty for today."
        elif report.delivered_on < printed_on:
            problems["delivered_on"] = f"The leaflets were printed on {printed_on:%d %B %Y}: give that day or later."
    if report.state == DeliveryState.PARTLY:
        most = households_to_deliver(street)
        if report.households is None or not 1 <= report.households <= most:
            problems["households"] = f"Give how many households got a leaflet, from 1 to {most}."
    if report.state == DeliveryState.NOT_DELIVERED:
        if not report.reason.strip():
            problems["reason"] = "Say why the leaflets could not be delivered, such as “street closed for works”."
        elif len(report.reason) > 500:
            problems["reason"] = "Keep the reason under 500 characters."
        else:
            found = hidden_character_problem(report.reason, "The reason")
            if found:
                problems["reason"] = found
    return problems


def record_delivery(row: StreetDelivery, report: DeliveryReport, *, recorded_by: str,
                    actor: User | None = None) -> None:
    """Record what happened in one street: its state, households delivered, the day and any reason; audited."""
    street = row.street
    run = street.print_run
    problems = delivery_problems(street, report, run.printed_on)
    if problems:
        raise RoundProblem(problems)
    row.state = report.state
    if report.state == DeliveryState.DELIVERED:
        row.households_delivered = households_to_deliver(street)
    elif report.state == DeliveryState.PARTLY:
        row.households_delivered = report.households or 0
    else:
        row.households_delivered = 0
    row.delivered_on = None if report.state == DeliveryState.NOT_DELIVERED else (report.delivered_on or dates.today())
    row.reason = report.reason.strip() if report.state == DeliveryState.NOT_DELIVERED else ""
    row.recorded_at = utcnow()
    row.recorded_by_label = recorded_by[:254]
    db.session.flush()
    audit.record(
        "deliveries.recorded", row,
        f"{street.name}, print run {run.id}: {STATE_LABELS[row.state].lower()}"
        + (f", {row.households_delivered} household(s)" if row.state != DeliveryState.NOT_DELIVERED else ""),
        actor=actor, actor_label=None if actor is not None else recorded_by[:254],
        print_run_id=run.id, round_id=row.round_id, street_id=street.street_id, state=row.state.value,
        households_delivered=row.households_delivered,
        delivered_on=row.delivered_on.isoformat() if row.delivered_on else None,
    )


def record_by_coordinator(run: PrintRun, print_run_street_id: int, report: DeliveryReport, actor: User) -> None:
    """The coordinator records a street of the run themselves (a street in no round gets its row now)."""
    street = next((s for s in run.streets if s.id == print_run_street_id and s.copies > 0), None)
    if street is None:
        raise RoundProblem({"state": "Choose a street of this run that has copies to deliver."})
    row = deliveries_of(run).get(street.id)
    if row is None:
        row = StreetDelivery(print_run_street_id=street.id, street=street)
        db.session.add(row)
    record_delivery(row, report, recorded_by=actor.email, actor=actor)


def deliverer_label(delivery_round: DeliveryRound) -> str:
    """Who recorded a street from the round's link, as the audit log and the street's row say it."""
    return f"{delivery_round.deliverer_name or 'deliverer'} ({delivery_round.name}, from its link)"


def record_by_deliverer(delivery_round: DeliveryRound, print_run_street_id: int, report: DeliveryReport) -> None:
    """The deliverer records a street of their own round, from the round's link."""
    row = next((d for d in delivery_round.deliveries if d.print_run_street_id == print_run_street_id), None)
    if row is None:
        raise RoundProblem({"state": "That street is not in this round."})
    record_delivery(row, report, recorded_by=deliverer_label(delivery_round))


# --- Progress ------------------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """Streets and households of a run (or a round) by how far their delivery has got."""

    streets: int = 0
    delivered: int = 0
    partly: int = 0
    not_delivered: int = 0
    households_to_deliver: int = 0
    households_delivered: int = 0

    @property
    def to_deliver(self) -> int:
        """Streets nobody has recorded yet."""
        return self.streets - self.delivered - self.partly - self.not_delivered

    @property
    def percent(self) -> int:
        """Households delivered as a whole percentage of those to deliver to (0 when there are none)."""
        if not self.households_to_deliver:
            return 0
        return int(100 * self.households_delivered / self.households_to_deliver)


def progress(streets: list[PrintRunStreet], deliveries: dict[int, StreetDelivery]) -> Progress:
    """How far the delivery of these streets has got."""
    result = Progress()
    for street in streets:
        if street.copies <= 0:
            continue
        result.streets += 1
        result.households_to_deliver += households_to_deliver(street)
        row = deliveries.get(street.id)
        if row is None:
            continue
        result.households_delivered += row.households_delivered
        result.delivered += row.state == DeliveryState.DELIVERED
        result.partly += row.state == DeliveryState.PARTLY
        result.not_delivered += row.state == DeliveryState.NOT_DELIVERED
    return result


def round_streets(delivery_round: DeliveryRound) -> list[PrintRunStreet]:
    """The round's streets in the run's order."""
    return sorted((row.street for row in delivery_round.deliveries), key=lambda street: street.position)


# --- The round's delivery sheet ------------------------------------------------------------------------------------


def round_sheet_data(delivery_round: DeliveryRound) -> DeliverySheet:
    """The round's delivery sheet as plain data: the run's sheet with the round's streets, deliverer and link."""
    run = delivery_round.print_run
    sheet = delivery_sheet_data(run)
    # The run's sheet has a row for each street with copies, in the run's order: the round keeps its own.
    row_of = dict(zip((street.id for street in deliverable_streets(run)), sheet.rows, strict=True))
    return replace(
        sheet,
        rows=tuple(row_of[street.id] for street in round_streets(delivery_round)),
        streets_with_none=(),
        round_name=delivery_round.name,
        deliverer_name=delivery_round.deliverer_name,
        round_address=round_url(delivery_round),
        round_link_until=delivery_round.link_expires_on,
    )


def round_sheet_pdf(delivery_round: DeliveryRound) -> bytes:
    """The round's delivery sheet PDF, from the cache or rendered once (the same link makes the same sheet)."""
    sheet = round_sheet_data(delivery_round)
    key = cache_key(kind="delivery_sheet", sheet=sheet, template=template_version())
    return cached_render(key, render_delivery_sheet, sheet)
