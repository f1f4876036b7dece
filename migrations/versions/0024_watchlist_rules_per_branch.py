"""watchlist_rule_sets.branch_id: each branch tunes its own watch-list rules

Revision ID: 0024_watchlist_rules_per_branch
Revises: 0023_coaching_action_client_id
Create Date: 2026-12-01 01:30:00

Each branch's service managers run their own list (名单式管理), but there was one rule set for
the bank: any branch's manager tuning a threshold changed which of another branch's units were
listed. A rule set now belongs to a branch (``branch_id``), and versions are numbered per branch
(``uq_watchlist_rule_sets_branch_version`` replaces the bank-wide unique version). The versions
written before keep ``branch_id`` NULL: every branch goes on with them until it tunes its own,
numbered on from the version it had in force.

Each evaluation of the list is now logged once per branch, under the branch, so that a
branch's auditors read their own list's. The evaluations logged before covered the whole bank:
in a bank of one branch they were that branch's and are filed under it; with several branches
they stay the whole bank's (null).
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_watchlist_rules_per_branch'
down_revision = '0023_coaching_action_client_id'
branch_labels = None
depends_on = None


def _entry_triggers(conn, enabled):
    if conn.dialect.name == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        op.execute(f"ALTER TABLE audit_entries {state} TRIGGER audit_entries_append_only")
    elif enabled:
        op.execute("CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
                   "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")


def upgrade():
    with op.batch_alter_table('watchlist_rule_sets') as batch_op:
        batch_op.add_column(sa.Column('branch_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_watchlist_rule_sets_branch_id_org_units', 'org_units',
                                    ['branch_id'], ['id'])
        batch_op.drop_constraint('uq_watchlist_rule_sets_version', type_='unique')
        batch_op.create_unique_constraint('uq_watchlist_rule_sets_branch_version',
                                          ['branch_id', 'version'])
    conn = op.get_bind()
    branches = conn.execute(sa.text(
        "SELECT path FROM org_units WHERE kind = 'branch'")).scalars().all()
    if len(branches) == 1:
        _entry_triggers(conn, enabled=False)
        conn.execute(sa.text("UPDATE audit_entries SET org_path = :path "
                             "WHERE action = 'watchlist.evaluate' AND org_path IS NULL"),
                     {"path": branches[0]})
        _entry_triggers(conn, enabled=True)


def downgrade():
    # one bank-wide numbering again: the branches' own versions cannot keep theirs, so only
    # the shared versions survive a downgrade
    op.execute("DELETE FROM watchlist_rule_sets WHERE branch_id IS NOT NULL")
    with op.batch_alter_table('watchlist_rule_sets') as batch_op:
        batch_op.drop_constraint('uq_watchlist_rule_sets_branch_version', type_='unique')
        batch_op.create_unique_constraint('uq_watchlist_rule_sets_version', ['version'])
        batch_op.drop_constraint('fk_watchlist_rule_sets_branch_id_org_units',
                                 type_='foreignkey')
        batch_op.drop_column('branch_id')
