"""watchlist: units listed by hand, and where each listed unit stands against the exit policy

Revision ID: 0019_watchlist_progress
Revises: 0018_inspections_cancel_reason
Create Date: 2026-11-30 12:00:00

``watchlist_entries.entry_kind`` says how a unit came onto the list: ``rule`` (every entry so
far) or ``manual`` (a service manager, with the reason in ``entry_reason``), mirroring
``exit_kind`` / ``exit_reason``. ``exit_progress`` keeps, from each evaluation, what the unit
still has to do to leave the list (checks still needed, overdue items, rules still met); it is
empty until the next evaluation fills it.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0019_watchlist_progress'
down_revision = '0018_inspections_cancel_reason'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entry_kind', sa.String(length=16), nullable=False,
                                      server_default='rule'))
        batch_op.add_column(sa.Column('entry_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('exit_progress', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('watchlist_entries', schema=None) as batch_op:
        batch_op.drop_column('exit_progress')
        batch_op.drop_column('entry_reason')
        batch_op.drop_column('entry_kind')
