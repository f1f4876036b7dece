"""watchlist_entries: a unit is on the list once at a time (partial unique index)

Revision ID: 0021_watchlist_one_stay
Revises: 0020_audit_entry_units
Create Date: 2026-11-30 16:00:00

A double-sent 列入名单, or one racing the nightly evaluation, could give a unit two active
entries: the check read first, then wrote. ``uq_watchlist_entries_active_unit`` (unique
``unit_id`` where ``status = 'active'``) makes the database refuse the second. Should a database
already hold such twins, the earliest stay is kept and the later ones are closed on the day they
began, saying why (重复列入，已合并到先前的在册记录), before the index is built.
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_watchlist_one_stay'
down_revision = '0020_audit_entry_units'
branch_labels = None
depends_on = None

ACTIVE = sa.text("status = 'active'")


def upgrade():
    conn = op.get_bind()
    kept = set()
    for entry_id, unit_id in conn.execute(sa.text(
            "SELECT id, unit_id FROM watchlist_entries WHERE status = 'active' "
            "ORDER BY unit_id, id")).all():
        if unit_id not in kept:
            kept.add(unit_id)
            continue
        conn.execute(sa.text(
            "UPDATE watchlist_entries SET status = 'exited', exited_on = entered_on, "
            "exit_kind = 'manual', exit_reason = :reason WHERE id = :id"),
            {"id": entry_id, "reason": "重复列入，已合并到先前的在册记录"})
    op.create_index('uq_watchlist_entries_active_unit', 'watchlist_entries', ['unit_id'],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade():
    op.drop_index('uq_watchlist_entries_active_unit', table_name='watchlist_entries')
