"""Photos attached to inspection answers (before) and rectification items (after)."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import JSONType, UTCDateTime, enum_column, utcnow
from ..extensions import db
from ..messages import N_


class PhotoPurpose(enum.Enum):
    before = "before"  # evidence of a finding, taken during the inspection
    after = "after"    # evidence of a fix, uploaded by the outlet

    @property
    def label(self) -> str:
        return {"before": "检查照片", "after": "整改照片"}[self.value]


#: Evidence flags, by code, with the Chinese text reviewers see.
FLAG_LABELS = {
    "outside_window": N_("拍摄时间不在检查时段内"),
    "too_far": N_("拍摄地点距网点过远"),
    "no_camera_metadata": N_("无相机信息（可能是截图或经过编辑/转发的图片）"),
    "reused_exact": N_("与其他检查中的照片完全相同"),
    "reused_similar": N_("与其他检查中的照片高度相似"),
}


class Photo(db.Model):
    """One uploaded photo. The original is kept byte for byte; renditions carry no metadata."""

    __tablename__ = "photos"
    __table_args__ = (sa.Index("ix_photos_inspection_item", "inspection_id", "item_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client's UUID for this photo: re-sending it returns this row, never a second copy.
    client_id: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    purpose: Mapped[PhotoPurpose] = mapped_column(enum_column(PhotoPurpose), nullable=False)
    inspection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspections.id"))
    item_code: Mapped[str | None] = mapped_column(sa.String(32))
    #: After-photos: the rectification item whose fix they show (its permissions apply).
    rectification_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("rectification_items.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False,
                                           index=True)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    #: After-photos: when the outlet sent this photo with a fix (the fix's submission time);
    #: None while it was only uploaded. A fix's evidence is the photos sent with it, never
    #: those of an attempt sent back nor those uploaded and left out.
    fix_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    #: SHA-256 of the original bytes: shown with the photo so anyone can check it.
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    #: 64-bit difference hash (hex) for spotting re-used, re-encoded photos.
    dhash: Mapped[str] = mapped_column(sa.String(16), nullable=False, index=True)
    content_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    width: Mapped[int] = mapped_column(nullable=False)
    height: Mapped[int] = mapped_column(nullable=False)
    #: Storage keys (content addresses) of the original and its renditions.
    original_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    display_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    thumb_key: Mapped[str] = mapped_column(sa.String(64), nullable=False)

    exif_present: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: Camera-local capture time as the camera wrote it, with its offset when known.
    captured_at: Mapped[str | None] = mapped_column(sa.String(40))
    camera_make: Mapped[str | None] = mapped_column(sa.String(100))
    camera_model: Mapped[str | None] = mapped_column(sa.String(100))
    #: Where the photo was taken — private: only service managers see it.
    gps_lat: Mapped[float | None] = mapped_column(sa.Float)
    gps_lon: Mapped[float | None] = mapped_column(sa.Float)
    #: Facts the app recorded at capture (device time, geolocation, camera vs gallery), each
    #: with its source, e.g. ``{"device_time": {"value": …, "source": "device"}}``.
    client_facts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: Evidence flags computed on intake (codes of :data:`FLAG_LABELS`) with their figures.
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)

    inspection = relationship("Inspection")
    rectification_item = relationship("RectificationItem")
    outlet = relationship("OrgUnit")


def dhash_byte(dhash, position: int) -> sa.ColumnElement[str]:
    """Byte ``position`` (0–7) of a hex dhash, as SQL. The positions are literals, so a query
    using this matches the expression index below (on SQLite and PostgreSQL alike)."""
    return sa.func.substr(dhash, sa.literal_column(str(2 * position + 1)),
                          sa.literal_column("2"), type_=sa.String)


#: One index per dhash byte: finding near-identical photos (which share at least two bytes)
#: is a few index lookups, however many photos are stored.
for _position in range(8):
    sa.Index(f"ix_photos_dhash_byte{_position}", dhash_byte(Photo.dhash, _position))
