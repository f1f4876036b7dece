"""整改台账: the rectification items a reader may see, with the list's filters, as a workbook.

The rows are the API's own (:class:`~.schemas.RectificationItemSchema`), so the workbook says
no more than ``GET /api/v1/rectification/items`` does: a mystery visit's inspector is 神秘人 and
its moments are days for whoever may not know the shopper. A ledger gives days to everyone
(bank time). Text is stored as text: a finding's note that starts with ``=`` stays words, never
a formula. In the reader's language, as the rankings' and bulletins' workbooks.
"""
from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, gettext
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..api.workbooks import append_row
from ..auth.models import User
from ..i18n import N_
from ..inspections.schemas import dates_only
from .models import RectificationItem
from .schemas import RectificationItemSchema

#: The most rows one export holds; more is refused, asking for a narrower choice.
MAX_ROWS = 20_000

#: What the rows are made of (the fields of the API's item that the ledger shows).
FIELDS = ("id", "subbranch", "outlet", "mode_label", "inspection_date", "inspector",
          "item_code", "item_text", "finding_note", "severity_label", "red_line",
          "state_label", "overdue", "deadline", "responsible", "fix_submitted_at", "rejections",
          "decided_at", "closed_at", "closed_reason_label", "appeal")

#: Each column: its heading, its width, and how a row's value is read from the API's item.
COLUMNS: tuple[tuple[str, int, Any], ...] = (
    (N_("编号"), 8, lambda r: r["id"]),
    (N_("支行"), 16, lambda r: r["subbranch"]["name"]),
    (N_("网点编码"), 12, lambda r: r["outlet"]["code"]),
    (N_("网点"), 20, lambda r: r["outlet"]["name"]),
    (N_("检查方式"), 10, lambda r: r["mode_label"]),
    (N_("检查日期"), 12, lambda r: r["inspection_date"]),
    (N_("检查人"), 14, lambda r: r["inspector"]),
    (N_("检查项编码"), 11, lambda r: r["item_code"]),
    (N_("检查项"), 40, lambda r: r["item_text"]),
    (N_("问题描述"), 40, lambda r: r["finding_note"]),
    (N_("严重程度"), 9, lambda r: r["severity_label"]),
    (N_("红线"), 6, lambda r: _yes(r["red_line"])),
    (N_("状态"), 9, lambda r: r["state_label"]),
    (N_("逾期"), 6, lambda r: _yes(r["overdue"])),
    (N_("整改期限"), 12, lambda r: r["deadline"]),
    (N_("责任人"), 12, lambda r: (r["responsible"] or {}).get("display_name")),
    (N_("提交整改日期"), 12, lambda r: r["fix_submitted_at"]),
    (N_("退回次数"), 8, lambda r: r["rejections"]),
    (N_("审核日期"), 12, lambda r: r["decided_at"]),
    (N_("关闭日期"), 12, lambda r: r["closed_at"]),
    (N_("关闭原因"), 16, lambda r: r["closed_reason_label"]),
    (N_("申诉"), 18, lambda r: (r["appeal"] or {}).get("status_label")),
)


def _yes(value: bool) -> str:
    return gettext("是") if value else ""


def ledger_xlsx(items: list[RectificationItem], viewer: User, *, args: dict[str, Any],
                now: datetime) -> bytes:
    """``items`` (in the order given, chosen by the list's filters ``args``) as a workbook: a
    概况 sheet (who exported it, when, with which filters, how many items and how many overdue)
    and the 整改台账 sheet, one row each."""
    rows = [dates_only(row) for row in
            RectificationItemSchema(many=True, only=FIELDS).dump(items)]
    filters = describe_filters(args, rows)
    workbook = Workbook()
    about = workbook.active
    about.title = gettext("概况")
    for label, value in ((gettext("整改台账"), gettext("导出时间：%(at)s", at=format_datetime(
                              now, "yyyy-MM-dd HH:mm"))),
                         (gettext("导出人"), viewer.display_name),
                         (gettext("筛选条件"), "；".join(filters) or gettext("全部")),
                         (gettext("整改项合计"), len(rows)),
                         (gettext("其中逾期"), sum(1 for row in rows if row["overdue"]))):
        append_row(about, [label, value])
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 14, 60
    sheet = workbook.create_sheet(gettext("整改台账"))
    append_row(sheet, [gettext(heading) for heading, _width, _read in COLUMNS])
    for index, (_heading, width, _read) in enumerate(COLUMNS, start=1):
        sheet.cell(row=1, column=index).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in rows:
        append_row(sheet, [read(row) for _heading, _width, read in COLUMNS])
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def describe_filters(args: dict[str, Any], rows: list[dict[str, Any]]) -> list[str]:
    """The list filters of an export in words, for its 概况 sheet: what the ledger holds.

    A unit, person or campaign filtered on is named from the exported ``rows`` (each of them
    matches it), so an id the reader may not see — a mystery shopper's, another branch's
    unit — is never turned into a name: with no rows it stays a number."""
    from ..extensions import db
    from ..i18n import translated
    from ..inspections.models import Campaign
    from .models import SEVERITY_LABELS

    def name(key: str, read) -> str:
        return (read(rows[0]) if rows else None) or f"#{args[key]}"

    said = []
    if args.get("subbranch_id") is not None:
        said.append(gettext("支行：%(name)s", name=name("subbranch_id",
                                                      lambda r: r["subbranch"]["name"])))
    if args.get("outlet_id") is not None:
        said.append(gettext("网点：%(name)s", name=name("outlet_id",
                                                      lambda r: r["outlet"]["name"])))
    if args.get("campaign_id") is not None:
        said.append(gettext("检查计划：%(name)s", name=name(
            "campaign_id", lambda r: db.session.get(Campaign, args["campaign_id"]).name)))
    if args.get("inspection_id") is not None:
        said.append(gettext("检查：%(id)s", id=args["inspection_id"]))
    if args.get("responsible_id") is not None:
        said.append(gettext("责任人：%(name)s", name=name(
            "responsible_id", lambda r: (r["responsible"] or {}).get("display_name"))))
    if args.get("found_from") or args.get("found_to"):
        said.append(gettext("检查日期：%(start)s 至 %(end)s",
                            start=args.get("found_from") or "…", end=args.get("found_to") or "…"))
    for key, label, words in (
            ("state", N_("状态"), lambda v: translated(v.label)),
            ("mode", N_("检查方式"), lambda v: translated(v.label)),
            ("severity", N_("严重程度"), lambda v: translated(SEVERITY_LABELS.get(v, v))),
            ("closed_reason", N_("关闭原因"), lambda v: translated(v.label))):
        if args.get(key):
            said.append(gettext("%(label)s：%(values)s", label=gettext(label),
                                values="、".join(words(v) for v in args[key])))
    for key, yes, no in (("overdue", N_("只含逾期"), N_("不含逾期")),
                         ("reviewable", N_("只含等我验收的"), N_("不含等我验收的")),
                         ("closable", N_("只含等我销号的"), N_("不含等我销号的"))):
        if args.get(key) is not None:
            said.append(gettext(yes if args[key] else no))
    if args.get("closed_from"):
        said.append(gettext("关闭日期自 %(day)s 起", day=args["closed_from"]))
    return said
