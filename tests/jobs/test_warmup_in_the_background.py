"""Warm before launch, run as deployments run it: by a real RQ worker (renders in its work-horse, niced), and in the
embedded mode by the job thread through the real render processes; then "Download PDF" is a cache hit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from coordinator import jobs
from coordinator.content import approval, drafting
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import render_queue
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.likely import likely_choice, recommended_set, usual_formats
from coordinator.leaflets.models import LeafletRecord, LeafletWarmup, WarmupState
from coordinator.leaflets.recipes import prepare_leaflet
from coordinator.leaflets.warmup import plan_warmup, plan_warmups, warm_leaflets, warmups_wanted
from coordinator.schemes.models import Scheme
from tests.factories import make_admin, make_coordinated_scheme
from tests.factories.leaflets import current, load_starter
from tests.helpers.servers import wait_for
from tests.helpers.web import login_as, post_form
from tests.jobs.helpers import NOT_FOR_WORKERS, WorkerProcess

CAMPAIGN = "metoo-bystanders"  # recommends "Sexual violence", and its text fits every format


def warmed_keys(campaign_slug: str = CAMPAIGN) -> dict[int, str]:
    """Each active scheme's likely leaflet of the campaign, dated today, by its cache key."""
    campaign = current(ContentKind.CAMPAIGN, campaign_slug)
    helpline_set = recommended_set(campaign)
    schemes = list(db.session.scalars(select(Scheme).order_by(Scheme.id)))
    formats = usual_formats(s.id for s in schemes)
    return {s.id: prepare_leaflet(s, likely_choice(campaign, helpline_set, formats[s.id])).recipe.key
            for s in schemes}


def all_done() -> bool:
    db.session.rollback()  # see the worker's commits
    warmups = db.session.scalars(select(LeafletWarmup)).all()
    return bool(warmups) and all(w.state == WarmupState.DONE for w in warmups)


@pytest.fixture
def worker_on_this_cache(rq_app, redis_server, smtp_sink, tmp_path) -> Iterator[WorkerProcess]:
    """A worker as a deployment starts it, sharing this app's instance folder (and so its leaflet cache)."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_FOR_WORKERS}
    env.update(COORDINATOR_ENV="development", DATABASE_URL=rq_app.config["SQLALCHEMY_DATABASE_URI"],
               SECRET_KEY=rq_app.config["SECRET_KEY"], COORDINATOR_INSTANCE=rq_app.instance_path,
               REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp_sink.port),
               PYTHONUNBUFFERED="1", JOBS_SWEEP_SECONDS="1")
    worker = WorkerProcess(env, tmp_path / "worker.log")
    yield worker
    worker.kill()


def test_the_worker_warms_every_active_scheme_niced_and_a_later_download_is_a_cache_hit(
        rq_app, worker_on_this_cache, client):
    load_starter()
    schemes = [make_coordinated_scheme(f"Scheme {n}") for n in range(3)]
    db.session.commit()
    keys = warmed_keys()
    wait_for(all_done, 180, "the worker's sweep to plan and run the warm-ups", worker_on_this_cache.log)

    warmups = db.session.scalars(select(LeafletWarmup)).all()
    # One warm-up per campaign with a recommended set (the four starter campaigns), every one "approved".
    assert len(warmups) == 4 and {w.reason for w in warmups} == {"approved"}
    assert all(w.total == 3 and w.done == 3 and w.failed == 0 for w in warmups)
    metoo = next(w for w in warmups if w.campaign_version_id == current(ContentKind.CAMPAIGN, CAMPAIGN).id)
    assert metoo.rendered == 3 and metoo.bytes_written > 0 and metoo.cpu_seconds > 0
    assert all(app_cache().has(key) for key in keys.values())
    assert {w.render_nice for w in warmups} == {19}  # the work-horse rendered below the pages

    # On the day, the coordinator's "Download PDF" (the builder's preselection) is a hit: recorded at once.
    scheme, coordinator = schemes[0]
    login_as(client, coordinator)
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", {
        "campaign": str(current(ContentKind.CAMPAIGN, CAMPAIGN).id),
        "helplines": str(current(ContentKind.HELPLINE_SET, "sexual-violence").id),
        "layout": "a5", "print_mode": "home", "download": "Download PDF"})
    assert response.status_code == 302 and "/waiting" not in response.headers["Location"]
    assert db.session.scalar(select(LeafletRecord.scheme_id)) == scheme.id

    # The admin sees the warm-up on the campaign's page.
    admin = make_admin()
    db.session.commit()
    admin_client = rq_app.test_client()
    login_as(admin_client, admin)
    html = admin_client.get(f"/content/items/{metoo.campaign_item_id}").get_data(as_text=True)
    assert "Leaflets made ready" in html and "The latest warm-up is done: 3 of 3 schemes." in html


def test_a_later_approval_of_a_helpline_in_the_set_makes_the_files_stale_and_warms_them_again(app):
    """Planned by the sweep, run here in place (eager): which files go stale, and that only those are made again."""
    admin = load_starter()
    make_coordinated_scheme("Bickley Park")
    db.session.commit()
    for plan in warmups_wanted():
        assert plan.reason == "approved"
    plan_warmups()  # eager: each warm-up runs as soon as it is planned
    assert warmups_wanted() == []
    before = warmed_keys()

    # A new version of Rape Crisis (in "Sexual violence") is approved: #MeToo's and #ITSNOTOK's leaflets change.
    item = current(ContentKind.HELPLINE, "rape-crisis").item
    version = drafting.start_new_version(item, admin)
    drafting.update_version(version, {**drafting.version_fields(version), "number": "0808 500 2222",
                                      "opening_hours": "Every day, 24 hours"}, admin)
    approval.submit_version(version, admin)
    approval.approve_version(version, make_admin())
    from coordinator.content import services as content
    content.reverify_helpline(item, admin)
    db.session.commit()
    wanted = warmups_wanted()
    assert {(p.campaign.item.slug, p.reason) for p in wanted} == {
        ("metoo-bystanders", "helplines changed"), ("its-not-ok", "helplines changed")}
    plan_warmups()
    after = warmed_keys()
    assert after != before and all(app_cache().has(key) for key in after.values())

    # A scheme's new contact line: only that scheme's leaflets, for the campaigns running now.
    from coordinator.schemes.services import update_scheme_contact
    scheme = db.session.scalar(select(Scheme))
    update_scheme_contact(scheme, "hello@example.org", "", "")
    db.session.commit()
    wanted = warmups_wanted()
    assert {p.reason for p in wanted} == {"contact line changed"} and all(p.scheme_ids == (scheme.id,) for p in wanted)


@pytest.fixture
def thread_app(app) -> Iterator[Flask]:
    app.config.update(JOBS_MODE="", REDIS_URL="", RENDER_PROCESSES=1)
    assert jobs.jobs_mode(app) == "thread"
    yield app
    render_queue.shutdown(app)
    jobs.shutdown(app)


def test_embedded_the_job_thread_warms_through_the_render_processes(thread_app):
    load_starter()
    make_coordinated_scheme("Bickley Park")
    db.session.commit()
    keys = warmed_keys()
    jobs.enqueue(plan_warmups)
    wait_for(all_done, 180, "the job thread to run the warm-ups")
    assert all(app_cache().has(key) for key in keys.values())
    assert {w.render_nice for w in db.session.scalars(select(LeafletWarmup))} == {10}  # the render processes'
    assert not list((Path(thread_app.instance_path) / "leaflet-cache" / "pending").iterdir())
    warm_leaflets(db.session.scalars(select(LeafletWarmup.id)).first())  # done already: nothing happens


def test_the_day_before_a_yearly_window_opens_its_leaflets_are_warmed_dated_the_opening_day(app):
    load_starter(with_windows=True)
    make_coordinated_scheme("Bickley Park")
    db.session.commit()
    its_not_ok = current(ContentKind.CAMPAIGN, "its-not-ok")
    on_approval = {p.campaign.id: p for p in warmups_wanted(date(2027, 1, 10))}
    # Approved in January: made ready at once, dated its opening day (leaflets carry their date).
    assert (on_approval[its_not_ok.id].reason, on_approval[its_not_ok.id].printed_on) == ("approved", date(2027, 2, 1))
    for plan in on_approval.values():  # the three running now; #ITSNOTOK's approval-time warm-up is left out here
        if plan.campaign.id != its_not_ok.id:
            plan_warmup(plan)
    db.session.commit()
    assert [p.campaign.id for p in warmups_wanted(date(2027, 1, 20))] == [its_not_ok.id]
    tomorrow = warmups_wanted(date(2027, 1, 31))
    assert [(p.campaign.id, p.reason, p.printed_on) for p in tomorrow] == [
        (its_not_ok.id, "opens tomorrow", date(2027, 2, 1))]
    # Missed the day before (no worker ran): on the day itself.
    assert [(p.reason, p.printed_on) for p in warmups_wanted(date(2027, 2, 1))] == [("opens today", date(2027, 2, 1))]
