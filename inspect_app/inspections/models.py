"""Campaigns, inspections (one per assignment), their answers, scores, findings and appeals."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..checklists.models import Checklist, ChecklistItem
from ..db import JSONType, TimestampMixin, UTCDateTime, enum_column, utcnow
from ..errors import IllegalTransition, InvalidInput
from ..extensions import db
from ..i18n import N_, local_date
from ..messages import Message
from ..orgs.models import OrgUnit


class Mode(enum.Enum):
    """The four supervision layers. Values match :data:`inspect_app.scoring.MODES`."""

    self_check = "self_check"
    peer_check = "peer_check"
    spot_check = "spot_check"
    mystery_visit = "mystery_visit"

    @property
    def label(self) -> str:
        return {"self_check": N_("自查"), "peer_check": N_("互查"),
                "spot_check": N_("抽查"), "mystery_visit": N_("暗访")}[self.value]

    @property
    def independent(self) -> bool:
        return self is not Mode.self_check


class InspectionStatus(enum.Enum):
    assigned = "assigned"
    in_progress = "in_progress"
    submitted = "submitted"
    returned = "returned"
    final = "final"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return {"assigned": N_("待检查"), "in_progress": N_("检查中"),
                "submitted": N_("已提交"), "returned": N_("退回修改"), "final": N_("已定稿"),
                "cancelled": N_("已取消")}[self.value]


#: States in which the inspector may still change answers.
EDITABLE = {InspectionStatus.assigned, InspectionStatus.in_progress, InspectionStatus.returned}
#: States in which the planner may still reassign, reschedule or cancel: nothing submitted yet.
OPEN = {InspectionStatus.assigned, InspectionStatus.in_progress}
#: States in which the planner may give the assignment to someone else: open, or sent back for
#: correction (its inspector may have left meanwhile; someone must correct it).
REASSIGNABLE = OPEN | {InspectionStatus.returned}
#: States in which the inspected outlet sees the result.
RESULT_VISIBLE = {InspectionStatus.submitted, InspectionStatus.final}


class Campaign(TimestampMixin, db.Model):
    """A planned round of inspections (e.g. 2026年第四季度服务检查) against one checklist version."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id"), nullable=False)
    #: The unit whose outlets are in scope (usually the branch).
    scope_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False)
    period_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: Modes included, e.g. ``["self_check", "peer_check"]``.
    modes: Mapped[list[str]] = mapped_column(JSONType, nullable=False)
    #: Per-mode planning settings (cycle, sample size, weights, scenarios…), as sent.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: Seed of every random draw of the campaign: the plan can be reproduced and audited.
    seed: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    #: What planning decided, for audit: peer pairs, the spot-check draw with its weights…
    plan: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    checklist: Mapped[Checklist] = relationship()
    scope_unit: Mapped[OrgUnit] = relationship()


class InspectionTeam(TimestampMixin, db.Model):
    """A peer-check team (互查小组): inspectors of one sub-branch who inspect other sub-branches."""

    __tablename__ = "inspection_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    subbranch_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False,
                                              index=True)
    is_active: Mapped[bool] = mapped_column(default=True, nullable=False)

    subbranch: Mapped[OrgUnit] = relationship()
    members: Mapped[list[User]] = relationship(secondary="inspection_team_members",
                                               order_by="User.username")


inspection_team_members = sa.Table(
    "inspection_team_members", db.metadata,
    sa.Column("team_id", sa.ForeignKey("inspection_teams.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
)


class Inspection(TimestampMixin, db.Model):
    """One assignment and, once filled, its answers and score.

    Assignment, draft, submission and review are states of the same row, so "one assignment,
    one inspection" holds by construction; answers are frozen into :class:`InspectionAnswer`
    rows when submitted.
    """

    __tablename__ = "inspections"
    __table_args__ = (
        sa.Index("ix_inspections_outlet_mode_status", "outlet_id", "mode", "status"),
        sa.Index("ix_inspections_assignee_status", "assignee_id", "status"),
        #: rankings, trends and bulletins aggregate scores by submission time: a covering
        #: index, so the aggregate never touches the table rows
        sa.Index("ix_inspections_submitted_scores", "submitted_at", "status", "outlet_id",
                 "mode", "total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    #: The exact checklist version the form holds and the score was computed against.
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id"), nullable=False)
    mode: Mapped[Mode] = mapped_column(enum_column(Mode), nullable=False)
    status: Mapped[InspectionStatus] = mapped_column(enum_column(InspectionStatus),
                                                     nullable=False,
                                                     default=InspectionStatus.assigned)
    #: ``active_history`` here and on ``submitted_at``: changed on a row not loaded, the old
    #: value is read first, so the ranking figures of the outlet and month it leaves are
    #: recomputed too (watchlist/period_scores.py).
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False,
                                           active_history=True)
    #: The person who fills it in (self-check, spot check, mystery visit)…
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: …or the peer-check team whose members may fill it in.
    team_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspection_teams.id"))
    #: Window in which the inspection is due (a self-check cycle, a visit window).
    due_start: Mapped[date] = mapped_column(sa.Date, nullable=False)
    due_end: Mapped[date] = mapped_column(sa.Date, nullable=False)
    #: Mystery visits: what the shopper does at the counter, e.g. 办理借记卡挂失.
    scenario: Mapped[str | None] = mapped_column(sa.String(200))
    #: Follow-up inspections hold only the items that failed in their parent.
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inspections.id"))
    #: Only these item codes are in the form (re-inspection); None means every applicable item.
    item_codes: Mapped[list[str] | None] = mapped_column(JSONType)

    #: Draft answers ``{code: {"value", "note"}}``, saved on every change.
    draft: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: Mystery visits: ``{"arrival": iso-time, …}`` tapped on the phone.
    events: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    #: Optimistic lock of the draft: a save must name the version it started from.
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    #: Every UPDATE checks and bumps ``version``: two writers can never both win.
    __mapper_args__ = {"version_id_col": version}
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), active_history=True)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Submitted after ``due_end`` (the bank's date): late work is accepted, and marked 逾期.
    #: Decided at the first submission; a correction after a return keeps it.
    submitted_late: Mapped[bool] = mapped_column(default=False, nullable=False,
                                                 server_default=sa.false())
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str | None] = mapped_column(sa.Text)
    #: The planner's reason for cancelling the task, shown to its inspector (取消原因).
    cancel_reason: Mapped[str | None] = mapped_column(sa.Text)

    #: Current score, copied from the newest :class:`InspectionScore` for fast rankings.
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    grade_key: Mapped[str | None] = mapped_column(sa.String(16))
    red_line_failed: Mapped[bool] = mapped_column(default=False, nullable=False)

    campaign: Mapped[Campaign | None] = relationship()
    checklist: Mapped[Checklist] = relationship()
    outlet: Mapped[OrgUnit] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    team: Mapped[InspectionTeam | None] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    answers: Mapped[list[InspectionAnswer]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan",
        order_by="InspectionAnswer.position")
    scores: Mapped[list[InspectionScore]] = relationship(
        back_populates="inspection", cascade="all, delete-orphan",
        order_by="InspectionScore.number")
    findings: Mapped[list[Finding]] = relationship(back_populates="inspection",
                                                   order_by="Finding.id")

    def __repr__(self) -> str:
        return f"<Inspection {self.id} {self.mode.value} {self.status.value}>"

    # -- state machine -------------------------------------------------------------------

    def _move(self, allowed: set[InspectionStatus], target: InspectionStatus,
              message: str) -> None:
        if self.status not in allowed:
            raise IllegalTransition(N_("%(refusal)s（当前状态：%(state)s）"),
                                    refusal=Message(message), state=self.status)
        self.status = target

    def start(self) -> None:
        """First saved answer: assigned → in_progress (returned stays returned)."""
        if self.status is InspectionStatus.assigned:
            self.status = InspectionStatus.in_progress
            self.started_at = utcnow()
        elif self.status not in EDITABLE:
            raise IllegalTransition(N_("该检查%(state)s，不能再修改"), state=self.status,
                                    code="not_editable")

    def refuse_before_window(self, today: date | None = None) -> None:
        """Refuse a submission before the window opens (the bank's date): a submission counts in
        the period it is made in, so a December self-check submitted on 30 November would count
        in November's rankings. Drafts are taken before it: an inspector may prepare."""
        today = today or local_date(utcnow())
        if today < self.due_start:
            raise InvalidInput(N_("该检查自 %(opens)s 起才能提交（在此之前可以先填写保存）"),
                               opens=self.due_start.isoformat(), code="not_open_yet",
                               details={"opens_on": self.due_start.isoformat()})

    def submit(self) -> None:
        """Editable → submitted, not before the window opens; a first submission after the
        window is recorded as late."""
        correction = self.status is InspectionStatus.returned
        now = utcnow()
        if self.status in EDITABLE:  # any other state is refused for what it is, below
            self.refuse_before_window(local_date(now))
        self._move(EDITABLE, InspectionStatus.submitted, N_("该检查不能提交"))
        self.submitted_at = now
        if not correction:
            self.submitted_late = local_date(self.submitted_at) > self.due_end

    def return_for_correction(self, reason: str) -> None:
        self._move({InspectionStatus.submitted}, InspectionStatus.returned,
                   N_("只有已提交的检查可以退回"))
        self.review_note = reason

    def finalise(self) -> None:
        self._move({InspectionStatus.submitted}, InspectionStatus.final,
                   N_("只有已提交的检查可以定稿"))
        self.finalised_at = utcnow()

    def cancel(self, reason: str) -> None:
        self._move(OPEN, InspectionStatus.cancelled, N_("已提交的检查不能取消"))
        self.cancel_reason = reason

    @classmethod
    def scores_the_outlet(cls) -> sa.ColumnElement[bool]:
        """SQL: the inspections whose score stands for their outlet in rankings, trends and
        the watch-list — not follow-ups, which re-check only the items that failed: their
        near-perfect scores would lift an outlet's figures the more it had failed. (Their
        findings still count: an item failing again is a failure.)"""
        return cls.parent_id.is_(None)

    # -- what the form holds -----------------------------------------------------------

    def form_items(self):
        """The checklist items this inspection's form holds: those of its mode, or the items
        a follow-up inspection re-checks."""
        items = self.checklist.items_for_mode(self.mode.value)
        if self.item_codes is not None:
            wanted = set(self.item_codes)
            items = [item for item in self.checklist.items if item.code in wanted]
        return items

    def holds_item(self, code: str) -> bool:
        """Whether ``code`` is one of :meth:`form_items`, asking only for that one item."""
        modes = db.session.scalar(sa.select(ChecklistItem.modes).where(
            ChecklistItem.checklist_id == self.checklist_id, ChecklistItem.code == code))
        if modes is None:
            return False
        if self.item_codes is not None:
            return code in self.item_codes
        return self.mode.value in modes

    @property
    def current_score(self) -> InspectionScore | None:
        return self.scores[-1] if self.scores else None


class InspectionAnswer(db.Model):
    """A submitted answer with its score: frozen at submission, one row per form item."""

    __tablename__ = "inspection_answers"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "item_code"),
                      sa.Index("ix_inspection_answers_item_failed", "item_code", "failed"))

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), nullable=False)
    item_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    section_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    position: Mapped[int] = mapped_column(nullable=False)
    #: The answer as given: "pass"/"fail"/"na", a number, a text.
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    note: Mapped[str | None] = mapped_column(sa.Text)
    earned: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), nullable=False, default=0)
    possible: Mapped[Decimal] = mapped_column(sa.Numeric(8, 2), nullable=False, default=0)
    failed: Mapped[bool] = mapped_column(nullable=False, default=False)
    red_line: Mapped[bool] = mapped_column(nullable=False, default=False)

    inspection: Mapped[Inspection] = relationship(back_populates="answers")


class InspectionScore(db.Model):
    """One version of an inspection's score. Appeals add versions; none is ever rewritten."""

    __tablename__ = "inspection_scores"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("inspections.id", ondelete="CASCADE"), nullable=False)
    #: 1 for the score at submission, 2… after each appeal decision that changed it.
    number: Mapped[int] = mapped_column(nullable=False)
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    grade_key: Mapped[str | None] = mapped_column(sa.String(16))
    grade: Mapped[str | None] = mapped_column(sa.String(16))
    #: The engine's whole result (items, sections, red-line outcome).
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    checklist_id: Mapped[int] = mapped_column(sa.ForeignKey("checklists.id"), nullable=False)
    rules_version: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    reason: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    inspection: Mapped[Inspection] = relationship(back_populates="scores")


class FindingStatus(enum.Enum):
    open = "open"
    fixed_on_spot = "fixed_on_spot"
    overturned = "overturned"

    @property
    def label(self) -> str:
        return {"open": N_("待整改"), "fixed_on_spot": N_("立查立改"),
                "overturned": N_("申诉成立已撤销")}[self.value]


class Finding(TimestampMixin, db.Model):
    """A failed item of a submitted inspection: fixed on the spot, or to be rectified."""

    __tablename__ = "findings"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "item_code"),
                      #: most-failed items per period, counted from the index alone
                      sa.Index("ix_findings_period_items", "created_at", "status", "item_code",
                               "outlet_id"),
                      #: one item's findings in a period (keeping the failed-items figures)
                      sa.Index("ix_findings_item_code_created_at", "item_code", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), nullable=False)
    #: ``active_history`` on the three that place it in the failed items' counts (outlet,
    #: item, day): changed on a row not loaded, the count it leaves is recomputed too.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False,
                                                 active_history=True)
    outlet_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), nullable=False,
                                           index=True, active_history=True)
    item_code: Mapped[str] = mapped_column(sa.String(32), nullable=False, active_history=True)
    #: Snapshot of the standard's wording, for lists and PDFs.
    item_text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    severity: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    red_line: Mapped[bool] = mapped_column(nullable=False, default=False)
    note: Mapped[str | None] = mapped_column(sa.Text)
    #: 立查立改: fixed during the visit; still counts in the score and statistics.
    fixed_on_spot: Mapped[bool] = mapped_column(nullable=False, default=False)
    status: Mapped[FindingStatus] = mapped_column(enum_column(FindingStatus), nullable=False,
                                                  default=FindingStatus.open)

    inspection: Mapped[Inspection] = relationship(back_populates="findings")
    outlet: Mapped[OrgUnit] = relationship()
    appeals: Mapped[list[Appeal]] = relationship(back_populates="finding", order_by="Appeal.id")
    #: What became of it: the rectification item that follows it (read only; the item owns
    #: the link). None for a finding withdrawn before any item existed.
    rectification: Mapped[Any] = relationship(
        "RectificationItem", primaryjoin="Finding.id == foreign(RectificationItem.finding_id)",
        viewonly=True, uselist=False)


class AppealStatus(enum.Enum):
    pending = "pending"
    upheld = "upheld"
    overturned = "overturned"

    @property
    def label(self) -> str:
        return {"pending": N_("待处理"), "upheld": N_("维持原结论"),
                "overturned": N_("申诉成立")}[self.value]


APPEAL_CATEGORIES = {
    "standard_misapplied": N_("检查标准理解有误"),
    "facts_wrong": N_("事实认定有误"),
    "already_fixed": N_("检查时已现场整改"),
    "not_applicable": N_("该项不适用本网点"),
    "other": N_("其他"),
}


class Appeal(TimestampMixin, db.Model):
    """An outlet's appeal against a finding, decided by a reviewer who was not the inspector."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(sa.ForeignKey("findings.id"), nullable=False,
                                            index=True)
    category: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[AppealStatus] = mapped_column(enum_column(AppealStatus), nullable=False,
                                                 default=AppealStatus.pending)
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(sa.Text)

    finding: Mapped[Finding] = relationship(back_populates="appeals")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])

    def decide(self, overturn: bool, note: str, by: User) -> None:
        if self.status is not AppealStatus.pending:
            raise IllegalTransition(N_("该申诉已处理"), code="appeal_decided")
        self.status = AppealStatus.overturned if overturn else AppealStatus.upheld
        self.decided_by_id = by.id
        self.decided_at = utcnow()
        self.decision_note = note


class SubmissionState(enum.Enum):
    in_flight = "in_flight"
    done = "done"


class Submission(db.Model):
    """An idempotency record: one client-chosen key, one submission, one stored answer.

    The unique key in the database — not a check in Python — is what makes a replayed or
    concurrent submission unable to submit twice.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The client's UUID for this submission (``Idempotency-Key``).
    key: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    inspection_id: Mapped[int] = mapped_column(sa.ForeignKey("inspections.id"), nullable=False,
                                               index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False)
    #: SHA-256 of the canonical payload: the same key with another payload is refused.
    payload_hash: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    state: Mapped[SubmissionState] = mapped_column(enum_column(SubmissionState), nullable=False)
    #: The response the first request got, returned to every replay.
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
