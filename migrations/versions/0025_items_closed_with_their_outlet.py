"""rectification_items.closed_reason 'unit_closed': items closed with their outlet

Revision ID: 0025_items_closed_with_outlet
Revises: 0024_watchlist_rules_per_branch
Create Date: 2026-12-01 02:00:00

Closing (deactivating) an outlet now closes its unfinished rectification items as 网点已停用
(``unit_closed``). The column stores the reason as text, so the upgrade changes nothing; the
downgrade takes the value away, which the code before it cannot read: such items are open
again, as that code left a closed outlet's items.
"""
from alembic import op

revision = '0025_items_closed_with_outlet'
down_revision = '0024_watchlist_rules_per_branch'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    op.execute("UPDATE rectification_items SET state = 'open', closed_reason = NULL, "
               "closed_at = NULL WHERE closed_reason = 'unit_closed'")
