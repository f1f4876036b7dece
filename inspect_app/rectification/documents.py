"""Printable documents: the inspection report and the rectification lists (整改清单).

This module turns database rows into the plain contexts :mod:`inspect_app.reports.pdf` prints
(see its docstring for the shapes), deciding per viewer what a copy may show:

- ``audience`` is ``"reviewer"`` only for service managers (``inspections.review`` over the
  scope); every other copy — outlet, sub-branch — is an outlet-facing copy: no evidence flags;
- a mystery visit's shopper is named only when the viewer may see them
  (:func:`inspect_app.inspections.access.sees_identity`), otherwise "神秘人"; dates only, never
  times of day, and never accounts — the visit's scenario and timed events are printed on a
  reviewer's copy for a viewer who may see the shopper, and on no other;
- photos are the thumbnails (``thumb_key``), each with the original's SHA-256.

Each document also gets a *fingerprint* of everything it prints except its generation time, so
downloads answer ``304 Not Modified`` without rendering when nothing changed.
"""
from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..api.fields import EARLIEST, LATEST
from ..auth.models import User
from ..auth.permissions import Permission
from ..errors import InvalidInput, NotFound
from ..evidence.models import FLAG_LABELS, Photo, PhotoPurpose
from ..extensions import db
from ..i18n import N_
from ..i18n import bank_timezone as timezone
from ..inspections.access import sees_identity
from ..inspections.models import RESULT_VISIBLE, Appeal, Campaign, Inspection, Mode
from ..inspections.schemas import MYSTERY_LABEL
from ..inspections.visits import visit_timeline
from ..orgs.models import OrgKind, OrgUnit
from ..reports import pdf
from .access import visible_items
from .models import SEVERITY_LABELS, ClosedReason, RectificationItem, RectificationState
from .operations import ITEM_LOADS, UNFINISHED, filtered, fix_evidence, local_date, local_today
from .schemas import APPEAL_LABELS

#: Bump when the templates change in a way that must invalidate cached downloads.
DOCUMENT_VERSION = "2026.11.3"


@dataclass
class Document:
    """A PDF about to be printed: template, context, download name and fingerprint."""

    template: str
    context: dict[str, Any]
    filename: str

    @property
    def etag(self) -> str:
        printed = {k: v for k, v in self.context.items() if k != "generated_at"}
        body = json.dumps([DOCUMENT_VERSION, self.template, printed], sort_keys=True,
                          ensure_ascii=False, default=str)
        return hashlib.sha256(body.encode()).hexdigest()

    def render(self) -> bytes:
        from ..evidence.operations import storage

        return pdf.render_pdf(self.template, self.context, fetch_image=storage().open)


def _now_label() -> str:
    return datetime.now(timezone()).strftime("%Y-%m-%d %H:%M")


def inspector_label(inspection: Inspection, viewer: User) -> str:
    """Who inspected, as this viewer may see it ("神秘人" for a covert visit)."""
    if not sees_identity(viewer, inspection):
        return MYSTERY_LABEL  # in Chinese, as the PDFs are; the API says it in the viewer's
    if inspection.team is not None:
        return inspection.team.name
    person = inspection.submitted_by or inspection.assignee
    return person.display_name if person is not None else ""


def _photos_by_key(items: list[RectificationItem]) -> tuple[dict, dict]:
    """Before-photos by (inspection, item code) and the evidence of each item's fix by item
    id (:func:`~inspect_app.rectification.operations.fix_evidence`: the photos sent with the
    latest fix; never those only uploaded, nor those of a fix sent back), in two queries."""
    before: dict[tuple[int, str], list[Photo]] = {}
    after: dict[int, list[Photo]] = {}
    inspection_ids = {item.inspection_id for item in items}
    if inspection_ids:
        for photo in db.session.scalars(sa.select(Photo).where(
                Photo.inspection_id.in_(inspection_ids), Photo.purpose == PhotoPurpose.before)
                .order_by(Photo.id)):
            before.setdefault((photo.inspection_id, photo.item_code), []).append(photo)
    item_ids = [item.id for item in items]
    if item_ids:
        for photo in db.session.scalars(sa.select(Photo).where(
                Photo.rectification_item_id.in_(item_ids)).order_by(Photo.id)):
            after.setdefault(photo.rectification_item_id, []).append(photo)
        after = {item.id: fix_evidence(item, after.get(item.id, [])) for item in items}
    return before, after


def latest_appeals(finding_ids) -> dict[int, Appeal]:
    """The latest appeal against each of these findings, by finding id, in one query: for a
    report's findings that have no item (an item's own is ``RectificationItem.latest_appeal``)."""
    latest: dict[int, Appeal] = {}
    ids = {i for i in finding_ids if i is not None}
    if ids:
        for appeal in db.session.scalars(sa.select(Appeal).where(
                Appeal.finding_id.in_(ids)).order_by(Appeal.id)):
            latest[appeal.finding_id] = appeal
    return latest


def appeal_line(appeal: Appeal | None) -> str:
    """Where an appeal stands, as the item page says it: "申诉处理中", "申诉未成立，维持原结论 ·
    处理意见：……", "申诉成立，已撤销 · 处理意见：……"; "" without an appeal. Chinese, as the
    PDFs are."""
    if appeal is None:
        return ""
    line = APPEAL_LABELS[appeal.status]
    if appeal.decision_note:
        line += f" · 处理意见：{appeal.decision_note}"
    return line


def _photo(photo: Photo) -> dict[str, str]:
    return {"key": photo.thumb_key, "sha256": photo.sha256}


def _state_label(item: RectificationItem) -> str:
    if item.state is RectificationState.closed and item.closed_reason is not None \
            and item.closed_reason is not ClosedReason.accepted:
        return f"已关闭（{item.closed_reason.label}）"
    if item.state is RectificationState.open and item.rejections:
        return "已退回，待整改"
    return item.state.label


def _fix_dates(item: RectificationItem) -> str:
    """When the outlet submitted its fix and when it was accepted, as the bank's dates."""
    said = []
    if item.fix_submitted_at is not None:
        said.append(f"提交 {local_date(item.fix_submitted_at)}")
    accepted = item.state is RectificationState.accepted or \
        item.closed_reason is ClosedReason.accepted
    if accepted and item.decided_at is not None:
        said.append(f"验收 {local_date(item.decided_at)}")
    return " · ".join(said)


def finished_late(item: RectificationItem) -> bool:
    """The fix came after the deadline (逾期完成): no longer owed, but not on time either.
    Never an item withdrawn (appeal granted, or the inspector's correction): nothing was owed."""
    if item.closed_reason is not None and item.closed_reason.cancels_finding:
        return False
    return item.fix_submitted_at is not None and item.state is not RectificationState.open \
        and local_date(item.fix_submitted_at) > item.deadline


def item_context(item: RectificationItem, number: int, *, viewer: User, audience: str,
                 today: date, before: list[Photo], after: list[Photo]) -> dict[str, Any]:
    """One row of a list or report (the ``ITEM`` shape of :mod:`inspect_app.reports.pdf`),
    with the item's latest appeal (``RectificationItem.latest_appeal``), as the item page says."""
    inspection = item.inspection
    flags: list[str] = []
    if audience == "reviewer":
        for photo in before + after:
            for flag in photo.flags:
                label = FLAG_LABELS.get(flag["code"], flag["code"])
                if label not in flags:
                    flags.append(label)
    return {
        "number": number, "item_code": item.item_code, "item_text": item.item_text,
        "standard": item.standard, "section": item.section,
        "finding_note": item.finding_note or "", "severity": item.severity_label,
        "appeal": appeal_line(item.latest_appeal), "deadline": item.deadline.isoformat(), "state": _state_label(item),
        "overdue": item.is_overdue(today), "late": finished_late(item),
        "fix_dates": _fix_dates(item),
        "responsible": item.responsible.display_name if item.responsible else "",
        "mode": inspection.mode.label,
        "inspection_date": (local_date(inspection.submitted_at) or today).isoformat(),
        "inspector": inspector_label(inspection, viewer),
        "before_photos": [_photo(p) for p in before], "after_photos": [_photo(p) for p in after],
        "evidence_flags": flags,
        "fixed_on_spot": item.closed_reason is ClosedReason.fixed_on_spot,
    }


def audience_for(viewer: User, unit: OrgUnit) -> str:
    """Reviewer copies for service managers only; everyone else gets the outlet-facing copy."""
    return "reviewer" if viewer.can(Permission.inspections_review, unit) else "outlet"


def _summary(items: list[RectificationItem], today: date) -> dict[str, int]:
    """Items by state. Those withdrawn (appeal upheld, or the inspector's correction) are
    counted apart: they were no problem after all, so neither in the total nor as closed."""
    summary = {state.value: 0 for state in RectificationState}
    cancelled = [i for i in items if i.closed_reason is not None
                 and i.closed_reason.cancels_finding]
    for item in items:
        summary[item.state.value] += 1
    summary["closed"] -= len(cancelled)
    summary["cancelled"] = len(cancelled)
    summary["total"] = len(items) - len(cancelled)
    summary["overdue"] = sum(item.is_overdue(today) for item in items)
    summary["late"] = sum(finished_late(item) for item in items)
    return summary


def list_context(items: list[RectificationItem], *, viewer: User, audience: str,
                 scope_label: str, period_label: str | None = None,
                 campaign_label: str | None = None) -> dict[str, Any]:
    """The ``rectification_list.html`` context: grouped by outlet, sorted by deadline."""
    today = local_today()
    before, after = _photos_by_key(items)
    by_outlet: dict[int, list[RectificationItem]] = {}
    for item in items:
        by_outlet.setdefault(item.outlet_id, []).append(item)
    outlets, number = [], 0
    for outlet_items in sorted(by_outlet.values(), key=lambda its: its[0].outlet.code):
        outlet = outlet_items[0].outlet
        rows = []
        for item in sorted(outlet_items, key=lambda i: (i.deadline, i.id)):
            number += 1
            rows.append(item_context(
                item, number, viewer=viewer, audience=audience, today=today,
                before=before.get((item.inspection_id, item.item_code), []),
                after=after.get(item.id, [])))
        outlets.append({"code": outlet.code, "name": outlet.name,
                        "subbranch": outlet.parent.name if outlet.parent else "",
                        "items": rows})
    return {"title": "整改清单", "scope_label": scope_label, "audience": audience,
            "generated_at": _now_label(), "period_label": period_label,
            "campaign_label": campaign_label, "summary": _summary(items, today),
            "outlets": outlets, "signature": True}


def _safe(text: str) -> str:
    """``text`` fit for a file name, in a header or a ZIP: no separators, spaces or control
    characters."""
    return re.sub(r'[\\/:*?"<>|\s\x00-\x1f\x7f]+', "_", text).strip("_")


# -- the documents ----------------------------------------------------------------------------


def inspection_list(inspection: Inspection, viewer: User) -> Document:
    """整改清单 for one inspection (the caller has checked the viewer may read it)."""
    items = list(db.session.scalars(visible_items(viewer).where(
        RectificationItem.inspection_id == inspection.id).options(*ITEM_LOADS)))
    day = (local_date(inspection.submitted_at) or local_today()).isoformat()
    outlet = inspection.outlet
    context = list_context(items, viewer=viewer, audience=audience_for(viewer, outlet),
                           scope_label=f"{outlet.name} · {inspection.mode.label} · {day}")
    return Document("rectification_list.html", context,
                    f"整改清单_{_safe(outlet.name)}_{day}.pdf")


def parse_period(period: str) -> tuple[date, date]:
    """``2026-11`` → the first and last day of that month."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period or "")
    if not match or not 1 <= int(match[2]) <= 12 \
            or not EARLIEST.year <= int(match[1]) <= LATEST.year:
        raise InvalidInput(N_("期间格式应为 YYYY-MM，例如 2026-11"), code="invalid_period")
    year, month = int(match[1]), int(match[2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def earlier_owed(items: list[RectificationItem], today: date) -> dict[str, Any]:
    """The items found before a list's period and still owed (open, or fixed and awaiting
    acceptance), overdue first: a monthly list carries them, so no month's list says "nothing
    to fix" while earlier findings are still open. Counted as the 整改清单 page counts them
    (:func:`~inspect_app.rectification.operations.list_figures`: ``earlier``, ``overdue``)."""
    ordered = sorted(items, key=lambda i: (not i.is_overdue(today), i.deadline,
                                           i.outlet.code, i.id))
    rows = []
    for number, item in enumerate(ordered, start=1):
        found = local_date(item.inspection.submitted_at)
        rows.append({
            "number": number, "outlet": item.outlet.name, "outlet_code": item.outlet.code,
            "item_code": item.item_code, "item_text": item.item_text,
            "severity": item.severity_label, "mode": item.inspection.mode.label,
            "found_month": f"{found:%Y-%m}" if found else "",
            "deadline": item.deadline.isoformat(), "state": _state_label(item),
            "overdue": item.is_overdue(today),
            "responsible": item.responsible.display_name if item.responsible else ""})
    return {"items": rows, "total": len(rows),
            "overdue": sum(row["overdue"] for row in rows)}


def subbranch_list(subbranch: OrgUnit, viewer: User, start: date, end: date, *,
                   audience: str | None = None) -> Document:
    """整改清单 of one sub-branch for the items found between ``start`` and ``end``, followed by
    those found earlier and still owed (:func:`earlier_owed`).

    ``audience`` forces a copy (bulk exports are always outlet-facing: they are handed out)."""
    today = local_today()
    audience = audience or audience_for(viewer, subbranch)
    visible = visible_items(viewer).options(*ITEM_LOADS)
    if audience == "outlet":  # held back from the outlet side while returned for correction
        visible = visible.where(Inspection.status.in_(RESULT_VISIBLE))
    query = filtered(visible, {"subbranch_id": subbranch.id, "found_from": start,
                               "found_to": end}, today)
    items = list(db.session.scalars(query))
    owed = list(db.session.scalars(filtered(visible, {
        "subbranch_id": subbranch.id, "found_to": start - timedelta(days=1),
        "state": list(UNFINISHED)}, today)))
    month = f"{start:%Y年%m月}" if start.day == 1 and (end.month, end.year) == (
        start.month, start.year) else f"{start} 至 {end}"
    context = list_context(items, viewer=viewer, audience=audience,
                           scope_label=f"{subbranch.name} · {month}",
                           period_label=f"{start} 至 {end}")
    context["earlier"] = earlier_owed(owed, today)
    context["summary"]["earlier"] = context["earlier"]["total"]
    context["summary"]["earlier_overdue"] = context["earlier"]["overdue"]
    return Document("rectification_list.html", context,
                    f"整改清单_{_safe(subbranch.name)}_{start:%Y-%m-%d}_{end:%Y-%m-%d}.pdf")


def campaign_list(campaign: Campaign, viewer: User, subbranch: OrgUnit | None) -> Document:
    """整改清单 of a campaign (every outlet the viewer may see, or one sub-branch's)."""
    args: dict[str, Any] = {"campaign_id": campaign.id}
    if subbranch is not None:
        args["subbranch_id"] = subbranch.id
    items = list(db.session.scalars(filtered(visible_items(viewer), args, local_today())
                                    .options(*ITEM_LOADS)))
    scope = subbranch.name if subbranch is not None else campaign.scope_unit.name
    unit = subbranch or campaign.scope_unit
    context = list_context(items, viewer=viewer, audience=audience_for(viewer, unit),
                           scope_label=f"{scope} · {campaign.name}",
                           period_label=f"{campaign.period_start} 至 {campaign.period_end}",
                           campaign_label=campaign.name)
    return Document("rectification_list.html", context,
                    f"整改清单_{_safe(campaign.name)}_{_safe(scope)}.pdf")


def raw_score_note(applied: dict[str, Any] | None) -> str | None:
    """"原始得分 92.00，触发红线封顶 59" when the red-line rule changed the total (the score
    detail's ``red_line_applied``); None when it left the total as it was."""
    if not applied or applied.get("total_before") is None \
            or applied["total_before"] == applied.get("total_after"):
        return None
    raw = f"{applied['total_before']:.2f}"
    if applied.get("mode") == "fail":
        return f"原始得分 {raw}，触发红线判定不合格（0 分）"
    return f"原始得分 {raw}，触发红线封顶 {applied.get('cap'):g}"


def visit_record(inspection: Inspection, viewer: User, audience: str) -> dict[str, Any] | None:
    """A mystery visit's scenario and timed events (the ``visit`` of the inspection report),
    for a reviewer's copy that may know the shopper; None for any other copy or mode — an
    outlet-facing copy never prints a time of the visit."""
    if inspection.mode is not Mode.mystery_visit or audience != "reviewer" \
            or not sees_identity(viewer, inspection):
        return None
    rows = visit_timeline(inspection.events or {}, timezone())
    return {"scenario": inspection.scenario or "", "day": rows[0]["date"] if rows else "",
            "events": rows}


def inspection_report(inspection: Inspection, viewer: User) -> Document:
    """检查报告 of one submitted inspection: scores by section, grade, every finding."""
    outlet = inspection.outlet
    audience = audience_for(viewer, outlet)
    today = local_today()
    items = {item.item_code: item for item in db.session.scalars(
        sa.select(RectificationItem).where(RectificationItem.inspection_id == inspection.id)
        .options(*ITEM_LOADS))}
    before, after = _photos_by_key(list(items.values()))
    appeals = latest_appeals(finding.id for finding in inspection.findings)
    score = inspection.current_score
    detail = score.detail if score is not None else {}
    names = {s.code: s.name for s in inspection.checklist.sections}
    sections = [{"code": s["section"], "name": names.get(s["section"], s["section"]),
                 "earned": s["earned"], "possible": s["possible"], "percent": s["percent"],
                 "weight": s.get("weight")}
                for s in detail.get("sections", [])]
    red_lines = detail.get("red_line_failures") or []
    findings = []
    for number, finding in enumerate(inspection.findings, start=1):
        item = items.get(finding.item_code)
        if item is not None:
            row = item_context(item, number, viewer=viewer, audience=audience, today=today,
                               before=before.get((inspection.id, item.item_code), []),
                               after=after.get(item.id, []))
        else:  # e.g. overturned on appeal before any item existed
            row = {"number": number, "item_code": finding.item_code,
                   "item_text": finding.item_text, "standard": "", "section": "",
                   "finding_note": finding.note or "",
                   "severity": SEVERITY_LABELS.get(finding.severity, finding.severity),
                   "appeal": appeal_line(appeals.get(finding.id)),
                   "deadline": "", "state": finding.status.label, "overdue": False,
                   "responsible": "", "mode": inspection.mode.label, "inspection_date": "",
                   "inspector": inspector_label(inspection, viewer), "before_photos": [],
                   "after_photos": [], "evidence_flags": [],
                   "fixed_on_spot": finding.fixed_on_spot}
        findings.append(row)
    day = (local_date(inspection.submitted_at) or today).isoformat()
    context = {
        "title": "检查报告", "audience": audience,
        "outlet": {"code": outlet.code, "name": outlet.name,
                   "subbranch": outlet.parent.name if outlet.parent else ""},
        "mode": inspection.mode.label, "date": day,
        "inspector": inspector_label(inspection, viewer),
        "checklist": {"name": inspection.checklist.name,
                      "version": inspection.checklist.version},
        "score": {"total": float(score.total) if score and score.total is not None else "—",
                  "grade": (score.grade if score else None) or "—",
                  "red_line_failed": inspection.red_line_failed,
                  "red_line_note": "、".join(red_lines) if red_lines else None,
                  "raw_note": raw_score_note(detail.get("red_line_applied")),
                  "weighted": any(s["weight"] is not None for s in sections),
                  "sections": sections},
        "findings": findings, "generated_at": _now_label(), "signature": True,
        "visit": visit_record(inspection, viewer, audience),
    }
    return Document("inspection_report.html", context,
                    f"检查报告_{_safe(outlet.name)}_{day}.pdf")


# -- bulk: every sub-branch's list for a period, as one ZIP ----------------------------------


def subbranches_in_scope(viewer: User) -> list[OrgUnit]:
    """Active sub-branches under the units where the viewer may plan (service managers)."""
    paths = viewer.scope_paths(Permission.campaigns_manage)
    if not paths:
        return []
    return list(db.session.scalars(sa.select(OrgUnit).where(
        OrgUnit.kind == OrgKind.subbranch, OrgUnit.is_active.is_(True),
        sa.or_(*[OrgUnit.path.startswith(p) for p in paths])).order_by(OrgUnit.code)))


def export_lists(viewer: User, period: str,
                 progress: Callable[[int, int], None] | None = None) -> tuple[bytes, str]:
    """One PDF per sub-branch for ``period`` (YYYY-MM), zipped. Returns (bytes, filename).

    The copies are outlet-facing (no evidence flags, no mystery shopper), since the point of
    the bulk export is to hand each sub-branch its list."""
    start, end = parse_period(period)
    subbranches = subbranches_in_scope(viewer)
    if not subbranches:
        raise NotFound(N_("没有可导出的支行"), code="no_subbranches")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, subbranch in enumerate(subbranches):
            if progress is not None:
                progress(done, len(subbranches))
            document = subbranch_list(subbranch, viewer, start, end, audience="outlet")
            info = zipfile.ZipInfo(document.filename, date_time=(start.year, start.month,
                                                                 1, 0, 0, 0))
            archive.writestr(info, document.render())  # PDFs are compressed already
        if progress is not None:
            progress(len(subbranches), len(subbranches))
    return buffer.getvalue(), f"整改清单_{start:%Y-%m}_全部支行.zip"


def export_lists_job(params: dict[str, Any], *, progress: Callable[[int, int], None],
                     by: User) -> tuple[bytes, str, str]:
    """The ``rectification_lists_zip`` job of :mod:`inspect_app.reports.jobs`."""
    data, name = export_lists(by, params["period"], progress)
    return data, name, "application/zip"
