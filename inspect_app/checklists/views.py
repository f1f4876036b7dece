"""Service managers' pages for the standards (检查标准): every version, spreadsheet export and
import, what a draft changes against the version it came from, publish and retire.

Thin views over :mod:`.operations` — the API (:mod:`.api`) does the same for programs. Forms are
checked by schemas; a refusal shows the page again with the reason (and, for a spreadsheet,
every problem with its sheet, row and column), and nothing is written.
"""
from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext
from marshmallow import fields, validate

from ..api.fields import Id
from ..auth.permissions import Permission
from ..auth.session import pages_need
from ..errors import DomainError
from ..extensions import db
from ..forms import PageForm
from ..i18n import local_date, say, translated
from ..scoring.types import RESPONSE_TYPES
from .changes import RuleChange, compare
from .models import Checklist, ChecklistStatus
from .operations import get_checklist, import_document, publish, retire, visible_checklists
from .spreadsheet import ChecklistImportError, ImportProblem, format_config, import_xlsx
from .validation import FIELD_LABELS, MODE_LABELS, MODES, PHOTO_RULE_LABELS, SEVERITY_LABELS

bp = Blueprint("standards", __name__, url_prefix="/manage/standards")
pages_need(bp, Permission.checklists_manage)


class ImportPageSchema(PageForm):
    base_id = Id(load_default=None)
    name = fields.String(load_default=None, validate=validate.Length(max=200))
    #: the "替换现有草稿" tick: without it, a standard's draft is never overwritten
    replace_draft = fields.Boolean(load_default=False)


class ConfirmSchema(PageForm):
    confirm = fields.String(required=True, validate=validate.Equal("yes"))


def _standards() -> list[list[Checklist]]:
    """Every standard's versions, newest first; standards in the order of their first version."""
    grouped: dict[str, list[Checklist]] = {}
    for checklist in db.session.scalars(visible_checklists(g.user)):
        grouped.setdefault(checklist.key, []).append(checklist)
    return sorted(grouped.values(), key=lambda versions: versions[-1].id)


def _index(*, error: str | None = None, problems=(), draft_id: int | None = None,
           status: int = 200):
    return render_template("manage/standards.html", standards=_standards(), error=error,
                           problems=[_where(p) for p in problems], draft_id=draft_id), status


def _where(problem: ImportProblem) -> str:
    """A workbook problem in the page's language: "工作表“检查项”第 3 行“分值”列：…"."""
    where = gettext("工作表“%(sheet)s”", sheet=problem.sheet)
    if problem.row is not None:
        where += gettext("第 %(row)s 行", row=problem.row)
    if problem.column:
        where += gettext("“%(column)s”列", column=problem.column)  # as headed in the file
    return gettext("%(where)s：%(message)s", where=where, message=say(problem.message))


@bp.get("")
def index():
    """Every standard with its versions, and the spreadsheet import."""
    return _index()


@bp.post("/import")
def import_file():
    """An edited workbook becomes a draft: the next version of a standard, or a new standard.
    A standard that has a draft keeps it unless 替换现有草稿 is ticked."""
    try:
        form = ImportPageSchema().load(request.form)
    except ma.ValidationError:
        return _index(error=gettext("请选择导入为哪个检查表"), status=422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _index(error=gettext("请选择要导入的 .xlsx 文件"), status=422)
    try:
        base = get_checklist(form["base_id"], g.user) if form["base_id"] else None
        document = import_xlsx(upload.read(), name=form["name"])
        checklist = import_document(document, base=base, by=g.user,
                                    replace_draft=form["replace_draft"])
        db.session.commit()
    except ChecklistImportError as exc:
        db.session.rollback()
        return _index(error=say(exc.message), problems=exc.problems, status=exc.status)
    except DomainError as exc:
        db.session.rollback()
        draft_id = (exc.details or {}).get("draft_id") if isinstance(exc.details, dict) else None
        return _index(error=say(exc.message), draft_id=draft_id, status=exc.status)
    return redirect(url_for(".version", checklist_id=checklist.id))


@bp.get("/import")
def import_address():
    """The import's address opened as a page (a refused import reloaded or reopened): the
    standards page, at its import form."""
    return redirect(url_for(".index", _anchor="import"), code=303)


def _previous(checklist: Checklist) -> Checklist | None:
    """The version a version is compared with: the one it was made from, else the one before."""
    if checklist.based_on_id is not None:
        return db.session.get(Checklist, checklist.based_on_id)
    return db.session.scalar(
        sa.select(Checklist).where(Checklist.key == checklist.key,
                                   Checklist.version < checklist.version)
        .order_by(Checklist.version.desc()).limit(1))


def field_label(name: str) -> str:
    """An item field's name (the spreadsheet's column header) in the page's language."""
    return gettext(FIELD_LABELS[name])


def shown(name: str, value: Any) -> str:
    """An item field's value as people read it: the spreadsheet's words, in the page's language."""
    if value is None or value == "" or value == {}:
        return "—"
    if name == "modes":
        return gettext("、").join(gettext(MODE_LABELS.get(mode, mode)) for mode in value)
    if name == "photo_rule":
        return gettext(PHOTO_RULE_LABELS.get(value, value))
    if name == "severity":
        return gettext(SEVERITY_LABELS.get(value, value))
    if name == "red_line":
        return gettext("是") if value else gettext("否")
    if name == "response_type":
        kind = RESPONSE_TYPES.get(value)
        return gettext(kind.label_zh) if kind is not None else value
    if name == "config":
        return format_config(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> str:
    """90 rather than 90.0; 12.5 as it is."""
    return f"{float(value):g}"


def _band(band: dict[str, Any], *, lowest_below: Any = None) -> str:
    """"优秀 90 分及以上"; the lowest band (from 0) as "不合格 低于 60 分" when ``lowest_below``
    is the next band's minimum."""
    label = translated(band["label"])
    if lowest_below is not None:
        return gettext("%(label)s 低于 %(min)s 分", label=label, min=_number(lowest_below))
    return gettext("%(label)s %(min)s 分及以上", label=label, min=_number(band["min"]))


def _red_line(rule: dict[str, Any]) -> str:
    if rule.get("mode") == "fail":
        return gettext("判定不合格（0 分）")
    return gettext("封顶 %(cap)s 分", cap=_number(rule.get("cap")))


def rules_shown(checklist: Checklist) -> dict[str, Any]:
    """The version's scoring rules as the page says them: grade bands (highest first), what a
    failed red-line item does, the modes' weights in a period score, how the total is made."""
    rules = checklist.scoring_rules or {}
    weights = rules.get("mode_weights") or {}
    bands = sorted(rules.get("grade_bands") or [], key=lambda b: -float(b["min"]))
    shown_bands = [_band(band, lowest_below=bands[index - 1]["min"]
                         if index and not float(band["min"]) else None)
                   for index, band in enumerate(bands)]
    return {
        "bands": shown_bands,
        "red_line": _red_line(rules.get("red_line") or {}),
        # in the modes' own order: a JSON column need not keep the keys' order
        "mode_weights": [(gettext(MODE_LABELS[mode]), _number(weights[mode]))
                         for mode in MODES if mode in weights],
        "version": rules.get("version"),
        "section_weights": checklist.section_weights(),
    }


def rule_change(change: RuleChange) -> tuple[str, str, str]:
    """A rule change as (what, before, after), in the page's language; "—" for nothing."""
    if change.kind == "grade_band":
        band = lambda b: "—" if b is None else _band(b)  # noqa: E731
        return gettext("等级"), band(change.old), band(change.new)
    if change.kind == "red_line":
        return gettext("红线项（一票否决）"), _red_line(change.old), _red_line(change.new)
    if change.kind == "mode_weight":
        value = lambda w: "—" if w is None else _number(w)  # noqa: E731
        return (gettext("%(mode)s权重", mode=gettext(MODE_LABELS.get(change.key, change.key))),
                value(change.old), value(change.new))
    return gettext("评分规则版本"), change.old or "—", change.new or "—"


def type_shown(item) -> str:
    """An item's response type as its page says it: a scale with its own top (0–5 分档评分)
    rather than the type's generic name (0–N)."""
    if item.response_type == "scale":
        top = RESPONSE_TYPES["scale"].resolve_config(item.config or {}).get("max")
        if top is not None:
            return gettext("0–%(max)s 分档评分", max=top)
    return shown("response_type", item.response_type)


def section_field_label(name: str) -> str:
    """A section field's name (the 分区 sheet's column header) in the page's language."""
    return {"code": gettext("编码"), "name": gettext("名称"),
            "weight": gettext("权重")}.get(name, name)


def _version_page(checklist: Checklist, *, error: str | None = None, status: int = 200):
    previous = _previous(checklist)
    changes = compare(previous.to_document(), checklist.to_document(),
                      old_rules=previous.scoring_rules,
                      new_rules=checklist.scoring_rules) if previous else None
    sections = {s.code: s.name for s in checklist.sections}
    weights = {s.code: _number(s.weight) for s in checklist.sections if s.weight is not None}
    return render_template(
        "manage/standard.html", checklist=checklist, previous=previous, changes=changes,
        sections=sections, section_weights=weights, rules=rules_shown(checklist),
        rule_change=rule_change, section_field_label=section_field_label, error=error,
        field_label=field_label, shown=shown, type_shown=type_shown, local_date=local_date,
        unscored={key for key, kind in RESPONSE_TYPES.items() if not kind.scored},
        is_draft=checklist.status is ChecklistStatus.draft,
        is_published=checklist.status is ChecklistStatus.published), status


@bp.get("/<int:checklist_id>")
def version(checklist_id: int):
    """One version: what it changes, its items, and what can be done with it."""
    return _version_page(get_checklist(checklist_id, g.user))


def _act(checklist_id: int, action):
    checklist = get_checklist(checklist_id, g.user)
    try:
        ConfirmSchema().load(request.form)
    except ma.ValidationError:
        return _version_page(checklist, error=gettext("请先勾选确认"), status=422)
    try:
        result = action(checklist, by=g.user)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _version_page(get_checklist(checklist_id, g.user), error=say(exc.message),
                             status=exc.status)
    return redirect(url_for(".version", checklist_id=result.id))


@bp.get("/<int:checklist_id>/publish")
@bp.get("/<int:checklist_id>/retire")
def action_address(checklist_id: int):
    """A publish or retire address opened as a page (a refusal reloaded): the version's page."""
    return redirect(url_for(".version", checklist_id=checklist_id), code=303)


@bp.post("/<int:checklist_id>/publish")
def publish_version(checklist_id: int):
    """Publish a draft: from now on it never changes, and campaigns can use it."""
    return _act(checklist_id, publish)


@bp.post("/<int:checklist_id>/retire")
def retire_version(checklist_id: int):
    """Retire a published version: kept for history, no longer offered for campaigns."""
    return _act(checklist_id, retire)
