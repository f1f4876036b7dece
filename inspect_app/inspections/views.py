"""Service managers' pages for campaigns (检查计划): plan one in any of the four modes, then
follow it — what the product generated (cycles, peer pairs, the spot-check draw, mystery
visits), how far each mode has got, and which assignments are still open — and act on one
assignment: reassign it, move its window or cancel it, always with a reason.

Thin views over :mod:`.campaigns` and :mod:`.operations` — the API does the same for
programs. Each form is checked by a schema; what the rules refuse comes back with every
reason, and nothing is written.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from ..api.fields import BankDate, Id, one_line
from ..auth.models import User
from ..auth.permissions import Permission
from ..auth.session import pages_need
from ..checklists.models import Checklist, ChecklistStatus
from ..errors import InvalidInput
from ..extensions import db
from ..forms import PageForm, Refused, carry_out
from ..i18n import N_, local_today, say
from ..orgs.models import OrgKind, OrgUnit
from ..orgs.operations import in_tree_order, visible_units
from .access import sees_identity
from .campaigns import (
    DEFAULT_SETTINGS,
    assignee_choices,
    campaign_counts,
    create_campaign,
    get_campaign,
    get_campaign_task,
    open_tasks,
    peer_pairs,
    warnings_of,
)
from .models import OPEN, REASSIGNABLE, Campaign, Inspection, InspectionStatus, Mode
from .operations import cancel, reassign, reschedule
from .planning import CYCLES

bp = Blueprint("campaigns", __name__, url_prefix="/manage/campaigns")
pages_need(bp, Permission.campaigns_manage)

#: The order statuses are shown in: what is left to do first.
STATUSES = (InspectionStatus.assigned, InspectionStatus.in_progress, InspectionStatus.returned,
            InspectionStatus.submitted, InspectionStatus.final, InspectionStatus.cancelled)


def _whole(**kwargs) -> fields.Integer:
    return fields.Integer(required=True, error_messages={
        "required": _l("必填"), "invalid": _l("请填写整数")}, **kwargs)


def _between(low: int, high: int) -> validate.Range:
    return validate.Range(min=low, max=high, error=_l("必须在 {min} 到 {max} 之间"))


_DATE_ERRORS = {"required": _l("必填"), "invalid": _l("日期格式不正确")}


class CampaignForm(PageForm):
    """The planning form (field names as the page posts them; messages in the page's
    language, said when they are shown)."""

    multiple = ("modes",)

    name = fields.String(required=True, validate=[validate.Length(
        min=1, max=200, error=_l("长度须在 {min} 到 {max} 个字之间")), one_line],
        error_messages={"required": _l("请填写计划名称")})
    checklist_id = _whole()
    scope_unit_id = Id(load_default=None)
    period_start = BankDate(required=True, error_messages=_DATE_ERRORS)
    period_end = BankDate(required=True, error_messages=_DATE_ERRORS)
    modes = fields.List(fields.String(validate=validate.OneOf(
        [m.value for m in Mode], error=_l("未知的检查方式"))), required=True,
        error_messages={"required": _l("请至少选择一种检查方式")})
    cycle = fields.String(data_key="self_check.cycle", load_default="monthly",
                          validate=validate.OneOf(list(CYCLES), error=_l("未知的自查周期")))
    no_repeat_cycles = _whole(data_key="peer_check.no_repeat_cycles", validate=_between(0, 12))
    outlets_per_team = fields.Integer(data_key="peer_check.outlets_per_team", load_default=None,
                                      validate=_between(1, 500),
                                      error_messages={"invalid": _l("请填写整数")})
    size = _whole(data_key="spot_check.size", validate=_between(1, 5000))
    count = _whole(data_key="mystery_visit.count", validate=_between(1, 5000))
    min_days_between = _whole(data_key="mystery_visit.min_days_between",
                              validate=_between(0, 3650))
    scenarios = fields.String(data_key="mystery_visit.scenarios", load_default="",
                              validate=validate.Length(max=5000))

    def to_campaign(self, data: dict[str, Any]) -> dict[str, Any]:
        """The form as :func:`.campaigns.create_campaign` takes it."""
        scenarios = [line.strip() for line in data["scenarios"].splitlines() if line.strip()]
        return {
            "name": data["name"], "checklist_id": data["checklist_id"],
            "scope_unit_id": data["scope_unit_id"], "period_start": data["period_start"],
            "period_end": data["period_end"], "modes": data["modes"],
            "settings": {
                "self_check": {"cycle": data["cycle"]},
                "peer_check": {"no_repeat_cycles": data["no_repeat_cycles"],
                               "outlets_per_team": data["outlets_per_team"]},
                "spot_check": {"size": data["size"]},
                "mystery_visit": {"count": data["count"],
                                  "min_days_between": data["min_days_between"],
                                  **({"scenarios": scenarios} if scenarios else {})},
            }}


FIELD_NAMES = {"name": N_("计划名称"), "checklist_id": N_("检查表"),
               "period_start": N_("开始日期"), "period_end": N_("结束日期"),
               "modes": N_("检查方式"), "self_check.cycle": N_("自查周期"),
               "peer_check.no_repeat_cycles": N_("几轮内不重复配对"),
               "peer_check.outlets_per_team": N_("每组检查网点数"),
               "spot_check.size": N_("抽查网点数"), "mystery_visit.count": N_("暗访网点数"),
               "mystery_visit.min_days_between": N_("同一神秘人再访间隔（天）"),
               "mystery_visit.scenarios": N_("暗访场景")}


def _campaigns() -> list[Campaign]:
    paths = g.user.scope_paths(Permission.campaigns_manage)
    return list(db.session.scalars(
        sa.select(Campaign).join(OrgUnit, Campaign.scope_unit_id == OrgUnit.id)
        .where(sa.or_(*[OrgUnit.path.startswith(p) for p in paths]))
        .order_by(Campaign.period_start.desc(), Campaign.id.desc()).limit(50)))


def _progress(campaign: Campaign) -> list[dict[str, Any]]:
    """Per mode: how many assignments, and how many in each status (in :data:`STATUSES` order)."""
    counts = campaign_counts(campaign)
    rows = []
    for mode in campaign.modes:
        by_status = counts.get(mode, {})
        rows.append({"mode": Mode(mode), "total": sum(by_status.values()),
                     "done": by_status.get("submitted", 0) + by_status.get("final", 0),
                     "statuses": [(status, by_status[status.value]) for status in STATUSES
                                  if by_status.get(status.value)]})
    return rows


def _defaults() -> dict[str, Any]:
    """What the form starts with: next month, every mode, the product's default settings."""
    today = local_today()
    start = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1) - timedelta(days=1)
    mystery = DEFAULT_SETTINGS["mystery_visit"]
    return {"name": "", "period_start": start.isoformat(), "period_end": end.isoformat(),
            "modes": [m.value for m in Mode], "self_check.cycle": "monthly",
            "peer_check.no_repeat_cycles": DEFAULT_SETTINGS["peer_check"]["no_repeat_cycles"],
            "peer_check.outlets_per_team": "",
            "spot_check.size": DEFAULT_SETTINGS["spot_check"]["size"],
            "mystery_visit.count": mystery["count"],
            "mystery_visit.min_days_between": mystery["min_days_between"],
            "mystery_visit.scenarios": "\n".join(mystery["scenarios"])}


def _index(*, form: dict[str, Any] | None = None, error: str | None = None, problems=(),
           status: int = 200):
    checklists = db.session.scalars(
        sa.select(Checklist).where(Checklist.status == ChecklistStatus.published)
        .order_by(Checklist.key, Checklist.version.desc())).all()
    scopes = in_tree_order(db.session.scalars(visible_units(
        g.user, Permission.campaigns_manage).where(
        OrgUnit.kind.in_([OrgKind.branch, OrgKind.subbranch]), OrgUnit.is_active)))
    campaigns = [(c, _progress(c)) for c in _campaigns()]
    return render_template("manage/campaigns.html", campaigns=campaigns, checklists=checklists,
                           scopes=scopes, form=form or _defaults(), modes=list(Mode),
                           cycles={"weekly": gettext("每周"), "monthly": gettext("每月"),
                                   "quarterly": gettext("每季度")},
                           error=error, problems=list(problems)), status


@bp.get("")
def index():
    """The campaigns I plan, with their progress, and the form to plan the next one."""
    return _index()


@bp.post("")
def plan():
    """Plan a campaign: the product generates every chosen mode's assignments by its rules."""
    submitted = request.form.to_dict()
    submitted["modes"] = request.form.getlist("modes")
    schema = CampaignForm()
    outcome = carry_out(lambda: schema.load(request.form),
                        lambda data: create_campaign(schema.to_campaign(data), by=g.user),
                        FIELD_NAMES, invalid=N_("计划未创建：请检查以下内容"))
    if isinstance(outcome, Refused):
        return _index(form=submitted, **outcome.shown)
    return redirect(url_for(".campaign", campaign_id=outcome.id))


def _names(ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.name)
                                   .where(OrgUnit.id.in_(ids))).all())


@bp.get("/<int:campaign_id>")
def campaign(campaign_id: int):
    """A campaign: what was generated for each mode, how far each has got, and a page of each
    mode's open assignments (filtered by outlet) to act on one."""
    item = get_campaign(campaign_id, g.user)
    plan = item.plan or {}
    spot = plan.get("spot_check") or {}
    # the pairs the peer checks make now (a reassignment changes them), not the plan's draw
    pairs = [(*pair, count) for pair, count in
             sorted(peer_pairs([item.id]).get(item.id, {}).items())]
    names = _names([unit for pair in pairs for unit in pair[:2]]
                   + list((spot.get("draw") or {}).get("selected_ids", [])))
    facts = {row[0]: row for row in spot.get("candidates", [])}
    args = _list_args()
    tasks = {}
    for mode in item.modes:
        page = args["page"] if args["mode"] == mode else 1
        total, shown = open_tasks(item, Mode(mode), outlet=args["q"],
                                  offset=(page - 1) * TASKS_PER_PAGE, limit=TASKS_PER_PAGE)
        tasks[mode] = {"total": total, "items": shown, "page": page,
                       "pages": max(1, -(-total // TASKS_PER_PAGE))}
    return render_template(
        "manage/campaign.html", campaign=item, progress=_progress(item), plan=plan,
        peer_pairs=pairs, names=names, spot_facts=facts, tasks=tasks, q=args["q"],
        warnings={mode: [say(w) for w in warnings_of(part)] for mode, part in plan.items()
                  if isinstance(part, dict)},
        who={task.id: _who(task) for row in tasks.values() for task in row["items"]},
        today=local_today(),
        cycles={"weekly": gettext("每周"), "monthly": gettext("每月"),
                "quarterly": gettext("每季度")})


# -- one assignment ---------------------------------------------------------------------------

#: Open assignments shown per mode on a campaign's page (the rest are a filter or a page away).
TASKS_PER_PAGE = 20


class TaskListArgs(ma.Schema):
    """The campaign page's query: an outlet filter, and which mode's list is on which page."""

    class Meta:
        unknown = ma.EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=50))
    mode = fields.String(load_default=None, validate=validate.OneOf([m.value for m in Mode]))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


def _list_args() -> dict[str, Any]:
    """The list's query; a hand-edited one that makes no sense shows the first page unfiltered."""
    try:
        args = TaskListArgs().load(request.args)
    except ma.ValidationError:
        args = TaskListArgs().load({})
    return {**args, "q": args["q"].strip()}


class _TaskForm(PageForm):
    """A form acting on one assignment: the reason is required, and goes to the audit log."""

    reason = fields.String(required=True, validate=validate.Length(
        min=2, max=1000, error=_l("长度须在 {min} 到 {max} 个字之间")),
        error_messages={"required": _l("请填写原因")})


class ReassignForm(_TaskForm):
    """改派: a person, or for a peer check a team (the page offers only those who may)."""

    assignee_id = Id(load_default=None,
                                 error_messages={"invalid": _l("请从列表中选择")})
    team_id = Id(load_default=None, error_messages={"invalid": _l("请从列表中选择")})


class RescheduleForm(_TaskForm):
    """改期: the new window (the operation refuses one that ends before it starts)."""

    due_start = BankDate(required=True, error_messages=_DATE_ERRORS)
    due_end = BankDate(required=True, error_messages=_DATE_ERRORS)


class CancelForm(_TaskForm):
    """取消: cannot be undone, so the box must be ticked."""

    confirm = fields.String(required=True, validate=validate.Equal(
        "yes", error=_l("请先勾选确认")), error_messages={"required": _l("请先勾选确认")})


TASK_FIELD_NAMES = {"reason": N_("原因"), "assignee_id": N_("改派给"), "team_id": N_("改派给"),
                    "due_start": N_("开始日期"), "due_end": N_("结束日期"),
                    "confirm": N_("确认取消")}


def _who(task: Inspection) -> str:
    """Who holds the assignment, as the planner may see it (a shopper only with sensitive.read)."""
    if task.team is not None:
        return task.team.name
    if task.assignee is None:
        return gettext("未分派")
    if not sees_identity(g.user, task):
        return gettext("神秘人")
    return task.assignee.display_name


def _reassign(task: Inspection, data: dict[str, Any]) -> str:
    assignee = db.session.get(User, data["assignee_id"]) if data["assignee_id"] else None
    if data["assignee_id"] and assignee is None:
        raise InvalidInput(N_("该人员不存在"), code="unknown_assignee")
    reassign(task, assignee=assignee, team_id=data["team_id"], reason=data["reason"],
             by=g.user)
    return gettext("已改派：%(outlet)s → %(who)s", outlet=task.outlet.name, who=_who(task))


def _reschedule(task: Inspection, data: dict[str, Any]) -> str:
    reschedule(task, due_start=data["due_start"], due_end=data["due_end"],
               reason=data["reason"], by=g.user)
    return gettext("已改期：%(outlet)s，%(start)s 至 %(end)s", outlet=task.outlet.name,
                   start=task.due_start, end=task.due_end)


def _cancel(task: Inspection, data: dict[str, Any]) -> str:
    cancel(task, reason=data["reason"], by=g.user)
    return gettext("已取消：%(outlet)s 的%(mode)s任务", outlet=task.outlet.name,
                   mode=gettext(task.mode.label))


#: What a planner can do to one open assignment: the form that reads it, and the step that
#: calls the operation (as the API does) and says what was done.
TASK_ACTIONS: dict[str, tuple[type[_TaskForm], Callable[[Inspection, dict], str]]] = {
    "reassign": (ReassignForm, _reassign),
    "reschedule": (RescheduleForm, _reschedule),
    "cancel": (CancelForm, _cancel),
}


def _task_page(item: Campaign, task: Inspection, *, values: dict[str, Any] | None = None,
               error: str | None = None, problems=(), status: int = 200):
    reassignable = task.status in REASSIGNABLE
    named = task.mode is Mode.peer_check or sees_identity(g.user, task)
    return render_template(
        "manage/campaign_task.html", campaign=item, task=task, who=_who(task),
        is_open=task.status in OPEN, reassignable=reassignable,
        choices=assignee_choices(task) if reassignable and named else [],
        named=named, values=values or {}, error=error, problems=list(problems)), status


@bp.get("/<int:campaign_id>/tasks/<int:inspection_id>")
def task(campaign_id: int, inspection_id: int):
    """One assignment of the campaign, with the forms that reassign, move or cancel it."""
    item = get_campaign(campaign_id, g.user)
    return _task_page(item, get_campaign_task(item, inspection_id, g.user))


def _act(campaign_id: int, inspection_id: int, action: str):
    item = get_campaign(campaign_id, g.user)
    task = get_campaign_task(item, inspection_id, g.user)
    form, run = TASK_ACTIONS[action]
    values = {"action": action, **request.form.to_dict()}
    done = carry_out(lambda: form().load(request.form), lambda data: run(task, data),
                     TASK_FIELD_NAMES)
    if isinstance(done, Refused):
        return _task_page(item, task, values=values, **done.shown)
    flash(done)
    mode = task.mode.value
    return redirect(url_for(".campaign", campaign_id=item.id, _anchor=f"tasks-{mode}"))


@bp.get("/<int:campaign_id>/tasks/<int:inspection_id>/reassign")
@bp.get("/<int:campaign_id>/tasks/<int:inspection_id>/reschedule")
@bp.get("/<int:campaign_id>/tasks/<int:inspection_id>/cancel")
def task_form_address(campaign_id: int, inspection_id: int):
    """A form's address opened as a page (a refused form reloaded or reopened, a bookmark): the
    assignment's page, where the forms are."""
    return redirect(url_for(".task", campaign_id=campaign_id, inspection_id=inspection_id),
                    code=303)


@bp.post("/<int:campaign_id>/tasks/<int:inspection_id>/reassign")
def reassign_task(campaign_id: int, inspection_id: int):
    """改派: give an open assignment to another person or team, with a reason."""
    return _act(campaign_id, inspection_id, "reassign")


@bp.post("/<int:campaign_id>/tasks/<int:inspection_id>/reschedule")
def reschedule_task(campaign_id: int, inspection_id: int):
    """改期: move an open assignment's window, with a reason."""
    return _act(campaign_id, inspection_id, "reschedule")


@bp.post("/<int:campaign_id>/tasks/<int:inspection_id>/cancel")
def cancel_task(campaign_id: int, inspection_id: int):
    """取消: cancel an open assignment (kept, with the reason, for the record)."""
    return _act(campaign_id, inspection_id, "cancel")
