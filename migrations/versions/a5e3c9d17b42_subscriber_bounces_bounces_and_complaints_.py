"""Subscriber bounces: bounces and complaints read back from the bounce mailbox

Revision ID: a5e3c9d17b42
Revises: c41e7a9d2b10
Create Date: 2026-12-07 13:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5e3c9d17b42'
down_revision = 'c41e7a9d2b10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscriber_bounces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('hard', 'soft', 'complaint', name='bounce_kind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('report_key', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delivery_id'], ['bulletin_deliveries.id'], name=op.f('fk_subscriber_bounces_delivery_id_bulletin_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_subscriber_bounces_scheme_id_schemes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscriber_bounces_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_bounces')),
    sa.UniqueConstraint('report_key', name=op.f('uq_subscriber_bounces_report_key'))
    )
    with op.batch_alter_table('subscriber_bounces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_bounces_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriber_bounces_scheme_id'), ['scheme_id'], unique=False)
        batch_op.create_index('ix_subscriber_bounces_subscriber_received', ['subscriber_id', 'received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('subscriber_bounces', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriber_bounces_subscriber_received')
        batch_op.drop_index(batch_op.f('ix_subscriber_bounces_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_subscriber_bounces_delivery_id'))

    op.drop_table('subscriber_bounces')
