"""per-period figures without follow-up inspections

Revision ID: 0009_follow_ups_not_scored
Revises: 0008_photo_dhash_bytes
Create Date: 2026-11-28 21:30:00

A follow-up inspection re-checks only the items that failed; its score no longer counts in an
outlet's rankings, trends or watch-list means (see ``Inspection.scores_the_outlet``). The stored
figures are recomputed once, when the upgrade ends. No schema change: a downgrade leaves the
figures as they are (``flask --app inspect_app watchlist rebuild-scores`` recomputes them with
whatever code is running).
"""
from alembic import op

revision = '0009_follow_ups_not_scored'
down_revision = '0008_photo_dhash_bytes'
branch_labels = None
depends_on = None


def upgrade():
    # recomputed once the upgrade has reached the newest revision (migrations/env.py)
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    pass
