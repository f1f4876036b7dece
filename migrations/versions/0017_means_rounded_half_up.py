"""period means rounded half up, as the scoring engine rounds

Revision ID: 0017_means_rounded_half_up
Revises: 0016_after_photos_of_a_fix
Create Date: 2026-11-30 12:00:00

The per-period figures (rankings, trends, bulletins) rounded their means with binary floats: a
mean of exactly 97.005 was stored as 97.00, while the scoring engine rounds half up to 97.01.
They are now computed exactly and rounded half up; the stored rows are recomputed once, at the
end of the upgrade. No schema change: a downgrade leaves the figures as they are (``flask --app
inspect_app watchlist rebuild-scores`` recomputes them with whatever code is running).
"""
from alembic import op

revision = '0017_means_rounded_half_up'
down_revision = '0016_after_photos_of_a_fix'
branch_labels = None
depends_on = None


def upgrade():
    # recomputed once the upgrade has reached the newest revision (migrations/env.py)
    op.get_context().config.attributes["rebuild_period_figures"] = True


def downgrade():
    pass
