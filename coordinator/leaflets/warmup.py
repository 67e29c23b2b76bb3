"""Warm before launch: render ahead what coordinators will most likely ask for, so "Download PDF" is a cache hit.

For a campaign with a recommended helpline set, a warm-up renders, for every active scheme (one with an active
coordinator), the campaign with that set in the scheme's usual format (likely.py), dated the day it will be asked
for, into the content-addressed cache. The sweep (`warmups_wanted`, every JOBS_SWEEP_SECONDS) plans one:
- when a campaign version is approved (dated today if it runs now, else the day it opens);
- the day before its window opens (and on the day itself, if that was missed): leaflets carry their date, so only
  files dated the opening day are hits on the day;
- when a later approval changes the set or its helplines (a new signature of the versions printed);
- for the schemes whose contact line changed since the campaign's latest warm-up (from the audit log).
A campaign that runs all year is warmed on approval and on changes, not every day.

The job (`warm_leaflets`) runs in the worker, below the pages: an RQ work-horse lowers its own priority to
WARMUP_NICE (19 by default) and renders in place; in the embedded mode it runs on the job thread and its renders
take one of the render processes (niced to RENDER_NICE) at a time. A file already cached, or being made for a page
at that moment (its render mark, render_queue.py), is skipped. The job is safe to run twice and picks up where it
stopped; a warm-up left queued, or running with no progress for STALLED_AFTER, is queued again by the sweep.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from rq import get_current_job
from sqlalchemy import exists, select

from coordinator import jobs
from coordinator.audit.models import AuditEntry
from coordinator.auth.models import User
from coordinator.content import services as content
from coordinator.content.models import CampaignVersion, HelplineSetVersion
from coordinator.db import utcnow
from coordinator.extensions import db
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.likely import likely_choice, recommended_set, usual_formats
from coordinator.leaflets.models import LeafletWarmup, WarmupState
from coordinator.leaflets.offers import ContentOffer, LeafletChoiceError
from coordinator.leaflets.pdfs import render_recipe
from coordinator.leaflets.recipes import prepare_leaflet
from coordinator.leaflets.render import LeafletError
from coordinator.leaflets.render_queue import refusal_bytes
from coordinator.schemes.models import Scheme, SchemeCoordinator

log = logging.getLogger(__name__)

DEFAULT_WARMUP_NICE = 19
# Progress is written this often, so the campaign's page moves without a commit per leaflet.
PROGRESS_EVERY_SECONDS = 2.0
STALLED_AFTER = timedelta(minutes=5)


# --- What to warm -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarmupPlan:
    """A warm-up the sweep wants: the content, the day printed, why, and which schemes (None: every active one)."""

    campaign: CampaignVersion
    helpline_set: HelplineSetVersion
    helplines_signature: str
    printed_on: date
    reason: str
    scheme_ids: tuple[int, ...] | None = None


def helplines_signature(helpline_set: HelplineSetVersion, on: date) -> str:
    """The helpline versions a leaflet of this set prints on the day, as "12-13-14"."""
    usable, _ = content.usable_helplines(helpline_set, on)
    return "-".join(str(version.id) for version in usable)


def active_scheme_ids() -> list[int]:
    """Schemes with at least one active coordinator, by id."""
    has_active = exists().where(
        SchemeCoordinator.scheme_id == Scheme.id, SchemeCoordinator.user_id == User.id, User.is_active_account
    )
    return list(db.session.scalars(select(Scheme.id).where(has_active).order_by(Scheme.id)))


def _warmups_of(campaign: CampaignVersion) -> list[LeafletWarmup]:
    return list(db.session.scalars(
        select(LeafletWarmup).where(LeafletWarmup.campaign_item_id == campaign.item_id)
        .order_by(LeafletWarmup.created_at, LeafletWarmup.id)
    ))


def _contact_changes_since(moment) -> tuple[int, ...]:
    rows = db.session.scalars(
        select(AuditEntry.object_id).where(AuditEntry.action == "schemes.contact_changed", AuditEntry.at > moment)
    )
    return tuple(sorted({int(object_id) for object_id in rows if object_id.isdigit()}))


def warmups_wanted(on: date | None = None) -> list[WarmupPlan]:
    """The warm-ups the library and the calendar call for now that none has been planned for yet."""
    on = on or content.today()
    plans = []
    for campaign in content.approved_campaigns():
        helpline_set = recommended_set(campaign)
        status = content.campaign_status(campaign, on)
        if helpline_set is None or status == content.CampaignStatus.ENDED:
            continue
        opening = content.opening_day(campaign, on)
        is_running = status == content.CampaignStatus.CURRENT
        day = on if is_running else opening
        signature = helplines_signature(helpline_set, day)
        past = [w for w in _warmups_of(campaign) if w.campaign_version_id == campaign.id
                and w.helpline_set_version_id == helpline_set.id and w.helplines_signature == signature]
        opens_now = opening is not None and (opening == on + timedelta(days=1) or (is_running and opening == on))
        if opens_now and not any(w.printed_on == opening for w in past):
            reason = "opens tomorrow" if opening > on else "opens today"
            plans.append(WarmupPlan(campaign, helpline_set, signature, opening, reason))
            continue
        if not past:
            is_new = not any(w.campaign_version_id == campaign.id for w in _warmups_of(campaign))
            plans.append(WarmupPlan(campaign, helpline_set, signature, day,
                                    "approved" if is_new else "helplines changed"))
            continue
        if is_running:
            changed = _contact_changes_since(_warmups_of(campaign)[-1].created_at)
            if changed:
                plans.append(WarmupPlan(campaign, helpline_set, signature, on, "contact line changed", changed))
    return plans


def plan_warmup(plan: WarmupPlan) -> LeafletWarmup:
    """Keep a planned warm-up and ask for its job (flush only)."""
    warmup = LeafletWarmup(
        campaign_item_id=plan.campaign.item_id,
        campaign_version_id=plan.campaign.id,
        helpline_set_version_id=plan.helpline_set.id,
        helplines_signature=plan.helplines_signature,
        printed_on=plan.printed_on,
        reason=plan.reason,
        scheme_ids=list(plan.scheme_ids) if plan.scheme_ids is not None else None,
    )
    db.session.add(warmup)
    db.session.flush()
    jobs.after_commit(warm_leaflets, warmup.id)
    return warmup


@jobs.job
def plan_warmups() -> int:
    """Plan every warm-up wanted now (the sweep asks for this when there is one); return how many."""
    plans = warmups_wanted()
    for plan in plans:
        log.info("leaflet warm-up planned: %s (%s), dated %s", plan.campaign.title, plan.reason, plan.printed_on)
        plan_warmup(plan)
    db.session.commit()
    return len(plans)


@jobs.register_sweeper
def warmups_to_run():
    """Plan warm-ups the content and the calendar call for; run again those left queued or stalled."""
    wanted: list = []
    if warmups_wanted():
        wanted.append((plan_warmups, ()))
    stalled_before = utcnow() - STALLED_AFTER
    unfinished = db.session.scalars(select(LeafletWarmup.id).where(
        (LeafletWarmup.state == WarmupState.QUEUED)
        | ((LeafletWarmup.state == WarmupState.RUNNING) & (LeafletWarmup.updated_at < stalled_before))
    ))
    wanted += [(warm_leaflets, (warmup_id,)) for warmup_id in unfinished]
    return wanted


# --- The job ----------------------------------------------------------------------------------------------------


def _lower_priority() -> int:
    """Lower an RQ work-horse's priority to WARMUP_NICE; return how far below the pages the renders run."""
    # Only a work-horse, which ends with its job: never the web process the embedded job thread runs in
    # (its renders go to the render processes, niced to RENDER_NICE already).
    if get_current_job() is None:
        return int(current_app.config.get("RENDER_NICE") or 0)
    wanted = int(current_app.config.get("WARMUP_NICE", DEFAULT_WARMUP_NICE))
    current = os.nice(0)
    if wanted > current:
        current = os.nice(wanted - current)
    return current


@jobs.job
def warm_leaflets(warmup_id: int) -> None:
    """Render a warm-up's leaflets into the cache, skipping those there already; progress kept on its row."""
    warmup = db.session.get(LeafletWarmup, warmup_id)
    if warmup is None or warmup.state == WarmupState.DONE:
        return
    nice = _lower_priority()
    campaign = content.get_version(warmup.campaign_version_id)
    helpline_set = content.get_version(warmup.helpline_set_version_id)
    scheme_ids = warmup.scheme_ids if warmup.scheme_ids is not None else active_scheme_ids()
    schemes = list(db.session.scalars(select(Scheme).where(Scheme.id.in_(scheme_ids)).order_by(Scheme.id)))
    warmup.state = WarmupState.RUNNING
    warmup.started_at = warmup.started_at or utcnow()
    warmup.total = len(schemes)
    warmup.render_nice = nice
    warmup.rendered = warmup.already_ready = warmup.refused = warmup.failed = 0
    db.session.commit()

    # The versions as the warm-up planned them, offered on the day printed, whatever is approved by now: a newer
    # approval plans a warm-up of its own.
    offer = ContentOffer([campaign], [helpline_set], [])
    formats = usual_formats(scheme.id for scheme in schemes)
    cache = app_cache()
    began_cpu = time.process_time()
    last_write = time.monotonic()
    counts: dict[str, int] = {"rendered": 0, "already_ready": 0, "refused": 0, "failed": 0, "bytes_written": 0}
    printed_on = warmup.printed_on

    def write_progress() -> None:
        # Set on the row only now, and committed at once: no write transaction stays open while leaflets render
        # (on SQLite it would hold the one write lock, and logins would wait for it).
        for name, value in counts.items():
            setattr(warmup, name, value)
        warmup.cpu_seconds = time.process_time() - began_cpu

    for scheme in schemes:
        outcome, written = _warm_one(cache, scheme, campaign, helpline_set, formats[scheme.id], printed_on, offer)
        counts[outcome] += 1
        counts["bytes_written"] += written
        if time.monotonic() - last_write > PROGRESS_EVERY_SECONDS:
            write_progress()
            db.session.commit()
            last_write = time.monotonic()
    write_progress()
    warmup.state = WarmupState.DONE
    warmup.finished_at = utcnow()
    db.session.commit()
    log.info("leaflet warm-up %d done: %d rendered, %d ready already, %d refused, %d failed, %.1f CPU s, %d bytes",
             warmup.id, warmup.rendered, warmup.already_ready, warmup.refused, warmup.failed, warmup.cpu_seconds,
             warmup.bytes_written)


def _warm_one(cache, scheme: Scheme, campaign, helpline_set, usual, printed_on: date,
              offer: ContentOffer) -> tuple[str, int]:
    """One scheme's leaflet: ("rendered" | "already_ready" | "refused" | "failed", bytes written)."""
    try:
        prepared = prepare_leaflet(scheme, likely_choice(campaign, helpline_set, usual), on=printed_on, offer=offer)
    except LeafletChoiceError:  # e.g. none of the set's helplines can be printed that day
        return "refused", 0
    key = prepared.recipe.key
    if cache.has(key) or cache.has(key, ".json") or not cache.mark_pending(key, f"warm-up:{os.getpid()}"):
        return "already_ready", 0  # a page is making it at this moment, or it is made
    try:
        data = jobs.run_in_subprocess(render_recipe, prepared.recipe)
        cache.put(key, data)  # before the mark goes, so a page never finds neither
        # Its time is not noted for the pages' estimates: it renders elsewhere (a work-horse), at a lower priority.
        return "rendered", len(data)
    except LeafletError as error:
        cache.put(key, refusal_bytes(error), ".json")
        return "refused", 0
    except Exception:  # one scheme's failure (a render process died) must not stop the others
        log.exception("warm-up: the leaflet of scheme %d failed", scheme.id)
        return "failed", 0
    finally:
        cache.clear_pending(key)


# --- What admins see --------------------------------------------------------------------------------------------


def recent_warmups(campaign_item_id: int, limit: int = 5) -> list[LeafletWarmup]:
    """A campaign's latest warm-ups, newest first, for its page."""
    return list(db.session.scalars(
        select(LeafletWarmup).where(LeafletWarmup.campaign_item_id == campaign_item_id)
        .order_by(LeafletWarmup.created_at.desc(), LeafletWarmup.id.desc()).limit(limit)
    ))
