"""inspections: whether the inspection was submitted after its window (逾期提交)

Revision ID: 0010_inspections_submitted_late
Revises: 0009_follow_ups_not_scored
Create Date: 2026-11-29 10:30:00

Late work is still accepted; the flag only records it. Inspections already submitted are
flagged when their submission date, where the bank is (``BABEL_DEFAULT_TIMEZONE``), is after
their window's last day — as :meth:`Inspection.submit` decides it from now on.
"""
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '0010_inspections_submitted_late'
down_revision = '0009_follow_ups_not_scored'
branch_labels = None
depends_on = None

inspections = sa.table('inspections', sa.column('id', sa.Integer()),
                       sa.column('due_end', sa.Date()), sa.column('submitted_at', sa.DateTime()),
                       sa.column('submitted_late', sa.Boolean()))


def upgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('submitted_late', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    bank = ZoneInfo(current_app.config.get('BABEL_DEFAULT_TIMEZONE') or 'Asia/Shanghai')
    connection = op.get_bind()
    rows = connection.execute(sa.select(inspections.c.id, inspections.c.due_end,
                                        inspections.c.submitted_at)
                              .where(inspections.c.submitted_at.is_not(None)))
    late = [row.id for row in rows
            if row.submitted_at.replace(tzinfo=UTC).astimezone(bank).date() > row.due_end]
    for start in range(0, len(late), 1000):
        connection.execute(sa.update(inspections)
                           .where(inspections.c.id.in_(late[start:start + 1000]))
                           .values(submitted_late=True))


def downgrade():
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.drop_column('submitted_late')
