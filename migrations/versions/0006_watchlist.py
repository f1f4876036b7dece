"""watch-list, coaching, queue data; indexes for dashboards

Revision ID: 0006_watchlist
Revises: 0005_rectification
Create Date: 2026-11-28 15:40:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006_watchlist'
down_revision = '0005_rectification'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    op.create_table(
        'watchlist_rule_sets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('rules', JSON, nullable=False),
        sa.Column('period_days', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_watchlist_rule_sets_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_rule_sets')),
        sa.UniqueConstraint('version', name=op.f('uq_watchlist_rule_sets_version')),
    )
    op.create_table(
        'watchlist_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.Enum('active', 'exited', name='entrystatus', native_enum=False,
                                    length=32), nullable=False),
        sa.Column('entered_on', sa.Date(), nullable=False),
        sa.Column('exited_on', sa.Date(), nullable=True),
        sa.Column('exit_kind', sa.String(length=16), nullable=True),
        sa.Column('exit_reason', sa.Text(), nullable=True),
        sa.Column('reasons', JSON, nullable=False),
        sa.Column('rule_set_version', sa.Integer(), nullable=False),
        sa.Column('last_evaluated_on', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'],
                                name=op.f('fk_watchlist_entries_unit_id_org_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_entries')),
    )
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_watchlist_entries_unit_status', ['unit_id', 'status'],
                              unique=False)
    op.create_table(
        'watchlist_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('hits', JSON, nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('rule_set_version', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['watchlist_entries.id'],
                                name=op.f('fk_watchlist_events_entry_id_watchlist_entries'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_watchlist_events')),
    )
    with op.batch_alter_table('watchlist_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_watchlist_events_entry_id'), ['entry_id'],
                              unique=False)
    op.create_table(
        'coaching_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('held_on', sa.Date(), nullable=False),
        sa.Column('people', sa.String(length=500), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('attachments', JSON, nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_coaching_actions_created_by_id_users')),
        sa.ForeignKeyConstraint(['entry_id'], ['watchlist_entries.id'],
                                name=op.f('fk_coaching_actions_entry_id_watchlist_entries'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coaching_actions')),
    )
    with op.batch_alter_table('coaching_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coaching_actions_entry_id'), ['entry_id'],
                              unique=False)
    op.create_table(
        'queue_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('outlet_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('customers_served', sa.Integer(), nullable=False),
        sa.Column('customers_over_limit', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['outlet_id'], ['org_units.id'],
                                name=op.f('fk_queue_days_outlet_id_org_units')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_days')),
        sa.UniqueConstraint('outlet_id', 'day', name=op.f('uq_queue_days_outlet_id_day')),
    )
    with op.batch_alter_table('queue_days', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_days_day'), ['day'], unique=False)
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index('ix_inspections_submitted_scores',
                              ['submitted_at', 'status', 'outlet_id', 'mode', 'total'],
                              unique=False)
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_created_at', ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_created_at')
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_inspections_submitted_scores')
    with op.batch_alter_table('queue_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_days_day'))
    op.drop_table('queue_days')
    with op.batch_alter_table('coaching_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coaching_actions_entry_id'))
    op.drop_table('coaching_actions')
    with op.batch_alter_table('watchlist_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_watchlist_events_entry_id'))
    op.drop_table('watchlist_events')
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_watchlist_entries_unit_status')
    op.drop_table('watchlist_entries')
    op.drop_table('watchlist_rule_sets')
