"""Association settings: one row of what the association decides for everyone

Revision ID: 8b1180b5e979
Revises: d86a102dccd9
Create Date: 2026-11-24 12:15:30.113097

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8b1180b5e979'
down_revision = 'd86a102dccd9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('association_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('association_name', sa.String(length=160), nullable=False),
    sa.Column('footer_text', sa.Text(), nullable=False),
    sa.Column('sender_address', sa.String(length=254), nullable=False),
    sa.Column('spare_copies_percent', sa.Integer(), nullable=False),
    sa.Column('helpline_review_months', sa.Integer(), nullable=False),
    sa.Column('helpline_grace_days', sa.Integer(), nullable=False),
    sa.Column('is_four_eyes_required', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('is_bulletin_approval_required', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('messages_per_second', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_association_settings'))
    )


def downgrade():
    op.drop_table('association_settings')
