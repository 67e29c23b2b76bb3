"""Content items' former slugs: a renamed campaign's old address leads to its new one

Revision ID: a1c5f0e28b34
Revises: f3a9c2d417e8
Create Date: 2026-12-07 13:45:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a1c5f0e28b34'
down_revision = 'f3a9c2d417e8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_former_slugs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('campaign', 'helpline', 'helpline_set', 'local_notice', name='content_kind',
                              native_enum=False, length=20), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'],
                            name=op.f('fk_content_former_slugs_item_id_content_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_former_slugs')),
    sa.UniqueConstraint('kind', 'slug', name=op.f('uq_content_former_slugs_kind_slug'))
    )
    with op.batch_alter_table('content_former_slugs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_former_slugs_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('content_former_slugs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_former_slugs_item_id'))
    op.drop_table('content_former_slugs')
