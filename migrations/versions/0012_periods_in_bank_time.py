"""per-period figures counted in the bank's days

Revision ID: 0012_periods_in_bank_time
Revises: 0011_watchlist_note_data
Create Date: 2026-11-29 19:00:00

Weeks, months and quarters begin at the bank's midnight (Asia/Shanghai unless configured), not
at UTC midnight: a submission at 01:00 Beijing time on the 1st counts in that month. The stored
figures are recomputed once, when the upgrade ends. No schema change: a downgrade leaves the
figures as they are (``flask --app inspect_app watchlist rebuild-scores`` recomputes them with
whatever code is running).
"""
from alembic import op

revision = '0012_periods_in_bank_time'
down_revision = '0011_watchlist_note_data'
branch_labels = None
depends_on = None


def upgrade():
    # recomputed once the upgrade has reached the newest revision (migrations/env.py)
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    pass
