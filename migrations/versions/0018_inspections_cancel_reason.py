"""inspections: the planner's reason for cancelling a task (取消原因)

Revision ID: 0018_inspections_cancel_reason
Revises: 0017_means_rounded_half_up
Create Date: 2026-11-30 12:00:00

The inspector of a cancelled task was told 已取消 and nothing more: the reason the planner had
to give was kept in the audit log alone. ``inspections.cancel_reason`` keeps it on the task, for
the inspector's phone and the API. Tasks cancelled before get the reason of their audit entry
(``inspection.cancel``); those cancelled without one (by a script) keep none.
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_inspections_cancel_reason'
down_revision = '0017_means_rounded_half_up'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('inspections', sa.Column('cancel_reason', sa.Text(), nullable=True))
    conn = op.get_bind()
    reasons = {}
    for object_id, reason in conn.execute(sa.text(
            "SELECT object_id, reason FROM audit_entries WHERE action = 'inspection.cancel' "
            "AND object_type = 'inspection' AND reason IS NOT NULL ORDER BY id")).all():
        reasons[int(object_id)] = reason  # a task is cancelled once; the latest entry stands
    for inspection_id, reason in reasons.items():
        conn.execute(sa.text(
            "UPDATE inspections SET cancel_reason = :reason "
            "WHERE id = :id AND status = 'cancelled'"), {"reason": reason, "id": inspection_id})


def downgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('cancel_reason')
