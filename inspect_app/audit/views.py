"""操作审计: the audit log as a page, for administrators and service managers.

The same entries as ``GET /api/v1/audit-entries`` (:func:`.api.readable`: one's own units and
the whole bank's), newest first, a page at a time, filtered by what happened, to what kind of
object, by whom (a username or a person's name, or a part of either) or by request id. A
result's contents are shown only to those who may read that unit's results
(:func:`.api.shows_contents`), as in the API. What happened is said in words
(:data:`.actions.ACTIONS`), its code beside them.
"""
from __future__ import annotations

import json

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, g, render_template, request
from flask_babel import format_datetime, gettext
from marshmallow import fields, validate

from ..api.pagination import page_of
from ..auth.models import User
from ..auth.permissions import Permission
from ..auth.session import pages_need
from ..extensions import db
from ..i18n import NP_, translated
from .actions import ACTIONS, action_words
from .api import readable, shows_contents
from .models import AuditEntry

bp = Blueprint("audit_pages", __name__, url_prefix="/manage/audit")
pages_need(bp, Permission.audit_read)

PER_PAGE = 50
#: What an entry is about, in words (the object types the application writes), catalogued in
#: the audit log's context: a tag names one object (人员 4 is "Person 4", the tab "People").
OBJECT_LABELS = {
    "user": NP_("audit", "人员"), "api_token": NP_("audit", "API 令牌"),
    "org_unit": NP_("audit", "机构"), "checklist": NP_("audit", "检查表"),
    "campaign": NP_("audit", "检查计划"), "inspection": NP_("audit", "检查"),
    "inspection_team": NP_("audit", "检查组"), "photo": NP_("audit", "照片"),
    "appeal": NP_("audit", "申诉"), "rectification_item": NP_("audit", "整改项"),
    "watchlist": NP_("audit", "名单评估"), "watchlist_entry": NP_("audit", "名单"),
    "watchlist_rule_set": NP_("audit", "名单规则"), "coaching_action": NP_("audit", "辅导跟进"),
    "queue_data": NP_("audit", "排队数据"), "report_job": NP_("audit", "导出任务"),
    "backup": NP_("audit", "备份恢复"),
}


class AuditFilters(ma.Schema):
    """The page's filters; anything malformed is ignored rather than refused (a page)."""

    action = fields.String(load_default=None, validate=validate.Length(max=64))
    object_type = fields.String(load_default=None, validate=validate.Length(max=40))
    actor = fields.String(load_default=None, validate=validate.Length(max=100))
    request_id = fields.String(load_default=None, validate=validate.Length(max=64))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))

    class Meta:
        unknown = ma.EXCLUDE


def _filters() -> dict:
    try:
        loaded = AuditFilters().load(request.args)
    except ma.ValidationError:
        loaded = AuditFilters().load({})
    return {key: value.strip() if isinstance(value, str) else value
            for key, value in loaded.items() if value not in (None, "")}


@bp.get("")
def index():
    """Entries newest first, 50 to a page."""
    chosen = _filters()
    query = sa.select(AuditEntry).where(readable(g.user))
    if chosen.get("action"):
        query = query.where(AuditEntry.action == chosen["action"])
    if chosen.get("object_type"):
        query = query.where(AuditEntry.object_type == chosen["object_type"])
    if chosen.get("actor"):
        query = query.where(_by_actor(chosen["actor"]))
    if chosen.get("request_id"):
        query = query.where(AuditEntry.request_id == chosen["request_id"])
    shown = page_of(query.order_by(AuditEntry.id.desc()), chosen.get("page", 1), PER_PAGE)
    rows = [{"entry": e, "at": format_datetime(e.at, "yyyy-MM-dd HH:mm:ss"),
             "what": translated(OBJECT_LABELS.get(e.object_type)), "shown": shows_contents(e),
             "changes": changes(e.before, e.after)} for e in shown.rows]
    filters = {k: v for k, v in chosen.items() if k != "page"}
    return render_template("manage/audit.html", rows=rows, total=shown.total, page=shown.page,
                           pages=shown.pages, filters=filters,
                           objects={kind: translated(label) for kind, label in OBJECT_LABELS.items()},
                           actions={code: action_words(code) for code in ACTIONS}, names=_names(shown.rows))


def _by_actor(text: str) -> sa.ColumnElement[bool]:
    """Entries by the people whose username or name is or holds ``text`` (by their id, which
    is indexed), and those written under exactly that name: ``cli:root``, ``system``, or a
    username since renamed."""
    people = sa.select(User.id).where(sa.or_(User.username.icontains(text, autoescape=True),
                                             User.display_name.icontains(text, autoescape=True)))
    return sa.or_(AuditEntry.actor_id.in_(people), AuditEntry.actor_name == text)


def _names(entries: list[AuditEntry]) -> dict[int, str]:
    """The names of the people who wrote ``entries``, by id, shown beside their usernames."""
    ids = {entry.actor_id for entry in entries if entry.actor_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(
        sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def changes(before, after) -> dict | None:
    """An entry's contents as a person reads them: each field once, with what it was and what
    it became, and whether that changed (both sides written and different). None when the entry
    has no contents. Contents that are not field lists (an older entry's) are shown whole."""
    if before is None and after is None:
        return None
    sides = [side for side in (before, after) if side is not None]
    if not all(isinstance(side, dict) for side in sides):
        return {"raw": {"before": _json(before), "after": _json(after)}}
    before_fields, after_fields = before or {}, after or {}
    fields_ = list(dict.fromkeys([*before_fields, *after_fields]))
    both = before is not None and after is not None
    rows = [{"field": name, "before": _shown(before_fields.get(name)),
             "after": _shown(after_fields.get(name)),
             "changed": both and before_fields.get(name) != after_fields.get(name)}
            for name in fields_]
    return {"rows": rows, "before": before is not None, "after": after is not None,
            "changed": sum(row["changed"] for row in rows)}


def _shown(value) -> str:
    """A field's value in a table cell: text as it is, yes/no in words, a list of plain values
    joined, anything nested as compact JSON, nothing as a dash."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return "、".join(str(v) for v in value) or "—"
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, indent=1)
