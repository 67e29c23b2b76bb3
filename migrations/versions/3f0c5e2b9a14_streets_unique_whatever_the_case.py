"""Streets: one street per scheme and postcode whatever the case of its name, in the database too

Revision ID: 3f0c5e2b9a14
Revises: 87e60fb9c1ed
Create Date: 2026-12-03 10:20:00.000000

The services always refused "HAYES LANE" beside "Hayes Lane", so existing data already fits the new index.
"""
import warnings
from contextlib import contextmanager

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f0c5e2b9a14'
down_revision = '87e60fb9c1ed'
branch_labels = None
depends_on = None


@contextmanager
def _batch_streets():
    # SQLite copies the table, reflecting it and the schemes it refers to; the reflection cannot read expression
    # indexes such as schemes' lower(name) and warns. The copy leaves schemes untouched, and streets has none then.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        with op.batch_alter_table('streets', schema=None) as batch_op:
            yield batch_op


def upgrade():
    # The constraint goes first: on SQLite the batch copies the table, and an expression index would not survive it.
    with _batch_streets() as batch_op:
        batch_op.drop_constraint('uq_streets_scheme_id_name_postcode', type_='unique')
    op.create_index('uq_streets_scheme_name_lower_postcode', 'streets',
                    ['scheme_id', sa.text('lower(name)'), 'postcode'], unique=True)


def downgrade():
    op.drop_index('uq_streets_scheme_name_lower_postcode', table_name='streets')
    with _batch_streets() as batch_op:
        batch_op.create_unique_constraint('uq_streets_scheme_id_name_postcode', ['scheme_id', 'name', 'postcode'])
