"""Rectification: from finding to verified fix. Plain functions; they flush, the caller commits.

Items are created when an inspection is submitted (the inspections domain sends
``inspection_submitted``; :mod:`inspect_app.rectification` receives it). Every transition is
written to the audit log.
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from ..audit.operations import record
from ..auth.models import RoleGrant, User
from ..auth.permissions import Role
from ..errors import Conflict, InvalidInput, PermissionDenied
from ..evidence.models import Photo, PhotoPurpose
from ..extensions import db
from ..i18n import N_, bank_midnight, local_date, local_today  # noqa: F401  (the domain's callers import them here)
from ..inspections.models import (
    EDITABLE,
    Finding,
    FindingStatus,
    Inspection,
    InspectionStatus,
    Mode,
)
from ..orgs.models import OrgUnit
from .access import (
    can_decide,
    can_manage,
    can_plan_reinspection,
    can_reassign,
    can_submit_fix,
    may_be_responsible,
    require_settled,
    visible_items,
)
from .models import (
    OWED,
    ClosedReason,
    RectificationItem,
    RectificationState,
    overdue_clause,
)

#: Fields of an item snapshotted into the audit log around each transition.
AUDITED = ("state", "deadline", "responsible_id", "closed_reason")


def _audit(action: str, item: RectificationItem, before: dict | None, by: User | None,
           reason: str | None = None, **extra: Any) -> None:
    from ..audit.operations import snapshot

    after = {**snapshot(item, AUDITED), **extra}
    record(f"rectification.{action}", item, object_type="rectification_item", actor=by,
           before=before, after=after, reason=reason)


def _before(item: RectificationItem) -> dict:
    from ..audit.operations import snapshot

    return snapshot(item, AUDITED)


# -- creation (on submission) -----------------------------------------------------------------


def default_responsible(outlet: OrgUnit) -> User | None:
    """The outlet's manager (the first active one, when there are several)."""
    return db.session.scalar(
        sa.select(User).join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.org_unit_id == outlet.id, RoleGrant.role == Role.outlet_manager,
               User.is_active.is_(True)).order_by(User.id).limit(1))


def _items_of(inspection: Inspection) -> dict[str, RectificationItem]:
    return {item.item_code: item for item in db.session.scalars(
        sa.select(RectificationItem).where(RectificationItem.inspection_id == inspection.id))}


def _link_after_photos(item: RectificationItem, inspection: Inspection) -> list[int]:
    """Attach the inspector's after-photos of a fixed-on-the-spot finding to its item."""
    photos = db.session.scalars(sa.select(Photo).where(
        Photo.inspection_id == inspection.id, Photo.item_code == item.item_code,
        Photo.purpose == PhotoPurpose.after, Photo.rectification_item_id.is_(None))).all()
    for photo in photos:
        photo.rectification_item_id = item.id
        photo.fix_submitted_at = inspection.submitted_at
    return [photo.id for photo in photos]


def _snapshot_finding(item: RectificationItem, finding: Finding, inspection: Inspection) -> None:
    checklist_item = next((i for i in inspection.checklist.items
                           if i.code == finding.item_code), None)
    sections = {s.code: s.name for s in inspection.checklist.sections}
    item.finding_id = finding.id
    item.item_text = finding.item_text
    item.standard = checklist_item.guidance if checklist_item is not None else ""
    item.section = sections.get(checklist_item.section_code, "") if checklist_item else ""
    item.finding_note = finding.note
    item.severity = finding.severity
    item.red_line = finding.red_line


def create_rectification_items(inspection: Inspection, *, by: User | None) -> list[RectificationItem]:
    """Turn the findings of a just-submitted inspection into rectification items.

    - a finding fixed on the spot gets an item that is closed at once (with the inspector's
      after-photos), so it still counts in the statistics;
    - a resubmitted (returned and corrected) inspection re-links its existing items to the new
      findings instead of duplicating them, and withdraws those whose item now passes;
    - a re-inspection's results close or reopen the items it re-checks (:func:`apply_reinspection`)
      instead of creating new ones for them.
    """
    rechecked = apply_reinspection(inspection, by=by)
    existing = _items_of(inspection)
    submitted_on = local_date(inspection.submitted_at) or local_today()
    deadline_days = {i.code: i.deadline_days for i in inspection.checklist.items}
    responsible = None
    created: list[RectificationItem] = []
    # Read the findings afresh: after a corrected resubmission the ``inspection.findings``
    # collection may still hold the replaced (deleted) ones.
    findings = db.session.scalars(sa.select(Finding).where(
        Finding.inspection_id == inspection.id).order_by(Finding.id)).all()
    for finding in findings:
        if finding.item_code in rechecked or finding.status is FindingStatus.overturned:
            continue
        item = existing.pop(finding.item_code, None)
        if item is not None:  # a corrected resubmission: same item, new finding
            _snapshot_finding(item, finding, inspection)
            db.session.flush()
            _audit("relink", item, None, by, finding_id=finding.id)
            if item.state is RectificationState.closed and (
                    item.closed_reason is ClosedReason.corrected
                    or (item.closed_reason is ClosedReason.fixed_on_spot
                        and not finding.fixed_on_spot)):
                before = _before(item)
                item.reinstate()
                db.session.flush()
                _audit("reopen", item, before, by, reason="检查退回修改后该项仍不合格",
                       finding_id=finding.id)
        else:
            if responsible is None:
                responsible = default_responsible(inspection.outlet) or False
            item = RectificationItem(
                inspection_id=inspection.id, outlet_id=inspection.outlet_id,
                item_code=finding.item_code, state=RectificationState.open,
                deadline=submitted_on + timedelta(days=deadline_days.get(finding.item_code, 7)),
                responsible_id=responsible.id if responsible else None)
            _snapshot_finding(item, finding, inspection)
            db.session.add(item)
            db.session.flush()
            _audit("create", item, None, by, finding_id=finding.id)
            created.append(item)
        if finding.fixed_on_spot and item.state is not RectificationState.closed:
            before = _before(item)
            photos = _link_after_photos(item, inspection)
            item.fix_note = finding.note
            item.fix_submitted_at, item.fix_submitted_by_id = inspection.submitted_at, \
                by.id if by else None
            item.close(ClosedReason.fixed_on_spot)
            db.session.flush()
            _audit("close", item, before, by, reason="立查立改", photo_ids=photos)
    for item in existing.values():  # corrected resubmission: this item passes now
        # also one closed as 立查立改: a problem never there was not fixed on the spot either
        if item.closed_reason is None or not item.closed_reason.cancels_finding:
            before = _before(item)
            item.withdraw(ClosedReason.corrected)
            db.session.flush()
            _audit("withdraw", item, before, by, reason="检查退回修改后该项合格")
    return created


def detach_findings(inspection: Inspection, findings: list[Finding]) -> None:
    """A returned inspection is about to replace its findings: keep the items, unlinked, so
    the corrected submission re-links them (no duplicates, no lost history)."""
    ids = [f.id for f in findings]
    if not ids:
        return
    for item in db.session.scalars(sa.select(RectificationItem).where(
            RectificationItem.finding_id.in_(ids))):
        item.finding_id = None
    db.session.flush()


def withdraw_overturned(finding: Finding, *, by: User | None, note: str | None = None) -> None:
    """An appeal overturned the finding: its item is closed as 申诉成立 (withdrawn), also when
    its fix was already closed (accepted, or fixed on the spot): there was nothing to fix."""
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.finding_id == finding.id))
    if item is None:
        _pass_overturned_reinspection(finding, by=by, note=note)
        return
    if (item.closed_reason is not None and item.closed_reason.cancels_finding):
        return
    before = _before(item)
    item.withdraw(ClosedReason.withdrawn)
    db.session.flush()
    _audit("withdraw", item, before, by, reason=note or "申诉成立")


def _pass_overturned_reinspection(finding: Finding, *, by: User | None,
                                  note: str | None) -> None:
    """An appeal overturned a re-inspection's finding: the item it reopened (still linked to
    the original finding, which stands) is closed as the re-inspection passing it would be."""
    item = db.session.scalar(sa.select(RectificationItem).where(
        RectificationItem.reinspection_id == finding.inspection_id,
        RectificationItem.item_code == finding.item_code))
    if item is None or item.state is RectificationState.closed:
        return
    before = _before(item)
    item.close(ClosedReason.reinspection_passed)
    db.session.flush()
    _audit("close", item, before, by, reason=note or "申诉成立",
           reinspection_id=finding.inspection_id, finding_id=finding.id)


# -- the outlet's fix and its review ----------------------------------------------------------


def _require(allowed: bool, message: str, code: str) -> None:
    if not allowed:
        raise PermissionDenied(message, code=code)


def after_photos(item: RectificationItem) -> list[Photo]:
    return list(db.session.scalars(sa.select(Photo).where(
        Photo.rectification_item_id == item.id).order_by(Photo.id)))


def after_photos_by_attempt(item: RectificationItem) -> tuple[list[Photo], list[Photo]]:
    """(this attempt's after-photos, those of attempts sent back).

    While the item is open, this attempt is what the outlet uploaded and has not sent yet;
    once a fix is sent, it is the photos sent with the latest fix (those uploaded and left out
    are no evidence). Photos sent with an earlier fix belong to an attempt sent back (or
    reopened by a re-inspection): the reviewer judges the new one by its own photos."""
    photos = after_photos(item)
    sent = [p for p in photos if p.fix_submitted_at is not None]
    if item.state is RectificationState.open:
        return [p for p in photos if p.fix_submitted_at is None], sent
    current = fix_evidence(item, photos)
    return current, [p for p in sent if p not in current]


def fix_evidence(item: RectificationItem, photos: list[Photo]) -> list[Photo]:
    """The after-photos that are the evidence of the item's fix, as printed on the lists:
    those sent with the latest fix, and none while the item is open (what the outlet only
    uploaded, or sent with a fix that was sent back, proves nothing yet). ``photos`` are the
    item's after-photos, read by the caller (several items at once)."""
    if item.state is RectificationState.open:
        return []
    latest = max((p.fix_submitted_at for p in photos if p.fix_submitted_at is not None),
                 default=None)
    return [p for p in photos if latest is not None and p.fix_submitted_at == latest]


def attach_after_photo(item: RectificationItem, data: bytes, *, client_id: str, by: User,
                       client_facts: dict | None = None) -> tuple[Photo, bool]:
    """Take one after-photo through the evidence intake (idempotent by ``client_id``).

    The photo is checked for re-use against every stored photo, the item's own before-photos
    included (sending the "before" picture again as proof of a fix is flagged), and taken-at
    dates before the finding are flagged as outside the window.
    """
    from ..evidence.operations import ingest_photo

    _require(can_submit_fix(by, item), N_("只有被检查网点可以上传整改照片"), "not_outlet")
    require_settled(item)
    if item.state is not RectificationState.open:
        raise InvalidInput(N_("该整改项%(state)s，不能再上传照片"), state=item.state,
                           code="not_open")
    found = local_date(item.inspection.submitted_at) or local_today()
    return ingest_photo(data, client_id=client_id, purpose=PhotoPurpose.after,
                        outlet=item.outlet, by=by, inspection=None, item_code=item.item_code,
                        window=(found, local_today()), client_facts=client_facts,
                        rectification_item=item)


def submit_fix(item: RectificationItem, *, note: str, photo_ids: list[int],
               by: User) -> RectificationItem:
    """The outlet reports the fix with a note and at least one of its after-photos, none of
    them sent with an earlier fix (that attempt was sent back: its photos prove nothing new)."""
    _require(can_submit_fix(by, item), N_("只有被检查网点可以提交整改"), "not_outlet")
    require_settled(item)
    photos = after_photos(item)
    mine = {p.id for p in photos}
    unknown = [pid for pid in photo_ids if pid not in mine]
    if unknown:
        raise InvalidInput(N_("照片不属于该整改项"), code="unknown_photo", details={"photo_ids": unknown})
    earlier = {p.id for p in photos if p.fix_submitted_at is not None}
    resent = [pid for pid in photo_ids if pid in earlier]
    if resent:
        raise InvalidInput(N_("照片已随此前的整改提交过，请上传新的整改后照片"),
                           code="photo_already_sent", details={"photo_ids": resent})
    if not photo_ids:
        raise InvalidInput(N_("请至少上传一张整改后照片"), code="after_photo_required")
    before = _before(item)
    item.submit_fix(note, by)
    for photo in after_photos(item):
        if photo.id in photo_ids:
            photo.fix_submitted_at = item.fix_submitted_at
    db.session.flush()
    _audit("submit", item, before, by, photo_ids=list(photo_ids), note=note)
    return item


def accept(item: RectificationItem, *, by: User, note: str | None = None) -> RectificationItem:
    """A sub-branch manager, a service manager or the original inspector accepts the fix."""
    _require(can_decide(by, item), N_("网点不能验收自己的整改，请由支行负责人、原检查人员或服务管理人员验收"),
             "not_acceptor")
    require_settled(item)
    before = _before(item)
    item.accept(by)
    db.session.flush()
    _audit("accept", item, before, by, reason=note)
    return item


def reject(item: RectificationItem, *, reason: str, by: User) -> RectificationItem:
    """Send the fix back to the outlet with a reason (the item is open again)."""
    _require(can_decide(by, item), N_("您不能退回该整改"), "not_acceptor")
    require_settled(item)
    before = _before(item)
    item.reject(reason, by)
    db.session.flush()
    _audit("reject", item, before, by, reason=reason)
    return item


def close(item: RectificationItem, *, by: User, note: str | None = None) -> RectificationItem:
    """Close an accepted item (it leaves the working lists; it stays in the statistics)."""
    _require(can_decide(by, item) or can_manage(by, item), N_("您不能关闭该整改项"), "not_acceptor")
    require_settled(item)
    before = _before(item)
    item.close(ClosedReason.accepted)
    db.session.flush()
    _audit("close", item, before, by, reason=note)
    return item


def close_for_closed_unit(unit: OrgUnit, *, by: User | None) -> list[RectificationItem]:
    """A closed (deactivated) outlet fixes nothing more, and no follow-up may visit it: its
    unfinished items are closed with it, so that they leave the working lists and nobody is
    reminded of them for good — an accepted fix as accepted, the others as 网点已停用
    (:attr:`ClosedReason.unit_closed`), each audited with the closing as its reason. Their
    findings stay counted: the problems were there. An appeal still pending may yet withdraw
    one (:meth:`RectificationItem.withdraw`)."""
    from ..inspections.operations import CLOSED_UNIT_REASON

    items = db.session.scalars(
        sa.select(RectificationItem).where(RectificationItem.outlet_id == unit.id,
                                           RectificationItem.state != RectificationState.closed)
        .order_by(RectificationItem.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    for item in items:
        before = _before(item)
        item.close(ClosedReason.accepted if item.state is RectificationState.accepted
                   else ClosedReason.unit_closed)
        db.session.flush()
        _audit("close", item, before, by, reason=CLOSED_UNIT_REASON)
    return items


def adjust_deadline(item: RectificationItem, *, deadline: date, reason: str,
                    by: User) -> RectificationItem:
    """A service manager moves the deadline; the reason goes to the audit log."""
    _require(can_manage(by, item), N_("只有服务管理人员可以调整整改期限"), "not_manager")
    if item.state is RectificationState.closed:
        raise InvalidInput(N_("已关闭的整改项不能调整期限"), code="closed")
    found_on = local_date(item.inspection.submitted_at) or local_date(item.created_at)
    if found_on is not None and deadline < found_on:
        raise InvalidInput(N_("整改期限不能早于检查日期（%(day)s）"), day=found_on.isoformat(),
                           code="deadline_before_inspection")
    before = _before(item)
    item.deadline = deadline
    db.session.flush()
    _audit("deadline", item, before, by, reason=reason)
    return item


def reassign(item: RectificationItem, *, responsible: User | None, reason: str | None,
             by: User) -> RectificationItem:
    """Name another responsible person: the outlet's manager or its sub-branch's. Nobody else
    is named back, and nobody unknown is told apart from them (a refusal names no one)."""
    _require(can_reassign(by, item), N_("您不能更换该整改项的责任人"), "not_allowed")
    if responsible is None or not may_be_responsible(responsible, item):
        raise InvalidInput(N_("责任人只能是该网点的负责人或其支行的负责人"),
                           code="responsible_not_allowed")
    before = _before(item)
    item.responsible = responsible
    db.session.flush()
    _audit("reassign", item, before, by, reason=reason)
    return item


# -- re-inspection ----------------------------------------------------------------------------


def create_reinspection(items: list[RectificationItem], *, assignee: User, due_start: date,
                        due_end: date, by: User) -> Inspection:
    """A follow-up spot check of one outlet holding only the items that failed.

    When it is submitted, its results close (passed) or reopen (failed) these items.
    """
    from ..inspections.campaigns import check_assignee

    if not items:
        raise InvalidInput(N_("请选择要复查的整改项"), code="items_required")
    outlets = {item.outlet_id for item in items}
    if len(outlets) != 1:
        raise InvalidInput(N_("一次复查只能针对一个网点"), code="several_outlets")
    outlet = items[0].outlet
    _require(can_plan_reinspection(by, outlet), N_("只有服务管理人员可以安排复查"), "not_planner")
    if not outlet.is_active:  # a closed outlet takes no new work (its open tasks are cancelled)
        raise Conflict(N_("该网点已停用，不能安排复查"), code="outlet_closed")
    if any(item.state is RectificationState.closed for item in items):
        raise InvalidInput(N_("已关闭的整改项无需复查"), code="closed")
    pending = [item.item_code for item in items
               if item.reinspection is not None and item.reinspection.status in EDITABLE]
    if pending:
        raise Conflict(N_("以下整改项已安排复查、尚未完成：%(codes)s"), codes=", ".join(pending),
                       code="reinspection_pending", details={"item_codes": pending})
    if due_end < due_start:
        raise InvalidInput(N_("结束日期不能早于开始日期"), code="invalid_window")
    parent = max((item.inspection for item in items), key=lambda i: (i.submitted_at, i.id))
    codes = sorted({item.item_code for item in items})
    known = {i.code for i in parent.checklist.items}
    if not set(codes) <= known:
        raise InvalidInput(N_("所选整改项不在同一版本的检查表中"), code="checklist_mismatch")
    inspection = Inspection(
        campaign_id=None, checklist_id=parent.checklist_id, mode=Mode.spot_check,
        outlet_id=outlet.id, due_start=due_start, due_end=due_end,
        status=InspectionStatus.assigned, parent_id=parent.id, item_codes=codes,
        draft={}, events={})
    inspection.outlet = outlet
    db.session.add(inspection)
    check_assignee(inspection, assignee, None)
    inspection.assignee_id = assignee.id
    db.session.flush()
    for item in items:
        item.reinspection_id = inspection.id
    db.session.flush()
    record("inspection.reinspection", inspection, actor=by,
           after={"parent_id": parent.id, "item_codes": codes, "assignee_id": assignee.id,
                  "rectification_item_ids": [item.id for item in items]})
    return inspection


def apply_reinspection(inspection: Inspection, *, by: User | None) -> set[str]:
    """Close (passed) or reopen (failed) the items a submitted re-inspection re-checked.

    Returns the item codes it handled, so no new item is created for them."""
    items = list(db.session.scalars(sa.select(RectificationItem).where(
        RectificationItem.reinspection_id == inspection.id)))
    if not items:
        return set()
    failed = {f.item_code: f for f in db.session.scalars(
        sa.select(Finding).where(Finding.inspection_id == inspection.id))}
    for item in items:
        if item.state is RectificationState.closed and item.closed_reason is not None \
                and item.closed_reason.cancels_finding:
            continue
        before = _before(item)
        finding = failed.get(item.item_code)
        if finding is None or finding.fixed_on_spot:
            if item.state is not RectificationState.closed:
                item.close(ClosedReason.reinspection_passed)
                db.session.flush()
                _audit("close", item, before, by, reason="复查通过",
                       reinspection_id=inspection.id)
        else:
            item.reopen(f"复查未通过：{finding.note or finding.item_text}")
            db.session.flush()
            _audit("reopen", item, before, by, reason="复查未通过",
                   reinspection_id=inspection.id)
    return {item.item_code for item in items}


# -- lists and counts -------------------------------------------------------------------------


def filtered(query: sa.Select, args: dict[str, Any], today: date) -> sa.Select:
    """Apply the list filters (the query is joined to Inspection and the outlet OrgUnit)."""
    if args.get("outlet_id") is not None:
        query = query.where(RectificationItem.outlet_id == args["outlet_id"])
    if args.get("subbranch_id") is not None:
        query = query.where(OrgUnit.parent_id == args["subbranch_id"])
    if args.get("state"):
        query = query.where(RectificationItem.state.in_(args["state"]))
    if args.get("overdue") is True:
        query = query.where(overdue_clause(today))
    elif args.get("overdue") is False:
        query = query.where(sa.not_(overdue_clause(today)))
    if args.get("severity"):
        query = query.where(RectificationItem.severity.in_(args["severity"]))
    if args.get("mode"):
        query = query.where(Inspection.mode.in_(args["mode"]))
    if args.get("campaign_id") is not None:
        query = query.where(Inspection.campaign_id == args["campaign_id"])
    if args.get("inspection_id") is not None:
        query = query.where(RectificationItem.inspection_id == args["inspection_id"])
    if args.get("responsible_id") is not None:
        query = query.where(RectificationItem.responsible_id == args["responsible_id"])
    if args.get("found_from") is not None:
        query = query.where(Inspection.submitted_at >= bank_midnight(args["found_from"]))
    if args.get("found_to") is not None:
        query = query.where(Inspection.submitted_at
                            < bank_midnight(args["found_to"] + timedelta(days=1)))
    if args.get("closed_reason"):
        query = query.where(RectificationItem.closed_reason.in_(args["closed_reason"]))
    if args.get("closed_from") is not None:
        query = query.where(RectificationItem.closed_at >= bank_midnight(args["closed_from"]))
    return query


#: Loader options for a list of items: what a row reads beyond the item's columns comes in one
#: statement each, however many rows — its inspection and who carried it out, its outlet and
#: sub-branch, its responsible person, and the appeals of ``RectificationItem.latest_appeal``
#: (against its finding and its follow-up's). For the API's list and the PDF lists alike.
ITEM_LOADS = (
    selectinload(RectificationItem.inspection).options(
        selectinload(Inspection.team), selectinload(Inspection.submitted_by),
        selectinload(Inspection.assignee)),
    selectinload(RectificationItem.outlet).selectinload(OrgUnit.parent),
    selectinload(RectificationItem.responsible),
    selectinload(RectificationItem.finding).selectinload(Finding.appeals),
    selectinload(RectificationItem.reinspection).selectinload(Inspection.findings)
    .selectinload(Finding.appeals),
)


#: Not done with: still to fix, or fixed and awaiting acceptance.
UNFINISHED = (RectificationState.open, RectificationState.submitted)


def list_figures(viewer: User, start: date, end: date, today: date) -> dict[int, dict[str, int]]:
    """Per sub-branch id, what the 整改清单 of ``start``–``end`` holds and what it does not:
    items found in the period (``found``, of which ``owed`` still open or awaiting
    acceptance and ``found_overdue`` past their deadline) and items found earlier still owed
    (``earlier``, of which ``overdue``)."""
    begin, stop = bank_midnight(start), bank_midnight(end + timedelta(days=1))
    owed = RectificationItem.state.in_(UNFINISHED)
    # found: as the list counts them, without those withdrawn (appeal upheld, or corrected)
    withdrawn = RectificationItem.closed_reason.in_(
        [reason for reason in ClosedReason if reason.cancels_finding])
    now = sa.and_(Inspection.submitted_at >= begin, Inspection.submitted_at < stop,
                  sa.not_(sa.func.coalesce(withdrawn, False)))
    before = sa.and_(Inspection.submitted_at < begin, owed)

    def number(condition) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    rows = db.session.execute(visible_items(viewer).with_only_columns(
        OrgUnit.parent_id, number(now), number(sa.and_(now, owed)),
        number(sa.and_(now, overdue_clause(today))), number(before),
        number(sa.and_(before, overdue_clause(today))),
    ).group_by(OrgUnit.parent_id)).all()
    return {unit: {"found": found, "owed": still, "found_overdue": late, "earlier": earlier,
                   "overdue": overdue}
            for unit, found, still, late, earlier, overdue in rows}


def counts(query: sa.Select, today: date) -> dict[str, int]:
    """Items per state, plus ``overdue`` and ``total``, for the same filters as the list."""
    sub = query.order_by(None).subquery()
    item = aliased(RectificationItem, sub)
    rows = db.session.execute(sa.select(item.state, sa.func.count()).group_by(item.state)).all()
    result = {state.value: 0 for state in RectificationState}
    for state, count in rows:
        result[state.value] = count
    result["overdue"] = db.session.scalar(sa.select(sa.func.count()).select_from(sub).where(
        sub.c.state.in_(OWED),
        sub.c.deadline < today)) or 0
    result["total"] = sum(result[state.value] for state in RectificationState)
    return result
