"""The translations revision, up and down with content in the tables, on SQLite and PostgreSQL.

Content versions are referred to with ON DELETE CASCADE, so the revision must add its columns in place: a copy of
content_items (SQLite's batch mode) would delete every version on the way. This test holds content across it.
"""

from __future__ import annotations

import warnings

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from coordinator.extensions import db

REVISION = "b8d4f2a6c0e1"


def _revision_before() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(REVISION).down_revision


def _columns(connection, table: str) -> set[str]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        return {c["name"] for c in inspect(connection).get_columns(table)}


def _count(connection, sql: str) -> int:
    return connection.execute(text(sql)).scalar_one()


def _add_set_with_a_version(connection, slug: str) -> int:
    item_id = connection.execute(text(
        "INSERT INTO content_items (kind, slug, created_at, updated_at) "
        "VALUES ('helpline_set', :slug, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"), {"slug": slug}
    ).scalar_one()
    version_id = connection.execute(text(
        "INSERT INTO content_versions (item_id, kind, number, state, title, change_request_reason, created_at, "
        "updated_at) VALUES (:item, 'helpline_set', 1, 'approved', 'Support', '', CURRENT_TIMESTAMP, "
        "CURRENT_TIMESTAMP) RETURNING id"), {"item": item_id}).scalar_one()
    connection.execute(text("INSERT INTO helpline_set_versions (id) VALUES (:id)"), {"id": version_id})
    return item_id


def test_upgrade_keeps_every_version_and_downgrade_removes_translations_only(migration_app):
    with migration_app.app_context():
        before = _revision_before()
        upgrade(revision=before)
        with db.engine.begin() as connection:
            original_id = _add_set_with_a_version(connection, "support")
            assert "translation_of_id" not in _columns(connection, "content_items")

        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            assert {"translation_of_id", "language"} <= _columns(connection, "content_items")
            assert "source_version_id" in _columns(connection, "content_versions")
            assert "translation_confirmations" in inspect(connection).get_table_names()
            # Nothing was copied away: the version and its kind's row are still there.
            assert _count(connection, "SELECT count(*) FROM content_versions") == 1
            assert _count(connection, "SELECT count(*) FROM helpline_set_versions") == 1
            translation_id = connection.execute(text(
                "INSERT INTO content_items (kind, slug, translation_of_id, language, created_at, updated_at) "
                "VALUES ('helpline_set', 'support-pl', :original, 'pl', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) "
                "RETURNING id"), {"original": original_id}).scalar_one()
            assert translation_id != original_id
        # One translation per language: the unique index holds in the migrated database.
        with pytest.raises(Exception, match="(?i)unique"), db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO content_items (kind, slug, translation_of_id, language, created_at, updated_at) "
                "VALUES ('helpline_set', 'support-pl-2', :original, 'pl', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"original": original_id})

        downgrade(revision=before)
        with db.engine.begin() as connection:
            assert "translation_of_id" not in _columns(connection, "content_items")
            assert "source_version_id" not in _columns(connection, "content_versions")
            assert "translation_confirmations" not in inspect(connection).get_table_names()
            assert [row[0] for row in connection.execute(text("SELECT slug FROM content_items"))] == ["support"]
            assert _count(connection, "SELECT count(*) FROM helpline_set_versions") == 1

        upgrade()  # and up to the newest again
        with db.engine.connect() as connection:
            assert "language" in _columns(connection, "content_items")
