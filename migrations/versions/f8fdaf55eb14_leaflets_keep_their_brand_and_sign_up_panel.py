"""Leaflet records and print runs keep the brand they printed (colour, logo version; logos kept in printed_logos)
and whether they carried the bulletin sign-up panel, with the address it printed

Revision ID: f8fdaf55eb14
Revises: e5c1a7b93d20
Create Date: 2026-12-07 16:00:00.000000

"""
import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'f8fdaf55eb14'
down_revision = 'e5c1a7b93d20'
branch_labels = None
depends_on = None

# The accent leaflets were printed in before an association chose its own (coordinator/settings.py).
DEFAULT_BRAND_COLOUR = '#1d4e89'
TABLES = ('leaflet_records', 'print_runs')


def upgrade():
    op.create_table('printed_logos',
    sa.Column('version', sa.String(length=12), nullable=False),
    sa.Column('png', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_printed_logos'))
    )
    # Plain ADD COLUMN, which SQLite does in place: in batch mode, the false() default would copy each table anew.
    for table in TABLES:
        op.add_column(table, sa.Column('brand_colour', sa.String(length=7), server_default=DEFAULT_BRAND_COLOUR,
                                       nullable=False))
        op.add_column(table, sa.Column('logo_version', sa.String(length=12), server_default='', nullable=False))
        op.add_column(table, sa.Column('has_signup_panel', sa.Boolean(), server_default=sa.false(), nullable=False))
        op.add_column(table, sa.Column('signup_address', sa.String(length=300), server_default='', nullable=False))
    _brand_of_today_for_earlier_rows()


def _brand_of_today_for_earlier_rows():
    # Rows made before this revision printed the brand of their day, which nothing kept. Today's is the best
    # guess, and it is what a reprint printed until now: they keep it from here on, whatever Settings become.
    bind = op.get_bind()
    settings = sa.table('association_settings', sa.column('id', sa.Integer()), sa.column('brand_colour', sa.String()),
                        sa.column('logo_png', sa.LargeBinary()))
    row = bind.execute(sa.select(settings.c.brand_colour, settings.c.logo_png).where(settings.c.id == 1)).first()
    if row is None:
        return
    colour, png = row
    version = hashlib.sha256(png).hexdigest()[:12] if png else ''
    if version:
        logos = sa.table('printed_logos', sa.column('version', sa.String()), sa.column('png', sa.LargeBinary()),
                         sa.column('created_at', sa.DateTime(timezone=True)))
        bind.execute(logos.insert().values(version=version, png=png, created_at=datetime.now(UTC)))
    for name in TABLES:
        table = sa.table(name, sa.column('brand_colour', sa.String()), sa.column('logo_version', sa.String()))
        bind.execute(table.update().values(brand_colour=colour or DEFAULT_BRAND_COLOUR, logo_version=version))


def downgrade():
    for table in reversed(TABLES):
        # SQLite copies the table without the columns. Its foreign keys stay as they are, so the tables they point to
        # are not read (reading users would meet its lower(email) index, which SQLAlchemy cannot reflect).
        with op.batch_alter_table(table, schema=None, reflect_kwargs={'resolve_fks': False}) as batch_op:
            batch_op.drop_column('signup_address')
            batch_op.drop_column('has_signup_panel')
            batch_op.drop_column('logo_version')
            batch_op.drop_column('brand_colour')
    op.drop_table('printed_logos')
