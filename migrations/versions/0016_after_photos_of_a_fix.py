"""after-photos remember the fix they were sent with

Revision ID: 0016_after_photos_of_a_fix
Revises: 0015_closed_as_corrected
Create Date: 2026-11-30 10:00:00

The rectification lists printed every after-photo of an item as the fix's evidence: those of
attempts sent back, and photos uploaded but never submitted. ``photos.fix_submitted_at`` says
when a photo was sent with a fix. Existing photos get it from the audit entry of the submission
that named them (``rectification.submit`` keeps its ``photo_ids``); the inspector's photos of
a finding fixed on the spot from their item; photos of a fix submitted without such an entry
(none are expected) from the item's submission, when uploaded before it.
"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0016_after_photos_of_a_fix'
down_revision = '0015_closed_as_corrected'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("photos", sa.Column("fix_submitted_at", sa.DateTime(), nullable=True))
    conn = op.get_bind()
    named = set()
    for entry_id, item_id, after in conn.execute(sa.text(
            "SELECT id, object_id, after FROM audit_entries "
            "WHERE action = 'rectification.submit' ORDER BY id")).all():
        if isinstance(after, str):
            after = json.loads(after)
        photo_ids = [int(i) for i in (after or {}).get("photo_ids") or []]
        if not photo_ids:
            continue
        named.add(int(item_id))
        conn.execute(sa.text(
            "UPDATE photos SET fix_submitted_at = (SELECT at FROM audit_entries WHERE id = :entry) "
            "WHERE rectification_item_id = :item AND id IN :ids")
            .bindparams(sa.bindparam("ids", expanding=True)),
            {"entry": entry_id, "item": int(item_id), "ids": photo_ids})
    for item_id, submitted_at, reason in conn.execute(sa.text(
            "SELECT id, fix_submitted_at, closed_reason FROM rectification_items "
            "WHERE fix_submitted_at IS NOT NULL AND state <> 'open'")).all():
        if reason == "fixed_on_spot":  # the inspector's photos, taken during the visit
            conn.execute(sa.text(
                "UPDATE photos SET fix_submitted_at = :at WHERE rectification_item_id = :item"),
                {"at": submitted_at, "item": item_id})
        elif item_id not in named:
            conn.execute(sa.text(
                "UPDATE photos SET fix_submitted_at = :at WHERE rectification_item_id = :item "
                "AND fix_submitted_at IS NULL AND uploaded_at <= :at"),
                {"at": submitted_at, "item": item_id})


def downgrade():
    op.drop_column("photos", "fix_submitted_at")
