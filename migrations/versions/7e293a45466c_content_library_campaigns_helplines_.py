"""Content library: campaigns, helplines, helpline sets, local notices

One item table, one version table with the approval state, a joined table per kind of content,
the helplines of each helpline-set version, campaign pictures and helpline checks.

Revision ID: 7e293a45466c
Revises: 96a476f9e252
Create Date: 2026-11-24 12:20:39.759666

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7e293a45466c'
down_revision = '96a476f9e252'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('media_type', sa.String(length=20), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_images')),
    sa.UniqueConstraint('sha256', name=op.f('uq_content_images_sha256'))
    )
    op.create_table('content_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('campaign', 'helpline', 'helpline_set', 'local_notice', name='content_kind', native_enum=False, length=20), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint("(kind = 'local_notice') = (scheme_id IS NOT NULL)", name=op.f('ck_content_items_scheme_only_for_local_notices')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_content_items_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scheme_id'], ['schemes.id'], name=op.f('fk_content_items_scheme_id_schemes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_items')),
    sa.UniqueConstraint('kind', 'slug', name=op.f('uq_content_items_kind_slug'))
    )
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_items_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_items_scheme_id'), ['scheme_id'], unique=False)

    op.create_table('content_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('campaign', 'helpline', 'helpline_set', 'local_notice', name='content_version_kind', native_enum=False, length=20), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'approved', 'changes_requested', 'retired', name='version_state', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changes_requested_by_id', sa.Integer(), nullable=True),
    sa.Column('changes_requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('change_request_reason', sa.Text(), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_content_versions_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['changes_requested_by_id'], ['users.id'], name=op.f('fk_content_versions_changes_requested_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_content_versions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_content_versions_item_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_content_versions_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_versions')),
    sa.UniqueConstraint('item_id', 'number', name=op.f('uq_content_versions_item_id_number'))
    )
    with op.batch_alter_table('content_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_versions_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_versions_state'), ['state'], unique=False)

    op.create_table('helpline_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_by_label', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_helpline_checks_checked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_helpline_checks_item_id_content_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpline_checks'))
    )
    with op.batch_alter_table('helpline_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helpline_checks_item_id'), ['item_id'], unique=False)

    op.create_table('campaign_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('key_messages', sa.JSON(), nullable=False),
    sa.Column('call_to_action', sa.String(length=200), nullable=False),
    sa.Column('hashtag', sa.String(length=60), nullable=False),
    sa.Column('web_address', sa.String(length=300), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('language', sa.String(length=20), nullable=False),
    sa.Column('audience_tags', sa.JSON(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('first_day IS NULL OR last_day IS NULL OR last_day >= first_day', name=op.f('ck_campaign_versions_window_in_order')),
    sa.ForeignKeyConstraint(['id'], ['content_versions.id'], name=op.f('fk_campaign_versions_id_content_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['image_id'], ['content_images.id'], name=op.f('fk_campaign_versions_image_id_content_images')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_versions'))
    )
    op.create_table('helpline_set_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['content_versions.id'], name=op.f('fk_helpline_set_versions_id_content_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpline_set_versions'))
    )
    op.create_table('helpline_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone_number', sa.String(length=20), nullable=False),
    sa.Column('phone_number_shown', sa.String(length=30), nullable=False),
    sa.Column('opening_hours', sa.String(length=200), nullable=False),
    sa.Column('is_24_7', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('who_for', sa.String(length=300), nullable=False),
    sa.Column('web_address', sa.String(length=300), nullable=False),
    sa.Column('is_free_to_call', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('review_interval_months', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['content_versions.id'], name=op.f('fk_helpline_versions_id_content_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpline_versions'))
    )
    op.create_table('local_notice_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['content_versions.id'], name=op.f('fk_local_notice_versions_id_content_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_notice_versions'))
    )
    op.create_table('helpline_set_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('set_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('helpline_item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['helpline_item_id'], ['content_items.id'], name=op.f('fk_helpline_set_entries_helpline_item_id_content_items')),
    sa.ForeignKeyConstraint(['set_version_id'], ['helpline_set_versions.id'], name=op.f('fk_helpline_set_entries_set_version_id_helpline_set_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpline_set_entries')),
    sa.UniqueConstraint('set_version_id', 'helpline_item_id', name=op.f('uq_helpline_set_entries_set_version_id_helpline_item_id')),
    sa.UniqueConstraint('set_version_id', 'position', name=op.f('uq_helpline_set_entries_set_version_id_position'))
    )
    with op.batch_alter_table('helpline_set_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helpline_set_entries_helpline_item_id'), ['helpline_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_helpline_set_entries_set_version_id'), ['set_version_id'], unique=False)



def downgrade():
    with op.batch_alter_table('helpline_set_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpline_set_entries_set_version_id'))
        batch_op.drop_index(batch_op.f('ix_helpline_set_entries_helpline_item_id'))

    op.drop_table('helpline_set_entries')
    op.drop_table('local_notice_versions')
    op.drop_table('helpline_versions')
    op.drop_table('helpline_set_versions')
    op.drop_table('campaign_versions')
    with op.batch_alter_table('helpline_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpline_checks_item_id'))

    op.drop_table('helpline_checks')
    with op.batch_alter_table('content_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_versions_state'))
        batch_op.drop_index(batch_op.f('ix_content_versions_item_id'))

    op.drop_table('content_versions')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_items_scheme_id'))
        batch_op.drop_index(batch_op.f('ix_content_items_kind'))

    op.drop_table('content_items')
    op.drop_table('content_images')
