"""period figures combined and graded by the rules of the version in force

Revision ID: 0022_periods_by_published_rules
Revises: 0021_watchlist_one_stay
Create Date: 2026-11-30 22:30:00

The per-period figures (rankings, trends, bulletins, 重点关注) combined modes and graded with the
default rules, whatever weights and grade bands a published checklist version set. Each period
now uses those of the version last published before it ended (the default rules before any);
the stored rows are recomputed once, at the end of the upgrade. No schema change: a downgrade
leaves the figures as they are (``flask --app inspect_app watchlist rebuild-scores`` recomputes
them with whatever code is running).
"""
from alembic import op

revision = '0022_periods_by_published_rules'
down_revision = '0021_watchlist_one_stay'
branch_labels = None
depends_on = None


def upgrade():
    # recomputed once the upgrade has reached the newest revision (migrations/env.py)
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    pass
