"""Fixed wording by language: an admin's approval of a language's catalogue, by the sha256 of its messages

Revision ID: b7d2e9f4a051
Revises: b8d4f2a6c0e1
Create Date: 2026-12-07 16:20:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7d2e9f4a051'
down_revision = 'b8d4f2a6c0e1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wording_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('catalogue_sha256', sa.String(length=64), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_label', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'],
                            name=op.f('fk_wording_approvals_approved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wording_approvals'))
    )
    with op.batch_alter_table('wording_approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wording_approvals_approved_by_id'), ['approved_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_wording_approvals_language'), ['language'], unique=False)


def downgrade():
    with op.batch_alter_table('wording_approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wording_approvals_language'))
        batch_op.drop_index(batch_op.f('ix_wording_approvals_approved_by_id'))
    op.drop_table('wording_approvals')
