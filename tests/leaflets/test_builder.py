"""Generating a leaflet: the record keeps the exact versions, the audit log says who, the PDF can be made again."""

from __future__ import annotations

from sqlalchemy import select

from coordinator.audit.models import AuditEntry
from coordinator.content import approval
from coordinator.content import services as content
from coordinator.content.models import ContentKind
from coordinator.extensions import db
from coordinator.leaflets import builder, pdfs, recipes
from coordinator.leaflets.cache import app_cache
from coordinator.settings import get_settings
from tests.factories import current, load_starter, make_coordinated_scheme, starter_choice
from tests.helpers.pdf import reader


def test_generating_a_leaflet_records_the_versions_and_audits_it():
    load_starter()
    scheme, coordinator = make_coordinated_scheme()
    record, prepared = builder.generate_leaflet(scheme, starter_choice(layout="dl", print_mode="shop"), coordinator)
    db.session.commit()
    helpline_set = current(ContentKind.HELPLINE_SET, "sexual-violence")
    assert record.created_by == coordinator and record.scheme == scheme
    assert record.campaign_version_id == current(ContentKind.CAMPAIGN, "its-not-ok").id
    assert record.helpline_set_version_id == helpline_set.id
    assert record.helpline_version_ids == [item.current_version.id for item in helpline_set.helpline_items]
    assert (record.layout, record.print_mode, record.is_large_print, record.copies) == ("dl", "shop", False, 1)
    assert record.reference == prepared.recipe.data.reference and record.printed_on == content.today()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "leaflets.generated"))
    assert entry.actor_id == coordinator.id and entry.object_id == str(record.id)
    assert entry.details["helpline_version_ids"] == record.helpline_version_ids
    assert entry.details["layout"] == "dl" and entry.details["scheme_id"] == scheme.id


def test_a_record_makes_the_same_pdf_again_after_the_content_and_settings_move_on():
    admin = load_starter()
    scheme, coordinator = make_coordinated_scheme()
    record, prepared = builder.generate_leaflet(scheme, starter_choice(print_mode="shop"), coordinator)
    first = builder.record_pdf(record)
    # Later: the association renames itself, the scheme changes its contact lines, the campaign is retired.
    get_settings().association_name = "Another name"
    scheme.contact_email = "new@example.org"
    approval.retire_item(content.find_item(ContentKind.CAMPAIGN, "its-not-ok"), admin)
    app_cache().evict()  # nothing to evict; the cache is small
    assert recipes.recipe_of(record) == prepared.recipe
    for path in list(app_cache().folder.rglob("*.pdf")):
        path.unlink()
    before = pdfs.render_count()
    again = builder.record_pdf(record)
    assert pdfs.render_count() == before + 1
    assert "Another name" not in reader(again).pages[1].extract_text()
    assert reader(again).pages[1].extract_text() == reader(first).pages[1].extract_text()
