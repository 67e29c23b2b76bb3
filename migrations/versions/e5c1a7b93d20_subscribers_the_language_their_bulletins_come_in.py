"""Subscribers: the language their bulletins come in (a BCP 47 tag; English for everyone until they choose)

Revision ID: e5c1a7b93d20
Revises: b7d2e9f4a051
Create Date: 2026-12-07 16:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e5c1a7b93d20'
down_revision = 'b7d2e9f4a051'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: SQLite adds a column with a constant default, and drops one (3.35 and later), in
# place, where a batch would copy the subscribers table.
def upgrade():
    op.add_column('subscribers', sa.Column('language', sa.String(length=35), server_default='en-GB', nullable=False))


def downgrade():
    op.drop_column('subscribers', 'language')
