"""Content packs and the starter content: export, import all-or-nothing, first-install approval."""

from __future__ import annotations

import base64
import io
import json
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from coordinator.audit.models import AuditEntry
from coordinator.content import services as content
from coordinator.content.models import ContentItem, ContentKind, ContentVersion, VersionState
from coordinator.content.packs import PackError, export_pack, import_pack, pack_json
from coordinator.content.starter import STARTER_PACK, load_starter_content
from coordinator.demo import seed_demo
from coordinator.extensions import db
from tests.factories import make_admin, make_campaign, make_helpline, make_user

# A copy of the association's source facts, kept with the tests so a clone anywhere can check against it.
FACTS_FILE = Path(__file__).resolve().parent / "data" / "seed-facts.md"


def facts_helplines() -> dict[str, dict]:
    """The helpline table of the seed facts: name -> number, hours, for, web."""
    assert FACTS_FILE.exists(), f"the seed facts are expected at {FACTS_FILE}"
    text = FACTS_FILE.read_text(encoding="utf-8").split("## Helplines", 1)[1]
    rows = [line for line in text.splitlines() if line.startswith("|")][2:]
    table = {}
    for row in rows:
        name, number, hours, who_for, web = (cell.strip() for cell in row.strip().strip("|").split("|"))
        table[name] = {"number": number, "hours": hours, "who_for": who_for, "web": web}
    return table


def counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(ContentItem)),
        db.session.scalar(select(func.count()).select_from(ContentVersion)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )


def pack(*items) -> bytes:
    return json.dumps({"format": "nwc-content-pack", "version": 1, "items": list(items)}).encode()


def helpline_item(slug="line", **fields):
    data = {"title": "A line", "number": "0808 802 4040"}
    data.update(fields)
    return {"kind": "helpline", "slug": slug, "fields": data}


def campaign_item(slug="camp", **fields):
    data = {"title": "A campaign", "summary": "Short.", "body": "Plain **words**."}
    data.update(fields)
    return {"kind": "campaign", "slug": slug, "fields": data}


# --- Starter content ----------------------------------------------------------------------------


def test_export_of_a_fresh_demo_lists_4_campaigns_and_11_helplines_exactly_as_in_the_facts():
    seed_demo()
    db.session.commit()
    exported = export_pack()
    by_kind: dict[str, list] = {}
    for item in exported["items"]:
        by_kind.setdefault(item["kind"], []).append(item)
    assert len(by_kind["campaign"]) == 4
    assert len(by_kind["helpline"]) == 11
    assert len(by_kind["helpline_set"]) == 3
    facts = facts_helplines()
    assert len(facts) == 11
    exported_lines = {i["fields"]["title"]: i["fields"] for i in by_kind["helpline"]}
    assert set(exported_lines) == set(facts)
    for name, fact in facts.items():
        line = exported_lines[name]
        assert line["number"] == fact["number"], name
        assert line["who_for"] == fact["who_for"], name
        assert line["web_address"] == fact["web"], name
        assert line["opening_hours"] == fact["hours"], name
        # 0800 and 0808 numbers and 999 are free; 101 costs 15p a call, never printed as free.
        assert line["is_free_to_call"] is (fact["number"] != "101"), name
    assert exported_lines["Respect Phoneline"]["number"] == "0808 802 4040"


def test_starter_campaigns_carry_the_facts():
    seed_demo()
    campaigns = {v.item.slug: v for v in content.approved_campaigns()}
    assert campaigns["its-not-ok"].hashtag == "#ITSNOTOK"
    assert campaigns["its-not-ok"].web_address == "sexualabuseandsexualviolenceawarenessweek.org"
    assert "Speak up, speak out" in campaigns["its-not-ok"].call_to_action
    assert "4 to 10 February" in campaigns["its-not-ok"].body and "Monday 5 February" in campaigns["its-not-ok"].body
    assert campaigns["you-are-not-alone"].hashtag == "#YouAreNotAlone"
    assert "0808 2000 247" in campaigns["vawg-prevention"].body
    assert campaigns["metoo-bystanders"].hashtag == "#MeToo"
    # #ITSNOTOK comes back every year from 1 to 14 February (its 2018 week was 4 to 10 February); the other three
    # run all year round. Each recommends the set the builder preselects.
    its_not_ok = campaigns["its-not-ok"]
    assert (its_not_ok.every_year_from, its_not_ok.every_year_until) == ("02-01", "02-14")
    assert content.campaign_status(its_not_ok, date(2027, 2, 4)) == content.CampaignStatus.CURRENT
    assert content.campaign_status(its_not_ok, date(2026, 12, 7)) == content.CampaignStatus.UPCOMING
    assert content.next_opening(its_not_ok, date(2026, 12, 7)) == date(2027, 2, 1)
    assert len(content.current_campaigns(date(2027, 2, 4))) == 4
    assert {slug: v.recommended_set_item.slug for slug, v in campaigns.items()} == {
        "its-not-ok": "sexual-violence", "metoo-bystanders": "sexual-violence",
        "vawg-prevention": "domestic-abuse", "you-are-not-alone": "domestic-abuse",
    }


def test_starter_sets_and_helplines_need_verifying():
    seed_demo()
    sets = {v.title: [i.title for i in v.helpline_items] for v in content.approved_helpline_sets()}
    assert sets["Domestic abuse"] == [
        "National Domestic Abuse Helpline", "Respect Phoneline", "Men's Advice Line", "Karma Nirvana", "Hourglass",
        "Galop LGBT+ Domestic Abuse Helpline", "Childline",
    ]
    assert sets["Sexual violence"] == ["Rape Crisis", "Victim Support", "Police, non-emergency", "Police, emergency"]
    assert sets["Emergency and reporting"] == ["Police, non-emergency", "Police, emergency"]
    rows = content.helplines_needing_review()
    assert len(rows) == 11 and {r.status for _, r in rows} == {content.ReviewStatus.UNVERIFIED}


def test_seed_demo_twice_adds_no_content():
    seed_demo()
    db.session.commit()
    first = counts()[:2]
    seed_demo()
    db.session.commit()
    assert counts()[:2] == first


def test_starter_content_is_not_loaded_over_an_existing_library():
    make_campaign()
    assert load_starter_content(make_admin()) is None
    assert content.find_item(ContentKind.CAMPAIGN, "its-not-ok") is None


# --- Import -------------------------------------------------------------------------------------


def test_import_creates_submitted_versions_awaiting_approval():
    admin = make_admin()
    report = import_pack(STARTER_PACK.read_bytes(), admin)
    assert report.ok and len(report.added) == 18 and not report.approved
    states = set(db.session.scalars(select(ContentVersion.state)))
    assert states == {VersionState.SUBMITTED}
    assert content.current_campaigns() == []


def test_reimporting_an_export_reports_unchanged_items():
    seed_demo()
    data = pack_json(export_pack()).encode()
    before = counts()[:2]
    report = import_pack(data, make_admin())
    assert report.added == [] and report.updated == [] and len(report.unchanged) == 18
    assert counts()[:2] == before


def test_a_changed_item_in_a_pack_becomes_a_new_submitted_version():
    seed_demo()
    exported = export_pack()
    for item in exported["items"]:
        if item["slug"] == "childline":
            item["fields"]["opening_hours"] = "Any time"
    report = import_pack(pack_json(exported).encode(), make_admin())
    assert report.updated == ["helpline “Childline”"]
    item = content.find_item(ContentKind.HELPLINE, "childline")
    assert item.open_version.state == VersionState.SUBMITTED and item.open_version.opening_hours == "Any time"
    assert item.current_version.opening_hours == ""


def test_approve_as_is_only_for_a_first_install():
    make_campaign()
    admin = make_admin()
    before = counts()
    with pytest.raises(PackError, match="first install"):
        import_pack(STARTER_PACK.read_bytes(), None, approve_as=admin, system_label="cli")
    assert counts() == before


def test_approve_as_must_be_an_admin():
    with pytest.raises(PackError, match="not an active admin"):
        import_pack(STARTER_PACK.read_bytes(), None, approve_as=make_user(), system_label="cli")


def test_campaign_pictures_travel_in_packs():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    version = make_campaign(image_upload=out.getvalue())
    exported = export_pack()
    [item] = [i for i in exported["items"] if i["kind"] == "campaign"]
    assert base64.b64decode(item["fields"]["image"]["data"]) == version.image.data
    assert "image" not in next(i for i in export_pack(include_images=False)["items"] if i["kind"] == "campaign")["fields"]


HOSTILE_PACKS = [
    (b"not json at all {", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[]", "not a content pack"),
    (json.dumps({"format": "nwc-content-pack", "version": 2, "items": []}).encode(), "format version 2"),
    (json.dumps({"format": "nwc-content-pack", "version": 1}).encode(), "no \"items\" list"),
    (pack(helpline_item(), {"kind": "bulletin", "slug": "x", "fields": {}}), "kind must be one of"),
    (pack(helpline_item(slug="Bad Slug!")), "slug must be lower-case"),
    (pack(helpline_item(), helpline_item()), "appears twice"),
    (pack(helpline_item(number="0808 2000 24")), "Number: '0808 2000 24' is not a complete UK phone number"),
    (pack(helpline_item(number="+44 7")), "not a complete UK phone number"),
    (pack(helpline_item(number="0808 FLOWERS")), "digits only"),
    (pack(helpline_item(colour="red")), "unknown field 'colour'"),
    (pack(helpline_item(is_24_7="yes")), "must be true or false"),
    (pack(campaign_item(body="<script>alert(1)</script>")), "HTML such as <script> is not allowed"),
    (pack(campaign_item(body="[x](javascript:alert(1))")), "not javascript:"),
    (pack(campaign_item(body='<iframe src="https://evil.example">')), "HTML such as <iframe"),
    (pack(campaign_item(summary="x" * 201)), "200 characters or fewer"),
    (pack(campaign_item(image={"media_type": "image/svg+xml",
                               "data": base64.b64encode(b"<svg onload='alert(1)'/>").decode()})), "PNG or JPEG"),
    (pack(campaign_item(image={"data": "%%% not base64"})), "not valid base64"),
    (pack({"kind": "helpline_set", "slug": "set", "fields": {"title": "Set", "helplines": ["nowhere"]}}),
     "helpline 'nowhere' is neither in the pack nor in the library"),
    (pack(helpline_item(), {"kind": "helpline_set", "slug": "set", "fields": {"title": "S", "helplines": [
        "line", "line"]}}), "only once"),
    (pack(helpline_item(), "just a string"), "must be an object"),
]


@pytest.mark.parametrize("data, why", HOSTILE_PACKS)
def test_a_malformed_or_hostile_pack_changes_nothing_and_says_why(data, why):
    make_helpline(title="Existing")
    admin = make_admin()
    db.session.commit()
    before = counts()
    with pytest.raises(PackError) as caught:
        import_pack(data, admin)
    assert any(why in problem for problem in caught.value.problems), caught.value.problems
    assert counts() == before  # checked before anything was added, not undone afterwards


def test_a_pack_with_good_items_and_one_bad_one_imports_none_of_them():
    data = pack(helpline_item(slug="good"), campaign_item(slug="good-campaign"), helpline_item(slug="bad", number="1"))
    with pytest.raises(PackError) as caught:
        import_pack(data, make_admin())
    assert caught.value.problems == [
        ("Item 3 (helpline 'bad'): Number: '1' is not a UK short code or a complete phone number. Short codes such "
        "as 101 and 999 are fine; other numbers start with 0, for example 0808 802 4040.")
    ]
    assert counts()[:2] == (0, 0)


def test_an_item_already_awaiting_approval_blocks_the_import():
    make_helpline(state=VersionState.SUBMITTED, title="Waiting")
    slug = db.session.scalars(select(ContentItem.slug)).one()
    with pytest.raises(PackError, match="finish or withdraw"):
        import_pack(pack(helpline_item(slug=slug)), make_admin())


# --- The commands -------------------------------------------------------------------------------


def test_content_export_command_writes_the_pack(runner, tmp_path):
    seed_demo()
    db.session.commit()
    target = tmp_path / "pack.json"
    result = runner.invoke(args=["content", "export", str(target)])
    assert result.exit_code == 0, result.output
    assert "4 campaign" in result.output and "11 helpline" in result.output
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written["format"] == "nwc-content-pack"
    assert {i["fields"]["number"] for i in written["items"] if i["kind"] == "helpline"} >= {"0808 2000 247", "101"}


def test_content_import_command_with_approve_as_on_a_first_install(runner):
    admin = make_admin(email="first.admin@example.org")
    db.session.commit()
    result = runner.invoke(args=["content", "import", str(STARTER_PACK), "--approve-as", "First.Admin@example.org"])
    assert result.exit_code == 0, result.output
    assert "18 new and 0 changed items approved" in result.output
    assert len(content.approved_campaigns()) == 4
    approved = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.approved")).all()
    assert len(approved) == 18 and {a.actor_id for a in approved} == {admin.id}


def test_content_import_command_refuses_approve_as_on_an_existing_library(runner):
    make_campaign()
    make_admin(email="second@example.org")
    db.session.commit()
    before = counts()
    result = runner.invoke(args=["content", "import", str(STARTER_PACK), "--approve-as", "second@example.org"])
    assert result.exit_code == 1
    assert "only for a first install" in result.output
    assert counts() == before


def test_content_import_command_reports_a_bad_pack(runner, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(pack(helpline_item(number="0808 2000 24")))
    result = runner.invoke(args=["content", "import", str(bad)])
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output and "0808 2000 24" in result.output
    assert counts()[:2] == (0, 0)


def test_content_import_command_submits_for_approval(runner):
    result = runner.invoke(args=["content", "import", str(STARTER_PACK)])
    assert result.exit_code == 0, result.output
    assert "submitted for approval" in result.output
    submitted = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "content.submitted")).all()
    assert len(submitted) == 18 and {a.actor_label for a in submitted} == {"cli"}
