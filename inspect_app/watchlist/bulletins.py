"""周通报 / 月总结: the weekly bulletin and monthly summary — data, PDF and .xlsx.

One function gathers the figures (:func:`bulletin`); the page, the PDF and the workbook are
three renderings of the same dict, so they never disagree.
"""
from __future__ import annotations

import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font

from ..api.fields import CONTROL_CHARACTERS
from ..auth.models import User
from ..auth.permissions import Permission
from ..extensions import db
from ..i18n import local_today
from ..inspections.models import RESULT_VISIBLE, Inspection, Mode
from ..orgs.models import OrgUnit
from . import dashboards
from .models import EVENT_LABELS, WatchlistEntry, WatchlistEvent

TITLES = {"week": "服务质量周通报", "month": "服务质量月总结"}


def bulletin(kind: str, day: date, by: User) -> dict[str, Any]:
    """Everything the bulletin shows for the week or month containing ``day``, in ``by``'s
    scope: best and worst outlets side by side (抓两头带中间), sub-branch ranking, watch-list
    changes, most-failed items, self vs independent gaps and inspection counts."""
    period = dashboards.period_for(kind, day)
    ranking = [r for r in dashboards.outlet_ranking(period, by) if r["combined"] is not None]
    standing = dashboards.outlet_standing(period, by)
    best, worst = dashboards.ends_for(ranking, standing)
    paths = by.scope_paths(Permission.reports_read)
    start, end = period.bounds
    counts = dict(db.session.execute(
        sa.select(Inspection.mode, sa.func.count()).join(OrgUnit, Inspection.outlet_id == OrgUnit.id)
        .where(Inspection.status.in_(RESULT_VISIBLE), Inspection.submitted_at >= start,
               Inspection.submitted_at < end, sa.or_(*[OrgUnit.path.startswith(p)
                                                        for p in paths]))
        .group_by(Inspection.mode)).all())
    events = db.session.execute(
        sa.select(WatchlistEvent.kind, WatchlistEvent.on, WatchlistEvent.note,
                  WatchlistEvent.note_data, OrgUnit.name)
        .join(WatchlistEntry, WatchlistEvent.entry_id == WatchlistEntry.id)
        .join(OrgUnit, WatchlistEntry.unit_id == OrgUnit.id)
        .where(WatchlistEvent.on >= period.start, WatchlistEvent.on <= period.end,
               sa.or_(*[OrgUnit.path.startswith(p) for p in paths]))
        .order_by(WatchlistEvent.on, WatchlistEvent.id)).all()
    # on the list on the period's last day (today, for the period still running): a past
    # bulletin counts what was listed then, not what is listed now
    last_day = min(period.end, local_today())
    active = db.session.scalar(
        sa.select(sa.func.count()).select_from(WatchlistEntry)
        .join(OrgUnit, WatchlistEntry.unit_id == OrgUnit.id)
        .where(WatchlistEntry.entered_on <= last_day,
               sa.or_(WatchlistEntry.exited_on.is_(None), WatchlistEntry.exited_on > last_day),
               sa.or_(*[OrgUnit.path.startswith(p) for p in paths])))
    return {
        "kind": kind, "title": TITLES[kind], "audience": "reviewer",
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(),
                   "label": period.label},
        # in the programme's order (自查, 互查, 抽查, 暗访), whatever order the database
        # answered in
        "inspections": {mode.label: counts[key] for mode in Mode
                        for key in (mode, mode.value) if key in counts},
        "best": best, "worst": worst, "standing": standing,
        "tied_with_best": dashboards.tied_with_best(ranking, best),
        "benchmarks": [r for r in ranking if r["is_benchmark"]],
        "subbranches": [r for r in dashboards.subbranch_ranking(period, by)
                        if r.get("name")],
        "failed_items": dashboards.most_failed_items(period, by, limit=10),
        "gaps": [r for r in dashboards.mode_comparison(period, by) if r["gap"] > 0][:5],
        "watchlist": {"active": active,
                      "events": [{"kind": k, "on": on.isoformat(), "note": note,
                                  "note_data": data, "unit": name}
                                 for k, on, note, data, name in events]},
    }


def tied_text(tied: dict[str, int]) -> str:
    """The Chinese line under a best list that leaves out units sharing its last rank (PDF
    and workbook; the page says it in the reader's language)."""
    return f"另有 {tied['count']} 个网点并列第 {tied['rank']} 名"


def bulletin_pdf(data: dict[str, Any]) -> bytes:
    """The bulletin as a Chinese PDF (same WeasyPrint set-up as the rectification lists)."""
    from ..reports.pdf import render_pdf

    return render_pdf("bulletin.html", data, fetch_image=None)


def _cell(value: Any) -> Any:
    """A value a worksheet can hold: text loses control characters (openpyxl refuses them;
    names stored before the API refused them may hold some)."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def bulletin_xlsx(data: dict[str, Any]) -> bytes:
    """The bulletin as a workbook: one sheet per table, Chinese headers."""
    workbook = Workbook()
    sheets = [("本网点名次", ["网点", "名次", "全行有得分网点数"],
               [[r["name"], r["rank"], r["of"]] for r in data["standing"]])] \
        if data["standing"] else []
    sheets += [
        ("排名前列", ["名次", "网点", "支行", "综合得分", "等级"],
         [[r["rank"], r["name"], r["subbranch"], r["combined"], r["grade"]]
          for r in data["best"]] + ([[None, tied_text(data["tied_with_best"])]]
                                    if data["tied_with_best"] else [])),
        ("排名靠后", ["名次", "网点", "支行", "综合得分", "等级"],
         [[r["rank"], r["name"], r["subbranch"], r["combined"], r["grade"]]
          for r in data["worst"]]),
        ("支行排名", ["名次", "支行", "综合得分", "检查次数"],
         [[r.get("rank"), r["name"], r["combined"], r["count"]] for r in data["subbranches"]]),
        ("失分最多项", ["编码", "检查内容", "失分次数", "涉及网点"],
         [[r["item_code"], r["item_text"], r["failures"], r["outlets"]]
          for r in data["failed_items"]]),
        ("自查与独立检查", ["网点", "自查均分", "独立检查均分", "差值"],
         [[r["name"], r["self_mean"], r["independent_mean"], r["gap"]] for r in data["gaps"]]),
        ("名单变化", ["日期", "单位", "变化", "说明"],
         [[e["on"], e["unit"], EVENT_LABELS.get(e["kind"], e["kind"]), e["note"]]
          for e in data["watchlist"]["events"]]),
    ]
    first = workbook.active
    first.title = "概况"
    first.append([data["title"], data["period"]["label"]])
    first.append(["期末在册名单数", data["watchlist"]["active"]])
    for mode, count in data["inspections"].items():
        first.append([f"{mode}次数", count])
    return _saved(workbook, sheets)


def _saved(workbook: Workbook, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """``workbook`` with one sheet per ``(title, headers, rows)`` added, as .xlsx bytes."""
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
        sheet.freeze_panes = "A2"
        for column, width in zip("ABCDEFGH", (10, 36, 14, 12, 40, 12, 12, 12)):
            sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ranking_xlsx(label: str, outlets: list[dict[str, Any]],
                 subbranches: list[dict[str, Any]]) -> bytes:
    """A period's full ranking as a workbook, Chinese headers like the bulletin's: every
    ranked outlet of the reader's scope, then the sub-branches (the others, for a sub-branch
    manager, by rank only)."""
    workbook = Workbook()
    first = workbook.active
    first.title = "概况"
    first.append(["排名", label])
    first.append(["参加排名网点数", len(outlets)])
    return _saved(workbook, [
        ("网点排名", ["名次", "网点", "支行", "综合得分", "等级", "检查次数", "自查均分",
                      "独立检查均分"],
         [[r["rank"], r["name"], r["subbranch"], r["combined"], r["grade"], r["count"],
           r["self_mean"], r["independent_mean"]] for r in outlets]),
        ("支行排名", ["名次", "支行", "综合得分", "检查次数"],
         [[r.get("rank"), r["name"], r["combined"], r["count"]] if r.get("name")
          else [r.get("rank"), "其他支行"] for r in subbranches]),
    ])
