"""The campaign calendar: yearly windows (also over the new year), one-off dates, the recommended helpline set, the page."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from coordinator.content import services as content
from coordinator.content.calendar import campaign_calendar, window_words
from coordinator.content.fields import FieldErrors, clean_campaign, parse_month_day
from coordinator.content.models import ContentKind
from coordinator.content.packs import export_pack, import_pack, pack_json
from coordinator.extensions import db
from tests.content.helpers import campaign_form
from tests.factories import make_admin, make_campaign, make_helpline, make_helpline_set
from tests.factories.content import campaign_fields
from tests.factories.leaflets import load_starter
from tests.helpers.web import login_as, post_form

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


@pytest.mark.parametrize(("typed", "stored"), [
    ("4 February", "02-04"), ("4 feb", "02-04"), ("February 4", "02-04"), ("1st December", "12-01"),
    ("02-04", "02-04"), ("29 February", "02-29"),
])
def test_a_day_of_every_year_is_typed_in_words_and_kept_as_month_day(typed, stored):
    assert parse_month_day(typed) == stored


@pytest.mark.parametrize("typed", ["30 February", "4 Ju", "13-01", "4-2", "", "next Tuesday", "31 April"])
def test_what_is_not_a_day_of_the_year_is_refused(typed):
    assert parse_month_day(typed) is None


def test_a_yearly_window_needs_both_days():
    with pytest.raises(FieldErrors) as caught:
        clean_campaign(campaign_fields(every_year_from="25 November", every_year_until=""))
    assert set(caught.value.errors) == {"every_year_until"}
    with pytest.raises(FieldErrors) as caught:
        clean_campaign(campaign_fields(every_year_from="31 April", every_year_until="3 May"))
    assert "such as 4 February" in caught.value.errors["every_year_from"]


def test_a_yearly_window_comes_back_every_year_and_may_cross_the_new_year():
    admin = make_admin()
    sixteen_days = make_campaign(admin, title="16 Days of Action", every_year_from="25 November",
                                 every_year_until="10 December")
    winter = make_campaign(admin, title="Winter nights", every_year_from="20 December", every_year_until="6 January")
    status = content.campaign_status
    assert status(sixteen_days, date(2026, 11, 24)) == content.CampaignStatus.UPCOMING
    assert status(sixteen_days, date(2026, 11, 25)) == content.CampaignStatus.CURRENT
    assert status(sixteen_days, date(2027, 12, 10)) == content.CampaignStatus.CURRENT
    assert status(sixteen_days, date(2026, 12, 11)) == content.CampaignStatus.UPCOMING  # it comes back next year
    assert content.next_opening(sixteen_days, date(2026, 12, 11)) == date(2027, 11, 25)
    assert content.opening_day(sixteen_days, date(2026, 12, 3)) == date(2026, 11, 25)
    for day in (date(2026, 12, 20), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 6)):
        assert status(winter, day) == content.CampaignStatus.CURRENT, day
    assert status(winter, date(2027, 1, 7)) == content.CampaignStatus.UPCOMING
    assert content.opening_day(winter, date(2027, 1, 3)) == date(2026, 12, 20)
    assert window_words(winter) == "Every year, 20 December to 6 January"


def test_one_off_dates_bound_a_yearly_window():
    admin = make_admin()
    version = make_campaign(admin, every_year_from="1 February", every_year_until="14 February",
                            first_day="2027-01-01", last_day="2028-12-31")
    assert content.campaign_status(version, date(2026, 2, 3)) == content.CampaignStatus.UPCOMING
    assert content.next_opening(version, date(2026, 2, 3)) == date(2027, 2, 1)
    assert content.campaign_status(version, date(2028, 2, 14)) == content.CampaignStatus.CURRENT
    assert content.campaign_status(version, date(2028, 2, 15)) == content.CampaignStatus.ENDED
    assert window_words(version) == "Every year, 1 February to 14 February, 1 January 2027 to 31 December 2028"


def test_the_calendar_lists_each_month_s_runs_and_the_all_year_campaigns():
    load_starter(with_windows=True)
    admin = make_admin()
    make_campaign(admin, title="Winter nights", every_year_from="20 December", every_year_until="6 January")
    months, all_year = campaign_calendar(date(2026, 12, 7))
    assert [m.label for m in months][:3] == ["December 2026", "January 2027", "February 2027"]
    assert [(r.campaign.title, r.days) for r in months[0].runs] == [("Winter nights", "20 to 31 December")]
    assert [(r.campaign.title, r.days) for r in months[1].runs] == [("Winter nights", "1 to 6 January")]
    assert [(r.campaign.item.slug, r.days) for r in months[2].runs] == [("its-not-ok", "1 to 14 February")]
    assert {v.item.slug for v in all_year} == {"vawg-prevention", "you-are-not-alone", "metoo-bystanders"}


def test_admins_set_a_yearly_window_and_a_recommended_set_and_see_the_calendar(client):
    admin = make_admin()
    helpline = make_helpline(admin)
    chosen = make_helpline_set([helpline], admin, title="Sexual violence")
    db.session.commit()
    login_as(client, admin)
    response = post_form(client, "/content/new/campaign", campaign_form(
        title="16 Days of Action", every_year_from="25 November", every_year_until="10 December",
        recommended_set=str(chosen.item_id)))
    assert response.status_code == 302
    version = content.find_item(ContentKind.CAMPAIGN, "16-days-of-action").latest_version
    assert (version.every_year_from, version.every_year_until) == ("11-25", "12-10")
    assert version.recommended_set_item_id == chosen.item_id
    html = client.get(f"/content/items/{version.item_id}/edit").get_data(as_text=True)
    assert 'value="25 November"' in html and 'value="10 December"' in html
    assert re.search(rf'<option selected value="{chosen.item_id}">Sexual violence</option>', html)

    response = post_form(client, "/content/new/campaign", campaign_form(title="Not a set", recommended_set="99999"))
    assert response.status_code == 200
    assert "Recommended helpline set: choose one of the helpline sets" in response.get_data(as_text=True)


def test_the_calendar_page_is_for_admins_and_escapes_titles(client):
    admin = make_admin()
    make_campaign(admin, title=HOSTILE, every_year_from="1 March", every_year_until="3 March")
    db.session.commit()
    login_as(client, admin)
    html = client.get("/content/calendar").get_data(as_text=True)
    assert "1 to 3 March" in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert '<meta http-equiv="refresh"' not in html and "<script" not in html.split("</head>")[1]


def test_packs_carry_the_yearly_window_and_the_recommended_set_by_slug():
    load_starter(with_windows=True)
    pack = export_pack()
    its_not_ok = next(i for i in pack["items"] if i["slug"] == "its-not-ok")["fields"]
    assert its_not_ok["every_year_from"] == "02-01" and its_not_ok["recommended_helpline_set"] == "sexual-violence"
    # The same pack again changes nothing; one naming a set neither in it nor in the library is refused.
    report = import_pack(pack_json(pack).encode(), None, system_label="test")
    assert report.added == [] and report.updated == []
    its_not_ok["recommended_helpline_set"] = "no-such-set"
    with pytest.raises(content.ContentError) as caught:
        import_pack(json.dumps(pack).encode(), None, system_label="test")
    assert "no-such-set" in str(caught.value)
