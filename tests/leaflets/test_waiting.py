"""'Download PDF' never waits for a render: the waiting page, its estimate, and the PDF once the render pool made it.

These run the app as `make run` does (jobs and renders in the background: a thread per render process and the real
recycled, niced render processes), so the page answers while the leaflet is still being made.
"""

from __future__ import annotations

import io
import os
import re
import socket
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import func, select

from coordinator import jobs
from coordinator.extensions import db
from coordinator.leaflets import pdfs, render_queue
from coordinator.leaflets.cache import app_cache
from coordinator.leaflets.models import LeafletRecord
from tests.factories import make_coordinated_scheme, make_notice
from tests.factories.leaflets import load_starter, starter_choice
from tests.helpers.servers import wait_for
from tests.helpers.web import csrf_from, login_as, post_form

# The starter campaign whose text fits every layout: these tests are about waiting, not about fitting.
METOO = "metoo-bystanders"
REFRESH = re.compile(r'<noscript><meta http-equiv="refresh" content="(\d+)"></noscript>')


@pytest.fixture
def thread_app(app) -> Iterator[Flask]:
    """The app as `make run` runs it: no JOBS_MODE and no REDIS_URL, so renders go to the real render processes."""
    app.config.update(JOBS_MODE="", REDIS_URL="", RENDER_PROCESSES=1)
    assert jobs.jobs_mode(app) == "thread"
    yield app
    render_queue.shutdown(app)
    jobs.shutdown(app)


@pytest.fixture
def coordinator_scheme(thread_app, client):
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme("Bickley Park")
    db.session.commit()
    login_as(client, coordinator)
    return admin, scheme, coordinator


def builder_form(choice, **extra) -> dict:
    data = {"campaign": str(choice.campaign_version_id), "helplines": str(choice.helpline_set_version_id),
            "notice": str(choice.local_notice_version_id or ""), "layout": choice.layout,
            "print_mode": choice.print_mode, "download": "Download PDF"}
    data.update(extra)
    return data


def refusal(key: str) -> str:
    """Why the render was refused, if it was (so a failed wait says so)."""
    data = app_cache().get(key, ".json")
    return data.decode() if data else "no refusal either"


def records() -> int:
    return db.session.scalar(select(func.count()).select_from(LeafletRecord))


def test_a_miss_answers_at_once_with_the_waiting_page_then_the_pdf_from_the_render_pool(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    renders_before = pdfs.render_count()  # a process-wide count: earlier tests in this process rendered too
    began = time.monotonic()
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(starter_choice(METOO)))
    assert response.status_code == 303 and time.monotonic() - began < 5
    waiting_url = response.headers["Location"]
    key = parse_qs(urlsplit(waiting_url).query)["key"][0]
    assert records() == 0  # nothing is recorded until there is a file to give

    page = client.get(waiting_url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "private, no-store"
    if "Your leaflet is ready" not in html:  # the render may be quicker than this look
        assert "Your leaflet is being made. It should be ready within" in html
        assert "data-progress-live" in html and "progress.js" in html
        assert 2 <= int(REFRESH.search(html).group(1)) <= 10  # without JavaScript the page looks again by itself

    wait_for(lambda: app_cache().has(key), 120, "the render process to make the leaflet", lambda: refusal(key))
    assert pdfs.render_count() == renders_before, "rendered in a render process, never in the web process"
    ready = client.get(waiting_url).get_data(as_text=True)
    assert "Your leaflet is ready." in ready and "data-progress-live" not in ready and not REFRESH.search(ready)
    assert "data-progress-go" in ready and 'name="download" value="Download PDF"' in ready

    # Its "Download PDF" (pressed, or sent by progress.js) is now a cache hit: recorded, and the file in hand.
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', ready))
    response = client.post(f"/leaflets/schemes/{scheme.id}/new", data=fields)
    assert response.status_code == 302 and records() == 1
    record = db.session.scalar(select(LeafletRecord))
    pdf = client.get(f"/leaflets/{record.id}/leaflet.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "metoo-bystanders" in text and "Bickley Park" in text  # the campaign's address, the scheme's contact


def test_a_leaflet_that_does_not_fit_says_why_on_the_waiting_page_and_at_once_when_asked_again(
        client, coordinator_scheme):
    admin, scheme, coordinator = coordinator_scheme
    notice = make_notice(scheme, coordinator, approver=admin, title="Residents' meeting",
                         body=("Residents meet every Tuesday at the church hall on the green. " * 12)[:600])
    db.session.commit()
    choice = starter_choice("vawg-prevention", layout="a6", local_notice_version_id=notice.id)
    response = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(choice))
    assert response.status_code == 303
    waiting_url = response.headers["Location"]

    def refused() -> str:
        html = client.get(waiting_url).get_data(as_text=True)
        return html if "This leaflet cannot be printed" in html else ""

    html = wait_for(refused, 120, "the render process to find the leaflet too long")
    assert "Too long for A6" in html and "Leaving out the local notice may also make it fit." in html
    assert "data-progress-live" not in html and not REFRESH.search(html)
    # Asked again, the builder says why at once, at the layout, and records nothing.
    again = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(choice))
    assert again.status_code == 200 and "Too long for A6" in again.get_data(as_text=True) and records() == 0


def test_a_recorded_leaflet_gone_from_the_cache_is_made_again_behind_the_waiting_page(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    first = post_form(client, f"/leaflets/schemes/{scheme.id}/new", builder_form(starter_choice(METOO, layout="dl")))
    key = parse_qs(urlsplit(first.headers["Location"]).query)["key"][0]
    wait_for(lambda: app_cache().has(key), 120, "the first render", lambda: refusal(key))
    html = client.get(first.headers["Location"]).get_data(as_text=True)
    recorded = client.post(f"/leaflets/schemes/{scheme.id}/new",
                           data=dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">', html)))
    record_url = recorded.headers["Location"]
    app_cache().path(key, ".pdf").unlink()  # evicted

    response = client.get(f"{record_url}/leaflet.pdf")
    assert response.status_code == 303 and response.headers["Location"].endswith("/waiting")
    wait_for(lambda: app_cache().has(key), 120, "the render of the recorded leaflet", lambda: refusal(key))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your leaflet is ready." in page and f'href="{record_url}/leaflet.pdf" data-progress-go' in page
    assert client.get(f"{record_url}/leaflet.pdf").mimetype == "application/pdf"


def test_the_estimate_counts_the_renders_asked_for_before_and_the_measured_render_time(thread_app):
    cache = app_cache()
    cache.write_timings({"average": 2.0, "count": 10})
    keys = [f"{n:064x}" for n in range(1, 6)]
    for n, key in enumerate(keys):
        assert cache.mark_pending(key, f"elsewhere:{n}")
        assert not cache.mark_pending(key, "second-comer"), "one render per key, whoever asks"
        stamp = time.time() - 10 + n  # asked for in this order, a few seconds ago
        os.utime(cache.pending_path(key), (stamp, stamp))
    thread_app.config["RENDER_PROCESSES"] = 2
    states = [render_queue.known_state(key) for key in keys]
    assert [s.ahead for s in states] == [0, 1, 2, 3, 4]
    # Two render processes, 2 s a render, a quarter more for the pages served beside them, 5 s to start the render
    # processes (none has started in this process yet), and the page's next look.
    assert [s.estimate_seconds for s in states] == [10, 10, 12, 12, 16]
    assert render_queue.refresh_seconds(states[-1]) == 4
    # While a queue is worked through, the rate renders lately finished at rules when it is slower: 5 in 20 s.
    now = time.time()
    cache.write_timings({"average": 2.0, "count": 10, "finished": [now - 20, now - 15, now - 10, now - 5, now]})
    assert render_queue.known_state(keys[-1]).estimate_seconds == 46  # 5 / 0.2 a second, x 1.25, 5 s and 9 s
    # Finishes of an earlier burst say nothing of the rate now.
    cache.write_timings({"average": 2.0, "count": 10, "finished": [now - 900, now - 800, now - 700, now - 3, now]})
    assert render_queue.finishing_rate(cache) is None
    cache.write_timings({"average": 2.0, "count": 10, "finished": [now - 20, now - 15, now - 10, now - 5, now]})
    render_queue.note_render_seconds(cache, 4.0)
    assert cache.read_timings()["average"] == 2.4 and len(cache.read_timings()["finished"]) == 6
    assert render_queue.known_state("f" * 64) is None and render_queue.known_state("../etc") is None


def test_an_abandoned_mark_is_taken_over(thread_app):
    cache = app_cache()
    key = "a" * 64
    assert cache.mark_pending(key, f"{socket.gethostname()}:999999999")  # a process that is gone
    assert render_queue.known_state(key) is None  # nobody is making it: the next page asks again with the recipe
    assert cache.pending_owner(key) is None


def test_the_waiting_page_escapes_and_needs_the_scheme(client, coordinator_scheme):
    _, scheme, _ = coordinator_scheme
    other, _ = make_coordinated_scheme("Elsewhere")
    db.session.commit()
    assert client.get(f"/leaflets/schemes/{other.id}/waiting?key={'0' * 64}").status_code == 404
    # A key nothing is known of and a choice that is not offered: back to the builder to choose again.
    response = client.get(f"/leaflets/schemes/{scheme.id}/waiting?campaign=999999&helplines=1&layout=a5&key=x")
    assert response.status_code == 302 and f"/leaflets/schemes/{scheme.id}/new" in response.headers["Location"]
    hostile = client.get(f'/leaflets/schemes/{scheme.id}/waiting?key="><script>alert(1)</script>&campaign=1')
    assert "<script>alert(1)" not in hostile.get_data(as_text=True)
    assert csrf_from  # the waiting page's own form carries a token (checked in the first test)
