"""failed items count only the findings of results that count

Revision ID: 0013_failures_counted
Revises: 0012_periods_in_bank_time
Create Date: 2026-11-29 21:00:00

The per-period failed-item figures counted the findings of inspections sent back for correction,
which the scores already left out. They now follow the scores (submitted or final only), and are
recomputed once, when the upgrade ends. No schema change: a downgrade leaves the figures as they
are (``flask --app inspect_app watchlist rebuild-scores`` recomputes them with whatever code is
running).
"""
from alembic import op

revision = '0013_failures_counted'
down_revision = '0012_periods_in_bank_time'
branch_labels = None
depends_on = None


def upgrade():
    # recomputed once the upgrade has reached the newest revision (migrations/env.py)
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    pass
