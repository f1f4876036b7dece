"""Versioned checklists. A published version never changes; editing one makes a new draft."""
from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..db import JSONType, TimestampMixin, UTCDateTime, enum_column, utcnow
from ..errors import IllegalTransition
from ..extensions import db
from ..i18n import N_


class ChecklistStatus(enum.Enum):
    draft = "draft"
    published = "published"
    retired = "retired"

    @property
    def label(self) -> str:
        return {"draft": N_("草稿"), "published": N_("已发布"),
                "retired": N_("已停用")}[self.value]


class ChecklistImmutable(IllegalTransition):
    code = "checklist_immutable"
    message = N_("已发布或已停用的检查表不能修改，请基于它创建新版本")


class Checklist(TimestampMixin, db.Model):
    """One version of a checklist. Versions of the same standard share a ``key``."""

    __tablename__ = "checklists"
    __table_args__ = (sa.UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Groups the versions of one standard, e.g. ``csb-outlet``.
    key: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    version: Mapped[int] = mapped_column(nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    status: Mapped[ChecklistStatus] = mapped_column(enum_column(ChecklistStatus), nullable=False,
                                                    default=ChecklistStatus.draft)
    #: The scoring rules (red-line rule, grade bands, mode weights) this version scores with;
    #: frozen with the version so a past inspection always scores the same.
    scoring_rules: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    based_on_id: Mapped[int | None] = mapped_column(sa.ForeignKey("checklists.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    sections: Mapped[list[ChecklistSection]] = relationship(
        back_populates="checklist", cascade="all, delete-orphan",
        order_by="ChecklistSection.position")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="checklist", cascade="all, delete-orphan",
        order_by="ChecklistItem.position")

    def __repr__(self) -> str:
        return f"<Checklist {self.key} v{self.version} {self.status.value}>"

    def ensure_editable(self) -> None:
        if self.status is not ChecklistStatus.draft:
            raise ChecklistImmutable()

    def publish(self) -> None:
        if self.status is not ChecklistStatus.draft:
            raise IllegalTransition(N_("只有草稿可以发布"), code="not_draft")
        self.status = ChecklistStatus.published
        self.published_at = utcnow()

    def retire(self) -> None:
        if self.status is not ChecklistStatus.published:
            raise IllegalTransition(N_("只有已发布的检查表可以停用"), code="not_published")
        self.status = ChecklistStatus.retired
        self.retired_at = utcnow()

    def items_for_mode(self, mode: str) -> list[ChecklistItem]:
        """The items an inspection in ``mode`` holds (e.g. mystery-only items only in 暗访)."""
        return [item for item in self.items if mode in item.modes]

    def section_weights(self) -> dict[str, Decimal] | None:
        """The sections' weights (分区权重) by code, which the scoring engine combines section
        percentages by; None when the sections have none. A version saved before weights had
        to be all or none may weigh some sections only: it scores by the items' points, as it
        always did."""
        weights = {section.code: section.weight for section in self.sections}
        if not weights or any(weight is None for weight in weights.values()):
            return None
        return weights

    def to_document(self) -> dict[str, Any]:
        """The checklist in the shared plain-data shape (API, spreadsheet, scoring)."""
        return {
            "name": self.name,
            "description": self.description,
            "sections": [section.to_document() for section in self.sections],
            "items": [item.to_document() for item in self.items],
        }


class ChecklistSection(db.Model):
    """A section (area) of a checklist, e.g. 网点颜值靓化."""

    __tablename__ = "checklist_sections"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id", ondelete="CASCADE"),
                                              nullable=False, index=True)
    code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    #: Optional weight of the whole section (CBSS modules); None means: the items' points.
    weight: Mapped[Decimal | None] = mapped_column(sa.Numeric(8, 2))

    checklist: Mapped[Checklist] = relationship(back_populates="sections")

    def to_document(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name,
                "weight": _plain_number(self.weight)}


class ChecklistItem(db.Model):
    """One thing an inspector checks, with everything needed to score and follow it up."""

    __tablename__ = "checklist_items"
    __table_args__ = (sa.UniqueConstraint("checklist_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id", ondelete="CASCADE"),
                                              nullable=False, index=True)
    #: e.g. ``ENV-03``; unique within a version, stable across versions.
    code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    section_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    #: What "pass" means (合格标准).
    guidance: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    #: Points of the item.
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), nullable=False)
    #: Key into :data:`inspect_app.scoring.types.RESPONSE_TYPES`.
    response_type: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: required / on_fail / optional
    photo_rule: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: 一票否决: a failure triggers the red-line rule of the scoring rules.
    red_line: Mapped[bool] = mapped_column(nullable=False, default=False)
    #: The inspection modes the item applies to.
    modes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    #: minor / major / critical
    severity: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    #: Default rectification deadline, in days from the finding.
    deadline_days: Mapped[int] = mapped_column(nullable=False)

    checklist: Mapped[Checklist] = relationship(back_populates="items")

    def to_document(self) -> dict[str, Any]:
        return {
            "code": self.code, "section": self.section_code, "text": self.text,
            "guidance": self.guidance, "weight": _plain_number(self.weight),
            "response_type": self.response_type, "config": dict(self.config or {}),
            "photo_rule": self.photo_rule, "red_line": self.red_line,
            "modes": list(self.modes), "severity": self.severity,
            "deadline_days": self.deadline_days,
        }


def _plain_number(value: Decimal | None) -> int | float | None:
    """2 → 2, 2.5 → 2.5: the document keeps numbers as people typed them."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


@event.listens_for(Session, "before_flush")
def _published_checklists_are_immutable(session: Session, flush_context, instances) -> None:
    """Refuse any change to the rows of a published or retired version, whoever attempts it."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, (ChecklistItem, ChecklistSection)) and session.is_modified(obj) \
                or isinstance(obj, (ChecklistItem, ChecklistSection)) and obj in session.deleted:
            checklist = obj.checklist
            if checklist is not None and checklist.status is not ChecklistStatus.draft:
                raise ChecklistImmutable()
