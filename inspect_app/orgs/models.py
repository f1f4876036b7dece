"""Org units. One table for all three levels, with a materialised path for subtree queries."""
from __future__ import annotations

import enum
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import TimestampMixin, enum_column
from ..errors import InvalidInput
from ..extensions import db
from ..i18n import N_


class OrgKind(enum.Enum):
    branch = "branch"
    subbranch = "subbranch"
    outlet = "outlet"

    @property
    def label(self) -> str:
        # Chinese, as stored and printed; marked so that pages can say it in their language
        return {"branch": N_("分行"), "subbranch": N_("支行"), "outlet": N_("网点")}[self.value]

    @property
    def parent_kind(self) -> OrgKind | None:
        return {"branch": None, "subbranch": OrgKind.branch,
                "outlet": OrgKind.subbranch}[self.value]


class AreaType(enum.Enum):
    urban = "urban"
    county = "county"
    outskirts = "outskirts"

    @property
    def label(self) -> str:
        return {"urban": "城区", "county": "县域", "outskirts": "远郊"}[self.value]


class OrgUnit(TimestampMixin, db.Model):
    """A branch, sub-branch or outlet.

    ``path`` holds the ids from the root down, e.g. ``/1/4/27/``: a subtree is one indexed
    prefix query, which matters for a national bank with ~16,000 outlets.
    """

    __tablename__ = "org_units"
    __table_args__ = (sa.Index("ix_org_units_parent_kind", "parent_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Level in the tree.
    kind: Mapped[OrgKind] = mapped_column(enum_column(OrgKind), nullable=False)
    #: Stable business code, unique across the bank (e.g. ``TS-LB-03``).
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    #: ``active_history`` on both: a unit moved while not loaded still has the figures of the
    #: sub-branch (and branch) it leaves recomputed (watchlist/period_scores.py).
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"),
                                                  active_history=True)
    #: Materialised path of ids, ``/root/…/self/``.
    path: Mapped[str] = mapped_column(sa.String(255), nullable=False, default="", index=True,
                                      active_history=True)
    #: 城区/县域/远郊 — the seed assigns repair duties differently by area.
    area_type: Mapped[AreaType | None] = mapped_column(enum_column(AreaType))
    address: Mapped[str | None] = mapped_column(sa.String(255))
    #: Where the outlet is, for checking where evidence photos were taken.
    latitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(sa.Numeric(9, 6))
    #: 标杆网点: shown apart in rankings.
    is_benchmark: Mapped[bool] = mapped_column(default=False, nullable=False)
    #: Closed units keep their history but take no new work.
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent",
                                                   order_by="OrgUnit.code")

    def __repr__(self) -> str:
        return f"<OrgUnit {self.kind.value} {self.code} {self.name}>"

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def is_within(self, other: OrgUnit) -> bool:
        """Whether this unit is ``other`` or lies below it."""
        return self.path.startswith(other.path)

    def active_outlets(self) -> sa.Select:
        """SQL: the outlets at or below this unit that are open (not closed, ``is_active``) —
        a sub-branch's outlets of today. Its figures pool these alone (the watch-list's facts,
        its row on the list, its trend and rankings), and planning gives work to these alone:
        a closed outlet keeps its history but takes no new work and counts in no
        sub-branch's figures."""
        return sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.outlet,
                                        OrgUnit.is_active.is_(True),
                                        OrgUnit.path.startswith(self.path))

    def ancestor(self, kind: OrgKind) -> OrgUnit | None:
        """The unit of ``kind`` on the way up from here (this unit itself included)."""
        unit: OrgUnit | None = self
        while unit is not None and unit.kind is not kind:
            unit = unit.parent
        return unit

    def attach_to(self, parent: OrgUnit | None) -> None:
        """Place the unit under ``parent``, refusing a tree the product cannot reason about."""
        expected = self.kind.parent_kind
        if expected is None and parent is not None:
            raise InvalidInput(N_("分行不能有上级机构"), code="invalid_parent")
        if expected is not None and (parent is None or parent.kind is not expected):
            raise InvalidInput(N_("%(kind)s的上级必须是%(parent)s"), kind=self.kind,
                               parent=expected, code="invalid_parent")
        self.parent = parent

    def refresh_path(self) -> None:
        """Recompute the path of this unit and its subtree (after creation or a move)."""
        prefix = self.parent.path if self.parent is not None else "/"
        self.path = f"{prefix}{self.id}/"
        for child in self.children:
            child.refresh_path()
