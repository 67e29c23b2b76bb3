"""The Alembic revisions build exactly the models' schema, and downgrade to nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from coordinator.extensions import db


def _differences(connection) -> list:
    with warnings.catch_warnings():
        # Alembic cannot compare expression indexes such as lower(email); it says so with a warning.
        warnings.filterwarnings("ignore", message=".*expression.*", category=UserWarning)
        # SQLite's reflection cannot read them either; the test checks they exist by name below.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_upgrade_gives_the_models_schema_and_downgrade_removes_it(migration_app):
    with migration_app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            assert _differences(connection) == []
            names = _index_names(connection)
            assert {"uq_users_email_lower", "uq_schemes_name_lower", "uq_streets_scheme_name_lower_postcode"} <= names
        downgrade(revision="base")
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        upgrade()  # and back up again: the downgrade left nothing behind that blocks a fresh upgrade


def _index_names(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")
    else:
        rows = connection.exec_driver_sql("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
    return {row[0] for row in rows}


# The revisions that change a table's columns, which SQLite does by copying the table: going below them and back
# up again rebuilds campaign_versions and helpline_set_versions, whose rows other tables refer to ON DELETE CASCADE.
BELOW_THE_TABLE_COPIES = "e4b7a91c3d62"


def test_down_and_up_through_table_copies_keeps_every_row(migration_app):
    with migration_app.app_context():
        upgrade()
        from coordinator.demo import seed_demo

        seed_demo()
        db.session.commit()
        db.session.remove()
        before = _row_counts()
        assert before["helpline_set_entries"] > 0 and before["content_versions"] > 0
        downgrade(revision=BELOW_THE_TABLE_COPIES)
        upgrade()
        after = _row_counts()
    # Tables made after that revision come back empty; every other table keeps its rows.
    kept = {name: count for name, count in before.items() if after.get(name) != 0 or count == 0}
    assert {name: after[name] for name in kept} == kept
    for name in ("helpline_set_entries", "content_versions", "campaign_versions", "helpline_set_versions",
                 "content_items"):
        assert after[name] == before[name], name


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        names = [name for name in inspect(connection).get_table_names() if name != "alembic_version"]
        return {name: connection.exec_driver_sql(f'SELECT count(*) FROM "{name}"').scalar_one() for name in names}
