"""Schemes: whether their bulletins carry each campaign's full text or the short version (the default)

Revision ID: b2f6d8e41a07
Revises: a5e3c9d17b42
Create Date: 2026-12-07 13:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b2f6d8e41a07'
down_revision = 'a5e3c9d17b42'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: on SQLite a batch copies the table, and schemes' lower(name) index would not
# survive the copy. SQLite adds a column with a constant default, and drops one (3.35 and later), in place.
def upgrade():
    op.add_column('schemes', sa.Column('is_bulletin_full_text', sa.Boolean(), server_default=sa.false(),
                                       nullable=False))


def downgrade():
    op.drop_column('schemes', 'is_bulletin_full_text')
