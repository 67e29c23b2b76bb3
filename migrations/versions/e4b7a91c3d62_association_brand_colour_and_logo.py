"""Association settings: the brand colour and the logo (a re-encoded PNG with its size)

Revision ID: e4b7a91c3d62
Revises: 725dea823868
Create Date: 2026-12-07 12:50:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e4b7a91c3d62'
down_revision = '725dea823868'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('association_settings', schema=None) as batch_op:
        # The colour leaflets and emails were already printed in, so nothing changes until an admin chooses.
        batch_op.add_column(sa.Column('brand_colour', sa.String(length=7), server_default='#1d4e89', nullable=False))
        batch_op.add_column(sa.Column('logo_png', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('logo_width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('logo_height', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('association_settings', schema=None) as batch_op:
        batch_op.drop_column('logo_height')
        batch_op.drop_column('logo_width')
        batch_op.drop_column('logo_png')
        batch_op.drop_column('brand_colour')
