"""Campaign launch: leaflet warm-ups, campaign announcements and each coordinator's choice of campaign emails

Revision ID: d7a3c5e9f214
Revises: b2f6d8e41a07
Create Date: 2026-12-07 13:05:00.000000

Existing accounts get an email for each campaign that opens ("each"), as new ones do.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd7a3c5e9f214'
down_revision = 'b2f6d8e41a07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leaflet_warmups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('campaign_item_id', sa.Integer(), nullable=False),
    sa.Column('campaign_version_id', sa.Integer(), nullable=False),
    sa.Column('helpline_set_version_id', sa.Integer(), nullable=False),
    sa.Column('helplines_signature', sa.String(length=400), nullable=False),
    sa.Column('printed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('scheme_ids', sa.JSON(), nullable=True),
    sa.Column('state', sa.Enum('queued', 'running', 'done', name='warmup_state', native_enum=False, length=20),
              nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('rendered', sa.Integer(), nullable=False),
    sa.Column('already_ready', sa.Integer(), nullable=False),
    sa.Column('refused', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('cpu_seconds', sa.Float(), nullable=False),
    sa.Column('render_nice', sa.Integer(), nullable=False),
    sa.Column('bytes_written', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_item_id'], ['content_items.id'],
                            name=op.f('fk_leaflet_warmups_campaign_item_id_content_items')),
    sa.ForeignKeyConstraint(['campaign_version_id'], ['content_versions.id'],
                            name=op.f('fk_leaflet_warmups_campaign_version_id_content_versions')),
    sa.ForeignKeyConstraint(['helpline_set_version_id'], ['content_versions.id'],
                            name=op.f('fk_leaflet_warmups_helpline_set_version_id_content_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leaflet_warmups'))
    )
    with op.batch_alter_table('leaflet_warmups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leaflet_warmups_campaign_item_id'), ['campaign_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_warmups_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_leaflet_warmups_state'), ['state'], unique=False)

    op.create_table('campaign_announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim', sa.String(length=80), nullable=False),
    sa.Column('campaign_item_id', sa.Integer(), nullable=True),
    sa.Column('campaign_version_id', sa.Integer(), nullable=True),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.Column('recipients', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_item_id'], ['content_items.id'],
                            name=op.f('fk_campaign_announcements_campaign_item_id_content_items')),
    sa.ForeignKeyConstraint(['campaign_version_id'], ['content_versions.id'],
                            name=op.f('fk_campaign_announcements_campaign_version_id_content_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_announcements')),
    sa.UniqueConstraint('claim', name=op.f('uq_campaign_announcements_claim'))
    )
    with op.batch_alter_table('campaign_announcements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_announcements_campaign_item_id'), ['campaign_item_id'],
                              unique=False)

    # Not a batch: on SQLite a batch copies the table, and users' expression index (lower(email)) would not survive.
    op.add_column('users', sa.Column('campaign_emails', sa.String(length=10), server_default='each', nullable=False))


def downgrade():
    op.drop_column('users', 'campaign_emails')
    with op.batch_alter_table('campaign_announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_announcements_campaign_item_id'))
    op.drop_table('campaign_announcements')
    with op.batch_alter_table('leaflet_warmups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leaflet_warmups_state'))
        batch_op.drop_index(batch_op.f('ix_leaflet_warmups_created_at'))
        batch_op.drop_index(batch_op.f('ix_leaflet_warmups_campaign_item_id'))
    op.drop_table('leaflet_warmups')
