"""Review reminders: one row per day the admins were told which helplines to verify

Revision ID: 87e60fb9c1ed
Revises: 6598e6fe39be
Create Date: 2026-12-02 16:20:46.704910

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '87e60fb9c1ed'
down_revision = '6598e6fe39be'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reminded_on', sa.Date(), nullable=False),
    sa.Column('helpline_count', sa.Integer(), nullable=False),
    sa.Column('admin_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_reminders')),
    sa.UniqueConstraint('reminded_on', name=op.f('uq_review_reminders_reminded_on'))
    )


def downgrade():
    op.drop_table('review_reminders')
