"""Campaign calendar: yearly windows, and the helpline set a campaign recommends

Revision ID: c41e7a9d2b10
Revises: e4b7a91c3d62
Create Date: 2026-12-07 12:55:00.000000

Existing campaigns keep their one-off dates and get no yearly window and no recommended set, so nothing
offered today changes.
"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c41e7a9d2b10'
down_revision = 'e4b7a91c3d62'
branch_labels = None
depends_on = None


@contextmanager
def _batch_campaign_versions():
    # SQLite copies the table, reflecting the tables it refers to; the reflection cannot read expression indexes
    # such as users' lower(email) and warns. The copy leaves those tables untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('campaign_versions', schema=None) as batch_op:
            yield batch_op


def upgrade():
    with _batch_campaign_versions() as batch_op:
        batch_op.add_column(sa.Column('every_year_from', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('every_year_until', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('recommended_set_item_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_campaign_versions_recommended_set_item_id_content_items'),
                                    'content_items', ['recommended_set_item_id'], ['id'])
        batch_op.create_check_constraint(
            batch_op.f('ck_campaign_versions_yearly_window_whole'),
            '(every_year_from IS NULL) = (every_year_until IS NULL)',
        )


def downgrade():
    with _batch_campaign_versions() as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_campaign_versions_yearly_window_whole'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_campaign_versions_recommended_set_item_id_content_items'),
                                 type_='foreignkey')
        batch_op.drop_column('recommended_set_item_id')
        batch_op.drop_column('every_year_until')
        batch_op.drop_column('every_year_from')
