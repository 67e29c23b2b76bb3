"""Leaflet records and print runs keep the language they printed in, and a bilingual leaflet's second language

Revision ID: c3e8a5d1f7b2
Revises: f8fdaf55eb14
Create Date: 2026-12-07 16:05:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3e8a5d1f7b2'
down_revision = 'f8fdaf55eb14'
branch_labels = None
depends_on = None

TABLES = ('leaflet_records', 'print_runs')


def upgrade():
    # Rows made before this revision printed the campaign as written: "" says so, and prints them the same again.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('language', sa.String(length=35), server_default='', nullable=False))
            batch_op.add_column(sa.Column('second_language', sa.String(length=35), server_default='',
                                          nullable=False))


def downgrade():
    for table in reversed(TABLES):
        # SQLite copies the table without the columns; its foreign keys stay as they are, so the tables they point to
        # are not read (users has a lower(email) index SQLAlchemy cannot reflect).
        with op.batch_alter_table(table, schema=None, reflect_kwargs={'resolve_fks': False}) as batch_op:
            batch_op.drop_column('second_language')
            batch_op.drop_column('language')
