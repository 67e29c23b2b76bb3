"""Leaflets: records, print runs and central print orders

Revision ID: 6370c0aeb7d8
Revises: 7e293a45466c
Create Date: 2026-11-24 14:12:02.273936

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6370c0aeb7d8'
down_revision = '7e293a45466c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leaflet_records',
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_label', sa.String(length=254), nullable=False),
    sa.Column('campaign_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_set_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_version_ids', sa.JSON(), nullable=False),
    sa.Column('local_notice_version_id', sa.Integer(), nullable=True),
    sa.Column('layout', sa.String(length=10), nullable=False),
    sa.Column('print_mode', sa.String(length=10), nullable=False),
    sa.Column('is_large_print', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('contact_line', sa.Text(), nullable=False),
    sa.Column('association_name', sa.String(length=160), nullable=False),
    sa.Column('footer_text', sa.Text(), nullable=False),
    sa.Column('printed_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=9), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('copies >= 1', name=op.f('ck_leaflet_records_copies_positive')),
    sa.ForeignKeyConstraint(['campaign_version_id'], ['content_versions.id'], name=op.f('fk_leaflet_records_campaign_version_id_content_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_leaflet_records_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helpline_set_version_id'], ['content_versions.id'], name=op.f('fk_leaflet_records_helpline_set_version_id_content_versions')),
    sa.ForeignKeyConstraint(['local_notice_version_id'], ['content_versions.id'], name=op.f('fk_leaflet_records_local_notice_version_id_content_versions')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_leaflet_records_scheme_id_schemes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaflet_records'))
    )
    with op.batch_alter_table('leaflet_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaflet_records_campaign_version_id'), ['campaign_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_records_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_records_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_records_reference'), ['reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_records_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('print_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=254), nullable=False),
    sa.Column('campaign_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_set_version_id', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=10), nullable=False),
    sa.Column('print_mode', sa.String(length=10), nullable=False),
    sa.Column('is_large_print', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('scheme_ids', sa.JSON(), nullable=True),
    sa.Column('printed_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='print_order_state', native_enum=False, length=20), nullable=False),
    sa.Column('progress_done', sa.Integer(), nullable=False),
    sa.Column('progress_total', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.CheckConstraint('progress_done >= 0 AND progress_done <= progress_total', name=op.f('ck_print_orders_progress_in_range')),
    sa.ForeignKeyConstraint(['campaign_version_id'], ['content_versions.id'], name=op.f('fk_print_orders_campaign_version_id_content_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_orders_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helpline_set_version_id'], ['content_versions.id'], name=op.f('fk_print_orders_helpline_set_version_id_content_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_orders'))
    )
    with op.batch_alter_table('print_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_orders_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_orders_state'), ['state'], unique=False)

    op.create_table('print_runs',
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('spare_copies_percent', sa.Integer(), nullable=False),
    sa.Column('sheets', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_label', sa.String(length=254), nullable=False),
    sa.Column('campaign_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_set_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_version_ids', sa.JSON(), nullable=False),
    sa.Column('local_notice_version_id', sa.Integer(), nullable=True),
    sa.Column('layout', sa.String(length=10), nullable=False),
    sa.Column('print_mode', sa.String(length=10), nullable=False),
    sa.Column('is_large_print', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.Column('contact_line', sa.Text(), nullable=False),
    sa.Column('association_name', sa.String(length=160), nullable=False),
    sa.Column('footer_text', sa.Text(), nullable=False),
    sa.Column('printed_on', sa.Date(), nullable=False),
    sa.Column('reference', sa.String(length=9), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('copies >= 1', name=op.f('ck_print_runs_copies_positive')),
    sa.ForeignKeyConstraint(['campaign_version_id'], ['content_versions.id'], name=op.f('fk_print_runs_campaign_version_id_content_versions')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_print_runs_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['helpline_set_version_id'], ['content_versions.id'], name=op.f('fk_print_runs_helpline_set_version_id_content_versions')),
    sa.ForeignKeyConstraint(['local_notice_version_id'], ['content_versions.id'], name=op.f('fk_print_runs_local_notice_version_id_content_versions')),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_print_runs_scheme_id_schemes'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_runs'))
    )
    with op.batch_alter_table('print_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_runs_campaign_version_id'), ['campaign_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_runs_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_runs_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_runs_reference'), ['reference'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_runs_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('print_run_streets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('print_run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('postcode', sa.String(length=10), nullable=False),
    sa.Column('households', sa.Integer(), nullable=False),
    sa.Column('households_no_leaflets', sa.Integer(), nullable=False),
    sa.Column('copies', sa.Integer(), nullable=False),
    sa.CheckConstraint('copies >= 0', name=op.f('ck_print_run_streets_copies_not_negative')),
    sa.ForeignKeyConstraint(['print_run_id'], ['print_runs.id'], name=op.f('fk_print_run_streets_print_run_id_print_runs'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['street_id'], ['streets.id'], name=op.f('fk_print_run_streets_street_id_streets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_run_streets'))
    )
    with op.batch_alter_table('print_run_streets', schema=None) as batch_op:
        batch_op.create_index('ix_print_run_streets_run_position', ['print_run_id', 'position'], unique=True)
        batch_op.create_index(batch_op.f('ix_print_run_streets_street_id'), ['street_id'], unique=False)



def downgrade():
    with op.batch_alter_table('print_run_streets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_run_streets_street_id'))
        batch_op.drop_index('ix_print_run_streets_run_position')

    op.drop_table('print_run_streets')
    with op.batch_alter_table('print_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_runs_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_print_runs_reference'))
        batch_op.drop_index(batch_op.f('ix_print_runs_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_print_runs_created_at'))
        batch_op.drop_index(batch_op.f('ix_print_runs_campaign_version_id'))

    op.drop_table('print_runs')
    with op.batch_alter_table('print_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_orders_state'))
        batch_op.drop_index(batch_op.f('ix_print_orders_created_at'))

    op.drop_table('print_orders')
    with op.batch_alter_table('leaflet_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaflet_records_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_leaflet_records_reference'))
        batch_op.drop_index(batch_op.f('ix_leaflet_records_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_leaflet_records_created_at'))
        batch_op.drop_index(batch_op.f('ix_leaflet_records_campaign_version_id'))

    op.drop_table('leaflet_records')