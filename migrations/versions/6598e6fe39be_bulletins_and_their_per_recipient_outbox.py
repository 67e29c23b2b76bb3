"""Bulletins and their per-recipient outbox

Revision ID: 6598e6fe39be
Revises: 6370c0aeb7d8
Create Date: 2026-11-24 14:27:51.565360

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6598e6fe39be'
down_revision = '6370c0aeb7d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=150), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('campaign_version_ids', sa.JSON(), nullable=False),
    sa.Column('helpline_set_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_version_ids', sa.JSON(), nullable=False),
    sa.Column('local_notice_version_ids', sa.JSON(), nullable=False),
    sa.Column('is_whole_scheme', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('street_ids', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'awaiting_approval', 'approved', 'scheduled', 'sending', 'sent', 'cancelled', name='bulletin_state', native_enum=False, length=20), nullable=False),
    sa.Column('send_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=254), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('change_request_reason', sa.Text(), nullable=False),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('sent_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('lease_token', sa.String(length=32), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('recipient_count >= 0 AND sent_count >= 0 AND failed_count >= 0', name=op.f('ck_bulletins_counts_not_negative')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_bulletins_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['users.id'], name=op.f('fk_bulletins_cancelled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_bulletins_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helpline_set_version_id'], ['content_versions.id'], name=op.f('fk_bulletins_helpline_set_version_id_content_versions')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_bulletins_scheme_id_schemes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_bulletins_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletins'))
    )
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulletins_batch'), ['batch'], unique=False)
        batch_op.create_index('ix_bulletins_scheme_created', ['scheme_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulletins_send_at'), ['send_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulletins_state'), ['state'], unique=False)

    op.create_table('bulletin_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bulletin_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('state', sa.Enum('queued', 'sending', 'sent', 'deferred', 'failed', 'skipped', name='delivery_state', native_enum=False, length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_bulletin_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['bulletin_id'], ['bulletins.id'], name=op.f('fk_bulletin_deliveries_bulletin_id_bulletins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_bulletin_deliveries_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulletin_deliveries')),
    sa.UniqueConstraint('bulletin_id', 'subscriber_id', name=op.f('uq_bulletin_deliveries_bulletin_id_subscriber_id')),
    sa.UniqueConstraint('message_id', name=op.f('uq_bulletin_deliveries_message_id'))
    )
    with op.batch_alter_table('bulletin_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_bulletin_deliveries_bulletin_state', ['bulletin_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulletin_deliveries_subscriber_id'), ['subscriber_id'], unique=False)



def downgrade():
    with op.batch_alter_table('bulletin_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletin_deliveries_subscriber_id'))
        batch_op.drop_index('ix_bulletin_deliveries_bulletin_state')

    op.drop_table('bulletin_deliveries')
    with op.batch_alter_table('bulletins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulletins_state'))
        batch_op.drop_index(batch_op.f('ix_bulletins_send_at'))
        batch_op.drop_index('ix_bulletins_scheme_created')
        batch_op.drop_index(batch_op.f('ix_bulletins_batch'))

    op.drop_table('bulletins')
