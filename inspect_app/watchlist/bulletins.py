"""周通报 / 月总结: the weekly bulletin and monthly summary — data, PDF and .xlsx.

One function gathers the figures (:func:`bulletin`); the page, the PDF and the workbook are
three renderings of the same dict, so they never disagree. The data speaks Chinese (the API
adds labels in the user's language); the page, the PDF and the workbook say it in the reader's
language — headings, modes, grades, periods and the list's changes — while names and item
texts stay as they are stored.
"""
from __future__ import annotations

import io
import unicodedata
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext, ngettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import orm

from ..api.workbooks import append_row
from ..auth.models import User
from ..auth.permissions import Permission
from ..extensions import db
from ..i18n import N_, current_language, local_today, month_name, translated
from ..inspections.models import RESULT_VISIBLE, Inspection, Mode
from ..orgs.models import OrgKind, OrgUnit
from . import dashboards
from .models import EVENT_LABELS, WatchlistEntry, WatchlistEvent
from .reasons import event_label, event_note

TITLES = {"week": N_("服务质量周通报"), "month": N_("服务质量月总结")}


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
    parent = orm.aliased(OrgUnit)
    events = db.session.execute(
        sa.select(WatchlistEvent.kind, WatchlistEvent.on, WatchlistEvent.note,
                  WatchlistEvent.note_data, OrgUnit.name,
                  sa.case((OrgUnit.kind == OrgKind.outlet, parent.name)))
        .join(WatchlistEntry, WatchlistEvent.entry_id == WatchlistEntry.id)
        .join(OrgUnit, WatchlistEntry.unit_id == OrgUnit.id)
        .outerjoin(parent, OrgUnit.parent_id == parent.id)
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
                      "events": [{"kind": k, "label": EVENT_LABELS.get(k, k),
                                  "on": on.isoformat(), "note": note, "note_data": data,
                                  "unit": name, "subbranch": subbranch}
                                 for k, on, note, data, name, subbranch in events]},
    }


def tied_text(tied: dict[str, int]) -> str:
    """The line under a best list that leaves out units sharing its last rank (PDF and
    workbook), in the reader's language as the page says it."""
    return ngettext("另有 %(num)s 个网点并列第 %(rank)s 名", "另有 %(num)s 个网点并列第 %(rank)s 名",
                    tied["count"], rank=tied["rank"])


def title(data: dict[str, Any]) -> str:
    """The bulletin's title in the reader's language (also its download's file name)."""
    return gettext(TITLES[data["kind"]])


def period_name(data: dict[str, Any]) -> str:
    """The bulletin's period in the reader's language, with its dates: "2026年10月（2026-10-01 至
    2026-10-31）", or a week's "2026-11-23 至 2026-11-29（第 48 周）" (the page's words,
    ``templates/manage/_period.html``)."""
    start, end = (date.fromisoformat(data["period"][k]) for k in ("start", "end"))
    if data["kind"] == "week":
        return gettext("%(start)s 至 %(end)s（第 %(week)s 周）", start=start.isoformat(),
                       end=end.isoformat(), week=start.isocalendar()[1])
    return month_name(start) + gettext("（%(start)s 至 %(end)s）", start=start.isoformat(),
                                       end=end.isoformat())


def _named(name: str, subbranch: str | None) -> str:
    """An outlet with its sub-branch (two 文化路分理处 in one branch), a sub-branch alone."""
    return gettext("%(name)s（%(parent)s）", name=name, parent=subbranch) if subbranch else name


def _changes(data: dict[str, Any]) -> list[dict[str, str]]:
    """The list's changes as the reader reads them: date, unit (an outlet with its
    sub-branch), its sub-branch, what changed (列入名单 / 原因变化 / 按规则出列 / 人工出列 …)
    and the note."""
    return [{"on": e["on"], "unit": _named(e["unit"], e["subbranch"]), "name": e["unit"],
             "subbranch": e["subbranch"] or "", "kind": event_label(e["kind"]),
             "note": event_note(e["note"], e["note_data"])}
            for e in data["watchlist"]["events"]]


def bulletin_pdf(data: dict[str, Any]) -> bytes:
    """The bulletin as a PDF in the reader's language (same WeasyPrint set-up as the
    rectification lists, which stay Chinese)."""
    from ..reports.pdf import render_pdf

    context = {**data, "title": title(data), "period_name": period_name(data),
               "changes": _changes(data), "_": gettext, "ngettext": ngettext,
               "translated": translated, "named": _named,
               "lang": "zh-CN" if current_language() == "zh" else current_language()}
    return render_pdf("bulletin.html", context, fetch_image=None)


def bulletin_xlsx(data: dict[str, Any]) -> bytes:
    """The bulletin as a workbook: one sheet per table, in the reader's language."""
    _ = gettext
    ranked = [_("名次"), _("网点"), _("支行"), _("综合得分"), _("等级")]
    workbook = Workbook()
    sheets = [(_("本网点名次"), [_("网点"), _("名次"), _("全行有得分网点数")],
               [[r["name"], r["rank"], r["of"]] for r in data["standing"]])] \
        if data["standing"] else []
    sheets += [
        (_("排名前列"), ranked,
         [[r["rank"], r["name"], r["subbranch"], r["combined"], translated(r["grade"])]
          for r in data["best"]] + ([[None, tied_text(data["tied_with_best"])]]
                                    if data["tied_with_best"] else [])),
        (_("排名靠后"), ranked,
         [[r["rank"], r["name"], r["subbranch"], r["combined"], translated(r["grade"])]
          for r in data["worst"]]),
        (_("支行排名"), [_("名次"), _("支行"), _("综合得分"), _("检查次数")],
         [[r.get("rank"), r["name"], r["combined"], r["count"]] for r in data["subbranches"]]),
        (_("失分最多项"), [_("编码"), _("检查内容"), _("失分次数"), _("涉及网点")],
         [[r["item_code"], r["item_text"], r["failures"], r["outlets"]]
          for r in data["failed_items"]]),
        (_("自查与独立检查"), [_("网点"), _("支行"), _("自查均分"), _("独立检查均分"), _("差值")],
         [[r["name"], r["subbranch"], r["self_mean"], r["independent_mean"], r["gap"]]
          for r in data["gaps"]]),
        (_("名单变化"), [_("日期"), _("单位"), _("所属支行"), _("变化"), _("说明")],
         [[e["on"], e["name"], e["subbranch"], e["kind"], e["note"]] for e in _changes(data)]),
    ]
    first = workbook.active
    first.title = _("概况")
    append_row(first, [title(data), period_name(data)])
    append_row(first, [_("期末在册名单数"), data["watchlist"]["active"]])
    for mode, count in data["inspections"].items():
        append_row(first, [_("%(mode)s次数", mode=translated(mode)), count])
    return _saved(workbook, sheets)


#: Scores in a workbook read as on the pages and in the PDF: two decimals (98.20, 100.00).
SCORE_FORMAT = "0.00"
#: The widest a column is made (a long item text wraps in Excel's cell instead).
WIDEST = 60


def _width(value: Any) -> int:
    """The width of ``value`` written in a cell, in Excel's units (a Chinese character takes
    two)."""
    text = value if isinstance(value, str) else "" if value is None else f"{value:.2f}" \
        if isinstance(value, float) else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _fit_columns(sheet) -> None:
    """Each column of ``sheet`` as wide as what it holds (so "参加排名网点数" or a period is not
    cut off by the cell beside it), up to :data:`WIDEST`; a longer text wraps in its cell."""
    for column in sheet.iter_cols():
        widest = max(_width(cell.value) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(widest + 2, WIDEST)
        for cell in column:
            if _width(cell.value) + 2 > WIDEST:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _saved(workbook: Workbook, sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """``workbook`` with one sheet per ``(title, headers, rows)`` added, as .xlsx bytes; the
    columns headed by a score's name (综合得分, 自查均分 …) show two decimals."""
    scores = {gettext("综合得分"), gettext("自查均分"), gettext("独立检查均分"), gettext("差值")}
    _fit_columns(workbook.active)
    for name, headers, rows in sheets:
        sheet = workbook.create_sheet(name[:31])  # a sheet's name holds 31 characters
        append_row(sheet, headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            append_row(sheet, row)
        sheet.freeze_panes = "A2"
        for index, header in enumerate(headers, start=1):
            if header in scores:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = SCORE_FORMAT
        _fit_columns(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ranking_period_name(period) -> str:
    """A ranking's period in the reader's language, with its dates (the page's words,
    ``templates/manage/_period.html``)."""
    start, end = period.start, period.end
    if period.kind == "week":
        return gettext("%(start)s 至 %(end)s（第 %(week)s 周）", start=start.isoformat(),
                       end=end.isoformat(), week=start.isocalendar()[1])
    name = gettext("%(year)s年第%(quarter)s季度", year=start.year,
                   quarter=(start.month - 1) // 3 + 1) if period.kind == "quarter" else \
        month_name(start)
    return name + gettext("（%(start)s 至 %(end)s）", start=start.isoformat(),
                          end=end.isoformat())


def ranking_xlsx(period, outlets: list[dict[str, Any]],
                 subbranches: list[dict[str, Any]]) -> bytes:
    """A period's full ranking as a workbook in the reader's language, like the bulletin's:
    every ranked outlet of the reader's scope, then the sub-branches (the others, for a
    sub-branch manager, by rank only)."""
    _ = gettext
    workbook = Workbook()
    first = workbook.active
    first.title = _("概况")
    append_row(first, [_("排名"), ranking_period_name(period)])
    append_row(first, [_("参加排名网点数"), len(outlets)])
    return _saved(workbook, [
        (_("网点排名"), [_("名次"), _("网点"), _("支行"), _("综合得分"), _("等级"), _("检查次数"),
                         _("自查均分"), _("独立检查均分")],
         [[r["rank"], r["name"], r["subbranch"], r["combined"], translated(r["grade"]),
           r["count"], r["self_mean"], r["independent_mean"]] for r in outlets]),
        (_("支行排名"), [_("名次"), _("支行"), _("综合得分"), _("检查次数")],
         [[r.get("rank"), r["name"], r["combined"], r["count"]] if r.get("name")
          else [r.get("rank"), _("其他支行")] for r in subbranches]),
    ])
