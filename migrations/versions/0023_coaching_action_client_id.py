"""coaching_actions.client_id: a follow-up sent twice is recorded once

Revision ID: 0023_coaching_action_client_id
Revises: 0022_periods_by_published_rules
Create Date: 2026-11-30 23:00:00

The entry page's 记录跟进 form and the API may send a follow-up again (a second tap, a retry
after a dropped connection): each sending carries the sender's id for the record, and
``uq_coaching_actions_entry_client`` (unique ``entry_id``, ``client_id``) keeps one record per
id. Existing records have none (NULL, never equal to another).
"""
import sqlalchemy as sa
from alembic import op

revision = '0023_coaching_action_client_id'
down_revision = '0022_periods_by_published_rules'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coaching_actions') as batch_op:
        batch_op.add_column(sa.Column('client_id', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_coaching_actions_entry_client',
                                          ['entry_id', 'client_id'])


def downgrade():
    with op.batch_alter_table('coaching_actions') as batch_op:
        batch_op.drop_constraint('uq_coaching_actions_entry_client', type_='unique')
        batch_op.drop_column('client_id')
