"""Delivery rounds: a print run's streets split between deliverers, and what was delivered in each street

Revision ID: f3a9c2d417e8
Revises: 9c4e1b7d2a55
Create Date: 2026-12-07 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3a9c2d417e8'
down_revision = '9c4e1b7d2a55'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('print_run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('deliverer_name', sa.String(length=120), nullable=False),
    sa.Column('deliverer_contact', sa.String(length=254), nullable=False),
    sa.Column('link_key', sa.String(length=16), nullable=False),
    sa.Column('link_expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['print_run_id'], ['print_runs.id'], name=op.f('fk_delivery_rounds_print_run_id_print_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_rounds'))
    )
    with op.batch_alter_table('delivery_rounds', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_rounds_run_position', ['print_run_id', 'position'], unique=True)

    op.create_table('street_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('print_run_street_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.Enum('to_deliver', 'delivered', 'partly', 'not_delivered', name='delivery_state', native_enum=False, length=20), nullable=False),
    sa.Column('households_delivered', sa.Integer(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by_label', sa.String(length=254), nullable=False),
    sa.CheckConstraint('households_delivered >= 0', name=op.f('ck_street_deliveries_households_delivered_not_negative')),
    sa.ForeignKeyConstraint(['print_run_street_id'], ['print_run_streets.id'], name=op.f('fk_street_deliveries_print_run_street_id_print_run_streets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['delivery_rounds.id'], name=op.f('fk_street_deliveries_round_id_delivery_rounds'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_street_deliveries')),
    sa.UniqueConstraint('print_run_street_id', name=op.f('uq_street_deliveries_print_run_street_id'))
    )
    with op.batch_alter_table('street_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_street_deliveries_round_id'), ['round_id'], unique=False)


def downgrade():
    with op.batch_alter_table('street_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_street_deliveries_round_id'))

    op.drop_table('street_deliveries')
    with op.batch_alter_table('delivery_rounds', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_rounds_run_position')

    op.drop_table('delivery_rounds')
