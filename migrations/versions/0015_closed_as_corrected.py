"""items withdrawn by the inspector's correction are told apart from appeals upheld

Revision ID: 0015_closed_as_corrected
Revises: 0014_audit_org_path
Create Date: 2026-11-29 22:00:00

A rectification item that a corrected resubmission passed was closed as ``withdrawn``, the
reason an upheld appeal gives, and read "申诉成立" on the lists though nobody appealed. Such
items are now ``corrected`` (检查人更正，已撤销); the existing ones are found by the audit
entry their closing wrote.
"""
from alembic import op

revision = '0015_closed_as_corrected'
down_revision = '0014_audit_org_path'
branch_labels = None
depends_on = None

CLOSED_BY_CORRECTION = (
    "SELECT CAST(object_id AS INTEGER) FROM audit_entries "
    "WHERE action = 'rectification.withdraw' AND reason = '检查退回修改后该项合格'")


def upgrade():
    op.execute("UPDATE rectification_items SET closed_reason = 'corrected' "
               f"WHERE closed_reason = 'withdrawn' AND id IN ({CLOSED_BY_CORRECTION})")


def downgrade():
    op.execute("UPDATE rectification_items SET closed_reason = 'withdrawn' "
               "WHERE closed_reason = 'corrected'")
