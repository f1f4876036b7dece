"""Planning a campaign: generating the assignments of each mode with the pure planners.

Each mode has its own rule for who inspects whom; this module gathers the facts from the
database, calls :mod:`.planning`, and turns the plan into inspections. Every random choice is
seeded from the campaign's seed, and what was decided is stored in ``Campaign.plan`` so the
draw can be audited and reproduced.
"""
from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, NoReturn

import sqlalchemy as sa
from sqlalchemy import orm

from ..audit.operations import record
from ..auth.models import RoleGrant, User
from ..auth.permissions import Permission, Role
from ..checklists.models import Checklist, ChecklistStatus
from ..errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_, local_date, local_today
from ..messages import Message, joined
from ..orgs.models import OrgKind, OrgUnit
from ..scoring import RESPONSE_TYPES
from . import planning
from .models import (
    REASSIGNABLE,
    Campaign,
    Inspection,
    InspectionStatus,
    InspectionTeam,
    Mode,
    inspection_team_members,
)

#: Who is on the watch-list, for weighting spot checks. The watch-list domain installs its
#: query here (it depends on inspections, not the other way round).
watch_listed_outlet_ids: Callable[[], set[int]] = lambda: set()  # noqa: E731

DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "self_check": {"cycle": "monthly"},
    "peer_check": {"no_repeat_cycles": 2, "outlets_per_team": None},
    "spot_check": {"size": 10, "weights": planning.SpotCheckWeights().to_dict()},
    "mystery_visit": {"count": 6, "scenarios": ["办理借记卡挂失", "咨询理财产品", "开立个人账户",
                                                "办理社保卡激活"],
                      "min_days_between": 90},
}


def _planning_error(exc: planning.PlanningError) -> InvalidInput:
    return InvalidInput(exc.message, code=exc.code, details=exc.messages)


def outlets_in(scope: OrgUnit) -> list[OrgUnit]:
    """The outlets a campaign of ``scope`` plans work for: the open ones (a closed outlet
    takes no new work)."""
    return list(db.session.scalars(scope.active_outlets().order_by(OrgUnit.id)))


def _users_with(role: Role, units: sa.Select | None = None) -> sa.Select:
    query = (sa.select(User, RoleGrant.org_unit_id).join(RoleGrant, RoleGrant.user_id == User.id)
             .where(RoleGrant.role == role, User.is_active.is_(True)).order_by(User.username))
    return query if units is None else query.where(RoleGrant.org_unit_id.in_(units))


def _branch_inspectors(unit: OrgUnit) -> sa.Select:
    """The inspectors of ``unit``'s own branch (``unit`` may be the branch): 抽查 is the
    branch's own check, neither a sub-branch's inspector nor another branch's does it."""
    return _users_with(Role.inspector, sa.select(OrgUnit.id).where(
        OrgUnit.kind == OrgKind.branch, OrgUnit.id.in_(unit.ancestor_ids)))


def create_campaign(data: dict[str, Any], *, by: User) -> Campaign:
    """Create a campaign and generate the assignments of every mode it includes.

    Refuses (nothing written) when a mode's rules cannot be met, saying why in Chinese — and,
    whoever plans (the page, the API, the demo seed), a campaign that would duplicate work or
    come too late: a name a live campaign of the branch already has, a period that has ended,
    self-checks for a cycle an outlet already has from another campaign
    (:func:`_refuse_second_self_checks`), or no assignment at all.
    """
    checklist = db.session.get(Checklist, data["checklist_id"])
    if checklist is None or checklist.status is not ChecklistStatus.published:
        raise InvalidInput(N_("请选择一个已发布的检查表版本"), code="checklist_not_published")
    scope = db.session.get(OrgUnit, data["scope_unit_id"]) if data.get("scope_unit_id") else \
        db.session.scalar(sa.select(OrgUnit).where(OrgUnit.kind == OrgKind.branch)
                          .order_by(OrgUnit.id))
    if scope is None or not by.can(Permission.campaigns_manage, scope):
        raise PermissionDenied(N_("您无权为该机构制定检查计划"), code="not_planner")
    name = str(data.get("name") or "").strip()  # the list links a campaign by its name
    if not name:
        raise InvalidInput(N_("计划名称不能为空"), code="name_required")
    if data["period_end"] < data["period_start"]:
        raise InvalidInput(N_("结束日期不能早于开始日期"), code="invalid_period")
    today = local_today()
    if data["period_end"] < today:
        # every assignment would be overdue the day it is made
        raise InvalidInput(N_("检查期间已于 %(end)s 结束，不能再制定：结束日期不能早于今天（%(today)s）"),
                           end=data["period_end"].isoformat(), today=today.isoformat(),
                           code="period_ended")
    for mode in data["modes"]:
        if not any(RESPONSE_TYPES[item.response_type].scored
                   for item in checklist.items_for_mode(mode)):
            # every form of the mode would be text notes: no score, no grade, no ranking
            raise InvalidInput(N_("所选检查表没有适用于%(mode)s的计分项，%(mode)s无法评分：请修改检查表，"
                                  "或不安排%(mode)s"), mode=Mode(mode), code="nothing_to_score")
    branch = scope.ancestor(OrgKind.branch) or scope
    _plan_alone(branch)
    same_name = db.session.scalar(
        live_campaigns().join(OrgUnit, Campaign.scope_unit_id == OrgUnit.id)
        .where(sa.func.trim(Campaign.name) == name, OrgUnit.path.startswith(branch.path))
        .order_by(Campaign.id))
    if same_name is not None:
        raise Conflict(N_("已有同名的检查计划“%(name)s”（%(start)s 至 %(end)s），请换一个名称"),
                       name=name, start=same_name.period_start.isoformat(),
                       end=same_name.period_end.isoformat(), code="campaign_name_taken")
    settings = {mode: {**DEFAULT_SETTINGS[mode], **(data.get("settings") or {}).get(mode, {})}
                for mode in data["modes"]}
    campaign = Campaign(name=name, checklist=checklist, scope_unit=scope,
                        period_start=data["period_start"], period_end=data["period_end"],
                        modes=list(data["modes"]), settings=settings,
                        seed=data.get("seed") if data.get("seed") is not None
                        else random.SystemRandom().randrange(2**31),
                        created_by_id=by.id, plan={})
    db.session.add(campaign)
    db.session.flush()
    plan: dict[str, Any] = {}
    outlets = outlets_in(scope)
    if not outlets:
        raise InvalidInput(N_("所选范围内没有营业中的网点"), code="no_outlets")
    for mode in campaign.modes:
        plan[mode] = GENERATORS[mode](campaign, outlets, settings[mode])
    if not any(plan[mode]["count"] for mode in campaign.modes):
        # e.g. self-checks only, and no outlet in scope has a manager to fill them in
        reasons = [reason for mode in campaign.modes for reason in warnings_of(plan[mode])]
        raise InvalidInput(N_("未生成任何任务，计划未创建：%(reasons)s"),
                           reasons=_some(reasons) if reasons else Message("所选范围内没有可分派的任务"),
                           code="no_assignments", details=reasons)
    campaign.plan = plan
    db.session.flush()
    counts = {mode: plan[mode]["count"] for mode in campaign.modes}
    record("campaign.create", campaign, actor=by,
           after={"name": campaign.name, "checklist_id": checklist.id, "seed": campaign.seed,
                  "modes": campaign.modes, "assignments": counts})
    return campaign


#: PostgreSQL advisory lock space of campaign planning, one lock per branch (the watch-list's
#: figures use 7301 and 7302).
_PLANNING_LOCK = 7310


def _plan_alone(branch: OrgUnit) -> None:
    """Plan one campaign of ``branch`` at a time: two planners submitting at once would each
    find the other's name and self-checks not yet there. (SQLite has one writer at a time.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:space, :key)"),
                           {"space": _PLANNING_LOCK, "key": branch.id})


def live_campaigns() -> sa.Select:
    """The campaigns still on: those with an assignment that is not cancelled (a campaign
    whose every assignment was cancelled is over, and frees its name and its cycles)."""
    return sa.select(Campaign).where(sa.exists().where(
        Inspection.campaign_id == Campaign.id, Inspection.status != InspectionStatus.cancelled))


def _new_inspection(campaign: Campaign, mode: Mode, outlet_id: int, due: tuple[date, date],
                    **fields) -> Inspection:
    inspection = Inspection(campaign=campaign, checklist_id=campaign.checklist_id, mode=mode,
                            outlet_id=outlet_id, due_start=due[0], due_end=due[1],
                            status=InspectionStatus.assigned, draft={}, events={}, **fields)
    db.session.add(inspection)
    return inspection


def _self_checks(campaign: Campaign, outlets: list[OrgUnit], settings: dict) -> dict:
    """自查: every outlet, every cycle, filled in by the outlet's own manager."""
    try:
        cycles = planning.self_check_cycles(campaign.period_start, campaign.period_end,
                                            settings["cycle"])
    except planning.PlanningError as exc:
        raise _planning_error(exc) from exc
    managers: dict[int, User] = {}
    for user, unit_id in db.session.execute(
            _users_with(Role.outlet_manager, sa.select(OrgUnit.id).where(
                OrgUnit.id.in_([o.id for o in outlets])))):
        managers.setdefault(unit_id, user)
    _refuse_second_self_checks(campaign, [o for o in outlets if o.id in managers])
    warnings, count = [], 0
    for outlet in outlets:
        manager = managers.get(outlet.id)
        if manager is None:
            warnings.append(Message("%(outlet)s没有网点负责人账号，未生成自查任务",
                                    outlet=outlet.name))
            continue
        for cycle in cycles:
            _new_inspection(campaign, Mode.self_check, outlet.id, cycle, assignee_id=manager.id)
            count += 1
    return {"count": count, "cycles": [[c[0].isoformat(), c[1].isoformat()] for c in cycles],
            **noted(warnings)}


def _some(messages: list, shown: int = 3) -> Message:
    """The first few of ``messages`` said as one, and how many there are when there are more."""
    if len(messages) <= shown:
        return joined(messages)
    return Message("%(first)s等 %(count)s 条", first=joined(messages[:shown]),
                   count=len(messages))


def _refuse_second_self_checks(campaign: Campaign, outlets: list[OrgUnit]) -> None:
    """Refuse self-checks for days an outlet already has a self-check for, from another
    campaign still on (its task not cancelled): the outlet would fill in two self-checks for
    one cycle. Naming the other campaign, and which outlets and days. (Spot checks, peer
    checks and mystery visits may overlap another campaign: an extra wave is normal.)"""
    wanted = {outlet.id: outlet.name for outlet in outlets}
    if not wanted:
        return
    rows = db.session.execute(
        sa.select(Inspection.outlet_id, Inspection.due_start, Inspection.due_end, Campaign.id,
                  Campaign.name)
        .join(Campaign, Inspection.campaign_id == Campaign.id)
        .join(OrgUnit, Inspection.outlet_id == OrgUnit.id)
        .where(Inspection.mode == Mode.self_check, Inspection.campaign_id != campaign.id,
               Inspection.status != InspectionStatus.cancelled,
               OrgUnit.path.startswith(campaign.scope_unit.path),
               Inspection.due_start <= campaign.period_end,
               Inspection.due_end >= campaign.period_start)
        .order_by(Inspection.due_start, Campaign.id, Inspection.outlet_id)).all()
    clashes: dict[int, dict[str, Any]] = {}
    for outlet_id, start, end, other_id, other_name in rows:
        if outlet_id not in wanted:
            continue
        clash = clashes.setdefault(other_id, {"name": other_name, "outlets": {}, "start": start,
                                              "end": end})
        clash["outlets"].setdefault(outlet_id, wanted[outlet_id])
        clash["start"], clash["end"] = min(clash["start"], start), max(clash["end"], end)
    if not clashes:
        return
    said = []
    for clash in clashes.values():
        names = list(clash["outlets"].values())
        values = {"campaign": clash["name"], "count": len(names),
                  "start": max(clash["start"], campaign.period_start).isoformat(),
                  "end": min(clash["end"], campaign.period_end).isoformat()}
        said.append((values, Message("检查计划“%(campaign)s”已给%(outlets)s等 %(count)s 个网点安排了 "
                                     "%(start)s 至 %(end)s 的自查", outlets="、".join(names[:3]),
                                     **values)))
    first = said[0][0]
    raise Conflict(N_("与检查计划“%(campaign)s”的自查重复：%(count)s 个网点在 %(start)s 至 %(end)s "
                      "已有自查任务，同一周期不能自查两次"), **first, code="self_check_overlap",
                   details=[message for _, message in said])


def noted(warnings: list[Message]) -> dict[str, list]:
    """A plan's warnings as stored: the Chinese text (``warnings``, as the API has always
    given it) and, in the same order, each message's catalogue id and values
    (``warnings_said``), so that a page can say them in the reader's language."""
    return {"warnings": [str(w) for w in warnings],
            "warnings_said": [{"template": w.template, "params": w.params} for w in warnings]}


def warnings_of(part: dict[str, Any]) -> list[str]:
    """A mode's stored warnings as messages to say (plain text for plans stored before the
    messages were kept as data)."""
    said = part.get("warnings_said")
    if said is None:
        return list(part.get("warnings", []))
    return [Message(w["template"], **w["params"]) for w in said]


def _live_peer_checks() -> sa.Select:
    """Peer checks given to a team and not cancelled: the pairs a campaign makes now."""
    return sa.select(Inspection).where(Inspection.mode == Mode.peer_check,
                                       Inspection.status != InspectionStatus.cancelled,
                                       Inspection.team_id.is_not(None))


def peer_pairs(campaign_ids: list[int], *, leave_out: int | None = None
               ) -> dict[int, dict[tuple[int, int], int]]:
    """For each campaign, the sub-branch pairs its peer checks make as they stand — (the
    team's sub-branch, the outlet's sub-branch) → outlets — from the assignments themselves:
    what planning decided (``Campaign.plan`` keeps that, for audit), as reassignments and
    cancellations have changed it since. ``leave_out``: an assignment not to count."""
    if not campaign_ids:
        return {}
    query = (_live_peer_checks()
             .with_only_columns(Inspection.campaign_id, InspectionTeam.subbranch_id,
                                OrgUnit.parent_id, sa.func.count())
             .join(InspectionTeam, Inspection.team_id == InspectionTeam.id)
             .join(OrgUnit, Inspection.outlet_id == OrgUnit.id)
             .where(Inspection.campaign_id.in_(campaign_ids))
             .group_by(Inspection.campaign_id, InspectionTeam.subbranch_id, OrgUnit.parent_id))
    if leave_out is not None:
        query = query.where(Inspection.id != leave_out)
    pairs: dict[int, dict[tuple[int, int], int]] = defaultdict(dict)
    for campaign_id, inspecting, inspected, count in db.session.execute(query):
        pairs[campaign_id][(inspecting, inspected)] = count
    return dict(pairs)


def _peer_history(campaign: Campaign, no_repeat_cycles: int
                  ) -> tuple[list[planning.PastPair], int]:
    """The peer-check cycles before ``campaign`` as the planner counts them: each campaign of
    the same branch with peer checks still on (not all cancelled), in order of period, is one
    cycle (another branch's rounds are not this one's). Returns the pairs of the last
    ``no_repeat_cycles`` of them as history, and ``campaign``'s own cycle index (how many came
    before it)."""
    branch = campaign.scope_unit.ancestor(OrgKind.branch) or campaign.scope_unit
    earlier = (sa.select(Campaign.id).join(OrgUnit, Campaign.scope_unit_id == OrgUnit.id)
               .where(OrgUnit.path.startswith(branch.path),
                      sa.exists(_live_peer_checks().with_only_columns(Inspection.id)
                                .where(Inspection.campaign_id == Campaign.id)),
                      sa.or_(Campaign.period_start < campaign.period_start,
                             sa.and_(Campaign.period_start == campaign.period_start,
                                     Campaign.id < campaign.id))))
    cycle = db.session.scalar(sa.select(sa.func.count()).select_from(earlier.subquery()))
    recent = db.session.scalars(earlier.order_by(Campaign.period_start.desc(), Campaign.id.desc())
                                .limit(no_repeat_cycles)).all() if no_repeat_cycles else []
    pairs = peer_pairs(list(recent))
    history = [planning.PastPair(cycle - 1 - back, inspecting, inspected)
               for back, campaign_id in enumerate(recent)
               for inspecting, inspected in pairs.get(campaign_id, {})]
    return history, cycle


def _no_repeat_cycles(campaign: Campaign | None) -> int:
    settings = ((campaign.settings if campaign else None) or {}).get("peer_check") or {}
    return int(settings.get("no_repeat_cycles",
                            DEFAULT_SETTINGS["peer_check"]["no_repeat_cycles"]))


def _peer_checks(campaign: Campaign, outlets: list[OrgUnit], settings: dict) -> dict:
    """互查: teams of one sub-branch inspect outlets of others, by the pure pairing rules."""
    teams = db.session.scalars(
        sa.select(InspectionTeam).join(OrgUnit, InspectionTeam.subbranch_id == OrgUnit.id)
        .where(InspectionTeam.is_active.is_(True),
               OrgUnit.path.startswith(campaign.scope_unit.path))
        .order_by(InspectionTeam.id)).all()
    if not teams:
        raise InvalidInput(N_("范围内没有互查小组，无法生成互查任务"), code="no_teams")
    history, cycle = _peer_history(campaign, int(settings["no_repeat_cycles"]))
    names = {o.parent_id: o.parent.name for o in outlets}
    names.update({t.subbranch_id: t.subbranch.name for t in teams})
    try:
        result = planning.pair_peer_checks(
            [planning.PeerTeam(t.id, t.subbranch_id) for t in teams],
            [planning.PeerOutlet(o.id, o.parent_id) for o in outlets],
            seed=f"{campaign.seed}:peer", history=history,
            no_repeat_cycles=int(settings["no_repeat_cycles"]),
            outlets_per_team=settings.get("outlets_per_team"), cycle_index=cycle,
            subbranch_names=names)
    except planning.PlanningError as exc:
        raise _planning_error(exc) from exc
    if not result.ok:
        raise InvalidInput(N_("互查规则无法同时满足，未生成任何任务"), code="peer_plan_infeasible",
                           details=result.messages)
    due = (campaign.period_start, campaign.period_end)
    for assignment in result.assignments:
        _new_inspection(campaign, Mode.peer_check, assignment.outlet_id, due,
                        team_id=assignment.team_id)
    return {"count": len(result.assignments), "cycle_index": result.cycle_index,
            "pairs": [[p.inspecting_subbranch_id, p.inspected_subbranch_id, p.outlet_count]
                      for p in result.subbranch_pairs]}


def _recent_facts(outlet_ids: list[int]) -> tuple[dict[int, float], dict[int, date]]:
    """Latest independent score and date of each outlet (submitted or final)."""
    rows = db.session.execute(
        sa.select(Inspection.outlet_id, Inspection.total, Inspection.submitted_at,
                  Inspection.scores_the_outlet())
        .where(Inspection.outlet_id.in_(outlet_ids), Inspection.mode != Mode.self_check,
               Inspection.status.in_([InspectionStatus.submitted, InspectionStatus.final]))
        .order_by(Inspection.submitted_at)).all()
    scores, dates = {}, {}
    for outlet_id, total, submitted_at, scored in rows:
        if total is not None and scored:  # a follow-up is a visit, not the outlet's score
            scores[outlet_id] = float(total)
        dates[outlet_id] = local_date(submitted_at)
    return scores, dates


def _spot_checks(campaign: Campaign, outlets: list[OrgUnit], settings: dict) -> dict:
    """抽查: a weighted random sample — watch-listed, low-scoring and long-unchecked outlets
    are likelier — assigned to the branch's own inspectors in turn."""
    scores, dates = _recent_facts([o.id for o in outlets])
    watched = watch_listed_outlet_ids()
    today = campaign.period_start
    candidates = [planning.SpotCheckCandidate(
        o.id, o.id in watched, scores.get(o.id),
        (today - dates[o.id]).days if o.id in dates and dates[o.id] <= today else None)
        for o in outlets]
    try:
        weights = planning.SpotCheckWeights.from_dict(settings["weights"])
        draw = planning.draw_spot_check_sample(candidates, size=int(settings["size"]),
                                               seed=f"{campaign.seed}:spot", weights=weights)
    except planning.PlanningError as exc:
        raise _planning_error(exc) from exc
    inspectors = [user for user, _ in db.session.execute(
        _branch_inspectors(campaign.scope_unit))]
    if not inspectors:
        raise InvalidInput(N_("分行没有检查员账号，无法分派抽查任务"), code="no_branch_inspectors")
    due = (campaign.period_start, campaign.period_end)
    by_id = {outlet.id: outlet for outlet in outlets}
    unassigned: list[Message] = []
    for index, outlet_id in enumerate(draw.selected_ids):
        # in turn, passing over whoever answers for the outlet too (:func:`may_take`); an
        # outlet every inspector answers for gets no spot check, and the plan says so
        turn = [inspectors[(index + k) % len(inspectors)] for k in range(len(inspectors))]
        assignee = next((u for u in turn if not manages(u, by_id[outlet_id])), None)
        if assignee is None:
            unassigned.append(Message("%(outlet)s：分行的检查员都负责该网点，未安排抽查",
                                      outlet=by_id[outlet_id].name))
            continue
        _new_inspection(campaign, Mode.spot_check, outlet_id, due, assignee_id=assignee.id)
    # The facts behind each weight, so an auditor can replay the draw exactly.
    facts = [[c.outlet_id, c.watch_listed, c.recent_score, c.days_since_independent_check]
             for c in candidates]
    return {"count": len(draw.selected_ids) - len(unassigned), "draw": draw.to_dict(),
            "candidates": facts, **noted(unassigned)}


def _mystery_visits(campaign: Campaign, outlets: list[OrgUnit], settings: dict) -> dict:
    """暗访: a seeded sample of outlets, each with a shopper who has not visited it lately, a
    scenario and a visit window spread over the period."""
    rng = random.Random(f"{campaign.seed}:mystery")
    count = min(int(settings["count"]), len(outlets))
    if count < 1:
        raise InvalidInput(N_("暗访数量必须为正整数"), code="invalid_count")
    chosen = sorted(rng.sample([o.id for o in outlets], count))
    names = {o.id: o.name for o in outlets}
    shoppers = [user for user, _ in db.session.execute(_users_with(Role.mystery_shopper))]
    if not shoppers:
        raise InvalidInput(N_("没有神秘人账号，无法分派暗访任务"), code="no_shoppers")
    history = [planning.MysteryVisit(a, o, d) for a, o, d in db.session.execute(
        sa.select(Inspection.assignee_id, Inspection.outlet_id, Inspection.due_start)
        .where(Inspection.mode == Mode.mystery_visit,
               Inspection.status != InspectionStatus.cancelled))]
    span = (campaign.period_end - campaign.period_start).days + 1
    loads: dict[int, int] = defaultdict(int)
    scenarios = settings["scenarios"] or DEFAULT_SETTINGS["mystery_visit"]["scenarios"]
    visits, problems = [], []
    for index, outlet_id in enumerate(chosen):
        start = campaign.period_start + timedelta(days=span * index // count)
        end = min(campaign.period_end, start + timedelta(days=max(span // count, 1) - 1))
        pick = planning.pick_shopper(
            [planning.MysteryShopper(s.id, loads[s.id]) for s in shoppers], outlet_id, start,
            history, seed=f"{campaign.seed}:mystery:{outlet_id}",
            min_days_between=int(settings["min_days_between"]))
        if pick.shopper_id is None:
            reason = pick.reason
            if isinstance(reason, Message) and "outlet" in reason.params:
                # the planner speaks of outlets by id; the manager reads the outlet's name
                reason = Message(reason.template,
                                 **{**reason.params, "outlet": names.get(outlet_id, outlet_id)})
            problems.append(reason)
            continue
        loads[pick.shopper_id] += 1
        history.append(planning.MysteryVisit(pick.shopper_id, outlet_id, start))
        _new_inspection(campaign, Mode.mystery_visit, outlet_id, (start, end),
                        assignee_id=pick.shopper_id, scenario=scenarios[index % len(scenarios)])
        visits.append(outlet_id)
    if problems and not visits:
        raise InvalidInput(N_("没有符合间隔要求的神秘人"), code="no_eligible_shopper", details=problems)
    return {"count": len(visits), "outlets": visits, **noted(problems)}


GENERATORS: dict[str, Callable[[Campaign, list[OrgUnit], dict], dict]] = {
    "self_check": _self_checks,
    "peer_check": _peer_checks,
    "spot_check": _spot_checks,
    "mystery_visit": _mystery_visits,
}


#: What a person must hold to be given an inspection of each mode on their own (a self-check
#: goes to the outlet, so its manager; peer checks go to teams, whose members fill forms).
ASSIGNEE_PERMISSIONS = {Mode.self_check: Permission.rectification_submit,
                        Mode.spot_check: Permission.inspections_fill,
                        Mode.mystery_visit: Permission.mystery_visit}


def may_be_assigned(user: User) -> bool:
    """Whether ``user`` can hold any assignment at all — who gets a "我的任务" list."""
    needed = {*ASSIGNEE_PERMISSIONS.values(), Permission.inspections_fill}
    return any(user.can(permission) for permission in needed)


def covert(user: User) -> bool:
    """Whether ``user`` visits outlets as a mystery shopper. A shopper is never named on a task
    of another mode nor in a peer-check team: the outlet would learn who visits it covertly."""
    return user.can(Permission.mystery_visit)


#: The roles that answer for outlets: whoever holds one over an outlet does not grade it in an
#: independent check (互查, 抽查) — it would be their own outlet's record.
MANAGING_ROLES = frozenset({Role.outlet_manager, Role.subbranch_manager})


def manages(user: User, outlet: OrgUnit) -> bool:
    """Whether ``user`` answers for ``outlet``: its manager, or its sub-branch's."""
    return any(grant.role in MANAGING_ROLES and outlet.is_within(grant.org_unit)
               for grant in user.grants)


def may_take(inspection: Inspection, user: User) -> bool:
    """Whether ``user`` may be given ``inspection`` (a mode done by one person): they hold what
    the mode needs — a self-check's at its own outlet, a spot check's at the outlet's branch
    (抽查 is the branch's own check: an inspector of a sub-branch does not spot-check it) —,
    a spot check never goes to someone who answers for the outlet too (:func:`manages`: a role
    added beside the inspector's), and only a mystery visit goes to a mystery shopper."""
    if (inspection.mode is Mode.mystery_visit) != covert(user):
        return False
    needed = ASSIGNEE_PERMISSIONS[inspection.mode]
    if inspection.mode is Mode.self_check:
        return user.can(needed, inspection.outlet)
    if inspection.mode is Mode.spot_check:
        return (user.can(needed, inspection.outlet.ancestor(OrgKind.branch) or inspection.outlet)
                and not manages(user, inspection.outlet))
    return user.can(needed)


def may_take_team(inspection: Inspection, team: InspectionTeam) -> bool:
    """Whether ``team`` may be given a peer check: an active team, never of an outlet of its own
    sub-branch. Asked again of a team filling one: a team stood down since fills none."""
    return team.is_active and not inspection.outlet.is_within(team.subbranch)


def peer_rule_problems(inspection: Inspection, teams: list[InspectionTeam]
                       ) -> dict[int, list[planning.PlanningProblem]]:
    """For each team (by id), the pairing rules planning keeps that giving it ``inspection``
    (a peer check) would break: :func:`.planning.peer_pair_problems` against the campaign's
    other peer checks as they stand and the cycles before it, with its own no-repeat setting
    — no swap with another sub-branch in the cycle, no pair of the last cycles. Empty for
    the teams that keep them; a few queries whatever the number of teams."""
    campaign = inspection.campaign
    inspected = inspection.outlet.parent_id
    history: list[planning.PastPair] = []
    cycle, cycle_pairs, no_repeat = 0, {}, _no_repeat_cycles(campaign)
    if campaign is not None:
        history, cycle = _peer_history(campaign, no_repeat)
        cycle_pairs = peer_pairs([campaign.id], leave_out=inspection.id).get(campaign.id, {})
    names = {inspected: inspection.outlet.parent.name,
             **{team.subbranch_id: team.subbranch.name for team in teams}}
    return {team.id: planning.peer_pair_problems(
        team.subbranch_id, inspected, cycle_pairs=cycle_pairs, history=history,
        no_repeat_cycles=no_repeat, cycle_index=cycle, subbranch_names=names)
        for team in teams}


def check_assignee(inspection: Inspection, assignee: User | None, team_id: int | None) -> None:
    """Refuse an assignee who may not do this kind of inspection of this outlet."""
    if (assignee is None) == (team_id is None):
        raise InvalidInput(N_("请指定一名检查人员或一个检查组"), code="assignee_required")
    if inspection.mode is Mode.peer_check:
        team = db.session.get(InspectionTeam, team_id) if team_id else None
        if team is None:
            raise InvalidInput(N_("互查任务必须分派给检查组"), code="team_required")
        if not team.is_active:
            raise InvalidInput(N_("检查组「%(team)s」已停用"), team=team.name, code="team_inactive")
        if not may_take_team(inspection, team):
            raise InvalidInput(N_("互查不能检查本支行的网点"), code="own_subbranch")
        problems = peer_rule_problems(inspection, [team])[team.id]
        if problems:
            raise InvalidInput(N_("%(team)s不能接手该互查任务：%(reason)s"), team=team.name,
                               reason=problems[0].message, code=problems[0].code,
                               details=[problem.message for problem in problems])
        return
    if assignee is None:
        raise InvalidInput(N_("该任务必须分派给个人"), code="person_required")
    if not may_take(inspection, assignee):
        raise InvalidInput(N_("%(name)s不能执行%(mode)s任务"), name=assignee.display_name,
                           mode=inspection.mode, code="assignee_not_allowed")
    if inspection.mode is Mode.mystery_visit:
        check_visit_interval(inspection, assignee)


def check_visit_interval(inspection: Inspection, shopper: User,
                         start: date | None = None) -> None:
    """Refuse a mystery visit (starting ``start``, else its own window) that ``shopper`` would
    make too close to another of their visits to the same outlet: the rule planning keeps, so
    that the outlet's staff cannot learn to recognise them."""
    problems = visits_too_close(inspection, [shopper], start)[shopper.id]
    if problems:
        raise InvalidInput(N_("%(name)s近期已暗访或将暗访该网点，不能执行本次暗访"),
                           name=shopper.display_name, code="shopper_visits_too_soon",
                           details=problems)


#: Who planning gives each person-mode's tasks to, near one outlet: the pool a reassignment
#: offers (the outlet's own manager; inspectors of its branch; any mystery shopper).
ASSIGNEE_POOLS: dict[Mode, Callable[[OrgUnit], sa.Select]] = {
    Mode.self_check: lambda outlet: _users_with(Role.outlet_manager, outlet.ancestor_ids),
    Mode.spot_check: _branch_inspectors,
    Mode.mystery_visit: lambda outlet: _users_with(Role.mystery_shopper),
}


def assignee_choices(inspection: Inspection) -> list[User] | list[InspectionTeam]:
    """Who a planner may give ``inspection`` to instead: the people (or, for a peer check, the
    teams of the outlet's branch) planning draws from for its mode, less anyone
    :func:`check_assignee` would refuse — for a peer check, less a team that would break the
    pairing rules (:func:`peer_rule_problems`), and for a mystery visit, less a shopper who
    has visited (or will visit) the outlet too close to this window to stay unrecognised."""
    outlet = inspection.outlet
    if inspection.mode is Mode.peer_check:
        branch = outlet.ancestor(OrgKind.branch) or outlet
        teams = db.session.scalars(
            sa.select(InspectionTeam).join(OrgUnit, InspectionTeam.subbranch_id == OrgUnit.id)
            .where(InspectionTeam.is_active.is_(True), OrgUnit.path.startswith(branch.path))
            .order_by(OrgUnit.path, InspectionTeam.name)).all()
        teams = [team for team in teams if may_take_team(inspection, team)]
        broken = peer_rule_problems(inspection, teams)
        return [team for team in teams if not broken[team.id]]
    people: dict[int, User] = {}
    for user, _unit in db.session.execute(ASSIGNEE_POOLS[inspection.mode](outlet)):
        people.setdefault(user.id, user)
    chosen = [user for user in people.values() if may_take(inspection, user)]
    if inspection.mode is Mode.mystery_visit:
        too_close = visits_too_close(inspection, chosen)
        chosen = [user for user in chosen if not too_close[user.id]]
    return chosen


def visits_too_close(inspection: Inspection, shoppers: list[User],
                     start: date | None = None) -> dict[int, list[Message]]:
    """For each shopper (by id), why they should not make this mystery visit with its window
    starting on ``start`` (its own by default): planning's rule
    (:func:`.planning.check_mystery_visit`) against their other visits of the same outlet, done
    or planned, with the shopper and the outlet named. Empty for those who may; one query."""
    start = start or inspection.due_start
    settings = (inspection.campaign.settings if inspection.campaign else {}) or {}
    min_days = int((settings.get("mystery_visit") or {}).get(
        "min_days_between", DEFAULT_SETTINGS["mystery_visit"]["min_days_between"]))
    history = [tuple(row) for row in db.session.execute(
        sa.select(Inspection.assignee_id, Inspection.outlet_id, Inspection.due_start)
        .where(Inspection.mode == Mode.mystery_visit, Inspection.id != inspection.id,
               Inspection.assignee_id.in_([shopper.id for shopper in shoppers]),
               Inspection.outlet_id == inspection.outlet_id,
               Inspection.status != InspectionStatus.cancelled))] if shoppers else []
    return {shopper.id: [
        Message(reason.template, **{**reason.params, "shopper": shopper.display_name,
                                    "outlet": inspection.outlet.name})
        for reason in planning.check_mystery_visit(shopper.id, inspection.outlet_id, start,
                                                   history, min_days_between=min_days)]
        for shopper in shoppers}


def open_tasks(campaign: Campaign, mode: Mode, *, outlet: str = "", offset: int = 0,
               limit: int = 20) -> tuple[int, list[Inspection]]:
    """One page of the campaign's open assignments of ``mode`` (those a planner may still
    reassign, reschedule or cancel, and those sent back for correction, which may be
    reassigned), soonest due first, and how many there are in all; ``outlet`` keeps only
    outlets whose name or code holds it."""
    query = (sa.select(Inspection).join(OrgUnit, Inspection.outlet_id == OrgUnit.id)
             .where(Inspection.campaign_id == campaign.id, Inspection.mode == mode,
                    Inspection.status.in_(REASSIGNABLE)))
    if outlet:
        query = query.where(sa.or_(OrgUnit.name.icontains(outlet, autoescape=True),
                                   OrgUnit.code.icontains(outlet, autoescape=True)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    page = db.session.scalars(
        query.options(orm.contains_eager(Inspection.outlet), orm.joinedload(Inspection.assignee),
                      orm.joinedload(Inspection.team))
        .order_by(Inspection.due_start, OrgUnit.code, Inspection.id)
        .offset(offset).limit(limit)).all()
    return total, list(page)


def get_campaign(campaign_id: int, by: User) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or not by.can(Permission.campaigns_manage, campaign.scope_unit):
        raise NotFound(N_("未找到该检查计划"), code="campaign_not_found")
    return campaign


def get_campaign_task(campaign: Campaign, inspection_id: int, by: User) -> Inspection:
    """One assignment of ``campaign`` whose outlet ``by`` plans; anything else is "not found"."""
    inspection = db.session.get(Inspection, inspection_id,
                                options=[orm.joinedload(Inspection.outlet)])
    if (inspection is None or inspection.campaign_id != campaign.id
            or not by.can(Permission.campaigns_manage, inspection.outlet)):
        raise NotFound(N_("未找到该检查"), code="inspection_not_found")
    return inspection


def campaign_counts(campaign: Campaign) -> dict[str, dict[str, int]]:
    """Assignments per mode and status, for the planning page."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for mode, status, count in db.session.execute(
            sa.select(Inspection.mode, Inspection.status, sa.func.count())
            .where(Inspection.campaign_id == campaign.id)
            .group_by(Inspection.mode, Inspection.status)):
        counts[mode.value][status.value] = count
    return dict(counts)


#: Why a person may not be a member of a peer-check team, by the refusal's code.
TEAM_MEMBER_REFUSALS = {"covert_member": N_("%(name)s是神秘人，不能加入检查组"),
                        "not_inspector": N_("%(name)s不是该支行的检查员")}


def team_member_problem(user: User, subbranch: OrgUnit) -> str | None:
    """Why ``user`` may not be a member of a peer-check team of ``subbranch`` (a code of
    :data:`TEAM_MEMBER_REFUSALS`), or None: a mystery shopper never is (:func:`covert`), and
    only the sub-branch's inspectors are. Asked when the team is set up, and again of a member
    filling its peer checks (who has lost the role since fills none)."""
    if covert(user):
        return "covert_member"
    if not user.can(Permission.inspections_fill, subbranch):
        return "not_inspector"
    return None


def refuse_team_member(user: User, problem: str) -> NoReturn:
    raise InvalidInput(TEAM_MEMBER_REFUSALS[problem], name=user.display_name, code=problem)


def refuse_covert_team_member(user: User) -> None:
    """Refuse (422 ``covert_member``) a mystery shopper's role to a member of an active
    peer-check team, as :func:`create_team` refuses a shopper as a member: the outlets it
    inspects would learn who visits them covertly."""
    on_a_team = db.session.scalar(
        sa.select(InspectionTeam.id)
        .join(inspection_team_members, inspection_team_members.c.team_id == InspectionTeam.id)
        .where(inspection_team_members.c.user_id == user.id,
               InspectionTeam.is_active.is_(True)).limit(1))
    if on_a_team is not None:
        refuse_team_member(user, "covert_member")


def create_team(*, name: str, subbranch: OrgUnit, members: list[User], by: User | None
                ) -> InspectionTeam:
    """A peer-check team of inspectors belonging to ``subbranch``."""
    if by is not None and not by.can(Permission.campaigns_manage, subbranch):
        raise PermissionDenied(N_("您无权为该支行设立检查组"), code="not_planner")
    if subbranch.kind is not OrgKind.subbranch:
        raise InvalidInput(N_("检查组必须属于一个支行"), code="not_subbranch")
    for member in members:
        problem = team_member_problem(member, subbranch)
        if problem is not None:
            refuse_team_member(member, problem)
    team = InspectionTeam(name=name, subbranch=subbranch, members=members)
    db.session.add(team)
    db.session.flush()
    record("inspection_team.create", team, actor=by,
           after={"name": name, "subbranch": subbranch.code,
                  "members": [m.username for m in members]})
    return team


def _team_snapshot(team: InspectionTeam) -> dict:
    return {"name": team.name, "is_active": team.is_active,
            "members": [member.username for member in team.members]}


def stand_down_teams_of(subbranch: OrgUnit, *, by: User | None) -> list[InspectionTeam]:
    """A sub-branch being closed: its peer-check teams are stood down with it (each audited,
    on the authority of the closing), so that planning gives them no more peer checks and
    their open ones wait for the planner to give them to another team."""
    teams = db.session.scalars(sa.select(InspectionTeam).where(
        InspectionTeam.subbranch_id == subbranch.id, InspectionTeam.is_active.is_(True))
        .order_by(InspectionTeam.id)).all()
    for team in teams:
        before = _team_snapshot(team)
        team.is_active = False
        record("inspection_team.update", team, actor=by, before=before,
               after=_team_snapshot(team), reason="机构已停用")
    return teams


def update_team(team: InspectionTeam, *, name: str | None = None,
                members: list[User] | None = None, is_active: bool | None = None,
                by: User | None) -> InspectionTeam:
    """Rename a peer-check team, change its members (the list given replaces them: someone who
    leaves the sub-branch or the programme leaves the team) or stand it down (``is_active``
    false) and up again; audited. New members are checked as :func:`create_team` checks them.

    A member who leaves no longer reads or fills the team's peer checks; a team stood down
    fills none of its open ones (:func:`may_take_team`): they wait for the planner to give
    them to another team (:func:`~.operations.reassign`), and planning gives it none."""
    if by is not None and not by.can(Permission.campaigns_manage, team.subbranch):
        raise PermissionDenied(N_("您无权管理该支行的检查组"), code="not_planner")
    before = _team_snapshot(team)
    standing_up = is_active is True and not team.is_active
    if standing_up and not team.subbranch.is_active:
        raise InvalidInput(N_("%(subbranch)s已停用，其检查组不能恢复"),
                           subbranch=team.subbranch.name, code="subbranch_closed")
    wanted = team.members if members is None else list({m.id: m for m in members}.values())
    for member in wanted:
        # a newcomer is checked, and everyone when a team stood down comes back
        if standing_up or member not in team.members:
            problem = team_member_problem(member, team.subbranch)
            if problem is not None:
                refuse_team_member(member, problem)
    if members is not None:
        team.members = wanted
    if name is not None:
        team.name = name
    if is_active is not None:
        team.is_active = is_active
    db.session.flush()
    after = _team_snapshot(team)
    if after != before:
        record("inspection_team.update", team, actor=by, before=before, after=after)
    return team
