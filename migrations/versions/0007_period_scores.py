"""per-period figures: scores of every outlet and sub-branch, failed items of each branch

Revision ID: 0007_period_scores
Revises: 0006_watchlist
Create Date: 2026-11-28 17:38:48

The table is filled from the inspections already stored (the same computation as
``flask --app inspect_app watchlist rebuild-scores``); from then on the application keeps it
current at every score change.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_period_scores'
down_revision = '0006_watchlist'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'period_scores',
        sa.Column('period_kind', sa.String(length=8), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('mode', sa.String(length=16), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('unit_kind', sa.String(length=16), nullable=False),
        sa.Column('inspections', sa.Integer(), nullable=False),
        sa.Column('combined', sa.Float(), nullable=True),
        sa.Column('grade', sa.String(length=16), nullable=True),
        sa.Column('self_mean', sa.Float(), nullable=True),
        sa.Column('independent_mean', sa.Float(), nullable=True),
        sa.Column('gap', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'],
                                name=op.f('fk_period_scores_unit_id_org_units'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('period_kind', 'period_start', 'mode', 'unit_id',
                                name=op.f('pk_period_scores')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('period_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_period_scores_unit_id'), ['unit_id'], unique=False)

    op.create_table(
        'period_failures',
        sa.Column('period_kind', sa.String(length=8), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('item_code', sa.String(length=32), nullable=False),
        sa.Column('item_text', sa.Text(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('outlets', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['org_units.id'],
                                name=op.f('fk_period_failures_unit_id_org_units'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('period_kind', 'period_start', 'unit_id', 'item_code',
                                name=op.f('pk_period_failures')),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table('period_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_period_failures_unit_id'), ['unit_id'],
                              unique=False)
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_created_at')
        batch_op.drop_index('ix_findings_item_code')
        batch_op.create_index('ix_findings_period_items',
                              ['created_at', 'status', 'item_code', 'outlet_id'], unique=False)
        batch_op.create_index('ix_findings_item_code_created_at', ['item_code', 'created_at'],
                              unique=False)

    # Filled with the application's own computation, so stored and kept rows agree: once the
    # upgrade has reached the newest revision (migrations/env.py).
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_item_code_created_at')
        batch_op.drop_index('ix_findings_period_items')
        batch_op.create_index('ix_findings_item_code', ['item_code'], unique=False)
        batch_op.create_index('ix_findings_created_at', ['created_at'], unique=False)
    with op.batch_alter_table('period_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_period_failures_unit_id'))
    op.drop_table('period_failures')
    with op.batch_alter_table('period_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_period_scores_unit_id'))
    op.drop_table('period_scores')
