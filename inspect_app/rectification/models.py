"""Rectification items (整改项): one per finding that was not fixed on the spot.

The state machine lives here; who may move it, and what else happens, lives in
:mod:`inspect_app.rectification.operations`. "Overdue" is never stored: it is derived from the
deadline and the state (:meth:`RectificationItem.is_overdue`, :func:`overdue_clause`), so it can
never go stale.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..db import TimestampMixin, UTCDateTime, enum_column, utcnow
from ..errors import IllegalTransition
from ..extensions import db
from ..i18n import N_
from ..inspections.models import Appeal, Finding, Inspection
from ..messages import Message
from ..orgs.models import OrgUnit


class RectificationState(enum.Enum):
    open = "open"
    submitted = "submitted"
    accepted = "accepted"
    closed = "closed"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    RectificationState.open: N_("待整改"),
    RectificationState.submitted: N_("已提交"),
    RectificationState.accepted: N_("已验收"),
    RectificationState.closed: N_("已关闭"),
}

#: States in which the outlet still owes a fix: only these can be overdue.
OWED = (RectificationState.open,)


class ClosedReason(enum.Enum):
    accepted = "accepted"                   # a reviewer accepted the fix, then closed it
    fixed_on_spot = "fixed_on_spot"         # 立查立改: fixed during the visit
    reinspection_passed = "reinspection_passed"  # a follow-up inspection found it fixed
    withdrawn = "withdrawn"                 # an appeal overturned the finding
    corrected = "corrected"                 # the inspector's corrected resubmission passed it
    unit_closed = "unit_closed"             # the outlet was closed (deactivated) unfinished

    @property
    def label(self) -> str:
        return {"accepted": N_("验收通过"), "fixed_on_spot": N_("立查立改"),
                "reinspection_passed": N_("复查通过"),
                "withdrawn": N_("申诉成立，已撤销"),
                "corrected": N_("检查人更正，已撤销"),
                "unit_closed": N_("网点已停用")}[self.value]

    @property
    def cancels_finding(self) -> bool:
        """The problem was not there after all: not a problem found, nor a fix owed."""
        return self in (ClosedReason.withdrawn, ClosedReason.corrected)


SEVERITY_LABELS = {"minor": N_("一般"), "major": N_("较重"), "critical": N_("严重")}


class RectificationItem(TimestampMixin, db.Model):
    """What an outlet has to fix, by when, who answers for it, and how far it has got."""

    __tablename__ = "rectification_items"
    __table_args__ = (
        # One item per failed checklist item of an inspection: a corrected and resubmitted
        # inspection re-links its items instead of creating duplicates.
        sa.UniqueConstraint("inspection_id", "item_code"),
        sa.Index("ix_rectification_items_outlet_state", "outlet_id", "state"),
        sa.Index("ix_rectification_items_state_deadline", "state", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The finding it follows; None only for a moment while a returned inspection is
    #: corrected and resubmitted (its findings are replaced, the item stays).
    finding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("findings.id"), unique=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), nullable=False)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False)
    item_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    #: Snapshots of the standard as it stood at the inspection, for lists and PDFs.
    item_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    standard: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    section: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="")
    #: The inspector's note on the finding.
    finding_note: Mapped[str | None] = mapped_column(sa.Text)
    #: minor / major / critical (the checklist item's severity).
    severity: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    red_line: Mapped[bool] = mapped_column(nullable=False, default=False)
    state: Mapped[RectificationState] = mapped_column(
        enum_column(RectificationState), nullable=False, default=RectificationState.open)
    #: Submission date + the item's ``deadline_days``; a service manager may move it.
    deadline: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: Who answers for the fix (default: the outlet's manager).
    responsible_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    #: The outlet's latest fix: note, who and when.
    fix_note: Mapped[str | None] = mapped_column(sa.Text)
    fix_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fix_submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: The latest acceptance or rejection.
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: How often a fix was sent back (a quality signal for the watch-list).
    rejections: Mapped[int] = mapped_column(nullable=False, default=0)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_reason: Mapped[ClosedReason | None] = mapped_column(enum_column(ClosedReason))
    #: The follow-up inspection that re-checks this item, when one was ordered.
    reinspection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspections.id"),
                                                        index=True)
    #: Optimistic lock: two reviewers cannot both decide the same fix.
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}

    finding: Mapped[Finding | None] = relationship()
    inspection: Mapped[Inspection] = relationship(foreign_keys=[inspection_id])
    reinspection: Mapped[Inspection | None] = relationship(foreign_keys=[reinspection_id])
    outlet: Mapped[OrgUnit] = relationship()
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    fix_submitted_by: Mapped[User | None] = relationship(foreign_keys=[fix_submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __repr__(self) -> str:
        return f"<RectificationItem {self.id} {self.item_code} {self.state.value}>"

    # -- derived -------------------------------------------------------------------------

    def is_overdue(self, today: date) -> bool:
        """Past its deadline while the outlet still owes the fix."""
        return self.state in OWED and self.deadline < today

    @property
    def latest_appeal(self) -> Appeal | None:
        """The latest appeal against the item's finding or, once re-inspected, against the
        follow-up's finding on the same item (which may be appealed too): the one the item
        page, the API and the PDFs speak of. Lists load what it reads (``ITEM_LOADS``)."""
        appeals = list(self.finding.appeals) if self.finding is not None else []
        if self.reinspection is not None:
            appeals += [appeal for finding in self.reinspection.findings
                        if finding.item_code == self.item_code for appeal in finding.appeals]
        return max(appeals, key=lambda appeal: appeal.id, default=None)

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS.get(self.severity, self.severity)

    # -- state machine -------------------------------------------------------------------

    def _require(self, allowed: set[RectificationState], message: str) -> None:
        if self.state not in allowed:
            raise IllegalTransition(N_("%(refusal)s（当前状态：%(state)s）"),
                                    refusal=Message(message), state=self.state,
                                    code="illegal_transition")

    def submit_fix(self, note: str, by: User) -> None:
        """The outlet reports the fix (after-photos are attached by the caller)."""
        self._require({RectificationState.open}, N_("只有待整改的事项可以提交整改"))
        self.state = RectificationState.submitted
        self.fix_note = note
        self.fix_submitted_at = utcnow()
        self.fix_submitted_by_id = by.id

    def accept(self, by: User) -> None:
        self._require({RectificationState.submitted}, N_("只有已提交的整改可以验收"))
        self.state = RectificationState.accepted
        self.decided_at, self.decided_by_id = utcnow(), by.id
        self.rejection_reason = None

    def reject(self, reason: str, by: User) -> None:
        """Send the fix back: the item is open again, with the reason."""
        self._require({RectificationState.submitted}, N_("只有已提交的整改可以退回"))
        self.state = RectificationState.open
        self.decided_at, self.decided_by_id = utcnow(), by.id
        self.rejection_reason = reason
        self.rejections += 1

    def close(self, reason: ClosedReason) -> None:
        """Close: an accepted fix (by a reviewer), or directly for the other reasons."""
        if reason is ClosedReason.accepted:
            self._require({RectificationState.accepted}, N_("只有已验收的整改可以关闭"))
        else:
            self._require({RectificationState.open, RectificationState.submitted,
                           RectificationState.accepted}, N_("该事项已关闭"))
        self.state = RectificationState.closed
        self.closed_at = utcnow()
        self.closed_reason = reason

    def withdraw(self, reason: ClosedReason) -> None:
        """The finding is cancelled (``reason`` is one that cancels it): the item is closed
        with that reason, even if its fix was already closed (the problem was never there)."""
        if self.state is RectificationState.closed:
            if self.closed_reason is not None and self.closed_reason.cancels_finding:
                raise IllegalTransition(N_("该事项已关闭"), code="illegal_transition")
            self.closed_at = utcnow()
            self.closed_reason = reason
        else:
            self.close(reason)

    def reinstate(self) -> None:
        """The inspector's corrected resubmission fails the item after all (it had been
        withdrawn by an earlier correction, or closed as fixed on the spot): open again."""
        self._require({RectificationState.closed}, N_("该事项不能重新打开"))
        if self.closed_reason is ClosedReason.withdrawn:
            raise IllegalTransition(N_("已撤销的事项不能重新打开"), code="illegal_transition")
        self.state = RectificationState.open
        self.closed_at = self.closed_reason = None

    def reopen(self, reason: str) -> None:
        """A follow-up inspection found the item still failing."""
        self._require({RectificationState.open, RectificationState.submitted,
                       RectificationState.accepted, RectificationState.closed},
                      N_("该事项不能重新打开"))
        if self.state is RectificationState.closed and self.closed_reason is not None \
                and self.closed_reason.cancels_finding:
            raise IllegalTransition(N_("已撤销的事项不能重新打开"), code="illegal_transition")
        self.state = RectificationState.open
        self.rejection_reason = reason
        self.closed_at = self.closed_reason = None


def overdue_clause(today: date):
    """SQL condition for "overdue" on :class:`RectificationItem` (same rule as the method)."""
    return sa.and_(RectificationItem.state.in_(OWED), RectificationItem.deadline < today)
