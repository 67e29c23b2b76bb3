"""Subscribers: residents who opted in to bulletins

Revision ID: 96a476f9e252
Revises: 8b1180b5e979
Create Date: 2026-11-24 12:28:32.094696

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '96a476f9e252'
down_revision = '8b1180b5e979'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'unsubscribed', 'bouncing', name='subscriber_status', native_enum=False, length=20), nullable=False),
    sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('consent_method', sa.String(length=300), nullable=False),
    sa.Column('consent_wording', sa.Text(), nullable=False),
    sa.Column('confirmation_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hard_bounce_count', sa.Integer(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('hard_bounce_count >= 0', name=op.f('ck_subscribers_hard_bounce_count_not_negative')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_subscribers_scheme_id_schemes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_subscribers_street_id_streets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('scheme_id', 'email', name=op.f('uq_subscribers_scheme_id_email'))
    )
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.create_index('ix_subscribers_scheme_status', ['scheme_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscribers_street_id'), ['street_id'], unique=False)



def downgrade():
    with op.batch_alter_table('subscribers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscribers_street_id'))
        batch_op.drop_index('ix_subscribers_scheme_status')

    op.drop_table('subscribers')
