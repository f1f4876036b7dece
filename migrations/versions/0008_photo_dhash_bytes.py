"""photos: one expression index per dhash byte, for the near-identical photo check

Revision ID: 0008_photo_dhash_bytes
Revises: 0007_period_scores
Create Date: 2026-11-28 20:40:00

Checking a new photo against every stored one read the whole photos table; with these indexes
it reads only the photos sharing a byte of its dhash (and those with the same SHA-256).
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_photo_dhash_bytes'
down_revision = '0007_period_scores'
branch_labels = None
depends_on = None


def upgrade():
    for position in range(8):
        op.create_index(f'ix_photos_dhash_byte{position}', 'photos',
                        [sa.text(f'substr(dhash, {2 * position + 1}, 2)')])


def downgrade():
    for position in reversed(range(8)):
        op.drop_index(f'ix_photos_dhash_byte{position}', table_name='photos')
