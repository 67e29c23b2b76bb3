"""The revision that keeps each leaflet's brand: rows made before it keep today's brand, and it downgrades cleanly."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from PIL import Image
from sqlalchemy import inspect, text

from coordinator.extensions import db
from coordinator.settings import logo_version

REVISION = "f8fdaf55eb14"
# The revision before it, whichever that is by now.
BEFORE = ScriptDirectory(str(Path(__file__).resolve().parents[2] / "migrations")).get_revision(REVISION).down_revision


def logo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 60), (230, 126, 34)).save(out, "PNG")
    return out.getvalue()


def add_rows_made_before(connection, png: bytes) -> None:
    now = datetime.now(UTC)
    connection.execute(text(
        "INSERT INTO association_settings (id, association_name, footer_text, sender_address, spare_copies_percent, "
        "helpline_review_months, helpline_grace_days, messages_per_second, brand_colour, logo_png, logo_width, "
        "logo_height) VALUES (1, 'Bromley NWA', '', '', 5, 6, 30, 20, '#7a1f5c', :png, 120, 60)"), {"png": png})
    # A leaflet record of that day, with the two content versions it points at.
    connection.execute(text("INSERT INTO content_items (id, kind, slug) VALUES (1, 'campaign', 'lock-up'), "
                            "(2, 'helpline_set', 'emergency')"))
    connection.execute(text(
        "INSERT INTO content_versions (id, item_id, kind, number, state, title, change_request_reason) VALUES "
        "(1, 1, 'campaign', 1, 'approved', 'Lock up', ''), (2, 2, 'helpline_set', 1, 'approved', 'Emergency', '')"))
    connection.execute(text(
        "INSERT INTO leaflet_records (id, created_at, created_by_label, campaign_version_id, helpline_set_version_id, "
        "helpline_version_ids, layout, print_mode, is_large_print, copies, contact_line, association_name, "
        "footer_text, printed_on, reference) VALUES (1, :now, 'cli', 1, 2, '[]', 'a5', 'home', false, 1, '', "
        "'Bromley NWA', '', :day, 'ABCD-1234')"), {"now": now, "day": date(2026, 11, 24)})


def test_rows_made_before_keep_todays_brand_and_the_downgrade_removes_it_all(migration_app):
    with migration_app.app_context():
        upgrade(revision=BEFORE)
        png = logo()
        with db.engine.begin() as connection:
            add_rows_made_before(connection, png)

        upgrade(revision=REVISION)
        with db.engine.connect() as connection:
            row = connection.execute(text("SELECT brand_colour, logo_version, has_signup_panel, signup_address "
                                          "FROM leaflet_records WHERE id = 1")).one()
            assert tuple(row) == ("#7a1f5c", logo_version(png), False, "")
            kept = connection.execute(text("SELECT version, png FROM printed_logos")).all()
            assert [(version, bytes(data)) for version, data in kept] == [(logo_version(png), png)]

        downgrade(revision=BEFORE)
        with db.engine.connect() as connection:
            inspector = inspect(connection)
            assert "printed_logos" not in inspector.get_table_names()
            for table in ("leaflet_records", "print_runs"):
                names = {column["name"] for column in inspector.get_columns(table)}
                assert "reference" in names, table
                assert not names & {"brand_colour", "logo_version", "has_signup_panel", "signup_address"}, table
            # The record itself outlives the columns (SQLite copies the table to drop them).
            assert connection.execute(text("SELECT reference FROM leaflet_records")).scalar_one() == "ABCD-1234"
        upgrade(revision=REVISION)  # and up again: nothing left behind blocks it
