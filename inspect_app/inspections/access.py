"""Who may see and fill which inspection. Object-level rules live here and nowhere else.

- an inspector or mystery shopper fills only inspections assigned to them (or their team),
  and only while they still may take them (a role withdrawn or moved since leaves the task
  to be given to someone else; they keep reading it);
- a peer inspector never touches an outlet of their own sub-branch;
- outlet and sub-branch managers read their outlets' results once submitted;
- service managers read and review everything in their scope.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy import orm

from ..auth.models import User
from ..auth.permissions import Permission, Role
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..i18n import N_
from ..orgs.models import OrgUnit
from .campaigns import manages, may_take, may_take_team, team_member_problem
from .models import (
    EDITABLE,
    RESULT_VISIBLE,
    Inspection,
    InspectionTeam,
    Mode,
    inspection_team_members,
)


def team_ids(user: User) -> list[int]:
    """The peer-check teams ``user`` belongs to (asked once per request: every access check of
    a team inspection needs them)."""
    known = g.setdefault("team_ids", {}) if has_request_context() else {}
    if user.id not in known:
        known[user.id] = list(db.session.scalars(
            sa.select(inspection_team_members.c.team_id)
            .where(inspection_team_members.c.user_id == user.id)))
    return known[user.id]


def inspects_own_subbranch(user: User, inspection: Inspection) -> bool:
    """A peer check of an outlet in a sub-branch where the user is an inspector themselves."""
    if inspection.mode is not Mode.peer_check:
        return False
    return any(grant.role is Role.inspector and grant.org_unit.kind.value == "subbranch"
               and inspection.outlet.is_within(grant.org_unit) for grant in user.grants)


def assigned_to(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` is the one (or in the team) given this inspection — whether or not they
    may still fill it (:func:`can_fill`): they read it, and see what a covert visit hides."""
    if not user.is_active or inspects_own_subbranch(user, inspection):
        return False
    if inspection.assignee_id == user.id:
        return True
    return inspection.team_id is not None and inspection.team_id in team_ids(user)


def may_still_take(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` still holds what it takes to be given ``inspection``, by the rules it was
    given by: :func:`.campaigns.may_take` for one person's task; for a peer check, the team's
    (:func:`.campaigns.may_take_team`) and a member's (:func:`.campaigns.team_member_problem`),
    who never grades an outlet they answer for (:func:`.campaigns.manages`). A role withdrawn,
    moved or added since (a job change) leaves the task to the planner, or to teammates."""
    if inspection.mode is Mode.peer_check:
        team = inspection.team
        return (team is not None and may_take_team(inspection, team)
                and team_member_problem(user, team.subbranch) is None
                and not manages(user, inspection.outlet))  # their teammates fill it
    return may_take(inspection, user)


def can_fill(user: User, inspection: Inspection) -> bool:
    """Whether ``user`` fills this inspection in: it is given to them (or their team) and they
    may still take it."""
    return assigned_to(user, inspection) and may_still_take(user, inspection)


def require_fill(user: User, inspection: Inspection,
                 refusal: str = N_("这不是分配给您的检查任务")) -> None:
    """Refuse (403) unless ``user`` may fill ``inspection``: ``not_eligible`` for the one it is
    given to who may no longer take it, ``not_assignee`` (saying ``refusal``) for anyone else."""
    if can_fill(user, inspection):
        return
    if not assigned_to(user, inspection):
        raise PermissionDenied(refusal, code="not_assignee")
    if inspection.team is not None and not inspection.team.is_active:
        raise PermissionDenied(N_("检查组「%(team)s」已停用，不能再执行该检查任务，"
                                  "请联系检查计划的制定人改派"), team=inspection.team.name,
                               code="not_eligible")
    raise PermissionDenied(N_("您的角色或所属机构已变更，不能再执行该检查任务，"
                              "请联系检查计划的制定人改派"), code="not_eligible")


def given_to(user: User) -> sa.ColumnElement[bool]:
    """Inspections given to ``user`` or a team of theirs, in SQL (:func:`assigned_to` before
    its own-sub-branch and active-account checks)."""
    given = [Inspection.assignee_id == user.id]
    teams = team_ids(user)
    if teams:
        given.append(Inspection.team_id.in_(teams))
    return sa.or_(*given)


def unfillable_task_ids(user: User) -> list[int]:
    """The inspections still to be filled that are given to ``user`` (or a team of theirs) but
    that they may no longer fill (:func:`can_fill`): "my tasks" leaves them out."""
    tasks = db.session.scalars(
        sa.select(Inspection).where(given_to(user), Inspection.status.in_(EDITABLE))
        .options(orm.joinedload(Inspection.outlet).joinedload(OrgUnit.parent),
                 orm.joinedload(Inspection.team)))
    return [task.id for task in tasks if not can_fill(user, task)]


def can_review(user: User, inspection: Inspection) -> bool:
    return user.can(Permission.inspections_review, inspection.outlet)


def can_read(user: User, inspection: Inspection) -> bool:
    if assigned_to(user, inspection) or can_review(user, inspection):
        return True
    return (inspection.status in RESULT_VISIBLE
            and user.can(Permission.inspections_read, inspection.outlet))


def sees_identity(user: User, inspection: Inspection) -> bool:
    """Whether the user may see who inspected and exact times. For mystery visits only the
    shopper and those holding ``sensitive.read`` may; the outlet sees "神秘人" and a date."""
    if inspection.mode is not Mode.mystery_visit:
        return True
    return (assigned_to(user, inspection)
            or user.can(Permission.sensitive_read, inspection.outlet))


def shopper_notes(user: User, inspection: Inspection) -> frozenset[str]:
    """Codes of the items whose answers this user may not read: on a mystery visit, for those
    who do not see the shopper, the free-text items — the shopper's own record of the visit
    (EFF-09 asks for the times of arrival, ticket and call, which would name the shopper
    against the queue system). Scored items and their findings stay visible."""
    if sees_identity(user, inspection):
        return frozenset()
    return frozenset(item.code for item in inspection.form_items()
                     if item.response_type == "text")


def get_inspection(inspection_id: int, user: User) -> Inspection:
    """Load an inspection the user may read; anything else is "not found"."""
    # the outlet comes along: nearly every access rule looks at it; and what filling it asks
    # of its person (:func:`may_still_take`) looks at its sub-branch, or at the team
    inspection = db.session.get(Inspection, inspection_id, options=[
        orm.joinedload(Inspection.outlet).joinedload(OrgUnit.parent),
        orm.joinedload(Inspection.team)])
    if inspection is None or not can_read(user, inspection):
        raise NotFound(N_("未找到该检查"), code="inspection_not_found")
    return inspection


def visible_inspections(user: User) -> sa.Select:
    """Inspections the user may read, as a query (join on the outlet for scope paths)."""
    conditions = [given_to(user)]
    for path in user.scope_paths(Permission.inspections_review):
        conditions.append(OrgUnit.path.startswith(path))
    read_paths = user.scope_paths(Permission.inspections_read)
    if read_paths:
        conditions.append(sa.and_(Inspection.status.in_(RESULT_VISIBLE),
                                  sa.or_(*[OrgUnit.path.startswith(p) for p in read_paths])))
    query = (sa.select(Inspection).join(OrgUnit, Inspection.outlet_id == OrgUnit.id)
             .where(sa.or_(*conditions)))
    own_inspector_paths = [g.org_unit.path for g in user.grants
                           if g.role is Role.inspector and g.org_unit.kind.value == "subbranch"]
    if own_inspector_paths and not user.can(Permission.inspections_review):
        # never a peer check of one's own sub-branch, even through a team
        query = query.where(sa.not_(sa.and_(
            Inspection.mode == Mode.peer_check,
            sa.or_(*[OrgUnit.path.startswith(p) for p in own_inspector_paths]))))
    return query


def team_for(team_id: int) -> InspectionTeam:
    team = db.session.get(InspectionTeam, team_id)
    if team is None:
        raise NotFound(N_("未找到该检查组"), code="team_not_found")
    return team
