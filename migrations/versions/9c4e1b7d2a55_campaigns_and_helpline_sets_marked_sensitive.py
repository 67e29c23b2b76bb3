"""Campaigns and helpline sets may be marked sensitive: their leaflets print a neutral outside

Revision ID: 9c4e1b7d2a55
Revises: d7a3c5e9f214
Create Date: 2026-12-07 13:30:00.000000

Existing campaigns and sets are not sensitive until an admin marks them (or the starter pack is loaded
again), so nothing printed today changes.
"""
import warnings
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c4e1b7d2a55'
down_revision = 'd7a3c5e9f214'
branch_labels = None
depends_on = None

TABLES = ('campaign_versions', 'helpline_set_versions')


@contextmanager
def _batch(table):
    # SQLite copies the table, reflecting the tables it refers to; the reflection cannot read expression indexes
    # such as users' lower(email) and warns. The copy leaves those tables untouched.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table(table, schema=None) as batch_op:
            yield batch_op


def upgrade():
    for table in TABLES:
        with _batch(table) as batch_op:
            batch_op.add_column(sa.Column('is_sensitive', sa.Boolean(), server_default=sa.false(),
                                          nullable=False))


def downgrade():
    for table in reversed(TABLES):
        with _batch(table) as batch_op:
            batch_op.drop_column('is_sensitive')
