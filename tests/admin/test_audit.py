"""The audit browser: filters, paging and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from coordinator import audit
from coordinator.audit.models import AuditEntry
from coordinator.extensions import db
from tests.admin.helpers import actions
from tests.factories import make_admin, make_scheme, make_user
from tests.helpers.web import login_as


def _entry(action: str, actor_label: str, at: datetime, obj=None, summary: str = "") -> AuditEntry:
    entry = audit.record(action, obj, summary or action, actor_label=actor_label)
    entry.at = at
    return entry


@pytest.fixture
def admin(app, client):
    admin = make_admin(email="alex@example.org")
    db.session.commit()
    login_as(client, admin)
    return admin


@pytest.fixture
def log(admin):
    user = make_user()
    scheme = make_scheme()
    _entry("users.invited", "pat@example.org", datetime(2026, 3, 1, 9, tzinfo=UTC), user, "invitation to someone")
    _entry("users.deactivated", "pat@example.org", datetime(2026, 3, 5, 23, 59, tzinfo=UTC), user)
    _entry("schemes.created", "sam@example.org", datetime(2026, 3, 6, 0, 0, tzinfo=UTC), scheme)
    _entry(
        "auth.login_failed",
        '=HYPERLINK("http://evil")',
        datetime(2026, 3, 10, 12, tzinfo=UTC),
        None,
        "+cmd|' /C calc'!A0",
    )
    db.session.commit()
    return user, scheme


def _rows(page: str) -> int:
    return page.count("<tr>") - 1  # less the header row


def test_browser_lists_newest_first(client, log):
    page = client.get("/admin/audit").get_data(as_text=True)
    assert page.index("auth.login_failed") < page.index("schemes.created") < page.index("users.deactivated")


def test_filter_by_person_action_object_and_dates(client, log):
    user, scheme = log
    by_pat = client.get("/admin/audit?actor=PAT@").get_data(as_text=True)
    assert "2 entries found" in by_pat and "schemes.created" not in by_pat.split("<tbody>")[1]
    by_action = client.get("/admin/audit?action=schemes.created").get_data(as_text=True)
    assert "1 entry found" in by_action
    by_group = client.get("/admin/audit?action=users.").get_data(as_text=True)
    assert "2 entries found" in by_group
    by_object = client.get(f"/admin/audit?object_type=User&object_id={user.id}").get_data(as_text=True)
    assert "2 entries found" in by_object
    assert f'<a href="/admin/users/{user.id}">User {user.id}</a>' in by_object
    by_scheme = client.get(f"/admin/audit?object_type=Scheme&object_id={scheme.id}").get_data(as_text=True)
    assert "1 entry found" in by_scheme
    # The 'to' date includes the whole of that day (UTC); 'from' starts at its midnight.
    by_dates = client.get("/admin/audit?date_from=2026-03-05&date_to=2026-03-05").get_data(as_text=True)
    assert "1 entry found" in by_dates and "users.deactivated" in by_dates
    from_sixth = client.get("/admin/audit?date_from=2026-03-06&date_to=2026-03-09&actor=example").get_data(as_text=True)
    assert "1 entry found" in from_sixth and "schemes.created" in from_sixth


def test_filter_choices_come_from_the_log(client, log):
    page = client.get("/admin/audit").get_data(as_text=True)
    assert '<option value="schemes.created">schemes.created</option>' in page
    assert '<option value="users.">users.* (every users action)</option>' in page
    assert '<option value="Scheme">Scheme</option>' in page


def test_bad_filter_values_are_reported_not_fatal(client, log):
    response = client.get("/admin/audit?date_from=yesterday&action=no.such&date_to=2026-03-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "There is a problem" in page and "Not a valid date value" in page and "Not a valid choice" in page
    # Only the valid part of the filter applies: up to 1 March.
    assert "1 entry found" in page
    backwards = client.get("/admin/audit?date_from=2026-03-05&date_to=2026-03-01").get_data(as_text=True)
    assert "must be the same as or after" in backwards


def test_hostile_text_in_the_log_shows_literally(client, admin):
    audit.record(
        "users.invited", None, "<script>alert(1)</script> {{ 7*7 }}", actor_label='"><img src=x onerror=alert(1)>'
    )
    db.session.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in page
    assert "<img src=x" not in page and "<script>alert" not in page


def test_log_pages_by_fifty_and_keeps_the_filter(client, admin):
    for i in range(120):
        audit.record("users.invited", None, f"invitation {i:03d}", actor_label="bulk@example.org")
    db.session.commit()
    first = client.get("/admin/audit?actor=bulk").get_data(as_text=True)
    assert "120 entries found, page 1 of 3" in first
    assert _rows(first) == 50
    assert 'href="/admin/audit?page=2&amp;actor=bulk" rel="next"' in first
    third = client.get("/admin/audit?actor=bulk&page=3").get_data(as_text=True)
    assert _rows(third) == 20 and "invitation 000" in third


def test_csv_export_neutralises_formulas_and_is_itself_audited(client, log):
    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["when (UTC)", "who", "action", "object type", "object id", "summary", "details", "address"]
    evil = next(r for r in rows if r[2] == "auth.login_failed")
    assert evil[1] == '\'=HYPERLINK("http://evil")'
    assert evil[5] == "'+cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    [exported] = actions("audit.exported")
    assert exported.actor_label == "alex@example.org" and exported.details["rows"] == len(rows) - 1


def test_csv_export_follows_the_filter(client, log):
    text = client.get("/admin/audit.csv?actor=pat&date_to=2026-03-01").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r[2] for r in rows[1:]] == ["users.invited"]
    page = client.get("/admin/audit?actor=pat&date_to=2026-03-01").get_data(as_text=True)
    assert 'href="/admin/audit.csv?actor=pat&amp;date_to=2026-03-01"' in page
    assert actions("audit.exported")[0].details["filters"] == {"actor": "pat", "date_to": "2026-03-01"}

