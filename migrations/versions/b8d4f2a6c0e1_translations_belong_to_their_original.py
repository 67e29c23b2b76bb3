"""Translations belong to their original: a translation item's language, the version it was made from, confirmations

Revision ID: b8d4f2a6c0e1
Revises: a1c5f0e28b34
Create Date: 2026-12-07 16:00:00.000000

Existing items are all originals (no translation_of_id, no language) and existing versions were made from
nothing, so nothing offered today changes.

On SQLite the columns are added in place, never by copying the table (batch mode): content_items and
content_versions are referred to with ON DELETE CASCADE, and with foreign keys on, dropping the old table during a
copy would delete every version and every leaflet's record of one.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c0e1'
down_revision = 'a1c5f0e28b34'
branch_labels = None
depends_on = None


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable integer column referring to target.id, named by the metadata's convention where it can be."""
    if _is_sqlite():
        # SQLite cannot add a constraint to a table, but can add a column with its REFERENCES clause. (No ON DELETE
        # here or in the models: SQLite keeps such a clause's actions where they cannot be read back.)
        op.add_column(table, sa.Column(column, sa.Integer(), sa.ForeignKey(f"{target}.id"), nullable=True),
                      inline_references=True)
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(op.f(f"fk_{table}_{column}_{target}"), table, target, [column], ["id"])


def upgrade():
    _add_reference('content_items', 'translation_of_id', 'content_items')
    op.add_column('content_items', sa.Column('language', sa.String(length=35), nullable=True))
    op.create_index(op.f('ix_content_items_translation_of_id'), 'content_items', ['translation_of_id'], unique=False)
    op.create_index(op.f('uq_content_items_translation_of_id_language'), 'content_items',
                    ['translation_of_id', 'language'], unique=True)

    _add_reference('content_versions', 'source_version_id', 'content_versions')
    op.create_index(op.f('ix_content_versions_source_version_id'), 'content_versions', ['source_version_id'],
                    unique=False)

    op.create_table('translation_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('translation_version_id', sa.Integer(), nullable=False),
    sa.Column('original_version_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_by_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'],
                            name=op.f('fk_translation_confirmations_confirmed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'],
                            name=op.f('fk_translation_confirmations_item_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['original_version_id'], ['content_versions.id'],
                            name=op.f('fk_translation_confirmations_original_version_id_content_versions'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['translation_version_id'], ['content_versions.id'],
                            name=op.f('fk_translation_confirmations_translation_version_id_content_versions'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_confirmations'))
    )
    op.create_index(op.f('ix_translation_confirmations_item_id'), 'translation_confirmations', ['item_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_translation_confirmations_item_id'), table_name='translation_confirmations')
    op.drop_table('translation_confirmations')

    op.drop_index(op.f('ix_content_versions_source_version_id'), table_name='content_versions')
    if not _is_sqlite():
        op.drop_constraint(op.f('fk_content_versions_source_version_id_content_versions'), 'content_versions',
                           type_='foreignkey')
    op.drop_column('content_versions', 'source_version_id')

    # Translations cannot be told from originals once the column is gone: they go, with their versions, as the
    # schema before them had no place for them.
    op.execute(sa.text("DELETE FROM content_items WHERE translation_of_id IS NOT NULL"))
    op.drop_index(op.f('uq_content_items_translation_of_id_language'), table_name='content_items')
    op.drop_index(op.f('ix_content_items_translation_of_id'), table_name='content_items')
    if not _is_sqlite():
        op.drop_constraint(op.f('fk_content_items_translation_of_id_content_items'), 'content_items',
                           type_='foreignkey')
    op.drop_column('content_items', 'language')
    op.drop_column('content_items', 'translation_of_id')
